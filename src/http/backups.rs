//! `/api/v1/admin/backups` (the scheduled snapshots) and `/api/v1/admin/backup` (a fresh
//! one, downloaded). Admins only.

use std::io::Read;

use actix_web::body::SizedStream;
use actix_web::http::header;
use actix_web::web::Bytes;
use actix_web::{HttpResponse, web};

use crate::auth::Credentials;
use crate::auth::permissions::Capability;
use crate::db::backups::{self, Overview};
use crate::domain::audit::{self, Entry};
use crate::error::{AppError, AppResult};
use crate::http::download::content_disposition;
use crate::http::problem::Problem;
use crate::state::AppState;

/// Bytes read from the snapshot per step of the response.
const CHUNK: usize = 256 * 1024;

/// The scheduled snapshots, newest first, with the last success's time, size and age and
/// the last failure (admins only). `scheduled` is false when `serve` runs without
/// `--backup-dir`.
#[utoipa::path(get, path = "/api/v1/admin/backups", tag = "backups",
    responses((status = 200, description = "Snapshots and the schedule's health", body = Overview),
        (status = 401, response = Problem), (status = 403, response = Problem)))]
pub async fn list(state: web::Data<AppState>, credentials: Credentials) -> AppResult<HttpResponse> {
    state
        .authorize(&credentials, Capability::DownloadBackup)
        .await?;
    let schedule = state.config.backups.clone();
    let status = state.backup_status.clone();
    let overview = web::block(move || backups::overview(schedule.as_ref(), &status))
        .await
        .map_err(AppError::internal)?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(overview))
}

/// A fresh, consistent snapshot of the whole database, checked like `rapport check`, as a
/// file download (admins only; audited as `backup.download`). It is made first (in the
/// backup folder, or beside the database) and then streamed, so `Content-Length` is exact.
#[utoipa::path(get, path = "/api/v1/admin/backup", tag = "backups",
    responses(
        (status = 200, description = "The database file", content_type = "application/vnd.sqlite3",
            body = Vec<u8>, headers(("Content-Disposition" = String, description = "attachment; filename=\"rapport-20261122T061500Z.db\""))),
        (status = 401, response = Problem), (status = 403, response = Problem)))]
pub async fn download(
    state: web::Data<AppState>,
    credentials: Credentials,
) -> AppResult<HttpResponse> {
    state
        .write_as(&credentials, |conn, actor| {
            actor.require(Capability::DownloadBackup)?;
            audit::record(
                conn,
                Entry::new(Some(&actor.user_id), "backup.download", "database"),
            )
        })
        .await?;
    let db = state.db.path().to_path_buf();
    let dir = match &state.config.backups {
        Some(schedule) => schedule.dir.clone(),
        None => db
            .parent()
            .map(|p| p.to_path_buf())
            .unwrap_or_else(|| ".".into()),
    };
    let (file, size, name) = web::block(move || backups::fresh(&db, &dir))
        .await
        .map_err(AppError::internal)?
        .map_err(AppError::internal)?;
    Ok(HttpResponse::Ok()
        .content_type("application/vnd.sqlite3")
        .insert_header((header::CONTENT_DISPOSITION, content_disposition(&name)))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        // Sent as is: the length is announced up front.
        .insert_header((header::CONTENT_ENCODING, "identity"))
        .body(SizedStream::new(size, chunks(file))))
}

/// The file, one blocking read per chunk on actix's blocking pool.
fn chunks(file: std::fs::File) -> impl futures_util::Stream<Item = Result<Bytes, AppError>> {
    futures_util::stream::try_unfold(file, |mut file| async move {
        let (file, chunk) = web::block(move || {
            let mut buf = vec![0; CHUNK];
            let n = file.read(&mut buf)?;
            buf.truncate(n);
            Ok::<_, std::io::Error>((file, buf))
        })
        .await
        .map_err(AppError::internal)?
        .map_err(AppError::internal)?;
        Ok((!chunk.is_empty()).then(|| (Bytes::from(chunk), file)))
    })
}
