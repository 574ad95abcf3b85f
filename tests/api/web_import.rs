//! The import page, the duplicates page, the lists' bulk assign and export, and uploads
//! without JavaScript, through the real server with a cookie session and CSRF tokens.

use std::time::Duration;

use reqwest::multipart::{Form, Part};
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{Login, TestApp, page_text, post_form, signed_in, spawn_app};

async fn upload(
    b: &Client,
    url: &str,
    csrf: Option<&str>,
    fields: &[(&str, &str)],
    file: &[u8],
) -> reqwest::Response {
    let mut form = Form::new();
    if let Some(token) = csrf {
        form = form.text("csrf_token", token.to_owned());
    }
    for (k, v) in fields {
        form = form.text(k.to_string(), v.to_string());
    }
    form = form.part("file", Part::bytes(file.to_vec()).file_name("clients.csv"));
    b.post(url).multipart(form).send().await.unwrap()
}

/// Waits until the import job leaves the working states; returns its status.
async fn settled(app: &TestApp, admin: &Login, id: &str) -> Value {
    for _ in 0..400 {
        let status: Value = app
            .get(&format!("/api/v1/imports/{id}"), &admin.token)
            .await
            .json()
            .await
            .unwrap();
        if !matches!(
            status["status"].as_str(),
            Some("staged" | "running" | "rolling_back")
        ) {
            return status;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("import {id} did not settle");
}

async fn create(app: &TestApp, who: &Login, path: &str, body: Value) -> String {
    let res = app.post(path, &who.token, body).await;
    assert_eq!(res.status(), StatusCode::CREATED, "POST {path}");
    res.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

const FILE: &str = "Company,Web Site,Notes,Sector\n\
    Acme Ltd,acme.example,first,Manufacturing\n\
    <script>alert(1)</script> Corp,hostile.example,x,Retail\n\
    \"=HYPERLINK(\"\"http://evil.example\"\",\"\"click\"\")\",not a domain,z,Retail\n";

#[actix_web::test]
async fn a_csv_is_mapped_previewed_imported_and_its_problems_downloaded() {
    let app = spawn_app().await;
    let admin = app.bootstrap_admin().await;
    let (b, csrf) = signed_in(&app, &admin).await;

    // The lists lead a new team to the import page.
    let empty = page_text(&b, &app.url("/customers")).await;
    assert!(
        empty.contains("href=\"/import?entity=customers\""),
        "{empty}"
    );
    let form = page_text(&b, &app.url("/import?entity=customers")).await;
    assert!(
        form.contains("enctype=\"multipart/form-data\"")
            && form.contains("value=\"customers\" selected")
    );

    // Without the form's token, nothing is read.
    let res = upload(
        &b,
        &app.url("/import"),
        None,
        &[("entity", "customers")],
        FILE.as_bytes(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let res = upload(
        &b,
        &app.url("/import"),
        Some("forged"),
        &[("entity", "customers")],
        FILE.as_bytes(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    // An empty file is explained on the form.
    let res = upload(
        &b,
        &app.url("/import"),
        Some(&csrf),
        &[("entity", "customers")],
        b"",
    )
    .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.text().await.unwrap().contains("The file is required"));

    let res = upload(
        &b,
        &app.url("/import"),
        Some(&csrf),
        &[("entity", "customers")],
        FILE.as_bytes(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let location = res.headers()["location"].to_str().unwrap().to_owned();
    let id = location.strip_prefix("/import/").unwrap().to_owned();
    let staged = settled(&app, &admin, &id).await;
    assert_eq!(staged["status"], "validated");
    assert_eq!(staged["processed"], 0, "staged, nothing checked yet");

    // One select per column, with the suggestions chosen; the samples are escaped.
    let page = page_text(&b, &app.url(&location)).await;
    assert!(page.contains("Check the columns"), "{page}");
    for (i, field) in [(0, "name"), (1, "domain")] {
        let select = &page[page.find(&format!("name=\"col-{i}\"")).unwrap()..];
        let select = &select[..select.find("</select>").unwrap()];
        assert!(
            select.contains(&format!("value=\"{field}\" selected")),
            "col-{i}: {select}"
        );
    }
    let sector = &page[page.find("name=\"col-3\"").unwrap()..];
    assert!(sector[..sector.find("</select>").unwrap()].contains("value=\"\" selected"));
    assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt; Corp"));
    assert!(!page.contains("<script>alert"));
    assert!(page.contains("Not checked yet"));

    // A mapping that cannot work is shown again with the reason, as chosen.
    let (status, _, html) = post_form(
        &b,
        &app.url(&format!("{location}/preview")),
        &[
            ("csrf_token", &csrf),
            ("col-0", "name"),
            ("col-1", "name"),
            ("col-3", "industry"),
            ("on_duplicate", "skip"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        html.contains("name is already filled by another column"),
        "{html}"
    );
    // Missing CSRF on the preview is refused.
    let (status, _, _) = post_form(
        &b,
        &app.url(&format!("{location}/preview")),
        &[("col-0", "name")],
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // Preview with Sector mapped to industry: the bad row, by its line.
    let mapping = [
        ("csrf_token", csrf.as_str()),
        ("col-0", "name"),
        ("col-1", "domain"),
        ("col-2", ""),
        ("col-3", "industry"),
        ("on_duplicate", "skip"),
    ];
    let (status, back, _) = post_form(&b, &app.url(&format!("{location}/preview")), &mapping).await;
    assert_eq!(
        (status, back.as_str()),
        (StatusCode::SEE_OTHER, location.as_str())
    );
    let previewed = settled(&app, &admin, &id).await;
    assert_eq!(previewed["status"], "validated");
    assert_eq!(previewed["mapping"]["Sector"], "industry");
    assert_eq!(
        (previewed["created"].as_i64(), previewed["failed"].as_i64()),
        (Some(2), Some(1))
    );
    let page = page_text(&b, &app.url(&location)).await;
    assert!(page.contains("Nothing has been written yet"));
    assert!(
        page.contains("<td class=\"num\" data-label=\"Line\">4</td>"),
        "{page}"
    );
    assert!(page.contains("must be a web domain like example.com"));
    let sector = &page[page.find("name=\"col-3\"").unwrap()..];
    assert!(sector[..sector.find("</select>").unwrap()].contains("value=\"industry\" selected"));
    let none: Value = app
        .get("/api/v1/customers", &admin.token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(none["items"], json!([]), "a preview writes nothing");

    // Import: the rows are created with the changed mapping.
    let (status, _, _) = post_form(&b, &app.url(&format!("{location}/start")), &mapping).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let done = settled(&app, &admin, &id).await;
    assert_eq!(done["status"], "completed");
    assert_eq!(
        (done["created"].as_i64(), done["failed"].as_i64()),
        (Some(2), Some(1))
    );
    let page = page_text(&b, &app.url(&location)).await;
    assert!(
        page.contains("Import finished")
            && page.contains(&format!("/api/v1/imports/{id}/errors.csv"))
    );
    let list: Value = app
        .get("/api/v1/customers?sort=name&order=asc", &admin.token)
        .await
        .json()
        .await
        .unwrap();
    let rows: Vec<(&str, &str)> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["name"].as_str().unwrap(), c["industry"].as_str().unwrap()))
        .collect();
    assert_eq!(
        rows,
        [
            ("<script>alert(1)</script> Corp", "Retail"),
            ("Acme Ltd", "Manufacturing")
        ]
    );
    let customers = page_text(&b, &app.url("/customers")).await;
    assert!(
        customers.contains("&lt;script&gt;alert(1)&lt;/script&gt; Corp")
            && !customers.contains("<script>alert")
    );

    // The error CSV downloads with the session, its formula neutralised.
    let res = b
        .get(app.url(&format!("/api/v1/imports/{id}/errors.csv")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let csv = res.text().await.unwrap();
    let mut lines = csv.lines();
    assert_eq!(
        lines.next(),
        Some("Company,Web Site,Notes,Sector,Line,Errors")
    );
    let bad = lines.next().unwrap();
    assert!(
        bad.starts_with("\"'=HYPERLINK(") && bad.contains(",4,Web Site: must be a web domain"),
        "{bad}"
    );
    assert_eq!(lines.next(), None);

    // Once finished, it cannot run again.
    let (status, _, _) = post_form(&b, &app.url(&format!("{location}/start")), &mapping).await;
    assert_eq!(status, StatusCode::CONFLICT);
}

#[actix_web::test]
async fn the_import_page_counts_rows_and_customers_in_the_right_number() {
    let app = spawn_app().await;
    let admin = app.bootstrap_admin().await;
    let (b, csrf) = signed_in(&app, &admin).await;
    for (file, expected, rows) in [
        (
            "First Name,Company\nIlse,Vandermolen Bakeries\n",
            "create 1 customer to link",
            "Import 1 row<",
        ),
        (
            "First Name,Company\nIlse,Vandermolen Bakeries\nJan,Ostra Mills\n",
            "create 2 customers to link",
            "Import 2 rows<",
        ),
    ] {
        let res = upload(
            &b,
            &app.url("/import"),
            Some(&csrf),
            &[("entity", "contacts")],
            file.as_bytes(),
        )
        .await;
        let location = res.headers()["location"].to_str().unwrap().to_owned();
        let id = location.strip_prefix("/import/").unwrap().to_owned();
        settled(&app, &admin, &id).await;
        let mapping = [
            ("csrf_token", csrf.as_str()),
            ("col-0", "first_name"),
            ("col-1", "company_name"),
            ("on_duplicate", "skip"),
        ];
        post_form(&b, &app.url(&format!("{location}/preview")), &mapping).await;
        settled(&app, &admin, &id).await;
        let page = page_text(&b, &app.url(&location)).await;
        assert!(page.contains(expected), "{page}");
        assert!(page.contains(rows), "{page}");
    }
}

#[actix_web::test]
async fn only_importers_see_the_import_page() {
    let app = spawn_app().await;
    let admin = app.bootstrap_admin().await;
    for role in ["sales", "support"] {
        let who = app.user(&admin, role).await;
        let (b, csrf) = signed_in(&app, &who).await;
        assert_eq!(
            b.get(app.url("/import")).send().await.unwrap().status(),
            StatusCode::FORBIDDEN
        );
        let res = upload(
            &b,
            &app.url("/import"),
            Some(&csrf),
            &[("entity", "customers")],
            FILE.as_bytes(),
        )
        .await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "{role}");
        let list = page_text(&b, &app.url("/customers")).await;
        assert!(
            !list.contains("href=\"/import") && !list.contains("href=\"/duplicates\""),
            "{role}"
        );
    }
    let manager = app.user(&admin, "manager").await;
    let (b, _) = signed_in(&app, &manager).await;
    let home = page_text(&b, &app.url("/customers")).await;
    assert!(home.contains("href=\"/import\"") && home.contains("href=\"/duplicates\""));
}

#[actix_web::test]
async fn duplicate_contacts_are_merged_into_the_one_chosen() {
    let app = spawn_app().await;
    let admin = app.bootstrap_admin().await;
    let (b, csrf) = signed_in(&app, &admin).await;
    let acme = create(&app, &admin, "/api/v1/customers", json!({"name": "Acme"})).await;
    let older = create(&app, &admin, "/api/v1/contacts", json!({"first_name": "Jo", "last_name": "Park", "email": "jo@acme.example", "customer_id": acme})).await;
    let newer = create(&app, &admin, "/api/v1/contacts", json!({"first_name": "<script>alert(1)</script>", "email": "JO@acme.example", "phone": "+1 555 0100"})).await;
    let task = create(
        &app,
        &admin,
        "/api/v1/tasks",
        json!({"title": "Call Jo", "contact_id": older}),
    )
    .await;

    let page = page_text(&b, &app.url("/duplicates?entity=contact")).await;
    assert!(page.contains("Same e-mail: jo@acme.example"), "{page}");
    assert!(
        page.contains(&format!("value=\"{older}\""))
            && page.contains(&format!("value=\"{newer}\""))
    );
    assert!(page.contains("&lt;script&gt;alert(1)") && !page.contains("<script>alert"));
    assert!(page.contains(">Acme<"), "the company is shown");
    let customers = page_text(&b, &app.url("/duplicates?entity=customer")).await;
    assert!(customers.contains("No likely duplicates among your customers."));

    let merge = [
        ("csrf_token", csrf.as_str()),
        ("entity", "contact"),
        ("survivor_id", &newer),
        ("ids", &older),
        ("ids", &newer),
    ];
    let (status, _, _) = post_form(&b, &app.url("/duplicates/merge"), &merge[1..]).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "no CSRF token");
    let support = app.user(&admin, "support").await;
    let (s, s_csrf) = signed_in(&app, &support).await;
    assert_eq!(
        s.get(app.url("/duplicates")).send().await.unwrap().status(),
        StatusCode::FORBIDDEN
    );
    let mut as_support = merge;
    as_support[0].1 = &s_csrf;
    let (status, _, _) = post_form(&s, &app.url("/duplicates/merge"), &as_support).await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    let (status, location, _) = post_form(&b, &app.url("/duplicates/merge"), &merge).await;
    assert_eq!(
        (status, location.as_str()),
        (StatusCode::SEE_OTHER, "/duplicates?entity=contact")
    );
    let kept: Value = app
        .get(&format!("/api/v1/contacts/{newer}"), &admin.token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        kept["phone"], "+1 555 0100",
        "the survivor keeps its own values"
    );
    assert_eq!(
        kept["customer_id"].as_str(),
        Some(acme.as_str()),
        "and takes what it lacked"
    );
    assert_eq!(
        app.get(&format!("/api/v1/contacts/{older}"), &admin.token)
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    let moved: Value = app
        .get(&format!("/api/v1/tasks/{task}"), &admin.token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(moved["contact_id"].as_str(), Some(newer.as_str()));
    let after = page_text(&b, &app.url(&location)).await;
    assert!(
        after.contains("No likely duplicates among your contacts.") && after.contains("Merged:")
    );
}

/// The audit actions on record `id`, newest first, with their actors.
async fn audit(app: &TestApp, admin: &Login, id: &str) -> Vec<(String, String)> {
    let audit: Value = app
        .get(&format!("/api/v1/audit?entity_id={id}"), &admin.token)
        .await
        .json()
        .await
        .unwrap();
    audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["action"].as_str().unwrap().to_owned(),
                e["actor_id"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect()
}

#[actix_web::test]
async fn managers_assign_selected_rows_and_support_cannot() {
    let app = spawn_app().await;
    let admin = app.bootstrap_admin().await;
    let manager = app.user(&admin, "manager").await;
    let sales = app.user(&admin, "sales").await;
    let support = app.user(&admin, "support").await;
    let mut customers = Vec::new();
    for name in ["One", "Two", "Three"] {
        customers.push(create(&app, &admin, "/api/v1/customers", json!({"name": name})).await);
    }
    let task = create(&app, &admin, "/api/v1/tasks", json!({"title": "Follow up"})).await;

    let (m, csrf) = signed_in(&app, &manager).await;
    let list = page_text(&m, &app.url("/customers")).await;
    assert!(
        list.contains("formaction=\"/customers/bulk-assign\"")
            && list.contains(&format!("<option value=\"{}\">A sales</option>", sales.id)),
        "{list}"
    );
    let (status, location, _) = post_form(
        &m,
        &app.url("/customers/bulk-assign"),
        &[
            ("csrf_token", &csrf),
            ("ids", &customers[0]),
            ("ids", &customers[2]),
            ("owner_id", &sales.id),
            ("back", "/customers?sort=name"),
        ],
    )
    .await;
    assert_eq!(
        (status, location.as_str()),
        (StatusCode::SEE_OTHER, "/customers?sort=name")
    );
    for (i, id) in customers.iter().enumerate() {
        let c: Value = app
            .get(&format!("/api/v1/customers/{id}"), &admin.token)
            .await
            .json()
            .await
            .unwrap();
        let expected = if i == 1 { Value::Null } else { json!(sales.id) };
        assert_eq!(c["owner_id"], expected, "customer {i}");
    }
    let entries = audit(&app, &admin, &customers[0]).await;
    assert_eq!(
        entries[0],
        ("customer.update".to_owned(), manager.id.clone())
    );
    assert_eq!(
        audit(&app, &admin, &customers[1]).await.len(),
        1,
        "only created"
    );

    let (status, _, _) = post_form(
        &m,
        &app.url("/tasks/bulk-assign"),
        &[
            ("csrf_token", &csrf),
            ("ids", &task),
            ("owner_id", &support.id),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let t: Value = app
        .get(&format!("/api/v1/tasks/{task}"), &admin.token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(t["assigned_to"].as_str(), Some(support.id.as_str()));
    assert_eq!(audit(&app, &admin, &task).await[0].0, "task.update");

    // No owner chosen, or no CSRF token: nothing changes.
    let (status, _, _) = post_form(
        &m,
        &app.url("/customers/bulk-assign"),
        &[
            ("csrf_token", &csrf),
            ("ids", &customers[1]),
            ("owner_id", ""),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, _, _) = post_form(
        &m,
        &app.url("/customers/bulk-assign"),
        &[("ids", &customers[1]), ("owner_id", &sales.id)],
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // Support may not reassign: no bar, and the post is refused.
    let (s, s_csrf) = signed_in(&app, &support).await;
    assert!(
        !page_text(&s, &app.url("/customers"))
            .await
            .contains("bulk-assign")
    );
    let (status, _, _) = post_form(
        &s,
        &app.url("/customers/bulk-assign"),
        &[
            ("csrf_token", &s_csrf),
            ("ids", &customers[1]),
            ("owner_id", &support.id),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let c: Value = app
        .get(&format!("/api/v1/customers/{}", customers[1]), &admin.token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(c["owner_id"], Value::Null);
}

#[actix_web::test]
async fn export_selection_holds_exactly_the_selected_rows() {
    let app = spawn_app().await;
    let admin = app.bootstrap_admin().await;
    let manager = app.user(&admin, "manager").await;
    let support = app.user(&admin, "support").await;
    let mut leads = Vec::new();
    for (title, value) in [
        ("Alpha", 1000),
        ("=HYPERLINK(\"x\")", 2000),
        ("Gamma", 3000),
    ] {
        leads.push(
            create(
                &app,
                &admin,
                "/api/v1/leads",
                json!({"title": title, "value_cents": value}),
            )
            .await,
        );
    }
    let (m, csrf) = signed_in(&app, &manager).await;
    let res = m
        .post(app.url("/leads/bulk-export"))
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("ids", &leads[0]),
            ("ids", &leads[1]),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(
        res.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment; filename=\"leads-")
    );
    let body = res.bytes().await.unwrap();
    let mut reader = csv::Reader::from_reader(&body[..]);
    let header: Vec<String> = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_owned)
        .collect();
    let whole = app
        .get("/api/v1/exports/leads.csv", &manager.token)
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(
        Some(header.join(",").as_str()),
        whole.lines().next(),
        "the export's columns"
    );
    let value = header.iter().position(|h| h == "value_cents").unwrap();
    let mut rows: Vec<(String, String, String)> = reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            (r[0].to_owned(), r[1].to_owned(), r[value].to_owned())
        })
        .collect();
    rows.sort();
    let mut expected = vec![
        (leads[0].clone(), "Alpha".to_owned(), "1000".to_owned()),
        (
            leads[1].clone(),
            "'=HYPERLINK(\"x\")".to_owned(),
            "2000".to_owned(),
        ),
    ];
    expected.sort();
    assert_eq!(rows, expected);
    // Audited like an export, with the ids it was asked for.
    let exports: Value = app
        .get("/api/v1/audit?action=export.leads", &admin.token)
        .await
        .json()
        .await
        .unwrap();
    let selection = exports["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["after"]["filters"]["ids"].is_string())
        .expect("the selection's audit entry");
    assert_eq!(selection["actor_id"].as_str(), Some(manager.id.as_str()));
    assert_eq!(selection["after"]["rows"], 2);

    // Support may not export (and so never gets lead values); no CSRF, no file.
    let (s, s_csrf) = signed_in(&app, &support).await;
    let (status, _, body) = post_form(
        &s,
        &app.url("/leads/bulk-export"),
        &[("csrf_token", &s_csrf), ("ids", &leads[0])],
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(!body.contains("1000"));
    let (status, _, _) = post_form(&m, &app.url("/leads/bulk-export"), &[("ids", &leads[0])]).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _, _) =
        post_form(&m, &app.url("/leads/bulk-export"), &[("csrf_token", &csrf)]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "nothing selected");
}

#[actix_web::test]
async fn a_file_uploads_from_the_record_page_without_javascript() {
    let app = spawn_app().await;
    let admin = app.bootstrap_admin().await;
    let (b, csrf) = signed_in(&app, &admin).await;
    let customer = create(&app, &admin, "/api/v1/customers", json!({"name": "Acme"})).await;
    let page = page_text(&b, &app.url(&format!("/customers/{customer}"))).await;
    assert!(page.contains("action=\"/attachments\" enctype=\"multipart/form-data\""));
    let back = format!("/customers/{customer}");
    let fields = [
        ("back", back.as_str()),
        ("entity_type", "customer"),
        ("entity_id", customer.as_str()),
    ];
    let res = upload(
        &b,
        &app.url("/attachments"),
        None,
        &fields,
        b"Quote: 12 seats\n",
    )
    .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let res = upload(
        &b,
        &app.url("/attachments"),
        Some(&csrf),
        &fields,
        b"Quote: 12 seats\n",
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(res.headers()["location"], format!("{back}#files").as_str());
    let page = page_text(&b, &app.url(&back)).await;
    assert!(
        page.contains("clients.csv") && page.contains("File uploaded."),
        "{page}"
    );
    // The domain's rules hold: an empty file is refused.
    let res = upload(&b, &app.url("/attachments"), Some(&csrf), &fields, b"").await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
}
