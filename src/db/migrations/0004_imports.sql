-- CSV import (issue 4).
--
-- An upload is parsed once into `import_rows` (staged rows, one JSON array of cells per CSV
-- record, keyed by the record's line in the file), so a dry run and the real job read the
-- same rows and the mapping can change without a new upload. A job then works through the
-- staged rows in chunks, one writer transaction each; `import_records` lists every record
-- it created or changed (with the row as it was before), so a job that fails, is cancelled
-- or is cut short by a crash can be undone completely, however many chunks had committed.

CREATE TABLE imports (
    id           TEXT PRIMARY KEY,
    entity       TEXT NOT NULL
                 CHECK (entity IN ('customers', 'contacts', 'leads', 'tasks', 'activities')),
    filename     TEXT NOT NULL,
    -- staged: rows read, waiting; validated: a dry run finished (nothing written);
    -- running; rolling_back; completed; failed and cancelled (both rolled back).
    status       TEXT NOT NULL CHECK (status IN ('staged', 'validated', 'running',
                 'rolling_back', 'completed', 'failed', 'cancelled')),
    dry_run      INTEGER NOT NULL CHECK (dry_run IN (0, 1)),
    on_duplicate TEXT NOT NULL CHECK (on_duplicate IN ('skip', 'update', 'create')),
    encoding     TEXT NOT NULL,
    delimiter    TEXT NOT NULL,
    headers      TEXT NOT NULL,                 -- JSON array of the header cells
    mapping      TEXT NOT NULL,                 -- JSON object: header -> field
    total        INTEGER NOT NULL DEFAULT 0,    -- staged rows
    processed    INTEGER NOT NULL DEFAULT 0,
    created      INTEGER NOT NULL DEFAULT 0,
    updated      INTEGER NOT NULL DEFAULT 0,
    skipped      INTEGER NOT NULL DEFAULT 0,
    failed_rows  INTEGER NOT NULL DEFAULT 0,
    linked       INTEGER NOT NULL DEFAULT 0,    -- customers created to link contacts to
    cancel_requested INTEGER NOT NULL DEFAULT 0,
    runner       TEXT,                          -- the process working on it: pid/token
    message      TEXT,
    created_by   TEXT REFERENCES users (id),
    created_at   TEXT NOT NULL,
    finished_at  TEXT
) STRICT;

CREATE INDEX imports_created ON imports (created_at, id);
CREATE INDEX imports_status ON imports (status) WHERE status IN ('running', 'rolling_back');

CREATE TABLE import_rows (
    import_id TEXT NOT NULL REFERENCES imports (id) ON DELETE CASCADE,
    line      INTEGER NOT NULL,
    cells     TEXT NOT NULL,                    -- JSON array of strings
    PRIMARY KEY (import_id, line)
) STRICT, WITHOUT ROWID;

CREATE TABLE import_errors (
    import_id TEXT NOT NULL REFERENCES imports (id) ON DELETE CASCADE,
    line      INTEGER NOT NULL,
    field     TEXT NOT NULL,
    message   TEXT NOT NULL
) STRICT;

CREATE INDEX import_errors_import ON import_errors (import_id, line);

CREATE TABLE import_records (
    import_id TEXT NOT NULL REFERENCES imports (id) ON DELETE CASCADE,
    seq       INTEGER NOT NULL,
    kind      TEXT NOT NULL,
    id        TEXT NOT NULL,
    before    TEXT,                             -- NULL: created by the job
    PRIMARY KEY (import_id, seq)
) STRICT, WITHOUT ROWID;

-- The source system's record ids ("Record ID" of a HubSpot export), so that a later file
-- can link to records an earlier one brought in.
CREATE TABLE import_keys (
    kind        TEXT NOT NULL,
    external_id TEXT NOT NULL,
    id          TEXT NOT NULL,
    PRIMARY KEY (kind, external_id)
) STRICT, WITHOUT ROWID;

-- Phone numbers as digits only, for finding the same person typed differently.
ALTER TABLE contacts ADD COLUMN phone_digits TEXT GENERATED ALWAYS AS (
    nullif(replace(replace(replace(replace(replace(replace(replace(replace(replace(
        lower(phone), 'ext', ''), 'x', ''), ' ', ''), '-', ''), '(', ''), ')', ''), '+', ''),
        '.', ''), '/', ''), '')
) VIRTUAL;

CREATE INDEX contacts_phone_digits ON contacts (phone_digits)
    WHERE phone_digits IS NOT NULL AND deleted_at IS NULL;
