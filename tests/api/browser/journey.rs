//! A first admin's setup, and a salesperson's first minutes, through the pages.

use fantoccini::Locator;
use serde_json::json;

use super::{Browser, click, fill, js, press, shot, sign_in, submit, wait_text};
use crate::helpers::{PASSWORD, spawn_app};

#[actix_web::test]
async fn first_admin_signs_up_out_and_in_again() {
    let app = spawn_app().await;
    let browser = Browser::start().await;
    let c = browser.client();
    let setup = app.url(&format!(
        "/setup?token={}",
        app.setup_token.clone().unwrap()
    ));

    c.goto(&setup).await.unwrap();
    wait_text(c, "h1", |t| t == "Set up Rapport").await;
    // The name field has focus, so a person can type straight away.
    let focused = c
        .execute("return document.activeElement.name", vec![])
        .await
        .unwrap();
    assert_eq!(focused, "name");

    // A mistake is explained next to the field and what was typed stays.
    fill(c, "#f-name", "Ada Lovelace").await;
    fill(c, "#f-email", "ada@example.com").await;
    fill(c, "#f-password", PASSWORD).await;
    fill(c, "#f-confirm", "something else").await;
    submit(c).await;
    wait_text(c, "#f-confirm-error", |t| t.contains("does not match")).await;
    let kept = c
        .find(Locator::Css("#f-email"))
        .await
        .unwrap()
        .prop("value")
        .await
        .unwrap();
    assert_eq!(kept.as_deref(), Some("ada@example.com"));

    fill(c, "#f-password", PASSWORD).await;
    fill(c, "#f-confirm", PASSWORD).await;
    submit(c).await;
    wait_text(c, "main h1", |t| t == "Hello, Ada").await;
    wait_text(c, ".flash", |t| t.contains("Welcome to Rapport")).await;

    // Under the page's strict CSP the stylesheet applied and the script ran.
    let styled = c
        .execute(
            "return getComputedStyle(document.querySelector('.topbar')).display",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(styled, "flex");
    let scripted = c
        .execute("return typeof window.rapportFetch", vec![])
        .await
        .unwrap();
    assert_eq!(scripted, "function");
    if let Ok(dir) = std::env::var("RAPPORT_SCREENSHOTS") {
        std::fs::write(format!("{dir}/home.png"), c.screenshot().await.unwrap()).unwrap();
    }

    // Sign out from the user menu.
    c.find(Locator::Css(".usermenu summary"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.find(Locator::Css(".usermenu button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_text(c, ".flash", |t| t.contains("You are signed out.")).await;
    wait_text(c, "h1", |t| t == "Sign in").await;

    // A wrong password keeps the e-mail; the right one lands on the page asked for.
    c.goto(&app.url("/profile")).await.unwrap();
    wait_text(c, "h1", |t| t == "Sign in").await;
    fill(c, "#f-email", "ada@example.com").await;
    fill(c, "#f-password", "not my password").await;
    submit(c).await;
    wait_text(c, ".alert", |t| t.contains("Wrong e-mail or password.")).await;
    fill(c, "#f-password", PASSWORD).await;
    submit(c).await;
    wait_text(c, "main h1", |t| t == "Profile").await;
    if let Ok(dir) = std::env::var("RAPPORT_SCREENSHOTS") {
        std::fs::write(format!("{dir}/profile.png"), c.screenshot().await.unwrap()).unwrap();
    }
    browser.close().await;
}

/// A salesperson's first minutes: add a customer (after a mistake), log a call on it, open a
/// lead for it and move the lead along; then the shortcuts and a phone-width pass.
#[actix_web::test]
async fn a_customer_a_call_and_a_lead_through_the_pages() {
    let app = spawn_app().await;
    let admin = app.bootstrap_admin().await;
    let browser = Browser::start().await;
    let c = browser.client();

    sign_in(c, &app, "/customers", "admin@example.com", PASSWORD).await;
    wait_text(c, ".empty-state .title", |t| t == "No customers yet.").await;
    shot(c, "customers-empty").await;

    click(c, ".empty-state a.primary").await;
    wait_text(c, "main h1", |t| t == "New customer").await;
    fill(c, "#f-domain", "acme-robotics.example").await;
    submit(c).await;
    wait_text(c, "#f-name-error", |t| t.contains("Name is required")).await;
    shot(c, "customer-form-error").await;
    let kept = c
        .find(Locator::Css("#f-domain"))
        .await
        .unwrap()
        .prop("value")
        .await
        .unwrap();
    assert_eq!(kept.as_deref(), Some("acme-robotics.example"));
    fill(c, "#f-name", "Acme Robotics").await;
    submit(c).await;
    wait_text(c, "main h1", |t| t.starts_with("Acme Robotics")).await;
    wait_text(c, ".flash", |t| t == "Created.").await;

    // Log a call in the composer; it shows on the timeline.
    c.find(Locator::Css(".composer select[name=kind]"))
        .await
        .unwrap()
        .select_by_value("call")
        .await
        .unwrap();
    fill(
        c,
        ".composer textarea[name=body]",
        "Discussed the renewal with Jo",
    )
    .await;
    click(c, ".composer button[type=submit]").await;
    wait_text(c, ".flash", |t| t.contains("Logged")).await;
    wait_text(c, "ol.timeline", |t| {
        t.contains("Discussed the renewal with Jo")
    })
    .await;
    // Attach a file: the upload goes to the API with the CSRF header from app.js.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("quote.txt");
    std::fs::write(&file, "Quote: 12 seats\n").unwrap();
    c.find(Locator::Css("form.upload input[type=file]"))
        .await
        .unwrap()
        .send_keys(&file.display().to_string())
        .await
        .unwrap();
    click(c, "form.upload button[type=submit]").await;
    wait_text(c, "ul.files", |t| t.contains("quote.txt")).await;
    shot(c, "customer").await;

    // A lead for this customer, then a stage move; a lost stage asks for the reason.
    click(c, "a[href^='/leads/new?customer_id=']").await;
    wait_text(c, "main h1", |t| t == "New lead for Acme Robotics").await;
    fill(c, "#f-title", "Renewal 2027").await;
    fill(c, "#f-value", "12,000").await;
    submit(c).await;
    wait_text(c, "main h1", |t| t.starts_with("Renewal 2027")).await;
    let reason_hidden = "return document.querySelector('#f-lost_reason').closest('.field').hidden";
    assert_eq!(js(c, reason_hidden).await, json!(true));
    let stage = c
        .find(Locator::Css(".stageform select[name=stage]"))
        .await
        .unwrap();
    stage.select_by_value("lost").await.unwrap();
    assert_eq!(
        js(c, reason_hidden).await,
        json!(false),
        "a lost stage asks for the reason"
    );
    stage.select_by_value("qualified").await.unwrap();
    click(c, ".stageform button[type=submit]").await;
    wait_text(c, ".flash", |t| t == "Stage updated.").await;
    wait_text(c, "main h1 .badge", |t| t == "Qualified").await;
    wait_text(c, "ol.timeline", |t| t.contains("Qualified")).await;
    wait_text(c, "dl.facts", |t| t.contains("12,000.00")).await;
    shot(c, "lead").await;

    // On the board, dropping the card on another column moves it.
    c.goto(&app.url("/leads/board")).await.unwrap();
    wait_text(c, ".column[data-stage=qualified]", |t| {
        t.contains("Renewal 2027")
    })
    .await;
    shot(c, "board").await;
    js(
        c,
        "const card = document.querySelector('.column[data-stage=qualified] .leadcard'); \
         const target = document.querySelector('.column[data-stage=proposal] ol'); \
         const dt = new DataTransfer(); \
         card.dispatchEvent(new DragEvent('dragstart', {bubbles: true, dataTransfer: dt})); \
         target.dispatchEvent(new DragEvent('dragover', {bubbles: true, cancelable: true, dataTransfer: dt})); \
         target.dispatchEvent(new DragEvent('drop', {bubbles: true, cancelable: true, dataTransfer: dt})); \
         return true;",
    )
    .await;
    wait_text(c, ".flash", |t| t == "Stage updated.").await;
    wait_text(c, ".column[data-stage=proposal]", |t| {
        t.contains("Renewal 2027")
    })
    .await;

    // `/` focuses the search, `?` opens the shortcuts; suggestions come as you type.
    c.find(Locator::Css("main h1"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    press(c, '/').await;
    assert_eq!(
        js(c, "return document.activeElement.id").await,
        json!("global-search")
    );
    fill(c, "#global-search", "acme").await;
    wait_text(c, "#search-suggestions", |t| t.contains("Acme Robotics")).await;
    c.find(Locator::Css("main h1"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    press(c, '?').await;
    assert_eq!(
        js(
            c,
            "return document.querySelector('#help').matches(':popover-open')"
        )
        .await,
        json!(true)
    );
    shot(c, "help").await;

    // A colleague assigns a task: the bell counts it without a reload (SSE).
    press(c, '?').await;
    assert_eq!(
        js(c, "return document.querySelector('[data-unread]').hidden").await,
        json!(true)
    );
    let sales = app.user(&admin, "sales").await;
    let res = app
        .post(
            "/api/v1/tasks",
            &sales.token,
            json!({"title": "Review the contract", "assigned_to": admin.id}),
        )
        .await;
    assert_eq!(res.status(), reqwest::StatusCode::CREATED);
    wait_text(c, "[data-unread]", |t| t == "1").await;
    let label = c
        .find(Locator::Css("[data-bell]"))
        .await
        .unwrap()
        .attr("aria-label")
        .await
        .unwrap();
    assert_eq!(label.as_deref(), Some("Notifications, 1 unread"));
    click(c, "[data-bell]").await;
    wait_text(c, "ul.notifications", |t| t.contains("Review the contract")).await;
    shot(c, "notifications").await;

    // At phone width nothing scrolls sideways.
    c.set_window_size(375, 812).await.unwrap();
    for path in [
        "/customers",
        "/leads",
        "/leads/board",
        "/tasks/mine",
        "/contacts",
        "/notifications",
    ] {
        c.goto(&app.url(path)).await.unwrap();
        wait_text(c, "main h1", |t| !t.is_empty()).await;
        let wide = js(
            c,
            "return document.documentElement.scrollWidth - window.innerWidth",
        )
        .await;
        if wide.as_i64().unwrap_or(1) > 0 {
            // Name what sticks out, so the failure says what to fix.
            let culprits = js(c, "return [...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > window.innerWidth + 1).slice(0, 8).map(e => e.tagName + '.' + e.className).join(', ')").await;
            panic!("{path} overflows by {wide}px at 375px: {culprits}");
        }
    }
    c.goto(&app.url("/customers")).await.unwrap();
    wait_text(c, "table.list", |t| t.contains("Acme Robotics")).await;
    shot(c, "customers-phone").await;
    c.goto(&app.url("/tasks/mine")).await.unwrap();
    wait_text(c, "main h1", |t| t == "My tasks").await;
    shot(c, "my-tasks-phone").await;
    browser.close().await;
}
