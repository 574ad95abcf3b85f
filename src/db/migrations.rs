//! Schema: `schema.sql` is the baseline; later changes are numbered, forward-only migrations
//! embedded below. `PRAGMA user_version` counts the migrations applied. Everything pending
//! is applied in one transaction, so a failure leaves the file exactly as it was.

use rusqlite::{Connection, TransactionBehavior};

/// Marks a file as Rapport's ("RAPT"), so we never migrate someone else's database.
pub const APPLICATION_ID: i32 = 0x5241_5054;

const BASELINE: &str = include_str!("../../schema.sql");

/// Numbered migrations after the baseline, in order. Append only; never edit a shipped one.
const MIGRATIONS: &[(&str, &str)] = &[
    (
        "0001_crm_records",
        include_str!("migrations/0001_crm_records.sql"),
    ),
    ("0002_search", include_str!("migrations/0002_search.sql")),
    (
        "0003_search_by_kind",
        include_str!("migrations/0003_search_by_kind.sql"),
    ),
    ("0004_imports", include_str!("migrations/0004_imports.sql")),
    (
        "0005_search_deferred",
        include_str!("migrations/0005_search_deferred.sql"),
    ),
    (
        "0006_notifications",
        include_str!("migrations/0006_notifications.sql"),
    ),
    (
        "0007_attachments",
        include_str!("migrations/0007_attachments.sql"),
    ),
    (
        "0008_reports",
        // The backfill is also `reports::rebuild`; a later change to the report tables
        // brings its own migration and backfill file.
        concat!(
            include_str!("migrations/0008_reports.sql"),
            include_str!("migrations/0008_reports_backfill.sql")
        ),
    ),
    (
        "0009_reports_local_days",
        // Needs the SQL function `local_day` (db::local_day), as every later backfill does.
        concat!(
            include_str!("migrations/0009_reports_local_days.sql"),
            include_str!("migrations/0009_reports_backfill.sql")
        ),
    ),
    (
        "0010_leads_stage_sorts",
        include_str!("migrations/0010_leads_stage_sorts.sql"),
    ),
    (
        "0011_leads_response_hours",
        include_str!("migrations/0011_leads_response_hours.sql"),
    ),
    (
        "0012_search_gradual_merges",
        include_str!("migrations/0012_search_gradual_merges.sql"),
    ),
    (
        "0013_search_merges_when_idle",
        include_str!("migrations/0013_search_merges_when_idle.sql"),
    ),
];

/// The schema version this binary writes.
pub fn latest_version() -> i32 {
    MIGRATIONS.len() as i32
}

#[derive(Debug, thiserror::Error)]
pub enum MigrationError {
    #[error("{0} is not a Rapport database (unknown application id {1:#x})")]
    NotRapport(String, i32),
    #[error(
        "the database has schema version {found}, newer than this binary's {supported}: run a newer Rapport"
    )]
    TooNew { found: i32, supported: i32 },
    #[error("migration {name} failed, database left unchanged: {source}")]
    Failed {
        name: String,
        source: rusqlite::Error,
    },
    #[error(transparent)]
    Sqlite(#[from] rusqlite::Error),
}

/// What [`migrate`] did.
#[derive(Debug, PartialEq, Eq)]
pub struct MigrationReport {
    pub created: bool,
    pub from: i32,
    pub to: i32,
}

pub fn current_version(conn: &Connection) -> rusqlite::Result<i32> {
    conn.pragma_query_value(None, "user_version", |r| r.get(0))
}

/// Whether this is a Rapport database holding data that [`migrate`] would upgrade (not a
/// new file, which gets the baseline, nor a foreign or too new one, which it refuses).
pub fn upgrade_pending(conn: &Connection) -> rusqlite::Result<bool> {
    let app_id: i32 = conn.pragma_query_value(None, "application_id", |r| r.get(0))?;
    Ok(app_id == APPLICATION_ID && current_version(conn)? < latest_version())
}

/// Brings the database to [`latest_version`], creating the baseline on an empty file.
pub fn migrate(conn: &mut Connection, label: &str) -> Result<MigrationReport, MigrationError> {
    apply(conn, label, MIGRATIONS)
}

/// A database as an older Rapport left it, for tests of upgrades.
#[cfg(test)]
pub(crate) fn migrate_to(conn: &mut Connection, version: usize) -> Result<(), MigrationError> {
    apply(conn, "test", &MIGRATIONS[..version]).map(|_| ())
}

fn apply(
    conn: &mut Connection,
    label: &str,
    migrations: &[(&str, &str)],
) -> Result<MigrationReport, MigrationError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let app_id: i32 = tx.pragma_query_value(None, "application_id", |r| r.get(0))?;
    let objects: i64 = tx.query_row("SELECT count(*) FROM sqlite_schema", [], |r| r.get(0))?;
    let created = app_id == 0 && objects == 0;
    if !created && app_id != APPLICATION_ID {
        return Err(MigrationError::NotRapport(label.to_owned(), app_id));
    }
    if created {
        tx.execute_batch(BASELINE)
            .map_err(|source| MigrationError::Failed {
                name: "baseline schema.sql".into(),
                source,
            })?;
        tx.pragma_update(None, "application_id", APPLICATION_ID)?;
    }
    let from = current_version(&tx)?;
    let supported = migrations.len() as i32;
    if from > supported {
        return Err(MigrationError::TooNew {
            found: from,
            supported,
        });
    }
    for (name, sql) in &migrations[from as usize..] {
        tx.execute_batch(sql)
            .map_err(|source| MigrationError::Failed {
                name: (*name).to_owned(),
                source,
            })?;
    }
    tx.pragma_update(None, "user_version", supported)?;
    tx.commit()?;
    Ok(MigrationReport {
        created,
        from,
        to: supported,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fresh_database_gets_baseline_and_latest_version() {
        let mut conn = crate::db::connection::open_in_memory().unwrap();
        let report = migrate(&mut conn, "mem").unwrap();
        assert!(report.created);
        assert_eq!(report.to, latest_version());
        assert_eq!(current_version(&conn).unwrap(), latest_version());
        let users: i64 = conn
            .query_row("SELECT count(*) FROM users", [], |r| r.get(0))
            .unwrap();
        assert_eq!(users, 0);
    }

    #[test]
    fn migrating_twice_is_a_no_op() {
        let mut conn = crate::db::connection::open_in_memory().unwrap();
        migrate(&mut conn, "mem").unwrap();
        let again = migrate(&mut conn, "mem").unwrap();
        assert!(!again.created);
        assert_eq!(again.from, again.to);
    }

    #[test]
    fn refuses_foreign_database() {
        let mut conn = crate::db::connection::open_in_memory().unwrap();
        conn.execute_batch("CREATE TABLE t(x)").unwrap();
        let err = migrate(&mut conn, "mem").unwrap_err();
        assert!(matches!(err, MigrationError::NotRapport(_, 0)));
        // and left it alone
        let n: i64 = conn
            .query_row("SELECT count(*) FROM sqlite_schema", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, 1);
    }

    #[test]
    fn refuses_database_from_the_future() {
        let mut conn = crate::db::connection::open_in_memory().unwrap();
        migrate(&mut conn, "mem").unwrap();
        conn.pragma_update(None, "user_version", latest_version() + 1)
            .unwrap();
        let err = migrate(&mut conn, "mem").unwrap_err();
        assert!(matches!(err, MigrationError::TooNew { .. }));
    }

    #[test]
    fn failed_migration_leaves_database_as_it_was() {
        let mut conn = crate::db::connection::open_in_memory().unwrap();
        migrate(&mut conn, "mem").unwrap();
        let before = current_version(&conn).unwrap();
        let mut chain = MIGRATIONS.to_vec();
        chain.push(("9001_good", "CREATE TABLE added_by_good(x)"));
        chain.push(("9002_bad", "CREATE TABLE oops(; nonsense"));
        let err = apply(&mut conn, "mem", &chain).unwrap_err();
        assert!(matches!(err, MigrationError::Failed { ref name, .. } if name == "9002_bad"));
        assert_eq!(current_version(&conn).unwrap(), before);
        let leaked: i64 = conn
            .query_row(
                "SELECT count(*) FROM sqlite_schema WHERE name = 'added_by_good'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(leaked, 0);
    }
}
