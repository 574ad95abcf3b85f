//! Files attached to customers, contacts, leads and tasks, kept inside the database: the
//! metadata in `attachments`, the bytes apart in `attachment_chunks`, [`CHUNK_SIZE`] bytes a
//! row. An upload is received into chunk-sized buffers while it is hashed ([`Upload`]), so
//! the file is held in memory once; one write then stores the metadata, the chunks and the
//! audit entry together. Downloads read one chunk per database job ([`chunk`]).
//!
//! Attachments follow their record (`permissions::may_attachment`): they go to the trash
//! with it, come back with it, and are purged with it.

mod check;
pub mod content_type;
pub mod filename;
mod trash;
mod upload;

pub use check::verify;
pub use trash::{delete, list_trash, purge, restore};
pub(crate) use trash::{erase_with_record, restore_with_record, trash_with_record};
pub use upload::{Received, Upload};

use rusqlite::{Connection, OptionalExtension, Row, params};
use serde::Serialize;

use crate::auth::Actor;
use crate::auth::permissions::{AttachmentAction, Ownership};
use crate::domain::audit::{self, Entry};
use crate::domain::choice::Choice;
use crate::domain::clock::Timestamp;
use crate::domain::list::{ListParams, ListSpec, Page};
use crate::domain::new_id;
use crate::domain::records::{self, Kind};
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
