//! Form bodies with their CSRF check built in, so a handler cannot forget it.

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, web};
use futures_util::future::LocalBoxFuture;
use serde::de::DeserializeOwned;

use crate::auth::credentials::CsrfCheck;
use crate::auth::{Credentials, csrf};
use crate::domain::clock::{self, Zone};
use crate::error::AppError;
use crate::state::AppState;
use crate::web::error::WebError;

/// Forms are small; anything bigger is not a form we render.
const FORM_LIMIT: usize = 64 * 1024;

/// A form posted by a signed-in user; its token is bound to their session.
pub struct CsrfForm<T>(pub T);

/// A form posted before sign-in (sign-in, first-run setup); its token is bound to the
/// pre-session cookie set when the form was rendered.
pub struct AnonForm<T>(pub T);

enum Binding {
    Session,
    PreSession,
}

fn binding_value(req: &HttpRequest, state: &AppState, binding: &Binding) -> Option<String> {
    match binding {
        Binding::Session => match Credentials::from_request(req, CsrfCheck::Form) {
            Ok(Credentials::Session { session_id, .. }) => Some(session_id),
            _ => None,
        },
        Binding::PreSession => req
            .cookie(state.cookies.presession_name())
            .map(|c| presession_binding(c.value())),
    }
}

/// What an anonymous form's token is computed over.
pub fn presession_binding(cookie_value: &str) -> String {
    format!("pre:{cookie_value}")
}

fn extract<T: DeserializeOwned + 'static>(
    req: &HttpRequest,
    payload: &mut Payload,
    binding: Binding,
) -> LocalBoxFuture<'static, Result<T, WebError>> {
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let is_form = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    let bound = state
        .as_ref()
        .and_then(|s| binding_value(req, s, &binding).map(|b| (b, s.keys.csrf)));
    let body = web::Bytes::from_request(req, payload);
    Box::pin(async move {
        if !is_form {
            return Err(AppError::UnsupportedMediaType {
                expected: "application/x-www-form-urlencoded",
            }
            .into());
        }
        let bytes = body
            .await
            .map_err(|_| AppError::PayloadTooLarge { limit: FORM_LIMIT })?;
        if bytes.len() > FORM_LIMIT {
            return Err(AppError::PayloadTooLarge { limit: FORM_LIMIT }.into());
        }
        let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(&bytes)
            .map_err(|e| AppError::BadRequest(format!("Malformed form: {e}")))?;
        let presented = pairs
            .iter()
            .find(|(k, _)| k == csrf::FIELD)
            .map(|(_, v)| v.as_str())
            .unwrap_or("");
        let (binding, key) = bound.ok_or(WebError::Csrf)?;
        if !csrf::verify(&key, &binding, presented) {
            return Err(WebError::Csrf);
        }
        serde_urlencoded::from_bytes::<T>(&bytes)
            .map_err(|e| AppError::BadRequest(format!("Malformed form: {e}")).into())
    })
}

impl<T: DeserializeOwned + 'static> FromRequest for CsrfForm<T> {
    type Error = WebError;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let fut = extract::<T>(req, payload, Binding::Session);
        Box::pin(async move { fut.await.map(CsrfForm) })
    }
}

impl<T: DeserializeOwned + 'static> FromRequest for AnonForm<T> {
    type Error = WebError;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let fut = extract::<T>(req, payload, Binding::PreSession);
        Box::pin(async move { fut.await.map(AnonForm) })
    }
}

/// A text field as a PATCH-style value: trimmed, and empty meaning "clear it".
pub fn field(raw: &str) -> Option<Option<String>> {
    let t = raw.trim();
    Some((!t.is_empty()).then(|| t.to_owned()))
}

/// Comma-separated tags as typed in one input.
pub fn tags(raw: &str) -> Option<Vec<String>> {
    Some(
        raw.split(',')
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(str::to_owned)
            .collect(),
    )
}

/// After a successful POST: go to `location` and say what happened there.
pub fn see_other(location: &str, flash: crate::web::flash::Flash) -> actix_web::HttpResponse {
    actix_web::HttpResponse::SeeOther()
        .cookie(flash.cookie())
        .insert_header((header::LOCATION, location.to_owned()))
        .finish()
}

/// A date from `<input type="date">` as a due time: noon of that day in the instance's
/// timezone, so a task due "on the 5th" is due on the 5th there (also at UTC+13, where noon
/// UTC is already the next day). Anything else goes to the domain's check as typed.
pub fn due_at(raw: &str, zone: &Zone) -> Option<Option<String>> {
    let t = raw.trim();
    if t.is_empty() {
        return Some(None);
    }
    let noon = clock::parse_day(t)
        .and_then(|day| zone.start_of(day))
        .map(|start| start.plus(std::time::Duration::from_secs(12 * 3600)));
    Some(Some(noon.map_or_else(|| t.to_owned(), |at| at.to_stored())))
}

/// An amount typed in major units (`1200`, `1,200.50`) as minor units; `Err` carries the
/// message for the field.
pub fn amount_cents(raw: &str) -> Result<Option<i64>, &'static str> {
    let t: String = raw
        .trim()
        .chars()
        .filter(|c| *c != ',' && *c != ' ')
        .collect();
    if t.is_empty() {
        return Ok(None);
    }
    let bad = "must be an amount like 1200 or 1200.50";
    let (whole, frac) = t.split_once('.').unwrap_or((t.as_str(), ""));
    if whole.is_empty() || frac.len() > 2 || !whole.chars().all(|c| c.is_ascii_digit()) {
        return Err(bad);
    }
    if !frac.chars().all(|c| c.is_ascii_digit()) {
        return Err(bad);
    }
    let whole: i64 = whole.parse().map_err(|_| bad)?;
    let frac: i64 = format!("{frac:0<2}").parse().map_err(|_| bad)?;
    whole
        .checked_mul(100)
        .and_then(|w| w.checked_add(frac))
        .map(Some)
        .ok_or(bad)
}

/// Why a record form is shown again: the server's field errors, or the version someone else
/// saved since the form was opened.
pub struct Refusal<T> {
    pub errors: Vec<crate::error::FieldError>,
    pub conflict: Option<T>,
}

impl<T> Default for Refusal<T> {
    fn default() -> Self {
        Refusal {
            errors: Vec::new(),
            conflict: None,
        }
    }
}

impl<T> Refusal<T> {
    pub fn invalid(errors: Vec<crate::error::FieldError>) -> Self {
        Refusal {
            errors,
            conflict: None,
        }
    }

    pub fn stale(theirs: T) -> Self {
        Refusal {
            errors: Vec::new(),
            conflict: Some(theirs),
        }
    }

    pub fn status(&self) -> actix_web::http::StatusCode {
        if self.conflict.is_some() {
            actix_web::http::StatusCode::CONFLICT
        } else {
            actix_web::http::StatusCode::UNPROCESSABLE_ENTITY
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_in_major_units() {
        assert_eq!(amount_cents(""), Ok(None));
        assert_eq!(amount_cents("1,200.5"), Ok(Some(120_050)));
        assert_eq!(amount_cents("42"), Ok(Some(4200)));
        assert!(amount_cents("-1").is_err());
        assert!(amount_cents("1.234").is_err());
        assert!(amount_cents("abc").is_err());
    }

    #[test]
    fn fields_and_dates() {
        assert_eq!(field("  x "), Some(Some("x".into())));
        assert_eq!(field("  "), Some(None));
        assert_eq!(
            due_at("2026-12-05", &Zone::utc()),
            Some(Some("2026-12-05T12:00:00.000Z".into()))
        );
        let auckland = Zone::parse("Pacific/Auckland").unwrap();
        assert_eq!(
            due_at("2026-12-05", &auckland),
            Some(Some("2026-12-04T23:00:00.000Z".into())),
            "noon in Auckland (+13) is 23:00 UTC the day before"
        );
        assert_eq!(due_at(" ", &auckland), Some(None));
        assert_eq!(due_at("soon", &auckland), Some(Some("soon".into())));
        assert_eq!(tags("a, b,,"), Some(vec!["a".into(), "b".into()]));
    }
}
