-- Crash safety: the calls a node has in progress, and when each node was last alive (SQLite).
--
-- Kept semantically equal to migrations/postgres/0010_open_call_journal.sql. The record
-- writer stores a journal row when a call arrives and deletes it in the transaction that
-- stores the call's record, so after a crash (kill -9, power loss) the rows left name the
-- calls that were cut. At start-up a node closes its own leftover rows as `interrupted`
-- records ending at its last heartbeat; a surviving node can do the same for a dead one,
-- which is why both tables are keyed by node. No foreign key to calls: the journal row
-- exists exactly while the calls row does not.

CREATE TABLE IF NOT EXISTS call_journal (
    id          TEXT NOT NULL PRIMARY KEY,
    node_id     TEXT NOT NULL,
    sip_call_id TEXT NOT NULL,
    -- Personal data, as in calls; gone with the row when the record is stored.
    caller      TEXT NOT NULL,
    called      TEXT NOT NULL,
    arrived_at  TEXT NOT NULL
        CHECK (arrived_at GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9].[0-9][0-9][0-9]Z')
) STRICT, WITHOUT ROWID;

CREATE INDEX IF NOT EXISTS call_journal_node ON call_journal (node_id, arrived_at);

-- One row per engine node, its heartbeat updated every few seconds while it runs.
CREATE TABLE IF NOT EXISTS nodes (
    node_id       TEXT NOT NULL PRIMARY KEY,
    last_alive_at TEXT NOT NULL
        CHECK (last_alive_at GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9].[0-9][0-9][0-9]Z')
) STRICT, WITHOUT ROWID;
