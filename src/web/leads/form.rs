//! The lead create and edit forms. The value field is left out for roles that may not see
//! lead values; a stale edit shows the other person's values instead of overwriting them.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use maud::{Markup, html};
use serde::Deserialize;

use crate::domain::leads::{self, Lead, LeadInput};
use crate::error::{AppError, FieldError};
use crate::state::AppState;
use crate::web::components::{Input, conflict_notice, csrf_field, form_actions, form_errors};
use crate::web::error::WebError;
use crate::web::flash::Flash;
use crate::web::forms::{CsrfForm, Refusal, amount_cents, field, see_other};
use crate::web::layout::{self, Nav};
use crate::web::session::Viewer;

use super::sees_value;

type WebResult = Result<HttpResponse, WebError>;

#[derive(Deserialize, Default)]
pub struct LeadForm {
    #[serde(default)]
    title: String,
    #[serde(default)]
    customer_id: String,
    #[serde(default)]
    value: String,
    #[serde(default)]
    source: String,
    #[serde(default)]
    expected_close_date: String,
    #[serde(default)]
    company_name: String,
    #[serde(default)]
    contact_name: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    phone: String,
    version: Option<i64>,
}

impl LeadForm {
    fn from_lead(l: &Lead) -> Self {
        let s = |v: &Option<String>| v.clone().unwrap_or_default();
        LeadForm {
            title: l.title.clone(),
            customer_id: s(&l.customer_id),
            // Typed back in major units; a role that may not see it gets an empty field
            // that the form then leaves out.
            value: l
                .value_cents
                .map(|v| format!("{}.{:02}", v / 100, v % 100))
                .unwrap_or_default(),
            source: s(&l.source),
            expected_close_date: s(&l.expected_close_date),
            company_name: s(&l.company_name),
            contact_name: s(&l.contact_name),
            email: s(&l.email),
            phone: s(&l.phone),
            version: Some(l.meta.version),
        }
    }

    /// The domain's input, or the amount's own error when it is not a number.
    fn input(&self, with_value: bool) -> (LeadInput, Option<FieldError>) {
        let (value_cents, value_error) = match (with_value, amount_cents(&self.value)) {
            (false, _) | (true, Ok(None)) => (None, None),
            (true, Ok(Some(v))) => (Some(Some(v)), None),
            (true, Err(message)) => (None, Some(FieldError::new("value", message))),
        };
        let input = LeadInput {
            title: field(&self.title),
            // Chosen where the form is opened (a customer's page); absent, it is unchanged.
            customer_id: field(&self.customer_id).filter(|c| c.is_some()),
            value_cents,
            source: field(&self.source),
            expected_close_date: field(&self.expected_close_date),
            company_name: field(&self.company_name),
            contact_name: field(&self.contact_name),
            email: field(&self.email),
            phone: field(&self.phone),
            ..LeadInput::default()
        };
        (input, value_error)
    }
}

/// The domain names the amount `value_cents`; the form's field is `value`.
fn form_errors_of(errors: Vec<FieldError>) -> Vec<FieldError> {
    errors
        .into_iter()
        .map(|e| {
            if e.field == "value_cents" {
                FieldError::new("value", e.message)
            } else {
                e
            }
        })
        .collect()
}

fn conflict(viewer: &Viewer, mine: &LeadForm, theirs: &Lead) -> Markup {
    let t = LeadForm::from_lead(theirs);
    let mut changes = vec![
        ("Title", mine.title.as_str(), t.title.as_str()),
        (
            "Expected close",
            &mine.expected_close_date,
            &t.expected_close_date,
        ),
        ("Source", &mine.source, &t.source),
        ("Company", &mine.company_name, &t.company_name),
        ("Contact name", &mine.contact_name, &t.contact_name),
        ("E-mail", &mine.email, &t.email),
        ("Phone", &mine.phone, &t.phone),
    ];
    if sees_value(viewer) {
        changes.insert(1, ("Value", &mine.value, &t.value));
    }
    conflict_notice("lead", &changes, &format!("/leads/{}", theirs.meta.id))
}

fn form_page(
    viewer: &Viewer,
    form: &LeadForm,
    customer: Option<&str>,
    refusal: &Refusal<Lead>,
    editing: Option<&str>,
) -> Markup {
    let errors = &refusal.errors;
    let action = editing.map_or_else(|| "/leads".to_owned(), |id| format!("/leads/{id}/edit"));
    let back = editing.map_or_else(|| "/leads".to_owned(), |id| format!("/leads/{id}"));
    html! {
        p.crumbs { a href=(back) { "← Back" } }
        h1 {
            @if editing.is_some() { "Edit lead" } @else { "New lead" }
            @if let Some(name) = customer { " for " (name) }
        }
        section.card.formcard {
            @if let Some(theirs) = &refusal.conflict { (conflict(viewer, form, theirs)) }
            (form_errors(errors, None))
            form method="post" action=(action) novalidate {
                (csrf_field(&viewer.csrf))
                @if let Some(v) = form.version { input type="hidden" name="version" value=(v); }
                @if editing.is_none() && !form.customer_id.is_empty() {
                    input type="hidden" name="customer_id" value=(form.customer_id);
                }
                (Input::new("title", "Title", "text").value(&form.title).autofocus(editing.is_none())
                    .hint("What is being sold, e.g. “50 seats, annual plan”.").render(errors))
                div.two {
                    @if sees_value(viewer) {
                        (Input { required: false, ..Input::new("value", "Value", "text") }.value(&form.value)
                            .hint("In the lead's currency, e.g. 12000.").render(errors))
                    }
                    (Input { required: false, ..Input::new("expected_close_date", "Expected close", "date") }.value(&form.expected_close_date).render(errors))
                }
                @if customer.is_none() {
                    div.two {
                        (Input { required: false, ..Input::new("company_name", "Company", "text") }.value(&form.company_name).render(errors))
                        (Input { required: false, ..Input::new("contact_name", "Contact name", "text") }.value(&form.contact_name).render(errors))
                    }
                    div.two {
                        (Input { required: false, ..Input::new("email", "E-mail", "email") }.value(&form.email).render(errors))
                        (Input { required: false, ..Input::new("phone", "Phone", "tel") }.value(&form.phone).render(errors))
                    }
                }
                (Input { required: false, ..Input::new("source", "Source", "text") }.value(&form.source).hint("Where it came from, e.g. referral.").render(errors))
                (form_actions(editing.is_some(), "Create lead", &back))
            }
        }
    }
}

#[derive(Deserialize)]
pub struct NewQuery {
    customer_id: Option<String>,
}

pub async fn new(
    req: HttpRequest,
    state: web::Data<AppState>,
    viewer: Viewer,
    query: web::Query<NewQuery>,
) -> WebResult {
    let form = LeadForm {
        customer_id: query.into_inner().customer_id.unwrap_or_default(),
        ..LeadForm::default()
    };
    let customer = crate::web::customers::name_of(&state, &viewer, &form.customer_id).await?;
    let body = form_page(
        &viewer,
        &form,
        customer.as_deref(),
        &Refusal::default(),
        None,
    );
    Ok(layout::form_response(
        Nav::Leads,
        &req,
        &viewer,
        StatusCode::OK,
        "New lead",
        body,
    ))
}

pub async fn create(
    req: HttpRequest,
    state: web::Data<AppState>,
    viewer: Viewer,
    CsrfForm(form): CsrfForm<LeadForm>,
) -> WebResult {
    let (input, value_error) = form.input(sees_value(&viewer));
    // An unreadable amount is refused before anything is written, so a lead is never
    // created without the value the user meant to give it.
    let refusal = match value_error {
        Some(error) => Refusal::invalid(vec![error]),
        None => {
            let base_currency = state.config.base_currency.clone();
            let created = state
                .write_as(&viewer.credentials, move |conn, actor| {
                    leads::create(conn, actor, &input, &base_currency)
                })
                .await;
            match created {
                Ok(lead) => {
                    return Ok(see_other(
                        &format!("/leads/{}", lead.meta.id),
                        Flash::Created,
                    ));
                }
                Err(AppError::Validation(errors)) => Refusal::invalid(form_errors_of(errors)),
                Err(e) => return Err(e.into()),
            }
        }
    };
    let customer = crate::web::customers::name_of(&state, &viewer, &form.customer_id).await?;
    let body = form_page(&viewer, &form, customer.as_deref(), &refusal, None);
    Ok(layout::form_response(
        Nav::Leads,
        &req,
        &viewer,
        refusal.status(),
        "New lead",
        body,
    ))
}

async fn get(state: &AppState, viewer: &Viewer, id: &str) -> Result<Lead, AppError> {
    let id = id.to_owned();
    state
        .read_as(&viewer.credentials, move |conn, actor| {
            leads::get(conn, actor, &id)
        })
        .await
}

pub async fn edit(
    req: HttpRequest,
    state: web::Data<AppState>,
    viewer: Viewer,
    id: web::Path<String>,
) -> WebResult {
    let id = id.into_inner();
    let lead = get(&state, &viewer, &id).await?;
    let body = form_page(
        &viewer,
        &LeadForm::from_lead(&lead),
        None,
        &Refusal::default(),
        Some(&id),
    );
    Ok(layout::form_response(
        Nav::Leads,
        &req,
        &viewer,
        StatusCode::OK,
        "Edit lead",
        body,
    ))
}

pub async fn update(
    req: HttpRequest,
    state: web::Data<AppState>,
    viewer: Viewer,
    id: web::Path<String>,
    CsrfForm(mut form): CsrfForm<LeadForm>,
) -> WebResult {
    let id = id.into_inner();
    // The edit form carries no customer, so the lead keeps its own.
    form.customer_id.clear();
    let (input, value_error) = form.input(sees_value(&viewer));
    let refusal = match value_error {
        Some(error) => Refusal::invalid(vec![error]),
        None => {
            let (target, expected) = (id.clone(), form.version);
            let updated = state
                .write_as(&viewer.credentials, move |conn, actor| {
                    leads::update(conn, actor, &target, &input, expected)
                })
                .await;
            match updated {
                Ok(_) => return Ok(see_other(&format!("/leads/{id}"), Flash::Saved)),
                Err(AppError::Validation(errors)) => Refusal::invalid(form_errors_of(errors)),
                Err(AppError::PreconditionFailed) => {
                    let theirs = get(&state, &viewer, &id).await?;
                    // The next save is made over their version, knowingly.
                    form.version = Some(theirs.meta.version);
                    Refusal::stale(theirs)
                }
                Err(e) => return Err(e.into()),
            }
        }
    };
    let body = form_page(&viewer, &form, None, &refusal, Some(&id));
    Ok(layout::form_response(
        Nav::Leads,
        &req,
        &viewer,
        refusal.status(),
        "Edit lead",
        body,
    ))
}
