//! `/api/v1/tasks`.

use actix_web::http::header;
use actix_web::{HttpResponse, web};

use crate::auth::Credentials;
use crate::domain::list::{ListParams, Page};
use crate::domain::tasks::{self, Task, TaskInput};
use crate::error::AppResult;
use crate::http::extract::{ApiJson, IfMatch, etag};
use crate::http::problem::Problem;
use crate::state::AppState;

type Query = web::Query<Vec<(String, String)>>;

crate::list_query!(TaskListQuery, tasks::LIST);

/// List live tasks, soonest due first by default (tasks without a due time last).
#[utoipa::path(get, path = "/api/v1/tasks", tag = "tasks", params(TaskListQuery),
    responses((status = 200, description = "A page of tasks", body = Page<Task>),
        (status = 400, response = Problem), (status = 401, response = Problem),
        (status = 422, response = Problem)))]
pub async fn list(
    state: web::Data<AppState>,
    credentials: Credentials,
    query: Query,
) -> AppResult<HttpResponse> {
    let params = ListParams::parse(&query, &tasks::LIST)?;
    let page = state
        .read_as(&credentials, move |conn, _| tasks::list(conn, &params))
        .await?;
    Ok(HttpResponse::Ok().json(page))
}

/// One task.
#[utoipa::path(get, path = "/api/v1/tasks/{id}", tag = "tasks", params(("id" = String, Path)),
    responses((status = 200, description = "The task", body = Task, headers(("ETag" = String))),
        (status = 401, response = Problem), (status = 404, response = Problem)))]
pub async fn get(
    state: web::Data<AppState>,
    credentials: Credentials,
    id: web::Path<String>,
) -> AppResult<HttpResponse> {
    let task = state
        .read_as(&credentials, move |conn, _| tasks::get(conn, &id))
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header(etag(task.meta.version))
        .json(task))
}

/// Create a task. Every role may, and may assign it to any active user (delegating work is
/// not reassigning an owner); without `assigned_to` it is assigned to its creator.
#[utoipa::path(post, path = "/api/v1/tasks", tag = "tasks", request_body = TaskInput,
    responses((status = 201, description = "Created", body = Task, headers(("Location" = String), ("ETag" = String))),
        (status = 400, response = Problem), (status = 401, response = Problem),
        (status = 403, response = Problem), (status = 413, response = Problem),
        (status = 415, response = Problem), (status = 422, response = Problem)))]
pub async fn create(
    state: web::Data<AppState>,
    credentials: Credentials,
    ApiJson(input): ApiJson<TaskInput>,
) -> AppResult<HttpResponse> {
    let task = state
        .write_as(&credentials, move |conn, actor| {
            tasks::create(conn, actor, &input)
        })
        .await?;
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, format!("/api/v1/tasks/{}", task.meta.id)))
        .insert_header(etag(task.meta.version))
        .json(task))
}

/// Change a task: only the fields present change, `null` clears one. Sales and support may
/// change only tasks they own (assigned to them or created by them), including handing one
/// to someone else; managers and admins any. Setting `status` to `completed` stamps
/// `completed_at`; setting it back to `pending` or `in_progress` reopens the task.
#[utoipa::path(patch, path = "/api/v1/tasks/{id}", tag = "tasks", request_body = TaskInput,
    params(("id" = String, Path), ("If-Match" = Option<String>, Header, description = "The ETag you last saw")),
    responses((status = 200, description = "Updated", body = Task, headers(("ETag" = String))),
        (status = 400, response = Problem), (status = 401, response = Problem),
        (status = 403, response = Problem), (status = 404, response = Problem),
        (status = 412, response = Problem), (status = 415, response = Problem),
        (status = 422, response = Problem)))]
pub async fn update(
    state: web::Data<AppState>,
    credentials: Credentials,
    id: web::Path<String>,
    IfMatch(expected): IfMatch,
    ApiJson(input): ApiJson<TaskInput>,
) -> AppResult<HttpResponse> {
    let task = state
        .write_as(&credentials, move |conn, actor| {
            tasks::update(conn, actor, &id, &input, expected)
        })
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header(etag(task.meta.version))
        .json(task))
}

/// Mark a task completed (no body). Idempotent: completing a completed task answers 200
/// with it unchanged, whatever `If-Match` says, so a retry is harmless.
#[utoipa::path(post, path = "/api/v1/tasks/{id}/complete", tag = "tasks",
    params(("id" = String, Path), ("If-Match" = Option<String>, Header, description = "The ETag you last saw")),
    responses((status = 200, description = "Completed", body = Task, headers(("ETag" = String))),
        (status = 401, response = Problem), (status = 403, response = Problem),
        (status = 404, response = Problem), (status = 412, response = Problem)))]
pub async fn complete(
    state: web::Data<AppState>,
    credentials: Credentials,
    id: web::Path<String>,
    IfMatch(expected): IfMatch,
) -> AppResult<HttpResponse> {
    let task = state
        .write_as(&credentials, move |conn, actor| {
            tasks::complete(conn, actor, &id, expected)
        })
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header(etag(task.meta.version))
        .json(task))
}

/// Move a task to the trash.
#[utoipa::path(delete, path = "/api/v1/tasks/{id}", tag = "tasks",
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
            tasks::delete(conn, actor, &id, expected)
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Bring a task back from the trash.
#[utoipa::path(post, path = "/api/v1/tasks/{id}/restore", tag = "tasks", params(("id" = String, Path)),
    responses((status = 200, description = "Restored", body = Task, headers(("ETag" = String))),
        (status = 401, response = Problem), (status = 403, response = Problem),
        (status = 404, response = Problem),
        (status = 409, response = Problem)))]
pub async fn restore(
    state: web::Data<AppState>,
    credentials: Credentials,
    id: web::Path<String>,
) -> AppResult<HttpResponse> {
    let task = state
        .write_as(&credentials, move |conn, actor| {
            tasks::restore(conn, actor, &id)
        })
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header(etag(task.meta.version))
        .json(task))
}
