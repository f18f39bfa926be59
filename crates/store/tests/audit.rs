//! The audit log (`madoguchi_store::audit`), specified once and checked on SQLite and
//! PostgreSQL.

#[macro_use]
mod common;

use common::{at, Ctx};
use madoguchi_store::audit::actions;
use madoguchi_store::{AuditEntry, AuditError, AuditQuery, Role, MAX_AUDIT_PAGE};

on_both_backends!(
    an_entry_reads_back_as_written_with_its_id,
    entries_are_listed_newest_first,
    the_filters_select_by_time_login_and_action,
    pages_follow_each_other_and_the_total_counts_all,
    entries_cannot_be_changed_or_deleted,
    a_malformed_entry_is_refused,
    the_log_outlives_the_user_it_names,
    the_migration_runs_twice_harmlessly_and_keeps_the_log,
);

fn entry(login: &str, action: &str, subject: &str, seconds: i64) -> AuditEntry {
    AuditEntry {
        at: at(seconds),
        login: login.into(),
        role: Role::Manager,
        action: action.into(),
        subject: Some(subject.into()),
        detail: None,
        source: Some("192.0.2.7".into()),
    }
}

async fn write(ctx: &Ctx, entries: &[AuditEntry]) -> Vec<i64> {
    let mut ids = Vec::new();
    for e in entries {
        ids.push(ctx.store.audit(e).await.expect("audited"));
    }
    ids
}

async fn subjects(ctx: &Ctx, q: &AuditQuery) -> Vec<String> {
    ctx.store
        .audit_entries(q)
        .await
        .expect("listed")
        .items
        .into_iter()
        .filter_map(|r| r.entry.subject)
        .collect()
}

async fn an_entry_reads_back_as_written_with_its_id(ctx: Ctx) {
    let written = AuditEntry {
        at: at(100) + chrono::Duration::microseconds(1_234_567),
        login: "sato".into(),
        role: Role::Admin,
        action: actions::AUDIT_EXPORT.into(),
        subject: None,
        detail: Some("format=csv from=2026-01-01".into()),
        source: Some("2001:db8::7".into()),
    };
    let id = ctx.store.audit(&written).await.expect("audited");
    let page = ctx
        .store
        .audit_entries(&AuditQuery::default())
        .await
        .expect("listed");
    assert_eq!(page.total, 1);
    assert_eq!(page.items[0].id, id);
    let expected = AuditEntry {
        // Kept to the millisecond.
        at: at(101) + chrono::Duration::milliseconds(234),
        ..written
    };
    assert_eq!(page.items[0].entry, expected);
}

async fn entries_are_listed_newest_first(ctx: Ctx) {
    write(
        &ctx,
        &[
            entry("sato", actions::RECORDING_LISTEN, "b", 200),
            entry("sato", actions::RECORDING_LISTEN, "a", 100),
            // Same instant as "b": the later id is newer.
            entry("sato", actions::RECORDING_LISTEN, "c", 200),
            entry("sato", actions::RECORDING_LISTEN, "d", 300),
        ],
    )
    .await;
    assert_eq!(
        subjects(&ctx, &AuditQuery::default()).await,
        ["d", "c", "b", "a"]
    );
}

async fn the_filters_select_by_time_login_and_action(ctx: Ctx) {
    write(
        &ctx,
        &[
            entry("sato", actions::RECORDING_LISTEN, "s-listen-99", 99),
            entry("sato", actions::RECORDING_LISTEN, "s-listen-100", 100),
            entry("sato", actions::RECORDING_DOWNLOAD, "s-download-150", 150),
            entry("suzuki", actions::RECORDING_LISTEN, "k-listen-150", 150),
            entry("sato", actions::RECORDING_LISTEN, "s-listen-200", 200),
        ],
    )
    .await;
    let window = AuditQuery {
        from: Some(at(100)),
        to: Some(at(200)),
        ..AuditQuery::default()
    };
    assert_eq!(
        subjects(&ctx, &window).await,
        ["k-listen-150", "s-download-150", "s-listen-100"],
        "from is inclusive, to exclusive"
    );
    let sato_listening = AuditQuery {
        login: Some("sato".into()),
        action: Some(actions::RECORDING_LISTEN.into()),
        ..AuditQuery::default()
    };
    assert_eq!(
        subjects(&ctx, &sato_listening).await,
        ["s-listen-200", "s-listen-100", "s-listen-99"]
    );
    let everything = AuditQuery {
        login: Some("suzuki".into()),
        action: Some(actions::RECORDING_LISTEN.into()),
        ..window
    };
    assert_eq!(subjects(&ctx, &everything).await, ["k-listen-150"]);
    let nobody = AuditQuery {
        login: Some("nobody".into()),
        ..AuditQuery::default()
    };
    let page = ctx.store.audit_entries(&nobody).await.expect("listed");
    assert_eq!((page.items.len(), page.total), (0, 0));
}

async fn pages_follow_each_other_and_the_total_counts_all(ctx: Ctx) {
    let entries: Vec<AuditEntry> = (0..7)
        .map(|n| entry("sato", actions::RECORDING_LISTEN, &format!("c{n}"), n))
        .collect();
    write(&ctx, &entries).await;
    let page = |offset| AuditQuery {
        limit: 3,
        offset,
        ..AuditQuery::default()
    };
    let first = ctx.store.audit_entries(&page(0)).await.expect("page 1");
    assert_eq!(first.total, 7);
    assert_eq!(subjects(&ctx, &page(0)).await, ["c6", "c5", "c4"]);
    assert_eq!(subjects(&ctx, &page(3)).await, ["c3", "c2", "c1"]);
    assert_eq!(subjects(&ctx, &page(6)).await, ["c0"]);
    assert!(subjects(&ctx, &page(9)).await.is_empty());
    let huge = AuditQuery {
        limit: u32::MAX,
        ..AuditQuery::default()
    };
    let all = ctx.store.audit_entries(&huge).await.expect("clamped");
    assert_eq!(
        all.items.len(),
        7,
        "a limit past {MAX_AUDIT_PAGE} is clamped, not refused"
    );
}

async fn entries_cannot_be_changed_or_deleted(ctx: Ctx) {
    write(&ctx, &[entry("sato", actions::RECORDING_LISTEN, "c1", 100)]).await;
    let mut statements = vec![
        "UPDATE audit_log SET login = 'someone-else'",
        "UPDATE audit_log SET at = at",
        "DELETE FROM audit_log",
        "DELETE FROM audit_log WHERE subject = 'c1'",
    ];
    if ctx.kind == common::Kind::Postgres {
        statements.push("TRUNCATE audit_log");
    }
    for sql in statements {
        let refused = match &ctx.raw {
            common::Raw::Sqlite(pool) => sqlx::query(sql).execute(pool).await.err(),
            common::Raw::Postgres(pool) => sqlx::query(sql).execute(pool).await.err(),
        };
        let Some(err) = refused else {
            panic!("{sql} was allowed on {:?}", ctx.kind);
        };
        assert!(err.to_string().contains("append-only"), "{sql}: {err}");
    }
    assert_eq!(
        subjects(&ctx, &AuditQuery::default()).await,
        ["c1"],
        "the entry is as written"
    );
    let page = ctx
        .store
        .audit_entries(&AuditQuery::default())
        .await
        .expect("listed");
    assert_eq!(page.items[0].entry.login, "sato");
}

async fn a_malformed_entry_is_refused(ctx: Ctx) {
    let mut bad_action = entry("sato", "Listen!", "c1", 100);
    let err = ctx.store.audit(&bad_action).await.expect_err("refused");
    assert!(matches!(err, AuditError::BadAction), "{err}");
    bad_action.action = actions::RECORDING_LISTEN.into();
    bad_action.detail = Some("長".repeat(201));
    let err = ctx.store.audit(&bad_action).await.expect_err("refused");
    assert!(matches!(err, AuditError::TextTooLong), "{err}");
    let page = ctx
        .store
        .audit_entries(&AuditQuery::default())
        .await
        .expect("listed");
    assert_eq!(page.total, 0);
}

async fn the_log_outlives_the_user_it_names(ctx: Ctx) {
    // No foreign key to users: an entry may name a login that no longer (or never) existed.
    write(
        &ctx,
        &[entry(
            "gone-manager",
            actions::RECORDING_DOWNLOAD,
            "c1",
            100,
        )],
    )
    .await;
    let page = ctx
        .store
        .audit_entries(&AuditQuery::default())
        .await
        .expect("listed");
    assert_eq!(page.items[0].entry.login, "gone-manager");
}

async fn the_migration_runs_twice_harmlessly_and_keeps_the_log(ctx: Ctx) {
    write(&ctx, &[entry("sato", actions::RECORDING_LISTEN, "c1", 100)]).await;
    let sql = match ctx.kind {
        common::Kind::Sqlite => include_str!("../../../migrations/sqlite/0009_recordings.sql"),
        common::Kind::Postgres => {
            include_str!("../../../migrations/postgres/0009_recordings.sql")
        }
    };
    ctx.raw.exec(sql).await;
    ctx.raw.exec(sql).await;
    assert_eq!(subjects(&ctx, &AuditQuery::default()).await, ["c1"]);
    let refused = match &ctx.raw {
        common::Raw::Sqlite(pool) => sqlx::query("DELETE FROM audit_log")
            .execute(pool)
            .await
            .is_err(),
        common::Raw::Postgres(pool) => sqlx::query("DELETE FROM audit_log")
            .execute(pool)
            .await
            .is_err(),
    };
    assert!(refused, "the triggers are still in place");
}
