//! Contact and lead forms: created from their customer's page, edited, and a stale edit
//! that shows the other change instead of overwriting it.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{page_text, post_form, signed_in, spawn_app};

#[actix_web::test]
async fn a_contact_is_added_from_its_company_and_edited() {
    let app = spawn_app().await;
    let admin = app.bootstrap_admin().await;
    let (b, csrf) = signed_in(&app, &admin).await;
    let customer: Value = app
        .post("/api/v1/customers", &admin.token, json!({"name": "Acme"}))
        .await
        .json()
        .await
        .unwrap();
    let cid = customer["id"].as_str().unwrap();
    let page = page_text(&b, &app.url(&format!("/customers/{cid}"))).await;
    assert!(page.contains(&format!("href=\"/contacts/new?customer_id={cid}\"")));
    let form = page_text(&b, &app.url(&format!("/contacts/new?customer_id={cid}"))).await;
    assert!(form.contains("New contact at Acme"));

    let (status, _, html) = post_form(
        &b,
        &app.url("/contacts"),
        &[
            ("csrf_token", &csrf),
            ("customer_id", cid),
            ("first_name", ""),
            ("email", "not-an-email"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("First name is required.") && html.contains("value=\"not-an-email\""));
    assert!(
        html.contains("E-mail "),
        "the e-mail is refused too: {html}"
    );

    let (status, location, _) = post_form(
        &b,
        &app.url("/contacts"),
        &[
            ("csrf_token", &csrf),
            ("customer_id", cid),
            ("first_name", "Jo"),
            ("last_name", "Park"),
            ("email", "jo@acme.example"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let contact = page_text(&b, &app.url(&location)).await;
    assert!(contact.contains("Jo Park") && contact.contains(&format!("href=\"/customers/{cid}\"")));
    assert!(
        page_text(&b, &app.url(&format!("/customers/{cid}")))
            .await
            .contains("Jo Park")
    );

    let edit = app.url(&format!("{location}/edit"));
    let (status, back, _) = post_form(
        &b,
        &edit,
        &[
            ("csrf_token", &csrf),
            ("first_name", "Joanna"),
            ("last_name", "Park"),
            ("version", "1"),
        ],
    )
    .await;
    assert_eq!(
        (status, back.as_str()),
        (StatusCode::SEE_OTHER, location.as_str())
    );
    let saved: Value = app
        .get(&format!("/api/v1{location}"), &admin.token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (saved["first_name"].as_str(), saved["customer_id"].as_str()),
        (Some("Joanna"), Some(cid)),
        "the company stays"
    );

    let (status, _, html) = post_form(
        &b,
        &edit,
        &[
            ("csrf_token", &csrf),
            ("first_name", "Jo"),
            ("version", "1"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(html.contains("Someone else saved this contact") && html.contains("Joanna"));
}

#[actix_web::test]
async fn a_lead_is_edited_and_a_stale_edit_is_refused_with_their_values() {
    let app = spawn_app().await;
    let admin = app.bootstrap_admin().await;
    let (b, csrf) = signed_in(&app, &admin).await;
    let lead: Value = app
        .post(
            "/api/v1/leads",
            &admin.token,
            json!({"title": "Deal", "value_cents": 500_000}),
        )
        .await
        .json()
        .await
        .unwrap();
    let id = lead["id"].as_str().unwrap();
    let form = page_text(&b, &app.url(&format!("/leads/{id}/edit"))).await;
    assert!(
        form.contains("value=\"5000.00\""),
        "the value is shown in major units"
    );

    let edit = app.url(&format!("/leads/{id}/edit"));
    let (status, _, html) = post_form(
        &b,
        &edit,
        &[
            ("csrf_token", &csrf),
            ("title", "Deal"),
            ("value", "lots"),
            ("version", "1"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        html.contains("Value must be an amount like 1200 or 1200.50.")
            && html.contains("value=\"lots\"")
    );

    let (status, _, _) = post_form(
        &b,
        &edit,
        &[
            ("csrf_token", &csrf),
            ("title", "Bigger deal"),
            ("value", "7,500"),
            ("version", "1"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let saved: Value = app
        .get(&format!("/api/v1/leads/{id}"), &admin.token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (saved["title"].as_str(), saved["value_cents"].as_i64()),
        (Some("Bigger deal"), Some(750_000))
    );

    let (status, _, html) = post_form(
        &b,
        &edit,
        &[
            ("csrf_token", &csrf),
            ("title", "Old deal"),
            ("version", "1"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(html.contains("Someone else saved this lead") && html.contains("Bigger deal"));
    let unchanged: Value = app
        .get(&format!("/api/v1/leads/{id}"), &admin.token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(unchanged["title"], "Bigger deal");
}

#[actix_web::test]
async fn a_task_page_links_its_records_and_its_edit_keeps_them() {
    let app = spawn_app().await;
    let admin = app.bootstrap_admin().await;
    let (b, csrf) = signed_in(&app, &admin).await;
    let customer: Value = app
        .post("/api/v1/customers", &admin.token, json!({"name": "Acme"}))
        .await
        .json()
        .await
        .unwrap();
    let cid = customer["id"].as_str().unwrap();
    let back = format!("/customers/{cid}");
    let (status, location, _) = post_form(
        &b,
        &app.url("/tasks"),
        &[
            ("csrf_token", &csrf),
            ("title", "Send <the> quote"),
            ("customer_id", cid),
            ("back", &back),
        ],
    )
    .await;
    assert_eq!(
        (status, location.as_str()),
        (StatusCode::SEE_OTHER, back.as_str())
    );
    let tasks: Value = app
        .get("/api/v1/tasks", &admin.token)
        .await
        .json()
        .await
        .unwrap();
    let id = tasks["items"][0]["id"].as_str().unwrap().to_owned();
    let customer_page = page_text(&b, &app.url(&back)).await;
    assert!(
        customer_page.contains(&format!("href=\"/tasks/{id}\""))
            && customer_page.contains("Send &lt;the&gt; quote")
    );

    let page = page_text(&b, &app.url(&format!("/tasks/{id}"))).await;
    assert!(page.contains(&format!("href=\"/customers/{cid}\"")) && page.contains("Acme"));

    let edit = app.url(&format!("/tasks/{id}/edit"));
    let (status, _, html) = post_form(
        &b,
        &edit,
        &[("csrf_token", &csrf), ("title", ""), ("version", "1")],
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("Task is required."));
    let (status, _, _) = post_form(
        &b,
        &edit,
        &[
            ("csrf_token", &csrf),
            ("title", "Send the quote"),
            ("due", "2031-02-03"),
            ("priority", "high"),
            ("status", "in_progress"),
            ("version", "1"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let saved: Value = app
        .get(&format!("/api/v1/tasks/{id}"), &admin.token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (
            saved["priority"].as_str(),
            saved["status"].as_str(),
            saved["customer_id"].as_str()
        ),
        (Some("high"), Some("in_progress"), Some(cid))
    );

    let (status, _, html) = post_form(
        &b,
        &edit,
        &[("csrf_token", &csrf), ("title", "Stale"), ("version", "1")],
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(html.contains("Someone else saved this task") && html.contains("Send the quote"));
}

#[actix_web::test]
async fn a_lead_is_converted_into_a_customer_and_contact_from_its_page() {
    let app = spawn_app().await;
    let admin = app.bootstrap_admin().await;
    let (b, csrf) = signed_in(&app, &admin).await;
    let lead: Value = app
        .post(
            "/api/v1/leads",
            &admin.token,
            json!({"title": "Pilot", "company_name": "Globex", "contact_name": "Hank Scorpio", "email": "hank@globex.example"}),
        )
        .await
        .json()
        .await
        .unwrap();
    let id = lead["id"].as_str().unwrap();
    let page = page_text(&b, &app.url(&format!("/leads/{id}"))).await;
    assert!(
        page.contains("Convert to customer") && page.contains("Also add Hank Scorpio as a contact")
    );

    let convert = app.url(&format!("/leads/{id}/convert"));
    let (status, _, html) = post_form(
        &b,
        &convert,
        &[
            ("csrf_token", &csrf),
            ("domain", "not a domain"),
            ("create_contact", "true"),
            ("version", "1"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{html}");
    assert!(html.contains("value=\"not a domain\""));

    let (status, location, _) = post_form(
        &b,
        &convert,
        &[
            ("csrf_token", &csrf),
            ("create_contact", "true"),
            ("version", "1"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(location.starts_with("/customers/"));
    let customer = page_text(&b, &app.url(&location)).await;
    assert!(customer.contains("Lead converted") && customer.contains("Globex"));
    assert!(customer.contains("Hank Scorpio") && customer.contains("Pilot"));
    let after = page_text(&b, &app.url(&format!("/leads/{id}"))).await;
    assert!(
        !after.contains("Convert to customer"),
        "a converted lead offers no second conversion"
    );
}

#[actix_web::test]
async fn the_board_shows_a_column_per_stage_and_moves_cards_without_javascript() {
    let app = spawn_app().await;
    let admin = app.bootstrap_admin().await;
    let support = app.user(&admin, "support").await;
    for (title, cents) in [("First deal", 100_000), ("Second deal", 250_050)] {
        app.post(
            "/api/v1/leads",
            &admin.token,
            json!({"title": title, "value_cents": cents}),
        )
        .await;
    }
    let (b, csrf) = signed_in(&app, &admin).await;
    let board = page_text(&b, &app.url("/leads/board")).await;
    for stage in ["New", "Contacted", "Qualified", "Proposal", "Won", "Lost"] {
        assert!(
            board.contains(&format!("aria-label=\"{stage}\"")),
            "a column for {stage}"
        );
    }
    assert!(board.contains("3,500.50 USD"), "the column's total");
    let leads: Value = app
        .get("/api/v1/leads", &admin.token)
        .await
        .json()
        .await
        .unwrap();
    let id = leads["items"][0]["id"].as_str().unwrap();

    let stage = app.url(&format!("/leads/{id}/stage"));
    let move_to = |to: &'static str, reason: &'static str| {
        [
            ("csrf_token", csrf.clone()),
            ("stage", to.into()),
            ("lost_reason", reason.into()),
            ("version", "1".into()),
            ("back", "/leads/board".into()),
        ]
    };
    let (status, _, html) = post_form(
        &b,
        &stage,
        &move_to("lost", "")
            .each_ref()
            .map(|(k, v)| (*k, v.as_str())),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "a lost stage needs its reason"
    );
    assert!(html.contains("Reason lost is required"));
    let (status, location, _) = post_form(
        &b,
        &stage,
        &move_to("won", "").each_ref().map(|(k, v)| (*k, v.as_str())),
    )
    .await;
    assert_eq!(
        (status, location.as_str()),
        (StatusCode::SEE_OTHER, "/leads/board")
    );
    let moved: Value = app
        .get(&format!("/api/v1/leads/{id}"), &admin.token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(moved["stage"], "won");

    let (s, _) = signed_in(&app, &support).await;
    let theirs = page_text(&s, &app.url("/leads/board")).await;
    assert!(
        theirs.contains("First deal") && !theirs.contains("USD"),
        "support sees cards, never values"
    );
}

/// A list page shows 20 rows and a link to the next page, unless the URL asks for more.
#[actix_web::test]
async fn a_list_page_shows_20_rows_unless_the_url_asks_for_more() {
    let app = spawn_app().await;
    let admin = app.bootstrap_admin().await;
    for n in 0..30 {
        app.post(
            "/api/v1/customers",
            &admin.token,
            json!({"name": format!("Company {n:02}")}),
        )
        .await;
    }
    let (b, _) = signed_in(&app, &admin).await;
    let rows = |html: &str| html.matches("name=\"ids\"").count();
    let first = page_text(&b, &app.url("/customers")).await;
    assert_eq!(rows(&first), 20);
    assert!(first.contains("Next page"));
    let all = page_text(&b, &app.url("/customers?limit=50")).await;
    assert_eq!(rows(&all), 30);
    assert!(!all.contains("Next page"));
}

/// A column shows its first 50 cards, and above them the stage's exact count and value.
#[actix_web::test]
async fn the_board_counts_and_sums_every_lead_of_a_stage_not_just_the_shown_cards() {
    let app = spawn_app().await;
    let admin = app.bootstrap_admin().await;
    for n in 0..52 {
        app.post(
            "/api/v1/leads",
            &admin.token,
            json!({"title": format!("Deal {n}"), "value_cents": 1_000}),
        )
        .await;
    }
    app.post(
        "/api/v1/leads",
        &admin.token,
        json!({"title": "Euro deal", "value_cents": 500, "currency": "EUR"}),
    )
    .await;
    let (b, _) = signed_in(&app, &admin).await;
    let board = page_text(&b, &app.url("/leads/board")).await;
    assert!(board.contains(">53</span>"), "the exact count");
    assert!(
        board.contains("520.00 USD + 5.00 EUR"),
        "the exact value per currency, base first"
    );
    assert!(board.contains("All 53 New leads"));
    assert_eq!(
        board.matches("class=\"leadcard").count(),
        50,
        "50 cards shown"
    );
}

#[actix_web::test]
async fn a_customer_goes_to_the_trash_with_its_people_and_comes_back_with_them() {
    let app = spawn_app().await;
    let admin = app.bootstrap_admin().await;
    let sales = app.user(&admin, "sales").await;
    let (b, csrf) = signed_in(&app, &admin).await;
    let customer: Value = app
        .post("/api/v1/customers", &admin.token, json!({"name": "Acme"}))
        .await
        .json()
        .await
        .unwrap();
    let cid = customer["id"].as_str().unwrap();
    app.post(
        "/api/v1/contacts",
        &admin.token,
        json!({"first_name": "Jo", "customer_id": cid}),
    )
    .await;
    let page = page_text(&b, &app.url(&format!("/customers/{cid}"))).await;
    assert!(page.contains("Move to trash") && page.contains("data-confirm="));

    let (s, s_csrf) = signed_in(&app, &sales).await;
    let (status, _, _) = post_form(
        &s,
        &app.url(&format!("/customers/{cid}/delete")),
        &[("csrf_token", &s_csrf), ("version", "1")],
    )
    .await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "sales may not trash what they do not own"
    );

    let (status, location, _) = post_form(
        &b,
        &app.url(&format!("/customers/{cid}/delete")),
        &[("csrf_token", &csrf), ("version", "1")],
    )
    .await;
    assert_eq!(
        (status, location.as_str()),
        (StatusCode::SEE_OTHER, "/customers")
    );
    assert_eq!(
        b.get(app.url(&format!("/customers/{cid}")))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::NOT_FOUND
    );
    assert!(
        page_text(&b, &app.url("/customers"))
            .await
            .contains("Moved to the trash.")
    );
    let trash = page_text(&b, &app.url("/trash?entity=customers")).await;
    assert!(trash.contains("Acme") && trash.contains(&format!("/trash/customers/{cid}/restore")));
    assert!(
        page_text(&b, &app.url("/trash?entity=contacts"))
            .await
            .contains("Jo")
    );

    let (status, location, _) = post_form(
        &b,
        &app.url(&format!("/trash/customers/{cid}/restore")),
        &[("csrf_token", &csrf)],
    )
    .await;
    assert_eq!(
        (status, location),
        (StatusCode::SEE_OTHER, format!("/customers/{cid}"))
    );
    let back = page_text(&b, &app.url(&format!("/customers/{cid}"))).await;
    assert!(
        back.contains("Restored from the trash.") && back.contains("Jo"),
        "its contact came back too"
    );
}

#[actix_web::test]
async fn files_are_listed_on_their_record_and_deleted_from_it() {
    let app = spawn_app().await;
    let admin = app.bootstrap_admin().await;
    let (b, csrf) = signed_in(&app, &admin).await;
    let customer: Value = app
        .post("/api/v1/customers", &admin.token, json!({"name": "Acme"}))
        .await
        .json()
        .await
        .unwrap();
    let cid = customer["id"].as_str().unwrap();
    let form = reqwest::multipart::Form::new()
        .text("entity_type", "customer")
        .text("entity_id", cid.to_owned())
        .part(
            "file",
            reqwest::multipart::Part::bytes(b"hello".to_vec())
                .file_name("<img src=x onerror=alert(1)>.txt"),
        );
    let res = app
        .client
        .post(app.url("/api/v1/attachments"))
        .bearer_auth(&admin.token)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let file: Value = res.json().await.unwrap();
    let fid = file["id"].as_str().unwrap();

    let page = page_text(&b, &app.url(&format!("/customers/{cid}"))).await;
    assert!(page.contains(&format!("href=\"/api/v1/attachments/{fid}\"")));
    let stored = file["filename"].as_str().unwrap();
    assert!(
        stored.contains('<'),
        "the test needs markup in the kept name: {stored}"
    );
    let escaped = stored
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;");
    assert!(
        page.contains(&escaped) && !page.contains(stored),
        "names are escaped: {stored}"
    );
    let download = b
        .get(app.url(&format!("/api/v1/attachments/{fid}")))
        .send()
        .await
        .unwrap();
    assert_eq!(
        download.status(),
        StatusCode::OK,
        "the signed-in browser downloads it"
    );

    let back = format!("/customers/{cid}");
    let (status, location, _) = post_form(
        &b,
        &app.url(&format!("/attachments/{fid}/delete")),
        &[("csrf_token", &csrf), ("back", &back)],
    )
    .await;
    assert_eq!(
        (status, location),
        (StatusCode::SEE_OTHER, format!("{back}#files"))
    );
    assert!(
        page_text(&b, &app.url(&back))
            .await
            .contains("No files yet.")
    );
}

#[actix_web::test]
async fn a_long_timeline_pages_to_older_entries() {
    let app = spawn_app().await;
    let admin = app.bootstrap_admin().await;
    let (b, _) = signed_in(&app, &admin).await;
    let customer: Value = app
        .post("/api/v1/customers", &admin.token, json!({"name": "Acme"}))
        .await
        .json()
        .await
        .unwrap();
    let cid = customer["id"].as_str().unwrap();
    for n in 0..52 {
        let at = format!("2026-01-01T10:{n:02}:00Z");
        let res = app
            .post(
                "/api/v1/activities",
                &admin.token,
                json!({"subject_type": "customer", "subject_id": cid, "kind": "note", "body": format!("Note number {n:02}"), "occurred_at": at}),
            )
            .await;
        assert_eq!(res.status(), StatusCode::CREATED);
    }
    let first = page_text(&b, &app.url(&format!("/customers/{cid}"))).await;
    assert!(first.contains("Note number 51") && !first.contains("Note number 00"));
    let marker = format!("href=\"/customers/{cid}?timeline=");
    let start = first.find(&marker).expect("an older-entries link") + "href=\"".len();
    let href = first[start..start + first[start..].find('"').unwrap()].replace("&amp;", "&");
    let older = page_text(&b, &app.url(&href)).await;
    assert!(older.contains("Note number 00") && !older.contains("Note number 51"));
}

#[actix_web::test]
async fn managers_move_selected_rows_to_the_trash_and_others_get_no_select_boxes() {
    let app = spawn_app().await;
    let admin = app.bootstrap_admin().await;
    let manager = app.user(&admin, "manager").await;
    let sales = app.user(&admin, "sales").await;
    let mut ids = Vec::new();
    for title in ["One", "Two", "Three"] {
        let lead: Value = app
            .post("/api/v1/leads", &sales.token, json!({"title": title}))
            .await
            .json()
            .await
            .unwrap();
        ids.push(lead["id"].as_str().unwrap().to_owned());
    }
    let (s, s_csrf) = signed_in(&app, &sales).await;
    assert!(
        !page_text(&s, &app.url("/leads"))
            .await
            .contains("form=\"bulk\"")
    );
    let (status, _, _) = post_form(
        &s,
        &app.url("/leads/bulk-delete"),
        &[("csrf_token", &s_csrf), ("ids", &ids[0])],
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    let (m, csrf) = signed_in(&app, &manager).await;
    let list = page_text(&m, &app.url("/leads")).await;
    assert!(
        list.contains("action=\"/leads/bulk-delete\"")
            && list.contains(&format!("value=\"{}\" form=\"bulk\"", ids[0]))
    );
    let (status, location, _) = post_form(
        &m,
        &app.url("/leads/bulk-delete"),
        &[
            ("csrf_token", &csrf),
            ("ids", &ids[0]),
            ("ids", &ids[2]),
            ("back", "/leads?sort=title"),
        ],
    )
    .await;
    assert_eq!(
        (status, location.as_str()),
        (StatusCode::SEE_OTHER, "/leads?sort=title")
    );
    let left = page_text(&m, &app.url("/leads")).await;
    assert!(left.contains("Two") && !left.contains(">One<") && !left.contains(">Three<"));
}
