//! The web app in a real headless Chromium (Debian's `chromium` and `chromium-driver`, which
//! `.ci/test` installs). These prove what HTTP-level tests cannot: the page works under its
//! own Content-Security-Policy, the stylesheet and script load, and the forms work when a
//! person fills them in.
//!
//! This module is the harness; the journeys live in its submodules. When a test fails, the
//! browser's last screen is saved under `target/browser-failures/` and its path printed.

mod admin;
mod daily;
mod import;
mod journey;

use std::io::{BufRead, Read, Write};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;

use crate::helpers::TestApp;

/// A chromedriver process and one browser session, both ended on drop.
pub struct Browser {
    driver: Child,
    client: Option<Client>,
    /// Where chromedriver listens and which session is ours, for the screenshot on failure.
    endpoint: (u16, String),
    _profile: tempfile::TempDir,
}

impl Browser {
    pub async fn start() -> Browser {
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
                    let session = client.session_id().await.unwrap().unwrap_or_default();
                    return Browser {
                        driver,
                        client: Some(client),
                        endpoint: (port, session),
                        _profile: profile,
                    };
                }
                Err(e) => last_error = e.to_string(),
            }
            actix_web::rt::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("could not start a Chromium session: {last_error}");
    }

    pub fn client(&self) -> &Client {
        self.client.as_ref().unwrap()
    }

    pub async fn close(mut self) {
        if let Some(c) = self.client.take() {
            let _ = c.close().await;
        }
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if std::thread::panicking() {
            save_failure_screenshot(self.endpoint.0, &self.endpoint.1);
        }
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

/// Opens the sign-in page (to land on `next` afterwards) and signs in.
pub async fn sign_in(c: &Client, app: &TestApp, next: &str, email: &str, password: &str) {
    c.goto(&app.url(&format!("/login?next={}", next.replace('/', "%2F"))))
        .await
        .unwrap();
    wait_text(c, "h1", |t| t == "Sign in").await;
    fill(c, "#f-email", email).await;
    fill(c, "#f-password", password).await;
    submit(c).await;
}

pub async fn fill(c: &Client, css: &str, text: &str) {
    let field = c.find(Locator::Css(css)).await.unwrap();
    field.clear().await.unwrap();
    field.send_keys(text).await.unwrap();
}

/// Waits until the element's text satisfies `expect`: after a click the old page may still
/// be showing, or be torn down under our feet.
pub async fn wait_text(c: &Client, css: &str, expect: impl Fn(&str) -> bool) -> String {
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

pub async fn submit(c: &Client) {
    c.find(Locator::Css("main button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
}

/// Types one character on whatever has focus, like a person pressing a key.
pub async fn press(c: &Client, key: char) {
    use fantoccini::actions::{InputSource, KeyAction, KeyActions};
    let keys = KeyActions::new("keyboard".into())
        .then(KeyAction::Down { value: key })
        .then(KeyAction::Up { value: key });
    c.perform_actions(keys).await.unwrap();
}

pub async fn click(c: &Client, css: &str) {
    c.find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"))
        .click()
        .await
        .unwrap();
}

pub async fn shot(c: &Client, name: &str) {
    if let Ok(dir) = std::env::var("RAPPORT_SCREENSHOTS") {
        std::fs::write(format!("{dir}/{name}.png"), c.screenshot().await.unwrap()).unwrap();
    }
}

pub async fn js(c: &Client, script: &str) -> serde_json::Value {
    c.execute(script, vec![]).await.unwrap()
}

/// Asks chromedriver for a screenshot over a plain blocking HTTP request: this runs while a
/// panicking test unwinds, where nothing can be awaited.
fn save_failure_screenshot(port: u16, session: &str) {
    let Ok(mut stream) = std::net::TcpStream::connect(("127.0.0.1", port)) else {
        return;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let request = format!(
        "GET /session/{session}/screenshot HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n"
    );
    if stream.write_all(request.as_bytes()).is_err() {
        return;
    }
    // chromedriver keeps the connection open, so read exactly Content-Length bytes.
    let mut reader = std::io::BufReader::new(stream);
    let mut length = 0;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':')
            && name.eq_ignore_ascii_case("content-length")
        {
            length = value.trim().parse().unwrap_or(0);
        }
    }
    let mut body = vec![0; length];
    if reader.read_exact(&mut body).is_err() {
        return;
    }
    let Ok(body) = serde_json::from_slice::<serde_json::Value>(&body) else {
        return;
    };
    let Some(png) = body["value"].as_str().and_then(|b64| {
        base64::Engine::decode(&base64::engine::general_purpose::STANDARD, b64).ok()
    }) else {
        return;
    };
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/browser-failures");
    let name = std::thread::current()
        .name()
        .unwrap_or("browser-test")
        .replace("::", "-");
    let path = dir.join(format!("{name}.png"));
    if std::fs::create_dir_all(&dir).is_ok() && std::fs::write(&path, png).is_ok() {
        eprintln!("browser screenshot at failure: {}", path.display());
    }
}
