//! The record pages (lists, records, forms) driven like a browser: cookie jar, forms,
//! redirects. The rules themselves are the domain's; these check the pages apply them and
//! say so.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{Login, TestApp, page_text, post_form, signed_in, spawn_app};

async fn create(app: &TestApp, who: &Login, path: &str, body: Value) -> Value {
    let res = app.post(path, &who.token, body).await;
    assert_eq!(res.status(), StatusCode::CREATED, "create {path}");
    res.json().await.unwrap()
}

#[actix_web::test]
async fn lists_filter_sort_and_page_with_the_filters_in_the_url() {
    let app = spawn_app().await;
    let admin = app.bootstrap_admin().await;
    let (b, _) = signed_in(&app, &admin).await;

    let empty = page_text(&b, &app.url("/customers")).await;
    assert!(
        empty.contains("No customers yet."),
        "a new team is told what to do first"
    );
    assert!(empty.contains("href=\"/customers/new\""));

    for (name, segment) in [
        ("Beta Corp", "SMB"),
        ("Alpha Ltd", "SMB"),
        ("Gamma Inc", "Enterprise"),
    ] {
        create(
            &app,
            &admin,
            "/api/v1/customers",
            json!({"name": name, "segment": segment}),
        )
        .await;
    }
    let first = page_text(
        &b,
        &app.url("/customers?segment=SMB&sort=name&order=asc&limit=1"),
    )
    .await;
    assert!(
        first.contains("Alpha Ltd") && !first.contains("Beta Corp") && !first.contains("Gamma Inc")
    );
    assert!(
        first.contains("aria-sort=\"ascending\""),
        "the sorted column says so"
    );
    let marker = "rel=\"next\" href=\"";
    let start = first.find(marker).expect("a next page link") + marker.len();
    let next = first[start..start + first[start..].find('"').unwrap()].replace("&amp;", "&");
    assert!(
        next.contains("segment=SMB") && next.contains("sort=name") && next.contains("cursor="),
        "{next}"
    );
    let second = page_text(&b, &app.url(&next)).await;
    assert!(
        second.contains("Beta Corp")
            && !second.contains("Alpha Ltd")
            && !second.contains("Gamma Inc")
    );
    assert!(!second.contains(marker), "the last page has no next link");

    let none = page_text(&b, &app.url("/customers?q=zzzz")).await;
    assert!(none.contains("Nothing matches these filters."));

    for path in [
        "/contacts",
        "/leads?stage=new",
        "/tasks?status=pending",
        "/search?q=alpha",
        "/notifications",
    ] {
        let res = b.get(app.url(path)).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK, "{path}");
    }
    let search = page_text(&b, &app.url("/search?q=alpha")).await;
    assert!(search.contains("Customers") && search.contains("Alpha Ltd"));
    let refused = b
        .get(app.url("/customers?colour=red"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        refused.status(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "unknown filters are refused, as in the API"
    );
}

#[actix_web::test]
async fn a_refused_form_keeps_what_was_typed_and_says_why() {
    let app = spawn_app().await;
    let admin = app.bootstrap_admin().await;
    let (b, csrf) = signed_in(&app, &admin).await;

    let (status, _, html) = post_form(
        &b,
        &app.url("/customers"),
        &[
            ("csrf_token", &csrf),
            ("name", "  "),
            ("domain", "acme.example"),
            ("industry", "Widgets & <Gadgets>"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        html.contains("Name is required."),
        "the field says what is wrong"
    );
    assert!(
        html.contains("value=\"acme.example\""),
        "keeps what was typed"
    );
    assert!(
        html.contains("value=\"Widgets &amp; &lt;Gadgets&gt;\""),
        "and escapes it"
    );

    let (status, location, _) = post_form(
        &b,
        &app.url("/customers"),
        &[
            ("csrf_token", &csrf),
            ("name", "Acme"),
            ("domain", "acme.example"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(location.starts_with("/customers/"));
    let page = page_text(&b, &app.url(&location)).await;
    assert!(page.contains("Acme") && page.contains("Created."));

    let (status, _, html) = post_form(
        &b,
        &app.url(&format!("{location}/stage").replace("/customers/", "/leads/")),
        &[("csrf_token", &csrf), ("stage", "lost")],
    )
    .await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "a customer id is no lead: {html}"
    );
}

#[actix_web::test]
async fn a_stale_edit_shows_the_other_change_instead_of_overwriting_it() {
    let app = spawn_app().await;
    let admin = app.bootstrap_admin().await;
    let (b, csrf) = signed_in(&app, &admin).await;
    let customer = create(
        &app,
        &admin,
        "/api/v1/customers",
        json!({"name": "Original"}),
    )
    .await;
    let id = customer["id"].as_str().unwrap();

    let form = page_text(&b, &app.url(&format!("/customers/{id}/edit"))).await;
    assert!(form.contains("name=\"version\" value=\"1\""));
    let res = app
        .patch(
            &format!("/api/v1/customers/{id}"),
            &admin.token,
            json!({"name": "Theirs Inc"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);

    let edit = app.url(&format!("/customers/{id}/edit"));
    let mine = [
        ("csrf_token", csrf.as_str()),
        ("name", "Mine Ltd"),
        ("version", "1"),
    ];
    let (status, _, html) = post_form(&b, &edit, &mine).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(html.contains("Someone else saved this customer"));
    assert!(html.contains("Theirs Inc") && html.contains("value=\"Mine Ltd\""));
    assert!(
        html.contains("name=\"version\" value=\"2\""),
        "saving again is a knowing overwrite"
    );
    let now: Value = app
        .get(&format!("/api/v1/customers/{id}"), &admin.token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(now["name"], "Theirs Inc", "nothing was overwritten");

    let (status, _, _) = post_form(
        &b,
        &edit,
        &[
            ("csrf_token", &csrf),
            ("name", "Mine Ltd"),
            ("version", "2"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
}

#[actix_web::test]
async fn support_sees_no_lead_values_on_pages() {
    let app = spawn_app().await;
    let admin = app.bootstrap_admin().await;
    let support = app.user(&admin, "support").await;
    let lead = create(
        &app,
        &admin,
        "/api/v1/leads",
        json!({"title": "Big deal", "value_cents": 123_456}),
    )
    .await;
    let id = lead["id"].as_str().unwrap();

    let (a, _) = signed_in(&app, &admin).await;
    assert!(page_text(&a, &app.url("/leads")).await.contains("1,234.56"));
    assert!(
        page_text(&a, &app.url(&format!("/leads/{id}")))
            .await
            .contains("1,234.56")
    );

    let (s, _) = signed_in(&app, &support).await;
    for path in [
        "/leads".to_owned(),
        format!("/leads/{id}"),
        "/leads/new".to_owned(),
    ] {
        let html = page_text(&s, &app.url(&path)).await;
        assert!(html.contains("Big deal") || path == "/leads/new", "{path}");
        assert!(
            !html.contains("1,234.56") && !html.contains("1234") && !html.contains(">Value<"),
            "{path}"
        );
    }
    let sorted = s
        .get(app.url("/leads?sort=value_cents"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        sorted.status(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "nor sorts by them"
    );
}

#[actix_web::test]
async fn every_form_post_needs_the_csrf_token() {
    let app = spawn_app().await;
    let admin = app.bootstrap_admin().await;
    let (b, _) = signed_in(&app, &admin).await;
    let customer = create(&app, &admin, "/api/v1/customers", json!({"name": "Acme"})).await;
    let lead = create(&app, &admin, "/api/v1/leads", json!({"title": "Deal"})).await;
    let task = create(&app, &admin, "/api/v1/tasks", json!({"title": "Call back"})).await;
    let (c, l, t) = (
        customer["id"].as_str().unwrap(),
        lead["id"].as_str().unwrap(),
        task["id"].as_str().unwrap(),
    );
    let posts = [
        "/customers".to_owned(),
        format!("/customers/{c}/edit"),
        "/leads".to_owned(),
        format!("/leads/{l}/stage"),
        format!("/leads/{l}/edit"),
        format!("/leads/{l}/convert"),
        format!("/customers/{c}/delete"),
        format!("/tasks/{t}/delete"),
        format!("/trash/customers/{c}/restore"),
        "/attachments/none/delete".to_owned(),
        "/customers/bulk-delete".to_owned(),
        format!("/tasks/{t}/edit"),
        "/contacts".to_owned(),
        "/tasks".to_owned(),
        format!("/tasks/{t}/complete"),
        "/activities".to_owned(),
        "/notifications/read-all".to_owned(),
        "/notifications/none/read".to_owned(),
    ];
    for path in posts {
        for token in [None, Some("forged")] {
            let mut form = vec![
                ("name", "X"),
                ("title", "X"),
                ("stage", "won"),
                ("subject_type", "customer"),
                ("subject_id", c),
                ("body", "hi"),
            ];
            if let Some(t) = token {
                form.push(("csrf_token", t));
            }
            let res = b.post(app.url(&path)).form(&form).send().await.unwrap();
            assert_eq!(res.status(), StatusCode::FORBIDDEN, "{path} with {token:?}");
        }
    }
    let unchanged: Value = app
        .get(&format!("/api/v1/leads/{l}"), &admin.token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(unchanged["stage"], "new");
}

#[actix_web::test]
async fn pages_escape_hostile_text_under_a_strict_csp() {
    let app = spawn_app().await;
    let admin = app.bootstrap_admin().await;
    let (b, csrf) = signed_in(&app, &admin).await;
    let hostile = "<script>alert(1)</script>\" onmouseover=\"x";
    let customer = create(
        &app,
        &admin,
        "/api/v1/customers",
        json!({"name": hostile, "industry": hostile}),
    )
    .await;
    let id = customer["id"].as_str().unwrap();
    let (status, _, _) = post_form(
        &b,
        &app.url("/activities"),
        &[
            ("csrf_token", &csrf),
            ("subject_type", "customer"),
            ("subject_id", id),
            ("kind", "note"),
            ("body", hostile),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    // The same text in every other kind of record, and in a notification (a colleague
    // assigns a task with it, a lead with it, and the admin sees both).
    let sales = app.user(&admin, "sales").await;
    let contact = create(
        &app,
        &admin,
        "/api/v1/contacts",
        json!({"first_name": hostile, "title": hostile, "customer_id": id}),
    )
    .await;
    let lead = create(
        &app,
        &sales,
        "/api/v1/leads",
        json!({"title": hostile, "company_name": hostile, "source": hostile, "customer_id": id}),
    )
    .await;
    let task = create(&app, &sales, "/api/v1/tasks", json!({"title": hostile, "description": hostile, "assigned_to": admin.id, "customer_id": id})).await;
    let trashed = create(&app, &admin, "/api/v1/tasks", json!({"title": hostile})).await;
    let res = app
        .request(
            reqwest::Method::DELETE,
            &format!("/api/v1/tasks/{}", trashed["id"].as_str().unwrap()),
            Some(&admin.token),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let (c, l, t) = (
        contact["id"].as_str().unwrap(),
        lead["id"].as_str().unwrap(),
        task["id"].as_str().unwrap(),
    );
    for path in [
        "/customers".to_owned(),
        format!("/customers/{id}"),
        format!("/customers/{id}/edit"),
        "/contacts".to_owned(),
        format!("/contacts/{c}"),
        format!("/contacts/{c}/edit"),
        "/leads".to_owned(),
        format!("/leads/{l}"),
        format!("/leads/{l}/edit"),
        "/leads/board".to_owned(),
        format!("/leads/new?customer_id={id}"),
        "/tasks".to_owned(),
        "/tasks/mine".to_owned(),
        format!("/tasks/{t}"),
        format!("/tasks/{t}/edit"),
        "/search?q=alert".to_owned(),
        "/notifications".to_owned(),
        "/trash?entity=tasks".to_owned(),
    ] {
        let res = b.get(app.url(&path)).send().await.unwrap();
        let csp = res.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(
            !csp.contains("unsafe-inline") && csp.contains("script-src 'self'"),
            "{csp}"
        );
        assert_eq!(res.status(), StatusCode::OK, "{path}");
        let html = res.text().await.unwrap();
        assert!(
            html.contains("&lt;script&gt;alert(1)"),
            "{path} shows the text, escaped"
        );
        assert!(!html.contains("<script>alert"), "{path} escapes user text");
        assert!(
            !html.contains("\" onmouseover=\"x"),
            "{path} escapes quotes"
        );
        assert!(
            !html.contains("<script>") && !html.contains(" onclick="),
            "{path}: no inline script"
        );
    }
}

#[actix_web::test]
async fn a_lead_moves_stage_and_a_lost_one_needs_a_reason() {
    let app = spawn_app().await;
    let admin = app.bootstrap_admin().await;
    let (b, csrf) = signed_in(&app, &admin).await;
    let customer = create(&app, &admin, "/api/v1/customers", json!({"name": "Acme"})).await;
    let cid = customer["id"].as_str().unwrap();

    let (status, location, _) = post_form(
        &b,
        &app.url("/leads"),
        &[
            ("csrf_token", &csrf),
            ("title", "Renewal"),
            ("customer_id", cid),
            ("value", "2,500.50"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let lead: Value = app
        .get(&format!("/api/v1{location}"), &admin.token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (lead["value_cents"].as_i64(), lead["customer_id"].as_str()),
        (Some(250_050), Some(cid))
    );

    let stage = app.url(&format!("{location}/stage"));
    let (status, _, html) = post_form(
        &b,
        &stage,
        &[("csrf_token", &csrf), ("stage", "lost"), ("version", "1")],
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        html.contains("Reason lost is required for a lead in a lost stage."),
        "{html}"
    );
    let (status, _, _) = post_form(
        &b,
        &stage,
        &[
            ("csrf_token", &csrf),
            ("stage", "qualified"),
            ("version", "1"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let page = page_text(&b, &app.url(&location)).await;
    assert!(page.contains("Stage updated.") && page.contains("Qualified"));

    // The follow-up task lands on the lead and is completed in one click.
    let (status, back, _) = post_form(
        &b,
        &app.url("/tasks"),
        &[
            ("csrf_token", &csrf),
            ("title", "Send the quote"),
            ("due", "2030-01-15"),
            ("lead_id", lead["id"].as_str().unwrap()),
            ("back", &location),
        ],
    )
    .await;
    assert_eq!(
        (status, back.as_str()),
        (StatusCode::SEE_OTHER, location.as_str())
    );
    let tasks: Value = app
        .get("/api/v1/tasks", &admin.token)
        .await
        .json()
        .await
        .unwrap();
    let task = &tasks["items"][0];
    assert!(
        task["due_at"]
            .as_str()
            .unwrap()
            .starts_with("2030-01-15T12:00:00")
    );
    let (status, _, _) = post_form(
        &b,
        &app.url(&format!("/tasks/{}/complete", task["id"].as_str().unwrap())),
        &[
            ("csrf_token", &csrf),
            ("version", "1"),
            ("back", "https://evil.example/"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let done: Value = app
        .get(
            &format!("/api/v1/tasks/{}", task["id"].as_str().unwrap()),
            &admin.token,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(done["status"], "completed");
}

#[actix_web::test]
async fn my_tasks_groups_overdue_today_and_upcoming_and_completes_in_one_click() {
    let app = spawn_app().await;
    let admin = app.bootstrap_admin().await;
    let (b, csrf) = signed_in(&app, &admin).await;
    let empty = page_text(&b, &app.url("/tasks/mine")).await;
    assert!(empty.contains("Nothing overdue.") && empty.contains("Nothing due today."));

    let mut ids = Vec::new();
    for (title, days) in [
        ("Chase the invoice", -2),
        ("Call Jo back", 0),
        ("Send the deck", 3),
    ] {
        let due = days_from_now(days);
        let task = create(
            &app,
            &admin,
            "/api/v1/tasks",
            json!({"title": title, "due_at": due}),
        )
        .await;
        ids.push(task["id"].as_str().unwrap().to_owned());
    }
    let html = page_text(&b, &app.url("/tasks/mine")).await;
    let section = |name: &str| {
        let start = html.find(&format!("aria-label=\"{name}\"")).unwrap();
        let end = html[start..].find("</section>").unwrap();
        html[start..start + end].to_owned()
    };
    assert!(section("Overdue").contains("Chase the invoice"));
    assert!(
        section("Today").contains("Call Jo back") || section("Overdue").contains("Call Jo back")
    );
    assert!(section("Upcoming").contains("Send the deck"));

    let (status, location, _) = post_form(
        &b,
        &app.url(&format!("/tasks/{}/complete", ids[2])),
        &[
            ("csrf_token", &csrf),
            ("version", "1"),
            ("back", "/tasks/mine"),
        ],
    )
    .await;
    assert_eq!(
        (status, location.as_str()),
        (StatusCode::SEE_OTHER, "/tasks/mine")
    );
    let after = page_text(&b, &app.url("/tasks/mine")).await;
    assert!(!after.contains("Send the deck") && after.contains("Task completed."));
}

/// Now plus `days`, as RFC 3339 UTC.
fn days_from_now(days: i64) -> String {
    (time::OffsetDateTime::now_utc() + time::Duration::days(days))
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap()
}

#[actix_web::test]
async fn export_buttons_carry_the_view_and_show_only_for_roles_that_may_export() {
    let app = spawn_app().await;
    let admin = app.bootstrap_admin().await;
    let sales = app.user(&admin, "sales").await;
    create(
        &app,
        &admin,
        "/api/v1/customers",
        json!({"name": "Acme", "segment": "SMB"}),
    )
    .await;
    create(
        &app,
        &admin,
        "/api/v1/customers",
        json!({"name": "Globex", "segment": "Enterprise"}),
    )
    .await;
    let (b, _) = signed_in(&app, &admin).await;
    let page = page_text(
        &b,
        &app.url("/customers?segment=SMB&sort=name&order=asc&limit=1"),
    )
    .await;
    let href = "/api/v1/exports/customers.csv?segment=SMB&amp;sort=name&amp;order=asc";
    assert!(
        page.contains(href),
        "the export keeps the filters and drops the paging"
    );
    let csv = b
        .get(app.url(&href.replace("&amp;", "&")))
        .send()
        .await
        .unwrap();
    assert_eq!(csv.status(), StatusCode::OK);
    let text = csv.text().await.unwrap();
    assert!(text.contains("Acme") && !text.contains("Globex"));

    let (s, _) = signed_in(&app, &sales).await;
    for path in ["/customers", "/contacts", "/leads", "/tasks"] {
        assert!(
            !page_text(&s, &app.url(path)).await.contains("Export CSV"),
            "{path}"
        );
    }
}
