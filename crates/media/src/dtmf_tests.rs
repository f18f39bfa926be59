use super::*;
use crate::Ssrc;

/// Builds the header the receiver sees for one telephone-event packet.
fn hdr(seq: u16, ts: u32, marker: bool) -> RtpHeader {
    RtpHeader {
        padding: false,
        extension: false,
        csrc_count: 0,
        marker,
        payload_type: 101,
        sequence_number: seq,
        timestamp: ts,
        ssrc: Ssrc(9),
    }
}

fn ev(event: u8, end: bool, duration: u16) -> [u8; 4] {
    TelephoneEvent {
        event,
        end,
        volume: 10,
        duration,
    }
    .to_bytes()
}

/// Feeds a whole press as a sender would: start, interims every 160, three end packets.
fn press(rx: &mut DtmfReceiver, seq: &mut u16, ts: u32, event: u8, duration: u16) {
    let mut d = 160;
    let mut first = true;
    while d < duration {
        rx.handle_packet(&hdr(*seq, ts, first), &ev(event, false, d))
            .unwrap();
        *seq = seq.wrapping_add(1);
        first = false;
        d += 160;
    }
    for _ in 0..3 {
        rx.handle_packet(&hdr(*seq, ts, first), &ev(event, true, duration))
            .unwrap();
        *seq = seq.wrapping_add(1);
        first = false;
    }
}

fn drain(rx: &mut DtmfReceiver) -> String {
    std::iter::from_fn(|| rx.poll_event())
        .map(|DtmfEvent::Digit(d)| d)
        .collect()
}

// ---- payload -------------------------------------------------------------------------------

#[test]
fn parses_event_end_volume_and_duration() {
    let e = TelephoneEvent::parse(&[11, 0x80 | 0x0A, 0x03, 0x20]).unwrap();
    assert_eq!(
        e,
        TelephoneEvent {
            event: 11,
            end: true,
            volume: 10,
            duration: 800
        }
    );
    assert_eq!(e.digit(), Some('#'));
}

#[test]
fn ignores_the_reserved_bit() {
    let e = TelephoneEvent::parse(&[1, 0x40 | 0x0A, 0, 160]).unwrap();
    assert!(!e.end);
    assert_eq!(e.volume, 10);
}

#[test]
fn rejects_payloads_shorter_than_four_bytes() {
    assert_eq!(
        TelephoneEvent::parse(&[1, 2, 3]),
        Err(DtmfError::PayloadTooShort { len: 3 })
    );
}

#[test]
fn payload_round_trips_through_bytes() {
    let e = TelephoneEvent {
        event: 15,
        end: true,
        volume: 63,
        duration: 65_535,
    };
    assert_eq!(TelephoneEvent::parse(&e.to_bytes()), Ok(e));
}

#[test]
fn maps_all_sixteen_dtmf_events_to_keys_and_back() {
    let keys = "0123456789*#ABCD";
    for (code, key) in keys.chars().enumerate() {
        assert_eq!(digit_for_event(code as u8), Some(key));
        assert_eq!(event_for_digit(key), Some(code as u8));
    }
    assert_eq!(event_for_digit('b'), Some(13));
    assert_eq!(digit_for_event(16), None, "flash is not a digit");
    assert_eq!(event_for_digit('E'), None);
}

// ---- receiver ------------------------------------------------------------------------------

#[test]
fn a_full_press_with_three_end_packets_yields_one_digit() {
    let mut rx = DtmfReceiver::new();
    let mut seq = 0;
    press(&mut rx, &mut seq, 1000, 5, 800);
    assert_eq!(drain(&mut rx), "5");
}

#[test]
fn the_digit_is_reported_at_the_start_packet() {
    let mut rx = DtmfReceiver::new();
    rx.handle_packet(&hdr(0, 1000, true), &ev(7, false, 160))
        .unwrap();
    assert_eq!(rx.poll_event(), Some(DtmfEvent::Digit('7')));
}

#[test]
fn a_press_whose_start_was_lost_is_reported_at_the_first_later_packet() {
    let mut rx = DtmfReceiver::new();
    rx.handle_packet(&hdr(3, 1000, false), &ev(3, false, 480))
        .unwrap();
    rx.handle_packet(&hdr(4, 1000, false), &ev(3, true, 640))
        .unwrap();
    assert_eq!(drain(&mut rx), "3");
}

#[test]
fn a_press_seen_only_as_end_packets_yields_one_digit() {
    let mut rx = DtmfReceiver::new();
    for seq in 0..3 {
        rx.handle_packet(&hdr(seq, 1000, false), &ev(0, true, 800))
            .unwrap();
    }
    assert_eq!(drain(&mut rx), "0");
}

#[test]
fn the_same_digit_pressed_twice_yields_two_digits() {
    let mut rx = DtmfReceiver::new();
    let mut seq = 0;
    press(&mut rx, &mut seq, 1000, 1, 800);
    press(&mut rx, &mut seq, 3000, 1, 800);
    assert_eq!(drain(&mut rx), "11");
}

#[test]
fn a_new_timestamp_ends_a_press_whose_end_packets_were_lost() {
    let mut rx = DtmfReceiver::new();
    rx.handle_packet(&hdr(0, 1000, true), &ev(1, false, 160))
        .unwrap();
    rx.handle_packet(&hdr(1, 1000, false), &ev(1, false, 320))
        .unwrap();
    // All end packets of '1' lost; '2' starts.
    let mut seq = 2;
    press(&mut rx, &mut seq, 2000, 2, 800);
    assert_eq!(drain(&mut rx), "12");
}

#[test]
fn the_same_digit_again_after_lost_end_packets_is_a_new_press() {
    let mut rx = DtmfReceiver::new();
    rx.handle_packet(&hdr(0, 1000, true), &ev(4, false, 160))
        .unwrap();
    rx.handle_packet(&hdr(1, 1480, true), &ev(4, false, 160))
        .unwrap();
    assert_eq!(drain(&mut rx), "44");
}

#[test]
fn a_late_end_packet_of_the_previous_press_is_ignored() {
    let mut rx = DtmfReceiver::new();
    rx.handle_packet(&hdr(0, 1000, true), &ev(8, false, 160))
        .unwrap();
    rx.handle_packet(&hdr(2, 2000, true), &ev(9, false, 160))
        .unwrap();
    // Reordered straggler from the '8' press.
    rx.handle_packet(&hdr(1, 1000, false), &ev(8, true, 800))
        .unwrap();
    assert_eq!(drain(&mut rx), "89");
}

#[test]
fn a_press_spanning_the_sequence_number_wrap_yields_one_digit() {
    let mut rx = DtmfReceiver::new();
    let mut seq = 65_533;
    press(&mut rx, &mut seq, 5000, 11, 800);
    assert_eq!(seq, 4, "seven packets crossed 65535 → 0");
    assert_eq!(drain(&mut rx), "#");
}

#[test]
fn presses_across_the_timestamp_wrap_are_told_apart() {
    let mut rx = DtmfReceiver::new();
    let mut seq = 0;
    press(&mut rx, &mut seq, u32::MAX - 100, 6, 800);
    press(&mut rx, &mut seq, 2000, 6, 800);
    assert_eq!(drain(&mut rx), "66");
}

#[test]
fn a_long_press_split_into_segments_yields_one_digit() {
    let mut rx = DtmfReceiver::new();
    rx.handle_packet(&hdr(0, 10_000, true), &ev(2, false, 160))
        .unwrap();
    rx.handle_packet(&hdr(1, 10_000, false), &ev(2, false, 65_535))
        .unwrap();
    // RFC 4733 §2.5.1.5: next segment starts where the previous one ended, without marker.
    let next = 10_000 + 65_535;
    rx.handle_packet(&hdr(2, next, false), &ev(2, false, 160))
        .unwrap();
    rx.handle_packet(&hdr(3, next, false), &ev(2, true, 4000))
        .unwrap();
    assert_eq!(drain(&mut rx), "2");
}

#[test]
fn non_digit_events_are_not_reported_but_still_deduplicated() {
    let mut rx = DtmfReceiver::new();
    let mut seq = 0;
    press(&mut rx, &mut seq, 1000, 16, 800);
    press(&mut rx, &mut seq, 3000, 3, 800);
    assert_eq!(drain(&mut rx), "3");
}

#[test]
fn a_malformed_payload_is_an_error_and_changes_nothing() {
    let mut rx = DtmfReceiver::new();
    rx.handle_packet(&hdr(0, 1000, true), &ev(1, false, 160))
        .unwrap();
    assert_eq!(
        rx.handle_packet(&hdr(1, 2000, true), &[1, 2]),
        Err(DtmfError::PayloadTooShort { len: 2 })
    );
    rx.handle_packet(&hdr(2, 1000, false), &ev(1, true, 800))
        .unwrap();
    assert_eq!(drain(&mut rx), "1");
}

// ---- sender --------------------------------------------------------------------------------

#[test]
fn sender_emits_start_interims_and_three_end_packets() {
    let mut tx = DtmfSender::new('9', 4242, 800).unwrap();
    let packets: Vec<DtmfPacket> = std::iter::from_fn(|| tx.next_packet()).collect();
    let events: Vec<TelephoneEvent> = packets
        .iter()
        .map(|p| TelephoneEvent::parse(&p.payload).unwrap())
        .collect();
    let durations: Vec<u16> = events.iter().map(|e| e.duration).collect();
    assert_eq!(durations, [160, 320, 480, 640, 800, 800, 800]);
    let ends: Vec<bool> = events.iter().map(|e| e.end).collect();
    assert_eq!(ends, [false, false, false, false, true, true, true]);
    let markers: Vec<bool> = packets.iter().map(|p| p.marker).collect();
    assert_eq!(markers, [true, false, false, false, false, false, false]);
    assert!(packets.iter().all(|p| p.timestamp == 4242));
    assert!(events.iter().all(|e| e.event == 9 && e.volume == 10));
    assert!(tx.is_done());
}

#[test]
fn a_press_shorter_than_one_packet_starts_with_an_end_packet() {
    let mut tx = DtmfSender::new('*', 0, 100).unwrap();
    let packets: Vec<DtmfPacket> = std::iter::from_fn(|| tx.next_packet()).collect();
    assert_eq!(packets.len(), 3);
    assert!(packets[0].marker);
    assert!(packets
        .iter()
        .all(|p| TelephoneEvent::parse(&p.payload).unwrap().end));
}

#[test]
fn sender_rejects_non_digits_and_zero_duration() {
    assert_eq!(DtmfSender::new('x', 0, 800), Err(DtmfError::NotADigit('x')));
    assert_eq!(DtmfSender::new('1', 0, 0), Err(DtmfError::ZeroDuration));
}

#[test]
fn sender_volume_is_clamped_to_six_bits() {
    let mut tx = DtmfSender::new('1', 0, 160).unwrap().with_volume(200);
    let p = tx.next_packet().unwrap();
    assert_eq!(TelephoneEvent::parse(&p.payload).unwrap().volume, 63);
}

#[test]
fn sender_output_fed_to_the_receiver_in_reverse_order_still_yields_one_digit() {
    let mut tx = DtmfSender::new('D', 777, 480).unwrap();
    let packets: Vec<DtmfPacket> = std::iter::from_fn(|| tx.next_packet()).collect();
    let mut rx = DtmfReceiver::new();
    for (i, p) in packets.iter().enumerate().rev() {
        rx.handle_packet(&hdr(i as u16, p.timestamp, p.marker), &p.payload)
            .unwrap();
    }
    assert_eq!(drain(&mut rx), "D");
}
