//! The import page's way through the same pipeline: the file is staged first, with the
//! suggested mapping and nothing checked, so the user can look at the columns, change
//! them, preview (a dry run over the staged rows) as often as they like, and then import
//! (a commit). A suggestion that leaves a required field without a column is no reason to
//! refuse the upload here: the user picks the column on the page.

use std::collections::BTreeMap;

use rusqlite::{Connection, params};

use super::mapping::Mapping;
use super::{FAILED, ImportStatus, OnDuplicate, Prepared, Request, reader, reset, stage_all};
use crate::auth::Actor;
use crate::db::Db;
use crate::domain::clock::Timestamp;
use crate::error::{AppError, AppResult};

/// What a staged job that nobody has checked yet says (status `validated`, nothing run).
pub const UNCHECKED: &str = "Not checked yet: check the columns, then preview or import.";

/// Staged rows shown under each column, as examples of what it holds.
const SAMPLE_ROWS: i64 = 3;

/// Reads the header of `bytes`, suggests a mapping (possibly incomplete) and counts the
/// rows. Pure CPU work: run it off the async workers.
pub fn prepare(request: &Request, bytes: Vec<u8>) -> AppResult<Prepared> {
    let source = reader::Source::new(bytes)?;
    let mapping = Mapping::suggest(request.entity.kind(), &source.headers);
    let total = source.rows().count();
    Ok(Prepared {
        source,
        mapping,
        total,
    })
}

/// Stages the rows of job `id` (created with [`super::create`] from [`prepare`]) on a
/// thread of its own, then leaves it as a dry run that checked nothing ([`UNCHECKED`]),
/// ready for [`preview`] or [`super::commit`]. A failure undoes the job.
pub fn spawn_staging(db: Db, id: String, prepared: Prepared) {
    let spawned = std::thread::Builder::new()
        .name("import-stage".into())
        .spawn(move || {
            let staged = stage_all(&db, &id, prepared).and_then(|()| {
                let id = id.clone();
                db.write_blocking(move |conn| mark_unchecked(conn, &id))
            });
            if let Err(e) = staged {
                tracing::error!(import = %id, %e, "staging failed; undoing it");
                if let Err(e) = super::undo(&db, &id, "failed", FAILED) {
                    tracing::error!(import = %id, %e, "could not undo a failed staging");
                }
            }
        });
    if let Err(e) = spawned {
        tracing::error!(%e, "cannot start an import thread");
    }
}

fn mark_unchecked(conn: &Connection, id: &str) -> AppResult<()> {
    conn.execute(
        "UPDATE imports SET status = 'validated', message = ?2, finished_at = ?3, runner = NULL
          WHERE id = ?1 AND status = 'staged'",
        params![id, UNCHECKED, Timestamp::now().to_stored()],
    )?;
    Ok(())
}

/// Whether a `validated` job ran its dry run (rather than only being staged).
pub fn checked(status: &ImportStatus) -> bool {
    status.status == "validated" && status.message.as_deref() != Some(UNCHECKED)
}

/// Makes the staged job `id` ready for another dry run with `overrides` over its mapping
/// and the given policy (422 when the mapping cannot work; 409 unless the job is a
/// finished dry run). Run it with [`super::spawn`].
pub fn preview(
    conn: &Connection,
    actor: &Actor,
    id: &str,
    overrides: &BTreeMap<String, Option<String>>,
    on_duplicate: OnDuplicate,
) -> AppResult<()> {
    reset(conn, actor, id, Some(overrides), Some(on_duplicate), true)
}

/// A job's columns in the file's order, with the first few staged rows' cells under them.
#[derive(Debug, Clone)]
pub struct Columns {
    pub headers: Vec<String>,
    /// `samples[row][column]`; short rows are padded with empty cells.
    pub samples: Vec<Vec<String>>,
}

pub fn columns(conn: &Connection, id: &str) -> AppResult<Columns> {
    let headers: String = conn
        .query_row("SELECT headers FROM imports WHERE id = ?1", [id], |r| {
            r.get(0)
        })
        .map_err(|e| match e {
            rusqlite::Error::QueryReturnedNoRows => AppError::NotFound,
            e => e.into(),
        })?;
    let headers: Vec<String> = serde_json::from_str(&headers).map_err(AppError::internal)?;
    let samples = conn
        .prepare_cached(
            "SELECT cells FROM import_rows WHERE import_id = ?1 ORDER BY line LIMIT ?2",
        )?
        .query_map(params![id, SAMPLE_ROWS], |r| r.get::<_, String>(0))?
        .map(|cells| {
            let mut row: Vec<String> = serde_json::from_str(&cells?).unwrap_or_default();
            row.resize(headers.len(), String::new());
            Ok(row)
        })
        .collect::<AppResult<Vec<_>>>()?;
    Ok(Columns { headers, samples })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::exports::Entity;

    #[test]
    fn an_incomplete_suggestion_still_prepares() {
        let request = Request {
            entity: Entity::parse("customers").unwrap(),
            filename: "clients.csv".into(),
            mapping: None,
            on_duplicate: OnDuplicate::Skip,
            dry_run: true,
        };
        // A row of empty cells is a blank line, not a row.
        let file = b"Client,Web Site\nAcme,acme.example\n,\nBeta,beta.example\n".to_vec();
        assert!(super::super::prepare(&request, file.clone()).is_err());
        let prepared = prepare(&request, file).unwrap();
        assert_eq!(prepared.total, 2);
        assert_eq!(prepared.mapping.columns.len(), 2);
        assert_eq!(prepared.mapping.columns[0], None, "nothing suggests Client");
    }
}
