//! Who owns the database file. Every `rapport serve` (and `rapport import`, which writes
//! at length) holds a shared advisory lock on `<db>.lock` for as long as it runs (several
//! servers on one file are fine: SQLite serialises their writes, and a new server may start
//! before the old one stops). What must
//! run with no server at all takes the lock exclusively: `restore`, and upgrading the schema
//! (a server that finds migrations to apply turns its shared lock exclusive while it
//! migrates, so an older server still running is never upgraded underneath).
//!
//! A lock file of its own rather than a SQLite lock: SQLite's locks are held only during a
//! transaction, so they cannot say "a server is running". The kernel drops a `flock` when the
//! process exits, however it exits, so a crashed server never leaves a stale lock behind.

use std::fs::{File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};

/// A held lock; dropping it releases it.
#[derive(Debug)]
pub struct DbLock {
    file: File,
    db: PathBuf,
}

#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error("a Rapport server is running on {0} (it holds {1}); stop it first")]
    Held(String, String),
    #[error("cannot lock {0}: {1}")]
    Io(String, std::io::Error),
}

/// `rapport.db` → `rapport.db.lock`.
pub fn lock_path(db: &Path) -> PathBuf {
    let mut name = db.as_os_str().to_os_string();
    name.push(".lock");
    PathBuf::from(name)
}

/// A server's lock: refused only while something holds it exclusively.
pub fn shared(db: &Path) -> Result<DbLock, LockError> {
    let lock = open(db)?;
    lock.outcome(lock.file.try_lock_shared())?;
    Ok(lock)
}

/// The lock of what must run alone: refused while any server runs. Never waits: a holder is
/// a mistake to report, not to queue behind.
pub fn exclusive(db: &Path) -> Result<DbLock, LockError> {
    let lock = open(db)?;
    lock.outcome(lock.file.try_lock())?;
    Ok(lock)
}

impl DbLock {
    /// Turns a shared lock exclusive (refused while another server holds it too).
    pub fn make_exclusive(&self) -> Result<(), LockError> {
        self.outcome(self.file.try_lock())
    }

    /// Turns an exclusive lock back into a shared one.
    pub fn make_shared(&self) -> Result<(), LockError> {
        self.outcome(self.file.try_lock_shared())
    }

    fn outcome(&self, result: Result<(), TryLockError>) -> Result<(), LockError> {
        let path = lock_path(&self.db);
        match result {
            Ok(()) => Ok(()),
            Err(TryLockError::WouldBlock) => Err(LockError::Held(
                self.db.display().to_string(),
                path.display().to_string(),
            )),
            Err(TryLockError::Error(e)) => Err(LockError::Io(path.display().to_string(), e)),
        }
    }
}

fn open(db: &Path) -> Result<DbLock, LockError> {
    let path = lock_path(db);
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| LockError::Io(path.display().to_string(), e))?;
    Ok(DbLock {
        file,
        db: db.to_path_buf(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn servers_share_the_lock_and_what_runs_alone_waits_for_none() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("rapport.db");
        let first = shared(&db).unwrap();
        let second = shared(&db).unwrap();
        assert!(matches!(exclusive(&db), Err(LockError::Held(..))));
        assert!(matches!(first.make_exclusive(), Err(LockError::Held(..))));
        drop(second);
        first.make_exclusive().unwrap();
        assert!(matches!(shared(&db), Err(LockError::Held(..))));
        first.make_shared().unwrap();
        shared(&db).unwrap();
        drop(first);
        exclusive(&db).unwrap();
        assert_eq!(lock_path(&db), dir.path().join("rapport.db.lock"));
    }
}
