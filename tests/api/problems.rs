//! Bad input gets a clear problem+json, never a 5xx.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::{assert_problem, spawn_app};

#[actix_web::test]
async fn malformed_requests_get_problem_json() {
    let app = spawn_app().await;
    let admin = app.bootstrap_admin().await;
    let t = Some(admin.token.as_str());
    let send = |method: Method, path: &str, content_type: &str, body: Vec<u8>| {
        app.request(method, path, t)
            .header("content-type", content_type)
            .body(body)
            .send()
    };

    let body = assert_problem(
        send(
            Method::POST,
            "/api/v1/tokens",
            "application/json",
            b"{\"name\":".to_vec(),
        )
        .await
        .unwrap(),
        400,
    )
    .await;
    assert!(body["detail"].as_str().unwrap().contains("not valid JSON"));
    assert_problem(
        send(
            Method::POST,
            "/api/v1/tokens",
            "application/json",
            Vec::new(),
        )
        .await
        .unwrap(),
        400,
    )
    .await;
    assert_problem(
        send(
            Method::POST,
            "/api/v1/tokens",
            "text/plain",
            b"{\"name\":\"x\"}".to_vec(),
        )
        .await
        .unwrap(),
        415,
    )
    .await;
    assert_problem(
        send(
            Method::POST,
            "/api/v1/tokens",
            "application/x-www-form-urlencoded",
            b"name=x".to_vec(),
        )
        .await
        .unwrap(),
        415,
    )
    .await;
    let huge = format!("{{\"name\":\"{}\"}}", "x".repeat(100 * 1024));
    assert_problem(
        send(
            Method::POST,
            "/api/v1/tokens",
            "application/json",
            huge.into_bytes(),
        )
        .await
        .unwrap(),
        413,
    )
    .await;
    let body = assert_problem(
        send(
            Method::POST,
            "/api/v1/tokens",
            "application/json",
            b"{\"name\":42}".to_vec(),
        )
        .await
        .unwrap(),
        422,
    )
    .await;
    assert_eq!(body["errors"][0]["field"], "name");
    let body = assert_problem(
        send(
            Method::POST,
            "/api/v1/tokens",
            "application/json",
            b"{\"name\":\"x\",\"admin\":true}".to_vec(),
        )
        .await
        .unwrap(),
        422,
    )
    .await;
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("unknown field")
    );
    assert_problem(
        send(
            Method::POST,
            "/api/v1/tokens",
            "application/json",
            b"[\"x\"]".to_vec(),
        )
        .await
        .unwrap(),
        422,
    )
    .await;
    assert_problem(
        send(
            Method::POST,
            "/api/v1/auth/login",
            "application/json",
            b"{\"email\":null}".to_vec(),
        )
        .await
        .unwrap(),
        422,
    )
    .await;
    // `application/merge-patch+json` and charset parameters are still JSON.
    let res = send(
        Method::POST,
        "/api/v1/tokens",
        "application/json; charset=utf-8",
        b"{\"name\":\"ok\"}".to_vec(),
    )
    .await
    .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);

    assert_problem(app.get("/api/v1/users?limit=abc", &admin.token).await, 422).await;
    let missing = assert_problem(app.get("/api/v1/trash", &admin.token).await, 422).await;
    assert_eq!(missing["errors"][0]["field"], "entity");
    assert_eq!(missing["errors"][0]["message"], "is required");
    assert_problem(app.get("/api/v1/no-such-thing", &admin.token).await, 404).await;
    // A 405 names the methods the resource does answer (RFC 9110 §15.5.6), in the API and
    // on the web app's pages alike.
    for (method, path, allow) in [
        (Method::DELETE, "/api/v1/users", "GET, HEAD, POST"),
        (Method::GET, "/api/v1/auth/login", "POST"),
        (
            Method::PUT,
            "/api/v1/leads/0190a000-0000-7000-8000-000000000000",
            "GET, HEAD, PATCH, DELETE",
        ),
        (Method::GET, "/api/v1/leads/x/purge", "POST"),
        (Method::DELETE, "/login", "GET, HEAD, POST"),
    ] {
        let res = app.request(method, path, t).send().await.unwrap();
        assert_eq!(res.headers()["allow"], allow, "{path}");
        assert_problem(res, 405).await;
    }
    // HEAD is GET's answer without the body: what uptime monitors ask of /healthz.
    for path in ["/healthz", "/api/v1/leads?limit=1"] {
        let get = app.request(Method::GET, path, t).send().await.unwrap();
        let head = app.request(Method::HEAD, path, t).send().await.unwrap();
        assert_eq!(head.status(), StatusCode::OK, "{path}");
        assert_eq!(
            head.headers()["content-type"],
            get.headers()["content-type"],
            "{path}"
        );
        assert!(head.bytes().await.unwrap().is_empty(), "{path}");
    }
}

#[actix_web::test]
async fn hostile_strings_are_data() {
    let app = spawn_app().await;
    let admin = app.bootstrap_admin().await;
    let name = "Robert'); DROP TABLE users;-- <script>alert(1)</script> =HYPERLINK(\"x\")";
    let res = app
        .post(
            "/api/v1/users",
            &admin.token,
            json!({"email": "bobby@example.com", "name": name, "role": "support"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let list: serde_json::Value = app
        .get("/api/v1/users?q=DROP", &admin.token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["items"][0]["name"], name);
    assert_problem(
        app.get("/api/v1/users/'%20OR%201=1--", &admin.token).await,
        404,
    )
    .await;
    assert_problem(
        app.get("/api/v1/users/..%2F..%2Fetc%2Fpasswd", &admin.token)
            .await,
        404,
    )
    .await;
}

#[actix_web::test]
async fn every_response_carries_the_security_headers() {
    let app = spawn_app().await;
    for path in [
        "/healthz",
        "/login",
        "/api/v1/auth/me",
        "/nowhere",
        "/assets/app.css",
    ] {
        let res = app.client.get(app.url(path)).send().await.unwrap();
        let h = res.headers();
        let csp = h["content-security-policy"].to_str().unwrap();
        for directive in [
            "script-src 'self'",
            "object-src 'none'",
            "base-uri 'none'",
            "frame-ancestors 'none'",
        ] {
            assert!(csp.contains(directive), "{path}: {directive}");
        }
        assert!(!csp.contains("unsafe-inline"));
        assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
        assert!(h.contains_key("referrer-policy"), "{path}");
        assert!(h.contains_key("x-request-id"), "{path}");
        assert!(
            !h.contains_key("strict-transport-security"),
            "no HSTS over http"
        );
    }
}

#[actix_web::test]
async fn healthz_and_openapi_covers_exactly_the_route_table() {
    let app = spawn_app().await;
    let res = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let doc: serde_json::Value = app
        .client
        .get(app.url("/api/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));

    let mut routed: Vec<(String, String)> = rapport::http::endpoints()
        .iter()
        .map(|e| (e.path.to_owned(), e.method.as_str().to_lowercase()))
        .collect();
    let mut documented: Vec<(String, String)> = doc["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(path, ops)| {
            ops.as_object()
                .unwrap()
                .keys()
                .filter(|k| ["get", "post", "put", "patch", "delete"].contains(&k.as_str()))
                .map(move |m| (path.clone(), m.clone()))
        })
        .collect();
    routed.sort();
    documented.sort();
    assert_eq!(routed, documented);

    // Every operation documents its errors as problem+json.
    for (path, method) in &documented {
        let op = &doc["paths"][path][method];
        assert!(
            op["summary"].is_string() || op["description"].is_string(),
            "{method} {path} described"
        );
        let responses = op["responses"].as_object().unwrap();
        assert!(
            responses.keys().any(|k| k.starts_with('2')),
            "{method} {path} has a success answer"
        );
    }
}
