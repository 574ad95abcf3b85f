//! What a scrape reads from the system rather than counting: file sizes, the backup
//! folder, the process's memory. All blocking file IO: gather them off the async workers.

use std::path::{Path, PathBuf};

use crate::db::backups::{self, Schedule, Status};

use super::exposition::Exposition;

#[derive(Debug, Default)]
pub struct Facts {
    pub db_bytes: Option<u64>,
    pub wal_bytes: Option<u64>,
    pub rss_bytes: Option<u64>,
    /// `None` when no snapshots are scheduled (`--backup-dir` unset).
    pub backups: Option<BackupFacts>,
}

#[derive(Debug, Default)]
pub struct BackupFacts {
    pub snapshots: usize,
    pub newest_age_seconds: Option<i64>,
    pub newest_bytes: Option<u64>,
    pub failing: bool,
}

/// Reads the facts; a file that cannot be read leaves its metric out rather than failing
/// the scrape.
pub fn gather(db: &Path, schedule: Option<&Schedule>, status: &Status) -> Facts {
    Facts {
        db_bytes: file_size(db.to_path_buf()),
        wal_bytes: file_size(wal_path(db)),
        rss_bytes: resident_bytes(),
        backups: schedule.map(|schedule| {
            let overview = backups::overview(Some(schedule), status);
            BackupFacts {
                snapshots: overview.snapshots.len(),
                newest_age_seconds: overview.last_success_age_seconds,
                newest_bytes: overview.last_success_size,
                failing: overview.last_error.is_some(),
            }
        }),
    }
}

fn wal_path(db: &Path) -> PathBuf {
    let mut name = db.as_os_str().to_owned();
    name.push("-wal");
    PathBuf::from(name)
}

fn file_size(path: PathBuf) -> Option<u64> {
    std::fs::metadata(path).ok().map(|m| m.len())
}

/// `VmRSS` from `/proc/self/status` (Linux; elsewhere the metric is left out).
fn resident_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    parse_vm_rss(&status)
}

fn parse_vm_rss(status: &str) -> Option<u64> {
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

impl Facts {
    pub fn render(&self, out: &mut Exposition) {
        if let Some(bytes) = self.db_bytes {
            out.single(
                "rapport_db_file_bytes",
                "gauge",
                "Size of the SQLite database file.",
                bytes,
            );
        }
        // No -wal file (just checkpointed and closed) is an empty WAL.
        out.single(
            "rapport_db_wal_bytes",
            "gauge",
            "Size of the SQLite write-ahead log (-wal file).",
            self.wal_bytes.unwrap_or(0),
        );
        if let Some(bytes) = self.rss_bytes {
            out.single(
                "process_resident_memory_bytes",
                "gauge",
                "Resident memory of the process.",
                bytes,
            );
        }
        self.render_backups(out);
    }

    fn render_backups(&self, out: &mut Exposition) {
        out.single(
            "rapport_backup_scheduled",
            "gauge",
            "1 when serve takes scheduled snapshots (--backup-dir), else 0.",
            u8::from(self.backups.is_some()),
        );
        let Some(backups) = &self.backups else {
            return;
        };
        out.single(
            "rapport_backup_snapshots",
            "gauge",
            "Snapshots in the backup folder.",
            backups.snapshots,
        );
        out.single(
            "rapport_backup_last_error",
            "gauge",
            "1 while the last scheduled snapshot failed (details on the admin page), else 0.",
            u8::from(backups.failing),
        );
        if let Some(age) = backups.newest_age_seconds {
            out.single(
                "rapport_backup_age_seconds",
                "gauge",
                "Age of the newest snapshot; alert when it exceeds the interval by far.",
                age,
            );
        }
        if let Some(bytes) = backups.newest_bytes {
            out.single(
                "rapport_backup_last_size_bytes",
                "gauge",
                "Size of the newest snapshot.",
                bytes,
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_rss_and_names_the_wal() {
        let status = "Name:\trapport\nVmRSS:\t   12345 kB\nThreads: 9\n";
        assert_eq!(parse_vm_rss(status), Some(12345 * 1024));
        assert_eq!(parse_vm_rss("Name: x\n"), None);
        assert_eq!(
            wal_path(Path::new("/var/lib/rapport/rapport.db")),
            PathBuf::from("/var/lib/rapport/rapport.db-wal")
        );
    }
}
