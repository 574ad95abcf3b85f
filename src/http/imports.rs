//! `POST /api/v1/imports` and the job's status, error CSV, cancellation and commit.
//!
//! The upload is read as it streams in and refused with 413 as soon as it passes
//! `--max-import`; it is parsed on a blocking thread, and the job then runs on a thread of
//! its own, writing through the single writer a chunk at a time.

use std::collections::BTreeMap;

use actix_multipart::Multipart;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use futures_util::StreamExt;
use serde::Deserialize;

use crate::auth::permissions::Capability;
use crate::auth::{Actor, Credentials};
use crate::domain::exports::Entity;
use crate::domain::imports::{self, ImportStatus, OnDuplicate, Request};
use crate::error::{AppError, AppResult, Violations};
use crate::http::extract::OptionalJson;
use crate::http::multipart;
use crate::http::problem::Problem;
use crate::state::AppState;

/// Largest non-file form field (the mapping JSON is the biggest).
const FIELD_LIMIT: usize = 64 * 1024;

/// The multipart form of `POST /imports`, for the API document.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct ImportForm {
    /// customers, contacts, leads, tasks or activities.
    entity: String,
    /// The CSV file.
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
    /// JSON object: column header → field name, or null to leave a column out. Columns not
    /// named keep the suggested field.
    mapping: Option<String>,
    /// skip (default), update or create.
    on_duplicate: Option<String>,
    /// true: validate and suggest a mapping, writing no records.
    dry_run: Option<bool>,
}

/// Import a CSV file (admins and managers).
///
/// Reads the file (UTF-8 with or without BOM, or Windows-1252; comma, semicolon or tab;
/// quoted newlines), suggests which column fills which field from the header names common
/// exports use, takes the user's `mapping` over that, and starts a job: `202` with its
/// status and a `Location` to poll. Rows are validated with the API's rules; a bad row is
/// reported (line, column, message) and the rest go in. Duplicates (customers: domain, else
/// name; contacts: e-mail, else phone digits; any entity: the file's record id seen before)
/// follow `on_duplicate`. Contacts link to, or create, their company's customer by domain or
/// name; leads, tasks and activities link by record id (Rapport's or the source system's)
/// or natural keys, and owners by e-mail. Created, closed, stage-changed and completed
/// dates in the file are kept. `dry_run=true` does all of it and undoes every row: the
/// preview. A job that fails, is cancelled or is interrupted is undone completely.
#[utoipa::path(post, path = "/api/v1/imports", tag = "imports",
    request_body(content = ImportForm, content_type = "multipart/form-data"),
    responses((status = 202, description = "The job, started", body = ImportStatus,
            headers(("Location" = String, description = "/api/v1/imports/{id}"))),
        (status = 400, response = Problem), (status = 401, response = Problem),
        (status = 403, response = Problem), (status = 413, response = Problem),
        (status = 415, response = Problem), (status = 422, response = Problem)))]
pub async fn start(
    state: web::Data<AppState>,
    credentials: Credentials,
    req: HttpRequest,
    multipart: Multipart,
) -> AppResult<HttpResponse> {
    let actor = state.authorize(&credentials, Capability::ImportCsv).await?;
    multipart::require_form(&req)?;
    multipart::refuse_declared_length(&req, state.config.max_import_bytes, 4 * FIELD_LIMIT)?;
    let (request, bytes) = read_form(multipart, state.config.max_import_bytes).await?;
    let prepared = {
        let request = request.clone();
        web::block(move || imports::prepare(&request, bytes))
            .await
            .map_err(AppError::internal)??
    };
    let id = {
        let request = request.clone();
        // `prepared` goes back and forth: the write job needs it, the runner stages it.
        let (id, prepared) = state
            .write_as(&credentials, move |conn, actor| {
                let id = imports::create(conn, actor, &request, &prepared)?;
                Ok((id, prepared))
            })
            .await?;
        spawn_job(state.clone(), id.clone(), actor, Some(prepared));
        id
    };
    accepted(&state, id).await
}

/// A job's progress and outcome (admins and managers): counts, the mapping used, the
/// columns left out, and the first 1,000 row errors.
#[utoipa::path(get, path = "/api/v1/imports/{id}", tag = "imports",
    params(("id" = String, Path, description = "The import job")),
    responses((status = 200, description = "The job", body = ImportStatus),
        (status = 401, response = Problem), (status = 403, response = Problem),
        (status = 404, response = Problem)))]
pub async fn status(
    state: web::Data<AppState>,
    credentials: Credentials,
    id: web::Path<String>,
) -> AppResult<HttpResponse> {
    let id = id.into_inner();
    let status = state
        .read_as(&credentials, move |conn, actor| {
            actor.require(Capability::ImportCsv)?;
            imports::status(conn, &id)
        })
        .await?;
    Ok(HttpResponse::Ok().json(status))
}

/// The rows that had errors, as CSV (admins and managers): the file's columns, then `Line`
/// and `Errors`. Fix them and upload the file again.
#[utoipa::path(get, path = "/api/v1/imports/{id}/errors.csv", tag = "imports",
    params(("id" = String, Path, description = "The import job")),
    responses((status = 200, description = "The rows with errors", content_type = "text/csv; charset=utf-8", body = String),
        (status = 401, response = Problem), (status = 403, response = Problem),
        (status = 404, response = Problem)))]
pub async fn errors_csv(
    state: web::Data<AppState>,
    credentials: Credentials,
    id: web::Path<String>,
) -> AppResult<HttpResponse> {
    let id = id.into_inner();
    let name = format!("import-errors-{id}.csv");
    let body = state
        .read_as(&credentials, move |conn, actor| {
            actor.require(Capability::ImportCsv)?;
            let mut out = Vec::new();
            imports::write_error_csv(conn, &id, &mut out)?;
            Ok(out)
        })
        .await?;
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{name}\""),
        ))
        .body(body))
}

/// Cancel a running job (admins and managers): it stops at its next chunk and undoes
/// everything it wrote (`status` becomes `cancelled`). 409 when it has already ended.
#[utoipa::path(post, path = "/api/v1/imports/{id}/cancel", tag = "imports",
    params(("id" = String, Path, description = "The import job")),
    responses((status = 202, description = "Cancellation requested", body = ImportStatus),
        (status = 401, response = Problem), (status = 403, response = Problem),
        (status = 404, response = Problem), (status = 409, response = Problem)))]
pub async fn cancel(
    state: web::Data<AppState>,
    credentials: Credentials,
    id: web::Path<String>,
) -> AppResult<HttpResponse> {
    let id = id.into_inner();
    let status = state
        .write_as(&credentials, move |conn, actor| {
            imports::cancel(conn, actor, &id)
        })
        .await?;
    Ok(HttpResponse::Accepted().json(status))
}

/// The body of `POST /imports/{id}/commit`.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CommitInput {
    /// Column header → field (or null), over the dry run's mapping.
    #[schema(value_type = Option<Object>)]
    pub mapping: Option<BTreeMap<String, Option<String>>>,
    /// skip, update or create; the dry run's when absent.
    pub on_duplicate: Option<String>,
}

/// Import the rows of a finished dry run (admins and managers), without uploading the file
/// again; the mapping and duplicate policy may change. 409 unless the job is `validated`.
#[utoipa::path(post, path = "/api/v1/imports/{id}/commit", tag = "imports",
    params(("id" = String, Path, description = "A validated dry run")),
    request_body(content = Option<CommitInput>),
    responses((status = 202, description = "The job, started", body = ImportStatus),
        (status = 401, response = Problem), (status = 403, response = Problem),
        (status = 404, response = Problem), (status = 409, response = Problem),
        (status = 422, response = Problem)))]
pub async fn commit(
    state: web::Data<AppState>,
    credentials: Credentials,
    id: web::Path<String>,
    OptionalJson(input): OptionalJson<CommitInput>,
) -> AppResult<HttpResponse> {
    let id = id.into_inner();
    let policy =
        match input.on_duplicate.as_deref() {
            None => None,
            Some(raw) => Some(OnDuplicate::parse(raw).ok_or_else(|| {
                AppError::invalid("on_duplicate", "must be skip, update or create")
            })?),
        };
    let actor = {
        let id = id.clone();
        state
            .write_as(&credentials, move |conn, actor| {
                imports::commit(conn, actor, &id, input.mapping.as_ref(), policy)?;
                Ok(actor.clone())
            })
            .await?
    };
    spawn_job(state.clone(), id.clone(), actor, None);
    accepted(&state, id).await
}

async fn accepted(state: &web::Data<AppState>, id: String) -> AppResult<HttpResponse> {
    let location = format!("/api/v1/imports/{id}");
    let status = state
        .db
        .read(move |conn| imports::status(conn, &id))
        .await?;
    Ok(HttpResponse::Accepted()
        .insert_header((header::LOCATION, location))
        .json(status))
}

/// Runs the job, staging `prepared` first when given, on a thread of its own.
fn spawn_job(
    state: web::Data<AppState>,
    id: String,
    actor: Actor,
    prepared: Option<imports::Prepared>,
) {
    let currency = state.config.base_currency.clone();
    imports::spawn(state.db.clone(), id, actor, currency, prepared);
}

/// Reads the form: the file (413 past `limit` bytes, refused as soon as it passes) and the
/// small fields.
async fn read_form(mut form: Multipart, limit: usize) -> AppResult<(Request, Vec<u8>)> {
    let mut entity = None;
    let mut mapping = None;
    let mut on_duplicate = None;
    let mut dry_run = None;
    let mut file: Option<(String, Vec<u8>)> = None;
    while let Some(field) = form.next().await {
        let mut field = field.map_err(multipart::bad_form)?;
        let name = field.name().unwrap_or_default().to_owned();
        let is_file = name == "file";
        let filename = multipart::filename(&field).unwrap_or_else(|| "upload.csv".to_owned());
        let cap = if is_file { limit } else { FIELD_LIMIT };
        let mut bytes = Vec::new();
        multipart::read_part(&mut field, cap, |chunk| {
            bytes.extend_from_slice(chunk);
            Ok(())
        })
        .await?;
        let text = || String::from_utf8_lossy(&bytes).trim().to_owned();
        match name.as_str() {
            "file" => file = Some((filename, bytes)),
            "entity" => entity = Some(text()),
            "mapping" => mapping = Some(text()),
            "on_duplicate" => on_duplicate = Some(text()),
            "dry_run" => dry_run = Some(text()),
            other => {
                return Err(AppError::invalid(
                    other,
                    "is not a field of this form (entity, file, mapping, on_duplicate, dry_run)",
                ));
            }
        }
    }
    let mut v = Violations::new();
    let entity = match entity.as_deref().map(Entity::parse) {
        Some(Some(e)) => Some(e),
        _ => {
            v.add(
                "entity",
                "must be customers, contacts, leads, tasks or activities",
            );
            None
        }
    };
    let mapping = match mapping.as_deref().filter(|m| !m.is_empty()) {
        None => None,
        Some(raw) => match serde_json::from_str::<BTreeMap<String, Option<String>>>(raw) {
            Ok(m) => Some(m),
            Err(_) => {
                v.add(
                    "mapping",
                    "must be a JSON object of column header to field name (or null)",
                );
                None
            }
        },
    };
    let on_duplicate = match OnDuplicate::parse(on_duplicate.as_deref().unwrap_or("")) {
        Some(p) => p,
        None => {
            v.add("on_duplicate", "must be skip, update or create");
            OnDuplicate::Skip
        }
    };
    let dry_run = match dry_run.as_deref().unwrap_or("false") {
        "true" | "1" | "on" => true,
        "false" | "0" | "" => false,
        _ => {
            v.add("dry_run", "must be true or false");
            false
        }
    };
    if file.is_none() {
        v.add("file", "is required: the CSV file to import");
    }
    v.into_result()?;
    let (filename, bytes) = file.ok_or_else(|| AppError::invalid("file", "is required"))?;
    let entity = entity.ok_or_else(|| AppError::invalid("entity", "is required"))?;
    Ok((
        Request {
            entity,
            filename,
            mapping,
            on_duplicate,
            dry_run,
        },
        bytes,
    ))
}
