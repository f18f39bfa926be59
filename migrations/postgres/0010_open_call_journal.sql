-- Crash safety: the calls a node has in progress, and when each node was last alive
-- (PostgreSQL).
--
-- Kept semantically equal to migrations/sqlite/0010_open_call_journal.sql, which explains
-- both tables.

CREATE TABLE IF NOT EXISTS call_journal (
    id          TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    node_id     TEXT COLLATE "C" NOT NULL,
    sip_call_id TEXT NOT NULL,
    caller      TEXT NOT NULL,
    called      TEXT NOT NULL,
    arrived_at  TIMESTAMPTZ NOT NULL
);

CREATE INDEX IF NOT EXISTS call_journal_node ON call_journal (node_id, arrived_at);

CREATE TABLE IF NOT EXISTS nodes (
    node_id       TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    last_alive_at TIMESTAMPTZ NOT NULL
);
