//! SQLite queries behind the [`crate::auth`] methods of `Store`.

use chrono::{DateTime, Utc};
use sqlx::sqlite::SqlitePool;

use crate::auth::{ApiToken, Session, SessionRow, TokenRow};
use crate::error::StoreError;
use crate::timefmt::{from_sqlite_text, to_sqlite_text};

fn time(text: &str, login: &str, column: &'static str) -> Result<DateTime<Utc>, StoreError> {
    from_sqlite_text(text).ok_or_else(|| StoreError::CorruptUser {
        login: login.to_owned(),
        column,
    })
}

pub(crate) async fn insert_session(
    pool: &SqlitePool,
    hash: &str,
    session: &Session,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO sessions (token_hash, login, created_at, last_seen, expires_at)
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )
    .bind(hash)
    .bind(&session.login)
    .bind(to_sqlite_text(session.created_at))
    .bind(to_sqlite_text(session.last_seen))
    .bind(to_sqlite_text(session.expires_at))
    .execute(pool)
    .await?;
    Ok(())
}

#[derive(sqlx::FromRow)]
struct RawSession {
    login: String,
    role: String,
    disabled: bool,
    created_at: String,
    last_seen: String,
    expires_at: String,
}

impl RawSession {
    fn decode(self) -> Result<SessionRow, StoreError> {
        Ok(SessionRow {
            created_at: time(&self.created_at, &self.login, "sessions.created_at")?,
            last_seen: time(&self.last_seen, &self.login, "sessions.last_seen")?,
            expires_at: time(&self.expires_at, &self.login, "sessions.expires_at")?,
            login: self.login,
            role: self.role,
            disabled: self.disabled,
        })
    }
}

const SESSION_COLUMNS: &str = "s.login, u.role, u.disabled, s.created_at, s.last_seen, s.expires_at
     FROM sessions s JOIN users u ON u.login = s.login";

pub(crate) async fn get_session(
    pool: &SqlitePool,
    hash: &str,
) -> Result<Option<SessionRow>, StoreError> {
    let sql = format!("SELECT {SESSION_COLUMNS} WHERE s.token_hash = ?1");
    let row = sqlx::query_as::<_, RawSession>(sqlx::AssertSqlSafe(sql))
        .bind(hash)
        .fetch_optional(pool)
        .await?;
    row.map(RawSession::decode).transpose()
}

pub(crate) async fn sessions_of(
    pool: &SqlitePool,
    login: &str,
) -> Result<Vec<SessionRow>, StoreError> {
    let sql = format!("SELECT {SESSION_COLUMNS} WHERE s.login = ?1 ORDER BY s.created_at");
    let rows = sqlx::query_as::<_, RawSession>(sqlx::AssertSqlSafe(sql))
        .bind(login)
        .fetch_all(pool)
        .await?;
    rows.into_iter().map(RawSession::decode).collect()
}

pub(crate) async fn touch_session(
    pool: &SqlitePool,
    hash: &str,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE sessions SET last_seen = ?2 WHERE token_hash = ?1")
        .bind(hash)
        .bind(to_sqlite_text(now))
        .execute(pool)
        .await?;
    Ok(())
}

pub(crate) async fn delete_session(pool: &SqlitePool, hash: &str) -> Result<bool, StoreError> {
    let deleted = sqlx::query("DELETE FROM sessions WHERE token_hash = ?1")
        .bind(hash)
        .execute(pool)
        .await?
        .rows_affected();
    Ok(deleted > 0)
}

pub(crate) async fn delete_other_sessions(
    pool: &SqlitePool,
    login: &str,
    keep_hash: &str,
) -> Result<u64, StoreError> {
    let deleted = sqlx::query("DELETE FROM sessions WHERE login = ?1 AND token_hash <> ?2")
        .bind(login)
        .bind(keep_hash)
        .execute(pool)
        .await?
        .rows_affected();
    Ok(deleted)
}

pub(crate) async fn purge_sessions(
    pool: &SqlitePool,
    now: DateTime<Utc>,
    idle_since: DateTime<Utc>,
) -> Result<u64, StoreError> {
    let deleted = sqlx::query("DELETE FROM sessions WHERE expires_at <= ?1 OR last_seen <= ?2")
        .bind(to_sqlite_text(now))
        .bind(to_sqlite_text(idle_since))
        .execute(pool)
        .await?
        .rows_affected();
    Ok(deleted)
}

pub(crate) async fn insert_token(
    pool: &SqlitePool,
    hash: &str,
    login: &str,
    label: Option<&str>,
    now: DateTime<Utc>,
) -> Result<i64, StoreError> {
    let id = sqlx::query_scalar(
        "INSERT INTO api_tokens (token_hash, login, label, created_at) VALUES (?1, ?2, ?3, ?4)
         RETURNING id",
    )
    .bind(hash)
    .bind(login)
    .bind(label)
    .bind(to_sqlite_text(now))
    .fetch_one(pool)
    .await?;
    Ok(id)
}

pub(crate) async fn get_token(
    pool: &SqlitePool,
    hash: &str,
) -> Result<Option<TokenRow>, StoreError> {
    type Row = (i64, String, String, bool, Option<String>);
    let row: Option<Row> = sqlx::query_as(
        "SELECT t.id, t.login, u.role, u.disabled, t.last_used_at
         FROM api_tokens t JOIN users u ON u.login = t.login WHERE t.token_hash = ?1",
    )
    .bind(hash)
    .fetch_optional(pool)
    .await?;
    row.map(|(id, login, role, disabled, last_used_at)| {
        let last_used_at = last_used_at
            .map(|t| time(&t, &login, "api_tokens.last_used_at"))
            .transpose()?;
        Ok(TokenRow {
            id,
            login,
            role,
            disabled,
            last_used_at,
        })
    })
    .transpose()
}

pub(crate) async fn touch_token(
    pool: &SqlitePool,
    id: i64,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE api_tokens SET last_used_at = ?2 WHERE id = ?1")
        .bind(id)
        .bind(to_sqlite_text(now))
        .execute(pool)
        .await?;
    Ok(())
}

pub(crate) async fn tokens_of(pool: &SqlitePool, login: &str) -> Result<Vec<ApiToken>, StoreError> {
    type Row = (i64, String, Option<String>, String, Option<String>);
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT id, login, label, created_at, last_used_at FROM api_tokens
         WHERE login = ?1 ORDER BY id",
    )
    .bind(login)
    .fetch_all(pool)
    .await?;
    rows.into_iter()
        .map(|(id, login, label, created_at, last_used_at)| {
            Ok(ApiToken {
                id,
                created_at: time(&created_at, &login, "api_tokens.created_at")?,
                last_used_at: last_used_at
                    .map(|t| time(&t, &login, "api_tokens.last_used_at"))
                    .transpose()?,
                login,
                label,
            })
        })
        .collect()
}

pub(crate) async fn delete_tokens(pool: &SqlitePool, login: &str) -> Result<u64, StoreError> {
    let deleted = sqlx::query("DELETE FROM api_tokens WHERE login = ?1")
        .bind(login)
        .execute(pool)
        .await?
        .rows_affected();
    Ok(deleted)
}
