use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{assert_problem, error_fields, spawn_app};

#[actix_web::test]
async fn create_read_update_with_versions() {
    let app = spawn_app().await;
    let admin = app.bootstrap_admin().await;
    let rep = app.user(&admin, "sales").await;

    let res = app
        .post(
            "/api/v1/customers",
            &rep.token,
            json!({"name": "  Acme Corp ", "domain": "https://www.Acme.com/about", "segment": "SMB",
                   "phone": "+1 555 0100", "tags": ["VIP", "vip", "renewal"]}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    assert_eq!(res.headers()["etag"], "\"1\"");
    let created: Value = res.json().await.unwrap();
    assert_eq!(created["name"], "Acme Corp");
    assert_eq!(created["domain"], "acme.com");
    assert_eq!(created["tags"], json!(["renewal", "VIP"]));
    assert_eq!(created["created_by"], rep.id.as_str());
    assert!(created["owner_id"].is_null());
    assert!(created.get("deleted_at").is_none());
    let id = created["id"].as_str().unwrap();
    let path = format!("/api/v1/customers/{id}");

    // Partial update; null clears; tags replaced.
    let res = app
        .request(Method::PATCH, &path, Some(&rep.token))
        .header("If-Match", "\"1\"")
        .json(&json!({"phone": null, "industry": "Retail", "tags": ["key account"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let updated: Value = res.json().await.unwrap();
    assert!(updated["phone"].is_null());
    assert_eq!(updated["industry"], "Retail");
    assert_eq!(updated["name"], "Acme Corp");
    assert_eq!(updated["version"], 2);
    assert_eq!(updated["tags"], json!(["key account"]));

    // A stale edit changes nothing.
    let stale = app
        .request(Method::PATCH, &path, Some(&rep.token))
        .header("If-Match", "\"1\"")
        .json(&json!({"name": "Overwritten"}))
        .send()
        .await
        .unwrap();
    assert_problem(stale, 412).await;
    let now: Value = app.get(&path, &rep.token).await.json().await.unwrap();
    assert_eq!(now["name"], "Acme Corp");

    // The audit trail has the create and the changed fields only.
    let audit: Value = app
        .get(
            &format!("/api/v1/audit?entity_type=customer&entity_id={id}"),
            &admin.token,
        )
        .await
        .json()
        .await
        .unwrap();
    let entries = audit["items"].as_array().unwrap();
    assert_eq!(entries.len(), 2);
    assert_eq!(entries[0]["action"], "customer.update");
    assert_eq!(
        entries[0]["before"],
        json!({"phone": "+1 555 0100", "industry": null, "tags": ["renewal", "VIP"]})
    );
    assert_eq!(
        entries[0]["after"],
        json!({"phone": null, "industry": "Retail", "tags": ["key account"]})
    );
    assert_eq!(entries[1]["action"], "customer.create");
    assert_problem(app.get("/api/v1/audit", &rep.token).await, 403).await;
}

#[actix_web::test]
async fn validation_reports_every_field() {
    let app = spawn_app().await;
    let admin = app.bootstrap_admin().await;
    let res = app
        .post(
            "/api/v1/customers",
            &admin.token,
            json!({"domain": "not a domain", "phone": "=cmd|' /C calc'!A0", "owner_id": "nobody",
                   "industry": "x".repeat(101), "tags": [""]}),
        )
        .await;
    let body = assert_problem(res, 422).await;
    assert_eq!(
        error_fields(&body),
        ["name", "domain", "industry", "phone", "owner_id", "tags"]
    );

    let res = app
        .post(
            "/api/v1/customers",
            &admin.token,
            json!({"name": "A", "colour": "red"}),
        )
        .await;
    assert!(
        assert_problem(res, 422).await["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("unknown field")
    );
    let res = app
        .post("/api/v1/customers", &admin.token, json!({"name": 7}))
        .await;
    assert_eq!(error_fields(&assert_problem(res, 422).await), ["name"]);
    let res = app
        .post(
            "/api/v1/customers",
            &admin.token,
            json!({"name": "x".repeat(201)}),
        )
        .await;
    assert_eq!(error_fields(&assert_problem(res, 422).await), ["name"]);
    let res = app
        .post("/api/v1/customers", &admin.token, json!({"name": "   "}))
        .await;
    assert_eq!(error_fields(&assert_problem(res, 422).await), ["name"]);
    let list: Value = app
        .get("/api/v1/customers", &admin.token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        list["items"].as_array().unwrap().len(),
        0,
        "nothing was written"
    );
}

#[actix_web::test]
async fn roles_and_ownership() {
    let app = spawn_app().await;
    let admin = app.bootstrap_admin().await;
    let rep = app.user(&admin, "sales").await;
    let other_rep = app.user(&admin, "sales").await;
    let support = app.user(&admin, "support").await;
    let manager = app.user(&admin, "manager").await;

    assert_problem(
        app.post("/api/v1/customers", &support.token, json!({"name": "S"}))
            .await,
        403,
    )
    .await;
    let res = app
        .post(
            "/api/v1/customers",
            &rep.token,
            json!({"name": "R", "owner_id": other_rep.id}),
        )
        .await;
    assert_problem(res, 403).await;

    let mine: Value = app
        .post("/api/v1/customers", &rep.token, json!({"name": "Mine"}))
        .await
        .json()
        .await
        .unwrap();
    let path = format!("/api/v1/customers/{}", mine["id"].as_str().unwrap());
    // Everyone reads it; only the owner (or a manager) edits it.
    for reader in [&support, &other_rep, &manager] {
        assert_eq!(app.get(&path, &reader.token).await.status(), StatusCode::OK);
    }
    assert_problem(
        app.patch(&path, &other_rep.token, json!({"name": "Theirs"}))
            .await,
        403,
    )
    .await;
    assert_problem(
        app.patch(&path, &support.token, json!({"name": "Theirs"}))
            .await,
        403,
    )
    .await;
    assert_problem(
        app.request(Method::DELETE, &path, Some(&other_rep.token))
            .send()
            .await
            .unwrap(),
        403,
    )
    .await;
    // The owner may not give it away; a manager may.
    assert_problem(
        app.patch(&path, &rep.token, json!({"owner_id": other_rep.id}))
            .await,
        403,
    )
    .await;
    let res = app
        .patch(&path, &manager.token, json!({"owner_id": other_rep.id}))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    // Now it is the other rep's.
    assert_problem(
        app.patch(&path, &rep.token, json!({"name": "Back"})).await,
        403,
    )
    .await;
    assert_eq!(
        app.patch(&path, &other_rep.token, json!({"name": "Renamed"}))
            .await
            .status(),
        StatusCode::OK
    );
}

#[actix_web::test]
async fn trash_restore_and_purge() {
    let app = spawn_app().await;
    let admin = app.bootstrap_admin().await;
    let rep = app.user(&admin, "sales").await;
    let created: Value = app
        .post(
            "/api/v1/customers",
            &rep.token,
            json!({"name": "Gone Soon"}),
        )
        .await
        .json()
        .await
        .unwrap();
    let id = created["id"].as_str().unwrap();
    let path = format!("/api/v1/customers/{id}");

    let purge_live = app
        .request(
            Method::POST,
            &format!("/api/v1/customers/{id}/purge"),
            Some(&admin.token),
        )
        .send()
        .await
        .unwrap();
    assert_problem(purge_live, 409).await;

    let res = app
        .request(Method::DELETE, &path, Some(&rep.token))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_problem(app.get(&path, &rep.token).await, 404).await;
    let list: Value = app
        .get("/api/v1/customers", &rep.token)
        .await
        .json()
        .await
        .unwrap();
    assert!(list["items"].as_array().unwrap().is_empty());
    assert_problem(
        app.patch(&path, &rep.token, json!({"name": "x"})).await,
        404,
    )
    .await;

    let trash: Value = app
        .get("/api/v1/trash?entity=customer", &rep.token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(trash["items"][0]["id"], id);
    assert_eq!(trash["items"][0]["title"], "Gone Soon");
    let other = app.user(&admin, "sales").await;
    let theirs: Value = app
        .get("/api/v1/trash?entity=customer", &other.token)
        .await
        .json()
        .await
        .unwrap();
    assert!(
        theirs["items"].as_array().unwrap().is_empty(),
        "a rep sees only their own trash"
    );
    assert_problem(
        app.get("/api/v1/trash?entity=planet", &rep.token).await,
        422,
    )
    .await;

    let res = app
        .request(Method::POST, &format!("{path}/restore"), Some(&rep.token))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(app.get(&path, &rep.token).await.status(), StatusCode::OK);

    app.request(Method::DELETE, &path, Some(&rep.token))
        .send()
        .await
        .unwrap();
    let res = app
        .request(
            Method::POST,
            &format!("/api/v1/customers/{id}/purge"),
            Some(&rep.token),
        )
        .send()
        .await
        .unwrap();
    assert_problem(res, 403).await;
    let res = app
        .request(
            Method::POST,
            &format!("/api/v1/customers/{id}/purge"),
            Some(&admin.token),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let res = app
        .request(Method::POST, &format!("{path}/restore"), Some(&rep.token))
        .send()
        .await
        .unwrap();
    assert_problem(res, 404).await;

    let audit: Value = app
        .get(&format!("/api/v1/audit?entity_id={id}"), &admin.token)
        .await
        .json()
        .await
        .unwrap();
    let actions: Vec<&str> = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        [
            "customer.purge",
            "customer.delete",
            "customer.restore",
            "customer.delete",
            "customer.create"
        ]
    );
    let check = app.cli(&["check"], None);
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stdout)
    );
}

#[actix_web::test]
async fn list_filters_sorts_and_pages() {
    let app = spawn_app().await;
    let admin = app.bootstrap_admin().await;
    let rep = app.user(&admin, "sales").await;
    for (i, segment) in ["SMB", "Enterprise", "SMB", "Mid-Market", "SMB"]
        .iter()
        .enumerate()
    {
        let res = app
            .post(
                "/api/v1/customers",
                &admin.token,
                json!({"name": format!("Company {i}"), "segment": segment, "owner_id": if i % 2 == 0 { Some(&rep.id) } else { None },
                       "tags": if i == 3 { vec!["vip"] } else { vec![] }}),
            )
            .await;
        assert_eq!(res.status(), StatusCode::CREATED);
    }
    let names = |v: &Value| -> Vec<String> {
        v["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["name"].as_str().unwrap().to_owned())
            .collect()
    };
    let page: Value = app
        .get(
            "/api/v1/customers?segment=SMB&sort=name&order=asc",
            &admin.token,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(names(&page), ["Company 0", "Company 2", "Company 4"]);
    let page: Value = app
        .get(
            &format!("/api/v1/customers?owner_id={}", rep.id),
            &admin.token,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        names(&page),
        ["Company 4", "Company 2", "Company 0"],
        "newest first by default"
    );
    let page: Value = app
        .get("/api/v1/customers?tag=VIP", &admin.token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(names(&page), ["Company 3"]);
    let page: Value = app
        .get("/api/v1/customers?q=pany%201", &admin.token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(names(&page), ["Company 1"]);
    let page: Value = app
        .get(
            "/api/v1/customers?created_from=2000-01-01&created_to=2000-01-02",
            &admin.token,
        )
        .await
        .json()
        .await
        .unwrap();
    assert!(names(&page).is_empty());
    assert_problem(
        app.get("/api/v1/customers?created_from=yesterday", &admin.token)
            .await,
        422,
    )
    .await;
    assert_problem(
        app.get("/api/v1/customers?stage=won", &admin.token).await,
        422,
    )
    .await;
    assert_problem(
        app.get("/api/v1/customers?sort=phone", &admin.token).await,
        422,
    )
    .await;

    // Paging while rows are inserted visits every row that existed once.
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    let mut inserted = 0;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/v1/customers?limit=2&sort=name&order=asc&cursor={c}"),
            None => "/api/v1/customers?limit=2&sort=name&order=asc".to_owned(),
        };
        let page: Value = app.get(&path, &admin.token).await.json().await.unwrap();
        seen.extend(names(&page));
        app.post(
            "/api/v1/customers",
            &admin.token,
            json!({"name": format!("Aardvark {inserted}")}),
        )
        .await;
        inserted += 1;
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    for i in 0..5 {
        assert_eq!(
            seen.iter()
                .filter(|n| **n == format!("Company {i}"))
                .count(),
            1
        );
    }
    let mut sorted = seen.clone();
    sorted.sort_by_key(|s| s.to_lowercase());
    assert_eq!(seen, sorted);
}
