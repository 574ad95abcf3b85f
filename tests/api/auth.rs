use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use rapport::auth::rate_limit::LoginLimits;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{
    Options, PASSWORD, SECRET, assert_problem, browser, csrf_from, page_text, spawn_app,
    spawn_app_with,
};

#[actix_web::test]
async fn setup_link_creates_the_first_admin_once() {
    let app = spawn_app().await;
    let token = app.setup_token.clone().unwrap();

    assert_eq!(
        app.client
            .get(app.url("/setup?token=wrong"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::NOT_FOUND
    );
    let admin = app.bootstrap_admin().await;
    let me: Value = app
        .get("/api/v1/auth/me", &admin.token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["role"], "admin");
    assert_eq!(me["email"], "admin@example.com");

    // The link is spent: neither the page nor a replayed submission works.
    let b = browser();
    let page = b
        .get(app.url(&format!("/setup?token={token}")))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::NOT_FOUND);
    let login_page = page_text(&b, &app.url("/login")).await;
    let csrf = csrf_from(&login_page);
    let replay = b
        .post(app.url("/setup"))
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("token", token.as_str()),
            ("name", "Mallory"),
            ("email", "mallory@example.com"),
            ("password", PASSWORD),
            ("confirm", PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(replay.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        app.login_response("mallory@example.com", PASSWORD)
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );
}

#[actix_web::test]
async fn a_database_with_users_prints_no_setup_link() {
    let app = spawn_app().await;
    app.bootstrap_admin().await;
    let out = app.cli(&["check"], None);
    assert!(out.status.success());
    // A second server on the same file finds a user and opens no setup gate.
    let mut config = rapport::config::ServeConfig::for_tests(app.db_path.clone());
    config.secret = Some(rapport::config::Secret::parse(SECRET).unwrap());
    let second = rapport::app::start(config).await.unwrap();
    assert!(second.setup_link().is_none());
}

#[actix_web::test]
async fn login_me_logout() {
    let app = spawn_app().await;
    let admin = app.bootstrap_admin().await;

    let res = app.login_response("admin@example.com", PASSWORD).await;
    assert_eq!(res.headers()["cache-control"], "no-store");
    let body: Value = res.json().await.unwrap();
    assert!(body["expires_at"].as_str().unwrap().ends_with('Z'));
    assert_eq!(body["user"]["email"], "admin@example.com");
    assert!(body["user"].get("password_hash").is_none());

    // E-mail is case-insensitive.
    app.login("ADMIN@Example.com", PASSWORD).await;

    assert_eq!(
        app.get("/api/v1/auth/me", &admin.token).await.status(),
        StatusCode::OK
    );
    let res = app
        .post("/api/v1/auth/logout", &admin.token, json!({}))
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_problem(app.get("/api/v1/auth/me", &admin.token).await, 401).await;
}

#[actix_web::test]
async fn unknown_email_and_wrong_password_get_the_same_answer() {
    let app = spawn_app().await;
    app.bootstrap_admin().await;
    let wrong = assert_problem(
        app.login_response("admin@example.com", "wrong password")
            .await,
        401,
    )
    .await;
    let unknown = assert_problem(
        app.login_response("nobody@example.com", PASSWORD).await,
        401,
    )
    .await;
    assert_eq!(wrong, unknown);
    // Over-long passwords are refused, never truncated to a matching prefix.
    let long = format!("{PASSWORD}{}", "x".repeat(80));
    assert_problem(app.login_response("admin@example.com", &long).await, 401).await;
}

#[actix_web::test]
async fn password_change_ends_every_session_and_returns_a_fresh_one() {
    let app = spawn_app().await;
    let admin = app.bootstrap_admin().await;
    let other_device = app.login("admin@example.com", PASSWORD).await;

    let res = app
        .post(
            "/api/v1/auth/password",
            &admin.token,
            json!({"current_password": "not it", "new_password": "a brand new secret"}),
        )
        .await;
    let body = assert_problem(res, 422).await;
    assert_eq!(body["errors"][0]["field"], "current_password");

    let res = app
        .post(
            "/api/v1/auth/password",
            &admin.token,
            json!({"current_password": PASSWORD, "new_password": "short"}),
        )
        .await;
    assert_eq!(
        assert_problem(res, 422).await["errors"][0]["field"],
        "new_password"
    );

    let res = app
        .post(
            "/api/v1/auth/password",
            &admin.token,
            json!({"current_password": PASSWORD, "new_password": "a brand new secret"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let fresh: Value = res.json().await.unwrap();
    let fresh_token = fresh["token"].as_str().unwrap();

    assert_problem(app.get("/api/v1/auth/me", &admin.token).await, 401).await;
    assert_problem(app.get("/api/v1/auth/me", &other_device.token).await, 401).await;
    assert_eq!(
        app.get("/api/v1/auth/me", fresh_token).await.status(),
        StatusCode::OK
    );
    assert_problem(app.login_response("admin@example.com", PASSWORD).await, 401).await;
    app.login("admin@example.com", "a brand new secret").await;
}

#[actix_web::test]
async fn admin_reset_ends_the_users_sessions() {
    let app = spawn_app().await;
    let admin = app.bootstrap_admin().await;
    let rep = app.user(&admin, "sales").await;

    let res = app
        .post(
            &format!("/api/v1/users/{}/reset-password", rep.id),
            &admin.token,
            json!({}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let new_password = res.json::<Value>().await.unwrap()["password"]
        .as_str()
        .unwrap()
        .to_owned();

    assert_problem(app.get("/api/v1/auth/me", &rep.token).await, 401).await;
    assert_problem(app.login_response(&rep.email, PASSWORD).await, 401).await;
    app.login(&rep.email, &new_password).await;
    // The admin's own session is untouched.
    assert_eq!(
        app.get("/api/v1/auth/me", &admin.token).await.status(),
        StatusCode::OK
    );
}

#[actix_web::test]
async fn cli_reset_while_serving_ends_the_users_sessions() {
    let app = spawn_app().await;
    let admin = app.bootstrap_admin().await;
    let rep = app.user(&admin, "support").await;

    let out = app.cli(&["user", "reset-password", "--email", &rep.email], None);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    let new_password = stdout
        .lines()
        .find_map(|l| l.split("(shown once): ").nth(1))
        .unwrap()
        .trim()
        .to_owned();

    assert_problem(app.get("/api/v1/auth/me", &rep.token).await, 401).await;
    app.login(&rep.email, &new_password).await;
}

#[actix_web::test]
async fn deactivation_ends_sessions_kills_api_tokens_and_refuses_logins() {
    let app = spawn_app().await;
    let admin = app.bootstrap_admin().await;
    let rep = app.user(&admin, "sales").await;
    let created: Value = app
        .post("/api/v1/tokens", &rep.token, json!({"name": "zapier"}))
        .await
        .json()
        .await
        .unwrap();
    let api_token = created["secret"].as_str().unwrap().to_owned();
    assert_eq!(
        app.get("/api/v1/auth/me", &api_token).await.status(),
        StatusCode::OK
    );

    let res = app
        .patch(
            &format!("/api/v1/users/{}", rep.id),
            &admin.token,
            json!({"active": false}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);

    assert_problem(app.get("/api/v1/auth/me", &rep.token).await, 401).await;
    assert_problem(app.get("/api/v1/auth/me", &api_token).await, 401).await;
    assert_problem(app.login_response(&rep.email, PASSWORD).await, 401).await;

    // Reactivating lets them sign in again, but old sessions stay dead.
    app.patch(
        &format!("/api/v1/users/{}", rep.id),
        &admin.token,
        json!({"active": true}),
    )
    .await;
    assert_problem(app.get("/api/v1/auth/me", &rep.token).await, 401).await;
    app.login(&rep.email, PASSWORD).await;
}

fn forge(header: &Value, claims: &Value, signature: &str) -> String {
    format!(
        "{}.{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string()),
        signature
    )
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

#[actix_web::test]
async fn tampered_tokens_are_refused() {
    let app = spawn_app().await;
    let admin = app.bootstrap_admin().await;
    let real: Value = {
        let payload = admin.token.split('.').nth(1).unwrap();
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
    };
    let sign = |alg: Algorithm, claims: &Value, key: &[u8]| {
        jsonwebtoken::encode(&Header::new(alg), claims, &EncodingKey::from_secret(key)).unwrap()
    };
    let key = SECRET.as_bytes();
    let t = now();
    let mut expired = real.clone();
    expired["exp"] = json!(t - 3600);
    expired["iat"] = json!(t - 7200);
    expired["nbf"] = json!(t - 7200);
    let mut not_yet = real.clone();
    not_yet["nbf"] = json!(t + 3600);
    not_yet["iat"] = json!(t + 3600);
    let mut other_user = real.clone();
    other_user["sub"] = json!("01900000-0000-7000-8000-000000000000");
    let mut no_exp = real.clone();
    no_exp.as_object_mut().unwrap().remove("exp");

    // The genuine token works, signed again with the right key too.
    assert_eq!(
        app.get("/api/v1/auth/me", &sign(Algorithm::HS256, &real, key))
            .await
            .status(),
        StatusCode::OK
    );
    let signature = admin.token.split('.').nth(2).unwrap();
    let cases = [
        (
            "alg none",
            forge(&json!({"alg": "none", "typ": "JWT"}), &real, ""),
        ),
        (
            "alg none with signature",
            forge(&json!({"alg": "none"}), &real, signature),
        ),
        ("HS512", sign(Algorithm::HS512, &real, key)),
        ("HS384", sign(Algorithm::HS384, &real, key)),
        (
            "wrong key",
            sign(
                Algorithm::HS256,
                &real,
                b"another-secret-of-at-least-32-bytes!!",
            ),
        ),
        ("expired", sign(Algorithm::HS256, &expired, key)),
        ("not yet valid", sign(Algorithm::HS256, &not_yet, key)),
        (
            "claims edited",
            forge(
                &json!({"alg": "HS256", "typ": "JWT"}),
                &other_user,
                signature,
            ),
        ),
        (
            "other user, valid signature",
            sign(Algorithm::HS256, &other_user, key),
        ),
        ("missing exp", sign(Algorithm::HS256, &no_exp, key)),
        ("garbage", "not.a.jwt".to_owned()),
        (
            "unknown api token",
            "rpt_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA".to_owned(),
        ),
    ];
    for (name, token) in cases {
        let res = app.get("/api/v1/auth/me", &token).await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{name}");
    }
    // Not a bearer scheme at all.
    let res = app
        .client
        .get(app.url("/api/v1/auth/me"))
        .header("Authorization", format!("Basic {}", admin.token))
        .send()
        .await
        .unwrap();
    assert_problem(res, 401).await;
}

#[actix_web::test]
async fn login_is_rate_limited_per_address_with_retry_after() {
    let app = spawn_app_with(Options {
        limits: LoginLimits::default(),
        ..Options::default()
    })
    .await;
    app.bootstrap_admin().await; // one attempt spent
    for _ in 0..9 {
        let res = app
            .login_response("admin@example.com", "wrong password")
            .await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    }
    let res = app.login_response("admin@example.com", PASSWORD).await;
    let retry_after: u64 = res.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry_after >= 1);
    assert_problem(res, 429).await;
}

#[actix_web::test]
async fn failures_lock_only_the_account_and_address_pair() {
    let app = spawn_app_with(Options {
        limits: LoginLimits {
            burst: 10_000,
            ..LoginLimits::default()
        },
        trusted_proxy: true,
        ..Options::default()
    })
    .await;
    app.bootstrap_admin().await;
    let from = |addr: &'static str, password: &'static str| {
        app.client
            .post(app.url("/api/v1/auth/login"))
            .header("X-Forwarded-For", addr)
            .json(&json!({"email": "admin@example.com", "password": password}))
            .send()
    };
    for _ in 0..100 {
        assert_eq!(
            from("203.0.113.7", "guess").await.unwrap().status(),
            StatusCode::UNAUTHORIZED
        );
    }
    let res = from("203.0.113.7", PASSWORD).await.unwrap();
    assert!(res.headers().contains_key("retry-after"));
    assert_problem(res, 429).await;
    // The real owner, elsewhere, is not locked out.
    assert_eq!(
        from("198.51.100.1", PASSWORD).await.unwrap().status(),
        StatusCode::OK
    );
}

#[actix_web::test]
async fn cookie_requests_need_a_csrf_token() {
    let app = spawn_app().await;
    app.bootstrap_admin().await;
    let (b, csrf) = app.browser_sign_in("admin@example.com", PASSWORD).await;
    let home = page_text(&b, &app.url("/")).await;
    let session_csrf = csrf_from(&home);

    // A safe request with the cookie alone is fine.
    assert_eq!(
        b.get(app.url("/api/v1/auth/me"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
    // An unsafe API request with the cookie but no token, or someone else's token, is refused.
    let res = b
        .post(app.url("/api/v1/tokens"))
        .json(&json!({"name": "x"}))
        .send()
        .await
        .unwrap();
    assert_problem(res, 403).await;
    let res = b
        .post(app.url("/api/v1/tokens"))
        .header("X-CSRF-Token", &csrf)
        .json(&json!({"name": "x"}))
        .send()
        .await
        .unwrap();
    assert_problem(res, 403).await;
    let res = b
        .post(app.url("/api/v1/tokens"))
        .header("X-CSRF-Token", &session_csrf)
        .json(&json!({"name": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);

    // Forms: without the hidden field nothing happens.
    let res = b
        .post(app.url("/profile/tokens"))
        .form(&[("name", "sneaky")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let res = b
        .post(app.url("/logout"))
        .form(&[("csrf_token", "forged")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        b.get(app.url("/api/v1/auth/me"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );

    // A sign-in form posted without the pre-session cookie (another site's form) is refused.
    let res = app
        .client
        .post(app.url("/login"))
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("email", "admin@example.com"),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
}

#[actix_web::test]
async fn logout_with_an_api_token_is_refused_and_the_token_survives() {
    let app = spawn_app().await;
    let admin = app.bootstrap_admin().await;
    let created: Value = app
        .post("/api/v1/tokens", &admin.token, json!({"name": "ci"}))
        .await
        .json()
        .await
        .unwrap();
    let secret = created["secret"].as_str().unwrap();
    let res = app
        .request(Method::POST, "/api/v1/auth/logout", Some(secret))
        .send()
        .await
        .unwrap();
    assert_problem(res, 400).await;
    assert_eq!(
        app.get("/api/v1/auth/me", secret).await.status(),
        StatusCode::OK
    );
}
