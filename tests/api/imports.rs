//! CSV import through the API: mapping suggestions, dry runs, duplicates, history, the
//! messy dataset of `shared/bench/gen_dataset.py`, round trips with the export, error
//! CSVs, cancellation and limits.
//!
//! `fixtures/messy/` is `gen_dataset.py --scale tiny --seed 42 --messy` (UTF-8 with BOM,
//! CRLF), kept in the repository so the test needs no Python.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use reqwest::multipart::{Form, Part};
use reqwest::{Method, Response, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{Login, TestApp, assert_problem, error_fields, spawn_app};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/api/fixtures/messy");

async fn upload(
    app: &TestApp,
    token: &str,
    entity: &str,
    bytes: Vec<u8>,
    fields: &[(&str, &str)],
) -> Response {
    let mut form = Form::new().text("entity", entity.to_owned());
    for (k, v) in fields {
        form = form.text(k.to_string(), v.to_string());
    }
    form = form.part(
        "file",
        Part::bytes(bytes).file_name(format!("{entity}.csv")),
    );
    app.request(Method::POST, "/api/v1/imports", Some(token))
        .multipart(form)
        .send()
        .await
        .unwrap()
}

/// Uploads and waits for the job to end; returns its final status.
async fn import(
    app: &TestApp,
    token: &str,
    entity: &str,
    bytes: Vec<u8>,
    fields: &[(&str, &str)],
) -> Value {
    let res = upload(app, token, entity, bytes, fields).await;
    assert_eq!(res.status(), StatusCode::ACCEPTED, "import {entity} starts");
    let location = res.headers()["location"].to_str().unwrap().to_owned();
    let started: Value = res.json().await.unwrap();
    assert_eq!(
        location,
        format!("/api/v1/imports/{}", started["id"].as_str().unwrap())
    );
    finished(app, token, &location).await
}

async fn finished(app: &TestApp, token: &str, location: &str) -> Value {
    for _ in 0..600 {
        let status: Value = app.get(location, token).await.json().await.unwrap();
        if !matches!(
            status["status"].as_str(),
            Some("staged" | "running" | "rolling_back")
        ) {
            return status;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("import {location} did not finish");
}

async fn export(app: &TestApp, token: &str, entity: &str) -> Vec<HashMap<String, String>> {
    let res = app
        .get(&format!("/api/v1/exports/{entity}.csv"), token)
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let bytes = res.bytes().await.unwrap();
    let mut reader = csv::Reader::from_reader(&bytes[..]);
    let header: Vec<String> = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_owned)
        .collect();
    reader
        .records()
        .map(|r| {
            header
                .iter()
                .cloned()
                .zip(r.unwrap().iter().map(str::to_owned))
                .collect()
        })
        .collect()
}

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!("{FIXTURES}/{name}")).unwrap()
}

/// The fixture's rows by "Record ID", with the line each starts on (as an editor counts:
/// the csv crate numbers a record after a CRLF as if on the line before).
fn fixture_rows(name: &str) -> HashMap<String, (u64, HashMap<String, String>)> {
    let text = String::from_utf8(fixture(name))
        .unwrap()
        .replace("\r\n", "\n");
    let mut reader = csv::Reader::from_reader(&text.as_bytes()[3..]);
    let header: Vec<String> = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_owned)
        .collect();
    reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            let line = r.position().unwrap().line();
            let row: HashMap<String, String> = header
                .iter()
                .cloned()
                .zip(r.iter().map(str::to_owned))
                .collect();
            (row["Record ID"].clone(), (line, row))
        })
        .collect()
}

/// The users of the fixture's users.csv, all active, created through the admin API.
async fn fixture_users(app: &TestApp, admin: &Login) {
    let bytes = fixture("users.csv");
    let mut reader = csv::Reader::from_reader(&bytes[3..]);
    for r in reader.records() {
        let r = r.unwrap();
        let (email, role) = (&r[3], &r[4]);
        if email == "admin@harborpine.example" && role == "admin" {
            // bootstrap_admin is admin@example.com; this one is created like the others.
        }
        let res = app
            .post(
                "/api/v1/users",
                &admin.token,
                json!({"email": email, "name": format!("{} {}", &r[1], &r[2]), "role": role,
                       "password": "import-test-pw"}),
            )
            .await;
        assert_eq!(res.status(), StatusCode::CREATED, "user {email}");
    }
}

#[actix_web::test]
async fn the_messy_dataset_imports_intact_or_reports_each_injected_problem() {
    let app = spawn_app().await;
    let admin = app.bootstrap_admin().await;
    fixture_users(&app, &admin).await;
    let manifest: Value = serde_json::from_slice(&fixture("messy_manifest.json")).unwrap();

    let mut statuses = HashMap::new();
    for entity in ["customers", "contacts", "leads", "tasks", "activities"] {
        let status = import(
            &app,
            &admin.token,
            entity,
            fixture(&format!("{entity}.csv")),
            &[],
        )
        .await;
        assert_eq!(status["status"], "completed", "{entity}: {status}");
        assert_eq!(status["encoding"], "utf-8");
        statuses.insert(entity, status);
    }
    // No manual mapping: only columns Rapport has no field for are left out.
    assert_eq!(
        statuses["customers"]["unmapped_columns"],
        json!(["Number of Employees"])
    );
    assert_eq!(
        statuses["contacts"]["unmapped_columns"],
        json!(["Lifecycle Stage"])
    );
    for entity in ["leads", "tasks", "activities"] {
        assert_eq!(statuses[entity]["unmapped_columns"], json!([]), "{entity}");
    }

    // Every invalid e-mail address is an error row of its file, on its line.
    for case in manifest["invalid_emails"].as_array().unwrap() {
        let file = case["file"].as_str().unwrap();
        let entity = file.trim_end_matches(".csv");
        let rows = fixture_rows(file);
        let (line, _) = &rows[&case["record_id"].to_string()];
        let errors = statuses[entity]["errors"].as_array().unwrap();
        assert!(
            errors
                .iter()
                .any(|e| e["row"] == json!(line)
                    && e["message"].as_str().unwrap().contains("e-mail")),
            "{file} line {line} not reported: {errors:?}"
        );
    }

    // Duplicates (same e-mail or domain, typed differently) are skipped, not doubled.
    let customers = export(&app, &admin.token, "customers").await;
    let contacts = export(&app, &admin.token, "contacts").await;
    let customer_rows = fixture_rows("customers.csv");
    let contact_rows = fixture_rows("contacts.csv");
    let dup_customers = manifest["duplicate_customers"].as_array().unwrap().len();
    let dup_contacts = manifest["duplicate_contacts"].as_array().unwrap().len();
    assert_eq!(customers.len(), customer_rows.len() - dup_customers);
    assert_eq!(statuses["customers"]["skipped"], json!(dup_customers));
    assert_eq!(statuses["contacts"]["skipped"], json!(dup_contacts));
    let invalid_contacts = manifest["invalid_emails"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["file"] == "contacts.csv")
        .count();
    assert_eq!(
        contacts.len(),
        contact_rows.len() - dup_contacts - invalid_contacts
    );

    // What arrived is what the file held: names in any script, multi-line addresses,
    // formula-like text (kept as text; the export neutralises it again).
    let by_name: HashSet<(String, String)> = customers
        .iter()
        .map(|c| {
            (
                c["name"].trim_start_matches('\'').to_owned(),
                c["address"].clone(),
            )
        })
        .collect();
    let duplicate_ids: HashSet<String> = manifest["duplicate_customers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["duplicate"].to_string())
        .collect();
    for (id, (_, row)) in &customer_rows {
        if duplicate_ids.contains(id) {
            continue;
        }
        let address = [
            row["Street Address"].clone(),
            [&row["City"], &row["State/Region"], &row["Postal Code"]]
                .iter()
                .filter(|s| !s.is_empty())
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(" "),
            row["Country/Region"].clone(),
        ]
        .into_iter()
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join("\n");
        assert!(
            by_name.contains(&(row["Company Name"].trim().to_owned(), address.clone())),
            "customer {id} {:?} / {address:?} not imported intact",
            row["Company Name"]
        );
    }
    let leads = export(&app, &admin.token, "leads").await;
    let lead_rows = fixture_rows("leads.csv");
    for case in manifest["formula_injections"].as_array().unwrap() {
        if case["file"] != "leads.csv" {
            continue;
        }
        let (_, row) = &lead_rows[&case["record_id"].to_string()];
        let title = row["Lead Title"].trim();
        assert!(
            leads
                .iter()
                .any(|l| l["title"] == format!("'{title}") || l["title"] == title),
            "formula title {title:?} not kept as text"
        );
    }
    // History survives the move: created and closed dates, stages, amounts.
    let won = lead_rows
        .values()
        .find(|(_, r)| r["Lead Stage"] == "won")
        .map(|(_, r)| r)
        .unwrap();
    let lead = leads
        .iter()
        .find(|l| l["title"] == won["Lead Title"] && l["value_cents"] == won["Amount (cents)"])
        .expect("the won lead is there");
    assert_eq!(lead["stage"], "won");
    assert_eq!(lead["created_at"], won["Create Date"].replace('Z', ".000Z"));
    assert_eq!(lead["closed_at"], won["Closed Date"].replace('Z', ".000Z"));
    assert_eq!(
        lead["stage_changed_at"],
        won["Stage Changed Date"].replace('Z', ".000Z")
    );
    // Leads with an invalid e-mail address are refused, and so are leads whose contact was
    // refused (their link cannot be made); each is reported.
    let invalid = |file: &str| -> HashSet<String> {
        manifest["invalid_emails"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["file"] == file)
            .map(|c| c["record_id"].to_string())
            .collect()
    };
    let (invalid_leads, invalid_contacts) = (invalid("leads.csv"), invalid("contacts.csv"));
    let refused_leads = lead_rows
        .iter()
        .filter(|(id, (_, r))| {
            invalid_leads.contains(*id) || invalid_contacts.contains(&r["Associated Contact ID"])
        })
        .count();
    assert_eq!(
        leads.len(),
        lead_rows.len() - refused_leads,
        "{}",
        statuses["leads"]
    );
    assert_eq!(statuses["leads"]["failed"], json!(refused_leads));
    // Tasks and activities of the leads that were refused are refused too (their lead is
    // missing), and reported; everything else arrived.
    for entity in ["tasks", "activities"] {
        let s = &statuses[entity];
        assert_eq!(
            s["created"].as_i64().unwrap() + s["failed"].as_i64().unwrap(),
            s["total"].as_i64().unwrap(),
            "{entity}: {s}"
        );
        for e in s["errors"].as_array().unwrap() {
            assert!(
                e["message"].as_str().unwrap().contains("no lead with")
                    || e["message"].as_str().unwrap().contains("no contact with"),
                "{entity}: unexpected error {e}"
            );
        }
    }

    // The audit log has one event per import besides the records' own entries.
    let audit: Value = app
        .get("/api/v1/audit?entity_type=import", &admin.token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(audit["items"].as_array().unwrap().len(), 5);
    let check = app.cli(&["check"], None);
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stdout)
    );
}

#[actix_web::test]
async fn a_dry_run_suggests_the_mapping_reports_errors_and_writes_nothing() {
    let app = spawn_app().await;
    let admin = app.bootstrap_admin().await;
    let file = "Company,Web Site,E-mail Address,Employees\n\
                Acme Ltd,acme.example,ada@acme.example,10\n\
                ,nameless.example,x@y.example,3\n\
                Bad Domain Inc,not a domain,z@y.example,1\n"
        .as_bytes()
        .to_vec();
    let status = import(
        &app,
        &admin.token,
        "customers",
        file,
        &[("dry_run", "true")],
    )
    .await;
    assert_eq!(status["status"], "validated");
    assert_eq!(status["dry_run"], true);
    assert_eq!(
        status["mapping"],
        json!({"Company": "name", "Web Site": "domain", "E-mail Address": null, "Employees": null})
    );
    assert_eq!(status["created"], 1);
    assert_eq!(status["failed"], 2);
    assert_eq!(
        status["errors"],
        json!([
            {"row": 3, "field": "Company", "message": "is required"},
            {"row": 4, "field": "Web Site", "message": "must be a web domain like example.com"},
        ])
    );
    let list: Value = app
        .get("/api/v1/customers", &admin.token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["items"], json!([]), "a dry run writes no records");

    // The same staged rows, committed with a mapping that leaves the bad column out.
    let id = status["id"].as_str().unwrap();
    let res = app
        .post(
            &format!("/api/v1/imports/{id}/commit"),
            &admin.token,
            json!({"mapping": {"Web Site": null}}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::ACCEPTED);
    let done = finished(&app, &admin.token, &format!("/api/v1/imports/{id}")).await;
    assert_eq!(done["status"], "completed");
    assert_eq!(done["dry_run"], false);
    assert_eq!(
        (done["created"].as_i64(), done["failed"].as_i64()),
        (Some(2), Some(1))
    );
    let list: Value = app
        .get("/api/v1/customers?sort=name&order=asc", &admin.token)
        .await
        .json()
        .await
        .unwrap();
    let names: Vec<&str> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Acme Ltd", "Bad Domain Inc"]);
    let again = app
        .post(
            &format!("/api/v1/imports/{id}/commit"),
            &admin.token,
            json!({}),
        )
        .await;
    assert_problem(again, 409).await;

    // The rows with errors, as a CSV to fix and upload again.
    let res = app
        .get(&format!("/api/v1/imports/{id}/errors.csv"), &admin.token)
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let text = res.text().await.unwrap();
    assert_eq!(
        text,
        "Company,Web Site,E-mail Address,Employees,Line,Errors\n\
         ,nameless.example,x@y.example,3,3,Company: is required\n"
    );
}

#[actix_web::test]
async fn duplicate_policies_skip_update_or_create() {
    let app = spawn_app().await;
    let admin = app.bootstrap_admin().await;
    let first = "First Name,Last Name,Email,Phone\nAda,Lovelace,ada@example.com,+44 20 7946 0018\n";
    let status = import(&app, &admin.token, "contacts", first.into(), &[]).await;
    assert_eq!(status["created"], 1);

    // The same person typed differently: the e-mail decides.
    let again = "First Name,Last Name,Email,Phone,Title\n\
                 ada,LOVELACE, ADA@Example.com ,020 7946 0018,Countess\n\
                 Ada,L.,ada@example.com,,Analyst\n";
    let skipped = import(&app, &admin.token, "contacts", again.into(), &[]).await;
    assert_eq!(
        (skipped["created"].as_i64(), skipped["skipped"].as_i64()),
        (Some(0), Some(2))
    );
    let updated = import(
        &app,
        &admin.token,
        "contacts",
        again.into(),
        &[("on_duplicate", "update")],
    )
    .await;
    assert_eq!(updated["updated"], 2, "{updated}");
    let list: Value = app
        .get("/api/v1/contacts", &admin.token)
        .await
        .json()
        .await
        .unwrap();
    let items = list["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["title"], "Analyst");
    assert_eq!(items[0]["last_name"], "L.");
    assert_eq!(
        items[0]["phone"], "020 7946 0018",
        "blank cells keep what is there"
    );
    let created = import(
        &app,
        &admin.token,
        "contacts",
        again.into(),
        &[("on_duplicate", "create")],
    )
    .await;
    assert_eq!(created["created"], 2);

    // Without an e-mail address the phone digits decide.
    let by_phone = "First Name,Phone\nCharles,+1 (555) 010-0147\nCharlie,1-555-010-0147\n";
    let s = import(&app, &admin.token, "contacts", by_phone.into(), &[]).await;
    assert_eq!(
        (s["created"].as_i64(), s["skipped"].as_i64()),
        (Some(1), Some(1)),
        "{s}"
    );
}

#[actix_web::test]
async fn what_is_exported_imports_back_without_loss() {
    let source = spawn_app().await;
    let admin = source.bootstrap_admin().await;
    let customer: Value = source
        .post(
            "/api/v1/customers",
            &admin.token,
            json!({"name": "=Acme, \"Quoted\" Ltd", "domain": "acme.example", "industry": "Paint",
                   "segment": "SMB", "phone": "+1 555 0100", "address": "1 Main St\nSuite 2",
                   "tags": ["vip", "new-logo"]}),
        )
        .await
        .json()
        .await
        .unwrap();
    let contact: Value = source
        .post(
            "/api/v1/contacts",
            &admin.token,
            json!({"customer_id": customer["id"], "first_name": "José", "last_name": "Muñoz",
                   "email": "jose@acme.example", "phone": "-555 0101", "title": "CEO"}),
        )
        .await
        .json()
        .await
        .unwrap();
    let lead: Value = source
        .post(
            "/api/v1/leads",
            &admin.token,
            json!({"title": "@Big order", "customer_id": customer["id"], "contact_id": contact["id"],
                   "stage": "lost", "lost_reason": "Price", "value_cents": 123456, "currency": "EUR",
                   "source": "web", "expected_close_date": "2026-12-31"}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(lead["stage"], "lost");

    let target = spawn_app().await;
    let target_admin = target.bootstrap_admin().await;
    for entity in ["customers", "contacts", "leads"] {
        let res = source
            .get(
                &format!("/api/v1/exports/{entity}.csv?bom=true"),
                &admin.token,
            )
            .await;
        let bytes = res.bytes().await.unwrap().to_vec();
        let status = import(&target, &target_admin.token, entity, bytes, &[]).await;
        assert_eq!(
            (status["created"].as_i64(), status["failed"].as_i64()),
            (Some(1), Some(0)),
            "{entity}: {status}"
        );
    }
    let compare = [
        (
            "customers",
            vec![
                "name",
                "domain",
                "industry",
                "segment",
                "phone",
                "address",
                "tags",
                "created_at",
            ],
        ),
        (
            "contacts",
            vec![
                "first_name",
                "last_name",
                "email",
                "phone",
                "title",
                "created_at",
            ],
        ),
        (
            "leads",
            vec![
                "title",
                "stage",
                "value_cents",
                "currency",
                "source",
                "expected_close_date",
                "lost_reason",
                "closed_at",
                "stage_changed_at",
                "created_at",
            ],
        ),
    ];
    for (entity, fields) in compare {
        let before = &export(&source, &admin.token, entity).await[0];
        let after = &export(&target, &target_admin.token, entity).await[0];
        for f in fields {
            assert_eq!(before[f], after[f], "{entity}.{f}");
        }
    }
    // The links came along: the contact's customer and the lead's contact, by their ids.
    let contacts = export(&target, &target_admin.token, "contacts").await;
    let customers = export(&target, &target_admin.token, "customers").await;
    let leads = export(&target, &target_admin.token, "leads").await;
    assert_eq!(contacts[0]["customer_id"], customers[0]["id"]);
    assert_eq!(leads[0]["contact_id"], contacts[0]["id"]);
    assert_eq!(leads[0]["customer_id"], customers[0]["id"]);
}

#[actix_web::test]
async fn excel_files_in_windows_1252_with_semicolons_and_ragged_rows() {
    let app = spawn_app().await;
    let admin = app.bootstrap_admin().await;
    let mut file = b"Name;Industry;City\r\nCaf\xE9 Ol\xE9;Caf\xE9s;Z\xFCrich\r\n".to_vec();
    file.extend_from_slice(b"Short row;x\r\nGlobex;Retail;\"Bern\r\nOld Town\"\r\n");
    let status = import(&app, &admin.token, "customers", file, &[]).await;
    assert_eq!(status["encoding"], "windows-1252");
    assert_eq!(status["delimiter"], ";");
    assert_eq!(status["created"], 2);
    assert_eq!(
        status["errors"],
        json!([{"row": 3, "field": "row", "message": "has 2 cells where the header has 3"}])
    );
    let list: Value = app
        .get("/api/v1/customers?sort=name&order=asc", &admin.token)
        .await
        .json()
        .await
        .unwrap();
    let items = list["items"].as_array().unwrap();
    assert_eq!(items[0]["name"], "Café Olé");
    assert_eq!(items[0]["industry"], "Cafés");
    assert_eq!(items[0]["address"], "Zürich");
    assert_eq!(items[1]["name"], "Globex");
    assert_eq!(items[1]["address"], "Bern\nOld Town");
}

#[actix_web::test]
async fn contacts_create_or_link_their_company() {
    let app = spawn_app().await;
    let admin = app.bootstrap_admin().await;
    let existing: Value = app
        .post(
            "/api/v1/customers",
            &admin.token,
            json!({"name": "Acme", "domain": "acme.example"}),
        )
        .await
        .json()
        .await
        .unwrap();
    let file = "First Name,Company,Company Domain\n\
                Ada,ACME Inc,https://www.acme.example/\n\
                Bob,Globex,globex.example\n\
                Cy,Globex Corporation,globex.example\n\
                Di,Initech,\n";
    let status = import(&app, &admin.token, "contacts", file.into(), &[]).await;
    assert_eq!(status["created"], 4);
    assert_eq!(status["linked_customers"], 2, "Globex once, Initech once");
    let contacts = export(&app, &admin.token, "contacts").await;
    let customers = export(&app, &admin.token, "customers").await;
    let ada = contacts.iter().find(|c| c["first_name"] == "Ada").unwrap();
    assert_eq!(ada["customer_id"], existing["id"].as_str().unwrap());
    let bob = contacts.iter().find(|c| c["first_name"] == "Bob").unwrap();
    let cy = contacts.iter().find(|c| c["first_name"] == "Cy").unwrap();
    assert_eq!(bob["customer_id"], cy["customer_id"]);
    assert_eq!(customers.len(), 3);
    // Imported records are in the search index as soon as the import has committed.
    let found: Value = app
        .get("/api/v1/search?q=globex", &admin.token)
        .await
        .json()
        .await
        .unwrap();
    let kinds: Vec<&str> = found["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["type"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["customer"], "{found}");
    let found: Value = app
        .get("/api/v1/search?q=bob", &admin.token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(found["items"][0]["id"], bob["id"].as_str());
}

#[actix_web::test]
async fn cancelling_undoes_everything_the_job_wrote() {
    let app = spawn_app().await;
    let admin = app.bootstrap_admin().await;
    let mut file = String::from("Name,Domain\n");
    for i in 0..20_000 {
        file.push_str(&format!("Company {i},c{i}.example\n"));
    }
    let res = upload(&app, &admin.token, "customers", file.into(), &[]).await;
    assert_eq!(res.status(), StatusCode::ACCEPTED);
    let location = res.headers()["location"].to_str().unwrap().to_owned();
    let cancel = app
        .post(&format!("{location}/cancel"), &admin.token, json!({}))
        .await;
    // 20,000 rows take far longer than the cancellation needs to arrive.
    assert_eq!(cancel.status(), StatusCode::ACCEPTED);
    let status = finished(&app, &admin.token, &location).await;
    assert_eq!(status["status"], "cancelled", "{status}");
    let list: Value = app
        .get("/api/v1/customers", &admin.token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        list["items"],
        json!([]),
        "nothing of a cancelled import remains"
    );
    let check = app.cli(&["check"], None);
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stdout)
    );
}

#[actix_web::test]
async fn imports_refuse_bad_requests_clearly() {
    let app = spawn_app().await;
    let admin = app.bootstrap_admin().await;
    let sales = app.user(&admin, "sales").await;
    let csv = b"Name\nAcme\n".to_vec();
    assert_problem(
        upload(&app, &sales.token, "customers", csv.clone(), &[]).await,
        403,
    )
    .await;

    let res = upload(
        &app,
        &admin.token,
        "planets",
        csv.clone(),
        &[("on_duplicate", "merge"), ("dry_run", "maybe")],
    )
    .await;
    let body = assert_problem(res, 422).await;
    assert_eq!(error_fields(&body), ["entity", "on_duplicate", "dry_run"]);

    let res = upload(
        &app,
        &admin.token,
        "customers",
        csv.clone(),
        &[("mapping", "{\"Nope\": \"name\"}")],
    )
    .await;
    let body = assert_problem(res, 422).await;
    assert_eq!(error_fields(&body), ["mapping.Nope"]);
    let res = upload(
        &app,
        &admin.token,
        "customers",
        b"Street\n1 Main St\n".to_vec(),
        &[],
    )
    .await;
    let body = assert_problem(res, 422).await;
    assert_eq!(error_fields(&body), ["mapping"]);
    let res = upload(&app, &admin.token, "customers", Vec::new(), &[]).await;
    assert_problem(res, 422).await;

    let form = Form::new().text("entity", "customers");
    let res = app
        .request(Method::POST, "/api/v1/imports", Some(&admin.token))
        .multipart(form)
        .send()
        .await
        .unwrap();
    let body = assert_problem(res, 422).await;
    assert_eq!(error_fields(&body), ["file"]);

    let res = app
        .request(Method::POST, "/api/v1/imports", Some(&admin.token))
        .header("content-type", "text/csv")
        .body("Name\nAcme\n")
        .send()
        .await
        .unwrap();
    assert_problem(res, 415).await;

    // The test server takes 16 MiB.
    let mut big = b"Name\n".to_vec();
    big.resize(17 * 1024 * 1024, b'x');
    assert_problem(upload(&app, &admin.token, "customers", big, &[]).await, 413).await;

    assert_problem(app.get("/api/v1/imports/nope", &admin.token).await, 404).await;
}

#[actix_web::test]
async fn the_command_line_imports_users_and_records_like_the_api() {
    let app = spawn_app().await;
    let admin = app.bootstrap_admin().await;
    let users = format!("{FIXTURES}/users.csv");
    let out = app.cli(&["import", "users", &users], None);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    let mut accounts = csv::Reader::from_reader(stdout.as_bytes());
    let first = accounts.records().next().unwrap().unwrap();
    assert_eq!(&first[0], "admin@harborpine.example");
    // The printed password signs in.
    let login = app.login_response(&first[0], &first[1]).await;
    assert_eq!(login.status(), StatusCode::OK);
    assert!(String::from_utf8_lossy(&out.stderr).contains("Created 50 user(s)"));
    let again = app.cli(&["import", "users", &users], None);
    assert!(String::from_utf8_lossy(&again.stderr).contains("50 already had an account"));

    let customers = format!("{FIXTURES}/customers.csv");
    let dry = app.cli(&["import", "customers", &customers, "--dry-run"], None);
    assert!(
        dry.status.success(),
        "{}",
        String::from_utf8_lossy(&dry.stderr)
    );
    assert!(
        String::from_utf8_lossy(&dry.stderr)
            .contains("validated (101 rows: 100 created, 0 updated, 1 skipped")
    );
    let list: Value = app
        .get("/api/v1/customers", &admin.token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["items"], json!([]));

    let dir = tempfile::tempdir().unwrap();
    let errors = dir.path().join("errors.csv");
    let contacts = format!("{FIXTURES}/contacts.csv");
    let real = app.cli(&["import", "customers", &customers], None);
    assert!(
        real.status.success(),
        "{}",
        String::from_utf8_lossy(&real.stderr)
    );
    let with_errors = app.cli(
        &[
            "import",
            "contacts",
            &contacts,
            "--errors-out",
            errors.to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(with_errors.status.code(), Some(1), "one bad e-mail address");
    let text = std::fs::read_to_string(&errors).unwrap();
    assert!(text.starts_with("Record ID,First Name,"), "{text}");
    assert!(text.contains("mailto:"), "{text}");
    assert_eq!(text.lines().count(), 2);
    let bad = app.cli(&["import", "planets", &contacts], None);
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("unknown entity planets"));
}

/// A row that fails after writing something (a contact refused after its new company was
/// created) leaves nothing behind, and the rows around it still go in.
#[actix_web::test]
async fn a_row_that_fails_midway_leaves_nothing_behind() {
    let app = spawn_app().await;
    let admin = app.bootstrap_admin().await;
    let file = "First Name,Email,Company\n\
                Ada,ada@one.example,One Ltd\n\
                Bob,not-an-address,Two Ltd\n\
                Cy,cy@three.example,Three Ltd\n";
    for dry_run in ["true", "false"] {
        let status = import(
            &app,
            &admin.token,
            "contacts",
            file.into(),
            &[("dry_run", dry_run)],
        )
        .await;
        assert_eq!(
            (status["created"].as_i64(), status["failed"].as_i64()),
            (Some(2), Some(1)),
            "{status}"
        );
        assert_eq!(status["linked_customers"], 2, "{status}");
        assert_eq!(status["errors"][0]["row"], 3);
        assert_eq!(status["errors"][0]["field"], "Email");
    }
    let customers = export(&app, &admin.token, "customers").await;
    let mut names: Vec<&str> = customers.iter().map(|c| c["name"].as_str()).collect();
    names.sort();
    assert_eq!(
        names,
        ["One Ltd", "Three Ltd"],
        "Two Ltd went with Bob's row"
    );
}
