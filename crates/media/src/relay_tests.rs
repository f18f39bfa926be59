use super::*;
use crate::dtmf::{DtmfEvent, DtmfReceiver, DtmfSender};

const OUT_SSRC: Ssrc = Ssrc(0x0B0B_0B0B);
const OUT_SEQ: u16 = 1000;
const OUT_TS: u32 = 50_000;
const IN_SSRC: u32 = 0xA11C_E000;

fn caller() -> LegFormat {
    LegFormat {
        codec: Codec::Pcmu,
        payload_type: 0,
        telephone_event_pt: Some(101),
    }
}

fn operator() -> LegFormat {
    LegFormat {
        codec: Codec::Pcma,
        payload_type: 8,
        telephone_event_pt: Some(96),
    }
}

fn output(format: LegFormat) -> LegOutput {
    LegOutput::new(RtpSender::new(OUT_SSRC, OUT_SEQ, OUT_TS), format)
}

/// A datagram as the far end of the input leg sends it.
fn datagram(seq: u16, ts: u32, ssrc: u32, pt: u8, marker: bool, payload: &[u8]) -> Vec<u8> {
    let mut buf = vec![0u8; HEADER_LEN + payload.len()];
    RtpHeader {
        padding: false,
        extension: false,
        csrc_count: 0,
        marker,
        payload_type: pt,
        sequence_number: seq,
        timestamp: ts,
        ssrc: Ssrc(ssrc),
    }
    .write(&mut buf)
    .unwrap();
    buf[HEADER_LEN..].copy_from_slice(payload);
    buf
}

/// Every code word once, then some, so transcoding shows in every byte.
fn ramp() -> [u8; 160] {
    std::array::from_fn(|i| (i * 7 % 256) as u8)
}

fn audio(seq: u16, ts: u32) -> Vec<u8> {
    datagram(seq, ts, IN_SSRC, 0, false, &ramp())
}

/// One direction of a bridge and the packets it wrote.
struct Relay {
    rewriter: RelayRewriter,
    output: LegOutput,
    transcoder: Transcoder,
    sent: Vec<(RtpHeader, Vec<u8>)>,
}

impl Relay {
    fn new(input: LegFormat, out: LegFormat) -> Self {
        Self {
            rewriter: RelayRewriter::new(input),
            output: output(out),
            transcoder: Transcoder::new(),
            sent: Vec::new(),
        }
    }

    fn caller_to_operator() -> Self {
        Self::new(caller(), operator())
    }

    fn caller_to_caller() -> Self {
        Self::new(caller(), caller())
    }

    fn push(&mut self, datagram: &[u8]) -> Result<RtpHeader, RelayDrop> {
        let mut buf = [0u8; 1500];
        let len =
            self.rewriter
                .relay_datagram(datagram, &mut self.output, &self.transcoder, &mut buf)?;
        let (header, payload) = RtpHeader::parse(&buf[..len]).expect("the relay writes RTP");
        self.sent.push((header, payload.to_vec()));
        Ok(header)
    }

    /// A prompt frame written by the shell's tick.
    fn prompt_frame(&mut self) -> RtpHeader {
        let mut buf = [0u8; 1500];
        let frame = [self.output.format.codec.silence(); 160];
        let len = self.output.write_audio(&frame, &mut buf).unwrap();
        RtpHeader::parse(&buf[..len]).unwrap().0
    }
}

// ---- identity, sequence and timeline --------------------------------------------------------

#[test]
fn relayed_packet_carries_the_output_legs_ssrc_and_payload_type() {
    let mut relay = Relay::caller_to_operator();
    let h = relay.push(&audio(7, 1234)).unwrap();
    assert_eq!((h.ssrc, h.payload_type), (OUT_SSRC, 8));
}

#[test]
fn first_relayed_packet_continues_the_output_sequence_and_timeline() {
    let mut relay = Relay::caller_to_operator();
    let h = relay.push(&audio(7, 1234)).unwrap();
    assert_eq!((h.sequence_number, h.timestamp), (OUT_SEQ, OUT_TS));
}

#[test]
fn first_relayed_packet_carries_the_marker_bit_and_the_next_does_not() {
    let mut relay = Relay::caller_to_operator();
    assert!(relay.push(&audio(7, 1234)).unwrap().marker);
    assert!(!relay.push(&audio(8, 1394)).unwrap().marker);
}

#[test]
fn marker_bit_of_the_input_is_kept() {
    let mut relay = Relay::caller_to_operator();
    relay.push(&audio(7, 1234)).unwrap();
    let talkspurt = datagram(8, 5000, IN_SSRC, 0, true, &ramp());
    assert!(relay.push(&talkspurt).unwrap().marker);
}

#[test]
fn consecutive_input_packets_get_consecutive_sequence_numbers_and_timestamps() {
    let mut relay = Relay::caller_to_operator();
    for i in 0..5u16 {
        let h = relay
            .push(&audio(7 + i, 1234 + 160 * u32::from(i)))
            .unwrap();
        assert_eq!(h.sequence_number, OUT_SEQ + i);
        assert_eq!(h.timestamp, OUT_TS + 160 * u32::from(i));
    }
}

#[test]
fn lost_input_packets_leave_the_same_timestamp_gap_and_no_sequence_gap() {
    let mut relay = Relay::caller_to_operator();
    relay.push(&audio(10, 0)).unwrap();
    // 11, 12 and 13 were lost on the way in.
    let h = relay.push(&audio(14, 4 * 160)).unwrap();
    assert_eq!(h.timestamp, OUT_TS + 4 * 160);
    assert_eq!(h.sequence_number, OUT_SEQ + 1);
}

#[test]
fn idle_time_before_the_first_packet_moves_the_timeline_on() {
    let mut relay = Relay::caller_to_operator();
    relay.output.pass_idle(800);
    let h = relay.push(&audio(7, 1234)).unwrap();
    assert_eq!(h.timestamp, OUT_TS + 800);
    assert_eq!(relay.output.idle_samples, 0);
}

#[test]
fn idle_ticks_while_relaying_do_not_shift_the_timeline() {
    let mut relay = Relay::caller_to_operator();
    relay.push(&audio(7, 0)).unwrap();
    relay.output.pass_idle(160);
    let h = relay.push(&audio(8, 160)).unwrap();
    assert_eq!(h.timestamp, OUT_TS + 160);
}

#[test]
fn new_input_ssrc_reanchors_on_the_output_timeline_with_the_marker_bit() {
    let mut relay = Relay::caller_to_operator();
    relay.push(&audio(7, 1234)).unwrap();
    relay.output.pass_idle(320);
    let restarted = datagram(40_000, 9_999_999, 0x5EC0_4D00, 0, false, &ramp());
    let h = relay.push(&restarted).unwrap();
    assert!(h.marker);
    assert_eq!(h.sequence_number, OUT_SEQ + 1);
    assert_eq!(h.timestamp, OUT_TS + 160 + 320);
    let next = datagram(40_001, 9_999_999 + 160, 0x5EC0_4D00, 0, false, &ramp());
    assert_eq!(relay.push(&next).unwrap().timestamp, OUT_TS + 2 * 160 + 320);
}

#[test]
fn sequence_numbers_wrap_on_input_and_output() {
    let mut relay = Relay::caller_to_operator();
    relay.output.sender.seq = u16::MAX;
    relay.push(&audio(u16::MAX, 0)).unwrap();
    let h = relay.push(&audio(0, 160)).unwrap();
    assert_eq!((h.sequence_number, h.timestamp), (0, OUT_TS + 160));
}

#[test]
fn input_timestamps_wrap_without_a_jump() {
    let mut relay = Relay::caller_to_operator();
    relay.push(&audio(1, u32::MAX - 100)).unwrap();
    let h = relay.push(&audio(2, 59)).unwrap();
    assert_eq!(h.timestamp, OUT_TS + 160);
}

#[test]
fn duplicate_input_packet_is_dropped() {
    let mut relay = Relay::caller_to_operator();
    relay.push(&audio(7, 0)).unwrap();
    assert_eq!(relay.push(&audio(7, 0)), Err(RelayDrop::Duplicate));
    assert_eq!(
        relay.push(&audio(8, 160)).unwrap().sequence_number,
        OUT_SEQ + 1
    );
}

#[test]
fn reordered_packet_is_relayed_at_its_own_timestamp() {
    let mut relay = Relay::caller_to_operator();
    relay.push(&audio(10, 0)).unwrap();
    relay.push(&audio(12, 320)).unwrap();
    let late = relay.push(&audio(11, 160)).unwrap();
    assert_eq!(
        (late.sequence_number, late.timestamp),
        (OUT_SEQ + 2, OUT_TS + 160)
    );
    // The late packet does not pull the timeline back.
    let h = relay.push(&audio(13, 480)).unwrap();
    assert_eq!(h.timestamp, OUT_TS + 480);
    assert_eq!(relay.output.sender.timestamp, OUT_TS + 640);
}

#[test]
fn reordered_packet_from_before_the_anchor_is_dropped() {
    let mut relay = Relay::caller_to_operator();
    relay.push(&audio(10, 1600)).unwrap();
    assert_eq!(relay.push(&audio(9, 1440)), Err(RelayDrop::BeforeAnchor));
}

#[test]
fn sequence_jump_is_relayed_once_a_second_packet_confirms_it() {
    let mut relay = Relay::caller_to_operator();
    relay.push(&audio(10, 0)).unwrap();
    relay.push(&audio(11, 160)).unwrap();
    assert_eq!(
        relay.push(&audio(30_000, 777)),
        Err(RelayDrop::SequenceJump)
    );
    let h = relay.push(&audio(30_001, 937)).unwrap();
    assert!(h.marker);
    assert_eq!(
        (h.sequence_number, h.timestamp),
        (OUT_SEQ + 2, OUT_TS + 320)
    );
}

#[test]
fn a_stray_out_of_window_packet_does_not_disturb_the_stream() {
    let mut relay = Relay::caller_to_operator();
    relay.push(&audio(10, 0)).unwrap();
    assert_eq!(
        relay.push(&audio(30_000, 777)),
        Err(RelayDrop::SequenceJump)
    );
    let h = relay.push(&audio(11, 160)).unwrap();
    assert!(!h.marker);
    assert_eq!(h.timestamp, OUT_TS + 160);
}

// ---- prompts and relay on one stream -------------------------------------------------------

#[test]
fn prompt_then_relay_then_prompt_keep_one_sequence_and_timeline() {
    let mut relay = Relay::caller_to_operator();
    let mut headers = vec![relay.prompt_frame(), relay.prompt_frame()];
    // The bridge starts: playback stops, the caller's packets arrive 20 ms later.
    relay.output.pass_idle(160);
    for i in 0..3u16 {
        headers.push(
            relay
                .push(&audio(500 + i, 90_000 + 160 * u32::from(i)))
                .unwrap(),
        );
    }
    // Unbridged: one silent frame time, then a prompt again.
    relay.output.pass_idle(160);
    headers.push(relay.prompt_frame());

    let seqs: Vec<u16> = headers.iter().map(|h| h.sequence_number).collect();
    assert_eq!(seqs, (OUT_SEQ..OUT_SEQ + 6).collect::<Vec<_>>());
    let ts: Vec<u32> = headers.iter().map(|h| h.timestamp - OUT_TS).collect();
    assert_eq!(ts, [0, 160, 480, 640, 800, 1120]);
    let markers: Vec<bool> = headers.iter().map(|h| h.marker).collect();
    assert_eq!(markers, [true, false, true, false, false, true]);
}

#[test]
fn prompt_frames_between_relayed_packets_reanchor_the_relay_after_them() {
    let mut relay = Relay::caller_to_operator();
    relay.push(&audio(10, 0)).unwrap();
    relay.output.prompt_playing = true;
    assert_eq!(relay.push(&audio(11, 160)), Err(RelayDrop::PromptPlaying));
    let frame = relay.prompt_frame();
    relay.output.prompt_playing = false;
    let h = relay.push(&audio(12, 320)).unwrap();
    assert!(h.marker);
    assert_eq!(h.sequence_number, frame.sequence_number.wrapping_add(1));
    assert_eq!(h.timestamp, frame.timestamp + 160);
}

#[test]
fn leg_on_hold_is_sent_nothing_and_the_first_packet_after_hold_is_marked() {
    let mut relay = Relay::caller_to_operator();
    relay.push(&audio(10, 0)).unwrap();
    relay.output.sending = false;
    assert_eq!(relay.push(&audio(11, 160)), Err(RelayDrop::OnHold));
    assert_eq!(relay.push(&audio(12, 320)), Err(RelayDrop::OnHold));
    relay.output.sending = true;
    let h = relay.push(&audio(13, 480)).unwrap();
    assert!(h.marker);
    assert_eq!(
        (h.sequence_number, h.timestamp),
        (OUT_SEQ + 1, OUT_TS + 480)
    );
}

#[test]
fn a_long_hold_does_not_look_like_a_sequence_jump() {
    let mut relay = Relay::caller_to_operator();
    relay.push(&audio(0, 0)).unwrap();
    relay.output.sending = false;
    for seq in 1..5000u16 {
        assert_eq!(
            relay.push(&audio(seq, 160 * u32::from(seq))),
            Err(RelayDrop::OnHold)
        );
    }
    relay.output.sending = true;
    let h = relay.push(&audio(5000, 160 * 5000)).unwrap();
    assert_eq!(h.timestamp, OUT_TS + 160 * 5000);
}

// ---- payload types and codecs --------------------------------------------------------------

#[test]
fn pcmu_input_is_transcoded_to_a_pcma_output() {
    let mut relay = Relay::caller_to_operator();
    relay.push(&audio(1, 0)).unwrap();
    let t = Transcoder::new();
    let expected: Vec<u8> = ramp().iter().map(|&c| t.ulaw_to_alaw(c)).collect();
    assert_eq!(relay.sent[0].1, expected);
}

#[test]
fn pcma_input_is_transcoded_to_a_pcmu_output() {
    let mut relay = Relay::new(operator(), caller());
    relay
        .push(&datagram(1, 0, IN_SSRC, 8, false, &ramp()))
        .unwrap();
    let t = Transcoder::new();
    let expected: Vec<u8> = ramp().iter().map(|&c| t.alaw_to_ulaw(c)).collect();
    assert_eq!(relay.sent[0].0.payload_type, 0);
    assert_eq!(relay.sent[0].1, expected);
}

#[test]
fn same_law_payload_is_copied_untouched() {
    let mut relay = Relay::caller_to_caller();
    relay.push(&audio(1, 0)).unwrap();
    assert_eq!(relay.sent[0].1, ramp());
}

#[test]
fn audio_payload_type_is_rewritten_to_the_output_legs_dynamic_one() {
    let mut relay = Relay::new(
        caller(),
        LegFormat {
            codec: Codec::Pcmu,
            payload_type: 110,
            telephone_event_pt: None,
        },
    );
    assert_eq!(relay.push(&audio(1, 0)).unwrap().payload_type, 110);
}

#[test]
fn the_other_static_law_sent_by_the_input_is_relayed_as_what_it_is() {
    // The caller negotiated PCMU but sends PCMA (it had offered both).
    let mut relay = Relay::caller_to_operator();
    relay
        .push(&datagram(1, 0, IN_SSRC, 8, false, &ramp()))
        .unwrap();
    assert_eq!(relay.sent[0].1, ramp());
}

#[test]
fn unknown_payload_type_is_dropped_without_taking_a_sequence_number() {
    let mut relay = Relay::caller_to_operator();
    let comfort_noise = datagram(1, 0, IN_SSRC, 13, false, &[40]);
    assert_eq!(
        relay.push(&comfort_noise),
        Err(RelayDrop::UnknownPayloadType(13))
    );
    assert_eq!(relay.push(&audio(2, 160)).unwrap().sequence_number, OUT_SEQ);
}

// ---- RFC 4733 events -----------------------------------------------------------------------

fn key_press(digit: char, first_seq: u16, ts: u32) -> Vec<Vec<u8>> {
    let mut press = DtmfSender::new(digit, ts, 480).unwrap();
    let mut packets = Vec::new();
    let mut seq = first_seq;
    while let Some(p) = press.next_packet() {
        packets.push(datagram(
            seq,
            p.timestamp,
            IN_SSRC,
            101,
            p.marker,
            &p.payload,
        ));
        seq = seq.wrapping_add(1);
    }
    packets
}

#[test]
fn telephone_event_goes_out_with_the_output_legs_event_payload_type_and_is_a_digit_there() {
    let mut relay = Relay::caller_to_operator();
    relay.push(&audio(1, 0)).unwrap();
    let mut receiver = DtmfReceiver::new();
    for packet in key_press('5', 2, 160) {
        let h = relay.push(&packet).unwrap();
        assert_eq!(h.payload_type, 96);
        let payload = &relay.sent.last().unwrap().1;
        receiver.handle_packet(&h, payload).unwrap();
    }
    assert_eq!(receiver.poll_event(), Some(DtmfEvent::Digit('5')));
    assert_eq!(receiver.poll_event(), None);
}

#[test]
fn telephone_event_payload_is_copied_and_every_packet_keeps_the_mapped_start_timestamp() {
    let mut relay = Relay::caller_to_operator();
    relay.push(&audio(1, 0)).unwrap();
    let press = key_press('#', 2, 160);
    for packet in &press {
        relay.push(packet).unwrap();
    }
    for ((h, payload), input) in relay.sent[1..].iter().zip(&press) {
        assert_eq!(h.timestamp, OUT_TS + 160);
        assert_eq!(payload[..], input[HEADER_LEN..]);
    }
    assert!(relay.sent[1].0.marker, "the start packet keeps its marker");
}

#[test]
fn audio_after_a_key_press_continues_after_the_event_on_the_output() {
    let mut relay = Relay::caller_to_operator();
    relay.push(&audio(1, 0)).unwrap();
    for packet in key_press('1', 2, 160) {
        relay.push(&packet).unwrap();
    }
    assert_eq!(relay.output.sender.timestamp, OUT_TS + 160 + 480);
    let h = relay.push(&audio(9, 640)).unwrap();
    assert_eq!(h.sequence_number, OUT_SEQ + 6);
    assert_eq!(h.timestamp, OUT_TS + 640);
}

#[test]
fn telephone_event_is_dropped_when_the_output_leg_negotiated_none() {
    let mut relay = Relay::new(caller(), LegFormat::new(Codec::Pcma));
    relay.push(&audio(1, 0)).unwrap();
    let press = key_press('5', 2, 160);
    assert_eq!(relay.push(&press[0]), Err(RelayDrop::NoTelephoneEvent));
    let h = relay.push(&audio(3, 320)).unwrap();
    assert_eq!(
        h.sequence_number,
        OUT_SEQ + 1,
        "no sequence gap for the drop"
    );
}

#[test]
fn telephone_event_of_a_leg_that_negotiated_none_is_an_unknown_payload_type() {
    let mut relay = Relay::new(LegFormat::new(Codec::Pcmu), operator());
    let press = key_press('5', 2, 160);
    assert_eq!(
        relay.push(&press[0]),
        Err(RelayDrop::UnknownPayloadType(101))
    );
}

// ---- malformed input -----------------------------------------------------------------------

#[test]
fn short_telephone_event_payload_is_dropped() {
    let mut relay = Relay::caller_to_operator();
    let short = datagram(1, 0, IN_SSRC, 101, true, &[5, 10, 0]);
    assert_eq!(
        relay.push(&short),
        Err(RelayDrop::MalformedEvent { len: 3 })
    );
}

#[test]
fn empty_audio_packet_is_dropped() {
    let mut relay = Relay::caller_to_operator();
    assert_eq!(
        relay.push(&datagram(1, 0, IN_SSRC, 0, false, &[])),
        Err(RelayDrop::EmptyAudio)
    );
}

#[test]
fn malformed_datagrams_are_dropped() {
    let mut relay = Relay::caller_to_operator();
    assert_eq!(
        relay.push(&[0x80, 0, 1]),
        Err(RelayDrop::Malformed(RtpError::TooShort { len: 3 }))
    );
    let mut bad_version = audio(1, 0);
    bad_version[0] = 0x40;
    assert_eq!(
        relay.push(&bad_version),
        Err(RelayDrop::Malformed(RtpError::BadVersion(1)))
    );
    let mut rtcp = audio(1, 0);
    rtcp[1] = 200;
    assert!(matches!(
        relay.push(&rtcp),
        Err(RelayDrop::Malformed(RtpError::LooksLikeRtcp { .. }))
    ));
    assert!(relay.sent.is_empty());
}

#[test]
fn packet_larger_than_the_output_buffer_is_dropped() {
    let mut relay = Relay::caller_to_operator();
    let packet = audio(1, 0);
    let mut small = [0u8; 100];
    let result =
        relay
            .rewriter
            .relay_datagram(&packet, &mut relay.output, &relay.transcoder, &mut small);
    assert_eq!(
        result,
        Err(RelayDrop::BufferTooSmall {
            needed: 172,
            available: 100
        })
    );
    assert_eq!(relay.output.sender.seq, OUT_SEQ);
}

#[test]
fn arbitrary_datagrams_never_panic_and_whatever_is_relayed_is_valid_rtp() {
    // SplitMix-style generator: deterministic, no dependency.
    let mut state = 0x1234_5678_9ABC_DEF0u64;
    let mut next = move || {
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z ^ (z >> 31)
    };
    let mut relay = Relay::caller_to_operator();
    for _ in 0..20_000 {
        let len = (next() % 64) as usize;
        let mut bytes: Vec<u8> = (0..len).map(|_| next() as u8).collect();
        if let Some(first) = bytes.first_mut() {
            // Mostly version 2, so the parser lets many through to the relay logic.
            *first = (*first & 0x3F) | 0x80;
        }
        if let Some(second) = bytes.get_mut(1) {
            *second &= [0x00, 0x08, 0x65, 0xFF][(next() % 4) as usize];
        }
        let _ = relay.push(&bytes);
    }
    assert!(!relay.sent.is_empty(), "the generator reaches the writer");
    assert!(relay.sent.iter().all(|(h, _)| h.ssrc == OUT_SSRC));
}

#[test]
fn prompt_frame_right_after_relayed_audio_starts_a_talkspurt() {
    let mut relay = Relay::caller_to_operator();
    relay.push(&audio(10, 0)).unwrap();
    let frame = relay.prompt_frame();
    assert!(frame.marker);
    assert_eq!(frame.timestamp, OUT_TS + 160);
    assert!(!relay.prompt_frame().marker);
}

// ---- LegOutput -----------------------------------------------------------------------------

#[test]
fn write_audio_after_idle_time_shows_the_gap_and_marks_the_talkspurt() {
    let mut out = output(operator());
    let first = {
        let mut buf = [0u8; 200];
        let n = out.write_audio(&[0xD5; 160], &mut buf).unwrap();
        RtpHeader::parse(&buf[..n]).unwrap().0
    };
    out.pass_idle(480);
    let mut buf = [0u8; 200];
    let n = out.write_audio(&[0xD5; 160], &mut buf).unwrap();
    let (second, _) = RtpHeader::parse(&buf[..n]).unwrap();
    assert_eq!(second.timestamp, first.timestamp + 160 + 480);
    assert!(second.marker);
    assert_eq!(second.payload_type, 8);
}
