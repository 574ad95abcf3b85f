use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_problem, error_fields, spawn_app};

async fn created(app: &TestApp, token: &str, path: &str, body: Value) -> Value {
    let res = app.post(path, token, body).await;
    assert_eq!(res.status(), StatusCode::CREATED, "POST {path}");
    res.json().await.unwrap()
}

/// The body of a successful export, parsed: the header and the rows.
async fn csv_of(res: reqwest::Response) -> (Vec<String>, Vec<Vec<String>>) {
    assert_eq!(res.status(), StatusCode::OK);
    let bytes = res.bytes().await.unwrap();
    parse(&bytes)
}

fn parse(bytes: &[u8]) -> (Vec<String>, Vec<Vec<String>>) {
    let mut reader = csv::Reader::from_reader(bytes);
    let header = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_owned)
        .collect();
    let rows = reader
        .records()
        .map(|r| r.unwrap().iter().map(str::to_owned).collect())
        .collect();
    (header, rows)
}

fn column(header: &[String], name: &str) -> usize {
    header.iter().position(|h| h == name).unwrap()
}

#[actix_web::test]
async fn leads_export_has_headers_rows_and_honours_filters() {
    let app = spawn_app().await;
    let admin = app.bootstrap_admin().await;
    for (title, stage, value) in [
        ("Beta deal", "won", 500),
        ("Alpha deal", "won", 100),
        ("Gamma deal", "new", 900),
    ] {
        created(
            &app,
            &admin.token,
            "/api/v1/leads",
            json!({"title": title, "stage": stage, "value_cents": value, "phone": "+1 555 0100"}),
        )
        .await;
    }

    let res = app.get("/api/v1/exports/leads.csv", &admin.token).await;
    assert_eq!(res.headers()["content-type"], "text/csv; charset=utf-8");
    let disposition = res.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        disposition.starts_with("attachment; filename=\"leads-20")
            && disposition.ends_with(".csv\""),
        "{disposition}"
    );
    let (header, rows) = csv_of(res).await;
    assert_eq!(header[0], "id");
    assert!(header.contains(&"value_cents".to_owned()));
    assert_eq!(rows.len(), 3);
    // Newest first, as the list; the phone cannot start a formula.
    assert_eq!(rows[0][column(&header, "title")], "Gamma deal");
    assert_eq!(rows[0][column(&header, "phone")], "'+1 555 0100");
    assert!(rows[0][column(&header, "created_at")].ends_with('Z'));

    let res = app
        .get(
            "/api/v1/exports/leads.csv?stage=won&sort=title&order=asc",
            &admin.token,
        )
        .await;
    let (header, rows) = csv_of(res).await;
    let titles: Vec<&str> = rows
        .iter()
        .map(|r| r[column(&header, "title")].as_str())
        .collect();
    assert_eq!(titles, ["Alpha deal", "Beta deal"]);
    assert_eq!(rows[0][column(&header, "value_cents")], "100");

    // Bad parameters are refused before any byte is sent.
    let res = app
        .get(
            "/api/v1/exports/leads.csv?limit=10&colour=red",
            &admin.token,
        )
        .await;
    let body = assert_problem(res, 422).await;
    assert_eq!(error_fields(&body), ["limit", "colour"]);
    let res = app.get("/api/v1/exports/users.csv", &admin.token).await;
    assert_problem(res, 404).await;
}

#[actix_web::test]
async fn formulas_are_neutralised_tags_joined_and_bom_optional() {
    let app = spawn_app().await;
    let admin = app.bootstrap_admin().await;
    created(
        &app,
        &admin.token,
        "/api/v1/customers",
        json!({"name": "=HYPERLINK(\"http://evil\",\"x\")", "industry": "@SUM(1)",
               "tags": ["vip", "renewal"]}),
    )
    .await;
    let res = app.get("/api/v1/exports/customers.csv", &admin.token).await;
    let bytes = res.bytes().await.unwrap();
    assert!(!bytes.starts_with(b"\xEF\xBB\xBF"));
    let (header, rows) = parse(&bytes);
    assert_eq!(
        rows[0][column(&header, "name")],
        "'=HYPERLINK(\"http://evil\",\"x\")"
    );
    assert_eq!(rows[0][column(&header, "industry")], "'@SUM(1)");
    assert_eq!(rows[0][column(&header, "tags")], "renewal;vip");

    let res = app
        .get("/api/v1/exports/customers.csv?bom=true", &admin.token)
        .await;
    let bytes = res.bytes().await.unwrap();
    assert!(bytes.starts_with(b"\xEF\xBB\xBFid,name,"));
    assert_eq!(parse(&bytes[3..]).1.len(), 1);
}

#[actix_web::test]
async fn only_admins_and_managers_export_and_exports_are_audited() {
    let app = spawn_app().await;
    let admin = app.bootstrap_admin().await;
    let manager = app.user(&admin, "manager").await;
    for role in ["sales", "support"] {
        let user = app.user(&admin, role).await;
        for entity in ["customers", "contacts", "leads", "tasks", "activities"] {
            let res = app
                .get(&format!("/api/v1/exports/{entity}.csv"), &user.token)
                .await;
            assert_problem(res, 403).await;
        }
    }
    let customer = created(
        &app,
        &manager.token,
        "/api/v1/customers",
        json!({"name": "Acme"}),
    )
    .await;
    created(
        &app,
        &manager.token,
        "/api/v1/contacts",
        json!({"first_name": "Ann", "customer_id": customer["id"]}),
    )
    .await;
    created(
        &app,
        &manager.token,
        "/api/v1/tasks",
        json!({"title": "Call back", "customer_id": customer["id"]}),
    )
    .await;
    created(
        &app,
        &manager.token,
        "/api/v1/activities",
        json!({"subject_type": "customer", "subject_id": customer["id"], "body": "-1 was the answer"}),
    )
    .await;
    for entity in ["contacts", "tasks", "activities"] {
        let res = app
            .get(&format!("/api/v1/exports/{entity}.csv"), &manager.token)
            .await;
        let (header, rows) = csv_of(res).await;
        assert_eq!(rows.len(), 1, "{entity}");
        assert_eq!(header.last().unwrap(), "version");
    }
    let res = app
        .get("/api/v1/exports/customers.csv?q=acme", &manager.token)
        .await;
    assert_eq!(csv_of(res).await.1.len(), 1);
    let (header, rows) = csv_of(
        app.get("/api/v1/exports/activities.csv", &manager.token)
            .await,
    )
    .await;
    assert_eq!(rows[0][column(&header, "body")], "'-1 was the answer");

    // The audit entry is committed before the last byte arrives.
    let audit: Value = app
        .get(
            "/api/v1/audit?action=export.customers&entity_type=customer",
            &admin.token,
        )
        .await
        .json()
        .await
        .unwrap();
    let entry = &audit["items"][0];
    assert_eq!(entry["actor_id"], manager.id.as_str());
    assert_eq!(entry["after"]["filters"], json!({"q": "acme"}));
    assert_eq!(entry["after"]["rows"], 1);
    assert_eq!(entry["after"]["complete"], true);
}

#[actix_web::test]
async fn a_large_export_streams_complete() {
    let app = spawn_app().await;
    let admin = app.bootstrap_admin().await;
    let conn = rusqlite::Connection::open(&app.db_path).unwrap();
    conn.busy_timeout(std::time::Duration::from_secs(10))
        .unwrap();
    rapport::db::connection::register_functions(&conn).unwrap();
    conn.execute_batch(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 5000)
         INSERT INTO leads (id, title, stage, value_cents, currency, stage_changed_at,
                            created_at, updated_at, company_name)
         SELECT printf('lead-%05d', i), 'Lead ' || i || ', \"quoted\"', 'new', i, 'USD',
                '2026-01-01T00:00:00.000Z', printf('2026-01-01T00:%02d:%02d.000Z', i / 60 % 60, i % 60),
                '2026-01-01T00:00:00.000Z', 'Company with a long name to make the rows bigger ' || i
           FROM n;",
    )
    .unwrap();
    drop(conn);
    let res = app
        .get("/api/v1/exports/leads.csv?sort=title", &admin.token)
        .await;
    assert!(
        res.headers().get("content-length").is_none(),
        "streamed, not buffered"
    );
    let (header, rows) = csv_of(res).await;
    assert_eq!(rows.len(), 5000);
    let ids: std::collections::HashSet<&str> = rows.iter().map(|r| r[0].as_str()).collect();
    assert_eq!(ids.len(), 5000);
    assert!(rows.iter().all(|r| r.len() == header.len()));
    assert!(
        rows.iter()
            .any(|r| r[column(&header, "title")] == "Lead 42, \"quoted\"")
    );
}

#[actix_web::test]
async fn cli_exports_to_a_file_or_stdout() {
    let app = spawn_app().await;
    let admin = app.bootstrap_admin().await;
    created(
        &app,
        &admin.token,
        "/api/v1/leads",
        json!({"title": "Won one", "stage": "won"}),
    )
    .await;
    created(
        &app,
        &admin.token,
        "/api/v1/leads",
        json!({"title": "New one"}),
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("leads.csv");
    let run = app.cli(
        &[
            "export",
            "leads",
            "--out",
            out.to_str().unwrap(),
            "--filter",
            "stage=won",
        ],
        None,
    );
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let (header, rows) = parse(&std::fs::read(&out).unwrap());
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0][column(&header, "title")], "Won one");

    // Standard output by default; the same file as the API's.
    let run = app.cli(&["export", "leads"], None);
    assert!(run.status.success());
    let api = app
        .get("/api/v1/exports/leads.csv", &admin.token)
        .await
        .bytes()
        .await
        .unwrap();
    assert_eq!(run.stdout, api.to_vec());

    let run = app.cli(&["export", "users"], None);
    assert!(!run.status.success());
    let run = app.cli(&["export", "leads", "--filter", "colour=red"], None);
    assert!(!run.status.success());
    assert!(String::from_utf8_lossy(&run.stderr).contains("colour"));
}
