//! Opening connections: every connection Rapport makes gets the same pragmas and SQL
//! functions.

use std::path::Path;
use std::time::Duration;

use rusqlite::config::DbConfig;
use rusqlite::{Connection, OpenFlags};

use super::local_day;

/// SQLite 3.51.3 fixes a WAL corruption bug with concurrent writers and checkpointers.
pub const MIN_SQLITE_VERSION: i32 = 3_051_003;

/// How long a connection waits for a lock before answering `SQLITE_BUSY`. Litestream
/// recommends at least 5 s so its checkpoints never fail a write.
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// Refuses to run on a SQLite older than [`MIN_SQLITE_VERSION`].
pub fn assert_sqlite_version() -> Result<(), String> {
    let found = rusqlite::version_number();
    if found < MIN_SQLITE_VERSION {
        return Err(format!(
            "SQLite {} is too old: Rapport needs 3.51.3 or newer (WAL fix for concurrent checkpoints)",
            rusqlite::version()
        ));
    }
    Ok(())
}

/// Page cache of the writer and of command-line connections. Writes keep coming back to the
/// upper B-tree pages of every index, which fit; a larger cache fills with leaf pages under a
/// stream of creates (32 MB: peak RSS 72 MB under the benchmark loads) and saved an import
/// of 100k contacts only 8% (benches/README.md).
const WRITER_CACHE_KIB: i64 = 4_096;

/// Runs `work` with a page cache of `kib` on `conn` (for long jobs that dirty many pages in
/// one transaction), then puts the cache back as it was, giving the memory back.
pub fn with_cache<T>(
    conn: &Connection,
    kib: i64,
    work: impl FnOnce(&Connection) -> T,
) -> rusqlite::Result<T> {
    let before: i64 = conn.pragma_query_value(None, "cache_size", |r| r.get(0))?;
    conn.pragma_update(None, "cache_size", -kib)?;
    let out = work(conn);
    conn.pragma_update(None, "cache_size", before)?;
    Ok(out)
}

/// Page cache of each reader connection (there are `--db-readers` + 2 of them). Small:
/// every reader would otherwise keep its own copy of the same hot pages (six readers with
/// 16 MB each peaked at 120 MB of RSS under the benchmark loads), and a page missing here
/// is one `pread` from the OS page cache, which holds it once for all of them.
pub const READER_CACHE_KIB: i64 = 1_024;

/// The writer checkpoints inline only once the WAL holds this many pages (256 MiB); below
/// it the checkpointer thread does the work in the background (`db::spawn_checkpointer`),
/// and no write waits for it.
///
/// Under a steady stream of writes the background checkpoint can never finish: by the time
/// it has copied what it saw, the writer has appended more, and SQLite starts the WAL over
/// only after a complete one. The WAL then grows without end (1.4 GB in ten seconds of
/// creates) and every frame extends the file, which the kernel zero-fills first: a quarter
/// of the server's CPU. A checkpoint on the writer's own thread runs between its
/// transactions, so it completes (unless a reader still needs old frames), and the next
/// transaction writes from the start of the WAL again. Like every Rapport checkpoint it is
/// PASSIVE: it waits for no reader and leaves Litestream in charge of its own.
///
/// Why so much: a checkpoint copies each page once however often the WAL holds it, and a
/// stream of creates rewrites the same pages (the ends of the date indexes, the search
/// index, the audit chain) batch after batch. At 16 MiB the writer spent a quarter of its
/// time writing and checkpointing pages and created 4,000–5,000 leads a second under the
/// benchmark load; at 256 MiB, 6,500–6,900 (benches/README.md). The file only grows that
/// far under a long stream of writes; a copy taken by `rapport backup` never includes it.
pub const WRITER_WAL_PAGES: i64 = 65_536;

/// Per-connection settings. `journal_mode=WAL` is persistent in the file but is set on every
/// open so a file created by another tool is converted.
pub fn apply_pragmas(conn: &Connection) -> rusqlite::Result<()> {
    conn.busy_timeout(BUSY_TIMEOUT)?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    conn.pragma_update(None, "temp_store", "MEMORY")?;
    // Automatic checkpoints are PASSIVE: they never wait for readers and never fight
    // Litestream's checkpoints. The server's writer raises the threshold to
    // [`WRITER_WAL_PAGES`] (a background thread checkpoints first); command-line tools keep
    // this one.
    conn.pragma_update(None, "wal_autocheckpoint", 1000)?;
    // No mmap: mapped pages count as the process's memory (peak RSS under the benchmark
    // loads: 154 MB with 64 MiB mapped, 68 MB without), while the OS page cache serves the
    // same pages; the throughput difference measured within noise for lists.
    conn.pragma_update(None, "mmap_size", 0)?;
    conn.pragma_update(None, "cache_size", -WRITER_CACHE_KIB)?;
    conn.set_prepared_statement_cache_capacity(128);
    // Plans that never depend on bound values. Without this guarantee SQLite marks a
    // statement to be compiled again whenever certain parameters are bound anew: any
    // `LIMIT ?` (so every list page, search stage and timeline), and once `PRAGMA optimize`
    // has gathered statistics, every `column = ?` or range on an indexed column. Recompiling
    // was 13% of the server's CPU under the search load; the cached statements are only
    // worth keeping if they stay compiled.
    conn.set_db_config(DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true)?;
    register_functions(conn)
}

/// Rapport's SQL functions: `local_day`, which the report triggers call, in the zone the
/// database's report tables are built for (see `db::local_day`).
pub fn register_functions(conn: &Connection) -> rusqlite::Result<()> {
    local_day::register(conn, local_day::database_zone(conn)?)
}

/// An in-memory database with Rapport's SQL functions (its days are UTC), for tests.
pub fn open_in_memory() -> rusqlite::Result<Connection> {
    let conn = Connection::open_in_memory()?;
    register_functions(&conn)?;
    Ok(conn)
}

/// Opens (creating if needed) a read-write connection with Rapport's pragmas.
pub fn open(path: &Path) -> rusqlite::Result<Connection> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
        | OpenFlags::SQLITE_OPEN_CREATE
        | OpenFlags::SQLITE_OPEN_NO_MUTEX
        | OpenFlags::SQLITE_OPEN_URI;
    let conn = Connection::open_with_flags(path, flags)?;
    apply_pragmas(&conn)?;
    Ok(conn)
}

/// Opens an existing database without creating it (for `check`, `backup`).
pub fn open_existing(path: &Path) -> rusqlite::Result<Connection> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
        | OpenFlags::SQLITE_OPEN_NO_MUTEX
        | OpenFlags::SQLITE_OPEN_URI;
    let conn = Connection::open_with_flags(path, flags)?;
    apply_pragmas(&conn)?;
    Ok(conn)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What Litestream needs from every connection: WAL, and a busy timeout of at least 5 s
    /// so its checkpoints never fail one of our writes.
    #[test]
    fn every_connection_is_ready_for_litestream() {
        let dir = tempfile::tempdir().unwrap();
        let conn = open(&dir.path().join("rapport.db")).unwrap();
        let mode: String = conn
            .pragma_query_value(None, "journal_mode", |r| r.get(0))
            .unwrap();
        assert_eq!(mode, "wal");
        let timeout: i64 = conn
            .pragma_query_value(None, "busy_timeout", |r| r.get(0))
            .unwrap();
        assert!(timeout >= 5000, "busy_timeout {timeout} ms");
    }

    #[test]
    fn a_larger_cache_for_a_while_gives_way_to_the_one_before() {
        let dir = tempfile::tempdir().unwrap();
        let conn = open(&dir.path().join("rapport.db")).unwrap();
        let size = |conn: &Connection| -> i64 {
            conn.pragma_query_value(None, "cache_size", |r| r.get(0))
                .unwrap()
        };
        let (outer, inner) = with_cache(&conn, 65_536, |conn| {
            let inner = with_cache(conn, 1_024, size).unwrap();
            (size(conn), inner)
        })
        .unwrap();
        assert_eq!((outer, inner), (-65_536, -1_024));
        assert_eq!(size(&conn), -WRITER_CACHE_KIB);
    }

    #[test]
    fn cached_statements_are_not_compiled_again_for_new_values() {
        let dir = tempfile::tempdir().unwrap();
        let conn = open(&dir.path().join("rapport.db")).unwrap();
        conn.execute_batch(
            "CREATE TABLE t (k INTEGER NOT NULL, v TEXT);
             CREATE INDEX t_k ON t (k);
             WITH RECURSIVE n (i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 500)
             INSERT INTO t SELECT i % 7, 'x' FROM n;
             ANALYZE;",
        )
        .unwrap();
        let mut stmt = conn
            .prepare("SELECT v FROM t WHERE k = ?1 AND k >= ?2 LIMIT ?3")
            .unwrap();
        for n in 1..5 {
            let rows: Vec<String> = stmt
                .query_map(rusqlite::params![n, n - 1, n * 2], |r| r.get(0))
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap();
            assert_eq!(rows.len(), n as usize * 2);
        }
        assert_eq!(
            stmt.get_status(rusqlite::StatementStatus::RePrepare),
            0,
            "recompiled for new bindings"
        );
    }
}
