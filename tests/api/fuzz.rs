//! The API against its own OpenAPI document, fuzzed by schemathesis: thousands of generated
//! requests (valid, boundary and malformed, and chains of them that create, read, edit and
//! delete records) must never get a 5xx, and every answer must match what the document says
//! about its status, headers, content type and body.

use std::path::PathBuf;
use std::process::Command;

use crate::helpers::{Server, external_tool, rapport_cli};

/// The `schemathesis` executable: `RAPPORT_SCHEMATHESIS`, else the one on PATH.
fn schemathesis() -> PathBuf {
    external_tool(
        "RAPPORT_SCHEMATHESIS",
        "schemathesis",
        "install it with `pip3 install --user schemathesis==4.32.5` (.ci/test does this)",
    )
}

#[actix_web::test]
async fn generated_requests_get_no_5xx_and_answers_match_the_openapi_document() {
    let schemathesis = schemathesis();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("rapport.db");
    // Records of every kind, so reads and edits of existing ids are exercised too.
    let demo = rapport_cli(
        &db,
        &["demo", "--customers", "20", "--bcrypt-cost", "4"],
        None,
    );
    assert!(
        demo.status.success(),
        "{}",
        String::from_utf8_lossy(&demo.stderr)
    );
    let server = Server::start(&db).await;
    let token = server
        .sign_in_as("admin@demo.example", "rapport-demo")
        .await;

    let out = Command::new(&schemathesis)
        .current_dir(dir.path())
        .args([
            "run",
            &format!("{}/api/openapi.json", server.base),
            "--header",
            &format!("Authorization: Bearer {token}"),
            // Every check of the answers. Two checks judge which requests should succeed
            // and are left out: the document cannot state every rule (cursors are opaque,
            // an If-Match must be the record's ETag, an id must name an existing record,
            // text may not hold control characters), and an empty filter filters nothing.
            "--checks",
            "all",
            "--exclude-checks",
            "positive_data_acceptance,negative_data_rejection",
            // Signing out, changing passwords and users' roles would end the session the
            // run uses; the notification stream and the backup download do not end.
            "--exclude-path-regex",
            "(auth/logout|auth/password|reset-password|notifications/stream|admin/backup$)",
            "--exclude-by",
            "method == \"PATCH\" and path == \"/api/v1/users/{id}\"",
            "--max-examples",
            "15",
            "--seed",
            "18",
            "--no-color",
        ])
        .output()
        .expect("schemathesis runs");
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "schemathesis found failures:\n{report}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(report.contains("passed"), "{report}");
}
