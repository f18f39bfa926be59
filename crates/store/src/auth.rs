//! Who is calling the API: browser sessions (a cookie) and API tokens (a bearer header).
//!
//! Both hand out a random 256-bit [`Secret`] once and keep only its SHA-256, so a copy of
//! the database lets nobody in. A secret has enough entropy that a fast hash is as good as
//! a slow one; only passwords need argon2.
//!
//! - [`Store::create_session`] after a password check; [`Store::session`] on every request
//!   (expired, idle or disabled → `None`), [`Store::end_session`] on logout and
//!   [`Store::revoke_other_sessions`] for "one console per operator";
//! - [`Store::create_api_token`] for `madoguchi token create`, [`Store::authenticate_api_token`]
//!   for `Authorization: Bearer`, [`Store::revoke_api_tokens`].
//!
//! ```no_run
//! # async fn demo(store: madoguchi_store::Store) -> Result<(), madoguchi_store::StoreError> {
//! let now = chrono::Utc::now();
//! let (secret, _session) = store.create_session("suzuki", now).await?;
//! // … the browser sends `secret.expose()` back in its cookie …
//! assert!(store.session(&secret, now).await?.is_some());
//! # Ok(()) }
//! ```
//!
//! Time is a parameter; secrets never appear in `Debug` output, errors or logs.

use std::fmt;

use chrono::{DateTime, TimeDelta, Utc};
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::error::StoreError;
use crate::store::{Pool, Store};
use crate::users::Role;
use crate::{auth_postgres, auth_sqlite};

/// A session ends this long after sign-in, however active it is.
pub const SESSION_LIFETIME: TimeDelta = TimeDelta::hours(12);
/// A session unused for this long ends (a console left signed in over lunch).
pub const SESSION_IDLE_TIMEOUT: TimeDelta = TimeDelta::hours(2);
/// `last_seen` is written at most this often, so every API call is not a database write.
const TOUCH_EVERY: TimeDelta = TimeDelta::minutes(1);
/// API tokens start with this, so a leaked one is recognisable in a scan for secrets.
pub const API_TOKEN_PREFIX: &str = "mdg_";

/// A session or API token value as handed to the client. `Debug` prints `Secret(***)`;
/// there is deliberately no `Display`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// What the client sent (a cookie value, a bearer token), to look up.
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    pub(crate) fn generate(prefix: &str) -> Secret {
        let mut bytes = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        Secret(format!("{prefix}{}", hex::encode(bytes)))
    }

    /// The clear value, to hand to the client once.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The stored form: lowercase hex SHA-256.
    pub(crate) fn hash(&self) -> String {
        hex::encode(Sha256::digest(self.0.as_bytes()))
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// A signed-in browser.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Session {
    pub login: String,
    pub role: Role,
    pub created_at: DateTime<Utc>,
    /// The last request seen, to within a minute.
    pub last_seen: DateTime<Utc>,
    /// The absolute end ([`SESSION_LIFETIME`] after sign-in).
    pub expires_at: DateTime<Utc>,
}

impl Session {
    /// Whether the session still admits requests at `now`: before its absolute end and
    /// within [`SESSION_IDLE_TIMEOUT`] of its last request.
    pub fn is_valid_at(&self, now: DateTime<Utc>) -> bool {
        now < self.expires_at && now < self.last_seen + SESSION_IDLE_TIMEOUT
    }
}

/// Who an API token speaks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Principal {
    pub login: String,
    pub role: Role,
}

/// A stored API token, without its secret.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiToken {
    pub id: i64,
    pub login: String,
    pub label: Option<String>,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
}

/// A session row as both backends read it, role not yet parsed.
pub(crate) struct SessionRow {
    pub login: String,
    pub role: String,
    pub disabled: bool,
    pub created_at: DateTime<Utc>,
    pub last_seen: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

/// An API token row joined with its user, role not yet parsed.
pub(crate) struct TokenRow {
    pub id: i64,
    pub login: String,
    pub role: String,
    pub disabled: bool,
    pub last_used_at: Option<DateTime<Utc>>,
}

fn parse_role(login: &str, role: &str) -> Result<Role, StoreError> {
    role.parse().map_err(|_| StoreError::CorruptUser {
        login: login.to_owned(),
        column: "role",
    })
}

/// Maps the foreign-key failure of an insert for a missing user.
fn unknown_user(e: StoreError, login: &str) -> StoreError {
    match &e {
        StoreError::Database(sqlx::Error::Database(db))
            if matches!(db.kind(), sqlx::error::ErrorKind::ForeignKeyViolation) =>
        {
            StoreError::UnknownUser {
                login: login.to_owned(),
            }
        }
        _ => e,
    }
}

impl Store {
    /// Starts a session for `login` (whose password was just checked) and returns the
    /// secret for the cookie. An unknown login is [`StoreError::UnknownUser`].
    pub async fn create_session(
        &self,
        login: &str,
        now: DateTime<Utc>,
    ) -> Result<(Secret, Session), StoreError> {
        let user = self
            .get_user(login)
            .await?
            .ok_or_else(|| StoreError::UnknownUser {
                login: login.to_owned(),
            })?;
        let secret = Secret::generate("");
        let now = crate::timefmt::truncate_to_millis(now);
        let session = Session {
            login: user.login,
            role: user.role,
            created_at: now,
            last_seen: now,
            expires_at: now + SESSION_LIFETIME,
        };
        let hash = secret.hash();
        let stored = match self.pool() {
            Pool::Sqlite(pool) => auth_sqlite::insert_session(pool, &hash, &session).await,
            Pool::Postgres(pool) => auth_postgres::insert_session(pool, &hash, &session).await,
        };
        stored.map_err(|e| unknown_user(e, login))?;
        Ok((secret, session))
    }

    /// The session a cookie names, if it still admits requests at `now` (see
    /// [`Session::is_valid_at`]) and its user is not disabled; records the request as its
    /// last activity. Expired sessions are deleted on the way.
    pub async fn session(
        &self,
        secret: &Secret,
        now: DateTime<Utc>,
    ) -> Result<Option<Session>, StoreError> {
        let hash = secret.hash();
        let row = match self.pool() {
            Pool::Sqlite(pool) => auth_sqlite::get_session(pool, &hash).await?,
            Pool::Postgres(pool) => auth_postgres::get_session(pool, &hash).await?,
        };
        let Some(row) = row else { return Ok(None) };
        let mut session = Session {
            role: parse_role(&row.login, &row.role)?,
            login: row.login,
            created_at: row.created_at,
            last_seen: row.last_seen,
            expires_at: row.expires_at,
        };
        if !session.is_valid_at(now) {
            self.delete_session_hash(&hash).await?;
            return Ok(None);
        }
        if row.disabled {
            return Ok(None);
        }
        if now - session.last_seen >= TOUCH_EVERY {
            session.last_seen = crate::timefmt::truncate_to_millis(now);
            match self.pool() {
                Pool::Sqlite(pool) => auth_sqlite::touch_session(pool, &hash, now).await?,
                Pool::Postgres(pool) => auth_postgres::touch_session(pool, &hash, now).await?,
            }
        }
        Ok(Some(session))
    }

    /// Ends a session (logout); `true` when there was one.
    pub async fn end_session(&self, secret: &Secret) -> Result<bool, StoreError> {
        self.delete_session_hash(&secret.hash()).await
    }

    async fn delete_session_hash(&self, hash: &str) -> Result<bool, StoreError> {
        match self.pool() {
            Pool::Sqlite(pool) => auth_sqlite::delete_session(pool, hash).await,
            Pool::Postgres(pool) => auth_postgres::delete_session(pool, hash).await,
        }
    }

    /// Ends every session of `login` except `keep`: a second sign-in taking over the
    /// console. Returns how many ended.
    pub async fn revoke_other_sessions(
        &self,
        login: &str,
        keep: &Secret,
    ) -> Result<u64, StoreError> {
        let keep = keep.hash();
        match self.pool() {
            Pool::Sqlite(pool) => auth_sqlite::delete_other_sessions(pool, login, &keep).await,
            Pool::Postgres(pool) => auth_postgres::delete_other_sessions(pool, login, &keep).await,
        }
    }

    /// The sessions of `login` that still admit requests at `now`, oldest first.
    pub async fn active_sessions(
        &self,
        login: &str,
        now: DateTime<Utc>,
    ) -> Result<Vec<Session>, StoreError> {
        let rows = match self.pool() {
            Pool::Sqlite(pool) => auth_sqlite::sessions_of(pool, login).await?,
            Pool::Postgres(pool) => auth_postgres::sessions_of(pool, login).await?,
        };
        let mut sessions = Vec::with_capacity(rows.len());
        for row in rows {
            let session = Session {
                role: parse_role(&row.login, &row.role)?,
                login: row.login,
                created_at: row.created_at,
                last_seen: row.last_seen,
                expires_at: row.expires_at,
            };
            if session.is_valid_at(now) {
                sessions.push(session);
            }
        }
        Ok(sessions)
    }

    /// Deletes the sessions that no longer admit requests at `now`; how many.
    pub async fn purge_expired_sessions(&self, now: DateTime<Utc>) -> Result<u64, StoreError> {
        let idle_since = now - SESSION_IDLE_TIMEOUT;
        match self.pool() {
            Pool::Sqlite(pool) => auth_sqlite::purge_sessions(pool, now, idle_since).await,
            Pool::Postgres(pool) => auth_postgres::purge_sessions(pool, now, idle_since).await,
        }
    }

    /// Creates an API token for `login` and returns its secret (shown once: only its hash
    /// is kept). An unknown login is [`StoreError::UnknownUser`].
    pub async fn create_api_token(
        &self,
        login: &str,
        label: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<(Secret, ApiToken), StoreError> {
        let secret = Secret::generate(API_TOKEN_PREFIX);
        let hash = secret.hash();
        let now = crate::timefmt::truncate_to_millis(now);
        let stored = match self.pool() {
            Pool::Sqlite(pool) => auth_sqlite::insert_token(pool, &hash, login, label, now).await,
            Pool::Postgres(pool) => {
                auth_postgres::insert_token(pool, &hash, login, label, now).await
            }
        };
        let id = stored.map_err(|e| unknown_user(e, login))?;
        Ok((
            secret,
            ApiToken {
                id,
                login: login.to_owned(),
                label: label.map(str::to_owned),
                created_at: now,
                last_used_at: None,
            },
        ))
    }

    /// Who a bearer token speaks for; `None` for an unknown or revoked token or a disabled
    /// user. Records the use (to within a minute).
    pub async fn authenticate_api_token(
        &self,
        secret: &Secret,
        now: DateTime<Utc>,
    ) -> Result<Option<Principal>, StoreError> {
        let hash = secret.hash();
        let row = match self.pool() {
            Pool::Sqlite(pool) => auth_sqlite::get_token(pool, &hash).await?,
            Pool::Postgres(pool) => auth_postgres::get_token(pool, &hash).await?,
        };
        let Some(row) = row else { return Ok(None) };
        if row.disabled {
            return Ok(None);
        }
        let role = parse_role(&row.login, &row.role)?;
        if row
            .last_used_at
            .is_none_or(|used| now - used >= TOUCH_EVERY)
        {
            match self.pool() {
                Pool::Sqlite(pool) => auth_sqlite::touch_token(pool, row.id, now).await?,
                Pool::Postgres(pool) => auth_postgres::touch_token(pool, row.id, now).await?,
            }
        }
        Ok(Some(Principal {
            login: row.login,
            role,
        }))
    }

    /// The API tokens of `login`, oldest first, without their secrets.
    pub async fn api_tokens(&self, login: &str) -> Result<Vec<ApiToken>, StoreError> {
        match self.pool() {
            Pool::Sqlite(pool) => auth_sqlite::tokens_of(pool, login).await,
            Pool::Postgres(pool) => auth_postgres::tokens_of(pool, login).await,
        }
    }

    /// Deletes every API token of `login`; how many there were.
    pub async fn revoke_api_tokens(&self, login: &str) -> Result<u64, StoreError> {
        match self.pool() {
            Pool::Sqlite(pool) => auth_sqlite::delete_tokens(pool, login).await,
            Pool::Postgres(pool) => auth_postgres::delete_tokens(pool, login).await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_generated_secret_is_256_bits_of_hex_after_its_prefix() {
        let secret = Secret::generate(API_TOKEN_PREFIX);
        let hex_part = secret
            .expose()
            .strip_prefix(API_TOKEN_PREFIX)
            .expect("prefixed");
        assert_eq!(hex_part.len(), 64);
        assert!(hex_part.bytes().all(|b| b.is_ascii_hexdigit()));
    }

    #[test]
    fn two_generated_secrets_differ() {
        assert_ne!(Secret::generate(""), Secret::generate(""));
    }

    #[test]
    fn the_stored_hash_is_the_sha256_of_the_secret() {
        // printf 'abc' | sha256sum
        assert_eq!(
            Secret::new("abc").hash(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn a_secret_never_shows_in_debug_output() {
        let secret = Secret::new("mdg_topsecret");
        assert_eq!(format!("{secret:?}"), "Secret(***)");
    }

    fn session_at(created: DateTime<Utc>) -> Session {
        Session {
            login: "a".into(),
            role: Role::Agent,
            created_at: created,
            last_seen: created,
            expires_at: created + SESSION_LIFETIME,
        }
    }

    #[test]
    fn a_session_idle_for_the_idle_timeout_is_no_longer_valid() {
        let t0 = DateTime::from_timestamp(1_767_225_600, 0).expect("in range");
        let session = session_at(t0);
        assert!(session.is_valid_at(t0 + SESSION_IDLE_TIMEOUT - TimeDelta::seconds(1)));
        assert!(!session.is_valid_at(t0 + SESSION_IDLE_TIMEOUT));
    }

    #[test]
    fn an_active_session_still_ends_at_its_absolute_lifetime() {
        let t0 = DateTime::from_timestamp(1_767_225_600, 0).expect("in range");
        let mut session = session_at(t0);
        session.last_seen = t0 + SESSION_LIFETIME - TimeDelta::minutes(1);
        assert!(session.is_valid_at(t0 + SESSION_LIFETIME - TimeDelta::seconds(1)));
        assert!(!session.is_valid_at(t0 + SESSION_LIFETIME));
    }
}
