-- The dashboard's figures, kept current by triggers in the same transaction as every write
-- (API, pages, imports, merges, purges alike), so a report sums a few hundred small rows
-- instead of scanning the leads. Days are UTC dates ('2026-11-22'); a lead or task with no
-- owner counts as its creator's, and one with neither as '' (nobody's).
--
-- report_created, report_closed and report_activities hold each figure twice: under its day
-- ('2026-11-22') and under its month ('m2026-11': the prefix keeps months apart from days in
-- the key's order, so either is one contiguous range), so a year-long range or the 12-month trend
-- sums a dozen month rows plus the days at its ends, not 365 day rows per owner.
--
-- `rapport demo` drops these triggers while it bulk-inserts and rebuilds the tables at the
-- end (`reports::bulk`); 0008_reports_backfill.sql is that rebuild, also run here for the
-- data that already exists.

-- Live leads now, whatever their stage: "pipeline by stage", open value, weighted forecast.
CREATE TABLE report_pipeline (
    owner_id    TEXT NOT NULL,
    stage       TEXT NOT NULL,
    currency    TEXT NOT NULL,
    leads       INTEGER NOT NULL,
    value_cents INTEGER NOT NULL,
    PRIMARY KEY (owner_id, stage, currency)
) STRICT, WITHOUT ROWID;

-- Live leads by the day they were created (`created_at`).
CREATE TABLE report_created (
    day      TEXT NOT NULL,
    owner_id TEXT NOT NULL,
    source   TEXT NOT NULL,
    leads    INTEGER NOT NULL,
    PRIMARY KEY (day, owner_id, source)
) STRICT, WITHOUT ROWID;

-- Live leads in a won or lost stage by the day they closed (`closed_at`).
CREATE TABLE report_closed (
    day       TEXT NOT NULL,
    owner_id  TEXT NOT NULL,
    currency  TEXT NOT NULL,
    won       INTEGER NOT NULL,
    won_cents INTEGER NOT NULL,
    lost      INTEGER NOT NULL,
    PRIMARY KEY (day, owner_id, currency)
) STRICT, WITHOUT ROWID;

-- Live activities by the day they happened (`occurred_at`) and who logged them.
CREATE TABLE report_activities (
    day        TEXT NOT NULL,
    owner_id   TEXT NOT NULL,
    activities INTEGER NOT NULL,
    PRIMARY KEY (day, owner_id)
) STRICT, WITHOUT ROWID;

-- Live, not completed tasks with a due date, by due day: overdue and due-today tiles.
CREATE TABLE report_tasks_due (
    day      TEXT NOT NULL,
    owner_id TEXT NOT NULL,
    tasks    INTEGER NOT NULL,
    PRIMARY KEY (day, owner_id)
) STRICT, WITHOUT ROWID;

-- When the first live activity about a lead happened: response times need one value per
-- lead (a median), read through this covering index for the leads created in a period.
ALTER TABLE leads ADD COLUMN first_activity_at TEXT;
CREATE INDEX leads_response ON leads (created_at, ifnull(assigned_to, ifnull(created_by, '')), first_activity_at)
    WHERE deleted_at IS NULL;

-- The two keys a figure is kept under: its day, and its month with the prefix 'm'.
CREATE VIEW report_grains (prefix, len) AS VALUES ('', 10), ('m', 7);

-- A lead's contribution, added (sign 1) or taken away (sign -1). A view with an INSTEAD OF
-- trigger is SQLite's way to share one body between the insert, update and delete triggers.
CREATE VIEW report_lead_delta (sign, owner_id, stage, currency, value_cents, source, created_at, closed_at) AS
    SELECT 0, '', '', '', 0, '', '', NULL WHERE 0;

CREATE TRIGGER report_lead_delta_apply INSTEAD OF INSERT ON report_lead_delta BEGIN
    INSERT INTO report_pipeline (owner_id, stage, currency, leads, value_cents)
    VALUES (new.owner_id, new.stage, new.currency, new.sign, new.sign * new.value_cents)
    ON CONFLICT DO UPDATE SET leads = leads + excluded.leads,
                              value_cents = value_cents + excluded.value_cents;
    INSERT INTO report_created (day, owner_id, source, leads)
    SELECT g.prefix || substr(new.created_at, 1, g.len), new.owner_id, new.source, new.sign
      FROM report_grains g WHERE true
    ON CONFLICT DO UPDATE SET leads = leads + excluded.leads;
    INSERT INTO report_closed (day, owner_id, currency, won, won_cents, lost)
    SELECT g.prefix || substr(new.closed_at, 1, g.len), new.owner_id, new.currency,
           new.sign * (s.kind = 'won'), new.sign * (s.kind = 'won') * new.value_cents,
           new.sign * (s.kind = 'lost')
      FROM stages s, report_grains g
     WHERE s.key = new.stage AND s.kind IN ('won', 'lost') AND new.closed_at IS NOT NULL
    ON CONFLICT DO UPDATE SET won = won + excluded.won, won_cents = won_cents + excluded.won_cents,
                              lost = lost + excluded.lost;
END;

CREATE TRIGGER report_leads_insert AFTER INSERT ON leads WHEN new.deleted_at IS NULL BEGIN
    INSERT INTO report_lead_delta VALUES (1, ifnull(new.assigned_to, ifnull(new.created_by, '')),
        new.stage, new.currency, new.value_cents, ifnull(new.source, ''), new.created_at, new.closed_at);
END;

CREATE TRIGGER report_leads_update
AFTER UPDATE OF stage, currency, value_cents, source, assigned_to, created_by, created_at, closed_at, deleted_at ON leads
-- Saves rewrite every column; only a change that moves a figure costs anything.
WHEN old.stage IS NOT new.stage OR old.currency IS NOT new.currency
  OR old.value_cents IS NOT new.value_cents OR old.source IS NOT new.source
  OR old.assigned_to IS NOT new.assigned_to OR old.created_by IS NOT new.created_by
  OR old.created_at IS NOT new.created_at OR old.closed_at IS NOT new.closed_at
  OR old.deleted_at IS NOT new.deleted_at
BEGIN
    INSERT INTO report_lead_delta SELECT -1, ifnull(old.assigned_to, ifnull(old.created_by, '')),
        old.stage, old.currency, old.value_cents, ifnull(old.source, ''), old.created_at, old.closed_at
        WHERE old.deleted_at IS NULL;
    INSERT INTO report_lead_delta SELECT 1, ifnull(new.assigned_to, ifnull(new.created_by, '')),
        new.stage, new.currency, new.value_cents, ifnull(new.source, ''), new.created_at, new.closed_at
        WHERE new.deleted_at IS NULL;
END;

CREATE TRIGGER report_leads_delete AFTER DELETE ON leads WHEN old.deleted_at IS NULL BEGIN
    INSERT INTO report_lead_delta VALUES (-1, ifnull(old.assigned_to, ifnull(old.created_by, '')),
        old.stage, old.currency, old.value_cents, ifnull(old.source, ''), old.created_at, old.closed_at);
END;

-- Activities: the per-day count, and the first activity of the lead they are about.
CREATE VIEW report_activity_delta (sign, owner_id, occurred_at) AS SELECT 0, '', '' WHERE 0;

CREATE TRIGGER report_activity_delta_apply INSTEAD OF INSERT ON report_activity_delta BEGIN
    INSERT INTO report_activities (day, owner_id, activities)
    SELECT g.prefix || substr(new.occurred_at, 1, g.len), new.owner_id, new.sign FROM report_grains g WHERE true
    ON CONFLICT DO UPDATE SET activities = activities + excluded.activities;
END;

CREATE TRIGGER report_activities_insert AFTER INSERT ON activities WHEN new.deleted_at IS NULL BEGIN
    INSERT INTO report_activity_delta VALUES (1, ifnull(new.created_by, ''), new.occurred_at);
    UPDATE leads SET first_activity_at = new.occurred_at
     WHERE new.subject_type = 'lead' AND id = new.subject_id
       AND (first_activity_at IS NULL OR first_activity_at > new.occurred_at);
END;

-- The index `activities_subject` makes the minimum one seek, so recomputing is cheap.
CREATE TRIGGER report_activities_update
AFTER UPDATE OF subject_type, subject_id, occurred_at, created_by, deleted_at ON activities
WHEN old.subject_type IS NOT new.subject_type OR old.subject_id IS NOT new.subject_id
  OR old.occurred_at IS NOT new.occurred_at OR old.created_by IS NOT new.created_by
  OR old.deleted_at IS NOT new.deleted_at
BEGIN
    INSERT INTO report_activity_delta SELECT -1, ifnull(old.created_by, ''), old.occurred_at
        WHERE old.deleted_at IS NULL;
    INSERT INTO report_activity_delta SELECT 1, ifnull(new.created_by, ''), new.occurred_at
        WHERE new.deleted_at IS NULL;
    UPDATE leads SET first_activity_at = (
        SELECT min(a.occurred_at) FROM activities a
         WHERE a.subject_type = 'lead' AND a.subject_id = leads.id AND a.deleted_at IS NULL)
     WHERE id IN (old.subject_id, new.subject_id)
       AND 'lead' IN (old.subject_type, new.subject_type);
END;

CREATE TRIGGER report_activities_delete AFTER DELETE ON activities WHEN old.deleted_at IS NULL BEGIN
    INSERT INTO report_activity_delta VALUES (-1, ifnull(old.created_by, ''), old.occurred_at);
    UPDATE leads SET first_activity_at = (
        SELECT min(a.occurred_at) FROM activities a
         WHERE a.subject_type = 'lead' AND a.subject_id = leads.id AND a.deleted_at IS NULL)
     WHERE old.subject_type = 'lead' AND id = old.subject_id;
END;

-- Tasks: only live, unfinished ones with a due date count.
CREATE VIEW report_task_delta (sign, owner_id, due_at) AS SELECT 0, '', '' WHERE 0;

CREATE TRIGGER report_task_delta_apply INSTEAD OF INSERT ON report_task_delta BEGIN
    INSERT INTO report_tasks_due (day, owner_id, tasks)
    VALUES (substr(new.due_at, 1, 10), new.owner_id, new.sign)
    ON CONFLICT DO UPDATE SET tasks = tasks + excluded.tasks;
END;

CREATE TRIGGER report_tasks_insert AFTER INSERT ON tasks
WHEN new.deleted_at IS NULL AND new.due_at IS NOT NULL AND new.status <> 'completed' BEGIN
    INSERT INTO report_task_delta VALUES (1, ifnull(new.assigned_to, ifnull(new.created_by, '')), new.due_at);
END;

CREATE TRIGGER report_tasks_update
AFTER UPDATE OF due_at, status, assigned_to, created_by, deleted_at ON tasks
WHEN old.due_at IS NOT new.due_at OR old.status IS NOT new.status
  OR old.assigned_to IS NOT new.assigned_to OR old.created_by IS NOT new.created_by
  OR old.deleted_at IS NOT new.deleted_at
BEGIN
    INSERT INTO report_task_delta SELECT -1, ifnull(old.assigned_to, ifnull(old.created_by, '')), old.due_at
        WHERE old.deleted_at IS NULL AND old.due_at IS NOT NULL AND old.status <> 'completed';
    INSERT INTO report_task_delta SELECT 1, ifnull(new.assigned_to, ifnull(new.created_by, '')), new.due_at
        WHERE new.deleted_at IS NULL AND new.due_at IS NOT NULL AND new.status <> 'completed';
END;

CREATE TRIGGER report_tasks_delete AFTER DELETE ON tasks
WHEN old.deleted_at IS NULL AND old.due_at IS NOT NULL AND old.status <> 'completed' BEGIN
    INSERT INTO report_task_delta VALUES (-1, ifnull(old.assigned_to, ifnull(old.created_by, '')), old.due_at);
END;
