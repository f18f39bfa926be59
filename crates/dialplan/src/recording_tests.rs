//! The recording decision table: a policy and a draw give a decision; a queue's policy replaces
//! the call's decision when the caller joins, and the notice is asked for exactly once.

use std::time::Duration;

use super::*;
use crate::model::QueueStrategy;
use RecordingDecision::{Off, OnDemand, Record};

const NOTICE: &str = "queue_notice";

fn queue(recording: Option<RecordingPolicy>, recording_notice: Option<&str>) -> Queue {
    Queue {
        name: "main".into(),
        label: None,
        music: None,
        announce: None,
        announce_every: None,
        max_wait: None,
        overflow: None,
        strategy: QueueStrategy::default(),
        ring_timeout: Duration::from_secs(15),
        wrap_up: Duration::from_secs(10),
        join_empty: true,
        leave_when_empty: false,
        auto_pause_after: None,
        max_callers: None,
        announce_position: false,
        announce_wait: false,
        members: None,
        recording,
        recording_notice: recording_notice.map(str::to_string),
    }
}

#[test]
fn off_never_records_and_all_always_does_whatever_the_draw() {
    for draw in [0.0, 0.5, 0.999_999] {
        assert_eq!(RecordingPolicy::Off.decide(draw), Off);
        assert_eq!(RecordingPolicy::All.decide(draw), Record);
        assert_eq!(RecordingPolicy::OnDemand.decide(draw), OnDemand);
    }
}

#[test]
fn a_share_records_exactly_the_draws_below_it() {
    let share = RecordingPolicy::Share(0.3);
    assert_eq!(share.decide(0.0), Record);
    assert_eq!(share.decide(0.299_999), Record);
    assert_eq!(
        share.decide(0.3),
        Off,
        "the share's own value is outside it"
    );
    assert_eq!(share.decide(0.999_999), Off);
}

#[test]
fn a_nan_draw_is_not_recorded_under_a_share_and_does_not_panic() {
    assert_eq!(RecordingPolicy::Share(0.5).decide(f64::NAN), Off);
}

#[test]
fn every_decision_that_may_record_needs_a_notice() {
    assert!(Record.needs_notice());
    assert!(OnDemand.needs_notice());
    assert!(!Off.needs_notice());
}

#[test]
fn only_off_is_a_policy_that_never_records() {
    assert!(!RecordingPolicy::Off.may_record());
    assert!(RecordingPolicy::All.may_record());
    assert!(RecordingPolicy::Share(0.01).may_record());
    assert!(RecordingPolicy::OnDemand.may_record());
}

#[test]
fn policies_read_as_words() {
    assert_eq!(RecordingPolicy::Off.to_string(), "off");
    assert_eq!(RecordingPolicy::All.to_string(), "all calls");
    assert_eq!(RecordingPolicy::Share(0.3).to_string(), "30% of calls");
    assert_eq!(RecordingPolicy::Share(0.125).to_string(), "12.5% of calls");
    assert_eq!(RecordingPolicy::OnDemand.to_string(), "on demand");
}

/// (queue policy, current decision, notice played, draw, decision after joining, notice).
type Row = (
    Option<RecordingPolicy>,
    RecordingDecision,
    bool,
    f64,
    RecordingDecision,
    Option<&'static str>,
);

/// Every queue policy × the call's decision so far × whether the notice was played, with a
/// draw inside a 50 % share (0.25) and outside it (0.75).
#[test]
fn recording_at_join_follows_the_table() {
    let share = Some(RecordingPolicy::Share(0.5));
    let n = Some(NOTICE);
    #[rustfmt::skip]
    let table: &[Row] = &[
        // queue policy                   current   played  draw  → decision  notice
        // No policy: the call keeps its decision; the notice only if it was never played.
        (None,                            Record,   false, 0.25, Record,   n),
        (None,                            Record,   true,  0.25, Record,   None),
        (None,                            OnDemand, false, 0.25, OnDemand, n),
        (None,                            OnDemand, true,  0.25, OnDemand, None),
        (None,                            Off,      false, 0.25, Off,      None),
        (None,                            Off,      true,  0.25, Off,      None),
        // Off: a recorded call stops being recorded in this queue; nothing to announce.
        (Some(RecordingPolicy::Off),      Record,   false, 0.25, Off,      None),
        (Some(RecordingPolicy::Off),      Record,   true,  0.25, Off,      None),
        (Some(RecordingPolicy::Off),      OnDemand, false, 0.25, Off,      None),
        (Some(RecordingPolicy::Off),      OnDemand, true,  0.25, Off,      None),
        (Some(RecordingPolicy::Off),      Off,      false, 0.25, Off,      None),
        (Some(RecordingPolicy::Off),      Off,      true,  0.25, Off,      None),
        // All: recorded; the notice unless the caller already heard one.
        (Some(RecordingPolicy::All),      Record,   false, 0.25, Record,   n),
        (Some(RecordingPolicy::All),      Record,   true,  0.25, Record,   None),
        (Some(RecordingPolicy::All),      OnDemand, false, 0.25, Record,   n),
        (Some(RecordingPolicy::All),      OnDemand, true,  0.25, Record,   None),
        (Some(RecordingPolicy::All),      Off,      false, 0.25, Record,   n),
        (Some(RecordingPolicy::All),      Off,      true,  0.25, Record,   None),
        // On demand: may be recorded, so told as well.
        (Some(RecordingPolicy::OnDemand), Record,   false, 0.25, OnDemand, n),
        (Some(RecordingPolicy::OnDemand), Record,   true,  0.25, OnDemand, None),
        (Some(RecordingPolicy::OnDemand), OnDemand, false, 0.25, OnDemand, n),
        (Some(RecordingPolicy::OnDemand), OnDemand, true,  0.25, OnDemand, None),
        (Some(RecordingPolicy::OnDemand), Off,      false, 0.25, OnDemand, n),
        (Some(RecordingPolicy::OnDemand), Off,      true,  0.25, OnDemand, None),
        // A share, drawn in.
        (share,                           Record,   false, 0.25, Record,   n),
        (share,                           Record,   true,  0.25, Record,   None),
        (share,                           OnDemand, false, 0.25, Record,   n),
        (share,                           OnDemand, true,  0.25, Record,   None),
        (share,                           Off,      false, 0.25, Record,   n),
        (share,                           Off,      true,  0.25, Record,   None),
        // A share, drawn out: not recorded here, even if the entry recorded the call.
        (share,                           Record,   false, 0.75, Off,      None),
        (share,                           Record,   true,  0.75, Off,      None),
        (share,                           OnDemand, false, 0.75, Off,      None),
        (share,                           OnDemand, true,  0.75, Off,      None),
        (share,                           Off,      false, 0.75, Off,      None),
        (share,                           Off,      true,  0.75, Off,      None),
    ];
    for &(policy, current, played, draw, decision, notice) in table {
        let q = queue(policy, Some(NOTICE));
        let expected = (decision, notice.map(str::to_string));
        assert_eq!(
            q.recording_at_join(current, played, draw),
            expected,
            "queue {policy:?}, current {current:?}, played {played}, draw {draw}"
        );
        if !matches!(policy, Some(RecordingPolicy::Share(_))) {
            // Only a share looks at the draw.
            let other = if draw < 0.5 { 0.75 } else { 0.25 };
            assert_eq!(
                q.recording_at_join(current, played, other),
                expected,
                "queue {policy:?}, current {current:?}, played {played}, draw {other}"
            );
        }
    }
}

#[test]
fn an_inherited_decision_without_a_queue_notice_asks_for_no_prompt() {
    let q = queue(None, None);
    assert_eq!(q.recording_at_join(Record, false, 0.0), (Record, None));
}
