//! Tones for audio checks: a sine as 20 ms PCMU frames, μ-law decoding, and a Goertzel filter
//! that says which of a few frequencies a stretch of audio carries.
//!
//! The G.711 code here is written from the ITU-T tables on purpose, independent of the
//! engine's own codec, so a test that hears a tone does not rely on the code under test.

/// Samples per 20 ms frame at 8 kHz.
pub const FRAME: usize = 160;
const RATE: f64 = 8000.0;
const BIAS: i32 = 0x84;
const CLIP: i32 = 32635;

/// The caller's tone. The queue's hold music (sounds/generate.sh) has notes at 698, 988 and
/// 1047 Hz, so 700 Hz or 1 kHz would "dominate" some stretches of music; 1.9 and 2.8 kHz
/// never reach a fiftieth of the strongest probe in it.
pub const CALLER_HZ: f64 = 1900.0;
/// The tone the far end (operator, city line) plays.
pub const FAR_END_HZ: f64 = 2800.0;

/// Frequencies a check compares against: the tests' tones and others across the band.
pub const PROBES: [f64; 10] = [
    400.0, 550.0, 700.0, 850.0, 1000.0, 1200.0, 1500.0, 1900.0, 2200.0, 2800.0,
];

pub fn ulaw_encode(sample: i16) -> u8 {
    let mut value = i32::from(sample);
    let sign = if value < 0 { 0x80 } else { 0 };
    if value < 0 {
        value = -value;
    }
    value = value.min(CLIP) + BIAS;
    let exponent = (7 - (value.leading_zeros() as i32 - 17)).clamp(0, 7);
    let mantissa = (value >> (exponent + 3)) & 0x0f;
    !(sign | (exponent << 4) as u8 | mantissa as u8)
}

pub fn ulaw_decode(byte: u8) -> i16 {
    let byte = !byte;
    let exponent = i32::from((byte >> 4) & 0x07);
    let mantissa = i32::from(byte & 0x0f);
    let magnitude = (((mantissa << 3) + BIAS) << exponent) - BIAS;
    let value = if byte & 0x80 != 0 {
        -magnitude
    } else {
        magnitude
    };
    value as i16
}

/// Frame `index` of a continuous sine at `hz` (about -6 dBFS), μ-law encoded.
pub fn pcmu_frame(hz: f64, index: usize) -> Vec<u8> {
    (0..FRAME)
        .map(|i| {
            let n = (index * FRAME + i) as f64;
            let sample = 16_000.0 * (2.0 * std::f64::consts::PI * hz * n / RATE).sin();
            ulaw_encode(sample as i16)
        })
        .collect()
}

/// Power of `hz` in `samples` (Goertzel).
pub fn goertzel(samples: &[i16], hz: f64) -> f64 {
    let coefficient = 2.0 * (2.0 * std::f64::consts::PI * hz / RATE).cos();
    let (mut s1, mut s2) = (0.0f64, 0.0f64);
    for &sample in samples {
        let s0 = f64::from(sample) + coefficient * s1 - s2;
        s2 = s1;
        s1 = s0;
    }
    s1 * s1 + s2 * s2 - coefficient * s1 * s2
}

/// How much stronger `hz` is than the strongest other probe (a ratio of powers).
pub fn dominance(samples: &[i16], hz: f64) -> f64 {
    let wanted = goertzel(samples, hz);
    let strongest_other = PROBES
        .iter()
        .filter(|&&probe| (probe - hz).abs() > 1.0)
        .map(|&probe| goertzel(samples, probe))
        .fold(0.0f64, f64::max);
    wanted / strongest_other.max(1.0)
}

/// The probe frequency with the most power, for messages.
pub fn loudest(samples: &[i16]) -> f64 {
    PROBES
        .iter()
        .copied()
        .max_by(|a, b| goertzel(samples, *a).total_cmp(&goertzel(samples, *b)))
        .unwrap_or(0.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ulaw_round_trips_within_its_quantisation_step() {
        for sample in [-32000i16, -1000, -1, 0, 1, 100, 1000, 8000, 32000] {
            let back = ulaw_decode(ulaw_encode(sample));
            let step = (i32::from(sample).abs() / 16).max(8);
            assert!(
                (i32::from(back) - i32::from(sample)).abs() <= step,
                "{sample} came back as {back}"
            );
        }
    }

    #[test]
    fn a_tone_dominates_its_own_bin() {
        let samples: Vec<i16> = (0..25)
            .flat_map(|i| pcmu_frame(CALLER_HZ, i))
            .map(ulaw_decode)
            .collect();
        assert!(dominance(&samples, CALLER_HZ) > 1000.0);
        assert!(dominance(&samples, FAR_END_HZ) < 0.001);
    }
}
