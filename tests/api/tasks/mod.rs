mod fixtures;
mod list;

use std::sync::Arc;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

pub use fixtures::*;

use crate::helpers::{assert_problem, error_fields, spawn_app};

#[actix_web::test]
async fn create_update_complete_and_reopen() {
    let app = spawn_app().await;
    let admin = app.bootstrap_admin().await;
    let rep = app.user(&admin, "sales").await;
    let customer = create_customer(&app, &rep, "Acme").await;

    let res = app
        .post(
            "/api/v1/tasks",
            &rep.token,
            json!({"title": "  Call Acme ", "description": "Ask about\nthe renewal",
                   "due_at": "2030-03-01T10:00:00+01:00", "remind_at": "2030-03-01T08:00:00Z",
                   "customer_id": customer}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    assert_eq!(res.headers()["etag"], "\"1\"");
    let location = res.headers()["location"].to_str().unwrap().to_owned();
    let task: Value = res.json().await.unwrap();
    assert_eq!(task["title"], "Call Acme");
    assert_eq!(task["description"], "Ask about\nthe renewal");
    assert_eq!(task["due_at"], "2030-03-01T09:00:00.000Z", "stored in UTC");
    assert_eq!(task["priority"], "medium");
    assert_eq!(task["status"], "pending");
    assert_eq!(
        task["assigned_to"],
        rep.id.as_str(),
        "assigned to its creator"
    );
    assert_eq!(task["created_by"], rep.id.as_str());
    assert!(task["completed_at"].is_null());
    let id = task["id"].as_str().unwrap().to_owned();
    let path = format!("/api/v1/tasks/{id}");
    assert_eq!(location, path);
    let fetched = app.get(&path, &rep.token).await;
    assert_eq!(fetched.headers()["etag"], "\"1\"");

    // Partial update with the version; null clears; a stale version changes nothing.
    let res = app
        .request(Method::PATCH, &path, Some(&rep.token))
        .header("If-Match", "\"1\"")
        .json(&json!({"priority": "high", "description": null, "status": "in_progress"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["etag"], "\"2\"");
    let task: Value = res.json().await.unwrap();
    assert_eq!(
        (&task["priority"], &task["status"], &task["version"]),
        (&json!("high"), &json!("in_progress"), &json!(2))
    );
    assert!(task["description"].is_null());
    assert_eq!(task["title"], "Call Acme");
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
    assert_eq!(
        body(app.get(&path, &rep.token).await).await["title"],
        "Call Acme"
    );

    // Complete; completing again is a harmless no-op, even with an old If-Match.
    let res = app
        .request(Method::POST, &format!("{path}/complete"), Some(&rep.token))
        .header("If-Match", "\"2\"")
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["etag"], "\"3\"");
    let done = body(res).await;
    assert_eq!(done["status"], "completed");
    assert_eq!(done["completed_by"], rep.id.as_str());
    let completed_at = done["completed_at"].as_str().unwrap().to_owned();
    let again = app
        .request(Method::POST, &format!("{path}/complete"), Some(&rep.token))
        .header("If-Match", "\"2\"")
        .send()
        .await
        .unwrap();
    let again = body(again).await;
    assert_eq!(again["version"], 3);
    assert_eq!(again["completed_at"], completed_at.as_str());

    // Reopening clears completed_at; completing through PATCH stamps it again.
    let reopened = body(
        app.patch(&path, &rep.token, json!({"status": "pending"}))
            .await,
    )
    .await;
    assert_eq!(reopened["status"], "pending");
    assert!(reopened["completed_at"].is_null());
    assert!(reopened["completed_by"].is_null());
    let closed = body(
        app.patch(&path, &rep.token, json!({"status": "completed"}))
            .await,
    )
    .await;
    assert!(closed["completed_at"].as_str().unwrap() >= completed_at.as_str());
    // Editing a completed task keeps its completion.
    let edited = body(
        app.patch(&path, &rep.token, json!({"title": "Called Acme"}))
            .await,
    )
    .await;
    assert_eq!(edited["completed_at"], closed["completed_at"]);
    let pending = app
        .request(Method::POST, &format!("{path}/complete"), Some(&rep.token))
        .header("If-Match", "\"1\"")
        .send()
        .await
        .unwrap();
    assert_eq!(pending.status(), StatusCode::OK, "already completed");

    // A task created completed is stamped at once.
    let born_done = create_task(&app, &rep, json!({"title": "Done", "status": "completed"})).await;
    assert_eq!(born_done["completed_at"], born_done["created_at"]);

    let audit = body(
        app.get(
            &format!("/api/v1/audit?entity_type=task&entity_id={id}"),
            &admin.token,
        )
        .await,
    )
    .await;
    let entries = audit["items"].as_array().unwrap();
    let actions: Vec<&str> = entries
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        [
            "task.update",
            "task.update",
            "task.update",
            "task.complete",
            "task.update",
            "task.create"
        ]
    );
    assert_eq!(
        entries[4]["after"],
        json!({"priority": "high", "description": null, "status": "in_progress"})
    );
    assert_eq!(entries[3]["before"]["status"], "in_progress");
    assert_eq!(entries[3]["after"]["status"], "completed");
}

#[actix_web::test]
async fn validation_reports_every_field() {
    let app = spawn_app().await;
    let admin = app.bootstrap_admin().await;
    let res = app
        .post(
            "/api/v1/tasks",
            &admin.token,
            json!({"description": "x".repeat(10_001), "due_at": "tomorrow", "remind_at": "soon",
                   "priority": "urgent", "status": "done", "assigned_to": "nobody",
                   "lead_id": "nope", "customer_id": "nope", "contact_id": "nope"}),
        )
        .await;
    let body422 = assert_problem(res, 422).await;
    assert_eq!(
        error_fields(&body422),
        [
            "title",
            "description",
            "due_at",
            "remind_at",
            "priority",
            "status",
            "assigned_to",
            "lead_id",
            "customer_id",
            "contact_id"
        ]
    );

    let cases: Vec<(Value, &str)> = vec![
        (json!({"title": ""}), "title"),
        (json!({"title": "x".repeat(201)}), "title"),
        (json!({"title": "a\u{0007}b"}), "title"),
        (json!({"title": 7}), "title"),
        (json!({"title": ["a"]}), "title"),
        (json!({"title": "A", "due_at": 1_700_000_000}), "due_at"),
        (json!({"title": "A", "due_at": "2030-01-01"}), "due_at"),
        (json!({"title": "A", "priority": null}), "priority"),
        (json!({"title": "A", "status": null}), "status"),
        (
            json!({"title": "A", "description": "a\u{0000}b"}),
            "description",
        ),
        (
            json!({"title": "A", "due_at": "2030-01-01T10:00:00Z", "remind_at": "2030-01-01T10:00:01Z"}),
            "remind_at",
        ),
    ];
    for (input, field) in cases {
        let res = app.post("/api/v1/tasks", &admin.token, input.clone()).await;
        assert_eq!(
            error_fields(&assert_problem(res, 422).await),
            [field],
            "{input}"
        );
    }
    let res = app
        .post(
            "/api/v1/tasks",
            &admin.token,
            json!({"title": "A", "completed_at": "2030-01-01T00:00:00Z"}),
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
            "/api/v1/tasks",
            &admin.token,
            json!({"title": "A", "description": "x".repeat(100_000)}),
        )
        .await;
    assert_problem(huge, 413).await;

    // A deactivated assignee is refused.
    let gone = app.user(&admin, "sales").await;
    let res = app
        .patch(
            &format!("/api/v1/users/{}", gone.id),
            &admin.token,
            json!({"active": false}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let res = app
        .post(
            "/api/v1/tasks",
            &admin.token,
            json!({"title": "A", "assigned_to": gone.id}),
        )
        .await;
    assert_eq!(
        error_fields(&assert_problem(res, 422).await),
        ["assigned_to"]
    );

    // A reminder equal to the due time is fine; so is one without a due time.
    create_task(
        &app,
        &admin,
        json!({"title": "A", "due_at": "2030-01-01T10:00:00Z", "remind_at": "2030-01-01T11:00:00+01:00"}),
    )
    .await;
    let task = create_task(
        &app,
        &admin,
        json!({"title": "B", "remind_at": "2030-01-01T10:00:00Z"}),
    )
    .await;
    // Moving the due time before the reminder names the reminder.
    let res = app
        .patch(
            &format!("/api/v1/tasks/{}", task["id"].as_str().unwrap()),
            &admin.token,
            json!({"due_at": "2029-12-31T00:00:00Z"}),
        )
        .await;
    assert_eq!(error_fields(&assert_problem(res, 422).await), ["remind_at"]);
    // PATCH validates too, and title may not be cleared.
    let res = app
        .patch(
            &format!("/api/v1/tasks/{}", task["id"].as_str().unwrap()),
            &admin.token,
            json!({"title": null, "priority": "urgent"}),
        )
        .await;
    assert_eq!(
        error_fields(&assert_problem(res, 422).await),
        ["title", "priority"]
    );

    let list = body(app.get("/api/v1/tasks", &admin.token).await).await;
    assert_eq!(
        list["items"].as_array().unwrap().len(),
        2,
        "only the valid ones"
    );
}

#[actix_web::test]
async fn references_must_be_live() {
    let app = spawn_app().await;
    let admin = app.bootstrap_admin().await;
    let customer = create_customer(&app, &admin, "Acme").await;
    let contact = insert_contact(&app, Some(&customer));
    let lead = insert_lead(&app, Some(&customer), Some(&contact));
    let task = create_task(
        &app,
        &admin,
        json!({"title": "Linked", "customer_id": customer, "contact_id": contact, "lead_id": lead}),
    )
    .await;
    assert_eq!(task["lead_id"], lead.as_str());
    let path = format!("/api/v1/tasks/{}", task["id"].as_str().unwrap());

    let res = send(
        &app,
        Method::DELETE,
        &format!("/api/v1/customers/{customer}?cascade=true"),
        &admin,
    )
    .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let res = app
        .post(
            "/api/v1/tasks",
            &admin.token,
            json!({"title": "Late", "customer_id": customer, "contact_id": contact, "lead_id": lead}),
        )
        .await;
    assert_eq!(
        error_fields(&assert_problem(res, 422).await),
        ["lead_id", "customer_id", "contact_id"]
    );
    // Editing something else of a task whose customer went to the trash still works;
    // pointing it at the trashed customer again does not.
    let res = app
        .patch(&path, &admin.token, json!({"title": "Still linked"}))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let res = app
        .patch(&path, &admin.token, json!({"customer_id": customer}))
        .await;
    assert_eq!(
        error_fields(&assert_problem(res, 422).await),
        ["customer_id"]
    );
    let res = app
        .patch(
            &path,
            &admin.token,
            json!({"customer_id": null, "lead_id": null}),
        )
        .await;
    let unlinked = body(res).await;
    assert!(unlinked["customer_id"].is_null() && unlinked["lead_id"].is_null());
}

#[actix_web::test]
async fn roles_and_ownership() {
    let app = spawn_app().await;
    let admin = app.bootstrap_admin().await;
    let rep = app.user(&admin, "sales").await;
    let other_rep = app.user(&admin, "sales").await;
    let support = app.user(&admin, "support").await;
    let manager = app.user(&admin, "manager").await;

    // Every role creates tasks, for anyone.
    let task = create_task(
        &app,
        &support,
        json!({"title": "Follow up", "assigned_to": rep.id}),
    )
    .await;
    assert_eq!(task["assigned_to"], rep.id.as_str());
    let path = format!("/api/v1/tasks/{}", task["id"].as_str().unwrap());
    for reader in [&rep, &other_rep, &support, &manager, &admin] {
        assert_eq!(app.get(&path, &reader.token).await.status(), StatusCode::OK);
    }

    // Neither the assignee nor the creator: no edits, completion or deletion.
    assert_problem(
        app.patch(&path, &other_rep.token, json!({"title": "Mine now"}))
            .await,
        403,
    )
    .await;
    assert_problem(
        send(&app, Method::POST, &format!("{path}/complete"), &other_rep).await,
        403,
    )
    .await;
    assert_problem(send(&app, Method::DELETE, &path, &other_rep).await, 403).await;

    // The creator and the assignee both own it.
    for owner in [&support, &rep] {
        let res = app
            .patch(&path, &owner.token, json!({"priority": "high"}))
            .await;
        assert_eq!(res.status(), StatusCode::OK);
    }
    // An owner may hand it on; the assignee who gave it away no longer owns it.
    let res = app
        .patch(&path, &rep.token, json!({"assigned_to": other_rep.id}))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_problem(
        app.patch(&path, &rep.token, json!({"title": "x"})).await,
        403,
    )
    .await;
    let res = app
        .patch(&path, &other_rep.token, json!({"title": "Now mine"}))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    // A manager edits and reassigns anyone's.
    let res = app
        .patch(&path, &manager.token, json!({"assigned_to": rep.id}))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let res = send(&app, Method::POST, &format!("{path}/complete"), &manager).await;
    assert_eq!(res.status(), StatusCode::OK);

    // Deleting and restoring follow the same ownership.
    let res = send(&app, Method::DELETE, &path, &support).await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_problem(
        send(&app, Method::POST, &format!("{path}/restore"), &other_rep).await,
        403,
    )
    .await;
    let res = send(&app, Method::POST, &format!("{path}/restore"), &rep).await;
    assert_eq!(res.status(), StatusCode::OK);
    let trash = body(app.get("/api/v1/trash?entity=task", &support.token).await).await;
    assert!(trash["items"].as_array().unwrap().is_empty());
}

#[actix_web::test]
async fn concurrent_edits_with_the_same_version_one_wins() {
    let app = Arc::new(spawn_app().await);
    let admin = app.bootstrap_admin().await;
    let rep = Arc::new(app.user(&admin, "sales").await);
    for round in 0..5 {
        let task = create_task(&app, &rep, json!({"title": format!("Race {round}")})).await;
        let path = format!("/api/v1/tasks/{}", task["id"].as_str().unwrap());
        let clients: Vec<_> = ["first", "second"]
            .into_iter()
            .map(|who| {
                let (app, rep, path) = (app.clone(), rep.clone(), path.clone());
                actix_web::rt::spawn(async move {
                    let res = app
                        .request(Method::PATCH, &path, Some(&rep.token))
                        .header("If-Match", "\"1\"")
                        .json(&json!({"title": who}))
                        .send()
                        .await
                        .unwrap();
                    (res.status().as_u16(), who)
                })
            })
            .collect();
        let mut statuses = Vec::new();
        for c in clients {
            statuses.push(c.await.unwrap());
        }
        statuses.sort();
        assert_eq!(
            statuses.iter().map(|s| s.0).collect::<Vec<_>>(),
            [200, 412],
            "{statuses:?}"
        );
        let now = body(app.get(&path, &rep.token).await).await;
        assert_eq!(now["version"], 2);
        assert_eq!(now["title"], statuses[0].1, "the winner's edit stands");
    }
}

#[actix_web::test]
async fn trashed_tasks_are_gone_until_restored() {
    let app = spawn_app().await;
    let admin = app.bootstrap_admin().await;
    let task = create_task(&app, &admin, json!({"title": "Ephemeral"})).await;
    let id = task["id"].as_str().unwrap();
    let path = format!("/api/v1/tasks/{id}");
    // A live task is not in the trash.
    assert_problem(
        send(&app, Method::POST, &format!("{path}/restore"), &admin).await,
        409,
    )
    .await;
    assert_eq!(
        send(&app, Method::DELETE, &path, &admin).await.status(),
        StatusCode::NO_CONTENT
    );
    assert_problem(app.get(&path, &admin.token).await, 404).await;
    assert_problem(
        app.patch(&path, &admin.token, json!({"title": "x"})).await,
        404,
    )
    .await;
    assert_problem(
        send(&app, Method::POST, &format!("{path}/complete"), &admin).await,
        404,
    )
    .await;
    assert_problem(send(&app, Method::DELETE, &path, &admin).await, 404).await;
    let list = body(app.get("/api/v1/tasks", &admin.token).await).await;
    assert!(list["items"].as_array().unwrap().is_empty());
    let trash = body(app.get("/api/v1/trash?entity=task", &admin.token).await).await;
    assert_eq!(trash["items"][0]["title"], "Ephemeral");

    let restored = body(send(&app, Method::POST, &format!("{path}/restore"), &admin).await).await;
    assert_eq!(restored["title"], "Ephemeral");
    assert_eq!(restored["version"], 3);
    send(&app, Method::DELETE, &path, &admin).await;
    let res = send(
        &app,
        Method::POST,
        &format!("/api/v1/tasks/{id}/purge"),
        &admin,
    )
    .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_problem(
        send(&app, Method::POST, &format!("{path}/restore"), &admin).await,
        404,
    )
    .await;
    assert_problem(app.get("/api/v1/tasks/no-such-id", &admin.token).await, 404).await;

    let audit = body(
        app.get(&format!("/api/v1/audit?entity_id={id}"), &admin.token)
            .await,
    )
    .await;
    let actions: Vec<&str> = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        [
            "task.purge",
            "task.delete",
            "task.restore",
            "task.delete",
            "task.create"
        ]
    );
    let check = app.cli(&["check"], None);
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stdout)
    );
}
