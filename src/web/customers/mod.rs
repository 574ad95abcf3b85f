//! `/customers`: the list, a customer's page (contacts, leads, tasks, timeline, composer),
//! and the create and edit forms. Every read and write goes through `domain::customers`,
//! exactly as `/api/v1/customers` does.

use std::collections::HashMap;

use actix_web::{HttpRequest, HttpResponse, web};
use maud::{Markup, html};

use crate::domain::activities::SubjectType;
use crate::domain::attachments::{Attachment, EntityType};
use crate::domain::contacts::{self, Contact};
use crate::domain::customers::{self, Customer};
use crate::domain::leads::{self, Lead};
use crate::domain::list::{ListParams, Page};
use crate::domain::records::Kind;
use crate::domain::stages::{self, Stage};
use crate::domain::tasks::{self, Task};
use crate::domain::timeline::{self, TimelineItem};
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

const SEGMENTS: [&str; 3] = ["SMB", "Mid-Market", "Enterprise"];

pub async fn list(
    req: HttpRequest,
    state: web::Data<AppState>,
    viewer: Viewer,
    query: Query,
) -> WebResult {
    let raw = query.into_inner();
    let params = ListParams::parse(&paged(&raw), &customers::LIST)?;
    let (sort, desc) = (params.sort, params.desc);
    let offered = bulk::offers_owners(&viewer);
    let (page, names, owners) = state
        .read_as(&viewer.credentials, move |conn, _| {
            let page = customers::list(conn, &params)?;
            let names = people::names(
                conn,
                page.items
                    .iter()
                    .map(|c| c.owner_id.as_deref().or(c.meta.created_by.as_deref())),
            )?;
            Ok((page, names, bulk::owners(conn, offered)?))
        })
        .await?;
    let url = ListUrl {
        path: "/customers",
        query: &raw,
    };
    let body = html! {
        div.pagehead {
            h1 { "Customers" }
            div.actions {
                (url.export_button(&viewer, "customers"))
                (imports::button(&viewer, "customers", "Import"))
                a.button.primary href="/customers/new" { "New customer" }
            }
        }
        (filters(&viewer, &url))
        @if page.items.is_empty() {
            (empty_state(url.filtered(), "/customers", "No customers yet.", html! {
                p { "Add your first customer, or import the list you already keep in a spreadsheet." }
                p { a.button.primary href="/customers/new" { "Add your first customer" } " "
                    (imports::button(&viewer, "customers", "Import a spreadsheet")) }
            }))
        } @else {
            (bulk::bar(&viewer, Kind::Customer, &url.with(&[]), &owners))
            (table(&viewer, &url, &page, &names, sort, desc))
        }
        (url.pager(page.next_cursor.as_deref()))
    };
    let markup = layout::page(
        &viewer,
        Nav::Customers,
        "Customers",
        Flash::from_request(&req),
        body,
    );
    Ok(respond(&req, HttpResponse::Ok(), markup))
}

fn filters(viewer: &Viewer, url: &ListUrl<'_>) -> Markup {
    html! {
        form.filters method="get" action="/customers" role="search" aria-label="Filter customers" {
            div.field {
                label for="q" { "Search" }
                input #q type="search" name="q" value=(url.value("q")) placeholder="Name, domain, phone…";
            }
            (Select { name: "owner_id", label: "Owner", selected: url.value("owner_id"),
                options: vec![(String::new(), "Anyone".into()), (viewer.actor.user_id.clone(), "Me".into())] }
                .render(&[]))
            (Select { name: "segment", label: "Segment", selected: url.value("segment"),
                options: std::iter::once((String::new(), "Any".to_owned()))
                    .chain(SEGMENTS.iter().map(|s| ((*s).to_owned(), (*s).to_owned()))).collect() }
                .render(&[]))
            div.field {
                label for="industry" { "Industry" }
                input #industry type="text" name="industry" value=(url.value("industry"));
            }
            (url.filter_buttons())
        }
    }
}

fn table(
    viewer: &Viewer,
    url: &ListUrl<'_>,
    page: &Page<Customer>,
    names: &HashMap<String, String>,
    sort: &str,
    desc: bool,
) -> Markup {
    html! {
        table.list {
            thead { tr {
                (trash::bulk_header(viewer))
                (url.sort_header("Name", "name", sort, desc))
                th scope="col" { "Domain" }
                th scope="col" { "Industry" }
                th scope="col" { "Segment" }
                th scope="col" { "Owner" }
                (url.sort_header("Added", "created_at", sort, desc))
            } }
            tbody {
                @for c in &page.items {
                    tr {
                        (trash::bulk_cell(viewer, &c.meta.id, &c.name))
                        td data-label="Name" { a href=(format!("/customers/{}", c.meta.id)) { (c.name) } }
                        td data-label="Domain" { (c.domain.as_deref().unwrap_or("")) }
                        td data-label="Industry" { (c.industry.as_deref().unwrap_or("")) }
                        td data-label="Segment" { (c.segment.as_deref().unwrap_or("")) }
                        td data-label="Owner" { (people::name(names, c.owner_id.as_deref().or(c.meta.created_by.as_deref()))) }
                        td data-label="Added" { (day(&c.meta.created_at, &viewer.zone)) }
                    }
                }
            }
        }
    }
}

/// Everything a customer's page shows, read in one go.
struct Detail {
    customer: Customer,
    contacts: Page<Contact>,
    leads: Page<Lead>,
    tasks: Page<Task>,
    timeline: Page<TimelineItem>,
    names: HashMap<String, String>,
    stages: Vec<Stage>,
    files: Vec<Attachment>,
}

fn related(key: &str, id: &str) -> Vec<(String, String)> {
    vec![
        (key.to_owned(), id.to_owned()),
        ("limit".to_owned(), "20".to_owned()),
    ]
}

pub async fn show(
    req: HttpRequest,
    state: web::Data<AppState>,
    viewer: Viewer,
    id: web::Path<String>,
) -> WebResult {
    let id = id.into_inner();
    let timeline_params = timeline_pages::params(&req)?;
    let detail = state
        .read_as(&viewer.credentials, move |conn, actor| {
            let customer = customers::get(conn, &id)?;
            let contacts = contacts::list(
                conn,
                &ListParams::parse(&related("customer_id", &id), &contacts::LIST)?,
            )?;
            let leads = leads::list(
                conn,
                actor,
                &ListParams::parse(&related("customer_id", &id), leads::list_spec(actor))?,
            )?;
            let tasks = tasks::list(
                conn,
                &ListParams::parse(&related("customer_id", &id), &tasks::LIST)?,
            )?;
            let timeline = timeline::page(conn, SubjectType::Customer, &id, &timeline_params)?;
            let ids = std::iter::once(
                customer
                    .owner_id
                    .as_deref()
                    .or(customer.meta.created_by.as_deref()),
            )
            .chain(timeline.items.iter().map(|t| t.actor_id.as_deref()))
            .chain(tasks.items.iter().map(|t| t.assigned_to.as_deref()));
            let names = people::names(conn, ids)?;
            Ok(Detail {
                customer,
                contacts,
                leads,
                tasks,
                timeline,
                names,
                stages: stages::list(conn)?,
                files: attachments::load(conn, actor, EntityType::Customer, &id)?,
            })
        })
        .await?;
    let body = detail_page(&viewer, &detail);
    let markup = layout::page(
        &viewer,
        Nav::Customers,
        &detail.customer.name,
        Flash::from_request(&req),
        body,
    );
    Ok(respond(&req, HttpResponse::Ok(), markup))
}

fn detail_page(viewer: &Viewer, d: &Detail) -> Markup {
    let c = &d.customer;
    let path = format!("/customers/{}", c.meta.id);
    html! {
        p.crumbs { a href="/customers" { "Customers" } }
        div.pagehead {
            h1 { (c.name) }
            div.actions {
                a.button href=(format!("{path}/edit")) { "Edit" }
                (trash::delete_button(viewer, Kind::Customer, &c.meta.id, c.meta.version, &c.name))
            }
        }
        div.detail {
            div.main-col {
                section.card aria-labelledby="facts-title" {
                    h2 #facts-title.sr-only { "Details" }
                    dl.facts {
                        dt { "Domain" } dd { (c.domain.as_deref().unwrap_or("—")) }
                        dt { "Industry" } dd { (c.industry.as_deref().unwrap_or("—")) }
                        dt { "Segment" } dd { (c.segment.as_deref().unwrap_or("—")) }
                        dt { "Phone" } dd { (c.phone.as_deref().unwrap_or("—")) }
                        dt { "Address" } dd.pre { (c.address.as_deref().unwrap_or("—")) }
                        dt { "Owner" } dd { (people::name(&d.names, c.owner_id.as_deref().or(c.meta.created_by.as_deref()))) }
                        @if !c.tags.is_empty() {
                            dt { "Tags" } dd { @for t in &c.tags { span.tag { (t) } " " } }
                        }
                    }
                }
                section.card #timeline aria-labelledby="timeline-title" {
                    h2 #timeline-title { "Timeline" }
                    (timeline_pages::composer(viewer, SubjectType::Customer, &c.meta.id, None, &[]))
                    (timeline_pages::list(&d.timeline, &d.names, &path, &viewer.zone))
                }
            }
            aside.side-col {
                section.card aria-labelledby="contacts-title" {
                    h2 #contacts-title { "Contacts" }
                    @if d.contacts.items.is_empty() { p.muted { "No contacts yet." } }
                    ul.plain {
                        @for p in &d.contacts.items {
                            li { a href=(format!("/contacts/{}", p.meta.id)) { (p.first_name) " " (p.last_name.as_deref().unwrap_or("")) }
                                @if let Some(t) = &p.title { span.muted { " · " (t) } } }
                        }
                    }
                    a.button.small href=(format!("/contacts/new?customer_id={}", c.meta.id)) { "Add contact" }
                }
                section.card aria-labelledby="leads-title" {
                    h2 #leads-title { "Leads" }
                    @if d.leads.items.is_empty() { p.muted { "No leads yet." } }
                    ul.plain {
                        @for l in &d.leads.items {
                            li { a href=(format!("/leads/{}", l.meta.id)) { (l.title) } " " span.badge { (d.stages.iter().find(|s| s.key == l.stage).map_or(l.stage.as_str(), |s| s.label.as_str())) } }
                        }
                    }
                    a.button.small href=(format!("/leads/new?customer_id={}", c.meta.id)) { "New lead" }
                }
                section.card aria-labelledby="tasks-title" {
                    h2 #tasks-title { "Tasks" }
                    (task_pages::mini_list(viewer, &d.tasks.items, &d.names, &path))
                    (task_pages::follow_up(viewer, &[("customer_id", &c.meta.id)], &path))
                }
                (attachments::panel(viewer, EntityType::Customer, &c.meta.id, &d.files, &path))
            }
        }
    }
}

/// The name of the customer `id` for a form that links to it; `None` when no customer is
/// chosen.
pub(crate) async fn name_of(
    state: &crate::state::AppState,
    viewer: &crate::web::session::Viewer,
    id: &str,
) -> Result<Option<String>, crate::error::AppError> {
    if id.is_empty() {
        return Ok(None);
    }
    let id = id.to_owned();
    state
        .read_as(&viewer.credentials, move |conn, _| {
            crate::domain::customers::get(conn, &id).map(|c| Some(c.name))
        })
        .await
}
