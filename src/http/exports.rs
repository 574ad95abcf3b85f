//! `GET /api/v1/exports/{entity}.csv`: a whole filtered list as CSV, streamed.
//!
//! The rows are written on a thread of the export's own, with a read-only connection of
//! its own (not one of the reader threads: a slow client paces the stream and would hold a
//! reader meanwhile), in 64 KiB chunks through a channel of four: memory stays flat however
//! many rows there are, and no SQLite call runs on an async worker. The statement is one
//! read transaction, so the file is a consistent snapshot.
//!
//! The audit entry (`export.<entity>`, with the filters, the row count and whether the
//! client received everything) is written when the stream ends, before its last byte is
//! sent, so it records what actually left; a client that hangs up midway is audited with
//! `complete: false`.

use std::io::{self, Write};

use actix_web::http::header;
use actix_web::web::Bytes;
use actix_web::{HttpResponse, web};
use tokio::sync::mpsc;

use crate::auth::Credentials;
use crate::auth::permissions::{self, Capability, Field};
use crate::db::Db;
use crate::domain::audit::{self, Entry};
use crate::domain::exports::{self, Entity, Export};
use crate::domain::reports::day_string;
use crate::error::{AppError, AppResult};
use crate::http::problem::Problem;
use crate::state::AppState;

/// Bytes per chunk of the response body.
const CHUNK: usize = 64 * 1024;
/// Chunks waiting for the client before the export thread waits too.
const CHUNKS_IN_FLIGHT: usize = 4;

type Chunk = Result<Bytes, io::Error>;

/// Export a list as CSV (admins and managers).
///
/// Takes the same filters, `q`, `sort` and `order` as the entity's list (`limit` and
/// `cursor` are refused: the file holds every matching live row), plus `bom=true` to start
/// with a UTF-8 byte-order mark for Excel. The header row comes first; cells are UTF-8,
/// times RFC 3339 UTC as stored, tags joined with `;`; text starting with `=`, `+`, `-`,
/// `@`, tab or CR is prefixed with `'` so spreadsheets do not run it as a formula. Lead
/// `value_cents` is absent for roles that may not see values. If the export fails midway the
/// connection is cut, so a truncated file never looks complete.
#[utoipa::path(get, path = "/api/v1/exports/{entity}.csv", tag = "exports",
    params(
        ("entity" = String, Path, description = "customers, contacts, leads, tasks or activities"),
        ("bom" = Option<bool>, Query, description = "Start with a UTF-8 byte-order mark (for Excel)"),
    ),
    responses(
        (status = 200, description = "The CSV file, streamed", content_type = "text/csv; charset=utf-8",
            body = String, headers(("Content-Disposition" = String, description = "attachment; filename=\"leads-2026-11-22.csv\""))),
        (status = 401, response = Problem), (status = 403, response = Problem),
        (status = 404, response = Problem), (status = 422, response = Problem)))]
pub async fn export(
    state: web::Data<AppState>,
    credentials: Credentials,
    entity: web::Path<String>,
    query: web::Query<Vec<(String, String)>>,
) -> AppResult<HttpResponse> {
    let entity = entity.into_inner();
    let raw = query.into_inner();
    let (export, user_id) = state
        .read_as(&credentials, move |_, actor| {
            let entity = Entity::parse(&entity).ok_or(AppError::NotFound)?;
            actor.require(Capability::ExportCsv)?;
            let sees_value = permissions::sees(actor.role, Field::LeadValue);
            Ok((
                Export::parse(entity, &raw, sees_value)?,
                actor.user_id.clone(),
            ))
        })
        .await?;
    // Named by today in the instance's timezone, as the user's calendar has it.
    let filename = export.filename(&day_string(state.config.timezone.today()));
    let (tx, rx) = mpsc::channel::<Chunk>(CHUNKS_IN_FLIGHT);
    let db = state.db.clone();
    let span = tracing::Span::current();
    std::thread::Builder::new()
        .name("csv-export".into())
        .spawn(move || {
            let _entered = span.enter();
            stream_rows(&db, &export, &user_id, tx);
        })
        .map_err(AppError::internal)?;
    let body = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|chunk| (chunk, rx))
    });
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{filename}\""),
        ))
        .streaming(body))
}

/// Runs on the export thread: writes every row into the channel, audits, then ends the
/// stream (dropping `tx`) or breaks it (sending an error) if the export failed.
fn stream_rows(db: &Db, export: &Export, user_id: &str, tx: mpsc::Sender<Chunk>) {
    let mut out = ChunkSender {
        buf: Vec::with_capacity(CHUNK),
        tx: tx.clone(),
    };
    let mut rows = 0;
    let result = db
        .dedicated_reader()
        .and_then(|conn| exports::write_counted(&conn, export, &mut out, &mut rows))
        .and_then(|()| out.flush().map_err(AppError::internal));
    let details = export.audit_details(rows, result.is_ok());
    let action = export.action();
    let entity_type = export.entity.kind().name();
    let user_id = user_id.to_owned();
    if let Err(err) = db.write_blocking(move |conn| {
        audit::record(
            conn,
            Entry::new(Some(&user_id), &action, entity_type).after(&details),
        )
    }) {
        tracing::error!(%err, "could not audit a CSV export");
    }
    if let Err(err) = result {
        tracing::warn!(%err, rows, "CSV export stopped");
        let _ = tx.blocking_send(Err(io::Error::other("export failed")));
    }
}

/// Collects the CSV in 64 KiB chunks and hands each to the response stream, waiting while
/// the client is behind. A client that went away turns into a broken pipe, which stops the
/// export.
struct ChunkSender {
    buf: Vec<u8>,
    tx: mpsc::Sender<Chunk>,
}

impl ChunkSender {
    fn send(&mut self) -> io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let chunk = std::mem::replace(&mut self.buf, Vec::with_capacity(CHUNK));
        self.tx
            .blocking_send(Ok(Bytes::from(chunk)))
            .map_err(|_| io::Error::new(io::ErrorKind::BrokenPipe, "the client went away"))
    }
}

impl Write for ChunkSender {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.buf.extend_from_slice(data);
        if self.buf.len() >= CHUNK {
            self.send()?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.send()
    }
}
