use super::*;
use std::time::Duration;

fn packet(first: u8, second: u8, rest_len: usize) -> Vec<u8> {
    let mut p = vec![
        first, second, 0x12, 0x34, 0, 0, 0x03, 0x20, 0xCA, 0xFE, 0xBA, 0xBE,
    ];
    p.extend(std::iter::repeat_n(0xAB, rest_len));
    p
}

fn header(seq: u16, ts: u32, ssrc: u32, pt: u8) -> RtpHeader {
    RtpHeader {
        padding: false,
        extension: false,
        csrc_count: 0,
        marker: false,
        payload_type: pt,
        sequence_number: seq,
        timestamp: ts,
        ssrc: Ssrc(ssrc),
    }
}

fn addr(port: u16) -> SocketAddr {
    SocketAddr::from(([192, 0, 2, 10], port))
}

// ---- parsing -------------------------------------------------------------------------------

#[test]
fn parses_the_fixed_header_fields() {
    let p = packet(0x80, 0x80 | 8, 160);
    let (h, payload) = RtpHeader::parse(&p).unwrap();
    assert!(h.marker);
    assert_eq!(h.payload_type, 8);
    assert_eq!(h.sequence_number, 0x1234);
    assert_eq!(h.timestamp, 800);
    assert_eq!(h.ssrc, Ssrc(0xCAFE_BABE));
    assert_eq!(payload.len(), 160);
}

#[test]
fn header_only_packet_has_an_empty_payload() {
    let p = packet(0x80, 0, 0);
    let (_, payload) = RtpHeader::parse(&p).unwrap();
    assert!(payload.is_empty());
}

#[test]
fn rejects_datagrams_shorter_than_twelve_bytes() {
    for len in 0..12 {
        let p = packet(0x80, 0, 0);
        assert_eq!(RtpHeader::parse(&p[..len]), Err(RtpError::TooShort { len }));
    }
}

#[test]
fn rejects_versions_other_than_two() {
    for (byte, version) in [(0x00, 0), (0x40, 1), (0xC0, 3)] {
        let p = packet(byte, 0, 10);
        assert_eq!(RtpHeader::parse(&p), Err(RtpError::BadVersion(version)));
    }
}

#[test]
fn rejects_rtcp_multiplexed_on_the_rtp_port() {
    // Sender report: V=2, PT=200.
    let p = packet(0x80, 200, 16);
    assert_eq!(
        RtpHeader::parse(&p),
        Err(RtpError::LooksLikeRtcp { packet_type: 200 })
    );
}

#[test]
fn skips_csrc_identifiers() {
    let mut p = packet(0x82, 0, 0);
    p.extend([0u8; 8]);
    p.extend([1, 2, 3]);
    let (h, payload) = RtpHeader::parse(&p).unwrap();
    assert_eq!(h.csrc_count, 2);
    assert_eq!(payload, &[1, 2, 3]);
}

#[test]
fn rejects_a_csrc_count_beyond_the_datagram() {
    let p = packet(0x8F, 0, 10);
    assert_eq!(
        RtpHeader::parse(&p),
        Err(RtpError::CsrcOverrun { count: 15 })
    );
}

#[test]
fn skips_the_header_extension() {
    let mut p = packet(0x90, 0, 0);
    p.extend([0xBE, 0xDE, 0x00, 0x01, 9, 9, 9, 9]);
    p.extend([7, 7]);
    let (h, payload) = RtpHeader::parse(&p).unwrap();
    assert!(h.extension);
    assert_eq!(payload, &[7, 7]);
}

#[test]
fn rejects_a_truncated_extension_header() {
    let mut p = packet(0x90, 0, 0);
    p.extend([0xBE, 0xDE]);
    assert_eq!(RtpHeader::parse(&p), Err(RtpError::ExtensionOverrun));
}

#[test]
fn rejects_an_extension_longer_than_the_datagram() {
    let mut p = packet(0x90, 0, 0);
    p.extend([0xBE, 0xDE, 0xFF, 0xFF, 1, 2, 3, 4]);
    assert_eq!(RtpHeader::parse(&p), Err(RtpError::ExtensionOverrun));
}

#[test]
fn strips_padding_counted_by_the_last_octet() {
    let mut p = packet(0xA0, 0, 0);
    p.extend([5, 6, 0, 0, 3]);
    let (h, payload) = RtpHeader::parse(&p).unwrap();
    assert!(h.padding);
    assert_eq!(payload, &[5, 6]);
}

#[test]
fn rejects_zero_padding_count() {
    let mut p = packet(0xA0, 0, 0);
    p.extend([5, 0]);
    assert_eq!(RtpHeader::parse(&p), Err(RtpError::BadPadding { count: 0 }));
}

#[test]
fn rejects_padding_longer_than_the_payload() {
    let mut p = packet(0xA0, 0, 0);
    p.extend([5, 9]);
    assert_eq!(RtpHeader::parse(&p), Err(RtpError::BadPadding { count: 9 }));
}

#[test]
fn rejects_padding_bit_on_a_header_only_packet() {
    // The padding octet would be inside the header.
    let p = packet(0xA0, 0, 0);
    assert!(matches!(
        RtpHeader::parse(&p),
        Err(RtpError::BadPadding { .. })
    ));
}

#[test]
fn parse_never_panics_on_arbitrary_short_inputs() {
    let mut state = 1u64;
    for len in 0..64 {
        for _ in 0..200 {
            let bytes: Vec<u8> = (0..len).map(|_| splitmix64(&mut state) as u8).collect();
            let _ = RtpHeader::parse(&bytes);
        }
    }
}

// ---- sending -------------------------------------------------------------------------------

#[test]
fn written_packet_parses_back_with_the_same_fields() {
    let mut tx = RtpSender::new(Ssrc(99), 65_535, 4_000_000_000);
    let mut buf = [0u8; 200];
    let n = tx.write_packet(0, &[0x55; 160], &mut buf);
    assert_eq!(n, 172);
    let (h, payload) = RtpHeader::parse(&buf[..n]).unwrap();
    assert_eq!(
        (h.sequence_number, h.timestamp, h.ssrc, h.payload_type),
        (65_535, 4_000_000_000, Ssrc(99), 0)
    );
    assert_eq!(payload, &[0x55; 160][..]);
}

#[test]
fn each_packet_advances_seq_by_one_and_timestamp_by_its_samples() {
    let mut tx = RtpSender::new(Ssrc(1), 10, 1000);
    let mut buf = [0u8; 200];
    tx.write_packet(0, &[0; 160], &mut buf);
    assert_eq!((tx.seq, tx.timestamp), (11, 1160));
    tx.write_packet(0, &[0; 80], &mut buf);
    assert_eq!((tx.seq, tx.timestamp), (12, 1240));
}

#[test]
fn seq_and_timestamp_wrap_around() {
    let mut tx = RtpSender::new(Ssrc(1), u16::MAX, u32::MAX - 100);
    let mut buf = [0u8; 200];
    tx.write_packet(0, &[0; 160], &mut buf);
    assert_eq!((tx.seq, tx.timestamp), (0, 59));
}

#[test]
fn only_the_first_packet_of_a_talkspurt_has_the_marker() {
    let mut tx = RtpSender::new(Ssrc(1), 0, 0);
    let mut buf = [0u8; 200];
    let markers: Vec<bool> = (0..3)
        .map(|_| {
            let n = tx.write_packet(0, &[0; 160], &mut buf);
            RtpHeader::parse(&buf[..n]).unwrap().0.marker
        })
        .collect();
    assert_eq!(markers, [true, false, false]);
}

#[test]
fn resuming_after_a_gap_advances_the_timestamp_and_marks_the_next_packet() {
    let mut tx = RtpSender::new(Ssrc(1), 0, 0);
    let mut buf = [0u8; 200];
    tx.write_packet(0, &[0; 160], &mut buf);
    tx.resume_after_gap(1600);
    let n = tx.write_packet(0, &[0; 160], &mut buf);
    let (h, _) = RtpHeader::parse(&buf[..n]).unwrap();
    assert!(h.marker);
    assert_eq!(h.timestamp, 1760);
    assert_eq!(
        h.sequence_number, 1,
        "a gap in time is not a gap in sequence"
    );
}

#[test]
fn try_write_into_a_small_buffer_fails_without_changing_state() {
    let mut tx = RtpSender::new(Ssrc(1), 5, 50);
    let mut buf = [0u8; 100];
    assert_eq!(
        tx.try_write_packet(0, &[0; 160], 160, &mut buf),
        Err(RtpError::BufferTooSmall {
            needed: 172,
            available: 100
        })
    );
    assert_eq!(tx, RtpSender::new(Ssrc(1), 5, 50));
}

#[test]
fn event_packets_share_the_sequence_but_keep_the_audio_timestamp() {
    let mut tx = RtpSender::new(Ssrc(1), 0, 8000);
    let mut buf = [0u8; 200];
    tx.write_packet(0, &[0; 160], &mut buf);
    let n = tx
        .write_event_packet(101, 8160, true, &[1, 0x8A, 0, 160], &mut buf)
        .unwrap();
    let (h, payload) = RtpHeader::parse(&buf[..n]).unwrap();
    assert_eq!((h.sequence_number, h.timestamp, h.marker), (1, 8160, true));
    assert_eq!(payload, &[1, 0x8A, 0, 160]);
    assert_eq!((tx.seq, tx.timestamp, tx.marker_pending), (2, 8160, false));
}

#[test]
fn seeded_senders_are_deterministic_and_differ_per_seed() {
    assert_eq!(RtpSender::from_seed(42), RtpSender::from_seed(42));
    let a = RtpSender::from_seed(1);
    let b = RtpSender::from_seed(2);
    assert_ne!((a.ssrc, a.seq, a.timestamp), (b.ssrc, b.seq, b.timestamp));
    assert!(a.marker_pending);
}

// ---- receiving -----------------------------------------------------------------------------

#[test]
fn extended_sequence_numbers_continue_across_rollover() {
    let mut ext = SeqExtender::new();
    let seqs = [65_534u16, 65_535, 0, 1];
    let out: Vec<u64> = seqs.iter().map(|&s| ext.extend(s).0).collect();
    assert_eq!(out, [131_070, 131_071, 131_072, 131_073]);
}

#[test]
fn reordered_packet_across_rollover_gets_the_earlier_cycle() {
    let mut ext = SeqExtender::new();
    ext.extend(65_535);
    let after = ext.extend(1);
    let late = ext.extend(0);
    let very_late = ext.extend(65_534);
    assert!(very_late < late && late < after);
    assert_eq!(ext.max(), Some(after));
}

#[test]
fn packet_reordered_before_the_first_one_still_gets_a_smaller_number() {
    let mut ext = SeqExtender::new();
    let first = ext.extend(0);
    let earlier = ext.extend(65_535);
    assert_eq!(earlier.0 + 1, first.0);
    assert_eq!(earlier.wire(), 65_535);
}

#[test]
fn extension_survives_many_cycles() {
    let mut ext = SeqExtender::new();
    let mut last = ext.extend(0);
    for i in 1..=(5u32 * 65_536) {
        let s = ext.extend(i as u16);
        assert_eq!(s.0, last.0 + 1);
        last = s;
    }
}

#[test]
fn stats_count_packets_and_estimate_loss_from_gaps() {
    let t0 = crate::test_origin();
    let mut st = ReceiveStats::new(8000, 0);
    for (i, seq) in [100u16, 101, 104, 105].iter().enumerate() {
        let now = t0 + Duration::from_millis(20 * i as u64);
        st.handle_packet(&header(*seq, u32::from(*seq) * 160, 7, 0), addr(4000), now);
    }
    assert_eq!(st.packets(), 4);
    assert_eq!(st.expected(), 6);
    assert_eq!(st.lost(), 2);
}

#[test]
fn loss_estimate_is_not_negative_with_duplicates() {
    let t0 = crate::test_origin();
    let mut st = ReceiveStats::new(8000, 0);
    for seq in [1u16, 1, 1, 2] {
        st.handle_packet(&header(seq, 0, 7, 0), addr(4000), t0);
    }
    assert_eq!(st.lost(), 0);
}

#[test]
fn loss_counts_across_sequence_rollover() {
    let t0 = crate::test_origin();
    let mut st = ReceiveStats::new(8000, 0);
    for seq in [65_534u16, 65_535, 2] {
        st.handle_packet(&header(seq, 0, 7, 0), addr(4000), t0);
    }
    assert_eq!(st.expected(), 5);
    assert_eq!(st.lost(), 2);
}

#[test]
fn stats_remember_the_last_source_address_and_count_changes() {
    let t0 = crate::test_origin();
    let mut st = ReceiveStats::new(8000, 0);
    st.handle_packet(&header(1, 0, 7, 0), addr(4000), t0);
    st.handle_packet(&header(2, 160, 7, 0), addr(4000), t0);
    st.handle_packet(&header(3, 320, 7, 0), addr(5000), t0);
    assert_eq!(st.last_source(), Some(addr(5000)));
    assert_eq!(st.source_changes(), 1);
}

#[test]
fn a_new_ssrc_starts_a_new_sequence_space_but_keeps_totals() {
    let t0 = crate::test_origin();
    let mut st = ReceiveStats::new(8000, 0);
    for seq in [10u16, 12] {
        st.handle_packet(&header(seq, 0, 1, 0), addr(4000), t0);
    }
    for seq in [40_000u16, 40_001] {
        st.handle_packet(&header(seq, 0, 2, 0), addr(4000), t0);
    }
    assert_eq!(st.ssrc(), Some(Ssrc(2)));
    assert_eq!(st.ssrc_changes(), 1);
    assert_eq!(st.packets(), 4);
    assert_eq!(
        st.lost(),
        1,
        "one lost in the first stream, none in the second"
    );
    assert_eq!(st.expected(), 2);
}

#[test]
fn jitter_is_zero_for_perfectly_paced_packets() {
    let t0 = crate::test_origin();
    let mut st = ReceiveStats::new(8000, 0);
    for i in 0..100u16 {
        let now = t0 + Duration::from_millis(20 * u64::from(i));
        st.handle_packet(&header(i, u32::from(i) * 160, 1, 0), addr(4000), now);
    }
    assert_eq!(st.jitter(), 0);
}

#[test]
fn jitter_grows_when_arrivals_wobble() {
    let t0 = crate::test_origin();
    let mut st = ReceiveStats::new(8000, 0);
    for i in 0..200u16 {
        let wobble = if i % 2 == 0 { 0 } else { 10 };
        let now = t0 + Duration::from_millis(20 * u64::from(i) + wobble);
        st.handle_packet(&header(i, u32::from(i) * 160, 1, 0), addr(4000), now);
    }
    // 10 ms = 80 timestamp units of |D| every packet: J converges to about 80.
    assert!((70..=90).contains(&st.jitter()), "jitter {}", st.jitter());
}

#[test]
fn telephone_event_packets_do_not_count_towards_jitter() {
    let t0 = crate::test_origin();
    let mut st = ReceiveStats::new(8000, 0);
    for i in 0..50u16 {
        let now = t0 + Duration::from_millis(20 * u64::from(i));
        // Event packets keep their start timestamp while time runs on.
        st.handle_packet(&header(i, 1234, 1, 101), addr(4000), now);
    }
    assert_eq!(st.jitter(), 0);
    assert_eq!(st.packets(), 50);
}

#[test]
fn peek_does_not_record_the_sequence_number() {
    let mut ext = SeqExtender::new();
    ext.extend(10);
    assert_eq!(ext.peek(20).0, ext.max().unwrap().0 + 10);
    assert_eq!(ext.max().unwrap().wire(), 10);
}

#[test]
fn one_stray_packet_far_out_of_window_is_not_counted() {
    let t0 = crate::test_origin();
    let mut st = ReceiveStats::new(8000, 0);
    for seq in [100u16, 101, 40_000, 102, 103] {
        st.handle_packet(&header(seq, 0, 7, 0), addr(4000), t0);
    }
    assert_eq!((st.packets(), st.expected(), st.lost()), (4, 4, 0));
    assert_eq!(st.restarts(), 0);
}

#[test]
fn a_confirmed_sequence_jump_restarts_counting_under_the_same_ssrc() {
    let t0 = crate::test_origin();
    let mut st = ReceiveStats::new(8000, 0);
    for seq in [100u16, 101, 103, 40_000, 40_001, 40_002] {
        st.handle_packet(&header(seq, 0, 7, 0), addr(4000), t0);
    }
    assert_eq!(st.restarts(), 1);
    assert_eq!(
        st.packets(),
        5,
        "the first packet of the new numbering is not counted"
    );
    assert_eq!(st.lost(), 1, "only the gap before the jump");
    assert_eq!(st.expected(), 2);
}

#[test]
fn a_large_backward_jump_is_also_out_of_window() {
    let t0 = crate::test_origin();
    let mut st = ReceiveStats::new(8000, 0);
    for seq in [5_000u16, 5_001, 1_000, 1_001, 1_002] {
        st.handle_packet(&header(seq, 0, 7, 0), addr(4000), t0);
    }
    assert_eq!(st.restarts(), 1);
    assert_eq!(st.lost(), 0);
}

#[test]
fn forward_loss_within_the_dropout_window_is_counted_as_loss() {
    let t0 = crate::test_origin();
    let mut st = ReceiveStats::new(8000, 0);
    for seq in [0u16, 2_999] {
        st.handle_packet(&header(seq, 0, 7, 0), addr(4000), t0);
    }
    assert_eq!((st.lost(), st.restarts()), (2_998, 0));
}
