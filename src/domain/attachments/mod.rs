//! Files attached to customers, contacts, leads and tasks, kept inside the database: the
//! metadata in `attachments`, the bytes apart in `attachment_chunks`, [`CHUNK_SIZE`] bytes a
//! row. An upload is received into chunk-sized buffers while it is hashed ([`Upload`]), so
//! the file is held in memory once; one write then stores the metadata, the chunks and the
//! audit entry together. Downloads read one chunk per database job ([`chunk`]).
//!
//! Attachments follow their record (`permissions::may_attachment`): they go to the trash
//! with it, come back with it, and are purged with it.

pub mod content_type;
pub mod filename;

use rusqlite::{Connection, OptionalExtension, Row, params};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::auth::Actor;
use crate::auth::permissions::{AttachmentAction, Capability, Ownership, RecordAction};
use crate::domain::audit::{self, Entry};
use crate::domain::choice::Choice;
use crate::domain::clock::Timestamp;
use crate::domain::list::{ListParams, ListSpec, Page};
use crate::domain::new_id;
use crate::domain::records::{self, Kind, TrashItem};
use crate::error::{AppError, AppResult, Violations};

/// Bytes per stored chunk (the last chunk of a file is shorter).
pub const CHUNK_SIZE: usize = 256 * 1024;

/// The kind of record a file is attached to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum EntityType {
    Customer,
    Contact,
    Lead,
    Task,
}

impl Choice for EntityType {
    const ALL: &'static [(Self, &'static str)] = &[
        (Self::Customer, "customer"),
        (Self::Contact, "contact"),
        (Self::Lead, "lead"),
        (Self::Task, "task"),
    ];
}

impl EntityType {
    pub fn kind(self) -> Kind {
        match self {
            Self::Customer => Kind::Customer,
            Self::Contact => Kind::Contact,
            Self::Lead => Kind::Lead,
            Self::Task => Kind::Task,
        }
    }

    pub fn of(kind: Kind) -> Option<EntityType> {
        Self::ALL.iter().map(|(t, _)| *t).find(|t| t.kind() == kind)
    }
}

/// An attachment's metadata.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Attachment {
    pub id: String,
    pub entity_type: EntityType,
    pub entity_id: String,
    /// The uploaded file's name, without any path, control characters or leading dots.
    pub filename: String,
    /// Detected from the bytes; the client's claim is ignored.
    pub content_type: String,
    /// In bytes.
    pub size: i64,
    /// Hex SHA-256 of the bytes; also the download's `ETag`.
    pub sha256: String,
    /// The uploader.
    pub created_by: Option<String>,
    pub created_at: String,
    /// Set while it is in the trash.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deleted_at: Option<String>,
    #[serde(skip)]
    pub chunk_size: i64,
}

const COLUMNS: &str = "id, entity_type, entity_id, filename, content_type, size, sha256, \
                       created_by, created_at, deleted_at, chunk_size";

fn from_row(r: &Row<'_>) -> rusqlite::Result<Attachment> {
    Ok(Attachment {
        id: r.get(0)?,
        entity_type: EntityType::column(r, 1)?,
        entity_id: r.get(2)?,
        filename: r.get(3)?,
        content_type: r.get(4)?,
        size: r.get(5)?,
        sha256: r.get(6)?,
        created_by: r.get(7)?,
        created_at: r.get(8)?,
        deleted_at: r.get(9)?,
        chunk_size: r.get(10)?,
    })
}

/// A file as it streams in: chunk-sized buffers (exactly the rows it will be stored as)
/// and a running SHA-256. Refuses to grow past its limit.
pub struct Upload {
    chunks: Vec<Vec<u8>>,
    hasher: Sha256,
    size: usize,
    limit: usize,
}

impl Upload {
    pub fn new(limit: usize) -> Self {
        Upload {
            chunks: Vec::new(),
            hasher: Sha256::new(),
            size: 0,
            limit,
        }
    }

    /// Appends bytes; 413 as soon as the file would pass the limit.
    pub fn push(&mut self, mut data: &[u8]) -> AppResult<()> {
        if self.size + data.len() > self.limit {
            return Err(AppError::PayloadTooLarge { limit: self.limit });
        }
        self.hasher.update(data);
        self.size += data.len();
        while !data.is_empty() {
            if self.chunks.last().is_none_or(|c| c.len() == CHUNK_SIZE) {
                self.chunks.push(Vec::with_capacity(CHUNK_SIZE));
            }
            let Some(last) = self.chunks.last_mut() else {
                break;
            };
            let n = (CHUNK_SIZE - last.len()).min(data.len());
            last.extend_from_slice(&data[..n]);
            data = &data[n..];
        }
        Ok(())
    }

    pub fn len(&self) -> usize {
        self.size
    }

    pub fn is_empty(&self) -> bool {
        self.size == 0
    }

    /// The digest and the detected type (CPU work: call it off the async workers).
    pub fn finish(self) -> Received {
        let head = self.chunks.first().map(Vec::as_slice).unwrap_or_default();
        let is_text = content_type::is_utf8_text(self.chunks.iter().map(Vec::as_slice));
        Received {
            content_type: content_type::detect(head, is_text),
            sha256: hex::encode(self.hasher.finalize()),
            size: self.size,
            chunks: self.chunks,
        }
    }
}

/// A whole file, ready to store.
pub struct Received {
    pub chunks: Vec<Vec<u8>>,
    pub size: usize,
    pub sha256: String,
    pub content_type: String,
}

/// The fields of `POST /attachments`, as read from the form.
#[derive(Default)]
pub struct NewAttachment {
    pub entity_type: Option<String>,
    pub entity_id: Option<String>,
    /// The file part's filename, as the client sent it.
    pub filename: Option<String>,
    pub file: Option<Received>,
}

fn forbidden(action: AttachmentAction, kind: Kind) -> AppError {
    AppError::Forbidden(match action {
        AttachmentAction::Upload => format!(
            "You may only attach files to {}s you may edit.",
            kind.name()
        ),
        _ => format!(
            "You may only delete files you uploaded or that belong to {}s you may edit.",
            kind.name()
        ),
    })
}

/// 403 unless the actor may do `action` with `attachment` (or, for uploads, with a new file
/// on the record).
fn require(
    conn: &Connection,
    actor: &Actor,
    action: AttachmentAction,
    entity: EntityType,
    entity_id: &str,
    uploader: Option<&str>,
) -> AppResult<()> {
    let kind = entity.kind();
    let parent = records::ownership(conn, kind, entity_id, actor)?;
    let file = Ownership::of(&actor.user_id, None, uploader);
    if actor.may_attachment(action, kind.record(), parent, file) {
        Ok(())
    } else if action == AttachmentAction::Read {
        Err(AppError::NotFound)
    } else {
        Err(forbidden(action, kind))
    }
}

/// Validates the form, checks that the caller may edit the record, and stores the file,
/// its chunks and the audit entry (in the caller's transaction).
pub fn create(conn: &Connection, actor: &Actor, input: NewAttachment) -> AppResult<Attachment> {
    let mut v = Violations::new();
    let entity_type = v.check(EntityType::parse(
        "entity_type",
        input.entity_type.as_deref(),
    ));
    let entity_id = input
        .entity_id
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned);
    match (&entity_type, &entity_id) {
        (_, None) => v.add("entity_id", "is required"),
        (Some(t), Some(id)) => {
            if let Some(e) = records::check_reference(conn, "entity_id", t.kind(), Some(id))? {
                v.push(e);
            }
        }
        (None, Some(_)) => {}
    }
    match &input.file {
        None => v.add("file", "is required: the file to attach"),
        Some(f) if f.size == 0 => v.add("file", "is empty"),
        Some(_) => {}
    }
    v.into_result()?;
    let (Some(entity_type), Some(entity_id), Some(file)) = (entity_type, entity_id, input.file)
    else {
        return Err(AppError::internal("validated form lost a field"));
    };
    require(
        conn,
        actor,
        AttachmentAction::Upload,
        entity_type,
        &entity_id,
        Some(&actor.user_id),
    )?;
    let attachment = Attachment {
        id: new_id(),
        entity_type,
        entity_id,
        filename: filename::sanitize(input.filename.as_deref().unwrap_or("")),
        content_type: file.content_type,
        size: file.size as i64,
        sha256: file.sha256,
        created_by: Some(actor.user_id.clone()),
        created_at: Timestamp::now().to_stored(),
        deleted_at: None,
        chunk_size: CHUNK_SIZE as i64,
    };
    conn.prepare_cached(&format!(
        "INSERT INTO attachments ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)"
    ))?
    .execute(params![
        attachment.id,
        attachment.entity_type.as_str(),
        attachment.entity_id,
        attachment.filename,
        attachment.content_type,
        attachment.size,
        attachment.sha256,
        attachment.created_by,
        attachment.created_at,
        attachment.deleted_at,
        attachment.chunk_size,
    ])?;
    let mut insert = conn.prepare_cached(
        "INSERT INTO attachment_chunks (attachment_id, seq, data) VALUES (?1, ?2, ?3)",
    )?;
    for (seq, data) in file.chunks.iter().enumerate() {
        insert.execute(params![attachment.id, seq as i64, data])?;
    }
    audit::record(
        conn,
        Entry::new(Some(&actor.user_id), "attachment.create", "attachment")
            .entity(&attachment.id)
            .after(&attachment),
    )?;
    Ok(attachment)
}

fn find(conn: &Connection, id: &str) -> AppResult<Option<Attachment>> {
    Ok(conn
        .prepare_cached(&format!("SELECT {COLUMNS} FROM attachments WHERE id = ?1"))?
        .query_row([id], from_row)
        .optional()?)
}

/// A live attachment of a live record that the caller may read; 404 otherwise.
pub fn get(conn: &Connection, actor: &Actor, id: &str) -> AppResult<Attachment> {
    let attachment = find(conn, id)?
        .filter(|a| a.deleted_at.is_none())
        .ok_or(AppError::NotFound)?;
    if !records::is_live(conn, attachment.entity_type.kind(), &attachment.entity_id)? {
        return Err(AppError::NotFound);
    }
    require(
        conn,
        actor,
        AttachmentAction::Read,
        attachment.entity_type,
        &attachment.entity_id,
        attachment.created_by.as_deref(),
    )?;
    Ok(attachment)
}

/// Bytes `[seq * chunk_size, …)` of an attachment: one stored chunk.
pub fn chunk(conn: &Connection, id: &str, seq: i64) -> AppResult<Vec<u8>> {
    conn.prepare_cached("SELECT data FROM attachment_chunks WHERE attachment_id = ?1 AND seq = ?2")?
        .query_row(params![id, seq], |r| r.get(0))
        .optional()?
        .ok_or_else(|| AppError::internal(format!("attachment {id} lacks chunk {seq}")))
}

pub const LIST: ListSpec = ListSpec {
    filters: &[],
    sorts: &[("created_at", "created_at")],
    default_sort: "created_at",
    default_desc: true,
};

/// The live attachments of a live record the caller may read, newest first; `q` matches
/// filenames.
pub fn list(
    conn: &Connection,
    actor: &Actor,
    entity_type: EntityType,
    entity_id: &str,
    params: &ListParams,
) -> AppResult<Page<Attachment>> {
    if !records::is_live(conn, entity_type.kind(), entity_id)? {
        return Err(AppError::NotFound);
    }
    require(
        conn,
        actor,
        AttachmentAction::Read,
        entity_type,
        entity_id,
        None,
    )?;
    let mut q = records::Query::new(params);
    q.clause("entity_type = ?", entity_type.as_str().to_owned())
        .clause("entity_id = ?", entity_id.to_owned())
        .like(&["filename"]);
    let (filter, args) = q.finish()?;
    let sql = format!(
        "SELECT {COLUMNS} FROM attachments WHERE deleted_at IS NULL {filter}
          ORDER BY {order} LIMIT {limit}",
        order = params.order_by(),
        limit = params.limit + 1
    );
    let rows = conn
        .prepare_cached(&sql)?
        .query_map(rusqlite::params_from_iter(args), from_row)?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(params.page(rows, |a| (a.created_at.clone(), a.id.clone())))
}

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

/// For `rapport check`: every attachment's chunks are complete and still hash to its
/// `sha256`, and its record still exists.
pub fn verify(conn: &Connection) -> rusqlite::Result<Vec<String>> {
    let mut problems = Vec::new();
    let attachments: Vec<(String, String, String, i64, String, i64)> = conn
        .prepare("SELECT id, entity_type, entity_id, size, sha256, chunk_size FROM attachments")?
        .query_map([], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
            ))
        })?
        .collect::<Result<_, _>>()?;
    let mut chunks = conn
        .prepare("SELECT seq, data FROM attachment_chunks WHERE attachment_id = ?1 ORDER BY seq")?;
    for (id, entity_type, entity_id, size, sha256, chunk_size) in attachments {
        let mut hasher = Sha256::new();
        let mut total: i64 = 0;
        // Chunks numbered 0, 1, 2… and all full but the last.
        let mut gap = false;
        let mut previous: Option<(i64, i64)> = None;
        let mut rows = chunks.query([&id])?;
        while let Some(row) = rows.next()? {
            let seq: i64 = row.get(0)?;
            let data = row.get_ref(1)?.as_blob()?;
            gap |= match previous {
                None => seq != 0,
                Some((prev_seq, prev_len)) => seq != prev_seq + 1 || prev_len != chunk_size,
            };
            previous = Some((seq, data.len() as i64));
            total += data.len() as i64;
            hasher.update(data);
        }
        let actual = hex::encode(hasher.finalize());
        if total != size || gap {
            problems.push(format!(
                "attachment {id}: {total} bytes in its chunks, {size} expected"
            ));
        } else if actual != sha256 {
            problems.push(format!(
                "attachment {id}: sha256 of its bytes is {actual}, {sha256} expected"
            ));
        }
        let kind = Kind::parse(&entity_type);
        let parent_exists = match kind {
            Some(kind) => conn
                .query_row(
                    &format!("SELECT 1 FROM {} WHERE id = ?1", kind.table()),
                    [&entity_id],
                    |_| Ok(()),
                )
                .optional()?
                .is_some(),
            None => false,
        };
        if !parent_exists {
            problems.push(format!(
                "attachment {id}: its {entity_type} {entity_id} does not exist"
            ));
        }
    }
    Ok(problems)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uploads_fill_whole_chunks_and_stop_at_the_limit() {
        let mut up = Upload::new(CHUNK_SIZE * 2 + 10);
        up.push(&vec![b'a'; CHUNK_SIZE - 1]).unwrap();
        up.push(&[b'b'; 3]).unwrap();
        up.push(&vec![b'c'; CHUNK_SIZE + 8]).unwrap();
        assert_eq!(up.len(), CHUNK_SIZE * 2 + 10);
        assert!(matches!(
            up.push(b"x"),
            Err(AppError::PayloadTooLarge { .. })
        ));
        let got = up.finish();
        let sizes: Vec<usize> = got.chunks.iter().map(Vec::len).collect();
        assert_eq!(sizes, [CHUNK_SIZE, CHUNK_SIZE, 10]);
        assert_eq!(got.content_type, content_type::TEXT);
        let mut whole = vec![b'a'; CHUNK_SIZE - 1];
        whole.extend([b'b'; 3]);
        whole.extend(vec![b'c'; CHUNK_SIZE + 8]);
        assert_eq!(got.sha256, hex::encode(Sha256::digest(&whole)));
    }
}
