//! `--timezone`: the dashboard's days and months, its task tiles and My tasks are the
//! instance's local days; changing the zone rebuilds the figures at the next start.

use std::path::Path;

use reqwest::StatusCode;
use serde_json::{Value, json};
use time::macros::offset;
use time::{Date, Duration, OffsetDateTime};

use crate::helpers::{
    Options, PASSWORD, Server, TestApp, client, create_admin, page_text, rapport_cli, signed_in,
    spawn_app_with,
};

const DASHBOARD: &str = "/api/v1/reports/dashboard";

fn app_in(zone: &'static str) -> Options {
    Options {
        timezone: Some(zone),
        ..Options::default()
    }
}

/// Leads with the given titles and creation times, through `rapport import` (which writes
/// with the zone the database's report tables are built for, like the server).
fn import_leads(db: &Path, leads: &[(&str, &str)]) {
    let mut csv = String::from("Title,Stage,Created At\n");
    for (title, created_at) in leads {
        csv.push_str(&format!("{title},new,{created_at}\n"));
    }
    let file = db.with_file_name("leads.csv");
    std::fs::write(&file, csv).unwrap();
    let out = rapport_cli(db, &["import", "leads", file.to_str().unwrap()], None);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

async fn figures(base: &str, token: &str, query: &str) -> Value {
    let res = client()
        .get(format!("{base}{DASHBOARD}{query}"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK, "dashboard{query}");
    res.json().await.unwrap()
}

/// Leads created on one local day.
async fn created_on(base: &str, token: &str, day: &str) -> i64 {
    let d = figures(base, token, &format!("?from={day}&to={day}")).await;
    d["kpis"]["leads_created"].as_i64().unwrap()
}

fn month<'a>(d: &'a Value, month: &str) -> &'a Value {
    d["trend"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["month"] == month)
        .unwrap_or_else(|| panic!("{month} in the trend: {d}"))
}

#[actix_web::test]
async fn a_lead_created_at_2am_utc_on_1_march_counts_on_28_february_in_new_york() {
    let app = spawn_app_with(app_in("America/New_York")).await;
    let admin = app.bootstrap_admin().await;
    import_leads(&app.db_path, &[("Night owl", "2026-03-01T02:00:00Z")]);

    assert_eq!(created_on(&app.base, &admin.token, "2026-02-28").await, 1);
    assert_eq!(created_on(&app.base, &admin.token, "2026-03-01").await, 0);
    let d = figures(&app.base, &admin.token, "?from=2026-03-01&to=2026-03-31").await;
    assert_eq!(d["timezone"], "America/New_York");
    assert_eq!(d["kpis"]["leads_created"], 0);
    // The trend's months are local months: it is February's lead.
    assert_eq!(month(&d, "2026-02")["created"], 1);
    assert_eq!(month(&d, "2026-03")["created"], 0);

    // The page says whose days these are.
    let (b, _) = app.browser_sign_in(&admin.email, PASSWORD).await;
    let page = page_text(&b, &app.url("/?from=2026-02-28&to=2026-02-28")).await;
    assert!(page.contains("days in <span data-timezone>America/New_York</span>"));
}

/// Kiritimati is UTC+14 all year: for ten hours a day its date is already tomorrow's in UTC,
/// and for the other fourteen a UTC date holds two of its days.
const KIRITIMATI: time::UtcOffset = offset!(+14);

fn local_midnight(day: Date) -> OffsetDateTime {
    day.midnight().assume_offset(KIRITIMATI)
}

fn rfc3339(at: OffsetDateTime) -> String {
    at.to_offset(time::UtcOffset::UTC)
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap()
}

fn day_string(d: Date) -> String {
    format!("{:04}-{:02}-{:02}", d.year(), d.month() as u8, d.day())
}

async fn create_task(app: &TestApp, token: &str, title: &str, due: OffsetDateTime) {
    let res = app
        .post(
            "/api/v1/tasks",
            token,
            json!({"title": title, "due_at": rfc3339(due)}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
}

#[actix_web::test]
async fn today_overdue_and_the_default_period_are_local_days() {
    let app = spawn_app_with(app_in("Pacific/Kiritimati")).await;
    let admin = app.bootstrap_admin().await;
    let today = OffsetDateTime::now_utc().to_offset(KIRITIMATI).date();
    let tomorrow = today + Duration::days(1);
    let tasks = [
        (
            "Late yesterday",
            local_midnight(today) - Duration::minutes(1),
        ),
        ("Early today", local_midnight(today) + Duration::seconds(30)),
        (
            "Last thing today",
            local_midnight(tomorrow) - Duration::minutes(1),
        ),
        (
            "First thing tomorrow",
            local_midnight(tomorrow) + Duration::seconds(30),
        ),
    ];
    for (title, due) in tasks {
        create_task(&app, &admin.token, title, due).await;
    }

    let d = figures(&app.base, &admin.token, "").await;
    assert_eq!(d["timezone"], "Pacific/Kiritimati");
    assert_eq!(d["to"], day_string(today), "the period ends today there");
    assert_eq!(d["from"], day_string(today - Duration::days(29)));
    assert_eq!(d["kpis"]["tasks_overdue"], 1);
    assert_eq!(d["kpis"]["tasks_due_today"], 2);

    let (b, _) = app.browser_sign_in(&admin.email, PASSWORD).await;
    let html = page_text(&b, &app.url("/tasks/mine")).await;
    let section = |name: &str| {
        let start = html.find(&format!("aria-label=\"{name}\"")).unwrap();
        let end = html[start..].find("</section>").unwrap();
        html[start..start + end].to_owned()
    };
    let expected = [
        ("Overdue", vec!["Late yesterday"]),
        ("Today", vec!["Early today", "Last thing today"]),
        ("Upcoming", vec!["First thing tomorrow"]),
    ];
    for (name, titles) in expected {
        let text = section(name);
        for (title, _) in tasks {
            assert_eq!(
                text.contains(title),
                titles.contains(&title),
                "{title} in {name}: {text}"
            );
        }
    }
}

#[actix_web::test]
async fn pages_show_days_and_times_on_the_teams_clocks() {
    let app = spawn_app_with(app_in("Pacific/Kiritimati")).await;
    let admin = app.bootstrap_admin().await;
    // Noon on 5 December there is 22:00 UTC on the 4th.
    let due = Date::from_calendar_date(2026, time::Month::December, 5).unwrap();
    create_task(
        &app,
        &admin.token,
        "Quarterly review",
        local_midnight(due) + Duration::hours(12),
    )
    .await;
    let (b, _) = app.browser_sign_in(&admin.email, PASSWORD).await;

    let tasks = page_text(&b, &app.url("/tasks")).await;
    assert!(tasks.contains(">2026-12-05</time>"), "{tasks}");
    assert!(!tasks.contains(">2026-12-04</time>"), "{tasks}");

    let entries: Value = app
        .get("/api/v1/audit?entity_type=task", &admin.token)
        .await
        .json()
        .await
        .unwrap();
    let at = entries["items"][0]["at"].as_str().unwrap().to_owned();
    let local = OffsetDateTime::parse(&at, &time::format_description::well_known::Rfc3339)
        .unwrap()
        .to_offset(KIRITIMATI);
    let wall_clock = format!(
        "{} {:02}:{:02}",
        day_string(local.date()),
        local.hour(),
        local.minute()
    );
    let audit_on = |day: Date| {
        let day = day_string(day);
        app.url(&format!(
            "/admin/audit?entity_type=task&from={day}&to={day}"
        ))
    };
    let audit = page_text(&b, &audit_on(local.date())).await;
    assert!(
        audit.contains(&format!("title=\"Pacific/Kiritimati\">{wall_clock}</time>")),
        "the entry at {at} reads {wall_clock} there: {audit}"
    );
    assert!(audit.contains("Days and times are in Pacific/Kiritimati."));
    let day_before = page_text(&b, &audit_on(local.date() - Duration::days(1))).await;
    assert!(!day_before.contains(&wall_clock), "{day_before}");
}

#[actix_web::test]
async fn exports_from_the_web_app_are_named_by_the_teams_day() {
    let app = spawn_app_with(app_in("Pacific/Kiritimati")).await;
    let admin = app.bootstrap_admin().await;
    let res = app
        .post("/api/v1/leads", &admin.token, json!({"title": "Exported"}))
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let lead: Value = res.json().await.unwrap();
    let (b, csrf) = signed_in(&app, &admin).await;
    let res = b
        .post(app.url("/leads/bulk-export"))
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("ids", lead["id"].as_str().unwrap()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let today = OffsetDateTime::now_utc().to_offset(KIRITIMATI).date();
    assert_eq!(
        res.headers()["content-disposition"].to_str().unwrap(),
        format!("attachment; filename=\"leads-{}.csv\"", day_string(today))
    );
}

#[actix_web::test]
async fn restarting_with_another_timezone_rebuilds_the_figures_once() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("rapport.db");
    create_admin(&db);
    let server = Server::start_with(&db, &["--timezone", "America/New_York"]).await;
    let token = server.sign_in().await;
    import_leads(&db, &[("Night owl", "2026-03-01T02:00:00Z")]);
    assert_eq!(created_on(&server.base, &token, "2026-02-28").await, 1);
    assert!(server.terminate().await.success());

    let server = Server::start_logging(&db, &["--timezone", "Asia/Tokyo"], "info").await;
    let token = server.sign_in().await;
    assert_eq!(created_on(&server.base, &token, "2026-02-28").await, 0);
    assert_eq!(created_on(&server.base, &token, "2026-03-01").await, 1);
    let d = figures(&server.base, &token, "?from=2026-03-01&to=2026-03-01").await;
    assert_eq!(d["timezone"], "Asia/Tokyo");
    let logs = server.stop_and_read_logs().await;
    let line = logs
        .lines()
        .find(|l| l.contains("rebuilt the report tables"))
        .unwrap_or_else(|| panic!("the rebuild is logged: {logs}"));
    assert!(
        line.contains("America/New_York") && line.contains("Asia/Tokyo"),
        "{line}"
    );

    // The same zone again: nothing to rebuild, and new writes land on Tokyo's days.
    let server = Server::start_logging(&db, &["--timezone", "Asia/Tokyo"], "info").await;
    let token = server.sign_in().await;
    import_leads(&db, &[("Early bird", "2026-02-28T16:00:00Z")]);
    assert_eq!(created_on(&server.base, &token, "2026-03-01").await, 2);
    let logs = server.stop_and_read_logs().await;
    assert!(!logs.contains("rebuilt the report tables"), "{logs}");
}

#[actix_web::test]
async fn an_unknown_timezone_stops_the_start_naming_the_flag() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("rapport.db");
    let out = rapport_cli(&db, &["serve", "--timezone", "Mars/Olympus_Mons"], None);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("--timezone") && err.contains("IANA name"),
        "{err}"
    );
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_rapport"))
        .args(["serve"])
        .env("RAPPORT_DB", &db)
        .env("RAPPORT_TIMEZONE", "Europe/Atlantis")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("--timezone") && err.contains("Europe/Atlantis"),
        "{err}"
    );
    assert!(!db.exists(), "nothing was opened");

    let help = rapport_cli(&db, &["serve", "--help"], None);
    let help = String::from_utf8_lossy(&help.stdout);
    assert!(
        help.contains("--timezone") && help.contains("RAPPORT_TIMEZONE"),
        "{help}"
    );
}
