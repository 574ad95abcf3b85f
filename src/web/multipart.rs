//! File uploads from the pages' own forms (`enctype="multipart/form-data"`), which carry
//! their CSRF token as a hidden field like every other form. The token must come before the
//! file (forms put it first), so a forged request is refused before its file is read.

use actix_multipart::Multipart;
use actix_web::HttpRequest;
use futures_util::StreamExt;

use crate::auth::csrf;
use crate::error::{AppError, AppResult};
use crate::http::multipart;
use crate::state::AppState;
use crate::web::error::WebError;
use crate::web::session::Viewer;

/// Largest text field of an upload form.
const FIELD_LIMIT: usize = 64 * 1024;
/// Most text fields an upload form has (ours have a handful).
const MAX_FIELDS: usize = 16;

/// The text fields of an upload form and the file part's name; the file's bytes went to
/// the sink given to [`read`].
#[derive(Debug, Default)]
pub struct Upload {
    pub fields: Vec<(String, String)>,
    pub filename: Option<String>,
    pub has_file: bool,
}

impl Upload {
    pub fn field(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Reads a multipart form posted by `viewer`: 415 unless it is one, 413 when the declared
/// length or the file passes `file_limit`, 403 without the session's CSRF token before
/// the file. The one part named `file` is fed to `sink` as it arrives.
pub async fn read(
    req: &HttpRequest,
    state: &AppState,
    viewer: &Viewer,
    mut form: Multipart,
    file_limit: usize,
    mut sink: impl FnMut(&[u8]) -> AppResult<()>,
) -> Result<Upload, WebError> {
    multipart::require_form(req)?;
    multipart::refuse_declared_length(req, file_limit, 4 * FIELD_LIMIT)?;
    let session = viewer.actor.session_id().unwrap_or_default().to_owned();
    let mut verified = false;
    let mut upload = Upload::default();
    while let Some(field) = form.next().await {
        let mut field = field.map_err(multipart::bad_form)?;
        let name = field.name().unwrap_or_default().to_owned();
        if name == "file" {
            if !verified {
                return Err(WebError::Csrf);
            }
            if upload.has_file {
                return Err(AppError::invalid("file", "send one file per upload").into());
            }
            upload.has_file = true;
            upload.filename = multipart::filename(&field);
            multipart::read_part(&mut field, file_limit, &mut sink).await?;
            continue;
        }
        if upload.fields.len() >= MAX_FIELDS {
            return Err(AppError::BadRequest("The form has too many fields.".into()).into());
        }
        let value = multipart::read_text(&mut field, FIELD_LIMIT).await?;
        if name == csrf::FIELD {
            verified = verified || csrf::verify(&state.keys.csrf, &session, &value);
        } else {
            upload.fields.push((name, value));
        }
    }
    if !verified {
        return Err(WebError::Csrf);
    }
    Ok(upload)
}
