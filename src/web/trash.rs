//! Moving records to the trash from their pages, and `/trash` to bring them back. Deleting
//! and restoring go through each record's domain functions, as the API's `DELETE` and
//! `/restore` do, so ownership rules and the customer cascade hold.

use actix_web::{HttpRequest, HttpResponse, web};
use maud::{Markup, html};
use serde::Deserialize;

use crate::auth::permissions::{Capability, has};
use crate::domain::records::{self, Kind};
use crate::domain::{contacts, customers, leads, tasks};
use crate::error::AppError;
use crate::state::AppState;
use crate::web::components::{csrf_field, moment};
use crate::web::error::{WebError, safe_next};
use crate::web::flash::Flash;
use crate::web::forms::{CsrfForm, see_other};
use crate::web::layout::{self, Nav, respond};
use crate::web::session::Viewer;
use crate::web::signin::Empty;

type WebResult = Result<HttpResponse, WebError>;

/// The record kinds the trash page offers, with their tab labels.
const TABS: [(Kind, &str); 4] = [
    (Kind::Customer, "Customers"),
    (Kind::Contact, "Contacts"),
    (Kind::Lead, "Leads"),
    (Kind::Task, "Tasks"),
];

fn kind_of(table: &str) -> Result<Kind, AppError> {
    TABS.iter()
        .map(|(k, _)| *k)
        .find(|k| k.table() == table)
        .ok_or(AppError::NotFound)
}

/// "Move to trash" on a record's page. A customer goes with its contacts and leads, and
/// comes back with them.
pub fn delete_button(viewer: &Viewer, kind: Kind, id: &str, version: i64, name: &str) -> Markup {
    let question = match kind {
        Kind::Customer => format!(
            "Move “{name}” and its contacts and leads to the trash? You can restore them from the trash."
        ),
        _ => format!("Move “{name}” to the trash? You can restore it from the trash."),
    };
    html! {
        form.inline.delete method="post" action=(format!("/{}/{id}/delete", kind.table())) data-confirm=(question) {
            (csrf_field(&viewer.csrf))
            input type="hidden" name="version" value=(version);
            button.danger type="submit" { "Move to trash" }
        }
    }
}

#[derive(Deserialize)]
pub struct DeleteForm {
    version: Option<i64>,
}

pub async fn delete(
    state: web::Data<AppState>,
    viewer: Viewer,
    path: web::Path<(String, String)>,
    CsrfForm(form): CsrfForm<DeleteForm>,
) -> WebResult {
    let (table, id) = path.into_inner();
    let kind = kind_of(&table)?;
    let expected = form.version;
    state
        .write_as(&viewer.credentials, move |conn, actor| match kind {
            Kind::Customer => customers::delete(conn, actor, &id, expected, true),
            Kind::Contact => contacts::delete(conn, actor, &id, expected),
            Kind::Lead => leads::delete(conn, actor, &id, expected),
            _ => tasks::delete(conn, actor, &id, expected),
        })
        .await?;
    let back = if kind == Kind::Task {
        "/tasks/mine".to_owned()
    } else {
        format!("/{table}")
    };
    Ok(see_other(&back, Flash::Trashed))
}

/// Whether the viewer gets the lists' select boxes: bulk changes are for managers and
/// admins (api-contract, Roles).
pub fn bulk_allowed(viewer: &Viewer) -> bool {
    has(viewer.actor.role, Capability::BulkEdit)
}

/// A row's select box, tied to the bulk form by `form="bulk"`.
pub fn bulk_cell(viewer: &Viewer, id: &str, name: &str) -> Markup {
    html! {
        @if bulk_allowed(viewer) {
            td.select {
                input type="checkbox" name="ids" value=(id) form="bulk" aria-label=(format!("Select {name}"));
            }
        }
    }
}

pub fn bulk_header(viewer: &Viewer) -> Markup {
    html! {
        @if bulk_allowed(viewer) {
            th.select scope="col" {
                input type="checkbox" data-select-all aria-label="Select all rows";
            }
        }
    }
}

/// `POST /{entity}/bulk-delete`: every selected record to the trash in one write, so a
/// refusal for one leaves all of them as they were.
pub async fn bulk_delete(
    state: web::Data<AppState>,
    viewer: Viewer,
    path: web::Path<String>,
    CsrfForm(pairs): CsrfForm<Vec<(String, String)>>,
) -> WebResult {
    let table = path.into_inner();
    let kind = kind_of(&table)?;
    if !bulk_allowed(&viewer) {
        return Err(AppError::Forbidden("Bulk changes need a manager or admin.".into()).into());
    }
    let ids: Vec<String> = pairs
        .iter()
        .filter(|(k, _)| k == "ids")
        .map(|(_, v)| v.clone())
        .collect();
    let back = pairs
        .iter()
        .find(|(k, _)| k == "back")
        .map_or_else(|| format!("/{table}"), |(_, v)| safe_next(Some(v)));
    state
        .write_as(&viewer.credentials, move |conn, actor| {
            for id in &ids {
                match kind {
                    Kind::Customer => customers::delete(conn, actor, id, None, true)?,
                    Kind::Contact => contacts::delete(conn, actor, id, None)?,
                    Kind::Lead => leads::delete(conn, actor, id, None)?,
                    _ => tasks::delete(conn, actor, id, None)?,
                }
            }
            Ok(())
        })
        .await?;
    Ok(see_other(&back, Flash::Trashed))
}

#[derive(Deserialize)]
pub struct TrashQuery {
    entity: Option<String>,
    cursor: Option<String>,
}

const PAGE: u32 = 50;

pub async fn page(
    req: HttpRequest,
    state: web::Data<AppState>,
    viewer: Viewer,
    query: web::Query<TrashQuery>,
) -> WebResult {
    let query = query.into_inner();
    let table = query.entity.unwrap_or_else(|| "customers".to_owned());
    let kind = kind_of(&table)?;
    // The cursor is the last row's deletion time and id, as the API's trash list uses.
    let before = query
        .cursor
        .as_deref()
        .and_then(|c| c.split_once('~'))
        .map(|(a, i)| (a.to_owned(), i.to_owned()));
    let mut items = state
        .read_as(&viewer.credentials, move |conn, actor| {
            let before = before.as_ref().map(|(a, i)| (a.as_str(), i.as_str()));
            records::list_trash(conn, kind, actor, PAGE + 1, before)
        })
        .await?;
    let next = (items.len() > PAGE as usize)
        .then(|| {
            items.truncate(PAGE as usize);
            items.last().map(|i| format!("{}~{}", i.deleted_at, i.id))
        })
        .flatten();
    let body = html! {
        div.pagehead { h1 { "Trash" } }
        nav.tabs aria-label="Record types" {
            @for (k, label) in TABS {
                a href=(format!("/trash?entity={}", k.table())) aria-current=[(k == kind).then_some("page")] { (label) }
            }
        }
        @if items.is_empty() {
            div.empty-state { p.title { "Nothing in the trash." } p { "Records you move to the trash wait here until you restore them." } }
        } @else {
            ul.notifications {
                @for item in &items {
                    li {
                        div { span { (item.title) } span.muted { " · deleted " (moment(&item.deleted_at, &viewer.zone)) } }
                        form.inline method="post" action=(format!("/trash/{table}/{}/restore", item.id)) {
                            (csrf_field(&viewer.csrf))
                            button.small type="submit" { "Restore" }
                        }
                    }
                }
            }
        }
        @if let Some(cursor) = next {
            nav.pager aria-label="Pages" {
                a.button rel="next" href=(format!("/trash?entity={table}&cursor={}", crate::web::error::urlencode(&cursor))) { "Next page →" }
            }
        }
    };
    let markup = layout::page(&viewer, Nav::None, "Trash", Flash::from_request(&req), body);
    Ok(respond(&req, HttpResponse::Ok(), markup))
}

pub async fn restore(
    state: web::Data<AppState>,
    viewer: Viewer,
    path: web::Path<(String, String)>,
    CsrfForm(_): CsrfForm<Empty>,
) -> WebResult {
    let (table, id) = path.into_inner();
    let kind = kind_of(&table)?;
    let target = id.clone();
    state
        .write_as(&viewer.credentials, move |conn, actor| match kind {
            Kind::Customer => customers::restore(conn, actor, &target).map(drop),
            Kind::Contact => contacts::restore(conn, actor, &target).map(drop),
            Kind::Lead => leads::restore(conn, actor, &target).map(drop),
            _ => tasks::restore(conn, actor, &target).map(drop),
        })
        .await?;
    Ok(see_other(&format!("/{table}/{id}"), Flash::Restored))
}
