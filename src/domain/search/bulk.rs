//! Indexing every record afresh after a bulk load (`rapport demo`), on a thread of its own.
//!
//! The load runs in one transaction, which no other connection can read; so the writing
//! connection copies the search text once into a scratch database beside the CRM's, and a
//! thread builds both FTS5 indexes there while the load goes on with its own work (report
//! tables, index builds: half a minute on the large demo). The built index's tables are then
//! copied in, in the load's transaction, and the scratch file removed. At 100k customers the
//! load's own share of the search index went from 17.6 s to about 5 s.

use std::path::{Path, PathBuf};
use std::thread::JoinHandle;

use rusqlite::Connection;

use rusqlite::types::ToSqlOutput;

use super::{SEARCH_TABLES, settle_single_segments};
use crate::db::maintenance::{remove_if_exists, sibling};
use crate::error::{AppError, AppResult};

/// For one big build: a few dozen segments instead of hundreds of 1 MiB ones (FTS5's
/// default), merged into one at the end ('optimize'). Budgets of 8 to 256 MiB built equally
/// fast; this one keeps the thread's memory small beside the load's own sorting.
const BULK_HASH_BYTES: i64 = 32 * 1024 * 1024;

/// The FTS5 tables that hold an index: the copy takes all but `_config`, whose settings stay
/// the CRM's own.
const COPIED_SHADOWS: [&str; 3] = ["data", "idx", "docsize"];

/// Runs `fill` (a bulk load of customers, contacts and leads, inside the caller's
/// transaction) with the search insert triggers dropped, and starts indexing every live
/// record afresh. Dropping the triggers is cheaper than pausing them (migration 0005's row
/// 2, which a bulk load no longer uses). The caller goes on with the rest of its load and
/// then calls [`BulkIndex::finish`] in the same transaction.
pub fn bulk_indexed<T>(
    conn: &Connection,
    fill: impl FnOnce(&Connection) -> AppResult<T>,
) -> AppResult<(T, BulkIndex)> {
    let filled = crate::db::without_triggers(conn, "%\\_search\\_insert", fill)?;
    Ok((filled, BulkIndex::start(conn)?))
}

/// A search index being built on its own thread; [`BulkIndex::finish`] puts it in place.
/// Dropped unfinished, it waits for the thread and removes the scratch file.
#[must_use = "the index is put in place by `finish`"]
pub struct BulkIndex {
    worker: Option<JoinHandle<rusqlite::Result<()>>>,
    scratch: Scratch,
}

impl BulkIndex {
    fn start(conn: &Connection) -> AppResult<Self> {
        let scratch = Scratch::beside(conn)?;
        copy_text(conn, &scratch.path)?;
        let definitions: Vec<String> = conn
            .prepare(
                "SELECT sql FROM sqlite_schema WHERE name IN ('search_words', 'search_trigrams')",
            )?
            .query_map([], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        let path = scratch.path.clone();
        let worker = std::thread::Builder::new()
            .name("search-build".into())
            .spawn(move || build(&path, &definitions))
            .map_err(AppError::internal)?;
        Ok(BulkIndex {
            worker: Some(worker),
            scratch,
        })
    }

    /// Waits for the index to be built and copies it into the caller's transaction.
    pub fn finish(mut self, conn: &Connection) -> AppResult<()> {
        let started = std::time::Instant::now();
        let Some(worker) = self.worker.take() else {
            return Err(AppError::internal(
                "the search index build was finished twice",
            ));
        };
        worker
            .join()
            .map_err(|_| AppError::internal("the search index build panicked"))??;
        tracing::debug!(waited = ?started.elapsed(), "search index built");
        copy_index(&Connection::open(&self.scratch.path)?, conn)?;
        settle_single_segments(conn)?;
        tracing::debug!(elapsed = ?started.elapsed(), "search index copied in");
        Ok(())
    }
}

impl Drop for BulkIndex {
    fn drop(&mut self) {
        if let Some(worker) = self.worker.take() {
            let _ = worker.join();
        }
    }
}

/// Numbers every live record's doc as the `search_entry` trigger would (its kind in the high
/// bits, then in the order the records are read), records the numbers in `search_docs`, and
/// copies the text under them into the scratch database at `scratch`.
fn copy_text(conn: &Connection, scratch: &Path) -> AppResult<()> {
    let mut out = scratch_connection(scratch)?;
    let out = out.transaction()?;
    out.execute(
        "CREATE TABLE search_text (doc INTEGER PRIMARY KEY, title TEXT, body TEXT)",
        [],
    )?;
    conn.execute("DELETE FROM search_docs", [])?;
    {
        let mut numbered = conn.prepare("INSERT INTO search_docs (doc, id) VALUES (?1, ?2)")?;
        let mut copied =
            out.prepare("INSERT INTO search_text (doc, title, body) VALUES (?1, ?2, ?3)")?;
        let mut texts = conn.prepare("SELECT kind, id, title, body FROM search_text")?;
        let mut rows = texts.query([])?;
        // The next doc of each kind, by its code (1 to 3).
        let mut next: Vec<i64> = (0..=3).map(|code| code << super::KIND_SHIFT).collect();
        while let Some(row) = rows.next()? {
            let code: i64 = row.get(0)?;
            let doc = usize::try_from(code)
                .ok()
                .and_then(|code| next.get_mut(code))
                .map(|next| std::mem::replace(next, *next + 1))
                .ok_or_else(|| AppError::internal(format!("search_text has kind {code}")))?;
            numbered.execute(rusqlite::params![
                doc,
                ToSqlOutput::Borrowed(row.get_ref(1)?)
            ])?;
            copied.execute(rusqlite::params![
                doc,
                ToSqlOutput::Borrowed(row.get_ref(2)?),
                ToSqlOutput::Borrowed(row.get_ref(3)?)
            ])?;
        }
    }
    out.commit()?;
    Ok(())
}

/// A connection to the scratch database: nothing in it outlives the load that made it.
fn scratch_connection(path: &Path) -> rusqlite::Result<Connection> {
    let conn = Connection::open(path)?;
    conn.pragma_update(None, "journal_mode", "OFF")?;
    conn.pragma_update(None, "synchronous", "OFF")?;
    Ok(conn)
}

/// The building thread: both FTS5 tables, defined as the CRM's, filled from the copied text
/// as `search_entry`'s trigger fills them (migration 0003), then merged into one segment.
fn build(path: &Path, definitions: &[String]) -> rusqlite::Result<()> {
    let mut conn = scratch_connection(path)?;
    for sql in definitions {
        conn.execute_batch(sql)?;
    }
    let tx = conn.transaction()?;
    for table in SEARCH_TABLES {
        tx.execute_batch(&format!(
            "INSERT INTO {table} ({table}, rank) VALUES ('hashsize', {BULK_HASH_BYTES});
             INSERT INTO {table} ({table}, rank) VALUES ('automerge', 0);"
        ))?;
    }
    tx.execute_batch(
        "INSERT INTO search_words (rowid, title, body) SELECT doc, title, body FROM search_text;
         INSERT INTO search_trigrams (rowid, title, body)
             SELECT doc, char(57344) || title || char(57344), body FROM search_text;
         INSERT INTO search_words (search_words) VALUES ('optimize');
         INSERT INTO search_trigrams (search_trigrams) VALUES ('optimize');",
    )?;
    tx.commit()
}

/// Replaces both indexes' tables in `conn` with the ones in `built`, row by row (a
/// transaction cannot attach another database).
fn copy_index(built: &Connection, conn: &Connection) -> rusqlite::Result<()> {
    for table in SEARCH_TABLES {
        for shadow in COPIED_SHADOWS {
            let name = format!("{table}_{shadow}");
            let mut read = built.prepare(&format!("SELECT * FROM {name}"))?;
            let columns = read.column_count();
            conn.execute(&format!("DELETE FROM {name}"), [])?;
            let mut write = conn.prepare(&format!(
                "INSERT INTO {name} VALUES ({})",
                vec!["?"; columns].join(", ")
            ))?;
            let mut rows = read.query([])?;
            while let Some(row) = rows.next()? {
                let values = (0..columns)
                    .map(|i| row.get::<_, rusqlite::types::Value>(i))
                    .collect::<rusqlite::Result<Vec<_>>>()?;
                write.execute(rusqlite::params_from_iter(values))?;
            }
        }
        super::forget_cached_structure(conn, table)?;
    }
    Ok(())
}

/// The scratch database file, beside the CRM's (in the temporary directory for a database
/// in memory), removed when dropped.
struct Scratch {
    path: PathBuf,
}

impl Scratch {
    fn beside(conn: &Connection) -> AppResult<Self> {
        let path = match conn.path().filter(|p| !p.is_empty()) {
            Some(db) => sibling(Path::new(db), ".search-build"),
            None => std::env::temp_dir().join(format!(
                "rapport-{}-{}.search-build",
                std::process::id(),
                uuid::Uuid::now_v7()
            )),
        };
        // Left by a load that crashed: nothing in it is worth keeping.
        remove_if_exists(&path).map_err(AppError::internal)?;
        Ok(Scratch { path })
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if let Err(err) = remove_if_exists(&self.path) {
            tracing::warn!(%err, path = %self.path.display(), "cannot remove the search build's scratch file");
        }
    }
}
