-- Several nodes on one database (issue 8) (PostgreSQL).
--
-- Kept semantically equal to migrations/sqlite/0013_cluster.sql, which explains the columns.
-- Rows of `nodes` from before this migration count as seen long ago; new rows default to the
-- database's now().

ALTER TABLE nodes ADD COLUMN IF NOT EXISTS instance TEXT NOT NULL DEFAULT '';
ALTER TABLE nodes ADD COLUMN IF NOT EXISTS seen_at TIMESTAMPTZ NOT NULL
    DEFAULT '1970-01-01T00:00:00Z';
ALTER TABLE nodes ALTER COLUMN seen_at SET DEFAULT now();
ALTER TABLE nodes ADD COLUMN IF NOT EXISTS sip_addr TEXT;
ALTER TABLE nodes ADD COLUMN IF NOT EXISTS http_url TEXT;

ALTER TABLE operator_state_changes ADD COLUMN IF NOT EXISTS node_id TEXT COLLATE "C" NOT NULL DEFAULT '';
ALTER TABLE audit_log ADD COLUMN IF NOT EXISTS node_id TEXT COLLATE "C" NOT NULL DEFAULT '';
ALTER TABLE call_wrap_ups ADD COLUMN IF NOT EXISTS node_id TEXT COLLATE "C" NOT NULL DEFAULT '';

-- Rewritten several times a second and worthless after a crash: not WAL-logged.
CREATE UNLOGGED TABLE IF NOT EXISTS node_live (
    node_id      TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    published_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    state        JSONB NOT NULL
);

CREATE INDEX IF NOT EXISTS calls_sip_call_id ON calls (sip_call_id);
CREATE INDEX IF NOT EXISTS call_journal_sip_call_id ON call_journal (sip_call_id);
