//! Settings of a running server, resolved from flags and environment variables by `cli`.

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use crate::auth::rate_limit::LoginLimits;
use crate::domain::clock::Zone;
use crate::domain::currency::Currency;

/// The signing key from `RAPPORT_SECRET`. `Debug` never prints it.
#[derive(Clone)]
pub struct Secret(Vec<u8>);

impl Secret {
    pub const MIN_LEN: usize = 32;

    pub fn parse(raw: &str) -> Result<Secret, String> {
        Self::parse_named("RAPPORT_SECRET", raw, Self::MIN_LEN)
    }

    /// A secret of at least `min_len` bytes, named in the error.
    pub fn parse_named(name: &str, raw: &str, min_len: usize) -> Result<Secret, String> {
        if raw.len() < min_len {
            return Err(format!(
                "{name} must be at least {min_len} bytes (got {}); generate one with `openssl rand -hex 32`",
                raw.len()
            ));
        }
        Ok(Secret(raw.as_bytes().to_vec()))
    }

    pub fn bytes(&self) -> &[u8] {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(redacted)")
    }
}

/// The default of `--max-attachment`: 25 MiB.
pub const DEFAULT_MAX_ATTACHMENT: usize = 25 * 1024 * 1024;

#[derive(Debug, Clone)]
pub struct ServeConfig {
    pub db: PathBuf,
    pub bind: String,
    /// The address users reach Rapport at, without a trailing slash; decides links in
    /// console output and whether cookies are `Secure`.
    pub base_url: String,
    pub token_ttl: Duration,
    pub trusted_proxies: Vec<IpAddr>,
    pub bcrypt_cost: u32,
    pub secret: Option<Secret>,
    pub db_readers: usize,
    pub workers: usize,
    pub max_body_bytes: usize,
    /// Largest CSV upload (`POST /imports` streams it, so `max_body_bytes` does not apply).
    pub max_import_bytes: usize,
    /// Largest attachment (`POST /attachments` streams it too).
    pub max_attachment_bytes: usize,
    /// The currency of new leads that name none.
    pub base_currency: Currency,
    /// What "today" and "this month" mean: the days of the dashboard, its report tables and
    /// "My tasks" (`--timezone`). Times are stored in UTC whatever it is.
    pub timezone: Zone,
    /// Sign-in throttling; not a flag (the defaults are the policy), tests tighten or
    /// loosen it.
    pub login_limits: LoginLimits,
    /// Read notifications older than this are deleted.
    pub notification_retention: Duration,
    /// Background timings; not flags either, for the same reason.
    pub timers: Timers,
    /// Scheduled snapshots (`--backup-dir`); `None` takes none.
    pub backups: Option<crate::db::backups::Schedule>,
    /// The bearer token `GET /metrics` requires (`--metrics-token`); without one it answers
    /// only direct loopback connections.
    pub metrics_token: Option<Secret>,
}

/// How often the server's background work runs.
#[derive(Debug, Clone, Copy)]
pub struct Timers {
    /// Reminders and overdue notices fire at most this late.
    pub scheduler_every: Duration,
    /// An idle notification stream sends a comment this often, so proxies keep it open,
    /// and re-checks that its session is still valid.
    pub stream_keepalive: Duration,
}

impl Default for Timers {
    fn default() -> Self {
        Timers {
            scheduler_every: Duration::from_secs(5),
            stream_keepalive: Duration::from_secs(15),
        }
    }
}

impl ServeConfig {
    pub fn https(&self) -> bool {
        self.base_url.starts_with("https://")
    }

    /// A configuration for tests and tools: a given database, port 0, cheap bcrypt.
    pub fn for_tests(db: PathBuf) -> ServeConfig {
        ServeConfig {
            db,
            bind: "127.0.0.1:0".into(),
            base_url: String::new(),
            token_ttl: Duration::from_secs(12 * 3600),
            trusted_proxies: Vec::new(),
            bcrypt_cost: crate::auth::password::MIN_COST,
            secret: None,
            db_readers: 2,
            workers: 2,
            max_body_bytes: 1024 * 1024,
            max_import_bytes: 16 * 1024 * 1024,
            max_attachment_bytes: DEFAULT_MAX_ATTACHMENT,
            base_currency: Currency::usd(),
            timezone: Zone::utc(),
            login_limits: LoginLimits::default(),
            notification_retention: Duration::from_secs(90 * 24 * 3600),
            timers: Timers {
                scheduler_every: Duration::from_millis(500),
                stream_keepalive: Duration::from_secs(2),
            },
            backups: None,
            metrics_token: None,
        }
    }
}
