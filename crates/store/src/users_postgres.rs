//! PostgreSQL queries behind the [`crate::users`] methods of `Store`.
//!
//! Timestamps are `timestamptz`, written truncated to milliseconds like everywhere else.

use chrono::{DateTime, Utc};
use sqlx::postgres::PgPool;

use crate::error::StoreError;
use crate::timefmt::truncate_to_millis;
use crate::users::{
    DigestAlgorithm, OperatorStateChange, Registration, SipDirectoryRow, UserInsert, UserRow,
};

#[derive(sqlx::FromRow)]
struct Row {
    login: String,
    role: String,
    sip_enabled: bool,
    display_name: Option<String>,
    created_at: DateTime<Utc>,
    disabled: bool,
    languages: String,
}

impl From<Row> for UserRow {
    fn from(r: Row) -> UserRow {
        UserRow {
            login: r.login,
            role: r.role,
            sip_enabled: r.sip_enabled,
            display_name: r.display_name,
            created_at: r.created_at,
            disabled: r.disabled,
            languages: r.languages,
        }
    }
}

const USER_COLUMNS: &str =
    "login, role, sip_enabled, display_name, created_at, disabled, languages::text AS languages";

pub(crate) async fn insert_user(
    pool: &PgPool,
    user: &UserInsert<'_>,
) -> Result<UserRow, StoreError> {
    let sql = format!(
        "INSERT INTO users (login, role, password_hash, sip_enabled, ha1_md5, ha1_sha256,
                            display_name)
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING {USER_COLUMNS}"
    );
    let row = sqlx::query_as::<_, Row>(sqlx::AssertSqlSafe(sql))
        .bind(user.login)
        .bind(user.role.as_str())
        .bind(&user.password_hash)
        .bind(user.sip_enabled)
        .bind(&user.ha1_md5)
        .bind(&user.ha1_sha256)
        .bind(user.display_name)
        .fetch_one(pool)
        .await?;
    Ok(row.into())
}

pub(crate) async fn get_user_with_hash(
    pool: &PgPool,
    login: &str,
) -> Result<Option<(UserRow, String)>, StoreError> {
    #[derive(sqlx::FromRow)]
    struct WithHash {
        #[sqlx(flatten)]
        row: Row,
        password_hash: String,
    }
    let sql = format!("SELECT {USER_COLUMNS}, password_hash FROM users WHERE login = $1");
    let found = sqlx::query_as::<_, WithHash>(sqlx::AssertSqlSafe(sql))
        .bind(login)
        .fetch_optional(pool)
        .await?;
    Ok(found.map(|f| (f.row.into(), f.password_hash)))
}

pub(crate) async fn list_users(pool: &PgPool) -> Result<Vec<UserRow>, StoreError> {
    let sql = format!("SELECT {USER_COLUMNS} FROM users ORDER BY login");
    let rows = sqlx::query_as::<_, Row>(sqlx::AssertSqlSafe(sql))
        .fetch_all(pool)
        .await?;
    Ok(rows.into_iter().map(UserRow::from).collect())
}

pub(crate) async fn digest_ha1(
    pool: &PgPool,
    login: &str,
    algorithm: DigestAlgorithm,
) -> Result<Option<String>, StoreError> {
    let sql = match algorithm {
        DigestAlgorithm::Md5 => {
            "SELECT ha1_md5 FROM users WHERE login = $1 AND sip_enabled AND NOT disabled"
        }
        DigestAlgorithm::Sha256 => {
            "SELECT ha1_sha256 FROM users WHERE login = $1 AND sip_enabled AND NOT disabled"
        }
    };
    let ha1: Option<Option<String>> = sqlx::query_scalar(sql)
        .bind(login)
        .fetch_optional(pool)
        .await?;
    Ok(ha1.flatten())
}

pub(crate) async fn insert_state_change(
    pool: &PgPool,
    change: &OperatorStateChange,
    node_id: &str,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO operator_state_changes (login, at, status, reason, node_id) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(&change.login)
    .bind(truncate_to_millis(change.at))
    .bind(&change.status)
    .bind(&change.reason)
    .bind(node_id)
    .execute(pool)
    .await?;
    Ok(())
}

pub(crate) async fn state_changes(
    pool: &PgPool,
    login: &str,
) -> Result<Vec<OperatorStateChange>, StoreError> {
    let rows: Vec<StateRow> = sqlx::query_as(
        "SELECT login, at, status, reason FROM operator_state_changes
         WHERE login = $1 ORDER BY at, id",
    )
    .bind(login)
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(decode_state).collect())
}

pub(crate) async fn latest_state_changes(
    pool: &PgPool,
) -> Result<Vec<OperatorStateChange>, StoreError> {
    let rows: Vec<StateRow> = sqlx::query_as(
        "SELECT login, at, status, reason FROM (
             SELECT login, at, status, reason,
                    ROW_NUMBER() OVER (PARTITION BY login ORDER BY at DESC, id DESC) AS newest
             FROM operator_state_changes
         ) AS ranked WHERE newest = 1 ORDER BY login",
    )
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(decode_state).collect())
}

type StateRow = (String, DateTime<Utc>, String, Option<String>);

fn decode_state((login, at, status, reason): StateRow) -> OperatorStateChange {
    OperatorStateChange {
        login,
        at,
        status,
        reason,
    }
}

pub(crate) async fn sip_directory(pool: &PgPool) -> Result<Vec<SipDirectoryRow>, StoreError> {
    let rows = sqlx::query_as(
        "SELECT login, role, ha1_md5, ha1_sha256 FROM users
         WHERE sip_enabled AND NOT disabled ORDER BY login",
    )
    .fetch_all(pool)
    .await?;
    Ok(rows)
}

pub(crate) async fn save_registration(pool: &PgPool, r: &Registration) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO registrations
             (login, contact, source, transport, call_id, cseq, expires_at, node_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
         ON CONFLICT (login, contact) DO UPDATE SET
             source = excluded.source, transport = excluded.transport,
             call_id = excluded.call_id, cseq = excluded.cseq, expires_at = excluded.expires_at,
             node_id = excluded.node_id",
    )
    .bind(&r.login)
    .bind(&r.contact)
    .bind(&r.source)
    .bind(&r.transport)
    .bind(&r.call_id)
    .bind(i64::from(r.cseq))
    .bind(truncate_to_millis(r.expires_at))
    .bind(&r.node_id)
    .execute(pool)
    .await?;
    Ok(())
}

pub(crate) async fn delete_registration(
    pool: &PgPool,
    login: &str,
    contact: &str,
) -> Result<bool, StoreError> {
    let deleted = sqlx::query("DELETE FROM registrations WHERE login = $1 AND contact = $2")
        .bind(login)
        .bind(contact)
        .execute(pool)
        .await?
        .rows_affected();
    Ok(deleted > 0)
}

#[derive(sqlx::FromRow)]
struct RegistrationRow {
    login: String,
    contact: String,
    source: String,
    transport: String,
    call_id: String,
    cseq: i64,
    expires_at: DateTime<Utc>,
    node_id: String,
}

pub(crate) async fn load_registrations(
    pool: &PgPool,
    node_id: &str,
    now: DateTime<Utc>,
) -> Result<Vec<Registration>, StoreError> {
    let rows = sqlx::query_as::<_, RegistrationRow>(
        "SELECT login, contact, source, transport, call_id, cseq, expires_at, node_id
         FROM registrations WHERE node_id = $1 AND expires_at > $2
         ORDER BY login, contact",
    )
    .bind(node_id)
    .bind(now)
    .fetch_all(pool)
    .await?;
    rows.into_iter()
        .map(|r| {
            let cseq = u32::try_from(r.cseq).map_err(|_| StoreError::CorruptUser {
                login: r.login.clone(),
                column: "registrations.cseq",
            })?;
            Ok(Registration {
                login: r.login,
                contact: r.contact,
                source: r.source,
                transport: r.transport,
                call_id: r.call_id,
                cseq,
                expires_at: r.expires_at,
                node_id: r.node_id,
            })
        })
        .collect()
}

pub(crate) async fn set_languages(
    pool: &PgPool,
    login: &str,
    languages_json: &str,
) -> Result<bool, StoreError> {
    let updated = sqlx::query("UPDATE users SET languages = $2::jsonb WHERE login = $1")
        .bind(login)
        .bind(languages_json)
        .execute(pool)
        .await?
        .rows_affected();
    Ok(updated > 0)
}
