//! `/admin/audit`: the audit log, newest first, filtered by who, what (record type and
//! action), when and which record, paged by `domain::audit::list`'s keyset cursor — the
//! list behind `GET /api/v1/audit`.

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, web};
use maud::{Markup, html};

use crate::auth::permissions::Capability;
use crate::domain::audit::{self, AuditEntry};
use crate::domain::list::{ListParams, Page};
use crate::domain::records::{self, Kind};
use crate::domain::users;
use crate::error::{AppError, FieldError};
use crate::state::AppState;
use crate::web::components::{ListUrl, Select, empty_state, moment};
use crate::web::error::urlencode;
use crate::web::people;
use crate::web::session::Viewer;

use super::{WebResult, require, shell};

mod changes;

const PATH: &str = "/admin/audit";
const PAGE_SIZE: &str = "50";

/// The page's query as the domain list takes it: the "To" day is included (the list's `to`
/// is exclusive), and a page of [`PAGE_SIZE`].
fn domain_query(raw: &[(String, String)]) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = raw
        .iter()
        .filter(|(k, _)| k != "limit")
        .map(|(k, v)| match k.as_str() {
            "to" => (k.clone(), day_after(v).unwrap_or_else(|| v.clone())),
            _ => (k.clone(), v.trim().to_owned()),
        })
        .collect();
    out.push(("limit".into(), PAGE_SIZE.into()));
    out
}

/// `2026-01-31` → `2026-02-01`; `None` for anything but a date.
fn day_after(raw: &str) -> Option<String> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    let day = time::Date::parse(raw.trim(), format).ok()?;
    day.next_day()?.format(format).ok()
}

/// Everything the page shows, read in one go.
struct View {
    entries: Result<Page<AuditEntry>, Vec<FieldError>>,
    entity_types: Vec<String>,
    actions: Vec<String>,
    /// Who can be picked: id and name.
    people: Vec<(String, String)>,
    names: HashMap<String, String>,
    /// Where each entry's record can be opened, by entry id, when it still exists.
    links: HashMap<i64, String>,
}

pub async fn list(
    req: HttpRequest,
    state: web::Data<AppState>,
    viewer: Viewer,
    query: web::Query<Vec<(String, String)>>,
) -> WebResult {
    require(&viewer, Capability::ViewAudit)?;
    let raw = query.into_inner();
    let wanted = domain_query(&raw);
    let view = state
        .read_as(&viewer.credentials, move |conn, actor| {
            actor.require(Capability::ViewAudit)?;
            let entries = match ListParams::parse(&wanted, &audit::LIST)
                .and_then(|p| audit::list(conn, &p))
            {
                Ok(page) => Ok(page),
                Err(AppError::Validation(errors)) => Err(errors),
                Err(e) => return Err(e),
            };
            let everyone = ListParams::parse(&[("limit".into(), "200".into())], &users::LIST)?;
            let people: Vec<(String, String)> = users::list(conn, &everyone)?
                .items
                .into_iter()
                .map(|u| (u.id, u.name))
                .collect();
            let mut links = HashMap::new();
            let mut names = HashMap::new();
            if let Ok(page) = &entries {
                names = people::names(conn, page.items.iter().map(|e| e.actor_id.as_deref()))?;
                for e in &page.items {
                    if let Some(href) = record_link(conn, &e.entity_type, e.entity_id.as_deref())? {
                        links.insert(e.id, href);
                    }
                }
            }
            Ok(View {
                entries,
                entity_types: audit::entity_types(conn)?,
                actions: audit::actions(conn)?,
                people,
                names,
                links,
            })
        })
        .await?;
    let url = ListUrl {
        path: PATH,
        query: &raw,
    };
    let status = match &view.entries {
        Ok(_) => StatusCode::OK,
        Err(_) => StatusCode::UNPROCESSABLE_ENTITY,
    };
    let body = html! {
        (filters(&url, &view))
        @match &view.entries {
            Err(errors) => {
                div.alert role="alert" {
                    "These filters cannot be used: "
                    @for (i, e) in errors.iter().enumerate() {
                        @if i > 0 { "; " }
                        (e.field) " " (e.message)
                    }
                    ". " a href=(PATH) { "Clear the filters" }
                }
            }
            Ok(page) => {
                @if page.items.is_empty() {
                    (empty_state(url.filtered(), PATH, "The audit log is empty.", html! {
                        p { "Every change to the CRM is recorded here as it happens." }
                    }))
                } @else {
                    (table(page, &view))
                }
                (url.pager(page.next_cursor.as_deref()))
            }
        }
    };
    Ok(shell(&req, &viewer, status, PATH, "Audit log", body))
}

/// Where a record named in the log can be opened, if it still can: live customers,
/// contacts, leads and tasks, users, and the pipeline.
fn record_link(
    conn: &rusqlite::Connection,
    entity_type: &str,
    id: Option<&str>,
) -> Result<Option<String>, AppError> {
    if entity_type == "stage" {
        return Ok(Some(super::stages::PATH.to_owned()));
    }
    let Some(id) = id else {
        return Ok(None);
    };
    if entity_type == "user" {
        return match users::get(conn, id) {
            Ok(u) => Ok(Some(format!(
                "/admin/users?q={}#user-{}",
                urlencode(&u.email),
                u.id
            ))),
            Err(AppError::NotFound) => Ok(None),
            Err(e) => Err(e),
        };
    }
    match Kind::parse(entity_type) {
        Some(kind) if kind != Kind::Activity && records::is_live(conn, kind, id)? => {
            Ok(Some(format!("/{}/{id}", kind.table())))
        }
        _ => Ok(None),
    }
}

fn filters(url: &ListUrl<'_>, view: &View) -> Markup {
    let choices = |any: &str, values: &[String]| -> Vec<(String, String)> {
        std::iter::once((String::new(), any.to_owned()))
            .chain(values.iter().map(|v| (v.clone(), v.clone())))
            .collect()
    };
    let people: Vec<(String, String)> = std::iter::once((String::new(), "Anyone".to_owned()))
        .chain(view.people.iter().cloned())
        .collect();
    html! {
        form.filters.auditfilters method="get" action=(PATH) role="search" aria-label="Filter the audit log" {
            (Select { name: "actor_id", label: "Who", selected: url.value("actor_id"), options: people }.render(&[]))
            (Select { name: "entity_type", label: "Record type", selected: url.value("entity_type"),
                options: choices("Any type", &view.entity_types) }.render(&[]))
            (Select { name: "action", label: "Action", selected: url.value("action"),
                options: choices("Any action", &view.actions) }.render(&[]))
            div.field {
                label for="from" { "From" }
                input #from type="date" name="from" value=(url.value("from"));
            }
            div.field {
                label for="to" { "To (included)" }
                input #to type="date" name="to" value=(url.value("to"));
            }
            div.field {
                label for="entity_id" { "Record id" }
                input #entity_id type="text" name="entity_id" value=(url.value("entity_id")) autocomplete="off" spellcheck="false";
            }
            button type="submit" { "Apply" }
            @if url.filtered() { a.clear href=(PATH) { "Clear" } }
        }
        p.muted.small { "Days are UTC days." }
    }
}

fn table(page: &Page<AuditEntry>, view: &View) -> Markup {
    html! {
        table.list.audit {
            thead { tr {
                th scope="col" { "When" } th scope="col" { "Who" } th scope="col" { "Action" }
                th scope="col" { "Record" } th scope="col" { "Changes" }
            } }
            tbody {
                @for e in &page.items {
                    tr {
                        td data-label="When" { (moment(&e.at)) }
                        td data-label="Who" {
                            @match &e.actor_id {
                                None => span.muted { "command line" },
                                Some(_) => (people::name(&view.names, e.actor_id.as_deref())),
                            }
                        }
                        td data-label="Action" { code { (e.action) } }
                        td data-label="Record" {
                            (e.entity_type)
                            @if let Some(id) = &e.entity_id {
                                br;
                                @match view.links.get(&e.id) {
                                    Some(href) => a.recordid href=(href) { (id) },
                                    None => span.recordid.muted title="No longer exists, or has no page" { (id) },
                                }
                            } @else if let Some(href) = view.links.get(&e.id) {
                                " " a href=(href) { "open" }
                            }
                        }
                        td data-label="Changes" { (changes::cell(e.before.as_ref(), e.after.as_ref())) }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
        p.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn the_to_day_is_included() {
        assert_eq!(day_after("2026-01-31").as_deref(), Some("2026-02-01"));
        assert_eq!(day_after("2024-02-28").as_deref(), Some("2024-02-29"));
        assert_eq!(day_after("2026-12-31T10:00:00Z"), None);
        assert_eq!(
            domain_query(&pairs(&[
                ("to", "2026-12-31"),
                ("limit", "200"),
                ("action", " x ")
            ])),
            pairs(&[("to", "2027-01-01"), ("action", "x"), ("limit", "50")])
        );
        assert_eq!(
            domain_query(&pairs(&[("to", "soon")])),
            pairs(&[("to", "soon"), ("limit", "50")]),
            "left for the list to refuse"
        );
    }
}
