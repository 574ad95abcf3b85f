//! Scheduled snapshots, the backup download, `rapport restore`, safe upgrades, graceful
//! shutdown and the Litestream drill; the shared steps live here, the tests by area below.

mod litestream;
mod restore;
mod shutdown;
mod snapshots;

use std::path::Path;
use std::time::Duration;

use reqwest::StatusCode;
use rusqlite::Connection;
use serde_json::json;

use crate::helpers::{TestApp, rapport_cli};

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
