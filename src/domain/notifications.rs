//! Notifications: written in the same transaction as the change that causes them (so a
//! rolled-back change never notifies anyone), read through the list API and the per-user
//! event stream. Nobody is told about their own actions, and bulk work (imports, demo data)
//! notifies nobody: a 50,000-row import would otherwise bury the team.
//!
//! Reminders and overdue notices come from [`fire_due`], which the scheduler runs every few
//! seconds. It fires what fell due between its previous run and now, and moves that
//! watermark in the same transaction, so a reminder that fell due while the server was down
//! fires once at the next start and never twice. A time set in the past (by an edit, an
//! import or demo data) is not a reminder that "fell due" and fires nothing.

use rusqlite::{Connection, OptionalExtension, Row, params};
use serde::Serialize;

use crate::auth::Actor;
use crate::domain::choice::Choice;
use crate::domain::clock::Timestamp;
use crate::domain::list::{Filter, ListParams, ListSpec, Page, Takes};
use crate::domain::{new_id, settings};
use crate::error::{AppError, AppResult};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum NotificationKind {
    /// Someone else assigned you a task.
    TaskAssigned,
    /// Someone else assigned you a lead.
    LeadAssigned,
    /// Someone else made you a customer's owner.
    CustomerAssigned,
    /// Someone else moved a lead assigned to you.
    LeadStageChanged,
    /// A task's `remind_at` arrived.
    TaskReminder,
    /// A task's `due_at` passed before it was completed.
    TaskOverdue,
}

impl Choice for NotificationKind {
    const ALL: &'static [(Self, &'static str)] = &[
        (Self::TaskAssigned, "task_assigned"),
        (Self::LeadAssigned, "lead_assigned"),
        (Self::CustomerAssigned, "customer_assigned"),
        (Self::LeadStageChanged, "lead_stage_changed"),
        (Self::TaskReminder, "task_reminder"),
        (Self::TaskOverdue, "task_overdue"),
    ];
}

/// The record a notification is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct About<'a> {
    pub entity_type: &'static str,
    pub entity_id: &'a str,
}

impl<'a> About<'a> {
    pub fn customer(id: &'a str) -> Self {
        About {
            entity_type: "customer",
            entity_id: id,
        }
    }

    pub fn lead(id: &'a str) -> Self {
        About {
            entity_type: "lead",
            entity_id: id,
        }
    }

    pub fn task(id: &'a str) -> Self {
        About {
            entity_type: "task",
            entity_id: id,
        }
    }
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Notification {
    pub id: String,
    /// The position in the user's event stream: the SSE event id, which `Last-Event-ID`
    /// resumes after.
    pub seq: i64,
    pub kind: NotificationKind,
    pub message: String,
    /// customer, lead or task.
    pub entity_type: String,
    pub entity_id: String,
    /// Who caused it; `null` for reminders and overdue notices.
    pub actor_id: Option<String>,
    pub created_at: String,
    pub read_at: Option<String>,
}

const COLUMNS: &str =
    "id, seq, kind, message, entity_type, entity_id, actor_id, created_at, read_at";

fn from_row(r: &Row<'_>) -> rusqlite::Result<Notification> {
    Ok(Notification {
        id: r.get(0)?,
        seq: r.get(1)?,
        kind: NotificationKind::column(r, 2)?,
        message: r.get(3)?,
        entity_type: r.get(4)?,
        entity_id: r.get(5)?,
        actor_id: r.get(6)?,
        created_at: r.get(7)?,
        read_at: r.get(8)?,
    })
}

/// Tells `recipient` what `actor` did, unless it is their own doing or bulk work.
pub fn notify(
    conn: &Connection,
    actor: &Actor,
    recipient: Option<&str>,
    kind: NotificationKind,
    about: About<'_>,
    message: &str,
) -> AppResult<()> {
    match recipient {
        Some(user_id) if user_id != actor.user_id && actor.notifies_others() => insert(
            conn,
            user_id,
            kind,
            about,
            Some(&actor.user_id),
            message,
            &Timestamp::now().to_stored(),
        ),
        _ => Ok(()),
    }
}

/// [`notify`] the new holder of a record's owner or assignee field, when it changed.
pub fn reassigned(
    conn: &Connection,
    actor: &Actor,
    before: Option<&str>,
    after: Option<&str>,
    kind: NotificationKind,
    about: About<'_>,
    message: impl FnOnce() -> String,
) -> AppResult<()> {
    if after.is_some() && after != before {
        notify(conn, actor, after, kind, about, &message())?;
    }
    Ok(())
}

fn insert(
    conn: &Connection,
    user_id: &str,
    kind: NotificationKind,
    about: About<'_>,
    actor_id: Option<&str>,
    message: &str,
    now: &str,
) -> AppResult<()> {
    conn.prepare_cached(
        "INSERT INTO notifications (id, user_id, kind, message, entity_type, entity_id,
                                    actor_id, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?
    .execute(params![
        new_id(),
        user_id,
        kind.as_str(),
        message,
        about.entity_type,
        about.entity_id,
        actor_id,
        now,
    ])?;
    Ok(())
}

pub const LIST: ListSpec = ListSpec {
    filters: &[Filter::new(
        "unread",
        "true: only notifications not yet read",
        Takes::Flag,
    )],
    sorts: &[("created_at", "created_at")],
    default_sort: "created_at",
    default_desc: true,
};

/// The caller's notifications, newest first.
pub fn list(
    conn: &Connection,
    user_id: &str,
    params: &ListParams,
) -> AppResult<Page<Notification>> {
    let unread_only = match params.filter("unread") {
        None | Some("false") => false,
        Some("true") => true,
        Some(_) => {
            return Err(AppError::invalid("unread", "must be true or false"));
        }
    };
    let mut sql = format!("SELECT {COLUMNS} FROM notifications WHERE user_id = ?1");
    if unread_only {
        sql.push_str(" AND read_at IS NULL");
    }
    let (value, id) = params
        .after
        .as_ref()
        .map(|c| (c.value.clone(), c.id.clone()))
        .unwrap_or_default();
    if let Some(keyset) = params.keyset_condition(2, 3) {
        sql.push_str(" AND ");
        sql.push_str(&keyset);
    } else {
        // Keep the numbered parameters bound either way.
        sql.push_str(" AND ?2 IS NOT NULL AND ?3 IS NOT NULL");
    }
    sql.push_str(&format!(" ORDER BY {} LIMIT ?4", params.order_by()));
    let rows = conn
        .prepare_cached(&sql)?
        .query_map(
            params![user_id, value, id, i64::from(params.limit) + 1],
            from_row,
        )?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(params.page(rows, |n| (n.created_at.clone(), n.id.clone())))
}

pub fn unread_count(conn: &Connection, user_id: &str) -> AppResult<i64> {
    Ok(conn
        .prepare_cached(
            "SELECT count(*) FROM notifications WHERE user_id = ?1 AND read_at IS NULL",
        )?
        .query_row([user_id], |r| r.get(0))?)
}

/// Marks one of the caller's notifications read (again is harmless); 404 for anyone else's.
pub fn mark_read(conn: &Connection, user_id: &str, id: &str) -> AppResult<Notification> {
    conn.prepare_cached(
        "UPDATE notifications SET read_at = ?3
          WHERE id = ?1 AND user_id = ?2 AND read_at IS NULL",
    )?
    .execute(params![id, user_id, Timestamp::now().to_stored()])?;
    conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM notifications WHERE id = ?1 AND user_id = ?2"
    ))?
    .query_row(params![id, user_id], from_row)
    .optional()?
    .ok_or(AppError::NotFound)
}

/// Marks every unread notification of the caller read; answers how many were.
pub fn mark_all_read(conn: &Connection, user_id: &str) -> AppResult<usize> {
    Ok(conn
        .prepare_cached(
            "UPDATE notifications SET read_at = ?2 WHERE user_id = ?1 AND read_at IS NULL",
        )?
        .execute(params![user_id, Timestamp::now().to_stored()])?)
}

/// Up to `limit` of the user's notifications after stream position `after`, oldest first.
pub fn after_seq(
    conn: &Connection,
    user_id: &str,
    after: i64,
    limit: usize,
) -> AppResult<Vec<Notification>> {
    Ok(conn
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM notifications
              WHERE user_id = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3"
        ))?
        .query_map(params![user_id, after, limit as i64], from_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?)
}

/// The user's latest stream position (0 before their first notification).
pub fn latest_seq(conn: &Connection, user_id: &str) -> AppResult<i64> {
    Ok(conn
        .prepare_cached("SELECT ifnull(max(seq), 0) FROM notifications WHERE user_id = ?1")?
        .query_row([user_id], |r| r.get(0))?)
}

/// Deletes notifications read before `read_before`; unread ones are kept however old.
pub fn prune_read(conn: &Connection, read_before: &str) -> AppResult<usize> {
    Ok(conn
        .prepare_cached("DELETE FROM notifications WHERE read_at IS NOT NULL AND read_at < ?1")?
        .execute([read_before])?)
}

const SCHEDULER_WATERMARK: &str = "notifications_fired_until";

/// What one scheduler run fired.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Fired {
    pub reminders: usize,
    pub overdue: usize,
}

/// Fires the reminders and overdue notices of live, unfinished tasks whose time fell in
/// (the previous run, `now`], and records `now` as the new watermark. The very first run
/// only sets the watermark. Each task's assignee is told, or its creator when unassigned.
pub fn fire_due(conn: &Connection, now: &str) -> AppResult<Fired> {
    let since = settings::get(conn, SCHEDULER_WATERMARK)?;
    if since.as_deref().is_some_and(|since| since >= now) {
        // The clock went back: keep the later watermark rather than fire a window twice.
        return Ok(Fired::default());
    }
    settings::put(conn, SCHEDULER_WATERMARK, now)?;
    let Some(since) = since else {
        return Ok(Fired::default());
    };
    let reminders = fire_window(
        conn,
        "remind_at",
        &since,
        now,
        NotificationKind::TaskReminder,
        |title| format!("Reminder: “{title}”"),
    )?;
    let overdue = fire_window(
        conn,
        // The expression the lists' `tasks_due` index is on; no deadline sorts last ('~').
        "ifnull(due_at, '~')",
        &since,
        now,
        NotificationKind::TaskOverdue,
        |title| format!("“{title}” is overdue"),
    )?;
    Ok(Fired { reminders, overdue })
}

fn fire_window(
    conn: &Connection,
    column: &'static str,
    since: &str,
    now: &str,
    kind: NotificationKind,
    message: impl Fn(&str) -> String,
) -> AppResult<usize> {
    let due: Vec<(String, String, Option<String>)> = conn
        .prepare_cached(&format!(
            "SELECT id, title, ifnull(assigned_to, created_by) FROM tasks
              WHERE {column} > ?1 AND {column} <= ?2
                AND deleted_at IS NULL AND {column} IS NOT NULL AND status <> 'completed'"
        ))?
        .query_map(params![since, now], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })?
        .collect::<rusqlite::Result<_>>()?;
    let mut fired = 0;
    for (task_id, title, recipient) in due {
        if let Some(recipient) = recipient {
            insert(
                conn,
                &recipient,
                kind,
                About::task(&task_id),
                None,
                &message(&title),
                now,
            )?;
            fired += 1;
        }
    }
    Ok(fired)
}

#[cfg(test)]
mod tests {
    use rusqlite::Connection;

    use super::*;
    use crate::auth::actor::Via;
    use crate::auth::permissions::Role;

    fn db() -> Connection {
        let mut conn = crate::db::connection::open_in_memory().unwrap();
        crate::db::migrations::migrate(&mut conn, "mem").unwrap();
        for id in ["ann", "bob"] {
            conn.execute(
                "INSERT INTO users (id, email, name, role, password_hash, created_at, updated_at,
                                    password_changed_at)
                 VALUES (?1, ?1 || '@example.com', ?1, 'sales', 'x', '2026-01-01',
                         '2026-01-01', '2026-01-01')",
                [id],
            )
            .unwrap();
        }
        conn
    }

    fn actor(id: &str, via: Via) -> Actor {
        Actor {
            user_id: id.into(),
            role: Role::Sales,
            name: id.into(),
            email: format!("{id}@example.com"),
            via,
        }
    }

    fn ann() -> Actor {
        actor(
            "ann",
            Via::Session {
                session_id: "s".into(),
            },
        )
    }

    fn task(conn: &Connection, id: &str, remind_at: &str, due_at: &str, status: &str) {
        conn.execute(
            "INSERT INTO tasks (id, title, remind_at, due_at, status, assigned_to, created_by,
                                created_at, updated_at)
             VALUES (?1, 'Call ' || ?1, ?2, ?3, ?4, 'bob', 'ann', '2026-01-01', '2026-01-01')",
            params![id, remind_at, due_at, status],
        )
        .unwrap();
    }

    fn kinds(conn: &Connection, user: &str) -> Vec<String> {
        conn.prepare(
            "SELECT kind || ':' || entity_id FROM notifications WHERE user_id = ?1 ORDER BY seq",
        )
        .unwrap()
        .query_map([user], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
    }

    const T0: &str = "2026-05-01T09:00:00.000Z";
    const T1: &str = "2026-05-01T09:00:05.000Z";
    const T2: &str = "2026-05-01T09:00:10.000Z";

    #[test]
    fn nobody_hears_of_their_own_doing_or_of_bulk_work() {
        let conn = db();
        let about = About::task("t");
        let kind = NotificationKind::TaskAssigned;
        notify(&conn, &ann(), Some("ann"), kind, about, "self").unwrap();
        notify(
            &conn,
            &actor("ann", Via::Import),
            Some("bob"),
            kind,
            about,
            "x",
        )
        .unwrap();
        notify(
            &conn,
            &actor("ann", Via::CommandLine),
            Some("bob"),
            kind,
            about,
            "x",
        )
        .unwrap();
        notify(&conn, &ann(), None, kind, about, "nobody").unwrap();
        assert!(kinds(&conn, "ann").is_empty());
        assert!(kinds(&conn, "bob").is_empty());
        notify(&conn, &ann(), Some("bob"), kind, about, "Ann assigned you").unwrap();
        assert_eq!(kinds(&conn, "bob"), ["task_assigned:t"]);
    }

    #[test]
    fn only_a_new_holder_is_told_of_a_reassignment() {
        let conn = db();
        let about = About::lead("l");
        let kind = NotificationKind::LeadAssigned;
        let msg = || "m".to_owned();
        reassigned(&conn, &ann(), Some("bob"), Some("bob"), kind, about, msg).unwrap();
        reassigned(&conn, &ann(), Some("bob"), None, kind, about, msg).unwrap();
        assert!(kinds(&conn, "bob").is_empty());
        reassigned(&conn, &ann(), None, Some("bob"), kind, about, msg).unwrap();
        assert_eq!(kinds(&conn, "bob"), ["lead_assigned:l"]);
    }

    #[test]
    fn the_first_run_only_sets_the_watermark() {
        let conn = db();
        task(
            &conn,
            "past",
            "2026-04-01T00:00:00.000Z",
            "2026-04-02T00:00:00.000Z",
            "pending",
        );
        assert_eq!(fire_due(&conn, T0).unwrap(), Fired::default());
        assert!(kinds(&conn, "bob").is_empty());
    }

    #[test]
    fn what_falls_due_fires_once_even_across_restarts() {
        let conn = db();
        fire_due(&conn, T0).unwrap();
        task(
            &conn,
            "a",
            "2026-05-01T09:00:03.000Z",
            "2026-05-01T09:00:04.000Z",
            "pending",
        );
        task(
            &conn,
            "later",
            "2026-05-01T09:00:07.000Z",
            "2026-05-02T00:00:00.000Z",
            "pending",
        );
        task(
            &conn,
            "done",
            "2026-05-01T09:00:03.000Z",
            "2026-05-01T09:00:04.000Z",
            "completed",
        );
        task(
            &conn,
            "binned",
            "2026-05-01T09:00:03.000Z",
            "2026-05-01T09:00:04.000Z",
            "pending",
        );
        conn.execute("UPDATE tasks SET deleted_at = ?1 WHERE id = 'binned'", [T0])
            .unwrap();

        assert_eq!(
            fire_due(&conn, T1).unwrap(),
            Fired {
                reminders: 1,
                overdue: 1
            }
        );
        assert_eq!(kinds(&conn, "bob"), ["task_reminder:a", "task_overdue:a"]);
        // The same instant again (a restart within the same millisecond), then the next run.
        assert_eq!(fire_due(&conn, T1).unwrap(), Fired::default());
        assert_eq!(fire_due(&conn, T2).unwrap().reminders, 1);
        assert_eq!(
            kinds(&conn, "bob"),
            ["task_reminder:a", "task_overdue:a", "task_reminder:later"]
        );
        // A clock that went back fires nothing and keeps the later watermark.
        assert_eq!(fire_due(&conn, T0).unwrap(), Fired::default());
        assert_eq!(
            settings::get(&conn, SCHEDULER_WATERMARK).unwrap().unwrap(),
            T2
        );
    }

    #[test]
    fn a_time_set_in_the_past_fires_nothing() {
        let conn = db();
        fire_due(&conn, T1).unwrap();
        task(
            &conn,
            "old",
            "2026-05-01T09:00:03.000Z",
            "2026-05-01T09:00:04.000Z",
            "pending",
        );
        assert_eq!(fire_due(&conn, T2).unwrap(), Fired::default());
    }

    #[test]
    fn only_old_read_notifications_are_pruned() {
        let conn = db();
        let about = About::task("t");
        for _ in 0..3 {
            notify(
                &conn,
                &ann(),
                Some("bob"),
                NotificationKind::TaskAssigned,
                about,
                "m",
            )
            .unwrap();
        }
        let ids: Vec<String> = conn
            .prepare("SELECT id FROM notifications ORDER BY seq")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        mark_read(&conn, "bob", &ids[0]).unwrap();
        conn.execute(
            "UPDATE notifications SET read_at = '2020-01-01T00:00:00.000Z' WHERE id = ?1",
            [&ids[0]],
        )
        .unwrap();
        mark_read(&conn, "bob", &ids[1]).unwrap();
        assert!(matches!(
            mark_read(&conn, "ann", &ids[2]),
            Err(AppError::NotFound)
        ));
        assert_eq!(prune_read(&conn, "2026-01-01T00:00:00.000Z").unwrap(), 1);
        assert_eq!(unread_count(&conn, "bob").unwrap(), 1);
        assert_eq!(kinds(&conn, "bob").len(), 2);
        assert_eq!(mark_all_read(&conn, "bob").unwrap(), 1);
        assert_eq!(unread_count(&conn, "bob").unwrap(), 0);
    }

    #[test]
    fn the_scheduler_and_the_stream_use_indexes() {
        let conn = db();
        let plans = [
            "SELECT id FROM tasks WHERE remind_at > ?1 AND remind_at <= ?2
               AND deleted_at IS NULL AND remind_at IS NOT NULL AND status <> 'completed'",
            "SELECT id FROM tasks WHERE ifnull(due_at, '~') > ?1 AND ifnull(due_at, '~') <= ?2
               AND deleted_at IS NULL AND ifnull(due_at, '~') IS NOT NULL
               AND status <> 'completed'",
            "SELECT id FROM notifications WHERE user_id = ?1 AND seq > ?2 ORDER BY seq LIMIT 5",
            "SELECT count(*) FROM notifications WHERE user_id = ?1 AND read_at IS NULL",
        ];
        for sql in plans {
            let mut stmt = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
            // Unbound parameters are NULL, which is all a query plan needs.
            let mut rows = stmt.raw_query();
            while let Some(row) = rows.next().unwrap() {
                let step: String = row.get(3).unwrap();
                assert!(!step.starts_with("SCAN"), "{sql}: {step}");
            }
        }
    }
}
