//! `/api/v1/auth/*`: sign in, sign out, who am I, change my password.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;

use crate::auth::Credentials;
use crate::auth::login::{self, Attempt};
use crate::domain::{sessions, users};
use crate::error::{AppError, AppResult};
use crate::http::cookies;
use crate::http::extract::{ApiJson, client_addr, user_agent};
use crate::state::AppState;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoginBody {
    email: String,
    password: String,
}

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

pub async fn me(state: web::Data<AppState>, credentials: Credentials) -> AppResult<HttpResponse> {
    let user = state
        .read_as(&credentials, |conn, actor| users::get(conn, &actor.user_id))
        .await?;
    Ok(HttpResponse::Ok().json(user))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PasswordBody {
    current_password: String,
    new_password: String,
}

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
