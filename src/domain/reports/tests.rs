//! The report tables against a from-scratch computation, after random writes through the
//! same domain functions the API uses, in UTC and in zones far from it.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rusqlite::Connection;
use serde_json::json;
use time::{Date, Duration};

use super::{Period, dashboard, rebuild, scratch};
use crate::auth::actor::{Actor, Via};
use crate::auth::permissions::Role;
use crate::db::{Db, DbOptions, connection, local_day};
use crate::domain::clock::Zone;
use crate::domain::currency::Currency;
use crate::domain::exports::Entity;
use crate::domain::records::{self, Kind};
use crate::domain::{activities, imports, leads, tasks};

const USERS: [(&str, Role); 4] = [
    ("admin", Role::Admin),
    ("rep1", Role::Sales),
    ("rep2", Role::Sales),
    ("help", Role::Support),
];

fn actor(id: &str, role: Role) -> Actor {
    Actor {
        user_id: id.into(),
        role,
        name: id.into(),
        email: format!("{id}@example.com"),
        via: Via::CommandLine,
    }
}

/// A database whose report tables are built for `zone`, as `serve --timezone` leaves it.
fn open_db(dir: &tempfile::TempDir, zone: &Zone) -> Db {
    let path = dir.path().join("reports.db");
    let mut conn = crate::db::open_and_migrate(&path).unwrap();
    local_day::adopt(&mut conn, zone).unwrap();
    drop(conn);
    let db = Db::open(&DbOptions { path, readers: 1 }).unwrap();
    db.write_blocking(|conn| {
        for (id, role) in USERS {
            conn.execute(
                "INSERT INTO users (id, email, name, role, password_hash, password_changed_at,
                                    created_at, updated_at)
                 VALUES (?1, ?1 || '@example.com', upper(?1), ?2, 'x', '2026-01-01',
                         '2026-01-01', '2026-01-01')",
                [id, role.as_str()],
            )?;
        }
        Ok(())
    })
    .unwrap();
    db
}

fn input<T: serde::de::DeserializeOwned>(value: serde_json::Value) -> T {
    serde_json::from_value(value).unwrap()
}

fn pick<'a, T>(rng: &mut StdRng, items: &'a [T]) -> Option<&'a T> {
    (!items.is_empty()).then(|| &items[rng.random_range(0..items.len())])
}

fn ids(conn: &Connection, sql: &str) -> Vec<String> {
    conn.prepare(sql)
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

/// One random write. Failures (a lead already in the trash, a sales rep editing someone
/// else's lead) are fine: the writer rolls the job back, and the test is about the figures.
fn random_write(db: &Db, rng: &mut StdRng, today: Date) {
    let op = rng.random_range(0..14);
    let seed: u64 = rng.random();
    let _ = db.write_blocking(move |conn| {
        let mut rng = StdRng::seed_from_u64(seed);
        let admin = actor("admin", Role::Admin);
        let rep = |rng: &mut StdRng| {
            let (id, role) = *pick(rng, &USERS[..3]).unwrap_or(&USERS[0]);
            actor(id, role)
        };
        let live = ids(conn, "SELECT id FROM leads WHERE deleted_at IS NULL");
        let trashed = ids(conn, "SELECT id FROM leads WHERE deleted_at IS NOT NULL");
        let lead = pick(&mut rng, &live).cloned().unwrap_or_default();
        let stage = *pick(&mut rng, &["new", "qualified", "proposal", "won", "lost"]).unwrap_or(&"new");
        let currency = *pick(&mut rng, &["USD", "EUR"]).unwrap_or(&"USD");
        let owner = *pick(&mut rng, &["rep1", "rep2", "admin"]).unwrap_or(&"rep1");
        let value = rng.random_range(0..100_000i64);
        let day = today - Duration::days(rng.random_range(0..400));
        // Any hour: a UTC day straddles two local days almost everywhere.
        let at = |rng: &mut StdRng, day: Date| {
            let (h, m) = (rng.random_range(0..24), rng.random_range(0..60));
            format!("{}T{h:02}:{m:02}:00.000Z", super::day_string(day))
        };
        match op {
            0..=2 => {
                let input = input(json!({
                    "title": "Deal", "stage": stage, "value_cents": value, "currency": currency,
                    "source": pick(&mut rng, &[None, Some("web"), Some("referral")]).cloned().flatten(),
                    "lost_reason": (stage == "lost").then_some("price"),
                    "assigned_to": rng.random_bool(0.7).then_some(owner),
                }));
                leads::create(conn, &rep(&mut rng), &input, &Currency::usd())?;
            }
            3 | 4 => {
                let input = input(json!({"stage": stage, "lost_reason": (stage == "lost").then_some("timing")}));
                leads::move_stage(conn, &admin, &lead, &input, None)?;
            }
            5 => {
                let input = input(json!({"assigned_to": owner}));
                leads::update(conn, &admin, &lead, &input, None)?;
            }
            6 => {
                let input = input(json!({"value_cents": value, "currency": currency}));
                leads::update(conn, &rep(&mut rng), &lead, &input, None)?;
            }
            7 => leads::delete(conn, &admin, &lead, None)?,
            8 => {
                if let Some(id) = pick(&mut rng, &trashed) {
                    leads::restore(conn, &admin, id)?;
                }
            }
            9 => {
                if let Some(id) = pick(&mut rng, &trashed) {
                    records::purge(conn, Kind::Lead, id, &admin)?;
                }
            }
            10 => {
                // Backdating, as a migration of old data would: spreads figures over days.
                conn.execute(
                    "UPDATE leads SET created_at = ?2,
                            closed_at = CASE WHEN closed_at IS NULL THEN NULL ELSE ?2 END WHERE id = ?1",
                    [lead.as_str(), &at(&mut rng, day)],
                )?;
            }
            11 => {
                let input = input(json!({
                    "subject_type": "lead", "subject_id": lead, "kind": "call", "body": "Hello",
                    "occurred_at": at(&mut rng, day),
                }));
                activities::create(conn, &rep(&mut rng), &input)?;
            }
            12 => {
                let activity = ids(conn, "SELECT id FROM activities WHERE deleted_at IS NULL");
                if let Some(id) = pick(&mut rng, &activity) {
                    activities::delete(conn, &admin, id, None)?;
                }
            }
            _ => {
                let due = today + Duration::days(rng.random_range(-3..3));
                let input = input(json!({
                    "title": "Call back", "due_at": at(&mut rng, due),
                    "assigned_to": rng.random_bool(0.5).then_some(owner),
                }));
                let task = tasks::create(conn, &rep(&mut rng), &input)?;
                if rng.random_bool(0.3) {
                    tasks::complete(conn, &admin, &task.meta.id, None)?;
                }
            }
        }
        Ok(())
    });
}

fn import_leads(db: &Db, today: Date) {
    let mut file = String::from("Title,Stage,Amount,Source,Created At\n");
    for i in 0..40 {
        let day = super::day_string(today - Duration::days(i * 9));
        let stage = ["new", "won", "lost", "proposal"][i as usize % 4];
        file.push_str(&format!(
            "Imported {i},{stage},{}.50,import,{day}T08:00:00Z\n",
            i * 100
        ));
    }
    let request = imports::Request {
        entity: Entity::parse("leads").unwrap(),
        filename: "leads.csv".into(),
        mapping: None,
        on_duplicate: imports::OnDuplicate::Create,
        dry_run: false,
    };
    let prepared = imports::prepare(&request, file.into_bytes()).unwrap();
    let (id, prepared) = db
        .write_blocking(move |conn| {
            let id = imports::create(conn, &actor("admin", Role::Admin), &request, &prepared)?;
            Ok((id, prepared))
        })
        .unwrap();
    let status = imports::run(
        db,
        &id,
        actor("admin", Role::Admin),
        Currency::usd(),
        Some(prepared),
        |_, _| {},
    )
    .unwrap();
    assert_eq!(status.status, "completed", "{status:?}");
}

fn periods(today: Date) -> Vec<Period> {
    let p = |days: i64, owner: Option<&str>, money: bool| Period {
        from: today - Duration::days(days),
        to: today,
        owner_id: owner.map(str::to_owned),
        money,
    };
    vec![
        p(29, None, true),
        p(400, None, true),
        p(3, None, true),
        p(400, Some("rep1"), true),
        p(120, Some("rep2"), false),
        Period {
            from: today - Duration::days(200),
            to: today - Duration::days(100),
            owner_id: None,
            money: true,
        },
    ]
}

fn matches_scratch(conn: &Connection, zone: &Zone, today: Date, when: &str) {
    let base = Currency::usd();
    for period in periods(today) {
        let kept = dashboard(conn, &period, &base, zone, today).unwrap();
        let fresh = scratch::dashboard(conn, &period, base.as_str(), zone, today);
        assert_eq!(kept, fresh, "{when} in {zone}: {period:?}");
    }
}

fn assert_matches_scratch(db: &Db, zone: &Zone, today: Date, when: &str) {
    let (zone, when) = (zone.clone(), when.to_owned());
    db.write_blocking(move |conn| {
        matches_scratch(conn, &zone, today, &when);
        Ok(())
    })
    .unwrap();
}

#[test]
fn report_tables_equal_a_computation_from_scratch_after_random_writes() {
    property(&Zone::utc(), &[7, 42]);
}

/// New Zealand is 12 or 13 hours ahead of UTC, with DST in the southern summer: most UTC
/// days there are split across two local days, and months start a day early.
#[test]
fn report_tables_equal_a_computation_from_scratch_in_auckland() {
    property(&Zone::parse("Pacific/Auckland").unwrap(), &[11, 42]);
}

fn property(zone: &Zone, seeds: &[u64]) {
    let dir = tempfile::tempdir().unwrap();
    let db = open_db(&dir, zone);
    let today = zone.today();
    for &seed in seeds {
        let mut rng = StdRng::seed_from_u64(seed);
        for step in 0..400 {
            random_write(&db, &mut rng, today);
            if step == 200 {
                import_leads(&db, today);
            }
            if step % 50 == 0 {
                assert_matches_scratch(&db, zone, today, &format!("seed {seed}, step {step}"));
            }
        }
        assert_matches_scratch(&db, zone, today, &format!("seed {seed}, end"));
    }
    let live: i64 = db
        .write_blocking(|conn| {
            Ok(conn.query_row(
                "SELECT count(*) FROM leads WHERE deleted_at IS NULL",
                [],
                |r| r.get(0),
            )?)
        })
        .unwrap();
    assert!(
        live > 100,
        "the sequence should leave a real pipeline, not {live} leads"
    );
    // A rebuild from the records gives the very tables the triggers kept.
    let before = tables(&db);
    db.write_blocking(rebuild).unwrap();
    assert_eq!(tables(&db), before);

    // Moved to another zone (`serve --timezone` with a new one), every figure follows.
    let path = db.path().to_owned();
    drop(db);
    let mut conn = connection::open(&path).unwrap();
    let los_angeles = Zone::parse("America/Los_Angeles").unwrap();
    assert_eq!(
        local_day::adopt(&mut conn, &los_angeles).unwrap().as_ref(),
        Some(zone)
    );
    let today = los_angeles.today();
    matches_scratch(&conn, &los_angeles, today, "after moving to Los Angeles");
}

/// The report tables' non-zero rows (triggers leave zeroed rows behind; a rebuild does not).
fn tables(db: &Db) -> Vec<String> {
    db.write_blocking(|conn| Ok(scratch::report_rows(conn)?))
        .unwrap()
}

/// A database from before migration 0008, with records in it: the migration fills the
/// report tables from them.
#[test]
fn the_migration_backfills_existing_records() {
    let mut conn = connection::open_in_memory().unwrap();
    crate::db::migrations::migrate_to(&mut conn, 7).unwrap();
    conn.execute_batch(
        "INSERT INTO users (id, email, name, role, password_hash, password_changed_at, created_at, updated_at)
         VALUES ('rep1', 'rep1@example.com', 'Rep', 'sales', 'x', '2026-01-01', '2026-01-01', '2026-01-01');
         INSERT INTO leads (id, title, stage, value_cents, currency, source, assigned_to, stage_changed_at,
                            closed_at, created_at, updated_at, created_by, deleted_at) VALUES
           ('l1', 'Open', 'proposal', 5000, 'USD', 'web', 'rep1', '2026-03-01T10:00:00.000Z', NULL,
            '2026-03-01T10:00:00.000Z', '2026-03-01T10:00:00.000Z', 'rep1', NULL),
           ('l2', 'Won', 'won', 7000, 'EUR', NULL, NULL, '2026-04-02T10:00:00.000Z', '2026-04-02T10:00:00.000Z',
            '2026-02-01T10:00:00.000Z', '2026-04-02T10:00:00.000Z', 'rep1', NULL),
           ('l3', 'Gone', 'lost', 100, 'USD', NULL, 'rep1', '2026-04-02T10:00:00.000Z', '2026-04-02T10:00:00.000Z',
            '2026-02-01T10:00:00.000Z', '2026-04-02T10:00:00.000Z', 'rep1', '2026-04-03T10:00:00.000Z');
         INSERT INTO activities (id, subject_type, subject_id, kind, body, occurred_at, created_at, updated_at, created_by)
         VALUES ('a1', 'lead', 'l1', 'call', 'Hi', '2026-03-01T16:00:00.000Z', '2026-03-01T16:00:00.000Z',
                 '2026-03-01T16:00:00.000Z', 'rep1');
         INSERT INTO tasks (id, title, due_at, assigned_to, created_at, updated_at, created_by)
         VALUES ('t1', 'Call', '2026-04-01T09:00:00.000Z', 'rep1', '2026-03-01T09:00:00.000Z',
                 '2026-03-01T09:00:00.000Z', 'rep1');",
    )
    .unwrap();
    crate::db::migrations::migrate(&mut conn, "test").unwrap();
    let today = time::macros::date!(2026 - 04 - 30);
    let period = Period {
        from: time::macros::date!(2026 - 01 - 01),
        to: today,
        owner_id: None,
        money: true,
    };
    let base = Currency::usd();
    let utc = Zone::utc();
    let kept = dashboard(&conn, &period, &base, &utc, today).unwrap();
    assert_eq!(
        kept,
        scratch::dashboard(&conn, &period, base.as_str(), &utc, today)
    );
    assert_eq!(kept.kpis.leads_created, 2);
    assert_eq!(kept.kpis.won_count, 1);
    assert_eq!(kept.kpis.lost_count, 0, "the lost lead is in the trash");
    assert_eq!(kept.kpis.tasks_overdue, 1);
    assert_eq!(kept.reps[0].response_hours_median, Some(6.0));
}

/// `rapport demo` inserts with the report triggers dropped and rebuilds at the end: the
/// figures must come out as if every row had gone through the triggers.
#[test]
fn demo_data_ends_with_correct_report_tables() {
    let mut conn = connection::open_in_memory().unwrap();
    crate::db::migrations::migrate(&mut conn, "mem").unwrap();
    let options = crate::demo::DemoOptions {
        customers: 40,
        seed: 3,
    };
    crate::demo::generate(&mut conn, options, "hash", &crate::demo::Quiet).unwrap();
    let utc = Zone::utc();
    let today = utc.today();
    let base = Currency::usd();
    for period in periods(today) {
        let period = Period {
            owner_id: None,
            ..period
        };
        let kept = dashboard(&conn, &period, &base, &utc, today).unwrap();
        assert_eq!(
            kept,
            scratch::dashboard(&conn, &period, base.as_str(), &utc, today)
        );
    }
    let triggers: i64 = conn
        .query_row(
            "SELECT count(*) FROM sqlite_schema WHERE type = 'trigger' AND name LIKE 'report%'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(triggers, 12, "the triggers are back after the bulk load");
}

#[test]
fn response_times_are_read_from_the_hours_index() {
    let mut conn = connection::open_in_memory().unwrap();
    crate::db::migrations::migrate(&mut conn, "mem").unwrap();
    let args = ["2026-01-01", "2026-02-01"]
        .map(|t| rusqlite::types::Value::Text(t.into()))
        .into_iter()
        .chain([rusqlite::types::Value::Null])
        .collect();
    let plan = crate::domain::query_plans::plan(&conn, super::figures::RESPONSE_HOURS, args);
    assert!(
        plan.iter()
            .any(|step| step.contains("USING INDEX leads_response_hours")),
        "{plan:?}"
    );
}
