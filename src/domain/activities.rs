//! Activities: the calls, e-mails, meetings and notes logged about a customer, contact or
//! lead. Everyone reads them and every role logs them; sales and support change or delete
//! only those they logged, managers and admins any.

use rusqlite::{Connection, OptionalExtension, Row, params};
use serde::{Deserialize, Serialize};

use crate::auth::Actor;
use crate::auth::permissions::{Ownership, RecordAction};
use crate::domain::audit::{self, Entry};
use crate::domain::choice::Choice;
use crate::domain::clock::Timestamp;
use crate::domain::list::{Filter, ListParams, ListSpec, Page, Takes};
use crate::domain::records::{self, Kind, META_COLUMNS, Meta, Origin, nullable};
use crate::domain::values::{instant, multiline_text};
use crate::error::{AppError, AppResult, Violations};

const KIND: Kind = Kind::Activity;

/// What an activity is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SubjectType {
    Customer,
    Contact,
    Lead,
}

impl Choice for SubjectType {
    const ALL: &'static [(Self, &'static str)] = &[
        (Self::Customer, "customer"),
        (Self::Contact, "contact"),
        (Self::Lead, "lead"),
    ];
}

impl SubjectType {
    pub fn kind(self) -> Kind {
        match self {
            Self::Customer => Kind::Customer,
            Self::Contact => Kind::Contact,
            Self::Lead => Kind::Lead,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ActivityKind {
    Call,
    Email,
    Meeting,
    Note,
}

impl Choice for ActivityKind {
    const ALL: &'static [(Self, &'static str)] = &[
        (Self::Call, "call"),
        (Self::Email, "email"),
        (Self::Meeting, "meeting"),
        (Self::Note, "note"),
    ];
}

impl ActivityKind {
    pub fn label(self) -> &'static str {
        match self {
            Self::Call => "Call",
            Self::Email => "E-mail",
            Self::Meeting => "Meeting",
            Self::Note => "Note",
        }
    }
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Activity {
    #[serde(flatten)]
    pub meta: Meta,
    pub subject_type: SubjectType,
    pub subject_id: String,
    pub kind: ActivityKind,
    pub body: String,
    /// When the call, e-mail or meeting happened (RFC 3339 UTC).
    pub occurred_at: String,
}

const COLUMNS: &str = "subject_type, subject_id, kind, body, occurred_at";

pub(crate) fn from_row(r: &Row<'_>) -> rusqlite::Result<Activity> {
    Ok(Activity {
        meta: Meta::from_row(r, 0)?,
        subject_type: SubjectType::column(r, 6)?,
        subject_id: r.get(7)?,
        kind: ActivityKind::column(r, 8)?,
        body: r.get(9)?,
        occurred_at: r.get(10)?,
    })
}

/// The body of `POST /activities` (where `subject_type`, `subject_id` and `body` are
/// required) and of `PATCH /activities/{id}` (only the fields present change).
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ActivityInput {
    /// customer, contact or lead.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub subject_type: Option<Option<String>>,
    /// A live record of `subject_type`. An activity may be moved to another record by
    /// PATCHing the subject.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub subject_id: Option<Option<String>>,
    /// call, email, meeting or note (the default).
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub kind: Option<Option<String>>,
    /// Required, at most 20,000 characters; may span lines.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub body: Option<Option<String>>,
    /// RFC 3339 with an offset, stored in UTC; defaults to now.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub occurred_at: Option<Option<String>>,
}

fn merge(conn: &Connection, current: &Activity, input: &ActivityInput) -> AppResult<Activity> {
    let mut v = Violations::new();
    let mut next = current.clone();
    let creating = current.meta.id.is_empty();
    let subject_given = input.subject_type.is_some() || input.subject_id.is_some();
    let mut subject_type = Some(current.subject_type);
    if input.subject_type.is_some() || creating {
        subject_type = v.check(SubjectType::parse(
            "subject_type",
            input.subject_type.clone().flatten().as_deref(),
        ));
    }
    if input.subject_id.is_some() || creating {
        match input.subject_id.clone().flatten() {
            Some(id) if !id.trim().is_empty() => next.subject_id = id.trim().to_owned(),
            _ => v.add("subject_id", "is required"),
        }
    }
    if let Some(t) = subject_type {
        next.subject_type = t;
        if subject_given
            && !next.subject_id.is_empty()
            && let Some(e) =
                records::check_reference(conn, "subject_id", t.kind(), Some(&next.subject_id))?
        {
            v.push(e);
        }
    }
    if let Some(raw) = &input.kind {
        next.kind = v
            .check(ActivityKind::parse("kind", raw.as_deref()))
            .unwrap_or(next.kind);
    }
    if input.body.is_some() || creating {
        match multiline_text("body", input.body.clone().flatten().as_deref(), 20_000) {
            Ok(Some(body)) => next.body = body,
            Ok(None) => v.add("body", "is required"),
            Err(e) => v.push(e),
        }
    }
    if let Some(raw) = &input.occurred_at {
        match v.check(instant("occurred_at", raw.as_deref())) {
            Some(Some(at)) => next.occurred_at = at,
            Some(None) => v.add("occurred_at", "must be a time like 2026-12-31T09:00:00Z"),
            None => {}
        }
    }
    v.into_result()?;
    Ok(next)
}

pub fn get(conn: &Connection, id: &str) -> AppResult<Activity> {
    conn.prepare_cached(&format!(
        "SELECT {META_COLUMNS}, {COLUMNS} FROM activities WHERE id = ?1 AND deleted_at IS NULL"
    ))?
    .query_row([id], from_row)
    .optional()?
    .ok_or(AppError::NotFound)
}

fn ownership(actor: &Actor, activity: &Activity) -> Ownership {
    Ownership::of(&actor.user_id, None, activity.meta.created_by.as_deref())
}

pub fn create(conn: &Connection, actor: &Actor, input: &ActivityInput) -> AppResult<Activity> {
    create_from(conn, actor, input, &Origin::now(actor))
}

/// Creates an activity with the history of `origin` (an import's: its author and times),
/// validated as [`create`] does.
pub fn create_from(
    conn: &Connection,
    actor: &Actor,
    input: &ActivityInput,
    origin: &Origin,
) -> AppResult<Activity> {
    records::require(actor, RecordAction::Create, KIND, Ownership::Own)?;
    let now = Timestamp::now().to_stored();
    let mut meta = origin.meta(&now);
    // No id while `merge` checks it: it is creating.
    let id = std::mem::take(&mut meta.id);
    let blank = Activity {
        meta,
        subject_type: SubjectType::Customer,
        subject_id: String::new(),
        kind: ActivityKind::Note,
        body: String::new(),
        occurred_at: now,
    };
    let mut activity = merge(conn, &blank, input)?;
    activity.meta.id = id;
    conn.prepare_cached(&format!(
        "INSERT INTO activities ({META_COLUMNS}, {COLUMNS})
         VALUES (?1, ?2, ?3, ?4, ?5, NULL, ?6, ?7, ?8, ?9, ?10)"
    ))?
    .execute(params![
        activity.meta.id,
        activity.meta.created_at,
        activity.meta.updated_at,
        activity.meta.created_by,
        activity.meta.version,
        activity.subject_type.as_str(),
        activity.subject_id,
        activity.kind.as_str(),
        activity.body,
        activity.occurred_at,
    ])?;
    audit::record(
        conn,
        Entry::new(Some(&actor.user_id), "activity.create", "activity")
            .entity(&activity.meta.id)
            .after(&activity),
    )?;
    Ok(activity)
}

pub fn update(
    conn: &Connection,
    actor: &Actor,
    id: &str,
    input: &ActivityInput,
    expected_version: Option<i64>,
) -> AppResult<Activity> {
    let before = get(conn, id)?;
    records::require(actor, RecordAction::Edit, KIND, ownership(actor, &before))?;
    records::check_version(expected_version, before.meta.version)?;
    let mut after = merge(conn, &before, input)?;
    after.meta.updated_at = Timestamp::now().to_stored();
    after.meta.version += 1;
    conn.prepare_cached(
        "UPDATE activities SET subject_type = ?2, subject_id = ?3, kind = ?4, body = ?5,
                               occurred_at = ?6, updated_at = ?7, version = ?8
          WHERE id = ?1",
    )?
    .execute(params![
        id,
        after.subject_type.as_str(),
        after.subject_id,
        after.kind.as_str(),
        after.body,
        after.occurred_at,
        after.meta.updated_at,
        after.meta.version,
    ])?;
    audit::record(
        conn,
        Entry::new(Some(&actor.user_id), "activity.update", "activity")
            .entity(id)
            .changes(&before, &after),
    )?;
    Ok(after)
}

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

pub fn restore(conn: &Connection, actor: &Actor, id: &str) -> AppResult<Activity> {
    records::restore_checked(conn, actor, KIND, id)?;
    get(conn, id)
}

pub const LIST: ListSpec = ListSpec {
    filters: &[
        Filter::new(
            "subject_type",
            "activities about this kind of record",
            Takes::OneOf(SubjectType::names),
        ),
        Filter::new(
            "subject_id",
            "activities about this record (usually with subject_type)",
            Takes::Id,
        ),
        Filter::new(
            "kind",
            "activities of this kind",
            Takes::OneOf(ActivityKind::names),
        ),
        Filter::new("created_by", "activities logged by this user", Takes::Id),
        Filter::new(
            "occurred_from",
            "happened at or after this",
            Takes::DayOrTime,
        ),
        Filter::new("occurred_to", "happened before this", Takes::DayOrTime),
    ],
    sorts: &[("occurred_at", "occurred_at"), ("created_at", "created_at")],
    default_sort: "occurred_at",
    default_desc: true,
};

pub fn list_query(params: &ListParams) -> AppResult<(String, Vec<rusqlite::types::Value>)> {
    let mut q = records::Query::new(params);
    q.one_of("subject_type", "subject_type", &SubjectType::names())
        .eq("subject_id", "subject_id")
        .one_of("kind", "kind", &ActivityKind::names())
        .eq("created_by", "created_by")
        .time_range("occurred_from", "occurred_to", "occurred_at")
        .like(&["body"]);
    let (mut filter, args) = q.finish()?;
    if params.filter("subject_id").is_some() && params.filter("subject_type").is_none() {
        // Lets the subject index serve a look-up by id alone.
        filter.push_str(" AND subject_type IN ('customer', 'contact', 'lead')");
    }
    let sql = format!(
        "SELECT {META_COLUMNS}, {COLUMNS} FROM activities
          WHERE deleted_at IS NULL {filter}
          ORDER BY {order} LIMIT {limit}",
        order = params.order_by(),
        limit = params.limit + 1
    );
    Ok((sql, args))
}

pub fn list(conn: &Connection, params: &ListParams) -> AppResult<Page<Activity>> {
    let (sql, args) = list_query(params)?;
    let rows = conn
        .prepare_cached(&sql)?
        .query_map(rusqlite::params_from_iter(args), from_row)?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(params.page(rows, |a| {
        let value = match params.sort {
            "created_at" => a.meta.created_at.clone(),
            _ => a.occurred_at.clone(),
        };
        (value, a.meta.id.clone())
    }))
}

/// The first line of a body, cut to `max` characters, for one-line summaries.
pub fn excerpt(body: &str, max: usize) -> String {
    let line = body.lines().next().unwrap_or("").trim();
    if line.chars().count() > max {
        let cut: String = line.chars().take(max.saturating_sub(1)).collect();
        format!("{}…", cut.trim_end())
    } else {
        line.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::tasks::{query_plan, served_by_index};

    #[test]
    fn every_list_shape_uses_an_index() {
        let mut conn = crate::db::connection::open_in_memory().unwrap();
        crate::db::migrations::migrate(&mut conn, "mem").unwrap();
        let shapes: &[&[(&str, &str)]] = &[
            &[],
            &[("q", "x")],
            &[("subject_type", "customer"), ("subject_id", "c1")],
            &[("subject_id", "c1")],
            &[("subject_type", "lead")],
            &[("kind", "call")],
            &[("created_by", "u1")],
            &[
                ("occurred_from", "2026-01-01"),
                ("occurred_to", "2026-02-01"),
            ],
            &[
                ("subject_type", "contact"),
                ("subject_id", "c1"),
                ("kind", "note"),
            ],
        ];
        for shape in shapes {
            for sort in ["occurred_at", "created_at"] {
                for order in ["asc", "desc"] {
                    let mut raw: Vec<(String, String)> = shape
                        .iter()
                        .map(|(k, v)| (k.to_string(), v.to_string()))
                        .collect();
                    raw.push(("sort".into(), sort.into()));
                    raw.push(("order".into(), order.into()));
                    let params = ListParams::parse(&raw, &LIST).unwrap();
                    let (sql, args) = list_query(&params).unwrap();
                    let plan = query_plan(&conn, &sql, args);
                    assert!(served_by_index(&plan, "activities"), "{raw:?}: {plan:?}");
                }
            }
        }
    }

    #[test]
    fn excerpts_are_one_short_line() {
        assert_eq!(excerpt("  Called Ada\nShe said yes", 80), "Called Ada");
        assert_eq!(excerpt(&"x".repeat(100), 10), format!("{}…", "x".repeat(9)));
        assert_eq!(excerpt("", 10), "");
    }

    #[test]
    fn field_errors_name_the_field() {
        let e: crate::error::FieldError =
            SubjectType::parse("subject_type", Some("planet")).unwrap_err();
        assert_eq!(e.field, "subject_type");
    }
}
