//! `/api/v1/customers`.

use actix_web::http::header;
use actix_web::{HttpResponse, web};
use serde::Deserialize;

use crate::auth::Credentials;
use crate::domain::customers::{self, Customer, CustomerInput};
use crate::domain::list::{ListParams, Page};
use crate::error::AppResult;
use crate::http::extract::{ApiJson, IfMatch, etag};
use crate::http::problem::Problem;
use crate::state::AppState;

type Query = web::Query<Vec<(String, String)>>;

crate::list_query!(CustomerListQuery, customers::LIST);

/// List live customers.
#[utoipa::path(get, path = "/api/v1/customers", tag = "customers", params(CustomerListQuery),
    responses((status = 200, description = "A page of customers", body = Page<Customer>),
        (status = 400, response = Problem), (status = 401, response = Problem),
        (status = 422, response = Problem)))]
pub async fn list(
    state: web::Data<AppState>,
    credentials: Credentials,
    query: Query,
) -> AppResult<HttpResponse> {
    let params = ListParams::parse(&query, &customers::LIST)?;
    let page = state
        .read_as(&credentials, move |conn, _| customers::list(conn, &params))
        .await?;
    Ok(HttpResponse::Ok().json(page))
}

/// One customer.
#[utoipa::path(get, path = "/api/v1/customers/{id}", tag = "customers", params(("id" = String, Path)),
    responses((status = 200, description = "The customer", body = Customer, headers(("ETag" = String))),
        (status = 401, response = Problem), (status = 404, response = Problem)))]
pub async fn get(
    state: web::Data<AppState>,
    credentials: Credentials,
    id: web::Path<String>,
) -> AppResult<HttpResponse> {
    let customer = state
        .read_as(&credentials, move |conn, _| customers::get(conn, &id))
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header(etag(customer.meta.version))
        .json(customer))
}

/// Create a customer. `name` is required; without `owner_id` the creator owns it.
#[utoipa::path(post, path = "/api/v1/customers", tag = "customers", request_body = CustomerInput,
    responses((status = 201, description = "Created", body = Customer, headers(("Location" = String), ("ETag" = String))),
        (status = 400, response = Problem), (status = 401, response = Problem),
        (status = 403, response = Problem), (status = 413, response = Problem),
        (status = 415, response = Problem), (status = 422, response = Problem)))]
pub async fn create(
    state: web::Data<AppState>,
    credentials: Credentials,
    ApiJson(input): ApiJson<CustomerInput>,
) -> AppResult<HttpResponse> {
    let customer = state
        .write_as(&credentials, move |conn, actor| {
            customers::create(conn, actor, &input)
        })
        .await?;
    Ok(HttpResponse::Created()
        .insert_header((
            header::LOCATION,
            format!("/api/v1/customers/{}", customer.meta.id),
        ))
        .insert_header(etag(customer.meta.version))
        .json(customer))
}

/// Change a customer: only the fields present change, `null` clears one.
#[utoipa::path(patch, path = "/api/v1/customers/{id}", tag = "customers", request_body = CustomerInput,
    params(("id" = String, Path), ("If-Match" = Option<String>, Header, description = "The ETag you last saw")),
    responses((status = 200, description = "Updated", body = Customer, headers(("ETag" = String))),
        (status = 400, response = Problem), (status = 401, response = Problem),
        (status = 403, response = Problem), (status = 404, response = Problem),
        (status = 412, response = Problem), (status = 415, response = Problem),
        (status = 422, response = Problem)))]
pub async fn update(
    state: web::Data<AppState>,
    credentials: Credentials,
    id: web::Path<String>,
    IfMatch(expected): IfMatch,
    ApiJson(input): ApiJson<CustomerInput>,
) -> AppResult<HttpResponse> {
    let customer = state
        .write_as(&credentials, move |conn, actor| {
            customers::update(conn, actor, &id, &input, expected)
        })
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header(etag(customer.meta.version))
        .json(customer))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct DeleteQuery {
    /// Also move the customer's live contacts and leads to the trash. Without it, a customer
    /// that still has contacts or leads is refused with 409.
    #[serde(default)]
    cascade: bool,
}

/// Move a customer to the trash.
#[utoipa::path(delete, path = "/api/v1/customers/{id}", tag = "customers",
    params(("id" = String, Path), DeleteQuery, ("If-Match" = Option<String>, Header)),
    responses((status = 204, description = "In the trash"),
        (status = 401, response = Problem), (status = 403, response = Problem),
        (status = 404, response = Problem), (status = 409, response = Problem),
        (status = 412, response = Problem)))]
pub async fn delete(
    state: web::Data<AppState>,
    credentials: Credentials,
    id: web::Path<String>,
    IfMatch(expected): IfMatch,
    query: web::Query<DeleteQuery>,
) -> AppResult<HttpResponse> {
    let cascade = query.cascade;
    state
        .write_as(&credentials, move |conn, actor| {
            customers::delete(conn, actor, &id, expected, cascade)
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Bring a customer back from the trash, with the contacts and leads trashed with it.
#[utoipa::path(post, path = "/api/v1/customers/{id}/restore", tag = "customers", params(("id" = String, Path)),
    responses((status = 200, description = "Restored", body = Customer),
        (status = 401, response = Problem), (status = 403, response = Problem),
        (status = 404, response = Problem),
        (status = 409, response = Problem)))]
pub async fn restore(
    state: web::Data<AppState>,
    credentials: Credentials,
    id: web::Path<String>,
) -> AppResult<HttpResponse> {
    let customer = state
        .write_as(&credentials, move |conn, actor| {
            customers::restore(conn, actor, &id)
        })
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header(etag(customer.meta.version))
        .json(customer))
}
