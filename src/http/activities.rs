//! `/api/v1/activities`.

use actix_web::http::header;
use actix_web::{HttpResponse, web};

use crate::auth::Credentials;
use crate::domain::activities::{self, Activity, ActivityInput};
use crate::domain::list::{ListParams, Page};
use crate::error::AppResult;
use crate::http::extract::{ApiJson, IfMatch, etag};
use crate::http::problem::Problem;
use crate::state::AppState;

type Query = web::Query<Vec<(String, String)>>;

crate::list_query!(ActivityListQuery, activities::LIST);

/// List live activities, most recent first; usually with `subject_type` and `subject_id`
/// for one record's history.
#[utoipa::path(get, path = "/api/v1/activities", tag = "activities", params(ActivityListQuery),
    responses((status = 200, description = "A page of activities", body = Page<Activity>),
        (status = 400, response = Problem), (status = 401, response = Problem),
        (status = 422, response = Problem)))]
pub async fn list(
    state: web::Data<AppState>,
    credentials: Credentials,
    query: Query,
) -> AppResult<HttpResponse> {
    let params = ListParams::parse(&query, &activities::LIST)?;
    let page = state
        .read_as(&credentials, move |conn, _| activities::list(conn, &params))
        .await?;
    Ok(HttpResponse::Ok().json(page))
}

/// One activity.
#[utoipa::path(get, path = "/api/v1/activities/{id}", tag = "activities", params(("id" = String, Path)),
    responses((status = 200, description = "The activity", body = Activity, headers(("ETag" = String))),
        (status = 401, response = Problem), (status = 404, response = Problem)))]
pub async fn get(
    state: web::Data<AppState>,
    credentials: Credentials,
    id: web::Path<String>,
) -> AppResult<HttpResponse> {
    let activity = state
        .read_as(&credentials, move |conn, _| activities::get(conn, &id))
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header(etag(activity.meta.version))
        .json(activity))
}

/// Log a call, e-mail, meeting or note about a live customer, contact or lead. Every role
/// may.
#[utoipa::path(post, path = "/api/v1/activities", tag = "activities", request_body = ActivityInput,
    responses((status = 201, description = "Created", body = Activity, headers(("Location" = String), ("ETag" = String))),
        (status = 400, response = Problem), (status = 401, response = Problem),
        (status = 403, response = Problem), (status = 413, response = Problem),
        (status = 415, response = Problem), (status = 422, response = Problem)))]
pub async fn create(
    state: web::Data<AppState>,
    credentials: Credentials,
    ApiJson(input): ApiJson<ActivityInput>,
) -> AppResult<HttpResponse> {
    let activity = state
        .write_as(&credentials, move |conn, actor| {
            activities::create(conn, actor, &input)
        })
        .await?;
    Ok(HttpResponse::Created()
        .insert_header((
            header::LOCATION,
            format!("/api/v1/activities/{}", activity.meta.id),
        ))
        .insert_header(etag(activity.meta.version))
        .json(activity))
}

/// Change an activity: only the fields present change. Sales and support may change only
/// activities they logged; managers and admins any.
#[utoipa::path(patch, path = "/api/v1/activities/{id}", tag = "activities", request_body = ActivityInput,
    params(("id" = String, Path), ("If-Match" = Option<String>, Header, description = "The ETag you last saw")),
    responses((status = 200, description = "Updated", body = Activity, headers(("ETag" = String))),
        (status = 400, response = Problem), (status = 401, response = Problem),
        (status = 403, response = Problem), (status = 404, response = Problem),
        (status = 412, response = Problem), (status = 415, response = Problem),
        (status = 422, response = Problem)))]
pub async fn update(
    state: web::Data<AppState>,
    credentials: Credentials,
    id: web::Path<String>,
    IfMatch(expected): IfMatch,
    ApiJson(input): ApiJson<ActivityInput>,
) -> AppResult<HttpResponse> {
    let activity = state
        .write_as(&credentials, move |conn, actor| {
            activities::update(conn, actor, &id, &input, expected)
        })
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header(etag(activity.meta.version))
        .json(activity))
}

/// Move an activity to the trash (its author, a manager or an admin).
#[utoipa::path(delete, path = "/api/v1/activities/{id}", tag = "activities",
    params(("id" = String, Path), ("If-Match" = Option<String>, Header)),
    responses((status = 204, description = "In the trash"),
        (status = 401, response = Problem), (status = 403, response = Problem),
        (status = 404, response = Problem), (status = 412, response = Problem)))]
pub async fn delete(
    state: web::Data<AppState>,
    credentials: Credentials,
    id: web::Path<String>,
    IfMatch(expected): IfMatch,
) -> AppResult<HttpResponse> {
    state
        .write_as(&credentials, move |conn, actor| {
            activities::delete(conn, actor, &id, expected)
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Bring an activity back from the trash (its author, a manager or an admin).
#[utoipa::path(post, path = "/api/v1/activities/{id}/restore", tag = "activities", params(("id" = String, Path)),
    responses((status = 200, description = "Restored", body = Activity, headers(("ETag" = String))),
        (status = 401, response = Problem), (status = 403, response = Problem),
        (status = 404, response = Problem),
        (status = 409, response = Problem)))]
pub async fn restore(
    state: web::Data<AppState>,
    credentials: Credentials,
    id: web::Path<String>,
) -> AppResult<HttpResponse> {
    let activity = state
        .write_as(&credentials, move |conn, actor| {
            activities::restore(conn, actor, &id)
        })
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header(etag(activity.meta.version))
        .json(activity))
}
