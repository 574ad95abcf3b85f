use std::time::Duration;

use reqwest::{Client, Method, Response, StatusCode};
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::helpers::{Login, Server, TestApp, assert_problem, client, create_admin, spawn_app};

/// How long a test waits for an event that should arrive within a second.
const PATIENCE: Duration = Duration::from_secs(10);

/// One parsed Server-Sent Event.
#[derive(Debug)]
struct Event {
    id: Option<String>,
    name: String,
    data: Value,
}

/// Reads a `text/event-stream` response event by event.
struct Events {
    res: Response,
    buffer: String,
}

impl Events {
    async fn open(app: &TestApp, token: &str, last_event_id: Option<&str>) -> Events {
        let mut req = app.request(Method::GET, "/api/v1/notifications/stream", Some(token));
        if let Some(id) = last_event_id {
            req = req.header("Last-Event-ID", id);
        }
        Events::from_response(req.send().await.unwrap())
    }

    fn from_response(res: Response) -> Events {
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(
            res.headers()["content-type"].to_str().unwrap(),
            "text/event-stream"
        );
        Events {
            res,
            buffer: String::new(),
        }
    }

    /// The next event (comments skipped), or `None` once the stream has ended.
    async fn next(&mut self) -> Option<Event> {
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                let mut event = Event {
                    id: None,
                    name: "message".into(),
                    data: Value::Null,
                };
                let mut has_data = false;
                for line in block.lines() {
                    if let Some(v) = line.strip_prefix("id: ") {
                        event.id = Some(v.to_owned());
                    } else if let Some(v) = line.strip_prefix("event: ") {
                        event.name = v.to_owned();
                    } else if let Some(v) = line.strip_prefix("data: ") {
                        event.data = serde_json::from_str(v).unwrap();
                        has_data = true;
                    }
                }
                if has_data {
                    return Some(event);
                }
                continue;
            }
            let chunk = tokio::time::timeout(PATIENCE, self.res.chunk())
                .await
                .expect("the stream sends something in time")
                .ok()??;
            self.buffer.push_str(std::str::from_utf8(&chunk).unwrap());
        }
    }

    /// The next `notification` event, skipping unread-count updates.
    async fn notification(&mut self) -> Event {
        loop {
            let event = self.next().await.expect("the stream is open");
            if event.name == "notification" {
                return event;
            }
        }
    }

    /// The next `unread` count.
    async fn unread(&mut self) -> i64 {
        loop {
            let event = self.next().await.expect("the stream is open");
            if event.name == "unread" {
                return event.data["count"].as_i64().unwrap();
            }
        }
    }
}

async fn created(res: Response) -> Value {
    assert_eq!(res.status(), StatusCode::CREATED);
    res.json().await.unwrap()
}

async fn notifications(app: &TestApp, who: &Login, query: &str) -> Vec<Value> {
    let res = app
        .get(&format!("/api/v1/notifications{query}"), &who.token)
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let page: Value = res.json().await.unwrap();
    page["items"].as_array().unwrap().clone()
}

fn in_seconds(seconds: i64) -> String {
    (OffsetDateTime::now_utc() + time::Duration::seconds(seconds))
        .format(&Rfc3339)
        .unwrap()
}

#[actix_web::test]
async fn changes_by_others_notify_the_people_they_concern_and_nobody_else() {
    let app = spawn_app().await;
    let admin = app.bootstrap_admin().await;
    let rep = app.user(&admin, "sales").await;

    // Your own doing notifies nobody.
    created(
        app.post(
            "/api/v1/tasks",
            &rep.token,
            json!({"title": "Mine", "assigned_to": rep.id}),
        )
        .await,
    )
    .await;
    let own_lead = created(
        app.post(
            "/api/v1/leads",
            &rep.token,
            json!({"title": "Own deal", "assigned_to": rep.id}),
        )
        .await,
    )
    .await;
    let res = app
        .post(
            &format!("/api/v1/leads/{}/stage", own_lead["id"].as_str().unwrap()),
            &rep.token,
            json!({"stage": "contacted"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(notifications(&app, &rep, "").await.is_empty());

    // A rejected change notifies nobody either: its notification rolls back with it.
    let res = app
        .post(
            "/api/v1/tasks",
            &admin.token,
            json!({"title": "", "assigned_to": rep.id}),
        )
        .await;
    assert_problem(res, 422).await;
    assert!(notifications(&app, &rep, "").await.is_empty());

    // Someone else's changes do.
    let task = created(
        app.post(
            "/api/v1/tasks",
            &admin.token,
            json!({"title": "Call Acme back", "assigned_to": rep.id}),
        )
        .await,
    )
    .await;
    let lead = created(
        app.post(
            "/api/v1/leads",
            &admin.token,
            json!({"title": "Acme renewal"}),
        )
        .await,
    )
    .await;
    let lead_id = lead["id"].as_str().unwrap();
    let res = app
        .patch(
            &format!("/api/v1/leads/{lead_id}"),
            &admin.token,
            json!({"assigned_to": rep.id}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let res = app
        .post(
            &format!("/api/v1/leads/{lead_id}/stage"),
            &admin.token,
            json!({"stage": "qualified"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let customer = created(
        app.post(
            "/api/v1/customers",
            &admin.token,
            json!({"name": "Acme Ltd", "owner_id": rep.id}),
        )
        .await,
    )
    .await;

    let items = notifications(&app, &rep, "").await;
    let seen: Vec<(&str, &str, &str)> = items
        .iter()
        .map(|n| {
            (
                n["kind"].as_str().unwrap(),
                n["entity_id"].as_str().unwrap(),
                n["message"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            (
                "customer_assigned",
                customer["id"].as_str().unwrap(),
                "Ada Admin made you the owner of Acme Ltd"
            ),
            (
                "lead_stage_changed",
                lead_id,
                "Ada Admin moved your lead “Acme renewal” from New to Qualified"
            ),
            (
                "lead_assigned",
                lead_id,
                "Ada Admin assigned you the lead “Acme renewal”"
            ),
            (
                "task_assigned",
                task["id"].as_str().unwrap(),
                "Ada Admin assigned you the task “Call Acme back”"
            ),
        ],
        "newest first"
    );
    assert!(items.iter().all(|n| n["actor_id"] == admin.id.as_str()));
    assert!(
        notifications(&app, &admin, "").await.is_empty(),
        "the admin caused them all"
    );

    // Editing a task without changing its assignee tells nobody again.
    let res = app
        .patch(
            &format!("/api/v1/tasks/{}", task["id"].as_str().unwrap()),
            &admin.token,
            json!({"title": "Call Acme back today"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(notifications(&app, &rep, "").await.len(), 4);
}

#[actix_web::test]
async fn notifications_are_read_one_by_one_or_all_at_once_by_their_owner_only() {
    let app = spawn_app().await;
    let admin = app.bootstrap_admin().await;
    let rep = app.user(&admin, "sales").await;
    for title in ["One", "Two", "Three"] {
        created(
            app.post(
                "/api/v1/tasks",
                &admin.token,
                json!({"title": title, "assigned_to": rep.id}),
            )
            .await,
        )
        .await;
    }
    let count = |who: &Login| {
        let app = &app;
        let token = who.token.clone();
        async move {
            let body: Value = app
                .get("/api/v1/notifications/unread-count", &token)
                .await
                .json()
                .await
                .unwrap();
            body["count"].as_i64().unwrap()
        }
    };
    assert_eq!(count(&rep).await, 3);

    let all = notifications(&app, &rep, "?limit=2").await;
    assert_eq!(all.len(), 2, "paginated");
    let first = all[0]["id"].as_str().unwrap();
    // Someone else's notification does not exist for you.
    let res = app
        .post(
            &format!("/api/v1/notifications/{first}/read"),
            &admin.token,
            json!({}),
        )
        .await;
    assert_problem(res, 404).await;
    let res = app
        .post(
            &format!("/api/v1/notifications/{first}/read"),
            &rep.token,
            json!({}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let read: Value = res.json().await.unwrap();
    assert!(read["read_at"].is_string());
    assert_eq!(count(&rep).await, 2);
    assert_eq!(notifications(&app, &rep, "?unread=true").await.len(), 2);
    let res = app
        .get("/api/v1/notifications?unread=maybe", &rep.token)
        .await;
    assert_problem(res, 422).await;

    let res = app
        .post("/api/v1/notifications/read-all", &rep.token, json!({}))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.json::<Value>().await.unwrap()["marked"], 2);
    assert_eq!(count(&rep).await, 0);
    assert_eq!(notifications(&app, &rep, "").await.len(), 3, "kept, read");
}

#[actix_web::test]
async fn the_stream_delivers_live_to_every_tab_and_resumes_without_loss_or_repeat() {
    let app = spawn_app().await;
    let admin = app.bootstrap_admin().await;
    let rep = app.user(&admin, "sales").await;
    let assign = |title: &'static str| {
        let app = &app;
        let admin_token = admin.token.clone();
        let rep_id = rep.id.clone();
        async move {
            created(
                app.post(
                    "/api/v1/tasks",
                    &admin_token,
                    json!({"title": title, "assigned_to": rep_id}),
                )
                .await,
            )
            .await
        }
    };

    let mut tab1 = Events::open(&app, &rep.token, None).await;
    let mut tab2 = Events::open(&app, &rep.token, None).await;
    assert_eq!(tab1.unread().await, 0, "the count comes first");
    assert_eq!(tab2.unread().await, 0);

    let first = assign("First").await;
    for tab in [&mut tab1, &mut tab2] {
        let event = tab.notification().await;
        assert_eq!(event.data["entity_id"], first["id"]);
        assert_eq!(event.data["kind"], "task_assigned");
        assert_eq!(
            event.id.as_deref(),
            Some(event.data["seq"].to_string().as_str())
        );
        assert_eq!(tab.unread().await, 1);
    }
    let first_event_id = event_id_of(&app, &rep, "First").await;
    drop(tab1);
    drop(tab2);

    // While no tab is open, two more arrive; a reconnect names the last event it saw.
    let second = assign("Second").await;
    let third = assign("Third").await;
    let mut resumed = Events::open(&app, &rep.token, Some(&first_event_id)).await;
    assert_eq!(resumed.notification().await.data["entity_id"], second["id"]);
    assert_eq!(resumed.notification().await.data["entity_id"], third["id"]);
    assert_eq!(resumed.unread().await, 3);
    let fourth = assign("Fourth").await;
    assert_eq!(
        resumed.notification().await.data["entity_id"],
        fourth["id"],
        "nothing repeated, nothing skipped"
    );
    assert_eq!(resumed.unread().await, 4);

    // Reading elsewhere updates the count in every open tab.
    let res = app
        .post("/api/v1/notifications/read-all", &rep.token, json!({}))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(resumed.unread().await, 0);

    let res = app
        .request(
            Method::GET,
            "/api/v1/notifications/stream",
            Some(&rep.token),
        )
        .header("Last-Event-ID", "abc")
        .send()
        .await
        .unwrap();
    assert_problem(res, 400).await;
    let res = app
        .request(Method::GET, "/api/v1/notifications/stream", None)
        .send()
        .await
        .unwrap();
    assert_problem(res, 401).await;
}

async fn event_id_of(app: &TestApp, who: &Login, title: &str) -> String {
    notifications(app, who, "")
        .await
        .iter()
        .find(|n| n["message"].as_str().unwrap().contains(title))
        .map(|n| n["seq"].to_string())
        .unwrap()
}

#[actix_web::test]
async fn revoking_the_token_or_signing_out_ends_the_stream() {
    let app = spawn_app().await;
    let admin = app.bootstrap_admin().await;
    let token: Value = created(
        app.post("/api/v1/tokens", &admin.token, json!({"name": "bell"}))
            .await,
    )
    .await;
    let secret = token["secret"].as_str().unwrap();
    let mut by_token = Events::open(&app, secret, None).await;
    assert_eq!(by_token.unread().await, 0);
    let mut by_session = Events::open(&app, &admin.token, None).await;
    assert_eq!(by_session.unread().await, 0);

    let res = app
        .request(
            Method::DELETE,
            &format!("/api/v1/tokens/{}", token["id"].as_str().unwrap()),
            Some(&admin.token),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert!(
        by_token.next().await.is_none(),
        "the revoked token's stream ends"
    );

    let res = app
        .post("/api/v1/auth/logout", &admin.token, json!({}))
        .await;
    assert!(res.status().is_success());
    assert!(
        by_session.next().await.is_none(),
        "signing out ends the stream"
    );
}

#[actix_web::test]
async fn a_browser_session_streams_with_its_cookie() {
    let app = spawn_app().await;
    let admin = app.bootstrap_admin().await;
    let rep = app.user(&admin, "sales").await;
    let (browser, _) = app
        .browser_sign_in(&rep.email, crate::helpers::PASSWORD)
        .await;
    let res = browser
        .get(app.url("/api/v1/notifications/stream"))
        .send()
        .await
        .unwrap();
    let mut events = Events::from_response(res);
    assert_eq!(events.unread().await, 0);
    let task = created(
        app.post(
            "/api/v1/tasks",
            &admin.token,
            json!({"title": "For the browser", "assigned_to": rep.id}),
        )
        .await,
    )
    .await;
    assert_eq!(events.notification().await.data["entity_id"], task["id"]);
}

#[actix_web::test]
async fn a_reminder_fires_when_its_time_comes() {
    let app = spawn_app().await;
    let admin = app.bootstrap_admin().await;
    let rep = app.user(&admin, "sales").await;
    let mut events = Events::open(&app, &rep.token, None).await;
    let task = created(
        app.post(
            "/api/v1/tasks",
            &rep.token,
            json!({"title": "Send the quote", "remind_at": in_seconds(1), "due_at": in_seconds(2)}),
        )
        .await,
    )
    .await;
    let reminder = events.notification().await;
    assert_eq!(reminder.data["kind"], "task_reminder");
    assert_eq!(reminder.data["entity_id"], task["id"]);
    assert_eq!(reminder.data["message"], "Reminder: “Send the quote”");
    assert!(reminder.data["actor_id"].is_null());
    let overdue = events.notification().await;
    assert_eq!(overdue.data["kind"], "task_overdue");
    assert_eq!(overdue.data["message"], "“Send the quote” is overdue");
}

async fn kinds(http: &Client, base: &str, token: &str) -> Vec<String> {
    let page: Value = http
        .get(format!("{base}/api/v1/notifications"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["kind"].as_str().unwrap().to_owned())
        .collect()
}

#[actix_web::test]
async fn reminders_that_fell_due_while_the_server_was_down_fire_once_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("rapport.db");
    create_admin(&db);
    let http = client();

    let server = Server::start(&db).await;
    let token = server.sign_in().await;
    let res = http
        .post(format!("{}/api/v1/tasks", server.base))
        .bearer_auth(&token)
        .json(&json!({"title": "Renew", "remind_at": in_seconds(2), "due_at": in_seconds(3)}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    server.kill();
    tokio::time::sleep(Duration::from_secs(4)).await;

    let server = Server::start(&db).await;
    let deadline = std::time::Instant::now() + PATIENCE;
    let mut seen = kinds(&http, &server.base, &token).await;
    while seen.len() < 2 && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
        seen = kinds(&http, &server.base, &token).await;
    }
    seen.sort();
    assert_eq!(seen, ["task_overdue", "task_reminder"]);
    server.kill();

    let server = Server::start(&db).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(
        kinds(&http, &server.base, &token).await.len(),
        2,
        "never twice"
    );
    server.kill();
}
