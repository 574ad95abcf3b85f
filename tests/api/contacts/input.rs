//! Validation, wrong types, unknown fields and oversized bodies.

use reqwest::{Method, StatusCode};
use serde_json::json;

use super::{create, id_of, json_of};
use crate::helpers::{assert_problem, error_fields, spawn_app};

#[actix_web::test]
async fn validation_reports_every_field_at_once() {
    let app = spawn_app().await;
    let admin = app.bootstrap_admin().await;
    let res = app
        .post(
            "/api/v1/contacts",
            &admin.token,
            json!({"customer_id": "nope", "last_name": "x".repeat(101), "email": "ada@", 
                   "phone": "=cmd|' /C calc'!A0", "title": "t".repeat(101), "owner_id": "nobody",
                   "tags": ["x".repeat(51)]}),
        )
        .await;
    let body = assert_problem(res, 422).await;
    assert_eq!(
        error_fields(&body),
        [
            "customer_id",
            "first_name",
            "last_name",
            "email",
            "phone",
            "title",
            "owner_id",
            "tags"
        ]
    );

    // Names: required, at most 100 characters, no control characters.
    for bad in [
        json!(null),
        json!("   "),
        json!("x".repeat(101)),
        json!("A\u{0}B"),
    ] {
        let res = app
            .post("/api/v1/contacts", &admin.token, json!({"first_name": bad}))
            .await;
        assert_eq!(
            error_fields(&assert_problem(res, 422).await),
            ["first_name"]
        );
    }
    let res = app
        .post(
            "/api/v1/contacts",
            &admin.token,
            json!({"first_name": "é".repeat(100), "last_name": "x".repeat(100), "title": "t".repeat(100)}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED, "100 characters are fine");
    let path = format!("/api/v1/contacts/{}", id_of(&res.json().await.unwrap()));

    // PATCH validates what it touches, all at once, and writes nothing on failure.
    let res = app
        .patch(
            &path,
            &admin.token,
            json!({"first_name": null, "email": "two@@example.com", "owner_id": ""}),
        )
        .await;
    assert_eq!(
        error_fields(&assert_problem(res, 422).await),
        ["first_name", "email", "owner_id"]
    );
    let now = json_of(app.get(&path, &admin.token).await).await;
    assert_eq!(now["version"], 1);
    let list = json_of(app.get("/api/v1/contacts", &admin.token).await).await;
    assert_eq!(
        list["items"].as_array().unwrap().len(),
        1,
        "nothing else was written"
    );
}

#[actix_web::test]
async fn wrong_types_unknown_fields_and_oversized_bodies() {
    let app = spawn_app().await;
    let admin = app.bootstrap_admin().await;
    for (body, field) in [
        (json!({"first_name": 7}), "first_name"),
        (json!({"first_name": ["Ada"]}), "first_name"),
        (
            json!({"first_name": "Ada", "customer_id": 5}),
            "customer_id",
        ),
        (json!({"first_name": "Ada", "tags": "vip"}), "tags"),
        (json!({"first_name": "Ada", "tags": [1]}), "tags[0]"),
        (json!({"first_name": "Ada", "email": true}), "email"),
    ] {
        let res = app
            .post("/api/v1/contacts", &admin.token, body.clone())
            .await;
        assert_eq!(
            error_fields(&assert_problem(res, 422).await),
            [field],
            "{body}"
        );
    }
    let res = app
        .post(
            "/api/v1/contacts",
            &admin.token,
            json!({"first_name": "Ada", "id": "mine", "version": 9}),
        )
        .await;
    let body = assert_problem(res, 422).await;
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("unknown field")
    );
    let res = app
        .post("/api/v1/contacts", &admin.token, json!(["Ada"]))
        .await;
    assert_eq!(error_fields(&assert_problem(res, 422).await), ["body"]);

    let raw = |body: Vec<u8>, content_type: &'static str| {
        app.request(Method::POST, "/api/v1/contacts", Some(&admin.token))
            .header("content-type", content_type)
            .body(body)
            .send()
    };
    assert_problem(
        raw(b"{\"first_name\":".to_vec(), "application/json")
            .await
            .unwrap(),
        400,
    )
    .await;
    assert_problem(
        raw(b"first_name=Ada".to_vec(), "text/plain").await.unwrap(),
        415,
    )
    .await;
    let huge = format!("{{\"first_name\":\"{}\"}}", "x".repeat(1024 * 1024));
    assert_problem(
        raw(huge.into_bytes(), "application/json").await.unwrap(),
        413,
    )
    .await;

    let created = create(&app, "contacts", &admin, json!({"first_name": "Ada"})).await;
    let path = format!("/api/v1/contacts/{}", id_of(&created));
    let res = app
        .patch(&path, &admin.token, json!({"deleted_at": null}))
        .await;
    assert_problem(res, 422).await;
    let res = app
        .patch(&path, &admin.token, json!({"last_name": 3}))
        .await;
    assert_eq!(error_fields(&assert_problem(res, 422).await), ["last_name"]);
    let huge = format!("{{\"title\":\"{}\"}}", "x".repeat(1024 * 1024));
    let res = app
        .request(Method::PATCH, &path, Some(&admin.token))
        .header("content-type", "application/json")
        .body(huge)
        .send()
        .await
        .unwrap();
    assert_problem(res, 413).await;
    assert_eq!(json_of(app.get(&path, &admin.token).await).await, created);
}
