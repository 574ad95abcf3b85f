//! In-process cost of one request's database work on a large CRM (no HTTP): the figures
//! issue 3 sets targets for. Run on a release build:
//!
//! ```sh
//! target/release/rapport --db /tmp/large.db demo --customers 100000   # once, ~1 min
//! cargo bench --bench records -- /tmp/large.db
//! ```
//!
//! `create_lead` adds leads titled "Bench lead …" to the database it is given.
//!
//! `export_leads` runs first, so its peak-RSS growth (`VmHWM`) is not hidden by a peak the
//! other measurements reached before it. Target: 500k leads in under 5 s, growing peak RSS
//! by under 20 MB.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use rapport::domain::activities::SubjectType;
use rapport::domain::currency::Currency;
use rapport::domain::customers;
use rapport::domain::exports;
use rapport::domain::leads::{self, LeadInput};
use rapport::domain::list::ListParams;
use rapport::domain::reports::{self, Period};
use rapport::domain::search::{self, SearchParams};
use rapport::domain::timeline::{self, TimelineParams};
use rusqlite::Connection;

#[path = "common/mod.rs"]
mod common;

const STAGES: [&str; 6] = ["new", "contacted", "qualified", "proposal", "won", "lost"];

fn main() {
    let db: PathBuf = std::env::args()
        .skip(1)
        .find(|a| !a.starts_with('-'))
        .or_else(|| std::env::var("RAPPORT_BENCH_DB").ok())
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            eprintln!(
                "usage: cargo bench --bench records -- DB (a database made by `rapport demo`)"
            );
            std::process::exit(2)
        });
    let conn = common::open_as_the_writer(&db);
    let counts: (i64, i64, i64) = conn
        .query_row(
            "SELECT (SELECT count(*) FROM customers), (SELECT count(*) FROM leads), (SELECT count(*) FROM activities)",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .expect("a Rapport database");
    println!(
        "database: {} ({} customers, {} leads, {} activities)",
        db.display(),
        counts.0,
        counts.1,
        counts.2
    );
    let admin = common::actor(&conn);

    export_leads(&conn);

    report("list_leads (stage, newest first, 50)", 2_000, |i| {
        let stage = STAGES[i % STAGES.len()];
        let params = params(&[
            ("stage", stage),
            ("sort", "created_at"),
            ("order", "desc"),
            ("limit", "50"),
        ]);
        let page = leads::list_json(&conn, &admin, &params).expect("list");
        assert!(page.starts_with(b"{\"items\":[{"));
    });

    // A page 200 pages deep: keyset paging costs the same at any depth.
    let deep = deep_cursor(&conn, &admin, 200);
    report("list_leads page 201 (cursor)", 2_000, |_| {
        let params = params(&[
            ("stage", "lost"),
            ("sort", "created_at"),
            ("order", "desc"),
            ("limit", "50"),
            ("cursor", &deep),
        ]);
        let page = leads::list_json(&conn, &admin, &params).expect("deep page");
        assert_eq!(page.windows(6).filter(|w| w == b"{\"id\":").count(), 50);
    });

    let ids = sample_leads(&conn, 1_000);
    report("get_lead", 20_000, |i| {
        leads::get_json(&conn, &admin, &ids[i % ids.len()]).expect("get");
    });
    let timeline_params = TimelineParams::parse(&[]).expect("defaults");
    report("get_lead + timeline (50 items)", 5_000, |i| {
        let id = &ids[i % ids.len()];
        leads::get_json(&conn, &admin, id).expect("get");
        timeline::page(&conn, SubjectType::Lead, id, &timeline_params).expect("timeline");
    });

    search_section(&conn);
    dashboard_section(&conn);

    let usd = Currency::parse("value", "USD").expect("USD");
    let create = |i: usize| {
        let input: LeadInput = serde_json::from_value(serde_json::json!({
            "title": format!("Bench lead {i}"),
            "value_cents": 125_000,
            "source": "website",
            "company_name": "Bench Co"
        }))
        .expect("input");
        let start = Instant::now();
        conn.execute_batch("BEGIN IMMEDIATE").expect("begin");
        leads::create(&conn, &admin, &input, &usd).expect("create");
        conn.execute_batch("COMMIT").expect("commit");
        start.elapsed()
    };
    // Back to back, as under a write load that never pauses: the search segments the
    // creates leave are merged inside a create whenever a level reaches 64 ('crisismerge').
    report_measured("create_lead + audit, back to back", 2_000, create);
    // As the server runs them when writes pause between requests: the writer merges the
    // segments a create left before the next one comes (migration 0013). That merging is
    // not the request's, so it is timed apart.
    let mut merging = Duration::ZERO;
    let mut created = 0_u32;
    report_measured("create_lead + audit, writer idle between", 2_000, |i| {
        let took = create(i);
        let idle = Instant::now();
        while search::tidy_step(&conn).expect("merge step") {}
        merging += idle.elapsed();
        created += 1;
        took
    });
    println!(
        "{:<40} mean {:>7.3} ms per create",
        "  and the writer's merging after each",
        merging.as_secs_f64() * 1000.0 / f64::from(created)
    );
}

/// `GET /reports/dashboard` (issue 7): target ≤ 10 ms of database work at 500k leads.
fn dashboard_section(conn: &Connection) {
    // The zone the database's report tables are built for, as `serve` would have it.
    let zone = rapport::db::local_day::database_zone(conn).expect("zone");
    let today = zone.today();
    let usd = Currency::parse("value", "USD").expect("USD");
    let rep: Option<String> = conn
        .query_row(
            "SELECT id FROM users WHERE role = 'sales' LIMIT 1",
            [],
            |r| r.get(0),
        )
        .ok();
    let period = |days: i64, owner_id: Option<String>| Period {
        from: today - time::Duration::days(days - 1),
        to: today,
        owner_id,
        money: true,
    };
    for (name, period) in [
        ("dashboard, team, 30 days", period(30, None)),
        ("dashboard, team, 365 days", period(365, None)),
        ("dashboard, one rep, 30 days", period(30, rep)),
    ] {
        report(name, 500, |_| {
            reports::dashboard(conn, &period, &usd, &zone, today).expect("dashboard");
        });
    }
}

/// `GET /search` and the lists' `q` (issue 4), over the full-text index.
fn search_section(conn: &Connection) {
    let words: Vec<String> = conn
        .prepare("SELECT name FROM customers WHERE deleted_at IS NULL ORDER BY id LIMIT 200")
        .expect("prepare")
        .query_map([], |r| r.get::<_, String>(0))
        .expect("names")
        .map(|n| {
            n.expect("name")
                .split_whitespace()
                .next()
                .unwrap_or("x")
                .to_owned()
        })
        .collect();
    let prefix = |n: usize| -> Vec<String> {
        words
            .iter()
            .map(|w| w.chars().take(n).collect::<String>())
            .collect()
    };
    let run = |name: &str, queries: &[String]| {
        report(name, 2_000, |i| {
            let p = SearchParams::parse(Some(&queries[i % queries.len()]), None, None)
                .expect("parameters");
            search::search(conn, &p).expect("search");
        });
    };
    run("search, 2-letter prefix (20 hits)", &prefix(2));
    run("search, 3-letter prefix (20 hits)", &prefix(3));
    run("search, whole word (20 hits)", &words);
    run("search, substring only (\"orp\")", &["orp".to_owned()]);
    run("search, no match (\"qxzj\")", &["qxzj".to_owned()]);
    for (entity, q) in [("customers", &prefix(3)), ("customers", &words)] {
        report(&format!("list {entity} q=<{}> (50)", q[0]), 500, |i| {
            let raw = vec![("q".to_owned(), q[i % q.len()].clone())];
            let params = ListParams::parse(&raw, &customers::LIST).expect("parameters");
            customers::list(conn, &params).expect("list");
        });
    }
    report("list leads q=<3 letters> (50)", 500, |i| {
        let q = &prefix(3)[i % 200];
        let page = leads::list(
            conn,
            &common::actor(conn),
            &params(&[("q", q), ("limit", "50")]),
        )
        .expect("list");
        std::hint::black_box(page);
    });
    let size = |sql: &str| -> f64 {
        conn.query_row(sql, [], |r| r.get::<_, i64>(0))
            .map(|b| b as f64 / 1_048_576.0)
            .unwrap_or(f64::NAN)
    };
    println!(
        "search index size: words {:.1} MB, trigrams {:.1} MB, docs {:.1} MB (of {:.1} MB)",
        size("SELECT sum(pgsize) FROM dbstat WHERE name LIKE 'search_words%'"),
        size("SELECT sum(pgsize) FROM dbstat WHERE name LIKE 'search_trigrams%'"),
        size(
            "SELECT sum(pgsize) FROM dbstat WHERE name LIKE 'search_docs' OR name LIKE 'sqlite_autoindex_search_docs%'"
        ),
        size("SELECT sum(pgsize) FROM dbstat"),
    );
}

/// The CSV export of every lead to a sink, through the same writer the API streams with.
fn export_leads(conn: &Connection) {
    let entity = exports::Entity::parse("leads").expect("leads");
    let export = exports::Export::parse(entity, &[], true).expect("export");
    let before = peak_rss_kib();
    let start = Instant::now();
    let rows = exports::write(conn, &export, std::io::sink()).expect("export");
    let elapsed = start.elapsed();
    let after = peak_rss_kib();
    println!(
        "{:<40} {rows} rows in {:.2} s ({:.0} rows/s), peak RSS {:.1} MB -> {:.1} MB (+{:.1} MB)",
        "export_leads (all, CSV to a sink)",
        elapsed.as_secs_f64(),
        rows as f64 / elapsed.as_secs_f64(),
        before as f64 / 1024.0,
        after as f64 / 1024.0,
        after.saturating_sub(before) as f64 / 1024.0
    );
}

/// `VmHWM` of this process (peak resident set), in KiB; 0 where /proc is missing.
fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

fn params(pairs: &[(&str, &str)]) -> ListParams {
    let raw: Vec<(String, String)> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    ListParams::parse(&raw, &leads::list::LIST).expect("valid list parameters")
}

fn deep_cursor(conn: &Connection, admin: &rapport::auth::Actor, pages: usize) -> String {
    let mut cursor: Option<String> = None;
    for _ in 0..pages {
        let mut pairs = vec![
            ("stage", "lost"),
            ("sort", "created_at"),
            ("order", "desc"),
            ("limit", "50"),
        ];
        if let Some(c) = &cursor {
            pairs.push(("cursor", c));
        }
        let page = leads::list(conn, admin, &params(&pairs)).expect("page");
        cursor = Some(page.next_cursor.expect("the demo has enough lost leads"));
    }
    cursor.unwrap_or_default()
}

fn sample_leads(conn: &Connection, n: usize) -> Vec<String> {
    let mut stmt = conn
        .prepare("SELECT id FROM leads WHERE deleted_at IS NULL ORDER BY value_cents DESC LIMIT ?1")
        .expect("prepare");
    stmt.query_map([n as i64], |r| r.get(0))
        .expect("query")
        .map(Result::unwrap)
        .collect()
}

/// Runs `f` `n` times after a warm-up and prints mean, p50 and p99 per call.
fn report(name: &str, n: usize, mut f: impl FnMut(usize)) {
    report_measured(name, n, |i| {
        let start = Instant::now();
        f(i);
        start.elapsed()
    });
}

/// [`report`] for work that times itself: `f` answers how long the measured part took.
fn report_measured(name: &str, n: usize, mut f: impl FnMut(usize) -> Duration) {
    for i in 0..n.min(200) {
        f(i);
    }
    let mut times: Vec<Duration> = Vec::with_capacity(n);
    for i in 0..n {
        times.push(f(i));
    }
    times.sort_unstable();
    let total: Duration = times.iter().sum();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "{name:<40} mean {:>7.3} ms   p50 {:>7.3} ms   p99 {:>7.3} ms   ({n} runs)",
        ms(total / n as u32),
        ms(times[n / 2]),
        ms(times[n * 99 / 100])
    );
}
