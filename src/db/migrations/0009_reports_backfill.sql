-- Recomputes every report table from the records, by local day (migration 0009): run by
-- that migration for the data that already exists, after `rapport demo`'s bulk insert, when
-- `serve` starts with another --timezone, and by `reports::rebuild`. `local_day` is the
-- connection's, so the tables come out in the zone the connection has.
DELETE FROM report_pipeline;
DELETE FROM report_created;
DELETE FROM report_closed;
DELETE FROM report_activities;
DELETE FROM report_tasks_due;

INSERT INTO report_pipeline (owner_id, stage, currency, leads, value_cents)
SELECT ifnull(assigned_to, ifnull(created_by, '')), stage, currency, count(*), sum(value_cents)
  FROM leads WHERE deleted_at IS NULL GROUP BY 1, 2, 3;

-- Day rows from the records, then month rows from the day rows: the big tables are read once.
INSERT INTO report_created (day, owner_id, source, leads)
SELECT local_day(created_at), ifnull(assigned_to, ifnull(created_by, '')), ifnull(source, ''), count(*)
  FROM leads WHERE deleted_at IS NULL GROUP BY 1, 2, 3;
INSERT INTO report_created (day, owner_id, source, leads)
SELECT 'm' || substr(day, 1, 7), owner_id, source, sum(leads) FROM report_created GROUP BY 1, 2, 3;

INSERT INTO report_closed (day, owner_id, currency, won, won_cents, lost)
SELECT local_day(l.closed_at), ifnull(l.assigned_to, ifnull(l.created_by, '')), l.currency,
       sum(s.kind = 'won'), sum((s.kind = 'won') * l.value_cents), sum(s.kind = 'lost')
  FROM leads l JOIN stages s ON s.key = l.stage
 WHERE l.deleted_at IS NULL AND l.closed_at IS NOT NULL AND s.kind IN ('won', 'lost')
 GROUP BY 1, 2, 3;
INSERT INTO report_closed (day, owner_id, currency, won, won_cents, lost)
SELECT 'm' || substr(day, 1, 7), owner_id, currency, sum(won), sum(won_cents), sum(lost)
  FROM report_closed GROUP BY 1, 2, 3;

INSERT INTO report_activities (day, owner_id, activities)
SELECT local_day(occurred_at), ifnull(created_by, ''), count(*)
  FROM activities WHERE deleted_at IS NULL GROUP BY 1, 2;
INSERT INTO report_activities (day, owner_id, activities)
SELECT 'm' || substr(day, 1, 7), owner_id, sum(activities) FROM report_activities GROUP BY 1, 2;

INSERT INTO report_tasks_due (day, owner_id, tasks)
SELECT local_day(due_at), ifnull(assigned_to, ifnull(created_by, '')), count(*)
  FROM tasks WHERE deleted_at IS NULL AND due_at IS NOT NULL AND status <> 'completed'
 GROUP BY 1, 2;

-- Two passes, so the half-million leads with no change are not all rewritten.
UPDATE leads SET first_activity_at = NULL WHERE first_activity_at IS NOT NULL;
UPDATE leads SET first_activity_at = f.first
  FROM (SELECT subject_id, min(occurred_at) AS first FROM activities
         WHERE subject_type = 'lead' AND deleted_at IS NULL GROUP BY subject_id) AS f
 WHERE leads.id = f.subject_id;
