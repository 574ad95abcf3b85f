//! `local_day(time)`: the SQL function the report triggers and their rebuild key figures by
//! (migration 0009). It answers the local date (`2026-02-28`) of a stored UTC time in the
//! zone the database's report tables are built for, which the database remembers (the
//! setting `reports_timezone`, UTC when absent). Every connection Rapport opens registers it
//! in that zone (`connection::apply_pragmas`), so a command-line import writes under the
//! same days as the server; `serve` moves the tables to its `--timezone` with [`adopt`].
//!
//! It runs on every write that moves a figure: the zone is resolved once per connection,
//! and a call allocates nothing. Measured in a debug build (`a_call_is_cheap`): about
//! 2.5 µs a call through SQLite, 1 µs of it in `Zone::local_day`; a write that moves a
//! lead's figures makes two to eight calls, next to a write that costs far more.

use rusqlite::functions::{Context, FunctionFlags};
use rusqlite::types::{ToSqlOutput, ValueRef};
use rusqlite::{Connection, OptionalExtension, ToSql, TransactionBehavior};

use crate::domain::clock::{Day, Zone};
use crate::domain::{reports, settings};
use crate::error::AppResult;

/// The setting naming the zone the report tables are built for.
pub const SETTING: &str = "reports_timezone";

/// Registers `local_day` in `zone` on `conn`, replacing an earlier registration.
pub fn register(conn: &Connection, zone: Zone) -> rusqlite::Result<()> {
    conn.create_scalar_function(
        "local_day",
        1,
        // Deterministic for the connection's life: the zone only changes with `adopt`,
        // which rebuilds everything computed with the old one.
        FunctionFlags::SQLITE_UTF8
            | FunctionFlags::SQLITE_DETERMINISTIC
            | FunctionFlags::SQLITE_INNOCUOUS,
        move |ctx| local_day(&zone, ctx),
    )
}

/// `NULL` for `NULL`; an error for anything that is not a time, so a malformed value
/// fails its write instead of filing a figure under a made-up day.
fn local_day(zone: &Zone, ctx: &Context<'_>) -> rusqlite::Result<Option<DayText>> {
    match ctx.get_raw(0) {
        ValueRef::Null => Ok(None),
        ValueRef::Text(text) => zone
            .local_day(text)
            .map(|d| Some(DayText(d)))
            .ok_or_else(|| {
                rusqlite::Error::UserFunctionError(
                    format!(
                        "local_day: {:?} is not an RFC 3339 time",
                        String::from_utf8_lossy(text)
                    )
                    .into(),
                )
            }),
        other => Err(rusqlite::Error::UserFunctionError(
            format!("local_day: expected a time, got {}", other.data_type()).into(),
        )),
    }
}

/// The day as SQL text, copied by SQLite straight from the stack.
struct DayText(Day);

impl ToSql for DayText {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::Borrowed(ValueRef::Text(self.0.as_bytes())))
    }
}

/// The zone the database's report tables are built for: UTC for a new database and for
/// one from before the setting (whose UTC days were the only kind).
pub fn database_zone(conn: &Connection) -> rusqlite::Result<Zone> {
    let has_settings: bool = conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = 'settings')",
        [],
        |r| r.get(0),
    )?;
    if !has_settings {
        return Ok(Zone::utc());
    }
    let name: Option<String> = conn
        .query_row(
            "SELECT value FROM settings WHERE key = ?1",
            [SETTING],
            |r| r.get(0),
        )
        .optional()?;
    match name {
        None => Ok(Zone::utc()),
        Some(name) => Zone::parse(&name).map_err(|e| {
            rusqlite::Error::UserFunctionError(
                format!("the database's report tables are built for an {e}").into(),
            )
        }),
    }
}

/// Makes `zone` the one the report tables are built for: when they were built for another,
/// rebuilds them in one transaction and remembers `zone`, answering the zone they had.
/// Callers make sure no other process writes meanwhile (`serve` holds the lock exclusively).
pub fn adopt(conn: &mut Connection, zone: &Zone) -> AppResult<Option<Zone>> {
    let built = database_zone(conn)?;
    if built == *zone {
        return Ok(None);
    }
    let rebuilt = (|| {
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        register(&tx, zone.clone())?;
        settings::put(&tx, SETTING, zone.name())?;
        reports::rebuild(&tx)?;
        tx.commit()?;
        AppResult::Ok(())
    })();
    if let Err(err) = rebuilt {
        // Rolled back: the connection keeps the zone its tables are still built for.
        register(conn, built)?;
        return Err(err);
    }
    Ok(Some(built))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::connection;

    fn day(conn: &Connection, at: Option<&str>) -> rusqlite::Result<Option<String>> {
        conn.query_row("SELECT local_day(?1)", [at], |r| r.get(0))
    }

    #[test]
    fn answers_the_local_day_null_for_null_and_refuses_what_is_no_time() {
        let conn = Connection::open_in_memory().unwrap();
        register(&conn, Zone::parse("America/New_York").unwrap()).unwrap();
        let at = Some("2026-03-01T02:00:00.000Z");
        assert_eq!(day(&conn, at).unwrap().as_deref(), Some("2026-02-28"));
        assert_eq!(day(&conn, None).unwrap(), None);
        let err = day(&conn, Some("last tuesday")).unwrap_err().to_string();
        assert!(err.contains("not an RFC 3339 time"), "{err}");
        let err = conn
            .query_row("SELECT local_day(42)", [], |r| r.get::<_, String>(0))
            .unwrap_err()
            .to_string();
        assert!(err.contains("expected a time"), "{err}");
        // Registered again, it answers in the new zone.
        register(&conn, Zone::parse("Asia/Kolkata").unwrap()).unwrap();
        assert_eq!(day(&conn, at).unwrap().as_deref(), Some("2026-03-01"));
    }

    #[test]
    fn every_connection_answers_in_the_zone_the_database_remembers() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("rapport.db");
        let mut conn = crate::db::open_and_migrate(&path).unwrap();
        assert_eq!(database_zone(&conn).unwrap(), Zone::utc());
        let at = Some("2026-03-01T02:00:00.000Z");
        assert_eq!(day(&conn, at).unwrap().as_deref(), Some("2026-03-01"));

        let la = Zone::parse("America/Los_Angeles").unwrap();
        assert_eq!(adopt(&mut conn, &la).unwrap(), Some(Zone::utc()));
        assert_eq!(adopt(&mut conn, &la).unwrap(), None, "once");
        assert_eq!(day(&conn, at).unwrap().as_deref(), Some("2026-02-28"));
        let other = connection::open_existing(&path).unwrap();
        assert_eq!(database_zone(&other).unwrap(), la);
        assert_eq!(day(&other, at).unwrap().as_deref(), Some("2026-02-28"));

        settings::put(&conn, SETTING, "Atlantis/Capital").unwrap();
        let err = connection::open_existing(&path).unwrap_err().to_string();
        assert!(err.contains("Atlantis/Capital"), "{err}");
    }

    /// Migration 0009's triggers call `local_day`: a connection that lacks it (the sqlite3
    /// shell, a tool) cannot write the records the figures come from, rather than filing
    /// them under wrong days.
    #[test]
    fn a_connection_without_the_function_cannot_write_figures() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("rapport.db");
        drop(crate::db::open_and_migrate(&path).unwrap());
        let bare = Connection::open(&path).unwrap();
        let err = bare
            .execute(
                "INSERT INTO tasks (id, title, due_at, created_at, updated_at)
                 VALUES ('t1', 'Call', '2026-03-01T02:00:00.000Z', '2026-03-01T00:00:00.000Z',
                         '2026-03-01T00:00:00.000Z')",
                [],
            )
            .unwrap_err()
            .to_string();
        assert!(err.contains("no such function: local_day"), "{err}");
    }

    /// The cost of one call, through SQLite, printed for the record; it must stay far below
    /// the cost of the write it is part of. Debug builds are ~10× slower than release.
    #[test]
    fn a_call_is_cheap() {
        let conn = Connection::open_in_memory().unwrap();
        register(&conn, Zone::parse("Europe/Berlin").unwrap()).unwrap();
        let calls = 200_000;
        let mut stmt = conn
            .prepare(
                "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < ?1)
                 SELECT count(local_day(strftime('%Y-%m-%dT%H:%M:%fZ', 1767225600 + i * 97, 'unixepoch'))) FROM n",
            )
            .unwrap();
        let mut baseline = conn
            .prepare(
                "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < ?1)
                 SELECT count(substr(strftime('%Y-%m-%dT%H:%M:%fZ', 1767225600 + i * 97, 'unixepoch'), 1, 10)) FROM n",
            )
            .unwrap();
        let time = |stmt: &mut rusqlite::Statement<'_>| {
            let started = std::time::Instant::now();
            let n: i64 = stmt.query_row([calls - 1], |r| r.get(0)).unwrap();
            assert_eq!(n, calls);
            started.elapsed()
        };
        let (with, without) = (time(&mut stmt), time(&mut baseline));
        let per_call = with.saturating_sub(without) / calls as u32;
        eprintln!("local_day: {per_call:?} per call over substr ({with:?} vs {without:?})");
        assert!(
            per_call < std::time::Duration::from_micros(20),
            "{per_call:?}"
        );
    }
}
