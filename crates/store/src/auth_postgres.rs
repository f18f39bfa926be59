//! PostgreSQL queries behind the [`crate::auth`] methods of `Store`.

use chrono::{DateTime, Utc};
use sqlx::postgres::PgPool;

use crate::auth::{ApiToken, Session, SessionRow, TokenRow};
use crate::error::StoreError;
use crate::timefmt::truncate_to_millis;

pub(crate) async fn insert_session(
    pool: &PgPool,
    hash: &str,
    session: &Session,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO sessions (token_hash, login, created_at, last_seen, expires_at)
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(hash)
    .bind(&session.login)
    .bind(truncate_to_millis(session.created_at))
    .bind(truncate_to_millis(session.last_seen))
    .bind(truncate_to_millis(session.expires_at))
    .execute(pool)
    .await?;
    Ok(())
}

#[derive(sqlx::FromRow)]
struct RawSession {
    login: String,
    role: String,
    disabled: bool,
    created_at: DateTime<Utc>,
    last_seen: DateTime<Utc>,
    expires_at: DateTime<Utc>,
}

impl From<RawSession> for SessionRow {
    fn from(r: RawSession) -> SessionRow {
        SessionRow {
            login: r.login,
            role: r.role,
            disabled: r.disabled,
            created_at: r.created_at,
            last_seen: r.last_seen,
            expires_at: r.expires_at,
        }
    }
}

const SESSION_COLUMNS: &str = "s.login, u.role, u.disabled, s.created_at, s.last_seen, s.expires_at
     FROM sessions s JOIN users u ON u.login = s.login";

pub(crate) async fn get_session(
    pool: &PgPool,
    hash: &str,
) -> Result<Option<SessionRow>, StoreError> {
    let sql = format!("SELECT {SESSION_COLUMNS} WHERE s.token_hash = $1");
    let row = sqlx::query_as::<_, RawSession>(sqlx::AssertSqlSafe(sql))
        .bind(hash)
        .fetch_optional(pool)
        .await?;
    Ok(row.map(SessionRow::from))
}

pub(crate) async fn sessions_of(pool: &PgPool, login: &str) -> Result<Vec<SessionRow>, StoreError> {
    let sql = format!("SELECT {SESSION_COLUMNS} WHERE s.login = $1 ORDER BY s.created_at");
    let rows = sqlx::query_as::<_, RawSession>(sqlx::AssertSqlSafe(sql))
        .bind(login)
        .fetch_all(pool)
        .await?;
    Ok(rows.into_iter().map(SessionRow::from).collect())
}

pub(crate) async fn touch_session(
    pool: &PgPool,
    hash: &str,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE sessions SET last_seen = $2 WHERE token_hash = $1")
        .bind(hash)
        .bind(truncate_to_millis(now))
        .execute(pool)
        .await?;
    Ok(())
}

pub(crate) async fn delete_session(pool: &PgPool, hash: &str) -> Result<bool, StoreError> {
    let deleted = sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
        .bind(hash)
        .execute(pool)
        .await?
        .rows_affected();
    Ok(deleted > 0)
}

pub(crate) async fn delete_other_sessions(
    pool: &PgPool,
    login: &str,
    keep_hash: &str,
) -> Result<u64, StoreError> {
    let deleted = sqlx::query("DELETE FROM sessions WHERE login = $1 AND token_hash <> $2")
        .bind(login)
        .bind(keep_hash)
        .execute(pool)
        .await?
        .rows_affected();
    Ok(deleted)
}

pub(crate) async fn purge_sessions(
    pool: &PgPool,
    now: DateTime<Utc>,
    idle_since: DateTime<Utc>,
) -> Result<u64, StoreError> {
    let deleted = sqlx::query("DELETE FROM sessions WHERE expires_at <= $1 OR last_seen <= $2")
        .bind(now)
        .bind(idle_since)
        .execute(pool)
        .await?
        .rows_affected();
    Ok(deleted)
}

pub(crate) async fn insert_token(
    pool: &PgPool,
    hash: &str,
    login: &str,
    label: Option<&str>,
    now: DateTime<Utc>,
) -> Result<i64, StoreError> {
    let id = sqlx::query_scalar(
        "INSERT INTO api_tokens (token_hash, login, label, created_at) VALUES ($1, $2, $3, $4)
         RETURNING id",
    )
    .bind(hash)
    .bind(login)
    .bind(label)
    .bind(truncate_to_millis(now))
    .fetch_one(pool)
    .await?;
    Ok(id)
}

pub(crate) async fn get_token(pool: &PgPool, hash: &str) -> Result<Option<TokenRow>, StoreError> {
    type Row = (i64, String, String, bool, Option<DateTime<Utc>>);
    let row: Option<Row> = sqlx::query_as(
        "SELECT t.id, t.login, u.role, u.disabled, t.last_used_at
         FROM api_tokens t JOIN users u ON u.login = t.login WHERE t.token_hash = $1",
    )
    .bind(hash)
    .fetch_optional(pool)
    .await?;
    Ok(
        row.map(|(id, login, role, disabled, last_used_at)| TokenRow {
            id,
            login,
            role,
            disabled,
            last_used_at,
        }),
    )
}

pub(crate) async fn touch_token(
    pool: &PgPool,
    id: i64,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE api_tokens SET last_used_at = $2 WHERE id = $1")
        .bind(id)
        .bind(truncate_to_millis(now))
        .execute(pool)
        .await?;
    Ok(())
}

pub(crate) async fn tokens_of(pool: &PgPool, login: &str) -> Result<Vec<ApiToken>, StoreError> {
    type Row = (
        i64,
        String,
        Option<String>,
        DateTime<Utc>,
        Option<DateTime<Utc>>,
    );
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT id, login, label, created_at, last_used_at FROM api_tokens
         WHERE login = $1 ORDER BY id",
    )
    .bind(login)
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(id, login, label, created_at, last_used_at)| ApiToken {
            id,
            login,
            label,
            created_at,
            last_used_at,
        })
        .collect())
}

pub(crate) async fn delete_tokens(pool: &PgPool, login: &str) -> Result<u64, StoreError> {
    let deleted = sqlx::query("DELETE FROM api_tokens WHERE login = $1")
        .bind(login)
        .execute(pool)
        .await?
        .rows_affected();
    Ok(deleted)
}
