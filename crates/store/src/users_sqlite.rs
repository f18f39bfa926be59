//! SQLite queries behind the [`crate::users`] methods of `Store`.
//!
//! Timestamps are the checked millisecond text of `timefmt`; booleans are INTEGER 0/1.

use chrono::{DateTime, Utc};
use sqlx::sqlite::SqlitePool;

use crate::error::StoreError;
use crate::timefmt::{from_sqlite_text, to_sqlite_text};
use crate::users::{
    DigestAlgorithm, OperatorStateChange, Registration, SipDirectoryRow, UserInsert, UserRow,
};

#[derive(sqlx::FromRow)]
struct Row {
    login: String,
    role: String,
    sip_enabled: bool,
    display_name: Option<String>,
    created_at: String,
    disabled: bool,
    languages: String,
}

impl Row {
    fn decode(self) -> Result<UserRow, StoreError> {
        let created_at =
            from_sqlite_text(&self.created_at).ok_or_else(|| StoreError::CorruptUser {
                login: self.login.clone(),
                column: "created_at",
            })?;
        Ok(UserRow {
            login: self.login,
            role: self.role,
            sip_enabled: self.sip_enabled,
            display_name: self.display_name,
            created_at,
            disabled: self.disabled,
            languages: self.languages,
        })
    }
}

const USER_COLUMNS: &str =
    "login, role, sip_enabled, display_name, created_at, disabled, languages";

pub(crate) async fn insert_user(
    pool: &SqlitePool,
    user: &UserInsert<'_>,
) -> Result<UserRow, StoreError> {
    let sql = format!(
        "INSERT INTO users (login, role, password_hash, sip_enabled, ha1_md5, ha1_sha256,
                            display_name)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) RETURNING {USER_COLUMNS}"
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
    row.decode()
}

pub(crate) async fn get_user_with_hash(
    pool: &SqlitePool,
    login: &str,
) -> Result<Option<(UserRow, String)>, StoreError> {
    #[derive(sqlx::FromRow)]
    struct WithHash {
        #[sqlx(flatten)]
        row: Row,
        password_hash: String,
    }
    let sql = format!("SELECT {USER_COLUMNS}, password_hash FROM users WHERE login = ?1");
    let found = sqlx::query_as::<_, WithHash>(sqlx::AssertSqlSafe(sql))
        .bind(login)
        .fetch_optional(pool)
        .await?;
    found
        .map(|f| Ok((f.row.decode()?, f.password_hash)))
        .transpose()
}

pub(crate) async fn list_users(pool: &SqlitePool) -> Result<Vec<UserRow>, StoreError> {
    let sql = format!("SELECT {USER_COLUMNS} FROM users ORDER BY login");
    let rows = sqlx::query_as::<_, Row>(sqlx::AssertSqlSafe(sql))
        .fetch_all(pool)
        .await?;
    rows.into_iter().map(Row::decode).collect()
}

pub(crate) async fn digest_ha1(
    pool: &SqlitePool,
    login: &str,
    algorithm: DigestAlgorithm,
) -> Result<Option<String>, StoreError> {
    let sql = match algorithm {
        DigestAlgorithm::Md5 => {
            "SELECT ha1_md5 FROM users WHERE login = ?1 AND sip_enabled = 1 AND disabled = 0"
        }
        DigestAlgorithm::Sha256 => {
            "SELECT ha1_sha256 FROM users WHERE login = ?1 AND sip_enabled = 1 AND disabled = 0"
        }
    };
    let ha1: Option<Option<String>> = sqlx::query_scalar(sql)
        .bind(login)
        .fetch_optional(pool)
        .await?;
    Ok(ha1.flatten())
}

pub(crate) async fn insert_state_change(
    pool: &SqlitePool,
    change: &OperatorStateChange,
    node_id: &str,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO operator_state_changes (login, at, status, reason, node_id) \
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )
    .bind(&change.login)
    .bind(to_sqlite_text(change.at))
    .bind(&change.status)
    .bind(&change.reason)
    .bind(node_id)
    .execute(pool)
    .await?;
    Ok(())
}

pub(crate) async fn state_changes(
    pool: &SqlitePool,
    login: &str,
) -> Result<Vec<OperatorStateChange>, StoreError> {
    let rows: Vec<StateRow> = sqlx::query_as(
        "SELECT login, at, status, reason FROM operator_state_changes
         WHERE login = ?1 ORDER BY at, id",
    )
    .bind(login)
    .fetch_all(pool)
    .await?;
    rows.into_iter().map(decode_state).collect()
}

pub(crate) async fn latest_state_changes(
    pool: &SqlitePool,
) -> Result<Vec<OperatorStateChange>, StoreError> {
    let rows: Vec<StateRow> = sqlx::query_as(
        "SELECT login, at, status, reason FROM (
             SELECT login, at, status, reason,
                    ROW_NUMBER() OVER (PARTITION BY login ORDER BY at DESC, id DESC) AS newest
             FROM operator_state_changes
         ) WHERE newest = 1 ORDER BY login",
    )
    .fetch_all(pool)
    .await?;
    rows.into_iter().map(decode_state).collect()
}

type StateRow = (String, String, String, Option<String>);

fn decode_state((login, at, status, reason): StateRow) -> Result<OperatorStateChange, StoreError> {
    let at = from_sqlite_text(&at).ok_or_else(|| StoreError::CorruptUser {
        login: login.clone(),
        column: "operator_state_changes.at",
    })?;
    Ok(OperatorStateChange {
        login,
        at,
        status,
        reason,
    })
}

pub(crate) async fn sip_directory(pool: &SqlitePool) -> Result<Vec<SipDirectoryRow>, StoreError> {
    let rows = sqlx::query_as(
        "SELECT login, role, ha1_md5, ha1_sha256 FROM users
         WHERE sip_enabled = 1 AND disabled = 0 ORDER BY login",
    )
    .fetch_all(pool)
    .await?;
    Ok(rows)
}

pub(crate) async fn save_registration(
    pool: &SqlitePool,
    r: &Registration,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO registrations
             (login, contact, source, transport, call_id, cseq, expires_at, node_id)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
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
    .bind(to_sqlite_text(r.expires_at))
    .bind(&r.node_id)
    .execute(pool)
    .await?;
    Ok(())
}

pub(crate) async fn delete_registration(
    pool: &SqlitePool,
    login: &str,
    contact: &str,
) -> Result<bool, StoreError> {
    let deleted = sqlx::query("DELETE FROM registrations WHERE login = ?1 AND contact = ?2")
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
    expires_at: String,
    node_id: String,
}

pub(crate) async fn load_registrations(
    pool: &SqlitePool,
    node_id: &str,
    now: DateTime<Utc>,
) -> Result<Vec<Registration>, StoreError> {
    let rows = sqlx::query_as::<_, RegistrationRow>(
        "SELECT login, contact, source, transport, call_id, cseq, expires_at, node_id
         FROM registrations WHERE node_id = ?1 AND expires_at > ?2
         ORDER BY login, contact",
    )
    .bind(node_id)
    .bind(to_sqlite_text(now))
    .fetch_all(pool)
    .await?;
    rows.into_iter()
        .map(|r| {
            let corrupt = |column| StoreError::CorruptUser {
                login: r.login.clone(),
                column,
            };
            let expires_at = from_sqlite_text(&r.expires_at)
                .ok_or_else(|| corrupt("registrations.expires_at"))?;
            let cseq = u32::try_from(r.cseq).map_err(|_| corrupt("registrations.cseq"))?;
            Ok(Registration {
                login: r.login,
                contact: r.contact,
                source: r.source,
                transport: r.transport,
                call_id: r.call_id,
                cseq,
                expires_at,
                node_id: r.node_id,
            })
        })
        .collect()
}

pub(crate) async fn set_languages(
    pool: &SqlitePool,
    login: &str,
    languages_json: &str,
) -> Result<bool, StoreError> {
    let updated = sqlx::query("UPDATE users SET languages = json(?2) WHERE login = ?1")
        .bind(login)
        .bind(languages_json)
        .execute(pool)
        .await?
        .rows_affected();
    Ok(updated > 0)
}
