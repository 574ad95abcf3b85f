//! `POST /api/v1/leads/{id}/convert`: a prospect lead becomes a customer and a contact.

use reqwest::{Method, Response, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{Login, TestApp, assert_problem, error_fields, spawn_app};

async fn create(app: &TestApp, who: &Login, entity: &str, body: Value) -> Value {
    let res = app
        .post(&format!("/api/v1/{entity}"), &who.token, body)
        .await;
    assert_eq!(res.status(), StatusCode::CREATED, "create {entity}");
    res.json().await.unwrap()
}

fn id(record: &Value) -> String {
    record["id"].as_str().unwrap().to_owned()
}

/// Converts with `body`, or with no body at all (and no content type) when `None`.
async fn convert(app: &TestApp, who: &Login, lead_id: &str, body: Option<Value>) -> Response {
    let rb = app.request(
        Method::POST,
        &format!("/api/v1/leads/{lead_id}/convert"),
        Some(&who.token),
    );
    match body {
        Some(body) => rb.json(&body),
        None => rb,
    }
    .send()
    .await
    .unwrap()
}

async fn converted(res: Response) -> Value {
    assert_eq!(res.status(), StatusCode::OK, "status of {}", res.url());
    res.json().await.unwrap()
}

async fn get(app: &TestApp, who: &Login, path: &str) -> Value {
    let res = app.get(path, &who.token).await;
    assert_eq!(res.status(), StatusCode::OK, "GET {path}");
    res.json().await.unwrap()
}

/// The names of all live customers.
async fn customer_names(app: &TestApp, admin: &Login) -> Vec<String> {
    let page = get(
        app,
        admin,
        "/api/v1/customers?sort=name&order=asc&limit=200",
    )
    .await;
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap().to_owned())
        .collect()
}

/// The audit entries about one record, newest first.
async fn audit(app: &TestApp, admin: &Login, entity_id: &str) -> Vec<Value> {
    let page = get(
        app,
        admin,
        &format!("/api/v1/audit?entity_id={entity_id}&limit=200"),
    )
    .await;
    page["items"].as_array().unwrap().clone()
}

async fn actions(app: &TestApp, admin: &Login, entity_id: &str) -> Vec<String> {
    audit(app, admin, entity_id)
        .await
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_owned())
        .collect()
}

fn assert_check_passes(app: &TestApp) {
    let out = app.cli(&["check"], None);
    assert!(
        out.status.success(),
        "rapport check: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[actix_web::test]
async fn a_prospect_becomes_a_customer_and_a_contact() {
    let app = spawn_app().await;
    let admin = app.bootstrap_admin().await;
    let rep = app.user(&admin, "sales").await;
    let lead = create(
        &app,
        &rep,
        "leads",
        json!({"title": "Widgets", "value_cents": 5000, "stage": "qualified",
               "company_name": "Acme Widgets", "contact_name": "Jane van Dyke",
               "email": "Jane@Acme-Widgets.com", "phone": "+1 555 0100"}),
    )
    .await;
    let lead_id = id(&lead);

    // No body and no content type: every default.
    let res = convert(&app, &rep, &lead_id, None).await;
    assert_eq!(res.headers()["etag"], "\"2\"");
    let out = converted(res).await;
    assert_eq!(
        (&out["customer_created"], &out["contact_created"]),
        (&json!(true), &json!(true))
    );

    let customer = &out["customer"];
    assert_eq!(customer["name"], "Acme Widgets");
    assert_eq!(
        customer["domain"], "acme-widgets.com",
        "taken from the e-mail"
    );
    assert_eq!(customer["owner_id"], rep.id.as_str());
    assert_eq!(customer["created_by"], rep.id.as_str());

    let contact = &out["contact"];
    assert_eq!(contact["first_name"], "Jane van");
    assert_eq!(contact["last_name"], "Dyke");
    assert_eq!(contact["email"], "jane@acme-widgets.com");
    assert_eq!(contact["phone"], "+1 555 0100");
    assert_eq!(contact["customer_id"], customer["id"]);
    assert_eq!(contact["owner_id"], rep.id.as_str());

    let converted_lead = &out["lead"];
    assert_eq!(converted_lead["customer_id"], customer["id"]);
    assert_eq!(converted_lead["contact_id"], contact["id"]);
    for field in ["company_name", "contact_name", "email", "phone"] {
        assert!(converted_lead[field].is_null(), "{field} cleared");
    }
    assert_eq!(converted_lead["version"], 2);
    assert_eq!(converted_lead["stage"], "qualified", "the stage stays");
    assert_eq!(converted_lead["value_cents"], 5000);
    assert_ne!(converted_lead["updated_at"], lead["updated_at"]);
    assert_eq!(
        &get(&app, &rep, &format!("/api/v1/leads/{lead_id}")).await,
        converted_lead
    );

    // Audited: the lead's change with the prospect text it had, and both creations.
    let entries = audit(&app, &admin, &lead_id).await;
    assert_eq!(entries[0]["action"], "lead.convert");
    assert_eq!(entries[0]["actor_id"], rep.id.as_str());
    assert_eq!(entries[0]["before"]["company_name"], "Acme Widgets");
    assert_eq!(entries[0]["before"]["email"], "jane@acme-widgets.com");
    assert!(entries[0]["before"]["customer_id"].is_null());
    assert_eq!(entries[0]["after"]["customer_id"], customer["id"]);
    assert_eq!(entries[0]["after"]["contact_id"], contact["id"]);
    assert_eq!(entries.len(), 2, "lead.create and lead.convert");
    assert_eq!(
        actions(&app, &admin, &id(customer)).await,
        ["customer.create"]
    );
    assert_eq!(
        actions(&app, &admin, &id(contact)).await,
        ["contact.create"]
    );

    // Once is enough.
    let again = assert_problem(convert(&app, &rep, &lead_id, None).await, 409).await;
    assert!(
        again["detail"]
            .as_str()
            .unwrap()
            .contains("already converted")
    );

    // A manager converting a rep's lead gives the new records to the rep.
    let manager = app.user(&admin, "manager").await;
    let assigned = create(
        &app,
        &manager,
        "leads",
        json!({"title": "Handed over", "assigned_to": rep.id,
               "company_name": "Initrode", "contact_name": "Bill"}),
    )
    .await;
    let out = converted(convert(&app, &manager, &id(&assigned), Some(json!({}))).await).await;
    assert_eq!(out["customer"]["owner_id"], rep.id.as_str());
    assert_eq!(out["customer"]["created_by"], manager.id.as_str());
    assert!(out["customer"]["domain"].is_null(), "no e-mail, no domain");
    assert_eq!(out["contact"]["owner_id"], rep.id.as_str());
    assert_eq!(out["contact"]["first_name"], "Bill");
    assert!(out["contact"]["last_name"].is_null());

    assert_check_passes(&app);
}

#[actix_web::test]
async fn customers_are_reused_by_domain_and_contacts_by_email() {
    let app = spawn_app().await;
    let admin = app.bootstrap_admin().await;
    let rep = app.user(&admin, "sales").await;
    let globex = create(
        &app,
        &admin,
        "customers",
        json!({"name": "Globex", "domain": "https://www.Globex.com/about"}),
    )
    .await;
    assert_eq!(globex["domain"], "globex.com");
    let hank = create(
        &app,
        &admin,
        "contacts",
        json!({"first_name": "Hank", "last_name": "Scorpio", "email": "hank@globex.com",
               "customer_id": id(&globex)}),
    )
    .await;

    // Same domain from the e-mail, same address: both reused, nothing created.
    let lead = create(
        &app,
        &rep,
        "leads",
        json!({"title": "Doomsday device", "company_name": "Globex Corporation",
               "contact_name": "H. Scorpio", "email": "HANK@globex.com", "phone": "555-0199"}),
    )
    .await;
    let out = converted(convert(&app, &rep, &id(&lead), Some(json!({}))).await).await;
    assert_eq!(
        (&out["customer_created"], &out["contact_created"]),
        (&json!(false), &json!(false))
    );
    assert_eq!(out["customer"]["id"], globex["id"]);
    assert_eq!(out["contact"]["id"], hank["id"]);
    assert_eq!(
        out["contact"]["last_name"], "Scorpio",
        "a reused contact is not changed"
    );
    assert_eq!(out["lead"]["contact_id"], hank["id"]);
    assert!(out["lead"]["phone"].is_null());

    // The domain given in any form people paste; a new person at the same company.
    let lead = create(
        &app,
        &rep,
        "leads",
        json!({"title": "Hammock district", "contact_name": "Frank Grimes",
               "email": "frank@gmail.com"}),
    )
    .await;
    let out = converted(
        convert(
            &app,
            &rep,
            &id(&lead),
            Some(json!({"domain": "HTTPS://WWW.globex.com/contact"})),
        )
        .await,
    )
    .await;
    assert_eq!(out["customer"]["id"], globex["id"]);
    assert_eq!(
        (&out["customer_created"], &out["contact_created"]),
        (&json!(false), &json!(true))
    );
    assert_eq!(out["contact"]["customer_id"], globex["id"]);
    assert_eq!(out["contact"]["email"], "frank@gmail.com");

    // An explicit customer wins over the company name and the e-mail's domain.
    let lead = create(
        &app,
        &rep,
        "leads",
        json!({"title": "Side deal", "company_name": "Something Else",
               "contact_name": "Mindy Simmons", "email": "mindy@elsewhere.com"}),
    )
    .await;
    let out = converted(
        convert(
            &app,
            &rep,
            &id(&lead),
            Some(json!({"customer_id": id(&globex)})),
        )
        .await,
    )
    .await;
    assert_eq!(out["customer"]["id"], globex["id"]);
    assert_eq!(out["contact_created"], true);

    // A contact with that address at another customer is not this customer's contact.
    let other = create(&app, &admin, "customers", json!({"name": "Other"})).await;
    create(
        &app,
        &admin,
        "contacts",
        json!({"first_name": "Lisa", "email": "lisa@globex.com", "customer_id": id(&other)}),
    )
    .await;
    let lead = create(
        &app,
        &rep,
        "leads",
        json!({"title": "Saxophone", "contact_name": "Lisa Simpson", "email": "lisa@globex.com"}),
    )
    .await;
    let out = converted(convert(&app, &rep, &id(&lead), None).await).await;
    assert_eq!(out["customer"]["id"], globex["id"]);
    assert_eq!(out["contact_created"], true);
    assert_eq!(out["contact"]["customer_id"], globex["id"]);

    assert_eq!(customer_names(&app, &admin).await, ["Globex", "Other"]);
    assert_eq!(
        actions(&app, &admin, &id(&globex)).await,
        ["customer.create"]
    );
    assert_check_passes(&app);
}

#[actix_web::test]
async fn free_mail_neither_matches_nor_names_a_customer() {
    let app = spawn_app().await;
    let admin = app.bootstrap_admin().await;
    // Someone did file a customer under gmail.com; a Gmail address still says nothing.
    create(
        &app,
        &admin,
        "customers",
        json!({"name": "Google", "domain": "gmail.com"}),
    )
    .await;
    for (n, email) in [
        "jane@gmail.com",
        "jane@GMX.de",
        "jane@outlook.com",
        "jane@proton.me",
    ]
    .into_iter()
    .enumerate()
    {
        let lead = create(
            &app,
            &admin,
            "leads",
            json!({"title": "Cakes", "company_name": format!("Bakery {n}"),
                   "contact_name": "Jane Baker", "email": email}),
        )
        .await;
        let out = converted(convert(&app, &admin, &id(&lead), None).await).await;
        assert_eq!(out["customer_created"], true, "{email}");
        assert_eq!(out["customer"]["name"], format!("Bakery {n}"));
        assert!(out["customer"]["domain"].is_null(), "{email}");
        assert_eq!(out["contact"]["email"], email.to_lowercase());
    }

    // Named explicitly, a free-mail domain is refused rather than filed as a company's.
    let lead = create(
        &app,
        &admin,
        "leads",
        json!({"title": "More cakes", "company_name": "Bakery 9", "contact_name": "Jo"}),
    )
    .await;
    let res = convert(
        &app,
        &admin,
        &id(&lead),
        Some(json!({"domain": "www.gmail.com"})),
    )
    .await;
    assert_eq!(error_fields(&assert_problem(res, 422).await), ["domain"]);
    assert_check_passes(&app);
}

#[actix_web::test]
async fn only_those_who_may_edit_the_lead_and_create_records_convert() {
    let app = spawn_app().await;
    let admin = app.bootstrap_admin().await;
    let rep = app.user(&admin, "sales").await;
    let other = app.user(&admin, "sales").await;
    let support = app.user(&admin, "support").await;
    let lead = create(
        &app,
        &rep,
        "leads",
        json!({"title": "Mine", "company_name": "Acme", "contact_name": "Jane Doe",
               "email": "jane@acme.com"}),
    )
    .await;
    let lead_id = id(&lead);

    assert_problem(convert(&app, &support, &lead_id, None).await, 403).await;
    assert_problem(convert(&app, &other, &lead_id, Some(json!({}))).await, 403).await;
    // A support user who owns the lead may still not create a customer.
    let theirs = create(
        &app,
        &admin,
        "leads",
        json!({"title": "Theirs", "company_name": "X",
        "contact_name": "Y", "assigned_to": support.id}),
    )
    .await;
    assert_problem(convert(&app, &support, &id(&theirs), None).await, 403).await;

    // A stale If-Match changes nothing; the current one converts (a JSON null body, as the
    // OpenAPI document allows, means the defaults).
    let path = format!("/api/v1/leads/{lead_id}/convert");
    let stale = app
        .request(Method::POST, &path, Some(&rep.token))
        .header("If-Match", "\"7\"")
        .send()
        .await
        .unwrap();
    assert_problem(stale, 412).await;
    assert!(customer_names(&app, &admin).await.is_empty());
    let res = app
        .request(Method::POST, &path, Some(&rep.token))
        .header("If-Match", "\"1\"")
        .header("content-type", "application/json")
        .body("null")
        .send()
        .await
        .unwrap();
    assert_eq!(converted(res).await["lead"]["version"], 2);

    // Trashed or unknown leads are not there.
    let gone = create(
        &app,
        &rep,
        "leads",
        json!({"title": "Gone", "company_name": "G",
        "contact_name": "G"}),
    )
    .await;
    let res = app
        .request(
            Method::DELETE,
            &format!("/api/v1/leads/{}", id(&gone)),
            Some(&rep.token),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_problem(convert(&app, &rep, &id(&gone), None).await, 404).await;
    assert_problem(convert(&app, &rep, "no-such-lead", None).await, 404).await;
    assert_eq!(customer_names(&app, &admin).await, ["Acme"]);
}

#[actix_web::test]
async fn missing_or_invalid_input_lists_every_field_and_writes_nothing() {
    let app = spawn_app().await;
    let admin = app.bootstrap_admin().await;
    let bare = create(
        &app,
        &admin,
        "leads",
        json!({"title": "Just an address", "email": "someone@gmail.com"}),
    )
    .await;
    let bare_id = id(&bare);

    let body = assert_problem(convert(&app, &admin, &bare_id, None).await, 422).await;
    assert_eq!(error_fields(&body), ["company_name", "contact_name"]);
    let res = convert(
        &app,
        &admin,
        &bare_id,
        Some(json!({"create_contact": false})),
    )
    .await;
    assert_eq!(
        error_fields(&assert_problem(res, 422).await),
        ["company_name"]
    );

    for (body, fields) in [
        (
            json!({"domain": "not a domain"}),
            vec!["domain", "company_name", "contact_name"],
        ),
        (
            json!({"customer_id": "nope"}),
            vec!["customer_id", "contact_name"],
        ),
        (
            json!({"customer_id": "nope", "domain": "acme.com", "create_contact": false}),
            vec!["domain", "customer_id"],
        ),
        (json!({"create_contact": "yes"}), vec!["create_contact"]),
        (json!({"stage": "won"}), vec!["stage"]),
    ] {
        let res = convert(&app, &admin, &bare_id, Some(body.clone())).await;
        assert_eq!(
            error_fields(&assert_problem(res, 422).await),
            fields,
            "{body}"
        );
    }
    let form = app
        .request(
            Method::POST,
            &format!("/api/v1/leads/{bare_id}/convert"),
            Some(&admin.token),
        )
        .form(&[("domain", "acme.com")])
        .send()
        .await
        .unwrap();
    assert_problem(form, 415).await;
    let broken = app
        .request(
            Method::POST,
            &format!("/api/v1/leads/{bare_id}/convert"),
            Some(&admin.token),
        )
        .header("content-type", "application/json")
        .body("{\"domain\": ")
        .send()
        .await
        .unwrap();
    assert_problem(broken, 400).await;

    let now = get(&app, &admin, &format!("/api/v1/leads/{bare_id}")).await;
    assert_eq!(now["version"], 1);
    assert!(customer_names(&app, &admin).await.is_empty());
    assert_eq!(actions(&app, &admin, &bare_id).await, ["lead.create"]);

    // With a company to create, the person is optional when not wanted.
    let res = app
        .patch(
            &format!("/api/v1/leads/{bare_id}"),
            &admin.token,
            json!({"company_name": "Jo's Shop", "phone": "555 0101"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let out = converted(
        convert(
            &app,
            &admin,
            &bare_id,
            Some(json!({"create_contact": false})),
        )
        .await,
    )
    .await;
    assert!(out["contact"].is_null());
    assert_eq!(out["contact_created"], false);
    assert!(
        out["customer"]["domain"].is_null(),
        "gmail.com is nobody's domain"
    );
    let lead = &out["lead"];
    assert!(lead["contact_id"].is_null());
    assert!(lead["company_name"].is_null());
    assert_eq!(
        (&lead["email"], &lead["phone"]),
        (&json!("someone@gmail.com"), &json!("555 0101")),
        "the person's details stay on the lead"
    );
    assert_problem(convert(&app, &admin, &bare_id, None).await, 409).await;
}

#[actix_web::test]
async fn a_failure_after_the_customer_insert_leaves_nothing_behind() {
    let app = spawn_app().await;
    let admin = app.bootstrap_admin().await;

    // The lead allows 200 characters of contact name; a contact's last name only 100, so
    // this fails in contacts::create, after the customer was inserted.
    let long = create(
        &app,
        &admin,
        "leads",
        json!({"title": "Long name", "company_name": "Initech",
               "contact_name": format!("Peter {}", "x".repeat(150)),
               "email": "peter@initech.com"}),
    )
    .await;
    let res = convert(&app, &admin, &id(&long), None).await;
    let body = assert_problem(res, 422).await;
    assert_eq!(error_fields(&body), ["contact_name"]);
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("last name")
    );

    // An address that slipped into the database unchecked fails the contact's own rules.
    let bad_email = create(
        &app,
        &admin,
        "leads",
        json!({"title": "Bad address", "company_name": "Initrode", "contact_name": "Milton"}),
    )
    .await;
    {
        let conn = rusqlite::Connection::open(&app.db_path).unwrap();
        conn.busy_timeout(std::time::Duration::from_secs(5))
            .unwrap();
        conn.execute(
            "UPDATE leads SET email = 'milton at initrode' WHERE id = ?1",
            [id(&bad_email)],
        )
        .unwrap();
    }
    let res = convert(&app, &admin, &id(&bad_email), None).await;
    assert_eq!(error_fields(&assert_problem(res, 422).await), ["email"]);

    assert!(
        customer_names(&app, &admin).await.is_empty(),
        "no customer was kept"
    );
    let contacts = get(&app, &admin, "/api/v1/contacts").await;
    assert!(contacts["items"].as_array().unwrap().is_empty());
    let created = get(&app, &admin, "/api/v1/audit?action=customer.create").await;
    assert!(created["items"].as_array().unwrap().is_empty());
    for lead in [&long, &bad_email] {
        let now = get(&app, &admin, &format!("/api/v1/leads/{}", id(lead))).await;
        assert_eq!(now["version"], 1);
        assert!(now["customer_id"].is_null());
    }
    assert_eq!(actions(&app, &admin, &id(&long)).await, ["lead.create"]);
    assert_check_passes(&app);
}
