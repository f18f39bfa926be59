-- Call records and their events (SQLite).
--
-- Kept semantically equal to migrations/postgres/0001_calls.sql. Timestamps are TEXT in
-- RFC 3339 UTC with exactly three fractional digits ('2026-01-05T08:30:00.000Z'), so text
-- order is time order and reports can GROUP BY substr(arrived_at, 1, 7) for a month.
-- The CHECKs hold that format; the store writes nothing else.

CREATE TABLE IF NOT EXISTS calls (
    id           TEXT NOT NULL PRIMARY KEY,
    sip_call_id  TEXT NOT NULL,
    caller       TEXT NOT NULL,
    called       TEXT NOT NULL,
    arrived_at   TEXT NOT NULL
        CHECK (arrived_at GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9].[0-9][0-9][0-9]Z'),
    answered_at  TEXT
        CHECK (answered_at GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9].[0-9][0-9][0-9]Z'),
    ended_at     TEXT NOT NULL
        CHECK (ended_at GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9].[0-9][0-9][0-9]Z'),
    entry        TEXT,
    branch       TEXT,
    -- Free text rather than a CHECK list: a new disposition must not need a table rebuild.
    disposition  TEXT NOT NULL,
    -- JSON array of the DTMF choices, in the order they were made.
    dtmf         TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(dtmf) AND json_type(dtmf) = 'array'),
    hangup_side  TEXT CHECK (hangup_side IN ('caller', 'engine')),
    hangup_cause TEXT,
    node_id      TEXT NOT NULL,
    created_at   TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
) STRICT;

-- (arrived_at, id) serves the date-range filter and the newest-first keyset order.
CREATE INDEX IF NOT EXISTS calls_arrived_at ON calls (arrived_at, id);
CREATE INDEX IF NOT EXISTS calls_disposition ON calls (disposition);

CREATE TABLE IF NOT EXISTS call_events (
    call_id TEXT NOT NULL REFERENCES calls (id) ON DELETE CASCADE,
    seq     INTEGER NOT NULL,
    at      TEXT NOT NULL
        CHECK (at GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9].[0-9][0-9][0-9]Z'),
    kind    TEXT NOT NULL,
    detail  TEXT NOT NULL DEFAULT 'null' CHECK (json_valid(detail)),
    PRIMARY KEY (call_id, seq)
) STRICT, WITHOUT ROWID;
