-- Several nodes on one database (issue 8) (SQLite).
--
-- Kept semantically equal to migrations/postgres/0013_cluster.sql. SQLite stays single-node,
-- but its schema follows so that one store API serves both backends.
--
-- nodes: `instance` is a random id per run, so two processes started with one node id are
-- told apart; `seen_at` is the database's clock at the last heartbeat (clock skew between
-- nodes cannot fake a death, unlike `last_alive_at`, the node's own clock, kept for the end
-- time of calls a crash cut); `sip_addr`/`http_url` are where the other nodes and failing-over
-- consoles reach it. Rows from before this migration count as seen long ago; every writer
-- sets `seen_at` explicitly (SQLite cannot add a column defaulting to the current time).
ALTER TABLE nodes ADD COLUMN instance TEXT NOT NULL DEFAULT '';
ALTER TABLE nodes ADD COLUMN seen_at TEXT NOT NULL DEFAULT '1970-01-01T00:00:00.000Z'
    CHECK (seen_at GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9].[0-9][0-9][0-9]Z');
ALTER TABLE nodes ADD COLUMN sip_addr TEXT;
ALTER TABLE nodes ADD COLUMN http_url TEXT;

-- Which node wrote each row ('' for rows from before this migration). The audit log's
-- triggers refuse UPDATE and DELETE only, so adding a column and inserting pass.
ALTER TABLE operator_state_changes ADD COLUMN node_id TEXT NOT NULL DEFAULT '';
ALTER TABLE audit_log ADD COLUMN node_id TEXT NOT NULL DEFAULT '';
ALTER TABLE call_wrap_ups ADD COLUMN node_id TEXT NOT NULL DEFAULT '';

-- Each node's last published live state (unused on SQLite: one node needs no merge).
CREATE TABLE IF NOT EXISTS node_live (
    node_id      TEXT NOT NULL PRIMARY KEY,
    published_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    state        TEXT NOT NULL CHECK (json_valid(state))
) STRICT, WITHOUT ROWID;

-- A failover retry is one call: the reaper looks a journaled SIP Call-ID up on other nodes.
CREATE INDEX IF NOT EXISTS calls_sip_call_id ON calls (sip_call_id);
CREATE INDEX IF NOT EXISTS call_journal_sip_call_id ON call_journal (sip_call_id);
