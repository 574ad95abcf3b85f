//! `/api/v1/stages`.

use actix_web::{HttpResponse, web};

use crate::auth::Credentials;
use crate::domain::stages::{self, Pipeline, PipelineInput};
use crate::error::AppResult;
use crate::http::extract::ApiJson;
use crate::http::problem::Problem;
use crate::state::AppState;

/// The pipeline's stages, in order.
#[utoipa::path(get, path = "/api/v1/stages", tag = "stages",
    responses((status = 200, description = "The stages in pipeline order", body = Pipeline),
        (status = 401, response = Problem)))]
pub async fn list(state: web::Data<AppState>, credentials: Credentials) -> AppResult<HttpResponse> {
    let stages = state
        .read_as(&credentials, move |conn, _| stages::list(conn))
        .await?;
    Ok(HttpResponse::Ok().json(Pipeline { stages }))
}

/// Replace the pipeline (admins only) with the complete new list, in order.
///
/// Send what `GET` returned, changed: rename labels, reorder the array, change
/// `probability` (0–100) and `kind` (open, won or lost), add stages with new keys
/// (`[a-z0-9_]{1,40}`), leave stages out to remove them. Keys are never renamed: a new key is
/// a new stage. `position` may be omitted; when sent it must be the item's 1-based place in
/// the array. There must remain at least one open, one won and one lost stage.
///
/// A stage that still has leads (live or in the trash) can be renamed, moved and re-weighed,
/// but removing it or changing its kind answers 409 naming it and its number of leads.
/// The change is one transaction, audited as `stage.update`. Concurrent edits: the last one
/// wins.
#[utoipa::path(put, path = "/api/v1/stages", tag = "stages", request_body = PipelineInput,
    responses((status = 200, description = "The new stages in pipeline order", body = Pipeline),
        (status = 400, response = Problem), (status = 401, response = Problem),
        (status = 403, response = Problem), (status = 409, response = Problem),
        (status = 413, response = Problem), (status = 415, response = Problem),
        (status = 422, response = Problem)))]
pub async fn replace(
    state: web::Data<AppState>,
    credentials: Credentials,
    ApiJson(input): ApiJson<PipelineInput>,
) -> AppResult<HttpResponse> {
    let stages = state
        .write_as(&credentials, move |conn, actor| {
            stages::replace(conn, actor, &input)
        })
        .await?;
    Ok(HttpResponse::Ok().json(Pipeline { stages }))
}
