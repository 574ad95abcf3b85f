//! `/leads`: the pipeline as a list, a lead's page (stage move, timeline, composer,
//! follow-up), and the create form. Reads and writes go through `domain::leads`, which hides
//! a lead's value from roles that may not see it; the pages also leave the column out.

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use maud::{Markup, html};
use serde::Deserialize;

use crate::auth::permissions::{self, Field};
use crate::domain::activities::SubjectType;
use crate::domain::attachments::{Attachment, EntityType};
use crate::domain::customers;
use crate::domain::leads::{self, Lead, StageMove};
use crate::domain::list::{ListParams, Page};
use crate::domain::records::Kind;
use crate::domain::stages::{self, Stage, StageKind};
use crate::domain::tasks::{self, Task};
use crate::domain::timeline::{self, TimelineItem, TimelineParams};
use crate::error::{AppError, FieldError};
use crate::state::AppState;
use crate::web::components::{
    Input, ListUrl, Select, csrf_field, day, empty_state, form_errors, money, paged,
};
use crate::web::error::{WebError, safe_next};
use crate::web::flash::Flash;
use crate::web::forms::{CsrfForm, field, see_other};
use crate::web::layout::{self, Nav, respond};
use crate::web::session::Viewer;
use crate::web::{attachments, people, tasks as task_pages, timeline as timeline_pages};
use crate::web::{bulk, imports, trash};

mod board;
mod convert;
mod form;
pub use board::board;
pub use convert::convert;
pub use form::{create, edit, new, update};

type WebResult = Result<HttpResponse, WebError>;
type Query = web::Query<Vec<(String, String)>>;

fn sees_value(viewer: &Viewer) -> bool {
    permissions::sees(viewer.actor.role, Field::LeadValue)
}

fn stage_label<'a>(stages: &'a [Stage], key: &'a str) -> &'a str {
    stages
        .iter()
        .find(|s| s.key == key)
        .map(|s| s.label.as_str())
        .unwrap_or(key)
}

fn stage_options(stages: &[Stage], any: Option<&str>) -> Vec<(String, String)> {
    any.map(|a| (String::new(), a.to_owned()))
        .into_iter()
        .chain(stages.iter().map(|s| (s.key.clone(), s.label.clone())))
        .collect()
}

pub async fn list(
    req: HttpRequest,
    state: web::Data<AppState>,
    viewer: Viewer,
    query: Query,
) -> WebResult {
    let raw = query.into_inner();
    let for_read = paged(&raw);
    let offered = bulk::offers_owners(&viewer);
    let (page, stages, names, sort, desc, owners) = state
        .read_as(&viewer.credentials, move |conn, actor| {
            let params = ListParams::parse(&for_read, leads::list_spec(actor))?;
            let page = leads::list(conn, actor, &params)?;
            let names = people::names(
                conn,
                page.items
                    .iter()
                    .map(|l| l.assigned_to.as_deref().or(l.meta.created_by.as_deref())),
            )?;
            Ok((
                page,
                stages::list(conn)?,
                names,
                params.sort,
                params.desc,
                bulk::owners(conn, offered)?,
            ))
        })
        .await?;
    let url = ListUrl {
        path: "/leads",
        query: &raw,
    };
    let body = html! {
        div.pagehead {
            h1 { "Leads" }
            div.actions {
                a.button href="/leads/board" { "Pipeline board" }
                (url.export_button(&viewer, "leads"))
                (imports::button(&viewer, "leads", "Import"))
                a.button.primary href="/leads/new" { "New lead" }
            }
        }
        form.filters method="get" action="/leads" role="search" aria-label="Filter leads" {
            div.field {
                label for="q" { "Search" }
                input #q type="search" name="q" value=(url.value("q")) placeholder="Title, company, contact…";
            }
            (Select { name: "stage", label: "Stage", selected: url.value("stage"), options: stage_options(&stages, Some("Any")) }.render(&[]))
            (Select { name: "assigned_to", label: "Assignee", selected: url.value("assigned_to"),
                options: vec![(String::new(), "Anyone".into()), (viewer.actor.user_id.clone(), "Me".into())] }.render(&[]))
            div.field {
                label for="source" { "Source" }
                input #source type="text" name="source" value=(url.value("source")) placeholder="e.g. web";
            }
            (url.filter_buttons())
        }
        @if page.items.is_empty() {
            (empty_state(url.filtered(), "/leads", "No leads yet.", html! {
                p { "Leads are the deals you are working on. Add one for a customer, or for a prospect you have just met." }
                p { a.button.primary href="/leads/new" { "Add your first lead" } " "
                    (imports::button(&viewer, "leads", "Import a spreadsheet")) }
            }))
        } @else {
            (bulk::bar(&viewer, Kind::Lead, &url.with(&[]), &owners))
            (table(&viewer, &url, &page, &stages, &names, sort, desc))
        }
        (url.pager(page.next_cursor.as_deref()))
    };
    let markup = layout::page(
        &viewer,
        Nav::Leads,
        "Leads",
        Flash::from_request(&req),
        body,
    );
    Ok(respond(&req, HttpResponse::Ok(), markup))
}

fn table(
    viewer: &Viewer,
    url: &ListUrl<'_>,
    page: &Page<Lead>,
    stages: &[Stage],
    names: &HashMap<String, String>,
    sort: &str,
    desc: bool,
) -> Markup {
    let value = sees_value(viewer);
    html! {
        table.list {
            thead { tr {
                (trash::bulk_header(viewer))
                (url.sort_header("Title", "title", sort, desc))
                th scope="col" { "Company" }
                th scope="col" { "Stage" }
                @if value { (url.sort_header("Value", "value_cents", sort, desc)) }
                th scope="col" { "Assignee" }
                (url.sort_header("Expected close", "expected_close_date", sort, desc))
                (url.sort_header("Added", "created_at", sort, desc))
            } }
            tbody {
                @for l in &page.items {
                    tr {
                        (trash::bulk_cell(viewer, &l.meta.id, &l.title))
                        td data-label="Title" { a href=(format!("/leads/{}", l.meta.id)) { (l.title) } }
                        td data-label="Company" { (l.company_name.as_deref().unwrap_or("")) }
                        td data-label="Stage" { span.badge { (stage_label(stages, &l.stage)) } }
                        @if value {
                            td.num data-label="Value" { @if let Some(v) = l.value_cents { (money(v, &l.currency)) } }
                        }
                        td data-label="Assignee" { (people::name(names, l.assigned_to.as_deref().or(l.meta.created_by.as_deref()))) }
                        td data-label="Expected close" { (l.expected_close_date.as_deref().unwrap_or("")) }
                        td data-label="Added" { (day(&l.meta.created_at, &viewer.zone)) }
                    }
                }
            }
        }
    }
}

struct Detail {
    lead: Lead,
    customer_name: Option<String>,
    stages: Vec<Stage>,
    tasks: Page<Task>,
    timeline: Page<TimelineItem>,
    names: HashMap<String, String>,
    files: Vec<Attachment>,
}

async fn load(
    state: &AppState,
    viewer: &Viewer,
    id: String,
    timeline_params: TimelineParams,
) -> Result<Detail, AppError> {
    state
        .read_as(&viewer.credentials, move |conn, actor| {
            let lead = leads::get(conn, actor, &id)?;
            let customer_name = match &lead.customer_id {
                Some(cid) => match customers::get(conn, cid) {
                    Ok(c) => Some(c.name),
                    Err(AppError::NotFound) => None,
                    Err(e) => return Err(e),
                },
                None => None,
            };
            let related = vec![
                ("lead_id".to_owned(), id.clone()),
                ("limit".to_owned(), "20".to_owned()),
            ];
            let tasks = tasks::list(conn, &ListParams::parse(&related, &tasks::LIST)?)?;
            let timeline = timeline::page(conn, SubjectType::Lead, &id, &timeline_params)?;
            let ids = std::iter::once(
                lead.assigned_to
                    .as_deref()
                    .or(lead.meta.created_by.as_deref()),
            )
            .chain(timeline.items.iter().map(|t| t.actor_id.as_deref()))
            .chain(tasks.items.iter().map(|t| t.assigned_to.as_deref()));
            let names = people::names(conn, ids)?;
            Ok(Detail {
                lead,
                customer_name,
                stages: stages::list(conn)?,
                tasks,
                timeline,
                names,
                files: attachments::load(conn, actor, EntityType::Lead, &id)?,
            })
        })
        .await
}

/// The stage form as typed, when the server refused it.
#[derive(Deserialize, Default)]
pub struct StageForm {
    #[serde(default)]
    stage: String,
    #[serde(default)]
    lost_reason: String,
    version: Option<i64>,
    /// Where to go after the move (the board sends its own URL); the lead page otherwise.
    #[serde(default)]
    back: String,
}

pub async fn show(
    req: HttpRequest,
    state: web::Data<AppState>,
    viewer: Viewer,
    id: web::Path<String>,
) -> WebResult {
    let detail = load(
        &state,
        &viewer,
        id.into_inner(),
        timeline_pages::params(&req)?,
    )
    .await?;
    let body = detail_page(&viewer, &detail, &Outcome::default());
    let markup = layout::page(
        &viewer,
        Nav::Leads,
        &detail.lead.title,
        Flash::from_request(&req),
        body,
    );
    Ok(respond(&req, HttpResponse::Ok(), markup))
}

/// What a lead page shows besides the stored state: a refused stage move or conversion.
#[derive(Default)]
struct Outcome<'a> {
    stage: Option<&'a StageForm>,
    stage_errors: Vec<FieldError>,
    convert: Option<&'a convert::ConvertForm>,
    convert_errors: Vec<FieldError>,
}

/// The lead page again, with a refused form's input and messages.
async fn refused(
    req: &HttpRequest,
    state: &AppState,
    viewer: &Viewer,
    id: String,
    status: StatusCode,
    outcome: Outcome<'_>,
) -> WebResult {
    let detail = load(state, viewer, id, TimelineParams::parse(&[])?).await?;
    let body = detail_page(viewer, &detail, &outcome);
    let markup = layout::page(viewer, Nav::Leads, &detail.lead.title, None, body);
    Ok(respond(req, HttpResponse::build(status), markup))
}

fn detail_page(viewer: &Viewer, d: &Detail, outcome: &Outcome<'_>) -> Markup {
    let (typed, errors) = (outcome.stage, &outcome.stage_errors);
    let l = &d.lead;
    let path = format!("/leads/{}", l.meta.id);
    let lost_keys: Vec<&str> = d
        .stages
        .iter()
        .filter(|s| s.kind == StageKind::Lost)
        .map(|s| s.key.as_str())
        .collect();
    html! {
        p.crumbs { a href="/leads" { "Leads" } }
        div.pagehead {
            h1 { (l.title) " " span.badge.stage { (stage_label(&d.stages, &l.stage)) } }
            div.actions {
                a.button href=(format!("{path}/edit")) { "Edit" }
                (trash::delete_button(viewer, Kind::Lead, &l.meta.id, l.meta.version, &l.title))
            }
        }
        div.detail {
            div.main-col {
                section.card aria-labelledby="facts-title" {
                    h2 #facts-title.sr-only { "Details" }
                    dl.facts {
                        dt { "Customer" } dd { @match (&l.customer_id, &d.customer_name) {
                            (Some(cid), Some(name)) => a href=(format!("/customers/{cid}")) { (name) },
                            _ => (l.company_name.as_deref().unwrap_or("—")),
                        } }
                        @if sees_value(viewer) {
                            dt { "Value" } dd { @if let Some(v) = l.value_cents { (money(v, &l.currency)) } @else { "—" } }
                        }
                        dt { "Assignee" } dd { (people::name(&d.names, l.assigned_to.as_deref().or(l.meta.created_by.as_deref()))) }
                        dt { "Source" } dd { (l.source.as_deref().unwrap_or("—")) }
                        dt { "Expected close" } dd { (l.expected_close_date.as_deref().unwrap_or("—")) }
                        dt { "Contact" } dd { (l.contact_name.as_deref().unwrap_or("—"))
                            @if let Some(e) = &l.email { " · " (e) } @if let Some(p) = &l.phone { " · " (p) } }
                        @if let Some(reason) = &l.lost_reason { dt { "Lost because" } dd { (reason) } }
                    }
                }
                section.card #timeline aria-labelledby="timeline-title" {
                    h2 #timeline-title { "Timeline" }
                    (timeline_pages::composer(viewer, SubjectType::Lead, &l.meta.id, None, &[]))
                    (timeline_pages::list(&d.timeline, &d.names, &path, &viewer.zone))
                }
            }
            aside.side-col {
                section.card #stage aria-labelledby="stage-title" {
                    h2 #stage-title { "Move stage" }
                    (form_errors(errors, None))
                    form.stageform method="post" action=(format!("{path}/stage")) novalidate data-lost-stages=(lost_keys.join(",")) {
                        (csrf_field(&viewer.csrf))
                        input type="hidden" name="version" value=(l.meta.version);
                        (Select { name: "stage", label: "Stage", selected: typed.map(|t| t.stage.as_str()).unwrap_or(&l.stage),
                            options: stage_options(&d.stages, None) }.render(errors))
                        (Input { required: false, ..Input::new("lost_reason", "Reason lost", "text") }
                            .value(typed.map(|t| t.lost_reason.as_str()).unwrap_or(""))
                            .hint("Required when moving to a lost stage.").render(errors))
                        button.primary type="submit" { "Move" }
                    }
                }
                @if l.customer_id.is_none() && l.contact_id.is_none() {
                    (convert::card(viewer, l, outcome.convert, &outcome.convert_errors))
                }
                section.card aria-labelledby="tasks-title" {
                    h2 #tasks-title { "Tasks" }
                    (task_pages::mini_list(viewer, &d.tasks.items, &d.names, &path))
                    (task_pages::follow_up(viewer, &[("lead_id", &l.meta.id)], &path))
                }
                (attachments::panel(viewer, EntityType::Lead, &l.meta.id, &d.files, &path))
            }
        }
    }
}

pub async fn move_stage(
    req: HttpRequest,
    state: web::Data<AppState>,
    viewer: Viewer,
    id: web::Path<String>,
    CsrfForm(form): CsrfForm<StageForm>,
) -> WebResult {
    let id = id.into_inner();
    let input = StageMove {
        stage: Some(form.stage.clone()),
        lost_reason: field(&form.lost_reason).flatten(),
    };
    let (target, expected) = (id.clone(), form.version);
    let moved = state
        .write_as(&viewer.credentials, move |conn, actor| {
            leads::move_stage(conn, actor, &target, &input, expected)
        })
        .await;
    let (status, errors) = match moved {
        Ok(_) => {
            let back = if form.back.is_empty() {
                format!("/leads/{id}")
            } else {
                safe_next(Some(&form.back))
            };
            return Ok(see_other(&back, Flash::StageMoved));
        }
        Err(AppError::Validation(errors)) => (StatusCode::UNPROCESSABLE_ENTITY, errors),
        Err(AppError::PreconditionFailed) => (
            StatusCode::CONFLICT,
            vec![FieldError::new(
                "stage",
                "was changed by someone else since you opened this page; check the stage shown and try again",
            )],
        ),
        Err(e) => return Err(e.into()),
    };
    let outcome = Outcome {
        stage: Some(&form),
        stage_errors: errors,
        ..Outcome::default()
    };
    refused(&req, &state, &viewer, id, status, outcome).await
}
