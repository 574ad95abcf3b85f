//! Background work inside the server process.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::db::{Db, backups};
use crate::domain::clock::Timestamp;
use crate::domain::{notifications, sessions};

const HOUSEKEEPING_EVERY: Duration = Duration::from_secs(3600);

/// Hourly: forget long-expired sessions and old read notifications, and let SQLite refresh
/// its query statistics.
pub fn spawn_housekeeping(db: Db, notification_retention: Duration) {
    actix_web::rt::spawn(async move {
        let mut tick = actix_web::rt::time::interval(HOUSEKEEPING_EVERY);
        tick.tick().await;
        loop {
            tick.tick().await;
            let pruned = db
                .write(move |conn| {
                    let sessions = sessions::prune_expired(conn)?;
                    let read_before = Timestamp::now().minus(notification_retention);
                    let notices = notifications::prune_read(conn, &read_before.to_stored())?;
                    conn.execute_batch("PRAGMA optimize")?;
                    Ok((sessions, notices))
                })
                .await;
            match pruned {
                Ok((0, 0)) => {}
                Ok((sessions, notifications)) => {
                    tracing::info!(
                        sessions,
                        notifications,
                        "pruned expired sessions and old notifications"
                    )
                }
                Err(err) => tracing::warn!(%err, "housekeeping failed"),
            }
        }
    });
}

/// Fires task reminders and overdue notices: once at start (for what fell due while the
/// server was down), then every `every`.
pub fn spawn_scheduler(db: Db, every: Duration) {
    actix_web::rt::spawn(async move {
        let mut tick = actix_web::rt::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let fired = db
                .write(|conn| notifications::fire_due(conn, &Timestamp::now().to_stored()))
                .await;
            match fired {
                Ok(fired) if fired == Default::default() => {}
                Ok(fired) => tracing::info!(
                    reminders = fired.reminders,
                    overdue = fired.overdue,
                    "sent task notices"
                ),
                Err(err) => tracing::warn!(%err, "the reminder scheduler failed"),
            }
        }
    });
}

/// After a failed snapshot, the next try comes after this long (or the interval, if shorter)
/// rather than at once: a full disk does not clear itself in a second.
const BACKUP_RETRY: Duration = Duration::from_secs(5 * 60);

/// Scheduled snapshots (`--backup-dir`), on a thread of their own: a snapshot reads and
/// checks the whole database, blocking work that must hold neither an async worker nor the
/// writer (it reads on a connection of its own, so writes go on meanwhile).
pub fn spawn_backups(
    db: PathBuf,
    schedule: backups::Schedule,
    status: backups::Status,
) -> std::io::Result<()> {
    std::thread::Builder::new()
        .name("backups".into())
        .spawn(move || {
            if let Err(err) = backups::remove_partials(&schedule.dir) {
                tracing::warn!(%err, "cannot clean unfinished snapshots");
            }
            let mut failed = false;
            loop {
                let newest = backups::list(&schedule.dir)
                    .ok()
                    .and_then(|all| all.into_iter().next());
                let mut wait = backups::due_in(
                    newest.as_ref(),
                    schedule.interval,
                    time::OffsetDateTime::now_utc(),
                );
                if failed {
                    wait = wait.max(schedule.interval.min(BACKUP_RETRY));
                }
                std::thread::sleep(wait);
                failed = !take_backup(&db, &schedule, &status);
            }
        })?;
    Ok(())
}

/// One scheduled snapshot; logs and records the outcome for `GET /api/v1/admin/backups`.
fn take_backup(db: &Path, schedule: &backups::Schedule, status: &backups::Status) -> bool {
    let started = std::time::Instant::now();
    match backups::take(db, &schedule.dir, schedule.keep) {
        Ok(snapshot) => {
            tracing::info!(
                name = %snapshot.name,
                bytes = snapshot.size,
                ms = started.elapsed().as_millis() as u64,
                "took a scheduled snapshot"
            );
            status.succeeded();
            true
        }
        Err(err) => {
            tracing::error!(%err, dir = %schedule.dir.display(), "scheduled snapshot failed");
            status.failed(err.to_string());
            false
        }
    }
}
