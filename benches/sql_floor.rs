//! The floor under the write targets: how fast SQLite alone writes what Rapport must write,
//! with no HTTP and no application code, on this machine. Issue 8 asks for creates at 5× the
//! peer's rate and issue 4 for 100k contacts imported in 5 s; these figures say whether any
//! code could get there with the schema those issues (and issue 3's indexes) require.
//!
//! ```sh
//! cp target/bench-data/medium/rapport.db /tmp/floor.db
//! cargo bench --bench sql_floor -- creates /tmp/floor.db
//! cargo bench --bench sql_floor -- import BEFORE.db AFTER.db
//! ```
//!
//! `creates` adds leads to the database it is given (use a copy). It times, for batches of 32
//! and 64 creates per transaction (what the writer commits under 64 connections), Rapport's
//! own `leads::create` run the way the writer runs a batch, and then the bare statements of
//! the same rows: the lead (its table and the index for every list filter and sort, the
//! report triggers), its audit entry (a fixed hash instead of the chain's) and its search
//! entries, indexed once per batch as the writer does.
//!
//! `import` replays an import of contacts as bulk `INSERT … SELECT`s: BEFORE is a database
//! before `rapport import contacts` and AFTER the same database after it; the contacts,
//! their audit entries and their import keys that AFTER has and BEFORE lacks are copied into
//! BEFORE (which is changed) in 5,000-row transactions, each indexed for search and followed
//! by a PASSIVE checkpoint, as the import does. No CSV is read and nothing is validated,
//! looked up or hashed: what is left is SQLite's own work.

use std::path::Path;
use std::time::Instant;

use rapport::domain::currency::Currency;
use rapport::domain::leads::{self, LeadInput};
use rapport::domain::search;
use rusqlite::{Connection, params};

#[path = "common/mod.rs"]
mod common;

const CREATES: usize = 30_000;
const IMPORT_CHUNK: i64 = 5_000;

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    match args.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        ["creates", db] => creates(Path::new(db)),
        ["import", before, after] => import(Path::new(before), Path::new(after)),
        _ => {
            eprintln!(
                "usage: cargo bench --bench sql_floor -- creates DB | import BEFORE.db AFTER.db"
            );
            std::process::exit(2)
        }
    }
}

fn creates(db: &Path) {
    let conn = common::open_as_the_writer(db);
    let admin = common::actor(&conn);
    let usd = Currency::parse("value", "USD").expect("USD");
    let mut made = 0_usize;
    for batch in [32, 64] {
        let app = timed_batches(&conn, batch, |i| {
            let input: LeadInput =
                serde_json::from_value(bench_lead(made + i).as_json()).expect("a valid lead");
            leads::create(&conn, &admin, &input, &usd).expect("create");
        });
        made += CREATES;
        let bare = timed_batches(&conn, batch, |i| {
            insert_bare(&conn, &admin.user_id, &bench_lead(made + i))
        });
        made += CREATES;
        println!(
            "creates, {batch} per transaction: leads::create {app:>6.0}/s   bare statements {bare:>6.0}/s"
        );
    }
}

/// Runs [`CREATES`] jobs `batch` to a transaction, each in its savepoint, with the search
/// entries indexed once per batch, as `db::writer` runs a batch; answers jobs per second.
fn timed_batches(conn: &Connection, batch: usize, mut job: impl FnMut(usize)) -> f64 {
    let start = Instant::now();
    for first in (0..CREATES).step_by(batch) {
        conn.execute_batch("BEGIN IMMEDIATE").expect("begin");
        search::defer_new_records(conn).expect("defer");
        for i in first..(first + batch).min(CREATES) {
            conn.prepare_cached("SAVEPOINT job")
                .and_then(|mut s| s.execute([]))
                .expect("savepoint");
            job(i);
            conn.prepare_cached("RELEASE job")
                .and_then(|mut s| s.execute([]))
                .expect("release");
        }
        search::index_deferred(conn).expect("index");
        conn.execute_batch("COMMIT").expect("commit");
    }
    CREATES as f64 / start.elapsed().as_secs_f64()
}

/// A lead like those `shared/bench/wrk/create_lead.lua` posts.
struct BenchLead {
    title: String,
    value_cents: i64,
    source: &'static str,
    company: String,
    email: String,
}

fn bench_lead(i: usize) -> BenchLead {
    const PRODUCTS: [&str; 5] = [
        "Exterior repaint",
        "Epoxy floor coating",
        "Primer bulk order",
        "Scaffolding rental",
        "Office repaint",
    ];
    const SOURCES: [&str; 6] = [
        "web",
        "referral",
        "trade-show",
        "cold-call",
        "partner",
        "ads",
    ];
    // Spread like the load's random values and sources, but the same in every run.
    let mix = (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 16;
    BenchLead {
        title: format!("Bench {i} {}", PRODUCTS[i % PRODUCTS.len()]),
        value_cents: (mix % 5_000 + 1) as i64 * 5_000,
        source: SOURCES[(mix >> 20) as usize % SOURCES.len()],
        company: format!("Bench Co {}", i % 997),
        email: format!("pat{i}@bench.example"),
    }
}

impl BenchLead {
    fn as_json(&self) -> serde_json::Value {
        serde_json::json!({
            "title": self.title, "value_cents": self.value_cents, "currency": "USD",
            "source": self.source, "stage": "new", "company_name": self.company,
            "contact_name": "Pat Example", "email": self.email,
        })
    }
}

/// The rows one create writes, as plain statements.
fn insert_bare(conn: &Connection, actor: &str, lead: &BenchLead) {
    let id = uuid::Uuid::now_v7().to_string();
    let at = rapport::domain::clock::Timestamp::now().to_stored();
    conn.prepare_cached(
        "INSERT INTO leads (id, title, stage, value_cents, currency, source, company_name,
                            contact_name, email, stage_changed_at, created_at, updated_at, created_by)
         VALUES (?1, ?2, 'new', ?3, 'USD', ?4, ?5, 'Pat Example', ?6, ?7, ?7, ?7, ?8)",
    )
    .and_then(|mut s| {
        s.execute(params![
            id,
            lead.title,
            lead.value_cents,
            lead.source,
            lead.company,
            lead.email,
            at,
            actor
        ])
    })
    .expect("insert the lead");
    let after = serde_json::json!({
        "id": id, "title": lead.title, "stage": "new", "value_cents": lead.value_cents,
        "currency": "USD", "source": lead.source, "company_name": lead.company,
        "contact_name": "Pat Example", "email": lead.email, "created_at": at,
        "updated_at": at, "stage_changed_at": at, "created_by": actor, "version": 1,
    })
    .to_string();
    conn.prepare_cached(
        "INSERT INTO audit_log (at, actor_id, action, entity_type, entity_id, after, prev_hash, hash)
         VALUES (?1, ?2, 'lead.create', 'lead', ?3, ?4, ?5, ?5)",
    )
    .and_then(|mut s| s.execute(params![at, actor, id, after, &[7_u8; 32][..]]))
    .expect("insert the audit entry");
}

fn import(before: &Path, after: &Path) {
    let conn = rapport::db::connection::open_existing(before).expect("open BEFORE");
    // The cache an import chunk gets (`domain::imports`).
    conn.pragma_update(None, "cache_size", -65_536)
        .expect("pragma");
    conn.execute("ATTACH ?1 AS src", [after.to_str().expect("a UTF-8 path")])
        .expect("attach AFTER");
    conn.execute_batch(
        "CREATE TEMP TABLE c AS
             SELECT row_number() OVER (ORDER BY rowid) AS n, * FROM src.contacts
              WHERE id NOT IN (SELECT id FROM main.contacts);
         CREATE UNIQUE INDEX temp.c_id ON c (id);
         CREATE TEMP TABLE a AS
             SELECT c.n, l.* FROM src.audit_log l JOIN c ON c.id = l.entity_id
              WHERE l.action = 'contact.create';
         CREATE TEMP TABLE k AS
             SELECT c.n, k.* FROM src.import_keys k JOIN c ON c.id = k.id
              WHERE k.kind = 'contact';",
    )
    .expect("stage the rows");
    let rows: i64 = conn
        .query_row("SELECT count(*) FROM temp.c", [], |r| r.get(0))
        .expect("count");
    println!("import: {rows} contacts in {IMPORT_CHUNK}-row transactions");
    let mut spent = [0.0_f64; 5];
    let mut lap = |part: usize, at: &mut Instant| {
        spent[part] += at.elapsed().as_secs_f64();
        *at = Instant::now();
    };
    let start = Instant::now();
    for lo in (0..rows).step_by(IMPORT_CHUNK as usize) {
        let range = params![lo, lo + IMPORT_CHUNK];
        let mut at = Instant::now();
        conn.execute_batch("BEGIN IMMEDIATE").expect("begin");
        search::defer_new_records(&conn).expect("defer");
        conn.execute(
            "INSERT INTO contacts (id, customer_id, first_name, last_name, email, phone, title,
                                   owner_id, created_at, updated_at, created_by, version, deleted_at)
             SELECT id, customer_id, first_name, last_name, email, phone, title,
                    owner_id, created_at, updated_at, created_by, version, deleted_at
               FROM temp.c WHERE n > ?1 AND n <= ?2",
            range,
        )
        .expect("contacts");
        lap(0, &mut at);
        conn.execute(
            "INSERT INTO audit_log (at, actor_id, action, entity_type, entity_id, before, after, prev_hash, hash)
             SELECT at, actor_id, action, entity_type, entity_id, before, after, prev_hash, hash
               FROM temp.a WHERE n > ?1 AND n <= ?2 ORDER BY id",
            range,
        )
        .expect("audit entries");
        conn.execute(
            "INSERT INTO import_keys (kind, external_id, id)
             SELECT kind, external_id, id FROM temp.k WHERE n > ?1 AND n <= ?2",
            range,
        )
        .expect("import keys");
        lap(1, &mut at);
        search::index_deferred(&conn).expect("index");
        lap(2, &mut at);
        conn.execute_batch("COMMIT").expect("commit");
        lap(3, &mut at);
        conn.query_row("PRAGMA main.wal_checkpoint(PASSIVE)", [], |_| Ok(()))
            .expect("checkpoint");
        lap(4, &mut at);
    }
    println!(
        "import: {:.2} s (contacts {:.2}, audit and keys {:.2}, search {:.2}, commit {:.2}, checkpoint {:.2})",
        start.elapsed().as_secs_f64(),
        spent[0],
        spent[1],
        spent[2],
        spent[3],
        spent[4]
    );
}
