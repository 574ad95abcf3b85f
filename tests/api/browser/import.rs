//! A manager's data work through the pages: a CSV import with one bad row (upload, the
//! suggested columns, the preview naming the bad row, the import, the error CSV), and
//! merging two duplicate contacts.

use fantoccini::{Client, Locator};
use serde_json::json;

use super::{Browser, click, js, shot, sign_in, submit, wait_text};
use crate::helpers::{PASSWORD, spawn_app};

/// Fails with what sticks out when the page scrolls sideways at the current width (the
/// width inside any scroll bar).
async fn fits(c: &Client, what: &str) {
    let wide = js(
        c,
        "return document.documentElement.scrollWidth - document.documentElement.clientWidth",
    )
    .await;
    if wide.as_i64().unwrap_or(1) > 0 {
        let culprits = js(c, "const w = document.documentElement.clientWidth; return [...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > w + 0.5).slice(0, 8).map(e => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right)).join(', ')").await;
        panic!("{what} overflows by {wide}px: {culprits}");
    }
}

#[actix_web::test]
async fn a_csv_import_with_one_bad_row() {
    let app = spawn_app().await;
    app.bootstrap_admin().await;
    let browser = Browser::start().await;
    let c = browser.client();

    // A new team finds the import from the empty contacts list.
    sign_in(c, &app, "/contacts", "admin@example.com", PASSWORD).await;
    wait_text(c, ".empty-state .title", |t| t == "No contacts yet.").await;
    click(c, ".empty-state a[href='/import?entity=contacts']").await;
    wait_text(c, "main h1", |t| t == "Import a CSV file").await;
    assert_eq!(
        js(c, "return document.querySelector('#f-entity').value").await,
        json!("contacts")
    );

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("people.csv");
    std::fs::write(
        &file,
        "First Name,Last Name,Email,Company,Favourite colour\n\
         Ada,Lovelace,ada@analytical.example,Analytical Engines,green\n\
         Grace,Hopper,not-an-email,Navy,blue\n\
         Katherine,Johnson,katherine@nasa.example,NASA,red\n",
    )
    .unwrap();
    c.find(Locator::Css("#f-file"))
        .await
        .unwrap()
        .send_keys(&file.display().to_string())
        .await
        .unwrap();
    submit(c).await;

    // The progress view reloads itself until the columns are ready to check.
    wait_text(c, "main h1", |t| t == "Check the columns").await;
    let chosen = js(
        c,
        "return [...document.querySelectorAll('ol.mapping select')].map(s => s.value)",
    )
    .await;
    assert_eq!(
        chosen,
        json!(["first_name", "last_name", "email", "company_name", ""])
    );
    wait_text(c, "ol.mapping", |t| {
        t.contains("e.g. Ada · Grace · Katherine")
    })
    .await;
    shot(c, "import-columns").await;

    // Preview: nothing written, the bad row named by its line.
    submit(c).await;
    wait_text(c, "#preview", |t| {
        t.contains("Nothing has been written yet")
    })
    .await;
    let problems = wait_text(c, "table.errors tbody", |t| !t.is_empty()).await;
    assert!(
        problems.contains('3') && problems.contains("Email"),
        "{problems}"
    );
    wait_text(c, "dl.counts", |t| {
        t.contains("Create\n2") || t.contains("Create 2")
    })
    .await;
    shot(c, "import-preview").await;

    // Import, then the outcome with the error CSV.
    click(c, "button[formaction$='/start']").await;
    wait_text(c, "main h1", |t| t == "Import finished").await;
    wait_text(c, "dl.counts", |t| t.contains("Rows with problems")).await;
    let href = c
        .find(Locator::Css("a[href$='/errors.csv']"))
        .await
        .unwrap()
        .attr("href")
        .await
        .unwrap()
        .unwrap();
    let csv = c
        .execute_async(
            "const done = arguments[arguments.length - 1]; \
             fetch(arguments[0]).then(r => r.text()).then(done, e => done(String(e)));",
            vec![json!(href)],
        )
        .await
        .unwrap();
    let csv = csv.as_str().unwrap();
    assert!(
        csv.starts_with("First Name,Last Name,Email,Company,Favourite colour,Line,Errors")
            && csv.contains("Grace,Hopper,not-an-email,Navy,blue,3,"),
        "{csv}"
    );
    shot(c, "import-done").await;

    click(c, "main a.primary[href='/contacts']").await;
    wait_text(c, "table.list", |t| {
        t.contains("Ada") && t.contains("Katherine") && !t.contains("Grace")
    })
    .await;

    // At phone width the import pages do not scroll sideways.
    c.set_window_size(375, 812).await.unwrap();
    c.goto(&app.url("/import")).await.unwrap();
    wait_text(c, "main h1", |t| t == "Import a CSV file").await;
    fits(c, "/import at 375px").await;
    // The list with its bulk bar (select, assign, export, trash) fits too.
    c.goto(&app.url("/contacts")).await.unwrap();
    wait_text(c, "#bulk", |t| t.contains("Export selected")).await;
    fits(c, "/contacts with the bulk bar at 375px").await;
    shot(c, "contacts-bulk-phone").await;
    browser.close().await;
}

#[actix_web::test]
async fn two_duplicate_contacts_are_merged_from_the_page() {
    let app = spawn_app().await;
    let admin = app.bootstrap_admin().await;
    let mut ids = Vec::new();
    for (first, phone) in [("Jo", None), ("Joanna", Some("+1 555 0100"))] {
        let res = app
            .post(
                "/api/v1/contacts",
                &admin.token,
                json!({"first_name": first, "last_name": "Park", "email": "jo@acme.example", "phone": phone}),
            )
            .await;
        assert_eq!(res.status(), reqwest::StatusCode::CREATED);
        let body: serde_json::Value = res.json().await.unwrap();
        ids.push(body["id"].as_str().unwrap().to_owned());
    }
    let browser = Browser::start().await;
    let c = browser.client();
    sign_in(c, &app, "/duplicates", "admin@example.com", PASSWORD).await;
    wait_text(c, ".dupgroup h2", |t| t == "Same e-mail: jo@acme.example").await;
    // Keep the second one: its radio, then merge (confirming).
    click(c, &format!("input[type=radio][value='{}']", ids[1])).await;
    c.set_window_size(375, 812).await.unwrap();
    fits(c, "/duplicates at 375px").await;
    shot(c, "duplicates-phone").await;
    js(c, "window.confirm = () => true; return true;").await;
    click(c, ".dupgroup button[type=submit]").await;
    wait_text(c, ".flash", |t| t.starts_with("Merged")).await;
    wait_text(c, ".empty-state .title", |t| {
        t == "No likely duplicates among your contacts."
    })
    .await;
    let gone = app
        .get(&format!("/api/v1/contacts/{}", ids[0]), &admin.token)
        .await;
    assert_eq!(gone.status(), reqwest::StatusCode::NOT_FOUND);
    let kept: serde_json::Value = app
        .get(&format!("/api/v1/contacts/{}", ids[1]), &admin.token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(kept["first_name"], "Joanna");
    browser.close().await;
}
