//! Graceful shutdown.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::json;

use super::customer_names;
use crate::helpers::{Server, client, create_admin};

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
