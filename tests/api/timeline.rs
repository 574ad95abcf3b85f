use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{Login, TestApp, assert_problem, spawn_app};
use crate::tasks::{body, create_customer, db, insert_contact, insert_lead, trash_row};

async fn log(
    app: &TestApp,
    who: &Login,
    subject: (&str, &str),
    kind: &str,
    at: &str,
    text: &str,
) -> String {
    let res = app
        .post(
            "/api/v1/activities",
            &who.token,
            json!({"subject_type": subject.0, "subject_id": subject.1, "kind": kind,
                   "occurred_at": at, "body": text}),
        )
        .await;
    body(res).await["id"].as_str().unwrap().to_owned()
}

async fn task(app: &TestApp, who: &Login, fields: Value) -> String {
    let res = app.post("/api/v1/tasks", &who.token, fields).await;
    body(res).await["id"].as_str().unwrap().to_owned()
}

fn stage_change(
    app: &TestApp,
    lead: &str,
    from: Option<&str>,
    to: &str,
    at: &str,
    actor: &str,
) -> i64 {
    let conn = db(app);
    conn.execute(
        "INSERT INTO lead_stage_changes (lead_id, from_stage, to_stage, actor_id, at)
         VALUES (?1, ?2, ?3, ?4, ?5)",
        rusqlite::params![lead, from, to, actor, at],
    )
    .unwrap();
    conn.last_insert_rowid()
}

/// Every item of a timeline, page by page, as `type id` strings.
async fn walk(app: &TestApp, who: &Login, path: &str, limit: u32) -> Vec<String> {
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut url = format!("{path}?limit={limit}");
        if let Some(c) = &cursor {
            url.push_str(&format!("&cursor={c}"));
        }
        let page = body(app.get(&url, &who.token).await).await;
        let items = page["items"].as_array().unwrap();
        assert!(items.len() <= limit as usize);
        seen.extend(keys(&page));
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    seen
}

fn keys(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            format!(
                "{} {}",
                i["type"].as_str().unwrap(),
                i["id"].as_str().unwrap()
            )
        })
        .collect()
}

#[actix_web::test]
async fn timelines_merge_activities_stage_changes_and_tasks() {
    let app = spawn_app().await;
    let admin = app.bootstrap_admin().await;
    let rep = app.user(&admin, "sales").await;
    let acme = create_customer(&app, &rep, "Acme").await;
    let globex = create_customer(&app, &rep, "Globex").await;
    let contact = insert_contact(&app, Some(&acme));
    let lead = insert_lead(&app, Some(&acme), Some(&contact));
    let other_contact = insert_contact(&app, Some(&globex));

    let a1 = log(
        &app,
        &rep,
        ("customer", &acme),
        "call",
        "2026-01-01T10:00:00Z",
        "Intro call\nwent well",
    )
    .await;
    let a2 = log(
        &app,
        &rep,
        ("contact", &contact),
        "email",
        "2026-01-02T10:00:00Z",
        "Sent deck",
    )
    .await;
    let a3 = log(
        &app,
        &admin,
        ("lead", &lead),
        "meeting",
        "2026-01-03T10:00:00Z",
        "Demo",
    )
    .await;
    log(
        &app,
        &rep,
        ("customer", &globex),
        "note",
        "2026-01-04T00:00:00Z",
        "Elsewhere",
    )
    .await;
    log(
        &app,
        &rep,
        ("contact", &other_contact),
        "note",
        "2026-01-04T00:00:00Z",
        "Elsewhere",
    )
    .await;
    let s1 = stage_change(
        &app,
        &lead,
        None,
        "new",
        "2026-01-01T12:00:00.000Z",
        &rep.id,
    );
    let s2 = stage_change(
        &app,
        &lead,
        Some("new"),
        "qualified",
        "2026-01-05T00:00:00.000Z",
        &admin.id,
    );
    let t1 = task(
        &app,
        &rep,
        json!({"title": "Send contract", "customer_id": acme}),
    )
    .await;
    let t2 = task(
        &app,
        &rep,
        json!({"title": "Book dinner", "customer_id": acme, "contact_id": contact}),
    )
    .await;
    let t3 = task(
        &app,
        &rep,
        json!({"title": "Prepare proposal", "lead_id": lead, "priority": "high"}),
    )
    .await;
    task(
        &app,
        &rep,
        json!({"title": "Unrelated", "customer_id": globex}),
    )
    .await;
    let res = app
        .request(
            Method::POST,
            &format!("/api/v1/tasks/{t3}/complete"),
            Some(&admin.token),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);

    let customer_path = format!("/api/v1/customers/{acme}/timeline");
    let page = body(app.get(&customer_path, &rep.token).await).await;
    assert_eq!(
        keys(&page),
        [
            format!("task_completed {t3}"),
            format!("task_created {t3}"),
            format!("task_created {t2}"),
            format!("task_created {t1}"),
            format!("stage_change {s2}"),
            format!("activity {a3}"),
            format!("activity {a2}"),
            format!("stage_change {s1}"),
            format!("activity {a1}"),
        ],
        "the customer's own, its contact's and its lead's items, newest first, each task once"
    );
    assert!(page["next_cursor"].is_null());
    let items = page["items"].as_array().unwrap();
    assert_eq!(items[0]["summary"], "Task completed: Prepare proposal");
    assert_eq!(items[0]["actor_id"], admin.id.as_str(), "who completed it");
    assert_eq!(items[0]["status"], "completed");
    assert_eq!(items[0]["priority"], "high");
    assert_eq!(items[1]["actor_id"], rep.id.as_str());
    assert_eq!(items[3]["summary"], "Task created: Send contract");
    assert_eq!(items[3]["title"], "Send contract");
    assert_eq!(items[3]["assigned_to"], rep.id.as_str());
    assert_eq!(items[4]["summary"], "Stage changed from New to Qualified");
    assert_eq!(
        (
            &items[4]["lead_id"],
            &items[4]["from_stage"],
            &items[4]["to_stage"]
        ),
        (&json!(lead), &json!("new"), &json!("qualified"))
    );
    assert_eq!(items[4]["actor_id"], admin.id.as_str());
    assert_eq!(items[4]["at"], "2026-01-05T00:00:00.000Z");
    assert_eq!(items[7]["summary"], "Stage set to New");
    assert!(items[7]["from_stage"].is_null());
    assert_eq!(items[8]["summary"], "Call: Intro call");
    assert_eq!(items[8]["body"], "Intro call\nwent well");
    assert_eq!(
        (
            &items[8]["kind"],
            &items[8]["subject_type"],
            &items[8]["subject_id"]
        ),
        (&json!("call"), &json!("customer"), &json!(acme))
    );
    assert_eq!(items[8]["at"], "2026-01-01T10:00:00.000Z");
    assert_eq!(items[6]["subject_type"], "contact");

    // A contact's timeline covers its leads; a lead's is its own.
    let contact_path = format!("/api/v1/contacts/{contact}/timeline");
    assert_eq!(
        walk(&app, &rep, &contact_path, 200).await,
        [
            format!("task_completed {t3}"),
            format!("task_created {t3}"),
            format!("task_created {t2}"),
            format!("stage_change {s2}"),
            format!("activity {a3}"),
            format!("activity {a2}"),
            format!("stage_change {s1}"),
        ]
    );
    let lead_path = format!("/api/v1/leads/{lead}/timeline");
    assert_eq!(
        walk(&app, &rep, &lead_path, 200).await,
        [
            format!("task_completed {t3}"),
            format!("task_created {t3}"),
            format!("stage_change {s2}"),
            format!("activity {a3}"),
            format!("stage_change {s1}"),
        ]
    );

    // Every page size yields the same sequence.
    let whole = walk(&app, &rep, &customer_path, 200).await;
    for limit in [1, 2, 4] {
        assert_eq!(
            walk(&app, &rep, &customer_path, limit).await,
            whole,
            "limit {limit}"
        );
    }

    // Trashed and reopened things leave the timeline; so do a trashed contact's items.
    let res = app
        .request(
            Method::DELETE,
            &format!("/api/v1/activities/{a1}"),
            Some(&rep.token),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let res = app
        .patch(
            &format!("/api/v1/tasks/{t3}"),
            &rep.token,
            json!({"status": "in_progress"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    trash_row(&app, "contacts", &contact);
    assert_eq!(
        walk(&app, &rep, &customer_path, 3).await,
        [
            format!("task_created {t3}"),
            format!("task_created {t2}"),
            format!("task_created {t1}"),
            format!("stage_change {s2}"),
            format!("activity {a3}"),
            format!("stage_change {s1}"),
        ],
        "t2 stays: it is linked to the customer too"
    );
    assert_problem(app.get(&contact_path, &rep.token).await, 404).await;
}

#[actix_web::test]
async fn items_at_the_same_instant_page_once_each() {
    let app = spawn_app().await;
    let admin = app.bootstrap_admin().await;
    let customer = create_customer(&app, &admin, "Initech").await;
    let lead = insert_lead(&app, Some(&customer), None);
    let at = "2026-02-01T00:00:00.000Z";
    let mut expected = Vec::new();
    for i in 0..3 {
        let id = stage_change(&app, &lead, Some("new"), "contacted", at, &admin.id);
        expected.push((2, format!("stage_change {id}"), i));
    }
    for i in 0..5 {
        let id = log(
            &app,
            &admin,
            ("lead", &lead),
            "note",
            at,
            &format!("note {i}"),
        )
        .await;
        expected.push((1, format!("activity {id}"), i));
    }
    // Created completed: its creation and completion share one instant.
    let t = task(
        &app,
        &admin,
        json!({"title": "Done at once", "customer_id": customer, "status": "completed"}),
    )
    .await;

    let path = format!("/api/v1/customers/{customer}/timeline");
    let whole = walk(&app, &admin, &path, 200).await;
    assert_eq!(whole.len(), 10);
    assert_eq!(whole[0], format!("task_completed {t}"));
    assert_eq!(whole[1], format!("task_created {t}"));
    // At one instant: stage changes before activities, newest id first within each.
    expected.sort_by(|a, b| b.0.cmp(&a.0).then(b.2.cmp(&a.2)));
    let tied: Vec<String> = expected.into_iter().map(|e| e.1).collect();
    assert_eq!(whole[2..], tied[..]);
    for limit in [1, 2, 3] {
        assert_eq!(
            walk(&app, &admin, &path, limit).await,
            whole,
            "limit {limit}"
        );
    }
    assert_eq!(
        walk(&app, &admin, &format!("/api/v1/leads/{lead}/timeline"), 1)
            .await
            .len(),
        8
    );
}

#[actix_web::test]
async fn missing_records_and_bad_parameters() {
    let app = spawn_app().await;
    let admin = app.bootstrap_admin().await;
    let support = app.user(&admin, "support").await;
    let customer = create_customer(&app, &admin, "Acme").await;
    let path = format!("/api/v1/customers/{customer}/timeline");
    let empty = body(app.get(&path, &support.token).await).await;
    assert_eq!(empty, json!({"items": [], "next_cursor": null}));

    for missing in [
        "/api/v1/customers/nope/timeline",
        "/api/v1/contacts/nope/timeline",
        "/api/v1/leads/nope/timeline",
    ] {
        assert_problem(app.get(missing, &support.token).await, 404).await;
    }
    // A customer id is not a lead.
    assert_problem(
        app.get(
            &format!("/api/v1/leads/{customer}/timeline"),
            &support.token,
        )
        .await,
        404,
    )
    .await;
    for bad in [
        "?limit=0",
        "?limit=201",
        "?limit=x",
        "?sort=at",
        "?cursor=junk",
        "?cursor=eyJ4Ijox",
    ] {
        assert_problem(app.get(&format!("{path}{bad}"), &support.token).await, 422).await;
    }
    assert_problem(
        app.request(Method::POST, &path, Some(&support.token))
            .send()
            .await
            .unwrap(),
        405,
    )
    .await;
    assert_problem(
        app.request(Method::GET, &path, None).send().await.unwrap(),
        401,
    )
    .await;

    let res = app
        .request(
            Method::DELETE,
            &format!("/api/v1/customers/{customer}"),
            Some(&admin.token),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_problem(app.get(&path, &support.token).await, 404).await;
}
