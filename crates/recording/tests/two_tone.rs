//! A 3-second call recorded as the media runtime will record it: two legs of real RTP packets
//! (G.711 µ-law from the caller, A-law from the operator, timestamps crossing the 32-bit wrap)
//! arriving with network delay and jitter, one caller packet lost, one operator packet
//! reordered, a 20 ms timer, and a pause from 1.5 s to 2.0 s. The WAV read back with hound has
//! the caller's 440 Hz on the left, the operator's 1000 Hz on the right, the lost packet as
//! silence, the pause as exact silence, the expected duration, and the checksum of its bytes.

use madoguchi_media::g711::Codec;
use madoguchi_media::rtp::{RtpHeader, RtpSender};
use madoguchi_media::Ssrc;
use madoguchi_recording::clock::{position_from_elapsed, RtpClock};
use madoguchi_recording::timeline::{PauseSpan, Stats};
use madoguchi_recording::{Channel, Recorder, TimelineConfig};
use sha2::{Digest, Sha256};
use std::f64::consts::PI;
use std::time::Duration;

const PACKETS: u32 = 150;
const LOST_CALLER_PACKET: u32 = 60;
const REORDERED_OPERATOR_PACKET: u32 = 110;
const CALLER_DELAY_MS: u64 = 30;
const OPERATOR_DELAY_MS: u64 = 45;

/// The power of `frequency` in `samples` (Goertzel), normalised by length.
fn goertzel(samples: &[i16], frequency: f64) -> f64 {
    let coefficient = 2.0 * (2.0 * PI * frequency / 8000.0).cos();
    let (mut s1, mut s2) = (0.0, 0.0);
    for &x in samples {
        let s0 = f64::from(x) + coefficient * s1 - s2;
        s2 = s1;
        s1 = s0;
    }
    (s1 * s1 + s2 * s2 - coefficient * s1 * s2) / samples.len() as f64
}

/// Which of the candidate frequencies dominates `samples`.
fn dominant(samples: &[i16]) -> f64 {
    [300.0, 440.0, 700.0, 1000.0, 1500.0, 2500.0]
        .into_iter()
        .max_by(|a, b| goertzel(samples, *a).total_cmp(&goertzel(samples, *b)))
        .expect("candidates")
}

fn tone(frequency: f64, packet: u32) -> [i16; 160] {
    std::array::from_fn(|i| {
        let n = f64::from(packet * 160) + i as f64;
        (8000.0 * (2.0 * PI * frequency * n / 8000.0).sin()) as i16
    })
}

enum Event {
    Packet(Channel, Vec<u8>),
    Tick,
    Pause,
    Resume,
}

/// Every event of the call with its time (µs since the recording started), in time order.
fn call_events() -> Vec<(u64, Event)> {
    let mut events = Vec::new();
    // The caller's timestamps wrap past 2³² at packet 40.
    let mut caller = RtpSender::new(Ssrc(0x0CA1_1E20), 7, u32::MAX - 40 * 160 + 1);
    let mut operator = RtpSender::new(Ssrc(0x0000_0E7A), 60_000, 1_234_567);
    for n in 0..PACKETS {
        let sent_us = u64::from(n) * 20_000;
        // ±2 ms of deterministic jitter.
        let jitter_us = u64::from(n % 5) * 1000;
        let mut packet = [0u8; 172];
        let mut payload = [0u8; 160];

        Codec::Pcmu.encode_slice(&tone(440.0, n), &mut payload);
        let len = caller.write_packet(0, &payload, &mut packet);
        if n != LOST_CALLER_PACKET {
            let at = sent_us + CALLER_DELAY_MS * 1000 + jitter_us;
            events.push((at, Event::Packet(Channel::Caller, packet[..len].to_vec())));
        }

        Codec::Pcma.encode_slice(&tone(1000.0, n), &mut payload);
        let len = operator.write_packet(8, &payload, &mut packet);
        let mut at = sent_us + OPERATOR_DELAY_MS * 1000 + jitter_us;
        if n == REORDERED_OPERATOR_PACKET {
            at += 25_000; // overtaken by the next packet
        }
        events.push((at, Event::Packet(Channel::Operator, packet[..len].to_vec())));
    }
    // The shell's 20 ms timer, until the hang-up at 3 s.
    for tick in 0..=150u64 {
        events.push((tick * 20_000 + 1, Event::Tick));
    }
    events.push((1_500_000, Event::Pause));
    events.push((2_000_000, Event::Resume));
    events.sort_by_key(|(at, _)| *at);
    events
}

#[test]
fn a_two_tone_call_is_recorded_left_caller_right_operator() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("call.wav");
    let mut recorder = Recorder::create(&path, TimelineConfig::default()).expect("created");
    let mut clocks = [RtpClock::new(), RtpClock::new()];
    let mut pause_start = None;
    let mut pause_span = None;
    let mut reordered_seen = false;
    let mut operator_head = 0;

    for (at_us, event) in call_events() {
        let now = position_from_elapsed(Duration::from_micros(at_us));
        match event {
            Event::Packet(channel, bytes) => {
                let (header, payload) = RtpHeader::parse(&bytes).expect("our own packet");
                let codec = if header.payload_type == 0 {
                    Codec::Pcmu
                } else {
                    Codec::Pcma
                };
                let mut pcm = [0i16; 160];
                codec.decode_slice(payload, &mut pcm);
                let leg = usize::from(channel == Channel::Operator);
                let position = clocks[leg]
                    .position(header.timestamp, now)
                    .expect("every packet is placeable");
                if channel == Channel::Operator {
                    if header.sequence_number == 60_000 + REORDERED_OPERATOR_PACKET as u16 {
                        // Its successor is already in.
                        reordered_seen = position + 160 < operator_head;
                    }
                    operator_head = operator_head.max(position + 160);
                }
                recorder.push(channel, position, &pcm).expect("written");
            }
            Event::Tick => recorder.tick(now).expect("written"),
            Event::Pause => pause_start = Some(recorder.pause(now)),
            Event::Resume => pause_span = recorder.resume(now),
        }
    }
    assert!(reordered_seen);
    assert_eq!(pause_start, Some(12_000));
    assert_eq!(
        pause_span,
        Some(PauseSpan {
            start: 12_000,
            end: 16_000
        })
    );

    let recording = recorder
        .finish(position_from_elapsed(Duration::from_secs(3)))
        .expect("closed");
    assert_eq!(recording.stats, Stats::default(), "nothing late or doubled");
    assert_eq!(recording.open_pause, None);
    assert_eq!(clocks[0].reanchors() + clocks[1].reanchors(), 0);

    // The checksum and length are those of the bytes on disk.
    let bytes = std::fs::read(&path).expect("read back");
    assert_eq!(recording.file.bytes, bytes.len() as u64);
    assert_eq!(
        recording.file.sha256,
        <[u8; 32]>::from(Sha256::digest(&bytes))
    );

    let mut reader = hound::WavReader::open(&path).expect("a valid WAV");
    let spec = reader.spec();
    assert_eq!(
        (spec.channels, spec.sample_rate, spec.bits_per_sample),
        (2, 8000, 16)
    );
    let duration = f64::from(reader.duration()) / 8000.0;
    assert!((duration - 3.0).abs() <= 0.1, "duration {duration} s");
    assert_eq!(u64::from(reader.duration()), recording.file.frames);
    assert_eq!(recording.file.duration.as_secs_f64(), duration);

    let samples: Vec<i16> = reader
        .samples::<i16>()
        .map(|s| s.expect("sample"))
        .collect();
    let left: Vec<i16> = samples.iter().step_by(2).copied().collect();
    let right: Vec<i16> = samples.iter().skip(1).step_by(2).copied().collect();

    // Each channel carries its own tone and not the other's, before and after the pause.
    for range in [2_000..10_000, 16_500..23_000] {
        assert_eq!(dominant(&left[range.clone()]), 440.0);
        assert_eq!(dominant(&right[range.clone()]), 1000.0);
        let bleed = goertzel(&left[range.clone()], 1000.0) / goertzel(&left[range.clone()], 440.0);
        assert!(bleed < 1e-3, "1000 Hz in the caller's channel: {bleed}");
        let bleed = goertzel(&right[range.clone()], 440.0) / goertzel(&right[range], 1000.0);
        assert!(bleed < 1e-3, "440 Hz in the operator's channel: {bleed}");
    }

    // The lost caller packet is 20 ms of silence on the left only, where its timestamp put it
    // (the caller's first packet arrived at 30 ms, position 240).
    let lost = 240 + 160 * LOST_CALLER_PACKET as usize;
    assert!(left[lost..lost + 160].iter().all(|&s| s == 0));
    assert!(left[lost - 160..lost].iter().any(|&s| s != 0));
    assert!(left[lost + 160..lost + 320].iter().any(|&s| s != 0));
    assert!(right[lost..lost + 160].iter().any(|&s| s != 0));

    // The reordered operator packet is in its place.
    let reordered = 360 + 160 * REORDERED_OPERATOR_PACKET as usize;
    assert_eq!(dominant(&right[reordered..reordered + 160]), 1000.0);

    // The pause is exact silence on both channels, and audio is there on either side of it.
    assert!(left[12_000..16_000].iter().all(|&s| s == 0));
    assert!(right[12_000..16_000].iter().all(|&s| s == 0));
    assert!(left[11_800..12_000].iter().any(|&s| s != 0));
    assert!(right[16_000..16_200].iter().any(|&s| s != 0));
}
