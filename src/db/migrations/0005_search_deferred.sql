-- Search indexing deferred to the end of a transaction, for imports (issue 4).
--
-- Every statement that writes an FTS5 table inside a trigger opens a statement savepoint,
-- and FTS5 flushes its pending terms to a new segment at every savepoint: a record inserted
-- through the search triggers costs a segment and the merges that follow. An import chunk
-- (hundreds of records in one transaction) instead switches deferral on by putting the row
-- 1 in `search_deferring`; the insert triggers then note the record in `search_deferred`,
-- and the chunk indexes all of them with one statement before it commits
-- (`search::deferred`). The row 2 pauses indexing altogether, for a bulk load that indexes
-- every record afresh before it commits (`rapport demo`: `search::bulk_indexed`). Both
-- tables are empty outside such a transaction, which `rapport check` verifies; other
-- connections never see them filled.

CREATE TABLE search_deferring (
    on_ INTEGER PRIMARY KEY CHECK (on_ IN (1, 2))
) STRICT;

CREATE TABLE search_deferred (
    id   TEXT PRIMARY KEY,
    kind INTEGER NOT NULL CHECK (kind BETWEEN 1 AND 3)
) STRICT, WITHOUT ROWID;

DROP TRIGGER customers_search_insert;
CREATE TRIGGER customers_search_insert AFTER INSERT ON customers
WHEN new.deleted_at IS NULL BEGIN
    INSERT INTO search_entry (kind, id)
        SELECT 3, new.id WHERE NOT EXISTS (SELECT 1 FROM search_deferring);
    INSERT INTO search_deferred (id, kind)
        SELECT new.id, 3 WHERE EXISTS (SELECT 1 FROM search_deferring WHERE on_ = 1);
END;

DROP TRIGGER contacts_search_insert;
CREATE TRIGGER contacts_search_insert AFTER INSERT ON contacts
WHEN new.deleted_at IS NULL BEGIN
    INSERT INTO search_entry (kind, id)
        SELECT 2, new.id WHERE NOT EXISTS (SELECT 1 FROM search_deferring);
    INSERT INTO search_deferred (id, kind)
        SELECT new.id, 2 WHERE EXISTS (SELECT 1 FROM search_deferring WHERE on_ = 1);
END;

DROP TRIGGER leads_search_insert;
CREATE TRIGGER leads_search_insert AFTER INSERT ON leads
WHEN new.deleted_at IS NULL BEGIN
    INSERT INTO search_entry (kind, id)
        SELECT 1, new.id WHERE NOT EXISTS (SELECT 1 FROM search_deferring);
    INSERT INTO search_deferred (id, kind)
        SELECT new.id, 1 WHERE EXISTS (SELECT 1 FROM search_deferring WHERE on_ = 1);
END;
