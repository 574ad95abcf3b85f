//! Attachments: upload and download, limits, hostile names and types, ranges, permissions,
//! the trash, timelines, backups and `rapport check`.

use reqwest::{Method, Response, StatusCode};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::helpers::{
    Login, Options, TestApp, assert_problem, error_fields, spawn_app, spawn_app_with,
};
use crate::tasks::{body, create_customer, db};

const BOUNDARY: &str = "rapport-test-boundary-7MA4YWxkTrZu0gW";

/// Bytes that no magic number or text check recognises, spanning several stored chunks.
fn binary(len: usize) -> Vec<u8> {
    let mut state: u32 = 0x1234_5678;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            (state >> 24) as u8 | 0x80
        })
        .map(|b| if b == 0xFF { 0x81 } else { b })
        .collect()
}

fn sha256(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Percent-encodes every byte but ASCII letters and digits (RFC 8187).
fn pct(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// A multipart body built by hand, so tests control every byte of the part headers.
/// `file` is the file part's disposition parameters after `name="file"` and its bytes.
fn form(fields: &[(&str, &str)], file: Option<(&str, &[u8])>) -> Vec<u8> {
    let mut out = Vec::new();
    for (name, value) in fields {
        out.extend(
            format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            )
            .bytes(),
        );
    }
    if let Some((params, bytes)) = file {
        out.extend(
            format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"{params}\r\n\
                 Content-Type: image/png\r\n\r\n"
            )
            .bytes(),
        );
        out.extend_from_slice(bytes);
        out.extend(b"\r\n");
    }
    out.extend(format!("--{BOUNDARY}--\r\n").bytes());
    out
}

async fn post_form(app: &TestApp, who: &Login, body: Vec<u8>) -> Response {
    app.request(Method::POST, "/api/v1/attachments", Some(&who.token))
        .header(
            "content-type",
            format!("multipart/form-data; boundary={BOUNDARY}"),
        )
        .body(body)
        .send()
        .await
        .unwrap()
}

/// Uploads `bytes` as `filename` (sent as RFC 8187 `filename*`, exactly).
async fn upload_raw(
    app: &TestApp,
    who: &Login,
    entity_type: &str,
    entity_id: &str,
    filename: &str,
    bytes: &[u8],
) -> Response {
    let params = format!("; filename=\"x\"; filename*=UTF-8''{}", pct(filename));
    let body = form(
        &[("entity_type", entity_type), ("entity_id", entity_id)],
        Some((&params, bytes)),
    );
    post_form(app, who, body).await
}

async fn upload(
    app: &TestApp,
    who: &Login,
    entity_type: &str,
    entity_id: &str,
    filename: &str,
    bytes: &[u8],
) -> Value {
    let res = upload_raw(app, who, entity_type, entity_id, filename, bytes).await;
    assert_eq!(res.status(), StatusCode::CREATED, "upload of {filename}");
    res.json().await.unwrap()
}

async fn download(app: &TestApp, who: &Login, id: &str) -> Response {
    app.get(&format!("/api/v1/attachments/{id}"), &who.token)
        .await
}

fn header(res: &Response, name: &str) -> String {
    res.headers()
        .get(name)
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default()
}

fn id(v: &Value) -> String {
    v["id"].as_str().unwrap().to_owned()
}

async fn create_contact(app: &TestApp, who: &Login) -> String {
    let res = app
        .post(
            "/api/v1/contacts",
            &who.token,
            json!({ "first_name": "Grace" }),
        )
        .await;
    id(&body(res).await)
}

fn count(app: &TestApp, sql: &str, arg: &str) -> i64 {
    db(app).query_row(sql, [arg], |r| r.get(0)).unwrap()
}

#[actix_web::test]
async fn upload_and_download_round_trip() {
    let app = spawn_app().await;
    let admin = app.bootstrap_admin().await;
    let rep = app.user(&admin, "sales").await;
    let customer = create_customer(&app, &rep, "Acme").await;
    let bytes = binary(600 * 1024 + 7); // three stored chunks

    let res = upload_raw(&app, &rep, "customer", &customer, "report.bin", &bytes).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let location = header(&res, "location");
    let meta: Value = res.json().await.unwrap();
    assert_eq!(location, format!("/api/v1/attachments/{}", id(&meta)));
    assert_eq!(meta["entity_type"], "customer");
    assert_eq!(meta["entity_id"], customer.as_str());
    assert_eq!(meta["filename"], "report.bin");
    assert_eq!(meta["size"], bytes.len());
    assert_eq!(meta["sha256"], sha256(&bytes));
    assert_eq!(
        meta["content_type"], "application/octet-stream",
        "the client's image/png is not believed"
    );
    assert_eq!(meta["created_by"], rep.id.as_str());
    assert_eq!(id(&meta).len(), 36);

    let res = app.get(&location, &admin.token).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(header(&res, "content-type"), "application/octet-stream");
    assert_eq!(
        header(&res, "content-disposition"),
        "attachment; filename=\"report.bin\"; filename*=UTF-8''report.bin"
    );
    assert_eq!(header(&res, "x-content-type-options"), "nosniff");
    assert!(header(&res, "content-security-policy").contains("sandbox"));
    assert_eq!(header(&res, "etag"), format!("\"{}\"", sha256(&bytes)));
    assert_eq!(header(&res, "accept-ranges"), "bytes");
    assert_eq!(header(&res, "content-length"), bytes.len().to_string());
    let got = res.bytes().await.unwrap();
    assert_eq!(sha256(&got), sha256(&bytes));

    // Compression would break ranges and lengths: never applied.
    let res = app
        .request(Method::GET, &location, Some(&rep.token))
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_ne!(header(&res, "content-encoding"), "gzip");
    assert_eq!(res.bytes().await.unwrap().len(), bytes.len());

    let res = app
        .request(Method::GET, &location, Some(&rep.token))
        .header("if-none-match", format!("\"{}\"", sha256(&bytes)))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_MODIFIED);

    // A PNG is recognised by its bytes and served as an image.
    let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89";
    let image = upload(&app, &rep, "customer", &customer, "pixel.png", png).await;
    assert_eq!(image["content_type"], "image/png");
    let res = download(&app, &rep, &id(&image)).await;
    assert_eq!(header(&res, "content-type"), "image/png");
    assert!(header(&res, "content-disposition").starts_with("attachment;"));
    let text = upload(
        &app,
        &rep,
        "customer",
        &customer,
        "notes.txt",
        "Grüße\n".as_bytes(),
    )
    .await;
    assert_eq!(text["content_type"], "text/plain; charset=utf-8");

    // The record's list: newest first, paginated.
    let list = body(
        app.get(
            &format!("/api/v1/customers/{customer}/attachments?limit=2"),
            &rep.token,
        )
        .await,
    )
    .await;
    let names: Vec<&str> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["filename"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["notes.txt", "pixel.png"]);
    let cursor = list["next_cursor"].as_str().unwrap();
    let rest = body(
        app.get(
            &format!("/api/v1/customers/{customer}/attachments?limit=2&cursor={cursor}"),
            &rep.token,
        )
        .await,
    )
    .await;
    assert_eq!(rest["items"][0]["filename"], "report.bin");
    assert_eq!(rest["next_cursor"], Value::Null);

    // The upload is on the record's timeline and in the audit log.
    let timeline = body(
        app.get(
            &format!("/api/v1/customers/{customer}/timeline"),
            &rep.token,
        )
        .await,
    )
    .await;
    let item = timeline["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"] == meta["id"])
        .expect("the upload is on the timeline")
        .clone();
    assert_eq!(item["type"], "attachment_added");
    assert_eq!(item["summary"], "File uploaded: report.bin");
    assert_eq!(item["actor_id"], rep.id.as_str());
    assert_eq!(item["filename"], "report.bin");
    let audit = body(
        app.get(
            &format!(
                "/api/v1/audit?entity_type=attachment&entity_id={}",
                id(&meta)
            ),
            &admin.token,
        )
        .await,
    )
    .await;
    assert_eq!(audit["items"][0]["action"], "attachment.create");

    // Attachments of a task and a contact's list; unknown ids are 404.
    let task = body(
        app.post("/api/v1/tasks", &rep.token, json!({"title": "Send deck"}))
            .await,
    )
    .await;
    upload(&app, &rep, "task", &id(&task), "deck.bin", b"\x01\x02").await;
    let list = body(
        app.get(
            &format!("/api/v1/tasks/{}/attachments", id(&task)),
            &rep.token,
        )
        .await,
    )
    .await;
    assert_eq!(list["items"][0]["filename"], "deck.bin");
    assert_problem(
        app.get("/api/v1/contacts/nope/attachments", &rep.token)
            .await,
        404,
    )
    .await;
    assert_problem(download(&app, &rep, "nope").await, 404).await;
}

#[actix_web::test]
async fn size_limit_form_and_field_errors() {
    const LIMIT: usize = 64 * 1024;
    let app = spawn_app_with(Options {
        max_attachment: LIMIT,
        ..Options::default()
    })
    .await;
    let admin = app.bootstrap_admin().await;
    let customer = create_customer(&app, &admin, "Acme").await;

    let exact = binary(LIMIT);
    let meta = upload(&app, &admin, "customer", &customer, "exact.bin", &exact).await;
    assert_eq!(meta["size"], LIMIT);
    let over = binary(LIMIT + 1);
    let res = upload_raw(&app, &admin, "customer", &customer, "over.bin", &over).await;
    assert_problem(res, 413).await;
    assert_eq!(
        count(
            &app,
            "SELECT count(*) FROM attachments WHERE filename = ?1",
            "over.bin"
        ),
        0
    );

    // A declared length far past the limit is refused before any of the body is sent.
    let addr = app.base.trim_start_matches("http://").to_owned();
    let mut socket = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let head = format!(
        "POST /api/v1/attachments HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {}\r\n\
         Content-Type: multipart/form-data; boundary={BOUNDARY}\r\nContent-Length: {}\r\n\r\n",
        admin.token,
        1024 * 1024 * 1024
    );
    socket.write_all(head.as_bytes()).await.unwrap();
    let mut answer = vec![0u8; 4096];
    let n = tokio::time::timeout(std::time::Duration::from_secs(10), socket.read(&mut answer))
        .await
        .expect("answered without waiting for the body")
        .unwrap();
    let answer = String::from_utf8_lossy(&answer[..n]);
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");

    // Not a form: 415.
    let res = app
        .post(
            "/api/v1/attachments",
            &admin.token,
            json!({"entity_type": "customer"}),
        )
        .await;
    assert_problem(res, 415).await;

    // Missing and invalid fields: every one listed.
    let res = post_form(&app, &admin, form(&[("entity_type", "planet")], None)).await;
    let problem = assert_problem(res, 422).await;
    assert_eq!(error_fields(&problem), ["entity_type", "entity_id", "file"]);
    let res = upload_raw(&app, &admin, "customer", "no-such-id", "a.bin", b"x").await;
    let problem = assert_problem(res, 422).await;
    assert_eq!(error_fields(&problem), ["entity_id"]);
    let res = upload_raw(&app, &admin, "customer", &customer, "empty.bin", b"").await;
    let problem = assert_problem(res, 422).await;
    assert_eq!(error_fields(&problem), ["file"]);
    let res = post_form(
        &app,
        &admin,
        form(&[("entity_type", "customer"), ("colour", "red")], None),
    )
    .await;
    let problem = assert_problem(res, 422).await;
    assert_eq!(error_fields(&problem), ["colour"]);

    // A trashed record takes no files.
    let res = app
        .request(
            Method::DELETE,
            &format!("/api/v1/customers/{customer}"),
            Some(&admin.token),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let res = upload_raw(&app, &admin, "customer", &customer, "late.bin", b"x").await;
    let problem = assert_problem(res, 422).await;
    assert_eq!(error_fields(&problem), ["entity_id"]);

    // Unauthenticated: 401 before anything is read.
    let res = app
        .request(Method::POST, "/api/v1/attachments", None)
        .header(
            "content-type",
            format!("multipart/form-data; boundary={BOUNDARY}"),
        )
        .body(form(&[], None))
        .send()
        .await
        .unwrap();
    assert_problem(res, 401).await;
}

#[actix_web::test]
async fn hostile_filenames_are_stored_sanitised_and_sent_encoded() {
    let app = spawn_app().await;
    let admin = app.bootstrap_admin().await;
    let customer = create_customer(&app, &admin, "Acme").await;
    let cases: &[(&str, &str, &str)] = &[
        (
            "../../etc/passwd",
            "passwd",
            "attachment; filename=\"passwd\"; filename*=UTF-8''passwd",
        ),
        (
            "C:\\evil\\x.exe",
            "x.exe",
            "attachment; filename=\"x.exe\"; filename*=UTF-8''x.exe",
        ),
        (
            "ev\0il\u{1}\r\n.txt",
            "evil.txt",
            "attachment; filename=\"evil.txt\"; filename*=UTF-8''evil.txt",
        ),
        (
            "\"quotes\".txt",
            "\"quotes\".txt",
            "attachment; filename=\"_quotes_.txt\"; filename*=UTF-8''%22quotes%22.txt",
        ),
        (
            "résumé.pdf",
            "résumé.pdf",
            "attachment; filename=\"r_sum_.pdf\"; filename*=UTF-8''r%C3%A9sum%C3%A9.pdf",
        ),
        (
            "..",
            "file",
            "attachment; filename=\"file\"; filename*=UTF-8''file",
        ),
    ];
    for (raw, stored, disposition) in cases {
        let meta = upload(&app, &admin, "customer", &customer, raw, b"\x01hostile").await;
        assert_eq!(meta["filename"], *stored, "{raw:?}");
        let res = download(&app, &admin, &id(&meta)).await;
        assert_eq!(header(&res, "content-disposition"), *disposition, "{raw:?}");
    }
    // A plain `filename=` with a path, as old browsers sent it.
    let body = form(
        &[("entity_type", "customer"), ("entity_id", &customer)],
        Some(("; filename=\"../../etc/shadow\"", b"\x01")),
    );
    let res = post_form(&app, &admin, body).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let meta: Value = res.json().await.unwrap();
    assert_eq!(meta["filename"], "shadow");
    // No filename at all.
    let body = form(
        &[("entity_type", "customer"), ("entity_id", &customer)],
        Some(("", b"\x01")),
    );
    let meta: Value = post_form(&app, &admin, body).await.json().await.unwrap();
    assert_eq!(meta["filename"], "file");
}

#[actix_web::test]
async fn active_content_is_never_served_as_itself() {
    let app = spawn_app().await;
    let admin = app.bootstrap_admin().await;
    let customer = create_customer(&app, &admin, "Acme").await;
    for (name, bytes, detected) in [
        (
            "page.html",
            &b"<!DOCTYPE html><html><script>alert(document.cookie)</script>"[..],
            "text/html",
        ),
        (
            "logo.svg",
            &b"<svg xmlns=\"http://www.w3.org/2000/svg\" onload=\"alert(1)\"/>"[..],
            "image/svg+xml",
        ),
    ] {
        let meta = upload(&app, &admin, "customer", &customer, name, bytes).await;
        assert_eq!(meta["content_type"], detected);
        let res = download(&app, &admin, &id(&meta)).await;
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(header(&res, "content-type"), "application/octet-stream");
        assert!(
            header(&res, "content-disposition").starts_with("attachment; filename=\""),
            "{name}"
        );
        assert_eq!(header(&res, "x-content-type-options"), "nosniff");
        assert!(header(&res, "content-security-policy").contains("sandbox"));
        assert_eq!(res.bytes().await.unwrap(), bytes);
    }
}

#[actix_web::test]
async fn range_requests() {
    let app = spawn_app().await;
    let admin = app.bootstrap_admin().await;
    let customer = create_customer(&app, &admin, "Acme").await;
    let bytes = binary(700 * 1024);
    let size = bytes.len();
    let meta = upload(&app, &admin, "customer", &customer, "big.bin", &bytes).await;
    let path = format!("/api/v1/attachments/{}", id(&meta));
    let ranged = |range: &str| {
        app.request(Method::GET, &path, Some(&admin.token))
            .header("range", range.to_owned())
            .send()
    };

    for (range, start, end) in [
        ("bytes=0-99".to_owned(), 0, 99),
        // Across the boundary of two stored chunks.
        ("bytes=262100-262200".to_owned(), 262_100, 262_200),
        (format!("bytes={}-", size - 10), size - 10, size - 1),
        ("bytes=-5".to_owned(), size - 5, size - 1),
        (format!("bytes=600000-{}", size + 100), 600_000, size - 1),
    ] {
        let res = ranged(&range).await.unwrap();
        assert_eq!(res.status(), StatusCode::PARTIAL_CONTENT, "{range}");
        assert_eq!(
            header(&res, "content-range"),
            format!("bytes {start}-{end}/{size}")
        );
        assert_eq!(
            header(&res, "content-length"),
            (end - start + 1).to_string()
        );
        assert_eq!(res.bytes().await.unwrap(), &bytes[start..=end], "{range}");
    }

    let res = ranged(&format!("bytes={size}-")).await.unwrap();
    assert_eq!(header(&res, "content-range"), format!("bytes */{size}"));
    assert_problem(res, 416).await;

    // Several ranges, or a stale If-Range: the whole file.
    let res = ranged("bytes=0-1,5-6").await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.bytes().await.unwrap().len(), size);
    let res = app
        .request(Method::GET, &path, Some(&admin.token))
        .header("range", "bytes=0-9")
        .header("if-range", "\"stale\"")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.bytes().await.unwrap().len(), size);
}

#[actix_web::test]
async fn permissions_follow_the_record() {
    let app = spawn_app().await;
    let admin = app.bootstrap_admin().await;
    let ann = app.user(&admin, "sales").await;
    let bob = app.user(&admin, "sales").await;
    let sue = app.user(&admin, "support").await;
    let boss = app.user(&admin, "manager").await;
    let anns = create_customer(&app, &ann, "Ann's customer").await;
    let sues_contact = create_contact(&app, &sue).await;

    // Support cannot attach to a customer; a rep cannot attach to another rep's record.
    let res = upload_raw(&app, &sue, "customer", &anns, "x.bin", b"\x01").await;
    assert_problem(res, 403).await;
    let res = upload_raw(&app, &bob, "customer", &anns, "x.bin", b"\x01").await;
    assert_problem(res, 403).await;
    upload(&app, &sue, "contact", &sues_contact, "id.bin", b"\x01").await;

    // Everyone who reads the record reads its files.
    let file = upload(&app, &ann, "customer", &anns, "plan.bin", b"\x01plan").await;
    let by_admin = upload(&app, &admin, "customer", &anns, "admin.bin", b"\x01a").await;
    for who in [&bob, &sue, &boss] {
        assert_eq!(
            download(&app, who, &id(&file)).await.status(),
            StatusCode::OK
        );
    }

    // Bob may not delete someone else's file on someone else's record; Ann (owner of the
    // record) may delete the admin's file; a manager may delete anything.
    let delete = |who: &Login, file: &Value| {
        app.request(
            Method::DELETE,
            &format!("/api/v1/attachments/{}", id(file)),
            Some(&who.token),
        )
        .send()
    };
    assert_problem(delete(&bob, &file).await.unwrap(), 403).await;
    assert_problem(delete(&sue, &file).await.unwrap(), 403).await;
    assert_eq!(
        delete(&ann, &by_admin).await.unwrap().status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        delete(&boss, &file).await.unwrap().status(),
        StatusCode::NO_CONTENT
    );

    // The uploader may delete their file even once the record is no longer theirs.
    let hers = upload(&app, &ann, "customer", &anns, "mine.bin", b"\x01m").await;
    let res = app
        .patch(
            &format!("/api/v1/customers/{anns}"),
            &admin.token,
            json!({"owner_id": bob.id}),
        )
        .await;
    body(res).await;
    let res = upload_raw(&app, &ann, "customer", &anns, "more.bin", b"\x01").await;
    assert_problem(res, 403).await;
    // A stale If-Match changes nothing.
    let res = app
        .request(
            Method::DELETE,
            &format!("/api/v1/attachments/{}", id(&hers)),
            Some(&ann.token),
        )
        .header("if-match", "\"not-the-sha\"")
        .send()
        .await
        .unwrap();
    assert_problem(res, 412).await;
    let res = app
        .request(
            Method::DELETE,
            &format!("/api/v1/attachments/{}", id(&hers)),
            Some(&ann.token),
        )
        .header(
            "if-match",
            format!("\"{}\"", hers["sha256"].as_str().unwrap()),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);

    // Purging is for admins.
    let res = app
        .request(
            Method::POST,
            &format!("/api/v1/attachments/{}/purge", id(&hers)),
            Some(&boss.token),
        )
        .send()
        .await
        .unwrap();
    assert_problem(res, 403).await;
}

#[actix_web::test]
async fn trash_restore_purge_and_the_record_s_trash() {
    let app = spawn_app().await;
    let admin = app.bootstrap_admin().await;
    let rep = app.user(&admin, "sales").await;
    let customer = create_customer(&app, &rep, "Acme").await;
    let kept = upload(
        &app,
        &rep,
        "customer",
        &customer,
        "kept.bin",
        &binary(300_000),
    )
    .await;
    let gone = upload(&app, &rep, "customer", &customer, "gone.bin", &binary(1000)).await;
    let list_path = format!("/api/v1/customers/{customer}/attachments");
    let names = |v: &Value| -> Vec<String> {
        v["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["filename"].as_str().unwrap().to_owned())
            .collect()
    };
    let send = |method: Method, path: String, who: &Login| {
        app.request(method, &path, Some(&who.token)).send()
    };

    // Deleting one file: hidden, in the trash, on the timeline; restorable.
    let res = send(
        Method::DELETE,
        format!("/api/v1/attachments/{}", id(&gone)),
        &rep,
    )
    .await
    .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_problem(download(&app, &rep, &id(&gone)).await, 404).await;
    assert_eq!(
        names(&body(app.get(&list_path, &rep.token).await).await),
        ["kept.bin"]
    );
    let trash = body(app.get("/api/v1/trash?entity=attachment", &rep.token).await).await;
    assert_eq!(trash["items"][0]["id"], gone["id"]);
    assert_eq!(trash["items"][0]["entity"], "attachment");
    assert_eq!(trash["items"][0]["title"], "gone.bin");
    let timeline = body(
        app.get(
            &format!("/api/v1/customers/{customer}/timeline"),
            &rep.token,
        )
        .await,
    )
    .await;
    assert_eq!(timeline["items"][0]["type"], "attachment_deleted");
    assert_eq!(timeline["items"][0]["summary"], "File deleted: gone.bin");
    let res = send(
        Method::POST,
        format!("/api/v1/attachments/{}/restore", id(&gone)),
        &rep,
    )
    .await
    .unwrap();
    assert_eq!(body(res).await["filename"], "gone.bin");
    assert_eq!(
        download(&app, &rep, &id(&gone)).await.status(),
        StatusCode::OK
    );

    // Trashing the record hides its files and takes them to the trash; a file deleted on
    // its own before stays deleted when the record comes back.
    send(
        Method::DELETE,
        format!("/api/v1/attachments/{}", id(&gone)),
        &rep,
    )
    .await
    .unwrap();
    let res = send(
        Method::DELETE,
        format!("/api/v1/customers/{customer}"),
        &rep,
    )
    .await
    .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_problem(download(&app, &rep, &id(&kept)).await, 404).await;
    assert_problem(app.get(&list_path, &rep.token).await, 404).await;
    let res = send(
        Method::POST,
        format!("/api/v1/attachments/{}/restore", id(&kept)),
        &rep,
    )
    .await
    .unwrap();
    assert_problem(res, 409).await;
    let res = send(
        Method::POST,
        format!("/api/v1/customers/{customer}/restore"),
        &rep,
    )
    .await
    .unwrap();
    body(res).await;
    assert_eq!(
        names(&body(app.get(&list_path, &rep.token).await).await),
        ["kept.bin"]
    );
    assert_eq!(
        download(&app, &rep, &id(&kept)).await.status(),
        StatusCode::OK
    );

    // Purging a file frees its bytes; a live one must be deleted first.
    let chunks = "SELECT count(*) FROM attachment_chunks WHERE attachment_id = ?1";
    assert_eq!(count(&app, chunks, &id(&gone)), 1);
    let res = send(
        Method::POST,
        format!("/api/v1/attachments/{}/purge", id(&gone)),
        &admin,
    )
    .await
    .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_eq!(count(&app, chunks, &id(&gone)), 0);
    assert_eq!(
        count(
            &app,
            "SELECT count(*) FROM attachments WHERE id = ?1",
            &id(&gone)
        ),
        0
    );
    let res = send(
        Method::POST,
        format!("/api/v1/attachments/{}/purge", id(&kept)),
        &admin,
    )
    .await
    .unwrap();
    assert_problem(res, 409).await;

    // Purging the record purges its files.
    assert_eq!(count(&app, chunks, &id(&kept)), 2);
    send(
        Method::DELETE,
        format!("/api/v1/customers/{customer}"),
        &rep,
    )
    .await
    .unwrap();
    let res = send(
        Method::POST,
        format!("/api/v1/customers/{customer}/purge"),
        &admin,
    )
    .await
    .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_eq!(count(&app, chunks, &id(&kept)), 0);
    assert_eq!(
        count(
            &app,
            "SELECT count(*) FROM attachments WHERE entity_id = ?1",
            &customer
        ),
        0
    );
    let out = app.cli(&["check"], None);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[actix_web::test]
async fn backup_holds_the_bytes_and_check_verifies_them() {
    let app = spawn_app().await;
    let admin = app.bootstrap_admin().await;
    let customer = create_customer(&app, &admin, "Acme").await;
    let bytes = binary(550 * 1024);
    let meta = upload(&app, &admin, "customer", &customer, "contract.bin", &bytes).await;

    // `rapport backup` of the live server.
    let dest = app.db_path.with_file_name("backup.db");
    let out = app.cli(&["backup", dest.to_str().unwrap()], None);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let copy = rusqlite::Connection::open(&dest).unwrap();
    let mut stmt = copy
        .prepare("SELECT data FROM attachment_chunks WHERE attachment_id = ?1 ORDER BY seq")
        .unwrap();
    let mut restored = Vec::new();
    for chunk in stmt
        .query_map([id(&meta)], |r| r.get::<_, Vec<u8>>(0))
        .unwrap()
    {
        restored.extend(chunk.unwrap());
    }
    assert_eq!(sha256(&restored), sha256(&bytes));
    let stored: String = copy
        .query_row(
            "SELECT sha256 FROM attachments WHERE id = ?1",
            [id(&meta)],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(stored, sha256(&bytes));

    // `rapport check` passes, then finds one flipped byte.
    let out = app.cli(&["check"], None);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "{stdout}");
    assert!(stdout.contains("attachments: ok"), "{stdout}");
    db(&app)
        .execute(
            "UPDATE attachment_chunks SET data = CAST(zeroblob(length(data)) AS BLOB)
              WHERE attachment_id = ?1 AND seq = 1",
            [id(&meta)],
        )
        .unwrap();
    let out = app.cli(&["check"], None);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(!out.status.success(), "{stdout}");
    assert!(
        stdout.contains(&format!("attachments: attachment {}", id(&meta)))
            && stdout.contains("sha256"),
        "{stdout}"
    );
}
