//! `GET /metrics`: the named series with plausible values, who may scrape, and the logs
//! (no secrets, JSON lines).

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{
    Options, PASSWORD, SECRET, Server, TestApp, assert_problem, create_admin, spawn_app,
    spawn_app_with,
};

/// The scrape, as Prometheus on this machine would make it.
async fn scrape(app: &TestApp) -> String {
    let res = app.client.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let content_type = res.headers()["content-type"].to_str().unwrap().to_owned();
    assert!(content_type.starts_with("text/plain; version=0.0.4"));
    res.text().await.unwrap()
}

/// The value of one series, named with its labels exactly as exposed.
fn value(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' '))
        .map(|v| v.parse().unwrap())
}

fn must(text: &str, series: &str) -> f64 {
    value(text, series).unwrap_or_else(|| panic!("no {series} in:\n{text}"))
}

#[actix_web::test]
async fn requests_are_counted_by_route_template_not_raw_path() {
    let app = spawn_app().await;
    let admin = app.bootstrap_admin().await;
    for _ in 0..3 {
        let res = app
            .get(&format!("/api/v1/users/{}", admin.id), &admin.token)
            .await;
        assert_eq!(res.status(), StatusCode::OK);
    }
    let missing = app.get("/api/v1/leads/no-such-lead", &admin.token).await;
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    app.get("/no/such/page/4711", &admin.token).await;

    let text = scrape(&app).await;
    let users =
        r#"rapport_http_requests_total{route="/api/v1/users/{id}",method="GET",status="200"}"#;
    assert_eq!(must(&text, users), 3.0);
    let leads =
        r#"rapport_http_requests_total{route="/api/v1/leads/{id}",method="GET",status="404"}"#;
    assert_eq!(must(&text, leads), 1.0);
    assert!(!text.contains(&admin.id) && !text.contains("no-such-lead"));
    assert!(!text.contains("4711"), "unmatched paths are not labels");
    assert!(text.contains(r#"route="unmatched",method="GET",status="404""#));

    let latency =
        r#"rapport_http_request_duration_seconds_count{route="/api/v1/users/{id}",method="GET"}"#;
    assert_eq!(must(&text, latency), 3.0);
    let inf = r#"rapport_http_request_duration_seconds_bucket{route="/api/v1/users/{id}",method="GET",le="+Inf"}"#;
    assert_eq!(must(&text, inf), 3.0);
    let sum =
        r#"rapport_http_request_duration_seconds_sum{route="/api/v1/users/{id}",method="GET"}"#;
    assert!((0.0..30.0).contains(&must(&text, sum)));
}

#[actix_web::test]
async fn database_process_and_backup_series_are_plausible() {
    let app = spawn_app_with(Options {
        backups: Some((Duration::from_secs(1), 2)),
        ..Options::default()
    })
    .await;
    let admin = app.bootstrap_admin().await;
    let created = app
        .post(
            "/api/v1/customers",
            &admin.token,
            json!({ "name": "Metered Ltd" }),
        )
        .await;
    assert_eq!(created.status(), StatusCode::CREATED);

    // The first snapshot comes within a second or two.
    let deadline = Instant::now() + Duration::from_secs(20);
    let text = loop {
        let text = scrape(&app).await;
        if value(&text, "rapport_backup_age_seconds").is_some() {
            break text;
        }
        assert!(Instant::now() < deadline, "a snapshot is taken:\n{text}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(must(&text, "rapport_backup_scheduled"), 1.0);
    assert_eq!(must(&text, "rapport_backup_last_error"), 0.0);
    assert!(must(&text, "rapport_backup_snapshots") >= 1.0);
    assert!((0.0..60.0).contains(&must(&text, "rapport_backup_age_seconds")));
    assert!(must(&text, "rapport_backup_last_size_bytes") > 4096.0);

    assert!(must(&text, "rapport_db_read_queue_wait_seconds_count") > 0.0);
    assert!(must(&text, "rapport_db_write_queue_wait_seconds_count") > 0.0);
    let batches = must(&text, "rapport_db_write_batch_size_count");
    assert!(batches > 0.0);
    assert!(must(&text, "rapport_db_write_batch_size_sum") >= batches);
    assert!(value(&text, r#"rapport_db_queued_jobs{queue="write"}"#).is_some());
    assert!(must(&text, "rapport_db_file_bytes") >= 4096.0);
    assert!(must(&text, "rapport_db_wal_bytes") >= 0.0);
    let rss = must(&text, "process_resident_memory_bytes");
    assert!((1e6..4e9).contains(&rss), "rss {rss}");
    assert!((0.0..600.0).contains(&must(&text, "rapport_uptime_seconds")));
    assert!(text.contains("rapport_build_info{version=\""));
}

#[actix_web::test]
async fn refused_sign_ins_are_counted() {
    let app = spawn_app().await;
    app.bootstrap_admin().await;
    let before = must(
        &scrape(&app).await,
        r#"rapport_login_failures_total{reason="invalid_credentials"}"#,
    );
    for _ in 0..2 {
        let res = app
            .login_response("admin@example.com", "not the password")
            .await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    }
    app.login("admin@example.com", PASSWORD).await;
    let text = scrape(&app).await;
    let failures = r#"rapport_login_failures_total{reason="invalid_credentials"}"#;
    assert_eq!(must(&text, failures), before + 2.0);
    assert_eq!(
        must(
            &text,
            r#"rapport_login_failures_total{reason="rate_limited"}"#
        ),
        0.0
    );
}

#[actix_web::test]
async fn the_stream_gauge_rises_while_a_stream_is_open_and_falls_after() {
    let app = spawn_app().await;
    let admin = app.bootstrap_admin().await;
    let gauge = "rapport_sse_connections";
    assert_eq!(must(&scrape(&app).await, gauge), 0.0);

    let mut stream = app.get("/api/v1/notifications/stream", &admin.token).await;
    assert_eq!(stream.status(), StatusCode::OK);
    stream.chunk().await.unwrap().expect("the stream starts");
    assert_eq!(must(&scrape(&app).await, gauge), 1.0);

    drop(stream);
    // The server notices the closed connection at its next write (a keep-alive at most
    // 2 s away in tests).
    let deadline = Instant::now() + Duration::from_secs(20);
    while must(&scrape(&app).await, gauge) != 0.0 {
        assert!(Instant::now() < deadline, "the gauge falls back to 0");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[actix_web::test]
async fn without_a_token_only_unproxied_local_scrapes_are_answered() {
    let app = spawn_app().await;
    scrape(&app).await;
    // A reverse proxy on the same host connects from loopback too, but says whom for.
    let proxied = app
        .client
        .get(app.url("/metrics"))
        .header("X-Forwarded-For", "203.0.113.50")
        .send()
        .await
        .unwrap();
    assert_problem(proxied, 403).await;
}

#[actix_web::test]
async fn with_a_token_every_scrape_needs_it() {
    let token = "scrape-me-0123456789abcdef";
    let app = spawn_app_with(Options {
        metrics_token: Some(token.into()),
        ..Options::default()
    })
    .await;
    let admin = app.bootstrap_admin().await;
    let get = |bearer: Option<&str>| app.request(reqwest::Method::GET, "/metrics", bearer).send();
    assert_problem(get(None).await.unwrap(), 401).await;
    assert_problem(get(Some("wrong-token-0123456789")).await.unwrap(), 401).await;
    // A user's session is not the metrics token, even an admin's.
    assert_problem(get(Some(&admin.token)).await.unwrap(), 401).await;
    let res = get(Some(token)).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("rapport_http_requests_total")
    );
}

#[actix_web::test]
async fn logs_never_contain_passwords_tokens_or_the_secret() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("rapport.db");
    create_admin(&db);
    let metrics_token = "metrics-token-never-logged-42";
    let server = Server::start_logging(&db, &["--metrics-token", metrics_token], "debug").await;
    let token = server.sign_in().await;
    let client = crate::helpers::client();
    let wrong = "wrong-password-never-logged";
    let res = client
        .post(format!("{}/api/v1/auth/login", server.base))
        .json(&json!({ "email": "admin@example.com", "password": wrong }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let res = client
        .post(format!("{}/api/v1/auth/password", server.base))
        .bearer_auth(&token)
        .json(
            &json!({ "current_password": PASSWORD, "new_password": "a new password never logged" }),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let res = client
        .get(format!("{}/metrics", server.base))
        .bearer_auth(metrics_token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);

    let logs = server.stop_and_read_logs().await;
    assert!(
        logs.contains("/api/v1/auth/login"),
        "the access log is there:\n{logs}"
    );
    for secret in [
        PASSWORD,
        wrong,
        "a new password never logged",
        &token,
        SECRET,
        metrics_token,
    ] {
        assert!(!logs.contains(secret), "{secret:?} is in the logs");
    }
}

#[actix_web::test]
async fn json_logs_are_one_object_a_line_with_the_request_id() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("rapport.db");
    create_admin(&db);
    let server = Server::start_logging(&db, &["--log-format", "json"], "info").await;
    let res = crate::helpers::client()
        .get(format!("{}/healthz", server.base))
        .send()
        .await
        .unwrap();
    let request_id = res.headers()["x-request-id"].to_str().unwrap().to_owned();
    let logs = server.stop_and_read_logs().await;

    let lines: Vec<Value> = logs
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}")))
        .collect();
    let access = lines
        .iter()
        .find(|l| l["span"]["id"] == request_id.as_str())
        .unwrap_or_else(|| panic!("no line for request {request_id}:\n{logs}"));
    assert_eq!(access["target"], "rapport::access");
    assert_eq!(access["fields"]["message"], "/healthz");
    assert_eq!(access["fields"]["status"], 200);
    assert_eq!(access["span"]["route"], "/healthz");
    assert!(access["level"].is_string() && access["timestamp"].is_string());
}
