//! The store's error type, and which errors are worth retrying.
//!
//! Display texts never carry record contents (caller numbers are personal data) nor the
//! database URL (it may hold a password): at most a record id, a column name, a scheme.

use crate::record::InvalidRecord;
use crate::users::InvalidLogin;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The URL is neither `sqlite:` nor `postgres://`/`postgresql://`.
    #[error("unsupported database URL scheme {scheme:?} (expected sqlite: or postgres://)")]
    UnsupportedUrl { scheme: String },
    /// The URL or options could not be turned into connect options.
    #[error("invalid database URL or options: {0}")]
    InvalidOptions(#[source] sqlx::Error),
    #[error("could not connect to the database: {0}")]
    Connect(#[source] sqlx::Error),
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("database query failed: {0}")]
    Database(#[from] sqlx::Error),
    /// The record holds something neither backend can store; retrying cannot help.
    #[error("call record {id} cannot be stored")]
    InvalidRecord {
        id: String,
        #[source]
        reason: InvalidRecord,
    },
    /// A JSON column value could not be encoded.
    #[error("could not encode a JSON column")]
    JsonEncode(#[from] serde_json::Error),
    /// A stored row does not decode (hand-edited, or written by a newer version).
    #[error("stored call {id} has an unreadable {column}")]
    CorruptRow { id: String, column: &'static str },
    /// A login that does not fit `[A-Za-z0-9._-]{1,64}`.
    #[error("invalid login: {0}")]
    InvalidLogin(#[source] InvalidLogin),
    #[error("the password is empty")]
    EmptyPassword,
    #[error("a user with login {login:?} exists already")]
    DuplicateLogin { login: String },
    #[error("no user has login {login:?}")]
    UnknownUser { login: String },
    /// Hashing or checking a password failed (never says which password).
    #[error("password hashing failed")]
    PasswordHash,
    /// A stored user row does not decode (hand-edited, or written by a newer version).
    #[error("stored user {login} has an unreadable {column}")]
    CorruptUser { login: String, column: &'static str },
    /// The record spool file could not be read or written.
    #[error("record spool: {0}")]
    Spool(#[source] std::io::Error),
}

impl StoreError {
    /// True when writing the same record again can never succeed: the record itself is
    /// refused (validation, a constraint, a data exception). Everything else — lost
    /// connections, timeouts, a missing table during maintenance — may heal, so the writer
    /// retries it.
    pub fn is_permanent(&self) -> bool {
        match self {
            StoreError::InvalidRecord { .. }
            | StoreError::JsonEncode(_)
            | StoreError::InvalidLogin(_)
            | StoreError::EmptyPassword
            | StoreError::DuplicateLogin { .. }
            | StoreError::UnknownUser { .. } => true,
            StoreError::Database(sqlx::Error::Database(db)) => {
                let constraint = !matches!(db.kind(), sqlx::error::ErrorKind::Other);
                // PostgreSQL SQLSTATE class 22 is "data exception" (bad encoding, value out
                // of range). SQLite's numeric codes are a different space, hence the downcast.
                let data_exception = db
                    .try_downcast_ref::<sqlx::postgres::PgDatabaseError>()
                    .is_some_and(|pg| pg.code().starts_with("22"));
                constraint || data_exception
            }
            StoreError::Database(
                sqlx::Error::Encode(_) | sqlx::Error::ColumnDecode { .. } | sqlx::Error::Decode(_),
            ) => true,
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_invalid_record_is_permanent() {
        let e = StoreError::InvalidRecord {
            id: "c1".into(),
            reason: InvalidRecord::EmptyId,
        };
        assert!(e.is_permanent());
    }

    #[test]
    fn a_pool_timeout_is_worth_retrying() {
        assert!(!StoreError::Database(sqlx::Error::PoolTimedOut).is_permanent());
    }

    #[test]
    fn an_io_error_is_worth_retrying() {
        let io = std::io::Error::new(std::io::ErrorKind::ConnectionReset, "reset");
        assert!(!StoreError::Database(sqlx::Error::Io(io)).is_permanent());
    }

    #[test]
    fn a_corrupt_row_names_the_id_and_column_only() {
        let e = StoreError::CorruptRow {
            id: "c1".into(),
            column: "disposition",
        };
        assert_eq!(
            e.to_string(),
            "stored call c1 has an unreadable disposition"
        );
    }
}
