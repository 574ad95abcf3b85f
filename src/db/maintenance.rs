//! Snapshots and health checks of the database file.

use std::fs;
use std::path::Path;

use rusqlite::Connection;

/// The result of `rapport check`.
#[derive(Debug, Default)]
pub struct CheckReport {
    /// Lines `PRAGMA integrity_check` printed other than "ok".
    pub integrity: Vec<String>,
    /// `table rowid → parent` for each broken foreign key.
    pub foreign_keys: Vec<String>,
    /// Broken links of the audit log's hash chain.
    pub audit_chain: Vec<String>,
    /// Search index problems: FTS5 integrity checks, live records missing or extra.
    pub search_index: Vec<String>,
    /// Attachments whose bytes no longer match their size and sha256, or whose record is
    /// gone.
    pub attachments: Vec<String>,
}

impl CheckReport {
    pub fn passed(&self) -> bool {
        self.integrity.is_empty()
            && self.foreign_keys.is_empty()
            && self.audit_chain.is_empty()
            && self.search_index.is_empty()
            && self.attachments.is_empty()
    }

    /// Every problem, in one list.
    pub fn problems(self) -> Vec<String> {
        let mut all = self.integrity;
        all.extend(self.foreign_keys);
        all.extend(self.audit_chain);
        all.extend(self.search_index);
        all.extend(self.attachments);
        all
    }
}

pub fn check(conn: &Connection) -> rusqlite::Result<CheckReport> {
    let mut report = CheckReport {
        integrity: integrity_problems(conn)?,
        ..CheckReport::default()
    };
    let mut stmt = conn.prepare("PRAGMA foreign_key_check")?;
    let rows = stmt.query_map([], |r| {
        Ok(format!(
            "{} row {} → {}",
            r.get::<_, String>(0)?,
            r.get::<_, Option<i64>>(1)?.unwrap_or_default(),
            r.get::<_, String>(2)?
        ))
    })?;
    for row in rows {
        report.foreign_keys.push(row?);
    }
    let has_audit: bool = conn.query_row(
        "SELECT count(*) > 0 FROM sqlite_schema WHERE name = 'audit_log'",
        [],
        |r| r.get(0),
    )?;
    if has_audit && report.integrity.is_empty() {
        report.audit_chain = crate::domain::audit::verify_chain(conn)?;
    }
    let has_search: bool = conn.query_row(
        "SELECT count(*) > 0 FROM sqlite_schema WHERE name = 'search_docs'",
        [],
        |r| r.get(0),
    )?;
    if has_search && report.integrity.is_empty() {
        report.search_index = crate::domain::search::check_index(conn)?;
    }
    let has_attachments: bool = conn.query_row(
        "SELECT count(*) > 0 FROM sqlite_schema WHERE name = 'attachment_chunks'",
        [],
        |r| r.get(0),
    )?;
    if has_attachments && report.integrity.is_empty() {
        report.attachments = crate::domain::attachments::verify(conn)?;
    }
    Ok(report)
}

#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("{0} exists; pass --force to replace it")]
    Exists(String),
    #[error("snapshot failed: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("snapshot failed: {0}")]
    Io(#[from] std::io::Error),
    #[error("the snapshot failed its integrity check: {0}")]
    Corrupt(String),
}

/// How thoroughly a snapshot is checked before it is renamed into place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verify {
    /// Everything `rapport check` checks. Only for a database at this binary's schema
    /// version: the audit, search and attachment checks read the current tables.
    Full,
    /// `PRAGMA integrity_check` alone, for files of an older schema (before a migration,
    /// restoring an old backup).
    Integrity,
}

/// Writes a consistent snapshot of the database behind `conn` to `dest`, fully checked.
pub fn snapshot(conn: &Connection, dest: &Path, overwrite: bool) -> Result<(), BackupError> {
    snapshot_with(conn, dest, overwrite, Verify::Full)
}

/// Writes a consistent snapshot of the database behind `conn` to `dest`.
///
/// `VACUUM INTO` reads inside one transaction, so the copy is exactly one committed state
/// even while the server keeps writing, and WAL content is included. The snapshot is written
/// to a temporary name, verified, fsynced and renamed, so `dest` is either absent, the old
/// file, or a complete new snapshot: never half-written.
pub fn snapshot_with(
    conn: &Connection,
    dest: &Path,
    overwrite: bool,
    verify: Verify,
) -> Result<(), BackupError> {
    if dest.exists() && !overwrite {
        return Err(BackupError::Exists(dest.display().to_string()));
    }
    let tmp = temporary_sibling(dest);
    let _ = fs::remove_file(&tmp);
    let result = write_and_verify(conn, &tmp, verify).and_then(|()| {
        fs::rename(&tmp, dest)?;
        sync_parent_dir(dest)?;
        Ok(())
    });
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

fn write_and_verify(conn: &Connection, tmp: &Path, verify: Verify) -> Result<(), BackupError> {
    let target = tmp.to_str().ok_or_else(|| {
        BackupError::Io(std::io::Error::other("the backup path is not valid UTF-8"))
    })?;
    conn.execute("VACUUM INTO ?1", [target])?;
    {
        let copy = Connection::open(tmp)?;
        let problems = match verify {
            Verify::Full => check(&copy)?.problems(),
            Verify::Integrity => integrity_problems(&copy)?,
        };
        if !problems.is_empty() {
            return Err(BackupError::Corrupt(problems.join("; ")));
        }
    }
    fs::File::open(tmp)?.sync_all()?;
    Ok(())
}

/// The lines of `PRAGMA integrity_check` other than "ok".
pub fn integrity_problems(conn: &Connection) -> rusqlite::Result<Vec<String>> {
    let mut stmt = conn.prepare("PRAGMA integrity_check")?;
    let lines = stmt.query_map([], |r| r.get::<_, String>(0))?;
    let mut problems = Vec::new();
    for line in lines {
        let line = line?;
        if line != "ok" {
            problems.push(line);
        }
    }
    Ok(problems)
}

fn temporary_sibling(dest: &Path) -> std::path::PathBuf {
    let mut name = dest
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_else(|| "rapport-backup".into());
    name.push(".partial");
    dest.with_file_name(name)
}

/// `rapport.db` + `-wal` → `rapport.db-wal`: a file beside the database, named after it.
pub fn sibling(path: &Path, suffix: &str) -> std::path::PathBuf {
    let mut name = path.as_os_str().to_os_string();
    name.push(suffix);
    std::path::PathBuf::from(name)
}

/// Removes `path`; a file that is not there is already as wanted.
pub fn remove_if_exists(path: &Path) -> std::io::Result<()> {
    match fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

pub fn sync_parent_dir(path: &Path) -> std::io::Result<()> {
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    fs::File::open(parent)?.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snapshot_is_complete_and_refuses_to_overwrite() {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("src.db");
        let mut conn = crate::db::connection::open(&src).unwrap();
        crate::db::migrations::migrate(&mut conn, "src").unwrap();
        conn.execute(
            "INSERT INTO settings (key, value) VALUES ('probe', 'kept')",
            [],
        )
        .unwrap();

        let dest = dir.path().join("copy.db");
        snapshot(&conn, &dest, false).unwrap();
        let copy = Connection::open(&dest).unwrap();
        let value: String = copy
            .query_row("SELECT value FROM settings WHERE key = 'probe'", [], |r| {
                r.get(0)
            })
            .unwrap();
        assert_eq!(value, "kept");
        assert!(check(&copy).unwrap().passed());

        assert!(matches!(
            snapshot(&conn, &dest, false),
            Err(BackupError::Exists(_))
        ));
        snapshot(&conn, &dest, true).unwrap();
        assert!(!dir.path().join("copy.db.partial").exists());
    }
}
