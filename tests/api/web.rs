//! The sign-in pages, driven like a browser would (cookie jar, forms, redirects).

use reqwest::StatusCode;

use crate::helpers::{Options, PASSWORD, browser, csrf_from, page_text, spawn_app, spawn_app_with};

#[actix_web::test]
async fn sign_in_sign_out_round_trip() {
    let app = spawn_app().await;
    app.bootstrap_admin().await;
    let b = browser();

    let res = b.get(app.url("/profile")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(res.headers()["location"], "/login?next=%2Fprofile");

    let page = page_text(&b, &app.url("/login?next=%2Fprofile")).await;
    let csrf = csrf_from(&page);
    let wrong = b
        .post(app.url("/login"))
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("email", "admin@example.com"),
            ("password", "nope"),
            ("next", "/profile"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    let html = wrong.text().await.unwrap();
    assert!(html.contains("Wrong e-mail or password."));
    assert!(
        html.contains("value=\"admin@example.com\""),
        "keeps what was typed"
    );

    let ok = b
        .post(app.url("/login"))
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("email", "admin@example.com"),
            ("password", PASSWORD),
            ("next", "/profile"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), StatusCode::SEE_OTHER);
    assert_eq!(ok.headers()["location"], "/profile");
    let cookie = ok.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );

    let profile = page_text(&b, &app.url("/profile")).await;
    assert!(profile.contains("Ada Admin"));
    let session_csrf = csrf_from(&profile);

    // GET /logout only asks.
    let confirm = b.get(app.url("/logout")).send().await.unwrap();
    assert_eq!(confirm.status(), StatusCode::OK);
    assert_eq!(
        b.get(app.url("/api/v1/auth/me"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );

    let out = b
        .post(app.url("/logout"))
        .form(&[("csrf_token", session_csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), StatusCode::SEE_OTHER);
    let login = page_text(&b, &app.url("/login")).await;
    assert!(login.contains("You are signed out."));
    assert_eq!(
        b.get(app.url("/api/v1/auth/me"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::UNAUTHORIZED
    );
}

#[actix_web::test]
async fn sign_in_never_redirects_off_site() {
    let app = spawn_app().await;
    app.bootstrap_admin().await;
    let b = browser();
    let page = page_text(&b, &app.url("/login")).await;
    let csrf = csrf_from(&page);
    let res = b
        .post(app.url("/login"))
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("email", "admin@example.com"),
            ("password", PASSWORD),
            ("next", "//evil.example/"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["location"], "/");
}

#[actix_web::test]
async fn setup_form_keeps_input_and_explains_errors() {
    let app = spawn_app().await;
    let token = app.setup_token.clone().unwrap();
    let b = browser();
    let page = b
        .get(app.url(&format!("/setup?token={token}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = csrf_from(&page);
    let res = b
        .post(app.url("/setup"))
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("token", token.as_str()),
            ("name", "Ada <b>Admin</b>"),
            ("email", "not-an-email"),
            ("password", "short"),
            ("confirm", "different"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = res.text().await.unwrap();
    assert!(html.contains("Email must be an e-mail address"));
    assert!(html.contains("Password must be at least 8 characters"));
    assert!(html.contains("Repeat password does not match"));
    assert!(
        html.contains("value=\"Ada &lt;b&gt;Admin&lt;/b&gt;\""),
        "typed input kept and escaped"
    );
    assert!(!html.contains("<b>Admin</b>"));
    // The link still works after a refused attempt.
    assert_eq!(
        b.get(app.url(&format!("/setup?token={token}")))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
}

#[actix_web::test]
async fn profile_changes_password_and_manages_tokens() {
    let app = spawn_app().await;
    let admin = app.bootstrap_admin().await;
    let (b, _) = app.browser_sign_in("admin@example.com", PASSWORD).await;
    let profile = page_text(&b, &app.url("/profile")).await;
    assert!(profile.contains("You have no API tokens yet."));
    let csrf = csrf_from(&profile);

    let created = b
        .post(app.url("/profile/tokens"))
        .form(&[("csrf_token", csrf.as_str()), ("name", "Zapier")])
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), StatusCode::CREATED);
    let html = created.text().await.unwrap();
    assert!(html.contains("It will not be shown again."));
    let secret_start = html.find("rpt_").unwrap();
    let secret: String = html[secret_start..]
        .chars()
        .take_while(|c| *c != '"')
        .collect();
    assert_eq!(
        app.get("/api/v1/auth/me", &secret).await.status(),
        StatusCode::OK
    );

    let mismatch = b
        .post(app.url("/profile/password"))
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("current_password", PASSWORD),
            ("new_password", "new password 1"),
            ("confirm", "new password 2"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(mismatch.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let changed = b
        .post(app.url("/profile/password"))
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("current_password", PASSWORD),
            ("new_password", "new password 1"),
            ("confirm", "new password 1"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(changed.status(), StatusCode::SEE_OTHER);
    // This browser stays signed in; the API session from before is over.
    let profile = page_text(&b, &app.url("/profile")).await;
    assert!(profile.contains("Password changed."));
    assert_eq!(
        app.get("/api/v1/auth/me", &admin.token).await.status(),
        StatusCode::UNAUTHORIZED
    );
}

#[actix_web::test]
async fn assets_are_cached_by_content_hash() {
    let app = spawn_app().await;
    let login = app
        .client
        .get(app.url("/login"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let start = login.find("/assets/app.css?v=").unwrap();
    let url: String = login[start..].chars().take_while(|c| *c != '"').collect();
    let res = app.client.get(app.url(&url)).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/css")
    );
    assert!(
        res.headers()["cache-control"]
            .to_str()
            .unwrap()
            .contains("immutable")
    );
    let etag = res.headers()["etag"].clone();
    let again = app
        .client
        .get(app.url(&url))
        .header("If-None-Match", etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
    assert_eq!(
        app.client
            .get(app.url("/assets/nope.js"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.client
            .get(app.url("/assets/../Cargo.toml"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::NOT_FOUND
    );
}

#[actix_web::test]
async fn behind_https_cookies_are_host_prefixed_and_hsts_is_sent() {
    let app = spawn_app_with(Options {
        base_url: "https://crm.example.com".into(),
        ..Options::default()
    })
    .await;
    app.bootstrap_admin().await;
    let res = app.client.get(app.url("/login")).send().await.unwrap();
    assert!(
        res.headers()["strict-transport-security"]
            .to_str()
            .unwrap()
            .contains("max-age=")
    );
    let pre = res.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(
        pre.starts_with("__Host-rapport_pre=") && pre.contains("Secure") && pre.contains("Path=/"),
        "{pre}"
    );
    let csrf = csrf_from(&res.text().await.unwrap());
    let cookie_value = pre.split(';').next().unwrap().to_owned();
    let signed_in = app
        .client
        .post(app.url("/login"))
        .header("Cookie", cookie_value)
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("email", "admin@example.com"),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(signed_in.status(), StatusCode::SEE_OTHER);
    let session = signed_in.headers()["set-cookie"].to_str().unwrap();
    assert!(session.starts_with("__Host-rapport_session="), "{session}");
    for flag in ["Secure", "HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(session.contains(flag), "{flag} in {session}");
    }
    assert!(!session.contains("Domain"));
}

#[actix_web::test]
async fn a_signed_in_visitor_skips_the_sign_in_page() {
    let app = spawn_app().await;
    app.bootstrap_admin().await;
    let (b, _) = app.browser_sign_in("admin@example.com", PASSWORD).await;
    let again = b
        .get(app.url("/login?next=%2Fprofile"))
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::SEE_OTHER);
    assert_eq!(again.headers()["location"], "/profile");
}
