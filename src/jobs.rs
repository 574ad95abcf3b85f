//! Background work inside the server process.

use std::time::Duration;

use crate::db::Db;
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
