-- Users (operators), their state changes and their SIP registrations (SQLite).
--
-- Kept semantically equal to migrations/postgres/0002_users.sql. Timestamps use the same
-- checked RFC 3339 millisecond text as 0001_calls.sql. Booleans are INTEGER 0/1.
-- password_hash is an argon2id PHC string; ha1_* are the SIP digest HA1 values
-- (lowercase hex), present only for SIP-enabled users.

CREATE TABLE IF NOT EXISTS users (
    login         TEXT NOT NULL PRIMARY KEY
        CHECK (length(login) BETWEEN 1 AND 64 AND login NOT GLOB '*[^A-Za-z0-9._-]*'),
    role          TEXT NOT NULL CHECK (role IN ('agent', 'manager', 'admin')),
    password_hash TEXT NOT NULL,
    sip_enabled   INTEGER NOT NULL CHECK (sip_enabled IN (0, 1)),
    ha1_md5       TEXT,
    ha1_sha256    TEXT,
    display_name  TEXT,
    created_at    TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
        CHECK (created_at GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9].[0-9][0-9][0-9]Z'),
    disabled      INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1))
) STRICT;

-- Every status an operator went through (available, away, ...), in time order per login.
CREATE TABLE IF NOT EXISTS operator_state_changes (
    id     INTEGER PRIMARY KEY AUTOINCREMENT,
    login  TEXT NOT NULL REFERENCES users (login) ON DELETE CASCADE,
    at     TEXT NOT NULL
        CHECK (at GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9].[0-9][0-9][0-9]Z'),
    status TEXT NOT NULL,
    reason TEXT
) STRICT;

CREATE INDEX IF NOT EXISTS operator_state_changes_login_at ON operator_state_changes (login, at);

-- SIP REGISTER bindings, kept so that they survive a restart.
CREATE TABLE IF NOT EXISTS registrations (
    login      TEXT NOT NULL REFERENCES users (login) ON DELETE CASCADE,
    contact    TEXT NOT NULL,
    source     TEXT NOT NULL,
    transport  TEXT NOT NULL,
    call_id    TEXT NOT NULL,
    cseq       INTEGER NOT NULL CHECK (cseq BETWEEN 0 AND 4294967295),
    expires_at TEXT NOT NULL
        CHECK (expires_at GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9].[0-9][0-9][0-9]Z'),
    PRIMARY KEY (login, contact)
) STRICT, WITHOUT ROWID;
