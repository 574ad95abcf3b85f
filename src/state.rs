//! What every request handler shares, and the two ways handlers reach the database on
//! behalf of a caller.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use rusqlite::Connection;

use crate::auth::Credentials;
use crate::auth::actor::{Actor, Via, authenticate};
use crate::auth::jwt::Keys;
use crate::auth::permissions::Capability;
use crate::auth::rate_limit::LoginLimiter;
use crate::config::ServeConfig;
use crate::db::Db;
use crate::domain::tokens;
use crate::error::AppResult;

pub struct AppState {
    pub db: Db,
    pub keys: Keys,
    pub cookies: CookieSettings,
    pub limiter: LoginLimiter,
    pub setup: SetupGate,
    pub config: ServeConfig,
    /// How the last scheduled snapshot went.
    pub backup_status: crate::db::backups::Status,
    /// Held (shared) for as long as the server runs: `restore` and upgrades refuse meanwhile.
    pub db_lock: crate::db::lock::DbLock,
    /// Turns true when a graceful stop begins: endless responses (notification streams)
    /// end then, instead of holding the stop up until its timeout.
    pub stopping: tokio::sync::watch::Sender<bool>,
    /// Request, sign-in and stream counters for `GET /metrics` (the database keeps its own).
    pub metrics: std::sync::Arc<crate::metrics::Metrics>,
}

impl AppState {
    /// Authenticates the caller and runs `f` on a reader thread, in one database job.
    pub async fn read_as<T, F>(&self, credentials: &Credentials, f: F) -> AppResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection, &Actor) -> AppResult<T> + Send + 'static,
    {
        let credentials = credentials.clone();
        let (out, touch) = self
            .db
            .read(move |conn| {
                let actor = authenticate(conn, &credentials)?;
                let out = f(conn, &actor)?;
                Ok((out, token_to_touch(actor)))
            })
            .await?;
        if let Some(token_id) = touch {
            self.db
                .write_detached(move |conn| tokens::touch(conn, &token_id));
        }
        Ok(out)
    }

    /// Authenticates the caller and runs `f` inside the writer's transaction. Checking the
    /// session in the same transaction means a revoked session can never slip a write in.
    pub async fn write_as<T, F>(&self, credentials: &Credentials, f: F) -> AppResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection, &Actor) -> AppResult<T> + Send + 'static,
    {
        let credentials = credentials.clone();
        self.db
            .write(move |conn| {
                let actor = authenticate(conn, &credentials)?;
                if let Some(token_id) = token_to_touch(actor.clone()) {
                    tokens::touch(conn, &token_id)?;
                }
                f(conn, &actor)
            })
            .await
    }

    /// A cheap check before expensive work (bcrypt) that the same write re-checks.
    pub async fn authorize(
        &self,
        credentials: &Credentials,
        capability: Capability,
    ) -> AppResult<Actor> {
        self.read_as(credentials, move |_, actor| {
            actor.require(capability)?;
            Ok(actor.clone())
        })
        .await
    }
}

fn token_to_touch(actor: Actor) -> Option<String> {
    match actor.via {
        Via::ApiToken {
            token_id,
            needs_touch: true,
        } => Some(token_id),
        _ => None,
    }
}

/// Cookie names and flags. Over https the names carry the `__Host-` prefix, which browsers
/// only accept with `Secure`, `Path=/` and no `Domain`, so a sibling subdomain cannot plant
/// one.
#[derive(Debug, Clone, Copy)]
pub struct CookieSettings {
    pub secure: bool,
}

impl CookieSettings {
    pub fn session_name(&self) -> &'static str {
        if self.secure {
            "__Host-rapport_session"
        } else {
            "rapport_session"
        }
    }

    /// The random value the sign-in and setup forms' CSRF tokens are bound to.
    pub fn presession_name(&self) -> &'static str {
        if self.secure {
            "__Host-rapport_pre"
        } else {
            "rapport_pre"
        }
    }

    pub fn flash_name(&self) -> &'static str {
        "rapport_flash"
    }
}

/// The one-time first-run link. It lives in memory: it dies with the process, and a restart
/// on a database that still has no users prints a fresh one.
pub struct SetupGate {
    inner: Mutex<Option<(String, Instant)>>,
}

pub const SETUP_LINK_TTL: Duration = Duration::from_secs(30 * 60);

impl SetupGate {
    pub fn closed() -> Self {
        Self {
            inner: Mutex::new(None),
        }
    }

    /// Opens the gate with a fresh token and returns it.
    pub fn open(&self) -> String {
        self.open_until(Instant::now() + SETUP_LINK_TTL)
    }

    fn open_until(&self, until: Instant) -> String {
        let token = tokens::generate_secret()
            .trim_start_matches(tokens::PREFIX)
            .to_owned();
        let digest = hex::encode(tokens::digest(&token));
        *self.inner.lock().unwrap_or_else(|p| p.into_inner()) = Some((digest, until));
        token
    }

    pub fn is_valid(&self, token: &str) -> bool {
        self.is_valid_at(token, Instant::now())
    }

    fn is_valid_at(&self, token: &str, now: Instant) -> bool {
        let digest = hex::encode(tokens::digest(token));
        let guard = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        matches!(&*guard, Some((d, until)) if *d == digest && now < *until)
    }

    pub fn close(&self) {
        *self.inner.lock().unwrap_or_else(|p| p.into_inner()) = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn setup_link_is_single_use_and_expires_after_30_minutes() {
        let gate = SetupGate::closed();
        assert!(!gate.is_valid(""));
        let token = gate.open();
        assert!(gate.is_valid(&token));
        assert!(!gate.is_valid("guess"));
        let later = Instant::now() + SETUP_LINK_TTL + Duration::from_secs(1);
        assert!(!gate.is_valid_at(&token, later));
        gate.close();
        assert!(!gate.is_valid(&token));
        let fresh = gate.open();
        assert_ne!(fresh, token, "a new link replaces the old one");
        assert!(!gate.is_valid(&token));
    }
}
