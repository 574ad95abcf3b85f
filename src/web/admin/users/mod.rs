//! `/admin/users`: the team's accounts. Creating a user and resetting a password go through
//! `auth::accounts`, changing a role or deactivating through `domain::users::update`, as
//! `/api/v1/users` does; what the domain refuses (the last active admin, oneself) is shown
//! as a message on the page.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, web};
use maud::{Markup, html};
use serde::Deserialize;

use crate::auth::permissions::{Capability, Role};
use crate::domain::list::{ListParams, Page};
use crate::domain::users::{self, NewUserInput, User};
use crate::error::FieldError;
use crate::state::AppState;
use crate::web::components::{
    Input, ListUrl, Select, csrf_field, empty_state, form_errors, moment, options_with_any,
};
use crate::web::session::Viewer;

use super::{WebResult, require, shell};

mod actions;
pub use actions::{change_role, create, reset_password, set_active};

const PATH: &str = "/admin/users";

/// The add-a-user form as typed.
#[derive(Deserialize, Default)]
pub struct NewUserForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    role: String,
    /// Empty: one is generated and shown once.
    #[serde(default)]
    password: String,
}

impl NewUserForm {
    fn input(&self) -> NewUserInput {
        NewUserInput {
            email: self.email.clone(),
            name: self.name.clone(),
            role: self.role.clone(),
            password: (!self.password.is_empty()).then(|| self.password.clone()),
        }
    }
}

/// What the page shows besides the list: a refused or just-used form, a password to
/// copy now, or why a change to one user was refused.
#[derive(Default)]
struct Outcome {
    form: NewUserForm,
    errors: Vec<FieldError>,
    /// The user just created, and the password generated for them.
    created: Option<(User, Option<String>)>,
    /// The user whose password was just reset, and the new password.
    reset: Option<(String, String)>,
    refused: Option<Refused>,
}

/// A refused change to one user: their id, why, and the role that was asked for.
struct Refused {
    id: String,
    message: String,
    role: Option<String>,
}

type Query = web::Query<Vec<(String, String)>>;

pub async fn list(
    req: HttpRequest,
    state: web::Data<AppState>,
    viewer: Viewer,
    query: Query,
) -> WebResult {
    require(&viewer, Capability::ManageUsers)?;
    show(
        &req,
        &state,
        &viewer,
        query.into_inner(),
        StatusCode::OK,
        Outcome::default(),
    )
    .await
}

async fn show(
    req: &HttpRequest,
    state: &AppState,
    viewer: &Viewer,
    raw: Vec<(String, String)>,
    status: StatusCode,
    outcome: Outcome,
) -> WebResult {
    let params = ListParams::parse(&raw, &users::LIST)?;
    let reset_id = outcome.reset.as_ref().map(|(id, _)| id.clone());
    let (list, reset_user) = state
        .read_as(&viewer.credentials, move |conn, actor| {
            actor.require(Capability::ManageUsers)?;
            let reset_user = match reset_id {
                Some(id) => Some(users::get(conn, &id)?),
                None => None,
            };
            Ok((users::list(conn, &params)?, reset_user))
        })
        .await?;
    let url = ListUrl {
        path: PATH,
        query: &raw,
    };
    let body = html! {
        @if let Some((user, generated)) = &outcome.created {
            (created_notice(user, generated.as_deref()))
        }
        @if let (Some(user), Some((_, password))) = (&reset_user, &outcome.reset) {
            (password_notice(&format!("New password for {}", user.name), password,
                "Their sessions have ended; they sign in again with this password."))
        }
        @if let Some(r) = &outcome.refused {
            div.alert role="alert" { (r.message) }
        }
        (new_user_form(viewer, &outcome, list.items.is_empty() && !url.filtered()))
        (filters(&url))
        @if list.items.is_empty() {
            (empty_state(url.filtered(), PATH, "No users yet.", html! {}))
        } @else {
            (table(viewer, &url, &list, outcome.refused.as_ref()))
        }
        (url.pager(list.next_cursor.as_deref()))
    };
    Ok(shell(req, viewer, status, PATH, "Users", body))
}

fn password_notice(title: &str, password: &str, after: &str) -> Markup {
    html! {
        div.secret role="status" {
            p { strong { (title) } ". Copy it now: it will not be shown again." }
            div.copyrow {
                input #new-password type="text" readonly value=(password) aria-label=(title);
                button type="button" data-copy="#new-password" { "Copy" }
            }
            p.muted.small { (after) }
        }
    }
}

fn created_notice(user: &User, generated: Option<&str>) -> Markup {
    match generated {
        Some(password) => password_notice(
            &format!(
                "{} can sign in as {} with this password",
                user.name, user.email
            ),
            password,
            "Send it to them through a channel you trust; they can change it on their profile.",
        ),
        None => html! {
            div.secret role="status" {
                p { strong { (user.name) " can now sign in as " (user.email) } " with the password you chose." }
            }
        },
    }
}

fn role_options() -> Vec<(String, String)> {
    Role::ALL
        .iter()
        .map(|r| (r.as_str().to_owned(), r.label().to_owned()))
        .collect()
}

fn new_user_form(viewer: &Viewer, outcome: &Outcome, open: bool) -> Markup {
    let (f, e) = (&outcome.form, &outcome.errors);
    let role = if f.role.is_empty() { "sales" } else { &f.role };
    html! {
        details.card.adduser #new-user open[open || !e.is_empty()] {
            summary { "Add a user" }
            (form_errors(e, None))
            form method="post" action=(PATH) novalidate {
                (csrf_field(&viewer.csrf))
                div.two {
                    (Input::new("name", "Name", "text").value(&f.name).autocomplete("off").render(e))
                    (Input::new("email", "E-mail", "email").value(&f.email).autocomplete("off").render(e))
                }
                div.two {
                    (Select { name: "role", label: "Role", options: role_options(), selected: role }.render(e))
                    (Input { required: false, ..Input::new("password", "Password", "password") }
                        .autocomplete("new-password")
                        .hint("Leave empty to generate one, shown once after you add the user.")
                        .render(e))
                }
                button.primary type="submit" { "Add user" }
            }
        }
    }
}

fn filters(url: &ListUrl<'_>) -> Markup {
    let roles: Vec<(&str, &str)> = Role::ALL.iter().map(|r| (r.as_str(), r.label())).collect();
    html! {
        form.filters method="get" action=(PATH) role="search" aria-label="Filter users" {
            div.field {
                label for="q" { "Search" }
                input #q type="search" name="q" value=(url.value("q")) placeholder="Name or e-mail";
            }
            // Ids of their own: the add-a-user form above has a `role` field too.
            (filter_select("role", "Role", url.value("role"), options_with_any("Any role", &roles)))
            (filter_select("active", "Status", url.value("active"),
                options_with_any("Any", &[("true", "Active"), ("false", "Deactivated")])))
            button type="submit" { "Apply" }
            @if url.filtered() { a.clear href=(PATH) { "Clear" } }
        }
    }
}

fn filter_select(
    name: &str,
    label: &str,
    selected: &str,
    options: Vec<(String, String)>,
) -> Markup {
    let id = format!("filter-{name}");
    html! {
        div.field {
            label for=(id) { (label) }
            select #(id) name=(name) {
                @for (value, text) in &options {
                    option value=(value) selected[value == selected] { (text) }
                }
            }
        }
    }
}

fn table(
    viewer: &Viewer,
    url: &ListUrl<'_>,
    list: &Page<User>,
    refused: Option<&Refused>,
) -> Markup {
    let back = url.with(&[]);
    html! {
        table.list.users {
            thead { tr {
                th scope="col" { "Name" } th scope="col" { "E-mail" } th scope="col" { "Role" }
                th scope="col" { "Status" } th scope="col" { "Last sign-in" }
                th scope="col" { span.sr-only { "Actions" } }
            } }
            tbody {
                @for u in &list.items {
                    @let me = u.id == viewer.actor.user_id;
                    @let refusal = refused.filter(|r| r.id == u.id);
                    tr #(format!("user-{}", u.id)) {
                        td data-label="Name" {
                            (u.name)
                            @if me { " " span.badge { "you" } }
                        }
                        td data-label="E-mail" { (u.email) }
                        td data-label="Role" { (u.role.label()) }
                        td data-label="Status" {
                            @if u.active { span.badge.ok { "Active" } } @else { span.badge { "Deactivated" } }
                        }
                        td data-label="Last sign-in" {
                            @match &u.last_login_at { Some(at) => (moment(at, &viewer.zone)), None => span.muted { "never" } }
                        }
                        td { div.rowactions {
                            (role_form(viewer, u, &back, refusal))
                            @if me {
                                p.muted.small { "Change your own password on " a href="/profile" { "your profile" } "." }
                            } @else {
                                (active_form(viewer, u, &back))
                                form method="post" action=(format!("{PATH}/{}/reset-password", u.id))
                                    data-confirm=(format!("Reset the password of {}? They are signed out everywhere and need the new password to sign in.", u.name)) {
                                    (csrf_field(&viewer.csrf))
                                    button.small type="submit" aria-label=(format!("Reset the password of {}", u.name)) { "Reset password" }
                                }
                            }
                            @if let Some(r) = refusal {
                                p.error role="alert" { (r.message) }
                            }
                        } }
                    }
                }
            }
        }
    }
}

fn role_form(viewer: &Viewer, u: &User, back: &str, refusal: Option<&Refused>) -> Markup {
    let id = format!("role-{}", u.id);
    let selected = refusal
        .and_then(|r| r.role.as_deref())
        .unwrap_or(u.role.as_str());
    html! {
        form.rolechange method="post" action=(format!("{PATH}/{}/role", u.id)) {
            (csrf_field(&viewer.csrf))
            input type="hidden" name="back" value=(back);
            label.sr-only for=(id) { "Role of " (u.name) }
            select #(id) name="role" {
                @for (value, label) in role_options() {
                    option value=(value) selected[value == selected] { (label) }
                }
            }
            button.small type="submit" aria-label=(format!("Change the role of {}", u.name)) { "Change role" }
        }
    }
}

fn active_form(viewer: &Viewer, u: &User, back: &str) -> Markup {
    html! {
        form method="post" action=(format!("{PATH}/{}/active", u.id))
            data-confirm=[u.active.then(|| format!("Deactivate {}? They are signed out at once and can no longer sign in.", u.name))] {
            (csrf_field(&viewer.csrf))
            input type="hidden" name="back" value=(back);
            input type="hidden" name="active" value=(if u.active { "false" } else { "true" });
            @if u.active {
                button.small.danger type="submit" aria-label=(format!("Deactivate {}", u.name)) { "Deactivate" }
            } @else {
                button.small type="submit" aria-label=(format!("Reactivate {}", u.name)) { "Reactivate" }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_blank_password_means_generate_one() {
        let form = NewUserForm {
            password: String::new(),
            ..NewUserForm::default()
        };
        assert_eq!(form.input().password, None);
        let form = NewUserForm {
            password: "typed by the admin".into(),
            ..NewUserForm::default()
        };
        assert_eq!(form.input().password.as_deref(), Some("typed by the admin"));
    }
}
