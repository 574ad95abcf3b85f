-- Days are the instance's local days (`--timezone`), not UTC dates: the report tables key
-- every figure by `local_day(time)`, the local date ('2026-02-28') of a stored UTC time.
-- Rapport registers that function on every connection it opens (db::local_day), in the
-- zone the tables are built for: the setting `reports_timezone`, UTC when absent. A
-- connection without it (the sqlite3 shell) cannot write leads, activities or tasks
-- ("no such function: local_day") rather than file figures under the wrong day.
-- `serve --timezone` with another zone rebuilds the tables before it serves.
--
-- Month keys stay 'm' || the first seven characters of the day: a local month is the
-- prefix of a local day. Only the three triggers that compute keys change.

DROP TRIGGER report_lead_delta_apply;
CREATE TRIGGER report_lead_delta_apply INSTEAD OF INSERT ON report_lead_delta BEGIN
    INSERT INTO report_pipeline (owner_id, stage, currency, leads, value_cents)
    VALUES (new.owner_id, new.stage, new.currency, new.sign, new.sign * new.value_cents)
    ON CONFLICT DO UPDATE SET leads = leads + excluded.leads,
                              value_cents = value_cents + excluded.value_cents;
    INSERT INTO report_created (day, owner_id, source, leads)
    SELECT g.prefix || substr(local_day(new.created_at), 1, g.len), new.owner_id, new.source, new.sign
      FROM report_grains g WHERE true
    ON CONFLICT DO UPDATE SET leads = leads + excluded.leads;
    INSERT INTO report_closed (day, owner_id, currency, won, won_cents, lost)
    SELECT g.prefix || substr(local_day(new.closed_at), 1, g.len), new.owner_id, new.currency,
           new.sign * (s.kind = 'won'), new.sign * (s.kind = 'won') * new.value_cents,
           new.sign * (s.kind = 'lost')
      FROM stages s, report_grains g
     WHERE s.key = new.stage AND s.kind IN ('won', 'lost') AND new.closed_at IS NOT NULL
    ON CONFLICT DO UPDATE SET won = won + excluded.won, won_cents = won_cents + excluded.won_cents,
                              lost = lost + excluded.lost;
END;

DROP TRIGGER report_activity_delta_apply;
CREATE TRIGGER report_activity_delta_apply INSTEAD OF INSERT ON report_activity_delta BEGIN
    INSERT INTO report_activities (day, owner_id, activities)
    SELECT g.prefix || substr(local_day(new.occurred_at), 1, g.len), new.owner_id, new.sign
      FROM report_grains g WHERE true
    ON CONFLICT DO UPDATE SET activities = activities + excluded.activities;
END;

DROP TRIGGER report_task_delta_apply;
CREATE TRIGGER report_task_delta_apply INSTEAD OF INSERT ON report_task_delta BEGIN
    INSERT INTO report_tasks_due (day, owner_id, tasks)
    VALUES (local_day(new.due_at), new.owner_id, new.sign)
    ON CONFLICT DO UPDATE SET tasks = tasks + excluded.tasks;
END;
