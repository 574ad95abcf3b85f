//! Personal API tokens for integrations: shown once, stored as a SHA-256 digest, revocable,
//! and dead as soon as their user is deactivated.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::domain::audit::{self, Entry};
use crate::domain::clock::Timestamp;
use crate::domain::new_id;
use crate::domain::sessions::{Principal, principal_from_row};
use crate::domain::values::required_text;
use crate::error::{AppError, AppResult};

/// Every personal token starts with this, which tells it apart from a JWT and lets secret
/// scanners recognise a leaked one.
pub const PREFIX: &str = "rpt_";

/// `last_used_at` is bookkeeping: refreshing it at most once a minute keeps reads from
/// turning into writes.
pub const TOUCH_INTERVAL: std::time::Duration = std::time::Duration::from_secs(60);

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ApiToken {
    pub id: String,
    pub name: String,
    pub created_at: String,
    pub last_used_at: Option<String>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewToken {
    /// Where the token is used, e.g. "Zapier"; 1–100 characters.
    pub name: String,
}

pub struct TokenPrincipal {
    pub token_id: String,
    pub last_used_at: Option<String>,
    pub principal: Principal,
}

/// A fresh secret: the prefix and 32 random bytes.
pub fn generate_secret() -> String {
    let bytes: [u8; 32] = rand::random();
    format!("{PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes))
}

pub fn digest(secret: &str) -> [u8; 32] {
    Sha256::digest(secret.as_bytes()).into()
}

pub fn create(conn: &Connection, user_id: &str, input: &NewToken) -> AppResult<(ApiToken, String)> {
    let name =
        required_text("name", &input.name, 100).map_err(|e| AppError::Validation(vec![e]))?;
    let count: i64 = conn
        .prepare_cached(
            "SELECT count(*) FROM api_tokens WHERE user_id = ?1 AND revoked_at IS NULL",
        )?
        .query_row([user_id], |r| r.get(0))?;
    if count >= 50 {
        return Err(AppError::Conflict(
            "You have 50 active tokens; revoke one you no longer use first.".into(),
        ));
    }
    let secret = generate_secret();
    let token = ApiToken {
        id: new_id(),
        name,
        created_at: Timestamp::now().to_stored(),
        last_used_at: None,
    };
    conn.prepare_cached(
        "INSERT INTO api_tokens (id, user_id, name, token_hash, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![token.id, user_id, token.name, digest(&secret).as_slice(), token.created_at])?;
    audit::record(
        conn,
        Entry::new(Some(user_id), "token.create", "api_token")
            .entity(&token.id)
            .after(&token),
    )?;
    Ok((token, secret))
}

pub fn list(conn: &Connection, user_id: &str) -> AppResult<Vec<ApiToken>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, name, created_at, last_used_at FROM api_tokens
          WHERE user_id = ?1 AND revoked_at IS NULL ORDER BY created_at DESC, id DESC",
    )?;
    let rows = stmt.query_map([user_id], |r| {
        Ok(ApiToken {
            id: r.get(0)?,
            name: r.get(1)?,
            created_at: r.get(2)?,
            last_used_at: r.get(3)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Revokes one of the caller's own tokens; someone else's answers 404.
pub fn revoke(conn: &Connection, user_id: &str, token_id: &str) -> AppResult<()> {
    let changed = conn
        .prepare_cached(
            "UPDATE api_tokens SET revoked_at = ?3
              WHERE id = ?1 AND user_id = ?2 AND revoked_at IS NULL",
        )?
        .execute(params![token_id, user_id, Timestamp::now().to_stored()])?;
    if changed == 0 {
        return Err(AppError::NotFound);
    }
    audit::record(
        conn,
        Entry::new(Some(user_id), "token.revoke", "api_token").entity(token_id),
    )
}

pub fn lookup(conn: &Connection, digest: &[u8; 32]) -> AppResult<Option<TokenPrincipal>> {
    let mut stmt = conn.prepare_cached(
        "SELECT u.id, u.role, u.name, u.email, u.active, t.revoked_at IS NOT NULL, NULL,
                t.id, t.last_used_at
           FROM api_tokens t JOIN users u ON u.id = t.user_id
          WHERE t.token_hash = ?1",
    )?;
    Ok(stmt
        .query_row([digest.as_slice()], |r| {
            Ok(TokenPrincipal {
                principal: principal_from_row(r)?,
                token_id: r.get(7)?,
                last_used_at: r.get(8)?,
            })
        })
        .optional()?)
}

pub fn touch(conn: &Connection, token_id: &str) -> AppResult<()> {
    conn.prepare_cached("UPDATE api_tokens SET last_used_at = ?2 WHERE id = ?1")?
        .execute(params![token_id, Timestamp::now().to_stored()])?;
    Ok(())
}

/// Whether `last_used_at` is old enough to be worth a write.
pub fn needs_touch(last_used_at: Option<&str>, now: Timestamp) -> bool {
    match last_used_at.and_then(Timestamp::parse) {
        Some(last) => last.plus(TOUCH_INTERVAL) <= now,
        None => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_prefixed_random_and_digested() {
        let a = generate_secret();
        let b = generate_secret();
        assert!(a.starts_with(PREFIX));
        assert_eq!(a.len(), PREFIX.len() + 43);
        assert_ne!(a, b);
        assert_ne!(digest(&a), digest(&b));
    }

    #[test]
    fn touch_is_throttled() {
        let now = Timestamp::now();
        assert!(needs_touch(None, now));
        let recent = now.minus(std::time::Duration::from_secs(5)).to_stored();
        assert!(!needs_touch(Some(&recent), now));
        let old = now.minus(std::time::Duration::from_secs(120)).to_stored();
        assert!(needs_touch(Some(&old), now));
    }
}
