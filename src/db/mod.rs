//! Database access. SQLite calls never run on actix's async workers: reads go through a
//! channel to a few dedicated reader threads (each borrowing from the r2d2 pool), writes
//! to the single writer thread. `shared/PERFORMANCE.md` measured this at twice the
//! throughput of `web::block` per request, and the single writer means concurrent requests
//! never see `database is locked`.

pub mod backups;
pub mod connection;
pub mod local_day;
pub mod lock;
pub mod maintenance;
pub mod migrations;
pub mod restore;
mod upgrade;
mod writer;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::thread;
use std::time::Instant;

use r2d2_sqlite::SqliteConnectionManager;
use rusqlite::Connection;
use tokio::sync::{oneshot, watch};

use crate::domain::clock::Zone;
use crate::error::{AppError, AppResult};
use crate::metrics::DbMetrics;

pub use upgrade::{open_and_migrate, open_and_migrate_held};
pub use writer::WRITE_BATCH_MAX;

pub type Pool = r2d2::Pool<SqliteConnectionManager>;

/// A queued read, stamped with when it was queued for the wait metric.
struct ReadJob {
    queued: Instant,
    run: Box<dyn FnOnce(&Connection) + Send>,
}

#[derive(Debug, Clone)]
pub struct DbOptions {
    pub path: PathBuf,
    /// Dedicated reader threads; each holds one pooled connection while it runs.
    pub readers: usize,
}

/// A cheap, cloneable handle to the database threads.
#[derive(Clone)]
pub struct Db {
    reads: crossbeam_channel::Sender<ReadJob>,
    writes: crossbeam_channel::Sender<writer::Job>,
    changes: watch::Receiver<u64>,
    pool: Pool,
    path: PathBuf,
    metrics: Arc<DbMetrics>,
    /// The database's lock, held shared while a command's `Db` lives (see [`Db::open`]).
    _lock: Option<std::sync::Arc<lock::DbLock>>,
}

#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("{0}")]
    Version(String),
    #[error("cannot open {path}: {source}")]
    Open {
        path: String,
        source: rusqlite::Error,
    },
    #[error(transparent)]
    Migration(#[from] migrations::MigrationError),
    #[error("connection pool: {0}")]
    Pool(#[from] r2d2::Error),
    #[error("cannot start database thread: {0}")]
    Thread(#[from] std::io::Error),
    #[error(transparent)]
    Locked(#[from] lock::LockError),
    #[error(
        "--timezone {zone} differs from the zone the report tables are built for, and they \
         could not be rebuilt for it: {cause}"
    )]
    Timezone { zone: String, cause: String },
    #[error(
        "cannot write the snapshot taken before upgrading, so the database was not upgraded: {0}"
    )]
    PreMigrationSnapshot(maintenance::BackupError),
    #[error("{source}. Rapport did not start; a copy from before the upgrade is at {snapshot}")]
    Upgrade {
        source: migrations::MigrationError,
        snapshot: String,
    },
}

impl Db {
    /// Opens the file, applies pending migrations, and starts the reader and writer threads,
    /// for a command that writes at length (`rapport import`). It holds the database's lock
    /// shared, like a server, so `restore` never swaps the file under it.
    pub fn open(options: &DbOptions) -> Result<Db, OpenError> {
        let held = lock::shared(&options.path)?;
        let mut db = Self::start(options, open_and_migrate_held(&options.path, &held)?)?;
        db._lock = Some(std::sync::Arc::new(held));
        Ok(db)
    }

    /// [`Db::open`] for `serve`, which holds the database's lock already (in `AppState`),
    /// with its `--timezone`, which the report tables are moved to before any reader
    /// connection exists (see [`adopt_timezone`]).
    pub fn open_held(
        options: &DbOptions,
        held: &lock::DbLock,
        timezone: &Zone,
    ) -> Result<Db, OpenError> {
        let mut conn = open_and_migrate_held(&options.path, held)?;
        adopt_timezone(&mut conn, held, timezone)?;
        Self::start(options, conn)
    }

    fn start(options: &DbOptions, writer_conn: Connection) -> Result<Db, OpenError> {
        writer_conn.set_prepared_statement_cache_capacity(256);

        let readers = options.readers.max(1);
        let manager = SqliteConnectionManager::file(&options.path)
            .with_flags(
                rusqlite::OpenFlags::SQLITE_OPEN_READ_WRITE
                    | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX
                    | rusqlite::OpenFlags::SQLITE_OPEN_URI,
            )
            .with_init(|c| {
                connection::apply_pragmas(c)?;
                c.pragma_update(None, "cache_size", -connection::READER_CACHE_KIB)?;
                // Readers never write: a bug that tries to fails loudly instead of racing
                // the writer for the lock.
                c.pragma_update(None, "query_only", "ON")
            });
        let pool = r2d2::Pool::builder()
            .max_size(readers as u32 + 2)
            .min_idle(Some(readers as u32))
            .build(manager)?;

        let metrics = Arc::new(DbMetrics::default());
        let (reads, read_rx) = crossbeam_channel::unbounded::<ReadJob>();
        for n in 0..readers {
            let rx = read_rx.clone();
            let pool = pool.clone();
            let metrics = metrics.clone();
            thread::Builder::new()
                .name(format!("db-read-{n}"))
                .spawn(move || reader_loop(rx, pool, &metrics))?;
        }
        writer_conn
            .pragma_update(None, "wal_autocheckpoint", connection::WRITER_WAL_PAGES)
            .map_err(|source| OpenError::Open {
                path: options.path.display().to_string(),
                source,
            })?;
        let (announce, changes) = watch::channel(0);
        let writes = writer::spawn(writer_conn, announce, metrics.clone())?;
        spawn_checkpointer(options.path.clone())?;
        Ok(Db {
            reads,
            writes,
            changes,
            pool,
            path: options.path.clone(),
            metrics,
            _lock: None,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Queue waits and batch sizes, for `GET /metrics`.
    pub fn metrics(&self) -> &DbMetrics {
        &self.metrics
    }

    /// Jobs waiting for a thread right now: (reads, writes).
    pub fn queued(&self) -> (usize, usize) {
        (self.reads.len(), self.writes.len())
    }

    /// Changes after every commit that touched notifications, sessions, tokens or users.
    /// The value is only a generation count: a woken reader queries what it wants to know.
    pub fn changes(&self) -> watch::Receiver<u64> {
        self.changes.clone()
    }

    /// A pooled read-only connection for code that is already on a blocking thread.
    pub fn pooled(&self) -> AppResult<r2d2::PooledConnection<SqliteConnectionManager>> {
        Ok(self.pool.get()?)
    }

    /// A read-only connection of its own, outside the pool, for long reads that a client
    /// paces (CSV exports): they must not hold one of the reader threads meanwhile.
    pub fn dedicated_reader(&self) -> AppResult<Connection> {
        let conn = connection::open_existing(&self.path)?;
        conn.pragma_update(None, "query_only", "ON")?;
        Ok(conn)
    }

    /// Runs `f` on a reader thread and awaits its result.
    pub async fn read<T, F>(&self, f: F) -> AppResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> AppResult<T> + Send + 'static,
    {
        let (tx, rx) = oneshot::channel();
        let span = tracing::Span::current();
        let job = ReadJob {
            queued: Instant::now(),
            run: Box::new(move |conn| {
                let _entered = span.enter();
                let result = in_read_transaction(conn, |conn| {
                    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(conn)))
                        .unwrap_or_else(|_| Err(AppError::internal("panic in a read job")))
                });
                let _ = tx.send(result);
            }),
        };
        self.reads
            .send(job)
            .map_err(|_| AppError::internal("database reader threads stopped"))?;
        rx.await
            .map_err(|_| AppError::internal("database reader dropped the job"))?
    }

    /// Runs `f` inside the writer's transaction and resolves once it has committed.
    /// An `Err` from `f` rolls back everything `f` did and nothing else.
    pub async fn write<T, F>(&self, f: F) -> AppResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> AppResult<T> + Send + 'static,
    {
        let (tx, rx) = oneshot::channel();
        self.writes
            .send(writer::Job::new(f, tx))
            .map_err(|_| AppError::internal("database writer thread stopped"))?;
        rx.await
            .map_err(|_| AppError::internal("database writer dropped the job"))?
    }

    /// [`Db::write`] for code on a thread of its own (never on an async worker): blocks
    /// until the write has committed.
    pub fn write_blocking<T, F>(&self, f: F) -> AppResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> AppResult<T> + Send + 'static,
    {
        let (tx, rx) = oneshot::channel();
        self.writes
            .send(writer::Job::new(f, tx))
            .map_err(|_| AppError::internal("database writer thread stopped"))?;
        rx.blocking_recv()
            .map_err(|_| AppError::internal("database writer dropped the job"))?
    }

    /// [`Db::write_blocking`] in a transaction of its own, without the savepoint that
    /// jobs sharing a transaction get: for long jobs (imports), whose every statement
    /// would otherwise pay for all the job wrote before it. `f` answers its result and
    /// whether to commit (`false`: roll back, still answering the result); `f` failing
    /// rolls back everything it did.
    pub fn write_alone_blocking<T, F>(&self, f: F) -> AppResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> AppResult<(T, bool)> + Send + 'static,
    {
        let (tx, rx) = oneshot::channel();
        self.writes
            .send(writer::Job::alone(f, tx))
            .map_err(|_| AppError::internal("database writer thread stopped"))?;
        rx.blocking_recv()
            .map_err(|_| AppError::internal("database writer dropped the job"))?
    }

    /// Queues a write nobody waits for (bookkeeping such as `last_used_at`).
    pub fn write_detached<F>(&self, f: F)
    where
        F: FnOnce(&Connection) -> AppResult<()> + Send + 'static,
    {
        let (tx, _rx) = oneshot::channel();
        if self.writes.send(writer::Job::new(f, tx)).is_err() {
            tracing::warn!("database writer stopped; detached write dropped");
        }
    }
}

impl Db {
    /// A PASSIVE checkpoint now, on a connection of its own. Long jobs that keep the writer
    /// busy (imports) call it between their transactions: the background checkpointer never
    /// finds the writer idle then, and a checkpoint that cannot catch up with the writer never
    /// lets the WAL start over, so the WAL would grow for as long as the job runs.
    pub fn checkpoint(&self) -> AppResult<()> {
        let conn = connection::open_existing(&self.path)?;
        conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()))?;
        Ok(())
    }
}

impl Db {
    /// The checkpoint at shutdown, once the server has stopped taking requests: PASSIVE,
    /// like every checkpoint Rapport makes, so a Litestream still replicating keeps control
    /// of its WAL (a TRUNCATE would wait on its read lock, and restarting the WAL is its
    /// decision). Without Litestream nothing else reads, so PASSIVE copies every frame;
    /// it is retried briefly while the background checkpointer is busy with the same WAL.
    pub fn final_checkpoint(&self) -> AppResult<()> {
        let conn = connection::open_existing(&self.path)?;
        for _ in 0..FINAL_CHECKPOINT_TRIES {
            let (busy, log, done): (i64, i64, i64) =
                conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?))
                })?;
            if busy == 0 && done >= log {
                return Ok(());
            }
            thread::sleep(std::time::Duration::from_millis(100));
        }
        Err(AppError::internal(
            "another reader (Litestream?) holds part of the WAL; it stays in the -wal file, \
             which is safe, and is checkpointed later",
        ))
    }
}

/// Runs `fill` (a bulk load in the caller's transaction) with the triggers `name_like` (a
/// LIKE pattern, `\` escapes) matches dropped, then puts them back. Bulk loads rebuild
/// what those triggers maintain in one pass afterwards, far cheaper than a trigger per
/// row. DDL is transactional, so a failure rolls the triggers back too.
pub fn without_triggers<T>(
    conn: &Connection,
    name_like: &str,
    fill: impl FnOnce(&Connection) -> AppResult<T>,
) -> AppResult<T> {
    let triggers: Vec<(String, String)> = conn
        .prepare(
            "SELECT name, sql FROM sqlite_schema
              WHERE type = 'trigger' AND name LIKE ?1 ESCAPE '\\'",
        )?
        .query_map([name_like], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    for (name, _) in &triggers {
        conn.execute_batch(&format!("DROP TRIGGER \"{name}\""))?;
    }
    let filled = fill(conn)?;
    for (_, sql) in &triggers {
        conn.execute_batch(sql)?;
    }
    Ok(filled)
}

/// When the report tables were built for another zone than `zone`, rebuilds them for it
/// (`local_day::adopt`), once, and logs it. The lock is exclusive meanwhile, so no other
/// process goes on writing figures under the old zone's days: with another server running
/// on the file, `serve` refuses to start instead.
fn adopt_timezone(
    conn: &mut Connection,
    held: &lock::DbLock,
    zone: &Zone,
) -> Result<(), OpenError> {
    let failed = |cause: String| OpenError::Timezone {
        zone: zone.name().to_owned(),
        cause,
    };
    let built = local_day::database_zone(conn).map_err(|e| failed(e.to_string()))?;
    if built == *zone {
        return Ok(());
    }
    held.make_exclusive().map_err(|e| failed(e.to_string()))?;
    let started = Instant::now();
    let adopted = local_day::adopt(conn, zone);
    held.make_shared()?;
    adopted.map_err(|e| failed(e.to_string()))?;
    tracing::info!(
        from = built.name(),
        to = zone.name(),
        elapsed_ms = started.elapsed().as_millis() as u64,
        "rebuilt the report tables for the new --timezone"
    );
    Ok(())
}

/// Runs a read job's `f` in one read transaction: all its statements see the same committed
/// state (a page and its count, a record and its timeline), and the WAL read lock is taken
/// and released once instead of around every statement. A search runs about twenty
/// statements; locking each one was a quarter of the CPU under the search load. The
/// transaction always ends, so no pooled connection keeps an old snapshot (which would also
/// hold back checkpoints).
fn in_read_transaction<T>(
    conn: &Connection,
    f: impl FnOnce(&Connection) -> AppResult<T>,
) -> AppResult<T> {
    conn.prepare_cached("BEGIN")?.execute([])?;
    let out = f(conn);
    let ended = conn
        .prepare_cached("COMMIT")
        .and_then(|mut s| s.execute([]));
    if let Err(err) = ended {
        tracing::warn!(%err, "cannot end a read transaction; rolling it back");
    }
    if !conn.is_autocommit()
        && let Err(err) = conn.execute_batch("ROLLBACK")
    {
        tracing::error!(%err, "a read connection stays in a transaction");
    }
    out
}

/// A second of retries: the background checkpointer holds the WAL for milliseconds.
const FINAL_CHECKPOINT_TRIES: usize = 10;

/// How often the background checkpointer runs: often enough that under a stream of writes
/// it copies most pages back on its own core, leaving the writer's inline checkpoint
/// (`connection::WRITER_WAL_PAGES`) only the last few. With nothing to copy, a PASSIVE
/// checkpoint only reads the WAL index header.
pub const CHECKPOINT_EVERY: std::time::Duration = std::time::Duration::from_millis(250);

/// Runs a PASSIVE checkpoint every [`CHECKPOINT_EVERY`] on a connection of its own, so the
/// WAL stays bounded without any request paying for it.
pub fn spawn_checkpointer(path: PathBuf) -> std::io::Result<()> {
    thread::Builder::new()
        .name("db-checkpoint".into())
        .spawn(move || {
            let mut conn: Option<Connection> = None;
            loop {
                thread::sleep(CHECKPOINT_EVERY);
                if conn.is_none() {
                    conn = connection::open_existing(&path)
                        .map_err(
                            |err| tracing::warn!(%err, "checkpointer cannot open the database"),
                        )
                        .ok();
                }
                if let Some(c) = &conn
                    && let Err(err) = c.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()))
                {
                    tracing::warn!(%err, "background checkpoint failed");
                    conn = None;
                }
            }
        })?;
    Ok(())
}

/// A reader keeps the connection it checks out for as long as it runs. Checking one out
/// per job took the pool's lock and ran r2d2's validity query (`SELECT 1`, compiled anew
/// each time): about 6% of the reader threads' CPU under the get_lead load. It checks one
/// out again only after failing to get one.
fn reader_loop(rx: crossbeam_channel::Receiver<ReadJob>, pool: Pool, metrics: &DbMetrics) {
    let mut conn = None;
    while let Ok(job) = rx.recv() {
        if conn.is_none() {
            conn = pool
                .get()
                .map_err(|err| tracing::error!(%err, "no read connection"))
                .ok();
        }
        // Without a connection the job is dropped, and with it its sender, which the
        // awaiting request sees as an error.
        if let Some(conn) = &conn {
            metrics.read_wait.observe_duration(job.queued.elapsed());
            (job.run)(conn)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A database in `dir` served by one reader thread.
    fn one_reader_db(dir: &tempfile::TempDir) -> Db {
        Db::open(&DbOptions {
            path: dir.path().join("rapport.db"),
            readers: 1,
        })
        .unwrap()
    }

    #[test]
    fn the_writer_checkpoints_only_past_its_wal_limit_and_readers_wait_for_locks() {
        let dir = tempfile::tempdir().unwrap();
        let db = one_reader_db(&dir);
        let auto: i64 = db
            .write_blocking(|conn| {
                Ok(conn.pragma_query_value(None, "wal_autocheckpoint", |r| r.get(0))?)
            })
            .unwrap();
        assert_eq!(auto, connection::WRITER_WAL_PAGES);
        let timeout: i64 = db
            .pooled()
            .unwrap()
            .pragma_query_value(None, "busy_timeout", |r| r.get(0))
            .unwrap();
        assert!(timeout >= 5000);
        db.final_checkpoint().unwrap();
    }

    #[test]
    fn the_wal_stays_bounded_under_writes_that_never_pause() {
        let dir = tempfile::tempdir().unwrap();
        let db = one_reader_db(&dir);
        // A lower limit than the server's, for a quicker test of the same mechanism.
        let wal_pages = 4096;
        db.write_blocking(move |conn| {
            conn.pragma_update(None, "wal_autocheckpoint", wal_pages)?;
            conn.execute_batch("CREATE TABLE filler (bytes BLOB NOT NULL)")?;
            Ok(())
        })
        .unwrap();
        // Twice the limit's worth of pages, one transaction after another: the background
        // checkpointer alone never catches up with that.
        let page = 4096;
        let per_write = 64 * 1024;
        let writes = 2 * wal_pages as usize * page / per_write;
        for _ in 0..writes {
            db.write_blocking(move |conn| {
                conn.execute(
                    "INSERT INTO filler (bytes) VALUES (zeroblob(?1))",
                    [per_write as i64],
                )?;
                Ok(())
            })
            .unwrap();
        }
        let wal = std::fs::metadata(dir.path().join("rapport.db-wal"))
            .unwrap()
            .len();
        let limit = (wal_pages as u64 + 64) * (page as u64 + 24);
        assert!(wal <= limit, "the WAL grew to {wal} bytes, past {limit}");
    }

    #[test]
    fn a_read_job_sees_one_state_and_leaves_no_transaction_open() {
        let dir = tempfile::tempdir().unwrap();
        let db = one_reader_db(&dir);
        db.write_blocking(|conn| {
            conn.execute_batch("CREATE TABLE n (v INTEGER); INSERT INTO n VALUES (1);")?;
            Ok(())
        })
        .unwrap();
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let writer = db.clone();
        let (first, second) = rt
            .block_on(db.read(move |conn| {
                let read = |conn: &Connection| -> AppResult<i64> {
                    Ok(conn.query_row("SELECT sum(v) FROM n", [], |r| r.get(0))?)
                };
                let first = read(conn)?;
                // A write that commits between two statements of the job is not seen by it.
                writer.write_blocking(|conn| {
                    conn.execute("INSERT INTO n VALUES (10)", [])?;
                    Ok(())
                })?;
                Ok((first, read(conn)?))
            }))
            .unwrap();
        assert_eq!((first, second), (1, 1));
        let (after, autocommit) = rt
            .block_on(db.read(|conn| {
                let v: i64 = conn.query_row("SELECT sum(v) FROM n", [], |r| r.get(0))?;
                Ok((v, conn.is_autocommit()))
            }))
            .unwrap();
        assert_eq!((after, autocommit), (11, false));
        let failed = rt.block_on(db.read(|_| -> AppResult<()> { Err(AppError::NotFound) }));
        assert!(failed.is_err());
        assert!(db.pooled().unwrap().is_autocommit());
    }
}
