-- The counter's devices watched (issue 9, design §3) (SQLite).
--
-- Kept semantically equal to migrations/postgres/0014_devices.sql. Instants are the checked
-- RFC 3339 millisecond UTC text of 0001_calls.sql.
--
-- devices: one row per device (a counter tablet, a kiosk PC). `token_hash` is the SHA-256
-- of its own bearer token (`mdg_dev_…`, shown once by `madoguchi device add`), which grants
-- the heartbeat and nothing else. The last beat is kept on the row (`last_*`); `silent_since`
-- is set by the one conditional UPDATE that finds the device silent (so with several nodes
-- one alert goes out) and cleared by its next beat. A revoked device keeps its history.
CREATE TABLE IF NOT EXISTS devices (
    id             TEXT NOT NULL PRIMARY KEY
        CHECK (length(id) BETWEEN 1 AND 64 AND id NOT GLOB '*[^a-z0-9_-]*'),
    label          TEXT NOT NULL CHECK (length(trim(label)) BETWEEN 1 AND 100),
    location       TEXT NOT NULL CHECK (length(trim(location)) BETWEEN 1 AND 100),
    kind           TEXT NOT NULL
        CHECK (length(kind) BETWEEN 1 AND 32 AND kind NOT GLOB '*[^a-z0-9_-]*'),
    token_hash     TEXT NOT NULL UNIQUE,
    silent_after_s INTEGER NOT NULL CHECK (silent_after_s BETWEEN 30 AND 86400),
    created_at     TEXT NOT NULL
        CHECK (created_at GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9].[0-9][0-9][0-9]Z'),
    revoked_at     TEXT
        CHECK (revoked_at GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9].[0-9][0-9][0-9]Z'),
    last_seen_at   TEXT
        CHECK (last_seen_at GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9].[0-9][0-9][0-9]Z'),
    last_rtt_ms    INTEGER CHECK (last_rtt_ms >= 0),
    last_status    TEXT CHECK (last_status IN ('ok', 'warning', 'error')),
    last_detail    TEXT CHECK (length(last_detail) <= 200),
    silent_since   TEXT
        CHECK (silent_since GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9].[0-9][0-9][0-9]Z')
) STRICT;

-- device_events: what happened to a device, for the board's history and the monthly
-- table. `silent` (found silent; `silent_ms` is the time since its last beat then), `back`
-- (its first beat after a silence; `silent_ms` is the whole gap since the beat before),
-- `status` (its reported status changed; `status` is the new one, `detail` what the
-- device said). `node_id` is the node that wrote the row.
CREATE TABLE IF NOT EXISTS device_events (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    device    TEXT NOT NULL REFERENCES devices (id),
    at        TEXT NOT NULL
        CHECK (at GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9].[0-9][0-9][0-9]Z'),
    kind      TEXT NOT NULL CHECK (kind IN ('silent', 'back', 'status')),
    status    TEXT CHECK (status IN ('ok', 'warning', 'error')),
    detail    TEXT CHECK (length(detail) <= 200),
    silent_ms INTEGER CHECK (silent_ms >= 0),
    node_id   TEXT NOT NULL
) STRICT;

CREATE INDEX IF NOT EXISTS device_events_at ON device_events (at, id);

-- device_beats_hourly: beats per device and UTC hour (the hour's start), upserted by every
-- beat. `rtt_beats` counts the beats that carried an RTT (the first one cannot), so the
-- mean RTT is rtt_sum_ms / rtt_beats.
CREATE TABLE IF NOT EXISTS device_beats_hourly (
    device     TEXT NOT NULL REFERENCES devices (id),
    hour       TEXT NOT NULL
        CHECK (hour GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]T[0-2][0-9]:00:00.000Z'),
    beats      INTEGER NOT NULL CHECK (beats >= 0),
    rtt_beats  INTEGER NOT NULL CHECK (rtt_beats >= 0),
    rtt_sum_ms INTEGER NOT NULL CHECK (rtt_sum_ms >= 0),
    rtt_max_ms INTEGER CHECK (rtt_max_ms >= 0),
    PRIMARY KEY (device, hour)
) STRICT, WITHOUT ROWID;
