use super::timeline::*;

const CHUNK: usize = 160;

/// A sink that only counts, so hours of silence cost nothing.
#[derive(Debug, Default)]
struct Counting {
    frames: u64,
    silent_frames: u64,
    calls: u64,
}

impl FrameSink for Counting {
    fn frames(&mut self, interleaved: &[i16]) {
        self.frames += (interleaved.len() / 2) as u64;
        self.calls += 1;
    }

    fn silence(&mut self, frames: u64) {
        self.frames += frames;
        self.silent_frames += frames;
        self.calls += 1;
    }
}

fn timeline(window: u64) -> Timeline {
    Timeline::new(TimelineConfig {
        reorder_window: window,
    })
}

/// Chunk `index` of a channel: every sample says which channel and chunk it came from.
fn chunk(channel: Channel, index: u64) -> Vec<i16> {
    let sign = if channel == Channel::Caller { 1 } else { -1 };
    vec![sign * (index as i16 + 1); CHUNK]
}

fn push_chunk(t: &mut Timeline, channel: Channel, index: u64, out: &mut Vec<i16>) {
    t.push(channel, index * CHUNK as u64, &chunk(channel, index), out);
}

fn left(out: &[i16]) -> Vec<i16> {
    out.iter().step_by(2).copied().collect()
}

fn right(out: &[i16]) -> Vec<i16> {
    out.iter().skip(1).step_by(2).copied().collect()
}

/// The expected channel for chunks `0..n` with `missing` ones silent.
fn expected(channel: Channel, n: u64, missing: &[u64]) -> Vec<i16> {
    (0..n)
        .flat_map(|i| {
            if missing.contains(&i) {
                vec![0; CHUNK]
            } else {
                chunk(channel, i)
            }
        })
        .collect()
}

// ---- alignment -----------------------------------------------------------------------------

#[test]
fn both_channels_in_step_are_interleaved_caller_left_operator_right() {
    let mut t = timeline(480);
    let mut out = Vec::new();
    for i in 0..10 {
        push_chunk(&mut t, Channel::Caller, i, &mut out);
        push_chunk(&mut t, Channel::Operator, i, &mut out);
    }
    let done = t.finish(0, &mut out);
    assert_eq!(done.frames, 1600);
    assert_eq!(left(&out), expected(Channel::Caller, 10, &[]));
    assert_eq!(right(&out), expected(Channel::Operator, 10, &[]));
    assert_eq!(done.stats, Stats::default());
}

#[test]
fn channels_are_aligned_by_position_not_by_arrival_order() {
    // The operator's leg runs 60 ms behind in arrival but its chunks carry their positions.
    let mut t = timeline(480);
    let mut out = Vec::new();
    for i in 0..3 {
        push_chunk(&mut t, Channel::Caller, i, &mut out);
    }
    for i in 0..3 {
        push_chunk(&mut t, Channel::Operator, i, &mut out);
    }
    t.finish(0, &mut out);
    assert_eq!(left(&out), expected(Channel::Caller, 3, &[]));
    assert_eq!(right(&out), expected(Channel::Operator, 3, &[]));
}

#[test]
fn nothing_is_written_until_the_reorder_window_has_passed() {
    let mut t = timeline(480);
    let mut out = Vec::new();
    push_chunk(&mut t, Channel::Caller, 0, &mut out);
    push_chunk(&mut t, Channel::Caller, 1, &mut out);
    push_chunk(&mut t, Channel::Caller, 2, &mut out);
    assert!(
        out.is_empty(),
        "480 samples of head are all inside the window"
    );
    push_chunk(&mut t, Channel::Caller, 3, &mut out);
    assert_eq!(t.written(), 160);
    assert_eq!(out.len(), 2 * 160);
}

#[test]
fn a_zero_window_writes_each_chunk_at_once() {
    let mut t = timeline(0);
    let mut out = Vec::new();
    push_chunk(&mut t, Channel::Caller, 0, &mut out);
    assert_eq!(t.written(), 160);
    // The operator's chunk for the same span is now late.
    push_chunk(&mut t, Channel::Operator, 0, &mut out);
    assert_eq!(t.stats().late_samples, 160);
}

// ---- gaps ----------------------------------------------------------------------------------

#[test]
fn a_lost_packet_is_silence_on_that_channel_only() {
    let mut t = timeline(480);
    let mut out = Vec::new();
    for i in 0..10 {
        if i != 4 {
            push_chunk(&mut t, Channel::Caller, i, &mut out);
        }
        push_chunk(&mut t, Channel::Operator, i, &mut out);
    }
    t.finish(0, &mut out);
    assert_eq!(left(&out), expected(Channel::Caller, 10, &[4]));
    assert_eq!(right(&out), expected(Channel::Operator, 10, &[]));
}

#[test]
fn a_side_that_never_sends_is_silent() {
    let mut t = timeline(480);
    let mut out = Vec::new();
    for i in 0..5 {
        push_chunk(&mut t, Channel::Operator, i, &mut out);
    }
    t.finish(0, &mut out);
    assert_eq!(left(&out), vec![0; 800]);
    assert_eq!(right(&out), expected(Channel::Operator, 5, &[]));
}

#[test]
fn silence_suppression_on_both_sides_is_filled_when_audio_resumes() {
    let mut t = timeline(480);
    let mut out = Vec::new();
    push_chunk(&mut t, Channel::Caller, 0, &mut out);
    push_chunk(&mut t, Channel::Operator, 0, &mut out);
    // Both sides stop sending for 2 s, then talk again.
    push_chunk(&mut t, Channel::Caller, 100, &mut out);
    push_chunk(&mut t, Channel::Operator, 100, &mut out);
    t.finish(0, &mut out);
    let missing: Vec<u64> = (1..100).collect();
    assert_eq!(left(&out), expected(Channel::Caller, 101, &missing));
    assert_eq!(right(&out), expected(Channel::Operator, 101, &missing));
}

#[test]
fn tick_writes_silence_while_both_sides_are_quiet() {
    let mut t = timeline(480);
    let mut out = Vec::new();
    push_chunk(&mut t, Channel::Caller, 0, &mut out);
    t.tick(8000, &mut out);
    assert_eq!(t.written(), 8000 - 480);
    assert_eq!(left(&out)[..160], chunk(Channel::Caller, 0)[..]);
    assert!(left(&out)[160..].iter().all(|&s| s == 0));
    // A tick behind the head changes nothing.
    t.tick(100, &mut out);
    assert_eq!(t.written(), 8000 - 480);
}

#[test]
fn finish_writes_the_buffered_rest_and_pads_to_the_end() {
    let mut t = timeline(480);
    let mut out = Vec::new();
    push_chunk(&mut t, Channel::Caller, 0, &mut out);
    let done = t.finish(1000, &mut out);
    assert_eq!(done.frames, 1000);
    assert_eq!(out.len(), 2000);
    // An end before the last audio does not cut it.
    let mut t = timeline(480);
    let mut out = Vec::new();
    push_chunk(&mut t, Channel::Caller, 5, &mut out);
    assert_eq!(t.finish(10, &mut out).frames, 960);
}

// ---- reordering, duplicates, late chunks ---------------------------------------------------

#[test]
fn a_chunk_reordered_within_the_window_lands_in_place() {
    let mut t = timeline(480);
    let mut out = Vec::new();
    for i in [0, 1, 3, 2, 4, 5, 6, 7] {
        push_chunk(&mut t, Channel::Caller, i, &mut out);
    }
    let done = t.finish(0, &mut out);
    assert_eq!(left(&out), expected(Channel::Caller, 8, &[]));
    assert_eq!(done.stats, Stats::default());
}

#[test]
fn a_chunk_later_than_the_window_is_dropped_and_counted() {
    let mut t = timeline(480);
    let mut out = Vec::new();
    for i in [0, 1, 3, 4, 5, 6, 2, 7] {
        push_chunk(&mut t, Channel::Caller, i, &mut out);
    }
    let done = t.finish(0, &mut out);
    assert_eq!(left(&out), expected(Channel::Caller, 8, &[2]));
    assert_eq!(done.stats.late_samples, 160);
    assert_eq!(done.stats.late_chunks, 1);
}

#[test]
fn a_chunk_straddling_the_written_edge_keeps_its_unwritten_part() {
    let mut t = timeline(0);
    let mut out = Vec::new();
    t.push(Channel::Caller, 0, &[1; 100], &mut out);
    t.push(Channel::Operator, 60, &[2; 100], &mut out);
    let done = t.finish(0, &mut out);
    assert_eq!(done.stats.late_samples, 40);
    assert_eq!(right(&out)[..100], [0; 100]);
    assert_eq!(right(&out)[100..], [2; 60]);
}

#[test]
fn duplicates_are_dropped_and_counted() {
    let mut t = timeline(480);
    let mut out = Vec::new();
    push_chunk(&mut t, Channel::Caller, 0, &mut out);
    push_chunk(&mut t, Channel::Caller, 1, &mut out);
    // A retransmitted chunk with other content must not overwrite the first copy.
    t.push(Channel::Caller, 160, &[99; 160], &mut out);
    // Half overlapping: only its new half is taken.
    t.push(Channel::Caller, 240, &[7; 160], &mut out);
    let done = t.finish(0, &mut out);
    assert_eq!(done.stats.duplicate_samples, 160 + 80);
    assert_eq!(done.stats.duplicate_chunks, 2);
    let l = left(&out);
    assert_eq!(l[160..320], chunk(Channel::Caller, 1)[..]);
    assert_eq!(l[320..400], [7; 80]);
}

#[test]
fn random_reordering_within_the_window_gives_the_in_order_output() {
    let mut in_order = Vec::new();
    let mut t = timeline(480);
    for i in 0..501 {
        push_chunk(&mut t, Channel::Caller, i, &mut in_order);
        push_chunk(&mut t, Channel::Operator, i, &mut in_order);
    }
    t.finish(0, &mut in_order);

    // Seeded shuffle within blocks of three chunk positions (both channels): a chunk trails
    // the head by at most 480 samples, exactly the window.
    let mut seed = 0x2545_F491_4F6C_DD1Du64;
    let mut next = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for _round in 0..20 {
        let mut order: Vec<(Channel, u64)> = (0..501)
            .flat_map(|i| [(Channel::Caller, i), (Channel::Operator, i)])
            .collect();
        for block in order.chunks_mut(6) {
            for k in (1..block.len()).rev() {
                block.swap(k, (next() % (k as u64 + 1)) as usize);
            }
        }
        let mut t = timeline(480);
        let mut out = Vec::new();
        for (channel, i) in order {
            push_chunk(&mut t, channel, i, &mut out);
        }
        let done = t.finish(0, &mut out);
        assert_eq!(done.stats, Stats::default());
        assert_eq!(out, in_order);
    }
}

// ---- long chunks, jumps, memory ------------------------------------------------------------

#[test]
fn a_chunk_longer_than_a_piece_is_taken_whole() {
    let mut t = timeline(480);
    let mut out = Vec::new();
    let long: Vec<i16> = (0..8000).map(|i| (i % 1000) as i16).collect();
    t.push(Channel::Operator, 0, &long, &mut out);
    t.finish(0, &mut out);
    assert_eq!(right(&out), long);
    assert_eq!(left(&out), vec![0; 8000]);
}

#[test]
fn a_jump_far_ahead_is_written_as_silence_without_buffering_it() {
    let mut t = timeline(480);
    let mut sink = Counting::default();
    t.push(Channel::Caller, 0, &[1; 160], &mut sink);
    let an_hour = 8000 * 3600;
    t.push(Channel::Caller, an_hour, &[1; 160], &mut sink);
    assert_eq!(sink.frames, an_hour + 160 - 480);
    assert!(sink.silent_frames >= an_hour - 2 * t.capacity());
    assert!(t.buffered() <= 160);
}

#[test]
fn memory_stays_bounded_when_one_side_runs_far_ahead() {
    let mut t = timeline(480);
    let mut sink = Counting::default();
    let capacity = t.capacity();
    assert_eq!(capacity, 480 + MAX_PIECE as u64);
    // The operator sends 10 minutes of audio; the caller's leg is stuck.
    for i in 0..30_000 {
        t.push(Channel::Operator, i * 160, &[5; 160], &mut sink);
        assert!(t.buffered() as u64 <= 2 * capacity);
    }
    assert_eq!(t.capacity(), capacity);
    assert_eq!(t.written(), t.head() - 480);
    // The caller's leg wakes up with its old audio: all of it is late.
    t.push(Channel::Caller, 0, &[1; 160], &mut sink);
    assert_eq!(t.stats().late_samples, 160);
}

#[test]
fn positions_at_the_end_of_the_clock_are_refused_without_panicking() {
    let mut t = timeline(480);
    let mut sink = Counting::default();
    t.push(Channel::Caller, u64::MAX - 10, &[1; 160], &mut sink);
    assert_eq!(t.stats().out_of_range_samples, 160);
    // The first 960-sample piece still fits below the end of the clock; the rest does not.
    t.push(Channel::Caller, u64::MAX - 1000, &[1; 2000], &mut sink);
    assert_eq!(t.stats().out_of_range_samples, 160 + 1040);
}

// ---- pause ---------------------------------------------------------------------------------

fn steady(t: &mut Timeline, chunks: std::ops::Range<u64>, out: &mut Vec<i16>) {
    for i in chunks {
        push_chunk(t, Channel::Caller, i, out);
        push_chunk(t, Channel::Operator, i, out);
    }
}

#[test]
fn a_paused_span_is_exactly_silent_on_both_channels() {
    let mut t = timeline(480);
    let mut out = Vec::new();
    steady(&mut t, 0..20, &mut out);
    // The console's pause and resume arrive at the current head, 60 ms ahead of the file.
    assert_eq!(t.pause(t.head()), 3200);
    steady(&mut t, 20..30, &mut out);
    let span = t.resume(t.head()).expect("was paused");
    assert_eq!(
        span,
        PauseSpan {
            start: 3200,
            end: 4800
        }
    );
    steady(&mut t, 30..60, &mut out);
    t.finish(0, &mut out);
    let (l, r) = (left(&out), right(&out));
    assert!(l[3200..4800].iter().chain(&r[3200..4800]).all(|&s| s == 0));
    assert!(l[..3200].iter().chain(&l[4800..]).all(|&s| s > 0));
    assert!(r[..3200].iter().chain(&r[4800..]).all(|&s| s < 0));
}

#[test]
fn audio_arriving_late_for_a_paused_span_stays_silent() {
    let mut t = timeline(480);
    let mut out = Vec::new();
    steady(&mut t, 0..10, &mut out);
    t.pause(1600);
    t.resume(1760);
    // Chunk 10 (1600..1760) arrives after the pause was closed, still inside the window.
    push_chunk(&mut t, Channel::Operator, 11, &mut out);
    push_chunk(&mut t, Channel::Caller, 10, &mut out);
    push_chunk(&mut t, Channel::Operator, 10, &mut out);
    t.finish(0, &mut out);
    assert!(left(&out)[1600..1760].iter().all(|&s| s == 0));
    assert!(right(&out)[1600..1760].iter().all(|&s| s == 0));
    assert!(right(&out)[1760..].iter().all(|&s| s < 0));
}

#[test]
fn a_pause_cannot_reach_back_into_written_frames() {
    let mut t = timeline(480);
    let mut out = Vec::new();
    steady(&mut t, 0..20, &mut out);
    let written = t.written();
    assert_eq!(t.pause(0), written);
    // Resuming "in the past" still covers what was written silent while paused.
    steady(&mut t, 20..30, &mut out);
    let later = t.written();
    assert_eq!(
        t.resume(100),
        Some(PauseSpan {
            start: written,
            end: later
        })
    );
}

#[test]
fn pausing_twice_keeps_the_first_start_and_resuming_unpaused_is_none() {
    let mut t = timeline(480);
    assert_eq!(t.resume(10), None);
    assert_eq!(t.pause(100), 100);
    assert_eq!(t.pause(500), 100);
    assert!(t.is_paused());
    assert_eq!(
        t.resume(800),
        Some(PauseSpan {
            start: 100,
            end: 800
        })
    );
    assert!(!t.is_paused());
}

#[test]
fn finish_closes_an_open_pause_at_the_end() {
    let mut t = timeline(480);
    let mut out = Vec::new();
    steady(&mut t, 0..10, &mut out);
    t.pause(1600);
    steady(&mut t, 10..20, &mut out);
    let done = t.finish(4000, &mut out);
    assert_eq!(
        done.open_pause,
        Some(PauseSpan {
            start: 1600,
            end: 4000
        })
    );
    assert!(out[2 * 1600..].iter().all(|&s| s == 0));
    assert!(left(&out)[..1600].iter().all(|&s| s > 0));
}
