-- The counter's devices watched (issue 9, design §3) (PostgreSQL).
--
-- Kept semantically equal to migrations/sqlite/0014_devices.sql, which explains the
-- columns. Instants are UTC, written truncated to milliseconds. Text keys use the "C"
-- collation so id order is byte order, as in SQLite.
CREATE TABLE IF NOT EXISTS devices (
    id             TEXT COLLATE "C" NOT NULL PRIMARY KEY
        CHECK (char_length(id) BETWEEN 1 AND 64 AND id !~ '[^a-z0-9_-]'),
    label          TEXT NOT NULL CHECK (char_length(btrim(label)) BETWEEN 1 AND 100),
    location       TEXT NOT NULL CHECK (char_length(btrim(location)) BETWEEN 1 AND 100),
    kind           TEXT NOT NULL
        CHECK (char_length(kind) BETWEEN 1 AND 32 AND kind !~ '[^a-z0-9_-]'),
    token_hash     TEXT NOT NULL UNIQUE,
    silent_after_s INTEGER NOT NULL CHECK (silent_after_s BETWEEN 30 AND 86400),
    created_at     TIMESTAMPTZ NOT NULL,
    revoked_at     TIMESTAMPTZ,
    last_seen_at   TIMESTAMPTZ,
    last_rtt_ms    BIGINT CHECK (last_rtt_ms >= 0),
    last_status    TEXT CHECK (last_status IN ('ok', 'warning', 'error')),
    last_detail    TEXT CHECK (char_length(last_detail) <= 200),
    silent_since   TIMESTAMPTZ
);

CREATE TABLE IF NOT EXISTS device_events (
    id        BIGSERIAL PRIMARY KEY,
    device    TEXT COLLATE "C" NOT NULL REFERENCES devices (id),
    at        TIMESTAMPTZ NOT NULL,
    kind      TEXT NOT NULL CHECK (kind IN ('silent', 'back', 'status')),
    status    TEXT CHECK (status IN ('ok', 'warning', 'error')),
    detail    TEXT CHECK (char_length(detail) <= 200),
    silent_ms BIGINT CHECK (silent_ms >= 0),
    node_id   TEXT NOT NULL
);

CREATE INDEX IF NOT EXISTS device_events_at ON device_events (at, id);

CREATE TABLE IF NOT EXISTS device_beats_hourly (
    device     TEXT COLLATE "C" NOT NULL REFERENCES devices (id),
    hour       TIMESTAMPTZ NOT NULL CHECK (hour = date_trunc('hour', hour, 'UTC')),
    beats      BIGINT NOT NULL CHECK (beats >= 0),
    rtt_beats  BIGINT NOT NULL CHECK (rtt_beats >= 0),
    rtt_sum_ms BIGINT NOT NULL CHECK (rtt_sum_ms >= 0),
    rtt_max_ms BIGINT CHECK (rtt_max_ms >= 0),
    PRIMARY KEY (device, hour)
);
