//! The customer create and edit forms: what was typed survives a refusal, and a stale edit
//! shows the other person's values instead of overwriting them.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use maud::{Markup, html};
use serde::Deserialize;

use crate::domain::customers::{self, Customer, CustomerInput};
use crate::error::AppError;
use crate::state::AppState;
use crate::web::components::{
    Input, Select, conflict_notice, csrf_field, form_actions, form_errors, textarea,
};
use crate::web::error::WebError;
use crate::web::flash::Flash;
use crate::web::forms::{CsrfForm, field, see_other, tags};
use crate::web::layout::{self, Nav};
use crate::web::session::Viewer;

use super::SEGMENTS;

type WebResult = Result<HttpResponse, WebError>;

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

type Refusal = crate::web::forms::Refusal<Customer>;

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
                (conflict(form, theirs))
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
                (form_actions(editing.is_some(), "Create customer", &editing.map(|id| format!("/customers/{id}")).unwrap_or_else(|| "/customers".into())))
            }
        }
    }
}

/// The fields of `theirs` that differ from what this user typed.
fn conflict(mine: &CustomerForm, theirs: &Customer) -> Markup {
    let t = CustomerForm::from_customer(theirs);
    conflict_notice(
        "customer",
        &[
            ("Name", &mine.name, &t.name),
            ("Web domain", &mine.domain, &t.domain),
            ("Industry", &mine.industry, &t.industry),
            ("Segment", &mine.segment, &t.segment),
            ("Phone", &mine.phone, &t.phone),
            ("Address", &mine.address, &t.address),
            ("Tags", &mine.tags, &t.tags),
        ],
        &format!("/customers/{}", theirs.meta.id),
    )
}

pub async fn new(req: HttpRequest, viewer: Viewer) -> WebResult {
    let body = form_page(
        &viewer,
        "/customers",
        &CustomerForm::default(),
        &Refusal::default(),
        None,
    );
    Ok(layout::form_response(
        Nav::Customers,
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
            let body = form_page(
                &viewer,
                "/customers",
                &form,
                &Refusal::invalid(errors),
                None,
            );
            Ok(layout::form_response(
                Nav::Customers,
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
    Ok(layout::form_response(
        Nav::Customers,
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
        Err(AppError::Validation(errors)) => Refusal::invalid(errors),
        Err(AppError::PreconditionFailed) => {
            let lookup = id.clone();
            let theirs = state
                .read_as(&viewer.credentials, move |conn, _| {
                    customers::get(conn, &lookup)
                })
                .await?;
            // The next save is made over their version, knowingly.
            form.version = Some(theirs.meta.version);
            Refusal::stale(theirs)
        }
        Err(e) => return Err(e.into()),
    };
    let body = form_page(&viewer, &action, &form, &refusal, Some(&id));
    Ok(layout::form_response(
        Nav::Customers,
        &req,
        &viewer,
        refusal.status(),
        "Edit customer",
        body,
    ))
}
