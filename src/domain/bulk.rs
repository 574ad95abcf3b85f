//! Actions on a selection of records at once (the lists' bulk actions). A change goes
//! through each record's own update, so its rules, audit entry and notification apply per
//! record; the caller runs the whole selection in one transaction, so a refusal for one
//! record leaves all of them as they were. An export is the list export's, limited to the
//! selection.

use rusqlite::Connection;

use crate::auth::Actor;
use crate::auth::permissions::{self, Capability, Field};
use crate::domain::audit::{self, Entry};
use crate::domain::contacts::{self, ContactInput};
use crate::domain::customers::{self, CustomerInput};
use crate::domain::exports::{Entity, Export, write};
use crate::domain::leads::{self, LeadInput};
use crate::domain::records::Kind;
use crate::domain::tasks::{self, TaskInput};
use crate::error::{AppError, AppResult};

/// The most records one bulk action takes: a list page at its largest.
pub const MAX_SELECTED: usize = 200;

/// The selection as given: at least one id, at most [`MAX_SELECTED`], repeats dropped.
pub fn selection(ids: Vec<String>) -> AppResult<Vec<String>> {
    let mut seen = std::collections::HashSet::new();
    let ids: Vec<String> = ids
        .into_iter()
        .map(|id| id.trim().to_owned())
        .filter(|id| !id.is_empty() && seen.insert(id.clone()))
        .collect();
    match ids.len() {
        0 => Err(AppError::invalid("ids", "select at least one record")),
        n if n > MAX_SELECTED => Err(AppError::invalid(
            "ids",
            format!("select at most {MAX_SELECTED} records at a time"),
        )),
        _ => Ok(ids),
    }
}

/// Gives every record of `ids` to `owner` (an active user): customers' and contacts'
/// `owner_id`, leads' and tasks' `assigned_to`. Needs bulk edit and reassign rights
/// (managers and admins). Returns how many records changed owner.
pub fn assign(
    conn: &Connection,
    actor: &Actor,
    kind: Kind,
    ids: &[String],
    owner: &str,
) -> AppResult<usize> {
    actor.require(Capability::BulkEdit)?;
    actor.require(Capability::Reassign)?;
    let target = Some(owner.to_owned());
    let owner = Some(target.clone());
    let mut changed = 0;
    for id in ids {
        // A record already theirs is left alone: no new version, no empty audit entry.
        let current = match kind {
            Kind::Customer => customers::get(conn, id)?.owner_id,
            Kind::Contact => contacts::get(conn, id)?.owner_id,
            Kind::Lead => leads::get(conn, actor, id)?.assigned_to,
            Kind::Task => tasks::get(conn, id)?.assigned_to,
            Kind::Activity => {
                return Err(AppError::invalid("entity", "activities have no owner"));
            }
        };
        if current == target {
            continue;
        }
        match kind {
            Kind::Customer => {
                let input = CustomerInput {
                    owner_id: owner.clone(),
                    ..CustomerInput::default()
                };
                customers::update(conn, actor, id, &input, None).map(drop)?
            }
            Kind::Contact => {
                let input = ContactInput {
                    owner_id: owner.clone(),
                    ..ContactInput::default()
                };
                contacts::update(conn, actor, id, &input, None).map(drop)?
            }
            Kind::Lead => {
                let input = LeadInput {
                    assigned_to: owner.clone(),
                    ..LeadInput::default()
                };
                leads::update(conn, actor, id, &input, None).map(drop)?
            }
            _ => {
                let input = TaskInput {
                    assigned_to: owner.clone(),
                    ..TaskInput::default()
                };
                tasks::update(conn, actor, id, &input, None).map(drop)?
            }
        }
        changed += 1;
    }
    Ok(changed)
}

/// The CSV of the records `ids` (a list's selection) for `actor`, with the columns and
/// permissions of a whole export (lead values only for roles that see them), audited as
/// `export.<entity>` in the same transaction. Selections are a page at most, so the file
/// is built in memory.
pub fn export(
    conn: &Connection,
    actor: &Actor,
    entity: Entity,
    ids: Vec<String>,
) -> AppResult<(Export, Vec<u8>)> {
    actor.require(Capability::ExportCsv)?;
    let export = Export::selection(entity, ids, permissions::sees(actor.role, Field::LeadValue))?;
    let mut out = Vec::new();
    let rows = write(conn, &export, &mut out)?;
    audit::record(
        conn,
        Entry::new(Some(&actor.user_id), &export.action(), entity.kind().name())
            .after(&export.audit_details(rows, true)),
    )?;
    Ok((export, out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_selection_is_trimmed_deduplicated_and_bounded() {
        let ids = selection(vec![" a ".into(), "b".into(), "a".into(), "".into()]).unwrap();
        assert_eq!(ids, ["a", "b"]);
        assert!(selection(Vec::new()).is_err());
        assert!(selection(vec![String::new()]).is_err());
        let many = (0..=MAX_SELECTED).map(|i| i.to_string()).collect();
        assert!(selection(many).is_err());
    }
}
