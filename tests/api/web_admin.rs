//! The admin pages (`/admin/…`): users, pipeline stages, the audit log and backups, driven
//! like a browser (cookie session, CSRF field) through the real server.

use std::time::Duration;

use reqwest::{Client, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{
    Login, Options, PASSWORD, TestApp, page_text, post_form, signed_in, spawn_app, spawn_app_with,
};

const PAGES: [&str; 5] = [
    "/admin",
    "/admin/users",
    "/admin/stages",
    "/admin/audit",
    "/admin/backups",
];

async fn get(b: &Client, url: &str) -> (StatusCode, String) {
    let res = b.get(url).send().await.unwrap();
    (res.status(), res.text().await.unwrap())
}

/// The value of `attr` on the first tag after `marker`.
fn attr_after(html: &str, marker: &str, attr: &str) -> String {
    let at = html
        .find(marker)
        .unwrap_or_else(|| panic!("{marker} in page"));
    let key = format!("{attr}=\"");
    let start = html[at..].find(&key).unwrap() + at + key.len();
    let end = html[start..].find('"').unwrap() + start;
    html[start..end].replace("&amp;", "&")
}

/// The `id` attributes a page uses more than once.
fn duplicate_ids(html: &str) -> Vec<String> {
    let mut ids: Vec<&str> = html
        .split(" id=\"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .collect();
    ids.sort_unstable();
    let mut dups: Vec<String> = ids
        .windows(2)
        .filter(|w| w[0] == w[1])
        .map(|w| w[0].to_owned())
        .collect();
    dups.dedup();
    dups
}

async fn user_json(app: &TestApp, admin: &Login, id: &str) -> Value {
    app.get(&format!("/api/v1/users/{id}"), &admin.token)
        .await
        .json()
        .await
        .unwrap()
}

#[actix_web::test]
async fn each_admin_page_renders_for_an_admin() {
    let app = spawn_app().await;
    let admin = app.bootstrap_admin().await;
    let (b, _) = signed_in(&app, &admin).await;
    let home = page_text(&b, &app.url("/")).await;
    assert!(
        home.contains("href=\"/admin\""),
        "Admin is in the navigation"
    );
    for (path, heading) in
        PAGES
            .iter()
            .zip(["Admin", "Users", "Pipeline stages", "Audit log", "Backups"])
    {
        let (status, html) = get(&b, &app.url(path)).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        assert!(html.contains(&format!("<h1>{heading}</h1>")), "{path}");
        assert!(
            html.contains("href=\"/admin\" aria-current=\"page\">Admin</a>"),
            "{path}: Admin is the current section"
        );
        assert_eq!(
            duplicate_ids(&html),
            Vec::<String>::new(),
            "{path}: labels find their field"
        );
        for other in &PAGES[1..] {
            assert!(
                html.contains(&format!("href=\"{other}\"")),
                "{path} links {other}"
            );
        }
    }
    let users = page_text(&b, &app.url("/admin/users")).await;
    assert!(users.contains("admin@example.com") && users.contains(">you<"));
    let backups = page_text(&b, &app.url("/admin/backups")).await;
    assert!(backups.contains("Scheduled snapshots are off") && backups.contains("--backup-dir"));
    assert!(backups.contains("href=\"/api/v1/admin/backup\""));
}

#[actix_web::test]
async fn other_roles_get_the_forbidden_page_on_every_admin_route() {
    let app = spawn_app().await;
    let admin = app.bootstrap_admin().await;
    let target = app.user(&admin, "sales").await;
    let role_path = format!("/admin/users/{}/role", admin.id);
    let active_path = format!("/admin/users/{}/active", admin.id);
    let reset_path = format!("/admin/users/{}/reset-password", target.id);
    for role in ["manager", "sales", "support"] {
        let who = app.user(&admin, role).await;
        let (b, csrf) = signed_in(&app, &who).await;
        let home = page_text(&b, &app.url("/")).await;
        assert!(!home.contains("href=\"/admin\""), "{role}: no Admin link");
        for path in PAGES {
            let (status, html) = get(&b, &app.url(path)).await;
            assert_eq!(status, StatusCode::FORBIDDEN, "{role} GET {path}");
            assert!(html.contains("Not allowed"), "{role} GET {path}: {html}");
        }
        let posts: [(&str, Vec<(&str, &str)>); 5] = [
            (
                "/admin/users",
                vec![
                    ("name", "Mallory"),
                    ("email", "m@example.com"),
                    ("role", "admin"),
                ],
            ),
            (&role_path, vec![("role", "sales")]),
            (&active_path, vec![("active", "false")]),
            (&reset_path, vec![]),
            (
                "/admin/stages",
                vec![("s.0.key", "new"), ("s.0.label", "X"), ("op", "save")],
            ),
        ];
        for (path, fields) in posts {
            let mut form = vec![("csrf_token", csrf.as_str())];
            form.extend(fields);
            let (status, _, html) = post_form(&b, &app.url(path), &form).await;
            assert_eq!(status, StatusCode::FORBIDDEN, "{role} POST {path}");
            assert!(html.contains("Not allowed"), "{role} POST {path}");
        }
    }
    // Nothing changed.
    let me = user_json(&app, &admin, &admin.id).await;
    assert_eq!(
        (me["role"].as_str(), me["active"].as_bool()),
        (Some("admin"), Some(true))
    );
    app.login(&target.email, PASSWORD).await;
    let found = app
        .get("/api/v1/users?q=m%40example.com", &admin.token)
        .await
        .json::<Value>()
        .await
        .unwrap();
    assert_eq!(found["items"].as_array().unwrap().len(), 0);
    let stages: Value = app
        .get("/api/v1/stages", &admin.token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(stages["stages"][0]["label"], "New");
}

#[actix_web::test]
async fn an_admin_adds_users_who_can_then_sign_in() {
    let app = spawn_app().await;
    let admin = app.bootstrap_admin().await;
    let (b, csrf) = signed_in(&app, &admin).await;

    // A mistake keeps what was typed, except the password.
    let (status, _, html) = post_form(
        &b,
        &app.url("/admin/users"),
        &[
            ("csrf_token", &csrf),
            ("name", "Grace Hopper"),
            ("email", "not-an-email"),
            ("role", "manager"),
            ("password", "secret that stays secret"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("value=\"Grace Hopper\"") && html.contains("value=\"not-an-email\""));
    assert!(html.contains("<option value=\"manager\" selected>"));
    assert!(html.contains("f-email-error") && !html.contains("secret that stays secret"));

    // No password typed: one is generated and shown once.
    let (status, _, html) = post_form(
        &b,
        &app.url("/admin/users"),
        &[
            ("csrf_token", &csrf),
            ("name", "Grace Hopper"),
            ("email", "grace@example.com"),
            ("role", "manager"),
            ("password", ""),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let generated = attr_after(&html, "id=\"new-password\"", "value");
    assert_eq!(generated.len(), 20);
    let grace = app.login("grace@example.com", &generated).await;
    let me: Value = app
        .get("/api/v1/auth/me", &grace.token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["role"], "manager");
    let again = page_text(&b, &app.url("/admin/users")).await;
    assert!(
        again.contains("grace@example.com") && !again.contains(&generated),
        "shown once"
    );

    // A password typed by the admin is used as is, and not shown.
    let (status, _, html) = post_form(
        &b,
        &app.url("/admin/users"),
        &[
            ("csrf_token", &csrf),
            ("name", "Alan"),
            ("email", "alan@example.com"),
            ("role", "support"),
            ("password", PASSWORD),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    assert!(!html.contains("id=\"new-password\"") && !html.contains(PASSWORD));
    app.login("alan@example.com", PASSWORD).await;

    // The same e-mail twice is refused on the form.
    let (status, _, html) = post_form(
        &b,
        &app.url("/admin/users"),
        &[
            ("csrf_token", &csrf),
            ("name", "Alan again"),
            ("email", "ALAN@example.com"),
            ("role", "sales"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("is already used by another user"));
}

#[actix_web::test]
async fn roles_change_deactivation_refuses_sign_in_and_resets_end_sessions() {
    let app = spawn_app().await;
    let admin = app.bootstrap_admin().await;
    let rep = app.user(&admin, "sales").await;
    let (b, csrf) = signed_in(&app, &admin).await;
    let back = "/admin/users?role=sales";

    let (status, location, _) = post_form(
        &b,
        &app.url(&format!("/admin/users/{}/role", rep.id)),
        &[("csrf_token", &csrf), ("role", "manager"), ("back", back)],
    )
    .await;
    assert_eq!((status, location.as_str()), (StatusCode::SEE_OTHER, back));
    assert_eq!(user_json(&app, &admin, &rep.id).await["role"], "manager");

    let (status, _, _) = post_form(
        &b,
        &app.url(&format!("/admin/users/{}/active", rep.id)),
        &[
            ("csrf_token", &csrf),
            ("active", "false"),
            ("back", "https://evil.example/"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(app.login_response(&rep.email, PASSWORD).await.status(), 401);
    assert_eq!(app.get("/api/v1/auth/me", &rep.token).await.status(), 401);
    let list = page_text(&b, &app.url("/admin/users?active=false")).await;
    assert!(list.contains(&rep.email) && list.contains("Reactivate"));

    // The domain's refusals come back as messages on the page.
    let (status, _, html) = post_form(
        &b,
        &app.url(&format!("/admin/users/{}/active", admin.id)),
        &[("csrf_token", &csrf), ("active", "false")],
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(
        html.contains("You cannot deactivate your own account"),
        "{html}"
    );
    let (status, _, html) = post_form(
        &b,
        &app.url(&format!("/admin/users/{}/role", admin.id)),
        &[("csrf_token", &csrf), ("role", "sales"), ("back", back)],
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(html.contains("At least one active admin must remain"));
    assert!(
        html.contains("<option value=\"sales\" selected>"),
        "the choice stays"
    );
    assert_eq!(user_json(&app, &admin, &admin.id).await["role"], "admin");
    let (status, _, html) = post_form(
        &b,
        &app.url(&format!("/admin/users/{}/role", rep.id)),
        &[("csrf_token", &csrf), ("role", "wizard")],
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("Role must be one of admin, manager, sales, support."));

    let (status, _, _) = post_form(
        &b,
        &app.url(&format!("/admin/users/{}/active", rep.id)),
        &[("csrf_token", &csrf), ("active", "true")],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let rep = app.login(&rep.email, PASSWORD).await;

    // A reset shows the new password once and ends the user's sessions.
    let (status, _, html) = post_form(
        &b,
        &app.url(&format!("/admin/users/{}/reset-password", rep.id)),
        &[("csrf_token", &csrf)],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let fresh = attr_after(&html, "id=\"new-password\"", "value");
    assert_eq!(app.get("/api/v1/auth/me", &rep.token).await.status(), 401);
    assert_eq!(app.login_response(&rep.email, PASSWORD).await.status(), 401);
    app.login(&rep.email, &fresh).await;
    // Not for oneself: that would end this session before the password could be shown.
    let (status, _, html) = post_form(
        &b,
        &app.url(&format!("/admin/users/{}/reset-password", admin.id)),
        &[("csrf_token", &csrf)],
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(html.contains("your profile page"));
    app.login(&admin.email, PASSWORD).await;

    // Another admin may be demoted; an admin who demotes themselves leaves the admin pages.
    let second = app.user(&admin, "admin").await;
    let (b2, csrf2) = signed_in(&app, &second).await;
    let (status, location, _) = post_form(
        &b2,
        &app.url(&format!("/admin/users/{}/role", second.id)),
        &[("csrf_token", &csrf2), ("role", "manager")],
    )
    .await;
    assert_eq!((status, location.as_str()), (StatusCode::SEE_OTHER, "/"));
    assert_eq!(
        get(&b2, &app.url("/admin/users")).await.0,
        StatusCode::FORBIDDEN
    );
}

/// The stages as `GET /api/v1/stages` lists them.
async fn stages(app: &TestApp, admin: &Login) -> Vec<Value> {
    let pipeline: Value = app
        .get("/api/v1/stages", &admin.token)
        .await
        .json()
        .await
        .unwrap();
    pipeline["stages"].as_array().unwrap().clone()
}

/// The pipeline form as the page sends it, for `stages` in this order.
fn stage_form(csrf: &str, stages: &[Value]) -> Vec<(String, String)> {
    let mut form = vec![("csrf_token".to_owned(), csrf.to_owned())];
    for (i, s) in stages.iter().enumerate() {
        for field in ["key", "label", "kind"] {
            form.push((
                format!("s.{i}.{field}"),
                s[field].as_str().unwrap().to_owned(),
            ));
        }
        form.push((format!("s.{i}.probability"), s["probability"].to_string()));
    }
    form
}

fn set(form: &mut Vec<(String, String)>, name: &str, value: &str) {
    match form.iter_mut().find(|(k, _)| k == name) {
        Some(pair) => pair.1 = value.to_owned(),
        None => form.push((name.to_owned(), value.to_owned())),
    }
}

async fn stage_keys(app: &TestApp, admin: &Login) -> Vec<String> {
    stages(app, admin)
        .await
        .iter()
        .map(|s| s["key"].as_str().unwrap().to_owned())
        .collect()
}

async fn post_pairs(
    b: &Client,
    url: &str,
    form: &[(String, String)],
) -> (StatusCode, String, String) {
    let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    post_form(b, url, &pairs).await
}

#[actix_web::test]
async fn stages_are_renamed_reordered_added_and_kept_while_they_have_leads() {
    let app = spawn_app().await;
    let admin = app.bootstrap_admin().await;
    let (b, csrf) = signed_in(&app, &admin).await;
    let url = app.url("/admin/stages");
    let page = page_text(&b, &url).await;
    assert!(page.contains("name=\"s.1.label\" value=\"Contacted\""));

    // Moving a row re-shows the form in the new order, with what was typed, unsaved.
    let mut form = stage_form(&csrf, &stages(&app, &admin).await);
    set(&mut form, "s.1.label", "Reached");
    set(&mut form, "op", "up:2");
    let (status, _, html) = post_pairs(&b, &url, &form).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Not saved yet"));
    assert!(html.contains("name=\"s.1.label\" value=\"Qualified\""));
    assert!(html.contains("name=\"s.2.label\" value=\"Reached\""));
    assert!(
        html.contains("value=\"up:1\" autofocus"),
        "focus follows the row"
    );
    assert_eq!(stages(&app, &admin).await[1]["label"], "Contacted");

    // Saving: the rename, the new order and a new stage after "qualified".
    let mut list = stages(&app, &admin).await;
    list.swap(1, 2);
    let mut form = stage_form(&csrf, &list);
    set(&mut form, "s.2.label", "Reached");
    set(&mut form, "s.0.probability", "15");
    set(&mut form, "add.label", "Demo booked");
    set(&mut form, "add.probability", "40");
    set(&mut form, "add.kind", "open");
    set(&mut form, "add_after", "qualified");
    set(&mut form, "op", "save");
    let (status, location, body) = post_pairs(&b, &url, &form).await;
    assert_eq!(
        (status, location.as_str()),
        (StatusCode::SEE_OTHER, "/admin/stages"),
        "{body}"
    );
    assert_eq!(
        stage_keys(&app, &admin).await,
        [
            "new",
            "qualified",
            "demo_booked",
            "contacted",
            "proposal",
            "won",
            "lost"
        ]
    );
    let list = stages(&app, &admin).await;
    assert_eq!(list[0]["probability"], 15);
    assert_eq!(list[2]["probability"], 40);
    assert_eq!(list[3]["label"], "Reached");

    // Invalid values come back on their fields.
    let mut form = stage_form(&csrf, &stages(&app, &admin).await);
    set(&mut form, "s.1.label", "");
    set(&mut form, "s.2.probability", "lots");
    set(&mut form, "s.3.probability", "130");
    let (status, _, html) = post_pairs(&b, &url, &form).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("id=\"f-s.1.label-error\""));
    assert!(html.contains("must be a whole number from 0 to 100"));
    assert!(html.contains("Win probability must be from 0 to 100."));
    assert!(html.contains("value=\"lots\""), "what was typed stays");

    // A stage with a lead cannot go: a clear message, and nothing typed is lost.
    let lead = app
        .post(
            "/api/v1/leads",
            &admin.token,
            json!({"title": "Big deal", "stage": "proposal"}),
        )
        .await;
    assert_eq!(lead.status(), StatusCode::CREATED);
    let mut form = stage_form(&csrf, &stages(&app, &admin).await);
    set(&mut form, "s.4.remove", "on");
    set(&mut form, "s.0.label", "Fresh leads");
    set(&mut form, "add.label", "Legal review");
    set(&mut form, "add.probability", "70");
    set(&mut form, "add.kind", "open");
    let (status, _, html) = post_pairs(&b, &url, &form).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(
        html.contains("Stage &quot;proposal&quot; cannot be removed: it has 1 lead(s)"),
        "{html}"
    );
    assert!(html.contains("value=\"Fresh leads\"") && html.contains("value=\"Legal review\""));
    assert!(html.contains("name=\"s.4.remove\" value=\"on\" checked"));
    let keys = stage_keys(&app, &admin).await;
    assert!(keys.contains(&"proposal".to_owned()) && !keys.contains(&"legal_review".to_owned()));
}

/// The record ids of the audit rows on a page, in order.
fn audit_ids(html: &str) -> Vec<String> {
    html.split("class=\"recordid")
        .skip(1)
        .map(|rest| {
            let start = rest.find('>').unwrap() + 1;
            let end = rest[start..].find('<').unwrap() + start;
            rest[start..end].to_owned()
        })
        .collect()
}

/// The next page's link, if any.
fn next_page(html: &str) -> Option<String> {
    html.contains("rel=\"next\"")
        .then(|| attr_after(html, "rel=\"next\"", "href"))
}

#[actix_web::test]
async fn the_audit_log_filters_and_pages_through_every_row_once() {
    let app = spawn_app().await;
    let admin = app.bootstrap_admin().await;
    let rep = app.user(&admin, "sales").await;
    let mut admin_customers = Vec::new();
    for i in 0..53 {
        let res = app
            .post(
                "/api/v1/customers",
                &admin.token,
                json!({"name": format!("Customer {i}")}),
            )
            .await;
        let c: Value = res.json().await.unwrap();
        admin_customers.push(c["id"].as_str().unwrap().to_owned());
    }
    let res = app
        .post(
            "/api/v1/customers",
            &rep.token,
            json!({"name": "Rep's own"}),
        )
        .await;
    let rep_customer: Value = res.json().await.unwrap();
    let rep_customer = rep_customer["id"].as_str().unwrap().to_owned();
    let renamed = &admin_customers[0];
    app.patch(
        &format!("/api/v1/customers/{renamed}"),
        &admin.token,
        json!({"name": "Acme Renamed"}),
    )
    .await;
    let trashed = &admin_customers[1];
    let res = app
        .request(
            reqwest::Method::DELETE,
            &format!("/api/v1/customers/{trashed}"),
            Some(&admin.token),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);

    let (b, _) = signed_in(&app, &admin).await;
    let all = page_text(&b, &app.url("/admin/audit")).await;
    assert!(all.contains("<option value=\"customer.create\">customer.create</option>"));
    assert!(all.contains("<option value=\"customer\">customer</option>"));

    // Who: the rep's entries only.
    let html = page_text(&b, &app.url(&format!("/admin/audit?actor_id={}", rep.id))).await;
    let ids = audit_ids(&html);
    assert!(ids.contains(&rep_customer), "{ids:?}");
    assert!(!ids.iter().any(|id| admin_customers.contains(id)));

    // What + paging: 53 creations by the admin and 1 by the rep, each seen once.
    let mut url = app.url("/admin/audit?entity_type=customer&action=customer.create");
    let mut seen = Vec::new();
    let mut pages = 0;
    loop {
        let html = page_text(&b, &url).await;
        seen.extend(audit_ids(&html));
        pages += 1;
        match next_page(&html) {
            Some(next) => url = app.url(&next),
            None => break,
        }
    }
    assert_eq!(pages, 2);
    assert_eq!(seen.len(), 54);
    let mut unique = seen.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), 54, "no row twice");
    assert_eq!(seen[0], rep_customer, "newest first");

    // Which record: its history, linking to it while it exists.
    let html = page_text(&b, &app.url(&format!("/admin/audit?entity_id={renamed}"))).await;
    assert_eq!(audit_ids(&html), [renamed.clone(), renamed.clone()]);
    assert!(html.contains(&format!("href=\"/customers/{renamed}\"")));
    assert!(
        html.contains("<del>Customer 0</del> → <ins>Acme Renamed</ins>"),
        "{html}"
    );
    let html = page_text(&b, &app.url(&format!("/admin/audit?entity_id={trashed}"))).await;
    assert!(
        !html.contains(&format!("href=\"/customers/{trashed}\"")),
        "trashed: no link"
    );
    assert!(html.contains("customer.delete"));

    // When: today includes everything, a day long past nothing.
    let today = time::OffsetDateTime::now_utc().date();
    let today = format!(
        "{:04}-{:02}-{:02}",
        today.year(),
        today.month() as u8,
        today.day()
    );
    let html = page_text(
        &b,
        &app.url(&format!(
            "/admin/audit?action=customer.create&from={today}&to={today}"
        )),
    )
    .await;
    assert_eq!(audit_ids(&html).len(), 50, "a full first page");
    let html = page_text(&b, &app.url("/admin/audit?from=2020-01-01&to=2020-01-31")).await;
    assert!(audit_ids(&html).is_empty() && html.contains("Nothing matches these filters."));
    let (status, html) = get(&b, &app.url("/admin/audit?from=soon")).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("must be a date"));
}

#[actix_web::test]
async fn hostile_text_is_escaped_on_every_admin_page() {
    let app = spawn_app().await;
    let admin = app.bootstrap_admin().await;
    let hostile = "<script>alert(\"x\")</script> O'Brien \"Q\"";
    let res = app
        .post(
            "/api/v1/users",
            &admin.token,
            json!({"email": "evil@example.com", "name": hostile, "role": "sales", "password": PASSWORD}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let evil = app.login("evil@example.com", PASSWORD).await;
    app.post("/api/v1/customers", &evil.token, json!({"name": hostile}))
        .await;
    let mut pipeline: Value = app
        .get("/api/v1/stages", &admin.token)
        .await
        .json()
        .await
        .unwrap();
    pipeline["stages"][0]["label"] = json!(hostile);
    let res = app
        .request(reqwest::Method::PUT, "/api/v1/stages", Some(&admin.token))
        .json(&pipeline)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);

    let (b, csrf) = signed_in(&app, &admin).await;
    let mut pages: Vec<(String, String)> = Vec::new();
    for path in PAGES {
        pages.push((path.to_owned(), page_text(&b, &app.url(path)).await));
    }
    let filtered = format!("/admin/audit?actor_id={}", evil.id);
    pages.push((filtered.clone(), page_text(&b, &app.url(&filtered)).await));
    let (_, _, html) = post_form(
        &b,
        &app.url(&format!("/admin/users/{}/reset-password", evil.id)),
        &[("csrf_token", &csrf)],
    )
    .await;
    pages.push(("reset".into(), html));
    let (_, _, html) = post_form(
        &b,
        &app.url("/admin/users"),
        &[("csrf_token", &csrf), ("name", hostile), ("email", "bad")],
    )
    .await;
    pages.push(("refused create".into(), html));
    for (path, html) in &pages {
        assert!(!html.contains("<script>alert"), "{path} is not escaped");
        assert!(
            !html.contains("O'Brien \"Q\""),
            "{path}: quotes are escaped"
        );
    }
    let shown = |path: &str| pages.iter().find(|(p, _)| p == path).unwrap().1.clone();
    assert!(shown("/admin/users").contains("&lt;script&gt;alert"));
    assert!(shown("/admin/stages").contains("&lt;script&gt;alert"));
    assert!(shown(&filtered).contains("&lt;script&gt;alert"));
    assert!(shown("reset").contains("&lt;script&gt;alert"));
}

#[actix_web::test]
async fn a_form_without_its_csrf_token_is_refused() {
    let app = spawn_app().await;
    let admin = app.bootstrap_admin().await;
    let rep = app.user(&admin, "sales").await;
    let (b, _) = signed_in(&app, &admin).await;
    for token in [None, Some("forged")] {
        let mut form = vec![
            ("name", "Eve"),
            ("email", "eve@example.com"),
            ("role", "admin"),
        ];
        if let Some(t) = token {
            form.push(("csrf_token", t));
        }
        let (status, _, html) = post_form(&b, &app.url("/admin/users"), &form).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        assert!(html.contains("This form has expired"));
        let (status, _, _) = post_form(
            &b,
            &app.url(&format!("/admin/users/{}/active", rep.id)),
            &[("active", "false")],
        )
        .await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        let (status, _, _) = post_form(
            &b,
            &app.url("/admin/stages"),
            &[("s.0.key", "new"), ("op", "save")],
        )
        .await;
        assert_eq!(status, StatusCode::FORBIDDEN);
    }
    assert_eq!(
        app.login_response("eve@example.com", PASSWORD)
            .await
            .status(),
        401
    );
    assert_eq!(user_json(&app, &admin, &rep.id).await["active"], true);
}

#[actix_web::test]
async fn the_backups_page_lists_snapshots_and_the_download_takes_the_session_cookie() {
    let app = spawn_app_with(Options {
        backups: Some((Duration::from_secs(3600), 3)),
        ..Options::default()
    })
    .await;
    let admin = app.bootstrap_admin().await;
    let dir = app.backup_dir();
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    let name = loop {
        let found = std::fs::read_dir(&dir).ok().and_then(|entries| {
            entries
                .filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .find(|n| n.starts_with("rapport-") && n.ends_with("Z.db"))
        });
        if let Some(name) = found {
            break name;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the first snapshot is taken"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let (b, _) = signed_in(&app, &admin).await;
    let html = page_text(&b, &app.url("/admin/backups")).await;
    assert!(html.contains(&name), "{html}");
    assert!(html.contains("Scheduled snapshots") && html.contains("just now"));
    assert!(html.contains("<dt>Last failure</dt><dd><span class=\"muted\">None</span>"));
    assert!(!html.contains("Scheduled snapshots are off"));

    let res = b.get(app.url("/api/v1/admin/backup")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let disposition = res.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(disposition.starts_with("attachment"), "{disposition}");
    let bytes = res.bytes().await.unwrap();
    assert!(bytes.starts_with(b"SQLite format 3\0"));

    let rep = app.user(&admin, "manager").await;
    let (b, _) = signed_in(&app, &rep).await;
    let res = b.get(app.url("/api/v1/admin/backup")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
}
