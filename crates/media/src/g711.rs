//! ITU-T G.711 companding: µ-law (PCMU, payload type 0) and A-law (PCMA, payload type 8).
//!
//! Decoding is a lookup in a 256-entry table built at compile time. Encoding is computed (a
//! handful of integer operations, no table) and follows the ITU-T G.191 reference
//! implementation: A-law is bit-exact with it; µ-law uses the same biased-magnitude algorithm,
//! so every code word survives `decode → encode` unchanged. PCMU↔PCMA transcoding goes through
//! the linear value, precomputed into two 256-entry byte tables for bridging two legs.
//!
//! Input samples are 16-bit linear PCM (i16). Prompts are encoded once at load time; the
//! per-packet path only copies bytes.
//!
//! ```
//! use madoguchi_media::g711;
//! assert_eq!(g711::encode_ulaw(0), 0xFF);
//! assert_eq!(g711::encode_alaw(0), 0xD5);
//! let mut enc = [0u8; 2];
//! g711::encode_alaw_slice(&[1000, -1000], &mut enc);
//! let mut dec = [0i16; 2];
//! g711::decode_alaw_slice(&enc, &mut dec);
//! assert!((dec[0] - 1000).abs() <= 32 && (dec[1] + 1000).abs() <= 32);
//! ```

/// The two G.711 laws, as negotiated in SDP.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Codec {
    /// µ-law, static RTP payload type 0.
    Pcmu,
    /// A-law, static RTP payload type 8.
    Pcma,
}

impl Codec {
    /// The static payload type of RFC 3551 §6.
    pub fn static_payload_type(self) -> u8 {
        match self {
            Codec::Pcmu => 0,
            Codec::Pcma => 8,
        }
    }

    /// The encoding name used in `a=rtpmap`.
    pub fn encoding_name(self) -> &'static str {
        match self {
            Codec::Pcmu => "PCMU",
            Codec::Pcma => "PCMA",
        }
    }

    /// Encodes linear samples; see [`encode_ulaw_slice`].
    pub fn encode_slice(self, pcm: &[i16], out: &mut [u8]) -> usize {
        match self {
            Codec::Pcmu => encode_ulaw_slice(pcm, out),
            Codec::Pcma => encode_alaw_slice(pcm, out),
        }
    }

    /// Decodes code words; see [`decode_ulaw_slice`].
    pub fn decode_slice(self, encoded: &[u8], out: &mut [i16]) -> usize {
        match self {
            Codec::Pcmu => decode_ulaw_slice(encoded, out),
            Codec::Pcma => decode_alaw_slice(encoded, out),
        }
    }

    /// The code word of digital silence (linear 0) in this law.
    pub fn silence(self) -> u8 {
        match self {
            Codec::Pcmu => 0xFF,
            Codec::Pcma => 0xD5,
        }
    }
}

/// µ-law bias (G.711: 33 in units of the 14-bit magnitude, i.e. 132 in 16-bit units).
const ULAW_BIAS: i32 = 33;
/// Largest biased 14-bit magnitude µ-law can represent.
const ULAW_CLIP: i32 = 0x1FFF;

/// Encodes one linear sample to µ-law.
#[inline]
pub fn encode_ulaw(sample: i16) -> u8 {
    let s = i32::from(sample);
    // One's complement for negatives, as in G.191: keeps -1 and 0 symmetric around the bias.
    let magnitude = if s < 0 { (!s) >> 2 } else { s >> 2 };
    let biased = (magnitude + ULAW_BIAS).min(ULAW_CLIP);
    // Segment = position of the highest set bit above the 6 low bits (1..=8).
    let segment = 32 - ((biased >> 6) as u32).leading_zeros() + 1;
    let mantissa = (biased >> segment) & 0x0F;
    let code = (((8 - segment as i32) << 4) | (0x0F - mantissa)) as u8;
    if s >= 0 {
        code | 0x80
    } else {
        code
    }
}

/// Encodes one linear sample to A-law (bit-exact with the G.191 reference `alaw_compress`).
#[inline]
pub fn encode_alaw(sample: i16) -> u8 {
    let s = i32::from(sample);
    let mut ix = if s < 0 { (!s) >> 4 } else { s >> 4 };
    if ix > 15 {
        // Segments 1..=7: exponent from the highest set bit of the 12-bit magnitude.
        let exponent = 32 - (ix as u32).leading_zeros() - 4;
        ix = ((ix >> (exponent - 1)) - 16) + ((exponent as i32) << 4);
    }
    if s >= 0 {
        ix |= 0x80;
    }
    (ix as u8) ^ 0x55
}

const fn ulaw_expand(code: u8) -> i16 {
    let inverted = !code;
    let exponent = ((inverted >> 4) & 0x07) as i32;
    let mantissa = (inverted & 0x0F) as i32;
    let step = 4 << (exponent + 1);
    let magnitude = (0x80 << exponent) + step * mantissa + step / 2 - 4 * ULAW_BIAS;
    if code & 0x80 != 0 {
        magnitude as i16
    } else {
        -magnitude as i16
    }
}

const fn alaw_expand(code: u8) -> i16 {
    let ix = code ^ 0x55;
    let exponent = ((ix & 0x7F) >> 4) as i32;
    let mut mantissa = (ix & 0x0F) as i32;
    if exponent > 0 {
        mantissa += 16;
    }
    mantissa = (mantissa << 4) + 8;
    if exponent > 1 {
        mantissa <<= exponent - 1;
    }
    if ix & 0x80 != 0 {
        mantissa as i16
    } else {
        -mantissa as i16
    }
}

const fn build_decode_table(alaw: bool) -> [i16; 256] {
    let mut table = [0i16; 256];
    let mut i = 0;
    while i < 256 {
        table[i] = if alaw {
            alaw_expand(i as u8)
        } else {
            ulaw_expand(i as u8)
        };
        i += 1;
    }
    table
}

/// µ-law code word → linear sample.
pub static ULAW_DECODE: [i16; 256] = build_decode_table(false);
/// A-law code word → linear sample.
pub static ALAW_DECODE: [i16; 256] = build_decode_table(true);

/// Decodes one µ-law code word.
#[inline]
pub fn decode_ulaw(code: u8) -> i16 {
    ULAW_DECODE[usize::from(code)]
}

/// Decodes one A-law code word.
#[inline]
pub fn decode_alaw(code: u8) -> i16 {
    ALAW_DECODE[usize::from(code)]
}

/// Encodes `min(pcm.len(), out.len())` samples to µ-law and returns that count.
pub fn encode_ulaw_slice(pcm: &[i16], out: &mut [u8]) -> usize {
    let n = pcm.len().min(out.len());
    for (o, &s) in out[..n].iter_mut().zip(&pcm[..n]) {
        *o = encode_ulaw(s);
    }
    n
}

/// Encodes `min(pcm.len(), out.len())` samples to A-law and returns that count.
pub fn encode_alaw_slice(pcm: &[i16], out: &mut [u8]) -> usize {
    let n = pcm.len().min(out.len());
    for (o, &s) in out[..n].iter_mut().zip(&pcm[..n]) {
        *o = encode_alaw(s);
    }
    n
}

/// Decodes `min(encoded.len(), out.len())` µ-law bytes and returns that count.
pub fn decode_ulaw_slice(encoded: &[u8], out: &mut [i16]) -> usize {
    let n = encoded.len().min(out.len());
    for (o, &c) in out[..n].iter_mut().zip(&encoded[..n]) {
        *o = decode_ulaw(c);
    }
    n
}

/// Decodes `min(encoded.len(), out.len())` A-law bytes and returns that count.
pub fn decode_alaw_slice(encoded: &[u8], out: &mut [i16]) -> usize {
    let n = encoded.len().min(out.len());
    for (o, &c) in out[..n].iter_mut().zip(&encoded[..n]) {
        *o = decode_alaw(c);
    }
    n
}

// Transcoding goes through the linear value (decode, then encode in the other law), which keeps
// the two tables consistent with the codecs above by construction.
fn build_transcode(from_alaw: bool) -> [u8; 256] {
    let mut table = [0u8; 256];
    for (code, slot) in table.iter_mut().enumerate() {
        *slot = if from_alaw {
            encode_ulaw(ALAW_DECODE[code])
        } else {
            encode_alaw(ULAW_DECODE[code])
        };
    }
    table
}

/// PCMU↔PCMA byte tables for bridging a µ-law leg to an A-law leg without touching linear PCM
/// per sample. Build once (e.g. at engine start) and share by reference.
#[derive(Debug, Clone)]
pub struct Transcoder {
    ulaw_to_alaw: [u8; 256],
    alaw_to_ulaw: [u8; 256],
}

impl Default for Transcoder {
    fn default() -> Self {
        Self::new()
    }
}

impl Transcoder {
    /// Builds both 256-entry tables (via the linear value of each code word).
    pub fn new() -> Self {
        Self {
            ulaw_to_alaw: build_transcode(false),
            alaw_to_ulaw: build_transcode(true),
        }
    }

    /// One µ-law code word as A-law.
    #[inline]
    pub fn ulaw_to_alaw(&self, code: u8) -> u8 {
        self.ulaw_to_alaw[usize::from(code)]
    }

    /// One A-law code word as µ-law.
    #[inline]
    pub fn alaw_to_ulaw(&self, code: u8) -> u8 {
        self.alaw_to_ulaw[usize::from(code)]
    }

    /// Transcodes a payload from `from` to `to` into `out`; returns the bytes written
    /// (`min(input.len(), out.len())`). Equal codecs copy.
    pub fn transcode(&self, from: Codec, to: Codec, input: &[u8], out: &mut [u8]) -> usize {
        let n = input.len().min(out.len());
        let table = match (from, to) {
            (Codec::Pcmu, Codec::Pcma) => &self.ulaw_to_alaw,
            (Codec::Pcma, Codec::Pcmu) => &self.alaw_to_ulaw,
            _ => {
                out[..n].copy_from_slice(&input[..n]);
                return n;
            }
        };
        for (o, &c) in out[..n].iter_mut().zip(&input[..n]) {
            *o = table[usize::from(c)];
        }
        n
    }

    /// Transcodes in place (the packet buffer of the other leg can be reused).
    pub fn transcode_in_place(&self, from: Codec, to: Codec, payload: &mut [u8]) {
        let table = match (from, to) {
            (Codec::Pcmu, Codec::Pcma) => &self.ulaw_to_alaw,
            (Codec::Pcma, Codec::Pcmu) => &self.alaw_to_ulaw,
            _ => return,
        };
        for c in payload.iter_mut() {
            *c = table[usize::from(*c)];
        }
    }
}

#[cfg(test)]
#[path = "g711_tests.rs"]
mod tests;
