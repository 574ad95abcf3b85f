//! Background housekeeping inside the server process.

use std::time::Duration;

use crate::db::Db;
use crate::domain::sessions;

const EVERY: Duration = Duration::from_secs(3600);

/// Hourly: forget long-expired sessions and let SQLite refresh its query statistics.
pub fn spawn_housekeeping(db: Db) {
    actix_web::rt::spawn(async move {
        let mut tick = actix_web::rt::time::interval(EVERY);
        tick.tick().await;
        loop {
            tick.tick().await;
            let pruned = db
                .write(|conn| {
                    let n = sessions::prune_expired(conn)?;
                    conn.execute_batch("PRAGMA optimize")?;
                    Ok(n)
                })
                .await;
            match pruned {
                Ok(n) if n > 0 => tracing::info!(sessions = n, "pruned expired sessions"),
                Ok(_) => {}
                Err(err) => tracing::warn!(%err, "housekeeping failed"),
            }
        }
    });
}
