-- What happened to a call in the queue and after it (SQLite).
--
-- Kept semantically equal to migrations/postgres/0003_call_queue_outcome.sql. Every column
-- is nullable: calls stored before this migration, and calls that never reached a queue,
-- have none of these. Durations are whole milliseconds. transfer_result is free text like
-- disposition, so a new outcome needs no table rebuild. SQLite has no ADD COLUMN IF NOT
-- EXISTS, so unlike 0001/0002 this file relies on sqlx's bookkeeping to run once.

ALTER TABLE calls ADD COLUMN queue TEXT;
ALTER TABLE calls ADD COLUMN waited_ms INTEGER;
ALTER TABLE calls ADD COLUMN operator TEXT;
ALTER TABLE calls ADD COLUMN connected_at TEXT
    CHECK (connected_at GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9].[0-9][0-9][0-9]Z');
ALTER TABLE calls ADD COLUMN talk_ms INTEGER;
ALTER TABLE calls ADD COLUMN transfer_target TEXT;
ALTER TABLE calls ADD COLUMN transfer_result TEXT;
ALTER TABLE calls ADD COLUMN menu_choice TEXT;
