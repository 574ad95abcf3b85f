-- The CRM records: customers, contacts, the leads pipeline, tasks and activities.
--
-- Every record has `id` (UUIDv7 text), `created_at`, `updated_at`, `created_by`, `version`
-- and `deleted_at` (set while in the trash). Lists only ever show live rows, so their
-- indexes are partial (`WHERE deleted_at IS NULL`): small, and exactly what the planner
-- needs for "filter, newest first, next page". Nullable sort columns are indexed as
-- `ifnull(column, '~')` (a missing date sorts after every date), and nullable names as
-- `ifnull(column, '')` (a missing name sorts before every name), so keyset paging works.

CREATE TABLE stages (
    key         TEXT PRIMARY KEY,
    label       TEXT NOT NULL,
    position    INTEGER NOT NULL,
    probability INTEGER NOT NULL CHECK (probability BETWEEN 0 AND 100),
    kind        TEXT NOT NULL CHECK (kind IN ('open', 'won', 'lost'))
) STRICT, WITHOUT ROWID;

INSERT INTO stages (key, label, position, probability, kind) VALUES
    ('new', 'New', 1, 10, 'open'),
    ('contacted', 'Contacted', 2, 20, 'open'),
    ('qualified', 'Qualified', 3, 40, 'open'),
    ('proposal', 'Proposal', 4, 60, 'open'),
    ('won', 'Won', 5, 100, 'won'),
    ('lost', 'Lost', 6, 0, 'lost');

CREATE TABLE customers (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    -- Normalised: lower case, no scheme, no `www.`, no path.
    domain     TEXT,
    industry   TEXT,
    segment    TEXT,
    phone      TEXT,
    address    TEXT,
    owner_id   TEXT REFERENCES users (id),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    created_by TEXT REFERENCES users (id),
    version    INTEGER NOT NULL DEFAULT 1,
    deleted_at TEXT
) STRICT;

CREATE INDEX customers_created ON customers (created_at, id) WHERE deleted_at IS NULL;
CREATE INDEX customers_updated ON customers (updated_at, id) WHERE deleted_at IS NULL;
CREATE INDEX customers_name ON customers (name COLLATE NOCASE, id) WHERE deleted_at IS NULL;
CREATE INDEX customers_owner ON customers (owner_id, created_at, id) WHERE deleted_at IS NULL;
CREATE INDEX customers_segment ON customers (segment, created_at, id) WHERE deleted_at IS NULL;
CREATE INDEX customers_industry ON customers (industry, created_at, id) WHERE deleted_at IS NULL;
CREATE INDEX customers_domain ON customers (domain) WHERE domain IS NOT NULL;
CREATE INDEX customers_trash ON customers (deleted_at, id) WHERE deleted_at IS NOT NULL;

CREATE TABLE customer_tags (
    customer_id TEXT NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    tag         TEXT NOT NULL COLLATE NOCASE,
    PRIMARY KEY (customer_id, tag)
) STRICT, WITHOUT ROWID;

CREATE INDEX customer_tags_tag ON customer_tags (tag, customer_id);

CREATE TABLE contacts (
    id          TEXT PRIMARY KEY,
    customer_id TEXT REFERENCES customers (id),
    first_name  TEXT NOT NULL,
    last_name   TEXT,
    email       TEXT,
    phone       TEXT,
    title       TEXT,
    owner_id    TEXT REFERENCES users (id),
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    created_by  TEXT REFERENCES users (id),
    version     INTEGER NOT NULL DEFAULT 1,
    deleted_at  TEXT
) STRICT;

CREATE INDEX contacts_created ON contacts (created_at, id) WHERE deleted_at IS NULL;
CREATE INDEX contacts_updated ON contacts (updated_at, id) WHERE deleted_at IS NULL;
CREATE INDEX contacts_last_name ON contacts (ifnull(last_name, '') COLLATE NOCASE, id) WHERE deleted_at IS NULL;
CREATE INDEX contacts_first_name ON contacts (first_name COLLATE NOCASE, id) WHERE deleted_at IS NULL;
CREATE INDEX contacts_owner ON contacts (owner_id, created_at, id) WHERE deleted_at IS NULL;
CREATE INDEX contacts_customer ON contacts (customer_id, created_at, id) WHERE deleted_at IS NULL;
CREATE INDEX contacts_email ON contacts (email COLLATE NOCASE) WHERE email IS NOT NULL;
CREATE INDEX contacts_trash ON contacts (deleted_at, id) WHERE deleted_at IS NOT NULL;

CREATE TABLE contact_tags (
    contact_id TEXT NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
    tag        TEXT NOT NULL COLLATE NOCASE,
    PRIMARY KEY (contact_id, tag)
) STRICT, WITHOUT ROWID;

CREATE INDEX contact_tags_tag ON contact_tags (tag, contact_id);

CREATE TABLE leads (
    id                  TEXT PRIMARY KEY,
    title               TEXT NOT NULL,
    customer_id         TEXT REFERENCES customers (id),
    contact_id          TEXT REFERENCES contacts (id),
    stage               TEXT NOT NULL REFERENCES stages (key) ON UPDATE CASCADE,
    value_cents         INTEGER NOT NULL DEFAULT 0 CHECK (value_cents >= 0),
    currency            TEXT NOT NULL CHECK (length(currency) = 3),
    source              TEXT,
    assigned_to         TEXT REFERENCES users (id),
    expected_close_date TEXT,
    lost_reason         TEXT,
    -- Prospect fields, used until the lead is converted into a customer and contact.
    company_name        TEXT,
    contact_name        TEXT,
    email               TEXT,
    phone               TEXT,
    stage_changed_at    TEXT NOT NULL,
    closed_at           TEXT,
    created_at          TEXT NOT NULL,
    updated_at          TEXT NOT NULL,
    created_by          TEXT REFERENCES users (id),
    version             INTEGER NOT NULL DEFAULT 1,
    deleted_at          TEXT
) STRICT;

CREATE INDEX leads_created ON leads (created_at, id) WHERE deleted_at IS NULL;
CREATE INDEX leads_updated ON leads (updated_at, id) WHERE deleted_at IS NULL;
CREATE INDEX leads_stage ON leads (stage, created_at, id) WHERE deleted_at IS NULL;
CREATE INDEX leads_assigned ON leads (assigned_to, created_at, id) WHERE deleted_at IS NULL;
CREATE INDEX leads_customer ON leads (customer_id, created_at, id) WHERE deleted_at IS NULL;
CREATE INDEX leads_contact ON leads (contact_id, created_at, id) WHERE deleted_at IS NULL;
CREATE INDEX leads_source ON leads (source, created_at, id) WHERE deleted_at IS NULL;
CREATE INDEX leads_value ON leads (value_cents, id) WHERE deleted_at IS NULL;
CREATE INDEX leads_expected_close ON leads (ifnull(expected_close_date, '~'), id) WHERE deleted_at IS NULL;
CREATE INDEX leads_stage_changed ON leads (stage_changed_at, id) WHERE deleted_at IS NULL;
-- Closed leads only: the lists' and reports' "closed between" ranges.
CREATE INDEX leads_closed ON leads (closed_at, id) WHERE deleted_at IS NULL AND closed_at IS NOT NULL;
CREATE INDEX leads_title ON leads (title COLLATE NOCASE, id) WHERE deleted_at IS NULL;
CREATE INDEX leads_trash ON leads (deleted_at, id) WHERE deleted_at IS NOT NULL;

-- Every move between stages, for the lead's timeline and the reports.
CREATE TABLE lead_stage_changes (
    id         INTEGER PRIMARY KEY,
    lead_id    TEXT NOT NULL REFERENCES leads (id) ON DELETE CASCADE,
    from_stage TEXT,
    to_stage   TEXT NOT NULL,
    actor_id   TEXT REFERENCES users (id),
    at         TEXT NOT NULL
) STRICT;

CREATE INDEX lead_stage_changes_lead ON lead_stage_changes (lead_id, at);

CREATE TABLE tasks (
    id           TEXT PRIMARY KEY,
    title        TEXT NOT NULL,
    description  TEXT,
    due_at       TEXT,
    remind_at    TEXT,
    priority     TEXT NOT NULL DEFAULT 'medium' CHECK (priority IN ('low', 'medium', 'high')),
    status       TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'in_progress', 'completed')),
    assigned_to  TEXT REFERENCES users (id),
    lead_id      TEXT REFERENCES leads (id),
    customer_id  TEXT REFERENCES customers (id),
    contact_id   TEXT REFERENCES contacts (id),
    completed_at TEXT,
    -- Who marked it completed, for the timeline; cleared with `completed_at` on reopening.
    completed_by TEXT REFERENCES users (id),
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL,
    created_by   TEXT REFERENCES users (id),
    version      INTEGER NOT NULL DEFAULT 1,
    deleted_at   TEXT
) STRICT;

CREATE INDEX tasks_created ON tasks (created_at, id) WHERE deleted_at IS NULL;
CREATE INDEX tasks_updated ON tasks (updated_at, id) WHERE deleted_at IS NULL;
CREATE INDEX tasks_due ON tasks (ifnull(due_at, '~'), id) WHERE deleted_at IS NULL;
CREATE INDEX tasks_assigned ON tasks (assigned_to, ifnull(due_at, '~'), id) WHERE deleted_at IS NULL;
CREATE INDEX tasks_status ON tasks (status, ifnull(due_at, '~'), id) WHERE deleted_at IS NULL;
CREATE INDEX tasks_priority ON tasks (priority, ifnull(due_at, '~'), id) WHERE deleted_at IS NULL;
CREATE INDEX tasks_lead ON tasks (lead_id, ifnull(due_at, '~'), id) WHERE deleted_at IS NULL;
CREATE INDEX tasks_customer ON tasks (customer_id, ifnull(due_at, '~'), id) WHERE deleted_at IS NULL;
CREATE INDEX tasks_contact ON tasks (contact_id, ifnull(due_at, '~'), id) WHERE deleted_at IS NULL;
CREATE INDEX tasks_creator ON tasks (created_by, ifnull(due_at, '~'), id) WHERE deleted_at IS NULL;
CREATE INDEX tasks_trash ON tasks (deleted_at, id) WHERE deleted_at IS NOT NULL;

CREATE TABLE activities (
    id           TEXT PRIMARY KEY,
    subject_type TEXT NOT NULL CHECK (subject_type IN ('customer', 'contact', 'lead')),
    subject_id   TEXT NOT NULL,
    kind         TEXT NOT NULL CHECK (kind IN ('call', 'email', 'meeting', 'note')),
    body         TEXT NOT NULL,
    occurred_at  TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL,
    created_by   TEXT REFERENCES users (id),
    version      INTEGER NOT NULL DEFAULT 1,
    deleted_at   TEXT
) STRICT;

CREATE INDEX activities_subject ON activities (subject_type, subject_id, occurred_at, id) WHERE deleted_at IS NULL;
CREATE INDEX activities_creator ON activities (created_by, occurred_at, id) WHERE deleted_at IS NULL;
CREATE INDEX activities_occurred ON activities (occurred_at, id) WHERE deleted_at IS NULL;
CREATE INDEX activities_created ON activities (created_at, id) WHERE deleted_at IS NULL;
CREATE INDEX activities_trash ON activities (deleted_at, id) WHERE deleted_at IS NOT NULL;
