-- Retention of personal data and of the audit log (PostgreSQL).
--
-- Kept semantically equal to migrations/sqlite/0011_retention.sql, which explains the
-- columns and the horizon. Here the horizon's floor is a year before the server's now().

ALTER TABLE calls ADD COLUMN IF NOT EXISTS anonymised_at TIMESTAMPTZ;
ALTER TABLE recordings ADD COLUMN IF NOT EXISTS purged_at TIMESTAMPTZ;

CREATE INDEX IF NOT EXISTS calls_not_anonymised ON calls (arrived_at)
    WHERE anonymised_at IS NULL;

CREATE TABLE IF NOT EXISTS audit_log_horizon (
    id           INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
    purge_before TIMESTAMPTZ NOT NULL
);

INSERT INTO audit_log_horizon (id, purge_before) VALUES (1, '1970-01-01T00:00:00Z')
    ON CONFLICT (id) DO NOTHING;

CREATE OR REPLACE FUNCTION audit_log_horizon_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE'
       AND NEW.id = OLD.id
       AND NEW.purge_before >= OLD.purge_before
       AND NEW.purge_before <= now() - interval '365 days' THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'the audit horizon only moves forward and stays a year back';
END;
$$;

DROP TRIGGER IF EXISTS audit_log_horizon_guard ON audit_log_horizon;
CREATE TRIGGER audit_log_horizon_guard BEFORE UPDATE OR DELETE ON audit_log_horizon
    FOR EACH ROW EXECUTE FUNCTION audit_log_horizon_guard();
DROP TRIGGER IF EXISTS audit_log_horizon_guard_truncate ON audit_log_horizon;
CREATE TRIGGER audit_log_horizon_guard_truncate BEFORE TRUNCATE ON audit_log_horizon
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_refuse_change();

-- Replaces 0009's unconditional refusal for DELETE; UPDATE and TRUNCATE stay refused.
CREATE OR REPLACE FUNCTION audit_log_delete_past_horizon() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE'
       AND OLD.at < (SELECT purge_before FROM audit_log_horizon WHERE id = 1) THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'the audit log is append-only: only entries past the audit retention can be deleted';
END;
$$;

DROP TRIGGER IF EXISTS audit_log_append_only ON audit_log;
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_delete_past_horizon();
