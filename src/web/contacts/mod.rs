//! `/contacts`: the list and a contact's page with its timeline and composer, over
//! `domain::contacts` like `/api/v1/contacts`.

use std::collections::HashMap;

use actix_web::{HttpRequest, HttpResponse, web};
use maud::html;

use crate::domain::activities::SubjectType;
use crate::domain::attachments::EntityType;
use crate::domain::contacts;
use crate::domain::customers;
use crate::domain::list::ListParams;
use crate::domain::records::Kind;
use crate::domain::tasks;
use crate::domain::timeline;
use crate::error::AppError;
use crate::state::AppState;
use crate::web::components::{ListUrl, Select, day, empty_state, paged};
use crate::web::error::WebError;
use crate::web::flash::Flash;
use crate::web::layout::{self, Nav, respond};
use crate::web::session::Viewer;
use crate::web::{attachments, people, tasks as task_pages, timeline as timeline_pages};
use crate::web::{bulk, imports, trash};

mod form;
pub use form::{create, edit, new, update};

type WebResult = Result<HttpResponse, WebError>;
type Query = web::Query<Vec<(String, String)>>;

pub async fn list(
    req: HttpRequest,
    state: web::Data<AppState>,
    viewer: Viewer,
    query: Query,
) -> WebResult {
    let raw = query.into_inner();
    let params = ListParams::parse(&paged(&raw), &contacts::LIST)?;
    let (sort, desc) = (params.sort, params.desc);
    let offered = bulk::offers_owners(&viewer);
    let (page, names, companies, owners) = state
        .read_as(&viewer.credentials, move |conn, _| {
            let page = contacts::list(conn, &params)?;
            let names = people::names(
                conn,
                page.items
                    .iter()
                    .map(|c| c.owner_id.as_deref().or(c.meta.created_by.as_deref())),
            )?;
            let mut companies = HashMap::new();
            for id in page.items.iter().filter_map(|c| c.customer_id.as_deref()) {
                if !companies.contains_key(id) {
                    match customers::get(conn, id) {
                        Ok(c) => {
                            companies.insert(id.to_owned(), c.name);
                        }
                        Err(AppError::NotFound) => {}
                        Err(e) => return Err(e),
                    }
                }
            }
            Ok((page, names, companies, bulk::owners(conn, offered)?))
        })
        .await?;
    let url = ListUrl {
        path: "/contacts",
        query: &raw,
    };
    let body = html! {
        div.pagehead {
            h1 { "Contacts" }
            div.actions {
                (url.export_button(&viewer, "contacts"))
                (imports::button(&viewer, "contacts", "Import"))
                a.button.primary href="/contacts/new" { "New contact" }
            }
        }
        form.filters method="get" action="/contacts" role="search" aria-label="Filter contacts" {
            div.field {
                label for="q" { "Search" }
                input #q type="search" name="q" value=(url.value("q")) placeholder="Name, e-mail, phone…";
            }
            (Select { name: "owner_id", label: "Owner", selected: url.value("owner_id"),
                options: vec![(String::new(), "Anyone".into()), (viewer.actor.user_id.clone(), "Me".into())] }.render(&[]))
            div.field {
                label for="tag" { "Tag" }
                input #tag type="text" name="tag" value=(url.value("tag"));
            }
            (url.filter_buttons())
        }
        @if page.items.is_empty() {
            (empty_state(url.filtered(), "/contacts", "No contacts yet.", html! {
                p { "Contacts are the people you talk to. Add them from their company's page, or on their own." }
                p { a.button.primary href="/contacts/new" { "Add your first contact" } " " a.button href="/customers" { "Go to customers" } " "
                    (imports::button(&viewer, "contacts", "Import a spreadsheet")) }
            }))
        } @else {
            (bulk::bar(&viewer, Kind::Contact, &url.with(&[]), &owners))
            table.list {
                thead { tr {
                    (trash::bulk_header(&viewer))
                    (url.sort_header("First name", "first_name", sort, desc))
                    (url.sort_header("Last name", "last_name", sort, desc))
                    th scope="col" { "Company" }
                    th scope="col" { "E-mail" }
                    th scope="col" { "Phone" }
                    th scope="col" { "Owner" }
                    (url.sort_header("Added", "created_at", sort, desc))
                } }
                tbody {
                    @for c in &page.items {
                        tr {
                            (trash::bulk_cell(&viewer, &c.meta.id, &c.first_name))
                            td data-label="First name" { a href=(format!("/contacts/{}", c.meta.id)) { (c.first_name) } }
                            td data-label="Last name" { (c.last_name.as_deref().unwrap_or("")) }
                            td data-label="Company" { @if let Some(cid) = &c.customer_id {
                                a href=(format!("/customers/{cid}")) { (companies.get(cid).map(String::as_str).unwrap_or("")) } } }
                            td data-label="E-mail" { @if let Some(e) = &c.email { a href=(format!("mailto:{e}")) { (e) } } }
                            td data-label="Phone" { (c.phone.as_deref().unwrap_or("")) }
                            td data-label="Owner" { (people::name(&names, c.owner_id.as_deref().or(c.meta.created_by.as_deref()))) }
                            td data-label="Added" { (day(&c.meta.created_at, &viewer.zone)) }
                        }
                    }
                }
            }
        }
        (url.pager(page.next_cursor.as_deref()))
    };
    let markup = layout::page(
        &viewer,
        Nav::Contacts,
        "Contacts",
        Flash::from_request(&req),
        body,
    );
    Ok(respond(&req, HttpResponse::Ok(), markup))
}

pub async fn show(
    req: HttpRequest,
    state: web::Data<AppState>,
    viewer: Viewer,
    id: web::Path<String>,
) -> WebResult {
    let id = id.into_inner();
    let timeline_params = timeline_pages::params(&req)?;
    let (contact, company, tasks, timeline, names, files) = state
        .read_as(&viewer.credentials, move |conn, actor| {
            let contact = contacts::get(conn, &id)?;
            let company = match &contact.customer_id {
                Some(cid) => match customers::get(conn, cid) {
                    Ok(c) => Some(c),
                    Err(AppError::NotFound) => None,
                    Err(e) => return Err(e),
                },
                None => None,
            };
            let related = vec![
                ("contact_id".to_owned(), id.clone()),
                ("limit".to_owned(), "20".to_owned()),
            ];
            let tasks = tasks::list(conn, &ListParams::parse(&related, &tasks::LIST)?)?;
            let timeline = timeline::page(conn, SubjectType::Contact, &id, &timeline_params)?;
            let ids = std::iter::once(
                contact
                    .owner_id
                    .as_deref()
                    .or(contact.meta.created_by.as_deref()),
            )
            .chain(timeline.items.iter().map(|t| t.actor_id.as_deref()))
            .chain(tasks.items.iter().map(|t| t.assigned_to.as_deref()));
            let names = people::names(conn, ids)?;
            let files = attachments::load(conn, actor, EntityType::Contact, &id)?;
            Ok((contact, company, tasks, timeline, names, files))
        })
        .await?;
    let full_name = format!(
        "{} {}",
        contact.first_name,
        contact.last_name.as_deref().unwrap_or("")
    )
    .trim()
    .to_owned();
    let path = format!("/contacts/{}", contact.meta.id);
    let body = html! {
        p.crumbs { a href="/contacts" { "Contacts" } }
        div.pagehead {
            h1 { (full_name) }
            div.actions {
                a.button href=(format!("{path}/edit")) { "Edit" }
                (trash::delete_button(&viewer, Kind::Contact, &contact.meta.id, contact.meta.version, &full_name))
            }
        }
        div.detail {
            div.main-col {
                section.card {
                    dl.facts {
                        dt { "Company" } dd { @match &company {
                            Some(c) => a href=(format!("/customers/{}", c.meta.id)) { (c.name) },
                            None => "—",
                        } }
                        dt { "Job title" } dd { (contact.title.as_deref().unwrap_or("—")) }
                        dt { "E-mail" } dd { @match &contact.email { Some(e) => a href=(format!("mailto:{e}")) { (e) }, None => "—" } }
                        dt { "Phone" } dd { (contact.phone.as_deref().unwrap_or("—")) }
                        dt { "Owner" } dd { (people::name(&names, contact.owner_id.as_deref().or(contact.meta.created_by.as_deref()))) }
                    }
                }
                section.card #timeline aria-labelledby="timeline-title" {
                    h2 #timeline-title { "Timeline" }
                    (timeline_pages::composer(&viewer, SubjectType::Contact, &contact.meta.id, None, &[]))
                    (timeline_pages::list(&timeline, &names, &path, &viewer.zone))
                }
            }
            aside.side-col {
                section.card aria-labelledby="tasks-title" {
                    h2 #tasks-title { "Tasks" }
                    (task_pages::mini_list(&viewer, &tasks.items, &names, &path))
                    (task_pages::follow_up(&viewer, &[("contact_id", &contact.meta.id)], &path))
                }
                (attachments::panel(&viewer, EntityType::Contact, &contact.meta.id, &files, &path))
            }
        }
    };
    let markup = layout::page(
        &viewer,
        Nav::Contacts,
        &full_name,
        Flash::from_request(&req),
        body,
    );
    Ok(respond(&req, HttpResponse::Ok(), markup))
}
