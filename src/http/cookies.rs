//! The session cookie: the same JWT as the API's bearer token, HttpOnly and SameSite=Lax.

use actix_web::cookie::time::Duration as CookieDuration;
use actix_web::cookie::{Cookie, SameSite};

use crate::state::AppState;

pub fn session(state: &AppState, token: &str) -> Cookie<'static> {
    let max_age = state.config.token_ttl.as_secs() as i64;
    Cookie::build(state.cookies.session_name(), token.to_owned())
        .path("/")
        .http_only(true)
        .secure(state.cookies.secure)
        .same_site(SameSite::Lax)
        .max_age(CookieDuration::seconds(max_age))
        .finish()
}

pub fn clear_session(state: &AppState) -> Cookie<'static> {
    let mut c = session(state, "");
    c.make_removal();
    c
}

/// The random value anonymous forms (sign-in, setup) bind their CSRF token to.
pub fn presession(state: &AppState, value: &str) -> Cookie<'static> {
    Cookie::build(state.cookies.presession_name(), value.to_owned())
        .path("/")
        .http_only(true)
        .secure(state.cookies.secure)
        .same_site(SameSite::Strict)
        .finish()
}
