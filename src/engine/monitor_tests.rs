//! A manager joining a live call from their SIP phone, in virtual time:
//! tests/dialplans/queue.toml (one queue `desk`), operator op1 on a SIP phone (or a console)
//! talking to a caller, and manager `boss` whose phone is registered. What the core asks of
//! the media shell (Monitor, SetMonitorMode, Unmonitor), what it sends the manager's phone,
//! what the call's record and the operator's console are told.

use std::time::Duration;

use madoguchi_media::mix::MixMode;
use madoguchi_sip::LegId;

use super::console::ConsoleEvent;
use super::console_tests::{answer, call_in, wednesday, CONSOLE};
use super::test_harness::*;
use super::*;

fn op1() -> Phone {
    Phone::new("op1", "127.0.0.1:5070")
}

fn boss() -> Phone {
    Phone::new("boss", "127.0.0.1:5080")
}

fn manager(phone: &Phone) -> DirectoryEntry {
    DirectoryEntry {
        role: "manager".to_owned(),
        ..phone.entry()
    }
}

/// The call on op1's phone, and the legs it is on.
struct OnCall {
    h: Harness,
    caller: Caller,
    call_id: String,
    caller_leg: LegId,
    operator_leg: LegId,
}

/// queue.toml; op1 and boss registered; caller 1 in the queue, op1 answered.
fn on_call(op1: &mut Phone, boss: &mut Phone) -> OnCall {
    let mut h = Harness::with_targets(queue_dialplan(), city_line_targets(), wednesday());
    let now = h.now;
    h.engine
        .set_directory(now, vec![op1.entry(), manager(boss)]);
    h.drain();
    for phone in [&mut *op1, &mut *boss] {
        let ok = phone.register(&mut h, 600);
        assert!(ok.starts_with("SIP/2.0 200"), "{ok}");
    }
    let caller = call_in(&mut h, 1);
    let invite = op1.last_invite(&h);
    op1.respond(&mut h, &invite, "200 OK", &op1.sdp(""));
    let call_id = header(&invite, "X-Madoguchi-Call-Id")
        .expect("the call id travels to the phone")
        .to_owned();
    let (caller_leg, operator_leg) = h
        .media
        .iter()
        .find_map(|m| match m {
            MediaCommand::Bridge { a, b } => Some((*a, *b)),
            _ => None,
        })
        .expect("the caller is bridged to op1");
    OnCall {
        h,
        caller,
        call_id,
        caller_leg,
        operator_leg,
    }
}

fn monitor(c: &mut OnCall, login: &str, mode: MixMode) -> Result<(), MonitorError> {
    let now = c.h.now;
    let result = c.h.engine.monitor(now, &c.call_id, login, mode);
    c.h.drain();
    result
}

/// boss's phone answers the engine's INVITE: returns the INVITE.
fn boss_answers(c: &mut OnCall, boss: &Phone) -> String {
    let invite = boss.last_invite(&c.h);
    boss.respond(&mut c.h, &invite, "200 OK", &boss.sdp(""));
    invite
}

fn monitor_commands(h: &Harness) -> Vec<&MediaCommand> {
    h.media
        .iter()
        .filter(|m| {
            matches!(
                m,
                MediaCommand::Monitor { .. }
                    | MediaCommand::SetMonitorMode { .. }
                    | MediaCommand::Unmonitor { .. }
            )
        })
        .collect()
}

/// The monitoring events of the call's record, as (kind, detail).
fn monitor_events(h: &Harness) -> Vec<(String, serde_json::Value)> {
    h.records[0]
        .events
        .iter()
        .filter(|e| e.kind.starts_with("monitor_"))
        .map(|e| (e.kind.clone(), e.detail.clone()))
        .collect()
}

/// The leg the media shell opened last (the manager's, right after `monitor`).
fn last_opened(h: &Harness) -> LegId {
    *h.opened_legs().last().expect("a leg was opened")
}

#[test]
fn the_managers_registered_phone_is_rung_and_its_answer_mixes_caller_operator_and_manager() {
    let (mut op, mut b) = (op1(), boss());
    let mut c = on_call(&mut op, &mut b);

    monitor(&mut c, "boss", MixMode::Listen).expect("op1's call can be monitored");
    let supervisor = last_opened(&c.h);
    let invite = b.last_invite(&c.h);
    assert!(
        invite.starts_with(&format!("INVITE {} SIP/2.0", b.contact())),
        "rings the manager's registered contact:\n{invite}"
    );
    assert_eq!(
        header(&invite, "X-Madoguchi-Call-Id"),
        Some(c.call_id.as_str())
    );
    assert!(
        monitor_commands(&c.h).is_empty(),
        "nothing is mixed before the answer"
    );

    b.respond(&mut c.h, &invite, "200 OK", &b.sdp(""));
    assert_eq!(
        monitor_commands(&c.h),
        vec![&MediaCommand::Monitor {
            caller: c.caller_leg,
            operator: c.operator_leg,
            supervisor,
            mode: MixMode::Listen,
        }]
    );
    let live = c.h.engine.live(c.h.now);
    assert_eq!(live.monitors.len(), 1);
    assert_eq!(live.monitors[0].monitored_by, "boss");
    assert_eq!(live.monitors[0].operator.as_deref(), Some("op1"));
    assert_eq!(live.monitors[0].mode, Some("listen"));
}

#[test]
fn what_cannot_be_monitored_says_why() {
    let (mut op, mut b) = (op1(), boss());
    let mut c = on_call(&mut op, &mut b);
    assert_eq!(
        monitor(&mut c, "nobody", MixMode::Listen),
        Err(MonitorError::NoPhone("nobody".to_owned()))
    );
    let now = c.h.now;
    assert_eq!(
        c.h.engine
            .monitor(now, "no-such-call", "boss", MixMode::Listen),
        Err(MonitorError::UnknownCall("no-such-call".to_owned()))
    );
    assert_eq!(
        c.h.engine.set_monitor_mode(now, &c.call_id, MixMode::Barge),
        Err(MonitorError::NotMonitored)
    );
    assert_eq!(
        c.h.engine.stop_monitor(now, &c.call_id),
        Err(MonitorError::NotMonitored)
    );

    monitor(&mut c, "boss", MixMode::Listen).expect("monitored");
    assert_eq!(
        monitor(&mut c, "boss", MixMode::Barge),
        Err(MonitorError::AlreadyMonitored("boss".to_owned())),
        "one manager at a time, also while the phone rings"
    );

    // A second caller waits in the queue: not with an operator.
    call_in(&mut c.h, 2);
    let waiting = c.h.engine.live(c.h.now).queues[0].waiting[0]
        .call_id
        .clone();
    let now = c.h.now;
    assert_eq!(
        c.h.engine.monitor(now, &waiting, "boss", MixMode::Listen),
        Err(MonitorError::NotWithOperator)
    );
}

#[test]
fn switching_modes_tells_the_media_shell_and_the_record() {
    let (mut op, mut b) = (op1(), boss());
    let mut c = on_call(&mut op, &mut b);
    monitor(&mut c, "boss", MixMode::Listen).expect("monitored");
    let supervisor = last_opened(&c.h);
    boss_answers(&mut c, &b);

    let now = c.h.now;
    c.h.engine
        .set_monitor_mode(now, &c.call_id, MixMode::Whisper)
        .expect("whisper");
    c.h.engine
        .set_monitor_mode(now, &c.call_id, MixMode::Barge)
        .expect("barge");
    c.h.drain();
    assert_eq!(
        monitor_commands(&c.h)[1..],
        [
            &MediaCommand::SetMonitorMode {
                supervisor,
                mode: MixMode::Whisper
            },
            &MediaCommand::SetMonitorMode {
                supervisor,
                mode: MixMode::Barge
            },
        ]
    );
    assert_eq!(c.h.engine.live(c.h.now).monitors[0].mode, Some("barge"));

    c.h.sip(&c.caller.request("BYE", 2, "", false));
    let events = monitor_events(&c.h);
    let kinds: Vec<&str> = events.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        kinds,
        [
            "monitor_ringing",
            "monitor_started",
            "monitor_mode",
            "monitor_mode",
            "monitor_ended"
        ]
    );
    assert_eq!(
        events[1].1,
        serde_json::json!({"supervisor": "boss", "mode": "listen"})
    );
    assert_eq!(events[3].1, serde_json::json!({"mode": "barge"}));
}

#[test]
fn the_manager_hanging_up_ends_the_mix_and_the_call_goes_on() {
    let (mut op, mut b) = (op1(), boss());
    let mut c = on_call(&mut op, &mut b);
    monitor(&mut c, "boss", MixMode::Whisper).expect("monitored");
    let supervisor = last_opened(&c.h);
    let invite = boss_answers(&mut c, &b);

    b.send_in_dialog(&mut c.h, &invite, "BYE", "", "");
    assert_eq!(
        monitor_commands(&c.h).last(),
        Some(&&MediaCommand::Unmonitor { supervisor })
    );
    assert!(c.h.media.contains(&MediaCommand::Close { leg: supervisor }));
    assert!(
        c.h.sent_to_starting(op.addr, "BYE ").is_empty(),
        "the operator stays on the call"
    );
    assert!(c.h.records.is_empty(), "the call goes on");
    assert!(c.h.engine.live(c.h.now).monitors.is_empty());

    // The call can be monitored again.
    monitor(&mut c, "boss", MixMode::Listen).expect("monitored again");
    c.h.sip(&c.caller.request("BYE", 2, "", false));
    let events = monitor_events(&c.h);
    assert!(events.contains(&(
        "monitor_ended".to_owned(),
        serde_json::json!({"supervisor": "boss", "reason": "supervisor_bye"})
    )));
}

#[test]
fn the_call_ending_hangs_up_the_managers_phone() {
    let (mut op, mut b) = (op1(), boss());
    let mut c = on_call(&mut op, &mut b);
    monitor(&mut c, "boss", MixMode::Barge).expect("monitored");
    let supervisor = last_opened(&c.h);
    boss_answers(&mut c, &b);

    c.h.sip(&c.caller.request("BYE", 2, "", false));
    assert_eq!(
        c.h.sent_to_starting(b.addr, "BYE ").len(),
        1,
        "{:#?}",
        c.h.sent
    );
    assert!(c.h.media.contains(&MediaCommand::Close { leg: supervisor }));
    assert_eq!(
        monitor_events(&c.h).last(),
        Some(&(
            "monitor_ended".to_owned(),
            serde_json::json!({"supervisor": "boss", "reason": "call_ended"})
        ))
    );
}

#[test]
fn the_operator_hanging_up_hangs_up_the_managers_phone_too() {
    let (mut op, mut b) = (op1(), boss());
    let mut c = on_call(&mut op, &mut b);
    monitor(&mut c, "boss", MixMode::Listen).expect("monitored");
    boss_answers(&mut c, &b);

    let op_invite = op.invites(&c.h)[0].clone();
    op.send_in_dialog(&mut c.h, &op_invite, "BYE", "", "");
    c.h.advance(call::PLAYOUT_TAIL);
    assert_eq!(c.h.sent_to_starting(b.addr, "BYE ").len(), 1);
    assert_eq!(c.h.records.len(), 1);
}

#[test]
fn stopping_from_the_board_hangs_up_the_manager_and_unmixes() {
    let (mut op, mut b) = (op1(), boss());
    let mut c = on_call(&mut op, &mut b);
    monitor(&mut c, "boss", MixMode::Listen).expect("monitored");
    let supervisor = last_opened(&c.h);
    boss_answers(&mut c, &b);

    let now = c.h.now;
    c.h.engine.stop_monitor(now, &c.call_id).expect("stopped");
    c.h.drain();
    assert_eq!(c.h.sent_to_starting(b.addr, "BYE ").len(), 1);
    assert_eq!(
        monitor_commands(&c.h).last(),
        Some(&&MediaCommand::Unmonitor { supervisor })
    );
    assert!(c.h.records.is_empty(), "the call goes on");
}

#[test]
fn a_manager_who_does_not_answer_is_given_up_after_the_ring_time() {
    let (mut op, mut b) = (op1(), boss());
    let mut c = on_call(&mut op, &mut b);
    monitor(&mut c, "boss", MixMode::Listen).expect("monitored");
    let invite = b.last_invite(&c.h);
    b.respond(&mut c.h, &invite, "180 Ringing", "");

    c.h.advance(Duration::from_secs(29));
    assert!(b.requests(&c.h, "CANCEL").is_empty());
    c.h.advance(Duration::from_secs(2));
    assert_eq!(b.requests(&c.h, "CANCEL").len(), 1);
    b.cancelled(&mut c.h, &invite);
    assert!(monitor_commands(&c.h).is_empty());
    assert!(c.h.engine.live(c.h.now).monitors.is_empty());

    c.h.sip(&c.caller.request("BYE", 2, "", false));
    assert!(monitor_events(&c.h).contains(&(
        "monitor_ended".to_owned(),
        serde_json::json!({"supervisor": "boss", "reason": "no_answer"})
    )));
}

#[test]
fn a_busy_manager_phone_ends_the_request_and_the_call_goes_on() {
    let (mut op, mut b) = (op1(), boss());
    let mut c = on_call(&mut op, &mut b);
    monitor(&mut c, "boss", MixMode::Listen).expect("monitored");
    let invite = b.last_invite(&c.h);
    b.respond(&mut c.h, &invite, "486 Busy Here", "");
    assert!(c.h.engine.live(c.h.now).monitors.is_empty());
    assert!(c.h.records.is_empty());
    monitor(&mut c, "boss", MixMode::Listen).expect("can be tried again");
}

#[test]
fn the_operators_console_is_told_a_manager_listens_and_when_it_ends() {
    let mut b = boss();
    let mut h = Harness::with_targets(queue_dialplan(), city_line_targets(), wednesday());
    let now = h.now;
    h.engine
        .set_directory(now, vec![op1().entry(), manager(&b)]);
    h.engine
        .console_attach(now, "op1", CONSOLE)
        .expect("op1 is an operator");
    h.engine
        .request_status(now, "op1", &StatusRequest::Available)
        .expect("available");
    h.drain();
    b.register(&mut h, 600);
    let _caller = call_in(&mut h, 1);
    let call_id = answer(&mut h);

    let now = h.now;
    h.engine
        .monitor(now, &call_id, "boss", MixMode::Listen)
        .expect("monitored");
    h.drain();
    let supervisor = last_opened(&h);
    let invite = b.last_invite(&h);
    b.respond(&mut h, &invite, "200 OK", &b.sdp(""));
    assert!(h.media.iter().any(|m| matches!(
        m,
        MediaCommand::Monitor { operator, supervisor: s, .. } if *operator == CONSOLE && *s == supervisor
    )));
    let now = h.now;
    h.engine
        .set_monitor_mode(now, &call_id, MixMode::Whisper)
        .expect("whisper");
    h.drain();
    b.send_in_dialog(&mut h, &invite, "BYE", "", "");

    let told: Vec<Option<&str>> = h
        .console
        .iter()
        .filter_map(|e| match e {
            ConsoleEvent::Monitored {
                login,
                call_id: id,
                mode,
            } if login == "op1" && *id == call_id => Some(*mode),
            _ => None,
        })
        .collect();
    assert_eq!(told, vec![Some("listen"), Some("whisper"), None]);
}

#[test]
fn a_transfer_takes_the_operator_away_and_the_managers_phone_with_it() {
    let (mut op, mut b) = (op1(), boss());
    let mut c = on_call(&mut op, &mut b);
    monitor(&mut c, "boss", MixMode::Listen).expect("monitored");
    let supervisor = last_opened(&c.h);
    boss_answers(&mut c, &b);

    let now = c.h.now;
    c.h.engine
        .transfer(now, &c.call_id, "city_line")
        .expect("transferred");
    c.h.drain();
    assert_eq!(c.h.sent_to_starting(b.addr, "BYE ").len(), 1);
    assert_eq!(
        monitor_commands(&c.h).last(),
        Some(&&MediaCommand::Unmonitor { supervisor })
    );
    assert!(c.h.engine.live(c.h.now).monitors.is_empty());
}

#[test]
fn a_reconnecting_console_is_told_the_mode_once_the_managers_phone_is_up() {
    let mut b = boss();
    let mut h = Harness::with_targets(queue_dialplan(), city_line_targets(), wednesday());
    let now = h.now;
    h.engine
        .set_directory(now, vec![op1().entry(), manager(&b)]);
    h.engine
        .console_attach(now, "op1", CONSOLE)
        .expect("op1 is an operator");
    h.engine
        .request_status(now, "op1", &StatusRequest::Available)
        .expect("available");
    h.drain();
    b.register(&mut h, 600);
    let _caller = call_in(&mut h, 1);
    let call_id = answer(&mut h);
    let monitored = |h: &Harness| {
        h.engine
            .console_view(h.now, "op1")
            .expect("op1 has a console")
            .monitored
    };
    assert_eq!(monitored(&h), None, "nobody listens in yet");

    let now = h.now;
    h.engine
        .monitor(now, &call_id, "boss", MixMode::Listen)
        .expect("monitored");
    h.drain();
    assert_eq!(monitored(&h), None, "the manager's phone only rings");
    let invite = b.last_invite(&h);
    b.respond(&mut h, &invite, "200 OK", &b.sdp(""));
    assert_eq!(monitored(&h), Some("listen"));

    let now = h.now;
    h.engine
        .set_monitor_mode(now, &call_id, MixMode::Whisper)
        .expect("whisper");
    h.drain();
    assert_eq!(monitored(&h), Some("whisper"));

    b.send_in_dialog(&mut h, &invite, "BYE", "", "");
    assert_eq!(monitored(&h), None, "the manager hung up");
}
