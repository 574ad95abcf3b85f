//! The task create and edit forms. "Create follow-up task" on a record posts here too, with
//! the record's id and the page to return to.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use maud::{Markup, html};
use serde::Deserialize;

use crate::domain::choice::Choice;
use crate::domain::clock::{Timestamp, Zone};
use crate::domain::reports::day_string;
use crate::domain::tasks::{self, Task, TaskInput};
use crate::error::AppError;
use crate::state::AppState;
use crate::web::components::{
    Input, Select, conflict_notice, csrf_field, form_actions, form_errors, textarea,
};
use crate::web::error::{WebError, safe_next};
use crate::web::flash::Flash;
use crate::web::forms::{CsrfForm, Refusal, due_at, field, see_other};
use crate::web::layout::{self, Nav};
use crate::web::session::Viewer;

use super::{PRIORITIES, STATUSES};

type WebResult = Result<HttpResponse, WebError>;

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
    status: String,
    #[serde(default)]
    customer_id: String,
    #[serde(default)]
    lead_id: String,
    #[serde(default)]
    contact_id: String,
    #[serde(default)]
    back: String,
    version: Option<i64>,
}

impl TaskForm {
    /// The form of a saved task; its due time shows as the day it falls on in `zone`.
    fn from_task(t: &Task, zone: &Zone) -> Self {
        TaskForm {
            title: t.title.clone(),
            description: t.description.clone().unwrap_or_default(),
            due: t
                .due_at
                .as_deref()
                .and_then(Timestamp::parse)
                .map(|at| day_string(zone.date_of(at)))
                .unwrap_or_default(),
            priority: t.priority.as_str().to_owned(),
            status: t.status.as_str().to_owned(),
            version: Some(t.meta.version),
            ..TaskForm::default()
        }
    }

    fn input(&self, zone: &Zone) -> TaskInput {
        // Links and status are only sent when the form has them, so an edit leaves the
        // record's links alone and a new task starts pending.
        let given = |v: &str| field(v).filter(|v| v.is_some());
        TaskInput {
            title: field(&self.title),
            description: field(&self.description),
            due_at: due_at(&self.due, zone),
            priority: given(&self.priority),
            status: given(&self.status),
            customer_id: given(&self.customer_id),
            lead_id: given(&self.lead_id),
            contact_id: given(&self.contact_id),
            ..TaskInput::default()
        }
    }

    fn back(&self) -> String {
        if self.back.is_empty() {
            "/tasks/mine".to_owned()
        } else {
            safe_next(Some(&self.back))
        }
    }
}

fn conflict(mine: &TaskForm, theirs: &Task, zone: &Zone) -> Markup {
    let t = TaskForm::from_task(theirs, zone);
    conflict_notice(
        "task",
        &[
            ("Task", &mine.title, &t.title),
            ("Due on", &mine.due, &t.due),
            ("Priority", &mine.priority, &t.priority),
            ("Status", &mine.status, &t.status),
            ("Notes", &mine.description, &t.description),
        ],
        &format!("/tasks/{}", theirs.meta.id),
    )
}

fn choices(items: &[(&str, &str)]) -> Vec<(String, String)> {
    items
        .iter()
        .map(|(v, l)| ((*v).to_owned(), (*l).to_owned()))
        .collect()
}

fn form_page(
    viewer: &Viewer,
    form: &TaskForm,
    refusal: &Refusal<Task>,
    editing: Option<&str>,
    zone: &Zone,
) -> Markup {
    let errors = &refusal.errors;
    let action = editing.map_or_else(|| "/tasks".to_owned(), |id| format!("/tasks/{id}/edit"));
    let back = editing.map_or_else(|| form.back(), |id| format!("/tasks/{id}"));
    html! {
        p.crumbs { a href=(back) { "← Back" } }
        h1 { @if editing.is_some() { "Edit task" } @else { "New task" } }
        section.card.formcard {
            @if let Some(theirs) = &refusal.conflict { (conflict(form, theirs, zone)) }
            (form_errors(errors, None))
            form method="post" action=(action) novalidate {
                (csrf_field(&viewer.csrf))
                @if let Some(v) = form.version { input type="hidden" name="version" value=(v); }
                @for (k, v) in [("customer_id", &form.customer_id), ("lead_id", &form.lead_id), ("contact_id", &form.contact_id), ("back", &form.back)] {
                    @if !v.is_empty() { input type="hidden" name=(k) value=(v); }
                }
                (Input::new("title", "Task", "text").value(&form.title).autofocus(editing.is_none()).render(errors))
                div.two {
                    (Input { required: false, ..Input::new("due", "Due on", "date") }.value(&form.due).render(errors))
                    (Select { name: "priority", label: "Priority", selected: if form.priority.is_empty() { "medium" } else { &form.priority },
                        options: choices(&PRIORITIES) }.render(errors))
                }
                @if editing.is_some() {
                    (Select { name: "status", label: "Status", selected: &form.status, options: choices(&STATUSES) }.render(errors))
                }
                (textarea("description", "Notes", &form.description, false, errors))
                (form_actions(editing.is_some(), "Create task", &back))
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

pub async fn new(
    req: HttpRequest,
    state: web::Data<AppState>,
    viewer: Viewer,
    query: web::Query<NewQuery>,
) -> WebResult {
    let q = query.into_inner();
    let form = TaskForm {
        customer_id: q.customer_id.unwrap_or_default(),
        lead_id: q.lead_id.unwrap_or_default(),
        contact_id: q.contact_id.unwrap_or_default(),
        ..TaskForm::default()
    };
    let body = form_page(
        &viewer,
        &form,
        &Refusal::default(),
        None,
        &state.config.timezone,
    );
    Ok(layout::form_response(
        Nav::Tasks,
        &req,
        &viewer,
        StatusCode::OK,
        "New task",
        body,
    ))
}

pub async fn create(
    req: HttpRequest,
    state: web::Data<AppState>,
    viewer: Viewer,
    CsrfForm(form): CsrfForm<TaskForm>,
) -> WebResult {
    let zone = &state.config.timezone;
    let input = form.input(zone);
    let created = state
        .write_as(&viewer.credentials, move |conn, actor| {
            tasks::create(conn, actor, &input)
        })
        .await;
    let refusal = match created {
        Ok(_) => return Ok(see_other(&form.back(), Flash::TaskCreated)),
        Err(AppError::Validation(errors)) => Refusal::invalid(errors),
        Err(e) => return Err(e.into()),
    };
    let body = form_page(&viewer, &form, &refusal, None, zone);
    Ok(layout::form_response(
        Nav::Tasks,
        &req,
        &viewer,
        refusal.status(),
        "New task",
        body,
    ))
}

async fn get(state: &AppState, viewer: &Viewer, id: &str) -> Result<Task, AppError> {
    let id = id.to_owned();
    state
        .read_as(&viewer.credentials, move |conn, _| tasks::get(conn, &id))
        .await
}

pub async fn edit(
    req: HttpRequest,
    state: web::Data<AppState>,
    viewer: Viewer,
    id: web::Path<String>,
) -> WebResult {
    let id = id.into_inner();
    let task = get(&state, &viewer, &id).await?;
    let zone = &state.config.timezone;
    let body = form_page(
        &viewer,
        &TaskForm::from_task(&task, zone),
        &Refusal::default(),
        Some(&id),
        zone,
    );
    Ok(layout::form_response(
        Nav::Tasks,
        &req,
        &viewer,
        StatusCode::OK,
        "Edit task",
        body,
    ))
}

pub async fn update(
    req: HttpRequest,
    state: web::Data<AppState>,
    viewer: Viewer,
    id: web::Path<String>,
    CsrfForm(mut form): CsrfForm<TaskForm>,
) -> WebResult {
    let id = id.into_inner();
    // An edit never relinks the task: its links are not on the form.
    for link in [
        &mut form.customer_id,
        &mut form.lead_id,
        &mut form.contact_id,
    ] {
        link.clear();
    }
    let zone = &state.config.timezone;
    let (input, expected, target) = (form.input(zone), form.version, id.clone());
    let updated = state
        .write_as(&viewer.credentials, move |conn, actor| {
            tasks::update(conn, actor, &target, &input, expected)
        })
        .await;
    let refusal = match updated {
        Ok(_) => return Ok(see_other(&format!("/tasks/{id}"), Flash::Saved)),
        Err(AppError::Validation(errors)) => Refusal::invalid(errors),
        Err(AppError::PreconditionFailed) => {
            let theirs = get(&state, &viewer, &id).await?;
            // The next save is made over their version, knowingly.
            form.version = Some(theirs.meta.version);
            Refusal::stale(theirs)
        }
        Err(e) => return Err(e.into()),
    };
    let body = form_page(&viewer, &form, &refusal, Some(&id), zone);
    Ok(layout::form_response(
        Nav::Tasks,
        &req,
        &viewer,
        refusal.status(),
        "Edit task",
        body,
    ))
}
