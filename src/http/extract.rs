//! Request extractors for the JSON API, each failing with a precise `AppError`.

use actix_web::dev::Payload;
use actix_web::error::PayloadError;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, web};
use futures_util::future::LocalBoxFuture;
use serde::de::DeserializeOwned;

use crate::error::{AppError, FieldError};
use crate::state::AppState;

/// A JSON body: 415 unless `application/json`, 413 past the configured limit, 400 when it is
/// not JSON at all, 422 naming the field when the JSON has the wrong shape or types.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned + 'static> FromRequest for ApiJson<T> {
    type Error = AppError;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let is_json = is_json(req);
        let body = read_body(req, payload);
        Box::pin(async move {
            if !is_json {
                return Err(AppError::UnsupportedMediaType {
                    expected: "application/json",
                });
            }
            parse_json(&body.await?).map(ApiJson)
        })
    }
}

/// A JSON body that may be left out, for actions whose options all have defaults: no body
/// (or only whitespace), with or without a content type, or a JSON `null`, is
/// `T::default()`. Any other body follows the rules of [`ApiJson`]. Document it as
/// `request_body(content = Option<T>)`, which OpenAPI renders as "not required, or null".
pub struct OptionalJson<T>(pub T);

impl<T: DeserializeOwned + Default + 'static> FromRequest for OptionalJson<T> {
    type Error = AppError;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let is_json = is_json(req);
        let body = read_body(req, payload);
        Box::pin(async move {
            let bytes = body.await?;
            let content = bytes.trim_ascii();
            if content.is_empty() || (is_json && content == b"null") {
                return Ok(OptionalJson(T::default()));
            }
            if !is_json {
                return Err(AppError::UnsupportedMediaType {
                    expected: "application/json",
                });
            }
            parse_json(&bytes).map(OptionalJson)
        })
    }
}

/// Whether the request says its body is JSON (`application/json` or `+json`).
fn is_json(req: &HttpRequest) -> bool {
    req.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<mime::Mime>().ok())
        .is_some_and(|m| {
            m.type_() == mime::APPLICATION
                && (m.subtype() == mime::JSON || m.suffix() == Some(mime::JSON))
        })
}

/// The whole body, 413 past the configured limit.
fn read_body(
    req: &HttpRequest,
    payload: &mut Payload,
) -> impl Future<Output = Result<web::Bytes, AppError>> + 'static {
    let limit = req
        .app_data::<web::Data<AppState>>()
        .map_or(1024 * 1024, |s| s.config.max_body_bytes);
    let body = web::Bytes::from_request(req, payload);
    async move {
        body.await.map_err(|e| match e.as_error::<PayloadError>() {
            Some(PayloadError::Overflow) => AppError::PayloadTooLarge { limit },
            _ => AppError::BadRequest(format!("Could not read the body: {e}")),
        })
    }
}

/// Parses a request body, which is always a JSON object (serde would otherwise accept an
/// array for a struct, field by position).
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, AppError> {
    let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
    if first.is_some_and(|b| *b != b'{') {
        return Err(AppError::invalid("body", "must be a JSON object"));
    }
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(de).map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner();
        match inner.classify() {
            serde_json::error::Category::Data => {
                let field = if path == "." { "body".to_owned() } else { path };
                AppError::Validation(vec![FieldError::new(field, clean_serde_message(&inner))])
            }
            _ => AppError::BadRequest(format!("The body is not valid JSON: {inner}")),
        }
    })
}

/// serde's messages end with a position that means nothing to a form user.
fn clean_serde_message(err: &serde_json::Error) -> String {
    let msg = err.to_string();
    match msg.find(" at line ") {
        Some(i) => msg[..i].to_owned(),
        None => msg,
    }
}

/// `If-Match: "3"`: the version the client last saw. Absent means "don't check".
pub struct IfMatch(pub Option<i64>);

impl FromRequest for IfMatch {
    type Error = AppError;
    type Future = std::future::Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let value = req
            .headers()
            .get(header::IF_MATCH)
            .map(|v| v.to_str().unwrap_or("").trim().to_owned());
        std::future::ready(Ok(IfMatch(match value.as_deref() {
            None | Some("*") => None,
            // Anything unparseable can never equal a version: it answers 412.
            Some(v) => Some(
                v.trim_start_matches("W/")
                    .trim_matches('"')
                    .parse::<i64>()
                    .unwrap_or(-1),
            ),
        })))
    }
}

/// The `ETag` for a record at `version`.
pub fn etag(version: i64) -> (header::HeaderName, String) {
    (header::ETAG, format!("\"{version}\""))
}

/// The client's address as rate limits see it.
pub fn client_addr(req: &HttpRequest) -> Option<std::net::IpAddr> {
    let trusted = req
        .app_data::<web::Data<AppState>>()
        .map(|s| s.config.trusted_proxies.as_slice())
        .unwrap_or(&[]);
    let forwarded = req
        .headers()
        .get("x-forwarded-for")
        .and_then(|v| v.to_str().ok());
    crate::auth::client_addr::resolve(req.peer_addr().map(|a| a.ip()), forwarded, trusted)
}

pub fn user_agent(req: &HttpRequest) -> Option<String> {
    req.headers()
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Body {
        name: String,
        age: u32,
    }

    #[test]
    fn syntax_errors_are_400_and_shape_errors_are_422_with_the_field() {
        assert!(matches!(
            parse_json::<Body>(b"{\"name\":"),
            Err(AppError::BadRequest(_))
        ));
        assert!(matches!(
            parse_json::<Body>(b""),
            Err(AppError::BadRequest(_))
        ));
        let err = parse_json::<Body>(br#"{"name":"a","age":"old"}"#).unwrap_err();
        assert_eq!(err.field_errors()[0].field, "age");
        assert!(!err.field_errors()[0].message.contains("line"));
        let err = parse_json::<Body>(br#"{"name":"a","age":1,"admin":true}"#).unwrap_err();
        assert!(err.field_errors()[0].message.contains("unknown field"));
        let err = parse_json::<Body>(br#"["a", 1]"#).unwrap_err();
        assert_eq!(err.status_code(), 422);
        assert_eq!(err.field_errors()[0].field, "body");
    }
}
