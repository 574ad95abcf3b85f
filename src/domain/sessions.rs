//! Sign-in sessions. Each JWT names one row here; the row is checked on every request, so
//! revoking it ends the session at once.

use rusqlite::{Connection, OptionalExtension, params};

use crate::auth::permissions::Role;
use crate::domain::clock::Timestamp;
use crate::domain::new_id;
use crate::error::AppResult;

pub struct NewSession {
    pub id: String,
    pub expires_at: Timestamp,
}

/// The user behind a session or token, as read on each request.
pub struct Principal {
    pub user_id: String,
    pub role: Role,
    pub name: String,
    pub email: String,
    pub active: bool,
    pub revoked: bool,
    pub expires_at: Option<String>,
}

pub fn create(
    conn: &Connection,
    user_id: &str,
    ttl: std::time::Duration,
    client_addr: Option<&str>,
    user_agent: Option<&str>,
) -> AppResult<NewSession> {
    let now = Timestamp::now();
    let session = NewSession {
        id: new_id(),
        expires_at: now.plus(ttl),
    };
    conn.prepare_cached(
        "INSERT INTO sessions (id, user_id, created_at, expires_at, client_addr, user_agent)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![
        session.id,
        user_id,
        now.to_stored(),
        session.expires_at.to_stored(),
        client_addr,
        user_agent.map(|ua| ua.chars().take(300).collect::<String>()),
    ])?;
    Ok(session)
}

pub fn lookup(conn: &Connection, session_id: &str) -> AppResult<Option<Principal>> {
    let mut stmt = conn.prepare_cached(
        "SELECT u.id, u.role, u.name, u.email, u.active, s.revoked_at IS NOT NULL, s.expires_at
           FROM sessions s JOIN users u ON u.id = s.user_id
          WHERE s.id = ?1",
    )?;
    Ok(stmt
        .query_row([session_id], principal_from_row)
        .optional()?)
}

pub(crate) fn principal_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Principal> {
    let role: String = r.get(1)?;
    Ok(Principal {
        user_id: r.get(0)?,
        // The CHECK constraint keeps unknown roles out; a corrupt row gets the least power.
        role: Role::parse(&role).unwrap_or(Role::Support),
        name: r.get(2)?,
        email: r.get(3)?,
        active: r.get(4)?,
        revoked: r.get(5)?,
        expires_at: r.get(6)?,
    })
}

/// Logout: ends one session.
pub fn revoke(conn: &Connection, session_id: &str) -> AppResult<()> {
    conn.prepare_cached(
        "UPDATE sessions SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL",
    )?
    .execute(params![session_id, Timestamp::now().to_stored()])?;
    Ok(())
}

/// Password change, reset or deactivation: ends every session of the user.
pub fn revoke_all(conn: &Connection, user_id: &str) -> AppResult<usize> {
    Ok(conn
        .prepare_cached(
            "UPDATE sessions SET revoked_at = ?2 WHERE user_id = ?1 AND revoked_at IS NULL",
        )?
        .execute(params![user_id, Timestamp::now().to_stored()])?)
}

/// Drops sessions that expired more than a day ago; their tokens are dead anyway.
pub fn prune_expired(conn: &Connection) -> AppResult<usize> {
    let cutoff = Timestamp::now().minus(std::time::Duration::from_secs(86_400));
    Ok(conn
        .prepare_cached("DELETE FROM sessions WHERE expires_at < ?1")?
        .execute([cutoff.to_stored()])?)
}
