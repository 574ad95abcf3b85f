//! `/api/v1/leads`.

use actix_web::http::header;
use actix_web::{HttpResponse, web};

use crate::auth::Credentials;
use crate::domain::leads::{self, Conversion, ConvertInput, Lead, LeadInput, StageMove};
use crate::domain::list::{ListParams, Page};
use crate::error::AppResult;
use crate::http::extract::{ApiJson, IfMatch, OptionalJson, etag};
use crate::http::problem::Problem;
use crate::state::AppState;

type Query = web::Query<Vec<(String, String)>>;

crate::list_query!(LeadListQuery, leads::LIST);

/// List live leads.
///
/// Support users get leads without `value_cents`, and `value_min`, `value_max` and
/// `sort=value_cents` are unknown parameters for them (422).
#[utoipa::path(get, path = "/api/v1/leads", tag = "leads", params(LeadListQuery),
    responses((status = 200, description = "A page of leads", body = Page<Lead>),
        (status = 400, response = Problem), (status = 401, response = Problem),
        (status = 422, response = Problem)))]
pub async fn list(
    state: web::Data<AppState>,
    credentials: Credentials,
    query: Query,
) -> AppResult<HttpResponse> {
    let page = state
        .read_as(&credentials, move |conn, actor| {
            let params = ListParams::parse(&query, leads::list_spec(actor))?;
            leads::list_json(conn, actor, &params)
        })
        .await?;
    Ok(HttpResponse::Ok()
        .content_type(header::ContentType::json())
        .body(page))
}

/// One lead. Support users get it without `value_cents`.
#[utoipa::path(get, path = "/api/v1/leads/{id}", tag = "leads", params(("id" = String, Path)),
    responses((status = 200, description = "The lead", body = Lead, headers(("ETag" = String))),
        (status = 401, response = Problem), (status = 404, response = Problem)))]
pub async fn get(
    state: web::Data<AppState>,
    credentials: Credentials,
    id: web::Path<String>,
) -> AppResult<HttpResponse> {
    let (version, lead) = state
        .read_as(&credentials, move |conn, actor| {
            leads::get_json(conn, actor, &id)
        })
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header(etag(version))
        .content_type(header::ContentType::json())
        .body(lead))
}

/// Create a lead.
///
/// `title` is required. Defaults: the first open stage, the server's base currency
/// (`--base-currency`), value 0, and no assignee (the creator owns it). Creating a lead
/// straight into a won or lost stage closes it; a lost stage needs `lost_reason`. Sales
/// users may assign a new lead only to themselves.
#[utoipa::path(post, path = "/api/v1/leads", tag = "leads", request_body = LeadInput,
    responses((status = 201, description = "Created", body = Lead, headers(("Location" = String), ("ETag" = String))),
        (status = 400, response = Problem), (status = 401, response = Problem),
        (status = 403, response = Problem), (status = 413, response = Problem),
        (status = 415, response = Problem), (status = 422, response = Problem)))]
pub async fn create(
    state: web::Data<AppState>,
    credentials: Credentials,
    ApiJson(input): ApiJson<LeadInput>,
) -> AppResult<HttpResponse> {
    let base_currency = state.config.base_currency.clone();
    let lead = state
        .write_as(&credentials, move |conn, actor| {
            leads::create(conn, actor, &input, &base_currency)
        })
        .await?;
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, format!("/api/v1/leads/{}", lead.meta.id)))
        .insert_header(etag(lead.meta.version))
        .json(lead))
}

/// Change a lead: only the fields present change, `null` clears one.
///
/// A `stage` different from the current one moves the lead exactly as
/// `POST /api/v1/leads/{id}/stage` does: the move is recorded in the stage history and
/// audited as `lead.stage`, `stage_changed_at` is set, entering a won or lost stage sets
/// `closed_at`, and reopening (an open stage) clears `closed_at` and `lost_reason`.
/// `lost_reason` is required while the lead is in a lost stage and refused otherwise.
#[utoipa::path(patch, path = "/api/v1/leads/{id}", tag = "leads", request_body = LeadInput,
    params(("id" = String, Path), ("If-Match" = Option<String>, Header, description = "The ETag you last saw")),
    responses((status = 200, description = "Updated", body = Lead, headers(("ETag" = String))),
        (status = 400, response = Problem), (status = 401, response = Problem),
        (status = 403, response = Problem), (status = 404, response = Problem),
        (status = 412, response = Problem), (status = 415, response = Problem),
        (status = 422, response = Problem)))]
pub async fn update(
    state: web::Data<AppState>,
    credentials: Credentials,
    id: web::Path<String>,
    IfMatch(expected): IfMatch,
    ApiJson(input): ApiJson<LeadInput>,
) -> AppResult<HttpResponse> {
    let lead = state
        .write_as(&credentials, move |conn, actor| {
            leads::update(conn, actor, &id, &input, expected)
        })
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header(etag(lead.meta.version))
        .json(lead))
}

/// Move a lead to another stage: any stage, forward or back.
///
/// Records who moved it, when, from and to; sets `stage_changed_at`; entering a won or lost
/// stage sets `closed_at`, entering an open stage clears `closed_at` and `lost_reason`. A
/// lost stage requires a non-empty `lost_reason`. Moving a lead to the stage it is in
/// changes nothing and answers 200 (to edit the reason of a lost lead, PATCH
/// `lost_reason`). `If-Match` is optional, as for PATCH.
#[utoipa::path(post, path = "/api/v1/leads/{id}/stage", tag = "leads", request_body = StageMove,
    params(("id" = String, Path), ("If-Match" = Option<String>, Header, description = "The ETag you last saw")),
    responses((status = 200, description = "Moved", body = Lead, headers(("ETag" = String))),
        (status = 400, response = Problem), (status = 401, response = Problem),
        (status = 403, response = Problem), (status = 404, response = Problem),
        (status = 412, response = Problem), (status = 415, response = Problem),
        (status = 422, response = Problem)))]
pub async fn move_stage(
    state: web::Data<AppState>,
    credentials: Credentials,
    id: web::Path<String>,
    IfMatch(expected): IfMatch,
    ApiJson(input): ApiJson<StageMove>,
) -> AppResult<HttpResponse> {
    let lead = state
        .write_as(&credentials, move |conn, actor| {
            leads::move_stage(conn, actor, &id, &input, expected)
        })
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header(etag(lead.meta.version))
        .json(lead))
}

/// Convert a prospect lead into a customer and a contact, in one step.
///
/// For a lead that carries its prospect's details (`company_name`, `contact_name`, `email`,
/// `phone`) and is not linked to a customer or contact yet (409 otherwise). All of it
/// happens together or not at all:
///
/// - **Customer**: `customer_id` from the body if given; else a live customer whose domain
///   is the body's `domain` or, without one, the domain of the lead's `email` (never a
///   free-mail provider such as gmail.com or outlook.com); else a new customer named
///   `company_name` (422 when the lead has none), with that domain.
/// - **Contact** (unless `"create_contact": false`): a live contact at that customer with
///   the lead's `email`; else a new one from `contact_name` (split at its last space into
///   first and last name; 422 when the lead has none), `email` and `phone`.
/// - **Lead**: `customer_id` and `contact_id` are set, and the prospect fields now held by
///   those records are cleared (all four; with `"create_contact": false` only
///   `company_name`). Stage and everything else stay. The audit entry `lead.convert` keeps
///   the values as they were.
///
/// New records belong to the lead's owner (its assignee, else its creator) and are audited
/// as `customer.create` and `contact.create`; reused records are linked, not changed. The
/// body is optional: send none, or `{}`, for the defaults. Needs permission to edit the lead
/// and to create customers and contacts (so support users may not convert). `If-Match` is
/// optional, as for PATCH; the `ETag` answered is the lead's.
#[utoipa::path(post, path = "/api/v1/leads/{id}/convert", tag = "leads",
    request_body(content = Option<ConvertInput>, content_type = "application/json",
        description = "Optional; no body means all defaults"),
    params(("id" = String, Path), ("If-Match" = Option<String>, Header, description = "The lead's ETag you last saw")),
    responses((status = 200, description = "Converted", body = Conversion, headers(("ETag" = String))),
        (status = 400, response = Problem), (status = 401, response = Problem),
        (status = 403, response = Problem), (status = 404, response = Problem),
        (status = 409, response = Problem), (status = 412, response = Problem),
        (status = 413, response = Problem), (status = 415, response = Problem),
        (status = 422, response = Problem)))]
pub async fn convert(
    state: web::Data<AppState>,
    credentials: Credentials,
    id: web::Path<String>,
    IfMatch(expected): IfMatch,
    OptionalJson(input): OptionalJson<ConvertInput>,
) -> AppResult<HttpResponse> {
    let conversion = state
        .write_as(&credentials, move |conn, actor| {
            leads::convert(conn, actor, &id, &input, expected)
        })
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header(etag(conversion.lead.meta.version))
        .json(conversion))
}

/// Move a lead to the trash.
#[utoipa::path(delete, path = "/api/v1/leads/{id}", tag = "leads",
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
            leads::delete(conn, actor, &id, expected)
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Bring a lead back from the trash.
#[utoipa::path(post, path = "/api/v1/leads/{id}/restore", tag = "leads", params(("id" = String, Path)),
    responses((status = 200, description = "Restored", body = Lead, headers(("ETag" = String))),
        (status = 401, response = Problem), (status = 403, response = Problem),
        (status = 404, response = Problem),
        (status = 409, response = Problem)))]
pub async fn restore(
    state: web::Data<AppState>,
    credentials: Credentials,
    id: web::Path<String>,
) -> AppResult<HttpResponse> {
    let lead = state
        .write_as(&credentials, move |conn, actor| {
            leads::restore(conn, actor, &id)
        })
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header(etag(lead.meta.version))
        .json(lead))
}
