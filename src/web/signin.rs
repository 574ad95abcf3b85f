//! `/login`, `/logout` and the first-run `/setup` pages.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use maud::{Markup, html};
use serde::Deserialize;

use crate::auth::csrf;
use crate::auth::login::{self, Attempt};
use crate::auth::password;
use crate::domain::sessions;
use crate::domain::users::{self, NewUserInput};
use crate::error::{AppError, FieldError};
use crate::http::cookies;
use crate::http::extract::{client_addr, user_agent};
use crate::state::AppState;
use crate::web::components::{Input, csrf_field, form_errors};
use crate::web::error::{WebError, safe_next};
use crate::web::flash::Flash;
use crate::web::forms::{AnonForm, CsrfForm, presession_binding};
use crate::web::layout::{self, respond};
use crate::web::session::Viewer;

type WebResult = Result<HttpResponse, WebError>;

/// The pre-session cookie's value and the CSRF token bound to it; a fresh value is made
/// (and must be set on the response) when the browser has none yet.
fn presession(req: &HttpRequest, state: &AppState) -> (String, Option<String>) {
    match req.cookie(state.cookies.presession_name()) {
        Some(c) if c.value().len() >= 32 => (
            csrf::token(&state.keys.csrf, &presession_binding(c.value())),
            None,
        ),
        _ => {
            let value = hex::encode(rand::random::<[u8; 24]>());
            (
                csrf::token(&state.keys.csrf, &presession_binding(&value)),
                Some(value),
            )
        }
    }
}

fn anonymous_page(
    req: &HttpRequest,
    state: &AppState,
    status: StatusCode,
    title: &str,
    render: impl FnOnce(&str) -> Markup,
) -> HttpResponse {
    let (token, new_cookie) = presession(req, state);
    let mut builder = HttpResponse::build(status);
    if let Some(value) = new_cookie {
        builder.cookie(cookies::presession(state, &value));
    }
    let markup = layout::bare_with_flash(title, Flash::from_request(req), render(&token));
    respond(req, builder, markup)
}

#[derive(Deserialize, Default)]
pub struct LoginQuery {
    next: Option<String>,
}

#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    next: Option<String>,
}

fn login_form(token: &str, email: &str, next: &str, problem: Option<&str>) -> Markup {
    html! {
        section.card.narrow {
            h1 { "Sign in" }
            (form_errors(&[], problem))
            form method="post" action="/login" novalidate {
                (csrf_field(token))
                input type="hidden" name="next" value=(next);
                (Input::new("email", "Email", "email").value(email).autocomplete("username").autofocus(email.is_empty()).render(&[]))
                (Input::new("password", "Password", "password").autocomplete("current-password").autofocus(!email.is_empty()).render(&[]))
                button.primary type="submit" { "Sign in" }
            }
            p.muted.small { "Forgot your password? Ask an admin to reset it." }
        }
    }
}

pub async fn login_page(
    req: HttpRequest,
    state: web::Data<AppState>,
    query: web::Query<LoginQuery>,
    signed_in: Option<Viewer>,
) -> HttpResponse {
    let next = safe_next(query.next.as_deref());
    if signed_in.is_some() {
        return HttpResponse::SeeOther()
            .insert_header((header::LOCATION, next))
            .finish();
    }
    anonymous_page(&req, &state, StatusCode::OK, "Sign in", |token| {
        login_form(token, "", &next, None)
    })
}

pub async fn login_submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    AnonForm(form): AnonForm<LoginForm>,
) -> WebResult {
    let next = safe_next(form.next.as_deref());
    let attempt = Attempt {
        email: form.email.clone(),
        password: form.password,
        client: client_addr(&req),
        user_agent: user_agent(&req),
    };
    match login::login(&state, attempt).await {
        Ok(signed_in) => Ok(HttpResponse::SeeOther()
            .cookie(cookies::session(&state, &signed_in.token))
            .insert_header((header::LOCATION, next))
            .finish()),
        Err(e @ (AppError::InvalidCredentials | AppError::RateLimited { .. })) => {
            let status = actix_web::ResponseError::status_code(&e);
            let mut res = anonymous_page(&req, &state, status, "Sign in", |token| {
                login_form(token, form.email.trim(), &next, Some(&e.detail()))
            });
            if let AppError::RateLimited { retry_after_secs } = e
                && let Ok(v) = header::HeaderValue::from_str(&retry_after_secs.to_string())
            {
                res.headers_mut().insert(header::RETRY_AFTER, v);
            }
            Ok(res)
        }
        Err(e) => Err(e.into()),
    }
}

/// Signing out changes state, so `GET /logout` only asks; the button posts.
pub async fn logout_page(req: HttpRequest, viewer: Viewer) -> HttpResponse {
    let body = html! {
        section.card.narrow {
            h1 { "Sign out?" }
            p { "You are signed in as " strong { (viewer.actor.email) } "." }
            form method="post" action="/logout" {
                (csrf_field(&viewer.csrf))
                button.primary type="submit" autofocus { "Sign out" }
                " "
                a.button href="/" { "Stay signed in" }
            }
        }
    };
    respond(
        &req,
        HttpResponse::Ok(),
        layout::page(&viewer, layout::Nav::None, "Sign out", None, body),
    )
}

#[derive(Deserialize)]
pub struct Empty {}

pub async fn logout_submit(
    state: web::Data<AppState>,
    viewer: Viewer,
    CsrfForm(_): CsrfForm<Empty>,
) -> WebResult {
    state
        .write_as(&viewer.credentials, |conn, actor| {
            match actor.session_id() {
                Some(id) => sessions::revoke(conn, id),
                None => Ok(()),
            }
        })
        .await?;
    Ok(HttpResponse::SeeOther()
        .cookie(cookies::clear_session(&state))
        .cookie(Flash::SignedOut.cookie())
        .insert_header((header::LOCATION, "/login"))
        .finish())
}

#[derive(Deserialize, Default)]
pub struct SetupQuery {
    #[serde(default)]
    token: String,
}

#[derive(Deserialize, Default)]
pub struct SetupForm {
    #[serde(default)]
    token: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    confirm: String,
}

fn setup_form(csrf: &str, form: &SetupForm, errors: &[FieldError]) -> Markup {
    html! {
        section.card.narrow {
            h1 { "Set up Rapport" }
            p { "Create the first admin account. You can invite the rest of your team afterwards." }
            (form_errors(errors, None))
            form method="post" action="/setup" novalidate {
                (csrf_field(csrf))
                input type="hidden" name="token" value=(form.token);
                (Input::new("name", "Your name", "text").value(&form.name).autocomplete("name").autofocus(errors.is_empty()).render(errors))
                (Input::new("email", "Email", "email").value(&form.email).autocomplete("username").render(errors))
                (Input::new("password", "Password", "password").autocomplete("new-password")
                    .hint("8 to 64 characters. A few unrelated words make a strong one.").render(errors))
                (Input::new("confirm", "Repeat password", "password").autocomplete("new-password").render(errors))
                button.primary type="submit" { "Create admin account" }
            }
        }
    }
}

fn setup_link_invalid() -> Markup {
    layout::bare(
        "Setup link not valid",
        html! {
            section.card.narrow {
                h1 { "This setup link is not valid" }
                p { "It was already used, it expired (links last 30 minutes), or it was mistyped. "
                    "If nobody has set up Rapport yet, restart the server to print a fresh link." }
                p { a href="/login" { "Go to sign in" } }
            }
        },
    )
}

pub async fn setup_page(
    req: HttpRequest,
    state: web::Data<AppState>,
    query: web::Query<SetupQuery>,
) -> HttpResponse {
    if !state.setup.is_valid(&query.token) {
        return respond(&req, HttpResponse::NotFound(), setup_link_invalid());
    }
    let form = SetupForm {
        token: query.token.clone(),
        ..SetupForm::default()
    };
    anonymous_page(&req, &state, StatusCode::OK, "Set up Rapport", |csrf| {
        setup_form(csrf, &form, &[])
    })
}

pub async fn setup_submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    AnonForm(form): AnonForm<SetupForm>,
) -> WebResult {
    if !state.setup.is_valid(&form.token) {
        return Ok(respond(
            &req,
            HttpResponse::NotFound(),
            setup_link_invalid(),
        ));
    }
    let input = NewUserInput {
        email: form.email.clone(),
        name: form.name.clone(),
        role: "admin".into(),
        password: Some(form.password.clone()),
    };
    let validated = match (input.validate(), form.password == form.confirm) {
        (Ok(user), true) => Ok(user),
        (Ok(_), false) => Err(vec![FieldError::new(
            "confirm",
            "does not match the password",
        )]),
        (Err(e), matches) => {
            let mut errors = e.field_errors().to_vec();
            if !matches {
                errors.push(FieldError::new("confirm", "does not match the password"));
            }
            Err(errors)
        }
    };
    let mut admin = match validated {
        Ok(user) => user,
        Err(errors) => {
            return Ok(anonymous_page(
                &req,
                &state,
                StatusCode::UNPROCESSABLE_ENTITY,
                "Set up Rapport",
                |csrf| setup_form(csrf, &form, &errors),
            ));
        }
    };
    let Some(chosen) = admin.password.take() else {
        return Err(AppError::internal("setup form validated without a password").into());
    };
    let hash = password::hash(chosen, state.config.bcrypt_cost).await?;
    let user = state
        .db
        .write(move |conn| {
            // Checked inside the write: two racing submissions cannot both create an admin.
            if users::count(conn)? > 0 {
                return Err(AppError::Conflict("Rapport is already set up.".into()));
            }
            users::insert(conn, None, &admin, &hash)
        })
        .await?;
    state.setup.close();
    let signed_in = login::start_session(&state, user, client_addr(&req), user_agent(&req)).await?;
    tracing::info!(email = %signed_in.user.email, "first admin created through the setup link");
    Ok(HttpResponse::SeeOther()
        .cookie(cookies::session(&state, &signed_in.token))
        .cookie(Flash::Welcome.cookie())
        .insert_header((header::LOCATION, "/"))
        .finish())
}
