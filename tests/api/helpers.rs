//! Starting the app and talking to it.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::Duration;

use rapport::auth::rate_limit::LoginLimits;
use rapport::config::{Secret, ServeConfig};
use reqwest::{Client, Method, RequestBuilder, Response, StatusCode};
use serde_json::{Value, json};
use tempfile::TempDir;

/// The signing key every test server uses, so tests can forge tokens with it.
pub const SECRET: &str = "integration-test-secret-of-at-least-32-bytes";
pub const PASSWORD: &str = "correct horse battery";

pub struct TestApp {
    pub base: String,
    pub db_path: PathBuf,
    pub setup_token: Option<String>,
    pub client: Client,
    _dir: TempDir,
}

pub struct Options {
    pub limits: LoginLimits,
    pub trusted_proxy: bool,
    pub base_url: String,
    /// `--max-attachment`.
    pub max_attachment: usize,
    /// `--backup-interval` and `--backup-keep`, with `--backup-dir` the `backups` folder
    /// beside the database ([`TestApp::backup_dir`]); `None` takes no snapshots.
    pub backups: Option<(Duration, usize)>,
    /// `--metrics-token`.
    pub metrics_token: Option<String>,
    /// `--timezone`; `None` keeps the default, UTC.
    pub timezone: Option<&'static str>,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            // Generous limits so tests that sign in many times are not throttled; the rate
            // limit tests set their own.
            limits: LoginLimits {
                burst: 10_000,
                ..LoginLimits::default()
            },
            trusted_proxy: false,
            base_url: String::new(),
            max_attachment: rapport::config::DEFAULT_MAX_ATTACHMENT,
            backups: None,
            metrics_token: None,
            timezone: None,
        }
    }
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(Options::default()).await
}

pub async fn spawn_app_with(options: Options) -> TestApp {
    let dir = tempfile::tempdir().expect("temp dir");
    let db_path = dir.path().join("rapport.db");
    let mut config = ServeConfig::for_tests(db_path.clone());
    config.secret = Some(Secret::parse(SECRET).unwrap());
    config.login_limits = options.limits;
    config.max_body_bytes = 64 * 1024;
    config.base_url = options.base_url;
    config.max_attachment_bytes = options.max_attachment;
    config.backups = options
        .backups
        .map(|(interval, keep)| rapport::db::backups::Schedule {
            dir: dir.path().join("backups"),
            interval,
            keep,
        });
    config.metrics_token = options
        .metrics_token
        .map(|t| Secret::parse_named("metrics token", &t, 16).unwrap());
    if let Some(zone) = options.timezone {
        config.timezone = rapport::domain::clock::Zone::parse(zone).unwrap();
    }
    if options.trusted_proxy {
        config.trusted_proxies = vec!["127.0.0.1".parse().unwrap()];
    }
    let running = rapport::app::start(config).await.expect("server starts");
    let base = format!("http://{}", running.addr);
    let setup_token = running.setup_token.clone();
    actix_web::rt::spawn(running.server);
    TestApp {
        base,
        db_path,
        setup_token,
        client: client(),
        _dir: dir,
    }
}

/// A client that does not follow redirects, so tests see the 303s.
pub fn client() -> Client {
    Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

/// A client with a cookie jar, like a browser.
pub fn browser() -> Client {
    Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .cookie_store(true)
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

/// A signed-in user.
pub struct Login {
    pub id: String,
    pub email: String,
    pub token: String,
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub fn request(&self, method: Method, path: &str, token: Option<&str>) -> RequestBuilder {
        let rb = self.client.request(method, self.url(path));
        match token {
            Some(t) => rb.bearer_auth(t),
            None => rb,
        }
    }

    pub async fn get(&self, path: &str, token: &str) -> Response {
        self.request(Method::GET, path, Some(token))
            .send()
            .await
            .unwrap()
    }

    pub async fn post(&self, path: &str, token: &str, body: Value) -> Response {
        self.request(Method::POST, path, Some(token))
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    pub async fn patch(&self, path: &str, token: &str, body: Value) -> Response {
        self.request(Method::PATCH, path, Some(token))
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    pub async fn login_response(&self, email: &str, password: &str) -> Response {
        self.client
            .post(self.url("/api/v1/auth/login"))
            .json(&json!({ "email": email, "password": password }))
            .send()
            .await
            .unwrap()
    }

    pub async fn login(&self, email: &str, password: &str) -> Login {
        let res = self.login_response(email, password).await;
        assert_eq!(res.status(), StatusCode::OK, "login as {email}");
        let body: Value = res.json().await.unwrap();
        Login {
            id: body["user"]["id"].as_str().unwrap().to_owned(),
            email: email.to_owned(),
            token: body["token"].as_str().unwrap().to_owned(),
        }
    }

    /// Creates the first admin through the setup link, the way a new install does.
    pub async fn bootstrap_admin(&self) -> Login {
        let browser = browser();
        let token = self
            .setup_token
            .clone()
            .expect("a fresh database has a setup link");
        let page = browser
            .get(self.url(&format!("/setup?token={token}")))
            .send()
            .await
            .unwrap();
        assert_eq!(page.status(), StatusCode::OK);
        let csrf = csrf_from(&page.text().await.unwrap());
        let res = browser
            .post(self.url("/setup"))
            .form(&[
                ("csrf_token", csrf.as_str()),
                ("token", token.as_str()),
                ("name", "Ada Admin"),
                ("email", "admin@example.com"),
                ("password", PASSWORD),
                ("confirm", PASSWORD),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(
            res.status(),
            StatusCode::SEE_OTHER,
            "setup creates the admin"
        );
        self.login("admin@example.com", PASSWORD).await
    }

    /// Creates a user with `role` through the admin API and signs them in.
    pub async fn user(&self, admin: &Login, role: &str) -> Login {
        let email = format!("{role}-{}@example.com", uuid::Uuid::now_v7().simple());
        let res = self
            .post(
                "/api/v1/users",
                &admin.token,
                json!({ "email": email, "name": format!("A {role}"), "role": role, "password": PASSWORD }),
            )
            .await;
        assert_eq!(res.status(), StatusCode::CREATED);
        self.login(&email, PASSWORD).await
    }

    /// Runs the real `rapport` binary against this app's database.
    pub fn cli(&self, args: &[&str], stdin: Option<&str>) -> std::process::Output {
        rapport_cli(&self.db_path, args, stdin)
    }

    /// Where `Options::backups` puts the scheduled snapshots.
    pub fn backup_dir(&self) -> PathBuf {
        self.db_path.with_file_name("backups")
    }
}

/// Runs the real `rapport` binary against the database at `db`.
pub fn rapport_cli(db: &Path, args: &[&str], stdin: Option<&str>) -> std::process::Output {
    use std::io::Write;
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_rapport"));
    cmd.args(args)
        .env("RAPPORT_DB", db)
        .env("RAPPORT_BCRYPT_COST", "4")
        .env("RAPPORT_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("rapport binary runs");
    if let Some(input) = stdin {
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
    } else {
        drop(child.stdin.take());
    }
    child.wait_with_output().unwrap()
}

/// Creates `admin@example.com` with [`PASSWORD`] in the database at `db` (created if
/// needed) through the command line, for tests that run `rapport serve` themselves.
pub fn create_admin(db: &Path) {
    let args = [
        "user",
        "create",
        "--email",
        "admin@example.com",
        "--name",
        "Ada",
        "--role",
        "admin",
        "--password-stdin",
    ];
    let out = rapport_cli(db, &args, Some(&format!("{PASSWORD}\n")));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// How long a test waits for a server to start or stop.
const SERVER_PATIENCE: Duration = Duration::from_secs(20);

/// `rapport serve` as a separate process, so it can be killed like a crashed server or
/// stopped the way systemd stops it.
pub struct Server {
    child: Child,
    pub base: String,
    /// The drained stderr, when started by [`Server::start_logging`].
    logs: Option<std::thread::JoinHandle<String>>,
}

impl Server {
    pub async fn start(db: &Path) -> Server {
        Self::start_with(db, &[]).await
    }

    /// With extra `serve` flags.
    pub async fn start_with(db: &Path, args: &[&str]) -> Server {
        Self::spawn(db, args, "warn", false).await
    }

    /// With extra flags, logging at `filter` (`RAPPORT_LOG`) into a buffer that
    /// [`Server::stop_and_read_logs`] returns.
    pub async fn start_logging(db: &Path, args: &[&str], filter: &str) -> Server {
        Self::spawn(db, args, filter, true).await
    }

    async fn spawn(db: &Path, args: &[&str], filter: &str, capture: bool) -> Server {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut child = Command::new(env!("CARGO_BIN_EXE_rapport"))
            .args(["serve", "--bind", &format!("127.0.0.1:{port}")])
            .args(args)
            .env("RAPPORT_DB", db)
            .env("RAPPORT_SECRET", SECRET)
            .env("RAPPORT_BCRYPT_COST", "4")
            .env("RAPPORT_LOG", filter)
            .stdout(Stdio::null())
            .stderr(if capture {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .spawn()
            .unwrap();
        // Drained as it comes: a full pipe would block the server's logging.
        let logs = child.stderr.take().map(|mut stderr| {
            std::thread::spawn(move || {
                let mut text = String::new();
                std::io::Read::read_to_string(&mut stderr, &mut text).unwrap();
                text
            })
        });
        let base = format!("http://127.0.0.1:{port}");
        let deadline = std::time::Instant::now() + SERVER_PATIENCE;
        while client()
            .get(format!("{base}/healthz"))
            .send()
            .await
            .is_err()
        {
            assert!(std::time::Instant::now() < deadline, "rapport serve starts");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Server { child, base, logs }
    }

    /// SIGKILL: a crash.
    pub fn kill(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    /// SIGTERM, as `systemctl stop` sends it, then waits for the exit.
    pub async fn terminate(mut self) -> ExitStatus {
        let sent = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(sent.success());
        let deadline = std::time::Instant::now() + SERVER_PATIENCE;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(std::time::Instant::now() < deadline, "rapport serve stops");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// SIGTERM, then everything the server logged ([`Server::start_logging`]).
    pub async fn stop_and_read_logs(mut self) -> String {
        let logs = self.logs.take().expect("started by start_logging");
        assert!(self.terminate().await.success());
        logs.join().unwrap()
    }

    /// Signs in as the admin [`create_admin`] made.
    pub async fn sign_in(&self) -> String {
        self.sign_in_as("admin@example.com", PASSWORD).await
    }

    /// A bearer token for the user with this e-mail and password.
    pub async fn sign_in_as(&self, email: &str, password: &str) -> String {
        let res = client()
            .post(format!("{}/api/v1/auth/login", self.base))
            .json(&json!({"email": email, "password": password}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        res.json::<Value>().await.unwrap()["token"]
            .as_str()
            .unwrap()
            .to_owned()
    }
}

/// An external program a test runs: the path in the environment variable `var`, else `name`
/// found on PATH; panics with `install` (how to get it) when neither is there, so a missing
/// tool fails the test instead of skipping it.
pub fn external_tool(var: &str, name: &str, install: &str) -> PathBuf {
    if let Some(path) = std::env::var_os(var) {
        return PathBuf::from(path);
    }
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|p| p.join(name))
            .find(|p| p.is_file())
    });
    found.unwrap_or_else(|| {
        panic!("this test needs `{name}`: {install} and put it on PATH, or point {var} at it")
    })
}

/// The CSRF token of the first form on a page.
pub fn csrf_from(html: &str) -> String {
    let marker = "name=\"csrf_token\" value=\"";
    let start = html.find(marker).expect("page has a CSRF field") + marker.len();
    let end = html[start..].find('"').unwrap();
    html[start..start + end].to_owned()
}

/// Asserts a problem+json answer with `status` and returns its body.
pub async fn assert_problem(res: Response, status: u16) -> Value {
    assert_eq!(res.status().as_u16(), status, "status of {}", res.url());
    let content_type = res
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    assert_eq!(content_type, "application/problem+json");
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["status"], status);
    assert!(
        body["type"]
            .as_str()
            .unwrap()
            .starts_with("urn:rapport:problem:")
    );
    assert!(!body["title"].as_str().unwrap().is_empty());
    assert!(!body["detail"].as_str().unwrap().is_empty());
    body
}

/// The fields named in a 422's `errors`.
pub fn error_fields(body: &Value) -> Vec<String> {
    body["errors"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|e| e["field"].as_str().unwrap().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

/// A browser signed in as `who`, with the CSRF token its forms carry (one per session: every
/// page's forms carry the same).
pub async fn signed_in(app: &TestApp, who: &Login) -> (Client, String) {
    let (b, _) = app.browser_sign_in(&who.email, PASSWORD).await;
    let csrf = csrf_from(&page_text(&b, &app.url("/profile")).await);
    (b, csrf)
}

/// Posts a form as a browser would; answers the status, the `Location` (empty without one)
/// and the body.
pub async fn post_form(
    b: &Client,
    url: &str,
    form: &[(&str, &str)],
) -> (StatusCode, String, String) {
    let res = b.post(url).form(form).send().await.unwrap();
    let status = res.status();
    let location = res
        .headers()
        .get("location")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (status, location, res.text().await.unwrap())
}

/// The body of a GET, as a browser would load it.
pub async fn page_text(client: &Client, url: &str) -> String {
    client.get(url).send().await.unwrap().text().await.unwrap()
}

impl TestApp {
    /// A browser signed in through the sign-in form. Also returns the CSRF token of the
    /// sign-in page, bound to the pre-session cookie.
    pub async fn browser_sign_in(&self, email: &str, password: &str) -> (Client, String) {
        let b = browser();
        let csrf = csrf_from(&page_text(&b, &self.url("/login")).await);
        let res = b
            .post(self.url("/login"))
            .form(&[
                ("csrf_token", csrf.as_str()),
                ("email", email),
                ("password", password),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "signed in as {email}");
        (b, csrf)
    }
}
