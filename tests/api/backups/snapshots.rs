//! Scheduled snapshots, their listing, and the fresh download.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::Value;

use super::{PATIENCE, check_passes, create_customer, customer_names, names_in, snapshots_in};
use crate::helpers::{
    Options, Server, assert_problem, client, create_admin, rapport_cli, spawn_app, spawn_app_with,
};

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
