//! `/api/v1/attachments` and `/api/v1/{customers,contacts,leads,tasks}/{id}/attachments`.
//!
//! Uploads are read as they stream in, refused with 413 before reading when the declared
//! length is already too large and as soon as the file passes `--max-attachment`; the file
//! is held once, in the chunks it is stored as. Downloads stream one stored chunk at a time.

use actix_multipart::Multipart;
use actix_web::body::SizedStream;
use actix_web::http::{StatusCode, header};
use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse, web};
use futures_util::StreamExt;

use crate::auth::Credentials;
use crate::db::Db;
use crate::domain::attachments::{self, Attachment, EntityType, NewAttachment, Upload};
use crate::domain::list::{ListParams, Page};
use crate::error::{AppError, AppResult};
use crate::http::download::{self, ByteRange};
use crate::http::multipart;
use crate::http::problem::Problem;
use crate::state::AppState;

/// Largest non-file field (`entity_type`, `entity_id`).
const FIELD_LIMIT: usize = 1024;
/// What a form may carry besides the file: boundaries, part headers, the small fields.
const FORM_OVERHEAD: usize = 16 * 1024;

/// The multipart form of `POST /attachments`, for the API document.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct AttachmentForm {
    /// customer, contact, lead or task.
    entity_type: String,
    /// A live record of `entity_type` that you may edit.
    entity_id: String,
    /// The file; its part's filename is kept (sanitised), its declared type is ignored.
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
}

/// Attach a file to a customer, contact, lead or task you may edit.
///
/// The filename is kept without any path, control characters or leading dots (at most 255
/// bytes; `file` when nothing is left). The content type is detected from the bytes; the
/// client's is ignored. Files larger than `--max-attachment` (default 25 MiB) are refused
/// with 413, before the body is read when `Content-Length` already says so. Empty files,
/// unknown fields and records that do not exist or are in the trash are a 422.
#[utoipa::path(post, path = "/api/v1/attachments", tag = "attachments",
    request_body(content = AttachmentForm, content_type = "multipart/form-data"),
    responses((status = 201, description = "Stored", body = Attachment,
            headers(("Location" = String, description = "/api/v1/attachments/{id}, the download"),
                ("ETag" = String, description = "The SHA-256, quoted"))),
        (status = 400, response = Problem), (status = 401, response = Problem),
        (status = 403, response = Problem), (status = 413, response = Problem),
        (status = 415, response = Problem), (status = 422, response = Problem)))]
pub async fn upload(
    state: web::Data<AppState>,
    credentials: Credentials,
    req: HttpRequest,
    form: Multipart,
) -> AppResult<HttpResponse> {
    // Nobody unauthenticated gets to make us buffer a file.
    state.read_as(&credentials, |_, _| Ok(())).await?;
    multipart::require_form(&req)?;
    let limit = state.config.max_attachment_bytes;
    multipart::refuse_declared_length(&req, limit, FORM_OVERHEAD)?;
    let input = read_form(form, limit).await?;
    let attachment = state
        .write_as(&credentials, move |conn, actor| {
            attachments::create(conn, actor, input)
        })
        .await?;
    Ok(HttpResponse::Created()
        .insert_header((
            header::LOCATION,
            format!("/api/v1/attachments/{}", attachment.id),
        ))
        .insert_header((header::ETAG, format!("\"{}\"", attachment.sha256)))
        .json(attachment))
}

async fn read_form(mut form: Multipart, limit: usize) -> AppResult<NewAttachment> {
    let mut input = NewAttachment::default();
    while let Some(field) = form.next().await {
        let mut field = field.map_err(multipart::bad_form)?;
        let name = field.name().unwrap_or_default().to_owned();
        match name.as_str() {
            "file" if input.file.is_some() => {
                return Err(AppError::invalid("file", "send one file per upload"));
            }
            "file" => {
                input.filename = multipart::filename(&field);
                let mut upload = Upload::new(limit);
                multipart::read_part(&mut field, limit, |chunk| upload.push(chunk)).await?;
                let received = web::block(move || upload.finish())
                    .await
                    .map_err(AppError::internal)?;
                input.file = Some(received);
            }
            "entity_type" => {
                input.entity_type = Some(multipart::read_text(&mut field, FIELD_LIMIT).await?)
            }
            "entity_id" => {
                input.entity_id = Some(multipart::read_text(&mut field, FIELD_LIMIT).await?)
            }
            other => {
                return Err(AppError::invalid(
                    other,
                    "is not a field of this form (entity_type, entity_id, file)",
                ));
            }
        }
    }
    Ok(input)
}

/// Download a file (whoever may read its record).
///
/// Always `Content-Disposition: attachment`, with the name as an ASCII fallback and
/// RFC 8187-encoded; `X-Content-Type-Options: nosniff` and `Content-Security-Policy:
/// sandbox`. The stored type is sent only for passive types (images, PDF, plain text,
/// archives, office documents, audio, video); HTML, SVG, XML, scripts and anything
/// unrecognised are sent as `application/octet-stream`. `ETag` is the SHA-256. A single
/// `Range: bytes=…` answers 206 (a range past the end 416); several ranges get the whole
/// file.
#[utoipa::path(get, path = "/api/v1/attachments/{id}", tag = "attachments",
    params(("id" = String, Path),
        ("Range" = Option<String>, Header, description = "One byte range: bytes=a-b, bytes=a- or bytes=-n"),
        ("If-Range" = Option<String>, Header, description = "The ETag; a different one gets the whole file"),
        ("If-None-Match" = Option<String>, Header, description = "The ETag you have; 304 when unchanged")),
    responses((status = 200, description = "The file", content_type = "application/octet-stream", body = Vec<u8>,
            headers(("Content-Disposition" = String), ("ETag" = String), ("Accept-Ranges" = String))),
        (status = 206, description = "Part of the file", content_type = "application/octet-stream", body = Vec<u8>,
            headers(("Content-Range" = String))),
        (status = 304, description = "Not modified"),
        (status = 401, response = Problem), (status = 404, response = Problem),
        (status = 416, response = Problem)))]
pub async fn download(
    state: web::Data<AppState>,
    credentials: Credentials,
    id: web::Path<String>,
    req: HttpRequest,
) -> AppResult<HttpResponse> {
    let attachment = state
        .read_as(&credentials, move |conn, actor| {
            attachments::get(conn, actor, &id)
        })
        .await?;
    let etag = format!("\"{}\"", attachment.sha256);
    let header_str = |name| req.headers().get(name).and_then(|v| v.to_str().ok());
    if header_str(header::IF_NONE_MATCH).is_some_and(|v| etag_matches(v, &attachment.sha256)) {
        return Ok(HttpResponse::NotModified()
            .insert_header((header::ETAG, etag))
            .finish());
    }
    let size = attachment.size as u64;
    let range_applies =
        header_str(header::IF_RANGE).is_none_or(|v| etag_matches(v, &attachment.sha256));
    let range = if range_applies {
        download::parse_range(header_str(header::RANGE), size)
    } else {
        ByteRange::Whole
    };
    let (status, start, end) = match range {
        ByteRange::Whole => (StatusCode::OK, 0, size - 1),
        ByteRange::Part { start, end } => (StatusCode::PARTIAL_CONTENT, start, end),
        ByteRange::Unsatisfiable => return Err(AppError::RangeNotSatisfiable { size }),
    };
    let mut res = HttpResponse::build(status);
    res.insert_header((
        header::CONTENT_TYPE,
        attachments::content_type::served(&attachment.content_type).to_owned(),
    ))
    .insert_header((
        header::CONTENT_DISPOSITION,
        download::content_disposition(&attachment.filename),
    ))
    .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
    .insert_header((
        header::CONTENT_SECURITY_POLICY,
        "sandbox; default-src 'none'",
    ))
    .insert_header((header::ETAG, etag))
    .insert_header((header::ACCEPT_RANGES, "bytes"))
    .insert_header((header::CACHE_CONTROL, "private, no-cache"))
    // Sent as stored: compressing would break ranges and the length announced up front.
    .insert_header((header::CONTENT_ENCODING, "identity"));
    if status == StatusCode::PARTIAL_CONTENT {
        res.insert_header((header::CONTENT_RANGE, format!("bytes {start}-{end}/{size}")));
    }
    let stream = chunks(
        state.db.clone(),
        attachment.id,
        attachment.chunk_size as u64,
        start,
        end,
    );
    Ok(res.body(SizedStream::new(end - start + 1, stream)))
}

/// Bytes `start..=end`, one stored chunk per database read, read as the client takes them.
fn chunks(
    db: Db,
    id: String,
    chunk_size: u64,
    start: u64,
    end: u64,
) -> impl futures_util::Stream<Item = Result<Bytes, AppError>> {
    futures_util::stream::try_unfold(start, move |pos| {
        let db = db.clone();
        let id = id.clone();
        async move {
            if pos > end {
                return Ok(None);
            }
            let seq = (pos / chunk_size) as i64;
            let offset = (pos % chunk_size) as usize;
            let data = db
                .read(move |conn| attachments::chunk(conn, &id, seq))
                .await?;
            if data.len() <= offset {
                return Err(AppError::internal(
                    "an attachment chunk is shorter than expected",
                ));
            }
            let take = (data.len() - offset).min((end - pos + 1) as usize);
            let bytes = Bytes::from(data).slice(offset..offset + take);
            Ok(Some((bytes, pos + take as u64)))
        }
    })
}

/// Whether an `If-None-Match`/`If-Range`/`If-Match` value names the file's SHA-256.
fn etag_matches(header: &str, sha256: &str) -> bool {
    header.split(',').any(|tag| {
        let tag = tag.trim();
        tag == "*" || tag.trim_start_matches("W/").trim_matches('"') == sha256
    })
}

crate::list_query!(AttachmentListQuery, attachments::LIST);

async fn list_for(
    state: web::Data<AppState>,
    credentials: Credentials,
    entity_type: EntityType,
    id: String,
    query: web::Query<Vec<(String, String)>>,
) -> AppResult<HttpResponse> {
    let params = ListParams::parse(&query, &attachments::LIST)?;
    let page = state
        .read_as(&credentials, move |conn, actor| {
            attachments::list(conn, actor, entity_type, &id, &params)
        })
        .await?;
    Ok(HttpResponse::Ok().json(page))
}

/// The live files attached to a customer, newest first (whoever may read the customer; `q`
/// matches filenames). 404 when the customer is missing or in the trash.
#[utoipa::path(get, path = "/api/v1/customers/{id}/attachments", tag = "attachments",
    params(("id" = String, Path), AttachmentListQuery),
    responses((status = 200, description = "A page of attachments", body = Page<Attachment>),
        (status = 400, response = Problem), (status = 401, response = Problem),
        (status = 404, response = Problem), (status = 422, response = Problem)))]
pub async fn customer(
    state: web::Data<AppState>,
    credentials: Credentials,
    id: web::Path<String>,
    query: web::Query<Vec<(String, String)>>,
) -> AppResult<HttpResponse> {
    list_for(
        state,
        credentials,
        EntityType::Customer,
        id.into_inner(),
        query,
    )
    .await
}

/// The live files attached to a contact, newest first (whoever may read the contact; `q`
/// matches filenames). 404 when the contact is missing or in the trash.
#[utoipa::path(get, path = "/api/v1/contacts/{id}/attachments", tag = "attachments",
    params(("id" = String, Path), AttachmentListQuery),
    responses((status = 200, description = "A page of attachments", body = Page<Attachment>),
        (status = 400, response = Problem), (status = 401, response = Problem),
        (status = 404, response = Problem), (status = 422, response = Problem)))]
pub async fn contact(
    state: web::Data<AppState>,
    credentials: Credentials,
    id: web::Path<String>,
    query: web::Query<Vec<(String, String)>>,
) -> AppResult<HttpResponse> {
    list_for(
        state,
        credentials,
        EntityType::Contact,
        id.into_inner(),
        query,
    )
    .await
}

/// The live files attached to a lead, newest first (whoever may read the lead; `q`
/// matches filenames). 404 when the lead is missing or in the trash.
#[utoipa::path(get, path = "/api/v1/leads/{id}/attachments", tag = "attachments",
    params(("id" = String, Path), AttachmentListQuery),
    responses((status = 200, description = "A page of attachments", body = Page<Attachment>),
        (status = 400, response = Problem), (status = 401, response = Problem),
        (status = 404, response = Problem), (status = 422, response = Problem)))]
pub async fn lead(
    state: web::Data<AppState>,
    credentials: Credentials,
    id: web::Path<String>,
    query: web::Query<Vec<(String, String)>>,
) -> AppResult<HttpResponse> {
    list_for(state, credentials, EntityType::Lead, id.into_inner(), query).await
}

/// The live files attached to a task, newest first (whoever may read the task; `q`
/// matches filenames). 404 when the task is missing or in the trash.
#[utoipa::path(get, path = "/api/v1/tasks/{id}/attachments", tag = "attachments",
    params(("id" = String, Path), AttachmentListQuery),
    responses((status = 200, description = "A page of attachments", body = Page<Attachment>),
        (status = 400, response = Problem), (status = 401, response = Problem),
        (status = 404, response = Problem), (status = 422, response = Problem)))]
pub async fn task(
    state: web::Data<AppState>,
    credentials: Credentials,
    id: web::Path<String>,
    query: web::Query<Vec<(String, String)>>,
) -> AppResult<HttpResponse> {
    list_for(state, credentials, EntityType::Task, id.into_inner(), query).await
}

/// Move a file to the trash: its uploader (while they may read the record) or whoever may
/// edit the record. `If-Match`, when sent, must be the file's ETag (its SHA-256).
#[utoipa::path(delete, path = "/api/v1/attachments/{id}", tag = "attachments",
    params(("id" = String, Path), ("If-Match" = Option<String>, Header)),
    responses((status = 204, description = "In the trash"),
        (status = 401, response = Problem), (status = 403, response = Problem),
        (status = 404, response = Problem), (status = 412, response = Problem)))]
pub async fn delete(
    state: web::Data<AppState>,
    credentials: Credentials,
    id: web::Path<String>,
    req: HttpRequest,
) -> AppResult<HttpResponse> {
    let expected = req
        .headers()
        .get(header::IF_MATCH)
        .map(|v| v.to_str().unwrap_or("").trim().to_owned())
        .filter(|v| v != "*")
        .map(|v| v.trim_start_matches("W/").trim_matches('"').to_owned());
    state
        .write_as(&credentials, move |conn, actor| {
            attachments::delete(conn, actor, &id, expected.as_deref())
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Bring a file back from the trash (whoever may delete it). 409 while its record is in
/// the trash: restoring the record brings back the files trashed with it.
#[utoipa::path(post, path = "/api/v1/attachments/{id}/restore", tag = "attachments",
    params(("id" = String, Path)),
    responses((status = 200, description = "Restored", body = Attachment),
        (status = 401, response = Problem), (status = 403, response = Problem),
        (status = 404, response = Problem), (status = 409, response = Problem)))]
pub async fn restore(
    state: web::Data<AppState>,
    credentials: Credentials,
    id: web::Path<String>,
) -> AppResult<HttpResponse> {
    let attachment = state
        .write_as(&credentials, move |conn, actor| {
            attachments::restore(conn, actor, &id)
        })
        .await?;
    Ok(HttpResponse::Ok().json(attachment))
}
