-- FAQ editions (初版, 第2版, …): published snapshots of the active FAQ entries, handed to
-- the city and shown to operators (SQLite).
--
-- Kept semantically equal to migrations/postgres/0007_faq_editions.sql. An edition is
-- immutable once written: the triggers below refuse every UPDATE and DELETE of both
-- tables, so a published text can only be superseded by a newer edition.
-- faq_edition_entries.faq_id is the id of the live entry (classifications link it), with
-- the question, answer and category as they were at publication.

CREATE TABLE IF NOT EXISTS faq_editions (
    number       INTEGER NOT NULL PRIMARY KEY CHECK (number >= 1),
    label        TEXT NOT NULL CHECK (length(label) > 0),
    published_at TEXT NOT NULL
        CHECK (published_at GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9].[0-9][0-9][0-9]Z'),
    published_by TEXT NOT NULL CHECK (length(published_by) > 0),
    note         TEXT CHECK (length(note) <= 1000)
) STRICT;

CREATE TABLE IF NOT EXISTS faq_edition_entries (
    edition  INTEGER NOT NULL REFERENCES faq_editions (number),
    faq_id   INTEGER NOT NULL REFERENCES faq (id),
    question TEXT NOT NULL,
    answer   TEXT NOT NULL,
    category TEXT,
    PRIMARY KEY (edition, faq_id)
) STRICT, WITHOUT ROWID;

CREATE TRIGGER IF NOT EXISTS faq_editions_immutable_update BEFORE UPDATE ON faq_editions BEGIN
    SELECT RAISE(ABORT, 'faq editions are immutable');
END;
CREATE TRIGGER IF NOT EXISTS faq_editions_immutable_delete BEFORE DELETE ON faq_editions BEGIN
    SELECT RAISE(ABORT, 'faq editions are immutable');
END;
CREATE TRIGGER IF NOT EXISTS faq_edition_entries_immutable_update
    BEFORE UPDATE ON faq_edition_entries BEGIN
    SELECT RAISE(ABORT, 'faq editions are immutable');
END;
CREATE TRIGGER IF NOT EXISTS faq_edition_entries_immutable_delete
    BEFORE DELETE ON faq_edition_entries BEGIN
    SELECT RAISE(ABORT, 'faq editions are immutable');
END;
