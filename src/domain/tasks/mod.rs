//! Tasks: things to do, with a due time, a reminder, an assignee, and links to the lead,
//! customer or contact they are about.
//!
//! Who may do what (the contract's role table, plus the choices it leaves open):
//! - everyone reads every task; every role creates tasks, assigned to anyone (delegating a
//!   task to a colleague is ordinary CRM use, not "reassigning an owner");
//! - a task is owned by its assignee and by its creator. Owners, managers and admins edit,
//!   complete, delete and restore it — which includes handing it to someone else, since an
//!   owner may already change everything else about it. Sales and support may not touch
//!   other people's tasks.

use rusqlite::{Connection, OptionalExtension, Row, params};
use serde::{Deserialize, Serialize};

use crate::auth::Actor;
use crate::auth::permissions::{Ownership, RecordAction};
use crate::domain::audit::{self, Entry};
use crate::domain::choice::Choice;
use crate::domain::clock::Timestamp;
use crate::domain::notifications::{self, About, NotificationKind};
use crate::domain::records::{self, Kind, META_COLUMNS, Meta, Origin, nullable};
use crate::domain::values::{instant, multiline_text, required_text};
use crate::error::{AppError, AppResult, Violations};

const KIND: Kind = Kind::Task;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Priority {
    Low,
    Medium,
    High,
}

impl Choice for Priority {
    const ALL: &'static [(Self, &'static str)] = &[
        (Self::Low, "low"),
        (Self::Medium, "medium"),
        (Self::High, "high"),
    ];
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Pending,
    InProgress,
    Completed,
}

impl Choice for Status {
    const ALL: &'static [(Self, &'static str)] = &[
        (Self::Pending, "pending"),
        (Self::InProgress, "in_progress"),
        (Self::Completed, "completed"),
    ];
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Task {
    #[serde(flatten)]
    pub meta: Meta,
    pub title: String,
    pub description: Option<String>,
    /// RFC 3339 UTC.
    pub due_at: Option<String>,
    /// When to remind the assignee; never after `due_at`.
    pub remind_at: Option<String>,
    pub priority: Priority,
    pub status: Status,
    pub assigned_to: Option<String>,
    pub lead_id: Option<String>,
    pub customer_id: Option<String>,
    pub contact_id: Option<String>,
    /// Set when the status becomes `completed`, cleared when the task is reopened.
    pub completed_at: Option<String>,
    /// Who completed it, alongside `completed_at`.
    pub completed_by: Option<String>,
}

const COLUMNS: &str = "title, description, due_at, remind_at, priority, status, assigned_to, \
                       lead_id, customer_id, contact_id, completed_at, completed_by";

pub(crate) fn from_row(r: &Row<'_>) -> rusqlite::Result<Task> {
    Ok(Task {
        meta: Meta::from_row(r, 0)?,
        title: r.get(6)?,
        description: r.get(7)?,
        due_at: r.get(8)?,
        remind_at: r.get(9)?,
        priority: Priority::column(r, 10)?,
        status: Status::column(r, 11)?,
        assigned_to: r.get(12)?,
        lead_id: r.get(13)?,
        customer_id: r.get(14)?,
        contact_id: r.get(15)?,
        completed_at: r.get(16)?,
        completed_by: r.get(17)?,
    })
}

/// The body of `POST /tasks` (where `title` is required) and of `PATCH /tasks/{id}` (where
/// only the fields present change, and `null` clears one). `completed_at` is not writable:
/// it follows `status`.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TaskInput {
    /// Required, at most 200 characters.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub title: Option<Option<String>>,
    /// At most 10,000 characters; may span lines.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub description: Option<Option<String>>,
    /// RFC 3339 with an offset; stored and returned in UTC.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub due_at: Option<Option<String>>,
    /// RFC 3339; must not be after `due_at` (a reminder comes before the deadline). A
    /// reminder without a due time is allowed.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub remind_at: Option<Option<String>>,
    /// low, medium (the default) or high.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub priority: Option<Option<String>>,
    /// pending (the default), in_progress or completed. Setting `completed` stamps
    /// `completed_at`; setting anything else reopens the task and clears it.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub status: Option<Option<String>>,
    /// An active user. Omitted on creation, the task is assigned to its creator; `null`
    /// leaves it unassigned. Any role may assign a new task to anyone; changing the assignee
    /// later needs the task's owner (assignee or creator), a manager or an admin.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub assigned_to: Option<Option<String>>,
    /// A live lead.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub lead_id: Option<Option<String>>,
    /// A live customer.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub customer_id: Option<Option<String>>,
    /// A live contact.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub contact_id: Option<Option<String>>,
}

/// Applies `input` over `current` (blank for a new task), validating every field and
/// reporting all failures at once.
fn merge(conn: &Connection, actor: &Actor, current: &Task, input: &TaskInput) -> AppResult<Task> {
    let mut v = Violations::new();
    let mut next = current.clone();
    let pick = |field: &Option<Option<String>>, now: &Option<String>| match field {
        None => now.clone(),
        Some(value) => value.clone(),
    };
    let creating = current.meta.id.is_empty();
    if input.title.is_some() || creating {
        let title = input.title.clone().flatten().unwrap_or_default();
        if let Some(t) = v.check(required_text("title", &title, 200)) {
            next.title = t;
        }
    }
    next.description = v
        .check(multiline_text(
            "description",
            pick(&input.description, &current.description).as_deref(),
            10_000,
        ))
        .flatten();
    let due_at = v.check(instant(
        "due_at",
        pick(&input.due_at, &current.due_at).as_deref(),
    ));
    let remind_at = v.check(instant(
        "remind_at",
        pick(&input.remind_at, &current.remind_at).as_deref(),
    ));
    if let (Some(Some(due)), Some(Some(remind))) = (&due_at, &remind_at)
        && remind > due
    {
        v.add("remind_at", "must not be after due_at");
    }
    next.due_at = due_at.flatten();
    next.remind_at = remind_at.flatten();
    if let Some(raw) = &input.priority {
        next.priority = v
            .check(Priority::parse("priority", raw.as_deref()))
            .unwrap_or(next.priority);
    }
    if let Some(raw) = &input.status {
        next.status = v
            .check(Status::parse("status", raw.as_deref()))
            .unwrap_or(next.status);
    }
    next.assigned_to = match (&input.assigned_to, creating) {
        (None, true) => Some(actor.user_id.clone()),
        (given, _) => pick(given, &current.assigned_to),
    };
    if input.assigned_to.is_some()
        && let Some(e) = records::check_user(conn, "assigned_to", next.assigned_to.as_deref())?
    {
        v.push(e);
    }
    next.lead_id = pick(&input.lead_id, &current.lead_id);
    next.customer_id = pick(&input.customer_id, &current.customer_id);
    next.contact_id = pick(&input.contact_id, &current.contact_id);
    for (field, kind, given, id) in [
        ("lead_id", Kind::Lead, &input.lead_id, &next.lead_id),
        (
            "customer_id",
            Kind::Customer,
            &input.customer_id,
            &next.customer_id,
        ),
        (
            "contact_id",
            Kind::Contact,
            &input.contact_id,
            &next.contact_id,
        ),
    ] {
        if given.is_some()
            && let Some(e) = records::check_reference(conn, field, kind, id.as_deref())?
        {
            v.push(e);
        }
    }
    v.into_result()?;
    Ok(next)
}

/// Keeps `completed_at`/`completed_by` in step with the status: stamped on entering
/// `completed`, kept while it stays completed, cleared on reopening.
fn settle_completion(previous: Status, task: &mut Task, actor: &Actor, now: &str) {
    match (previous, task.status) {
        (Status::Completed, Status::Completed) => {}
        (_, Status::Completed) => {
            task.completed_at = Some(now.to_owned());
            task.completed_by = Some(actor.user_id.clone());
        }
        _ => {
            task.completed_at = None;
            task.completed_by = None;
        }
    }
}

fn ownership(actor: &Actor, task: &Task) -> Ownership {
    Ownership::of_task(
        &actor.user_id,
        task.assigned_to.as_deref(),
        task.meta.created_by.as_deref(),
    )
}

pub fn get(conn: &Connection, id: &str) -> AppResult<Task> {
    conn.prepare_cached(&format!(
        "SELECT {META_COLUMNS}, {COLUMNS} FROM tasks WHERE id = ?1 AND deleted_at IS NULL"
    ))?
    .query_row([id], from_row)
    .optional()?
    .ok_or(AppError::NotFound)
}

pub fn create(conn: &Connection, actor: &Actor, input: &TaskInput) -> AppResult<Task> {
    create_from(conn, actor, input, &Origin::now(actor), None)
}

/// Creates a task with the history of `origin` (an import's), validated as [`create`] does.
/// A completed task was completed at `completed_at` (`None`: now).
pub fn create_from(
    conn: &Connection,
    actor: &Actor,
    input: &TaskInput,
    origin: &Origin,
    completed_at: Option<&str>,
) -> AppResult<Task> {
    records::require(actor, RecordAction::Create, KIND, Ownership::Own)?;
    let mut task = merge(conn, actor, &blank(), input)?;
    let now = Timestamp::now().to_stored();
    task.meta = origin.meta(&now);
    settle_completion(
        Status::Pending,
        &mut task,
        actor,
        completed_at.unwrap_or(&now),
    );
    conn.prepare_cached(&format!(
        "INSERT INTO tasks ({META_COLUMNS}, {COLUMNS})
         VALUES (?1, ?2, ?3, ?4, ?5, NULL, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)"
    ))?
    .execute(params![
        task.meta.id,
        task.meta.created_at,
        task.meta.updated_at,
        task.meta.created_by,
        task.meta.version,
        task.title,
        task.description,
        task.due_at,
        task.remind_at,
        task.priority.as_str(),
        task.status.as_str(),
        task.assigned_to,
        task.lead_id,
        task.customer_id,
        task.contact_id,
        task.completed_at,
        task.completed_by,
    ])?;
    audit::record(
        conn,
        Entry::new(Some(&actor.user_id), "task.create", "task")
            .entity(&task.meta.id)
            .after(&task),
    )?;
    notify_assignee(conn, actor, None, &task)?;
    Ok(task)
}

fn blank() -> Task {
    Task {
        meta: Meta {
            id: String::new(),
            created_at: String::new(),
            updated_at: String::new(),
            created_by: None,
            version: 0,
            deleted_at: None,
        },
        title: String::new(),
        description: None,
        due_at: None,
        remind_at: None,
        priority: Priority::Medium,
        status: Status::Pending,
        assigned_to: None,
        lead_id: None,
        customer_id: None,
        contact_id: None,
        completed_at: None,
        completed_by: None,
    }
}

/// Writes every field of `task`, which the caller has already versioned.
fn save(conn: &Connection, task: &Task) -> AppResult<()> {
    conn.prepare_cached(
        "UPDATE tasks SET title = ?2, description = ?3, due_at = ?4, remind_at = ?5,
                          priority = ?6, status = ?7, assigned_to = ?8, lead_id = ?9,
                          customer_id = ?10, contact_id = ?11, completed_at = ?12,
                          completed_by = ?13, updated_at = ?14, version = ?15
          WHERE id = ?1",
    )?
    .execute(params![
        task.meta.id,
        task.title,
        task.description,
        task.due_at,
        task.remind_at,
        task.priority.as_str(),
        task.status.as_str(),
        task.assigned_to,
        task.lead_id,
        task.customer_id,
        task.contact_id,
        task.completed_at,
        task.completed_by,
        task.meta.updated_at,
        task.meta.version,
    ])?;
    Ok(())
}

pub fn update(
    conn: &Connection,
    actor: &Actor,
    id: &str,
    input: &TaskInput,
    expected_version: Option<i64>,
) -> AppResult<Task> {
    let before = get(conn, id)?;
    records::require(actor, RecordAction::Edit, KIND, ownership(actor, &before))?;
    records::check_version(expected_version, before.meta.version)?;
    let mut after = merge(conn, actor, &before, input)?;
    let now = Timestamp::now().to_stored();
    settle_completion(before.status, &mut after, actor, &now);
    after.meta.updated_at = now;
    after.meta.version += 1;
    save(conn, &after)?;
    audit::record(
        conn,
        Entry::new(Some(&actor.user_id), "task.update", "task")
            .entity(id)
            .changes(&before, &after),
    )?;
    notify_assignee(conn, actor, before.assigned_to.as_deref(), &after)?;
    Ok(after)
}

fn notify_assignee(
    conn: &Connection,
    actor: &Actor,
    before: Option<&str>,
    task: &Task,
) -> AppResult<()> {
    notifications::reassigned(
        conn,
        actor,
        before,
        task.assigned_to.as_deref(),
        NotificationKind::TaskAssigned,
        About::task(&task.meta.id),
        || format!("{} assigned you the task “{}”", actor.name, task.title),
    )
}

/// Marks a task completed. Completing a completed task changes nothing and succeeds, even
/// with an `If-Match` that names an older version (RFC 9110 §13.1.1: the change has already
/// been made), so a retried request is harmless.
pub fn complete(
    conn: &Connection,
    actor: &Actor,
    id: &str,
    expected_version: Option<i64>,
) -> AppResult<Task> {
    let before = get(conn, id)?;
    records::require(actor, RecordAction::Edit, KIND, ownership(actor, &before))?;
    if before.status == Status::Completed {
        return Ok(before);
    }
    records::check_version(expected_version, before.meta.version)?;
    let mut after = before.clone();
    let now = Timestamp::now().to_stored();
    after.status = Status::Completed;
    settle_completion(before.status, &mut after, actor, &now);
    after.meta.updated_at = now;
    after.meta.version += 1;
    save(conn, &after)?;
    audit::record(
        conn,
        Entry::new(Some(&actor.user_id), "task.complete", "task")
            .entity(id)
            .changes(&before, &after),
    )?;
    Ok(after)
}

/// Moves a task to the trash.
pub fn delete(
    conn: &Connection,
    actor: &Actor,
    id: &str,
    expected_version: Option<i64>,
) -> AppResult<()> {
    let current = get(conn, id)?;
    records::delete_checked(
        conn,
        actor,
        KIND,
        id,
        current.meta.version,
        expected_version,
    )
}

pub fn restore(conn: &Connection, actor: &Actor, id: &str) -> AppResult<Task> {
    records::restore_checked(conn, actor, KIND, id)?;
    get(conn, id)
}

pub mod list;

pub use list::{LIST, list, list_query};

#[cfg(test)]
pub(crate) use list::tests::{query_plan, served_by_index};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_and_priorities_name_themselves() {
        assert_eq!(
            Status::parse("status", Some("in_progress")),
            Ok(Status::InProgress)
        );
        assert_eq!(Priority::High.as_str(), "high");
        let err = Priority::parse("priority", Some("urgent")).unwrap_err();
        assert_eq!(err.message, "must be one of: low, medium, high");
    }
}
