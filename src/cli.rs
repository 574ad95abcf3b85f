//! The command line. Every flag can also be set by the environment variable shown in
//! `--help`; durations are written like `90s`, `15m`, `12h`.

use std::io::Read;
use std::net::IpAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use crate::auth::password;
use crate::auth::permissions::Role;
use crate::config::{Secret, ServeConfig};
use crate::db::backups::Schedule;
use crate::db::{connection, maintenance, migrations, open_and_migrate, restore as db_restore};
use crate::domain::audit::{self, Entry};
use crate::domain::clock::Zone;
use crate::domain::currency::Currency;
use crate::domain::exports::{self, Entity, Export};
use crate::domain::imports;
use crate::domain::users::{self, NewUserInput, PasswordChange};
use crate::domain::values::{Email, Password};
use crate::error::AppError;

#[derive(Debug, Parser)]
#[command(
    name = "rapport",
    version,
    about = "Rapport: a self-hosted CRM for small teams, in one executable",
    long_about = "Rapport: a self-hosted CRM for small teams, in one executable.\n\n\
        Everything (records, audit trail, attachments) lives in one SQLite file. \
        Start with `rapport serve`: on a new database it prints a one-time link that \
        creates the first admin.",
    after_help = "Every flag can also be set through the environment variable shown next to it."
)]
pub struct Cli {
    /// The database file (created on first start).
    #[arg(long, env = "RAPPORT_DB", default_value = "rapport.db", global = true)]
    pub db: PathBuf,

    /// Log filter, e.g. `info`, `debug`, `warn,rapport=debug`.
    #[arg(long, env = "RAPPORT_LOG", default_value = "info", global = true)]
    pub log: String,

    /// Log lines as human-readable `text`, or `json` (one object a line, for journald
    /// exporters, Loki, Elasticsearch…).
    #[arg(long, env = "RAPPORT_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text,
          global = true)]
    pub log_format: LogFormat,

    /// bcrypt cost for new password hashes (4–16; each step doubles the work).
    #[arg(long, env = "RAPPORT_BCRYPT_COST", default_value_t = password::DEFAULT_COST,
          value_parser = clap::value_parser!(u32).range(password::MIN_COST as i64..=password::MAX_COST as i64),
          global = true)]
    pub bcrypt_cost: u32,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the web app and the JSON API.
    Serve(ServeArgs),
    /// Apply pending schema migrations and exit (`serve` also does it at start).
    Migrate,
    /// Manage user accounts.
    #[command(subcommand)]
    User(UserCommand),
    /// Write a consistent snapshot of the live database to DEST, while `serve` keeps running.
    Backup {
        /// Where to write the snapshot.
        dest: PathBuf,
        /// Replace DEST if it exists.
        #[arg(long, env = "RAPPORT_BACKUP_FORCE")]
        force: bool,
    },
    /// Put the backup SRC in place of the database, while no server runs: checks SRC first
    /// (a Rapport database, intact, not from a newer Rapport) and keeps the replaced file as
    /// `<db>.replaced-<time>`. An older backup is upgraded at the next start.
    Restore {
        /// The backup to restore (a snapshot from the backup folder, `rapport backup` or the
        /// admin download).
        src: PathBuf,
    },
    /// Check the database: integrity, foreign keys, the audit chain, the search index, and
    /// every attachment's bytes against its sha256. Exit code 0 only when all pass.
    Check,
    /// Fill an empty CRM with realistic demo data (users of every role, customers, contacts,
    /// leads across stages and months, tasks, activities). Demo users sign in with the
    /// password `rapport-demo`.
    Demo(DemoArgs),
    /// Export a list as CSV (the same file as the API's export), to stdout or --out.
    Export(ExportArgs),
    /// Import a CSV file (the same import as the API and the web app), with a progress bar.
    Import(ImportArgs),
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// customers, contacts, leads, tasks or activities; or users (accounts with generated
    /// passwords, printed once as CSV).
    pub entity: String,
    /// The CSV file.
    pub file: PathBuf,
    /// Which field a column fills, as "Header=field" ("Header=" leaves the column out);
    /// repeat for several. Other columns keep the suggested field.
    #[arg(long = "map")]
    pub map: Vec<String>,
    /// What to do with a row that matches an existing record: skip, update or create.
    #[arg(long, env = "RAPPORT_IMPORT_ON_DUPLICATE", default_value = "skip")]
    pub on_duplicate: String,
    /// Validate and show the mapping and errors, writing no records.
    #[arg(long, env = "RAPPORT_IMPORT_DRY_RUN")]
    pub dry_run: bool,
    /// The e-mail address of the user the records are created by (default: the first
    /// active admin).
    #[arg(long = "as", env = "RAPPORT_IMPORT_AS")]
    pub as_user: Option<String>,
    /// Write the rows that had errors to this CSV file, to fix and import again.
    #[arg(long, env = "RAPPORT_IMPORT_ERRORS")]
    pub errors_out: Option<PathBuf>,
    /// The currency of leads whose row names none.
    #[arg(long, env = "RAPPORT_BASE_CURRENCY", default_value = "USD")]
    pub base_currency: String,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// customers, contacts, leads, tasks or activities.
    pub entity: String,
    /// Write to this file (replaced if it exists) instead of standard output.
    #[arg(long, env = "RAPPORT_EXPORT_OUT")]
    pub out: Option<PathBuf>,
    /// Start with a UTF-8 byte-order mark, for Excel.
    #[arg(long, env = "RAPPORT_EXPORT_BOM")]
    pub bom: bool,
    /// A list parameter as KEY=VALUE, e.g. `stage=won`, `sort=title`, `order=asc`, `q=acme`;
    /// repeat for several (comma-separated in the environment variable).
    #[arg(long = "filter", env = "RAPPORT_EXPORT_FILTER", value_delimiter = ',')]
    pub filters: Vec<String>,
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// How many customers; contacts, leads, tasks and activities scale with it
    /// (about 3×, 5×, 2.5× and 20×).
    #[arg(long, env = "RAPPORT_DEMO_CUSTOMERS", default_value_t = 200,
          value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub customers: u32,
    /// The same seed always generates the same data.
    #[arg(long, env = "RAPPORT_DEMO_SEED", default_value_t = 42)]
    pub seed: u64,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address and port to listen on.
    #[arg(long, env = "RAPPORT_BIND", default_value = "127.0.0.1:8080")]
    pub bind: String,

    /// The URL users reach Rapport at (e.g. https://crm.example.com). With https, cookies
    /// are Secure and `__Host-` prefixed, and HSTS is sent.
    #[arg(long, env = "RAPPORT_BASE_URL")]
    pub base_url: Option<String>,

    /// How long a sign-in lasts.
    #[arg(long, env = "RAPPORT_TOKEN_TTL", default_value = "12h", value_parser = humantime::parse_duration)]
    pub token_ttl: Duration,

    /// Reverse proxies whose X-Forwarded-For is believed (comma-separated addresses).
    #[arg(long, env = "RAPPORT_TRUSTED_PROXY", value_delimiter = ',')]
    pub trusted_proxy: Vec<IpAddr>,

    /// Dedicated threads answering database reads (default: one per CPU core, at least 2).
    #[arg(long, env = "RAPPORT_DB_READERS",
          value_parser = clap::value_parser!(u16).range(1..=64))]
    pub db_readers: Option<u16>,

    /// HTTP worker threads (default: one per CPU core).
    #[arg(long, env = "RAPPORT_WORKERS")]
    pub workers: Option<usize>,

    /// Largest accepted request body, in bytes.
    #[arg(long, env = "RAPPORT_MAX_BODY", default_value_t = 1024 * 1024)]
    pub max_body: usize,

    /// Largest accepted CSV upload for imports, in bytes.
    #[arg(long, env = "RAPPORT_MAX_IMPORT", default_value_t = 256 * 1024 * 1024)]
    pub max_import: usize,

    /// Largest accepted attachment, in bytes (default 25 MiB).
    #[arg(long, env = "RAPPORT_MAX_ATTACHMENT", default_value_t = crate::config::DEFAULT_MAX_ATTACHMENT)]
    pub max_attachment: usize,

    /// On a database without users, fill it with demo data first (see `rapport demo`).
    #[arg(long, env = "RAPPORT_DEMO")]
    pub demo: bool,

    /// ISO 4217 code used for new leads that give no currency.
    #[arg(long, env = "RAPPORT_BASE_CURRENCY", default_value = "USD")]
    pub base_currency: Currency,

    /// IANA time zone (e.g. Europe/Berlin, America/New_York) deciding what "today" and
    /// "this month" mean on the dashboard and in My tasks. Times are stored in UTC either
    /// way; changing it rebuilds the report tables once at the next start.
    #[arg(long, env = "RAPPORT_TIMEZONE", default_value = "UTC")]
    pub timezone: Zone,

    /// Take scheduled snapshots into this folder (complete database files named
    /// `rapport-<UTC time>.db`; the newest is always safe to copy).
    #[arg(long, env = "RAPPORT_BACKUP_DIR")]
    pub backup_dir: Option<PathBuf>,

    /// How often to take a snapshot, counted from the newest one in the folder.
    #[arg(long, env = "RAPPORT_BACKUP_INTERVAL", default_value = "6h",
          value_parser = parse_backup_interval)]
    pub backup_interval: Duration,

    /// How many snapshots to keep; older ones are deleted.
    #[arg(long, env = "RAPPORT_BACKUP_KEEP", default_value_t = 14,
          value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub backup_keep: u32,

    /// How long read notifications are kept (unread ones are kept until read).
    #[arg(long, env = "RAPPORT_NOTIFICATION_RETENTION", default_value = "90d",
          value_parser = humantime::parse_duration)]
    pub notification_retention: Duration,

    /// Require `Authorization: Bearer <token>` on `GET /metrics` (at least 16 bytes), for
    /// scraping from another machine. Without it `/metrics` answers only direct
    /// connections from this machine (loopback, not through a proxy). Prefer the
    /// environment variable: command lines are visible to other local users.
    #[arg(long, env = "RAPPORT_METRICS_TOKEN", hide_env_values = true,
          value_parser = parse_metrics_token)]
    pub metrics_token: Option<MetricsToken>,
}

/// `--metrics-token`, parsed straight into a [`Secret`] (whose `Debug` never prints it).
/// Empty means none, as `RAPPORT_METRICS_TOKEN=` in an env file or `docker run -e` gives.
#[derive(Debug, Clone)]
pub struct MetricsToken(Option<Secret>);

fn parse_metrics_token(raw: &str) -> Result<MetricsToken, String> {
    if raw.is_empty() {
        return Ok(MetricsToken(None));
    }
    Secret::parse_named("--metrics-token", raw, 16).map(|s| MetricsToken(Some(s)))
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a user. The password is read from stdin with --password-stdin, otherwise one
    /// is generated and printed once.
    Create {
        #[arg(long, env = "RAPPORT_USER_EMAIL")]
        email: String,
        #[arg(long, env = "RAPPORT_USER_NAME")]
        name: String,
        /// admin, manager, sales or support.
        #[arg(long, env = "RAPPORT_USER_ROLE")]
        role: Role,
        /// Read the password from the first line of standard input.
        #[arg(long, env = "RAPPORT_PASSWORD_STDIN")]
        password_stdin: bool,
    },
    /// Give a user a new generated password (printed once) and end all their sessions,
    /// also while the server runs.
    ResetPassword {
        #[arg(long, env = "RAPPORT_USER_EMAIL")]
        email: String,
    },
}

impl clap::ValueEnum for Role {
    fn value_variants<'a>() -> &'a [Self] {
        &Role::ALL
    }

    fn to_possible_value(&self) -> Option<clap::builder::PossibleValue> {
        Some(clap::builder::PossibleValue::new(self.as_str()))
    }
}

impl ServeArgs {
    pub fn into_config(self, db: PathBuf, bcrypt_cost: u32) -> Result<ServeConfig, String> {
        let secret = match std::env::var("RAPPORT_SECRET") {
            Ok(raw) if !raw.is_empty() => Some(Secret::parse(&raw)?),
            _ => None,
        };
        let base_url = self.base_url.unwrap_or_default();
        let absolute = base_url.starts_with("http://") || base_url.starts_with("https://");
        if !base_url.is_empty() && !absolute {
            return Err(format!(
                "--base-url must start with http:// or https:// (got {base_url})"
            ));
        }
        let workers = self
            .workers
            .filter(|w| *w > 0)
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get()));
        Ok(ServeConfig {
            db,
            bind: self.bind,
            base_url,
            token_ttl: self.token_ttl,
            trusted_proxies: self.trusted_proxy,
            bcrypt_cost,
            secret,
            // More readers than cores only add page caches: a read is CPU work once its
            // pages are in memory (four readers on two cores peaked 20 MB higher under load,
            // for no more throughput).
            db_readers: self.db_readers.map_or_else(
                || std::thread::available_parallelism().map_or(2, |n| n.get().max(2)),
                usize::from,
            ),
            workers,
            max_body_bytes: self.max_body,
            max_import_bytes: self.max_import,
            max_attachment_bytes: self.max_attachment,
            base_currency: self.base_currency,
            timezone: self.timezone,
            login_limits: Default::default(),
            notification_retention: self.notification_retention,
            timers: Default::default(),
            backups: self.backup_dir.map(|dir| Schedule {
                dir,
                interval: self.backup_interval,
                keep: self.backup_keep as usize,
            }),
            metrics_token: self.metrics_token.and_then(|t| t.0),
        })
    }
}

/// At least a second: the snapshot names count seconds.
fn parse_backup_interval(raw: &str) -> Result<Duration, String> {
    let interval = humantime::parse_duration(raw).map_err(|e| e.to_string())?;
    if interval < Duration::from_secs(1) {
        return Err("must be at least 1s".into());
    }
    Ok(interval)
}

/// `rapport migrate`
pub fn migrate(db: &std::path::Path) -> Result<(), String> {
    let conn = open_and_migrate(db).map_err(|e| e.to_string())?;
    let version = migrations::current_version(&conn).map_err(|e| e.to_string())?;
    println!("{} is at schema version {version}", db.display());
    Ok(())
}

/// `rapport user create|reset-password`
pub fn user(db: &std::path::Path, bcrypt_cost: u32, command: UserCommand) -> Result<(), String> {
    let mut conn = open_and_migrate(db).map_err(|e| e.to_string())?;
    match command {
        UserCommand::Create {
            email,
            name,
            role,
            password_stdin,
        } => {
            let given = if password_stdin {
                Some(read_password_line()?)
            } else {
                None
            };
            let input = NewUserInput {
                email,
                name,
                role: role.as_str().to_owned(),
                password: given,
            };
            let mut user = input.validate().map_err(describe)?;
            let generated = user.password.is_none().then(Password::generate);
            let chosen = user.password.take().or_else(|| generated.clone());
            let chosen = chosen.ok_or("no password")?;
            let hash = password::hash_blocking(&chosen, bcrypt_cost).map_err(describe)?;
            let created = in_transaction(&mut conn, |tx| users::insert(tx, None, &user, &hash))?;
            println!(
                "Created {} {} ({})",
                created.role.as_str(),
                created.email,
                created.name
            );
            if let Some(p) = generated {
                println!("Password (shown once): {}", p.expose());
            }
        }
        UserCommand::ResetPassword { email } => {
            let email =
                Email::parse("email", &email).map_err(|e| format!("--email {}", e.message))?;
            let found = users::find_by_email(&conn, email.as_str())
                .map_err(describe)?
                .ok_or_else(|| format!("no user with e-mail {}", email.as_str()))?;
            let new = Password::generate();
            let hash = password::hash_blocking(&new, bcrypt_cost).map_err(describe)?;
            in_transaction(&mut conn, |tx| {
                users::set_password(tx, None, &found.id, &hash, PasswordChange::Reset)
            })?;
            println!(
                "New password for {} (shown once): {}",
                found.email,
                new.expose()
            );
            println!("All of their sessions have ended.");
        }
    }
    Ok(())
}

/// `rapport demo`, and `serve --demo` before it starts. Returns `None` when the database
/// already had users (serve) — demo data never mixes with real records.
pub fn demo(
    db: &std::path::Path,
    bcrypt_cost: u32,
    args: &DemoArgs,
    only_if_empty: bool,
) -> Result<Option<String>, String> {
    let mut conn = open_and_migrate(db).map_err(|e| e.to_string())?;
    if only_if_empty && users::count(&conn).map_err(describe)? > 0 {
        return Ok(None);
    }
    let password = Password::parse("password", crate::demo::PASSWORD).map_err(|e| e.message)?;
    let hash = password::hash_blocking(&password, bcrypt_cost).map_err(describe)?;
    let started = std::time::Instant::now();
    let bar = ProgressBar::new();
    let options = crate::demo::DemoOptions {
        customers: args.customers,
        seed: args.seed,
    };
    let report = crate::demo::generate(&mut conn, options, &hash, &bar).map_err(describe)?;
    bar.finish();
    Ok(Some(format!(
        "Demo data: {}.\nSign in as admin@demo.example (or manager@, sales@, support@demo.example) with the password {}",
        crate::demo::describe(&report, started.elapsed()),
        crate::demo::PASSWORD
    )))
}

/// A terminal progress bar (hidden when stdout is not a terminal).
struct ProgressBar(indicatif::ProgressBar);

impl ProgressBar {
    fn new() -> Self {
        let bar = indicatif::ProgressBar::new(0);
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{spinner} {wide_bar} {percent:>3}% {elapsed_precise}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        Self(bar)
    }

    fn finish(&self) {
        self.0.finish_and_clear();
    }
}

impl crate::demo::Progress for ProgressBar {
    fn start(&self, total: u64) {
        self.0.set_length(total);
    }

    fn advance(&self, rows: u64) {
        self.0.inc(rows);
    }
}

/// `rapport backup DEST`
pub fn backup(db: &std::path::Path, dest: &std::path::Path, force: bool) -> Result<(), String> {
    let conn = open_existing(db)?;
    maintenance::snapshot(&conn, dest, force).map_err(|e| e.to_string())?;
    let size = std::fs::metadata(dest).map(|m| m.len()).unwrap_or(0);
    println!("Wrote {} ({size} bytes), integrity checked", dest.display());
    Ok(())
}

/// `rapport restore SRC`
pub fn restore(db: &std::path::Path, src: &std::path::Path) -> Result<(), String> {
    connection::assert_sqlite_version()?;
    let done = db_restore::restore(db, src).map_err(|e| e.to_string())?;
    println!(
        "Restored {} as {} (schema version {})",
        src.display(),
        db.display(),
        done.version
    );
    if let Some(replaced) = &done.replaced {
        println!("The database it replaced is kept as {}", replaced.display());
    }
    let latest = migrations::latest_version();
    if done.version < latest {
        println!(
            "The next `rapport serve` or `rapport migrate` upgrades it to version {latest}, saving a copy first."
        );
    }
    Ok(())
}

/// `rapport check`
pub fn check(db: &std::path::Path) -> Result<ExitCode, String> {
    let conn = open_existing(db)?;
    let report = maintenance::check(&conn).map_err(|e| e.to_string())?;
    if report.passed() {
        println!(
            "integrity: ok\nforeign keys: ok\naudit chain: ok\nsearch index: ok\nattachments: ok"
        );
        return Ok(ExitCode::SUCCESS);
    }
    for line in &report.integrity {
        println!("integrity: {line}");
    }
    for line in &report.foreign_keys {
        println!("foreign key: {line}");
    }
    for line in &report.audit_chain {
        println!("audit chain: {line}");
    }
    for line in &report.search_index {
        println!("search index: {line}");
    }
    for line in &report.attachments {
        println!("attachments: {line}");
    }
    Ok(ExitCode::FAILURE)
}

/// `rapport export ENTITY`: the command line sees every field (it has the file anyway) and
/// is audited as `export.<entity>` without an actor.
pub fn export(db: &std::path::Path, args: ExportArgs) -> Result<ExitCode, String> {
    let entity = Entity::parse(&args.entity).ok_or_else(|| {
        format!(
            "unknown entity {}: customers, contacts, leads, tasks or activities",
            args.entity
        )
    })?;
    let mut raw = Vec::new();
    for pair in &args.filters {
        let (k, v) = pair
            .split_once('=')
            .ok_or_else(|| format!("--filter {pair}: expected KEY=VALUE"))?;
        raw.push((k.trim().to_owned(), v.to_owned()));
    }
    raw.push(("bom".to_owned(), args.bom.to_string()));
    let export = Export::parse(entity, &raw, true).map_err(describe)?;
    let mut conn = open_existing(db)?;
    let rows = match &args.out {
        Some(path) => {
            let file = std::fs::File::create(path)
                .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
            let mut out = std::io::BufWriter::with_capacity(64 * 1024, file);
            let rows = exports::write(&conn, &export, &mut out).map_err(describe)?;
            out.into_inner()
                .map_err(|e| e.to_string())?
                .sync_all()
                .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
            rows
        }
        None => {
            let stdout = std::io::stdout();
            let mut out = std::io::BufWriter::with_capacity(64 * 1024, stdout.lock());
            let rows = exports::write(&conn, &export, &mut out).map_err(describe)?;
            std::io::Write::flush(&mut out).map_err(|e| e.to_string())?;
            rows
        }
    };
    in_transaction(&mut conn, |tx| {
        audit::record(
            tx,
            Entry::new(None, &export.action(), entity.kind().name())
                .after(&export.audit_details(rows, true)),
        )
    })?;
    if let Some(path) = &args.out {
        eprintln!("Exported {rows} {} to {}", entity.plural(), path.display());
    }
    Ok(ExitCode::SUCCESS)
}

/// `rapport import ENTITY FILE`: exits 0 when every row went in, 1 otherwise.
pub fn import(
    db: &std::path::Path,
    bcrypt_cost: u32,
    args: ImportArgs,
) -> Result<ExitCode, String> {
    if args.entity == "users" {
        return import_users(db, bcrypt_cost, &args.file);
    }
    let entity = Entity::parse(&args.entity).ok_or_else(|| {
        format!(
            "unknown entity {}: users, customers, contacts, leads, tasks or activities",
            args.entity
        )
    })?;
    let on_duplicate = imports::OnDuplicate::parse(&args.on_duplicate)
        .ok_or("--on-duplicate must be skip, update or create")?;
    let base_currency = Currency::parse("base_currency", &args.base_currency)
        .map_err(|e| format!("--base-currency {}", e.message))?;
    let mut mapping = std::collections::BTreeMap::new();
    for pair in &args.map {
        let (header, field) = pair
            .rsplit_once('=')
            .ok_or_else(|| format!("--map {pair}: expected \"Header=field\""))?;
        mapping.insert(header.to_owned(), Some(field.trim().to_owned()));
    }
    let bytes = std::fs::read(&args.file)
        .map_err(|e| format!("cannot read {}: {e}", args.file.display()))?;
    let request = imports::Request {
        entity,
        filename: args.file.display().to_string(),
        mapping: (!mapping.is_empty()).then_some(mapping),
        on_duplicate,
        dry_run: args.dry_run,
    };
    let prepared = imports::prepare(&request, bytes).map_err(describe)?;
    let db = crate::db::Db::open(&crate::db::DbOptions {
        path: db.to_path_buf(),
        readers: 1,
    })
    .map_err(|e| e.to_string())?;
    imports::recover(&db).map_err(describe)?;
    let as_user = args.as_user.clone();
    let (actor, id, prepared) = db
        .write_blocking(move |conn| {
            let actor = command_line_actor(conn, as_user.as_deref())?;
            let id = imports::create(conn, &actor, &request, &prepared)?;
            Ok((actor, id, prepared))
        })
        .map_err(describe)?;
    let bar = ProgressBar::new();
    let status = imports::run(
        &db,
        &id,
        actor,
        base_currency,
        Some(prepared),
        |done, total| {
            bar.0.set_length(total.max(0) as u64);
            bar.0.set_position(done.max(0) as u64);
        },
    )
    .map_err(describe)?;
    bar.finish();
    print_import_summary(&status);
    if let Some(path) = &args.errors_out {
        let file = std::fs::File::create(path)
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        let id = id.clone();
        let written = db
            .write_blocking(move |conn| imports::write_error_csv(conn, &id, file))
            .map_err(describe)?;
        eprintln!("Wrote {written} row(s) with errors to {}", path.display());
    }
    let clean = matches!(status.status.as_str(), "completed" | "validated") && status.failed == 0;
    Ok(if clean {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// `rapport import users FILE`: an account for each row (columns like "Email", "Name" or
/// "First Name"/"Last Name", "Role"), with a generated password, written to stdout as CSV
/// (`email,password`) once. Addresses that already have an account are left as they are.
/// Accounts are created active, also those the file marks inactive, so records owned by
/// former staff can be imported; deactivate those afterwards (they are listed).
fn import_users(
    db: &std::path::Path,
    bcrypt_cost: u32,
    file: &std::path::Path,
) -> Result<ExitCode, String> {
    let bytes = std::fs::read(file).map_err(|e| format!("cannot read {}: {e}", file.display()))?;
    let mut problems = Vec::new();
    let source = imports::reader::Source::new(bytes).map_err(describe)?;
    let column = |names: &[&str]| {
        source.headers.iter().position(|h| {
            let h = imports::mapping::normalise(h);
            names.iter().any(|n| h == *n)
        })
    };
    let email_col = column(&["email", "emailaddress"]).ok_or("the file has no Email column")?;
    let name_col = column(&["name", "fullname"]);
    let first_col = column(&["firstname"]);
    let last_col = column(&["lastname"]);
    let role_col = column(&["role"]);
    let active_col = column(&["active"]);
    let mut conn = open_and_migrate(db).map_err(|e| e.to_string())?;
    let mut out = csv::Writer::from_writer(std::io::stdout());
    out.write_record(["email", "password"])
        .map_err(|e| e.to_string())?;
    let (mut created, mut existing, mut inactive) = (0, 0, Vec::new());
    for row in source.rows() {
        let row = match row {
            Ok(row) => row,
            Err(bad) => {
                problems.push(format!("line {}: {}", bad.line, bad.message));
                continue;
            }
        };
        let cell = |i: Option<usize>| i.and_then(|i| row.cells.get(i)).map(|c| c.trim());
        let name = cell(name_col).filter(|n| !n.is_empty()).map_or_else(
            || {
                [cell(first_col), cell(last_col)]
                    .into_iter()
                    .flatten()
                    .filter(|s| !s.is_empty())
                    .collect::<Vec<_>>()
                    .join(" ")
            },
            str::to_owned,
        );
        let input = NewUserInput {
            email: cell(Some(email_col)).unwrap_or("").to_owned(),
            name,
            role: cell(role_col).unwrap_or("sales").to_lowercase(),
            password: None,
        };
        let user = match input.validate() {
            Ok(u) => u,
            Err(e) => {
                problems.push(format!("line {}: {}", row.line, describe(e)));
                continue;
            }
        };
        if users::find_by_email(&conn, &input.email)
            .map_err(describe)?
            .is_some()
        {
            existing += 1;
            continue;
        }
        let password = Password::generate();
        let hash = password::hash_blocking(&password, bcrypt_cost).map_err(describe)?;
        in_transaction(&mut conn, |tx| users::insert(tx, None, &user, &hash))?;
        out.write_record([input.email.as_str(), password.expose()])
            .map_err(|e| e.to_string())?;
        created += 1;
        if cell(active_col)
            .is_some_and(|a| matches!(a.to_lowercase().as_str(), "false" | "no" | "0"))
        {
            inactive.push(input.email.clone());
        }
    }
    out.flush().map_err(|e| e.to_string())?;
    eprintln!("Created {created} user(s); {existing} already had an account.");
    if !inactive.is_empty() {
        eprintln!(
            "Marked inactive in the file (created active so their records can be imported; \
             deactivate them afterwards): {}",
            inactive.join(", ")
        );
    }
    for p in &problems {
        eprintln!("  {p}");
    }
    Ok(if problems.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// The user a command-line import acts as: `--as`, else the first active admin.
fn command_line_actor(
    conn: &rusqlite::Connection,
    email: Option<&str>,
) -> Result<crate::auth::Actor, AppError> {
    let user = match email {
        Some(e) => users::find_by_email(conn, e)?.filter(|u| u.active),
        None => users::first_active_admin(conn)?,
    }
    .ok_or_else(|| {
        AppError::invalid(
            "as",
            "names no active user (create one with `rapport user create`)",
        )
    })?;
    Ok(crate::auth::Actor {
        user_id: user.id,
        role: user.role,
        name: user.name,
        email: user.email,
        via: crate::auth::actor::Via::CommandLine,
    })
}

fn print_import_summary(status: &imports::ImportStatus) {
    let unmapped = if status.unmapped_columns.is_empty() {
        String::new()
    } else {
        format!(
            "\nColumns not imported: {}",
            status.unmapped_columns.join(", ")
        )
    };
    eprintln!(
        "Import {} of {}: {} ({} rows: {} created, {} updated, {} skipped, {} with errors; {} customers created for contacts){unmapped}",
        status.id,
        status.filename,
        status.status,
        status.total,
        status.created,
        status.updated,
        status.skipped,
        status.failed,
        status.linked_customers,
    );
    if let Some(message) = &status.message {
        eprintln!("{message}");
    }
    for e in status.errors.iter().take(20) {
        eprintln!("  line {}: {}: {}", e.row, e.field, e.message);
    }
    if status.errors_total > 20 {
        eprintln!(
            "  … and {} more (--errors-out FILE writes them all as CSV)",
            status.errors_total - 20
        );
    }
}

fn open_existing(db: &std::path::Path) -> Result<rusqlite::Connection, String> {
    connection::assert_sqlite_version()?;
    if !db.exists() {
        return Err(format!("{} does not exist", db.display()));
    }
    connection::open_existing(db).map_err(|e| format!("cannot open {}: {e}", db.display()))
}

fn in_transaction<T>(
    conn: &mut rusqlite::Connection,
    f: impl FnOnce(&rusqlite::Connection) -> Result<T, AppError>,
) -> Result<T, String> {
    let tx = conn
        .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
        .map_err(|e| e.to_string())?;
    let out = f(&tx).map_err(describe)?;
    tx.commit().map_err(|e| e.to_string())?;
    Ok(out)
}

fn read_password_line() -> Result<String, String> {
    let mut input = String::new();
    std::io::stdin()
        .take(1024)
        .read_to_string(&mut input)
        .map_err(|e| format!("cannot read the password from stdin: {e}"))?;
    Ok(input.lines().next().unwrap_or("").to_owned())
}

/// An error as one line for the terminal, listing every invalid field. An internal error
/// shows its cause: the API hides it from clients, but here the reader is the operator.
fn describe(err: AppError) -> String {
    match &err {
        AppError::Validation(errors) => errors
            .iter()
            .map(|e| format!("{} {}", e.field, e.message))
            .collect::<Vec<_>>()
            .join("; "),
        AppError::Internal(cause) => format!("internal error: {cause}"),
        _ => err.detail(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The terminal shows what went wrong inside, which the API keeps to its log.
    #[test]
    fn internal_errors_show_their_cause_on_the_terminal() {
        let shown = describe(AppError::internal("sqlite: disk I/O error"));
        assert_eq!(shown, "internal error: sqlite: disk I/O error");
        assert_eq!(
            describe(AppError::NotFound),
            AppError::NotFound.detail(),
            "other errors read as the API words them"
        );
    }

    fn serve(args: &[&str]) -> Result<ServeConfig, String> {
        let cli = Cli::try_parse_from([&["rapport", "serve"], args].concat())
            .map_err(|e| e.to_string())?;
        match cli.command {
            Command::Serve(serve) => serve.into_config(cli.db, cli.bcrypt_cost),
            _ => Err("not serve".into()),
        }
    }

    #[test]
    fn the_timezone_is_an_iana_name_checked_at_start() {
        assert_eq!(serve(&[]).unwrap().timezone, Zone::utc());
        let berlin = serve(&["--timezone", "europe/berlin"]).unwrap().timezone;
        assert_eq!(berlin.name(), "Europe/Berlin");
        let err = serve(&["--timezone", "Mars/Olympus_Mons"]).unwrap_err();
        assert!(err.contains("--timezone") && err.contains("IANA"), "{err}");
    }

    #[test]
    fn a_metrics_token_is_long_enough_or_empty_for_none() {
        let token = "0123456789abcdef";
        let config = serve(&["--metrics-token", token]).unwrap();
        assert_eq!(config.metrics_token.unwrap().bytes(), token.as_bytes());
        assert!(
            serve(&["--metrics-token", ""])
                .unwrap()
                .metrics_token
                .is_none()
        );
        let short = serve(&["--metrics-token", "short"]).unwrap_err();
        assert!(short.contains("at least 16 bytes"), "{short}");
        assert!(!format!("{:?}", serve(&["--metrics-token", token])).contains(token));
    }
}
