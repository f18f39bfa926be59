-- FAQ editions (初版, 第2版, …): published snapshots of the active FAQ entries, handed to
-- the city and shown to operators (PostgreSQL).
--
-- Kept semantically equal to migrations/sqlite/0007_faq_editions.sql. An edition is
-- immutable once written: the trigger below refuses every UPDATE and DELETE of both
-- tables (TRUNCATE too), so a published text can only be superseded by a newer edition.
-- faq_edition_entries.faq_id is the id of the live entry (classifications link it), with
-- the question, answer and category as they were at publication.

CREATE TABLE IF NOT EXISTS faq_editions (
    number       BIGINT NOT NULL PRIMARY KEY CHECK (number >= 1),
    label        TEXT NOT NULL CHECK (length(label) > 0),
    published_at TIMESTAMPTZ NOT NULL,
    published_by TEXT NOT NULL CHECK (length(published_by) > 0),
    note         TEXT CHECK (length(note) <= 1000)
);

CREATE TABLE IF NOT EXISTS faq_edition_entries (
    edition  BIGINT NOT NULL REFERENCES faq_editions (number),
    faq_id   BIGINT NOT NULL REFERENCES faq (id),
    question TEXT NOT NULL,
    answer   TEXT NOT NULL,
    category TEXT,
    PRIMARY KEY (edition, faq_id)
);

CREATE OR REPLACE FUNCTION faq_editions_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'faq editions are immutable';
END;
$$;

DROP TRIGGER IF EXISTS faq_editions_immutable ON faq_editions;
CREATE TRIGGER faq_editions_immutable BEFORE UPDATE OR DELETE ON faq_editions
    FOR EACH ROW EXECUTE FUNCTION faq_editions_refuse_change();
DROP TRIGGER IF EXISTS faq_editions_immutable_truncate ON faq_editions;
CREATE TRIGGER faq_editions_immutable_truncate BEFORE TRUNCATE ON faq_editions
    FOR EACH STATEMENT EXECUTE FUNCTION faq_editions_refuse_change();
DROP TRIGGER IF EXISTS faq_edition_entries_immutable ON faq_edition_entries;
CREATE TRIGGER faq_edition_entries_immutable BEFORE UPDATE OR DELETE ON faq_edition_entries
    FOR EACH ROW EXECUTE FUNCTION faq_editions_refuse_change();
DROP TRIGGER IF EXISTS faq_edition_entries_immutable_truncate ON faq_edition_entries;
CREATE TRIGGER faq_edition_entries_immutable_truncate BEFORE TRUNCATE ON faq_edition_entries
    FOR EACH STATEMENT EXECUTE FUNCTION faq_editions_refuse_change();
