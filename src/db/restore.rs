//! `rapport restore SRC`: put a backup in place of the database.
//!
//! The order matters. The source is checked first (a Rapport database, not from a newer
//! Rapport, intact) and copied next to the database with `VACUUM INTO`, so a source that
//! still has its own `-wal` is copied whole and the copy is one self-contained file,
//! fsynced. Only then is the old database moved aside, together with its `-wal` (which may
//! hold committed transactions a killed server never checkpointed: deleting it would lose
//! them, and leaving it would make SQLite replay the old database's log onto the restored
//! file). The restored file is renamed into place last, and the directory fsynced.
//!
//! Migrations are left to the next start: `serve` (or `migrate`) upgrades an older backup
//! like any older database, with a pre-migration snapshot first, so there is one upgrade path.

use std::fs;
use std::path::{Path, PathBuf};

use rusqlite::{Connection, OpenFlags};
use time::OffsetDateTime;

use crate::db::backups::stamp;
use crate::db::lock::{self, LockError};
use crate::db::maintenance::{self, BackupError, Verify, remove_if_exists, sibling};
use crate::db::migrations::{self, APPLICATION_ID};

#[derive(Debug, thiserror::Error)]
pub enum RestoreError {
    #[error(transparent)]
    Locked(#[from] LockError),
    #[error("cannot read {0}: {1}")]
    Source(String, rusqlite::Error),
    #[error("{0} is not a Rapport database (application id {1:#x})")]
    NotRapport(String, i32),
    #[error(
        "{path} has schema version {found}, newer than this binary's {supported}: restore it with a newer Rapport"
    )]
    TooNew {
        path: String,
        found: i32,
        supported: i32,
    },
    #[error("{0} failed its check, nothing was changed: {1}")]
    Check(String, BackupError),
    #[error("cannot put the restored file in place: {0}")]
    Io(#[from] std::io::Error),
}

/// What [`restore`] did.
#[derive(Debug)]
pub struct Restored {
    pub version: i32,
    /// Where the database that was replaced now is (`None` when there was none).
    pub replaced: Option<PathBuf>,
}

pub fn restore(db: &Path, src: &Path) -> Result<Restored, RestoreError> {
    let _alone = lock::exclusive(db)?;
    let label = src.display().to_string();
    let source = open_source(src).map_err(|e| RestoreError::Source(label.clone(), e))?;
    let version = check_identity(&source, &label)?;
    // The full check reads today's tables, so an older backup gets the integrity check
    // alone (`rapport check` after its upgrade covers the rest).
    let verify = if version == migrations::latest_version() {
        Verify::Full
    } else {
        Verify::Integrity
    };
    let now = OffsetDateTime::now_utc();
    let incoming = sibling(db, &format!(".restoring-{}", stamp(now)));
    maintenance::snapshot_with(&source, &incoming, true, verify)
        .map_err(|e| RestoreError::Check(label, e))?;
    drop(source);
    let replaced = match set_aside(db, &sibling(db, &format!(".replaced-{}", stamp(now)))) {
        Ok(replaced) => replaced,
        Err(e) => {
            let _ = fs::remove_file(&incoming);
            return Err(e.into());
        }
    };
    fs::rename(&incoming, db)?;
    maintenance::sync_parent_dir(db)?;
    Ok(Restored { version, replaced })
}

/// Read-only, and without Rapport's pragmas: checking a file must not convert or change it.
fn open_source(src: &Path) -> rusqlite::Result<Connection> {
    if !src.is_file() {
        return Err(rusqlite::Error::InvalidPath(src.to_path_buf()));
    }
    Connection::open_with_flags(
        src,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
}

/// The source's schema version, once it is known to be Rapport's and not too new.
fn check_identity(conn: &Connection, label: &str) -> Result<i32, RestoreError> {
    let read = |pragma: &str| {
        conn.pragma_query_value(None, pragma, |r| r.get::<_, i32>(0))
            .map_err(|e| RestoreError::Source(label.to_owned(), e))
    };
    let app_id = read("application_id")?;
    if app_id != APPLICATION_ID {
        return Err(RestoreError::NotRapport(label.to_owned(), app_id));
    }
    let found = read("user_version")?;
    let supported = migrations::latest_version();
    if found > supported {
        return Err(RestoreError::TooNew {
            path: label.to_owned(),
            found,
            supported,
        });
    }
    Ok(found)
}

/// Moves the current database to `aside` with its `-wal` (renamed to match, so opening
/// `aside` replays it), and deletes its `-shm`, a cache of the WAL that SQLite rebuilds.
fn set_aside(db: &Path, aside: &Path) -> std::io::Result<Option<PathBuf>> {
    let wal = sibling(db, "-wal");
    let shm = sibling(db, "-shm");
    if !db.exists() {
        // No database, but a stray log must still not meet the restored file.
        if wal.exists() {
            fs::rename(&wal, sibling(aside, "-wal"))?;
        }
        remove_if_exists(&shm)?;
        return Ok(None);
    }
    fs::rename(db, aside)?;
    if wal.exists() {
        fs::rename(&wal, sibling(aside, "-wal"))?;
    }
    remove_if_exists(&shm)?;
    maintenance::sync_parent_dir(db)?;
    Ok(Some(aside.to_path_buf()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rapport_db(path: &Path, probe: &str) {
        let mut conn = crate::db::connection::open(path).unwrap();
        migrations::migrate(&mut conn, "test").unwrap();
        conn.execute(
            "INSERT INTO settings (key, value) VALUES ('probe', ?1)",
            [probe],
        )
        .unwrap();
    }

    fn probe(path: &Path) -> String {
        Connection::open(path)
            .unwrap()
            .query_row("SELECT value FROM settings WHERE key = 'probe'", [], |r| {
                r.get(0)
            })
            .unwrap()
    }

    #[test]
    fn the_old_database_and_its_log_are_kept_aside() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("rapport.db");
        let src = dir.path().join("backup.db");
        rapport_db(&src, "from the backup");
        // What a killed server leaves: the last write only in the -wal (copied while the
        // writing connection is still open, before closing would checkpoint it).
        let live_path = dir.path().join("live.db");
        let mut live = crate::db::connection::open(&live_path).unwrap();
        migrations::migrate(&mut live, "live").unwrap();
        live.pragma_update(None, "wal_autocheckpoint", 0).unwrap();
        live.execute(
            "INSERT INTO settings (key, value) VALUES ('probe', 'old')",
            [],
        )
        .unwrap();
        fs::copy(&live_path, &db).unwrap();
        fs::copy(sibling(&live_path, "-wal"), sibling(&db, "-wal")).unwrap();
        drop(live);
        let restored = restore(&db, &src).unwrap();
        assert!(
            !sibling(&db, "-wal").exists(),
            "the old log went with the old file"
        );
        assert_eq!(restored.version, migrations::latest_version());
        assert_eq!(probe(&db), "from the backup");
        let aside = restored.replaced.unwrap();
        assert!(
            aside
                .file_name()
                .unwrap()
                .to_str()
                .unwrap()
                .starts_with("rapport.db.replaced-")
        );
        assert_eq!(probe(&aside), "old");
    }

    #[test]
    fn refuses_files_that_are_not_rapport_databases_and_changes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("rapport.db");
        rapport_db(&db, "current");
        let other = dir.path().join("other.db");
        Connection::open(&other)
            .unwrap()
            .execute_batch("CREATE TABLE t(x)")
            .unwrap();
        let garbage = dir.path().join("garbage.db");
        fs::write(&garbage, vec![7u8; 8192]).unwrap();
        assert!(matches!(
            restore(&db, &other),
            Err(RestoreError::NotRapport(..))
        ));
        assert!(restore(&db, &garbage).is_err());
        assert!(restore(&db, &dir.path().join("missing.db")).is_err());
        assert_eq!(probe(&db), "current");
    }

    #[test]
    fn refuses_a_backup_from_a_newer_rapport() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("rapport.db");
        rapport_db(&db, "current");
        let src = dir.path().join("future.db");
        rapport_db(&src, "future");
        Connection::open(&src)
            .unwrap()
            .pragma_update(None, "user_version", migrations::latest_version() + 1)
            .unwrap();
        assert!(matches!(
            restore(&db, &src),
            Err(RestoreError::TooNew { .. })
        ));
        assert_eq!(probe(&db), "current");
    }

    #[test]
    fn refuses_while_the_database_is_locked() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("rapport.db");
        rapport_db(&db, "current");
        let src = dir.path().join("backup.db");
        rapport_db(&src, "backup");
        let _server = lock::shared(&db).unwrap();
        assert!(matches!(restore(&db, &src), Err(RestoreError::Locked(_))));
        assert_eq!(probe(&db), "current");
    }
}
