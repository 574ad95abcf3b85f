//! The rest of a salesperson's day through the pages: a contact at a customer, a task for
//! it, and completing that task from My tasks in one click.

use serde_json::json;

use super::{Browser, click, fill, js, sign_in, submit, wait_text};
use crate::helpers::{PASSWORD, spawn_app};

#[actix_web::test]
async fn a_contact_and_a_task_are_added_and_the_task_completed_from_my_tasks() {
    let app = spawn_app().await;
    let admin = app.bootstrap_admin().await;
    app.post(
        "/api/v1/customers",
        &admin.token,
        json!({"name": "Initech"}),
    )
    .await;
    let browser = Browser::start().await;
    let c = browser.client();
    sign_in(c, &app, "/customers", "admin@example.com", PASSWORD).await;
    wait_text(c, "table.list", |t| t.contains("Initech")).await;

    // A contact, added from the customer's page, belongs to it.
    click(c, "table.list a[href^='/customers/']").await;
    wait_text(c, "main h1", |t| t.starts_with("Initech")).await;
    click(c, "a[href^='/contacts/new?customer_id=']").await;
    wait_text(c, "main h1", |t| t == "New contact at Initech").await;
    fill(c, "#f-first_name", "Peter").await;
    fill(c, "#f-last_name", "Gibbons").await;
    fill(c, "#f-email", "not an address").await;
    submit(c).await;
    wait_text(c, "#f-email-error", |t| !t.is_empty()).await;
    fill(c, "#f-email", "peter@initech.example").await;
    submit(c).await;
    wait_text(c, "main h1", |t| t.starts_with("Peter Gibbons")).await;
    wait_text(c, "main", |t| t.contains("Initech")).await;

    // A task; without an assignee it is the author's, so it waits on My tasks.
    c.goto(&app.url("/tasks/new")).await.unwrap();
    wait_text(c, "main h1", |t| t == "New task").await;
    // A double click sends the form once: a second submit within two seconds is dropped.
    // (Synthetic events run the page's handlers without sending the form.)
    let sent = js(
        c,
        "const form = document.querySelector('main form[method=post]');
         const send = () => {
           const event = new SubmitEvent('submit', { bubbles: true, cancelable: true });
           form.dispatchEvent(event);
           return !event.defaultPrevented;
         };
         const sent = [send(), send()];
         delete form.dataset.sentAt;
         return sent;",
    )
    .await;
    assert_eq!(sent, json!([true, false]));
    fill(c, "#f-title", "Send Peter the TPS report").await;
    submit(c).await;
    wait_text(c, ".flash", |t| !t.is_empty()).await;
    c.goto(&app.url("/tasks/mine")).await.unwrap();
    wait_text(c, "main", |t| t.contains("Send Peter the TPS report")).await;
    click(c, "main form[action$='/complete'] button[type=submit]").await;
    wait_text(c, ".flash", |t| t.contains("Task completed")).await;
    wait_text(c, "main", |t| !t.contains("Send Peter the TPS report")).await;

    let tasks: serde_json::Value = app
        .get("/api/v1/tasks?status=completed", &admin.token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(tasks["items"][0]["title"], "Send Peter the TPS report");
    browser.close().await;
}
