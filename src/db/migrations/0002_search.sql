-- Search (issue 4): one full-text index over the live customers, contacts and leads.
--
-- `search_docs` gives every indexed record a stable integer `doc` (the base tables' own
-- rowids are not stable: `VACUUM`, which backups use, may renumber them). Two contentless
-- FTS5 tables are keyed by `doc` and store no copy of the text:
--   * `search_words`: words, case- and accent-insensitive, with 2- and 3-letter prefix
--     indexes, so a query typed so far finds words by prefix;
--   * `search_trigrams`: every 3-character sequence, for substrings ("corp" in "Acmecorp",
--     "0147" inside a phone number).
-- Column `title` is the record's name (what search shows); `body` is the other searchable
-- text. Phone numbers are indexed as written and as digits only; e-mail addresses split into
-- words by the tokenizer ("ada lovelace example com").
--
-- Triggers keep all of it current inside the transaction of every write: a record enters on
-- insert, is re-indexed on a change of an indexed column, leaves when trashed or purged and
-- comes back when restored.

CREATE TABLE search_docs (
    doc  INTEGER PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('customer', 'contact', 'lead')),
    id   TEXT NOT NULL UNIQUE
) STRICT;

CREATE VIRTUAL TABLE search_words USING fts5 (
    title, body,
    content = '', contentless_delete = 1,
    tokenize = 'unicode61 remove_diacritics 2', prefix = '2 3'
);

CREATE VIRTUAL TABLE search_trigrams USING fts5 (
    title, body,
    content = '', contentless_delete = 1,
    tokenize = 'trigram remove_diacritics 1'
);

-- The searchable text of each kind, for live rows only.
CREATE VIEW search_text (kind, id, title, body) AS
    SELECT 'customer', id, name, concat_ws(' ', domain, industry)
      FROM customers WHERE deleted_at IS NULL
    UNION ALL
    SELECT 'contact', id, concat_ws(' ', first_name, last_name),
           concat_ws(' ', email, title, phone,
                     replace(replace(replace(replace(replace(replace(replace(replace(
                         phone, ' ', ''), '-', ''), '(', ''), ')', ''), '+', ''), '.', ''),
                         '/', ''), 'x', ''))
      FROM contacts WHERE deleted_at IS NULL
    UNION ALL
    SELECT 'lead', id, title, concat_ws(' ', company_name, contact_name, email)
      FROM leads WHERE deleted_at IS NULL;

CREATE TRIGGER search_docs_insert AFTER INSERT ON search_docs BEGIN
    INSERT INTO search_words (rowid, title, body)
        SELECT new.doc, title, body FROM search_text WHERE id = new.id AND kind = new.kind;
    INSERT INTO search_trigrams (rowid, title, body)
        SELECT new.doc, title, body FROM search_text WHERE id = new.id AND kind = new.kind;
END;

CREATE TRIGGER search_docs_delete AFTER DELETE ON search_docs BEGIN
    DELETE FROM search_words WHERE rowid = old.doc;
    DELETE FROM search_trigrams WHERE rowid = old.doc;
END;

CREATE TRIGGER customers_search_insert AFTER INSERT ON customers
WHEN new.deleted_at IS NULL BEGIN
    INSERT INTO search_docs (kind, id) VALUES ('customer', new.id);
END;
CREATE TRIGGER customers_search_update AFTER UPDATE OF name, domain, industry, deleted_at ON customers BEGIN
    DELETE FROM search_docs WHERE id = old.id;
    INSERT INTO search_docs (kind, id) SELECT 'customer', new.id WHERE new.deleted_at IS NULL;
END;
CREATE TRIGGER customers_search_delete AFTER DELETE ON customers BEGIN
    DELETE FROM search_docs WHERE id = old.id;
END;

CREATE TRIGGER contacts_search_insert AFTER INSERT ON contacts
WHEN new.deleted_at IS NULL BEGIN
    INSERT INTO search_docs (kind, id) VALUES ('contact', new.id);
END;
CREATE TRIGGER contacts_search_update
AFTER UPDATE OF first_name, last_name, email, phone, title, deleted_at ON contacts BEGIN
    DELETE FROM search_docs WHERE id = old.id;
    INSERT INTO search_docs (kind, id) SELECT 'contact', new.id WHERE new.deleted_at IS NULL;
END;
CREATE TRIGGER contacts_search_delete AFTER DELETE ON contacts BEGIN
    DELETE FROM search_docs WHERE id = old.id;
END;

CREATE TRIGGER leads_search_insert AFTER INSERT ON leads
WHEN new.deleted_at IS NULL BEGIN
    INSERT INTO search_docs (kind, id) VALUES ('lead', new.id);
END;
CREATE TRIGGER leads_search_update
AFTER UPDATE OF title, company_name, contact_name, email, deleted_at ON leads BEGIN
    DELETE FROM search_docs WHERE id = old.id;
    INSERT INTO search_docs (kind, id) SELECT 'lead', new.id WHERE new.deleted_at IS NULL;
END;
CREATE TRIGGER leads_search_delete AFTER DELETE ON leads BEGIN
    DELETE FROM search_docs WHERE id = old.id;
END;

-- What was there before this migration.
INSERT INTO search_docs (kind, id) SELECT kind, id FROM search_text;
