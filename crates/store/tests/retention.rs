//! Retention (`madoguchi_store::retention`): personal data past its retention is removed,
//! what reports count is kept, and the audit log gives up only entries past its horizon —
//! specified once and checked on SQLite and PostgreSQL.

#[macro_use]
mod common;

use chrono::{DateTime, Duration, Utc};
use common::{full_record, Ctx, Kind, Raw};
use madoguchi_store::audit::actions;
use madoguchi_store::{
    AnonymisedCounts, AuditEntry, AuditQuery, CallEvent, CaseDetails, CounterKind, CounterOutcome,
    DeviceBeatsHour, DeviceEvent, FinishedRecording, NewClassification, NewCounterCase,
    NewRecording, Outcome, RecordingStatus, ReportQuery, Role,
};

on_both_backends!(
    no_personal_value_survives_anonymisation_and_report_figures_do,
    anonymisation_runs_again_without_changing_anything,
    data_younger_than_the_cutoff_is_kept,
    recordings_past_the_cutoff_are_listed_until_marked_purged,
    only_audit_entries_past_the_horizon_can_be_deleted,
    the_audit_horizon_moves_only_forward_and_stays_a_year_back,
    device_history_past_the_cutoff_is_deleted_and_younger_is_kept,
);

/// Values that must not survive: the caller's number in its shapes, a name, a note.
const MARKERS: [&str; 5] = [
    "+81-90-7777-1234",
    "09077771234",
    "7777",
    "秘密のメモXYZ",
    "山田太郎",
];

fn june(day: u32, hour: u32) -> DateTime<Utc> {
    format!("2026-06-{day:02}T{hour:02}:00:00Z")
        .parse()
        .expect("test instant")
}

fn cutoff() -> DateTime<Utc> {
    "2026-07-01T00:00:00Z".parse().expect("test instant")
}

fn run_at() -> DateTime<Utc> {
    "2027-07-01T00:00:00Z".parse().expect("test instant")
}

/// A June call from the marked number, classified with a marked note, and a marked
/// counter case; `id` distinguishes several.
async fn seed_june(ctx: &Ctx, id: &str, day: u32) {
    let mut call = full_record(id, june(day, 1));
    call.caller = "+81-90-7777-1234".into();
    call.sip_call_id = format!("09077771234-{id}@198.51.100.7");
    call.dtmf = vec!["0".into(), "9".into(), "0".into(), "7777".into()];
    call.events.push(CallEvent {
        seq: 4,
        at: june(day, 1),
        kind: "transfer_refused".into(),
        detail: serde_json::json!({ "refer_to": "sip:09077771234@198.51.100.9" }),
    });
    ctx.store.insert_call(&call).await.expect("call stored");
    ctx.store
        .classify(
            &NewClassification {
                call_id: id.into(),
                category: "イ".into(),
                outcome: Outcome::ResolvedFaq,
                complaint: true,
                escalated: false,
                faq_id: None,
                note: Some("秘密のメモXYZ 山田太郎様 090-7777-1234".into()),
                operator: "op-1".into(),
            },
            june(day, 2),
        )
        .await
        .expect("classified");
    // A second filing, so the history holds two notes.
    ctx.store
        .classify(
            &NewClassification {
                call_id: id.into(),
                category: "ウ".into(),
                outcome: Outcome::ResolvedFaq,
                complaint: true,
                escalated: false,
                faq_id: None,
                note: Some("秘密のメモXYZ 折り返し 09077771234".into()),
                operator: "op-1".into(),
            },
            june(day, 3),
        )
        .await
        .expect("re-classified");
    ctx.store
        .add_counter_case(
            &NewCounterCase {
                details: CaseDetails {
                    kind: CounterKind::NewApplication,
                    outcome: CounterOutcome::Completed,
                    seat: "A".into(),
                    fee_payment_confirmed: None,
                    note: Some("山田太郎 090-7777-1234 秘密のメモXYZ".into()),
                },
                staff: "staff-1".into(),
                node_id: "node-a".into(),
            },
            june(day, 4),
        )
        .await
        .expect("counter case stored");
}

/// Every stored text of the tables that hold residents' data, one string per row.
async fn all_text(ctx: &Ctx) -> Vec<String> {
    let tables = [
        "calls",
        "call_events",
        "classifications",
        "classification_history",
        "counter_cases",
        "recordings",
    ];
    let mut rows = Vec::new();
    for table in tables {
        match &ctx.raw {
            // PostgreSQL renders a whole row as text; SQLite has no row value, so its
            // columns are read one by one from the table's own column list.
            Raw::Postgres(pool) => {
                let sql = format!("SELECT t::text FROM {table} t");
                let texts: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
                    .fetch_all(pool)
                    .await
                    .expect("rows as text");
                rows.extend(texts);
            }
            Raw::Sqlite(pool) => {
                let sql = format!("SELECT name FROM pragma_table_info('{table}')");
                let columns: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
                    .fetch_all(pool)
                    .await
                    .expect("columns");
                let joined = columns
                    .iter()
                    .map(|c| format!("coalesce(CAST({c} AS TEXT), '')"))
                    .collect::<Vec<_>>()
                    .join(" || '|' || ");
                let sql = format!("SELECT {joined} FROM {table}");
                let texts: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
                    .fetch_all(pool)
                    .await
                    .expect("rows as text");
                rows.extend(texts);
            }
        }
    }
    rows
}

fn marked(rows: &[String]) -> Vec<&String> {
    rows.iter()
        .filter(|row| MARKERS.iter().any(|m| row.contains(m)))
        .collect()
}

async fn no_personal_value_survives_anonymisation_and_report_figures_do(ctx: Ctx) {
    seed_june(&ctx, "c1", 3).await;
    seed_june(&ctx, "c2", 4).await;
    let june_report = ReportQuery::new(june(1, 0) - Duration::hours(9), cutoff());
    let before = ctx
        .store
        .report_figures(&june_report)
        .await
        .expect("report");
    assert!(
        !marked(&all_text(&ctx).await).is_empty(),
        "the markers are stored"
    );

    let counts = ctx
        .store
        .anonymise_before(cutoff(), run_at())
        .await
        .expect("anonymised");

    assert_eq!(
        counts,
        AnonymisedCounts {
            calls: 2,
            events: 6,
            notes: 6,
            counter_notes: 2,
        }
    );
    ctx.store
        .compact_after_retention()
        .await
        .expect("checkpointed or vacuumed");
    let rows = all_text(&ctx).await;
    assert_eq!(marked(&rows), Vec::<&String>::new());
    let after = ctx
        .store
        .report_figures(&june_report)
        .await
        .expect("report");
    assert_eq!(after, before, "the month's figures are unchanged");
    let call = ctx.store.get_call("c1").await.expect("read").expect("kept");
    assert_eq!(call.caller, "");
    assert_eq!(call.operator.as_deref(), Some("op-1"));
    assert_eq!(call.talk_ms, Some(80_999));
}

async fn anonymisation_runs_again_without_changing_anything(ctx: Ctx) {
    seed_june(&ctx, "c1", 3).await;
    ctx.store
        .anonymise_before(cutoff(), run_at())
        .await
        .expect("anonymised");
    let rows = all_text(&ctx).await;
    let again = ctx
        .store
        .anonymise_before(cutoff(), run_at() + Duration::days(1))
        .await
        .expect("anonymised again");
    assert_eq!(again, AnonymisedCounts::default());
    assert_eq!(
        all_text(&ctx).await,
        rows,
        "nothing changed, anonymised_at included"
    );
}

async fn data_younger_than_the_cutoff_is_kept(ctx: Ctx) {
    seed_june(&ctx, "c1", 3).await;
    let counts = ctx
        .store
        .anonymise_before(june(3, 0), run_at())
        .await
        .expect("ran");
    assert_eq!(counts, AnonymisedCounts::default());
    let call = ctx.store.get_call("c1").await.expect("read").expect("kept");
    assert_eq!(call.caller, "+81-90-7777-1234");
    let filed = ctx
        .store
        .classification("c1")
        .await
        .expect("read")
        .expect("kept");
    assert!(filed.note.is_some_and(|n| n.contains("秘密のメモXYZ")));
}

async fn recordings_past_the_cutoff_are_listed_until_marked_purged(ctx: Ctx) {
    for (id, day, status) in [
        ("old", 3, RecordingStatus::Complete),
        ("open", 4, RecordingStatus::Recording),
        ("new", 30, RecordingStatus::Complete),
    ] {
        ctx.store
            .recording_started(&NewRecording {
                call_id: id.into(),
                file: format!("2026/06/{id}.wav"),
                started_at: june(day, 1),
                node_id: "node-a".into(),
            })
            .await
            .expect("started");
        if status == RecordingStatus::Complete {
            ctx.store
                .recording_finished(
                    id,
                    &FinishedRecording {
                        ended_at: june(day, 2),
                        duration_ms: 1000,
                        bytes: 44,
                        sha256: Some("0".repeat(64)),
                        paused: vec![],
                        status,
                        error: None,
                    },
                )
                .await
                .expect("finished");
        }
    }
    let due = ctx
        .store
        .recordings_due_for_purge(june(10, 0))
        .await
        .expect("listed");
    let ids: Vec<&str> = due.iter().map(|d| d.call_id.as_str()).collect();
    assert_eq!(ids, ["old"], "finished and started before the cutoff");
    assert_eq!(due[0].file, "2026/06/old.wav");
    assert!(ctx
        .store
        .mark_recording_purged("old", run_at())
        .await
        .expect("marked"));
    assert!(!ctx
        .store
        .mark_recording_purged("old", run_at())
        .await
        .expect("marked once"));
    assert!(ctx
        .store
        .recordings_due_for_purge(june(10, 0))
        .await
        .expect("listed")
        .is_empty());
}

fn audit_at(at: DateTime<Utc>, subject: &str) -> AuditEntry {
    AuditEntry {
        at,
        login: "sato".into(),
        role: Role::Manager,
        action: actions::CALL_VIEW.into(),
        subject: Some(subject.into()),
        detail: None,
        source: Some("192.0.2.7".into()),
    }
}

async fn raw_error(ctx: &Ctx, sql: &str) -> Option<String> {
    let result = match &ctx.raw {
        Raw::Sqlite(pool) => sqlx::query(sqlx::AssertSqlSafe(sql.to_owned()))
            .execute(pool)
            .await
            .map(drop),
        Raw::Postgres(pool) => sqlx::query(sqlx::AssertSqlSafe(sql.to_owned()))
            .execute(pool)
            .await
            .map(drop),
    };
    result.err().map(|e| e.to_string())
}

async fn subjects(ctx: &Ctx) -> Vec<String> {
    ctx.store
        .audit_entries(&AuditQuery::default())
        .await
        .expect("listed")
        .items
        .into_iter()
        .filter_map(|r| r.entry.subject)
        .collect()
}

async fn only_audit_entries_past_the_horizon_can_be_deleted(ctx: Ctx) {
    let now = Utc::now();
    for (at, subject) in [
        (now - Duration::days(3000), "ancient"),
        (now - Duration::days(400), "last-year"),
        (now - Duration::days(10), "recent"),
    ] {
        ctx.store
            .audit(&audit_at(at, subject))
            .await
            .expect("audited");
    }
    // Before any purge, the horizon is at 1970: nothing can be deleted by hand.
    let refused = raw_error(&ctx, "DELETE FROM audit_log").await;
    assert!(
        refused
            .as_deref()
            .is_some_and(|e| e.contains("append-only")),
        "{refused:?}"
    );

    let deleted = ctx
        .store
        .purge_audit_log(now - Duration::days(1827))
        .await
        .expect("purged");
    assert_eq!(deleted, 1);
    assert_eq!(subjects(&ctx).await, ["recent", "last-year"]);
    // Past the horizon is nothing left; a hand-typed DELETE of a newer row still fails.
    let refused = raw_error(&ctx, "DELETE FROM audit_log WHERE subject = 'recent'").await;
    assert!(
        refused
            .as_deref()
            .is_some_and(|e| e.contains("append-only")),
        "{refused:?}"
    );
    // A cutoff asking for a week still deletes nothing younger than a year.
    let deleted = ctx
        .store
        .purge_audit_log(now - Duration::days(7))
        .await
        .expect("purged");
    assert_eq!(deleted, 1, "only the entry older than a year");
    assert_eq!(subjects(&ctx).await, ["recent"]);
}

async fn the_audit_horizon_moves_only_forward_and_stays_a_year_back(ctx: Ctx) {
    ctx.store
        .purge_audit_log(Utc::now() - Duration::days(2000))
        .await
        .expect("horizon moved");
    let (back, forward) = match ctx.kind {
        Kind::Sqlite => (
            "UPDATE audit_log_horizon SET purge_before = '1999-01-01T00:00:00.000Z'",
            "UPDATE audit_log_horizon SET purge_before = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')",
        ),
        Kind::Postgres => (
            "UPDATE audit_log_horizon SET purge_before = '1999-01-01T00:00:00Z'",
            "UPDATE audit_log_horizon SET purge_before = now()",
        ),
    };
    for sql in [back, forward, "DELETE FROM audit_log_horizon"] {
        let refused = raw_error(&ctx, sql).await;
        assert!(
            refused
                .as_deref()
                .is_some_and(|e| e.contains("audit horizon")),
            "{sql}: {refused:?}"
        );
    }
}

/// A counter tablet's June: a warning, a silence, back at 23:30 on the last day, then a beat
/// just after the cutoff (2026-07-01 00:10).
async fn seed_device_june(ctx: &Ctx) {
    use madoguchi_store::{Beat, DeviceStatus, NewDevice};
    let beat = |status, rtt_ms| Beat {
        status,
        detail: None,
        rtt_ms,
    };
    ctx.store
        .device_add(
            &NewDevice::new("counter-1", "窓口1", "本庁舎1階"),
            june(1, 0),
        )
        .await
        .expect("device added");
    for (when, status) in [
        (june(10, 1), DeviceStatus::Ok),
        (june(10, 3), DeviceStatus::Warning),
    ] {
        ctx.store
            .device_beat("counter-1", when, &beat(status, Some(80)))
            .await
            .expect("beat");
    }
    let silent = ctx.store.mark_silent(june(10, 6)).await.expect("checked");
    assert_eq!(silent.len(), 1, "silent after three hours");
    let last_june: DateTime<Utc> = "2026-06-30T23:30:00Z".parse().expect("instant");
    let first_july: DateTime<Utc> = "2026-07-01T00:10:00Z".parse().expect("instant");
    for when in [last_june, first_july] {
        ctx.store
            .device_beat("counter-1", when, &beat(DeviceStatus::Ok, Some(90)))
            .await
            .expect("beat");
    }
}

/// The device events and hourly beats from 1 June to the run.
async fn device_history(ctx: &Ctx) -> (Vec<DeviceEvent>, Vec<DeviceBeatsHour>) {
    let (from, to) = (june(1, 0), run_at());
    let events = ctx.store.device_events(from, to).await.expect("events");
    let hours = ctx
        .store
        .device_beats_hourly(from, to)
        .await
        .expect("hours");
    (events, hours)
}

async fn device_history_past_the_cutoff_is_deleted_and_younger_is_kept(ctx: Ctx) {
    seed_device_june(&ctx).await;
    let (events_before, hours_before) = device_history(&ctx).await;

    let purged = ctx
        .store
        .purge_device_history(cutoff())
        .await
        .expect("purged");

    let (events, hours) = device_history(&ctx).await;
    assert!(events.iter().all(|e| e.at >= cutoff()), "{events:?}");
    // The hour 23:00–24:00 on 30 June ended at the cutoff: gone; 1 July 00:00 stays.
    let kept: Vec<DateTime<Utc>> = hours.iter().map(|h| h.hour).collect();
    assert_eq!(kept, [cutoff()], "{hours:?}");
    assert_eq!(purged.events as usize, events_before.len() - events.len());
    assert_eq!(purged.hours as usize, hours_before.len() - hours.len());
    assert!(
        purged.events >= 3,
        "status, silent and back of June: {purged:?}"
    );
    // The device itself stays, and a second run finds nothing more.
    assert_eq!(ctx.store.devices().await.expect("devices").len(), 1);
    let again = ctx
        .store
        .purge_device_history(cutoff())
        .await
        .expect("purged again");
    assert_eq!(again, madoguchi_store::DeviceHistoryPurged::default());
}
