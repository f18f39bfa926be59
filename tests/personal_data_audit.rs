//! Every endpoint that shows residents' personal data to a person writes who, what, which
//! and from where to the audit log before it answers — one table row per endpoint, against
//! the real binary; and an endpoint showing none (a classification without a note) writes
//! nothing.

mod support;

use chrono::{Duration, Utc};
use madoguchi_store::{
    CallRecord, CaseDetails, CounterKind, CounterOutcome, Disposition, NewClassification,
    NewCounterCase, Outcome, Store,
};
use support::{EngineProcess, Options, TEST_ADMIN};

const CALL: &str = "node1-audit-1";
const QUIET_CALL: &str = "node1-audit-2";

fn call(id: &str) -> CallRecord {
    let arrived = Utc::now() - Duration::minutes(10);
    CallRecord {
        id: id.into(),
        sip_call_id: format!("{id}@127.0.0.1"),
        caller: "0467001234".into(),
        called: "0120000000".into(),
        arrived_at: arrived,
        answered_at: Some(arrived + Duration::seconds(1)),
        ended_at: arrived + Duration::minutes(3),
        entry: None,
        branch: Some("open".into()),
        disposition: Disposition::Answered,
        dtmf: vec![],
        hangup_side: None,
        hangup_cause: None,
        queue: Some("main".into()),
        waited_ms: Some(5_000),
        // The test admin took it, so it is among "my calls" of today.
        operator: Some(TEST_ADMIN.into()),
        connected_at: Some(arrived + Duration::seconds(6)),
        talk_ms: Some(170_000),
        transfer_target: None,
        transfer_result: None,
        menu_choice: None,
        answer_mode: None,
        answered_by: None,
        unanswered_ms: None,
        answered_ms: None,
        language: None,
        language_fallback: None,
        node_id: "node1".into(),
        events: vec![],
    }
}

/// A database with a call holding a note, one without, and a counter case with a note;
/// returns its URL and the counter case's id.
async fn seeded(dir: &std::path::Path) -> (String, String) {
    let url = format!("sqlite://{}", dir.join("calls.db").display());
    let store = Store::connect(&url).await.expect("store opens");
    for (id, note) in [(CALL, Some("折り返し希望")), (QUIET_CALL, None)] {
        store.insert_call(&call(id)).await.expect("call stored");
        store
            .classify(
                &NewClassification {
                    call_id: id.into(),
                    category: "イ".into(),
                    outcome: Outcome::ResolvedFaq,
                    complaint: false,
                    escalated: false,
                    faq_id: None,
                    note: note.map(str::to_owned),
                    operator: TEST_ADMIN.into(),
                },
                Utc::now(),
            )
            .await
            .expect("classified");
    }
    let case = store
        .add_counter_case(
            &NewCounterCase {
                details: CaseDetails {
                    kind: CounterKind::NewApplication,
                    outcome: CounterOutcome::Completed,
                    seat: "1".into(),
                    fee_payment_confirmed: None,
                    note: Some("本人確認書類を持参".into()),
                },
                staff: "staff-1".into(),
                node_id: "node1".into(),
            },
            Utc::now(),
        )
        .await
        .expect("counter case stored");
    store.close().await;
    (url, case.id)
}

fn entries(engine: &EngineProcess, action: &str) -> Vec<serde_json::Value> {
    let (status, body) = engine.get(&format!("/api/v1/audit?per_page=500&action={action}"));
    assert_eq!(status, 200, "{body}");
    let page: serde_json::Value = serde_json::from_str(&body).expect("json");
    page["entries"].as_array().cloned().unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_view_of_personal_data_is_audited_with_actor_object_and_source() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (database_url, case) = seeded(dir.path()).await;
    let engine = EngineProcess::start(Options {
        database_url: Some(database_url),
        ..Options::default()
    });
    let case_path = format!("/api/v1/counter/cases/{case}");
    // (request, action it must write, subject it must name)
    let table: [(&str, &str, Option<&str>); 6] = [
        ("/api/v1/calls", "call.list", None),
        ("/api/v1/calls/node1-audit-1", "call.view", Some(CALL)),
        ("/api/v1/agents/me/calls", "call.list", None),
        (
            "/api/v1/calls/node1-audit-1/classification",
            "classification.view",
            Some(CALL),
        ),
        ("/api/v1/counter/cases", "counter.list", None),
        (&case_path, "counter.view", Some(case.as_str())),
    ];
    for (path, action, subject) in table {
        let before = entries(&engine, action).len();
        let (status, body) = engine.get(path);
        assert_eq!(status, 200, "{path}: {body}");
        let after = entries(&engine, action);
        assert_eq!(after.len(), before + 1, "{path} writes one {action} entry");
        let entry = &after[0];
        assert_eq!(entry["login"], TEST_ADMIN, "{path}");
        assert_eq!(entry["role"], "admin", "{path}");
        assert_eq!(entry["source"], "127.0.0.1", "{path}");
        assert_eq!(entry["subject"].as_str(), subject, "{path}");
        assert!(entry["at"].is_string(), "{path}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_classification_without_a_note_is_read_without_an_audit_entry() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (database_url, _) = seeded(dir.path()).await;
    let engine = EngineProcess::start(Options {
        database_url: Some(database_url),
        ..Options::default()
    });
    let (status, body) = engine.get(&format!("/api/v1/calls/{QUIET_CALL}/classification"));
    assert_eq!(status, 200, "{body}");
    assert!(entries(&engine, "classification.view").is_empty());
}
