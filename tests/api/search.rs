//! `GET /api/v1/search` and the lists' `q`, both over the full-text index.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{Login, TestApp, assert_problem, spawn_app};

async fn create(app: &TestApp, entity: &str, who: &Login, body: Value) -> String {
    let res = app
        .post(&format!("/api/v1/{entity}"), &who.token, body)
        .await;
    assert_eq!(res.status(), StatusCode::CREATED, "create {entity}");
    let body: Value = res.json().await.unwrap();
    body["id"].as_str().unwrap().to_owned()
}

async fn search(app: &TestApp, who: &Login, query: &str) -> Vec<Value> {
    let res = app
        .get(&format!("/api/v1/search?{query}"), &who.token)
        .await;
    assert_eq!(res.status(), StatusCode::OK, "{query}");
    let body: Value = res.json().await.unwrap();
    body["items"].as_array().unwrap().clone()
}

/// The titles found for `q` (URL-encoded by the caller where needed).
async fn titles(app: &TestApp, who: &Login, q: &str) -> Vec<String> {
    search(app, who, &format!("q={q}"))
        .await
        .iter()
        .map(|h| h["title"].as_str().unwrap().to_owned())
        .collect()
}

async fn list_names(app: &TestApp, who: &Login, path: &str, field: &str) -> Vec<String> {
    let res = app.get(path, &who.token).await;
    assert_eq!(res.status(), StatusCode::OK, "{path}");
    let body: Value = res.json().await.unwrap();
    body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i[field].as_str().unwrap().to_owned())
        .collect()
}

struct Crm {
    app: TestApp,
    admin: Login,
    acme: String,
    jose: String,
    lead: String,
}

async fn crm() -> Crm {
    let app = spawn_app().await;
    let admin = app.bootstrap_admin().await;
    let acmecorp = create(
        &app,
        "customers",
        &admin,
        json!({"name": "Acmecorp Ltd", "domain": "acmecorp.com", "industry": "Manufacturing"}),
    )
    .await;
    let acme = create(&app, "customers", &admin, json!({"name": "Acme"})).await;
    create(&app, "customers", &admin, json!({"name": "Acme Rockets"})).await;
    let jose = create(
        &app,
        "contacts",
        &admin,
        json!({"first_name": "José", "last_name": "Núñez", "email": "ada.lovelace@example.com",
               "phone": "+1 (555) 010-0147", "title": "Buyer", "customer_id": acmecorp}),
    )
    .await;
    let lead = create(
        &app,
        "leads",
        &admin,
        json!({"title": "Rocket fuel order", "value_cents": 987654, "currency": "USD",
               "company_name": "Globex", "contact_name": "Hank Scorpio",
               "email": "hank@globex.com"}),
    )
    .await;
    Crm {
        app,
        admin,
        acme,
        jose,
        lead,
    }
}

#[actix_web::test]
async fn search_finds_prefixes_accents_phones_emails_and_substrings() {
    let Crm { app, admin, .. } = crm().await;
    let jose = ["José Núñez"];
    assert_eq!(titles(&app, &admin, "Jos").await, jose);
    assert_eq!(titles(&app, &admin, "jose").await, jose);
    assert_eq!(titles(&app, &admin, "NUNEZ").await, jose);
    assert_eq!(titles(&app, &admin, "jos%C3%A9%20n%C3%BA").await, jose);
    assert_eq!(titles(&app, &admin, "0147").await, jose);
    assert_eq!(titles(&app, &admin, "555%200147").await, jose);
    assert_eq!(titles(&app, &admin, "15550100147").await, jose);
    assert_eq!(titles(&app, &admin, "lovelace").await, jose);
    assert_eq!(titles(&app, &admin, "ada.lovelace").await, jose);
    assert_eq!(titles(&app, &admin, "example.com").await, jose);
    assert_eq!(titles(&app, &admin, "mecorp").await, ["Acmecorp Ltd"]);
    // Substrings follow prefix matches ("corp" is also inside "Scorpio").
    assert_eq!(
        titles(&app, &admin, "corp").await,
        ["Acmecorp Ltd", "Rocket fuel order"]
    );
    assert_eq!(titles(&app, &admin, "scorpio").await, ["Rocket fuel order"]);
}

#[actix_web::test]
async fn search_ranks_exact_names_first_and_filters_by_type() {
    let Crm {
        app, admin, acme, ..
    } = crm().await;
    let hits = search(&app, &admin, "q=acme").await;
    assert_eq!(hits[0]["id"], acme.as_str(), "{hits:?}");
    assert_eq!(hits[0]["type"], "customer");
    assert_eq!(hits.len(), 3, "the prefix matches follow: {hits:?}");
    // "Acmecorp Ltd" ("rocket" inside "Acme Rockets", "Rocket fuel order") and types.
    let hits = search(&app, &admin, "q=rocket&types=lead").await;
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0]["type"], "lead");
    assert_eq!(hits[0]["subtitle"], "Globex · New · Hank Scorpio");
    let hits = search(&app, &admin, "q=acme&types=contact,customer&limit=2").await;
    assert_eq!(hits.len(), 2);
    let hits = search(&app, &admin, "q=buyer&types=customer").await;
    assert!(hits.is_empty());
    let hits = search(&app, &admin, "q=buyer&types=contact").await;
    assert_eq!(
        hits[0]["subtitle"],
        "Buyer · ada.lovelace@example.com · Acmecorp Ltd"
    );
}

#[actix_web::test]
async fn search_follows_renames_trash_and_restore() {
    let Crm {
        app,
        admin,
        jose,
        lead,
        ..
    } = crm().await;
    let res = app
        .patch(
            &format!("/api/v1/contacts/{jose}"),
            &admin.token,
            json!({"first_name": "Joaquim"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(titles(&app, &admin, "jose").await.is_empty());
    assert_eq!(titles(&app, &admin, "joaq").await, ["Joaquim Núñez"]);

    let res = app
        .request(
            Method::DELETE,
            &format!("/api/v1/leads/{lead}"),
            Some(&admin.token),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert!(titles(&app, &admin, "globex").await.is_empty());
    assert!(
        list_names(&app, &admin, "/api/v1/leads?q=globex", "title")
            .await
            .is_empty()
    );
    let res = app
        .post(
            &format!("/api/v1/leads/{lead}/restore"),
            &admin.token,
            json!({}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(titles(&app, &admin, "globex").await, ["Rocket fuel order"]);

    let out = app.cli(&["check"], None);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("search index: ok"));
}

#[actix_web::test]
async fn hostile_queries_never_fail() {
    let Crm { app, admin, .. } = crm().await;
    for q in [
        "%22",
        "%22%22%22",
        "*",
        "a*",
        "NEAR(acme%20corp)",
        "-acme",
        "acme%20-corp",
        "title:acme",
        "%7Btitle%7D:x",
        "AND",
        "OR",
        "NOT",
        "acme%20AND%20OR",
        "(",
        ")",
        "((acme",
        "^acme",
        "a%20%2B%20b",
        "%27;DROP%20TABLE%20customers;--",
        "%25",
        "_",
        "%5C",
        "%F0%9F%98%80",
        "%00",
        "x%CC%81",
    ] {
        let res = app
            .get(&format!("/api/v1/search?q={q}"), &admin.token)
            .await;
        assert_eq!(res.status(), StatusCode::OK, "search q={q}");
        for entity in ["customers", "contacts", "leads"] {
            let res = app
                .get(&format!("/api/v1/{entity}?q={q}"), &admin.token)
                .await;
            assert_eq!(res.status(), StatusCode::OK, "{entity} q={q}");
        }
    }
    let long = "acme%20".repeat(2000);
    let res = app
        .get(&format!("/api/v1/search?q={long}"), &admin.token)
        .await;
    assert!(res.status().is_success() || res.status().is_client_error());
}

#[actix_web::test]
async fn bad_search_parameters_are_422() {
    let Crm { app, admin, .. } = crm().await;
    for query in [
        "",
        "q=",
        "q=%20%20",
        "q=acme&types=task",
        "q=acme&types=",
        "q=acme&limit=0",
        "q=acme&limit=51",
        "q=acme&limit=x",
        "q=acme&sort=name",
    ] {
        let res = app
            .get(&format!("/api/v1/search?{query}"), &admin.token)
            .await;
        if query == "q=acme&types=" {
            assert_eq!(res.status(), StatusCode::OK, "empty types means all");
            continue;
        }
        assert_problem(res, 422).await;
    }
    let res = app
        .request(Method::GET, "/api/v1/search?q=acme", None)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
}

#[actix_web::test]
async fn support_sees_no_value_in_search() {
    let Crm { app, admin, .. } = crm().await;
    let support = app.user(&admin, "support").await;
    let res = app.get("/api/v1/search?q=rocket", &support.token).await;
    assert_eq!(res.status(), StatusCode::OK);
    let text = res.text().await.unwrap();
    assert!(text.contains("Rocket fuel order"), "{text}");
    for money in ["987654", "9876", "value"] {
        assert!(!text.contains(money), "{text}");
    }
}

#[actix_web::test]
async fn lists_q_uses_the_index_and_pages() {
    let app = spawn_app().await;
    let admin = app.bootstrap_admin().await;
    for i in 0..7 {
        create(
            &app,
            "customers",
            &admin,
            json!({"name": format!("Núñez Holdings {i}")}),
        )
        .await;
        create(
            &app,
            "contacts",
            &admin,
            json!({"first_name": format!("Zoë {i}"), "phone": format!("+44 20 7946 09{i:02}")}),
        )
        .await;
        create(
            &app,
            "leads",
            &admin,
            json!({"title": format!("Renewal {i}"), "email": format!("buyer{i}@initech.example")}),
        )
        .await;
    }
    create(&app, "customers", &admin, json!({"name": "Other"})).await;
    for (entity, field, q, found) in [
        ("customers", "name", "nunez", 7),
        ("customers", "name", "hold", 7),
        ("customers", "name", "oldings", 7),
        ("contacts", "first_name", "zoe", 7),
        ("contacts", "first_name", "7946", 7),
        ("contacts", "first_name", "0903", 1),
        ("leads", "title", "initech", 7),
        ("leads", "title", "renewal%203", 1),
    ] {
        let mut seen = Vec::new();
        let mut cursor = String::new();
        loop {
            let path = format!("/api/v1/{entity}?q={q}&limit=3&sort={field}&order=asc{cursor}");
            let res = app.get(&path, &admin.token).await;
            assert_eq!(res.status(), StatusCode::OK, "{path}");
            let body: Value = res.json().await.unwrap();
            for item in body["items"].as_array().unwrap() {
                seen.push(item[field].as_str().unwrap().to_owned());
            }
            match body["next_cursor"].as_str() {
                Some(c) => cursor = format!("&cursor={c}"),
                None => break,
            }
        }
        assert_eq!(seen.len(), found, "{entity} q={q}: {seen:?}");
        let mut sorted = seen.clone();
        sorted.sort();
        assert_eq!(seen, sorted, "{entity} q={q} keeps its order");
    }
}
