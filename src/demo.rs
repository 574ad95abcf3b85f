//! Demo data: a believable small company's CRM, generated deterministically from a seed.
//!
//! `rapport demo --customers N` (and `serve --demo` on an empty database) fills the
//! database with users of every role and N customers with about 3× contacts, 5× leads,
//! 2.5× tasks and 20× activities spread over the last 24 months: growth over time, quiet
//! weekends, business hours, older leads mostly closed, referrals winning more often,
//! values log-normal by segment. Rows go in through prepared statements in large
//! transactions; the audit log gets one entry for the whole run, not millions.

use std::time::Duration;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rusqlite::{Connection, Transaction, TransactionBehavior, params};

use crate::db::connection;
use crate::domain::audit::{self, Entry};
use crate::domain::clock::Timestamp;
use crate::domain::{reports, search};
use crate::error::{AppError, AppResult};

/// Every demo user signs in with this password.
pub const PASSWORD: &str = "rapport-demo";

#[derive(Debug, Clone, Copy)]
pub struct DemoOptions {
    pub customers: u32,
    pub seed: u64,
}

impl Default for DemoOptions {
    fn default() -> Self {
        Self {
            customers: 200,
            seed: 42,
        }
    }
}

/// What was generated.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct DemoReport {
    pub users: u64,
    pub customers: u64,
    pub contacts: u64,
    pub leads: u64,
    pub stage_changes: u64,
    pub tasks: u64,
    pub activities: u64,
}

impl DemoReport {
    pub fn rows(&self) -> u64 {
        self.users
            + self.customers
            + self.contacts
            + self.leads
            + self.stage_changes
            + self.tasks
            + self.activities
    }
}

/// Progress callbacks, so the CLI can draw a bar and tests can stay quiet.
pub trait Progress {
    fn start(&self, total: u64);
    fn advance(&self, rows: u64);
}

pub struct Quiet;

impl Progress for Quiet {
    fn start(&self, _: u64) {}
    fn advance(&self, _: u64) {}
}

const FIRST_NAMES: &[&str] = &[
    "Ada",
    "Alan",
    "Amelia",
    "Ana",
    "Andrés",
    "Anna",
    "Arjun",
    "Ben",
    "Björn",
    "Camille",
    "Carlos",
    "Chen",
    "Chloé",
    "Daniel",
    "David",
    "Elena",
    "Emma",
    "Fatima",
    "François",
    "Grace",
    "Hannah",
    "Hiroshi",
    "Ines",
    "Isabel",
    "Jack",
    "James",
    "Jana",
    "José",
    "Julia",
    "Kai",
    "Karim",
    "Laura",
    "Leila",
    "Liam",
    "Lucía",
    "Marco",
    "María",
    "Mia",
    "Mohammed",
    "Nadia",
    "Noah",
    "Olga",
    "Olivia",
    "Omar",
    "Priya",
    "Rafael",
    "Rosa",
    "Sam",
    "Sara",
    "Sofia",
    "Søren",
    "Thomas",
    "Tomás",
    "Wei",
    "Yuki",
    "Zoë",
];
const LAST_NAMES: &[&str] = &[
    "Almeida",
    "Andersen",
    "Bauer",
    "Becker",
    "Bianchi",
    "Brown",
    "Chen",
    "Costa",
    "Dubois",
    "Dupont",
    "Fernández",
    "Fischer",
    "García",
    "Hansen",
    "Haddad",
    "Ito",
    "Jensen",
    "Johnson",
    "Kim",
    "Kowalski",
    "Larsen",
    "Lee",
    "López",
    "Martin",
    "Meyer",
    "Moreau",
    "Müller",
    "Nakamura",
    "Nguyen",
    "Novak",
    "O'Brien",
    "Patel",
    "Pereira",
    "Rossi",
    "Schmidt",
    "Silva",
    "Smith",
    "Sørensen",
    "Tanaka",
    "Taylor",
    "Weber",
    "Williams",
    "Wong",
    "Yilmaz",
    "Zhang",
];
const COMPANY_FIRST: &[&str] = &[
    "Acme",
    "Alpine",
    "Anchor",
    "Apex",
    "Atlas",
    "Beacon",
    "Birch",
    "Blue Harbor",
    "Brightline",
    "Cascade",
    "Cedar",
    "Copper",
    "Crescent",
    "Delta",
    "Evergreen",
    "Falcon",
    "Fjord",
    "Granite",
    "Harbor",
    "Horizon",
    "Juniper",
    "Keystone",
    "Lakeside",
    "Lumen",
    "Maple",
    "Meridian",
    "Northwind",
    "Oak",
    "Orchid",
    "Pacific",
    "Pinnacle",
    "Quarry",
    "Redwood",
    "Riverbend",
    "Sable",
    "Summit",
    "Tidewater",
    "Vertex",
    "Willow",
    "Zephyr",
];
const COMPANY_SECOND: &[&str] = &[
    "Analytics",
    "Bakery",
    "Builders",
    "Clinic",
    "Consulting",
    "Design",
    "Dynamics",
    "Energy",
    "Foods",
    "Freight",
    "Goods",
    "Health",
    "Hotels",
    "Industries",
    "Labs",
    "Logistics",
    "Media",
    "Motors",
    "Outfitters",
    "Partners",
    "Printing",
    "Robotics",
    "Software",
    "Studios",
    "Supply",
    "Systems",
    "Textiles",
    "Tools",
    "Travel",
    "Works",
];
const COMPANY_SUFFIX: &[&str] = &[
    "", "", "", " Inc.", " Ltd", " GmbH", " LLC", " & Co.", " SARL", " AB",
];
const INDUSTRIES: &[&str] = &[
    "Construction",
    "Education",
    "Financial Services",
    "Food & Beverage",
    "Healthcare",
    "Hospitality",
    "Logistics",
    "Manufacturing",
    "Media",
    "Professional Services",
    "Real Estate",
    "Retail",
    "Software",
];
const SEGMENTS: &[(&str, f64, f64)] = &[
    // segment, share, log-normal mu of a deal in cents
    ("SMB", 0.62, 13.2),
    ("Mid-Market", 0.28, 14.6),
    ("Enterprise", 0.10, 16.0),
];
const TITLES: &[&str] = &[
    "CEO",
    "COO",
    "CFO",
    "Head of Operations",
    "Office Manager",
    "Purchasing Manager",
    "IT Manager",
    "Marketing Lead",
    "Sales Director",
    "Founder",
    "Procurement Specialist",
    "Finance Manager",
];
const SOURCES: &[(&str, f64, f64)] = &[
    // source, share, how much likelier than average to be won
    ("website", 0.30, 0.9),
    ("referral", 0.18, 1.6),
    ("partner", 0.10, 1.4),
    ("cold call", 0.14, 0.6),
    ("event", 0.12, 1.0),
    ("email campaign", 0.16, 0.8),
];
const LOST_REASONS: &[&str] = &[
    "Price too high",
    "Chose a competitor",
    "No budget this year",
    "No decision",
    "Timing",
    "Went quiet",
    "Missing feature",
];
const CITIES: &[&str] = &[
    "Portland, OR",
    "Austin, TX",
    "Denver, CO",
    "Toronto, ON",
    "Dublin",
    "Lyon",
    "Hamburg",
    "Lisbon",
    "Gothenburg",
    "Melbourne",
];
const STREETS: &[&str] = &[
    "Main St",
    "Harbor Rd",
    "Pine Ave",
    "Market St",
    "Station Rd",
    "Mill Lane",
    "Oak Blvd",
];
const TASK_TITLES: &[&str] = &[
    "Send proposal",
    "Follow up on quote",
    "Schedule demo",
    "Call back about pricing",
    "Prepare contract",
    "Check in after onboarding",
    "Send case study",
    "Book site visit",
    "Confirm requirements",
    "Renewal call",
];
const ACTIVITY_BODIES: &[(&str, &[&str])] = &[
    (
        "call",
        &[
            "Discussed requirements and timeline.",
            "Left a voicemail.",
            "Walked through pricing options.",
            "Quick check-in; all good.",
        ],
    ),
    (
        "email",
        &[
            "Sent the brochure and references.",
            "Replied to questions about delivery.",
            "Shared the updated quote.",
            "Sent a thank-you after the meeting.",
        ],
    ),
    (
        "meeting",
        &[
            "Demo with the operations team.",
            "On-site visit, met the purchasing lead.",
            "Quarterly review.",
            "Kick-off meeting.",
        ],
    ),
    (
        "note",
        &[
            "Budget approved for Q3.",
            "Prefers e-mail over phone.",
            "Decision maker is the CFO.",
            "Competitor is cheaper but slower.",
        ],
    ),
];

/// Fills an empty CRM with demo data. Refuses when customers already exist, so a real
/// database is never mixed with invented records.
pub fn generate(
    conn: &mut Connection,
    options: DemoOptions,
    password_hash: &str,
    progress: &dyn Progress,
) -> AppResult<DemoReport> {
    let existing: i64 = conn.query_row("SELECT count(*) FROM customers", [], |r| r.get(0))?;
    if existing > 0 {
        return Err(AppError::Conflict(
            "The database already has customers; demo data goes into an empty CRM only.".into(),
        ));
    }
    let mut g = Generator::new(options, password_hash);
    let n = u64::from(options.customers);
    progress.start(n * 33 + 60);
    // The index builds at the end are big sorts; SQLite may give each a helper thread (see
    // `without_indexes`).
    conn.pragma_update(None, "threads", 2)?;
    // The CRM is empty, so a rollback journal has almost nothing to save, while WAL would
    // write every page twice (log, then checkpoint). Switching only works when no other
    // connection is open (no server running); otherwise the run simply stays in WAL mode.
    let journal: String =
        conn.pragma_update_and_check(None, "journal_mode", "TRUNCATE", |r| r.get(0))?;
    // Every reference the generator writes points at a row it wrote before (`rapport check`
    // verifies them, as the tests do); looking each one up again was a tenth of the run.
    // The setting only changes outside a transaction.
    conn.pragma_update(None, "foreign_keys", false)?;
    // One transaction: all of it or nothing. A 128 MiB page cache keeps the hot index pages
    // in memory without crowding a small machine.
    // The transaction rolls back when dropped uncommitted, also when the commit fails.
    let result = connection::with_cache(conn, 131_072, |conn| {
        let tx = Transaction::new_unchecked(conn, TransactionBehavior::Immediate)?;
        // The search index is built on a thread of its own meanwhile (`search::BulkIndex`).
        let ((), search_index) = without_indexes(&tx, |conn| {
            reports::bulk(conn, |conn| {
                search::bulk_indexed(conn, |conn| g.run(conn, progress))
            })
        })?;
        search_index.finish(&tx)?;
        AppResult::Ok(tx.commit()?)
    });
    // The connection's usual settings come back however the run ended.
    conn.pragma_update(None, "foreign_keys", true)?;
    if journal != "wal" {
        conn.pragma_update(None, "journal_mode", "WAL")?;
    }
    conn.pragma_update(None, "threads", 0)?;
    result??;
    Ok(g.report)
}

/// The tables demo data fills. Their secondary indexes are dropped while rows go in and
/// built again at the end: sorting once is far cheaper than millions of B-tree inserts.
/// DDL is transactional in SQLite, so a failed run rolls the indexes back too.
const BULK_TABLES: &[&str] = &[
    "customers",
    "customer_tags",
    "contacts",
    "contact_tags",
    "leads",
    "lead_stage_changes",
    "tasks",
    "activities",
];

fn without_indexes<T>(
    conn: &Connection,
    fill: impl FnOnce(&Connection) -> AppResult<T>,
) -> AppResult<T> {
    let placeholders = vec!["?"; BULK_TABLES.len()].join(", ");
    let indexes: Vec<(String, String)> = conn
        .prepare(&format!(
            "SELECT name, sql FROM sqlite_schema
              WHERE type = 'index' AND sql IS NOT NULL AND tbl_name IN ({placeholders})"
        ))?
        .query_map(rusqlite::params_from_iter(BULK_TABLES), |r| {
            Ok((r.get(0)?, r.get(1)?))
        })?
        .collect::<Result<_, _>>()?;
    for (name, _) in &indexes {
        conn.execute_batch(&format!("DROP INDEX \"{name}\""))?;
    }
    let filled = fill(conn)?;
    let t = std::time::Instant::now();
    // SQLite sorts on its helper threads only when the sort may spill to temporary files,
    // and splits a sort into runs the size of the page cache: with runs of 32 MiB both cores
    // sort (the index builds took 28 s instead of 23 s with a single in-memory sort each).
    conn.pragma_update(None, "temp_store", "FILE")?;
    let built = connection::with_cache(conn, 32_768, |conn| {
        indexes.iter().try_for_each(|(name, sql)| {
            let one = std::time::Instant::now();
            conn.execute_batch(sql)?;
            tracing::trace!(elapsed = ?one.elapsed(), index = %name, "demo: index built");
            AppResult::Ok(())
        })
    });
    conn.pragma_update(None, "temp_store", "MEMORY")?;
    built??;
    tracing::debug!(elapsed = ?t.elapsed(), count = indexes.len(), "demo: indexes rebuilt");
    Ok(filled)
}

impl Generator {
    fn run(&mut self, conn: &Connection, progress: &dyn Progress) -> AppResult<()> {
        let t = std::time::Instant::now();
        self.users(conn)?;
        progress.advance(self.report.users);
        self.customers_and_contacts(conn, progress)?;
        tracing::debug!(elapsed = ?t.elapsed(), "demo: customers and contacts");
        self.leads(conn, progress)?;
        tracing::debug!(elapsed = ?t.elapsed(), "demo: leads");
        self.tasks(conn, progress)?;
        tracing::debug!(elapsed = ?t.elapsed(), "demo: tasks");
        self.activities(conn, progress)?;
        tracing::debug!(elapsed = ?t.elapsed(), "demo: activities");
        let options = self.options;
        audit::record(
            conn,
            Entry::new(None, "demo.generate", "demo").after(&serde_json::json!({
                "seed": options.seed,
                "customers": self.report.customers,
                "contacts": self.report.contacts,
                "leads": self.report.leads,
                "tasks": self.report.tasks,
                "activities": self.report.activities,
            })),
        )
    }

    /// Counts a written row.
    fn wrote(&mut self, _conn: &Connection) -> AppResult<()> {
        self.written += 1;
        Ok(())
    }
}

struct Generator {
    rng: StdRng,
    options: DemoOptions,
    password_hash: String,
    now: i64,
    reps: Vec<String>,
    support: Vec<String>,
    managers: Vec<String>,
    customers: Vec<CustomerRow>,
    /// (contact id, customer index) for linking leads and activities.
    contacts: Vec<(String, usize, i64)>,
    leads: Vec<(String, Option<usize>, i64, Option<i64>)>,
    report: DemoReport,
    written: u64,
    customer_domains: Vec<String>,
}

struct CustomerRow {
    id: String,
    name: String,
    /// The first contact at this customer, for leads' `contact_id`.
    first_contact: Option<String>,
    created: i64,
    owner: String,
    segment: usize,
}

const DAY: i64 = 86_400;

#[derive(Clone, Copy)]
enum Who {
    Rep,
    Support,
    Manager,
}

impl Generator {
    fn new(options: DemoOptions, password_hash: &str) -> Self {
        Self {
            rng: StdRng::seed_from_u64(options.seed),
            options,
            password_hash: password_hash.to_owned(),
            now: Timestamp::now().unix(),
            reps: Vec::new(),
            support: Vec::new(),
            managers: Vec::new(),
            customers: Vec::new(),
            contacts: Vec::new(),
            leads: Vec::new(),
            report: DemoReport::default(),
            written: 0,
            customer_domains: Vec::new(),
        }
    }

    /// A UUIDv7 for a record created at `secs`, with seeded randomness: the same seed gives
    /// the same ids, and ids still sort by creation time.
    fn id_at(&mut self, secs: i64) -> String {
        let bytes: [u8; 10] = self.rng.random();
        let millis = (secs.max(0) as u64) * 1000 + self.rng.random_range(0..1000);
        uuid::Builder::from_unix_timestamp_millis(millis, &bytes)
            .into_uuid()
            .to_string()
    }

    fn one_of(&mut self, who: Who) -> String {
        let people = match who {
            Who::Rep => &self.reps,
            Who::Support => &self.support,
            Who::Manager => &self.managers,
        };
        people[self.rng.random_range(0..people.len())].clone()
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.rng.random_range(0..items.len())]
    }

    fn weighted<T: Copy>(&mut self, items: &[(T, f64)]) -> T {
        let total: f64 = items.iter().map(|(_, w)| w).sum();
        let mut x = self.rng.random::<f64>() * total;
        for (item, w) in items {
            if x < *w {
                return *item;
            }
            x -= w;
        }
        items[items.len() - 1].0
    }

    /// A moment in the last `days` days, more of them recent (the business grows), on a
    /// weekday, in business hours.
    fn past_moment(&mut self, days: i64) -> i64 {
        let skew: f64 = self.rng.random::<f64>().sqrt();
        let mut t = self.now - days * DAY + (skew * (days * DAY) as f64) as i64;
        let weekday = (t / DAY + 4).rem_euclid(7); // 0 = Sunday
        if weekday == 0 || weekday == 6 {
            t -= (weekday - 5).rem_euclid(7).max(1) * DAY;
        }
        let day_start = t - t.rem_euclid(DAY);
        let hour = self.rng.random_range(8..18);
        (day_start + hour * 3600 + self.rng.random_range(0..3600)).min(self.now - 60)
    }

    fn between(&mut self, from: i64, to: i64) -> i64 {
        if to <= from {
            from
        } else {
            self.rng.random_range(from..to)
        }
    }

    fn normal(&mut self) -> f64 {
        let u1: f64 = self.rng.random::<f64>().max(1e-12);
        let u2: f64 = self.rng.random();
        (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
    }

    fn users(&mut self, conn: &Connection) -> AppResult<()> {
        let plan: &[(&str, usize)] = &[("admin", 2), ("manager", 4), ("sales", 16), ("support", 6)];
        let mut insert = conn.prepare(
            "INSERT OR IGNORE INTO users (id, email, name, role, password_hash, active, password_changed_at,
                                          created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7, ?7)",
        )?;
        let mut n = 0;
        for (role, count) in plan {
            for i in 0..*count {
                n += 1;
                let first = *self.pick(FIRST_NAMES);
                let last = *self.pick(LAST_NAMES);
                let email = if i == 0 {
                    format!("{role}@demo.example")
                } else {
                    format!("{role}{}@demo.example", i + 1)
                };
                let created = self.now - 800 * DAY + n * DAY;
                let id = self.id_at(created);
                // One sales rep left the company: their records stay, they cannot sign in.
                let active = !(*role == "sales" && i == count - 1);
                let at = Timestamp::from_unix(created)
                    .unwrap_or_else(Timestamp::now)
                    .to_stored();
                let changed = insert.execute(params![
                    id,
                    email,
                    format!("{first} {last}"),
                    role,
                    self.password_hash,
                    active,
                    at
                ])?;
                if changed == 0 {
                    continue;
                }
                self.report.users += 1;
                match *role {
                    "sales" if active => self.reps.push(id),
                    "support" => self.support.push(id),
                    "manager" | "admin" => self.managers.push(id),
                    _ => {}
                }
            }
        }
        if self.reps.is_empty() {
            // Every demo address was taken: use whoever exists.
            let mut stmt = conn.prepare("SELECT id FROM users WHERE active = 1")?;
            self.reps = stmt
                .query_map([], |r| r.get(0))?
                .collect::<Result<_, _>>()?;
            self.managers = self.reps.clone();
            self.support = self.reps.clone();
        }
        Ok(())
    }

    fn customers_and_contacts(
        &mut self,
        conn: &Connection,
        progress: &dyn Progress,
    ) -> AppResult<()> {
        let mut customer = conn.prepare(
            "INSERT INTO customers (id, created_at, updated_at, created_by, version, name, domain, industry,
                                    segment, phone, address, owner_id)
             VALUES (?1, ?2, ?2, ?3, 1, ?4, ?5, ?6, ?7, ?8, ?9, ?3)",
        )?;
        let mut tag =
            conn.prepare("INSERT OR IGNORE INTO customer_tags (customer_id, tag) VALUES (?1, ?2)")?;
        let mut contact = conn.prepare(
            "INSERT INTO contacts (id, created_at, updated_at, created_by, version, customer_id, first_name,
                                   last_name, email, phone, title, owner_id)
             VALUES (?1, ?2, ?2, ?3, 1, ?4, ?5, ?6, ?7, ?8, ?9, ?3)",
        )?;
        let segment_weights: Vec<(usize, f64)> =
            SEGMENTS.iter().enumerate().map(|(i, s)| (i, s.1)).collect();
        // Inserting in time order appends to every index keyed by time or by id (UUIDv7),
        // instead of touching random pages.
        let mut times: Vec<i64> = (0..self.options.customers)
            .map(|_| self.past_moment(36 * 30))
            .collect();
        times.sort_unstable();
        let mut people_to_add: Vec<(i64, usize)> = Vec::new();
        for n in 0..self.options.customers {
            let created = times[n as usize];
            let id = self.id_at(created);
            let owner = self.one_of(Who::Rep);
            let name = format!(
                "{} {}{}",
                self.pick(COMPANY_FIRST),
                self.pick(COMPANY_SECOND),
                self.pick(COMPANY_SUFFIX)
            );
            // Names repeat across a large dataset; domains must stay unique to be useful.
            let slug: String = name
                .to_lowercase()
                .chars()
                .filter(|c| c.is_ascii_alphanumeric())
                .take(24)
                .collect();
            let domain = format!("{slug}{n}.example");
            self.customer_domains.push(domain.clone());
            let segment = self.weighted(&segment_weights);
            let at = stored(created);
            let phone = format!("+1 555 {:04}", self.rng.random_range(0..10_000));
            let address = format!(
                "{} {}\n{}",
                self.rng.random_range(1..999),
                self.pick(STREETS),
                self.pick(CITIES)
            );
            let industry = *self.pick(INDUSTRIES);
            customer.execute(params![
                id,
                at,
                owner,
                &name,
                domain,
                industry,
                SEGMENTS[segment].0,
                phone,
                address
            ])?;
            if self.rng.random_bool(0.15) {
                tag.execute(params![id, "key account"])?;
            }
            if self.rng.random_bool(0.08) {
                tag.execute(params![id, "renewal due"])?;
            }
            self.report.customers += 1;
            self.wrote(conn)?;
            let people = self.rng.random_range(1..=5);
            for _ in 0..people {
                let c_created = self.between(created, self.now - 60);
                people_to_add.push((c_created, self.customers.len()));
            }
            self.customers.push(CustomerRow {
                id,
                name,
                first_contact: None,
                created,
                owner,
                segment,
            });
            progress.advance(1);
        }
        people_to_add.sort_unstable();
        for (c_created, ci) in people_to_add {
            let c_id = self.id_at(c_created);
            let first = *self.pick(FIRST_NAMES);
            let last = *self.pick(LAST_NAMES);
            let domain = &self.customer_domains[ci];
            let email = format!("{}.{}@{}", ascii_slug(first), ascii_slug(last), domain);
            let phone = format!("+1 555 {:04}", self.rng.random_range(0..10_000));
            let title = *self.pick(TITLES);
            let c = &self.customers[ci];
            contact.execute(params![
                c_id,
                stored(c_created),
                c.owner,
                c.id,
                first,
                last,
                email,
                phone,
                title
            ])?;
            if self.customers[ci].first_contact.is_none() {
                self.customers[ci].first_contact = Some(c_id.clone());
            }
            self.contacts.push((c_id, ci, c_created));
            self.report.contacts += 1;
            self.wrote(conn)?;
            progress.advance(1);
        }
        Ok(())
    }

    fn leads(&mut self, conn: &Connection, progress: &dyn Progress) -> AppResult<()> {
        let mut lead = conn.prepare(
            "INSERT INTO leads (id, created_at, updated_at, created_by, version, title, customer_id, contact_id,
                                stage, value_cents, currency, source, assigned_to, expected_close_date,
                                lost_reason, company_name, contact_name, email, phone, stage_changed_at, closed_at)
             VALUES (?1, ?2, ?3, ?4, 1, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?4, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19)",
        )?;
        let mut change = conn.prepare(
            "INSERT INTO lead_stage_changes (lead_id, from_stage, to_stage, actor_id, at) VALUES (?1, ?2, ?3, ?4, ?5)",
        )?;
        let path = ["new", "contacted", "qualified", "proposal"];
        let total = u64::from(self.options.customers) * 5;
        let source_weights: Vec<(usize, f64)> =
            SOURCES.iter().enumerate().map(|(i, s)| (i, s.1)).collect();
        let mut times: Vec<i64> = (0..total).map(|_| self.past_moment(24 * 30)).collect();
        times.sort_unstable();
        for n in 0..total {
            let created = times[n as usize];
            let id = self.id_at(created);
            let source = self.weighted(&source_weights);
            let prospect = self.rng.random_bool(0.25) || self.customers.is_empty();
            let (customer, contact, segment, owner) = if prospect {
                let rep = self.one_of(Who::Rep);
                (
                    None,
                    None,
                    self.weighted(&[(0usize, 0.7), (1, 0.25), (2, 0.05)]),
                    rep,
                )
            } else {
                let ci = self.rng.random_range(0..self.customers.len());
                let c = &self.customers[ci];
                let contact = c.first_contact.clone();
                (Some(ci), contact, c.segment, c.owner.clone())
            };
            let mu = SEGMENTS[segment].2;
            let value = (mu + 0.8 * self.normal())
                .exp()
                .round()
                .clamp(10_000.0, 5e9) as i64
                / 100
                * 100;
            let currency = *self.pick(&[
                "USD", "USD", "USD", "USD", "USD", "USD", "EUR", "EUR", "GBP",
            ]);
            // How far it got: older leads have had time to close.
            let age_days = (self.now - created) / DAY;
            let closed_chance = (age_days as f64 / 120.0).min(0.92);
            let win_bias = SOURCES[source].2;
            let (final_stage, reached) = if self.rng.random_bool(closed_chance) {
                let won = self.rng.random_bool((0.33 * win_bias).min(0.9));
                (
                    if won { "won" } else { "lost" },
                    self.rng.random_range(1..=4),
                )
            } else {
                let reached = self.rng.random_range(0..4);
                (path[reached], reached)
            };
            let mut at = created;
            let mut from: Option<&str> = None;
            let mut moves = Vec::new();
            for stage in path.iter().take(reached.max(1)) {
                if let Some(f) = from {
                    at = self.between(at, (at + 20 * DAY).min(self.now - 60));
                    moves.push((f, *stage, at));
                }
                from = Some(stage);
            }
            if let Some(f) = from
                && f != final_stage
            {
                at = self.between(at, (at + 30 * DAY).min(self.now - 60));
                moves.push((f, final_stage, at));
            }
            let closed_at = matches!(final_stage, "won" | "lost").then_some(at);
            let lost_reason = (final_stage == "lost").then(|| *self.pick(LOST_REASONS));
            let expected_close = date_of(created + self.rng.random_range(20..120) * DAY);
            let (title, company, person, email, phone) = match customer {
                Some(ci) => {
                    let what = *self.pick(&[
                        "Annual contract",
                        "Pilot",
                        "Expansion",
                        "Renewal",
                        "New site",
                        "Upgrade",
                    ]);
                    (
                        format!("{what} — {}", self.customers[ci].name),
                        None,
                        None,
                        None,
                        None,
                    )
                }
                None => {
                    let company =
                        format!("{} {}", self.pick(COMPANY_FIRST), self.pick(COMPANY_SECOND));
                    let first = *self.pick(FIRST_NAMES);
                    let last = *self.pick(LAST_NAMES);
                    let email =
                        format!("{}@{}{n}.example", ascii_slug(first), ascii_slug(&company));
                    (
                        format!("Inbound: {company}"),
                        Some(company),
                        Some(format!("{first} {last}")),
                        Some(email),
                        Some(format!("+1 555 {:04}", self.rng.random_range(0..10_000))),
                    )
                }
            };
            lead.execute(params![
                id,
                stored(created),
                stored(at),
                owner,
                title,
                customer.map(|ci| self.customers[ci].id.clone()),
                contact,
                final_stage,
                value,
                currency,
                SOURCES[source].0,
                expected_close,
                lost_reason,
                company,
                person,
                email,
                phone,
                stored(at),
                closed_at.map(stored),
            ])?;
            change.execute(params![
                id,
                Option::<&str>::None,
                "new",
                owner,
                stored(created)
            ])?;
            self.report.stage_changes += 1;
            for (f, t, when) in &moves {
                change.execute(params![id, f, t, owner, stored(*when)])?;
                self.report.stage_changes += 1;
            }
            self.leads.push((id, customer, created, closed_at));
            self.report.leads += 1;
            self.wrote(conn)?;
            if n % 64 == 63 {
                progress.advance(64 * 2);
            }
        }
        Ok(())
    }

    fn tasks(&mut self, conn: &Connection, progress: &dyn Progress) -> AppResult<()> {
        let mut task = conn.prepare(
            "INSERT INTO tasks (id, created_at, updated_at, created_by, version, title, description, due_at,
                                remind_at, priority, status, assigned_to, lead_id, customer_id, completed_at,
                                completed_by)
             VALUES (?1, ?2, ?3, ?4, 1, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
        )?;
        let total = u64::from(self.options.customers) * 5 / 2;
        if self.leads.is_empty() {
            return Ok(());
        }
        // (created, lead index), inserted in time order.
        let mut planned: Vec<(i64, usize)> = (0..total)
            .map(|_| {
                let li = self.rng.random_range(0..self.leads.len());
                let (_, _, lead_created, closed) = self.leads[li];
                (
                    self.between(lead_created, closed.unwrap_or(self.now - 60)),
                    li,
                )
            })
            .collect();
        planned.sort_unstable();
        for (n, (created, li)) in planned.into_iter().enumerate() {
            let (lead_id, customer, _, _) = self.leads[li].clone();
            let due = created + self.rng.random_range(1..30) * DAY;
            let id = self.id_at(created);
            let assignee = if self.rng.random_bool(0.15) && !self.support.is_empty() {
                self.one_of(Who::Support)
            } else {
                self.one_of(Who::Rep)
            };
            let creator = if self.rng.random_bool(0.2) {
                self.one_of(Who::Manager)
            } else {
                assignee.clone()
            };
            let done =
                due < self.now - 2 * DAY && self.rng.random_bool(0.85) || self.rng.random_bool(0.1);
            let status = if done {
                "completed"
            } else if self.rng.random_bool(0.3) {
                "in_progress"
            } else {
                "pending"
            };
            let completed_at =
                done.then(|| stored(self.between(created, due.min(self.now - 60) + DAY)));
            let priority = *self.pick(&["low", "medium", "medium", "high"]);
            let remind = self.rng.random_bool(0.4).then(|| stored(due - 3600));
            let title = *self.pick(TASK_TITLES);
            task.execute(params![
                id,
                stored(created),
                completed_at.clone().unwrap_or_else(|| stored(created)),
                creator,
                title,
                Option::<&str>::None,
                stored(due),
                remind,
                priority,
                status,
                assignee,
                lead_id,
                customer.map(|ci| self.customers[ci].id.clone()),
                completed_at,
                done.then_some(&assignee),
            ])?;
            self.report.tasks += 1;
            self.wrote(conn)?;
            if n % 64 == 63 {
                progress.advance(64);
            }
        }
        Ok(())
    }

    fn activities(&mut self, conn: &Connection, progress: &dyn Progress) -> AppResult<()> {
        let mut activity = conn.prepare(
            "INSERT INTO activities (id, created_at, updated_at, created_by, version, subject_type, subject_id,
                                     kind, body, occurred_at)
             VALUES (?1, ?2, ?2, ?3, 1, ?4, ?5, ?6, ?7, ?8)",
        )?;
        let total = u64::from(self.options.customers) * 20;
        if self.customers.is_empty() {
            return Ok(());
        }
        // (occurred, subject kind, subject index), inserted in time order.
        let mut planned: Vec<(i64, u8, u32)> = (0..total)
            .map(|_| {
                let roll = self.rng.random_range(0..10);
                let (kind, index, from, to) = if roll < 6 && !self.leads.is_empty() {
                    let li = self.rng.random_range(0..self.leads.len());
                    let (_, _, created, closed) = self.leads[li];
                    (0u8, li, created, closed.unwrap_or(self.now - 60))
                } else if roll < 8 && !self.contacts.is_empty() {
                    let ci = self.rng.random_range(0..self.contacts.len());
                    (1, ci, self.contacts[ci].2, self.now - 60)
                } else {
                    let ci = self.rng.random_range(0..self.customers.len());
                    (2, ci, self.customers[ci].created, self.now - 60)
                };
                (self.between(from, to.max(from + 1)), kind, index as u32)
            })
            .collect();
        planned.sort_unstable();
        for (n, (occurred, kind, index)) in planned.into_iter().enumerate() {
            let index = index as usize;
            let (subject_type, subject_id) = match kind {
                0 => ("lead", self.leads[index].0.clone()),
                1 => ("contact", self.contacts[index].0.clone()),
                _ => ("customer", self.customers[index].id.clone()),
            };
            let id = self.id_at(occurred);
            let (kind, bodies) = *self.pick(ACTIVITY_BODIES);
            let body = *self.pick(bodies);
            let author = if self.rng.random_bool(0.2) && !self.support.is_empty() {
                self.one_of(Who::Support)
            } else {
                self.one_of(Who::Rep)
            };
            activity.execute(params![
                id,
                stored(occurred),
                author,
                subject_type,
                subject_id,
                kind,
                body,
                stored(occurred)
            ])?;
            self.report.activities += 1;
            self.wrote(conn)?;
            if n % 256 == 255 {
                progress.advance(256);
            }
        }
        Ok(())
    }
}

fn stored(secs: i64) -> String {
    Timestamp::from_unix(secs)
        .unwrap_or_else(Timestamp::now)
        .to_stored()
}

fn date_of(secs: i64) -> String {
    stored(secs)[..10].to_owned()
}

/// `José` → `jose`, for e-mail addresses.
fn ascii_slug(s: &str) -> String {
    s.chars()
        .filter_map(|c| match c {
            'á' | 'à' | 'ä' | 'â' | 'Á' => Some('a'),
            'é' | 'è' | 'ë' | 'ê' | 'É' => Some('e'),
            'í' | 'ï' | 'Í' => Some('i'),
            'ó' | 'ö' | 'ô' | 'ø' | 'Ø' | 'Ó' => Some('o'),
            'ú' | 'ü' | 'Ú' | 'Ü' => Some('u'),
            'ñ' => Some('n'),
            'ç' => Some('c'),
            c if c.is_ascii_alphanumeric() => Some(c.to_ascii_lowercase()),
            _ => None,
        })
        .collect()
}

/// How long a run took, for the CLI's summary.
pub fn describe(report: &DemoReport, took: Duration) -> String {
    format!(
        "{} users, {} customers, {} contacts, {} leads ({} stage changes), {} tasks, {} activities in {:.1} s",
        report.users,
        report.customers,
        report.contacts,
        report.leads,
        report.stage_changes,
        report.tasks,
        report.activities,
        took.as_secs_f64()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fresh() -> Connection {
        let mut conn = crate::db::connection::open_in_memory().unwrap();
        crate::db::migrations::migrate(&mut conn, "mem").unwrap();
        conn
    }

    fn fingerprint(conn: &Connection) -> Vec<String> {
        let mut stmt = conn
            .prepare("SELECT id || name || ifnull(domain, '') FROM customers ORDER BY id")
            .unwrap();
        stmt.query_map([], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    }

    #[test]
    fn same_seed_same_data_and_sizes_follow_the_ratios() {
        let options = DemoOptions {
            customers: 40,
            seed: 7,
        };
        let mut a = fresh();
        let report = generate(&mut a, options, "hash", &Quiet).unwrap();
        assert_eq!(report.customers, 40);
        assert_eq!(report.leads, 200);
        assert_eq!(report.tasks, 100);
        assert_eq!(report.activities, 800);
        assert!(report.contacts >= 40 && report.contacts <= 200);
        let mut b = fresh();
        generate(&mut b, options, "hash", &Quiet).unwrap();
        assert_eq!(fingerprint(&a), fingerprint(&b));

        let mut c = fresh();
        generate(&mut c, DemoOptions { seed: 8, ..options }, "hash", &Quiet).unwrap();
        assert_ne!(fingerprint(&a), fingerprint(&c));
    }

    #[test]
    fn data_is_consistent() {
        let mut conn = fresh();
        let triggers = |conn: &Connection| -> Vec<String> {
            conn.prepare("SELECT sql FROM sqlite_schema WHERE type = 'trigger' ORDER BY name")
                .unwrap()
                .query_map([], |r| r.get(0))
                .unwrap()
                .map(Result::unwrap)
                .collect()
        };
        let before = triggers(&conn);
        generate(
            &mut conn,
            DemoOptions {
                customers: 60,
                seed: 1,
            },
            "hash",
            &Quiet,
        )
        .unwrap();
        let q = |sql: &str| -> i64 { conn.query_row(sql, [], |r| r.get(0)).unwrap() };
        assert_eq!(
            q("SELECT count(*) FROM leads WHERE stage IN ('won','lost') AND closed_at IS NULL"),
            0
        );
        assert_eq!(
            q(
                "SELECT count(*) FROM leads WHERE stage NOT IN ('won','lost') AND closed_at IS NOT NULL"
            ),
            0
        );
        assert_eq!(
            q("SELECT count(*) FROM leads WHERE stage = 'lost' AND lost_reason IS NULL"),
            0
        );
        assert_eq!(
            q("SELECT count(*) FROM leads WHERE customer_id IS NULL AND company_name IS NULL"),
            0
        );
        assert!(q("SELECT count(*) FROM leads WHERE stage = 'won'") > 0);
        assert!(q("SELECT count(DISTINCT stage) FROM leads") >= 5);
        assert_eq!(
            q("SELECT count(*) FROM tasks WHERE status = 'completed' AND completed_at IS NULL"),
            0
        );
        assert_eq!(
            q(
                "SELECT count(*) FROM activities WHERE occurred_at > strftime('%Y-%m-%dT%H:%M:%fZ','now')"
            ),
            0
        );
        let report = crate::db::maintenance::check(&conn).unwrap();
        assert!(report.passed(), "{report:?}");
        // Bulk indexing leaves the search triggers exactly as they were.
        assert_eq!(triggers(&conn), before);
        let again = generate(
            &mut conn,
            DemoOptions {
                customers: 1,
                seed: 1,
            },
            "hash",
            &Quiet,
        );
        assert!(matches!(again, Err(AppError::Conflict(_))));
    }

    #[test]
    fn slugs_drop_accents() {
        assert_eq!(ascii_slug("José"), "jose");
        assert_eq!(ascii_slug("O'Brien"), "obrien");
        assert_eq!(ascii_slug("Søren"), "soren");
    }
}
