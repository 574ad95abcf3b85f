-- Attachments (issue 5): files attached to customers, contacts, leads and tasks, kept inside
-- the database so that a copy of the file or `rapport backup` holds them.
--
-- The metadata row is small and read often (lists, timelines, permission checks); the bytes
-- live apart in fixed-size chunks (`chunk_size` bytes each, the last one shorter), so a
-- download or a range request reads only the chunks it sends, one at a time.
-- `entity_type`/`entity_id` name the record the file belongs to (no foreign key: it points
-- into one of four tables). An attachment is in the trash while `deleted_at` is set: deleted
-- on its own, or trashed together with its record (`with_record` = 1, which is how restoring
-- the record brings back exactly those).

CREATE TABLE attachments (
    id           TEXT PRIMARY KEY,
    entity_type  TEXT NOT NULL CHECK (entity_type IN ('customer', 'contact', 'lead', 'task')),
    entity_id    TEXT NOT NULL,
    filename     TEXT NOT NULL CHECK (length(CAST(filename AS BLOB)) BETWEEN 1 AND 255),
    content_type TEXT NOT NULL,
    size         INTEGER NOT NULL CHECK (size > 0),
    sha256       TEXT NOT NULL CHECK (length(sha256) = 64),
    chunk_size   INTEGER NOT NULL CHECK (chunk_size > 0),
    created_by   TEXT REFERENCES users (id),
    created_at   TEXT NOT NULL,
    deleted_at   TEXT,
    deleted_by   TEXT REFERENCES users (id),
    with_record  INTEGER NOT NULL DEFAULT 0 CHECK (with_record IN (0, 1))
) STRICT;

-- A record's files newest first, and its timeline's "uploaded" and "deleted" items.
CREATE INDEX attachments_entity ON attachments (entity_type, entity_id, created_at, id);
CREATE INDEX attachments_entity_deleted ON attachments (entity_type, entity_id, deleted_at, id);
-- The trash listing.
CREATE INDEX attachments_trash ON attachments (deleted_at, id) WHERE deleted_at IS NOT NULL;
CREATE INDEX attachments_created_by ON attachments (created_by, deleted_at);

CREATE TABLE attachment_chunks (
    attachment_id TEXT NOT NULL REFERENCES attachments (id) ON DELETE CASCADE,
    seq           INTEGER NOT NULL CHECK (seq >= 0),
    data          BLOB NOT NULL,
    PRIMARY KEY (attachment_id, seq)
) STRICT;
