//! Scheduled snapshots in the backup folder: their names, listing, retention, and the
//! status admins see. Snapshots are named by the UTC second they were taken
//! (`rapport-20261122T061500Z.db`), so names sort by time and the newest file is the last
//! in a directory listing.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::Serialize;
use time::format_description::FormatItem;
use time::macros::format_description;
use time::{OffsetDateTime, PrimitiveDateTime};

use crate::db::connection;
use crate::db::maintenance::{self, BackupError, Verify};
use crate::domain::clock::Timestamp;

const PREFIX: &str = "rapport-";
const SUFFIX: &str = ".db";
const STAMP: &[FormatItem<'static>] =
    format_description!("[year][month][day]T[hour][minute][second]Z");

/// `20261122T061500Z`: the time part of every file name Rapport makes beside a database.
pub fn stamp(at: OffsetDateTime) -> String {
    at.to_offset(time::UtcOffset::UTC)
        .format(STAMP)
        .unwrap_or_else(|_| "19700101T000000Z".into())
}

/// `rapport-20261122T061500Z.db`.
pub fn snapshot_name(at: OffsetDateTime) -> String {
    format!("{PREFIX}{}{SUFFIX}", stamp(at))
}

/// The time in a snapshot's name; `None` for any other file.
pub fn parse_snapshot_name(name: &str) -> Option<OffsetDateTime> {
    let stamp = name.strip_prefix(PREFIX)?.strip_suffix(SUFFIX)?;
    PrimitiveDateTime::parse(stamp, STAMP)
        .ok()
        .map(PrimitiveDateTime::assume_utc)
}

/// One file of the backup folder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Snapshot {
    /// `rapport-20261122T061500Z.db`
    pub name: String,
    /// Bytes.
    pub size: u64,
    /// When it was taken (from its name), RFC 3339 UTC.
    pub created_at: String,
    #[serde(skip)]
    taken: i64,
}

/// The snapshots in `dir`, newest first. A folder that does not exist yet has none.
pub fn list(dir: &Path) -> io::Result<Vec<Snapshot>> {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let mut found = Vec::new();
    for entry in entries {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(at) = parse_snapshot_name(&name) else {
            continue;
        };
        let meta = entry.metadata()?;
        if !meta.is_file() {
            continue;
        }
        let taken = at.unix_timestamp();
        found.push(Snapshot {
            name,
            size: meta.len(),
            created_at: Timestamp::from_unix(taken)
                .map(|t| t.to_stored())
                .unwrap_or_default(),
            taken,
        });
    }
    found.sort_by(|a, b| b.name.cmp(&a.name));
    Ok(found)
}

/// Which snapshots retention deletes: all but the `keep` newest (`keep` is at least 1, so
/// the snapshot just taken always survives).
pub fn beyond_retention(newest_first: &[Snapshot], keep: usize) -> &[Snapshot] {
    newest_first.get(keep.max(1)..).unwrap_or(&[])
}

/// How long until the next snapshot is due: `interval` after the newest one, at once when
/// there is none. Counting from the newest file rather than from the server's start means
/// a server restarted more often than `interval` still takes snapshots.
pub fn due_in(newest: Option<&Snapshot>, interval: Duration, now: OffsetDateTime) -> Duration {
    let Some(newest) = newest else {
        return Duration::ZERO;
    };
    let due = newest.taken.saturating_add(interval.as_secs() as i64);
    Duration::from_secs(due.saturating_sub(now.unix_timestamp()).max(0) as u64)
}

/// Takes a snapshot of the database at `db` into `dir`, on a read connection of its own (the
/// writer goes on meanwhile), fully checked, then deletes what retention no longer keeps.
pub fn take(db: &Path, dir: &Path, keep: usize) -> Result<Snapshot, BackupError> {
    fs::create_dir_all(dir)?;
    let name = snapshot_name(OffsetDateTime::now_utc());
    let conn = connection::open_existing(db)?;
    // Same second as the previous snapshot (a very short interval): that one is replaced by
    // this newer state rather than failing.
    maintenance::snapshot_with(&conn, &dir.join(&name), true, Verify::Full)?;
    drop(conn);
    let all = list(dir)?;
    for old in beyond_retention(&all, keep) {
        if let Err(err) = fs::remove_file(dir.join(&old.name)) {
            tracing::warn!(%err, name = %old.name, "cannot delete an old snapshot");
        }
    }
    all.into_iter()
        .find(|s| s.name == name)
        .ok_or_else(|| BackupError::Io(io::Error::other("the new snapshot disappeared")))
}

/// A fresh snapshot for downloading: written (as a hidden file) in `dir`, fully checked,
/// then opened and unlinked at once, so its bytes live exactly as long as the returned
/// handle: nothing is left behind when the client hangs up or the server stops midway.
/// Returns the open file, its size and the name to give it.
pub fn fresh(db: &Path, dir: &Path) -> Result<(fs::File, u64, String), BackupError> {
    fs::create_dir_all(dir)?;
    let name = snapshot_name(OffsetDateTime::now_utc());
    let tmp = dir.join(format!(".download-{}.db", uuid::Uuid::now_v7().simple()));
    let conn = connection::open_existing(db)?;
    maintenance::snapshot_with(&conn, &tmp, false, Verify::Full)?;
    drop(conn);
    let opened = fs::File::open(&tmp);
    fs::remove_file(&tmp)?;
    let file = opened?;
    let size = file.metadata()?.len();
    Ok((file, size, name))
}

/// Deletes `rapport-….db.partial` files (and their `-journal`) a stopped server left
/// mid-snapshot. Only the
/// scheduler writes those names, and it has not started yet.
pub fn remove_partials(dir: &Path) -> io::Result<()> {
    let Ok(entries) = fs::read_dir(dir) else {
        return Ok(());
    };
    for entry in entries {
        let path = entry?.path();
        let is_partial = path
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| {
                n.strip_suffix(".partial")
                    .or_else(|| n.strip_suffix(".partial-journal"))
            })
            .is_some_and(|n| parse_snapshot_name(n).is_some());
        if is_partial {
            fs::remove_file(&path)?;
        }
    }
    Ok(())
}

/// The last failed attempt, shown to admins until a snapshot succeeds again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Failure {
    pub at: String,
    pub message: String,
}

/// What the scheduler knows that the folder does not: when it last tried, and how the
/// last attempt failed. Shared by the scheduler thread and the API.
#[derive(Debug, Clone, Default)]
pub struct Status(Arc<Mutex<StatusInner>>);

#[derive(Debug, Default)]
struct StatusInner {
    last_attempt_at: Option<String>,
    last_error: Option<Failure>,
}

impl Status {
    pub fn succeeded(&self) {
        self.update(|s| {
            s.last_attempt_at = Some(Timestamp::now().to_stored());
            s.last_error = None;
        });
    }

    pub fn failed(&self, message: String) {
        self.update(|s| {
            let at = Timestamp::now().to_stored();
            s.last_attempt_at = Some(at.clone());
            s.last_error = Some(Failure { at, message });
        });
    }

    pub fn last_error(&self) -> Option<Failure> {
        self.inner().last_error.clone()
    }

    pub fn last_attempt_at(&self) -> Option<String> {
        self.inner().last_attempt_at.clone()
    }

    fn update(&self, f: impl FnOnce(&mut StatusInner)) {
        f(&mut self.inner());
    }

    fn inner(&self) -> std::sync::MutexGuard<'_, StatusInner> {
        // A poisoned lock only means another thread panicked mid-update; the data is two
        // plain fields, still usable.
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Where and how often `serve` takes snapshots (`--backup-dir`, `--backup-interval`,
/// `--backup-keep`).
#[derive(Debug, Clone)]
pub struct Schedule {
    pub dir: PathBuf,
    pub interval: Duration,
    pub keep: usize,
}

/// What `GET /api/v1/admin/backups` answers.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Overview {
    /// Whether `serve` takes snapshots (`--backup-dir` is set).
    pub scheduled: bool,
    pub directory: Option<String>,
    pub interval_seconds: Option<u64>,
    pub keep: Option<usize>,
    /// Newest first.
    pub snapshots: Vec<Snapshot>,
    /// The newest snapshot's time, size and age in seconds.
    pub last_success_at: Option<String>,
    pub last_success_size: Option<u64>,
    pub last_success_age_seconds: Option<i64>,
    pub last_attempt_at: Option<String>,
    /// The last attempt's failure; `null` once a snapshot succeeds again.
    pub last_error: Option<Failure>,
}

/// Reads the folder (blocking file IO: call it off the async workers). A folder that
/// cannot be read is reported as the last error rather than failing the request: that is
/// when admins most need the page.
pub fn overview(schedule: Option<&Schedule>, status: &Status) -> Overview {
    let Some(schedule) = schedule else {
        return Overview {
            scheduled: false,
            directory: None,
            interval_seconds: None,
            keep: None,
            snapshots: Vec::new(),
            last_success_at: None,
            last_success_size: None,
            last_success_age_seconds: None,
            last_attempt_at: None,
            last_error: None,
        };
    };
    let (snapshots, unreadable) = match list(&schedule.dir) {
        Ok(found) => (found, None),
        Err(e) => (
            Vec::new(),
            Some(Failure {
                at: Timestamp::now().to_stored(),
                message: format!("cannot read {}: {e}", schedule.dir.display()),
            }),
        ),
    };
    let newest = snapshots.first();
    let now = OffsetDateTime::now_utc().unix_timestamp();
    Overview {
        scheduled: true,
        directory: Some(schedule.dir.display().to_string()),
        interval_seconds: Some(schedule.interval.as_secs()),
        keep: Some(schedule.keep),
        last_success_at: newest.map(|s| s.created_at.clone()),
        last_success_size: newest.map(|s| s.size),
        last_success_age_seconds: newest.map(|s| (now - s.taken).max(0)),
        last_attempt_at: status.last_attempt_at(),
        last_error: status.last_error().or(unreadable),
        snapshots,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn snap(name: &str) -> Snapshot {
        let taken = parse_snapshot_name(name).unwrap().unix_timestamp();
        Snapshot {
            name: name.into(),
            size: 1,
            created_at: String::new(),
            taken,
        }
    }

    #[test]
    fn names_carry_the_utc_second_and_sort_by_time() {
        let at = datetime!(2026-11-22 06:15:00 UTC);
        assert_eq!(snapshot_name(at), "rapport-20261122T061500Z.db");
        let local = datetime!(2026-11-22 07:15:00 +1);
        assert_eq!(snapshot_name(local), "rapport-20261122T061500Z.db");
        assert_eq!(parse_snapshot_name("rapport-20261122T061500Z.db"), Some(at));
        let later = snapshot_name(datetime!(2026-12-01 00:00:00 UTC));
        assert!(later > snapshot_name(at));
    }

    #[test]
    fn other_files_are_not_snapshots() {
        for name in [
            "rapport-20261122T061500Z.db.partial",
            "rapport.db",
            "rapport-latest.db",
            "notes-20261122T061500Z.db",
            "rapport-20261322T061500Z.db",
        ] {
            assert_eq!(parse_snapshot_name(name), None, "{name}");
        }
    }

    #[test]
    fn retention_deletes_all_but_the_newest_n() {
        let all = [
            snap("rapport-20261122T120000Z.db"),
            snap("rapport-20261122T060000Z.db"),
            snap("rapport-20261121T060000Z.db"),
        ];
        let names = |s: &[Snapshot]| s.iter().map(|s| s.name.clone()).collect::<Vec<_>>();
        assert_eq!(
            names(beyond_retention(&all, 2)),
            ["rapport-20261121T060000Z.db"]
        );
        assert!(beyond_retention(&all, 3).is_empty());
        assert!(beyond_retention(&all, 14).is_empty());
        assert_eq!(
            beyond_retention(&all, 0).len(),
            2,
            "the newest always stays"
        );
    }

    #[test]
    fn the_next_snapshot_is_due_an_interval_after_the_newest() {
        let six_hours = Duration::from_secs(6 * 3600);
        let now = datetime!(2026-11-22 08:00:00 UTC);
        assert_eq!(due_in(None, six_hours, now), Duration::ZERO);
        let newest = snap("rapport-20261122T060000Z.db");
        assert_eq!(
            due_in(Some(&newest), six_hours, now),
            Duration::from_secs(4 * 3600)
        );
        let old = snap("rapport-20261121T060000Z.db");
        assert_eq!(due_in(Some(&old), six_hours, now), Duration::ZERO);
    }

    #[test]
    fn listing_finds_snapshots_newest_first_and_ignores_the_rest() {
        let dir = tempfile::tempdir().unwrap();
        for name in [
            "rapport-20261121T060000Z.db",
            "rapport-20261122T060000Z.db",
            "rapport-20261123T060000Z.db.partial",
            "README.txt",
        ] {
            fs::write(dir.path().join(name), b"x").unwrap();
        }
        let found = list(dir.path()).unwrap();
        let names: Vec<_> = found.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(
            names,
            ["rapport-20261122T060000Z.db", "rapport-20261121T060000Z.db"]
        );
        assert_eq!(found[0].created_at, "2026-11-22T06:00:00.000Z");
        remove_partials(dir.path()).unwrap();
        assert!(
            !dir.path()
                .join("rapport-20261123T060000Z.db.partial")
                .exists()
        );
        assert!(dir.path().join("README.txt").exists());
        assert!(list(&dir.path().join("missing")).unwrap().is_empty());
    }
}
