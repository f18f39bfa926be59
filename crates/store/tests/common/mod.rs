//! Test harness: each scenario runs once on a temp-file SQLite and once on PostgreSQL.
//!
//! PostgreSQL is `MADOGUCHI_TEST_PG_URL`, default `postgres://postgres@127.0.0.1:5432/test`.
//! Every PostgreSQL run gets a fresh schema (`t_<pid>_<n>_<nanos>`) through the
//! connection's `search_path`, dropped afterwards even when the scenario panics, so parallel
//! runs never see each other. An unreachable PostgreSQL fails the test: CI starts one.
#![allow(dead_code)] // each test binary uses a different part of the harness

use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::str::FromStr;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use chrono::{DateTime, TimeZone, Utc};
use madoguchi_store::{CallEvent, CallRecord, Disposition, HangupSide, Store};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqlitePool};
use sqlx::AssertSqlSafe;

pub const DEFAULT_PG_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Sqlite,
    Postgres,
}

/// What a scenario gets: the store under test and a side door to the same database.
#[derive(Clone)]
pub struct Ctx {
    pub kind: Kind,
    pub store: Store,
    pub raw: Raw,
    target: Target,
}

#[derive(Clone)]
enum Target {
    SqliteFile(PathBuf),
    /// The base URL with the schema's `search_path` as a URL `options` parameter.
    PgSchemaUrl(String),
}

/// A plain sqlx pool on the store's database, for what the store API cannot do (breaking
/// a table, reading raw column text).
#[derive(Clone)]
pub enum Raw {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

impl Raw {
    pub async fn exec(&self, sql: &str) {
        let sql = AssertSqlSafe(sql.to_owned());
        let result = match self {
            Raw::Sqlite(pool) => sqlx::raw_sql(sql).execute(pool).await.map(drop),
            Raw::Postgres(pool) => sqlx::raw_sql(sql).execute(pool).await.map(drop),
        };
        if let Err(e) = result {
            panic!("raw SQL failed: {e}");
        }
    }
}

impl Ctx {
    /// The database URL as an operator would pass it (`--database-url`).
    pub fn url(&self) -> String {
        match &self.target {
            Target::SqliteFile(path) => format!("sqlite://{}", path.display()),
            Target::PgSchemaUrl(url) => url.clone(),
        }
    }

    /// A second, independent store on the same database (a second node, or a restart),
    /// opened through `Store::connect(url)`.
    pub async fn reconnect(&self) -> Store {
        Store::connect(&self.url())
            .await
            .expect("reconnecting to the test database by URL")
    }

    /// The migration file of this backend, to re-apply by hand.
    pub fn migration_sql(&self) -> &'static str {
        match self.kind {
            Kind::Sqlite => include_str!("../../../../migrations/sqlite/0001_calls.sql"),
            Kind::Postgres => include_str!("../../../../migrations/postgres/0001_calls.sql"),
        }
    }
}

type Scenario = fn(Ctx) -> Pin<Box<dyn Future<Output = ()> + Send>>;

/// Runs `scenario` on a fresh database of `kind`, then removes the database.
pub async fn run(kind: Kind, scenario: Scenario) {
    match kind {
        Kind::Sqlite => {
            let dir = tempfile::tempdir().expect("temp dir");
            let path = dir.path().join("calls.db");
            let store = Store::connect(&format!("sqlite://{}", path.display()))
                .await
                .expect("temp-file SQLite store opens");
            let raw = SqlitePool::connect_with(
                SqliteConnectOptions::new()
                    .filename(&path)
                    .foreign_keys(true),
            )
            .await
            .expect("side pool on the SQLite file");
            let ctx = Ctx {
                kind,
                store,
                raw: Raw::Sqlite(raw),
                target: Target::SqliteFile(path),
            };
            finish(tokio::spawn(scenario(ctx)).await);
        }
        Kind::Postgres => {
            let url =
                std::env::var("MADOGUCHI_TEST_PG_URL").unwrap_or_else(|_| DEFAULT_PG_URL.into());
            let base = PgConnectOptions::from_str(&url).expect("MADOGUCHI_TEST_PG_URL parses");
            let admin = PgPoolOptions::new()
                .max_connections(1)
                .connect_with(base.clone())
                .await
                .unwrap_or_else(|e| {
                    panic!(
                        "PostgreSQL is not reachable at {url} ({e}). The store tests need it: \
                         start PostgreSQL with a database `test` (trust auth), or point \
                         MADOGUCHI_TEST_PG_URL at one."
                    )
                });
            let schema = unique_schema_name();
            Raw::Postgres(admin.clone())
                .exec(&format!("CREATE SCHEMA {schema}"))
                .await;
            let options = base.options([("search_path", schema.as_str())]);
            let outcome = async {
                let store = Store::connect_postgres(options.clone())
                    .await
                    .expect("PostgreSQL store opens in the test schema");
                let raw = PgPoolOptions::new()
                    .max_connections(2)
                    .connect_with(options.clone())
                    .await
                    .expect("side pool in the test schema");
                let ctx = Ctx {
                    kind,
                    store: store.clone(),
                    raw: Raw::Postgres(raw.clone()),
                    target: Target::PgSchemaUrl(schema_url(&url, &schema)),
                };
                let outcome = tokio::spawn(scenario(ctx)).await;
                store.close().await;
                raw.close().await;
                outcome
            }
            .await;
            Raw::Postgres(admin.clone())
                .exec(&format!("DROP SCHEMA {schema} CASCADE"))
                .await;
            admin.close().await;
            finish(outcome);
        }
    }
}

fn finish(outcome: Result<(), tokio::task::JoinError>) {
    if let Err(e) = outcome {
        match e.try_into_panic() {
            Ok(panic) => std::panic::resume_unwind(panic),
            Err(e) => panic!("scenario task failed: {e}"),
        }
    }
}

fn schema_url(base: &str, schema: &str) -> String {
    let separator = if base.contains('?') { '&' } else { '?' };
    // "-c search_path=<schema>", percent-encoded for the query string.
    format!("{base}{separator}options=-c%20search_path%3D{schema}")
}

fn unique_schema_name() -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!(
        "t_{}_{}_{nanos}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// Declares `mod <scenario> { sqlite, postgres }` tests for each async scenario fn.
macro_rules! on_both_backends {
    ($($scenario:ident),* $(,)?) => {$(
        mod $scenario {
            #[tokio::test]
            async fn sqlite() {
                $crate::common::run($crate::common::Kind::Sqlite, |ctx| Box::pin(super::$scenario(ctx))).await;
            }
            #[tokio::test]
            async fn postgres() {
                $crate::common::run($crate::common::Kind::Postgres, |ctx| Box::pin(super::$scenario(ctx))).await;
            }
        }
    )*};
}

/// Declares `mod <scenario> { postgres }` tests for scenarios only PostgreSQL has (several
/// nodes, LISTEN/NOTIFY).
#[allow(unused_macros)] // only some test binaries have such scenarios
macro_rules! on_postgres {
    ($($scenario:ident),* $(,)?) => {$(
        mod $scenario {
            #[tokio::test]
            async fn postgres() {
                $crate::common::run($crate::common::Kind::Postgres, |ctx| Box::pin(super::$scenario(ctx))).await;
            }
        }
    )*};
}

/// The test PostgreSQL URL (`MADOGUCHI_TEST_PG_URL` or the default).
pub fn pg_url() -> String {
    std::env::var("MADOGUCHI_TEST_PG_URL").unwrap_or_else(|_| DEFAULT_PG_URL.into())
}

/// A new, empty schema (not migrated) and the URL that selects it; drop it with
/// [`drop_pg_schema`].
pub async fn fresh_pg_schema() -> (String, String) {
    let url = pg_url();
    let schema = unique_schema_name();
    let admin = PgPool::connect(&url).await.expect("PostgreSQL reachable");
    Raw::Postgres(admin.clone())
        .exec(&format!("CREATE SCHEMA {schema}"))
        .await;
    admin.close().await;
    let schema_url = schema_url(&url, &schema);
    (schema, schema_url)
}

pub async fn drop_pg_schema(schema: &str) {
    let admin = PgPool::connect(&pg_url())
        .await
        .expect("PostgreSQL reachable");
    Raw::Postgres(admin.clone())
        .exec(&format!("DROP SCHEMA {schema} CASCADE"))
        .await;
    admin.close().await;
}

/// 2026-01-05 00:00:00 UTC plus `seconds`.
pub fn at(seconds: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 5, 0, 0, 0)
        .single()
        .expect("valid base date")
        + chrono::Duration::seconds(seconds)
}

/// A full record: every optional field set (an operator answered, then transferred the
/// call to the city line), events with nested JSON and Japanese text.
pub fn full_record(id: &str, arrived_at: DateTime<Utc>) -> CallRecord {
    CallRecord {
        id: id.into(),
        sip_call_id: format!("{id}@trunk.example"),
        caller: "0462001234".into(),
        called: "hotline".into(),
        arrived_at,
        answered_at: Some(arrived_at + chrono::Duration::milliseconds(1500)),
        ended_at: arrived_at + chrono::Duration::seconds(95),
        entry: Some("マイナンバー窓口".into()),
        branch: Some("open".into()),
        disposition: Disposition::Transferred,
        dtmf: vec!["1".into(), "#".into()],
        hangup_side: Some(HangupSide::Caller),
        hangup_cause: Some("bye".into()),
        queue: Some("マイナンバー".into()),
        waited_ms: Some(12_345),
        operator: Some("op-1".into()),
        connected_at: Some(arrived_at + chrono::Duration::milliseconds(14_001)),
        talk_ms: Some(80_999),
        transfer_target: Some("city_line".into()),
        transfer_result: Some("answered".into()),
        menu_choice: Some("1".into()),
        answer_mode: None,
        answered_by: None,
        unanswered_ms: None,
        answered_ms: None,
        language: None,
        language_fallback: None,
        node_id: "node-a".into(),
        events: vec![
            CallEvent {
                seq: 1,
                at: arrived_at,
                kind: "invite".into(),
                detail: serde_json::json!({"from_tag": "abc", "codecs": ["PCMU", "PCMA"]}),
            },
            CallEvent {
                seq: 2,
                at: arrived_at + chrono::Duration::milliseconds(1500),
                kind: "prompt_started".into(),
                detail: serde_json::json!({"prompt": "ようこそ。マイナンバーカード相談コールセンターです。"}),
            },
            CallEvent {
                seq: 3,
                at: arrived_at + chrono::Duration::seconds(95),
                kind: "bye_received".into(),
                detail: serde_json::Value::Null,
            },
        ],
    }
}

/// A minimal record: every optional field `None`, no events.
pub fn bare_record(id: &str, arrived_at: DateTime<Utc>, disposition: Disposition) -> CallRecord {
    CallRecord {
        id: id.into(),
        sip_call_id: format!("{id}@trunk.example"),
        caller: "anonymous".into(),
        called: "hotline".into(),
        arrived_at,
        answered_at: None,
        ended_at: arrived_at + chrono::Duration::seconds(12),
        entry: None,
        branch: None,
        disposition,
        dtmf: vec![],
        hangup_side: None,
        hangup_cause: None,
        queue: None,
        waited_ms: None,
        operator: None,
        connected_at: None,
        talk_ms: None,
        transfer_target: None,
        transfer_result: None,
        menu_choice: None,
        answer_mode: None,
        answered_by: None,
        unanswered_ms: None,
        answered_ms: None,
        language: None,
        language_fallback: None,
        node_id: "node-a".into(),
        events: vec![],
    }
}
