-- The operator console's data: browser sessions, API tokens, the FAQ and call
-- classifications (SQLite).
--
-- Kept semantically equal to migrations/postgres/0004_console.sql. Timestamps use the
-- checked RFC 3339 millisecond text of 0001_calls.sql; booleans are INTEGER 0/1.
-- Secrets are never stored: sessions and tokens keep the lowercase hex SHA-256 of the
-- random value handed out (256 bits of entropy, so a fast hash is enough).

CREATE TABLE IF NOT EXISTS sessions (
    token_hash TEXT NOT NULL PRIMARY KEY CHECK (length(token_hash) = 64),
    login      TEXT NOT NULL REFERENCES users (login) ON DELETE CASCADE,
    created_at TEXT NOT NULL
        CHECK (created_at GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9].[0-9][0-9][0-9]Z'),
    last_seen  TEXT NOT NULL
        CHECK (last_seen GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9].[0-9][0-9][0-9]Z'),
    -- The absolute end; the idle limit is applied to last_seen by the store.
    expires_at TEXT NOT NULL
        CHECK (expires_at GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9].[0-9][0-9][0-9]Z')
) STRICT, WITHOUT ROWID;

CREATE INDEX IF NOT EXISTS sessions_login ON sessions (login);

CREATE TABLE IF NOT EXISTS api_tokens (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    token_hash   TEXT NOT NULL UNIQUE CHECK (length(token_hash) = 64),
    login        TEXT NOT NULL REFERENCES users (login) ON DELETE CASCADE,
    label        TEXT,
    created_at   TEXT NOT NULL
        CHECK (created_at GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9].[0-9][0-9][0-9]Z'),
    last_used_at TEXT
        CHECK (last_used_at GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9].[0-9][0-9][0-9]Z')
) STRICT;

CREATE INDEX IF NOT EXISTS api_tokens_login ON api_tokens (login);

-- FAQ entries operators look up during a call. `category` is a category code of the
-- dialplan (free text here: categories are configuration, not schema).
CREATE TABLE IF NOT EXISTS faq (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    question   TEXT NOT NULL CHECK (length(trim(question)) > 0),
    answer     TEXT NOT NULL CHECK (length(trim(answer)) > 0),
    category   TEXT,
    -- Classifications currently linked to the entry: "most used first" in the console.
    uses       INTEGER NOT NULL DEFAULT 0 CHECK (uses >= 0),
    created_at TEXT NOT NULL
        CHECK (created_at GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9].[0-9][0-9][0-9]Z'),
    updated_at TEXT NOT NULL
        CHECK (updated_at GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9].[0-9][0-9][0-9]Z'),
    active     INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1))
) STRICT;

-- Japanese has no word boundaries: the trigram tokenizer indexes every 3-character
-- substring, so any query of 3 or more characters matches as a substring. Shorter queries
-- fall back to LIKE on the table itself. External content: the text lives once, in faq.
CREATE VIRTUAL TABLE IF NOT EXISTS faq_search USING fts5 (
    question, answer, content = 'faq', content_rowid = 'id', tokenize = 'trigram'
);

CREATE TRIGGER IF NOT EXISTS faq_search_insert AFTER INSERT ON faq BEGIN
    INSERT INTO faq_search (rowid, question, answer) VALUES (new.id, new.question, new.answer);
END;

CREATE TRIGGER IF NOT EXISTS faq_search_delete AFTER DELETE ON faq BEGIN
    INSERT INTO faq_search (faq_search, rowid, question, answer)
    VALUES ('delete', old.id, old.question, old.answer);
END;

-- Only a change of the indexed text touches the index (uses changes on every classification).
CREATE TRIGGER IF NOT EXISTS faq_search_update AFTER UPDATE OF question, answer ON faq BEGIN
    INSERT INTO faq_search (faq_search, rowid, question, answer)
    VALUES ('delete', old.id, old.question, old.answer);
    INSERT INTO faq_search (rowid, question, answer) VALUES (new.id, new.question, new.answer);
END;

-- One classification per call, keyed by call id without a reference to calls: operators
-- classify during wrap-up, before the call record is written (records are written when a
-- call ends). A second filing replaces the row (revision + 1, updated_at); every filing is
-- also appended to classification_history.
CREATE TABLE IF NOT EXISTS classifications (
    call_id    TEXT NOT NULL PRIMARY KEY,
    category   TEXT NOT NULL,
    outcome    TEXT NOT NULL CHECK (outcome IN ('resolved_faq', 'transferred_city',
                   'referred_other_agency', 'callback_needed', 'other')),
    complaint  INTEGER NOT NULL CHECK (complaint IN (0, 1)),
    escalated  INTEGER NOT NULL DEFAULT 0 CHECK (escalated IN (0, 1)),
    faq_id     INTEGER REFERENCES faq (id),
    note       TEXT,
    operator   TEXT NOT NULL,
    revision   INTEGER NOT NULL CHECK (revision >= 1),
    created_at TEXT NOT NULL
        CHECK (created_at GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9].[0-9][0-9][0-9]Z'),
    updated_at TEXT NOT NULL
        CHECK (updated_at GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9].[0-9][0-9][0-9]Z')
) STRICT, WITHOUT ROWID;

CREATE INDEX IF NOT EXISTS classifications_complaint ON classifications (complaint)
    WHERE complaint = 1;

CREATE TABLE IF NOT EXISTS classification_history (
    call_id   TEXT NOT NULL,
    revision  INTEGER NOT NULL CHECK (revision >= 1),
    category  TEXT NOT NULL,
    outcome   TEXT NOT NULL,
    complaint INTEGER NOT NULL CHECK (complaint IN (0, 1)),
    escalated INTEGER NOT NULL CHECK (escalated IN (0, 1)),
    faq_id    INTEGER,
    note      TEXT,
    operator  TEXT NOT NULL,
    at        TEXT NOT NULL
        CHECK (at GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9].[0-9][0-9][0-9]Z'),
    PRIMARY KEY (call_id, revision)
) STRICT, WITHOUT ROWID;
