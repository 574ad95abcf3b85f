//! `/api/v1/contacts`.

use actix_web::http::header;
use actix_web::{HttpResponse, web};

use crate::auth::Credentials;
use crate::domain::contacts::{self, Contact, ContactInput};
use crate::domain::list::{ListParams, Page};
use crate::error::AppResult;
use crate::http::extract::{ApiJson, IfMatch, etag};
use crate::http::problem::Problem;
use crate::state::AppState;

type Query = web::Query<Vec<(String, String)>>;

crate::list_query!(ContactListQuery, contacts::LIST);

/// List live contacts. `q` matches the name, e-mail or phone; `sort=last_name` puts contacts
/// without a last name first (ascending).
#[utoipa::path(get, path = "/api/v1/contacts", tag = "contacts", params(ContactListQuery),
    responses((status = 200, description = "A page of contacts", body = Page<Contact>),
        (status = 400, response = Problem), (status = 401, response = Problem),
        (status = 422, response = Problem)))]
pub async fn list(
    state: web::Data<AppState>,
    credentials: Credentials,
    query: Query,
) -> AppResult<HttpResponse> {
    let params = ListParams::parse(&query, &contacts::LIST)?;
    let page = state
        .read_as(&credentials, move |conn, _| contacts::list(conn, &params))
        .await?;
    Ok(HttpResponse::Ok().json(page))
}

/// One contact.
#[utoipa::path(get, path = "/api/v1/contacts/{id}", tag = "contacts", params(("id" = String, Path)),
    responses((status = 200, description = "The contact", body = Contact, headers(("ETag" = String))),
        (status = 401, response = Problem), (status = 404, response = Problem)))]
pub async fn get(
    state: web::Data<AppState>,
    credentials: Credentials,
    id: web::Path<String>,
) -> AppResult<HttpResponse> {
    let contact = state
        .read_as(&credentials, move |conn, _| contacts::get(conn, &id))
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header(etag(contact.meta.version))
        .json(contact))
}

/// Create a contact. `first_name` is required; `customer_id`, if given, must be a customer
/// that is not in the trash; without `owner_id` the creator owns it.
#[utoipa::path(post, path = "/api/v1/contacts", tag = "contacts", request_body = ContactInput,
    responses((status = 201, description = "Created", body = Contact, headers(("Location" = String), ("ETag" = String))),
        (status = 400, response = Problem), (status = 401, response = Problem),
        (status = 403, response = Problem), (status = 413, response = Problem),
        (status = 415, response = Problem), (status = 422, response = Problem)))]
pub async fn create(
    state: web::Data<AppState>,
    credentials: Credentials,
    ApiJson(input): ApiJson<ContactInput>,
) -> AppResult<HttpResponse> {
    let contact = state
        .write_as(&credentials, move |conn, actor| {
            contacts::create(conn, actor, &input)
        })
        .await?;
    Ok(HttpResponse::Created()
        .insert_header((
            header::LOCATION,
            format!("/api/v1/contacts/{}", contact.meta.id),
        ))
        .insert_header(etag(contact.meta.version))
        .json(contact))
}

/// Change a contact: only the fields present change, `null` clears one.
#[utoipa::path(patch, path = "/api/v1/contacts/{id}", tag = "contacts", request_body = ContactInput,
    params(("id" = String, Path), ("If-Match" = Option<String>, Header, description = "The ETag you last saw")),
    responses((status = 200, description = "Updated", body = Contact, headers(("ETag" = String))),
        (status = 400, response = Problem), (status = 401, response = Problem),
        (status = 403, response = Problem), (status = 404, response = Problem),
        (status = 412, response = Problem), (status = 413, response = Problem),
        (status = 415, response = Problem), (status = 422, response = Problem)))]
pub async fn update(
    state: web::Data<AppState>,
    credentials: Credentials,
    id: web::Path<String>,
    IfMatch(expected): IfMatch,
    ApiJson(input): ApiJson<ContactInput>,
) -> AppResult<HttpResponse> {
    let contact = state
        .write_as(&credentials, move |conn, actor| {
            contacts::update(conn, actor, &id, &input, expected)
        })
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header(etag(contact.meta.version))
        .json(contact))
}

/// Move a contact to the trash. Leads and tasks that name it keep the link, which works
/// again once the contact is restored.
#[utoipa::path(delete, path = "/api/v1/contacts/{id}", tag = "contacts",
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
            contacts::delete(conn, actor, &id, expected)
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Bring a contact back from the trash. While its customer is in the trash this answers 409:
/// restore the customer first (which also brings back the contacts deleted with it).
#[utoipa::path(post, path = "/api/v1/contacts/{id}/restore", tag = "contacts", params(("id" = String, Path)),
    responses((status = 200, description = "Restored", body = Contact, headers(("ETag" = String))),
        (status = 401, response = Problem), (status = 403, response = Problem),
        (status = 404, response = Problem), (status = 409, response = Problem)))]
pub async fn restore(
    state: web::Data<AppState>,
    credentials: Credentials,
    id: web::Path<String>,
) -> AppResult<HttpResponse> {
    let contact = state
        .write_as(&credentials, move |conn, actor| {
            contacts::restore(conn, actor, &id)
        })
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header(etag(contact.meta.version))
        .json(contact))
}
