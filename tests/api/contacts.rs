//! `/api/v1/contacts`; the shared steps live here, the tests by area below.

mod input;
mod lists;
mod permissions;
mod trash;

use reqwest::{Method, Response, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{Login, TestApp, assert_problem, spawn_app};

/// Creates a record, asserting 201, and returns its body.
async fn create(app: &TestApp, entity: &str, who: &Login, body: Value) -> Value {
    let res = app
        .post(&format!("/api/v1/{entity}"), &who.token, body)
        .await;
    assert_eq!(res.status(), StatusCode::CREATED, "create {entity}");
    res.json().await.unwrap()
}

async fn send(app: &TestApp, method: Method, path: &str, who: &Login) -> Response {
    app.request(method, path, Some(&who.token))
        .send()
        .await
        .unwrap()
}

async fn patch_if(app: &TestApp, path: &str, who: &Login, etag: &str, body: Value) -> Response {
    app.request(Method::PATCH, path, Some(&who.token))
        .header("If-Match", etag)
        .json(&body)
        .send()
        .await
        .unwrap()
}

async fn json_of(res: Response) -> Value {
    assert_eq!(res.status(), StatusCode::OK, "{}", res.url());
    res.json().await.unwrap()
}

async fn audit_actions(app: &TestApp, admin: &Login, id: &str) -> Vec<String> {
    let audit = json_of(
        app.get(
            &format!("/api/v1/audit?entity_type=contact&entity_id={id}"),
            &admin.token,
        )
        .await,
    )
    .await;
    audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_owned())
        .collect()
}

fn id_of(v: &Value) -> String {
    v["id"].as_str().unwrap().to_owned()
}
#[actix_web::test]
async fn create_read_update_delete_restore_with_versions_and_audit() {
    let app = spawn_app().await;
    let admin = app.bootstrap_admin().await;
    let rep = app.user(&admin, "sales").await;
    let acme = create(&app, "customers", &rep, json!({"name": "Acme"})).await;

    let res = app
        .post(
            "/api/v1/contacts",
            &rep.token,
            json!({"customer_id": acme["id"], "first_name": "  Ada ", "last_name": "Lovelace",
                   "email": " Ada@Example.COM ", "phone": "+44 20 7946 0000", "title": "Engineer",
                   "tags": ["VIP", "vip", "math"]}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    assert_eq!(res.headers()["etag"], "\"1\"");
    let location = res.headers()["location"].to_str().unwrap().to_owned();
    let created: Value = res.json().await.unwrap();
    let id = id_of(&created);
    let path = format!("/api/v1/contacts/{id}");
    assert_eq!(location, path);
    assert_eq!(created["first_name"], "Ada");
    assert_eq!(created["email"], "ada@example.com");
    assert_eq!(created["customer_id"], acme["id"]);
    assert_eq!(created["tags"], json!(["math", "VIP"]));
    assert_eq!(created["created_by"], rep.id.as_str());
    assert_eq!(created["version"], 1);
    assert!(created["owner_id"].is_null());
    assert!(created.get("deleted_at").is_none());

    let res = app.get(&path, &rep.token).await;
    assert_eq!(res.headers()["etag"], "\"1\"");
    assert_eq!(json_of(res).await, created);

    // Partial update: null clears, absent keeps, tags are replaced.
    let res = patch_if(
        &app,
        &path,
        &rep,
        "\"1\"",
        json!({"last_name": null, "title": "CTO", "customer_id": null, "tags": ["key"]}),
    )
    .await;
    assert_eq!(res.headers()["etag"], "\"2\"");
    let updated = json_of(res).await;
    assert!(updated["last_name"].is_null());
    assert!(updated["customer_id"].is_null());
    assert_eq!(updated["title"], "CTO");
    assert_eq!(updated["first_name"], "Ada");
    assert_eq!(updated["email"], "ada@example.com");
    assert_eq!(updated["tags"], json!(["key"]));
    assert_eq!(updated["version"], 2);

    // A stale edit or delete changes nothing.
    let stale = patch_if(&app, &path, &rep, "\"1\"", json!({"first_name": "Eve"})).await;
    assert_problem(stale, 412).await;
    let stale = app
        .request(Method::DELETE, &path, Some(&rep.token))
        .header("If-Match", "\"1\"")
        .send()
        .await
        .unwrap();
    assert_problem(stale, 412).await;
    let now = json_of(app.get(&path, &rep.token).await).await;
    assert_eq!(now, updated);

    let res = app
        .request(Method::DELETE, &path, Some(&rep.token))
        .header("If-Match", "\"2\"")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);

    // Deleted: 404 everywhere but the trash and restore.
    assert_problem(app.get(&path, &rep.token).await, 404).await;
    assert_problem(
        app.patch(&path, &rep.token, json!({"title": "x"})).await,
        404,
    )
    .await;
    assert_problem(send(&app, Method::DELETE, &path, &rep).await, 404).await;
    let list = json_of(app.get("/api/v1/contacts", &rep.token).await).await;
    assert!(list["items"].as_array().unwrap().is_empty());
    let trash = json_of(app.get("/api/v1/trash?entity=contact", &rep.token).await).await;
    assert_eq!(trash["items"][0]["id"], id.as_str());
    assert_eq!(trash["items"][0]["title"], "Ada");

    let res = send(&app, Method::POST, &format!("{path}/restore"), &rep).await;
    assert_eq!(res.headers()["etag"], "\"4\"");
    let restored = json_of(res).await;
    assert_eq!(restored["title"], "CTO");
    assert!(restored.get("deleted_at").is_none());
    assert_eq!(app.get(&path, &rep.token).await.status(), StatusCode::OK);
    // Restoring a live contact is a 409 that says so; one that never existed is a 404.
    let live = assert_problem(
        send(&app, Method::POST, &format!("{path}/restore"), &rep).await,
        409,
    )
    .await;
    assert_eq!(live["detail"], "This contact is not in the trash.");
    for method in [Method::GET, Method::PATCH, Method::DELETE] {
        let res = app
            .request(method, "/api/v1/contacts/no-such-id", Some(&rep.token))
            .json(&json!({}))
            .send()
            .await
            .unwrap();
        assert_problem(res, 404).await;
    }
    assert_problem(
        send(
            &app,
            Method::POST,
            "/api/v1/contacts/no-such-id/restore",
            &rep,
        )
        .await,
        404,
    )
    .await;

    // The audit trail: every change, updates with the changed fields only.
    assert_eq!(
        audit_actions(&app, &admin, &id).await,
        [
            "contact.restore",
            "contact.delete",
            "contact.update",
            "contact.create"
        ]
    );
    let audit = json_of(
        app.get(
            &format!("/api/v1/audit?entity_type=contact&entity_id={id}"),
            &admin.token,
        )
        .await,
    )
    .await;
    let update = &audit["items"][2];
    assert_eq!(update["actor_id"], rep.id.as_str());
    assert_eq!(
        update["before"],
        json!({"last_name": "Lovelace", "title": "Engineer", "customer_id": acme["id"], "tags": ["math", "VIP"]})
    );
    assert_eq!(
        update["after"],
        json!({"last_name": null, "title": "CTO", "customer_id": null, "tags": ["key"]})
    );
    assert_eq!(audit["items"][3]["after"]["email"], "ada@example.com");
}
