//! Reading `multipart/form-data` uploads (imports, attachments) with size limits: 415 when
//! the body is not a form, 413 before reading anything when `Content-Length` already says
//! it is too large, and 413 as soon as a part grows past its limit.

use actix_multipart::Field;
use actix_web::HttpRequest;
use actix_web::http::header;
use futures_util::StreamExt;

use crate::error::{AppError, AppResult};

/// 415 unless the request says it is `multipart/form-data`.
pub fn require_form(req: &HttpRequest) -> AppResult<()> {
    let is_form = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<mime::Mime>().ok())
        .is_some_and(|m| m.type_() == mime::MULTIPART && m.subtype() == mime::FORM_DATA);
    if is_form {
        Ok(())
    } else {
        Err(AppError::UnsupportedMediaType {
            expected: "multipart/form-data",
        })
    }
}

/// 413 when the declared `Content-Length` exceeds `limit` plus `overhead` (the boundaries,
/// part headers and small fields around the file), without reading the body.
pub fn refuse_declared_length(req: &HttpRequest, limit: usize, overhead: usize) -> AppResult<()> {
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    match declared {
        Some(n) if n > limit.saturating_add(overhead) as u64 => {
            Err(AppError::PayloadTooLarge { limit })
        }
        _ => Ok(()),
    }
}

/// Feeds a part's bytes to `sink` as they arrive; 413 as soon as they pass `cap`.
pub async fn read_part(
    field: &mut Field,
    cap: usize,
    mut sink: impl FnMut(&[u8]) -> AppResult<()>,
) -> AppResult<usize> {
    let mut total = 0usize;
    while let Some(chunk) = field.next().await {
        let chunk = chunk.map_err(bad_form)?;
        if total + chunk.len() > cap {
            return Err(AppError::PayloadTooLarge { limit: cap });
        }
        total += chunk.len();
        sink(&chunk)?;
    }
    Ok(total)
}

/// A small text field, trimmed (413 past `cap` bytes).
pub async fn read_text(field: &mut Field, cap: usize) -> AppResult<String> {
    let mut bytes = Vec::new();
    read_part(field, cap, |c| {
        bytes.extend_from_slice(c);
        Ok(())
    })
    .await?;
    Ok(String::from_utf8_lossy(&bytes).trim().to_owned())
}

/// The part's filename as the client sent it, if any: the RFC 8187 `filename*` when given
/// (decoded as UTF-8, replacing what is not), else `filename`.
pub fn filename(field: &Field) -> Option<String> {
    let cd = field.content_disposition()?;
    cd.get_filename_ext()
        .map(|ext| String::from_utf8_lossy(&ext.value).into_owned())
        .or_else(|| cd.get_filename().map(str::to_owned))
}

pub fn bad_form(e: actix_multipart::MultipartError) -> AppError {
    AppError::BadRequest(format!("The multipart form cannot be read: {e}"))
}
