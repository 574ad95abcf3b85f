//! The lead create (and edit) form. The value field is left out for roles that may not see
//! lead values.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use maud::{Markup, html};
use serde::Deserialize;

use crate::domain::customers;
use crate::domain::leads::{self, LeadInput};
use crate::error::{AppError, FieldError};
use crate::state::AppState;
use crate::web::components::{Input, csrf_field, form_errors};
use crate::web::error::WebError;
use crate::web::flash::Flash;
use crate::web::forms::{CsrfForm, amount_cents, field, see_other};
use crate::web::layout::{self, Nav, respond};
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
}

impl LeadForm {
    /// The domain's input, or the amount's own error when it is not a number (the other
    /// fields are still checked by the domain, so every message shows at once).
    fn input(&self, with_value: bool) -> (LeadInput, Option<FieldError>) {
        let (value_cents, value_error) = match (with_value, amount_cents(&self.value)) {
            (false, _) | (true, Ok(None)) => (None, None),
            (true, Ok(Some(v))) => (Some(Some(v)), None),
            (true, Err(message)) => (None, Some(FieldError::new("value", message))),
        };
        let id = |v: &str| {
            if v.trim().is_empty() {
                None
            } else {
                Some(Some(v.trim().to_owned()))
            }
        };
        let input = LeadInput {
            title: field(&self.title),
            customer_id: id(&self.customer_id),
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

fn form_page(
    viewer: &Viewer,
    form: &LeadForm,
    customer: Option<&str>,
    errors: &[FieldError],
) -> Markup {
    html! {
        p.crumbs { a href="/leads" { "Leads" } }
        h1 { "New lead" @if let Some(name) = customer { " for " (name) } }
        section.card.formcard {
            (form_errors(errors, None))
            form method="post" action="/leads" novalidate {
                (csrf_field(&viewer.csrf))
                @if !form.customer_id.is_empty() { input type="hidden" name="customer_id" value=(form.customer_id); }
                (Input::new("title", "Title", "text").value(&form.title).autofocus(true).hint("What is being sold, e.g. “50 seats, annual plan”.").render(errors))
                div.two {
                    @if sees_value(viewer) {
                        (Input { required: false, ..Input::new("value", "Value", "text") }.value(&form.value).hint("In your base currency, e.g. 12000.").render(errors))
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
                div.actions { button.primary type="submit" { "Create lead" } a href="/leads" { "Cancel" } }
            }
        }
    }
}

async fn customer_name(
    state: &AppState,
    viewer: &Viewer,
    id: &str,
) -> Result<Option<String>, AppError> {
    if id.is_empty() {
        return Ok(None);
    }
    let id = id.to_owned();
    state
        .read_as(&viewer.credentials, move |conn, _| {
            customers::get(conn, &id).map(|c| Some(c.name))
        })
        .await
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
    let customer = customer_name(&state, &viewer, &form.customer_id).await?;
    let markup = layout::page(
        &viewer,
        Nav::Leads,
        "New lead",
        None,
        form_page(&viewer, &form, customer.as_deref(), &[]),
    );
    Ok(respond(&req, HttpResponse::Ok(), markup))
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
    let errors = match value_error {
        Some(error) => vec![error],
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
                Err(AppError::Validation(errors)) => errors
                    .into_iter()
                    .map(|e| {
                        if e.field == "value_cents" {
                            FieldError::new("value", e.message)
                        } else {
                            e
                        }
                    })
                    .collect(),
                Err(e) => return Err(e.into()),
            }
        }
    };
    let customer = customer_name(&state, &viewer, &form.customer_id).await?;
    let markup = layout::page(
        &viewer,
        Nav::Leads,
        "New lead",
        None,
        form_page(&viewer, &form, customer.as_deref(), &errors),
    );
    Ok(respond(
        &req,
        HttpResponse::build(StatusCode::UNPROCESSABLE_ENTITY),
        markup,
    ))
}
