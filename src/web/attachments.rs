//! The attachments panel of a record page: the files (download through the API's download,
//! which is built for serving untrusted bytes safely), upload, and delete to the trash.
//!
//! Upload posts the form to `POST /attachments`, which reads it with the API's limits and
//! stores it through `domain::attachments::create`, as `POST /api/v1/attachments` does;
//! with JavaScript, `app.js` posts it to the API with the session's CSRF header instead.

use actix_multipart::Multipart;
use actix_web::{HttpRequest, HttpResponse, web};
use maud::{Markup, html};
use rusqlite::Connection;
use serde::Deserialize;

use crate::auth::Actor;
use crate::domain::attachments::{self, Attachment, EntityType, NewAttachment, Upload};
use crate::domain::choice::Choice;
use crate::domain::list::ListParams;
use crate::error::{AppError, AppResult};
use crate::http::resource;
use crate::state::AppState;
use crate::web::components::{csrf_field, day};
use crate::web::error::{WebError, safe_next};
use crate::web::flash::Flash;
use crate::web::forms::{CsrfForm, see_other};
use crate::web::multipart;
use crate::web::session::Viewer;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(resource("/attachments").post(upload));
}

/// The newest files of a record, for its page.
pub fn load(
    conn: &Connection,
    actor: &Actor,
    entity: EntityType,
    id: &str,
) -> AppResult<Vec<Attachment>> {
    let params = ListParams::parse(&[("limit".to_owned(), "50".to_owned())], &attachments::LIST)?;
    Ok(attachments::list(conn, actor, entity, id, &params)?.items)
}

/// A file size for people: `512 B`, `40 KB`, `3.2 MB`.
pub fn size(bytes: i64) -> String {
    match bytes {
        b if b < 1024 => format!("{b} B"),
        b if b < 1024 * 1024 => format!("{:.0} KB", b as f64 / 1024.0),
        b => format!("{:.1} MB", b as f64 / (1024.0 * 1024.0)),
    }
}

pub fn panel(
    viewer: &Viewer,
    entity: EntityType,
    id: &str,
    files: &[Attachment],
    back: &str,
) -> Markup {
    html! {
        section.card #files aria-labelledby="files-title" {
            h2 #files-title { "Files" }
            @if files.is_empty() { p.muted { "No files yet." } }
            ul.plain.files {
                @for f in files {
                    li {
                        a href=(format!("/api/v1/attachments/{}", f.id)) download=(f.filename) { (f.filename) }
                        span.muted { " · " (size(f.size)) " · " (day(&f.created_at, &viewer.zone)) }
                        form.inline method="post" action=(format!("/attachments/{}/delete", f.id))
                            data-confirm=(format!("Move “{}” to the trash?", f.filename)) {
                            (csrf_field(&viewer.csrf))
                            input type="hidden" name="back" value=(back);
                            button.small type="submit" aria-label=(format!("Delete {}", f.filename)) { "Delete" }
                        }
                    }
                }
            }
            // Posted to the page's own route without JavaScript; app.js sends it to the API
            // (`data-upload`) with the CSRF header instead, and shows a refusal in place.
            form.upload method="post" action="/attachments" enctype="multipart/form-data" data-upload="/api/v1/attachments" {
                (csrf_field(&viewer.csrf))
                input type="hidden" name="back" value=(back);
                input type="hidden" name="entity_type" value=(entity.as_str());
                input type="hidden" name="entity_id" value=(id);
                div.field {
                    label for="f-file" { "Add a file" }
                    input #f-file type="file" name="file" required;
                }
                p.error data-upload-error hidden {}
                button.small type="submit" { "Upload" }
            }
        }
    }
}

#[derive(Deserialize)]
pub struct DeleteForm {
    #[serde(default)]
    back: String,
}

pub async fn delete(
    state: web::Data<AppState>,
    viewer: Viewer,
    id: web::Path<String>,
    CsrfForm(form): CsrfForm<DeleteForm>,
) -> Result<HttpResponse, WebError> {
    let id = id.into_inner();
    state
        .write_as(&viewer.credentials, move |conn, actor| {
            attachments::delete(conn, actor, &id, None)
        })
        .await?;
    Ok(see_other(
        &format!("{}#files", safe_next(Some(&form.back))),
        Flash::Trashed,
    ))
}

/// `POST /attachments`: the panel's form without JavaScript. The file is read with the
/// API's limit (413 past `--max-attachment`) and stored by the same domain function; then
/// back to the record's files.
pub async fn upload(
    req: HttpRequest,
    state: web::Data<AppState>,
    viewer: Viewer,
    form: Multipart,
) -> Result<HttpResponse, WebError> {
    let limit = state.config.max_attachment_bytes;
    let mut received = Upload::new(limit);
    let form = multipart::read(&req, &state, &viewer, form, limit, |chunk| {
        received.push(chunk)
    })
    .await?;
    let file = if form.has_file {
        Some(
            web::block(move || received.finish())
                .await
                .map_err(AppError::internal)?,
        )
    } else {
        None
    };
    let input = NewAttachment {
        entity_type: form.field("entity_type").map(str::to_owned),
        entity_id: form.field("entity_id").map(str::to_owned),
        filename: form.filename.clone(),
        file,
    };
    state
        .write_as(&viewer.credentials, move |conn, actor| {
            attachments::create(conn, actor, input)
        })
        .await?;
    Ok(see_other(
        &format!("{}#files", safe_next(form.field("back"))),
        Flash::FileUploaded,
    ))
}
