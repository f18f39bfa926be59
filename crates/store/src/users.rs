//! Users (operators and their managers), their state history and their SIP registrations.
//!
//! The console and the SIP registrar drive this through [`Store`]:
//! - [`Store::add_user`] creates a login with an argon2id password hash and, for SIP
//!   users, the digest HA1 values (`MD5`/`SHA-256` of `login:realm:password`), so the
//!   password itself is never stored;
//! - [`Store::verify_password`] checks a console login, [`Store::digest_ha1`] feeds SIP
//!   digest authentication;
//! - [`Store::record_operator_state`] appends to an operator's status history, and
//!   [`Store::latest_operator_states`] gives each operator's last status after a restart;
//! - [`Store::sip_directory`] lists who may register a SIP phone, with their HA1 values;
//! - [`Store::save_registration`] / [`Store::load_registrations`] keep REGISTER bindings
//!   across a restart.
//!
//! Time is always a parameter (`at`, `now`); only `created_at` comes from the database.
//! Passwords live in [`Password`], whose `Debug` is redacted, and neither passwords nor
//! hashes ever appear in errors, `Debug` output or logs.

use std::fmt;
use std::str::FromStr;

use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::Argon2;
use chrono::{DateTime, Utc};

use crate::error::StoreError;
use crate::store::{Pool, Store};
use crate::{users_postgres, users_sqlite};

/// The longest login accepted.
pub const MAX_LOGIN_LEN: usize = 64;

/// What a user may do in the console.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Role {
    Agent,
    Manager,
    Admin,
}

impl Role {
    /// The stored (and API) name: `agent`, `manager`, `admin`.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Agent => "agent",
            Role::Manager => "manager",
            Role::Admin => "admin",
        }
    }
}

/// A role name that is none of `agent`, `manager`, `admin`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown role {0:?}")]
pub struct UnknownRole(pub String);

impl FromStr for Role {
    type Err = UnknownRole;

    fn from_str(s: &str) -> Result<Role, UnknownRole> {
        match s {
            "agent" => Ok(Role::Agent),
            "manager" => Ok(Role::Manager),
            "admin" => Ok(Role::Admin),
            other => Err(UnknownRole(other.to_owned())),
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A clear-text password on its way to being hashed or checked. `Debug` prints
/// `Password(***)`; there is deliberately no `Display`.
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

impl Password {
    pub fn new(password: impl Into<String>) -> Password {
        Password(password.into())
    }

    /// The clear text, for hashing only.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(***)")
    }
}

impl From<&str> for Password {
    fn from(s: &str) -> Password {
        Password::new(s)
    }
}

/// What [`Store::add_user`] needs to create a user.
#[derive(Clone, Debug)]
pub struct NewUser {
    pub login: String,
    pub role: Role,
    pub password: Password,
    /// Whether the user may REGISTER a SIP phone; when set, HA1 values for `realm` are kept.
    pub sip: bool,
    /// The SIP digest realm the HA1 values are computed for (ignored unless `sip`).
    pub realm: String,
    pub display_name: Option<String>,
}

/// A stored user, without any secret.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct User {
    pub login: String,
    pub role: Role,
    pub sip_enabled: bool,
    pub display_name: Option<String>,
    pub created_at: DateTime<Utc>,
    pub disabled: bool,
    /// Languages the person speaks besides the default one (codes such as "en"): the ACD
    /// offers those languages' callers to them first.
    pub languages: Vec<String>,
}

/// Why a login was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum InvalidLogin {
    #[error("login is empty")]
    Empty,
    #[error("login is longer than {MAX_LOGIN_LEN} characters")]
    TooLong,
    #[error("login may only contain A-Z, a-z, 0-9, '.', '_' and '-'")]
    BadCharacter,
    #[error("login {SYSTEM_LOGIN:?} is reserved for the engine's own audit entries")]
    Reserved,
}

/// The login on the audit entries the engine writes itself (the retention job); no person
/// may have it, so the audit log never mixes the two.
pub const SYSTEM_LOGIN: &str = "system";

/// Checks a login: 1 to 64 characters of `[A-Za-z0-9._-]`, not [`SYSTEM_LOGIN`].
pub fn validate_login(login: &str) -> Result<(), InvalidLogin> {
    if login.is_empty() {
        return Err(InvalidLogin::Empty);
    }
    if login.eq_ignore_ascii_case(SYSTEM_LOGIN) {
        return Err(InvalidLogin::Reserved);
    }
    if !login
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
    {
        return Err(InvalidLogin::BadCharacter);
    }
    // All ASCII from here, so bytes are characters.
    if login.len() > MAX_LOGIN_LEN {
        return Err(InvalidLogin::TooLong);
    }
    Ok(())
}

/// The SIP digest algorithm an HA1 value is wanted for (RFC 8760); the SIP crate's, so the
/// values stored here are exactly what its digest check computes.
pub use madoguchi_sip::digest::DigestAlgorithm;

/// `H(login:realm:password)` as lowercase hex: the HA1 of SIP digest authentication.
pub use madoguchi_sip::digest::ha1 as compute_ha1;

/// An operator's status change, as recorded by [`Store::record_operator_state`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OperatorStateChange {
    pub login: String,
    pub at: DateTime<Utc>,
    pub status: String,
    pub reason: Option<String>,
}

/// A user who may register a SIP phone: SIP-enabled and not disabled. `Debug` redacts the
/// HA1 values, which authenticate as well as the password does.
#[derive(Clone, PartialEq, Eq)]
pub struct SipDirectoryEntry {
    pub login: String,
    pub role: Role,
    /// `MD5(login:realm:password)` as lowercase hex.
    pub ha1_md5: Option<String>,
    /// `SHA-256(login:realm:password)` as lowercase hex.
    pub ha1_sha256: Option<String>,
}

impl fmt::Debug for SipDirectoryEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let redacted = |ha1: &Option<String>| ha1.as_ref().map(|_| "***");
        f.debug_struct("SipDirectoryEntry")
            .field("login", &self.login)
            .field("role", &self.role)
            .field("ha1_md5", &redacted(&self.ha1_md5))
            .field("ha1_sha256", &redacted(&self.ha1_sha256))
            .finish()
    }
}

/// The `users` columns behind a [`SipDirectoryEntry`], role not yet parsed.
#[derive(sqlx::FromRow)]
pub(crate) struct SipDirectoryRow {
    pub login: String,
    pub role: String,
    pub ha1_md5: Option<String>,
    pub ha1_sha256: Option<String>,
}

impl SipDirectoryRow {
    fn into_entry(self) -> Result<SipDirectoryEntry, StoreError> {
        let role = self.role.parse().map_err(|_| StoreError::CorruptUser {
            login: self.login.clone(),
            column: "role",
        })?;
        Ok(SipDirectoryEntry {
            login: self.login,
            role,
            ha1_md5: self.ha1_md5,
            ha1_sha256: self.ha1_sha256,
        })
    }
}

/// One SIP REGISTER binding of a user's phone.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Registration {
    pub login: String,
    /// The Contact URI; one user may have several phones, one row per contact.
    pub contact: String,
    /// Where the REGISTER came from (`ip:port`), where requests go back to.
    pub source: String,
    pub transport: String,
    pub call_id: String,
    pub cseq: u32,
    pub expires_at: DateTime<Utc>,
    /// The node whose registrar took the REGISTER: only that node can reach the phone (its
    /// NAT binding or connection), so only that node restores it after a restart.
    pub node_id: String,
}

/// The columns every backend reads for a user; hashes only when asked for.
pub(crate) struct UserRow {
    pub login: String,
    pub role: String,
    pub sip_enabled: bool,
    pub display_name: Option<String>,
    pub created_at: DateTime<Utc>,
    pub disabled: bool,
    /// The JSON array as text (both backends cast to text).
    pub languages: String,
}

impl UserRow {
    pub(crate) fn into_user(self) -> Result<User, StoreError> {
        let role = self.role.parse().map_err(|_| StoreError::CorruptUser {
            login: self.login.clone(),
            column: "role",
        })?;
        let languages =
            serde_json::from_str(&self.languages).map_err(|_| StoreError::CorruptUser {
                login: self.login.clone(),
                column: "languages",
            })?;
        Ok(User {
            languages,
            login: self.login,
            role,
            sip_enabled: self.sip_enabled,
            display_name: self.display_name,
            created_at: self.created_at,
            disabled: self.disabled,
        })
    }
}

/// A user row to insert: everything already hashed.
pub(crate) struct UserInsert<'a> {
    pub login: &'a str,
    pub role: Role,
    pub password_hash: String,
    pub sip_enabled: bool,
    pub ha1_md5: Option<String>,
    pub ha1_sha256: Option<String>,
    pub display_name: Option<&'a str>,
}

/// Fixed salt for the decoy hash that keeps a wrong login as slow as a wrong password.
const DECOY_SALT: &[u8] = b"madoguchi-no-such-user";

/// Runs argon2 off the async threads: one hash takes tens of milliseconds.
/// Password hashes computed at once. Each argon2 run holds its memory cost (19 MiB by
/// default) while it runs: a burst of sign-ins (a shift starting, or someone guessing
/// passwords) waits its turn instead of growing the heap by 19 MiB per request.
const CONCURRENT_HASHES: usize = 2;

static HASHING: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(CONCURRENT_HASHES);

async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, StoreError> {
    let _turn = HASHING
        .acquire()
        .await
        .map_err(|_| StoreError::PasswordHash)?;
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|_| StoreError::PasswordHash)
}

/// Maps a constraint violation on a users-related write to a matchable error.
fn user_constraint(e: StoreError, login: &str) -> StoreError {
    if let StoreError::Database(sqlx::Error::Database(db)) = &e {
        match db.kind() {
            sqlx::error::ErrorKind::UniqueViolation => {
                return StoreError::DuplicateLogin {
                    login: login.to_owned(),
                }
            }
            sqlx::error::ErrorKind::ForeignKeyViolation => {
                return StoreError::UnknownUser {
                    login: login.to_owned(),
                }
            }
            _ => {}
        }
    }
    e
}

impl Store {
    /// Creates a user. The password is hashed with argon2id (default parameters, random
    /// salt); when `sip` is set, the MD5 and SHA-256 HA1 values for `realm` are stored too.
    /// A login that exists already is [`StoreError::DuplicateLogin`]; a malformed one is
    /// [`StoreError::InvalidLogin`]; an empty password is [`StoreError::EmptyPassword`].
    pub async fn add_user(&self, new: &NewUser) -> Result<User, StoreError> {
        validate_login(&new.login).map_err(StoreError::InvalidLogin)?;
        if new.password.expose().is_empty() {
            return Err(StoreError::EmptyPassword);
        }
        let password = new.password.clone();
        let password_hash = blocking(move || {
            Argon2::default()
                .hash_password(password.expose().as_bytes())
                .map(|hash| hash.to_string())
        })
        .await?
        .map_err(|_| StoreError::PasswordHash)?;
        let ha1 = |algorithm| {
            new.sip
                .then(|| compute_ha1(algorithm, &new.login, &new.realm, new.password.expose()))
        };
        let row = UserInsert {
            login: &new.login,
            role: new.role,
            password_hash,
            sip_enabled: new.sip,
            ha1_md5: ha1(DigestAlgorithm::Md5),
            ha1_sha256: ha1(DigestAlgorithm::Sha256),
            display_name: new.display_name.as_deref(),
        };
        let stored = match self.pool() {
            Pool::Sqlite(pool) => users_sqlite::insert_user(pool, &row).await,
            Pool::Postgres(pool) => users_postgres::insert_user(pool, &row).await,
        };
        let user = stored.map_err(|e| user_constraint(e, &new.login))?;
        tracing::info!(login = %user.login, role = %user.role, sip = user.sip_enabled, "user added");
        user.into_user()
    }

    /// The user when `password` is theirs and the user is not disabled; `None` otherwise
    /// (unknown login, wrong password, disabled). Unknown logins cost as much time as
    /// wrong passwords, so timing does not tell which logins exist.
    pub async fn verify_password(
        &self,
        login: &str,
        password: &Password,
    ) -> Result<Option<User>, StoreError> {
        let found = match self.pool() {
            Pool::Sqlite(pool) => users_sqlite::get_user_with_hash(pool, login).await?,
            Pool::Postgres(pool) => users_postgres::get_user_with_hash(pool, login).await?,
        };
        let password = password.clone();
        let Some((row, hash)) = found else {
            blocking(move || {
                // The outcome is irrelevant; only the time spent matters.
                let _ = Argon2::default()
                    .hash_password_with_salt(password.expose().as_bytes(), DECOY_SALT);
            })
            .await?;
            return Ok(None);
        };
        let matches = blocking(move || {
            Argon2::default()
                .verify_password(password.expose().as_bytes(), hash.as_str())
                .is_ok()
        })
        .await?;
        if !matches || row.disabled {
            return Ok(None);
        }
        row.into_user().map(Some)
    }

    /// One user, or `None` when no user has that login.
    pub async fn get_user(&self, login: &str) -> Result<Option<User>, StoreError> {
        let row = match self.pool() {
            Pool::Sqlite(pool) => users_sqlite::get_user_with_hash(pool, login).await?,
            Pool::Postgres(pool) => users_postgres::get_user_with_hash(pool, login).await?,
        };
        row.map(|(row, _)| row.into_user()).transpose()
    }

    /// Replaces the languages a user speaks (codes, e.g. `["en"]`; empty clears them).
    /// Validating the codes is the caller's job (the CLI); the store keeps what it is given.
    pub async fn set_user_languages(
        &self,
        login: &str,
        languages: &[String],
    ) -> Result<(), StoreError> {
        let json = serde_json::to_string(languages)?;
        let updated = match self.pool() {
            Pool::Sqlite(pool) => users_sqlite::set_languages(pool, login, &json).await?,
            Pool::Postgres(pool) => users_postgres::set_languages(pool, login, &json).await?,
        };
        if updated {
            Ok(())
        } else {
            Err(StoreError::UnknownUser {
                login: login.to_owned(),
            })
        }
    }

    /// Every user, ordered by login.
    pub async fn list_users(&self) -> Result<Vec<User>, StoreError> {
        let rows = match self.pool() {
            Pool::Sqlite(pool) => users_sqlite::list_users(pool).await?,
            Pool::Postgres(pool) => users_postgres::list_users(pool).await?,
        };
        rows.into_iter().map(UserRow::into_user).collect()
    }

    /// The stored HA1 for SIP digest authentication, as lowercase hex; `None` when the
    /// login is unknown, not SIP-enabled, or disabled.
    pub async fn digest_ha1(
        &self,
        login: &str,
        algorithm: DigestAlgorithm,
    ) -> Result<Option<String>, StoreError> {
        match self.pool() {
            Pool::Sqlite(pool) => users_sqlite::digest_ha1(pool, login, algorithm).await,
            Pool::Postgres(pool) => users_postgres::digest_ha1(pool, login, algorithm).await,
        }
    }

    /// Appends a status change to the operator's history (`at` kept to the millisecond),
    /// stamped with this store's node ([`Store::with_node_id`]). An unknown login is [`StoreError::UnknownUser`].
    pub async fn record_operator_state(
        &self,
        login: &str,
        at: DateTime<Utc>,
        status: &str,
        reason: Option<&str>,
    ) -> Result<(), StoreError> {
        let change = OperatorStateChange {
            login: login.to_owned(),
            at,
            status: status.to_owned(),
            reason: reason.map(str::to_owned),
        };
        let stored = match self.pool() {
            Pool::Sqlite(pool) => {
                users_sqlite::insert_state_change(pool, &change, self.node_id()).await
            }
            Pool::Postgres(pool) => {
                users_postgres::insert_state_change(pool, &change, self.node_id()).await
            }
        };
        stored.map_err(|e| user_constraint(e, login))
    }

    /// The operator's status history, oldest first (changes at the same instant in the
    /// order they were recorded).
    pub async fn operator_state_changes(
        &self,
        login: &str,
    ) -> Result<Vec<OperatorStateChange>, StoreError> {
        match self.pool() {
            Pool::Sqlite(pool) => users_sqlite::state_changes(pool, login).await,
            Pool::Postgres(pool) => users_postgres::state_changes(pool, login).await,
        }
    }

    /// The newest change of every operator who has one, ordered by login: what a restarted
    /// engine restores (paused stays paused). Of changes at the same instant, the one
    /// recorded last wins, as in [`Store::operator_state_changes`].
    pub async fn latest_operator_states(&self) -> Result<Vec<OperatorStateChange>, StoreError> {
        match self.pool() {
            Pool::Sqlite(pool) => users_sqlite::latest_state_changes(pool).await,
            Pool::Postgres(pool) => users_postgres::latest_state_changes(pool).await,
        }
    }

    /// Every user allowed to register a SIP phone (SIP-enabled, not disabled) with their
    /// HA1 values, ordered by login, in one query: the registrar's directory.
    pub async fn sip_directory(&self) -> Result<Vec<SipDirectoryEntry>, StoreError> {
        let rows = match self.pool() {
            Pool::Sqlite(pool) => users_sqlite::sip_directory(pool).await?,
            Pool::Postgres(pool) => users_postgres::sip_directory(pool).await?,
        };
        rows.into_iter().map(SipDirectoryRow::into_entry).collect()
    }

    /// Stores a binding, replacing the one with the same `(login, contact)` — also when
    /// another node held it (the phone re-registered elsewhere). An unknown login is
    /// [`StoreError::UnknownUser`].
    pub async fn save_registration(&self, registration: &Registration) -> Result<(), StoreError> {
        let stored = match self.pool() {
            Pool::Sqlite(pool) => users_sqlite::save_registration(pool, registration).await,
            Pool::Postgres(pool) => users_postgres::save_registration(pool, registration).await,
        };
        stored.map_err(|e| user_constraint(e, &registration.login))
    }

    /// Removes a binding; `true` when there was one.
    pub async fn delete_registration(
        &self,
        login: &str,
        contact: &str,
    ) -> Result<bool, StoreError> {
        match self.pool() {
            Pool::Sqlite(pool) => users_sqlite::delete_registration(pool, login, contact).await,
            Pool::Postgres(pool) => users_postgres::delete_registration(pool, login, contact).await,
        }
    }

    /// The bindings node `node_id` took that are still valid at `now` (`expires_at > now`),
    /// ordered by login and contact: what that node's registrar starts from after a restart.
    pub async fn load_registrations(
        &self,
        node_id: &str,
        now: DateTime<Utc>,
    ) -> Result<Vec<Registration>, StoreError> {
        match self.pool() {
            Pool::Sqlite(pool) => users_sqlite::load_registrations(pool, node_id, now).await,
            Pool::Postgres(pool) => users_postgres::load_registrations(pool, node_id, now).await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logins_of_letters_digits_dot_underscore_and_dash_are_valid() {
        assert_eq!(validate_login("A.b_c-9"), Ok(()));
        assert_eq!(validate_login(&"x".repeat(MAX_LOGIN_LEN)), Ok(()));
    }

    #[test]
    fn the_engines_own_audit_login_is_reserved() {
        assert_eq!(validate_login("system"), Err(InvalidLogin::Reserved));
        assert_eq!(validate_login("System"), Err(InvalidLogin::Reserved));
    }

    #[test]
    fn an_empty_login_is_refused() {
        assert_eq!(validate_login(""), Err(InvalidLogin::Empty));
    }

    #[test]
    fn a_login_longer_than_64_is_refused() {
        assert_eq!(
            validate_login(&"x".repeat(MAX_LOGIN_LEN + 1)),
            Err(InvalidLogin::TooLong)
        );
    }

    #[test]
    fn spaces_colons_and_non_ascii_letters_are_refused() {
        for login in ["a b", "a:b", "ユーザー", "a@b"] {
            assert_eq!(
                validate_login(login),
                Err(InvalidLogin::BadCharacter),
                "{login}"
            );
        }
    }

    #[test]
    fn roles_parse_from_their_names() {
        for role in [Role::Agent, Role::Manager, Role::Admin] {
            assert_eq!(role.as_str().parse(), Ok(role));
        }
        assert_eq!("root".parse::<Role>(), Err(UnknownRole("root".into())));
    }

    #[test]
    fn a_password_never_shows_in_debug_output() {
        let new = NewUser {
            login: "alice".into(),
            role: Role::Agent,
            password: Password::new("hunter2"),
            sip: true,
            realm: "madoguchi".into(),
            display_name: None,
        };
        assert!(!format!("{new:?}").contains("hunter2"));
    }

    #[test]
    fn ha1_is_the_lowercase_hex_digest_of_login_realm_password() {
        // Computed independently with `printf 'alice:madoguchi:secret' | md5sum` / sha256sum.
        assert_eq!(
            compute_ha1(DigestAlgorithm::Md5, "alice", "madoguchi", "secret"),
            "77590e16a344f5b5975131e6224713fe"
        );
        assert_eq!(
            compute_ha1(DigestAlgorithm::Sha256, "alice", "madoguchi", "secret"),
            "69c705cfa699df656f7578dc696fc1ed367e2bb48584d20967c9a8634e24c022"
        );
    }

    #[test]
    fn a_sip_directory_entry_never_shows_its_ha1_in_debug_output() {
        let entry = SipDirectoryEntry {
            login: "alice".into(),
            role: Role::Agent,
            ha1_md5: Some("77590e16a344f5b5975131e6224713fe".into()),
            ha1_sha256: None,
        };
        let debug = format!("{entry:?}");
        assert!(!debug.contains("77590e16"), "{debug}");
        assert!(debug.contains("alice"), "{debug}");
    }
}
