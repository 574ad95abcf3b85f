//! Building and starting the server: database, keys, routes, middleware, bind.

use std::net::SocketAddr;

use actix_web::middleware::{Compress, ErrorHandlers, from_fn};
use actix_web::{App, HttpResponse, HttpServer, web};

use crate::auth::jwt::Keys;
use crate::auth::rate_limit::LoginLimiter;
use crate::config::ServeConfig;
use crate::db::{Db, DbOptions, OpenError, backups, lock};
use crate::domain::{imports, settings, users};
use crate::error::AppError;
use crate::http::{self, middleware, problem};
use crate::jobs;
use crate::state::{AppState, CookieSettings, SetupGate};
use crate::web as pages;

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Database(#[from] OpenError),
    #[error("cannot prepare the database: {0}")]
    Prepare(AppError),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: String,
        source: std::io::Error,
    },
}

/// A server that is listening. Awaiting `server` runs it until it is stopped.
pub struct Running {
    pub server: actix_web::dev::Server,
    pub addr: SocketAddr,
    pub base_url: String,
    /// The one-time setup token, when the database has no users yet.
    pub setup_token: Option<String>,
    pub state: web::Data<AppState>,
}

/// How long a graceful stop waits for requests in flight (streams included) to finish.
const SHUTDOWN_TIMEOUT_SECS: u64 = 10;

impl Running {
    /// Serves until SIGTERM or SIGINT, then stops gracefully: no new connections, requests
    /// in flight finish (for up to 10 s; notification streams end at once, and browsers
    /// resume them from the next server without losing an event), every queued write
    /// commits, and a last checkpoint copies the WAL into the database file. The database
    /// lock is let go only after that.
    pub async fn run(self) -> std::io::Result<()> {
        let handle = self.server.handle();
        let state = self.state.clone();
        actix_web::rt::spawn(async move {
            match stop_signal().await {
                Ok(name) => tracing::info!(signal = name, "stopping gracefully"),
                Err(err) => tracing::error!(%err, "cannot listen for stop signals"),
            }
            state.stopping.send_replace(true);
            handle.stop(true).await;
        });
        self.server.await?;
        let db = self.state.db.clone();
        // Queued in order behind every write still waiting (detached bookkeeping included).
        if let Err(err) = db.write(|_| Ok(())).await {
            tracing::warn!(%err, "the writer did not drain");
        }
        let checkpointed = web::block(move || db.final_checkpoint()).await;
        match checkpointed {
            Ok(Ok(())) => tracing::info!("database checkpointed; stopped"),
            Ok(Err(err)) => tracing::warn!(%err, "final checkpoint incomplete"),
            Err(err) => tracing::warn!(%err, "final checkpoint did not run"),
        }
        drop(self.state);
        Ok(())
    }

    pub fn setup_link(&self) -> Option<String> {
        self.setup_token
            .as_ref()
            .map(|t| format!("{}/setup?token={t}", self.base_url))
    }
}

pub async fn start(mut config: ServeConfig) -> Result<Running, StartError> {
    let db_lock = lock::shared(&config.db).map_err(OpenError::from)?;
    let db = Db::open_held(
        &DbOptions {
            path: config.db.clone(),
            readers: config.db_readers,
        },
        &db_lock,
        &config.timezone,
    )?;
    let configured_secret = config.secret.take();
    let (secret, user_count) = db
        .write(move |conn| {
            let secret = match configured_secret {
                Some(s) => s.bytes().to_vec(),
                None => settings::jwt_secret_or_generate(conn)?,
            };
            Ok((secret, users::count(conn)?))
        })
        .await
        .map_err(StartError::Prepare)?;

    let state = web::Data::new(AppState {
        db: db.clone(),
        keys: Keys::from_secret(&secret),
        cookies: CookieSettings {
            secure: config.https(),
        },
        limiter: LoginLimiter::new(config.login_limits),
        setup: SetupGate::closed(),
        config: config.clone(),
        backup_status: backups::Status::default(),
        db_lock,
        stopping: tokio::sync::watch::Sender::new(false),
        metrics: Default::default(),
    });
    let setup_token = (user_count == 0).then(|| state.setup.open());

    let app_state = state.clone();
    let https = config.https();
    let max_body = config.max_body_bytes;
    let server = HttpServer::new(move || {
        App::new()
            .app_data(app_state.clone())
            .app_data(web::PayloadConfig::new(max_body))
            .app_data(web::QueryConfig::default().error_handler(problem::query_error))
            .app_data(web::PathConfig::default().error_handler(problem::path_error))
            .wrap(ErrorHandlers::new().default_handler(problem::bare_error_to_problem))
            .wrap(Compress::default())
            .wrap(middleware::security_headers(https))
            .wrap(from_fn(middleware::access_log))
            .configure(http::routes)
            .configure(pages::routes)
            .default_service(web::to(page_not_found))
    })
    .workers(config.workers.max(1))
    // Signals are ours (see `Running::run`): actix stops abruptly on SIGINT.
    .disable_signals()
    .shutdown_timeout(SHUTDOWN_TIMEOUT_SECS);
    let server = server
        .bind(&config.bind)
        .map_err(|source| StartError::Bind {
            addr: config.bind.clone(),
            source,
        })?;
    let addr = server
        .addrs()
        .first()
        .copied()
        .ok_or_else(|| StartError::Bind {
            addr: config.bind.clone(),
            source: std::io::Error::other("no address bound"),
        })?;
    let base_url = if config.base_url.is_empty() {
        local_url(addr)
    } else {
        config.base_url.trim_end_matches('/').to_owned()
    };
    spawn_import_recovery(db.clone());
    jobs::spawn_scheduler(db.clone(), config.timers.scheduler_every);
    if let Some(schedule) = config.backups.clone() {
        jobs::spawn_backups(config.db.clone(), schedule, state.backup_status.clone())
            .map_err(|e| StartError::Prepare(AppError::internal(e)))?;
    }
    jobs::spawn_housekeeping(db, config.notification_retention);
    Ok(Running {
        server: server.run(),
        addr,
        base_url,
        setup_token,
        state,
    })
}

/// Undoes imports that a stopped process left half done, beside serving: a big one takes a
/// while, and until it is undone its rows are merely extra records.
fn spawn_import_recovery(db: Db) {
    let spawned = std::thread::Builder::new()
        .name("import-recovery".into())
        .spawn(move || match imports::recover(&db) {
            Ok(0) => {}
            Ok(n) => tracing::warn!(imports = n, "undid interrupted imports"),
            Err(e) => tracing::error!(%e, "cannot undo interrupted imports"),
        });
    if let Err(e) = spawned {
        tracing::error!(%e, "cannot start the import recovery thread");
    }
}

/// Waits for SIGTERM (systemd, docker stop) or SIGINT (Ctrl-C) and names it.
async fn stop_signal() -> std::io::Result<&'static str> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    Ok(tokio::select! {
        _ = term.recv() => "SIGTERM",
        _ = int.recv() => "SIGINT",
    })
}

/// `http://127.0.0.1:8080`, or `http://localhost:8080` when listening on every interface.
fn local_url(addr: SocketAddr) -> String {
    if addr.ip().is_unspecified() {
        format!("http://localhost:{}", addr.port())
    } else {
        format!("http://{addr}")
    }
}

async fn page_not_found() -> Result<HttpResponse, pages::error::WebError> {
    Err(AppError::NotFound.into())
}
