use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_problem, error_fields, spawn_app};

async fn id_of(app: &TestApp, token: &str, path: &str, body: Value) -> String {
    let res = app.post(path, token, body).await;
    assert_eq!(res.status(), StatusCode::CREATED, "POST {path}");
    let v: Value = res.json().await.unwrap();
    v["id"].as_str().unwrap().to_owned()
}

/// The groups found for `reason`, each as its sorted ids.
fn groups(found: &Value, reason: &str) -> Vec<Vec<String>> {
    found["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|g| g["reason"] == reason)
        .map(|g| {
            let mut ids: Vec<String> = g["records"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["id"].as_str().unwrap().to_owned())
                .collect();
            ids.sort();
            ids
        })
        .collect()
}

fn sorted(mut ids: Vec<String>) -> Vec<String> {
    ids.sort();
    ids
}

#[actix_web::test]
async fn duplicates_are_found_by_each_reason() {
    let app = spawn_app().await;
    let admin = app.bootstrap_admin().await;
    let t = &admin.token;
    let acme = id_of(
        &app,
        t,
        "/api/v1/customers",
        json!({"name": "Acme, Inc.", "domain": "acme.com"}),
    )
    .await;
    let acme2 = id_of(
        &app,
        t,
        "/api/v1/customers",
        json!({"name": "ACME Corp", "domain": "https://www.acme.com/"}),
    )
    .await;
    let acne = id_of(&app, t, "/api/v1/customers", json!({"name": "Acne"})).await;
    let other = id_of(&app, t, "/api/v1/customers", json!({"name": "Globex"})).await;
    let trashed = id_of(
        &app,
        t,
        "/api/v1/customers",
        json!({"name": "Globex", "domain": "acme.com"}),
    )
    .await;
    let res = app
        .request(
            reqwest::Method::DELETE,
            &format!("/api/v1/customers/{trashed}"),
            Some(t),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);

    let found: Value = app
        .get("/api/v1/duplicates?entity=customer", t)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        groups(&found, "domain"),
        [sorted(vec![acme.clone(), acme2.clone()])]
    );
    assert_eq!(
        groups(&found, "name"),
        [sorted(vec![acme.clone(), acme2.clone(), acne])]
    );
    assert_eq!(found["truncated"], false);
    assert!(!found.to_string().contains(&other));

    let ann = id_of(&app, t, "/api/v1/contacts", json!({"first_name": "Ann", "last_name": "Lee", "customer_id": acme, "email": "ann@acme.com", "phone": "+1 (555) 010-0200"})).await;
    let ann2 = id_of(
        &app,
        t,
        "/api/v1/contacts",
        json!({"first_name": "Anne", "last_name": "Lee", "customer_id": acme}),
    )
    .await;
    let by_mail = id_of(
        &app,
        t,
        "/api/v1/contacts",
        json!({"first_name": "Zed", "email": "ANN@acme.com"}),
    )
    .await;
    let by_phone = id_of(
        &app,
        t,
        "/api/v1/contacts",
        json!({"first_name": "Yan", "phone": "15550100200"}),
    )
    .await;
    // The same name at another customer is another person; short numbers are not compared.
    id_of(
        &app,
        t,
        "/api/v1/contacts",
        json!({"first_name": "Ann", "last_name": "Lee", "customer_id": acme2, "phone": "555 12"}),
    )
    .await;
    id_of(
        &app,
        t,
        "/api/v1/contacts",
        json!({"first_name": "Bob", "phone": "55512"}),
    )
    .await;

    let found: Value = app
        .get("/api/v1/duplicates?entity=contact", t)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        groups(&found, "email"),
        [sorted(vec![ann.clone(), by_mail])]
    );
    assert_eq!(
        groups(&found, "phone"),
        [sorted(vec![ann.clone(), by_phone])]
    );
    assert_eq!(groups(&found, "name"), [sorted(vec![ann, ann2])]);
    let phone_group = found["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["reason"] == "phone")
        .unwrap();
    assert_eq!(phone_group["key"], "15550100200");
    assert_eq!(phone_group["count"], 2);

    let res = app.get("/api/v1/duplicates?entity=lead", t).await;
    assert_eq!(error_fields(&assert_problem(res, 422).await), ["entity"]);
    let sales = app.user(&admin, "sales").await;
    let res = app
        .get("/api/v1/duplicates?entity=contact", &sales.token)
        .await;
    assert_problem(res, 403).await;
}

#[actix_web::test]
async fn merging_customers_moves_children_trashes_the_merged_and_is_audited() {
    let app = spawn_app().await;
    let admin = app.bootstrap_admin().await;
    let manager = app.user(&admin, "manager").await;
    let t = &manager.token;
    let survivor = id_of(
        &app,
        t,
        "/api/v1/customers",
        json!({"name": "Acme", "segment": "SMB", "tags": ["vip"]}),
    )
    .await;
    let merged = id_of(&app, t, "/api/v1/customers", json!({"name": "Acme Inc", "segment": "Enterprise", "industry": "Retail", "domain": "acme.com", "tags": ["renewal", "VIP"]})).await;
    let contact = id_of(
        &app,
        t,
        "/api/v1/contacts",
        json!({"first_name": "Ann", "customer_id": merged}),
    )
    .await;
    let lead = id_of(
        &app,
        t,
        "/api/v1/leads",
        json!({"title": "Deal", "customer_id": merged}),
    )
    .await;
    let task = id_of(
        &app,
        t,
        "/api/v1/tasks",
        json!({"title": "Call", "customer_id": merged}),
    )
    .await;
    let activity = id_of(
        &app,
        t,
        "/api/v1/activities",
        json!({"subject_type": "customer", "subject_id": merged, "body": "Met"}),
    )
    .await;

    // Invalid requests change nothing.
    let sales = app.user(&admin, "sales").await;
    let body = json!({"entity": "customer", "survivor_id": survivor, "merged_ids": [merged]});
    assert_problem(
        app.post("/api/v1/merges", &sales.token, body.clone()).await,
        403,
    )
    .await;
    let res = app
        .post(
            "/api/v1/merges",
            t,
            json!({"entity": "customer", "survivor_id": survivor, "merged_ids": [survivor]}),
        )
        .await;
    assert_eq!(
        error_fields(&assert_problem(res, 422).await),
        ["merged_ids"]
    );
    let res = app
        .post(
            "/api/v1/merges",
            t,
            json!({"entity": "lead", "survivor_id": survivor, "merged_ids": []}),
        )
        .await;
    assert_eq!(
        error_fields(&assert_problem(res, 422).await),
        ["entity", "merged_ids"]
    );
    let too_many: Vec<String> = (0..21).map(|i| format!("x{i}")).collect();
    let res = app
        .post(
            "/api/v1/merges",
            t,
            json!({"entity": "customer", "survivor_id": survivor, "merged_ids": too_many}),
        )
        .await;
    assert_problem(res, 422).await;
    let res = app
        .post(
            "/api/v1/merges",
            t,
            json!({"entity": "customer", "survivor_id": survivor, "merged_ids": ["nope"]}),
        )
        .await;
    assert_problem(res, 404).await;
    let res = app
        .post(
            "/api/v1/merges",
            t,
            json!({"entity": "contact", "survivor_id": contact, "merged_ids": [merged]}),
        )
        .await;
    assert_problem(res, 404).await;

    let res = app.post("/api/v1/merges", t, body).await;
    assert_eq!(res.status(), StatusCode::OK);
    let after: Value = res.json().await.unwrap();
    assert_eq!(after["id"], survivor.as_str());
    assert_eq!(after["name"], "Acme");
    assert_eq!(after["segment"], "SMB", "the survivor's values win");
    assert_eq!(after["industry"], "Retail", "missing values are filled");
    assert_eq!(after["domain"], "acme.com");
    assert_eq!(after["tags"], json!(["renewal", "vip"]));

    assert_problem(
        app.get(&format!("/api/v1/customers/{merged}"), t).await,
        404,
    )
    .await;
    let c: Value = app
        .get(&format!("/api/v1/contacts/{contact}"), t)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(c["customer_id"], survivor.as_str());
    let l: Value = app
        .get(&format!("/api/v1/leads/{lead}"), t)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(l["customer_id"], survivor.as_str());
    let k: Value = app
        .get(&format!("/api/v1/tasks/{task}"), t)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(k["customer_id"], survivor.as_str());
    let a: Value = app
        .get(&format!("/api/v1/activities/{activity}"), t)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(a["subject_id"], survivor.as_str());

    let audit: Value = app
        .get(
            &format!(
                "/api/v1/audit?action=customer.merge&entity_type=customer&entity_id={survivor}"
            ),
            &admin.token,
        )
        .await
        .json()
        .await
        .unwrap();
    let entry = &audit["items"][0];
    assert_eq!(entry["actor_id"], manager.id.as_str());
    assert_eq!(entry["after"]["merged_ids"], json!([merged]));
    assert_eq!(entry["after"]["moved"]["contacts"], json!([contact]));
    assert_eq!(entry["after"]["moved"]["leads"], json!([lead]));
    assert_eq!(entry["after"]["moved"]["tasks"], json!([task]));
    assert_eq!(entry["after"]["moved"]["activities"], json!([activity]));
    let moved: Value = app
        .get(
            &format!("/api/v1/audit?entity_type=contact&entity_id={contact}&action=contact.update"),
            &admin.token,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(moved["items"][0]["after"]["customer_id"], survivor.as_str());

    let check = app.cli(&["check"], None);
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stdout)
    );
}

#[actix_web::test]
async fn merging_contacts_moves_leads_tasks_activities_and_tags() {
    let app = spawn_app().await;
    let admin = app.bootstrap_admin().await;
    let t = &admin.token;
    let customer = id_of(&app, t, "/api/v1/customers", json!({"name": "Acme"})).await;
    let survivor = id_of(
        &app,
        t,
        "/api/v1/contacts",
        json!({"first_name": "Ann", "email": "ann@acme.com"}),
    )
    .await;
    let a = id_of(&app, t, "/api/v1/contacts", json!({"first_name": "Anne", "email": "anne@other.com", "customer_id": customer, "title": "CTO", "tags": ["tech"]})).await;
    let b = id_of(
        &app,
        t,
        "/api/v1/contacts",
        json!({"first_name": "A.", "phone": "+1 555 0100", "title": "CEO"}),
    )
    .await;
    let lead = id_of(
        &app,
        t,
        "/api/v1/leads",
        json!({"title": "Deal", "contact_id": b}),
    )
    .await;
    let task = id_of(
        &app,
        t,
        "/api/v1/tasks",
        json!({"title": "Call", "contact_id": a}),
    )
    .await;
    let note = id_of(
        &app,
        t,
        "/api/v1/activities",
        json!({"subject_type": "contact", "subject_id": b, "body": "Met"}),
    )
    .await;

    let res = app
        .post(
            "/api/v1/merges",
            t,
            json!({"entity": "contact", "survivor_id": survivor, "merged_ids": [a, b]}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let after: Value = res.json().await.unwrap();
    assert_eq!(after["email"], "ann@acme.com");
    assert_eq!(after["customer_id"], customer.as_str());
    assert_eq!(
        after["title"], "CTO",
        "the first merged record with a value gives it"
    );
    assert_eq!(after["phone"], "+1 555 0100");
    assert_eq!(after["tags"], json!(["tech"]));
    for id in [&a, &b] {
        assert_problem(app.get(&format!("/api/v1/contacts/{id}"), t).await, 404).await;
    }
    let l: Value = app
        .get(&format!("/api/v1/leads/{lead}"), t)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(l["contact_id"], survivor.as_str());
    let k: Value = app
        .get(&format!("/api/v1/tasks/{task}"), t)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(k["contact_id"], survivor.as_str());
    let n: Value = app
        .get(&format!("/api/v1/activities/{note}"), t)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(n["subject_id"], survivor.as_str());
    // Already merged: the ids are no longer live.
    let res = app
        .post(
            "/api/v1/merges",
            t,
            json!({"entity": "contact", "survivor_id": survivor, "merged_ids": [a]}),
        )
        .await;
    assert_problem(res, 404).await;
    assert!(app.cli(&["check"], None).status.success());
}
