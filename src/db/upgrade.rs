//! Opening a database for writing and bringing its schema up to date, safely: before a
//! database that holds data is migrated, a snapshot of it is written next to it
//! (`rapport.db.pre-v<N>-<time>`, N being the version it is upgraded to), and the
//! migration itself is one transaction, so a failure leaves the file as it was.

use std::path::{Path, PathBuf};

use rusqlite::Connection;
use time::OffsetDateTime;

use crate::db::backups::stamp;
use crate::db::lock::{self, DbLock};
use crate::db::maintenance::{self, Verify};
use crate::db::{OpenError, connection, migrations};

/// For the command line: takes the database's lock exclusively while migrating, so a newer
/// binary never upgrades the file under an older server that is still running.
pub fn open_and_migrate(path: &Path) -> Result<Connection, OpenError> {
    open_and_upgrade(path, None)
}

/// For `serve`, which holds the lock shared already: exclusive while it migrates.
pub fn open_and_migrate_held(path: &Path, held: &DbLock) -> Result<Connection, OpenError> {
    open_and_upgrade(path, Some(held))
}

fn open_and_upgrade(path: &Path, held: Option<&DbLock>) -> Result<Connection, OpenError> {
    connection::assert_sqlite_version().map_err(OpenError::Version)?;
    let label = path.display().to_string();
    let mut conn = connection::open(path).map_err(|source| OpenError::Open {
        path: label.clone(),
        source,
    })?;
    let pending = migrations::upgrade_pending(&conn).map_err(|source| OpenError::Open {
        path: label.clone(),
        source,
    })?;
    let mut taken = None;
    let snapshot = if pending {
        // Upgrading runs alone: no older server may go on using the file afterwards.
        match held {
            Some(server) => server.make_exclusive()?,
            None => taken = Some(lock::exclusive(path)?),
        }
        Some(save_before_upgrade(&conn, path)?)
    } else {
        None
    };
    let report = migrate(&mut conn, &label, snapshot.as_deref());
    if let (Some(server), true) = (held, pending) {
        server.make_shared()?;
    }
    drop(taken);
    let report = report?;
    finish(conn, path, report)
}

/// Writes `rapport.db.pre-v<N>-<time>`; without it the upgrade does not happen.
fn save_before_upgrade(conn: &Connection, path: &Path) -> Result<PathBuf, OpenError> {
    let dest = pre_migration_path(path, OffsetDateTime::now_utc());
    // Integrity only: the full check reads today's tables, which an older schema does not
    // have yet.
    maintenance::snapshot_with(conn, &dest, false, Verify::Integrity)
        .map_err(OpenError::PreMigrationSnapshot)?;
    tracing::info!(snapshot = %dest.display(), "saved a snapshot before upgrading");
    Ok(dest)
}

fn migrate(
    conn: &mut Connection,
    label: &str,
    snapshot: Option<&Path>,
) -> Result<migrations::MigrationReport, OpenError> {
    migrations::migrate(conn, label).map_err(|source| match snapshot {
        Some(s) => OpenError::Upgrade {
            source,
            snapshot: s.display().to_string(),
        },
        None => OpenError::Migration(source),
    })
}

fn finish(
    conn: Connection,
    path: &Path,
    report: migrations::MigrationReport,
) -> Result<Connection, OpenError> {
    if report.created {
        tracing::info!(path = %path.display(), version = report.to, "created a new database");
    } else if report.from != report.to {
        tracing::info!(
            from = report.from,
            to = report.to,
            "applied schema migrations"
        );
    }
    Ok(conn)
}

/// `rapport.db.pre-v8-20261122T061500Z`: the database as it was before upgrading to v8.
pub fn pre_migration_path(path: &Path, at: OffsetDateTime) -> PathBuf {
    let mut name = path.as_os_str().to_os_string();
    name.push(format!(
        ".pre-v{}-{}",
        migrations::latest_version(),
        stamp(at)
    ));
    PathBuf::from(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snapshots_beside(path: &Path) -> Vec<PathBuf> {
        let dir = path.parent().unwrap();
        let mut found: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.to_str().unwrap().contains(".pre-v"))
            .collect();
        found.sort();
        found
    }

    #[test]
    fn an_older_database_is_saved_before_it_is_upgraded() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("rapport.db");
        let older = migrations::latest_version() as usize - 1;
        {
            let mut conn = connection::open(&db).unwrap();
            migrations::migrate_to(&mut conn, older).unwrap();
            conn.execute(
                "INSERT INTO settings (key, value) VALUES ('probe', 'x')",
                [],
            )
            .unwrap();
        }
        let conn = open_and_migrate(&db).unwrap();
        assert_eq!(
            migrations::current_version(&conn).unwrap(),
            migrations::latest_version()
        );
        let saved = snapshots_beside(&db);
        assert_eq!(saved.len(), 1);
        let name = saved[0].file_name().unwrap().to_str().unwrap().to_owned();
        let expected = format!("rapport.db.pre-v{}-", migrations::latest_version());
        assert!(name.starts_with(&expected), "{name}");
        let copy = Connection::open(&saved[0]).unwrap();
        assert_eq!(migrations::current_version(&copy).unwrap(), older as i32);

        drop(conn);
        open_and_migrate(&db).unwrap();
        assert_eq!(
            snapshots_beside(&db).len(),
            1,
            "nothing to upgrade, no snapshot"
        );
    }

    #[test]
    fn every_older_version_upgrades_in_one_step() {
        for version in 0..migrations::latest_version() as usize {
            let dir = tempfile::tempdir().unwrap();
            let db = dir.path().join("rapport.db");
            {
                let mut conn = connection::open(&db).unwrap();
                migrations::migrate_to(&mut conn, version).unwrap();
            }
            let conn = open_and_migrate(&db).unwrap();
            assert_eq!(
                migrations::current_version(&conn).unwrap(),
                migrations::latest_version(),
                "from version {version}"
            );
            assert_eq!(snapshots_beside(&db).len(), 1, "from version {version}");
        }
    }

    #[test]
    fn new_databases_get_no_snapshot_and_a_running_server_blocks_upgrades() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("rapport.db");
        open_and_migrate(&db).unwrap();
        assert!(snapshots_beside(&db).is_empty());

        let conn = Connection::open(&db).unwrap();
        conn.pragma_update(None, "user_version", 1).unwrap();
        let _server = lock::shared(&db).unwrap();
        assert!(matches!(open_and_migrate(&db), Err(OpenError::Locked(_))));
        assert!(snapshots_beside(&db).is_empty());
    }
}
