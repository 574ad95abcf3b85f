//! The SQL of a timeline page: one indexed read per source, merged.

use std::cmp::Ordering;

use rusqlite::types::Value;

use super::{ItemType, TimelineParams};
use crate::domain::activities::SubjectType;

/// One source of items: rows of `table` matching `filter`, newest first by `at`.
struct Source {
    item: ItemType,
    table: &'static str,
    at: &'static str,
    actor: &'static str,
    /// Five type-specific columns, read back by [`item`].
    columns: &'static str,
    filter: String,
}

const ACTIVITY_COLUMNS: &str = "kind, body, subject_type, subject_id, NULL";
const STAGE_COLUMNS: &str = "from_stage, to_stage, lead_id,
     (SELECT label FROM stages WHERE key = from_stage),
     (SELECT label FROM stages WHERE key = to_stage)";
const TASK_COLUMNS: &str = "title, status, priority, due_at, assigned_to";
const ATTACHMENT_COLUMNS: &str = "filename, content_type, size, entity_type, entity_id";

/// The upload, and while in the trash the deletion, of the files attached to records of
/// `entity_type` whose id is `ids` (`= ?1` or `IN (…)`).
fn attachment_events(entity_type: &str, ids: &str) -> [Source; 2] {
    let linked = format!("entity_type = '{entity_type}' AND entity_id {ids}");
    [
        Source {
            item: ItemType::AttachmentAdded,
            table: "attachments",
            at: "created_at",
            actor: "created_by",
            columns: ATTACHMENT_COLUMNS,
            filter: linked.clone(),
        },
        Source {
            item: ItemType::AttachmentDeleted,
            table: "attachments",
            at: "deleted_at",
            actor: "deleted_by",
            columns: ATTACHMENT_COLUMNS,
            filter: format!("{linked} AND deleted_at IS NOT NULL"),
        },
    ]
}

fn activities(subject: &str) -> Source {
    Source {
        item: ItemType::Activity,
        table: "activities",
        at: "occurred_at",
        actor: "created_by",
        columns: ACTIVITY_COLUMNS,
        filter: format!("deleted_at IS NULL AND {subject}"),
    }
}

fn stage_changes(leads: &str) -> Source {
    Source {
        item: ItemType::StageChange,
        table: "lead_stage_changes",
        at: "at",
        actor: "actor_id",
        columns: STAGE_COLUMNS,
        filter: leads.to_owned(),
    }
}

/// The creation and completion of the tasks linked by each of `links`. Each link is read
/// through its own index (an `OR` of them would defeat the indexes); a link lists the
/// conditions that leave out tasks an earlier link already found, so none appears twice.
fn task_events(links: &[String]) -> Vec<Source> {
    links
        .iter()
        .flat_map(|linked| {
            [
                Source {
                    item: ItemType::TaskCreated,
                    table: "tasks",
                    at: "created_at",
                    actor: "created_by",
                    columns: TASK_COLUMNS,
                    filter: format!("deleted_at IS NULL AND {linked}"),
                },
                Source {
                    item: ItemType::TaskCompleted,
                    table: "tasks",
                    at: "completed_at",
                    actor: "completed_by",
                    columns: TASK_COLUMNS,
                    filter: format!("deleted_at IS NULL AND completed_at IS NOT NULL AND {linked}"),
                },
            ]
        })
        .collect()
}

/// The sources of a record's timeline; `?1` is the record's id.
fn sources(subject: SubjectType) -> Vec<Source> {
    match subject {
        SubjectType::Customer => {
            let contacts = "SELECT id FROM contacts WHERE customer_id = ?1 AND deleted_at IS NULL";
            let leads = "SELECT id FROM leads WHERE customer_id = ?1 AND deleted_at IS NULL";
            let mut all = vec![
                activities("subject_type = 'customer' AND subject_id = ?1"),
                activities(&format!(
                    "subject_type = 'contact' AND subject_id IN ({contacts})"
                )),
                activities(&format!(
                    "subject_type = 'lead' AND subject_id IN ({leads})"
                )),
                stage_changes(&format!("lead_id IN ({leads})")),
            ];
            all.extend(attachment_events("customer", "= ?1"));
            all.extend(attachment_events("contact", &format!("IN ({contacts})")));
            all.extend(attachment_events("lead", &format!("IN ({leads})")));
            all.extend(task_events(&[
                "customer_id = ?1".to_owned(),
                format!("contact_id IN ({contacts}) AND customer_id IS NOT ?1"),
                format!(
                    "lead_id IN ({leads}) AND customer_id IS NOT ?1
                     AND (contact_id IS NULL OR contact_id NOT IN ({contacts}))"
                ),
            ]));
            all
        }
        SubjectType::Contact => {
            let leads = "SELECT id FROM leads WHERE contact_id = ?1 AND deleted_at IS NULL";
            let mut all = vec![
                activities("subject_type = 'contact' AND subject_id = ?1"),
                activities(&format!(
                    "subject_type = 'lead' AND subject_id IN ({leads})"
                )),
                stage_changes(&format!("lead_id IN ({leads})")),
            ];
            all.extend(attachment_events("contact", "= ?1"));
            all.extend(attachment_events("lead", &format!("IN ({leads})")));
            all.extend(task_events(&[
                "contact_id = ?1".to_owned(),
                format!("lead_id IN ({leads}) AND contact_id IS NOT ?1"),
            ]));
            all
        }
        SubjectType::Lead => {
            let mut all = vec![
                activities("subject_type = 'lead' AND subject_id = ?1"),
                stage_changes("lead_id = ?1"),
            ];
            all.extend(attachment_events("lead", "= ?1"));
            all.extend(task_events(&["lead_id = ?1".to_owned()]));
            all
        }
    }
}

/// The query of one page and its parameters (`?1` the record, `?2`/`?3` the cursor).
pub(super) fn page_sql(
    subject: SubjectType,
    id: &str,
    params: &TimelineParams,
) -> (String, Vec<Value>) {
    let fetch = params.limit + 1;
    let after = params.after.as_ref();
    let branches: Vec<String> = sources(subject)
        .iter()
        .map(|s| {
            let at = s.at;
            // Items after the cursor in (at, rank, id) descending order. The rank is fixed
            // per source, so each condition is a plain range on the source's index.
            let keyset = match after.map(|p| s.item.rank().cmp(&p.rank)) {
                None => String::new(),
                Some(Ordering::Greater) => format!(" AND {at} < ?2"),
                Some(Ordering::Less) => format!(" AND {at} <= ?2"),
                Some(Ordering::Equal) => format!(" AND ({at} < ?2 OR ({at} = ?2 AND id < ?3))"),
            };
            format!(
                "SELECT * FROM (SELECT {rank} AS rank, {at} AS at, id, {actor} AS actor_id, {columns}
                   FROM {table} WHERE {filter}{keyset}
                  ORDER BY {at} DESC, id DESC LIMIT {fetch})",
                rank = s.item.rank(),
                actor = s.actor,
                columns = s.columns,
                table = s.table,
                filter = s.filter,
            )
        })
        .collect();
    let sql = format!(
        "{} ORDER BY at DESC, rank DESC, id DESC LIMIT {fetch}",
        branches.join("\nUNION ALL\n")
    );
    let mut args = vec![Value::Text(id.to_owned())];
    if let Some(p) = after {
        args.push(Value::Text(p.at.clone()));
        // Stage changes have integer ids; the cursor was checked to parse when it names one.
        args.push(match ItemType::from_rank(p.rank) {
            Some(ItemType::StageChange) => Value::Integer(p.id.parse().unwrap_or_default()),
            _ => Value::Text(p.id.clone()),
        });
    }
    (sql, args)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::choice::Choice;
    use crate::domain::tasks::query_plan;
    use crate::domain::timeline::Position;

    /// Every source reads through an index, on the first page and after a cursor of each
    /// item type; nothing scans a table or a whole index.
    #[test]
    fn every_source_uses_an_index() {
        let mut conn = crate::db::connection::open_in_memory().unwrap();
        crate::db::migrations::migrate(&mut conn, "mem").unwrap();
        for subject in SubjectType::ALL.iter().map(|(s, _)| *s) {
            let mut cursors = vec![None];
            for item in ItemType::ALL {
                cursors.push(Some(Position {
                    at: "2026-01-01T00:00:00.000Z".into(),
                    rank: item.rank(),
                    id: "1".into(),
                }));
            }
            for after in cursors {
                let params = TimelineParams { limit: 50, after };
                let (sql, args) = page_sql(subject, "id", &params);
                let plan = query_plan(&conn, &sql, args);
                // Tables are only ever searched by key, never scanned (even through an
                // index); only the merged page itself is.
                for line in &plan {
                    assert!(
                        !line.starts_with("SCAN ") || line.starts_with("SCAN (subquery"),
                        "{subject:?}: {line} in {plan:#?}"
                    );
                }
            }
        }
    }
}
