//! Many open notification streams on one server: its memory, and how long a notification
//! takes to reach every tab of its recipient. Starts the release binary on a fresh database:
//!
//! ```sh
//! cargo build --release
//! cargo bench --bench streams -- [STREAMS] [USERS]      # default 500 streams, 50 users
//! ```
//!
//! Each user has STREAMS / USERS tabs open. An admin then assigns tasks to one user after
//! another; the latency of a notification is from sending the assigning request to the
//! notification's arrival in a tab (so it includes that request's own round trip).

use std::io::Write;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use reqwest::Client;
use serde_json::{Value, json};
use tokio::sync::mpsc;

const SECRET: &str = "bench-secret-bench-secret-bench-secret-0123";
const PASSWORD: &str = "bench password 1";
const ROUNDS: usize = 200;

#[tokio::main]
async fn main() {
    let numbers: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let streams = numbers.first().copied().unwrap_or(500);
    let users = numbers.get(1).copied().unwrap_or(50).clamp(1, streams);
    let binary = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/release/rapport");
    assert!(binary.exists(), "build first: cargo build --release");
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("streams.db");
    create_admin(&binary, &db);
    let (mut server, base) = serve(&binary, &db).await;
    let http = Client::builder()
        .pool_max_idle_per_host(streams + 16)
        .build()
        .unwrap();

    let admin = sign_in(&http, &base, "admin@example.com", 0).await;
    let mut people = Vec::new();
    for n in 0..users {
        let email = format!("rep{n}@example.com");
        let res = http
            .post(format!("{base}/api/v1/users"))
            .bearer_auth(&admin)
            .json(&json!({"email": email, "name": format!("Rep {n}"), "role": "sales", "password": PASSWORD}))
            .send()
            .await
            .unwrap();
        assert!(res.status().is_success(), "create user: {}", res.status());
        let id = res.json::<Value>().await.unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned();
        people.push((id, sign_in(&http, &base, &email, n + 1).await));
    }

    let idle_rss = rss_kib(server.id());
    let (arrivals, mut arrived) = mpsc::unbounded_channel::<(usize, Instant)>();
    let (ready_tx, mut ready) = mpsc::unbounded_channel::<()>();
    for n in 0..streams {
        let user = n % users;
        let token = people[user].1.clone();
        let url = format!("{base}/api/v1/notifications/stream");
        let http = http.clone();
        let arrivals = arrivals.clone();
        let ready_tx = ready_tx.clone();
        tokio::spawn(async move {
            let mut res = http.get(url).bearer_auth(token).send().await.unwrap();
            assert!(res.status().is_success());
            let mut first = true;
            while let Ok(Some(chunk)) = res.chunk().await {
                let at = Instant::now();
                let text = String::from_utf8_lossy(&chunk);
                if first && text.contains("event: unread") {
                    first = false;
                    let _ = ready_tx.send(());
                }
                for _ in text.matches("event: notification") {
                    let _ = arrivals.send((user, at));
                }
            }
        });
    }
    for _ in 0..streams {
        ready.recv().await.unwrap();
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    let open_rss = rss_kib(server.id());

    let tabs = streams / users;
    let mut latencies = Vec::with_capacity(ROUNDS * tabs);
    let started = Instant::now();
    for round in 0..ROUNDS {
        let user = round % users;
        let sent = Instant::now();
        let res = http
            .post(format!("{base}/api/v1/tasks"))
            .bearer_auth(&admin)
            .json(&json!({"title": format!("Task {round}"), "assigned_to": people[user].0}))
            .send()
            .await
            .unwrap();
        assert!(res.status().is_success());
        let expected = (0..streams).filter(|n| n % users == user).count();
        for _ in 0..expected {
            let (who, at) = tokio::time::timeout(Duration::from_secs(10), arrived.recv())
                .await
                .expect("delivered within 10 s")
                .unwrap();
            assert_eq!(who, user, "only the recipient's tabs hear of it");
            latencies.push(at.duration_since(sent));
        }
    }
    let elapsed = started.elapsed();
    let busy_rss = rss_kib(server.id());
    latencies.sort();
    let pct = |p: f64| latencies[((latencies.len() - 1) as f64 * p) as usize];
    println!("{streams} open streams ({users} users × {tabs} tabs)");
    println!(
        "server RSS: {:.1} MB idle, {:.1} MB with the streams open (+{:.1} kB per stream), {:.1} MB after {ROUNDS} notifications",
        idle_rss as f64 / 1024.0,
        open_rss as f64 / 1024.0,
        (open_rss.saturating_sub(idle_rss)) as f64 / streams as f64,
        busy_rss as f64 / 1024.0,
    );
    println!(
        "notification latency to every tab ({} deliveries in {:.1} s): p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        latencies.len(),
        elapsed.as_secs_f64(),
        ms(pct(0.5)),
        ms(pct(0.99)),
        ms(pct(1.0)),
    );
    server.kill().unwrap();
    server.wait().unwrap();
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

fn create_admin(binary: &Path, db: &Path) {
    let mut child = Command::new(binary)
        .args([
            "user",
            "create",
            "--email",
            "admin@example.com",
            "--name",
            "Admin",
            "--role",
            "admin",
            "--password-stdin",
        ])
        .env("RAPPORT_DB", db)
        .env("RAPPORT_BCRYPT_COST", "4")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(format!("{PASSWORD}\n").as_bytes())
        .unwrap();
    assert!(child.wait().unwrap().success());
}

async fn serve(binary: &Path, db: &Path) -> (Child, String) {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new(binary)
        // Sign-ins are rate limited per client address: the bench signs in from "different
        // addresses" through a trusted proxy header.
        .args([
            "serve",
            "--bind",
            &format!("127.0.0.1:{port}"),
            "--trusted-proxy",
            "127.0.0.1",
        ])
        .env("RAPPORT_DB", db)
        .env("RAPPORT_SECRET", SECRET)
        .env("RAPPORT_BCRYPT_COST", "4")
        .env("RAPPORT_LOG", "warn")
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let http = Client::new();
    while http.get(format!("{base}/healthz")).send().await.is_err() {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    (child, base)
}

async fn sign_in(http: &Client, base: &str, email: &str, n: usize) -> String {
    let res = http
        .post(format!("{base}/api/v1/auth/login"))
        .header(
            "X-Forwarded-For",
            format!("10.0.{}.{}", n / 250, n % 250 + 1),
        )
        .json(&json!({"email": email, "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success(), "sign in as {email}");
    res.json::<Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned()
}
