use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{PASSWORD, assert_problem, error_fields, spawn_app};

#[actix_web::test]
async fn admins_create_users_with_a_generated_password_shown_once() {
    let app = spawn_app().await;
    let admin = app.bootstrap_admin().await;
    let res = app
        .post(
            "/api/v1/users",
            &admin.token,
            json!({"email": " Rep@Example.com ", "name": "Rita Rep", "role": "sales"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let location = res.headers()["location"].to_str().unwrap().to_owned();
    assert_eq!(res.headers()["etag"], "\"1\"");
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["email"], "rep@example.com");
    assert_eq!(body["created_by"], admin.id.as_str());
    let password = body["password"].as_str().unwrap();
    assert_eq!(password.len(), 20);
    assert_eq!(
        location,
        format!("/api/v1/users/{}", body["id"].as_str().unwrap())
    );

    let fetched: Value = app.get(&location, &admin.token).await.json().await.unwrap();
    assert!(fetched.get("password").is_none());
    app.login("rep@example.com", password).await;
}

#[actix_web::test]
async fn validation_lists_every_failing_field() {
    let app = spawn_app().await;
    let admin = app.bootstrap_admin().await;
    let res = app
        .post(
            "/api/v1/users",
            &admin.token,
            json!({"email": "not-an-email", "name": "", "role": "root", "password": "short"}),
        )
        .await;
    let body = assert_problem(res, 422).await;
    assert_eq!(error_fields(&body), ["email", "name", "role", "password"]);

    // 40 two-byte characters: within 64 characters but over bcrypt's 72 bytes.
    let res = app
        .post(
            "/api/v1/users",
            &admin.token,
            json!({"email": "e@example.com", "name": "E", "role": "sales", "password": "é".repeat(40)}),
        )
        .await;
    let body = assert_problem(res, 422).await;
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("72 bytes")
    );

    let res = app
        .post(
            "/api/v1/users",
            &admin.token,
            json!({"email": "ADMIN@example.com", "name": "Dup", "role": "sales"}),
        )
        .await;
    assert_eq!(error_fields(&assert_problem(res, 422).await), ["email"]);
}

#[actix_web::test]
async fn only_admins_manage_users() {
    let app = spawn_app().await;
    let admin = app.bootstrap_admin().await;
    for role in ["manager", "sales", "support"] {
        let someone = app.user(&admin, role).await;
        assert_problem(app.get("/api/v1/users", &someone.token).await, 403).await;
        let res = app
            .post(
                "/api/v1/users",
                &someone.token,
                json!({"email": "x@example.com", "name": "X", "role": "admin"}),
            )
            .await;
        assert_problem(res, 403).await;
        let res = app
            .patch(
                &format!("/api/v1/users/{}", someone.id),
                &someone.token,
                json!({"role": "admin"}),
            )
            .await;
        assert_problem(res, 403).await;
        let res = app
            .post(
                &format!("/api/v1/users/{}/reset-password", admin.id),
                &someone.token,
                json!({}),
            )
            .await;
        assert_problem(res, 403).await;
    }
    assert_problem(
        app.request(reqwest::Method::GET, "/api/v1/users", None)
            .send()
            .await
            .unwrap(),
        401,
    )
    .await;
}

#[actix_web::test]
async fn patch_is_partial_versioned_and_refuses_stale_edits() {
    let app = spawn_app().await;
    let admin = app.bootstrap_admin().await;
    let rep = app.user(&admin, "sales").await;
    let path = format!("/api/v1/users/{}", rep.id);

    let res = app
        .request(reqwest::Method::PATCH, &path, Some(&admin.token))
        .header("If-Match", "\"1\"")
        .json(&json!({"name": "Renamed Rep"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["etag"], "\"2\"");
    let body: Value = res.json().await.unwrap();
    assert_eq!(
        (body["name"].as_str(), body["role"].as_str()),
        (Some("Renamed Rep"), Some("sales"))
    );

    let stale = app
        .request(reqwest::Method::PATCH, &path, Some(&admin.token))
        .header("If-Match", "\"1\"")
        .json(&json!({"role": "manager"}))
        .send()
        .await
        .unwrap();
    assert_problem(stale, 412).await;
    let now: Value = app.get(&path, &admin.token).await.json().await.unwrap();
    assert_eq!(now["role"], "sales");
    assert_eq!(now["version"], 2);

    let res = app
        .patch(
            &path,
            &admin.token,
            json!({"role": "wizard", "active": "yes"}),
        )
        .await;
    assert_problem(res, 422).await;
    let res = app
        .patch(&path, &admin.token, json!({"password_hash": "x"}))
        .await;
    assert_problem(res, 422).await;
    assert_problem(app.get("/api/v1/users/no-such-id", &admin.token).await, 404).await;
}

#[actix_web::test]
async fn the_last_active_admin_stays() {
    let app = spawn_app().await;
    let admin = app.bootstrap_admin().await;
    let path = format!("/api/v1/users/{}", admin.id);
    assert_problem(
        app.patch(&path, &admin.token, json!({"role": "sales"}))
            .await,
        409,
    )
    .await;
    assert_problem(
        app.patch(&path, &admin.token, json!({"active": false}))
            .await,
        409,
    )
    .await;
    let second = app.user(&admin, "admin").await;
    let res = app
        .patch(&path, &second.token, json!({"role": "manager"}))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
}

#[actix_web::test]
async fn list_filters_sorts_and_pages_without_repeats() {
    let app = spawn_app().await;
    let admin = app.bootstrap_admin().await;
    for i in 0..7 {
        let role = if i % 2 == 0 { "sales" } else { "support" };
        let res = app
            .post(
                "/api/v1/users",
                &admin.token,
                json!({"email": format!("u{i}@example.com"), "name": format!("User {i}"), "role": role, "password": PASSWORD}),
            )
            .await;
        assert_eq!(res.status(), StatusCode::CREATED);
    }
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut path = "/api/v1/users?sort=email&order=asc&limit=3".to_owned();
        if let Some(c) = &cursor {
            path.push_str(&format!("&cursor={c}"));
        }
        let page: Value = app.get(&path, &admin.token).await.json().await.unwrap();
        for item in page["items"].as_array().unwrap() {
            seen.push(item["email"].as_str().unwrap().to_owned());
        }
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    let mut sorted = seen.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(seen, sorted, "every user once, in order");
    assert_eq!(seen.len(), 8);

    let page: Value = app
        .get("/api/v1/users?role=support", &admin.token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(page["items"].as_array().unwrap().len(), 3);
    let page: Value = app
        .get("/api/v1/users?q=user%205", &admin.token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(page["items"][0]["email"], "u5@example.com");
    let page: Value = app
        .get("/api/v1/users?q=%25", &admin.token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        page["items"].as_array().unwrap().len(),
        0,
        "% is matched literally"
    );

    let body = assert_problem(
        app.get("/api/v1/users?colour=red&limit=500", &admin.token)
            .await,
        422,
    )
    .await;
    assert_eq!(crate::helpers::error_fields(&body), ["colour", "limit"]);
    assert_problem(
        app.get("/api/v1/users?sort=password_hash", &admin.token)
            .await,
        422,
    )
    .await;
    assert_problem(app.get("/api/v1/users?role=root", &admin.token).await, 422).await;
}
