-- Call records and their events (PostgreSQL).
--
-- Kept semantically equal to migrations/sqlite/0001_calls.sql. The store writes timestamps
-- truncated to milliseconds on both backends, so a record reads back the same from either.
-- Text keys use the "C" collation so id order is byte order, as in SQLite.

CREATE TABLE IF NOT EXISTS calls (
    id           TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    sip_call_id  TEXT NOT NULL,
    caller       TEXT NOT NULL,
    called       TEXT NOT NULL,
    arrived_at   TIMESTAMPTZ NOT NULL,
    answered_at  TIMESTAMPTZ,
    ended_at     TIMESTAMPTZ NOT NULL,
    entry        TEXT,
    branch       TEXT,
    -- Free text rather than a CHECK list: a new disposition must not need a migration.
    disposition  TEXT NOT NULL,
    -- JSON array of the DTMF choices, in the order they were made.
    dtmf         JSONB NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(dtmf) = 'array'),
    hangup_side  TEXT CHECK (hangup_side IN ('caller', 'engine')),
    hangup_cause TEXT,
    node_id      TEXT NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- (arrived_at, id) serves the date-range filter and the newest-first keyset order.
CREATE INDEX IF NOT EXISTS calls_arrived_at ON calls (arrived_at, id);
CREATE INDEX IF NOT EXISTS calls_disposition ON calls (disposition);

CREATE TABLE IF NOT EXISTS call_events (
    call_id TEXT COLLATE "C" NOT NULL REFERENCES calls (id) ON DELETE CASCADE,
    seq     INTEGER NOT NULL,
    at      TIMESTAMPTZ NOT NULL,
    kind    TEXT NOT NULL,
    detail  JSONB NOT NULL DEFAULT 'null',
    PRIMARY KEY (call_id, seq)
);
