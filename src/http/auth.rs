//! `/api/v1/auth/*`: sign in, sign out, who am I, change my password.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;

use crate::auth::Credentials;
use crate::auth::login::{self, Attempt, SignedIn};
use crate::domain::users::User;
use crate::domain::{sessions, users};
use crate::error::{AppError, AppResult};
use crate::http::cookies;
use crate::http::extract::{ApiJson, client_addr, user_agent};
use crate::http::problem::Problem;
use crate::state::AppState;

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginBody {
    email: String,
    password: String,
}

/// Sign in. Rate limited per client address (a burst of 10, then one a second) and to 100
/// failures an hour per account and address. An unknown e-mail and a wrong password get the
/// same 401.
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth", security(()), request_body = LoginBody,
    responses(
        (status = 200, description = "Signed in", body = SignedIn),
        (status = 400, response = Problem), (status = 401, response = Problem),
        (status = 415, response = Problem), (status = 422, response = Problem),
        (status = 429, description = "Too many attempts; see Retry-After", body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
    ))]
pub async fn login(
    state: web::Data<AppState>,
    req: HttpRequest,
    ApiJson(body): ApiJson<LoginBody>,
) -> AppResult<HttpResponse> {
    let signed_in = login::login(
        &state,
        Attempt {
            email: body.email,
            password: body.password,
            client: client_addr(&req),
            user_agent: user_agent(&req),
        },
    )
    .await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(signed_in))
}

/// End the session this JWT names. Personal API tokens are revoked with
/// `DELETE /api/v1/tokens/{id}` instead (400 here).
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth",
    responses((status = 204, description = "Signed out"), (status = 400, response = Problem),
        (status = 401, response = Problem), (status = 403, response = Problem)))]
pub async fn logout(
    state: web::Data<AppState>,
    credentials: Credentials,
) -> AppResult<HttpResponse> {
    state
        .write_as(&credentials, |conn, actor| match actor.session_id() {
            Some(id) => sessions::revoke(conn, id),
            None => Err(AppError::BadRequest(
                "API tokens are not sessions: revoke one with DELETE /api/v1/tokens/{id}.".into(),
            )),
        })
        .await?;
    let mut res = HttpResponse::NoContent();
    if credentials.via_cookie() {
        res.cookie(cookies::clear_session(&state));
    }
    Ok(res.finish())
}

/// The signed-in user.
#[utoipa::path(get, path = "/api/v1/auth/me", tag = "auth",
    responses((status = 200, description = "You", body = User), (status = 401, response = Problem)))]
pub async fn me(state: web::Data<AppState>, credentials: Credentials) -> AppResult<HttpResponse> {
    let user = state
        .read_as(&credentials, |conn, actor| users::get(conn, &actor.user_id))
        .await?;
    Ok(HttpResponse::Ok().json(user))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordBody {
    current_password: String,
    /// 8–64 characters, at most 72 bytes.
    new_password: String,
}

/// Change your password. Every session of yours ends, including this one; the answer carries
/// a fresh session for this client.
#[utoipa::path(post, path = "/api/v1/auth/password", tag = "auth", request_body = PasswordBody,
    responses((status = 200, description = "Changed; a new session", body = SignedIn),
        (status = 400, response = Problem), (status = 401, response = Problem),
        (status = 403, response = Problem), (status = 415, response = Problem),
        (status = 422, response = Problem)))]
pub async fn change_password(
    state: web::Data<AppState>,
    req: HttpRequest,
    credentials: Credentials,
    ApiJson(body): ApiJson<PasswordBody>,
) -> AppResult<HttpResponse> {
    let signed_in = login::change_password(
        &state,
        &credentials,
        body.current_password,
        &body.new_password,
        client_addr(&req),
        user_agent(&req),
    )
    .await?;
    let mut res = HttpResponse::Ok();
    res.insert_header((header::CACHE_CONTROL, "no-store"));
    if credentials.via_cookie() {
        res.cookie(cookies::session(&state, &signed_in.token));
    }
    Ok(res.json(signed_in))
}
