-- What happened to a call in the queue and after it (PostgreSQL).
--
-- Kept semantically equal to migrations/sqlite/0003_call_queue_outcome.sql. Every column
-- is nullable: calls stored before this migration, and calls that never reached a queue,
-- have none of these. Durations are whole milliseconds. transfer_result is free text like
-- disposition, so a new outcome needs no migration.

ALTER TABLE calls
    ADD COLUMN IF NOT EXISTS queue           TEXT,
    ADD COLUMN IF NOT EXISTS waited_ms       BIGINT,
    ADD COLUMN IF NOT EXISTS operator        TEXT,
    ADD COLUMN IF NOT EXISTS connected_at    TIMESTAMPTZ,
    ADD COLUMN IF NOT EXISTS talk_ms         BIGINT,
    ADD COLUMN IF NOT EXISTS transfer_target TEXT,
    ADD COLUMN IF NOT EXISTS transfer_result TEXT,
    ADD COLUMN IF NOT EXISTS menu_choice     TEXT;
