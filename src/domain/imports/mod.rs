//! CSV import jobs: a file is read and its rows staged in the database, the mapping of its
//! columns suggested (or taken from the user), then a job works through the rows in chunks,
//! one writer transaction each, so the app stays responsive and the WAL stays small however
//! big the file. A dry run does the same work and undoes every row, which makes it an exact
//! preview. A real job that fails, is cancelled or is cut short by a crash is undone
//! completely (at the next start at the latest) from the list of what it wrote.

pub mod mapping;
pub mod reader;
pub mod review;
pub mod rows;
#[cfg(test)]
mod written_once;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;

use crate::auth::Actor;
use crate::auth::permissions::Capability;
use crate::db::{Db, connection};
use crate::domain::audit::{self, Entry};
use crate::domain::clock::Timestamp;
use crate::domain::currency::Currency;
use crate::domain::exports::Entity;
use crate::domain::new_id;
use crate::domain::records::{self, Kind};
use crate::domain::search;
use crate::error::{AppError, AppResult};
use mapping::Mapping;
pub use rows::OnDuplicate;
use rows::{CellError, Outcome};

/// How much of the file one writer transaction takes: rows up to a count, for up to a time.
///
/// Every transaction writes each index page it touched to the WAL once, and a checkpoint
/// copies it into the file once, however many rows landed on it. A contact touches ten
/// B-trees at random places, so 500 rows dirtied some 30 MB of pages; 5,000 rows dirty only
/// about twice that. Bigger chunks cut an import of 100k contacts from 18.6 s to 11.9 s
/// (benches/README.md); the time limit keeps other writes from waiting longer than that
/// for the writer.
#[derive(Clone, Copy)]
struct ChunkBudget {
    rows: usize,
    time: Duration,
}

const CHUNK: ChunkBudget = ChunkBudget {
    rows: 5_000,
    time: Duration::from_millis(300),
};
/// The writer's page cache while it applies a chunk: a chunk's dirty pages stay in memory
/// until it commits (with the usual 4 MiB, SQLite spills them into the WAL mid-chunk and
/// reads them back). Given back when the chunk ends.
const CHUNK_CACHE_KIB: i64 = 65_536;
/// Records kept for an undo are taken back this many at a time.
const UNDO_ROWS: usize = 500;
/// Rows staged per transaction.
const STAGE_ROWS: usize = 5_000;
/// Errors listed in a status answer; all of them are in the error CSV.
const LISTED_ERRORS: i64 = 1_000;

/// What `POST /imports` asks for.
#[derive(Debug, Clone)]
pub struct Request {
    pub entity: Entity,
    pub filename: String,
    pub mapping: Option<BTreeMap<String, Option<String>>>,
    pub on_duplicate: OnDuplicate,
    pub dry_run: bool,
}

/// A file read and mapped, ready to be staged.
pub struct Prepared {
    pub source: reader::Source,
    pub mapping: Mapping,
    /// Records after the header (blank lines aside).
    pub total: usize,
}

/// Reads the header of `bytes`, settles the mapping (422 when the file or the mapping
/// cannot work) and counts the rows. Pure CPU work: run it off the async workers.
pub fn prepare(request: &Request, bytes: Vec<u8>) -> AppResult<Prepared> {
    let source = reader::Source::new(bytes)?;
    let overrides = request.mapping.clone().unwrap_or_default();
    let mapping = Mapping::with_overrides(request.entity.kind(), &source.headers, &overrides)?;
    let total = source.rows().count();
    Ok(Prepared {
        source,
        mapping,
        total,
    })
}

/// A job's state, as `GET /imports/{id}` reports it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ImportStatus {
    pub id: String,
    /// customers, contacts, leads, tasks or activities.
    pub entity: String,
    pub filename: String,
    /// `staged`, `running`, `validated` (a dry run finished), `completed`, `rolling_back`,
    /// `failed` or `cancelled` (both undone: nothing the job wrote remains).
    pub status: String,
    pub dry_run: bool,
    /// skip, update or create.
    pub on_duplicate: String,
    /// `utf-8` or `windows-1252`.
    pub encoding: String,
    /// `,`, `;` or a tab.
    pub delimiter: String,
    /// Each column of the file and the field it fills (`null`: not imported).
    #[schema(value_type = Object)]
    pub mapping: BTreeMap<String, Option<String>>,
    /// Columns whose data is not imported.
    pub unmapped_columns: Vec<String>,
    /// Rows in the file (after the header).
    pub total: i64,
    pub processed: i64,
    pub created: i64,
    pub updated: i64,
    pub skipped: i64,
    /// Rows with errors (not imported).
    pub failed: i64,
    /// Customers created to link imported contacts to their company.
    pub linked_customers: i64,
    /// The first 1,000 problems; `errors_total` counts all, the error CSV lists all.
    pub errors: Vec<RowError>,
    pub errors_total: i64,
    pub message: Option<String>,
    pub created_at: String,
    pub finished_at: Option<String>,
}

/// A problem with a row: its line in the file, the column (or `row`) and what is wrong.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RowError {
    pub row: i64,
    pub field: String,
    pub message: String,
}

/// Creates the job and returns its id (status `staged`, no rows yet).
pub fn create(
    conn: &Connection,
    actor: &Actor,
    request: &Request,
    prepared: &Prepared,
) -> AppResult<String> {
    actor.require(Capability::ImportCsv)?;
    let id = new_id();
    let source = &prepared.source;
    conn.prepare_cached(
        "INSERT INTO imports (id, entity, filename, status, dry_run, on_duplicate, encoding,
                              delimiter, headers, mapping, total, created_by, created_at,
                              runner)
         VALUES (?1, ?2, ?3, 'staged', ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
    )?
    .execute(params![
        id,
        request.entity.plural(),
        clean_filename(&request.filename),
        request.dry_run,
        request.on_duplicate.name(),
        source.encoding,
        (source.delimiter as char).to_string(),
        serde_json::to_string(&source.headers).map_err(AppError::internal)?,
        serde_json::to_string(&prepared.mapping.to_json(&source.headers))
            .map_err(AppError::internal)?,
        prepared.total as i64,
        actor.user_id,
        Timestamp::now().to_stored(),
        this_runner(),
    ])?;
    Ok(id)
}

/// Stages rows, and reports the records that could not be read as errors (processed).
fn stage(
    conn: &Connection,
    id: &str,
    rows: &[Result<reader::Row, reader::BadRow>],
) -> AppResult<()> {
    let mut insert = conn
        .prepare_cached("INSERT INTO import_rows (import_id, line, cells) VALUES (?1, ?2, ?3)")?;
    let mut unreadable = 0;
    for row in rows {
        match row {
            Ok(row) => {
                let cells = serde_json::to_string(&row.cells).map_err(AppError::internal)?;
                insert.execute(params![id, row.line as i64, cells])?;
            }
            Err(bad) => {
                unreadable += 1;
                let error = CellError {
                    field: "row".into(),
                    message: bad.message.clone(),
                };
                add_error(conn, id, bad.line as i64, &error)?;
            }
        }
    }
    conn.execute(
        "UPDATE imports SET failed_rows = failed_rows + ?2, processed = processed + ?2
          WHERE id = ?1",
        params![id, unreadable],
    )?;
    Ok(())
}

/// Stages every row of `prepared`, a few thousand per transaction, reading the file as it
/// goes (memory holds the file once and one batch of rows), with a checkpoint after each
/// batch so the WAL does not grow by the size of the file (see [`Db::checkpoint`]).
fn stage_all(db: &Db, id: &str, prepared: Prepared) -> AppResult<()> {
    let mut rows = prepared.source.rows().peekable();
    while rows.peek().is_some() {
        let batch: Vec<_> = rows.by_ref().take(STAGE_ROWS).collect();
        let id = id.to_owned();
        db.write_blocking(move |conn| stage(conn, &id, &batch))?;
        db.checkpoint()?;
    }
    Ok(())
}

/// Stages `rows` (when given; a committed dry run has them already) and runs the job `id`
/// to its end on the calling thread (never an async worker), calling
/// `progress(processed, total)` after each chunk. A database failure or a cancellation
/// undoes whatever the job wrote; the status says so.
pub fn run(
    db: &Db,
    id: &str,
    actor: Actor,
    base_currency: Currency,
    rows: Option<Prepared>,
    progress: impl Fn(i64, i64),
) -> AppResult<ImportStatus> {
    let staged = rows.map_or(Ok(()), |p| stage_all(db, id, p));
    if let Err(e) = staged.and_then(|()| apply_all(db, id, actor, base_currency, &progress)) {
        tracing::error!(import = id, %e, "import failed; undoing it");
        undo(db, id, "failed", FAILED)?;
    }
    let id = id.to_owned();
    let status = db.write_blocking(move |conn| status(conn, &id))?;
    progress(status.processed, status.total);
    Ok(status)
}

/// Runs the job `id` on a thread of its own, as [`run`] does (staging `prepared` first when
/// given), for callers that answer while it works and are asked about it later.
pub fn spawn(
    db: Db,
    id: String,
    actor: Actor,
    base_currency: Currency,
    prepared: Option<Prepared>,
) {
    let spawned = std::thread::Builder::new()
        .name("import".into())
        .spawn(move || {
            if let Err(e) = run(&db, &id, actor, base_currency, prepared, |_, _| {}) {
                tracing::error!(import = %id, %e, "import stopped");
            }
        });
    if let Err(e) = spawned {
        tracing::error!(%e, "cannot start an import thread");
    }
}

/// What a job that failed says.
const FAILED: &str = "Failed on a database error; everything the import wrote was undone.";

/// Works through the staged rows chunk by chunk; a cancellation undoes the job.
fn apply_all(
    db: &Db,
    id: &str,
    actor: Actor,
    base_currency: Currency,
    progress: &impl Fn(i64, i64),
) -> AppResult<()> {
    let mut job = {
        let id = id.to_owned();
        db.write_blocking(move |conn| start(conn, &id, actor, base_currency))?
    };
    let dry_run = job.dry_run;
    let mut after = 0i64;
    let mut careful = false;
    let mut applied_rows = 0i64;
    loop {
        let id_owned = id.to_owned();
        let started = std::time::Instant::now();
        let step = db.write_alone_blocking(move |conn| {
            let mut job = job;
            // A dry run's chunk is undone: no need to index it.
            let chunk = connection::with_cache(conn, CHUNK_CACHE_KIB, |conn| {
                if dry_run {
                    process_chunk(conn, &id_owned, &mut job, after, careful, CHUNK)
                } else {
                    search::deferred(conn, |conn| {
                        process_chunk(conn, &id_owned, &mut job, after, careful, CHUNK)
                    })
                }
            })??;
            // A real chunk commits with its progress; a dry run's is undone (and its
            // progress written apart, below); a chunk to redo is undone either way.
            let keep = !dry_run && matches!(chunk, Chunk::Applied { .. });
            let counts = match &chunk {
                Chunk::Applied { tally, .. } if keep => {
                    Some(record_progress(conn, &id_owned, tally)?)
                }
                _ => None,
            };
            Ok(((job, chunk, counts), keep))
        });
        match step {
            Ok((back, Chunk::Applied { last_line, tally }, counts)) => {
                job = back;
                after = last_line;
                careful = false;
                let (processed, total) = match counts {
                    Some(c) => c,
                    None => {
                        let id = id.to_owned();
                        db.write_blocking(move |conn| record_progress(conn, &id, &tally))?
                    }
                };
                progress(processed, total);
                let written = started.elapsed();
                applied_rows = processed;
                // Keeps the WAL to one chunk's pages however long the file.
                db.checkpoint()?;
                tracing::debug!(import = id, processed, ?written, checkpointed = ?started.elapsed() - written, "import chunk");
            }
            Ok((mut back, Chunk::Redo, _)) => {
                back.undo_chunk();
                job = back;
                careful = true;
            }
            Ok((_, Chunk::Done, _)) => {
                let id_owned = id.to_owned();
                db.write_blocking(move |conn| finish(conn, &id_owned, dry_run))?;
                if !dry_run && applied_rows >= ROWS_BEFORE_COMPACTING {
                    compact_search_index(db)?;
                }
                break;
            }
            Ok((_, Chunk::Cancelled, _)) => {
                undo(
                    db,
                    id,
                    "cancelled",
                    "Cancelled; everything the import wrote was undone.",
                )?;
                break;
            }
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Smaller imports leave FTS5's own merging to tidy up their few segments.
const ROWS_BEFORE_COMPACTING: i64 = 4_000;

/// Merges the segments the import's chunks left in the search index, a step per write job
/// so that the team's own writes go in between. The job already reads as completed.
fn compact_search_index(db: &Db) -> AppResult<()> {
    let started = std::time::Instant::now();
    while db.write_blocking(|conn| Ok(search::compact_step(conn)?))? {}
    tracing::debug!(elapsed = ?started.elapsed(), "search index compacted after an import");
    Ok(())
}

/// What became of a chunk of rows.
enum Chunk {
    Applied {
        last_line: i64,
        tally: Tally,
    },
    /// A row failed after it had written something: run the chunk again, carefully.
    Redo,
    Done,
    Cancelled,
}

/// Marks the job running and builds the row processor from what was stored.
fn start(
    conn: &Connection,
    id: &str,
    actor: Actor,
    base_currency: Currency,
) -> AppResult<rows::Job> {
    let (entity, headers, mapping, policy, dry_run): (String, String, String, String, bool) = conn
        .query_row(
            "SELECT entity, headers, mapping, on_duplicate, dry_run FROM imports WHERE id = ?1",
            [id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
        )
        .optional()?
        .ok_or(AppError::NotFound)?;
    let kind = Entity::parse(&entity)
        .ok_or_else(|| AppError::internal("import of an unknown entity"))?
        .kind();
    let headers: Vec<String> = serde_json::from_str(&headers).map_err(AppError::internal)?;
    let chosen: BTreeMap<String, Option<String>> =
        serde_json::from_str(&mapping).map_err(AppError::internal)?;
    let mapping = Mapping::with_overrides(kind, &headers, &chosen)?;
    let policy = OnDuplicate::parse(&policy).unwrap_or(OnDuplicate::Skip);
    conn.execute(
        "UPDATE imports SET status = 'running', runner = ?2 WHERE id = ?1",
        params![id, this_runner()],
    )?;
    Ok(rows::Job::new(
        kind,
        headers,
        mapping,
        policy,
        dry_run,
        actor,
        base_currency,
    ))
}

/// Applies the next chunk of staged rows after line `after`.
///
/// Rows run without savepoints: one would make FTS5 flush its pending terms (a segment
/// per row, merged over and over) and every later statement walk the journal back. A row
/// whose checks fail has written nothing (validation comes before writing), so it is
/// simply reported. Should a row fail after writing something, the chunk answers `Redo`
/// and runs again `careful`ly, each row in a savepoint of its own.
fn process_chunk(
    conn: &Connection,
    id: &str,
    job: &mut rows::Job,
    after: i64,
    careful: bool,
    budget: ChunkBudget,
) -> AppResult<Chunk> {
    let cancel: bool = conn.query_row(
        "SELECT cancel_requested FROM imports WHERE id = ?1",
        [id],
        |r| r.get(0),
    )?;
    if cancel {
        return Ok(Chunk::Cancelled);
    }
    let staged: Vec<(i64, String)> = conn
        .prepare_cached(
            "SELECT line, cells FROM import_rows WHERE import_id = ?1 AND line > ?2
              ORDER BY line LIMIT ?3",
        )?
        .query_map(params![id, after, budget.rows as i64], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })?
        .collect::<Result<_, _>>()?;
    if staged.is_empty() {
        return Ok(Chunk::Done);
    }
    job.begin_chunk();
    let mut seq: i64 = conn.query_row(
        "SELECT coalesce(max(seq), 0) FROM import_records WHERE import_id = ?1",
        [id],
        |r| r.get(0),
    )?;
    let mut tally = Tally::default();
    let mut last_line = after;
    let started = Instant::now();
    for (line, cells) in staged {
        // At least one row, however slow the machine.
        if tally.processed > 0 && started.elapsed() > budget.time {
            break;
        }
        last_line = line;
        let cells: Vec<String> = serde_json::from_str(&cells).map_err(AppError::internal)?;
        if careful {
            conn.execute_batch("SAVEPOINT import_row")?;
        }
        job.linked.clear();
        let changes_before = conn.total_changes();
        let result = job.apply(conn, &cells);
        if careful {
            let keep = matches!(result, Ok(Ok(_))) && !job.dry_run;
            conn.execute_batch(if keep {
                "RELEASE import_row"
            } else {
                "ROLLBACK TO import_row; RELEASE import_row"
            })?;
        } else if matches!(result, Ok(Err(_))) && conn.total_changes() != changes_before {
            return Ok(Chunk::Redo);
        }
        match result? {
            Ok(outcome) => {
                if !job.dry_run {
                    for linked in &job.linked {
                        seq += 1;
                        note_record(conn, id, seq, Kind::Customer, linked, None)?;
                    }
                }
                tally.linked += job.linked.len() as i64;
                match outcome {
                    Outcome::Created { id: record } => {
                        tally.created += 1;
                        if !job.dry_run {
                            seq += 1;
                            note_record(conn, id, seq, job.kind, &record, None)?;
                        }
                    }
                    Outcome::Updated { id: record, before } => {
                        tally.updated += 1;
                        if !job.dry_run {
                            seq += 1;
                            note_record(conn, id, seq, job.kind, &record, Some(&before))?;
                        }
                    }
                    Outcome::Skipped { .. } => tally.skipped += 1,
                }
            }
            Err(errors) => {
                tally.failed += 1;
                tally.errors.extend(errors.into_iter().map(|e| (line, e)));
            }
        }
        tally.processed += 1;
    }
    Ok(Chunk::Applied { last_line, tally })
}

/// Adds a chunk's counts and errors to the job; answers (processed, total).
fn record_progress(conn: &Connection, id: &str, tally: &Tally) -> AppResult<(i64, i64)> {
    for (line, e) in &tally.errors {
        add_error(conn, id, *line, e)?;
    }
    Ok(conn.query_row(
        "UPDATE imports SET processed = processed + ?2, created = created + ?3,
                updated = updated + ?4, skipped = skipped + ?5, failed_rows = failed_rows + ?6,
                linked = linked + ?7
          WHERE id = ?1 RETURNING processed, total",
        params![
            id,
            tally.processed,
            tally.created,
            tally.updated,
            tally.skipped,
            tally.failed,
            tally.linked
        ],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?)
}

#[derive(Default)]
struct Tally {
    processed: i64,
    created: i64,
    updated: i64,
    skipped: i64,
    failed: i64,
    linked: i64,
    errors: Vec<(i64, CellError)>,
}

fn note_record(
    conn: &Connection,
    import: &str,
    seq: i64,
    kind: Kind,
    id: &str,
    before: Option<&str>,
) -> AppResult<()> {
    conn.prepare_cached(
        "INSERT INTO import_records (import_id, seq, kind, id, before) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![import, seq, kind.name(), id, before])?;
    Ok(())
}

fn add_error(conn: &Connection, id: &str, line: i64, e: &CellError) -> AppResult<()> {
    conn.prepare_cached(
        "INSERT INTO import_errors (import_id, line, field, message) VALUES (?1, ?2, ?3, ?4)",
    )?
    .execute(params![id, line, e.field, e.message])?;
    Ok(())
}

/// Ends a job that went through every row. A real job is audited as one import event (the
/// records have their own entries) and keeps only the staged rows that had errors, for the
/// error CSV; a dry run keeps them all, so it can be committed without a new upload.
fn finish(conn: &Connection, id: &str, dry_run: bool) -> AppResult<()> {
    let now = Timestamp::now().to_stored();
    let status = if dry_run { "validated" } else { "completed" };
    conn.execute(
        "UPDATE imports SET status = ?2, finished_at = ?3, runner = NULL WHERE id = ?1",
        params![id, status, now],
    )?;
    if dry_run {
        return Ok(());
    }
    conn.execute(
        "DELETE FROM import_rows WHERE import_id = ?1
            AND line NOT IN (SELECT line FROM import_errors WHERE import_id = ?1)",
        [id],
    )?;
    conn.execute("DELETE FROM import_records WHERE import_id = ?1", [id])?;
    let summary = status_in(conn, id, 0)?;
    audit::record(
        conn,
        Entry::new(
            summary_actor(conn, id)?.as_deref(),
            "import.complete",
            "import",
        )
        .entity(id)
        .after(&serde_json::json!({
            "entity": summary.entity,
            "filename": summary.filename,
            "total": summary.total,
            "created": summary.created,
            "updated": summary.updated,
            "skipped": summary.skipped,
            "failed": summary.failed,
            "linked_customers": summary.linked_customers,
        })),
    )
}

fn summary_actor(conn: &Connection, id: &str) -> AppResult<Option<String>> {
    Ok(
        conn.query_row("SELECT created_by FROM imports WHERE id = ?1", [id], |r| {
            r.get(0)
        })?,
    )
}

/// Undoes everything job `id` wrote, newest first, a chunk per transaction, then marks it
/// `final_status`. Safe to repeat after a crash: each chunk forgets what it undid.
pub fn undo(db: &Db, id: &str, final_status: &'static str, message: &'static str) -> AppResult<()> {
    {
        let id = id.to_owned();
        db.write_blocking(move |conn| {
            conn.execute(
                "UPDATE imports SET status = 'rolling_back', runner = ?2 WHERE id = ?1",
                params![id, this_runner()],
            )?;
            Ok(())
        })?;
    }
    loop {
        let id = id.to_owned();
        let undone = db.write_blocking(move |conn| undo_chunk(conn, &id))?;
        if undone == 0 {
            break;
        }
    }
    let id = id.to_owned();
    db.write_blocking(move |conn| {
        conn.execute(
            "UPDATE imports SET status = ?2, message = ?3, finished_at = ?4, runner = NULL
              WHERE id = ?1",
            params![id, final_status, message, Timestamp::now().to_stored()],
        )?;
        conn.execute("DELETE FROM import_rows WHERE import_id = ?1", [&id])?;
        audit::record(
            conn,
            Entry::new(
                summary_actor(conn, &id)?.as_deref(),
                "import.undo",
                "import",
            )
            .entity(&id)
            .after(&serde_json::json!({ "status": final_status })),
        )
    })
}

fn undo_chunk(conn: &Connection, import: &str) -> AppResult<usize> {
    let actor = summary_actor(conn, import)?;
    let written: Vec<(i64, String, String, Option<String>)> = conn
        .prepare_cached(
            "SELECT seq, kind, id, before FROM import_records WHERE import_id = ?1
              ORDER BY seq DESC LIMIT ?2",
        )?
        .query_map(params![import, UNDO_ROWS as i64], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })?
        .collect::<Result<_, _>>()?;
    for (seq, kind, id, before) in &written {
        let kind = Kind::parse(kind).ok_or_else(|| AppError::internal("unknown record kind"))?;
        let exists = conn
            .query_row(
                &format!("SELECT 1 FROM {} WHERE id = ?1", kind.table()),
                [id],
                |_| Ok(()),
            )
            .optional()?
            .is_some();
        if exists {
            match before {
                None => records::erase(conn, kind, id, actor.as_deref(), "import_undo")?,
                Some(before) => {
                    rows::restore_snapshot(conn, kind, id, before)?;
                    audit::record(
                        conn,
                        Entry::new(
                            actor.as_deref(),
                            &format!("{}.import_undo", kind.name()),
                            kind.name(),
                        )
                        .entity(id),
                    )?;
                }
            }
        }
        if before.is_none() {
            conn.execute("DELETE FROM import_keys WHERE id = ?1", [id])?;
        }
        conn.execute(
            "DELETE FROM import_records WHERE import_id = ?1 AND seq = ?2",
            params![import, seq],
        )?;
    }
    Ok(written.len())
}

/// Who works on a job: this process's id and a token drawn when it started (a server
/// restarted in a container usually gets the same pid as the one that crashed).
fn this_runner() -> &'static str {
    static RUNNER: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    RUNNER.get_or_init(|| format!("{}/{}", std::process::id(), new_id()))
}

/// Whether the process named by `runner` is still at work: this one, or another live
/// process (on this machine; the database file is local).
fn runner_alive(runner: &str) -> bool {
    if runner == this_runner() {
        return true;
    }
    match runner.split('/').next().and_then(|p| p.parse::<u32>().ok()) {
        Some(pid) if pid != std::process::id() => process_running(pid),
        // Our pid with another token: a previous life of this process.
        _ => false,
    }
}

/// Whether process `pid` exists and has not ended: a killed process stays listed as a zombie
/// until its parent reaps it, and its job must be undone meanwhile all the same.
fn process_running(pid: u32) -> bool {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return false;
    };
    // `pid (command) state …`: the command may itself contain spaces and parentheses.
    let state = stat
        .rfind(')')
        .and_then(|end| stat[end + 1..].trim_start().chars().next());
    !matches!(state, None | Some('Z' | 'X'))
}

/// Undoes the jobs a process that stopped (crashed, killed, powered off) left unfinished.
/// Called at start by `serve` and `rapport import`; jobs a live process is running are left
/// alone. Returns how many were undone.
pub fn recover(db: &Db) -> AppResult<usize> {
    let stale: Vec<(String, Option<String>)> = db.write_blocking(|conn| {
        Ok(conn
            .prepare(
                "SELECT id, runner FROM imports
                  WHERE status IN ('staged', 'running', 'rolling_back')",
            )?
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<Result<_, _>>()?)
    })?;
    let mut undone = 0;
    for (id, runner) in stale {
        if runner.as_deref().is_some_and(runner_alive) {
            continue;
        }
        tracing::warn!(import = %id, "undoing an import that was interrupted");
        undo(
            db,
            &id,
            "failed",
            "Interrupted (Rapport stopped while it ran); everything the import wrote was undone.",
        )?;
        undone += 1;
    }
    Ok(undone)
}

/// Asks a running job to stop; it undoes itself at its next chunk. 409 when it has ended.
pub fn cancel(conn: &Connection, actor: &Actor, id: &str) -> AppResult<ImportStatus> {
    actor.require(Capability::ImportCsv)?;
    let status = status(conn, id)?;
    if !matches!(status.status.as_str(), "staged" | "running") {
        return Err(AppError::Conflict(format!(
            "This import has ended ({}); there is nothing to cancel.",
            status.status
        )));
    }
    conn.execute(
        "UPDATE imports SET cancel_requested = 1 WHERE id = ?1",
        [id],
    )?;
    Ok(status)
}

/// Turns a validated dry run into a real job over the same staged rows, with a new
/// mapping or policy if given. 409 unless it is a finished dry run.
pub fn commit(
    conn: &Connection,
    actor: &Actor,
    id: &str,
    overrides: Option<&BTreeMap<String, Option<String>>>,
    on_duplicate: Option<OnDuplicate>,
) -> AppResult<()> {
    reset(conn, actor, id, overrides, on_duplicate, false)
}

/// Makes a finished dry run ready to run again over its staged rows, as a real job or as
/// another dry run, with a new mapping or policy if given (422 when the mapping cannot
/// work). 409 unless it is a finished dry run.
fn reset(
    conn: &Connection,
    actor: &Actor,
    id: &str,
    overrides: Option<&BTreeMap<String, Option<String>>>,
    on_duplicate: Option<OnDuplicate>,
    dry_run: bool,
) -> AppResult<()> {
    actor.require(Capability::ImportCsv)?;
    let current = status(conn, id)?;
    if current.status != "validated" {
        return Err(AppError::Conflict(format!(
            "Only a finished dry run can be committed; this import is {}.",
            current.status
        )));
    }
    let kind = Entity::parse(&current.entity)
        .ok_or_else(|| AppError::internal("import of an unknown entity"))?
        .kind();
    let headers: Vec<String> =
        conn.query_row("SELECT headers FROM imports WHERE id = ?1", [id], |r| {
            let raw: String = r.get(0)?;
            Ok(serde_json::from_str(&raw).unwrap_or_default())
        })?;
    let mut chosen = current.mapping.clone();
    if let Some(o) = overrides {
        chosen.extend(o.clone());
    }
    let mapping = Mapping::with_overrides(kind, &headers, &chosen)?;
    let policy = on_duplicate
        .or_else(|| OnDuplicate::parse(&current.on_duplicate))
        .unwrap_or(OnDuplicate::Skip);
    conn.execute(
        "UPDATE imports SET status = 'staged', dry_run = ?6, on_duplicate = ?2, mapping = ?3,
                processed = 0, created = 0, updated = 0, skipped = 0, failed_rows = 0,
                linked = 0, message = NULL, finished_at = NULL, created_by = ?4, runner = ?5
          WHERE id = ?1",
        params![
            id,
            policy.name(),
            serde_json::to_string(&mapping.to_json(&headers)).map_err(AppError::internal)?,
            actor.user_id,
            this_runner(),
            dry_run,
        ],
    )?;
    // Records that could not be read were never staged: their errors stay, counted as
    // processed, since running again cannot change them.
    conn.execute(
        "DELETE FROM import_errors WHERE import_id = ?1
            AND line IN (SELECT line FROM import_rows WHERE import_id = ?1)",
        [id],
    )?;
    conn.execute(
        "UPDATE imports SET failed_rows = (SELECT count(DISTINCT line) FROM import_errors
                                             WHERE import_id = ?1),
                processed = (SELECT count(DISTINCT line) FROM import_errors WHERE import_id = ?1)
          WHERE id = ?1",
        [id],
    )?;
    Ok(())
}

/// The job `id` (404 when there is none).
pub fn status(conn: &Connection, id: &str) -> AppResult<ImportStatus> {
    status_in(conn, id, LISTED_ERRORS)
}

fn status_in(conn: &Connection, id: &str, listed: i64) -> AppResult<ImportStatus> {
    let mut status = conn
        .prepare_cached(
            "SELECT id, entity, filename, status, dry_run, on_duplicate, encoding, delimiter,
                    mapping, total, processed, created, updated, skipped, failed_rows, linked,
                    message, created_at, finished_at,
                    (SELECT count(*) FROM import_errors WHERE import_id = imports.id)
               FROM imports WHERE id = ?1",
        )?
        .query_row([id], |r| {
            let mapping: String = r.get(8)?;
            let mapping: BTreeMap<String, Option<String>> =
                serde_json::from_str(&mapping).unwrap_or_default();
            let unmapped_columns = mapping
                .iter()
                .filter(|(_, f)| f.is_none())
                .map(|(h, _)| h.clone())
                .filter(|h| !h.is_empty())
                .collect();
            Ok(ImportStatus {
                id: r.get(0)?,
                entity: r.get(1)?,
                filename: r.get(2)?,
                status: r.get(3)?,
                dry_run: r.get(4)?,
                on_duplicate: r.get(5)?,
                encoding: r.get(6)?,
                delimiter: r.get(7)?,
                mapping,
                unmapped_columns,
                total: r.get(9)?,
                processed: r.get(10)?,
                created: r.get(11)?,
                updated: r.get(12)?,
                skipped: r.get(13)?,
                failed: r.get(14)?,
                linked_customers: r.get(15)?,
                errors: Vec::new(),
                message: r.get(16)?,
                created_at: r.get(17)?,
                finished_at: r.get(18)?,
                errors_total: r.get(19)?,
            })
        })
        .optional()?
        .ok_or(AppError::NotFound)?;
    status.errors = conn
        .prepare_cached(
            "SELECT line, field, message FROM import_errors WHERE import_id = ?1
              ORDER BY line, rowid LIMIT ?2",
        )?
        .query_map(params![id, listed], |r| {
            Ok(RowError {
                row: r.get(0)?,
                field: r.get(1)?,
                message: r.get(2)?,
            })
        })?
        .collect::<Result<_, _>>()?;
    Ok(status)
}

/// The rows that had errors, as a CSV to fix and upload again: the file's own columns
/// first (so it maps the same way), then `Line` and `Errors`.
pub fn write_error_csv(conn: &Connection, id: &str, out: impl std::io::Write) -> AppResult<u64> {
    let headers: String = conn
        .query_row("SELECT headers FROM imports WHERE id = ?1", [id], |r| {
            r.get(0)
        })
        .optional()?
        .ok_or(AppError::NotFound)?;
    let headers: Vec<String> = serde_json::from_str(&headers).map_err(AppError::internal)?;
    let mut csv = csv::Writer::from_writer(out);
    let csv_error = |e: csv::Error| AppError::internal(e);
    let mut header_row = headers.clone();
    header_row.extend(["Line".to_owned(), "Errors".to_owned()]);
    csv.write_record(&header_row).map_err(csv_error)?;
    let mut stmt = conn.prepare(
        "SELECT e.line, group_concat(e.field || ': ' || e.message, '; '), r.cells
           FROM import_errors e
           LEFT JOIN import_rows r ON r.import_id = e.import_id AND r.line = e.line
          WHERE e.import_id = ?1 GROUP BY e.line ORDER BY e.line",
    )?;
    let mut rows = stmt.query([id])?;
    let mut n = 0;
    while let Some(row) = rows.next()? {
        let line: i64 = row.get(0)?;
        let message: String = row.get(1)?;
        let cells: Option<String> = row.get(2)?;
        let mut record: Vec<String> = cells
            .and_then(|c| serde_json::from_str(&c).ok())
            .unwrap_or_default();
        record.resize(headers.len(), String::new());
        // Opened in a spreadsheet, a formula must stay text; importing strips the `'`.
        let mut record: Vec<String> = record
            .iter()
            .map(|c| crate::domain::exports::neutralise(c).into_owned())
            .collect();
        record.push(line.to_string());
        record.push(message);
        csv.write_record(&record).map_err(csv_error)?;
        n += 1;
    }
    csv.flush().map_err(AppError::internal)?;
    Ok(n)
}

/// The file's name as shown: its last path part, without control characters, at most 200
/// characters.
fn clean_filename(raw: &str) -> String {
    let base = raw.rsplit(['/', '\\']).next().unwrap_or("");
    let clean: String = base.chars().filter(|c| !c.is_control()).take(200).collect();
    if clean.trim().is_empty() {
        "upload.csv".to_owned()
    } else {
        clean
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::actor::Via;
    use crate::auth::permissions::Role;
    use crate::db::DbOptions;

    fn admin(db: &Db) -> Actor {
        db.write_blocking(|conn| {
            conn.execute(
                "INSERT INTO users (id, email, name, role, password_hash, password_changed_at,
                                    created_at, updated_at)
                 VALUES ('u1', 'admin@example.com', 'Admin', 'admin', 'x', '2026-01-01',
                         '2026-01-01', '2026-01-01')",
                [],
            )?;
            Ok(())
        })
        .unwrap();
        Actor {
            user_id: "u1".into(),
            role: Role::Admin,
            name: "Admin".into(),
            email: "admin@example.com".into(),
            via: Via::CommandLine,
        }
    }

    fn customers(db: &Db) -> i64 {
        db.write_blocking(|conn| {
            Ok(conn.query_row("SELECT count(*) FROM customers", [], |r| r.get(0))?)
        })
        .unwrap()
    }

    /// A database with an import job of `rows` customers staged and not yet started.
    fn staged_customers(dir: &std::path::Path, rows: usize) -> (Db, Actor, String) {
        let db = Db::open(&DbOptions {
            path: dir.join("import.db"),
            readers: 1,
        })
        .unwrap();
        let actor = admin(&db);
        let mut file = String::from("Name,Domain,Tags\n");
        for i in 0..rows {
            file.push_str(&format!("Company {i},c{i}.example,vip\n"));
        }
        let request = Request {
            entity: Entity::parse("customers").unwrap(),
            filename: "big.csv".into(),
            mapping: None,
            on_duplicate: OnDuplicate::Skip,
            dry_run: false,
        };
        let prepared = prepare(&request, file.into_bytes()).unwrap();
        let job_actor = actor.clone();
        let (id, prepared) = db
            .write_blocking(move |conn| {
                let id = create(conn, &job_actor, &request, &prepared)?;
                Ok((id, prepared))
            })
            .unwrap();
        stage_all(&db, &id, prepared).unwrap();
        (db, actor, id)
    }

    /// A chunk whose time is up stops after the row at hand, yet always applies one row, so
    /// that a slow machine still gets through the file.
    #[test]
    fn a_chunk_stops_when_its_time_is_up_but_always_makes_progress() {
        let dir = tempfile::tempdir().unwrap();
        let (db, actor, id) = staged_customers(dir.path(), 3);
        let no_time = ChunkBudget {
            rows: 500,
            time: Duration::ZERO,
        };
        let lines = db
            .write_blocking(move |conn| {
                let mut job = start(conn, &id, actor, Currency::usd())?;
                let mut after = 0;
                let mut lines = Vec::new();
                while let Chunk::Applied { last_line, tally } =
                    process_chunk(conn, &id, &mut job, after, false, no_time)?
                {
                    assert_eq!(tally.created, 1);
                    lines.push(last_line);
                    after = last_line;
                }
                Ok(lines)
            })
            .unwrap();
        assert_eq!(lines, [2, 3, 4], "one row per chunk, header on line 1");
        assert_eq!(customers(&db), 3);
    }

    /// A job with chunks committed, as a crash leaves it (status `running`, its process
    /// gone), is undone completely by the next start; one a live process runs is left alone.
    /// A dead process with our pid (containers reuse them) is told apart by its token.
    #[test]
    fn a_job_cut_short_by_a_crash_is_undone_at_the_next_start() {
        // Chunks of a fixed size, however slowly the test runs.
        let budget = ChunkBudget {
            rows: 500,
            time: Duration::from_secs(3600),
        };
        let dir = tempfile::tempdir().unwrap();
        let (db, actor, id) = staged_customers(dir.path(), budget.rows * 3);
        let job_id = id.clone();
        db.write_blocking(move |conn| {
            let mut job = start(conn, &job_id, actor, Currency::usd())?;
            let chunk = process_chunk(conn, &job_id, &mut job, 0, false, budget)?;
            let Chunk::Applied { tally, .. } = chunk else {
                panic!("the first chunk applies");
            };
            assert_eq!(
                record_progress(conn, &job_id, &tally)?.0,
                budget.rows as i64
            );
            Ok(())
        })
        .unwrap();
        assert_eq!(customers(&db), budget.rows as i64);

        let set_runner = |runner: String| {
            let id = id.clone();
            db.write_blocking(move |conn| {
                conn.execute(
                    "UPDATE imports SET runner = ?2 WHERE id = ?1",
                    params![id, runner],
                )?;
                Ok(())
            })
            .unwrap();
        };
        set_runner(this_runner().to_owned()); // this process, at work
        assert_eq!(recover(&db).unwrap(), 0);
        set_runner("1/another-process".into()); // init: alive, and not this process
        assert_eq!(recover(&db).unwrap(), 0);
        assert_eq!(customers(&db), budget.rows as i64);

        // This pid with another token: the process that crashed had the same pid (as a
        // restarted container's server does).
        set_runner(format!("{}/crashed", std::process::id()));
        assert_eq!(recover(&db).unwrap(), 1);
        assert_eq!(customers(&db), 0);
        let id2 = id.clone();
        let (status, leftovers, chain) = db
            .write_blocking(move |conn| {
                let leftovers: i64 = conn.query_row(
                    "SELECT (SELECT count(*) FROM import_records) + (SELECT count(*) FROM import_keys)
                          + (SELECT count(*) FROM customer_tags) + (SELECT count(*) FROM search_docs)",
                    [],
                    |r| r.get(0),
                )?;
                Ok((status(conn, &id2)?, leftovers, audit::verify_chain(conn)?))
            })
            .unwrap();
        assert_eq!(status.status, "failed");
        assert!(status.message.unwrap().contains("Interrupted"));
        assert_eq!(leftovers, 0);
        assert!(chain.is_empty(), "{chain:?}");
        assert_eq!(recover(&db).unwrap(), 0, "undone once");
    }

    /// A killed runner is dead even while it lingers as a zombie its parent has not reaped.
    #[test]
    fn a_zombie_runner_counts_as_stopped() {
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id();
        // Not waited for yet: the child has exited and is a zombie.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        while process_running(pid) && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        assert!(!process_running(pid));
        assert!(!runner_alive(&format!("{pid}/some-token")));
        child.wait().unwrap();
        assert!(process_running(std::process::id()));
    }

    #[test]
    fn filenames_lose_paths_and_control_characters() {
        assert_eq!(clean_filename("../../etc/passwd"), "passwd");
        assert_eq!(clean_filename("C:\\Users\\me\\leads.csv"), "leads.csv");
        assert_eq!(clean_filename("a\u{0}b\nc.csv"), "abc.csv");
        assert_eq!(clean_filename(""), "upload.csv");
    }
}
