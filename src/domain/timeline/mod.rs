//! The timeline of a customer, contact or lead: one list, newest first, of the activities
//! logged about it, its leads' stage changes, the creation and completion of its tasks, and
//! the files attached to it (uploaded, and deleted while they are in the trash).
//!
//! A record's timeline also covers the records that belong to it, as a CRM user expects
//! when opening a company: a customer's includes its live contacts' and leads' items, a
//! contact's includes its live leads' items; a lead's is its own. Tasks linked several ways
//! (say to a customer and to its contact) appear once.
//!
//! Each source is read newest first through its index, at most one page per source, and
//! the sources are merged with `UNION ALL … ORDER BY at, rank, id LIMIT`: the work per page
//! stays proportional to the page size however many activities the database holds. The
//! cursor is the `(at, type, id)` of the last item, so paging visits every item once.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rusqlite::types::Value;
use rusqlite::{Connection, Row};
use serde::Serialize;

use crate::domain::activities::{ActivityKind, SubjectType, excerpt};
use crate::domain::attachments::EntityType;
use crate::domain::choice::Choice;
use crate::domain::list::{DEFAULT_LIMIT, MAX_LIMIT, Page};
use crate::domain::records;
use crate::domain::tasks::{Priority, Status};
use crate::error::{AppError, AppResult, FieldError, Violations};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ItemType {
    Activity,
    StageChange,
    TaskCreated,
    TaskCompleted,
    AttachmentAdded,
    AttachmentDeleted,
}

impl ItemType {
    const ALL: [ItemType; 6] = [
        ItemType::TaskCreated,
        ItemType::Activity,
        ItemType::StageChange,
        ItemType::TaskCompleted,
        ItemType::AttachmentAdded,
        ItemType::AttachmentDeleted,
    ];

    /// Breaks ties between items at the same instant: a task completed the moment it was
    /// created lists its completion first.
    fn rank(self) -> i64 {
        match self {
            ItemType::TaskCreated => 0,
            ItemType::Activity => 1,
            ItemType::StageChange => 2,
            ItemType::TaskCompleted => 3,
            ItemType::AttachmentAdded => 4,
            ItemType::AttachmentDeleted => 5,
        }
    }

    fn from_rank(rank: i64) -> Option<ItemType> {
        Self::ALL.into_iter().find(|t| t.rank() == rank)
    }
}

/// One entry of a timeline.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TimelineItem {
    #[serde(rename = "type")]
    pub item_type: ItemType,
    /// When it happened: an activity's `occurred_at`, a stage change's time, a task's
    /// `created_at` or `completed_at`, a file's upload or deletion (RFC 3339 UTC).
    pub at: String,
    /// The activity's or task's id; a stage change's own id.
    pub id: String,
    /// Who logged, moved, created or completed it.
    pub actor_id: Option<String>,
    /// One line for display, e.g. `Call: Discussed the renewal`.
    pub summary: String,
    #[serde(flatten)]
    pub details: Details,
}

/// The fields particular to each item type.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(untagged)]
pub enum Details {
    /// `attachment_added` and `attachment_deleted`: the file (deleted ones are in the
    /// trash; purged ones leave the timeline).
    Attachment {
        filename: String,
        content_type: String,
        size: i64,
        entity_type: EntityType,
        entity_id: String,
    },
    /// `activity`: the activity as logged.
    Activity {
        kind: ActivityKind,
        body: String,
        subject_type: SubjectType,
        subject_id: String,
    },
    /// `stage_change`: a move of a lead between pipeline stages.
    StageChange {
        lead_id: String,
        /// `null` for the stage a lead was created in.
        from_stage: Option<String>,
        to_stage: String,
    },
    /// `task_created` and `task_completed`: the task as it is now.
    Task {
        title: String,
        status: Status,
        priority: Priority,
        due_at: Option<String>,
        assigned_to: Option<String>,
    },
}

/// `limit` and `cursor` of a timeline request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimelineParams {
    pub limit: u32,
    after: Option<Position>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Position {
    at: String,
    rank: i64,
    id: String,
}

const CURSOR_TAG: &str = "timeline";

impl Position {
    fn encode(&self) -> String {
        let json = serde_json::json!([CURSOR_TAG, self.at, self.rank, self.id]);
        URL_SAFE_NO_PAD.encode(json.to_string())
    }

    fn decode(raw: &str) -> Result<Position, FieldError> {
        let bad = || {
            FieldError::new(
                "cursor",
                "is not a cursor from this timeline; start again without it",
            )
        };
        let bytes = URL_SAFE_NO_PAD.decode(raw).map_err(|_| bad())?;
        let (tag, at, rank, id): (String, String, i64, String) =
            serde_json::from_slice(&bytes).map_err(|_| bad())?;
        let item = ItemType::from_rank(rank).ok_or_else(bad)?;
        if tag != CURSOR_TAG || (item == ItemType::StageChange && id.parse::<i64>().is_err()) {
            return Err(bad());
        }
        Ok(Position { at, rank, id })
    }
}

impl TimelineParams {
    /// Accepts `limit` (1 to 200, default 50) and `cursor`; anything else is a 422.
    pub fn parse(raw: &[(String, String)]) -> AppResult<TimelineParams> {
        let mut v = Violations::new();
        let mut params = TimelineParams {
            limit: DEFAULT_LIMIT,
            after: None,
        };
        for (key, value) in raw {
            match key.as_str() {
                "limit" => match value.parse::<u32>() {
                    Ok(n) if (1..=MAX_LIMIT).contains(&n) => params.limit = n,
                    _ => v.add(
                        "limit",
                        format!("must be a whole number from 1 to {MAX_LIMIT}"),
                    ),
                },
                "cursor" if value.is_empty() => {}
                "cursor" => params.after = v.check(Position::decode(value)),
                other => v.add(other, "is not a known parameter of a timeline"),
            }
        }
        v.into_result()?;
        Ok(params)
    }
}

mod query;

fn item(r: &Row<'_>) -> rusqlite::Result<(TimelineItem, i64)> {
    let rank: i64 = r.get(0)?;
    let id = match r.get::<_, Value>(2)? {
        Value::Integer(n) => n.to_string(),
        Value::Text(s) => s,
        _ => String::new(),
    };
    let item_type = ItemType::from_rank(rank).unwrap_or(ItemType::Activity);
    let (summary, details) = match item_type {
        ItemType::Activity => {
            let kind = ActivityKind::column(r, 4)?;
            let body: String = r.get(5)?;
            (
                format!("{}: {}", kind.label(), excerpt(&body, 120)),
                Details::Activity {
                    kind,
                    body,
                    subject_type: SubjectType::column(r, 6)?,
                    subject_id: r.get(7)?,
                },
            )
        }
        ItemType::StageChange => {
            let from_stage: Option<String> = r.get(4)?;
            let to_stage: String = r.get(5)?;
            let from_label: Option<String> = r.get(7)?;
            let to_label = r.get::<_, Option<String>>(8)?.unwrap_or(to_stage.clone());
            let summary = match from_label.or(from_stage.clone()) {
                Some(from) => format!("Stage changed from {from} to {to_label}"),
                None => format!("Stage set to {to_label}"),
            };
            (
                summary,
                Details::StageChange {
                    lead_id: r.get(6)?,
                    from_stage,
                    to_stage,
                },
            )
        }
        ItemType::AttachmentAdded | ItemType::AttachmentDeleted => {
            let filename: String = r.get(4)?;
            let verb = if item_type == ItemType::AttachmentAdded {
                "uploaded"
            } else {
                "deleted"
            };
            (
                format!("File {verb}: {filename}"),
                Details::Attachment {
                    filename,
                    content_type: r.get(5)?,
                    size: r.get(6)?,
                    entity_type: EntityType::column(r, 7)?,
                    entity_id: r.get(8)?,
                },
            )
        }
        ItemType::TaskCreated | ItemType::TaskCompleted => {
            let title: String = r.get(4)?;
            let verb = if item_type == ItemType::TaskCreated {
                "created"
            } else {
                "completed"
            };
            (
                format!("Task {verb}: {title}"),
                Details::Task {
                    title,
                    status: Status::column(r, 5)?,
                    priority: Priority::column(r, 6)?,
                    due_at: r.get(7)?,
                    assigned_to: r.get(8)?,
                },
            )
        }
    };
    Ok((
        TimelineItem {
            item_type,
            at: r.get(1)?,
            id,
            actor_id: r.get(3)?,
            summary,
            details,
        },
        rank,
    ))
}

/// One page of the timeline of a live customer, contact or lead (404 otherwise).
pub fn page(
    conn: &Connection,
    subject: SubjectType,
    id: &str,
    params: &TimelineParams,
) -> AppResult<Page<TimelineItem>> {
    if !records::is_live(conn, subject.kind(), id)? {
        return Err(AppError::NotFound);
    }
    let (sql, args) = query::page_sql(subject, id, params);
    let mut rows = conn
        .prepare_cached(&sql)?
        .query_map(rusqlite::params_from_iter(args), item)?
        .collect::<Result<Vec<_>, _>>()?;
    let next_cursor = if rows.len() > params.limit as usize {
        rows.truncate(params.limit as usize);
        rows.last().map(|(item, rank)| {
            Position {
                at: item.at.clone(),
                rank: *rank,
                id: item.id.clone(),
            }
            .encode()
        })
    } else {
        None
    };
    Ok(Page {
        items: rows.into_iter().map(|(item, _)| item).collect(),
        next_cursor,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn params_and_cursors() {
        assert_eq!(TimelineParams::parse(&[]).unwrap().limit, DEFAULT_LIMIT);
        let err =
            TimelineParams::parse(&raw(&[("limit", "0"), ("sort", "at"), ("cursor", "junk")]))
                .unwrap_err();
        let fields: Vec<_> = err
            .field_errors()
            .iter()
            .map(|e| e.field.as_str())
            .collect();
        assert_eq!(fields, ["limit", "sort", "cursor"]);
        let p = Position {
            at: "2026-01-01T00:00:00.000Z".into(),
            rank: 2,
            id: "17".into(),
        };
        let parsed = TimelineParams::parse(&raw(&[("cursor", &p.encode())])).unwrap();
        assert_eq!(parsed.after, Some(p));
        // A stage-change cursor must carry an integer id.
        let forged = Position {
            at: "x".into(),
            rank: 2,
            id: "abc".into(),
        };
        assert!(TimelineParams::parse(&raw(&[("cursor", &forged.encode())])).is_err());
    }
}
