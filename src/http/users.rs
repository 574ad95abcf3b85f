//! `/api/v1/users`: admins manage staff accounts.

use actix_web::http::header;
use actix_web::{HttpResponse, web};
use serde::Serialize;

use crate::auth::permissions::Capability;
use crate::auth::{Credentials, accounts};
use crate::domain::list::{ListParams, Page};
use crate::domain::users::{self, NewUserInput, User, UserPatch};
use crate::error::AppResult;
use crate::http::extract::{ApiJson, IfMatch, etag};
use crate::http::problem::Problem;
use crate::state::AppState;

type Query = web::Query<Vec<(String, String)>>;

crate::list_query!(UserListQuery, users::LIST);

/// List users (admins only).
#[utoipa::path(get, path = "/api/v1/users", tag = "users", params(UserListQuery),
    responses((status = 200, description = "A page of users", body = Page<User>),
        (status = 400, response = Problem), (status = 401, response = Problem),
        (status = 403, response = Problem), (status = 422, response = Problem)))]
pub async fn list(
    state: web::Data<AppState>,
    credentials: Credentials,
    query: Query,
) -> AppResult<HttpResponse> {
    let params = ListParams::parse(&query, &users::LIST)?;
    let page = state
        .read_as(&credentials, move |conn, actor| {
            actor.require(Capability::ManageUsers)?;
            users::list(conn, &params)
        })
        .await?;
    Ok(HttpResponse::Ok().json(page))
}

/// One user (admins only).
#[utoipa::path(get, path = "/api/v1/users/{id}", tag = "users", params(("id" = String, Path)),
    responses((status = 200, description = "The user", body = User, headers(("ETag" = String))),
        (status = 401, response = Problem), (status = 403, response = Problem),
        (status = 404, response = Problem)))]
pub async fn get(
    state: web::Data<AppState>,
    credentials: Credentials,
    id: web::Path<String>,
) -> AppResult<HttpResponse> {
    let user = state
        .read_as(&credentials, move |conn, actor| {
            actor.require(Capability::ManageUsers)?;
            users::get(conn, &id)
        })
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header(etag(user.version))
        .json(user))
}

/// A created user, with the generated password when the request named none. It is shown
/// this once and stored only as a bcrypt hash.
#[derive(Serialize, utoipa::ToSchema)]
pub struct CreatedUser {
    #[serde(flatten)]
    user: User,
    /// The generated password, only when the request had none.
    #[serde(skip_serializing_if = "Option::is_none")]
    password: Option<String>,
}

/// Create a user (admins only). Without `password` one is generated and returned once.
#[utoipa::path(post, path = "/api/v1/users", tag = "users", request_body = NewUserInput,
    responses((status = 201, description = "Created", body = CreatedUser, headers(("Location" = String), ("ETag" = String))),
        (status = 400, response = Problem), (status = 401, response = Problem),
        (status = 403, response = Problem), (status = 415, response = Problem),
        (status = 422, response = Problem)))]
pub async fn create(
    state: web::Data<AppState>,
    credentials: Credentials,
    ApiJson(input): ApiJson<NewUserInput>,
) -> AppResult<HttpResponse> {
    let accounts::Created { user, generated } =
        accounts::create_user(&state, &credentials, &input).await?;
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, format!("/api/v1/users/{}", user.id)))
        .insert_header(etag(user.version))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(CreatedUser {
            user,
            password: generated,
        }))
}

/// Change a user's e-mail, name, role or active flag (admins only). Deactivating ends their
/// sessions and disables their API tokens. The last active admin cannot be demoted or
/// deactivated, and nobody can deactivate their own account (409). Send `If-Match` with the ETag to refuse stale edits (412).
#[utoipa::path(patch, path = "/api/v1/users/{id}", tag = "users", request_body = UserPatch,
    params(("id" = String, Path), ("If-Match" = Option<String>, Header, description = "The ETag you last saw")),
    responses((status = 200, description = "Updated", body = User, headers(("ETag" = String))),
        (status = 400, response = Problem), (status = 401, response = Problem),
        (status = 403, response = Problem), (status = 404, response = Problem),
        (status = 409, response = Problem), (status = 412, response = Problem),
        (status = 415, response = Problem), (status = 422, response = Problem)))]
pub async fn update(
    state: web::Data<AppState>,
    credentials: Credentials,
    id: web::Path<String>,
    IfMatch(expected): IfMatch,
    ApiJson(patch): ApiJson<UserPatch>,
) -> AppResult<HttpResponse> {
    let user = state
        .write_as(&credentials, move |conn, actor| {
            actor.require(Capability::ManageUsers)?;
            users::update(conn, &actor.user_id, &id, &patch, expected)
        })
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header(etag(user.version))
        .json(user))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ResetPassword {
    password: String,
}

/// Set a generated password, returned once, and end all the user's sessions (admins only).
#[utoipa::path(post, path = "/api/v1/users/{id}/reset-password", tag = "users", params(("id" = String, Path)),
    responses((status = 200, description = "The new password", body = ResetPassword),
        (status = 401, response = Problem), (status = 403, response = Problem),
        (status = 404, response = Problem)))]
pub async fn reset_password(
    state: web::Data<AppState>,
    credentials: Credentials,
    id: web::Path<String>,
) -> AppResult<HttpResponse> {
    let shown = accounts::reset_password(&state, &credentials, id.into_inner()).await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(ResetPassword { password: shown }))
}
