use super::clock::*;
use std::time::Duration;

#[test]
fn elapsed_time_maps_to_samples_at_8_khz() {
    assert_eq!(position_from_elapsed(Duration::ZERO), 0);
    assert_eq!(position_from_elapsed(Duration::from_millis(20)), 160);
    assert_eq!(position_from_elapsed(Duration::from_micros(124)), 0);
    assert_eq!(position_from_elapsed(Duration::from_secs(3)), 24_000);
    assert_eq!(position_from_elapsed(Duration::MAX), u64::MAX);
    assert_eq!(duration_of(8000), Duration::from_secs(1));
    assert_eq!(duration_of(160), Duration::from_millis(20));
    assert_eq!(duration_of(u64::MAX), Duration::from_nanos(u64::MAX));
}

#[test]
fn the_first_packet_lands_where_it_arrived() {
    let mut clock = RtpClock::new();
    assert_eq!(clock.position(123_456, 4000), Some(4000));
}

#[test]
fn later_packets_follow_their_timestamps_not_their_arrival_jitter() {
    let mut clock = RtpClock::new();
    let base = 90_000u32;
    assert_eq!(clock.position(base, 1000), Some(1000));
    // Arrivals wobble by up to ±10 ms; the positions stay exactly 160 apart.
    let wobble = [0i64, 80, -40, 75, -80, 10, 60, -60];
    for (i, w) in wobble.iter().enumerate() {
        let n = i as u64 + 1;
        let arrival = (1000 + 160 * n as i64 + w) as u64;
        assert_eq!(
            clock.position(base + 160 * n as u32, arrival),
            Some(1000 + 160 * n)
        );
    }
    assert_eq!((clock.reanchors(), clock.slews(), clock.stale()), (0, 0, 0));
}

#[test]
fn timestamps_wrap_around_without_a_jump() {
    let mut clock = RtpClock::new();
    let start = u32::MAX - 3 * 160 + 1;
    for n in 0..8u32 {
        let position = clock.position(start.wrapping_add(160 * n), 160 * u64::from(n));
        assert_eq!(position, Some(160 * u64::from(n)));
    }
    assert_eq!(clock.reanchors(), 0);
}

#[test]
fn a_packet_reordered_before_the_first_across_a_wrap_lands_before_it() {
    let mut clock = RtpClock::new();
    assert_eq!(clock.position(100, 8000), Some(8000));
    // Sent 20 ms before the first packet, when the timestamp had not yet wrapped.
    assert_eq!(clock.position(100u32.wrapping_sub(160), 8010), Some(7840));
}

#[test]
fn a_timestamp_jump_ahead_re_anchors_the_newest_packet_where_it_arrived() {
    let mut clock = RtpClock::new();
    assert_eq!(clock.position(1000, 0), Some(0));
    assert_eq!(clock.position(1160, 160), Some(160));
    // A transfer: the new source starts 100 million samples further on.
    assert_eq!(clock.position(100_001_000, 320), Some(320));
    assert_eq!(clock.position(100_001_160, 480), Some(480));
    assert_eq!(clock.reanchors(), 1);
}

#[test]
fn a_new_timebase_that_looks_older_re_anchors_on_its_second_packet() {
    let mut clock = RtpClock::new();
    assert_eq!(clock.position(1000, 0), Some(0));
    assert_eq!(clock.position(1160, 160), Some(160));
    // 3·10⁹ ahead is more than 2³¹: to the wrap arithmetic it lies in the past.
    assert_eq!(clock.position(3_000_000_000, 320), None);
    assert_eq!(clock.position(3_000_000_160, 480), Some(480));
    assert_eq!(clock.position(3_000_000_320, 640), Some(640));
    assert_eq!((clock.stale(), clock.reanchors()), (1, 1));
}

#[test]
fn a_straggler_too_far_off_is_dropped_and_does_not_move_the_leg() {
    let mut clock = RtpClock::new();
    for n in 0..100u32 {
        clock.position(160 * n, 160 * u64::from(n));
    }
    // Packet 5 shows up 2 s late.
    assert_eq!(clock.position(800, 16_000 + 800), None);
    assert_eq!(clock.stale(), 1);
    assert_eq!(clock.position(160 * 100, 16_000), Some(16_000));
    assert_eq!(clock.reanchors(), 0);
}

#[test]
fn a_slow_sender_clock_is_slewed_back_toward_arrival() {
    // The sender's clock runs 300 ppm slow: over ten minutes its timestamps fall 1.4 s behind.
    let mut clock = RtpClock::new();
    let mut worst: i64 = 0;
    for n in 0..30_000u64 {
        let arrival = n * 160;
        let timestamp = (n as f64 * 160.0 * (1.0 - 300e-6)) as u32;
        let position = clock.position(timestamp, arrival).expect("placed");
        worst = worst.max((arrival as i64 - position as i64).abs());
    }
    assert_eq!(clock.reanchors(), 0);
    assert!(clock.slews() > 10, "slewed {} times", clock.slews());
    // Never further from arrival than the threshold plus two seconds of drift (2.4 samples
    // each): one measured period can end just under the threshold, the next one slews.
    assert!(worst <= SLEW_THRESHOLD + 5, "worst deviation {worst}");
}

#[test]
fn a_delayed_anchor_packet_is_corrected_after_a_second() {
    let mut clock = RtpClock::new();
    // The first packet was held up 30 ms (240 samples); the rest arrive on time.
    assert_eq!(clock.position(0, 240), Some(240));
    let mut last = 0;
    for n in 1..120u64 {
        last = clock.position(160 * n as u32, 160 * n).expect("placed");
    }
    assert_eq!(clock.slews(), 1);
    assert_eq!(last, 160 * 119);
}

#[test]
fn reanchor_starts_a_new_mapping_for_a_new_source() {
    let mut clock = RtpClock::new();
    clock.position(5000, 0);
    clock.position(5160, 160);
    clock.reanchor();
    // Close in timestamp to the old source, but it is a new mapping at its arrival.
    assert_eq!(clock.position(5200, 1000), Some(1000));
    assert_eq!(clock.position(5360, 1160), Some(1160));
}

#[test]
fn hostile_timestamps_leaping_half_the_range_are_placed_where_they_arrive() {
    let mut clock = RtpClock::new();
    let mut timestamp = 0u32;
    for n in 0..10_000u64 {
        timestamp = timestamp.wrapping_add(0x7FFF_FFFF);
        // Placed or dropped, never a panic; the positions stay where the packets arrived.
        if let Some(position) = clock.position(timestamp, n * 160) {
            assert_eq!(position, n * 160);
        }
    }
    assert!(clock.reanchors() > 9_000);
}
