use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{PASSWORD, spawn_app};

#[actix_web::test]
async fn fifty_concurrent_writers_all_succeed() {
    let app = Arc::new(spawn_app().await);
    let admin = Arc::new(app.bootstrap_admin().await);
    let mut writers = Vec::new();
    for i in 0..50 {
        let app = app.clone();
        let admin = admin.clone();
        writers.push(actix_web::rt::spawn(async move {
            let user = app
                .post(
                    "/api/v1/users",
                    &admin.token,
                    json!({"email": format!("w{i}@example.com"), "name": format!("Writer {i}"), "role": "sales", "password": PASSWORD}),
                )
                .await;
            let status = user.status();
            let token = app.post("/api/v1/tokens", &admin.token, json!({"name": format!("t{i}")})).await;
            (status, token.status(), token.text().await.unwrap())
        }));
    }
    for w in writers {
        let (user, token, body) = w.await.unwrap();
        assert_eq!(user, StatusCode::CREATED);
        assert_eq!(token, StatusCode::CREATED, "{body}");
    }
    let page: Value = app
        .get("/api/v1/users?limit=200", &admin.token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(page["items"].as_array().unwrap().len(), 51);
}

#[actix_web::test]
async fn backup_taken_during_writes_passes_check() {
    let app = Arc::new(spawn_app().await);
    let admin = Arc::new(app.bootstrap_admin().await);
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let (app, admin, stop) = (app.clone(), admin.clone(), stop.clone());
        actix_web::rt::spawn(async move {
            let mut written = 0;
            while !stop.load(Ordering::Relaxed) {
                let res = app
                    .patch(
                        &format!("/api/v1/users/{}", admin.id),
                        &admin.token,
                        json!({"name": format!("Admin {written}")}),
                    )
                    .await;
                assert_eq!(res.status(), StatusCode::OK);
                written += 1;
            }
            written
        })
    };
    actix_web::rt::time::sleep(std::time::Duration::from_millis(100)).await;
    let dest = app.db_path.with_file_name("snapshot.db");
    let db_path = app.db_path.clone();
    let (out, dest) = actix_web::rt::task::spawn_blocking(move || {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_rapport"))
            .args(["backup", dest.to_str().unwrap()])
            .env("RAPPORT_DB", &db_path)
            .output()
            .unwrap();
        (out, dest)
    })
    .await
    .unwrap();
    stop.store(true, Ordering::Relaxed);
    let written = writer.await.unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(written > 0);

    let check = std::process::Command::new(env!("CARGO_BIN_EXE_rapport"))
        .args(["check"])
        .env("RAPPORT_DB", &dest)
        .output()
        .unwrap();
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stdout)
    );
    let conn = rusqlite::Connection::open(&dest).unwrap();
    let users: i64 = conn
        .query_row("SELECT count(*) FROM users", [], |r| r.get(0))
        .unwrap();
    assert_eq!(users, 1);
    let audit: i64 = conn
        .query_row(
            "SELECT count(*) FROM audit_log WHERE action = 'user.update'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(audit > 0, "the snapshot holds committed writes");
    assert!(!dest.with_file_name("snapshot.db.partial").exists());
}
