//! `GET /api/v1/duplicates` and `POST /api/v1/merges`.

use actix_web::{HttpResponse, web};
use serde::Deserialize;

use crate::auth::Credentials;
use crate::auth::permissions::Capability;
use crate::domain::duplicates::{self, Duplicates};
use crate::domain::merges::{self, MergeInput, Survivor};
use crate::error::AppResult;
use crate::http::extract::{ApiJson, etag};
use crate::http::problem::Problem;
use crate::state::AppState;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DuplicatesQuery {
    /// `contact` or `customer`.
    #[param(pattern = "^(contact|customer)$")]
    pub entity: Option<String>,
}

/// Candidate duplicates (admins and managers), each group with its reason.
///
/// Contacts: the same e-mail (ignoring case), the same phone digits (ignoring formatting,
/// 7 digits or more), or very similar names at the same customer. Customers: the same
/// domain, or very similar names (ignoring case, punctuation and legal suffixes such as
/// Inc or GmbH). Only live records. Groups come by reason, then key; at most 500 groups
/// (`truncated` is then true: merge some and ask again) and 50 records listed per group
/// (`count` has the total). Nothing is merged: see `POST /api/v1/merges`.
#[utoipa::path(get, path = "/api/v1/duplicates", tag = "duplicates", params(DuplicatesQuery),
    responses((status = 200, description = "Candidate groups", body = Duplicates),
        (status = 400, response = Problem), (status = 401, response = Problem),
        (status = 403, response = Problem), (status = 422, response = Problem)))]
pub async fn list(
    state: web::Data<AppState>,
    credentials: Credentials,
    query: web::Query<DuplicatesQuery>,
) -> AppResult<HttpResponse> {
    let entity = query.into_inner().entity;
    let found = state
        .read_as(&credentials, move |conn, actor| {
            actor.require(Capability::BulkEdit)?;
            let kind = duplicates::parse_entity(entity.as_deref())?;
            duplicates::find(conn, kind)
        })
        .await?;
    Ok(HttpResponse::Ok().json(found))
}

/// Merge records into a survivor (admins and managers).
///
/// In one transaction: each field the survivor lacks is taken from the merged records (in
/// the order given; the survivor's own values always win), tags are joined, children move
/// to the survivor (customers: contacts, leads, tasks, activities, tags; contacts: leads,
/// tasks, activities, tags; trashed children too), and the merged records go to the trash.
/// One `<entity>.merge` audit entry lists what moved. 404 when any id is not a live record
/// of that entity; 422 when the survivor is among `merged_ids`, an id repeats, or there are
/// more than 20.
#[utoipa::path(post, path = "/api/v1/merges", tag = "duplicates", request_body = MergeInput,
    responses((status = 200, description = "The survivor, as it is now", body = Survivor, headers(("ETag" = String))),
        (status = 400, response = Problem), (status = 401, response = Problem),
        (status = 403, response = Problem), (status = 404, response = Problem),
        (status = 413, response = Problem), (status = 415, response = Problem),
        (status = 422, response = Problem)))]
pub async fn merge(
    state: web::Data<AppState>,
    credentials: Credentials,
    ApiJson(input): ApiJson<MergeInput>,
) -> AppResult<HttpResponse> {
    let survivor = state
        .write_as(&credentials, move |conn, actor| {
            merges::merge(conn, actor, &input)
        })
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header(etag(survivor.version()))
        .json(survivor))
}
