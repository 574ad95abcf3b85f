//! `/api/v1/trash`, purging, and `/api/v1/audit`.

use actix_web::{HttpResponse, web};
use serde::Deserialize;

use crate::auth::Credentials;
use crate::auth::permissions::Capability;
use crate::domain::attachments;
use crate::domain::audit::{self, AuditEntry};
use crate::domain::list::{ListParams, Page};
use crate::domain::records::{self, Kind, TrashItem};
use crate::error::{AppError, AppResult};
use crate::http::problem::Problem;
use crate::state::AppState;

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct TrashQuery {
    /// customer, contact, lead, task, activity or attachment.
    #[param(pattern = "^(customer|contact|lead|task|activity|attachment)$")]
    entity: String,
    /// 1 to 200, default 50.
    #[param(minimum = 1, maximum = 200)]
    limit: Option<u32>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
}

/// What is in the trash, most recently deleted first: everything for admins and managers,
/// your own records for others.
#[utoipa::path(get, path = "/api/v1/trash", tag = "trash", params(TrashQuery),
    responses((status = 200, description = "Trashed records", body = Page<TrashItem>),
        (status = 400, response = Problem), (status = 401, response = Problem),
        (status = 422, response = Problem)))]
pub async fn list(
    state: web::Data<AppState>,
    credentials: Credentials,
    query: web::Query<TrashQuery>,
) -> AppResult<HttpResponse> {
    let kind = match query.entity.as_str() {
        "attachment" => None,
        other => Some(Kind::parse(other).ok_or_else(|| {
            AppError::invalid(
                "entity",
                "must be customer, contact, lead, task, activity or attachment",
            )
        })?),
    };
    let limit = query.limit.unwrap_or(50);
    if !(1..=200).contains(&limit) {
        return Err(AppError::invalid(
            "limit",
            "must be a whole number from 1 to 200",
        ));
    }
    let before = match &query.cursor {
        Some(c) => Some(
            c.split_once('~')
                .map(|(at, id)| (at.to_owned(), id.to_owned()))
                .ok_or_else(|| AppError::invalid("cursor", "is not a cursor from this list"))?,
        ),
        None => None,
    };
    let page = state
        .read_as(&credentials, move |conn, actor| {
            let before = before.as_ref().map(|(a, i)| (a.as_str(), i.as_str()));
            let mut items = match kind {
                Some(kind) => records::list_trash(conn, kind, actor, limit + 1, before)?,
                None => attachments::list_trash(conn, actor, limit + 1, before)?,
            };
            let next_cursor = if items.len() > limit as usize {
                items.truncate(limit as usize);
                items.last().map(|i| format!("{}~{}", i.deleted_at, i.id))
            } else {
                None
            };
            Ok(Page { items, next_cursor })
        })
        .await?;
    Ok(HttpResponse::Ok().json(page))
}

/// Delete a record in the trash for good (admins only). What referred to it lets go of it;
/// its attachments and their bytes go with it. `attachments` purges one trashed file.
#[utoipa::path(post, path = "/api/v1/{entity}/{id}/purge", tag = "trash",
    params(("entity" = String, Path, description = "customers, contacts, leads, tasks, activities or attachments"), ("id" = String, Path)),
    responses((status = 204, description = "Gone"), (status = 401, response = Problem),
        (status = 403, response = Problem), (status = 404, response = Problem),
        (status = 409, response = Problem)))]
pub async fn purge(
    state: web::Data<AppState>,
    credentials: Credentials,
    path: web::Path<(String, String)>,
) -> AppResult<HttpResponse> {
    let (entity, id) = path.into_inner();
    purge_in(&state, &credentials, &entity, id).await
}

/// The collection named `name`, if its records can be purged: a record kind's table, or
/// `attachments`.
pub fn purgeable(name: &str) -> Option<&'static str> {
    Kind::ALL
        .into_iter()
        .map(Kind::table)
        .chain(["attachments"])
        .find(|collection| *collection == name)
}

/// The purge route of one collection (`POST /api/v1/<entity>/{id}/purge`), for its scope:
/// see `http::routes`.
pub fn purge_route(entity: &'static str) -> actix_web::Route {
    web::route().to(
        move |state: web::Data<AppState>, credentials: Credentials, id: web::Path<String>| async move {
            purge_in(&state, &credentials, entity, id.into_inner()).await
        },
    )
}

async fn purge_in(
    state: &AppState,
    credentials: &Credentials,
    entity: &str,
    id: String,
) -> AppResult<HttpResponse> {
    if entity == "attachments" {
        state
            .write_as(credentials, move |conn, actor| {
                attachments::purge(conn, actor, &id)
            })
            .await?;
        return Ok(HttpResponse::NoContent().finish());
    }
    let kind = Kind::ALL
        .into_iter()
        .find(|k| k.table() == entity)
        .ok_or(AppError::NotFound)?;
    state
        .write_as(credentials, move |conn, actor| {
            records::purge(conn, kind, &id, actor)
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

crate::list_query!(AuditListQuery, audit::LIST);

/// The audit log, newest first (admins only).
#[utoipa::path(get, path = "/api/v1/audit", tag = "audit", params(AuditListQuery),
    responses((status = 200, description = "Audit entries", body = Page<AuditEntry>),
        (status = 400, response = Problem), (status = 401, response = Problem),
        (status = 403, response = Problem), (status = 422, response = Problem)))]
pub async fn audit_log(
    state: web::Data<AppState>,
    credentials: Credentials,
    query: web::Query<Vec<(String, String)>>,
) -> AppResult<HttpResponse> {
    let params = ListParams::parse(&query, &audit::LIST)?;
    let page = state
        .read_as(&credentials, move |conn, actor| {
            actor.require(Capability::ViewAudit)?;
            audit::list(conn, &params)
        })
        .await?;
    Ok(HttpResponse::Ok().json(page))
}
