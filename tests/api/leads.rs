use std::sync::Arc;

use reqwest::{Method, Response, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{Login, SECRET, TestApp, assert_problem, error_fields, spawn_app};

async fn create_lead(app: &TestApp, who: &Login, body: Value) -> Value {
    let res = app.post("/api/v1/leads", &who.token, body).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    res.json().await.unwrap()
}

async fn move_to(app: &TestApp, who: &Login, id: &str, body: Value) -> Response {
    app.post(&format!("/api/v1/leads/{id}/stage"), &who.token, body)
        .await
}

async fn json_of(res: Response) -> Value {
    assert_eq!(res.status(), StatusCode::OK, "status of {}", res.url());
    res.json().await.unwrap()
}

async fn delete(app: &TestApp, who: &Login, path: &str) -> Response {
    app.request(Method::DELETE, path, Some(&who.token))
        .send()
        .await
        .unwrap()
}

fn titles(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["title"].as_str().unwrap().to_owned())
        .collect()
}

/// The audit actions about one record, newest first.
async fn audit_actions(app: &TestApp, admin: &Login, id: &str) -> Vec<String> {
    let audit = json_of(
        app.get(
            &format!("/api/v1/audit?entity_id={id}&limit=200"),
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

#[actix_web::test]
async fn create_read_update_delete_restore() {
    let app = spawn_app().await;
    let admin = app.bootstrap_admin().await;
    let rep = app.user(&admin, "sales").await;

    let res = app
        .post(
            "/api/v1/leads",
            &rep.token,
            json!({"title": "  Website redesign ", "value_cents": 1_250_000, "company_name": "Acme",
                   "email": " Jane@Acme.COM ", "phone": "+1 555 0100", "source": "web",
                   "expected_close_date": "2026-12-31"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    assert_eq!(res.headers()["etag"], "\"1\"");
    let location = res.headers()["location"].to_str().unwrap().to_owned();
    let lead: Value = res.json().await.unwrap();
    let id = lead["id"].as_str().unwrap();
    assert_eq!(location, format!("/api/v1/leads/{id}"));
    assert_eq!(lead["title"], "Website redesign");
    assert_eq!(lead["stage"], "new", "the first open stage");
    assert_eq!(lead["currency"], "USD", "the base currency");
    assert_eq!(lead["value_cents"], 1_250_000);
    assert_eq!(lead["email"], "jane@acme.com");
    assert!(lead["assigned_to"].is_null(), "the creator owns it");
    assert_eq!(lead["created_by"], rep.id.as_str());
    assert_eq!(lead["stage_changed_at"], lead["created_at"]);
    assert!(lead["closed_at"].is_null());
    assert!(lead["lost_reason"].is_null());
    assert!(lead.get("deleted_at").is_none());
    let path = format!("/api/v1/leads/{id}");

    let res = app.get(&path, &rep.token).await;
    assert_eq!(res.headers()["etag"], "\"1\"");
    assert_eq!(res.json::<Value>().await.unwrap(), lead);

    // A minimal lead gets every default.
    let bare = create_lead(&app, &rep, json!({"title": "Bare"})).await;
    assert_eq!(
        (
            &bare["stage"],
            &bare["currency"],
            &bare["value_cents"],
            &bare["source"]
        ),
        (&json!("new"), &json!("USD"), &json!(0), &Value::Null)
    );

    // Partial update; null clears; currency is upper-cased.
    let res = app
        .request(Method::PATCH, &path, Some(&rep.token))
        .header("If-Match", "\"1\"")
        .json(&json!({"value_cents": 990_000, "currency": "eur", "phone": null}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["etag"], "\"2\"");
    let updated: Value = res.json().await.unwrap();
    assert_eq!(updated["currency"], "EUR");
    assert_eq!(updated["value_cents"], 990_000);
    assert!(updated["phone"].is_null());
    assert_eq!(updated["title"], "Website redesign");
    assert_eq!(updated["stage_changed_at"], lead["stage_changed_at"]);
    assert_eq!(updated["version"], 2);

    // A stale edit changes nothing.
    let stale = app
        .request(Method::PATCH, &path, Some(&rep.token))
        .header("If-Match", "\"1\"")
        .json(&json!({"title": "Overwritten"}))
        .send()
        .await
        .unwrap();
    assert_problem(stale, 412).await;
    let stale = app
        .request(Method::DELETE, &path, Some(&rep.token))
        .header("If-Match", "\"1\"")
        .send()
        .await
        .unwrap();
    assert_problem(stale, 412).await;
    assert_eq!(json_of(app.get(&path, &rep.token).await).await, updated);

    // The trash: gone from reads, lists and edits; back with restore.
    assert_eq!(
        delete(&app, &rep, &path).await.status(),
        StatusCode::NO_CONTENT
    );
    assert_problem(app.get(&path, &rep.token).await, 404).await;
    assert_problem(
        app.patch(&path, &rep.token, json!({"title": "x"})).await,
        404,
    )
    .await;
    assert_problem(move_to(&app, &rep, id, json!({"stage": "won"})).await, 404).await;
    assert_problem(delete(&app, &rep, &path).await, 404).await;
    let list = json_of(app.get("/api/v1/leads", &rep.token).await).await;
    assert_eq!(titles(&list), ["Bare"]);
    let trash = json_of(app.get("/api/v1/trash?entity=lead", &rep.token).await).await;
    assert_eq!(trash["items"][0]["title"], "Website redesign");

    let other = app.user(&admin, "sales").await;
    let res = app
        .request(Method::POST, &format!("{path}/restore"), Some(&other.token))
        .send()
        .await
        .unwrap();
    assert_problem(res, 403).await;
    let res = app
        .request(Method::POST, &format!("{path}/restore"), Some(&rep.token))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let restored: Value = res.json().await.unwrap();
    assert_eq!(restored["title"], "Website redesign");
    assert_eq!(restored["version"], 4);
    let res = app
        .request(Method::POST, &format!("{path}/restore"), Some(&rep.token))
        .send()
        .await
        .unwrap();
    assert_problem(res, 409).await;

    assert_eq!(
        audit_actions(&app, &admin, id).await,
        ["lead.restore", "lead.delete", "lead.update", "lead.create"]
    );
    assert_problem(app.get("/api/v1/leads/not-an-id", &rep.token).await, 404).await;
    assert_problem(
        app.request(Method::GET, "/api/v1/leads", None)
            .send()
            .await
            .unwrap(),
        401,
    )
    .await;
}

#[actix_web::test]
async fn validation_reports_every_field_and_writes_nothing() {
    let app = spawn_app().await;
    let admin = app.bootstrap_admin().await;
    let res = app
        .post(
            "/api/v1/leads",
            &admin.token,
            json!({"customer_id": "nope", "contact_id": "nope", "stage": "nowhere",
                   "value_cents": -1, "currency": "XYZ", "source": "s".repeat(101),
                   "assigned_to": "nobody", "expected_close_date": "2026-02-30",
                   "lost_reason": "r".repeat(501), "company_name": "c".repeat(201),
                   "contact_name": "n".repeat(201), "email": "not-an-email",
                   "phone": "=cmd|' /C calc'!A0"}),
        )
        .await;
    let body = assert_problem(res, 422).await;
    assert_eq!(
        error_fields(&body),
        [
            "title",
            "customer_id",
            "contact_id",
            "stage",
            "value_cents",
            "currency",
            "source",
            "assigned_to",
            "expected_close_date",
            "lost_reason",
            "company_name",
            "contact_name",
            "email",
            "phone"
        ]
    );

    // One field at a time: wrong types, out of range, null where a value is needed.
    for (bad, field) in [
        (json!({"title": 7}), "title"),
        (json!({"title": ["a"]}), "title"),
        (json!({"title": "   "}), "title"),
        (json!({"title": "x".repeat(201)}), "title"),
        (json!({"title": "x".repeat(20_000)}), "title"),
        (json!({"title": "a\u{0}b"}), "title"),
        (json!({"title": "T", "value_cents": "100"}), "value_cents"),
        (json!({"title": "T", "value_cents": 12.5}), "value_cents"),
        (json!({"title": "T", "value_cents": 1e20}), "value_cents"),
        (
            json!({"title": "T", "value_cents": 18_446_744_073_709_551_615u64}),
            "value_cents",
        ),
        (
            json!({"title": "T", "value_cents": 10_000_000_000_001i64}),
            "value_cents",
        ),
        (json!({"title": "T", "value_cents": null}), "value_cents"),
        (json!({"title": "T", "currency": null}), "currency"),
        (json!({"title": "T", "currency": "US"}), "currency"),
        (json!({"title": "T", "currency": 840}), "currency"),
        (json!({"title": "T", "stage": null}), "stage"),
        (json!({"title": "T", "stage": 3}), "stage"),
        (json!({"title": "T", "stage": "lost"}), "lost_reason"),
        (
            json!({"title": "T", "stage": "won", "lost_reason": "why"}),
            "lost_reason",
        ),
        (
            json!({"title": "T", "expected_close_date": "31/12/2026"}),
            "expected_close_date",
        ),
        (
            json!({"title": "T", "expected_close_date": "2026-12-31T00:00:00Z"}),
            "expected_close_date",
        ),
        (json!({"title": "T", "assigned_to": 5}), "assigned_to"),
    ] {
        let res = app.post("/api/v1/leads", &admin.token, bad.clone()).await;
        let body = assert_problem(res, 422).await;
        assert_eq!(error_fields(&body), [field], "{bad}");
    }

    for unknown in [
        json!({"title": "T", "colour": "red"}),
        json!({"title": "T", "closed_at": "2026-01-01T00:00:00Z"}),
        json!({"title": "T", "id": "mine"}),
        json!({"title": "T", "version": 9}),
    ] {
        let body =
            assert_problem(app.post("/api/v1/leads", &admin.token, unknown).await, 422).await;
        assert!(
            body["errors"][0]["message"]
                .as_str()
                .unwrap()
                .contains("unknown field")
        );
    }
    let array = app
        .request(Method::POST, "/api/v1/leads", Some(&admin.token))
        .header("content-type", "application/json")
        .body("[\"T\"]")
        .send()
        .await
        .unwrap();
    assert_problem(array, 422).await;
    let broken = app
        .request(Method::POST, "/api/v1/leads", Some(&admin.token))
        .header("content-type", "application/json")
        .body("{\"title\": ")
        .send()
        .await
        .unwrap();
    assert_problem(broken, 400).await;
    let form = app
        .request(Method::POST, "/api/v1/leads", Some(&admin.token))
        .form(&[("title", "T")])
        .send()
        .await
        .unwrap();
    assert_problem(form, 415).await;
    let huge = app
        .post(
            "/api/v1/leads",
            &admin.token,
            json!({"title": "x".repeat(100_000)}),
        )
        .await;
    assert_problem(huge, 413).await;

    let list = json_of(app.get("/api/v1/leads", &admin.token).await).await;
    assert!(titles(&list).is_empty(), "nothing was written");

    // The same rules on PATCH, all at once.
    let lead = create_lead(&app, &admin, json!({"title": "Valid"})).await;
    let path = format!("/api/v1/leads/{}", lead["id"].as_str().unwrap());
    let res = app
        .patch(
            &path,
            &admin.token,
            json!({"title": "", "value_cents": -5, "email": "@", "stage": "mars", "title_x": 1}),
        )
        .await;
    assert_problem(res, 422).await;
    let res = app
        .patch(
            &path,
            &admin.token,
            json!({"title": "", "value_cents": -5, "email": "@", "stage": "mars"}),
        )
        .await;
    let body = assert_problem(res, 422).await;
    assert_eq!(
        error_fields(&body),
        ["title", "stage", "value_cents", "email"]
    );
    let now = json_of(app.get(&path, &admin.token).await).await;
    assert_eq!(now["version"], 1, "a refused edit changes nothing");
}

#[actix_web::test]
async fn references_must_be_live_records() {
    let app = spawn_app().await;
    let admin = app.bootstrap_admin().await;
    let customer: Value = app
        .post("/api/v1/customers", &admin.token, json!({"name": "Acme"}))
        .await
        .json()
        .await
        .unwrap();
    let customer_id = customer["id"].as_str().unwrap();
    // The contacts API is built elsewhere; its table is here.
    let contact_id = uuid::Uuid::now_v7().to_string();
    {
        let conn = rusqlite::Connection::open(&app.db_path).unwrap();
        conn.busy_timeout(std::time::Duration::from_secs(5))
            .unwrap();
        conn.execute(
            "INSERT INTO contacts (id, customer_id, first_name, created_at, updated_at)
             VALUES (?1, ?2, 'Jane', '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z')",
            [&contact_id, customer_id],
        )
        .unwrap();
    }
    let lead = create_lead(
        &app,
        &admin,
        json!({"title": "Linked", "customer_id": customer_id, "contact_id": contact_id}),
    )
    .await;
    assert_eq!(lead["customer_id"], customer_id);
    assert_eq!(lead["contact_id"], contact_id.as_str());

    let deactivated = app.user(&admin, "sales").await;
    app.patch(
        &format!("/api/v1/users/{}", deactivated.id),
        &admin.token,
        json!({"active": false}),
    )
    .await;
    let res = app
        .post(
            "/api/v1/leads",
            &admin.token,
            json!({"title": "T", "assigned_to": deactivated.id}),
        )
        .await;
    assert_eq!(
        error_fields(&assert_problem(res, 422).await),
        ["assigned_to"]
    );

    // A trashed customer is no longer a valid reference.
    let gone: Value = app
        .post("/api/v1/customers", &admin.token, json!({"name": "Gone"}))
        .await
        .json()
        .await
        .unwrap();
    let gone_id = gone["id"].as_str().unwrap();
    assert_eq!(
        delete(&app, &admin, &format!("/api/v1/customers/{gone_id}"))
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
    let res = app
        .post(
            "/api/v1/leads",
            &admin.token,
            json!({"title": "T", "customer_id": gone_id}),
        )
        .await;
    assert_eq!(
        error_fields(&assert_problem(res, 422).await),
        ["customer_id"]
    );
    let path = format!("/api/v1/leads/{}", lead["id"].as_str().unwrap());
    let res = app
        .patch(&path, &admin.token, json!({"customer_id": gone_id}))
        .await;
    assert_eq!(
        error_fields(&assert_problem(res, 422).await),
        ["customer_id"]
    );
    let res = app
        .patch(
            &path,
            &admin.token,
            json!({"contact_id": "nope", "customer_id": null}),
        )
        .await;
    assert_eq!(
        error_fields(&assert_problem(res, 422).await),
        ["contact_id"]
    );
    let res = app
        .patch(&path, &admin.token, json!({"title": "Still fine"}))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
}

#[actix_web::test]
async fn stage_moves_close_reopen_and_are_recorded() {
    let app = spawn_app().await;
    let admin = app.bootstrap_admin().await;
    let rep = app.user(&admin, "sales").await;
    let lead = create_lead(&app, &rep, json!({"title": "Deal", "value_cents": 500})).await;
    let id = lead["id"].as_str().unwrap().to_owned();
    let path = format!("/api/v1/leads/{id}");

    let moved = json_of(move_to(&app, &rep, &id, json!({"stage": "contacted"})).await).await;
    assert_eq!(moved["stage"], "contacted");
    assert_eq!(moved["version"], 2);
    assert_eq!(
        moved["stage_changed_at"], moved["updated_at"],
        "set by the move"
    );
    assert!(moved["closed_at"].is_null());
    assert_eq!(moved["value_cents"], 500);

    // Lost needs a reason.
    for body in [
        json!({"stage": "lost"}),
        json!({"stage": "lost", "lost_reason": "   "}),
        json!({"stage": "lost", "lost_reason": null}),
    ] {
        let res = move_to(&app, &rep, &id, body).await;
        assert_eq!(
            error_fields(&assert_problem(res, 422).await),
            ["lost_reason"]
        );
    }
    let res = move_to(
        &app,
        &rep,
        &id,
        json!({"stage": "lost", "lost_reason": "x".repeat(501)}),
    )
    .await;
    assert_eq!(
        error_fields(&assert_problem(res, 422).await),
        ["lost_reason"]
    );
    for (body, field) in [
        (json!({"stage": "mars"}), "stage"),
        (json!({}), "stage"),
        (json!({"stage": null}), "stage"),
        (json!({"stage": 4}), "stage"),
        (json!({"stage": "won", "lost_reason": "no"}), "lost_reason"),
    ] {
        let res = move_to(&app, &rep, &id, body.clone()).await;
        assert_eq!(
            error_fields(&assert_problem(res, 422).await),
            [field],
            "{body}"
        );
    }
    let res = move_to(&app, &rep, &id, json!({"stage": "won", "by": "me"})).await;
    assert_problem(res, 422).await;

    let lost = json_of(
        move_to(
            &app,
            &rep,
            &id,
            json!({"stage": "lost", "lost_reason": " Too expensive "}),
        )
        .await,
    )
    .await;
    assert_eq!(lost["stage"], "lost");
    assert_eq!(lost["lost_reason"], "Too expensive");
    assert_eq!(lost["closed_at"], lost["stage_changed_at"]);

    // The same stage again changes nothing.
    let res = move_to(&app, &rep, &id, json!({"stage": "lost"})).await;
    assert_eq!(res.headers()["etag"], "\"3\"");
    assert_eq!(json_of(res).await, lost);

    // Moving back reopens: closed_at and the reason go.
    let reopened = json_of(move_to(&app, &rep, &id, json!({"stage": "qualified"})).await).await;
    assert!(reopened["closed_at"].is_null());
    assert!(reopened["lost_reason"].is_null());
    assert_eq!(reopened["version"], 4);

    // A stale If-Match on a move answers 412.
    let res = app
        .request(Method::POST, &format!("{path}/stage"), Some(&rep.token))
        .header("If-Match", "\"3\"")
        .json(&json!({"stage": "won"}))
        .send()
        .await
        .unwrap();
    assert_problem(res, 412).await;

    let won = json_of(move_to(&app, &rep, &id, json!({"stage": "won"})).await).await;
    assert!(won["closed_at"].is_string());
    assert!(won["lost_reason"].is_null());

    // PATCH moves the same way: a lost stage needs a reason there too.
    let res = app.patch(&path, &rep.token, json!({"stage": "lost"})).await;
    assert_eq!(
        error_fields(&assert_problem(res, 422).await),
        ["lost_reason"]
    );
    let res = app
        .patch(&path, &rep.token, json!({"lost_reason": "Only when lost"}))
        .await;
    assert_eq!(
        error_fields(&assert_problem(res, 422).await),
        ["lost_reason"]
    );
    let lost_again = json_of(
        app.patch(
            &path,
            &rep.token,
            json!({"stage": "lost", "lost_reason": "Budget cut", "title": "Deal (lost)"}),
        )
        .await,
    )
    .await;
    assert_eq!(lost_again["stage"], "lost");
    assert_eq!(lost_again["lost_reason"], "Budget cut");
    assert_eq!(lost_again["closed_at"], lost_again["stage_changed_at"]);
    assert_eq!(lost_again["title"], "Deal (lost)");
    let res = app
        .patch(&path, &rep.token, json!({"lost_reason": null}))
        .await;
    assert_eq!(
        error_fields(&assert_problem(res, 422).await),
        ["lost_reason"]
    );
    let edited = json_of(
        app.patch(&path, &rep.token, json!({"lost_reason": "Budget frozen"}))
            .await,
    )
    .await;
    assert_eq!(edited["lost_reason"], "Budget frozen");
    assert_eq!(edited["closed_at"], lost_again["closed_at"]);
    // A PATCH naming the current stage is not a move.
    let same = json_of(
        app.patch(&path, &rep.token, json!({"stage": "lost", "title": "Deal"}))
            .await,
    )
    .await;
    assert_eq!(same["stage_changed_at"], edited["stage_changed_at"]);

    // Straight into a closed stage on creation.
    let born_won = create_lead(&app, &rep, json!({"title": "Signed", "stage": "won"})).await;
    assert_eq!(born_won["closed_at"], born_won["created_at"]);
    let born_lost = create_lead(
        &app,
        &rep,
        json!({"title": "Dead", "stage": "lost", "lost_reason": "No budget"}),
    )
    .await;
    assert_eq!(born_lost["lost_reason"], "No budget");

    // The history: who, when, from, to.
    let conn = rusqlite::Connection::open(&app.db_path).unwrap();
    let history: Vec<(Option<String>, String, String)> = conn
        .prepare("SELECT from_stage, to_stage, actor_id FROM lead_stage_changes WHERE lead_id = ?1 ORDER BY id")
        .unwrap()
        .query_map([&id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let moves: Vec<(Option<&str>, &str)> = history
        .iter()
        .map(|(f, t, _)| (f.as_deref(), t.as_str()))
        .collect();
    assert_eq!(
        moves,
        [
            (None, "new"),
            (Some("new"), "contacted"),
            (Some("contacted"), "lost"),
            (Some("lost"), "qualified"),
            (Some("qualified"), "won"),
            (Some("won"), "lost"),
        ]
    );
    assert!(history.iter().all(|(_, _, actor)| *actor == rep.id));
    let last_at: String = conn
        .query_row(
            "SELECT at FROM lead_stage_changes WHERE lead_id = ?1 ORDER BY id DESC LIMIT 1",
            [&id],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(last_at, lost_again["stage_changed_at"].as_str().unwrap());

    // The audit: one lead.stage per move; a PATCH that also changed the title adds a
    // lead.update with the rest.
    let audit = json_of(
        app.get(
            &format!("/api/v1/audit?entity_id={id}&action=lead.stage"),
            &admin.token,
        )
        .await,
    )
    .await;
    let entries = audit["items"].as_array().unwrap();
    assert_eq!(entries.len(), 5);
    assert_eq!(
        entries[0]["before"],
        json!({"stage": "won", "lost_reason": null, "closed_at": won["closed_at"],
               "stage_changed_at": won["stage_changed_at"]})
    );
    assert_eq!(entries[0]["after"]["stage"], "lost");
    assert_eq!(
        audit_actions(&app, &admin, &id).await,
        [
            "lead.update",
            "lead.update",
            "lead.update",
            "lead.stage",
            "lead.stage",
            "lead.stage",
            "lead.stage",
            "lead.stage",
            "lead.create"
        ]
    );
    let update = json_of(
        app.get(
            &format!("/api/v1/audit?entity_id={id}&action=lead.update&limit=1&cursor="),
            &admin.token,
        )
        .await,
    )
    .await;
    assert_eq!(update["items"][0]["after"], json!({"title": "Deal"}));
}

#[actix_web::test]
async fn support_never_sees_value() {
    let app = spawn_app().await;
    let admin = app.bootstrap_admin().await;
    let support = app.user(&admin, "support").await;
    let rep = app.user(&admin, "sales").await;
    let lead = create_lead(
        &app,
        &admin,
        json!({"title": "Big one", "value_cents": 98_765_432}),
    )
    .await;
    create_lead(
        &app,
        &admin,
        json!({"title": "Small one", "value_cents": 1}),
    )
    .await;
    let path = format!("/api/v1/leads/{}", lead["id"].as_str().unwrap());

    let res = app.get(&path, &support.token).await;
    assert_eq!(res.status(), StatusCode::OK);
    let text = res.text().await.unwrap();
    assert!(
        !text.contains("value_cents") && !text.contains("98765432"),
        "{text}"
    );
    let seen: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(seen["title"], "Big one");

    for query in ["", "?limit=1", "?sort=title&order=asc", "?q=big"] {
        let res = app
            .get(&format!("/api/v1/leads{query}"), &support.token)
            .await;
        assert_eq!(res.status(), StatusCode::OK);
        let text = res.text().await.unwrap();
        assert!(
            !text.contains("value_cents") && !text.contains("98765432"),
            "{text}"
        );
    }
    // Following a cursor too.
    let first = json_of(app.get("/api/v1/leads?limit=1", &support.token).await).await;
    let next = app
        .get(
            &format!(
                "/api/v1/leads?limit=1&cursor={}",
                first["next_cursor"].as_str().unwrap()
            ),
            &support.token,
        )
        .await
        .text()
        .await
        .unwrap();
    assert!(!next.contains("value_cents"), "{next}");

    for query in [
        "sort=value_cents",
        "sort=value_cents&order=asc",
        "value_min=1",
        "value_max=99999999",
    ] {
        let res = app
            .get(&format!("/api/v1/leads?{query}"), &support.token)
            .await;
        assert_problem(res, 422).await;
    }

    // Support may not write leads at all.
    assert_problem(
        app.post("/api/v1/leads", &support.token, json!({"title": "Mine"}))
            .await,
        403,
    )
    .await;
    assert_problem(
        app.patch(&path, &support.token, json!({"title": "x"}))
            .await,
        403,
    )
    .await;
    let id = lead["id"].as_str().unwrap();
    assert_problem(
        move_to(&app, &support, id, json!({"stage": "won"})).await,
        403,
    )
    .await;
    assert_problem(delete(&app, &support, &path).await, 403).await;

    // Everyone else sees the value and may sort by it.
    let seen = json_of(app.get(&path, &rep.token).await).await;
    assert_eq!(seen["value_cents"], 98_765_432);
    let page = json_of(app.get("/api/v1/leads?sort=value_cents", &rep.token).await).await;
    assert_eq!(titles(&page), ["Big one", "Small one"]);
}

#[actix_web::test]
async fn sales_change_only_their_own_leads_and_managers_reassign() {
    let app = spawn_app().await;
    let admin = app.bootstrap_admin().await;
    let rep = app.user(&admin, "sales").await;
    let other = app.user(&admin, "sales").await;
    let manager = app.user(&admin, "manager").await;

    // Nobody below a manager gives a lead away, not even when creating it.
    let res = app
        .post(
            "/api/v1/leads",
            &rep.token,
            json!({"title": "Gift", "assigned_to": other.id}),
        )
        .await;
    assert_problem(res, 403).await;
    let to_self = create_lead(&app, &rep, json!({"title": "Self", "assigned_to": rep.id})).await;
    assert_eq!(to_self["assigned_to"], rep.id.as_str());

    let lead = create_lead(&app, &rep, json!({"title": "Mine"})).await;
    let id = lead["id"].as_str().unwrap();
    let path = format!("/api/v1/leads/{id}");
    for reader in [&other, &manager, &admin] {
        assert_eq!(app.get(&path, &reader.token).await.status(), StatusCode::OK);
    }
    assert_problem(
        app.patch(&path, &other.token, json!({"title": "Theirs"}))
            .await,
        403,
    )
    .await;
    assert_problem(
        move_to(&app, &other, id, json!({"stage": "won"})).await,
        403,
    )
    .await;
    assert_problem(delete(&app, &other, &path).await, 403).await;
    assert_problem(
        app.patch(&path, &rep.token, json!({"assigned_to": other.id}))
            .await,
        403,
    )
    .await;

    // A manager reassigns; the lead is then the other rep's.
    let res = app
        .patch(&path, &manager.token, json!({"assigned_to": other.id}))
        .await;
    assert_eq!(json_of(res).await["assigned_to"], other.id.as_str());
    assert_problem(
        app.patch(&path, &rep.token, json!({"title": "Back"})).await,
        403,
    )
    .await;
    assert_problem(move_to(&app, &rep, id, json!({"stage": "won"})).await, 403).await;
    let res = app
        .patch(&path, &other.token, json!({"title": "Renamed"}))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let res = move_to(&app, &other, id, json!({"stage": "proposal"})).await;
    assert_eq!(res.status(), StatusCode::OK);
    // …and may not hand it on either.
    assert_problem(
        app.patch(&path, &other.token, json!({"assigned_to": rep.id}))
            .await,
        403,
    )
    .await;
    // Managers and admins change anyone's leads.
    assert_eq!(
        move_to(&app, &manager, id, json!({"stage": "won"}))
            .await
            .status(),
        StatusCode::OK
    );
    assert_eq!(
        app.patch(&path, &admin.token, json!({"assigned_to": null}))
            .await
            .status(),
        StatusCode::OK
    );
    // Unassigned again: the creator owns it.
    assert_eq!(
        app.patch(&path, &rep.token, json!({"title": "Mine again"}))
            .await
            .status(),
        StatusCode::OK
    );
    assert_problem(delete(&app, &other, &path).await, 403).await;
    assert_eq!(
        delete(&app, &rep, &path).await.status(),
        StatusCode::NO_CONTENT
    );
}

#[actix_web::test]
async fn concurrent_patches_with_the_same_if_match_one_wins() {
    let app = Arc::new(spawn_app().await);
    let admin = app.bootstrap_admin().await;
    let lead = create_lead(&app, &admin, json!({"title": "Contested"})).await;
    let path = Arc::new(format!("/api/v1/leads/{}", lead["id"].as_str().unwrap()));
    // Two clients of their own, as two browsers would be.
    let clients = [
        app.login("admin@example.com", crate::helpers::PASSWORD)
            .await,
        app.login("admin@example.com", crate::helpers::PASSWORD)
            .await,
    ];
    for version in 1..=5 {
        let mut tasks = Vec::new();
        for (n, who) in clients.iter().enumerate() {
            let (app, path, token) = (app.clone(), path.clone(), who.token.clone());
            tasks.push(actix_web::rt::spawn(async move {
                let res = crate::helpers::client()
                    .patch(app.url(&path))
                    .bearer_auth(token)
                    .header("If-Match", format!("\"{version}\""))
                    .json(&json!({"title": format!("Round {version} client {n}")}))
                    .send()
                    .await
                    .unwrap();
                res.status().as_u16()
            }));
        }
        let mut statuses = Vec::new();
        for t in tasks {
            statuses.push(t.await.unwrap());
        }
        statuses.sort();
        assert_eq!(statuses, [200, 412], "round {version}");
    }
    let now = json_of(app.get(&path, &admin.token).await).await;
    assert_eq!(now["version"], 6);
}

#[actix_web::test]
async fn list_filters_sorts_and_pages() {
    let app = spawn_app().await;
    let admin = app.bootstrap_admin().await;
    let rep = app.user(&admin, "sales").await;
    let customer: Value = app
        .post("/api/v1/customers", &admin.token, json!({"name": "Acme"}))
        .await
        .json()
        .await
        .unwrap();
    let specs = [
        (
            "Alpha",
            "new",
            300,
            "USD",
            Some("web"),
            Some("2026-03-01"),
            true,
        ),
        ("bravo", "qualified", 100, "EUR", None, None, false),
        (
            "Charlie",
            "won",
            500,
            "USD",
            Some("web"),
            Some("2026-01-15"),
            false,
        ),
        (
            "Delta",
            "new",
            200,
            "USD",
            Some("referral"),
            Some("2026-02-01"),
            true,
        ),
        (
            "Echo",
            "proposal",
            400,
            "USD",
            None,
            Some("2026-01-15"),
            false,
        ),
    ];
    for (title, stage, value, currency, source, close, assign) in specs {
        let body = json!({"title": title, "stage": stage, "value_cents": value, "currency": currency,
                          "source": source, "expected_close_date": close,
                          "assigned_to": if assign { Some(&rep.id) } else { None },
                          "customer_id": if title == "Echo" { customer["id"].as_str() } else { None },
                          "company_name": if title == "Delta" { Some("Zeta Industries") } else { None }});
        create_lead(&app, &admin, body).await;
    }
    let get = |query: &str| {
        let (app, token) = (&app, admin.token.clone());
        let path = format!("/api/v1/leads?{query}");
        async move { titles(&json_of(app.get(&path, &token).await).await) }
    };
    assert_eq!(
        get("").await,
        ["Echo", "Delta", "Charlie", "bravo", "Alpha"]
    );
    assert_eq!(get("stage=new").await, ["Delta", "Alpha"]);
    assert_eq!(get("stage=new&order=asc").await, ["Alpha", "Delta"]);
    assert_eq!(get("stage=lost").await, Vec::<String>::new());
    assert_eq!(
        get(&format!("assigned_to={}", rep.id)).await,
        ["Delta", "Alpha"]
    );
    assert_eq!(get("source=web").await, ["Charlie", "Alpha"]);
    assert_eq!(get("currency=eur").await, ["bravo"]);
    assert_eq!(
        get(&format!("customer_id={}", customer["id"].as_str().unwrap())).await,
        ["Echo"]
    );
    assert_eq!(
        get("value_min=200&value_max=400&sort=value_cents").await,
        ["Echo", "Alpha", "Delta"]
    );
    assert_eq!(
        get("sort=value_cents&order=asc").await,
        ["bravo", "Delta", "Alpha", "Echo", "Charlie"]
    );
    assert_eq!(
        get("sort=title&order=asc").await,
        ["Alpha", "bravo", "Charlie", "Delta", "Echo"]
    );
    // Dates are inclusive at both ends; leads without one sort last and never match.
    assert_eq!(
        get("sort=expected_close_date&order=asc").await,
        ["Charlie", "Echo", "Delta", "Alpha", "bravo"]
    );
    assert_eq!(
        get("expected_close_from=2026-01-15&expected_close_to=2026-02-01&sort=expected_close_date&order=asc").await,
        ["Charlie", "Echo", "Delta"]
    );
    assert_eq!(get("expected_close_from=2026-02-02").await, ["Alpha"]);
    assert_eq!(
        get("expected_close_to=2026-01-14").await,
        Vec::<String>::new()
    );
    assert_eq!(get("closed_from=2000-01-01").await, ["Charlie"]);
    assert_eq!(get("closed_to=2000-01-01").await, Vec::<String>::new());
    assert_eq!(
        get("created_from=2000-01-01&created_to=2000-01-02").await,
        Vec::<String>::new()
    );
    assert_eq!(get("q=zeta").await, ["Delta"]);
    assert_eq!(get("q=HARL").await, ["Charlie"]);
    assert_eq!(get("q=50%25").await, Vec::<String>::new());
    let moved = app
        .get("/api/v1/leads?stage=proposal", &admin.token)
        .await
        .json::<Value>()
        .await
        .unwrap();
    let echo_id = moved["items"][0]["id"].as_str().unwrap().to_owned();
    move_to(&app, &admin, &echo_id, json!({"stage": "contacted"})).await;
    assert_eq!(get("sort=stage_changed_at").await[0], "Echo");
    assert_eq!(get("sort=updated_at").await[0], "Echo");

    for bad in [
        "colour=red",
        "sort=phone",
        "sort=value",
        "order=up",
        "limit=0",
        "limit=201",
        "value_min=-1",
        "value_max=lots",
        "currency=dollars",
        "expected_close_from=soon",
        "closed_from=yesterday",
        "cursor=garbage",
    ] {
        assert_problem(
            app.get(&format!("/api/v1/leads?{bad}"), &admin.token).await,
            422,
        )
        .await;
    }

    // Paging by value while leads are added visits every earlier lead once, in order.
    for sort in ["value_cents", "expected_close_date", "title", "created_at"] {
        let mut seen = Vec::new();
        let mut cursor: Option<String> = None;
        let mut inserted = 0;
        loop {
            let mut path = format!("/api/v1/leads?limit=2&sort={sort}&order=asc");
            if let Some(c) = &cursor {
                path.push_str(&format!("&cursor={c}"));
            }
            let page = json_of(app.get(&path, &admin.token).await).await;
            seen.extend(titles(&page));
            create_lead(
                &app,
                &admin,
                json!({"title": format!("Late {sort} {inserted}"), "value_cents": 0}),
            )
            .await;
            inserted += 1;
            match page["next_cursor"].as_str() {
                Some(c) => cursor = Some(c.to_owned()),
                None => break,
            }
        }
        for title in ["Alpha", "bravo", "Charlie", "Delta", "Echo"] {
            assert_eq!(
                seen.iter().filter(|t| *t == title).count(),
                1,
                "{sort}: {seen:?}"
            );
        }
    }
}

#[actix_web::test]
async fn base_currency_is_the_default() {
    let app = spawn_app().await;
    let admin = app.bootstrap_admin().await;
    let usd = create_lead(&app, &admin, json!({"title": "Default"})).await;
    assert_eq!(usd["currency"], "USD");

    // A second server on the same database, started with another base currency.
    let mut config = rapport::config::ServeConfig::for_tests(app.db_path.clone());
    config.secret = Some(rapport::config::Secret::parse(SECRET).unwrap());
    config.base_currency = "eur".parse().unwrap();
    let second = rapport::app::start(config).await.unwrap();
    let base = format!("http://{}", second.addr);
    actix_web::rt::spawn(second.server);
    let res = crate::helpers::client()
        .post(format!("{base}/api/v1/leads"))
        .bearer_auth(&admin.token)
        .json(&json!({"title": "In euros"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    assert_eq!(res.json::<Value>().await.unwrap()["currency"], "EUR");
    let res = crate::helpers::client()
        .post(format!("{base}/api/v1/leads"))
        .bearer_auth(&admin.token)
        .json(&json!({"title": "Explicit", "currency": "JPY"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.json::<Value>().await.unwrap()["currency"], "JPY");

    // The flag and its variable refuse what is not a currency, before anything starts.
    let out = app.cli(&["serve", "--base-currency", "EURO"], None);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("EURO"));
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_rapport"))
        .arg("serve")
        .env("RAPPORT_DB", &app.db_path)
        .env("RAPPORT_BASE_CURRENCY", "XXX")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("ISO 4217"));
}
