//! `/api/v1/{customers,contacts,leads}/{id}/timeline`.

use actix_web::{HttpResponse, web};

use crate::auth::Credentials;
use crate::domain::activities::SubjectType;
use crate::domain::list::Page;
use crate::domain::timeline::{self, TimelineItem, TimelineParams};
use crate::error::AppResult;
use crate::http::problem::Problem;
use crate::state::AppState;

type Query = web::Query<Vec<(String, String)>>;

/// The query parameters of a timeline (documentation only; parsing is
/// [`TimelineParams::parse`], which refuses anything else with a 422).
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct TimelineQuery {
    /// Page size, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    limit: Option<u32>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
}

async fn respond(
    state: web::Data<AppState>,
    credentials: Credentials,
    subject: SubjectType,
    id: String,
    query: Query,
) -> AppResult<HttpResponse> {
    let params = TimelineParams::parse(&query)?;
    let page = state
        .read_as(&credentials, move |conn, _| {
            timeline::page(conn, subject, &id, &params)
        })
        .await?;
    Ok(HttpResponse::Ok().json(page))
}

/// A customer's history, newest first: activities about it, its contacts and its leads;
/// its leads' stage changes; and the creation and completion of tasks linked to any of
/// them. 404 when the customer is missing or in the trash.
#[utoipa::path(get, path = "/api/v1/customers/{id}/timeline", tag = "customers",
    params(("id" = String, Path), TimelineQuery),
    responses((status = 200, description = "A page of the timeline", body = Page<TimelineItem>),
        (status = 400, response = Problem), (status = 401, response = Problem),
        (status = 404, response = Problem), (status = 422, response = Problem)))]
pub async fn customer(
    state: web::Data<AppState>,
    credentials: Credentials,
    id: web::Path<String>,
    query: Query,
) -> AppResult<HttpResponse> {
    respond(
        state,
        credentials,
        SubjectType::Customer,
        id.into_inner(),
        query,
    )
    .await
}

/// A contact's history, newest first: activities about it and its leads, its leads' stage
/// changes, and the tasks linked to any of them.
#[utoipa::path(get, path = "/api/v1/contacts/{id}/timeline", tag = "contacts",
    params(("id" = String, Path), TimelineQuery),
    responses((status = 200, description = "A page of the timeline", body = Page<TimelineItem>),
        (status = 400, response = Problem), (status = 401, response = Problem),
        (status = 404, response = Problem), (status = 422, response = Problem)))]
pub async fn contact(
    state: web::Data<AppState>,
    credentials: Credentials,
    id: web::Path<String>,
    query: Query,
) -> AppResult<HttpResponse> {
    respond(
        state,
        credentials,
        SubjectType::Contact,
        id.into_inner(),
        query,
    )
    .await
}

/// A lead's history, newest first: activities about it, its stage changes, and the tasks
/// linked to it.
#[utoipa::path(get, path = "/api/v1/leads/{id}/timeline", tag = "leads",
    params(("id" = String, Path), TimelineQuery),
    responses((status = 200, description = "A page of the timeline", body = Page<TimelineItem>),
        (status = 400, response = Problem), (status = 401, response = Problem),
        (status = 404, response = Problem), (status = 422, response = Problem)))]
pub async fn lead(
    state: web::Data<AppState>,
    credentials: Credentials,
    id: web::Path<String>,
    query: Query,
) -> AppResult<HttpResponse> {
    respond(
        state,
        credentials,
        SubjectType::Lead,
        id.into_inner(),
        query,
    )
    .await
}
