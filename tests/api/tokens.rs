use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{assert_problem, spawn_app};

#[actix_web::test]
async fn personal_tokens_are_shown_once_listed_used_and_revoked() {
    let app = spawn_app().await;
    let admin = app.bootstrap_admin().await;
    let res = app
        .post(
            "/api/v1/tokens",
            &admin.token,
            json!({"name": "  Zapier  "}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let created: Value = res.json().await.unwrap();
    let secret = created["secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("rpt_"));
    assert_eq!(created["name"], "Zapier");

    let list: Value = app
        .get("/api/v1/tokens", &admin.token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    assert!(list["items"][0].get("secret").is_none());
    assert!(list["items"][0]["last_used_at"].is_null());

    let me: Value = app
        .get("/api/v1/auth/me", &secret)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["id"], admin.id.as_str());
    // last_used_at is recorded (asynchronously, once a minute at most).
    let mut used = Value::Null;
    for _ in 0..50 {
        let list: Value = app
            .get("/api/v1/tokens", &admin.token)
            .await
            .json()
            .await
            .unwrap();
        used = list["items"][0]["last_used_at"].clone();
        if !used.is_null() {
            break;
        }
        actix_web::rt::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(used.as_str().is_some(), "last_used_at recorded");

    // Tokens can manage tokens; someone else's token is invisible.
    let rep = app.user(&admin, "sales").await;
    let id = created["id"].as_str().unwrap();
    let res = app
        .request(
            reqwest::Method::DELETE,
            &format!("/api/v1/tokens/{id}"),
            Some(&rep.token),
        )
        .send()
        .await
        .unwrap();
    assert_problem(res, 404).await;
    let res = app
        .request(
            reqwest::Method::DELETE,
            &format!("/api/v1/tokens/{id}"),
            Some(&admin.token),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_problem(app.get("/api/v1/auth/me", &secret).await, 401).await;
    let res = app
        .request(
            reqwest::Method::DELETE,
            &format!("/api/v1/tokens/{id}"),
            Some(&admin.token),
        )
        .send()
        .await
        .unwrap();
    assert_problem(res, 404).await;
}

#[actix_web::test]
async fn token_names_are_validated() {
    let app = spawn_app().await;
    let admin = app.bootstrap_admin().await;
    let body = assert_problem(
        app.post("/api/v1/tokens", &admin.token, json!({"name": " "}))
            .await,
        422,
    )
    .await;
    assert_eq!(body["errors"][0]["field"], "name");
    assert_problem(
        app.post(
            "/api/v1/tokens",
            &admin.token,
            json!({"name": "x".repeat(101)}),
        )
        .await,
        422,
    )
    .await;
    assert_problem(
        app.post("/api/v1/tokens", &admin.token, json!({})).await,
        422,
    )
    .await;
}
