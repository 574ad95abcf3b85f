//! The users page's forms: add a user, change a role, deactivate or reactivate, reset a
//! password. Each answers with the page again (a password to copy, or why the domain
//! refused) or a redirect back to the list as it was.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, web};
use serde::Deserialize;

use crate::auth::accounts;
use crate::auth::permissions::{Capability, has};
use crate::domain::users::{self, User, UserPatch};
use crate::error::AppError;
use crate::state::AppState;
use crate::web::error::{WebError, safe_next};
use crate::web::flash::Flash;
use crate::web::forms::{CsrfForm, see_other};
use crate::web::session::Viewer;

use super::super::{WebResult, require};
use super::{NewUserForm, Outcome, PATH, Refused, show};

pub async fn create(
    req: HttpRequest,
    state: web::Data<AppState>,
    viewer: Viewer,
    CsrfForm(form): CsrfForm<NewUserForm>,
) -> WebResult {
    require(&viewer, Capability::ManageUsers)?;
    match accounts::create_user(&state, &viewer.credentials, &form.input()).await {
        Ok(created) => {
            let outcome = Outcome {
                created: Some((created.user, created.generated)),
                ..Outcome::default()
            };
            show(
                &req,
                &state,
                &viewer,
                Vec::new(),
                StatusCode::CREATED,
                outcome,
            )
            .await
        }
        Err(AppError::Validation(errors)) => {
            // The password is not sent back into the page.
            let outcome = Outcome {
                form: NewUserForm {
                    password: String::new(),
                    ..form
                },
                errors,
                ..Outcome::default()
            };
            let status = StatusCode::UNPROCESSABLE_ENTITY;
            show(&req, &state, &viewer, Vec::new(), status, outcome).await
        }
        Err(e) => Err(e.into()),
    }
}

/// The hidden `back` field of the row forms: the list as it was shown, filters included.
#[derive(Deserialize)]
pub struct RoleForm {
    #[serde(default)]
    role: String,
    #[serde(default)]
    back: String,
}

#[derive(Deserialize)]
pub struct ActiveForm {
    #[serde(default)]
    active: String,
    #[serde(default)]
    back: String,
}

/// The list a row form came from, and its query, for going back or showing it again.
fn back_to(back: &str) -> (String, Vec<(String, String)>) {
    let back = safe_next(Some(back));
    if back != PATH && !back.starts_with(&format!("{PATH}?")) {
        return (PATH.to_owned(), Vec::new());
    }
    let query = back
        .split_once('?')
        .and_then(|(_, q)| serde_urlencoded::from_str(q).ok())
        .unwrap_or_default();
    (back, query)
}

pub async fn change_role(
    req: HttpRequest,
    state: web::Data<AppState>,
    viewer: Viewer,
    id: web::Path<String>,
    CsrfForm(form): CsrfForm<RoleForm>,
) -> WebResult {
    require(&viewer, Capability::ManageUsers)?;
    let patch = UserPatch {
        role: Some(form.role.clone()),
        ..UserPatch::default()
    };
    let refused_role = Some(form.role.clone());
    let result = apply(&state, &viewer, id.into_inner(), patch).await?;
    let (back, query) = back_to(&form.back);
    match result {
        // Someone who just gave up their own admin role has no admin page to go back to.
        Ok(user) if user.id == viewer.actor.user_id && !has(user.role, Capability::ManageUsers) => {
            Ok(see_other("/", Flash::Saved))
        }
        Ok(_) => Ok(see_other(&back, Flash::Saved)),
        Err((status, mut refused)) => {
            refused.role = refused_role;
            let outcome = Outcome {
                refused: Some(refused),
                ..Outcome::default()
            };
            show(&req, &state, &viewer, query, status, outcome).await
        }
    }
}

pub async fn set_active(
    req: HttpRequest,
    state: web::Data<AppState>,
    viewer: Viewer,
    id: web::Path<String>,
    CsrfForm(form): CsrfForm<ActiveForm>,
) -> WebResult {
    require(&viewer, Capability::ManageUsers)?;
    let active = match form.active.as_str() {
        "true" => true,
        "false" => false,
        _ => return Err(AppError::BadRequest("active must be true or false".into()).into()),
    };
    let patch = UserPatch {
        active: Some(active),
        ..UserPatch::default()
    };
    let result = apply(&state, &viewer, id.into_inner(), patch).await?;
    let (back, query) = back_to(&form.back);
    match result {
        Ok(_) => Ok(see_other(&back, Flash::Saved)),
        Err((status, refused)) => {
            let outcome = Outcome {
                refused: Some(refused),
                ..Outcome::default()
            };
            show(&req, &state, &viewer, query, status, outcome).await
        }
    }
}

/// One change to user `id` through `users::update`. What the domain refuses (a conflict,
/// an invalid value) is the inner `Err`, shown on the page with its status; anything else
/// (no such user, a session that ended) is an error page.
async fn apply(
    state: &AppState,
    viewer: &Viewer,
    id: String,
    patch: UserPatch,
) -> Result<Result<User, (StatusCode, Refused)>, WebError> {
    let target = id.clone();
    let result = state
        .write_as(&viewer.credentials, move |conn, actor| {
            actor.require(Capability::ManageUsers)?;
            users::update(conn, &actor.user_id, &target, &patch, None)
        })
        .await;
    let refused = |status, message| {
        let refused = Refused {
            id: id.clone(),
            message,
            role: None,
        };
        Ok(Err((status, refused)))
    };
    match result {
        Ok(user) => Ok(Ok(user)),
        Err(AppError::Conflict(message)) => refused(StatusCode::CONFLICT, message),
        Err(AppError::Validation(errors)) => {
            let message = errors
                .iter()
                .map(|e| format!("{} {}.", capitalised(&e.field), e.message))
                .collect::<Vec<_>>()
                .join(" ");
            refused(StatusCode::UNPROCESSABLE_ENTITY, message)
        }
        Err(e) => Err(e.into()),
    }
}

fn capitalised(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) => c.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

pub async fn reset_password(
    req: HttpRequest,
    state: web::Data<AppState>,
    viewer: Viewer,
    id: web::Path<String>,
    CsrfForm(_): CsrfForm<crate::web::signin::Empty>,
) -> WebResult {
    require(&viewer, Capability::ManageUsers)?;
    let id = id.into_inner();
    if id == viewer.actor.user_id {
        // Resetting would end this very session before the new password could be shown.
        let outcome = Outcome {
            refused: Some(Refused {
                id,
                message: "Change your own password on your profile page.".into(),
                role: None,
            }),
            ..Outcome::default()
        };
        return show(
            &req,
            &state,
            &viewer,
            Vec::new(),
            StatusCode::CONFLICT,
            outcome,
        )
        .await;
    }
    let password = accounts::reset_password(&state, &viewer.credentials, id.clone()).await?;
    let outcome = Outcome {
        reset: Some((id, password)),
        ..Outcome::default()
    };
    show(&req, &state, &viewer, Vec::new(), StatusCode::OK, outcome).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn back_stays_on_the_users_list() {
        assert_eq!(
            back_to("/admin/users?role=sales&q=a+b"),
            (
                "/admin/users?role=sales&q=a+b".to_owned(),
                vec![
                    ("role".to_owned(), "sales".to_owned()),
                    ("q".to_owned(), "a b".to_owned())
                ]
            )
        );
        for elsewhere in [
            "",
            "/customers",
            "/admin/users/x/role",
            "https://evil.example/admin/users",
            "//x",
        ] {
            assert_eq!(
                back_to(elsewhere),
                (PATH.to_owned(), Vec::new()),
                "{elsewhere}"
            );
        }
    }
}
