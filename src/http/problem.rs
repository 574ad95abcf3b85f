//! The one place errors become HTTP: `AppError` → RFC 9457 problem+json, plus the mapping
//! of actix's own extractor failures and bare error responses (404, 405) into the same shape.

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::ServiceResponse;
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::ErrorHandlerResponse;
use actix_web::{HttpRequest, HttpResponse, ResponseError};
use serde::Serialize;

use crate::error::{AppError, FieldError};

pub const PROBLEM_JSON: &str = "application/problem+json";

/// An RFC 9457 problem. `type` is `urn:rapport:problem:<slug>`; `errors` lists every
/// failing field of a 422.
#[derive(Serialize, utoipa::ToSchema, utoipa::ToResponse)]
#[response(
    description = "RFC 9457 problem details",
    content_type = "application/problem+json"
)]
pub struct Problem {
    #[serde(rename = "type")]
    kind: String,
    title: String,
    status: u16,
    detail: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    errors: Vec<FieldError>,
}

pub fn problem_body(err: &AppError) -> String {
    let problem = Problem {
        kind: format!("urn:rapport:problem:{}", err.slug()),
        title: err.title().to_owned(),
        status: err.status_code(),
        detail: err.detail(),
        errors: err.field_errors().to_vec(),
    };
    serde_json::to_string(&problem).unwrap_or_default()
}

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(AppError::status_code(self))
            .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    fn error_response(&self) -> HttpResponse<BoxBody> {
        log(self);
        let mut res = HttpResponse::build(ResponseError::status_code(self));
        res.insert_header((header::CONTENT_TYPE, PROBLEM_JSON))
            .insert_header((header::CACHE_CONTROL, "no-store"));
        match self {
            AppError::RateLimited { retry_after_secs } => {
                res.insert_header((header::RETRY_AFTER, retry_after_secs.to_string()));
            }
            AppError::RangeNotSatisfiable { size } => {
                res.insert_header((header::CONTENT_RANGE, format!("bytes */{size}")));
            }
            AppError::MethodNotAllowed { allow } if !allow.is_empty() => {
                res.insert_header((header::ALLOW, allow.as_str()));
            }
            AppError::Unauthorized | AppError::InvalidCredentials => {
                res.insert_header((header::WWW_AUTHENTICATE, "Bearer realm=\"rapport\""));
            }
            _ => {}
        }
        res.body(problem_body(self))
    }
}

/// 5xx are bugs: log the cause. Client errors are routine and logged by the access log.
pub fn log(err: &AppError) {
    if err.status_code() >= 500 {
        tracing::error!(error = %err, "request failed");
    }
}

/// A query string its handler's struct cannot take. A missing parameter is a field error like
/// any other; serde names no field for the rest, so its own words are passed on.
pub fn query_error(err: actix_web::error::QueryPayloadError, _: &HttpRequest) -> actix_web::Error {
    let actix_web::error::QueryPayloadError::Deserialize(cause) = &err else {
        return AppError::BadRequest(format!("The query string cannot be read: {err}")).into();
    };
    let cause = cause.to_string();
    match missing_field(&cause) {
        Some(field) => AppError::Validation(vec![FieldError::new(field, "is required")]),
        None => AppError::BadRequest(format!("The query string cannot be read: {cause}")),
    }
    .into()
}

/// The field of serde's "missing field `name`".
fn missing_field(message: &str) -> Option<&str> {
    message.strip_prefix("missing field `")?.strip_suffix('`')
}

/// A path segment that does not parse names no resource.
pub fn path_error(_: actix_web::error::PathError, _: &HttpRequest) -> actix_web::Error {
    AppError::NotFound.into()
}

/// Rewrites error responses that have no body of their own (the router's 404 and 405,
/// actix's 413 before a handler ran) into problem+json for API paths.
pub fn bare_error_to_problem<B: MessageBody + 'static>(
    res: ServiceResponse<B>,
) -> actix_web::Result<ErrorHandlerResponse<B>> {
    let already_shaped = res.headers().contains_key(header::CONTENT_TYPE);
    if already_shaped {
        return Ok(ErrorHandlerResponse::Response(res.map_into_left_body()));
    }
    let err = match res.status() {
        StatusCode::NOT_FOUND => AppError::NotFound,
        StatusCode::METHOD_NOT_ALLOWED => AppError::MethodNotAllowed {
            allow: String::new(),
        },
        StatusCode::PAYLOAD_TOO_LARGE => AppError::PayloadTooLarge { limit: 0 },
        StatusCode::UNSUPPORTED_MEDIA_TYPE => AppError::UnsupportedMediaType {
            expected: "application/json",
        },
        s if s.is_client_error() => {
            AppError::BadRequest(s.canonical_reason().unwrap_or("Bad request").to_owned())
        }
        _ => AppError::internal(format!("bare {} response", res.status())),
    };
    let (req, mut res) = res.into_parts();
    res.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
    let res = res.set_body(problem_body(&err)).map_into_boxed_body();
    Ok(ErrorHandlerResponse::Response(
        ServiceResponse::new(req, res).map_into_right_body(),
    ))
}

#[cfg(test)]
mod tests {
    use super::missing_field;

    #[test]
    fn a_missing_query_parameter_is_named() {
        assert_eq!(missing_field("missing field `entity`"), Some("entity"));
        assert_eq!(missing_field("invalid digit found in string"), None);
        assert_eq!(missing_field("missing field `entity"), None);
    }
}
