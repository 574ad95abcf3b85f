//! An imported record is written once, as its file has it: its history (created, changed,
//! stage entered, closed, completed, author) comes with its INSERT, never a follow-up
//! UPDATE, so its index entries and report figures are made once, in the right place. Its
//! audit entry keeps the real time and actor of the import. And a row that fails has written
//! nothing, so its chunk is not run a second time.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use rusqlite::hooks::Action;
use time::{Date, Month};

use super::*;
use crate::auth::actor::Via;
use crate::auth::permissions::Role;
use crate::db::DbOptions;
use crate::domain::clock::Zone;
use crate::domain::reports::{self, Period, scratch};

/// Rows written per (table, insert/update/delete), as SQLite's update hook reports them
/// (trigger writes included).
type Writes = Arc<Mutex<BTreeMap<(String, &'static str), i64>>>;

struct Fixture {
    _dir: tempfile::TempDir,
    db: Db,
    admin: Actor,
    writes: Writes,
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(&DbOptions {
        path: dir.path().join("history.db"),
        readers: 1,
    })
    .unwrap();
    let writes = Writes::default();
    let hook = Arc::clone(&writes);
    db.write_blocking(move |conn| {
        for (id, role, active) in [("u1", "admin", 1), ("u2", "sales", 1), ("u3", "sales", 0)] {
            conn.execute(
                "INSERT INTO users (id, email, name, role, password_hash, password_changed_at,
                                    created_at, updated_at, active)
                 VALUES (?1, ?1 || '@example.com', upper(?1), ?2, 'x', '2020-01-01',
                         '2020-01-01', '2020-01-01', ?3)",
                rusqlite::params![id, role, active],
            )?;
        }
        // The writer keeps its connection: the hook sees every write of later jobs.
        conn.update_hook(Some(move |action, _: &str, table: &str, _| {
            let what = match action {
                Action::SQLITE_INSERT => "insert",
                Action::SQLITE_UPDATE => "update",
                Action::SQLITE_DELETE => "delete",
                _ => "other",
            };
            *hook
                .lock()
                .unwrap()
                .entry((table.to_owned(), what))
                .or_default() += 1;
        }))?;
        Ok(())
    })
    .unwrap();
    let admin = Actor {
        user_id: "u1".into(),
        role: Role::Admin,
        name: "U1".into(),
        email: "u1@example.com".into(),
        via: Via::CommandLine,
    };
    Fixture {
        _dir: dir,
        db,
        admin,
        writes,
    }
}

impl Fixture {
    /// Imports `file` as `entity` (policy create) and answers its status and the rows the
    /// job wrote to `tables`.
    fn import(
        &self,
        entity: &str,
        file: &str,
        tables: &[&str],
    ) -> (ImportStatus, BTreeMap<String, i64>) {
        let (status, writes) = self.import_with(OnDuplicate::Create, entity, file, tables);
        assert_eq!(status.failed, 0, "{:?}", status.errors);
        (status, writes)
    }

    fn import_with(
        &self,
        policy: OnDuplicate,
        entity: &str,
        file: &str,
        tables: &[&str],
    ) -> (ImportStatus, BTreeMap<String, i64>) {
        let request = Request {
            entity: Entity::parse(entity).unwrap(),
            filename: format!("{entity}.csv"),
            mapping: None,
            on_duplicate: policy,
            dry_run: false,
        };
        let prepared = prepare(&request, file.as_bytes().to_vec()).unwrap();
        let actor = self.admin.clone();
        let (id, prepared) = self
            .db
            .write_blocking(move |conn| Ok((create(conn, &actor, &request, &prepared)?, prepared)))
            .unwrap();
        self.writes.lock().unwrap().clear();
        let status = run(
            &self.db,
            &id,
            self.admin.clone(),
            Currency::usd(),
            Some(prepared),
            |_, _| {},
        )
        .unwrap();
        assert_eq!(status.status, "completed", "{status:?}");
        let writes = self
            .writes
            .lock()
            .unwrap()
            .iter()
            .filter(|((table, _), _)| tables.contains(&table.as_str()))
            .map(|((table, what), n)| (format!("{table} {what}"), *n))
            .collect();
        (status, writes)
    }

    fn query<T: rusqlite::types::FromSql + Send + 'static>(&self, sql: &str) -> Vec<Vec<T>> {
        let sql = sql.to_owned();
        self.db
            .write_blocking(move |conn| {
                let mut stmt = conn.prepare(&sql)?;
                let n = stmt.column_count();
                let rows = stmt
                    .query_map([], |r| (0..n).map(|i| r.get(i)).collect())?
                    .collect::<Result<_, _>>()?;
                Ok(rows)
            })
            .unwrap()
    }

    /// The report tables are what a computation from the records gives: the dashboard
    /// figures over the years of the files, and every table's rows after a rebuild.
    fn assert_reports_match_the_records(&self) {
        self.db
            .write_blocking(|conn| {
                let utc = Zone::utc();
                let today = utc.today();
                let base = Currency::usd();
                for owner in [None, Some("u1"), Some("u2")] {
                    let period = Period {
                        from: Date::from_calendar_date(2023, Month::January, 1).unwrap(),
                        to: today,
                        owner_id: owner.map(str::to_owned),
                        money: true,
                    };
                    let kept = reports::dashboard(conn, &period, &base, &utc, today)?;
                    let fresh = scratch::dashboard(conn, &period, base.as_str(), &utc, today);
                    assert_eq!(kept, fresh, "{owner:?}");
                }
                let before = scratch::report_rows(conn)?;
                reports::rebuild(conn)?;
                assert_eq!(scratch::report_rows(conn)?, before);
                Ok(())
            })
            .unwrap();
    }
}

fn counts(pairs: &[(&str, i64)]) -> BTreeMap<String, i64> {
    pairs.iter().map(|(k, n)| ((*k).to_owned(), *n)).collect()
}

#[test]
fn imported_leads_carry_their_history_from_the_insert() {
    let f = fixture();
    let before = Timestamp::now().to_stored();
    let file = "title,stage,lost_reason,assigned_to,created_at,updated_at,stage_changed_at,closed_at\n\
        Won with every date,won,,u2@example.com,2024-03-01T09:00:00Z,2024-05-02 10:00,2024-04-01,2024-04-15T16:30:00Z\n\
        Lost when created,lost,Price,,2024-06-10T08:00:00Z,,,\n\
        Open but said closed,proposal,,u2,2023-11-20,,,2024-01-01\n\
        Won on the day it moved,won,,,,,2024-02-01T12:00:00Z,\n\
        Nothing but a title,,,,,,,\n\
        Bad dates are ignored,new,,,yesterday,,,\n";
    let (status, writes) = f.import("leads", file, &["leads", "lead_stage_changes"]);
    assert_eq!(status.created, 6);
    // One INSERT per lead and per stage history row; the report triggers fire once each.
    assert_eq!(
        writes,
        counts(&[("leads insert", 6), ("lead_stage_changes insert", 6)])
    );
    let after = Timestamp::now().to_stored();

    let rows: Vec<Vec<Option<String>>> = f.query(
        "SELECT l.title, l.created_at, l.updated_at, l.stage_changed_at, l.closed_at,
                l.created_by, c.at, c.actor_id
           FROM leads l JOIN lead_stage_changes c ON c.lead_id = l.id ORDER BY l.rowid",
    );
    let s = |v: &str| Some(v.to_owned());
    let dated: Vec<_> = rows.iter().take(3).map(|r| r[..6].to_vec()).collect();
    assert_eq!(
        dated,
        [
            [
                s("Won with every date"),
                s("2024-03-01T09:00:00.000Z"),
                s("2024-05-02T10:00:00.000Z"),
                s("2024-04-01T00:00:00.000Z"),
                s("2024-04-15T16:30:00.000Z"),
                s("u1"),
            ],
            [
                s("Lost when created"),
                s("2024-06-10T08:00:00.000Z"),
                s("2024-06-10T08:00:00.000Z"),
                s("2024-06-10T08:00:00.000Z"),
                s("2024-06-10T08:00:00.000Z"),
                s("u1"),
            ],
            [
                s("Open but said closed"),
                s("2023-11-20T00:00:00.000Z"),
                s("2023-11-20T00:00:00.000Z"),
                s("2023-11-20T00:00:00.000Z"),
                None,
                s("u1"),
            ],
        ]
    );
    // Without a created date: created now, in its stage since the file says.
    let moved = &rows[3];
    assert!(moved[1].as_deref() >= Some(before.as_str()) && moved[1] == moved[2]);
    assert_eq!(moved[3].as_deref(), Some("2024-02-01T12:00:00.000Z"));
    assert_eq!(moved[4], moved[3], "closed when it entered the won stage");
    // Without any date (or with ones that do not parse) everything is the time of the import.
    for row in &rows[4..] {
        let now = row[1].as_deref().unwrap();
        assert!((before.as_str()..=after.as_str()).contains(&now), "{row:?}");
        assert_eq!([&row[2], &row[3]], [&row[1], &row[1]]);
        assert_eq!(row[4], None);
    }
    // The stage history starts when the lead entered its stage; the actor is the importer.
    for row in &rows {
        assert_eq!(
            (&row[6], row[7].as_deref()),
            (&row[3], Some("u1")),
            "{row:?}"
        );
    }
    // The audit entries have the real time and actor, and the record as it was written.
    let audit: Vec<Vec<String>> = f.query(
        "SELECT at, actor_id, json_extract(after, '$.created_at') FROM audit_log
          WHERE action = 'lead.create' ORDER BY id",
    );
    assert_eq!(audit.len(), 6);
    for (entry, row) in audit.iter().zip(&rows) {
        assert!((before.as_str()..=after.as_str()).contains(&entry[0].as_str()));
        assert_eq!(entry[1], "u1");
        assert_eq!(Some(&entry[2]), row[1].as_ref());
    }
    f.assert_reports_match_the_records();
}

#[test]
fn imported_tasks_and_activities_carry_their_history_from_the_insert() {
    let f = fixture();
    let before = Timestamp::now().to_stored();
    let (_, _) = f.import(
        "leads",
        "deal id,title,created_at\nD1,Deal,2024-01-05T10:00:00Z\nD2,Other deal,2024-01-06\n",
        &[],
    );
    let file = "title,status,due_at,assigned_to,completed_at,created_at,updated_at,deal id\n\
        Done long ago,completed,2024-02-01T12:00:00Z,u2,2024-02-03T09:30:00Z,2024-01-10T08:00:00Z,2024-02-03T09:30:00Z,D1\n\
        Done some time,completed,,,,2024-01-11,,\n\
        Still to do,pending,2099-01-01T12:00:00Z,u2,2024-02-03,2024-01-12,,D2\n";
    let (status, writes) = f.import("tasks", file, &["tasks", "leads"]);
    assert_eq!(status.created, 3);
    assert_eq!(writes, counts(&[("tasks insert", 3)]));
    let after = Timestamp::now().to_stored();
    let tasks: Vec<Vec<Option<String>>> = f.query(
        "SELECT title, created_at, updated_at, completed_at, completed_by, created_by
           FROM tasks ORDER BY rowid",
    );
    let s = |v: &str| Some(v.to_owned());
    assert_eq!(
        tasks[0],
        [
            s("Done long ago"),
            s("2024-01-10T08:00:00.000Z"),
            s("2024-02-03T09:30:00.000Z"),
            s("2024-02-03T09:30:00.000Z"),
            s("u1"),
            s("u1"),
        ]
    );
    // Completed without a date: at the time of the import.
    assert_eq!(
        tasks[1][1..3],
        [s("2024-01-11T00:00:00.000Z"), s("2024-01-11T00:00:00.000Z")]
    );
    let done = tasks[1][3].as_deref().unwrap();
    assert!((before.as_str()..=after.as_str()).contains(&done));
    // Not completed: a completion date in the file is not kept.
    assert_eq!(tasks[2][3..5], [None, None]);

    let file = "body,kind,occurred_at,created_by,subject_type,subject_id,created_at,updated_at\n\
        Called,call,2024-01-07T15:00:00Z,u2@example.com,deal,D1,2024-01-07T15:05:00Z,2024-01-08T10:00:00Z\n\
        Wrote,email,2024-01-04T15:00:00Z,,deal,D1,2024-01-04T15:05:00Z,\n\
        Met,meeting,,u2,deal,D2,,\n";
    let (status, writes) = f.import("activities", file, &["activities", "leads"]);
    assert_eq!(status.created, 3);
    // Each activity is inserted once, and sets its lead's first activity (none yet, or a
    // later one) through the report trigger.
    assert_eq!(
        writes,
        counts(&[("activities insert", 3), ("leads update", 3)])
    );
    let after = Timestamp::now().to_stored();
    let activities: Vec<Vec<Option<String>>> = f.query(
        "SELECT body, created_at, updated_at, created_by, occurred_at FROM activities
          ORDER BY rowid",
    );
    assert_eq!(
        activities[..2],
        [
            [
                s("Called"),
                s("2024-01-07T15:05:00.000Z"),
                s("2024-01-08T10:00:00.000Z"),
                s("u2"),
                s("2024-01-07T15:00:00.000Z"),
            ],
            [
                s("Wrote"),
                s("2024-01-04T15:05:00.000Z"),
                s("2024-01-04T15:05:00.000Z"),
                s("u1"),
                s("2024-01-04T15:00:00.000Z"),
            ],
        ]
    );
    // No dates: created and happened at the time of the import, by the author in the file.
    let met = &activities[2];
    let now = met[1].as_deref().unwrap();
    assert!((before.as_str()..=after.as_str()).contains(&now));
    assert_eq!([&met[2], &met[4]], [&met[1], &met[1]]);
    assert_eq!(met[3], s("u2"));
    let first: Vec<Vec<Option<String>>> =
        f.query("SELECT first_activity_at FROM leads ORDER BY rowid");
    assert_eq!(first, [[s("2024-01-04T15:00:00.000Z")], [met[4].clone()]]);
    // The audit entries: the importer, now.
    let audit: Vec<Vec<String>> = f.query(
        "SELECT at, actor_id FROM audit_log
          WHERE action IN ('task.create', 'activity.create') ORDER BY id",
    );
    assert_eq!(audit.len(), 6);
    for entry in &audit {
        assert!(entry[0] >= before && entry[0] <= after, "{entry:?}");
        assert_eq!(entry[1], "u1");
    }
    f.assert_reports_match_the_records();
}

/// A link is found by the record's Rapport id or its id in the source system, and only while
/// the record is live.
#[test]
fn links_find_live_records_by_rapport_or_source_ids() {
    let f = fixture();
    f.import(
        "contacts",
        "contact id,first name,created_at\nC1,Ada,2024-01-01\nC2,Bob,\nC3,Cy,\n",
        &[],
    );
    let ids: Vec<Vec<String>> = f.query("SELECT id FROM contacts ORDER BY rowid");
    let (ada, cy) = (ids[0][0].clone(), ids[2][0].clone());
    let admin = f.admin.clone();
    f.db.write_blocking(move |conn| {
        crate::domain::contacts::delete(conn, &admin, &cy, None)?;
        Ok(())
    })
    .unwrap();
    let file = format!(
        "title,contact id\nBy Rapport id,{ada}\nBy source id,C2\nTrashed,C3\nUnknown,C9\n\
         Upper-case id,{}\n",
        ada.to_uppercase()
    );
    let request = Request {
        entity: Entity::parse("leads").unwrap(),
        filename: "leads.csv".into(),
        mapping: None,
        on_duplicate: OnDuplicate::Create,
        dry_run: false,
    };
    let prepared = prepare(&request, file.into_bytes()).unwrap();
    let actor = f.admin.clone();
    let (id, prepared) =
        f.db.write_blocking(move |conn| Ok((create(conn, &actor, &request, &prepared)?, prepared)))
            .unwrap();
    let status = run(
        &f.db,
        &id,
        f.admin.clone(),
        Currency::usd(),
        Some(prepared),
        |_, _| {},
    )
    .unwrap();
    assert_eq!((status.created, status.failed), (2, 3), "{status:?}");
    let errors: Vec<i64> = status.errors.iter().map(|e| e.row).collect();
    assert_eq!(errors, [4, 5, 6]);
    let linked: Vec<Vec<String>> = f.query(
        "SELECT l.title, c.first_name FROM leads l JOIN contacts c ON c.id = l.contact_id
          ORDER BY l.rowid",
    );
    assert_eq!(
        linked,
        [["By Rapport id", "Ada"], ["By source id", "Bob"]].map(|r| r.map(str::to_owned))
    );
}

/// A contact whose company is not there yet creates it, but only once nothing else about the
/// row can fail: a row that wrote and then failed would send its whole chunk round again,
/// every row in a savepoint. What each row reports, and what is created, stay as they were.
#[test]
fn a_contact_row_that_fails_creates_no_company_first() {
    let f = fixture();
    f.import("customers", "name,domain\nAcme,acme.example\n", &[]);
    let long = "L".repeat(201);
    let file = format!(
        "first name,email,title,company,company domain,owner\n\
         Ada,ada@acme.example,,Acme,acme.example,u2\n\
         Bob,bob@globex.example,,Globex,globex.example,u3\n\
         Cy,not-an-email,,Initech,initech.example,u2\n\
         Di,di@umbrella.example,,Umbrella,umbrella.example,\n\
         Ada again,ada@acme.example,{long},Hooli,hooli.example,u2\n\
         Eve,eve@example.com,,{long},,u3\n"
    );
    let (status, writes) = f.import_with(
        OnDuplicate::Skip,
        "contacts",
        &file,
        &["customers", "contacts"],
    );
    // Nothing written and rolled back: each record inserted once, none redone.
    assert_eq!(
        writes,
        counts(&[("customers insert", 2), ("contacts insert", 2)])
    );
    assert_eq!(
        (
            status.created,
            status.skipped,
            status.failed,
            status.linked_customers
        ),
        (2, 1, 3, 2),
        "{status:?}"
    );
    let no_user = |raw: &str| {
        format!("no active user with the e-mail address or id {raw} (create the user first)")
    };
    let errors: Vec<(i64, String, String)> = status
        .errors
        .iter()
        .map(|e| (e.row, e.field.clone(), e.message.clone()))
        .collect();
    assert_eq!(
        errors,
        [
            (3, "owner".to_owned(), no_user("u3")),
            (
                4,
                "email".into(),
                "must be an e-mail address like name@example.com".into()
            ),
            (7, "company".into(), "must be at most 200 characters".into()),
            (7, "owner".into(), no_user("u3")),
        ]
    );
    // The duplicate is skipped, and its company is there for the contact it names.
    let customers: Vec<Vec<String>> = f.query("SELECT name FROM customers ORDER BY rowid");
    assert_eq!(
        customers,
        [["Acme"], ["Umbrella"], ["Hooli"]].map(|r| r.map(str::to_owned))
    );
    let contacts: Vec<Vec<String>> = f.query(
        "SELECT c.first_name, k.name FROM contacts c JOIN customers k ON k.id = c.customer_id
          ORDER BY c.rowid",
    );
    assert_eq!(
        contacts,
        [["Ada", "Acme"], ["Di", "Umbrella"]].map(|r| r.map(str::to_owned))
    );
}
