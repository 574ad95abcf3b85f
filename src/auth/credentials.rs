//! Reading credentials off a request: everything that needs no database. The bearer header
//! wins over the cookie; a cookie-authenticated unsafe request must carry a CSRF token.

use actix_web::dev::Payload;
use actix_web::http::Method;
use actix_web::{FromRequest, HttpRequest, web};
use std::future::{Ready, ready};

use crate::auth::csrf;
use crate::domain::tokens;
use crate::error::AppError;
use crate::state::AppState;

#[derive(Debug, Clone)]
pub enum Credentials {
    Session {
        user_id: String,
        session_id: String,
        via_cookie: bool,
    },
    ApiToken {
        digest: [u8; 32],
    },
}

/// How strictly to treat a cookie on an unsafe request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CsrfCheck {
    /// The `X-CSRF-Token` header must match (JSON API calls from the web app).
    Header,
    /// The caller checks the form's hidden field itself (`web::forms::CsrfForm`).
    Form,
}

impl Credentials {
    pub fn from_request(req: &HttpRequest, csrf_check: CsrfCheck) -> Result<Credentials, AppError> {
        let state = req
            .app_data::<web::Data<AppState>>()
            .ok_or_else(|| AppError::internal("application state missing"))?;
        if let Some(header) = req.headers().get(actix_web::http::header::AUTHORIZATION) {
            let value = header.to_str().map_err(|_| AppError::Unauthorized)?;
            let token = value
                .strip_prefix("Bearer ")
                .or_else(|| value.strip_prefix("bearer "))
                .map(str::trim)
                .ok_or(AppError::Unauthorized)?;
            if token.starts_with(tokens::PREFIX) {
                return Ok(Credentials::ApiToken {
                    digest: tokens::digest(token),
                });
            }
            let claims = state.keys.verify(token).ok_or(AppError::Unauthorized)?;
            return Ok(Credentials::Session {
                user_id: claims.sub,
                session_id: claims.sid,
                via_cookie: false,
            });
        }
        let cookie = req
            .cookie(state.cookies.session_name())
            .ok_or(AppError::Unauthorized)?;
        let claims = state
            .keys
            .verify(cookie.value())
            .ok_or(AppError::Unauthorized)?;
        if csrf_check == CsrfCheck::Header && !is_safe(req.method()) {
            let presented = req
                .headers()
                .get(csrf::HEADER)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            if !csrf::verify(&state.keys.csrf, &claims.sid, presented) {
                return Err(AppError::Forbidden(
                    "Missing or invalid CSRF token: send the page's token in the X-CSRF-Token header.".into(),
                ));
            }
        }
        Ok(Credentials::Session {
            user_id: claims.sub,
            session_id: claims.sid,
            via_cookie: true,
        })
    }

    pub fn via_cookie(&self) -> bool {
        matches!(
            self,
            Credentials::Session {
                via_cookie: true,
                ..
            }
        )
    }
}

pub fn is_safe(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// The JSON API's extractor: bearer token, or cookie plus `X-CSRF-Token` on unsafe methods.
impl FromRequest for Credentials {
    type Error = AppError;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(Credentials::from_request(req, CsrfCheck::Header))
    }
}
