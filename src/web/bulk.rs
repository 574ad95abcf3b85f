//! The lists' bulk bar: the selected rows (their checkboxes belong to the form `#bulk`)
//! can be given to a colleague, exported as CSV, or moved to the trash. Only for roles
//! that may change records in bulk (api-contract, Roles: managers and admins); each action
//! is one transaction with the records' own audit entries.

use actix_web::http::header;
use actix_web::{HttpResponse, web};
use maud::{Markup, html};
use rusqlite::Connection;

use crate::auth::permissions::{Capability, has};
use crate::domain::bulk;
use crate::domain::exports::Entity;
use crate::domain::records::Kind;
use crate::domain::reports::day_string;
use crate::error::{AppError, AppResult};
use crate::http::resource;
use crate::state::AppState;
use crate::web::components::csrf_field;
use crate::web::error::{WebError, safe_next};
use crate::web::flash::Flash;
use crate::web::forms::{CsrfForm, see_other};
use crate::web::people;
use crate::web::session::Viewer;
use crate::web::trash::bulk_allowed;

type WebResult = Result<HttpResponse, WebError>;

pub fn routes(cfg: &mut web::ServiceConfig) {
    // Before the `/{entity}/{id}` pages, which would otherwise take these paths.
    cfg.service(resource("/{entity:customers|contacts|leads|tasks}/bulk-assign").post(assign))
        .service(resource("/{entity:customers|contacts|leads|tasks}/bulk-export").post(export));
}

fn may_assign(viewer: &Viewer) -> bool {
    bulk_allowed(viewer) && has(viewer.actor.role, Capability::Reassign)
}

/// Whether the bar offers reassigning, so the list's read fetches the colleagues to offer.
pub fn offers_owners(viewer: &Viewer) -> bool {
    may_assign(viewer)
}

/// The colleagues the bar offers, read with the list (`offered`: [`offers_owners`]).
pub fn owners(conn: &Connection, offered: bool) -> AppResult<Vec<(String, String)>> {
    if offered {
        people::assignable(conn)
    } else {
        Ok(Vec::new())
    }
}

/// What the owner of a `kind` is called on its pages.
fn owner_word(kind: Kind) -> &'static str {
    match kind {
        Kind::Lead | Kind::Task => "assignee",
        _ => "owner",
    }
}

/// The form the lists' row checkboxes belong to (`form="bulk"`), placed above the table.
/// Its own action moves the selection to the trash; the other buttons post elsewhere.
pub fn bar(viewer: &Viewer, kind: Kind, back: &str, owners: &[(String, String)]) -> Markup {
    let table = kind.table();
    html! {
        @if bulk_allowed(viewer) {
            form #bulk.bulkbar method="post" action=(format!("/{table}/bulk-delete")) aria-label="Selected rows" {
                (csrf_field(&viewer.csrf))
                input type="hidden" name="back" value=(back);
                span.muted data-selected { "Select rows to act on them." }
                @if may_assign(viewer) && !owners.is_empty() {
                    span.bulk-assign {
                        label for="bulk-owner" { "New " (owner_word(kind)) }
                        select #bulk-owner name="owner_id" {
                            option value="" { "Choose…" }
                            @for (id, name) in owners { option value=(id) { (name) } }
                        }
                        button.small type="submit" formaction=(format!("/{table}/bulk-assign")) { "Assign" }
                    }
                }
                @if has(viewer.actor.role, Capability::ExportCsv) {
                    button.small type="submit" formaction=(format!("/{table}/bulk-export")) { "Export selected" }
                }
                button.danger.small type="submit"
                    data-confirm="Move the selected records to the trash? You can restore them from the trash." {
                    "Move selected to trash"
                }
            }
        }
    }
}

fn kind_of(table: &str) -> Result<Kind, AppError> {
    Entity::parse(table)
        .map(Entity::kind)
        .filter(|k| *k != Kind::Activity)
        .ok_or(AppError::NotFound)
}

fn ids(pairs: &[(String, String)]) -> Vec<String> {
    pairs
        .iter()
        .filter(|(k, _)| k == "ids")
        .map(|(_, v)| v.clone())
        .collect()
}

fn value<'a>(pairs: &'a [(String, String)], key: &str) -> &'a str {
    pairs
        .iter()
        .find(|(k, _)| k == key)
        .map_or("", |(_, v)| v.as_str())
}

/// `POST /{entity}/bulk-assign`: the selected records to one colleague, all or none.
pub async fn assign(
    state: web::Data<AppState>,
    viewer: Viewer,
    path: web::Path<String>,
    CsrfForm(pairs): CsrfForm<Vec<(String, String)>>,
) -> WebResult {
    let table = path.into_inner();
    let kind = kind_of(&table)?;
    if !may_assign(&viewer) {
        return Err(
            AppError::Forbidden("Reassigning records needs a manager or admin.".into()).into(),
        );
    }
    let selected = bulk::selection(ids(&pairs))?;
    let owner = value(&pairs, "owner_id").trim().to_owned();
    if owner.is_empty() {
        return Err(AppError::invalid(
            "owner_id",
            format!(
                "choose the new {} of the selected records",
                owner_word(kind)
            ),
        )
        .into());
    }
    let back = match value(&pairs, "back") {
        "" => format!("/{table}"),
        b => safe_next(Some(b)),
    };
    state
        .write_as(&viewer.credentials, move |conn, actor| {
            bulk::assign(conn, actor, kind, &selected, &owner)
        })
        .await?;
    Ok(see_other(&back, Flash::Assigned))
}

/// `POST /{entity}/bulk-export`: the selected rows as CSV, with the columns and the
/// permissions of the list's export, audited like it.
pub async fn export(
    state: web::Data<AppState>,
    viewer: Viewer,
    path: web::Path<String>,
    CsrfForm(pairs): CsrfForm<Vec<(String, String)>>,
) -> WebResult {
    let table = path.into_inner();
    let entity = Entity::parse(&table).ok_or(AppError::NotFound)?;
    kind_of(&table)?;
    let selected = bulk::selection(ids(&pairs))?;
    let (export, body) = state
        .write_as(&viewer.credentials, move |conn, actor| {
            bulk::export(conn, actor, entity, selected)
        })
        .await?;
    // Named by today in the team's timezone, as the API's export is.
    let filename = export.filename(&day_string(viewer.zone.today()));
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{filename}\""),
        ))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(body))
}
