//! `/api/v1/tokens`: a user's personal API tokens.

use actix_web::http::header;
use actix_web::{HttpResponse, web};
use serde::Serialize;

use crate::auth::Credentials;
use crate::domain::tokens::{self, ApiToken, NewToken};
use crate::error::AppResult;
use crate::http::extract::ApiJson;
use crate::state::AppState;

pub async fn list(state: web::Data<AppState>, credentials: Credentials) -> AppResult<HttpResponse> {
    let items = state
        .read_as(&credentials, |conn, actor| {
            tokens::list(conn, &actor.user_id)
        })
        .await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "items": items, "next_cursor": null })))
}

/// The new token with its secret, which is shown this once.
#[derive(Serialize)]
struct Created {
    #[serde(flatten)]
    token: ApiToken,
    secret: String,
}

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
        .json(Created { token, secret }))
}

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
