use chrono::TimeZone;

use super::*;
use crate::engine::board::Board;
use crate::engine::Counters;

fn t(seconds: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(1_790_000_000 + seconds, 0)
        .single()
        .expect("a valid instant")
}

fn waiter(call_id: &str, since: i64, node: &str) -> WaitingView {
    WaitingView {
        call_id: call_id.to_owned(),
        position: 0,
        since: t(since),
        waited_s: 100 - since,
        menu_choice: None,
        language: None,
        language_wait_s: None,
        language_fallback: None,
        node: node.to_owned(),
    }
}

fn queue(name: &str, waiting: Vec<WaitingView>) -> QueueView {
    let mut waiting = waiting;
    for (i, w) in waiting.iter_mut().enumerate() {
        w.position = i + 1;
    }
    QueueView {
        name: name.to_owned(),
        label: Some(format!("label of {name}")),
        longest_wait_s: waiting.iter().map(|w| w.waited_s).max().unwrap_or(0),
        waiting,
        operators_available: 1,
        operators_logged_in: 2,
    }
}

fn operator(login: &str, state: &'static str, attached: bool, node: &str) -> OperatorView {
    OperatorView {
        login: login.to_owned(),
        state,
        reason: None,
        since: t(10),
        seconds_in_state: 90,
        phones: usize::from(attached),
        call_id: None,
        node: node.to_owned(),
        attached,
    }
}

fn local(queues: Vec<QueueView>, operators: Vec<OperatorView>) -> LiveState {
    LiveState {
        at: t(100),
        queues,
        operators,
        today: Counters {
            calls: 7,
            offered: 5,
            answered: 4,
            callbacks: 1,
            ..Counters::default()
        },
        board: Board::default().view(t(100)),
        recording_failures: 1,
        last_recording_failure: None,
        monitors: Vec::new(),
    }
}

/// Node B's publication: its own state as `NodeLive::of` makes it.
fn published(queues: Vec<QueueView>, operators: Vec<OperatorView>) -> NodeLive {
    let mut live = local(queues, operators);
    live.at = t(99);
    live.recording_failures = 2;
    NodeLive::of(&live, "b")
}

fn fresh<'a>(node_id: &'a str, live: &'a NodeLive) -> Remote<'a> {
    Remote {
        node_id,
        age: Duration::from_millis(400),
        live,
    }
}

fn waiting_ids(state: &LiveState, queue: &str) -> Vec<(String, usize, String)> {
    state
        .queues
        .iter()
        .find(|q| q.name == queue)
        .map(|q| {
            q.waiting
                .iter()
                .map(|w| (w.call_id.clone(), w.position, w.node.clone()))
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn waiting_callers_of_every_node_are_ordered_by_arrival_and_numbered_again() {
    let a = local(
        vec![queue(
            "general",
            vec![waiter("a1", 20, "a"), waiter("a2", 40, "a")],
        )],
        vec![],
    );
    let b = published(
        vec![queue(
            "general",
            vec![waiter("b1", 10, "b"), waiter("b2", 30, "b")],
        )],
        vec![],
    );
    let merged = merge(&a, "a", &[fresh("b", &b)]);
    assert_eq!(
        waiting_ids(&merged, "general"),
        vec![
            ("b1".to_owned(), 1, "b".to_owned()),
            ("a1".to_owned(), 2, "a".to_owned()),
            ("b2".to_owned(), 3, "b".to_owned()),
            ("a2".to_owned(), 4, "a".to_owned()),
        ]
    );
    let general = &merged.queues[0];
    assert_eq!(
        general.longest_wait_s, 90,
        "b1 waited since t=10, now t=100"
    );
}

#[test]
fn another_nodes_language_caller_shows_its_wait_for_a_speaker_and_its_fallback() {
    let mut waiting = waiter("b1", 10, "b");
    waiting.language = Some("en".to_owned());
    waiting.language_wait_s = Some(120);
    let mut relaxed = waiter("b2", 30, "b");
    relaxed.language = Some("en".to_owned());
    relaxed.language_wait_s = Some(120);
    relaxed.language_fallback = Some("any".to_owned());
    let a = local(vec![queue("general", vec![])], vec![]);
    let b = published(vec![queue("general", vec![waiting, relaxed])], vec![]);
    let merged = merge(&a, "a", &[fresh("b", &b)]);
    let shown: Vec<_> = merged.queues[0]
        .waiting
        .iter()
        .map(|w| (w.language_wait_s, w.language_fallback.as_deref()))
        .collect();
    assert_eq!(shown, vec![(Some(120), None), (Some(120), Some("any"))]);
}

#[test]
fn queues_merge_by_name_and_a_queue_only_another_node_has_is_added() {
    let a = local(vec![queue("general", vec![waiter("a1", 20, "a")])], vec![]);
    let b = published(
        vec![
            queue("general", vec![]),
            queue("tax", vec![waiter("b1", 50, "b")]),
        ],
        vec![],
    );
    let merged = merge(&a, "a", &[fresh("b", &b)]);
    let names: Vec<&str> = merged.queues.iter().map(|q| q.name.as_str()).collect();
    assert_eq!(names, ["general", "tax"]);
    assert_eq!(merged.queues[0].waiting.len(), 1);
    assert_eq!(merged.queues[0].operators_available, 2, "1 on a + 1 on b");
    assert_eq!(merged.queues[0].operators_logged_in, 4);
    assert_eq!(
        waiting_ids(&merged, "tax"),
        vec![("b1".to_owned(), 1, "b".to_owned())]
    );
    assert_eq!(merged.queues[1].label.as_deref(), Some("label of tax"));
    assert_eq!(merged.queues[1].longest_wait_s, 50);
}

#[test]
fn a_node_that_published_as_long_ago_as_the_freshness_limit_is_left_out() {
    let a = local(
        vec![queue("general", vec![waiter("a1", 20, "a")])],
        vec![operator("op1", "logged_out", false, "a")],
    );
    let b = published(
        vec![queue("general", vec![waiter("b1", 10, "b")])],
        vec![operator("op1", "available", true, "b")],
    );
    let stale = Remote {
        node_id: "b",
        age: FRESH,
        live: &b,
    };
    let merged = merge(&a, "a", &[stale]);
    assert_eq!(merged, a_with_node(&a, "a"));
    assert_eq!(
        merged.operators[0].state, "logged_out",
        "b's operator counts as gone"
    );
    let just_fresh = Remote {
        age: FRESH - Duration::from_millis(1),
        ..stale
    };
    assert_eq!(merge(&a, "a", &[just_fresh]).queues[0].waiting.len(), 2);
}

/// `a` as merged alone: unchanged but for each of its waiters naming it.
fn a_with_node(a: &LiveState, node: &str) -> LiveState {
    let mut a = a.clone();
    for q in &mut a.queues {
        for w in &mut q.waiting {
            w.node = node.to_owned();
        }
    }
    a
}

#[test]
fn alone_a_node_shows_its_own_state_unchanged() {
    let a = local(
        vec![queue(
            "general",
            // Priorities can put a later caller first: the engine's order stays.
            vec![waiter("a2", 40, "a"), waiter("a1", 20, "a")],
        )],
        vec![
            operator("op1", "available", true, "a"),
            operator("op2", "logged_out", false, "a"),
        ],
    );
    assert_eq!(merge(&a, "a", &[]), a);
}

#[test]
fn an_operator_shows_once_as_the_node_it_is_attached_to_sees_it() {
    let a = local(
        vec![],
        vec![
            // op1's phone is on b: a only mirrors it.
            operator("op1", "available", false, "b"),
            operator("op2", "paused", true, "a"),
            operator("op3", "logged_out", false, "a"),
        ],
    );
    let b = published(
        vec![],
        vec![
            operator("op1", "on_call", true, "b"),
            // b's stale idea of op2 (its console moved to a).
            operator("op2", "available", false, "b"),
            operator("op3", "logged_out", false, "b"),
            // A login a's directory does not have yet.
            operator("op4", "available", true, "b"),
        ],
    );
    let merged = merge(&a, "a", &[fresh("b", &b)]);
    let seen: Vec<(&str, &str, &str)> = merged
        .operators
        .iter()
        .map(|o| (o.login.as_str(), o.state, o.node.as_str()))
        .collect();
    assert_eq!(
        seen,
        [
            ("op1", "on_call", "b"),
            ("op2", "paused", "a"),
            ("op3", "logged_out", "a"),
            ("op4", "available", "b"),
        ]
    );
}

#[test]
fn todays_counters_and_board_are_this_nodes_and_recording_failures_add_up() {
    let a = local(vec![], vec![]);
    let b = published(vec![], vec![]);
    let merged = merge(&a, "a", &[fresh("b", &b)]);
    // Every node counts the whole center from the stored records: adding b's would count
    // each call twice.
    assert_eq!(merged.today, a.today);
    assert_eq!(merged.board, a.board);
    assert_eq!(merged.recording_failures, 3);
}

#[test]
fn a_node_publishes_its_own_operators_not_its_mirrors_of_others() {
    let a = local(
        vec![queue("general", vec![waiter("a1", 20, "a")])],
        vec![
            operator("op1", "available", false, "b"),
            operator("op2", "paused", true, "a"),
        ],
    );
    let live = NodeLive::of(&a, "a");
    let logins: Vec<&str> = live.operators.iter().map(|o| o.login.as_str()).collect();
    assert_eq!(logins, ["op2"]);
    let json = serde_json::to_value(&live).expect("serializable");
    let back: NodeLive = serde_json::from_value(json).expect("it reads back");
    assert_eq!(back, live);
    assert_eq!(
        back.remote_operators(),
        vec![RemoteOperator {
            login: "op2".to_owned(),
            state: "paused".to_owned(),
            reason: None,
            attached: true,
        }]
    );
}
