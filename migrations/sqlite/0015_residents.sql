-- Residents first (issue 9, design §1 and §2) (SQLite).
--
-- Kept semantically equal to migrations/postgres/0015_residents.sql.
--
-- calls: how the call was answered and what the caller paid for. `answer_mode` is the
-- dialplan entry's mode ('engine' answers at once; 'operator' waits in early media and
-- answers when a person picks up); `answered_by` says who caused our 200 OK ('engine',
-- 'operator', 'target', 'early_limit'; NULL when never answered). `unanswered_ms` runs from
-- arrival to our 200 (or to the end when none), `answered_ms` from our 200 to the end (the
-- part a carrier bills). Derivable from the instants, but stored so that reports stay plain
-- sums and a later change of what `answered_at` means cannot rewrite history.
-- `language` is the caller's chosen language (NULL = the dialplan's default);
-- `language_fallback` says how a language caller was served without that language:
-- 'any' (any operator after the wait) or 'target' (sent to the interpretation line).
-- Free text rather than CHECK lists, like `disposition`: a new value needs no table rebuild.
ALTER TABLE calls ADD COLUMN answer_mode TEXT;
ALTER TABLE calls ADD COLUMN answered_by TEXT;
ALTER TABLE calls ADD COLUMN unanswered_ms INTEGER CHECK (unanswered_ms IS NULL OR unanswered_ms >= 0);
ALTER TABLE calls ADD COLUMN answered_ms INTEGER CHECK (answered_ms IS NULL OR answered_ms >= 0);
ALTER TABLE calls ADD COLUMN language TEXT;
ALTER TABLE calls ADD COLUMN language_fallback TEXT;
CREATE INDEX IF NOT EXISTS calls_language ON calls (language);

-- users: the languages an operator speaks besides the default one (a JSON array of codes);
-- the ACD offers a language's callers to them first.
ALTER TABLE users ADD COLUMN languages TEXT NOT NULL DEFAULT '[]'
    CHECK (json_valid(languages) AND json_type(languages) = 'array');
