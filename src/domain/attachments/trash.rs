//! Attachments in the trash: deleted on their own or with their record, restored, purged.

use rusqlite::{Connection, params};

use super::{Attachment, AttachmentAction, EntityType, find, get, require};
use crate::auth::Actor;
use crate::auth::permissions::{Capability, Ownership, RecordAction};
use crate::domain::audit::{self, Entry};
use crate::domain::choice::Choice;
use crate::domain::clock::Timestamp;
use crate::domain::records::{self, Kind, TrashItem};
use crate::error::{AppError, AppResult};

/// Moves an attachment to the trash: its uploader (while they can read the record) or
/// whoever may edit the record. `expected_sha256` is the client's `If-Match`, if any.
pub fn delete(
    conn: &Connection,
    actor: &Actor,
    id: &str,
    expected_sha256: Option<&str>,
) -> AppResult<()> {
    let attachment = get(conn, actor, id)?;
    require(
        conn,
        actor,
        AttachmentAction::Delete,
        attachment.entity_type,
        &attachment.entity_id,
        attachment.created_by.as_deref(),
    )?;
    if expected_sha256.is_some_and(|e| e != attachment.sha256) {
        return Err(AppError::PreconditionFailed);
    }
    let now = Timestamp::now().to_stored();
    conn.prepare_cached(
        "UPDATE attachments SET deleted_at = ?2, deleted_by = ?3, with_record = 0
          WHERE id = ?1 AND deleted_at IS NULL",
    )?
    .execute(params![id, now, actor.user_id])?;
    audit::record(
        conn,
        Entry::new(Some(&actor.user_id), "attachment.delete", "attachment")
            .entity(id)
            .before(&attachment),
    )
}

/// Brings an attachment back from the trash (whoever may delete it). Refused (409) while its
/// record is in the trash: restore the record, which brings back the files trashed with it.
pub fn restore(conn: &Connection, actor: &Actor, id: &str) -> AppResult<Attachment> {
    let attachment = find(conn, id)?
        .filter(|a| a.deleted_at.is_some())
        .ok_or(AppError::NotFound)?;
    let kind = attachment.entity_type.kind();
    if !records::is_live(conn, kind, &attachment.entity_id)? {
        return Err(AppError::Conflict(format!(
            "This file's {} ({}) is in the trash: restore the {} first.",
            kind.name(),
            attachment.entity_id,
            kind.name()
        )));
    }
    require(
        conn,
        actor,
        AttachmentAction::Delete,
        attachment.entity_type,
        &attachment.entity_id,
        attachment.created_by.as_deref(),
    )?;
    conn.prepare_cached(
        "UPDATE attachments SET deleted_at = NULL, deleted_by = NULL, with_record = 0 WHERE id = ?1",
    )?
    .execute([id])?;
    audit::record(
        conn,
        Entry::new(Some(&actor.user_id), "attachment.restore", "attachment").entity(id),
    )?;
    get(conn, actor, id)
}

/// Deletes a trashed attachment and its bytes for good (admins only).
pub fn purge(conn: &Connection, actor: &Actor, id: &str) -> AppResult<()> {
    actor.require(Capability::PurgeTrash)?;
    let attachment = find(conn, id)?.ok_or(AppError::NotFound)?;
    if attachment.deleted_at.is_none() {
        return Err(AppError::Conflict(
            "Only attachments in the trash can be purged; delete it first.".into(),
        ));
    }
    erase(conn, id)?;
    audit::record(
        conn,
        Entry::new(Some(&actor.user_id), "attachment.purge", "attachment")
            .entity(id)
            .before(&attachment),
    )
}

fn erase(conn: &Connection, id: &str) -> AppResult<()> {
    conn.prepare_cached("DELETE FROM attachment_chunks WHERE attachment_id = ?1")?
        .execute([id])?;
    conn.prepare_cached("DELETE FROM attachments WHERE id = ?1")?
        .execute([id])?;
    Ok(())
}

/// A record went to the trash at `at`: its live files go with it.
pub(crate) fn trash_with_record(
    conn: &Connection,
    kind: Kind,
    id: &str,
    actor_id: &str,
    at: &str,
) -> AppResult<()> {
    let Some(t) = EntityType::of(kind) else {
        return Ok(());
    };
    conn.prepare_cached(
        "UPDATE attachments SET deleted_at = ?3, deleted_by = ?4, with_record = 1
          WHERE entity_type = ?1 AND entity_id = ?2 AND deleted_at IS NULL",
    )?
    .execute(params![t.as_str(), id, at, actor_id])?;
    Ok(())
}

/// A record trashed at `deleted_at` came back: so do the files trashed with it (not those
/// deleted on their own before).
pub(crate) fn restore_with_record(
    conn: &Connection,
    kind: Kind,
    id: &str,
    deleted_at: &str,
) -> AppResult<()> {
    let Some(t) = EntityType::of(kind) else {
        return Ok(());
    };
    conn.prepare_cached(
        "UPDATE attachments SET deleted_at = NULL, deleted_by = NULL, with_record = 0
          WHERE entity_type = ?1 AND entity_id = ?2 AND deleted_at = ?3 AND with_record = 1",
    )?
    .execute(params![t.as_str(), id, deleted_at])?;
    Ok(())
}

/// A record is deleted for good: so are all its files and their bytes.
pub(crate) fn erase_with_record(conn: &Connection, kind: Kind, id: &str) -> AppResult<()> {
    let Some(t) = EntityType::of(kind) else {
        return Ok(());
    };
    let ids: Vec<String> = conn
        .prepare_cached("SELECT id FROM attachments WHERE entity_type = ?1 AND entity_id = ?2")?
        .query_map(params![t.as_str(), id], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    for id in ids {
        erase(conn, &id)?;
    }
    Ok(())
}

/// Trashed attachments, most recently deleted first: all of them for those who may delete
/// any record's files (admins, managers), the ones they uploaded for others.
pub fn list_trash(
    conn: &Connection,
    actor: &Actor,
    limit: u32,
    before: Option<(&str, &str)>,
) -> AppResult<Vec<TrashItem>> {
    let everything = actor.may(
        RecordAction::Delete,
        Kind::Customer.record(),
        Ownership::Others,
    ) && actor.may(RecordAction::Delete, Kind::Lead.record(), Ownership::Others);
    let mut clauses = vec!["deleted_at IS NOT NULL".to_owned()];
    let mut args: Vec<&str> = Vec::new();
    if !everything {
        args.push(&actor.user_id);
        clauses.push("created_by = ?1".to_owned());
    }
    if let Some((at, id)) = before {
        args.extend([at, id]);
        let (a, i) = (args.len() - 1, args.len());
        clauses.push(format!(
            "(deleted_at < ?{a} OR (deleted_at = ?{a} AND id < ?{i}))"
        ));
    }
    let sql = format!(
        "SELECT id, filename, deleted_at FROM attachments WHERE {}
          ORDER BY deleted_at DESC, id DESC LIMIT {limit}",
        clauses.join(" AND ")
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(rusqlite::params_from_iter(args), |r| {
        Ok(TrashItem {
            entity: "attachment",
            id: r.get(0)?,
            title: r.get(1)?,
            deleted_at: r.get(2)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}
