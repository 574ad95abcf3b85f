//! The contact create and edit forms: what was typed survives a refusal, and a stale edit
//! shows the other person's values instead of overwriting them.

use actix_web::{HttpRequest, HttpResponse, web};
use maud::{Markup, html};
use serde::Deserialize;

use crate::domain::contacts::{self, Contact, ContactInput};
use crate::error::AppError;
use crate::state::AppState;
use crate::web::components::{Input, conflict_notice, csrf_field, form_actions, form_errors};
use crate::web::error::WebError;
use crate::web::flash::Flash;
use crate::web::forms::{CsrfForm, Refusal, field, see_other, tags};
use crate::web::layout::{self, Nav};
use crate::web::session::Viewer;

type WebResult = Result<HttpResponse, WebError>;

#[derive(Deserialize, Default)]
pub struct ContactForm {
    #[serde(default)]
    first_name: String,
    #[serde(default)]
    last_name: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    phone: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    tags: String,
    #[serde(default)]
    customer_id: String,
    version: Option<i64>,
}

impl ContactForm {
    fn from_contact(c: &Contact) -> Self {
        let s = |v: &Option<String>| v.clone().unwrap_or_default();
        ContactForm {
            first_name: c.first_name.clone(),
            last_name: s(&c.last_name),
            email: s(&c.email),
            phone: s(&c.phone),
            title: s(&c.title),
            tags: c.tags.join(", "),
            customer_id: s(&c.customer_id),
            version: Some(c.meta.version),
        }
    }

    fn input(&self) -> ContactInput {
        ContactInput {
            first_name: field(&self.first_name),
            last_name: field(&self.last_name),
            email: field(&self.email),
            phone: field(&self.phone),
            title: field(&self.title),
            tags: tags(&self.tags),
            // The company is chosen where the form is opened (a customer's page); an edit
            // leaves it as it is.
            customer_id: field(&self.customer_id).filter(|c| c.is_some()),
            owner_id: None,
        }
    }
}

fn conflict(mine: &ContactForm, theirs: &Contact) -> Markup {
    let t = ContactForm::from_contact(theirs);
    conflict_notice(
        "contact",
        &[
            ("First name", &mine.first_name, &t.first_name),
            ("Last name", &mine.last_name, &t.last_name),
            ("E-mail", &mine.email, &t.email),
            ("Phone", &mine.phone, &t.phone),
            ("Job title", &mine.title, &t.title),
            ("Tags", &mine.tags, &t.tags),
        ],
        &format!("/contacts/{}", theirs.meta.id),
    )
}

fn form_page(
    viewer: &Viewer,
    form: &ContactForm,
    company: Option<&str>,
    refusal: &Refusal<Contact>,
    editing: Option<&str>,
) -> Markup {
    let e = &refusal.errors;
    let action = editing.map_or_else(
        || "/contacts".to_owned(),
        |id| format!("/contacts/{id}/edit"),
    );
    let back = match (editing, form.customer_id.as_str()) {
        (Some(id), _) => format!("/contacts/{id}"),
        (None, "") => "/contacts".to_owned(),
        (None, cid) => format!("/customers/{cid}"),
    };
    html! {
        p.crumbs { a href=(back) { "← Back" } }
        h1 {
            @if editing.is_some() { "Edit contact" } @else { "New contact" }
            @if let Some(name) = company { " at " (name) }
        }
        section.card.formcard {
            @if let Some(theirs) = &refusal.conflict { (conflict(form, theirs)) }
            (form_errors(e, None))
            form method="post" action=(action) novalidate {
                (csrf_field(&viewer.csrf))
                @if let Some(v) = form.version { input type="hidden" name="version" value=(v); }
                @if editing.is_none() && !form.customer_id.is_empty() {
                    input type="hidden" name="customer_id" value=(form.customer_id);
                }
                div.two {
                    (Input::new("first_name", "First name", "text").value(&form.first_name).autofocus(editing.is_none()).render(e))
                    (Input { required: false, ..Input::new("last_name", "Last name", "text") }.value(&form.last_name).render(e))
                }
                div.two {
                    (Input { required: false, ..Input::new("email", "E-mail", "email") }.value(&form.email).render(e))
                    (Input { required: false, ..Input::new("phone", "Phone", "tel") }.value(&form.phone).render(e))
                }
                (Input { required: false, ..Input::new("title", "Job title", "text") }.value(&form.title).render(e))
                (Input { required: false, ..Input::new("tags", "Tags", "text") }.value(&form.tags).hint("Separate tags with commas.").render(e))
                (form_actions(editing.is_some(), "Create contact", &back))
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
    let form = ContactForm {
        customer_id: query.into_inner().customer_id.unwrap_or_default(),
        ..ContactForm::default()
    };
    let company = crate::web::customers::name_of(&state, &viewer, &form.customer_id).await?;
    let body = form_page(
        &viewer,
        &form,
        company.as_deref(),
        &Refusal::default(),
        None,
    );
    Ok(layout::form_response(
        Nav::Contacts,
        &req,
        &viewer,
        actix_web::http::StatusCode::OK,
        "New contact",
        body,
    ))
}

pub async fn create(
    req: HttpRequest,
    state: web::Data<AppState>,
    viewer: Viewer,
    CsrfForm(form): CsrfForm<ContactForm>,
) -> WebResult {
    let input = form.input();
    let created = state
        .write_as(&viewer.credentials, move |conn, actor| {
            contacts::create(conn, actor, &input)
        })
        .await;
    let refusal = match created {
        Ok(c) => {
            return Ok(see_other(
                &format!("/contacts/{}", c.meta.id),
                Flash::Created,
            ));
        }
        Err(AppError::Validation(errors)) => Refusal::invalid(errors),
        Err(e) => return Err(e.into()),
    };
    let company = crate::web::customers::name_of(&state, &viewer, &form.customer_id).await?;
    let body = form_page(&viewer, &form, company.as_deref(), &refusal, None);
    Ok(layout::form_response(
        Nav::Contacts,
        &req,
        &viewer,
        refusal.status(),
        "New contact",
        body,
    ))
}

pub async fn edit(
    req: HttpRequest,
    state: web::Data<AppState>,
    viewer: Viewer,
    id: web::Path<String>,
) -> WebResult {
    let id = id.into_inner();
    let lookup = id.clone();
    let contact = state
        .read_as(&viewer.credentials, move |conn, _| {
            contacts::get(conn, &lookup)
        })
        .await?;
    let body = form_page(
        &viewer,
        &ContactForm::from_contact(&contact),
        None,
        &Refusal::default(),
        Some(&id),
    );
    Ok(layout::form_response(
        Nav::Contacts,
        &req,
        &viewer,
        actix_web::http::StatusCode::OK,
        "Edit contact",
        body,
    ))
}

pub async fn update(
    req: HttpRequest,
    state: web::Data<AppState>,
    viewer: Viewer,
    id: web::Path<String>,
    CsrfForm(mut form): CsrfForm<ContactForm>,
) -> WebResult {
    let id = id.into_inner();
    // The form carries no company on edit, so the contact keeps its own.
    form.customer_id.clear();
    let (input, expected, target) = (form.input(), form.version, id.clone());
    let updated = state
        .write_as(&viewer.credentials, move |conn, actor| {
            contacts::update(conn, actor, &target, &input, expected)
        })
        .await;
    let refusal = match updated {
        Ok(_) => return Ok(see_other(&format!("/contacts/{id}"), Flash::Saved)),
        Err(AppError::Validation(errors)) => Refusal::invalid(errors),
        Err(AppError::PreconditionFailed) => {
            let lookup = id.clone();
            let theirs = state
                .read_as(&viewer.credentials, move |conn, _| {
                    contacts::get(conn, &lookup)
                })
                .await?;
            // The next save is made over their version, knowingly.
            form.version = Some(theirs.meta.version);
            Refusal::stale(theirs)
        }
        Err(e) => return Err(e.into()),
    };
    let body = form_page(&viewer, &form, None, &refusal, Some(&id));
    Ok(layout::form_response(
        Nav::Contacts,
        &req,
        &viewer,
        refusal.status(),
        "Edit contact",
        body,
    ))
}
