//! `Engine::replace_dialplan`: new calls follow the new dialplan, calls in progress the one
//! they started with; queues are matched by name (kept, added, retired) and memberships
//! follow the new member lists. Uses queue.toml and variants of it written here.

use super::*;

/// queue.toml with `replace` replacing `with` (the text must be there once).
fn variant(replace: &str, with: &str) -> Dialplan {
    let text = std::fs::read_to_string(repo().join("tests/dialplans/queue.toml"))
        .expect("queue.toml is readable");
    assert_eq!(
        text.matches(replace).count(),
        1,
        "{replace:?} once in queue.toml"
    );
    Dialplan::parse(
        "variant.toml",
        &text.replace(replace, with),
        &repo().join("tests/dialplans"),
    )
    .unwrap_or_else(|errors| panic!("the variant checks:\n{errors}"))
}

const OPEN: &str = r#"open = [{ queue = "desk" }, { play = "goodbye" }, { hangup = true }]"#;

/// The hotline says goodbye and hangs up instead of queueing.
fn goodbye_only() -> Dialplan {
    variant(OPEN, r#"open = [{ play = "goodbye" }, { hangup = true }]"#)
}

/// The hotline plays please_wait before it queues (a call can be caught in its greeting).
fn greeting_first() -> Dialplan {
    variant(
        OPEN,
        r#"open = [{ play = "please_wait" }, { queue = "desk" }, { hangup = true }]"#,
    )
}

/// `desk` renamed to `front` (desk is gone).
fn front_instead_of_desk() -> Dialplan {
    let text = std::fs::read_to_string(repo().join("tests/dialplans/queue.toml"))
        .expect("queue.toml is readable");
    let text = text
        .replace("[queues.desk]", "[queues.front]")
        .replace(r#"{ queue = "desk" }"#, r#"{ queue = "front" }"#);
    Dialplan::parse("front.toml", &text, &repo().join("tests/dialplans"))
        .unwrap_or_else(|errors| panic!("front.toml checks:\n{errors}"))
}

fn reload(h: &mut Harness, dialplan: Dialplan) -> ReloadSummary {
    // Every variant names the prompts queue.toml names: the harness's index serves both.
    let summary = h
        .engine
        .replace_dialplan(Arc::new(dialplan), Arc::clone(&h.prompts), h.now);
    h.drain();
    summary
}

fn invites_to(h: &Harness, phone: &Phone) -> usize {
    phone.invites(h).len()
}

#[test]
fn after_a_reload_a_new_call_follows_the_new_dialplan() {
    let mut phone = op1();
    let mut h = desk(&mut [&mut phone]);
    reload(&mut h, goodbye_only());

    call_in(&mut h, 1);
    assert_eq!(h.played(), vec!["goodbye"]);
    assert_eq!(invites_to(&h, &phone), 0, "nobody is rung");
    h.finish_prompt(h.leg());
    h.advance(PLAYOUT_TAIL_FOR_TESTS);
    assert!(!h.sent_to_starting(Harness::source(), "BYE ").is_empty());
}

/// The playout tail before the engine's BYE (call.rs), and then some.
const PLAYOUT_TAIL_FOR_TESTS: Duration = Duration::from_secs(1);

#[test]
fn a_call_in_its_greeting_when_the_dialplan_changes_goes_on_with_the_flow_it_started() {
    let mut phone = op1();
    let mut h = Harness::with_targets(greeting_first(), city_line_targets(), wednesday());
    let now = h.now;
    h.engine.set_directory(now, vec![phone.entry()]);
    phone.register(&mut h, 600);
    call_in(&mut h, 1);
    assert_eq!(h.played(), vec!["please_wait"]);

    // The new dialplan has no queue `desk`: only the old one can queue this caller.
    let summary = reload(&mut h, front_instead_of_desk());
    assert_eq!(summary.calls_in_progress, 1);
    h.finish_prompt(h.leg());
    assert_eq!(
        invites_to(&h, &phone),
        1,
        "the old flow queues the caller in desk"
    );
    let live = h.engine.live(h.now);
    let desk = live.queues.iter().find(|q| q.name == "desk");
    assert_eq!(
        desk.map(|q| q.waiting.len()),
        Some(1),
        "desk shows its caller"
    );
}

#[test]
fn a_caller_waiting_in_a_queue_the_new_dialplan_drops_is_still_answered() {
    let mut phone = op1();
    let mut h = desk(&mut [&mut phone]);
    let mut caller = call_in(&mut h, 1);
    assert_eq!(invites_to(&h, &phone), 1);

    let summary = reload(&mut h, front_instead_of_desk());
    assert_eq!(summary.queues_retired, vec!["desk"]);
    assert_eq!(summary.queues_added, vec!["front"]);
    pick_up(&mut h, &phone, Duration::from_secs(1));
    assert_eq!(state_of(&h, "op1").0, "on_call");
    h.sip(&caller.request("BYE", 2, "", false));

    let record = h.records.last().expect("a record");
    assert_eq!(record.disposition, Disposition::Answered);
    assert_eq!(record.queue.as_deref(), Some("desk"));
}

#[test]
fn a_retired_queue_leaves_the_board_once_nobody_waits_and_the_new_one_shows() {
    let mut phone = op1();
    let mut h = desk(&mut [&mut phone]);
    reload(&mut h, front_instead_of_desk());

    let names: Vec<String> = h
        .engine
        .live(h.now)
        .queues
        .into_iter()
        .map(|q| q.name)
        .collect();
    assert_eq!(names, vec!["front"]);
    call_in(&mut h, 1);
    assert_eq!(
        invites_to(&h, &phone),
        1,
        "agents are members of the new queue"
    );
}

#[test]
fn a_kept_queue_takes_its_new_ring_timeout_for_the_next_offer() {
    let mut phone = op1();
    let mut h = desk(&mut [&mut phone]);
    reload(&mut h, variant("ring_timeout = 4\n", "ring_timeout = 10\n"));

    call_in(&mut h, 1);
    let invite = phone.last_invite(&h);
    phone.respond(&mut h, &invite, "180 Ringing", "");
    h.advance(Duration::from_secs(5));
    assert!(
        phone.requests(&h, "CANCEL").is_empty(),
        "still ringing after the old 4 s"
    );
    h.advance(Duration::from_secs(5));
    assert_eq!(phone.requests(&h, "CANCEL").len(), 1, "rung out at 10 s");
}

#[test]
fn an_operator_the_new_member_list_leaves_out_is_no_longer_rung() {
    let (mut one, mut two) = (op1(), op2());
    let mut h = desk(&mut [&mut one, &mut two]);
    reload(
        &mut h,
        variant("wrap_up = 1\n", "wrap_up = 1\nmembers = [\"op2\"]\n"),
    );

    call_in(&mut h, 1);
    assert_eq!(invites_to(&h, &one), 0);
    assert_eq!(invites_to(&h, &two), 1);
}
