//! Operational endpoints outside `/api/v1`.

use actix_web::http::header;
use actix_web::{HttpResponse, web};

use crate::error::{AppError, AppResult};
use crate::http::openapi;
use crate::http::problem::Problem;
use crate::state::AppState;

/// 200 when the database answers a query, 503 otherwise.
#[utoipa::path(get, path = "/healthz", tag = "operations", security(()),
    responses((status = 200, description = "The database answers"), (status = 503, response = Problem)))]
pub async fn healthz(state: web::Data<AppState>) -> AppResult<HttpResponse> {
    state
        .db
        .read(|conn| {
            conn.prepare_cached("SELECT 1")?
                .query_row([], |r| r.get::<_, i64>(0))
                .map_err(|e| AppError::Unavailable(format!("database: {e}")))
        })
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(serde_json::json!({ "status": "ok" })))
}

/// This document.
#[utoipa::path(get, path = "/api/openapi.json", tag = "operations", security(()),
    responses((status = 200, description = "OpenAPI 3.1", content_type = "application/json")))]
pub async fn openapi_json() -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .content_type("application/json")
        .body(openapi::document())
}
