//! `/profile`: the signed-in user's password and personal API tokens.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use maud::{Markup, html};
use serde::Deserialize;

use crate::auth::login;
use crate::domain::tokens::{self, ApiToken, NewToken};
use crate::error::{AppError, FieldError};
use crate::http::cookies;
use crate::http::extract::{client_addr, user_agent};
use crate::state::AppState;
use crate::web::components::{Input, csrf_field, day, form_errors, moment};
use crate::web::error::WebError;
use crate::web::flash::Flash;
use crate::web::forms::CsrfForm;
use crate::web::layout::{self, Nav, respond};
use crate::web::session::Viewer;

type WebResult = Result<HttpResponse, WebError>;

/// What the page shows besides the stored state: a refused form, or a token just created.
#[derive(Default)]
struct Outcome<'a> {
    password_errors: Vec<FieldError>,
    token_errors: Vec<FieldError>,
    token_name: &'a str,
    new_secret: Option<(&'a ApiToken, &'a str)>,
}

fn render(viewer: &Viewer, list: &[ApiToken], outcome: &Outcome<'_>) -> Markup {
    html! {
        h1 { "Profile" }
        div.grid {
            section.card aria-labelledby="pw-title" {
                h2 #pw-title { "Change password" }
                p.muted { "Changing it signs you out everywhere else." }
                (form_errors(&outcome.password_errors, None))
                form method="post" action="/profile/password" novalidate {
                    (csrf_field(&viewer.csrf))
                    input type="text" name="username" value=(viewer.actor.email) autocomplete="username" hidden;
                    (Input::new("current_password", "Current password", "password").autocomplete("current-password").render(&outcome.password_errors))
                    (Input::new("new_password", "New password", "password").autocomplete("new-password")
                        .hint("8 to 64 characters.").render(&outcome.password_errors))
                    (Input::new("confirm", "Repeat new password", "password").autocomplete("new-password").render(&outcome.password_errors))
                    button.primary type="submit" { "Change password" }
                }
            }
            section.card #tokens aria-labelledby="tokens-title" {
                h2 #tokens-title { "API tokens" }
                p.muted { "For integrations and scripts: send " code { "Authorization: Bearer <token>" } ". A token acts as you, with your role." }
                @if let Some((token, secret)) = outcome.new_secret {
                    div.secret role="status" {
                        p { strong { "Copy your new token “" (token.name) "” now." } " It will not be shown again." }
                        div.copyrow {
                            input #new-token type="text" readonly value=(secret) aria-label="New API token";
                            button type="button" data-copy="#new-token" { "Copy" }
                        }
                    }
                }
                @if list.is_empty() {
                    p.empty { "You have no API tokens yet." }
                } @else {
                    table {
                        thead { tr { th scope="col" { "Name" } th scope="col" { "Created" } th scope="col" { "Last used" } th { span.sr-only { "Actions" } } } }
                        tbody {
                            @for t in list {
                                tr {
                                    td { (t.name) }
                                    td { (day(&t.created_at, &viewer.zone)) }
                                    td { @match &t.last_used_at {
                                        Some(at) => (moment(at, &viewer.zone)),
                                        None => span.muted { "never" },
                                    } }
                                    td {
                                        form method="post" action=(format!("/profile/tokens/{}/revoke", t.id))
                                            data-confirm=(format!("Revoke “{}”? Integrations using it stop working at once.", t.name)) {
                                            (csrf_field(&viewer.csrf))
                                            button.danger.small type="submit" { "Revoke" }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
                (form_errors(&outcome.token_errors, None))
                form.inline method="post" action="/profile/tokens" novalidate {
                    (csrf_field(&viewer.csrf))
                    (Input::new("name", "Token name", "text").value(outcome.token_name)
                        .hint("Say where it is used, e.g. “Zapier” or “invoice sync”.").render(&outcome.token_errors))
                    button type="submit" { "Create token" }
                }
            }
        }
    }
}

async fn show(
    req: &HttpRequest,
    state: &AppState,
    viewer: &Viewer,
    status: StatusCode,
    outcome: Outcome<'_>,
) -> WebResult {
    let list = state
        .read_as(&viewer.credentials, |conn, actor| {
            tokens::list(conn, &actor.user_id)
        })
        .await?;
    let flash = Flash::from_request(req);
    let markup = layout::page(
        viewer,
        Nav::Profile,
        "Profile",
        flash,
        render(viewer, &list, &outcome),
    );
    Ok(respond(req, HttpResponse::build(status), markup))
}

pub async fn page(req: HttpRequest, state: web::Data<AppState>, viewer: Viewer) -> WebResult {
    show(&req, &state, &viewer, StatusCode::OK, Outcome::default()).await
}

#[derive(Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    current_password: String,
    #[serde(default)]
    new_password: String,
    #[serde(default)]
    confirm: String,
}

pub async fn change_password(
    req: HttpRequest,
    state: web::Data<AppState>,
    viewer: Viewer,
    CsrfForm(form): CsrfForm<PasswordForm>,
) -> WebResult {
    let refused = |errors: Vec<FieldError>| Outcome {
        password_errors: errors,
        ..Outcome::default()
    };
    if form.new_password != form.confirm {
        let errors = vec![FieldError::new(
            "confirm",
            "does not match the new password",
        )];
        return show(
            &req,
            &state,
            &viewer,
            StatusCode::UNPROCESSABLE_ENTITY,
            refused(errors),
        )
        .await;
    }
    let result = login::change_password(
        &state,
        &viewer.credentials,
        form.current_password,
        &form.new_password,
        client_addr(&req),
        user_agent(&req),
    )
    .await;
    match result {
        Ok(signed_in) => Ok(HttpResponse::SeeOther()
            .cookie(cookies::session(&state, &signed_in.token))
            .cookie(Flash::PasswordChanged.cookie())
            .insert_header((header::LOCATION, "/profile"))
            .finish()),
        Err(AppError::Validation(errors)) => {
            show(
                &req,
                &state,
                &viewer,
                StatusCode::UNPROCESSABLE_ENTITY,
                refused(errors),
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
pub struct TokenForm {
    #[serde(default)]
    name: String,
}

pub async fn create_token(
    req: HttpRequest,
    state: web::Data<AppState>,
    viewer: Viewer,
    CsrfForm(form): CsrfForm<TokenForm>,
) -> WebResult {
    let input = NewToken {
        name: form.name.clone(),
    };
    let created = state
        .write_as(&viewer.credentials, move |conn, actor| {
            tokens::create(conn, &actor.user_id, &input)
        })
        .await;
    match created {
        Ok((token, secret)) => {
            let outcome = Outcome {
                new_secret: Some((&token, &secret)),
                ..Outcome::default()
            };
            show(&req, &state, &viewer, StatusCode::CREATED, outcome).await
        }
        Err(AppError::Validation(errors)) => {
            let outcome = Outcome {
                token_errors: errors,
                token_name: &form.name,
                ..Outcome::default()
            };
            show(
                &req,
                &state,
                &viewer,
                StatusCode::UNPROCESSABLE_ENTITY,
                outcome,
            )
            .await
        }
        Err(AppError::Conflict(message)) => {
            let outcome = Outcome {
                token_errors: vec![FieldError::new("name", message)],
                token_name: &form.name,
                ..Outcome::default()
            };
            show(&req, &state, &viewer, StatusCode::CONFLICT, outcome).await
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn revoke_token(
    state: web::Data<AppState>,
    viewer: Viewer,
    id: web::Path<String>,
    CsrfForm(_): CsrfForm<super::signin::Empty>,
) -> WebResult {
    state
        .write_as(&viewer.credentials, move |conn, actor| {
            tokens::revoke(conn, &actor.user_id, &id)
        })
        .await?;
    Ok(HttpResponse::SeeOther()
        .cookie(Flash::TokenRevoked.cookie())
        .insert_header((header::LOCATION, "/profile#tokens"))
        .finish())
}
