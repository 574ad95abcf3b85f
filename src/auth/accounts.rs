//! Admins managing other people's accounts: the flows `/api/v1/users` and the admin pages
//! share, so a password is generated, hashed and shown the same way through either door.

use crate::auth::Credentials;
use crate::auth::password;
use crate::auth::permissions::Capability;
use crate::domain::users::{self, NewUserInput, PasswordChange, User};
use crate::domain::values::Password;
use crate::error::AppResult;
use crate::state::AppState;

/// A user just created, with the generated password when the admin gave none. It is shown
/// this once and stored only as a bcrypt hash.
pub struct Created {
    pub user: User,
    pub generated: Option<String>,
}

/// Creates a user (admins only). Validation and the role check come before the bcrypt
/// work; the write checks the role again.
pub async fn create_user(
    state: &AppState,
    credentials: &Credentials,
    input: &NewUserInput,
) -> AppResult<Created> {
    state
        .authorize(credentials, Capability::ManageUsers)
        .await?;
    let mut new_user = input.validate()?;
    let (chosen, generated) = match new_user.password.take() {
        Some(given) => (given, None),
        None => {
            let made = Password::generate();
            (made.clone(), Some(made.expose().to_owned()))
        }
    };
    let hash = password::hash(chosen, state.config.bcrypt_cost).await?;
    let user = state
        .write_as(credentials, move |conn, actor| {
            actor.require(Capability::ManageUsers)?;
            users::insert(conn, Some(&actor.user_id), &new_user, &hash)
        })
        .await?;
    Ok(Created { user, generated })
}

/// Gives user `id` a generated password and ends all their sessions (admins only).
/// Returns the password, to be shown once.
pub async fn reset_password(
    state: &AppState,
    credentials: &Credentials,
    id: String,
) -> AppResult<String> {
    state
        .authorize(credentials, Capability::ManageUsers)
        .await?;
    let new = Password::generate();
    let shown = new.expose().to_owned();
    let hash = password::hash(new, state.config.bcrypt_cost).await?;
    state
        .write_as(credentials, move |conn, actor| {
            actor.require(Capability::ManageUsers)?;
            users::set_password(
                conn,
                Some(&actor.user_id),
                &id,
                &hash,
                PasswordChange::Reset,
            )
        })
        .await?;
    Ok(shown)
}
