//! The single writer. One thread owns the only read-write connection the server uses for
//! changes. It takes whatever jobs are queued (up to [`WRITE_BATCH_MAX`]) and runs them in
//! one `BEGIN IMMEDIATE` transaction, each inside its own savepoint, then commits once
//! ("group commit"): a failing job rolls back only itself, and every job's caller hears
//! back only after the commit made its change durable.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::Instant;

use rusqlite::Connection;
use tokio::sync::{oneshot, watch};

use crate::domain::search;
use crate::error::{AppError, AppResult};
use crate::metrics::DbMetrics;

/// More jobs per transaction amortise the commit further but delay the first caller.
pub const WRITE_BATCH_MAX: usize = 64;

trait Runnable: Send {
    /// Runs the job; true when it succeeded and what it wrote should be kept.
    fn run(&mut self, conn: &Connection) -> bool;
    /// Fails the job without running it.
    fn reject(&mut self, err: AppError);
    /// Delivers the job's result, or `commit_error` if the batch failed to commit.
    fn finish(self: Box<Self>, commit_error: Option<&AppError>);
}

/// A queued job: `work` answers its result and whether what it wrote is kept.
struct Pending<T, F> {
    work: Option<F>,
    result: Option<AppResult<T>>,
    reply: oneshot::Sender<AppResult<T>>,
    span: tracing::Span,
}

impl<T, F> Runnable for Pending<T, F>
where
    T: Send + 'static,
    F: FnOnce(&Connection) -> AppResult<(T, bool)> + Send + 'static,
{
    fn run(&mut self, conn: &Connection) -> bool {
        let _entered = self.span.enter();
        let Some(work) = self.work.take() else {
            return false;
        };
        let (result, keep) = match catch_unwind(AssertUnwindSafe(|| work(conn))) {
            Ok(Ok((value, keep))) => (Ok(value), keep),
            Ok(Err(e)) => (Err(e), false),
            Err(_) => (Err(AppError::internal("panic in a write job")), false),
        };
        self.result = Some(result);
        keep
    }

    fn reject(&mut self, err: AppError) {
        self.work = None;
        self.result = Some(Err(err));
    }

    fn finish(self: Box<Self>, commit_error: Option<&AppError>) {
        let result = match (commit_error, self.result) {
            (_, Some(Err(e))) => Err(e),
            (Some(e), _) => Err(AppError::internal(e)),
            (None, Some(ok)) => ok,
            (None, None) => Err(AppError::internal("write job never ran")),
        };
        let _ = self.reply.send(result);
    }
}

pub struct Job {
    work: Box<dyn Runnable>,
    /// Runs in a transaction of its own, without a savepoint around it.
    alone: bool,
    queued: Instant,
}

impl Job {
    pub fn new<T, F>(work: F, reply: oneshot::Sender<AppResult<T>>) -> Job
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> AppResult<T> + Send + 'static,
    {
        Job::pending(
            move |conn: &Connection| work(conn).map(|t| (t, true)),
            reply,
            false,
        )
    }

    /// A job that gets a transaction to itself, and decides whether it commits (`work`
    /// answers its result and `true` to commit). For big jobs: inside a job's savepoint,
    /// every statement that ends costs time in proportion to all the job wrote before it
    /// (SQLite walks its statement journal back), and FTS5 flushes its pending terms at
    /// every savepoint. The writer merges no search segments after such a job: a bulk
    /// write's caller compacts the index when it is done (`search::compact_step`), and
    /// merging its large segments in between would write the same pages twice and grow the
    /// WAL between its checkpoints (an import of 100k contacts: 110 -> 270 MB).
    pub fn alone<T, F>(work: F, reply: oneshot::Sender<AppResult<T>>) -> Job
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> AppResult<(T, bool)> + Send + 'static,
    {
        Job::pending(work, reply, true)
    }

    fn pending<T, F>(work: F, reply: oneshot::Sender<AppResult<T>>, alone: bool) -> Job
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> AppResult<(T, bool)> + Send + 'static,
    {
        Job {
            work: Box::new(Pending {
                work: Some(work),
                result: None,
                reply,
                span: tracing::Span::current(),
            }),
            alone,
            queued: Instant::now(),
        }
    }
}

/// Tables whose changes long-lived readers (the notification streams) want to hear about:
/// new or read notifications, and revoked sessions, tokens and users, which end a stream.
const WATCHED_TABLES: [&str; 4] = ["notifications", "sessions", "api_tokens", "users"];

pub fn spawn(
    conn: Connection,
    changes: watch::Sender<u64>,
    metrics: Arc<DbMetrics>,
) -> std::io::Result<crossbeam_channel::Sender<Job>> {
    let (tx, rx) = crossbeam_channel::unbounded::<Job>();
    thread::Builder::new()
        .name("db-write".into())
        .spawn(move || {
            // An index a bulk load or an earlier Rapport left in one low segment would be
            // rewritten by the first merges (`search::settle_single_segments`).
            if let Err(err) = search::settle_single_segments(&conn) {
                tracing::warn!(%err, "cannot settle the search indexes' segments");
            }
            let touched = watch_tables(&conn);
            writer_loop(conn, rx, &metrics, || {
                // A rolled-back change may have set the flag too; waking readers for
                // nothing costs them one query, never a missed event.
                if touched.swap(false, Ordering::Relaxed) {
                    changes.send_modify(|generation| *generation += 1);
                }
            })
        })?;
    Ok(tx)
}

/// Flags every row change to a [`WATCHED_TABLES`] table (the update hook runs inside the
/// statement, so it only records; the writer announces the change after committing).
fn watch_tables(conn: &Connection) -> Arc<AtomicBool> {
    let touched = Arc::new(AtomicBool::new(false));
    let flag = touched.clone();
    let hooked = conn.update_hook(Some(
        move |_: rusqlite::hooks::Action, _: &str, table: &str, _: i64| {
            if WATCHED_TABLES.contains(&table) {
                flag.store(true, Ordering::Relaxed);
            }
        },
    ));
    if let Err(err) = hooked {
        tracing::error!(%err, "cannot watch the writer's changes; notification streams will lag");
    }
    touched
}

fn writer_loop(
    conn: Connection,
    rx: crossbeam_channel::Receiver<Job>,
    metrics: &DbMetrics,
    mut after_commit: impl FnMut(),
) {
    let taken = |job: &Job| metrics.write_wait.observe_duration(job.queued.elapsed());
    let mut batch: Vec<Box<dyn Runnable>> = Vec::with_capacity(WRITE_BATCH_MAX);
    let mut next: Option<Job> = None;
    let mut tidying = true;
    loop {
        let first = match next.take() {
            Some(job) => job,
            None => match tidy_until_job(&conn, &rx, &mut tidying).or_else(|| rx.recv().ok()) {
                Some(job) => job,
                None => break,
            },
        };
        // What a batch commits may leave segments to merge; a job alone leaves them to
        // its caller (`Job::alone`).
        tidying = !first.alone;
        taken(&first);
        if first.alone {
            metrics.write_batch.observe_raw(1);
            run_alone(&conn, first.work);
            after_commit();
            continue;
        }
        batch.push(first.work);
        while batch.len() < WRITE_BATCH_MAX {
            match rx.try_recv() {
                // Taken (and timed) when its own turn comes.
                Ok(job) if job.alone => {
                    next = Some(job);
                    break;
                }
                Ok(job) => {
                    taken(&job);
                    batch.push(job.work)
                }
                Err(_) => break,
            }
        }
        metrics.write_batch.observe_raw(batch.len() as u64);
        run_batch(&conn, &mut batch);
        after_commit();
    }
}

/// While no job is queued and `tidying`, merges the search indexes a step at a time
/// (`search::tidy_step`): writes never pay for merges, and a job that arrives waits for one
/// step at most. Returns that job, or `None` when the merging is done or every sender gone.
fn tidy_until_job(
    conn: &Connection,
    rx: &crossbeam_channel::Receiver<Job>,
    tidying: &mut bool,
) -> Option<Job> {
    while *tidying {
        match rx.try_recv() {
            Ok(job) => return Some(job),
            Err(crossbeam_channel::TryRecvError::Disconnected) => return None,
            Err(crossbeam_channel::TryRecvError::Empty) => {
                *tidying = search::tidy_step(conn).unwrap_or_else(|err| {
                    tracing::warn!(%err, "a search index merge step failed");
                    false
                });
            }
        }
    }
    None
}

/// Runs one of the writer's own statements (BEGIN, SAVEPOINT, RELEASE, COMMIT) compiled
/// once: a batch of 33 creates runs 68 of them, and `execute_batch` parses each anew.
fn run_cached(conn: &Connection, sql: &str) -> rusqlite::Result<()> {
    conn.prepare_cached(sql)?.execute([]).map(drop)
}

fn run_alone(conn: &Connection, mut job: Box<dyn Runnable>) {
    if let Err(err) = run_cached(conn, "BEGIN IMMEDIATE") {
        job.reject(AppError::from(err));
        job.finish(None);
        return;
    }
    let commit_error = if job.run(conn) {
        run_cached(conn, "COMMIT").err().map(|err| {
            let _ = conn.execute_batch("ROLLBACK");
            let err = AppError::from(err);
            tracing::error!(%err, "write transaction failed to commit");
            err
        })
    } else {
        if let Err(err) = conn.execute_batch("ROLLBACK") {
            tracing::error!(%err, "cannot roll back a failed job");
        }
        None
    };
    job.finish(commit_error.as_ref());
}

fn run_batch(conn: &Connection, batch: &mut Vec<Box<dyn Runnable>>) {
    if let Err(err) = run_cached(conn, "BEGIN IMMEDIATE") {
        let err = AppError::from(err);
        tracing::error!(%err, "cannot begin write transaction");
        for job in batch.drain(..) {
            job.finish(Some(&err));
        }
        return;
    }
    let deferring = search::defer_new_records(conn);
    for job in batch.iter_mut() {
        run_in_savepoint(conn, job.as_mut());
    }
    let commit_error = match deferring.and_then(|()| search::index_deferred(conn)) {
        Ok(()) => run_cached(conn, "COMMIT"),
        Err(err) => Err(err),
    };
    let commit_error = commit_error.err().map(|err| {
        let _ = conn.execute_batch("ROLLBACK");
        let err = AppError::from(err);
        tracing::error!(%err, "write transaction failed to commit");
        err
    });
    for job in batch.drain(..) {
        job.finish(commit_error.as_ref());
    }
}

fn run_in_savepoint(conn: &Connection, job: &mut dyn Runnable) {
    if let Err(err) = run_cached(conn, "SAVEPOINT job") {
        job.reject(AppError::from(err));
        return;
    }
    let ended = if job.run(conn) {
        run_cached(conn, "RELEASE job")
    } else {
        conn.execute_batch("ROLLBACK TO job; RELEASE job")
    };
    if let Err(err) = ended {
        tracing::error!(%err, "cannot close a job's savepoint");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::Actor;
    use crate::auth::actor::Via;
    use crate::auth::permissions::Role;
    use crate::domain::customers::{self, CustomerInput};

    fn customer_job(name: impl Into<String>, fail: bool) -> Box<dyn Runnable> {
        let name = name.into();
        let (reply, _) = oneshot::channel();
        Job::new(
            move |conn: &Connection| {
                let actor = Actor {
                    user_id: "u1".into(),
                    role: Role::Admin,
                    name: "Admin".into(),
                    email: "admin@example.com".into(),
                    via: Via::CommandLine,
                };
                let input = CustomerInput {
                    name: Some(Some(name)),
                    ..CustomerInput::default()
                };
                customers::create(conn, &actor, &input)?;
                if fail {
                    return Err(AppError::Conflict("undo this job".into()));
                }
                Ok(())
            },
            reply,
        )
        .work
    }

    fn found(conn: &Connection, q: &str) -> Vec<String> {
        conn.prepare(
            "SELECT c.name FROM search_words JOIN search_docs d ON d.doc = search_words.rowid
               JOIN customers c ON c.id = d.id WHERE search_words MATCH ?1",
        )
        .unwrap()
        .query_map([q], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
    }

    fn writer_db(dir: &tempfile::TempDir) -> Connection {
        let conn = crate::db::upgrade::open_and_migrate(&dir.path().join("w.db")).unwrap();
        conn.execute(
            "INSERT INTO users (id, email, name, role, password_hash, password_changed_at,
                                created_at, updated_at)
             VALUES ('u1', 'admin@example.com', 'Admin', 'admin', 'x', '2026-01-01',
                     '2026-01-01', '2026-01-01')",
            [],
        )
        .unwrap();
        conn
    }

    /// A batch indexes its new records once, at its end: a failed job's record is not
    /// there, the others are, and nothing is left waiting after the commit.
    #[test]
    fn a_batch_indexes_what_its_jobs_kept_when_it_ends() {
        let dir = tempfile::tempdir().unwrap();
        let conn = writer_db(&dir);
        let mut batch = vec![
            customer_job("Kept Alpha", false),
            customer_job("Undone Beta", true),
            customer_job("Kept Gamma", false),
        ];
        run_batch(&conn, &mut batch);

        assert_eq!(found(&conn, "kept"), ["Kept Alpha", "Kept Gamma"]);
        assert!(found(&conn, "undone").is_empty());
        let waiting: i64 = conn
            .query_row(
                "SELECT (SELECT count(*) FROM search_deferring)
                      + (SELECT count(*) FROM search_deferred)",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(waiting, 0);
        assert!(
            crate::domain::search::check_index(&conn)
                .unwrap()
                .is_empty()
        );
    }

    /// Each batch leaves a search segment; with no job queued the writer merges them, and
    /// a queued job goes first.
    #[test]
    fn an_idle_writer_merges_the_segments_its_batches_left() {
        let dir = tempfile::tempdir().unwrap();
        let conn = writer_db(&dir);
        for i in 0..12 {
            run_batch(&conn, &mut vec![customer_job(format!("Kept {i}"), false)]);
        }
        let segments = || -> i64 {
            conn.query_row(
                "SELECT count(DISTINCT segid) FROM search_words_idx",
                [],
                |r| r.get(0),
            )
            .unwrap()
        };
        assert!(segments() >= 12, "{}", segments());

        let (tx, rx) = crossbeam_channel::unbounded::<Job>();
        let (reply, _) = oneshot::channel();
        tx.send(Job::new(|_: &Connection| Ok(()), reply)).unwrap();
        let mut tidying = true;
        assert!(tidy_until_job(&conn, &rx, &mut tidying).is_some());
        assert!(tidying && segments() >= 12);

        assert!(tidy_until_job(&conn, &rx, &mut tidying).is_none());
        assert!(!tidying);
        assert!(segments() < 4, "{}", segments());
        assert_eq!(found(&conn, "kept").len(), 12);
        assert!(
            crate::domain::search::check_index(&conn)
                .unwrap()
                .is_empty()
        );
    }
}
