-- Rapport baseline schema. Applied once to an empty database, inside one transaction.
-- Later changes are numbered migrations in src/db/migrations.rs; never edit this file
-- after it has shipped.
--
-- Conventions: ids are UUIDv7 text; times are RFC 3339 UTC text with millisecond precision
-- ("2026-11-22T08:15:00.000Z"), so they sort as text; booleans are 0/1 integers.

-- Instance-wide values such as the generated JWT signing key.
CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) STRICT, WITHOUT ROWID;

CREATE TABLE users (
    id                  TEXT PRIMARY KEY,
    email               TEXT NOT NULL COLLATE NOCASE UNIQUE,
    name                TEXT NOT NULL,
    role                TEXT NOT NULL CHECK (role IN ('admin', 'manager', 'sales', 'support')),
    password_hash       TEXT NOT NULL,
    active              INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
    last_login_at       TEXT,
    password_changed_at TEXT NOT NULL,
    created_at          TEXT NOT NULL,
    updated_at          TEXT NOT NULL,
    created_by          TEXT REFERENCES users (id),
    version             INTEGER NOT NULL DEFAULT 1
) STRICT;

CREATE INDEX users_name ON users (name COLLATE NOCASE, id);
CREATE INDEX users_created ON users (created_at, id);

-- One row per sign-in. A JWT names its session; the server checks it on every request,
-- so logout, password changes and deactivation take effect at once.
CREATE TABLE sessions (
    id          TEXT PRIMARY KEY,
    user_id     TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at  TEXT NOT NULL,
    expires_at  TEXT NOT NULL,
    revoked_at  TEXT,
    client_addr TEXT,
    user_agent  TEXT
) STRICT;

CREATE INDEX sessions_user ON sessions (user_id, revoked_at);
CREATE INDEX sessions_expiry ON sessions (expires_at);

-- Personal API tokens for integrations. Only the SHA-256 of the secret is kept.
CREATE TABLE api_tokens (
    id           TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    token_hash   BLOB NOT NULL UNIQUE,
    created_at   TEXT NOT NULL,
    last_used_at TEXT,
    revoked_at   TEXT
) STRICT;

CREATE INDEX api_tokens_user ON api_tokens (user_id, created_at);

-- Who did what, written in the same transaction as the change it describes. Append-only:
-- the triggers below refuse UPDATE and DELETE, and each entry's `hash` covers the previous
-- entry's hash and its own content, so `rapport check` detects an edited or removed entry
-- even if someone drops the triggers with a SQLite shell.
CREATE TABLE audit_log (
    id          INTEGER PRIMARY KEY,
    at          TEXT NOT NULL,
    actor_id    TEXT REFERENCES users (id),
    action      TEXT NOT NULL,
    entity_type TEXT NOT NULL,
    entity_id   TEXT,
    before      TEXT CHECK (before IS NULL OR json_valid(before)),
    after       TEXT CHECK (after IS NULL OR json_valid(after)),
    prev_hash   BLOB,
    hash        BLOB NOT NULL
) STRICT;

CREATE INDEX audit_entity ON audit_log (entity_id, id);
CREATE INDEX audit_entity_type ON audit_log (entity_type, id);
CREATE INDEX audit_actor ON audit_log (actor_id, id);
CREATE INDEX audit_action ON audit_log (action, id);
CREATE INDEX audit_at ON audit_log (at, id);

CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;

CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;
