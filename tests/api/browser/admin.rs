//! The admin adding a colleague who then signs in, and the dashboard following the
//! pipeline: a lead won a moment ago, and a period picked in the date fields.

use fantoccini::{Client, Locator};
use serde_json::{Value, json};

use super::{Browser, click, fill, js, shot, sign_in, wait_text};
use crate::helpers::{Login, PASSWORD, TestApp, spawn_app};

async fn sign_out(c: &Client) {
    click(c, ".usermenu summary").await;
    click(c, ".usermenu button[type=submit]").await;
    wait_text(c, "h1", |t| t == "Sign in").await;
}

async fn value_of(c: &Client, css: &str) -> String {
    c.find(Locator::Css(css))
        .await
        .unwrap()
        .prop("value")
        .await
        .unwrap()
        .unwrap_or_default()
}

#[actix_web::test]
async fn the_admin_adds_a_user_who_can_then_sign_in() {
    let app = spawn_app().await;
    app.bootstrap_admin().await;
    let browser = Browser::start().await;
    let c = browser.client();

    sign_in(c, &app, "/", "admin@example.com", PASSWORD).await;
    wait_text(c, "main h1", |t| t.starts_with("Hello")).await;
    click(c, "nav.mainnav a[href='/admin']").await;
    wait_text(c, "main h1", |t| t == "Admin").await;
    click(c, "ul.admin-index a[href='/admin/users']").await;
    wait_text(c, "main h1", |t| t == "Users").await;

    click(c, "details.adduser summary").await;
    fill(c, "#f-name", "Grace Hopper").await;
    fill(c, "#f-email", "grace@example.com").await;
    c.find(Locator::Css("#f-role"))
        .await
        .unwrap()
        .select_by_value("manager")
        .await
        .unwrap();
    click(c, "details.adduser button[type=submit]").await;
    wait_text(c, ".secret", |t| t.contains("Grace Hopper can sign in")).await;
    let password = value_of(c, "#new-password").await;
    assert_eq!(password.len(), 20, "a generated password is shown");
    wait_text(c, "table.users", |t| t.contains("grace@example.com")).await;
    shot(c, "admin-users").await;
    for page in ["stages", "audit", "backups"] {
        c.goto(&app.url(&format!("/admin/{page}"))).await.unwrap();
        wait_text(c, "main h1", |t| !t.is_empty()).await;
        shot(c, &format!("admin-{page}")).await;
    }

    // Every admin page fits a 375 px phone without sideways scrolling.
    c.set_window_size(375, 800).await.unwrap();
    for path in [
        "/admin/users",
        "/admin/stages",
        "/admin/audit",
        "/admin/backups",
    ] {
        c.goto(&app.url(path)).await.unwrap();
        wait_text(c, "main h1", |t| !t.is_empty()).await;
        let fits = js(
            c,
            "return document.documentElement.scrollWidth <= window.innerWidth + 1",
        )
        .await;
        assert_eq!(fits, json!(true), "{path} at 375 px");
        shot(c, &format!("admin-phone{}", path.replace('/', "-"))).await;
    }
    c.set_window_size(1280, 900).await.unwrap();
    assert!(
        !c.source().await.unwrap().contains(&password),
        "the password is shown only once"
    );

    sign_out(c).await;
    sign_in(c, &app, "/", "grace@example.com", &password).await;
    wait_text(c, "main h1", |t| t == "Hello, Grace").await;
    let admin_link = js(
        c,
        "return !!document.querySelector(\"nav.mainnav a[href='/admin']\")",
    )
    .await;
    assert_eq!(admin_link, json!(false), "a manager has no Admin entry");
    browser.close().await;
}

async fn create_lead(app: &TestApp, who: &Login, body: Value) -> String {
    let res = app.post("/api/v1/leads", &who.token, body).await;
    assert_eq!(res.status(), 201);
    res.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[actix_web::test]
async fn the_dashboard_shows_a_lead_won_a_moment_ago() {
    let app = spawn_app().await;
    let admin = app.bootstrap_admin().await;
    create_lead(
        &app,
        &admin,
        json!({"title": "Open deal", "value_cents": 5000}),
    )
    .await;
    let browser = Browser::start().await;
    let c = browser.client();
    sign_in(c, &app, "/", "admin@example.com", PASSWORD).await;
    let before = wait_text(c, "[data-kpi=won]", |_| true).await;
    assert_eq!(before, "—", "nothing won yet");

    let id = create_lead(
        &app,
        &admin,
        json!({"title": "Big win", "value_cents": 123_456, "currency": "USD"}),
    )
    .await;
    let res = app
        .post(
            &format!("/api/v1/leads/{id}/stage"),
            &admin.token,
            json!({"stage": "won"}),
        )
        .await;
    assert_eq!(res.status(), 200);

    c.refresh().await.unwrap();
    wait_text(c, "[data-kpi=won]", |t| t == "USD 1,234.56").await;
    wait_text(c, "[data-kpi=win_rate]", |t| t == "100%").await;
    shot(c, "dashboard-won").await;
    browser.close().await;
}

#[actix_web::test]
async fn the_date_picker_changes_the_figures() {
    let app = spawn_app().await;
    let admin = app.bootstrap_admin().await;
    for title in ["First", "Second"] {
        create_lead(&app, &admin, json!({"title": title, "value_cents": 1000})).await;
    }
    let browser = Browser::start().await;
    let c = browser.client();
    sign_in(c, &app, "/", "admin@example.com", PASSWORD).await;
    wait_text(c, "[data-kpi=leads_created]", |t| t == "2").await;

    // Typing into a date field depends on the browser's locale; set the values instead.
    js(
        c,
        "document.querySelector('form.filters input[name=from]').value = '2020-01-01'; \
         document.querySelector('form.filters input[name=to]').value = '2020-01-31'; \
         return true;",
    )
    .await;
    click(c, "form.filters button[type=submit]").await;
    wait_text(c, "[data-kpi=leads_created]", |t| t == "0").await;
    let url = c.current_url().await.unwrap();
    let query = url.query().unwrap_or("");
    assert!(
        query.contains("from=2020-01-01") && query.contains("to=2020-01-31"),
        "the URL carries the period: {url}"
    );
    assert_eq!(
        value_of(c, "form.filters input[name=from]").await,
        "2020-01-01",
        "the picker keeps the period"
    );
    shot(c, "dashboard-period").await;

    // Back to a period that holds the leads.
    c.back().await.unwrap();
    wait_text(c, "[data-kpi=leads_created]", |t| t == "2").await;
    browser.close().await;
}
