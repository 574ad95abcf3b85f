//! `/admin/audit`: the audit log, newest first, filtered by who, what (record type and
//! action), when and which record, paged by `domain::audit::list`'s keyset cursor — the
//! list behind `GET /api/v1/audit`.

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, web};
use maud::{Markup, html};

use crate::auth::permissions::Capability;
use crate::domain::audit::{self, AuditEntry};
use crate::domain::clock::{self, Zone};
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

/// The page's query as the domain list takes it: "From" and "To" are the team's days
/// (`--timezone`), "To" included (the list's `to` is exclusive), and a page of
/// [`PAGE_SIZE`]. Anything but a date goes to the list's check as typed.
fn domain_query(raw: &[(String, String)], zone: &Zone) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = raw
        .iter()
        .filter(|(k, _)| k != "limit")
        .map(|(k, v)| {
            let day_start = |days_later| start_of_day(v, days_later, zone);
            let value = match k.as_str() {
                "from" => day_start(0),
                "to" => day_start(1),
                _ => None,
            };
            (k.clone(), value.unwrap_or_else(|| v.trim().to_owned()))
        })
        .collect();
    out.push(("limit".into(), PAGE_SIZE.into()));
    out
}

/// The first instant, in stored form, of the day `days_later` days after the date `raw`
/// in `zone`; `None` for anything but a date.
fn start_of_day(raw: &str, days_later: i64, zone: &Zone) -> Option<String> {
    let day = clock::parse_day(raw)?.checked_add(time::Duration::days(days_later))?;
    Some(zone.start_of(day)?.to_stored())
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
    let wanted = domain_query(&raw, &viewer.zone);
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
        (filters(&url, &view, &viewer.zone))
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
                    (table(page, &view, &viewer.zone))
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

fn filters(url: &ListUrl<'_>, view: &View, zone: &Zone) -> Markup {
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
        p.muted.small { "Days and times are in " (zone.name()) "." }
    }
}

fn table(page: &Page<AuditEntry>, view: &View, zone: &Zone) -> Markup {
    html! {
        table.list.audit {
            thead { tr {
                th scope="col" { "When" } th scope="col" { "Who" } th scope="col" { "Action" }
                th scope="col" { "Record" } th scope="col" { "Changes" }
            } }
            tbody {
                @for e in &page.items {
                    tr {
                        td data-label="When" { (moment(&e.at, zone)) }
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
        let utc = Zone::utc();
        assert_eq!(
            domain_query(
                &pairs(&[
                    ("from", "2024-02-28"),
                    ("to", "2024-02-28"),
                    ("limit", "200"),
                    ("action", " x ")
                ]),
                &utc
            ),
            pairs(&[
                ("from", "2024-02-28T00:00:00.000Z"),
                ("to", "2024-02-29T00:00:00.000Z"),
                ("action", "x"),
                ("limit", "50")
            ])
        );
        assert_eq!(
            domain_query(&pairs(&[("to", "2026-12-31")]), &utc),
            pairs(&[("to", "2027-01-01T00:00:00.000Z"), ("limit", "50")])
        );
    }

    #[test]
    fn days_are_the_teams_days() {
        let auckland = Zone::parse("Pacific/Auckland").unwrap();
        assert_eq!(
            domain_query(
                &pairs(&[("from", "2026-01-31"), ("to", "2026-01-31")]),
                &auckland
            ),
            pairs(&[
                ("from", "2026-01-30T11:00:00.000Z"),
                ("to", "2026-01-31T11:00:00.000Z"),
                ("limit", "50")
            ]),
            "midnight at UTC+13 is 11:00 UTC the day before"
        );
    }

    #[test]
    fn anything_but_a_date_is_left_for_the_list_to_check() {
        for typed in ["soon", "2026-12-31T10:00:00Z", "2026-02-30"] {
            assert_eq!(
                domain_query(&pairs(&[("to", typed)]), &Zone::utc()),
                pairs(&[("to", typed), ("limit", "50")])
            );
        }
    }
}
