//! A record's timeline and the composer that logs a call, e-mail, meeting or note on it in
//! one step. Customer, contact and lead pages all embed these.

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use maud::{Markup, html};
use serde::Deserialize;

use crate::domain::activities::{self, ActivityInput, SubjectType};
use crate::domain::clock::Zone;
use crate::domain::list::Page;
use crate::domain::timeline::{Details, ItemType, TimelineItem, TimelineParams};
use crate::error::{AppError, AppResult, FieldError};
use crate::state::AppState;
use crate::web::components::{Select, csrf_field, form_errors, moment, textarea};
use crate::web::error::WebError;
use crate::web::flash::Flash;
use crate::web::forms::{CsrfForm, field, see_other};
use crate::web::layout::{self, Nav, respond};
use crate::web::people;
use crate::web::session::Viewer;

const KINDS: [(&str, &str); 4] = [
    ("call", "Call"),
    ("email", "E-mail"),
    ("meeting", "Meeting"),
    ("note", "Note"),
];

/// The page of a record an activity can be about.
pub fn subject_path(subject: SubjectType, id: &str) -> String {
    match subject {
        SubjectType::Customer => format!("/customers/{id}"),
        SubjectType::Contact => format!("/contacts/{id}"),
        SubjectType::Lead => format!("/leads/{id}"),
    }
}

fn subject_key(subject: SubjectType) -> &'static str {
    match subject {
        SubjectType::Customer => "customer",
        SubjectType::Contact => "contact",
        SubjectType::Lead => "lead",
    }
}

/// What the user typed into the composer, kept when the server refuses it.
#[derive(Deserialize, Default)]
pub struct LogForm {
    #[serde(default)]
    subject_type: String,
    #[serde(default)]
    subject_id: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    body: String,
}

pub fn composer(
    viewer: &Viewer,
    subject: SubjectType,
    id: &str,
    typed: Option<&LogForm>,
    errors: &[FieldError],
) -> Markup {
    let kind = typed.map(|t| t.kind.as_str()).unwrap_or("call");
    let body = typed.map(|t| t.body.as_str()).unwrap_or("");
    html! {
        form.composer method="post" action="/activities" aria-label="Log an activity" {
            (csrf_field(&viewer.csrf))
            input type="hidden" name="subject_type" value=(subject_key(subject));
            input type="hidden" name="subject_id" value=(id);
            (form_errors(errors, None))
            div.row {
                (Select { name: "kind", label: "Type", selected: kind,
                    options: KINDS.iter().map(|(v, l)| ((*v).to_owned(), (*l).to_owned())).collect() }
                    .render(errors))
                button.primary type="submit" { "Log it" }
            }
            (textarea("body", "What happened?", body, true, errors))
        }
    }
}

/// Which page of a record's timeline its page shows: `?timeline=<cursor>` for older ones.
pub fn params(req: &HttpRequest) -> AppResult<TimelineParams> {
    let cursor = web::Query::<Vec<(String, String)>>::from_query(req.query_string())
        .map(|q| q.into_inner())
        .unwrap_or_default()
        .into_iter()
        .find(|(k, _)| k == "timeline")
        .map(|(_, v)| vec![("cursor".to_owned(), v)])
        .unwrap_or_default();
    TimelineParams::parse(&cursor)
}

pub fn list(
    page: &Page<TimelineItem>,
    names: &HashMap<String, String>,
    path: &str,
    zone: &Zone,
) -> Markup {
    let items = &page.items;
    html! {
        @if items.is_empty() {
            p.muted { "Nothing logged yet. Log the first call or note above." }
        } @else {
            ol.timeline {
                @for item in items {
                    li class=(format!("t-{}", item_class(item.item_type))) {
                        div.t-head {
                            @match &item.details {
                                // An activity shows its whole text, as logged: the summary
                                // is cut to one line.
                                Details::Activity { kind, .. } => strong { (kind.label()) },
                                _ => strong { (item.summary) },
                            }
                            span.muted { " · " (people::name(names, item.actor_id.as_deref())) " · " (moment(&item.at, zone)) }
                        }
                        @if let Details::Activity { body, .. } = &item.details {
                            p.t-body { (body) }
                        }
                    }
                }
            }
        }
        @if let Some(cursor) = &page.next_cursor {
            p { a href=(format!("{path}?timeline={}#timeline", crate::web::error::urlencode(cursor))) { "Older entries →" } }
        }
    }
}

fn item_class(item: ItemType) -> &'static str {
    match item {
        ItemType::Activity => "activity",
        ItemType::StageChange => "stage",
        ItemType::TaskCreated | ItemType::TaskCompleted => "task",
        ItemType::AttachmentAdded | ItemType::AttachmentDeleted => "file",
    }
}

fn parse_subject(raw: &str) -> Option<SubjectType> {
    match raw {
        "customer" => Some(SubjectType::Customer),
        "contact" => Some(SubjectType::Contact),
        "lead" => Some(SubjectType::Lead),
        _ => None,
    }
}

/// `POST /activities`: log it through the same domain function as the API, then back to
/// the record's timeline. A refused entry comes back with the text kept.
pub async fn log(
    req: HttpRequest,
    state: web::Data<AppState>,
    viewer: Viewer,
    CsrfForm(form): CsrfForm<LogForm>,
) -> Result<HttpResponse, WebError> {
    let subject = parse_subject(&form.subject_type)
        .ok_or_else(|| AppError::invalid("subject_type", "must be customer, contact or lead"))?;
    let input = ActivityInput {
        subject_type: Some(Some(form.subject_type.clone())),
        subject_id: Some(Some(form.subject_id.clone())),
        kind: field(&form.kind),
        body: field(&form.body),
        occurred_at: None,
    };
    let created = state
        .write_as(&viewer.credentials, move |conn, actor| {
            activities::create(conn, actor, &input)
        })
        .await;
    let back = subject_path(subject, &form.subject_id);
    match created {
        Ok(_) => Ok(see_other(&format!("{back}#timeline"), Flash::Logged)),
        Err(AppError::Validation(errors)) => {
            let body = html! {
                p.crumbs { a href=(back) { "← Back" } }
                h1 { "Log an activity" }
                section.card { (composer(&viewer, subject, &form.subject_id, Some(&form), &errors)) }
            };
            let page = layout::page(&viewer, Nav::None, "Log an activity", None, body);
            Ok(respond(
                &req,
                HttpResponse::build(StatusCode::UNPROCESSABLE_ENTITY),
                page,
            ))
        }
        Err(e) => Err(e.into()),
    }
}
