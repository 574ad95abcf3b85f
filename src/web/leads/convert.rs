//! Lead conversion from the lead page: the prospect becomes a customer (found by domain or
//! created) and, if wanted, a contact there, through `domain::leads::convert` as
//! `POST /api/v1/leads/{id}/convert` does.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, web};
use maud::{Markup, html};
use serde::Deserialize;

use crate::domain::leads::{self, ConvertInput, Lead};
use crate::error::{AppError, FieldError};
use crate::state::AppState;
use crate::web::components::{Input, csrf_field, form_errors};
use crate::web::flash::Flash;
use crate::web::forms::{CsrfForm, field, see_other};
use crate::web::session::Viewer;

use super::{Outcome, WebResult, refused};

#[derive(Deserialize, Default)]
pub struct ConvertForm {
    #[serde(default)]
    domain: String,
    /// A checkbox: present when ticked.
    create_contact: Option<String>,
    version: Option<i64>,
}

pub(super) fn card(
    viewer: &Viewer,
    lead: &Lead,
    typed: Option<&ConvertForm>,
    errors: &[FieldError],
) -> Markup {
    let with_contact = typed.is_none_or(|t| t.create_contact.is_some());
    let company = lead
        .company_name
        .as_deref()
        .unwrap_or("the prospect's company");
    html! {
        section.card #convert aria-labelledby="convert-title" {
            h2 #convert-title { "Convert" }
            p.muted { "Make " (company) " a customer. An existing customer with the same web domain is reused." }
            (form_errors(errors, None))
            form method="post" action=(format!("/leads/{}/convert", lead.meta.id)) novalidate {
                (csrf_field(&viewer.csrf))
                input type="hidden" name="version" value=(lead.meta.version);
                (Input { required: false, ..Input::new("domain", "Web domain", "text") }
                    .value(typed.map_or("", |t| t.domain.as_str()))
                    .hint("Optional; taken from the e-mail address when left empty.").render(errors))
                div.check {
                    input #f-create_contact type="checkbox" name="create_contact" value="true" checked[with_contact];
                    label for="f-create_contact" { "Also add " (lead.contact_name.as_deref().unwrap_or("the person")) " as a contact" }
                }
                button.primary type="submit" { "Convert to customer" }
            }
        }
    }
}

pub async fn convert(
    req: HttpRequest,
    state: web::Data<AppState>,
    viewer: Viewer,
    id: web::Path<String>,
    CsrfForm(form): CsrfForm<ConvertForm>,
) -> WebResult {
    let id = id.into_inner();
    let input = ConvertInput {
        domain: field(&form.domain).flatten(),
        customer_id: None,
        create_contact: Some(form.create_contact.is_some()),
    };
    let (target, expected) = (id.clone(), form.version);
    let converted = state
        .write_as(&viewer.credentials, move |conn, actor| {
            leads::convert(conn, actor, &target, &input, expected)
        })
        .await;
    let (status, errors) = match converted {
        Ok(done) => {
            return Ok(see_other(
                &format!("/customers/{}", done.customer.meta.id),
                Flash::Converted,
            ));
        }
        Err(AppError::Validation(errors)) => (StatusCode::UNPROCESSABLE_ENTITY, errors),
        Err(AppError::PreconditionFailed) => (
            StatusCode::CONFLICT,
            vec![FieldError::new(
                "domain",
                "could not be used: someone changed this lead meanwhile; check it and try again",
            )],
        ),
        Err(e) => return Err(e.into()),
    };
    let outcome = Outcome {
        convert: Some(&form),
        convert_errors: errors,
        ..Outcome::default()
    };
    refused(&req, &state, &viewer, id, status, outcome).await
}
