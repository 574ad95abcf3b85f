//! How the web app answers failures: a sign-in redirect, or an error page with the same
//! message the API would give.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpResponse, ResponseError};
use maud::html;

use crate::error::AppError;
use crate::web::flash::Flash;
use crate::web::layout;

#[derive(Debug, thiserror::Error)]
pub enum WebError {
    /// Not signed in, or the session ended: go to the sign-in page and come back after.
    #[error("sign in required")]
    SignIn { next: String, ended: bool },
    #[error("CSRF check failed")]
    Csrf,
    #[error(transparent)]
    App(#[from] AppError),
}

impl ResponseError for WebError {
    fn status_code(&self) -> StatusCode {
        match self {
            WebError::SignIn { .. } => StatusCode::SEE_OTHER,
            WebError::Csrf => StatusCode::FORBIDDEN,
            WebError::App(e) => ResponseError::status_code(e),
        }
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            WebError::SignIn { next, ended } => {
                let mut res = HttpResponse::SeeOther();
                let location = if next.is_empty() || next == "/" {
                    "/login".to_owned()
                } else {
                    format!("/login?next={}", urlencode(next))
                };
                res.insert_header((header::LOCATION, location));
                if *ended {
                    res.cookie(Flash::SessionEnded.cookie());
                }
                res.finish()
            }
            WebError::Csrf => error_page(
                StatusCode::FORBIDDEN,
                "This form has expired",
                "For your safety the form could not be accepted. Go back, reload the page and try again.",
            ),
            WebError::App(e) => {
                crate::http::problem::log(e);
                let status = ResponseError::status_code(e);
                let mut res = error_page(status, e.title(), &e.detail());
                if let AppError::RateLimited { retry_after_secs } = e
                    && let Ok(v) = header::HeaderValue::from_str(&retry_after_secs.to_string())
                {
                    res.headers_mut().insert(header::RETRY_AFTER, v);
                }
                res
            }
        }
    }
}

fn error_page(status: StatusCode, title: &str, detail: &str) -> HttpResponse {
    let body = html! {
        section.card.narrow {
            h1 { (title) }
            p { (detail) }
            p { a href="/" { "Back to Rapport" } }
        }
    };
    HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .body(layout::bare(title, body).into_string())
}

pub fn urlencode(s: &str) -> String {
    serde_urlencoded::to_string([("", s)])
        .map(|encoded| encoded.trim_start_matches('=').to_owned())
        .unwrap_or_default()
}

/// A same-site path to return to after signing in; anything else (other hosts,
/// `//evil.example`, `/\evil`) becomes `/`, so the sign-in page cannot be used as an open
/// redirect.
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n)
            if n.starts_with('/')
                && !n.starts_with("//")
                && !n.starts_with("/\\")
                && !n.chars().any(|c| c.is_control()) =>
        {
            n.to_owned()
        }
        _ => "/".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_is_kept_on_site() {
        assert_eq!(
            safe_next(Some("/profile?tab=tokens")),
            "/profile?tab=tokens"
        );
        for evil in [
            "https://evil.example",
            "//evil.example",
            "/\\evil.example",
            "javascript:alert(1)",
            "/\nx",
        ] {
            assert_eq!(safe_next(Some(evil)), "/", "{evil:?}");
        }
        assert_eq!(safe_next(None), "/");
    }

    #[test]
    fn urlencode_escapes_reserved_characters() {
        assert_eq!(urlencode("/a b?c=d&e"), "%2Fa+b%3Fc%3Dd%26e");
    }
}
