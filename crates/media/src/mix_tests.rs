use super::*;
use crate::g711;
use crate::rtp::HEADER_LEN;
use Participant::{Caller, Operator, Supervisor};

// ---- a simulated supervised call: three phones, the room, virtual ticks ----------------------

/// Peak amplitude of every voice: loud speech, well inside G.711's range.
const AMPLITUDE: f64 = 6000.0;

/// Ticks analysed by the tone checks: after the playout delay, before the voices stop.
const ANALYSED: Range<usize> = 10..50;

/// Each participant's voice is a tone of its own. The three are no harmonics or simple
/// intermodulation products of each other (410 + 730 ≠ 1170), and each makes a whole number of
/// cycles in the analysed window, so a Goertzel filter sits exactly on its bin.
fn voice_hz(p: Participant) -> f64 {
    match p {
        Caller => 410.0,
        Operator => 730.0,
        Supervisor => 1170.0,
    }
}

/// Frame `frame` of a continuous tone.
fn tone(freq: f64, amplitude: f64, frame: u64) -> [i16; FRAME_SAMPLES] {
    std::array::from_fn(|i| {
        let n = (frame * FRAME_SAMPLES as u64 + i as u64) as f64;
        (amplitude * (std::f64::consts::TAU * freq * n / 8000.0).sin()).round() as i16
    })
}

fn level(value: i16) -> [i16; FRAME_SAMPLES] {
    [value; FRAME_SAMPLES]
}

/// The amplitude of the `freq` component of `samples` (Goertzel; exact for a tone on a bin).
fn amplitude(samples: &[i16], freq: f64) -> f64 {
    let coeff = 2.0 * (std::f64::consts::TAU * freq / 8000.0).cos();
    let (mut s1, mut s2) = (0.0f64, 0.0f64);
    for &x in samples {
        let s0 = f64::from(x) + coeff * s1 - s2;
        s2 = s1;
        s1 = s0;
    }
    let power = s1 * s1 + s2 * s2 - coeff * s1 * s2;
    2.0 * power.max(0.0).sqrt() / samples.len() as f64
}

fn pcmu() -> LegFormat {
    LegFormat {
        codec: Codec::Pcmu,
        payload_type: 0,
        telephone_event_pt: Some(101),
    }
}

fn pcma() -> LegFormat {
    LegFormat {
        codec: Codec::Pcma,
        payload_type: 8,
        telephone_event_pt: Some(96),
    }
}

fn encode(codec: Codec, pcm: &[i16; FRAME_SAMPLES]) -> [u8; FRAME_SAMPLES] {
    let mut out = [0u8; FRAME_SAMPLES];
    codec.encode_slice(pcm, &mut out);
    out
}

fn decode(codec: Codec, encoded: &[u8]) -> [i16; FRAME_SAMPLES] {
    let mut out = [0i16; FRAME_SAMPLES];
    codec.decode_slice(encoded, &mut out);
    out
}

/// `pcm` as it survives the sender's law: what the room can know of it.
fn through(codec: Codec, pcm: &[i16; FRAME_SAMPLES]) -> [i16; FRAME_SAMPLES] {
    decode(codec, &encode(codec, pcm))
}

fn datagram(ssrc: Ssrc, seq: u16, ts: u32, pt: u8, payload: &[u8]) -> Vec<u8> {
    let mut buf = vec![0u8; HEADER_LEN + payload.len()];
    RtpHeader {
        padding: false,
        extension: false,
        csrc_count: 0,
        marker: false,
        payload_type: pt,
        sequence_number: seq,
        timestamp: ts,
        ssrc,
    }
    .write(&mut buf)
    .expect("the buffer fits the header");
    buf[HEADER_LEN..].copy_from_slice(payload);
    buf
}

/// A participant's phone: frame `k` goes out with sequence `seq0 + k` and timestamp
/// `ts0 + 160·k`. The caller's numbers start just before both wraps.
#[derive(Clone, Copy)]
struct Phone {
    format: LegFormat,
    ssrc: Ssrc,
    seq0: u16,
    ts0: u32,
}

impl Phone {
    fn of(p: Participant, format: LegFormat) -> Phone {
        let (ssrc, seq0, ts0) = match p {
            Caller => (0xCA11, u16::MAX - 3, u32::MAX - 5 * FRAME),
            Operator => (0x0BE7, 1000, 80_000),
            Supervisor => (0x5CE7, 42, 7),
        };
        Phone {
            format,
            ssrc: Ssrc(ssrc),
            seq0,
            ts0,
        }
    }

    fn packet(&self, frame: u64, payload: &[u8]) -> Vec<u8> {
        datagram(
            self.ssrc,
            self.seq0.wrapping_add(frame as u16),
            self.ts0.wrapping_add(frame as u32 * FRAME),
            self.format.payload_type,
            payload,
        )
    }
}

struct Call {
    room: MixRoom,
    phones: [Phone; 3],
    mixes: MixFrames,
    /// Per tick, what each participant was given to hear, before its law.
    pcm: [Vec<[i16; FRAME_SAMPLES]>; 3],
    /// Everything each participant was sent, decoded from its own law.
    wire: [Vec<i16>; 3],
}

impl Call {
    fn new(mode: MixMode) -> Call {
        Call::with_formats(mode, [pcmu(), pcmu(), pcmu()])
    }

    fn with_formats(mode: MixMode, [caller, operator, supervisor]: [LegFormat; 3]) -> Call {
        Call {
            room: MixRoom::new(mode, caller, operator, supervisor),
            phones: [
                Phone::of(Caller, caller),
                Phone::of(Operator, operator),
                Phone::of(Supervisor, supervisor),
            ],
            mixes: MixFrames::new(),
            pcm: Default::default(),
            wire: Default::default(),
        }
    }

    fn phone(&self, p: Participant) -> Phone {
        self.phones[p.slot()]
    }

    /// `p` says `pcm` as its frame number `frame`.
    fn say(
        &mut self,
        p: Participant,
        frame: u64,
        pcm: &[i16; FRAME_SAMPLES],
    ) -> Result<(), MixDrop> {
        let phone = self.phone(p);
        let packet = phone.packet(frame, &encode(phone.format.codec, pcm));
        self.room.push_datagram(p, &packet)
    }

    /// `p` sends frame `frame` of its voice.
    fn speak(&mut self, p: Participant, frame: u64) -> Result<(), MixDrop> {
        self.say(p, frame, &tone(voice_hz(p), AMPLITUDE, frame))
    }

    /// What the room can know of `p`'s voice frame `frame`.
    fn voice(&self, p: Participant, frame: u64) -> [i16; FRAME_SAMPLES] {
        let codec = self.phone(p).format.codec;
        through(codec, &tone(voice_hz(p), AMPLITUDE, frame))
    }

    fn tick(&mut self) {
        self.room.tick(&mut self.mixes);
        for p in Participant::ALL {
            let mut encoded = [0u8; FRAME_SAMPLES];
            self.room.encode(p, &self.mixes, &mut encoded);
            let codec = self.room.format(p).codec;
            self.wire[p.slot()].extend_from_slice(&decode(codec, &encoded));
            self.pcm[p.slot()].push(*self.mixes.heard_by(p));
        }
    }

    /// For each frame: every speaker sends it, then the tick runs.
    fn talk(&mut self, speakers: &[Participant], frames: Range<u64>) {
        for frame in frames {
            for &p in speakers {
                self.speak(p, frame)
                    .expect("an in-order voice frame is mixed");
            }
            self.tick();
        }
    }

    /// The pcm `p` got on tick `tick` (the first tick is 0).
    fn heard(&self, p: Participant, tick: usize) -> &[i16; FRAME_SAMPLES] {
        &self.pcm[p.slot()][tick]
    }

    fn heard_on_wire(&self, p: Participant) -> &[i16] {
        &self.wire[p.slot()][ANALYSED.start * FRAME_SAMPLES..ANALYSED.end * FRAME_SAMPLES]
    }

    /// `listener` hears each of `voices` at full level and the other participants' not at all
    /// (40 dB down at least: G.711 noise only).
    fn assert_hears(&self, listener: Participant, voices: &[Participant]) {
        let heard = self.heard_on_wire(listener);
        for speaker in Participant::ALL {
            let a = amplitude(heard, voice_hz(speaker));
            if voices.contains(&speaker) {
                assert!(
                    (a - AMPLITUDE).abs() < 0.05 * AMPLITUDE,
                    "{listener:?} should hear {speaker:?} at {AMPLITUDE}, got {a:.1}"
                );
            } else {
                assert!(
                    a < 0.01 * AMPLITUDE,
                    "{listener:?} should not hear {speaker:?}, got {a:.1}"
                );
            }
        }
    }
}

/// A call in `mode` where everyone talks for a second.
fn everyone_talks(mode: MixMode) -> Call {
    let mut call = Call::new(mode);
    call.talk(&Participant::ALL, 0..60);
    call
}

// ---- who hears whom ---------------------------------------------------------------------------

#[test]
fn the_hearing_matrix_is_as_specified() {
    use MixMode::{Barge, Listen, Whisper};
    // (mode, listener, speaker, hears)
    let table = [
        (Listen, Caller, Operator, true),
        (Listen, Caller, Supervisor, false),
        (Listen, Operator, Caller, true),
        (Listen, Operator, Supervisor, false),
        (Listen, Supervisor, Caller, true),
        (Listen, Supervisor, Operator, true),
        (Whisper, Caller, Operator, true),
        (Whisper, Caller, Supervisor, false),
        (Whisper, Operator, Caller, true),
        (Whisper, Operator, Supervisor, true),
        (Whisper, Supervisor, Caller, true),
        (Whisper, Supervisor, Operator, true),
        (Barge, Caller, Operator, true),
        (Barge, Caller, Supervisor, true),
        (Barge, Operator, Caller, true),
        (Barge, Operator, Supervisor, true),
        (Barge, Supervisor, Caller, true),
        (Barge, Supervisor, Operator, true),
    ];
    for (mode, listener, speaker, hears) in table {
        assert_eq!(
            mode.hears(listener, speaker),
            hears,
            "{mode:?}: {listener:?} hears {speaker:?}"
        );
    }
    for mode in [Listen, Whisper, Barge] {
        for p in Participant::ALL {
            assert!(!mode.hears(p, p), "{mode:?}: {p:?} hears themselves");
        }
    }
}

#[test]
fn listen_the_supervisor_hears_caller_and_operator() {
    everyone_talks(MixMode::Listen).assert_hears(Supervisor, &[Caller, Operator]);
}

#[test]
fn listen_the_caller_hears_only_the_operator() {
    everyone_talks(MixMode::Listen).assert_hears(Caller, &[Operator]);
}

#[test]
fn listen_the_operator_hears_only_the_caller() {
    everyone_talks(MixMode::Listen).assert_hears(Operator, &[Caller]);
}

#[test]
fn listen_the_supervisors_voice_reaches_nobody() {
    let call = everyone_talks(MixMode::Listen);
    for listener in Participant::ALL {
        let a = amplitude(call.heard_on_wire(listener), voice_hz(Supervisor));
        assert!(a < 0.01 * AMPLITUDE, "{listener:?} hears the supervisor");
    }
}

#[test]
fn whisper_the_operator_hears_caller_and_supervisor() {
    everyone_talks(MixMode::Whisper).assert_hears(Operator, &[Caller, Supervisor]);
}

#[test]
fn whisper_the_caller_hears_only_the_operator() {
    let call = everyone_talks(MixMode::Whisper);
    call.assert_hears(Caller, &[Operator]);
    let heard = call.heard_on_wire(Caller);
    let ratio = amplitude(heard, voice_hz(Supervisor)) / amplitude(heard, voice_hz(Operator));
    assert!(
        20.0 * ratio.log10() < -40.0,
        "the whisper leaks to the caller at {:.1} dB",
        20.0 * ratio.log10()
    );
}

#[test]
fn whisper_the_supervisor_hears_caller_and_operator() {
    everyone_talks(MixMode::Whisper).assert_hears(Supervisor, &[Caller, Operator]);
}

#[test]
fn barge_everyone_hears_the_other_two_and_never_themselves() {
    let call = everyone_talks(MixMode::Barge);
    call.assert_hears(Caller, &[Operator, Supervisor]);
    call.assert_hears(Operator, &[Caller, Supervisor]);
    call.assert_hears(Supervisor, &[Caller, Operator]);
}

#[test]
fn a_mix_is_the_exact_sum_of_the_decoded_voices() {
    let call = everyone_talks(MixMode::Barge);
    // Tick t plays frame t − 1 (one frame of playout delay).
    let (tick, frame) = (20, 19);
    let expected: [i16; FRAME_SAMPLES] = {
        let (op, sup) = (call.voice(Operator, frame), call.voice(Supervisor, frame));
        std::array::from_fn(|i| op[i] + sup[i])
    };
    assert_eq!(call.heard(Caller, tick), &expected);
}

#[test]
fn mode_switch_takes_effect_at_the_next_tick() {
    // Only the supervisor speaks, so what the others hear is the supervisor or nothing.
    let mut call = Call::new(MixMode::Listen);
    call.talk(&[Supervisor], 0..5);
    call.room.set_mode(MixMode::Whisper);
    call.talk(&[Supervisor], 5..6);
    call.room.set_mode(MixMode::Barge);
    call.talk(&[Supervisor], 6..7);
    call.room.set_mode(MixMode::Listen);
    call.talk(&[Supervisor], 7..8);

    let silence = level(0);
    assert_eq!(call.heard(Operator, 4), &silence, "listen");
    assert_eq!(
        call.heard(Operator, 5),
        &call.voice(Supervisor, 4),
        "whisper"
    );
    assert_eq!(call.heard(Caller, 5), &silence, "whisper");
    assert_eq!(call.heard(Caller, 6), &call.voice(Supervisor, 5), "barge");
    assert_eq!(call.heard(Operator, 6), &call.voice(Supervisor, 5), "barge");
    assert_eq!(call.heard(Operator, 7), &silence, "listen again");
    assert_eq!(call.heard(Caller, 7), &silence, "listen again");
    assert_eq!(call.room.mode(), MixMode::Listen);
}

// ---- the jitter buffer ------------------------------------------------------------------------

#[test]
fn the_first_packet_plays_after_the_playout_delay() {
    let mut call = Call::new(MixMode::Listen);
    call.talk(&[Caller], 0..3);
    assert_eq!(call.heard(Operator, 0), &level(0));
    assert_eq!(call.heard(Operator, 1), &call.voice(Caller, 0));
    assert_eq!(call.heard(Operator, 2), &call.voice(Caller, 1));
}

#[test]
fn without_playout_delay_the_first_packet_plays_at_the_next_tick() {
    let mut call = Call::new(MixMode::Listen);
    call.room = call.room.clone().with_playout_delay(0);
    call.talk(&[Caller], 0..2);
    assert_eq!(call.heard(Operator, 0), &call.voice(Caller, 0));
    assert_eq!(call.heard(Operator, 1), &call.voice(Caller, 1));
}

#[test]
fn a_lost_packet_is_silence_for_that_tick_only_and_others_are_unaffected() {
    let mut call = Call::new(MixMode::Listen);
    for frame in 0..20 {
        if frame != 8 {
            call.speak(Caller, frame).unwrap();
        }
        call.speak(Operator, frame).unwrap();
        call.tick();
    }
    // Tick 9 plays frame 8.
    assert_eq!(call.heard(Operator, 9), &level(0));
    assert_eq!(call.heard(Supervisor, 9), &call.voice(Operator, 8));
    assert_eq!(call.heard(Caller, 9), &call.voice(Operator, 8));
    assert_eq!(call.heard(Operator, 8), &call.voice(Caller, 7));
    assert_eq!(call.heard(Operator, 10), &call.voice(Caller, 9));
    let (caller, operator) = (call.room.stats(Caller), call.room.stats(Operator));
    assert_eq!(caller.concealed_frames, operator.concealed_frames + 1);
    assert_eq!(caller.reanchors, 0);
}

#[test]
fn reordered_packets_play_in_sequence_order() {
    // Three frames of playout delay absorb a reordering three frames deep.
    let mut call = Call::new(MixMode::Listen);
    call.room = call.room.clone().with_playout_delay(3);
    let frames = [
        level(1000),
        level(2000),
        level(3000),
        level(4000),
        level(5000),
    ];
    call.say(Caller, 0, &frames[0]).unwrap();
    call.tick();
    call.tick();
    call.tick();
    // Frames 1 and 2 were held up in the network and arrive after frame 3.
    for k in [3, 2, 1] {
        call.say(Caller, k, &frames[k as usize]).unwrap();
    }
    call.tick();
    call.say(Caller, 4, &frames[4]).unwrap();
    for _ in 0..4 {
        call.tick();
    }
    for (k, frame) in frames.iter().enumerate() {
        assert_eq!(
            call.heard(Operator, k + 3),
            &through(Codec::Pcmu, frame),
            "frame {k}"
        );
    }
    let stats = call.room.stats(Caller);
    assert_eq!((stats.late, stats.discarded_samples), (0, 0));
}

#[test]
fn jitter_within_the_playout_delay_loses_nothing() {
    let mut call = Call::new(MixMode::Listen);
    let mut held_back = None;
    for frame in 0..30u64 {
        // Every third packet is a frame late, and so arrives after its successor.
        if frame >= 2 && frame % 3 == 2 {
            held_back = Some(frame);
        } else {
            call.speak(Caller, frame).unwrap();
            if let Some(late) = held_back.take() {
                call.speak(Caller, late).unwrap();
            }
        }
        call.tick();
    }
    for tick in 1..30 {
        assert_eq!(
            call.heard(Operator, tick),
            &call.voice(Caller, tick as u64 - 1),
            "tick {tick}"
        );
    }
    let stats = call.room.stats(Caller);
    assert_eq!((stats.late, stats.concealed_frames), (0, 1));
}

#[test]
fn a_duplicate_is_dropped_and_plays_once() {
    let mut call = Call::new(MixMode::Listen);
    call.say(Caller, 0, &level(1000)).unwrap();
    assert_eq!(call.say(Caller, 0, &level(1000)), Err(MixDrop::Duplicate));
    call.say(Caller, 1, &level(2000)).unwrap();
    assert_eq!(call.say(Caller, 0, &level(1000)), Err(MixDrop::Duplicate));
    for _ in 0..4 {
        call.tick();
    }
    assert_eq!(call.heard(Operator, 1), &through(Codec::Pcmu, &level(1000)));
    assert_eq!(call.heard(Operator, 2), &through(Codec::Pcmu, &level(2000)));
    assert_eq!(call.heard(Operator, 3), &level(0));
    assert_eq!(call.room.stats(Caller).duplicates, 2);
}

#[test]
fn a_packet_whose_time_was_played_is_dropped_as_late() {
    let mut call = Call::new(MixMode::Listen);
    call.talk(&[Caller], 0..5);
    // Frame 2 again (a retransmitting peer), and a straggler of frame 1: both played already.
    assert_eq!(call.speak(Caller, 2), Err(MixDrop::Late));
    assert_eq!(call.speak(Caller, 1), Err(MixDrop::Late));
    call.talk(&[Caller], 5..7);
    assert_eq!(call.heard(Operator, 6), &call.voice(Caller, 5));
    let stats = call.room.stats(Caller);
    assert_eq!((stats.late, stats.reanchors), (2, 0));
}

#[test]
fn a_participant_that_stops_sending_contributes_silence_and_resumes_in_time() {
    let mut call = Call::new(MixMode::Listen);
    call.talk(&[Caller, Operator], 0..10);
    // The caller goes quiet (mute, silence suppression) while real time passes.
    call.talk(&[Operator], 10..30);
    call.talk(&[Caller, Operator], 30..40);
    for tick in 11..31 {
        assert_eq!(call.heard(Operator, tick), &level(0), "tick {tick}");
        assert_eq!(
            call.heard(Supervisor, tick),
            &call.voice(Operator, tick as u64 - 1)
        );
    }
    assert_eq!(call.heard(Operator, 31), &call.voice(Caller, 30));
    let stats = call.room.stats(Caller);
    assert_eq!(
        (stats.reanchors, stats.late, stats.concealed_frames),
        (0, 0, 21)
    );
}

#[test]
fn a_stream_that_falls_behind_the_tick_is_reanchored_instead_of_dropped() {
    let mut call = Call::new(MixMode::Listen);
    call.talk(&[Caller], 0..10);
    // The caller's phone stalls for four ticks, then carries on from where it stopped: its
    // timestamps are now behind real time.
    for _ in 0..4 {
        call.tick();
    }
    call.talk(&[Caller], 10..20);
    // Ticks 11..=14 found nothing; frame 10 arrived before tick 14 and plays after the delay.
    assert_eq!(call.heard(Operator, 14), &level(0));
    for tick in 15..24 {
        assert_eq!(
            call.heard(Operator, tick),
            &call.voice(Caller, tick as u64 - 5)
        );
    }
    let stats = call.room.stats(Caller);
    assert_eq!((stats.reanchors, stats.late), (1, 0));
}

#[test]
fn a_burst_ahead_of_time_drains_back_to_the_playout_delay() {
    let mut call = Call::new(MixMode::Listen);
    call.talk(&[Caller], 0..5);
    // A burst: four frames arrive at once, ahead of their time, then the stream goes on at
    // one frame per tick.
    for frame in 5..9 {
        call.speak(Caller, frame).unwrap();
    }
    call.tick();
    call.tick();
    call.talk(&[Caller], 9..110);

    // Before the burst, tick t played frame t − 1 (the playout delay).
    assert_eq!(call.heard(Operator, 4), &call.voice(Caller, 3));
    assert_eq!(call.heard(Operator, 5), &call.voice(Caller, 4));
    // Three frames over the normal level: the oldest is dropped at once (frame 5).
    for tick in 6..100 {
        assert_eq!(
            call.heard(Operator, tick),
            &call.voice(Caller, tick as u64),
            "{tick}"
        );
    }
    // One frame over it stood from tick 50 to tick 99: dropped at the end of that second.
    for tick in 100..108 {
        let frame = tick as u64 + 1;
        assert_eq!(
            call.heard(Operator, tick),
            &call.voice(Caller, frame),
            "{tick}"
        );
    }
    // Back at the normal level: the delay's frame waits, the newest just arrived.
    call.speak(Caller, 110).unwrap();
    assert_eq!(call.room.buffered_samples(Caller), 2 * FRAME_SAMPLES);
    assert_eq!(call.room.stats(Caller).discarded_samples, 2 * FRAME as u64);
}

#[test]
fn jitter_alone_never_trims_the_buffer() {
    let mut call = Call::new(MixMode::Listen);
    // Two seconds where every even-numbered packet arrives a frame late, with its successor.
    for frame in 0..100u64 {
        if frame % 2 == 0 {
            call.speak(Caller, frame + 1).unwrap();
            call.speak(Caller, frame).unwrap();
        }
        call.tick();
    }
    // The stream anchored on frame 1, so frame 0 was just in time for tick 0.
    for tick in 0..100 {
        assert_eq!(call.heard(Operator, tick), &call.voice(Caller, tick as u64));
    }
    let stats = call.room.stats(Caller);
    assert_eq!(
        (stats.discarded_samples, stats.late, stats.concealed_frames),
        (0, 0, 0)
    );
}

#[test]
fn a_new_ssrc_restarts_the_stream_after_the_playout_delay() {
    let mut call = Call::new(MixMode::Listen);
    call.talk(&[Caller], 0..5);
    // The carrier re-routes the call: new SSRC, unrelated numbers.
    let packet = datagram(
        Ssrc(0xBEEF),
        9,
        123_456,
        0,
        &encode(Codec::Pcmu, &level(2500)),
    );
    call.room.push_datagram(Caller, &packet).unwrap();
    call.tick();
    call.tick();
    assert_eq!(call.heard(Operator, 5), &call.voice(Caller, 4));
    assert_eq!(call.heard(Operator, 6), &through(Codec::Pcmu, &level(2500)));
    assert_eq!(call.room.stats(Caller).reanchors, 1);
}

#[test]
fn a_sequence_restart_far_behind_is_not_taken_for_stragglers() {
    let mut call = Call::new(MixMode::Listen);
    call.talk(&[Caller], 0..5);
    // Same SSRC, timestamps in real time, but numbering restarted 20 000 behind.
    let phone = call.phone(Caller);
    for k in 5..10u64 {
        let seq = phone.seq0.wrapping_sub(20_000).wrapping_add(k as u16);
        let ts = phone.ts0.wrapping_add(k as u32 * FRAME);
        let payload = encode(Codec::Pcmu, &tone(voice_hz(Caller), AMPLITUDE, k));
        let packet = datagram(phone.ssrc, seq, ts, 0, &payload);
        call.room.push_datagram(Caller, &packet).unwrap();
        call.tick();
    }
    for tick in 6..10 {
        assert_eq!(
            call.heard(Operator, tick),
            &call.voice(Caller, tick as u64 - 1)
        );
    }
    assert_eq!(call.room.stats(Caller).late, 0);
}

#[test]
fn a_packet_far_ahead_reanchors_the_stream() {
    let mut call = Call::new(MixMode::Listen);
    call.talk(&[Caller], 0..3);
    // A new timebase under the same SSRC, an hour ahead.
    let phone = call.phone(Caller);
    let ts = phone.ts0.wrapping_add(3600 * 8000);
    let packet = datagram(phone.ssrc, phone.seq0.wrapping_add(3), ts, 0, &[0x9F; 160]);
    call.room.push_datagram(Caller, &packet).unwrap();
    call.tick();
    call.tick();
    assert_eq!(call.heard(Operator, 3), &call.voice(Caller, 2));
    assert_eq!(call.heard(Operator, 4), &decode(Codec::Pcmu, &[0x9F; 160]));
    assert_eq!(call.room.stats(Caller).reanchors, 1);
}

#[test]
fn timestamps_and_sequence_numbers_wrap_without_a_glitch() {
    // The caller's phone starts 5 frames before the timestamp wrap and 3 before the sequence
    // wrap.
    let call = {
        let mut call = Call::new(MixMode::Listen);
        call.talk(&[Caller], 0..12);
        call
    };
    for tick in 1..12 {
        assert_eq!(
            call.heard(Operator, tick),
            &call.voice(Caller, tick as u64 - 1)
        );
    }
    assert_eq!(call.room.stats(Caller).reanchors, 0);
}

#[test]
fn thirty_ms_packets_are_placed_by_timestamp() {
    let mut call = Call::new(MixMode::Listen);
    let phone = call.phone(Caller);
    // 30 ms packets: 240 samples of a ramp running over the whole stream.
    let ramp: Vec<i16> = (0..1440).map(|i| (i * 16) as i16).collect();
    for k in 0..6u16 {
        let start = usize::from(k) * 240;
        let mut payload = [0u8; 240];
        g711::encode_ulaw_slice(&ramp[start..start + 240], &mut payload);
        let ts = phone.ts0.wrapping_add(u32::from(k) * 240);
        let packet = datagram(phone.ssrc, phone.seq0.wrapping_add(k), ts, 0, &payload);
        call.room.push_datagram(Caller, &packet).unwrap();
        // Three ticks per two packets: the ticks keep pace with the 30 ms packets.
        if k % 2 == 1 {
            call.tick();
            call.tick();
            call.tick();
        }
    }
    let played: Vec<i16> = (1..9).flat_map(|t| *call.heard(Operator, t)).collect();
    let mut expected = vec![0u8; 1280];
    g711::encode_ulaw_slice(&ramp[..1280], &mut expected);
    let expected: Vec<i16> = expected.iter().map(|&c| g711::decode_ulaw(c)).collect();
    assert_eq!(played, expected);
}

#[test]
fn a_skip_moves_every_stream_on_with_real_time() {
    let mut call = Call::new(MixMode::Listen);
    call.talk(&[Caller], 0..5);
    // The shell's clock woke 80 ms late: three frames were skipped, the fourth is due now.
    for frame in 5..9 {
        call.speak(Caller, frame).unwrap();
    }
    let before = call.room.stats(Caller).discarded_samples;
    call.room.skip(3);
    call.tick();
    assert_eq!(call.heard(Operator, 5), &call.voice(Caller, 7));
    let discarded = call.room.stats(Caller).discarded_samples - before;
    assert_eq!(discarded, 3 * FRAME as u64);
}

// ---- what is not audio -------------------------------------------------------------------------

#[test]
fn telephone_events_are_not_mixed() {
    let mut call = Call::new(MixMode::Barge);
    let phone = call.phone(Caller);
    // RFC 4733 digit 5, end bit clear, volume 10, duration 160.
    let event = datagram(phone.ssrc, 1, 0, 101, &[5, 10, 0, 160]);
    assert_eq!(
        call.room.push_datagram(Caller, &event),
        Err(MixDrop::TelephoneEvent)
    );
    call.tick();
    call.tick();
    assert_eq!(call.room.buffered_samples(Caller), 0);
    assert_eq!(call.heard(Operator, 1), &level(0));
    assert_eq!(call.room.stats(Caller), &MixStats::default());
}

#[test]
fn unusable_packets_are_refused_with_a_reason() {
    let mut room = MixRoom::new(MixMode::Barge, pcmu(), pcma(), pcmu());
    let ssrc = Ssrc(1);
    assert_eq!(
        room.push_datagram(Caller, &datagram(ssrc, 1, 0, 18, &[0; 160])),
        Err(MixDrop::UnknownPayloadType(18))
    );
    assert_eq!(
        room.push_datagram(Caller, &datagram(ssrc, 1, 0, 0, &[])),
        Err(MixDrop::EmptyAudio)
    );
    assert_eq!(
        room.push_datagram(Caller, &datagram(ssrc, 1, 0, 0, &[0xFF; RING + 1])),
        Err(MixDrop::TooLong { samples: RING + 1 })
    );
    assert!(matches!(
        room.push_datagram(Caller, &[0x80, 0]),
        Err(MixDrop::Malformed(_))
    ));
    assert_eq!(room.buffered_samples(Caller), 0);
}

// ---- levels and laws ---------------------------------------------------------------------------

#[test]
fn loud_voices_saturate_instead_of_wrapping() {
    let mut call = Call::new(MixMode::Listen);
    // µ-law's loudest code words, both sides at once: the sum exceeds i16.
    for frame in 0..3 {
        call.say(Caller, frame, &level(i16::MAX)).unwrap();
        call.say(Operator, frame, &level(i16::MAX)).unwrap();
        call.tick();
    }
    for frame in 3..6 {
        call.say(Caller, frame, &level(i16::MIN)).unwrap();
        call.say(Operator, frame, &level(i16::MIN)).unwrap();
        call.tick();
    }
    assert_eq!(call.heard(Supervisor, 2), &level(i16::MAX));
    assert_eq!(call.heard(Supervisor, 5), &level(i16::MIN));
}

#[test]
fn a_loud_mix_is_the_clamped_sum_sample_by_sample() {
    let mut call = Call::new(MixMode::Listen);
    let loud = |p: Participant, frame: u64| tone(voice_hz(p), 25_000.0, frame);
    for frame in 0..10 {
        call.say(Caller, frame, &loud(Caller, frame)).unwrap();
        call.say(Operator, frame, &loud(Operator, frame)).unwrap();
        call.tick();
    }
    let mut clipped = 0;
    for tick in 1..10 {
        let frame = tick as u64 - 1;
        let a = through(Codec::Pcmu, &loud(Caller, frame));
        let b = through(Codec::Pcmu, &loud(Operator, frame));
        for (i, &mixed) in call.heard(Supervisor, tick).iter().enumerate() {
            let sum = i32::from(a[i]) + i32::from(b[i]);
            assert_eq!(i32::from(mixed), sum.clamp(-32768, 32767));
            clipped += usize::from(sum.abs() > 32767);
        }
    }
    assert!(clipped > 0, "the test must drive the mix into clipping");
}

#[test]
fn mu_law_and_a_law_participants_mix_together() {
    let mut call = Call::with_formats(MixMode::Barge, [pcmu(), pcma(), pcma()]);
    call.talk(&Participant::ALL, 0..60);
    call.assert_hears(Caller, &[Operator, Supervisor]);
    call.assert_hears(Operator, &[Caller, Supervisor]);
    call.assert_hears(Supervisor, &[Caller, Operator]);
    assert_eq!(
        call.heard(Caller, 20),
        &std::array::from_fn(|i| call.voice(Operator, 19)[i] + call.voice(Supervisor, 19)[i])
    );
}

#[test]
fn each_listener_gets_its_own_law() {
    let room = MixRoom::new(MixMode::Barge, pcmu(), pcma(), pcmu());
    let silence = MixFrames::new();
    let mut out = [0u8; FRAME_SAMPLES];
    room.encode(Caller, &silence, &mut out);
    assert_eq!(out, [Codec::Pcmu.silence(); FRAME_SAMPLES]);
    room.encode(Operator, &silence, &mut out);
    assert_eq!(out, [Codec::Pcma.silence(); FRAME_SAMPLES]);
}

#[test]
fn the_other_static_law_is_decoded_as_what_it_is() {
    // The operator negotiated PCMA but its phone sends PCMU (payload type 0).
    let mut room = MixRoom::new(MixMode::Listen, pcmu(), pcma(), pcmu()).with_playout_delay(0);
    let payload = encode(Codec::Pcmu, &level(3000));
    room.push_datagram(Operator, &datagram(Ssrc(9), 1, 0, 0, &payload))
        .unwrap();
    let mut mixes = MixFrames::new();
    room.tick(&mut mixes);
    assert_eq!(mixes.heard_by(Caller), &through(Codec::Pcmu, &level(3000)));
}

#[test]
fn a_format_change_applies_to_the_next_packet_and_the_next_encode() {
    let mut room = MixRoom::new(MixMode::Listen, pcmu(), pcmu(), pcmu()).with_playout_delay(0);
    room.set_format(Operator, pcma());
    assert_eq!(room.format(Operator), pcma());
    let payload = encode(Codec::Pcma, &level(-3000));
    room.push_datagram(Operator, &datagram(Ssrc(9), 1, 0, 8, &payload))
        .unwrap();
    let mut mixes = MixFrames::new();
    room.tick(&mut mixes);
    assert_eq!(mixes.heard_by(Caller), &through(Codec::Pcma, &level(-3000)));
    let mut out = [0u8; FRAME_SAMPLES];
    room.encode(Operator, &MixFrames::new(), &mut out);
    assert_eq!(out[0], Codec::Pcma.silence());
}

// ---- memory ------------------------------------------------------------------------------------

#[test]
fn a_thousand_packets_without_a_tick_keep_the_buffer_at_its_cap() {
    let mut call = Call::new(MixMode::Listen);
    for frame in 0..1000u64 {
        call.say(Caller, frame, &level(frame as i16 * 10)).unwrap();
        assert!(call.room.buffered_samples(Caller) <= RING);
    }
    assert_eq!(call.room.buffered_samples(Caller), RING);
    let stats = call.room.stats(Caller);
    assert_eq!(stats.packets, 1000);
    assert_eq!(
        stats.discarded_samples,
        (1000 - BUFFER_FRAMES as u64) * FRAME as u64
    );

    // The shell resumes: the newest audio plays, and the backlog is trimmed back to the
    // playout delay on the way.
    for _ in 0..5 {
        call.tick();
    }
    let played = |frame: i16| through(Codec::Pcmu, &level(frame * 10));
    assert_eq!(call.heard(Operator, 0), &played(995));
    assert_eq!(call.heard(Operator, 1), &played(997));
    assert_eq!(call.heard(Operator, 2), &played(998));
    assert_eq!(call.heard(Operator, 3), &played(999));
    assert_eq!(call.heard(Operator, 4), &level(0));
}

#[test]
fn the_room_holds_no_heap_memory() {
    // Everything is inline arrays: its size is all the memory a supervised call's mix takes.
    assert!(std::mem::size_of::<MixRoom>() <= 3 * RING * 3 + 3 * FRAME_SAMPLES * 2 + 512);
}

// ---- a bench that asserts nothing about time ---------------------------------------------------

/// One minute of a three-way call through the room, as the shell would drive it: three pushes,
/// one tick and three encodes per 20 ms. Prints the cost per tick (run with `--nocapture`).
#[test]
fn one_minute_of_barge_costs_per_tick() {
    const TICKS: u64 = 60 * 50;
    let formats = [pcmu(), pcma(), pcmu()];
    let phones = [
        Phone::of(Caller, formats[0]),
        Phone::of(Operator, formats[1]),
        Phone::of(Supervisor, formats[2]),
    ];
    let packets: Vec<[Vec<u8>; 3]> = (0..TICKS)
        .map(|k| {
            Participant::ALL.map(|p| {
                let phone = phones[p.slot()];
                let pcm = tone(voice_hz(p), AMPLITUDE, k);
                phone.packet(k, &encode(phone.format.codec, &pcm))
            })
        })
        .collect();
    let mut room = MixRoom::new(MixMode::Barge, formats[0], formats[1], formats[2]);
    let mut mixes = MixFrames::new();
    let mut out = [0u8; FRAME_SAMPLES];
    let mut checksum = 0u64;

    let start = crate::test_origin();
    for tick in &packets {
        for p in Participant::ALL {
            room.push_datagram(p, &tick[p.slot()])
                .expect("a paced stream is mixed");
        }
        room.tick(&mut mixes);
        for p in Participant::ALL {
            room.encode(p, &mixes, &mut out);
            checksum = checksum.wrapping_add(u64::from(out[0]));
        }
    }
    let elapsed = start.elapsed();
    eprintln!(
        "mix: {TICKS} ticks of a 3-way call in {elapsed:?}, {:?} per tick (checksum {checksum})",
        elapsed / TICKS as u32
    );
    for p in Participant::ALL {
        assert_eq!(room.stats(p).played_frames, TICKS - 1);
    }
}
