//! Signing in and changing passwords: the flows the JSON API and the web pages share.

use std::net::IpAddr;
use std::time::Instant;

use serde::Serialize;

use crate::auth::password;
use crate::domain::clock::Timestamp;
use crate::domain::sessions;
use crate::domain::users::{self, PasswordChange, User};
use crate::domain::values::Password;
use crate::error::{AppError, AppResult};
use crate::metrics::LoginFailure;
use crate::state::AppState;

/// A new session and the JWT that names it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SignedIn {
    pub token: String,
    pub expires_at: String,
    pub user: User,
    #[serde(skip)]
    pub session_id: String,
}

pub struct Attempt {
    pub email: String,
    pub password: String,
    pub client: Option<IpAddr>,
    pub user_agent: Option<String>,
}

/// Checks a sign-in attempt. Unknown e-mail, wrong password and deactivated account give the
/// same answer after the same bcrypt work, so the response says nothing about which it was.
pub async fn login(state: &AppState, attempt: Attempt) -> AppResult<SignedIn> {
    let account = attempt.email.trim().to_lowercase();
    let client = attempt.client.unwrap_or(IpAddr::from([0, 0, 0, 0]));
    state
        .limiter
        .check(client, &account, Instant::now())
        .map_err(|retry_after_secs| {
            state.metrics.login_failed(LoginFailure::RateLimited);
            AppError::RateLimited { retry_after_secs }
        })?;

    let lookup = account.clone();
    let found = state
        .db
        .read(move |conn| users::credentials_for(conn, &lookup))
        .await?;
    let (user, stored_hash) = match found {
        Some((user, hash)) => (Some(user), Some(hash)),
        None => (None, None),
    };
    let matched = password::verify(attempt.password, stored_hash, state.config.bcrypt_cost).await?;
    let user = match user {
        Some(user) if matched && user.active => user,
        _ => {
            state
                .limiter
                .record_failure(client, &account, Instant::now());
            state.metrics.login_failed(LoginFailure::InvalidCredentials);
            return Err(AppError::InvalidCredentials);
        }
    };
    state.limiter.record_success(client, &account);
    start_session(state, user, attempt.client, attempt.user_agent).await
}

/// Opens a session for `user` and records the sign-in.
pub async fn start_session(
    state: &AppState,
    user: User,
    client: Option<IpAddr>,
    user_agent: Option<String>,
) -> AppResult<SignedIn> {
    let ttl = state.config.token_ttl;
    let user_id = user.id.clone();
    let session = state
        .db
        .write(move |conn| {
            let session = sessions::create(
                conn,
                &user_id,
                ttl,
                client.map(|c| c.to_string()).as_deref(),
                user_agent.as_deref(),
            )?;
            users::record_login(conn, &user_id)?;
            Ok(session)
        })
        .await?;
    Ok(signed_in(state, user, session.id, session.expires_at))
}

fn signed_in(state: &AppState, user: User, session_id: String, expires_at: Timestamp) -> SignedIn {
    SignedIn {
        token: state.keys.sign(&user.id, &session_id, expires_at),
        expires_at: expires_at.to_stored(),
        user,
        session_id,
    }
}

/// Changes the caller's own password after checking the current one. Every session of the
/// user ends, including the caller's; the caller gets a fresh one so they stay signed in
/// on the device they used.
pub async fn change_password(
    state: &AppState,
    credentials: &crate::auth::Credentials,
    current: String,
    new: &str,
    client: Option<IpAddr>,
    user_agent: Option<String>,
) -> AppResult<SignedIn> {
    let new = Password::parse("new_password", new).map_err(|e| AppError::Validation(vec![e]))?;
    let (user, stored) = state
        .read_as(credentials, |conn, actor| {
            Ok((
                users::get(conn, &actor.user_id)?,
                users::password_hash(conn, &actor.user_id)?,
            ))
        })
        .await?;
    let cost = state.config.bcrypt_cost;
    if !password::verify(current, Some(stored), cost).await? {
        return Err(AppError::invalid(
            "current_password",
            "is not your current password",
        ));
    }
    let new_hash = password::hash(new, cost).await?;
    let ttl = state.config.token_ttl;
    let session = state
        .write_as(credentials, move |conn, actor| {
            users::set_password(
                conn,
                Some(&actor.user_id),
                &actor.user_id,
                &new_hash,
                PasswordChange::ByUser,
            )?;
            sessions::create(
                conn,
                &actor.user_id,
                ttl,
                client.map(|c| c.to_string()).as_deref(),
                user_agent.as_deref(),
            )
        })
        .await?;
    Ok(signed_in(state, user, session.id, session.expires_at))
}
