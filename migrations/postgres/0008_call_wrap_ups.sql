-- How long each answered call's wrap-up really lasted (PostgreSQL).
--
-- Kept semantically equal to migrations/sqlite/0008_call_wrap_ups.sql, which explains why
-- this is a table of its own without a foreign key to calls.

CREATE TABLE IF NOT EXISTS call_wrap_ups (
    call_id    TEXT PRIMARY KEY,
    ended_at   TIMESTAMPTZ NOT NULL,
    wrap_up_ms BIGINT NOT NULL CHECK (wrap_up_ms >= 0)
);

CREATE INDEX IF NOT EXISTS call_wrap_ups_ended_at ON call_wrap_ups (ended_at);
