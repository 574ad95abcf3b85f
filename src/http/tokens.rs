//! `/api/v1/tokens`: a user's personal API tokens.

use actix_web::http::header;
use actix_web::{HttpResponse, web};
use serde::Serialize;

use crate::auth::Credentials;
use crate::domain::list::Page;
use crate::domain::tokens::{self, ApiToken, NewToken};
use crate::error::AppResult;
use crate::http::extract::ApiJson;
use crate::http::problem::Problem;
use crate::state::AppState;

/// Your personal API tokens (never their secrets).
#[utoipa::path(get, path = "/api/v1/tokens", tag = "tokens",
    responses((status = 200, description = "Your tokens", body = Page<ApiToken>), (status = 401, response = Problem)))]
pub async fn list(state: web::Data<AppState>, credentials: Credentials) -> AppResult<HttpResponse> {
    let items = state
        .read_as(&credentials, |conn, actor| {
            tokens::list(conn, &actor.user_id)
        })
        .await?;
    Ok(HttpResponse::Ok().json(Page {
        items,
        next_cursor: None,
    }))
}

/// The new token with its secret, which is shown this once.
#[derive(Serialize, utoipa::ToSchema)]
pub struct CreatedToken {
    #[serde(flatten)]
    token: ApiToken,
    secret: String,
}

/// Create a personal API token. `secret` appears only in this answer; at most 50 live
/// tokens per user (409).
#[utoipa::path(post, path = "/api/v1/tokens", tag = "tokens", request_body = NewToken,
    responses((status = 201, description = "Created", body = CreatedToken),
        (status = 400, response = Problem), (status = 401, response = Problem),
        (status = 403, response = Problem), (status = 409, response = Problem),
        (status = 415, response = Problem), (status = 422, response = Problem)))]
pub async fn create(
    state: web::Data<AppState>,
    credentials: Credentials,
    ApiJson(input): ApiJson<NewToken>,
) -> AppResult<HttpResponse> {
    let (token, secret) = state
        .write_as(&credentials, move |conn, actor| {
            tokens::create(conn, &actor.user_id, &input)
        })
        .await?;
    Ok(HttpResponse::Created()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(CreatedToken { token, secret }))
}

/// Revoke one of your tokens; integrations using it stop working at once.
#[utoipa::path(delete, path = "/api/v1/tokens/{id}", tag = "tokens", params(("id" = String, Path)),
    responses((status = 204, description = "Revoked"), (status = 401, response = Problem),
        (status = 403, response = Problem), (status = 404, response = Problem)))]
pub async fn revoke(
    state: web::Data<AppState>,
    credentials: Credentials,
    id: web::Path<String>,
) -> AppResult<HttpResponse> {
    state
        .write_as(&credentials, move |conn, actor| {
            tokens::revoke(conn, &actor.user_id, &id)
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
