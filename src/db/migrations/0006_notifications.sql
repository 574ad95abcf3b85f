-- Notifications: written in the same transaction as the change that causes them, read by
-- the list API and the per-user Server-Sent Events stream.
CREATE TABLE notifications (
    -- The stream position: the SSE event id that `Last-Event-ID` resumes from.
    -- AUTOINCREMENT so a pruned tail can never hand an old position to a new event.
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    id          TEXT NOT NULL UNIQUE,
    user_id     TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind        TEXT NOT NULL CHECK (kind IN ('task_assigned', 'lead_assigned',
                    'customer_assigned', 'lead_stage_changed', 'task_reminder',
                    'task_overdue')),
    message     TEXT NOT NULL,
    entity_type TEXT NOT NULL CHECK (entity_type IN ('customer', 'lead', 'task')),
    entity_id   TEXT NOT NULL,
    -- Who caused it; NULL for the scheduler's reminders and overdue notices.
    actor_id    TEXT REFERENCES users (id),
    created_at  TEXT NOT NULL,
    read_at     TEXT
) STRICT;

CREATE INDEX notifications_user ON notifications (user_id, created_at, id);
CREATE INDEX notifications_unread ON notifications (user_id, created_at, id)
    WHERE read_at IS NULL;
CREATE INDEX notifications_stream ON notifications (user_id, seq);
CREATE INDEX notifications_read ON notifications (read_at) WHERE read_at IS NOT NULL;

-- The scheduler fires what falls due in (its last run, now]: reminders here, deadlines
-- through the lists' `tasks_due` index.
CREATE INDEX tasks_remind ON tasks (remind_at)
    WHERE deleted_at IS NULL AND remind_at IS NOT NULL;
