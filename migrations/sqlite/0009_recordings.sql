-- Call recordings and the audit log of who accessed personal data (SQLite).
--
-- Kept semantically equal to migrations/postgres/0009_recordings.sql.
--
-- recordings: one row per recorded call, written when recording starts (status
-- 'recording', the end columns null) and completed when the file is closed. Keyed by the call
-- id with no foreign key to calls, for the reason 0008_call_wrap_ups.sql gives: the call's
-- record is stored when the call ends, after its recording started. `file` is relative to the
-- recordings folder, never absolute (the HTTP side joins it to the configured folder and
-- refuses anything that leaves it). `paused` lists the paused spans as offsets into the
-- recording: a JSON array of {"from_ms", "to_ms"}. A row left 'recording' after a crash is
-- repaired at start and marked 'interrupted'.
--
-- audit_log: every access by a person to personal data (listening to or downloading a
-- recording, exporting the log itself …), append-only: the triggers below refuse every
-- UPDATE and DELETE. `detail` is a short text that never holds personal data; `login` has
-- no foreign key, so the log outlives the users it names.

CREATE TABLE IF NOT EXISTS recordings (
    call_id     TEXT NOT NULL PRIMARY KEY CHECK (length(call_id) > 0),
    file        TEXT NOT NULL CHECK (length(file) > 0 AND substr(file, 1, 1) <> '/'),
    started_at  TEXT NOT NULL
        CHECK (started_at GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9].[0-9][0-9][0-9]Z'),
    ended_at    TEXT
        CHECK (ended_at GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9].[0-9][0-9][0-9]Z'),
    duration_ms INTEGER CHECK (duration_ms >= 0),
    bytes       INTEGER CHECK (bytes >= 0),
    -- Lowercase hex SHA-256 of the finished file.
    sha256      TEXT CHECK (length(sha256) = 64 AND sha256 NOT GLOB '*[^0-9a-f]*'),
    status      TEXT NOT NULL
        CHECK (status IN ('recording', 'complete', 'interrupted', 'failed')),
    error       TEXT,
    paused      TEXT NOT NULL DEFAULT '[]'
        CHECK (json_valid(paused) AND json_type(paused) = 'array'),
    node_id     TEXT NOT NULL,
    -- Still recording exactly while the end is unknown; a finished row has its figures, and
    -- a complete one its checksum.
    CHECK ((status = 'recording') = (ended_at IS NULL)),
    CHECK (status = 'recording' OR (duration_ms IS NOT NULL AND bytes IS NOT NULL)),
    CHECK (status <> 'complete' OR sha256 IS NOT NULL)
) STRICT, WITHOUT ROWID;

-- What the engine looks for at start: the recordings a crash left open.
CREATE INDEX IF NOT EXISTS recordings_in_progress ON recordings (node_id, started_at)
    WHERE status = 'recording';

CREATE TABLE IF NOT EXISTS audit_log (
    id      INTEGER PRIMARY KEY AUTOINCREMENT,
    at      TEXT NOT NULL
        CHECK (at GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9].[0-9][0-9][0-9]Z'),
    login   TEXT NOT NULL CHECK (length(login) BETWEEN 1 AND 64),
    role    TEXT NOT NULL CHECK (role IN ('agent', 'manager', 'admin')),
    -- e.g. 'recording.listen', 'recording.download', 'audit.export'.
    action  TEXT NOT NULL CHECK (length(action) BETWEEN 1 AND 64),
    -- What was accessed, e.g. the call id.
    subject TEXT CHECK (length(subject) <= 200),
    detail  TEXT CHECK (length(detail) <= 200),
    -- The address the request came from.
    source  TEXT CHECK (length(source) <= 100)
) STRICT;

CREATE INDEX IF NOT EXISTS audit_log_at ON audit_log (at);
CREATE INDEX IF NOT EXISTS audit_log_login_at ON audit_log (login, at);

CREATE TRIGGER IF NOT EXISTS audit_log_append_only_update BEFORE UPDATE ON audit_log BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;
CREATE TRIGGER IF NOT EXISTS audit_log_append_only_delete BEFORE DELETE ON audit_log BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;
