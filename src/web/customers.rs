//! `/customers`: the list, a customer's page (contacts, leads, tasks, timeline, composer),
//! and the create and edit forms. Every read and write goes through `domain::customers`,
//! exactly as `/api/v1/customers` does.

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use maud::{Markup, html};
use serde::Deserialize;

use crate::domain::activities::SubjectType;
use crate::domain::contacts::{self, Contact};
use crate::domain::customers::{self, Customer, CustomerInput};
use crate::domain::leads::{self, Lead};
use crate::domain::list::{ListParams, Page};
use crate::domain::tasks::{self, Task};
use crate::domain::timeline::{self, TimelineItem, TimelineParams};
use crate::error::{AppError, FieldError};
use crate::state::AppState;
use crate::web::components::{
    Input, ListUrl, Select, csrf_field, day, empty_state, form_errors, textarea,
};
use crate::web::error::WebError;
use crate::web::flash::Flash;
use crate::web::forms::{CsrfForm, field, see_other, tags};
use crate::web::layout::{self, Nav, respond};
use crate::web::session::Viewer;
use crate::web::{people, tasks as task_pages, timeline as timeline_pages};

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
    let params = ListParams::parse(&raw, &customers::LIST)?;
    let (sort, desc) = (params.sort, params.desc);
    let (page, names) = state
        .read_as(&viewer.credentials, move |conn, _| {
            let page = customers::list(conn, &params)?;
            let names = people::names(
                conn,
                page.items
                    .iter()
                    .map(|c| c.owner_id.as_deref().or(c.meta.created_by.as_deref())),
            )?;
            Ok((page, names))
        })
        .await?;
    let url = ListUrl {
        path: "/customers",
        query: &raw,
    };
    let body = html! {
        div.pagehead {
            h1 { "Customers" }
            a.button.primary href="/customers/new" { "New customer" }
        }
        (filters(&viewer, &url))
        @if page.items.is_empty() {
            (empty_state(url.filtered(), "/customers", "No customers yet.", html! {
                p { "Add your first customer, or import the list you already keep in a spreadsheet." }
                p { a.button.primary href="/customers/new" { "Add your first customer" } " "
                    a.button href="/api/openapi.json" { "Import a CSV through the API" } }
            }))
        } @else {
            (table(&url, &page, &names, sort, desc))
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
            @for key in ["sort", "order"] {
                @if !url.value(key).is_empty() { input type="hidden" name=(key) value=(url.value(key)); }
            }
            button type="submit" { "Apply" }
            @if url.filtered() { a.clear href="/customers" { "Clear" } }
        }
    }
}

fn table(
    url: &ListUrl<'_>,
    page: &Page<Customer>,
    names: &HashMap<String, String>,
    sort: &str,
    desc: bool,
) -> Markup {
    html! {
        table.list {
            thead { tr {
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
                        td data-label="Name" { a href=(format!("/customers/{}", c.meta.id)) { (c.name) } }
                        td data-label="Domain" { (c.domain.as_deref().unwrap_or("")) }
                        td data-label="Industry" { (c.industry.as_deref().unwrap_or("")) }
                        td data-label="Segment" { (c.segment.as_deref().unwrap_or("")) }
                        td data-label="Owner" { (people::name(names, c.owner_id.as_deref().or(c.meta.created_by.as_deref()))) }
                        td data-label="Added" { (day(&c.meta.created_at)) }
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
            let timeline = timeline::page(
                conn,
                SubjectType::Customer,
                &id,
                &TimelineParams::parse(&[])?,
            )?;
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
            a.button href=(format!("{path}/edit")) { "Edit" }
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
                    (timeline_pages::list(&d.timeline.items, &d.names))
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
                }
                section.card aria-labelledby="leads-title" {
                    h2 #leads-title { "Leads" }
                    @if d.leads.items.is_empty() { p.muted { "No leads yet." } }
                    ul.plain {
                        @for l in &d.leads.items {
                            li { a href=(format!("/leads/{}", l.meta.id)) { (l.title) } " " span.badge { (l.stage) } }
                        }
                    }
                    a.button.small href=(format!("/leads/new?customer_id={}", c.meta.id)) { "New lead" }
                }
                section.card aria-labelledby="tasks-title" {
                    h2 #tasks-title { "Tasks" }
                    (task_pages::mini_list(viewer, &d.tasks.items, &d.names, &path))
                    (task_pages::follow_up(viewer, &[("customer_id", &c.meta.id)], &path))
                }
            }
        }
    }
}

/// The form as typed; every field is text so nothing the user typed is lost on a refusal.
#[derive(Deserialize, Default)]
pub struct CustomerForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    domain: String,
    #[serde(default)]
    industry: String,
    #[serde(default)]
    segment: String,
    #[serde(default)]
    phone: String,
    #[serde(default)]
    address: String,
    #[serde(default)]
    tags: String,
    version: Option<i64>,
}

impl CustomerForm {
    fn from_customer(c: &Customer) -> Self {
        let s = |v: &Option<String>| v.clone().unwrap_or_default();
        CustomerForm {
            name: c.name.clone(),
            domain: s(&c.domain),
            industry: s(&c.industry),
            segment: s(&c.segment),
            phone: s(&c.phone),
            address: s(&c.address),
            tags: c.tags.join(", "),
            version: Some(c.meta.version),
        }
    }

    fn input(&self) -> CustomerInput {
        CustomerInput {
            name: field(&self.name),
            domain: field(&self.domain),
            industry: field(&self.industry),
            segment: field(&self.segment),
            phone: field(&self.phone),
            address: field(&self.address),
            owner_id: None,
            tags: tags(&self.tags),
        }
    }
}

/// Why a form is shown again.
#[derive(Default)]
struct Refusal {
    errors: Vec<FieldError>,
    /// Someone saved the record since this form was opened: their version.
    conflict: Option<Customer>,
}

fn form_page(
    viewer: &Viewer,
    action: &str,
    form: &CustomerForm,
    refusal: &Refusal,
    editing: Option<&str>,
) -> Markup {
    let e = &refusal.errors;
    html! {
        p.crumbs { a href="/customers" { "Customers" }
            @if let Some(id) = editing { " / " a href=(format!("/customers/{id}")) { (form.name) } } }
        h1 { @if editing.is_some() { "Edit customer" } @else { "New customer" } }
        section.card.formcard {
            @if let Some(theirs) = &refusal.conflict {
                (conflict_notice(form, theirs))
            }
            (form_errors(e, None))
            form method="post" action=(action) novalidate {
                (csrf_field(&viewer.csrf))
                @if let Some(v) = form.version { input type="hidden" name="version" value=(v); }
                (Input::new("name", "Name", "text").value(&form.name).autofocus(editing.is_none()).render(e))
                div.two {
                    (Input { required: false, ..Input::new("domain", "Web domain", "text") }.value(&form.domain).hint("e.g. acme.com").render(e))
                    (Input { required: false, ..Input::new("phone", "Phone", "tel") }.value(&form.phone).render(e))
                }
                div.two {
                    (Input { required: false, ..Input::new("industry", "Industry", "text") }.value(&form.industry).render(e))
                    (Select { name: "segment", label: "Segment", selected: &form.segment,
                        options: std::iter::once((String::new(), "—".to_owned()))
                            .chain(SEGMENTS.iter().map(|s| ((*s).to_owned(), (*s).to_owned()))).collect() }.render(e))
                }
                (textarea("address", "Address", &form.address, false, e))
                (Input { required: false, ..Input::new("tags", "Tags", "text") }.value(&form.tags).hint("Separate tags with commas.").render(e))
                div.actions {
                    button.primary type="submit" { @if editing.is_some() { "Save changes" } @else { "Create customer" } }
                    a href=(editing.map(|id| format!("/customers/{id}")).unwrap_or_else(|| "/customers".into())) { "Cancel" }
                }
            }
        }
    }
}

/// What the other person changed, next to what this user typed, so nothing is overwritten
/// blindly: saving again applies this form over their version.
fn conflict_notice(mine: &CustomerForm, theirs: &Customer) -> Markup {
    let theirs_form = CustomerForm::from_customer(theirs);
    let pairs = [
        ("Name", &mine.name, &theirs_form.name),
        ("Web domain", &mine.domain, &theirs_form.domain),
        ("Industry", &mine.industry, &theirs_form.industry),
        ("Segment", &mine.segment, &theirs_form.segment),
        ("Phone", &mine.phone, &theirs_form.phone),
        ("Address", &mine.address, &theirs_form.address),
        ("Tags", &mine.tags, &theirs_form.tags),
    ];
    html! {
        div.alert.conflict role="alert" {
            p { strong { "Someone else saved this customer while you were editing." }
                " Your changes are not saved yet. Their version differs here:" }
            ul {
                @for (label, m, t) in pairs {
                    @if m.trim() != t.trim() {
                        li { (label) ": theirs " q { (t) } ", yours " q { (m) } }
                    }
                }
            }
            p { "Save again to keep your values, or " a href=(format!("/customers/{}", theirs.meta.id)) { "discard yours" } "." }
        }
    }
}

fn show_form(
    req: &HttpRequest,
    viewer: &Viewer,
    status: StatusCode,
    title: &str,
    body: Markup,
) -> HttpResponse {
    let markup = layout::page(viewer, Nav::Customers, title, None, body);
    respond(req, HttpResponse::build(status), markup)
}

pub async fn new(req: HttpRequest, viewer: Viewer) -> WebResult {
    let body = form_page(
        &viewer,
        "/customers",
        &CustomerForm::default(),
        &Refusal::default(),
        None,
    );
    Ok(show_form(
        &req,
        &viewer,
        StatusCode::OK,
        "New customer",
        body,
    ))
}

pub async fn create(
    req: HttpRequest,
    state: web::Data<AppState>,
    viewer: Viewer,
    CsrfForm(form): CsrfForm<CustomerForm>,
) -> WebResult {
    let input = form.input();
    let created = state
        .write_as(&viewer.credentials, move |conn, actor| {
            customers::create(conn, actor, &input)
        })
        .await;
    match created {
        Ok(c) => Ok(see_other(
            &format!("/customers/{}", c.meta.id),
            Flash::Created,
        )),
        Err(AppError::Validation(errors)) => {
            let refusal = Refusal {
                errors,
                conflict: None,
            };
            let body = form_page(&viewer, "/customers", &form, &refusal, None);
            Ok(show_form(
                &req,
                &viewer,
                StatusCode::UNPROCESSABLE_ENTITY,
                "New customer",
                body,
            ))
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn edit(
    req: HttpRequest,
    state: web::Data<AppState>,
    viewer: Viewer,
    id: web::Path<String>,
) -> WebResult {
    let id = id.into_inner();
    let lookup = id.clone();
    let customer = state
        .read_as(&viewer.credentials, move |conn, _| {
            customers::get(conn, &lookup)
        })
        .await?;
    let action = format!("/customers/{id}/edit");
    let body = form_page(
        &viewer,
        &action,
        &CustomerForm::from_customer(&customer),
        &Refusal::default(),
        Some(&id),
    );
    Ok(show_form(
        &req,
        &viewer,
        StatusCode::OK,
        "Edit customer",
        body,
    ))
}

pub async fn update(
    req: HttpRequest,
    state: web::Data<AppState>,
    viewer: Viewer,
    id: web::Path<String>,
    CsrfForm(mut form): CsrfForm<CustomerForm>,
) -> WebResult {
    let id = id.into_inner();
    let (input, expected, target) = (form.input(), form.version, id.clone());
    let updated = state
        .write_as(&viewer.credentials, move |conn, actor| {
            customers::update(conn, actor, &target, &input, expected)
        })
        .await;
    let action = format!("/customers/{id}/edit");
    let refusal = match updated {
        Ok(_) => return Ok(see_other(&format!("/customers/{id}"), Flash::Saved)),
        Err(AppError::Validation(errors)) => Refusal {
            errors,
            conflict: None,
        },
        Err(AppError::PreconditionFailed) => {
            let lookup = id.clone();
            let theirs = state
                .read_as(&viewer.credentials, move |conn, _| {
                    customers::get(conn, &lookup)
                })
                .await?;
            // The next save is made over their version, knowingly.
            form.version = Some(theirs.meta.version);
            Refusal {
                errors: Vec::new(),
                conflict: Some(theirs),
            }
        }
        Err(e) => return Err(e.into()),
    };
    let status = if refusal.conflict.is_some() {
        StatusCode::CONFLICT
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let body = form_page(&viewer, &action, &form, &refusal, Some(&id));
    Ok(show_form(&req, &viewer, status, "Edit customer", body))
}
