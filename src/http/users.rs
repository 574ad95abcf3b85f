//! `/api/v1/users`: admins manage staff accounts.

use actix_web::http::header;
use actix_web::{HttpResponse, web};
use serde::Serialize;

use crate::auth::Credentials;
use crate::auth::password;
use crate::auth::permissions::Capability;
use crate::domain::list::ListParams;
use crate::domain::users::{self, NewUserInput, PasswordChange, User, UserPatch};
use crate::domain::values::Password;
use crate::error::AppResult;
use crate::http::extract::{ApiJson, IfMatch, etag};
use crate::state::AppState;

type Query = web::Query<Vec<(String, String)>>;

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
#[derive(Serialize)]
struct Created {
    #[serde(flatten)]
    user: User,
    #[serde(skip_serializing_if = "Option::is_none")]
    password: Option<String>,
}

pub async fn create(
    state: web::Data<AppState>,
    credentials: Credentials,
    ApiJson(input): ApiJson<NewUserInput>,
) -> AppResult<HttpResponse> {
    state
        .authorize(&credentials, Capability::ManageUsers)
        .await?;
    let mut new_user = input.validate()?;
    let (chosen, generated) = match new_user.password.take() {
        Some(given) => (given, None),
        None => {
            let made = Password::generate();
            (made.clone(), Some(made))
        }
    };
    let hash = password::hash(chosen, state.config.bcrypt_cost).await?;
    let user = state
        .write_as(&credentials, move |conn, actor| {
            actor.require(Capability::ManageUsers)?;
            users::insert(conn, Some(&actor.user_id), &new_user, &hash)
        })
        .await?;
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, format!("/api/v1/users/{}", user.id)))
        .insert_header(etag(user.version))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(Created {
            user,
            password: generated.map(|p| p.expose().to_owned()),
        }))
}

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

#[derive(Serialize)]
struct ResetPassword {
    password: String,
}

/// Sets a generated password and ends all the user's sessions.
pub async fn reset_password(
    state: web::Data<AppState>,
    credentials: Credentials,
    id: web::Path<String>,
) -> AppResult<HttpResponse> {
    state
        .authorize(&credentials, Capability::ManageUsers)
        .await?;
    let new = Password::generate();
    let shown = new.expose().to_owned();
    let hash = password::hash(new, state.config.bcrypt_cost).await?;
    state
        .write_as(&credentials, move |conn, actor| {
            actor.require(Capability::ManageUsers)?;
            users::set_password(
                conn,
                Some(&actor.user_id),
                &id,
                &hash,
                PasswordChange::Reset,
            )
        })
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(ResetPassword { password: shown }))
}
