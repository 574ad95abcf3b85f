//! `/tasks`: the list, the task form (also reached as "create follow-up task" from a record),
//! and one-click completion. Writes go through `domain::tasks`, as the API's do.

use std::collections::HashMap;

use actix_web::{HttpRequest, HttpResponse, web};
use maud::{Markup, html};
use serde::Deserialize;

use crate::domain::choice::Choice;
use crate::domain::list::{ListParams, Page};
use crate::domain::records::Kind;
use crate::domain::tasks::{self, Status, Task};
use crate::domain::{contacts, customers, leads};
use crate::error::AppError;
use crate::state::AppState;
use crate::web::components::{
    Input, ListUrl, Select, csrf_field, day, empty_state, options_with_any, paged,
};
use crate::web::error::{WebError, safe_next};
use crate::web::flash::Flash;
use crate::web::forms::{CsrfForm, see_other};
use crate::web::layout::{self, Nav, respond};
use crate::web::people;
use crate::web::session::Viewer;
use crate::web::{bulk, imports, trash};

mod form;
mod mine;
pub use form::{create, edit, new, update};
pub use mine::mine;

type WebResult = Result<HttpResponse, WebError>;
type Query = web::Query<Vec<(String, String)>>;

const STATUSES: [(&str, &str); 3] = [
    ("pending", "Pending"),
    ("in_progress", "In progress"),
    ("completed", "Completed"),
];
const PRIORITIES: [(&str, &str); 3] = [("low", "Low"), ("medium", "Medium"), ("high", "High")];

pub async fn list(
    req: HttpRequest,
    state: web::Data<AppState>,
    viewer: Viewer,
    query: Query,
) -> WebResult {
    let raw = query.into_inner();
    let params = ListParams::parse(&paged(&raw), &tasks::LIST)?;
    let (sort, desc) = (params.sort, params.desc);
    let offered = bulk::offers_owners(&viewer);
    let (page, names, owners) = state
        .read_as(&viewer.credentials, move |conn, _| {
            let page = tasks::list(conn, &params)?;
            let names = people::names(conn, page.items.iter().map(|t| t.assigned_to.as_deref()))?;
            Ok((page, names, bulk::owners(conn, offered)?))
        })
        .await?;
    let url = ListUrl {
        path: "/tasks",
        query: &raw,
    };
    let body = html! {
        div.pagehead {
            h1 { "Tasks" }
            div.actions {
                (url.export_button(&viewer, "tasks"))
                (imports::button(&viewer, "tasks", "Import"))
                a.button.primary href="/tasks/new" { "New task" }
            }
        }
        form.filters method="get" action="/tasks" role="search" aria-label="Filter tasks" {
            div.field {
                label for="q" { "Search" }
                input #q type="search" name="q" value=(url.value("q"));
            }
            (Select { name: "assigned_to", label: "Assignee", selected: url.value("assigned_to"),
                options: vec![(String::new(), "Anyone".into()), (viewer.actor.user_id.clone(), "Me".into())] }.render(&[]))
            (Select { name: "status", label: "Status", selected: url.value("status"), options: options_with_any("Any", &STATUSES) }.render(&[]))
            (Select { name: "priority", label: "Priority", selected: url.value("priority"), options: options_with_any("Any", &PRIORITIES) }.render(&[]))
            (Select { name: "overdue", label: "Due", selected: url.value("overdue"),
                options: options_with_any("Any time", &[("true", "Overdue")]) }.render(&[]))
            (url.filter_buttons())
        }
        @if page.items.is_empty() {
            (empty_state(url.filtered(), "/tasks", "No tasks yet.", html! {
                p { "Tasks keep follow-ups from slipping: create one here, or from any customer or lead with “Create follow-up task”." }
                p { a.button.primary href="/tasks/new" { "Create a task" } " "
                    (imports::button(&viewer, "tasks", "Import a spreadsheet")) }
            }))
        } @else {
            (bulk::bar(&viewer, Kind::Task, &url.with(&[]), &owners))
            (table(&viewer, &url, &page, &names, sort, desc))
        }
        (url.pager(page.next_cursor.as_deref()))
    };
    let markup = layout::page(
        &viewer,
        Nav::Tasks,
        "Tasks",
        Flash::from_request(&req),
        body,
    );
    Ok(respond(&req, HttpResponse::Ok(), markup))
}

fn status_label(s: Status) -> &'static str {
    STATUSES
        .iter()
        .find(|(k, _)| *k == s.as_str())
        .map(|(_, l)| *l)
        .unwrap_or("")
}

fn table(
    viewer: &Viewer,
    url: &ListUrl<'_>,
    page: &Page<Task>,
    names: &HashMap<String, String>,
    sort: &str,
    desc: bool,
) -> Markup {
    let back = url.with(&[]);
    html! {
        table.list {
            thead { tr {
                (trash::bulk_header(viewer))
                th scope="col" { "Task" }
                (url.sort_header("Due", "due_at", sort, desc))
                th scope="col" { "Priority" }
                th scope="col" { "Status" }
                th scope="col" { "Assignee" }
                th scope="col" { span.sr-only { "Actions" } }
            } }
            tbody {
                @for t in &page.items {
                    tr {
                        (trash::bulk_cell(viewer, &t.meta.id, &t.title))
                        td data-label="Task" { a href=(format!("/tasks/{}", t.meta.id)) { (t.title) } }
                        td data-label="Due" { @match &t.due_at { Some(d) => (day(d, &viewer.zone)), None => span.muted { "—" } } }
                        td data-label="Priority" { span class=(format!("prio prio-{}", t.priority.as_str())) { (t.priority.as_str()) } }
                        td data-label="Status" { (status_label(t.status)) }
                        td data-label="Assignee" { (people::name(names, t.assigned_to.as_deref())) }
                        td { (complete_button(viewer, t, &back)) }
                    }
                }
            }
        }
    }
}

/// One click to complete; it carries the version it was shown with, so completing a task
/// someone else just changed is refused rather than silently applied.
pub fn complete_button(viewer: &Viewer, t: &Task, back: &str) -> Markup {
    html! {
        @if t.status != Status::Completed {
            form.inline method="post" action=(format!("/tasks/{}/complete", t.meta.id)) {
                (csrf_field(&viewer.csrf))
                input type="hidden" name="version" value=(t.meta.version);
                input type="hidden" name="back" value=(back);
                button.small type="submit" aria-label=(format!("Complete “{}”", t.title)) { "Complete" }
            }
        } @else {
            span.badge.ok { "Done" }
        }
    }
}

/// A record's open tasks, for the side of its page.
pub fn mini_list(
    viewer: &Viewer,
    items: &[Task],
    names: &HashMap<String, String>,
    back: &str,
) -> Markup {
    html! {
        @if items.is_empty() { p.muted { "No tasks yet." } }
        ul.plain.tasks {
            @for t in items {
                li {
                    a.title href=(format!("/tasks/{}", t.meta.id)) { (t.title) }
                    span.muted { " · " (people::name(names, t.assigned_to.as_deref()))
                        @if let Some(d) = &t.due_at { " · due " (day(d, &viewer.zone)) } }
                    (complete_button(viewer, t, back))
                }
            }
        }
    }
}

/// "Create follow-up task" on a record's page: title and due day, linked to the record.
pub fn follow_up(viewer: &Viewer, links: &[(&str, &str)], back: &str) -> Markup {
    html! {
        details.followup {
            summary { "Create follow-up task" }
            form method="post" action="/tasks" {
                (csrf_field(&viewer.csrf))
                @for (k, v) in links { input type="hidden" name=(k) value=(v); }
                input type="hidden" name="back" value=(back);
                (Input::new("title", "Task", "text").render(&[]))
                (Input { required: false, ..Input::new("due", "Due on", "date") }.render(&[]))
                button.primary type="submit" { "Create task" }
            }
        }
    }
}

#[derive(Deserialize)]
pub struct CompleteForm {
    version: Option<i64>,
    #[serde(default)]
    back: String,
}

pub async fn complete(
    state: web::Data<AppState>,
    viewer: Viewer,
    id: web::Path<String>,
    CsrfForm(form): CsrfForm<CompleteForm>,
) -> WebResult {
    let (id, expected) = (id.into_inner(), form.version);
    state
        .write_as(&viewer.credentials, move |conn, actor| {
            tasks::complete(conn, actor, &id, expected)
        })
        .await?;
    let back = if form.back.is_empty() {
        "/tasks".to_owned()
    } else {
        safe_next(Some(&form.back))
    };
    Ok(see_other(&back, Flash::TaskCompleted))
}

/// Links to the records a task is about, with their names where they still resolve.
struct About {
    customer: Option<(String, String)>,
    lead: Option<(String, String)>,
    contact: Option<(String, String)>,
}

fn about(
    conn: &rusqlite::Connection,
    actor: &crate::auth::Actor,
    t: &Task,
) -> Result<About, AppError> {
    fn found<T>(r: Result<T, AppError>) -> Result<Option<T>, AppError> {
        match r {
            Ok(v) => Ok(Some(v)),
            Err(AppError::NotFound) => Ok(None),
            Err(e) => Err(e),
        }
    }
    let mut out = About {
        customer: None,
        lead: None,
        contact: None,
    };
    if let Some(id) = &t.customer_id {
        out.customer =
            found(customers::get(conn, id))?.map(|c| (format!("/customers/{id}"), c.name));
    }
    if let Some(id) = &t.lead_id {
        out.lead = found(leads::get(conn, actor, id))?.map(|l| (format!("/leads/{id}"), l.title));
    }
    if let Some(id) = &t.contact_id {
        out.contact = found(contacts::get(conn, id))?.map(|c| {
            (
                format!("/contacts/{id}"),
                format!("{} {}", c.first_name, c.last_name.unwrap_or_default())
                    .trim()
                    .to_owned(),
            )
        });
    }
    Ok(out)
}

/// `/tasks/{id}`: the task, what it is about, and one click to complete it.
pub async fn show(
    req: HttpRequest,
    state: web::Data<AppState>,
    viewer: Viewer,
    id: web::Path<String>,
) -> WebResult {
    let id = id.into_inner();
    let (task, about, names) = state
        .read_as(&viewer.credentials, move |conn, actor| {
            let task = tasks::get(conn, &id)?;
            let about = about(conn, actor, &task)?;
            let names = people::names(
                conn,
                [
                    task.assigned_to.as_deref(),
                    task.meta.created_by.as_deref(),
                    task.completed_by.as_deref(),
                ],
            )?;
            Ok((task, about, names))
        })
        .await?;
    let path = format!("/tasks/{}", task.meta.id);
    let body = html! {
        p.crumbs { a href="/tasks/mine" { "My tasks" } " / " a href="/tasks" { "All tasks" } }
        div.pagehead {
            h1 { (task.title) " " span class=(format!("badge prio-{}", task.priority.as_str())) { (task.priority.as_str()) } }
            div.actions {
                (complete_button(&viewer, &task, &path))
                a.button href=(format!("{path}/edit")) { "Edit" }
                (trash::delete_button(&viewer, Kind::Task, &task.meta.id, task.meta.version, &task.title))
            }
        }
        section.card.formcard {
            dl.facts {
                dt { "Status" } dd { (status_label(task.status))
                    @if let Some(at) = &task.completed_at { " " span.muted { (day(at, &viewer.zone)) " by " (people::name(&names, task.completed_by.as_deref())) } } }
                dt { "Due" } dd { @match &task.due_at { Some(d) => (day(d, &viewer.zone)), None => "—" } }
                dt { "Assignee" } dd { (people::name(&names, task.assigned_to.as_deref())) }
                dt { "Created by" } dd { (people::name(&names, task.meta.created_by.as_deref())) }
                @for (label, link) in [("Customer", &about.customer), ("Lead", &about.lead), ("Contact", &about.contact)] {
                    @if let Some((href, name)) = link { dt { (label) } dd { a href=(href) { (name) } } }
                }
            }
            @if let Some(notes) = &task.description { h2 { "Notes" } p.pre { (notes) } }
        }
    };
    let markup = layout::page(
        &viewer,
        Nav::Tasks,
        &task.title,
        Flash::from_request(&req),
        body,
    );
    Ok(respond(&req, HttpResponse::Ok(), markup))
}
