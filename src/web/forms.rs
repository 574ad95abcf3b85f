//! Form bodies with their CSRF check built in, so a handler cannot forget it.

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, web};
use futures_util::future::LocalBoxFuture;
use serde::de::DeserializeOwned;

use crate::auth::credentials::CsrfCheck;
use crate::auth::{Credentials, csrf};
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
