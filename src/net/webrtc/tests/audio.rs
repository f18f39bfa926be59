//! RTP framing and tone checks for the leg's tests.

use madoguchi_media::rtp::RtpHeader;

use super::tone;

/// One packet every 20 ms, as a phone sends.
pub(super) const FRAME_INTERVAL: std::time::Duration = std::time::Duration::from_millis(20);
/// Half a second at 8 kHz: enough for the Goertzel bins to separate the probe frequencies.
pub(super) const ANALYSED_SAMPLES: usize = 4000;
/// A tone "dominates" when its power is this many times that of any other probe (20 dB).
const DOMINANCE: f64 = 100.0;

/// Consecutive 20 ms PCMU packets of a tone, as the relay would hand them to the leg.
pub(super) struct RtpFrames {
    payload_type: u8,
    index: usize,
}

impl RtpFrames {
    pub(super) fn new(payload_type: u8) -> RtpFrames {
        RtpFrames {
            payload_type,
            index: 0,
        }
    }

    pub(super) fn next(&mut self, hz: f64) -> Vec<u8> {
        let sequence = (self.index % 65_536) as u16;
        let timestamp = (self.index as u32).wrapping_mul(tone::FRAME as u32);
        let mut packet = vec![0x80, self.payload_type & 0x7f];
        packet.extend_from_slice(&sequence.to_be_bytes());
        packet.extend_from_slice(&timestamp.to_be_bytes());
        // The relay's own SSRC; the leg rewrites it to the one it announced.
        packet.extend_from_slice(&0x0BAD_CAFE_u32.to_be_bytes());
        packet.extend_from_slice(&tone::pcmu_frame(hz, self.index));
        self.index += 1;
        packet
    }
}

/// The linear samples of a PCMU RTP packet (empty when it is not one).
pub(super) fn pcmu_samples(packet: &[u8]) -> Vec<i16> {
    match RtpHeader::parse(packet) {
        Ok((_, payload)) => payload.iter().copied().map(tone::ulaw_decode).collect(),
        Err(_) => Vec::new(),
    }
}

pub(super) fn assert_tone(samples: &[i16], hz: f64, what: &str) {
    let dominance = tone::dominance(samples, hz);
    assert!(
        dominance > DOMINANCE,
        "{what}: {hz} Hz is only {dominance:.1}× the strongest other probe; loudest is {} Hz",
        tone::loudest(samples)
    );
}
