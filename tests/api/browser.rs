//! The web app in a real headless Chromium (Debian's `chromium` and `chromium-driver`, which
//! `.ci/test` installs). These prove what HTTP-level tests cannot: the page works under its
//! own Content-Security-Policy, the stylesheet and script load, and the forms work when a
//! person fills them in.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;

use crate::helpers::{PASSWORD, spawn_app};

/// A chromedriver process and one browser session, both ended on drop.
struct Browser {
    driver: Child,
    client: Option<Client>,
    _profile: tempfile::TempDir,
}

impl Browser {
    async fn start() -> Browser {
        let chromedriver = ["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"]
            .into_iter()
            .find(|p| std::path::Path::new(p).exists())
            .expect("chromedriver is missing: run `bash .ci/test`, which installs chromium and chromium-driver");
        let port = free_port();
        let driver = Command::new(chromedriver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let profile = tempfile::tempdir().unwrap();
        let mut caps = serde_json::Map::new();
        caps.insert(
            "goog:chromeOptions".into(),
            json!({
                "binary": "/usr/bin/chromium",
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--disable-quic", "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync", "--window-size=1280,900",
                    format!("--user-data-dir={}", profile.path().display()),
                ]
            }),
        );
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        let url = format!("http://127.0.0.1:{port}");
        let mut last_error = String::new();
        for _ in 0..100 {
            match ClientBuilder::new(connector.clone())
                .capabilities(caps.clone())
                .connect(&url)
                .await
            {
                Ok(client) => {
                    return Browser {
                        driver,
                        client: Some(client),
                        _profile: profile,
                    };
                }
                Err(e) => last_error = e.to_string(),
            }
            actix_web::rt::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("could not start a Chromium session: {last_error}");
    }

    fn client(&self) -> &Client {
        self.client.as_ref().unwrap()
    }

    async fn close(mut self) {
        if let Some(c) = self.client.take() {
            let _ = c.close().await;
        }
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

async fn fill(c: &Client, css: &str, text: &str) {
    let field = c.find(Locator::Css(css)).await.unwrap();
    field.clear().await.unwrap();
    field.send_keys(text).await.unwrap();
}

/// Waits until the element's text satisfies `expect`: after a click the old page may still
/// be showing, or be torn down under our feet.
async fn wait_text(c: &Client, css: &str, expect: impl Fn(&str) -> bool) -> String {
    let mut last = String::from("(not found)");
    for _ in 0..200 {
        if let Ok(element) = c.find(Locator::Css(css)).await
            && let Ok(text) = element.text().await
        {
            if expect(&text) {
                return text;
            }
            last = text;
        }
        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{css}: last saw {last:?}");
}

async fn submit(c: &Client) {
    c.find(Locator::Css("main button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
}

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
