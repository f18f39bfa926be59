-- How long each answered call's wrap-up really lasted (SQLite).
--
-- Kept semantically equal to migrations/postgres/0008_call_wrap_ups.sql. The engine writes a
-- row when the operator leaves wrap-up (the timer ran out, the classification was filed, or
-- the operator changed state), which is after the call's record was handed to the record
-- writer but not necessarily after it was stored: hence a table of its own keyed by the call
-- id, with no foreign key, rather than an UPDATE of calls that could find no row yet.
-- Reports and staffing add a call's measured wrap-up to its talk time, and the queue's
-- configured wrap-up for calls without a row (stored before this table, or cut short by a
-- restart).

CREATE TABLE IF NOT EXISTS call_wrap_ups (
    call_id    TEXT NOT NULL PRIMARY KEY,
    ended_at   TEXT NOT NULL
        CHECK (ended_at GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9].[0-9][0-9][0-9]Z'),
    wrap_up_ms INTEGER NOT NULL CHECK (wrap_up_ms >= 0)
) STRICT, WITHOUT ROWID;

CREATE INDEX IF NOT EXISTS call_wrap_ups_ended_at ON call_wrap_ups (ended_at);
