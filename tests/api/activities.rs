use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{Login, TestApp, assert_problem, error_fields, spawn_app};
use crate::tasks::{body, create_customer, insert_contact, insert_lead, trash_row};

async fn log(app: &TestApp, who: &Login, fields: Value) -> Value {
    let res = app.post("/api/v1/activities", &who.token, fields).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    res.json().await.unwrap()
}

#[actix_web::test]
async fn create_read_update_with_versions() {
    let app = spawn_app().await;
    let admin = app.bootstrap_admin().await;
    let rep = app.user(&admin, "sales").await;
    let customer = create_customer(&app, &rep, "Acme").await;

    let before = chrono_now();
    let res = app
        .post(
            "/api/v1/activities",
            &rep.token,
            json!({"subject_type": "customer", "subject_id": customer, "body": "  Quick note\n\twith a tab "}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    assert_eq!(res.headers()["etag"], "\"1\"");
    let location = res.headers()["location"].to_str().unwrap().to_owned();
    let note: Value = res.json().await.unwrap();
    assert_eq!(note["kind"], "note", "the default kind");
    assert_eq!(note["body"], "Quick note\n\twith a tab");
    assert_eq!(note["created_by"], rep.id.as_str());
    assert!(
        note["occurred_at"].as_str().unwrap() >= before.as_str(),
        "defaults to now"
    );
    let path = format!("/api/v1/activities/{}", note["id"].as_str().unwrap());
    assert_eq!(location, path);
    assert_eq!(
        body(app.get(&path, &admin.token).await).await["id"],
        note["id"]
    );

    let call = log(
        &app,
        &rep,
        json!({"subject_type": "customer", "subject_id": customer, "kind": "call",
               "body": "Called", "occurred_at": "2026-05-01T09:30:00-04:00"}),
    )
    .await;
    assert_eq!(call["occurred_at"], "2026-05-01T13:30:00.000Z");

    let res = app
        .request(Method::PATCH, &path, Some(&rep.token))
        .header("If-Match", "\"1\"")
        .json(&json!({"kind": "meeting", "body": "Met in person"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["etag"], "\"2\"");
    let met = body(res).await;
    assert_eq!(
        (&met["kind"], &met["body"]),
        (&json!("meeting"), &json!("Met in person"))
    );
    assert_eq!(met["occurred_at"], note["occurred_at"]);
    let stale = app
        .request(Method::PATCH, &path, Some(&rep.token))
        .header("If-Match", "\"1\"")
        .json(&json!({"body": "Lost update"}))
        .send()
        .await
        .unwrap();
    assert_problem(stale, 412).await;
    assert_eq!(
        body(app.get(&path, &rep.token).await).await["body"],
        "Met in person"
    );

    // Moving it to another record: that record must be live and of the named type.
    let contact = insert_contact(&app, Some(&customer));
    let moved = body(
        app.patch(
            &path,
            &rep.token,
            json!({"subject_type": "contact", "subject_id": contact}),
        )
        .await,
    )
    .await;
    assert_eq!(moved["subject_type"], "contact");
    let res = app
        .patch(&path, &rep.token, json!({"subject_type": "lead"}))
        .await;
    assert_eq!(
        error_fields(&assert_problem(res, 422).await),
        ["subject_id"]
    );

    let audit = body(
        app.get(
            &format!(
                "/api/v1/audit?entity_type=activity&entity_id={}",
                note["id"].as_str().unwrap()
            ),
            &admin.token,
        )
        .await,
    )
    .await;
    let entries = audit["items"].as_array().unwrap();
    assert_eq!(entries.len(), 3);
    assert_eq!(entries[1]["action"], "activity.update");
    assert_eq!(
        entries[1]["before"],
        json!({"kind": "note", "body": "Quick note\n\twith a tab"})
    );
    assert_eq!(entries[2]["action"], "activity.create");
}

fn chrono_now() -> String {
    let conn = rusqlite::Connection::open_in_memory().unwrap();
    conn.query_row(
        "SELECT strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-1 second')",
        [],
        |r| r.get(0),
    )
    .unwrap()
}

#[actix_web::test]
async fn validation_reports_every_field() {
    let app = spawn_app().await;
    let admin = app.bootstrap_admin().await;
    let res = app
        .post(
            "/api/v1/activities",
            &admin.token,
            json!({"subject_type": "planet", "kind": "fax", "occurred_at": "yesterday"}),
        )
        .await;
    assert_eq!(
        error_fields(&assert_problem(res, 422).await),
        ["subject_type", "subject_id", "kind", "body", "occurred_at"]
    );

    let customer = create_customer(&app, &admin, "Acme").await;
    let lead = insert_lead(&app, None, None);
    let cases: Vec<(Value, Vec<&str>)> = vec![
        (
            json!({"subject_type": "customer", "subject_id": "nope", "body": "x"}),
            vec!["subject_id"],
        ),
        // The id exists, but as a lead, not a contact.
        (
            json!({"subject_type": "contact", "subject_id": lead, "body": "x"}),
            vec!["subject_id"],
        ),
        (
            json!({"subject_type": "customer", "subject_id": customer, "body": "   "}),
            vec!["body"],
        ),
        (
            json!({"subject_type": "customer", "subject_id": customer, "body": "x".repeat(20_001)}),
            vec!["body"],
        ),
        (
            json!({"subject_type": "customer", "subject_id": customer, "body": "bell\u{0007}"}),
            vec!["body"],
        ),
        (
            json!({"subject_type": "customer", "subject_id": customer, "body": "x", "occurred_at": null}),
            vec!["occurred_at"],
        ),
        (
            json!({"subject_type": "customer", "subject_id": customer, "body": "x", "kind": null}),
            vec!["kind"],
        ),
        (
            json!({"subject_type": "customer", "subject_id": customer, "body": ["x"]}),
            vec!["body"],
        ),
        (
            json!({"subject_type": "customer", "subject_id": 42, "body": "x"}),
            vec!["subject_id"],
        ),
    ];
    for (input, fields) in cases {
        let res = app
            .post("/api/v1/activities", &admin.token, input.clone())
            .await;
        assert_eq!(
            error_fields(&assert_problem(res, 422).await),
            fields,
            "{input}"
        );
    }
    let res = app
        .post(
            "/api/v1/activities",
            &admin.token,
            json!({"subject_type": "customer", "subject_id": customer, "body": "x", "pinned": true}),
        )
        .await;
    assert!(
        assert_problem(res, 422).await["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("unknown field")
    );
    let huge = app
        .post(
            "/api/v1/activities",
            &admin.token,
            json!({"subject_type": "customer", "subject_id": customer, "body": "x".repeat(70_000)}),
        )
        .await;
    assert_problem(huge, 413).await;
    // 20,000 characters is the limit, not more.
    log(
        &app,
        &admin,
        json!({"subject_type": "lead", "subject_id": lead, "body": "é".repeat(20_000)}),
    )
    .await;

    // A subject in the trash is no subject.
    trash_row(&app, "leads", &lead);
    let res = app
        .post(
            "/api/v1/activities",
            &admin.token,
            json!({"subject_type": "lead", "subject_id": lead, "body": "x"}),
        )
        .await;
    assert_eq!(
        error_fields(&assert_problem(res, 422).await),
        ["subject_id"]
    );
    let list = body(app.get("/api/v1/activities", &admin.token).await).await;
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
}

#[actix_web::test]
async fn roles_and_ownership() {
    let app = spawn_app().await;
    let admin = app.bootstrap_admin().await;
    let rep = app.user(&admin, "sales").await;
    let other_rep = app.user(&admin, "sales").await;
    let support = app.user(&admin, "support").await;
    let manager = app.user(&admin, "manager").await;
    let customer = create_customer(&app, &admin, "Acme").await;

    let mut paths = Vec::new();
    for author in [&rep, &support, &manager] {
        let a = log(
            &app,
            author,
            json!({"subject_type": "customer", "subject_id": customer, "body": "Hello"}),
        )
        .await;
        paths.push(format!("/api/v1/activities/{}", a["id"].as_str().unwrap()));
    }
    let support_note = &paths[1];
    for reader in [&rep, &other_rep, &support, &manager] {
        assert_eq!(
            app.get(support_note, &reader.token).await.status(),
            StatusCode::OK
        );
    }
    for stranger in [&rep, &other_rep] {
        assert_problem(
            app.patch(support_note, &stranger.token, json!({"body": "Edited"}))
                .await,
            403,
        )
        .await;
        assert_problem(
            app.request(Method::DELETE, support_note, Some(&stranger.token))
                .send()
                .await
                .unwrap(),
            403,
        )
        .await;
    }
    // The author edits; a manager edits anyone's.
    for editor in [&support, &manager] {
        let res = app
            .patch(support_note, &editor.token, json!({"body": "Edited"}))
            .await;
        assert_eq!(res.status(), StatusCode::OK);
    }
    // Support may not touch the manager's note.
    assert_problem(
        app.patch(&paths[2], &support.token, json!({"body": "x"}))
            .await,
        403,
    )
    .await;

    let res = app
        .request(Method::DELETE, support_note, Some(&support.token))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_problem(app.get(support_note, &support.token).await, 404).await;
    assert_problem(
        app.patch(support_note, &support.token, json!({"body": "x"}))
            .await,
        404,
    )
    .await;
    let restore = format!("{support_note}/restore");
    assert_problem(
        app.request(Method::POST, &restore, Some(&rep.token))
            .send()
            .await
            .unwrap(),
        403,
    )
    .await;
    let res = app
        .request(Method::POST, &restore, Some(&support.token))
        .send()
        .await
        .unwrap();
    assert_eq!(body(res).await["body"], "Edited");
    // Restored already: nothing to restore.
    assert_problem(
        app.request(Method::POST, &restore, Some(&support.token))
            .send()
            .await
            .unwrap(),
        409,
    )
    .await;
}

fn bodies(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["body"].as_str().unwrap().to_owned())
        .collect()
}

#[actix_web::test]
async fn list_filters_sorts_and_pages() {
    let app = spawn_app().await;
    let admin = app.bootstrap_admin().await;
    let rep = app.user(&admin, "sales").await;
    let acme = create_customer(&app, &admin, "Acme").await;
    let globex = create_customer(&app, &admin, "Globex").await;
    let contact = insert_contact(&app, Some(&acme));
    let rows = [
        (
            &admin,
            "customer",
            &acme,
            "call",
            "2026-01-03T00:00:00Z",
            "acme call",
        ),
        (
            &rep,
            "customer",
            &acme,
            "note",
            "2026-01-01T00:00:00Z",
            "acme note",
        ),
        (
            &rep,
            "customer",
            &globex,
            "email",
            "2026-01-02T00:00:00Z",
            "globex email",
        ),
        (
            &admin,
            "contact",
            &contact,
            "meeting",
            "2026-01-04T00:00:00Z",
            "contact meeting",
        ),
    ];
    for (who, subject_type, subject_id, kind, at, text) in rows {
        log(
            &app,
            who,
            json!({"subject_type": subject_type, "subject_id": subject_id, "kind": kind,
                   "occurred_at": at, "body": text}),
        )
        .await;
    }
    let get = |query: String| {
        let app = &app;
        let token = admin.token.clone();
        async move { body(app.get(&format!("/api/v1/activities{query}"), &token).await).await }
    };
    assert_eq!(
        bodies(&get(String::new()).await),
        ["contact meeting", "acme call", "globex email", "acme note"],
        "most recent first"
    );
    assert_eq!(
        bodies(&get(format!("?subject_type=customer&subject_id={acme}")).await),
        ["acme call", "acme note"]
    );
    assert_eq!(
        bodies(&get(format!("?subject_id={contact}")).await),
        ["contact meeting"]
    );
    assert_eq!(
        bodies(
            &get(format!(
                "?subject_type=customer&subject_id={acme}&order=asc"
            ))
            .await
        ),
        ["acme note", "acme call"]
    );
    assert_eq!(bodies(&get("?kind=email".into()).await), ["globex email"]);
    assert_eq!(
        bodies(&get(format!("?created_by={}", rep.id)).await),
        ["globex email", "acme note"]
    );
    assert_eq!(
        bodies(&get("?occurred_from=2026-01-02&occurred_to=2026-01-04".into()).await),
        ["acme call", "globex email"]
    );
    assert_eq!(bodies(&get("?q=GLOBEX".into()).await), ["globex email"]);
    assert_eq!(
        bodies(&get("?sort=created_at&order=asc".into()).await),
        ["acme call", "acme note", "globex email", "contact meeting"]
    );
    for bad in [
        "?subject_type=planet",
        "?kind=fax",
        "?occurred_from=later",
        "?sort=body",
        "?stage=won",
    ] {
        assert_problem(
            app.get(&format!("/api/v1/activities{bad}"), &admin.token)
                .await,
            422,
        )
        .await;
    }

    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut query = "?limit=1".to_owned();
        if let Some(c) = &cursor {
            query.push_str(&format!("&cursor={c}"));
        }
        let page = get(query).await;
        seen.extend(bodies(&page));
        log(
            &app,
            &admin,
            json!({"subject_type": "customer", "subject_id": acme, "body": format!("new {}", seen.len()),
                   "occurred_at": "2027-01-01T00:00:00Z"}),
        )
        .await;
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    assert_eq!(
        seen,
        ["contact meeting", "acme call", "globex email", "acme note"],
        "newer rows inserted while paging are not visited, old ones exactly once"
    );
}
