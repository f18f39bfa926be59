//! The modules working together the way the media shell drives them: pacing decides which
//! frames go out, the sender stamps them, the far end parses and counts them.

use std::net::SocketAddr;
use std::time::Duration;

use crate::dtmf::{DtmfEvent, DtmfReceiver, DtmfSender};
use crate::g711;
use crate::pacing::{FrameClock, FRAME_20MS};
use crate::rtp::{ReceiveStats, RtpHeader, RtpSender};

const SAMPLES_PER_FRAME: u32 = 160;

fn peer() -> SocketAddr {
    SocketAddr::from(([192, 0, 2, 1], 40_000))
}

#[test]
fn a_paced_announcement_arrives_without_loss_or_timestamp_gaps() {
    let t0 = crate::test_origin();
    let prompt: Vec<u8> = (0..8000i32)
        .map(|i| g711::encode_ulaw(((i % 40) * 500 - 10_000) as i16))
        .collect();
    let mut clock = FrameClock::new(t0, FRAME_20MS);
    let mut tx = RtpSender::from_seed(11);
    let mut rx = ReceiveStats::new(8000, 0);
    let mut buf = [0u8; 1500];
    let mut last_ts = None;
    for tick in 0..50u64 {
        let now = clock.deadline(tick) + Duration::from_millis(3);
        for frame in clock.due_frames(now).frames() {
            let start = (frame as usize * 160) % prompt.len();
            let n = tx.write_packet(0, &prompt[start..start + 160], &mut buf);
            let (hdr, payload) = RtpHeader::parse(&buf[..n]).unwrap();
            assert_eq!(payload, &prompt[start..start + 160]);
            if let Some(prev) = last_ts {
                assert_eq!(hdr.timestamp, u32::wrapping_add(prev, SAMPLES_PER_FRAME));
            }
            last_ts = Some(hdr.timestamp);
            rx.handle_packet(&hdr, peer(), now);
        }
    }
    assert_eq!((rx.packets(), rx.lost()), (50, 0));
}

#[test]
fn a_stalled_shell_skips_frames_and_marks_the_resumed_stream() {
    let t0 = crate::test_origin();
    let mut clock = FrameClock::new(t0, FRAME_20MS);
    let mut tx = RtpSender::new(crate::Ssrc(5), 100, 0);
    let mut buf = [0u8; 1500];
    let frame = [0xFFu8; 160];
    clock.due_frames(t0);
    tx.write_packet(0, &frame, &mut buf);

    // The shell stalls for a second.
    let due = clock.due_frames(t0 + Duration::from_millis(1000));
    assert_eq!(due.skipped, 49);
    tx.resume_after_gap(due.skipped as u32 * SAMPLES_PER_FRAME);
    let n = tx.write_packet(0, &frame, &mut buf);
    let (hdr, _) = RtpHeader::parse(&buf[..n]).unwrap();
    assert!(hdr.marker);
    assert_eq!(hdr.sequence_number, 101);
    assert_eq!(
        hdr.timestamp,
        50 * SAMPLES_PER_FRAME,
        "timestamp matches wall time"
    );
}

#[test]
fn a_digit_sent_in_the_audio_stream_is_received_once() {
    let mut tx = RtpSender::new(crate::Ssrc(5), 65_530, 0);
    let mut dtmf_rx = DtmfReceiver::new();
    let mut buf = [0u8; 1500];
    let frame = [0xFFu8; 160];
    tx.write_packet(0, &frame, &mut buf);
    let mut press = DtmfSender::new('#', tx.timestamp, 640).unwrap();
    while let Some(p) = press.next_packet() {
        let n = tx
            .write_event_packet(101, p.timestamp, p.marker, &p.payload, &mut buf)
            .unwrap();
        let (hdr, payload) = RtpHeader::parse(&buf[..n]).unwrap();
        dtmf_rx.handle_packet(&hdr, payload).unwrap();
    }
    tx.resume_after_gap(u32::from(press.duration_samples()));
    assert_eq!(dtmf_rx.poll_event(), Some(DtmfEvent::Digit('#')));
    assert_eq!(dtmf_rx.poll_event(), None);
    assert_eq!(tx.timestamp, 160 + 640);
}

/// Counts heap allocations made by the current thread, so the per-packet path can be checked
/// for allocation while other tests run in parallel on other threads.
mod alloc_counter {
    use std::alloc::{GlobalAlloc, Layout, System};
    use std::cell::Cell;

    pub struct Counting;

    thread_local! {
        static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
    }

    // SAFETY: forwards to the system allocator unchanged; only counts calls.
    unsafe impl GlobalAlloc for Counting {
        unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
            ALLOCATIONS.with(|a| a.set(a.get() + 1));
            // SAFETY: same contract as the caller's.
            unsafe { System.alloc(layout) }
        }

        unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
            // SAFETY: same contract as the caller's.
            unsafe { System.dealloc(ptr, layout) }
        }

        unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
            ALLOCATIONS.with(|a| a.set(a.get() + 1));
            // SAFETY: same contract as the caller's.
            unsafe { System.realloc(ptr, layout, new_size) }
        }
    }

    pub fn count() -> usize {
        ALLOCATIONS.with(Cell::get)
    }
}

#[global_allocator]
static COUNTING: alloc_counter::Counting = alloc_counter::Counting;

#[test]
fn the_per_packet_path_does_not_allocate() {
    let t0 = crate::test_origin();
    let mut clock = FrameClock::new(t0, FRAME_20MS);
    let mut tx = RtpSender::from_seed(3);
    let mut stats = ReceiveStats::new(8000, 0);
    let mut dtmf = DtmfReceiver::new();
    let pcm = [1000i16; 160];
    let mut frame = [0u8; 160];
    let mut buf = [0u8; 1500];
    let mut press = DtmfSender::new('1', 0, 480).unwrap();

    let before = alloc_counter::count();
    for tick in 0..100u64 {
        let now = clock.deadline(tick);
        for _ in clock.due_frames(now).frames() {
            g711::encode_ulaw_slice(&pcm, &mut frame);
            let n = tx.write_packet(0, &frame, &mut buf);
            let (hdr, _) = RtpHeader::parse(&buf[..n]).unwrap();
            stats.handle_packet(&hdr, peer(), now);
        }
        if let Some(p) = press.next_packet() {
            let n = tx
                .write_event_packet(101, p.timestamp, p.marker, &p.payload, &mut buf)
                .unwrap();
            let (hdr, payload) = RtpHeader::parse(&buf[..n]).unwrap();
            dtmf.handle_packet(&hdr, payload).unwrap();
        }
    }
    let digit = dtmf.poll_event();
    assert_eq!(alloc_counter::count() - before, 0);
    assert_eq!(digit, Some(DtmfEvent::Digit('1')));
}
