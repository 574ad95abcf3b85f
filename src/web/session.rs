//! The signed-in person behind a page request.

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, web};
use futures_util::future::LocalBoxFuture;

use crate::auth::credentials::CsrfCheck;
use crate::auth::{Actor, Credentials, csrf};
use crate::domain::clock::Zone;
use crate::domain::notifications;
use crate::error::AppError;
use crate::state::AppState;
use crate::web::error::WebError;

/// A page request from a signed-in user, with the CSRF token their forms must carry.
pub struct Viewer {
    pub actor: Actor,
    pub credentials: Credentials,
    pub csrf: String,
    /// Unread notifications, for the bell in the header (kept live by `app.js` over SSE).
    pub unread: i64,
    /// The team's timezone (`--timezone`): pages show days and times as its clocks read.
    pub zone: Zone,
}

impl FromRequest for Viewer {
    type Error = WebError;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let next = req
            .uri()
            .path_and_query()
            .map(|p| p.as_str().to_owned())
            .unwrap_or_default();
        let had_cookie = state
            .as_ref()
            .is_some_and(|s| req.cookie(s.cookies.session_name()).is_some());
        let credentials = Credentials::from_request(req, CsrfCheck::Form);
        Box::pin(async move {
            let sign_in = || WebError::SignIn {
                next: next.clone(),
                ended: had_cookie,
            };
            let state = state.ok_or_else(|| AppError::internal("application state missing"))?;
            let credentials = match credentials {
                Ok(c @ Credentials::Session { .. }) => c,
                _ => return Err(sign_in()),
            };
            let looked_up = state
                .read_as(&credentials, |conn, a| {
                    Ok((a.clone(), notifications::unread_count(conn, &a.user_id)?))
                })
                .await;
            let (actor, unread) = match looked_up {
                Ok(found) => found,
                Err(AppError::Unauthorized) => return Err(sign_in()),
                Err(e) => return Err(e.into()),
            };
            let session_id = actor.session_id().unwrap_or_default().to_owned();
            Ok(Viewer {
                csrf: csrf::token(&state.keys.csrf, &session_id),
                actor,
                credentials,
                unread,
                zone: state.config.timezone.clone(),
            })
        })
    }
}
