-- Retention of personal data and of the audit log (SQLite).
--
-- Kept semantically equal to migrations/postgres/0011_retention.sql.
--
-- calls.anonymised_at: when the retention job removed the call's personal data (caller
-- number, SIP Call-ID, DTMF input, event details); NULL while they are kept. What reports
-- count (times, disposition, queue, operator, transfer outcome) stays.
-- recordings.purged_at: when the retention job deleted the recording's file; the row stays
-- as the trace that a recording existed.
--
-- audit_log_horizon: the one row saying before which instant audit entries may be deleted.
-- The audit log stays append-only for everything newer: the delete trigger below refuses a
-- row at or after the horizon, and the horizon only moves forward and never to less than
-- 365 days before the database's own clock, so no setting, flag or hand-typed DELETE can
-- remove an entry younger than a year.

ALTER TABLE calls ADD COLUMN anonymised_at TEXT
    CHECK (anonymised_at GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9].[0-9][0-9][0-9]Z');
ALTER TABLE recordings ADD COLUMN purged_at TEXT
    CHECK (purged_at GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9].[0-9][0-9][0-9]Z');

-- What the retention job looks for: calls still holding personal data, oldest first.
CREATE INDEX IF NOT EXISTS calls_not_anonymised ON calls (arrived_at)
    WHERE anonymised_at IS NULL;

CREATE TABLE IF NOT EXISTS audit_log_horizon (
    id           INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
    purge_before TEXT NOT NULL
        CHECK (purge_before GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9].[0-9][0-9][0-9]Z')
) STRICT;

INSERT OR IGNORE INTO audit_log_horizon (id, purge_before) VALUES (1, '1970-01-01T00:00:00.000Z');

CREATE TRIGGER IF NOT EXISTS audit_log_horizon_forward_only
    BEFORE UPDATE ON audit_log_horizon
    WHEN new.purge_before < old.purge_before
      OR new.purge_before > strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-365 days')
BEGIN
    SELECT RAISE(ABORT, 'the audit horizon only moves forward and stays a year back');
END;
CREATE TRIGGER IF NOT EXISTS audit_log_horizon_kept BEFORE DELETE ON audit_log_horizon BEGIN
    SELECT RAISE(ABORT, 'the audit horizon cannot be deleted');
END;

-- Replaces 0009's unconditional refusal. A missing horizon row refuses every delete.
DROP TRIGGER IF EXISTS audit_log_append_only_delete;
CREATE TRIGGER IF NOT EXISTS audit_log_delete_only_past_horizon BEFORE DELETE ON audit_log
    WHEN NOT (old.at < coalesce((SELECT purge_before FROM audit_log_horizon WHERE id = 1), ''))
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only: only entries past the audit retention can be deleted');
END;
