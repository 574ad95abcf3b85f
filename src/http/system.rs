//! Operational endpoints outside `/api/v1`.

use actix_web::http::header;
use actix_web::{HttpResponse, web};

use crate::error::{AppError, AppResult};
use crate::http::openapi;
use crate::state::AppState;

/// 200 when the database answers a query, 503 otherwise.
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

pub async fn openapi_json() -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .content_type("application/json")
        .body(openapi::document().to_string())
}
