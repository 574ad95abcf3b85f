-- Search (issue 4), second design: queries that stop early, and cheaper upkeep.
--
-- Search no longer ranks all matches (bm25 read every match's doclist); it asks the index in
-- stages, each in rowid order with a LIMIT, so FTS5 stops after the first few hits. For that
-- to work without a join before the LIMIT:
--   * a record's `doc` carries its kind in the high bits (doc >> 40: 3 customer, 2 contact,
--     1 lead), so a kind filter is a rowid range FTS5 seeks to, and rowid order is
--     customers, contacts, leads (each in the order they entered the index);
--   * `search_words.title` ends with the private-use character U+E000, a token no query word
--     can contain (queries split on anything not a letter or digit), so "the name is exactly
--     these words" is the phrase `title : ^"ada lovelace <U+E000>"`.
--
-- Upkeep: records enter through the view `search_entry` (an INSTEAD OF trigger numbers the
-- doc and indexes the text once), and an update re-indexes only when indexed text or the
-- trash state really changed. What is indexed is unchanged from 0002.

DROP TRIGGER search_docs_insert;
DROP TRIGGER search_docs_delete;
DROP TRIGGER customers_search_insert;
DROP TRIGGER customers_search_update;
DROP TRIGGER customers_search_delete;
DROP TRIGGER contacts_search_insert;
DROP TRIGGER contacts_search_update;
DROP TRIGGER contacts_search_delete;
DROP TRIGGER leads_search_insert;
DROP TRIGGER leads_search_update;
DROP TRIGGER leads_search_delete;
DROP VIEW search_text;
DROP TABLE search_words;
DROP TABLE search_trigrams;
DROP TABLE search_docs;

CREATE TABLE search_docs (
    doc INTEGER PRIMARY KEY CHECK (doc >> 40 BETWEEN 1 AND 3),
    id  TEXT NOT NULL UNIQUE
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

-- The searchable text of each kind (by its code), for live rows only.
CREATE VIEW search_text (kind, id, title, body) AS
    SELECT 3, id, name, concat_ws(' ', domain, industry)
      FROM customers WHERE deleted_at IS NULL
    UNION ALL
    SELECT 2, id, concat_ws(' ', first_name, last_name),
           concat_ws(' ', email, title, phone,
                     replace(replace(replace(replace(replace(replace(replace(replace(
                         phone, ' ', ''), '-', ''), '(', ''), ')', ''), '+', ''), '.', ''),
                         '/', ''), 'x', ''))
      FROM contacts WHERE deleted_at IS NULL
    UNION ALL
    SELECT 1, id, title, concat_ws(' ', company_name, contact_name, email)
      FROM leads WHERE deleted_at IS NULL;

-- Inserting (kind, id) here is the one way into the index: the next doc of that kind's range,
-- then the text into both FTS tables.
CREATE VIEW search_entry (kind, id) AS SELECT doc >> 40, id FROM search_docs;

CREATE TRIGGER search_entry_insert INSTEAD OF INSERT ON search_entry BEGIN
    INSERT INTO search_docs (doc, id)
        SELECT coalesce(max(doc) + 1, new.kind << 40), new.id FROM search_docs
         WHERE doc >= new.kind << 40 AND doc < (new.kind + 1) << 40;
    -- last_insert_rowid() is that doc while this trigger runs (an FTS5 insert sets it to the
    -- rowid it is given, the same doc), which spares looking it up by id twice.
    INSERT INTO search_words (rowid, title, body)
        SELECT last_insert_rowid(), title, body
          FROM search_text WHERE kind = new.kind AND id = new.id;
    INSERT INTO search_trigrams (rowid, title, body)
        SELECT last_insert_rowid(), char(57344) || title || char(57344), body
          FROM search_text WHERE kind = new.kind AND id = new.id;
END;

CREATE TRIGGER search_docs_delete AFTER DELETE ON search_docs BEGIN
    DELETE FROM search_words WHERE rowid = old.doc;
    DELETE FROM search_trigrams WHERE rowid = old.doc;
END;

CREATE TRIGGER customers_search_insert AFTER INSERT ON customers
WHEN new.deleted_at IS NULL BEGIN
    INSERT INTO search_entry (kind, id) VALUES (3, new.id);
END;
CREATE TRIGGER customers_search_update AFTER UPDATE OF name, domain, industry, deleted_at ON customers
WHEN old.deleted_at IS NOT new.deleted_at OR old.name IS NOT new.name
  OR old.domain IS NOT new.domain OR old.industry IS NOT new.industry BEGIN
    DELETE FROM search_docs WHERE id = old.id;
    INSERT INTO search_entry (kind, id) SELECT 3, new.id WHERE new.deleted_at IS NULL;
END;
CREATE TRIGGER customers_search_delete AFTER DELETE ON customers BEGIN
    DELETE FROM search_docs WHERE id = old.id;
END;

CREATE TRIGGER contacts_search_insert AFTER INSERT ON contacts
WHEN new.deleted_at IS NULL BEGIN
    INSERT INTO search_entry (kind, id) VALUES (2, new.id);
END;
CREATE TRIGGER contacts_search_update
AFTER UPDATE OF first_name, last_name, email, phone, title, deleted_at ON contacts
WHEN old.deleted_at IS NOT new.deleted_at OR old.first_name IS NOT new.first_name
  OR old.last_name IS NOT new.last_name OR old.email IS NOT new.email
  OR old.phone IS NOT new.phone OR old.title IS NOT new.title BEGIN
    DELETE FROM search_docs WHERE id = old.id;
    INSERT INTO search_entry (kind, id) SELECT 2, new.id WHERE new.deleted_at IS NULL;
END;
CREATE TRIGGER contacts_search_delete AFTER DELETE ON contacts BEGIN
    DELETE FROM search_docs WHERE id = old.id;
END;

CREATE TRIGGER leads_search_insert AFTER INSERT ON leads
WHEN new.deleted_at IS NULL BEGIN
    INSERT INTO search_entry (kind, id) VALUES (1, new.id);
END;
CREATE TRIGGER leads_search_update
AFTER UPDATE OF title, company_name, contact_name, email, deleted_at ON leads
WHEN old.deleted_at IS NOT new.deleted_at OR old.title IS NOT new.title
  OR old.company_name IS NOT new.company_name OR old.contact_name IS NOT new.contact_name
  OR old.email IS NOT new.email BEGIN
    DELETE FROM search_docs WHERE id = old.id;
    INSERT INTO search_entry (kind, id) SELECT 1, new.id WHERE new.deleted_at IS NULL;
END;
CREATE TRIGGER leads_search_delete AFTER DELETE ON leads BEGIN
    DELETE FROM search_docs WHERE id = old.id;
END;

-- What was there before this migration (also how `rapport demo` fills the index in bulk).
INSERT INTO search_entry (kind, id) SELECT kind, id FROM search_text;
-- One segment per index: a bulk load leaves dozens, and every query term visits each.
INSERT INTO search_words (search_words) VALUES ('optimize');
INSERT INTO search_trigrams (search_trigrams) VALUES ('optimize');
