//! `/tasks`: the list, the task form (also reached as "create follow-up task" from a record),
//! and one-click completion. Writes go through `domain::tasks`, as the API's do.

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use maud::{Markup, html};
use serde::Deserialize;

use crate::domain::choice::Choice;
use crate::domain::list::{ListParams, Page};
use crate::domain::tasks::{self, Status, Task, TaskInput};
use crate::error::{AppError, FieldError};
use crate::state::AppState;
use crate::web::components::{
    Input, ListUrl, Select, csrf_field, day, empty_state, form_errors, options_with_any, textarea,
};
use crate::web::error::{WebError, safe_next};
use crate::web::flash::Flash;
use crate::web::forms::{CsrfForm, due_at, field, see_other};
use crate::web::layout::{self, Nav, respond};
use crate::web::people;
use crate::web::session::Viewer;

mod mine;
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
    let params = ListParams::parse(&raw, &tasks::LIST)?;
    let (sort, desc) = (params.sort, params.desc);
    let (page, names) = state
        .read_as(&viewer.credentials, move |conn, _| {
            let page = tasks::list(conn, &params)?;
            let names = people::names(conn, page.items.iter().map(|t| t.assigned_to.as_deref()))?;
            Ok((page, names))
        })
        .await?;
    let url = ListUrl {
        path: "/tasks",
        query: &raw,
    };
    let body = html! {
        div.pagehead {
            h1 { "Tasks" }
            a.button.primary href="/tasks/new" { "New task" }
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
            @for key in ["sort", "order"] {
                @if !url.value(key).is_empty() { input type="hidden" name=(key) value=(url.value(key)); }
            }
            button type="submit" { "Apply" }
            @if url.filtered() { a.clear href="/tasks" { "Clear" } }
        }
        @if page.items.is_empty() {
            (empty_state(url.filtered(), "/tasks", "No tasks yet.", html! {
                p { "Tasks keep follow-ups from slipping: create one here, or from any customer or lead with “Create follow-up task”." }
                p { a.button.primary href="/tasks/new" { "Create a task" } }
            }))
        } @else {
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
                        td data-label="Task" { (t.title) }
                        td data-label="Due" { @match &t.due_at { Some(d) => (day(d)), None => span.muted { "—" } } }
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
                    span.title { (t.title) }
                    span.muted { " · " (people::name(names, t.assigned_to.as_deref()))
                        @if let Some(d) = &t.due_at { " · due " (day(d)) } }
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

#[derive(Deserialize, Default)]
pub struct TaskForm {
    #[serde(default)]
    title: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    due: String,
    #[serde(default)]
    priority: String,
    #[serde(default)]
    customer_id: String,
    #[serde(default)]
    lead_id: String,
    #[serde(default)]
    contact_id: String,
    #[serde(default)]
    back: String,
}

impl TaskForm {
    fn input(&self) -> TaskInput {
        let link = |v: &str| {
            if v.is_empty() {
                None
            } else {
                Some(Some(v.to_owned()))
            }
        };
        TaskInput {
            title: field(&self.title),
            description: field(&self.description),
            due_at: due_at(&self.due),
            priority: field(&self.priority).filter(|p| p.is_some()),
            customer_id: link(&self.customer_id),
            lead_id: link(&self.lead_id),
            contact_id: link(&self.contact_id),
            ..TaskInput::default()
        }
    }
}

fn form_page(viewer: &Viewer, form: &TaskForm, errors: &[FieldError]) -> Markup {
    html! {
        p.crumbs { a href=(safe_next(Some(&form.back).filter(|b| !b.is_empty()).map(String::as_str).or(Some("/tasks")))) { "← Back" } }
        h1 { "New task" }
        section.card.formcard {
            (form_errors(errors, None))
            form method="post" action="/tasks" novalidate {
                (csrf_field(&viewer.csrf))
                @for (k, v) in [("customer_id", &form.customer_id), ("lead_id", &form.lead_id), ("contact_id", &form.contact_id), ("back", &form.back)] {
                    @if !v.is_empty() { input type="hidden" name=(k) value=(v); }
                }
                (Input::new("title", "Task", "text").value(&form.title).autofocus(true).render(errors))
                div.two {
                    (Input { required: false, ..Input::new("due", "Due on", "date") }.value(&form.due).render(errors))
                    (Select { name: "priority", label: "Priority", selected: if form.priority.is_empty() { "medium" } else { &form.priority },
                        options: PRIORITIES.iter().map(|(v, l)| ((*v).to_owned(), (*l).to_owned())).collect() }.render(errors))
                }
                (textarea("description", "Notes", &form.description, false, errors))
                div.actions { button.primary type="submit" { "Create task" } }
            }
        }
    }
}

#[derive(Deserialize)]
pub struct NewQuery {
    customer_id: Option<String>,
    lead_id: Option<String>,
    contact_id: Option<String>,
}

pub async fn new(req: HttpRequest, viewer: Viewer, query: web::Query<NewQuery>) -> WebResult {
    let q = query.into_inner();
    let form = TaskForm {
        customer_id: q.customer_id.unwrap_or_default(),
        lead_id: q.lead_id.unwrap_or_default(),
        contact_id: q.contact_id.unwrap_or_default(),
        ..TaskForm::default()
    };
    let markup = layout::page(
        &viewer,
        Nav::Tasks,
        "New task",
        None,
        form_page(&viewer, &form, &[]),
    );
    Ok(respond(&req, HttpResponse::Ok(), markup))
}

pub async fn create(
    req: HttpRequest,
    state: web::Data<AppState>,
    viewer: Viewer,
    CsrfForm(form): CsrfForm<TaskForm>,
) -> WebResult {
    let input = form.input();
    let created = state
        .write_as(&viewer.credentials, move |conn, actor| {
            tasks::create(conn, actor, &input)
        })
        .await;
    match created {
        Ok(_) => {
            let back = if form.back.is_empty() {
                "/tasks".to_owned()
            } else {
                safe_next(Some(&form.back))
            };
            Ok(see_other(&back, Flash::TaskCreated))
        }
        Err(AppError::Validation(errors)) => {
            let markup = layout::page(
                &viewer,
                Nav::Tasks,
                "New task",
                None,
                form_page(&viewer, &form, &errors),
            );
            Ok(respond(
                &req,
                HttpResponse::build(StatusCode::UNPROCESSABLE_ENTITY),
                markup,
            ))
        }
        Err(e) => Err(e.into()),
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
