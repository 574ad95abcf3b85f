//! `GET /api/v1/reports/dashboard` and the dashboard on `/`.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{
    Login, PASSWORD, TestApp, assert_problem, error_fields, page_text, spawn_app,
};

const DASHBOARD: &str = "/api/v1/reports/dashboard";

async fn create_lead(app: &TestApp, who: &Login, body: Value) -> String {
    let res = app.post("/api/v1/leads", &who.token, body).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let lead: Value = res.json().await.unwrap();
    lead["id"].as_str().unwrap().to_owned()
}

async fn figures(app: &TestApp, who: &Login, query: &str) -> Value {
    let res = app.get(&format!("{DASHBOARD}{query}"), &who.token).await;
    assert_eq!(res.status(), StatusCode::OK, "dashboard{query}");
    res.json().await.unwrap()
}

fn today() -> String {
    let now = time::OffsetDateTime::now_utc().date();
    format!(
        "{:04}-{:02}-{:02}",
        now.year(),
        now.month() as u8,
        now.day()
    )
}

/// Team: admin, two reps and support, with rep 1's USD lead won and rep 2's EUR lead open,
/// and a task due today for support.
struct Team {
    app: TestApp,
    admin: Login,
    rep1: Login,
    rep2: Login,
    support: Login,
}

async fn team() -> Team {
    let app = spawn_app().await;
    let admin = app.bootstrap_admin().await;
    let rep1 = app.user(&admin, "sales").await;
    let rep2 = app.user(&admin, "sales").await;
    let support = app.user(&admin, "support").await;
    let won = create_lead(
        &app,
        &rep1,
        json!({"title": "Won deal", "value_cents": 1000, "currency": "USD", "source": "web"}),
    )
    .await;
    create_lead(
        &app,
        &rep2,
        json!({"title": "Open deal", "value_cents": 2000, "currency": "EUR", "stage": "proposal"}),
    )
    .await;
    let res = app
        .post(
            &format!("/api/v1/leads/{won}/stage"),
            &rep1.token,
            json!({"stage": "won"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let due = format!("{}T23:59:00Z", today());
    let res = app
        .post(
            "/api/v1/tasks",
            &support.token,
            json!({"title": "Call back", "due_at": due}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    Team {
        app,
        admin,
        rep1,
        rep2,
        support,
    }
}

#[actix_web::test]
async fn dashboard_reflects_writes_at_once_with_amounts_per_currency() {
    let t = team().await;
    let d = figures(&t.app, &t.admin, "").await;
    assert_eq!(d["to"], today());
    assert_eq!(d["timezone"], "UTC");
    assert_eq!(d["base_currency"], "USD");
    let k = &d["kpis"];
    assert_eq!(k["leads_created"], 2);
    assert_eq!(k["won_count"], 1);
    assert_eq!(k["win_rate"], 1.0);
    assert_eq!(k["won"], json!([{"currency": "USD", "value_cents": 1000}]));
    assert_eq!(
        k["average_won"],
        json!([{"currency": "USD", "value_cents": 1000}])
    );
    // EUR is never summed into USD: the open pipeline is the EUR lead alone.
    assert_eq!(
        k["open_pipeline"],
        json!([{"currency": "EUR", "value_cents": 2000}])
    );
    assert_eq!(
        k["weighted_forecast"],
        json!([{"currency": "EUR", "value_cents": 1200}])
    );
    assert_eq!(k["tasks_due_today"], 1);
    let proposal = d["pipeline_by_stage"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["stage"] == "proposal")
        .unwrap();
    assert_eq!(proposal["leads"], 1);
    assert_eq!(d["trend"].as_array().unwrap().len(), 12);
    assert_eq!(d["trend"][11]["created"], 2);
    assert_eq!(d["trend"][11]["won"], 1);
    let sources: Vec<&Value> = d["leads_by_source"].as_array().unwrap().iter().collect();
    assert_eq!(sources.len(), 2, "web and none: {sources:?}");
    assert_eq!(d["reps"].as_array().unwrap().len(), 2);

    // A lead moved to the trash leaves every figure at once.
    let rep2_leads: Value = t
        .app
        .get("/api/v1/leads?limit=10", &t.rep2.token)
        .await
        .json()
        .await
        .unwrap();
    let open = rep2_leads["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["title"] == "Open deal")
        .unwrap();
    let res = t
        .app
        .request(
            reqwest::Method::DELETE,
            &format!("/api/v1/leads/{}", open["id"].as_str().unwrap()),
            Some(&t.rep2.token),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let d = figures(&t.app, &t.admin, "").await;
    assert_eq!(d["kpis"]["leads_created"], 1);
    assert_eq!(d["kpis"]["open_pipeline"], json!([]));
}

#[actix_web::test]
async fn each_role_sees_what_the_role_table_allows() {
    let t = team().await;
    // Managers and admins: the team, or one rep.
    let one = figures(&t.app, &t.admin, &format!("?owner_id={}", t.rep1.id)).await;
    assert_eq!(one["owner_id"], t.rep1.id.as_str());
    assert_eq!(one["kpis"]["leads_created"], 1);
    assert_eq!(one["kpis"]["open_pipeline"], json!([]));
    assert_eq!(one["reps"].as_array().unwrap().len(), 1);
    let manager = t.app.user(&t.admin, "manager").await;
    let team_view = figures(&t.app, &manager, "").await;
    assert_eq!(team_view["kpis"]["leads_created"], 2);

    // Sales: their own figures, whether they ask for them or not; someone else's is a 403.
    let own = figures(&t.app, &t.rep1, "").await;
    assert_eq!(own, one);
    assert_eq!(
        figures(&t.app, &t.rep1, &format!("?owner_id={}", t.rep1.id)).await,
        one
    );
    let res = t
        .app
        .get(
            &format!("{DASHBOARD}?owner_id={}", t.rep2.id),
            &t.rep1.token,
        )
        .await;
    assert_problem(res, 403).await;
    let rep2 = figures(&t.app, &t.rep2, "").await;
    assert_eq!(
        rep2["kpis"]["open_pipeline"],
        json!([{"currency": "EUR", "value_cents": 2000}])
    );
    assert_eq!(rep2["kpis"]["won_count"], 0);

    // Support: their own tasks, and no money anywhere in the answer.
    let res = t.app.get(DASHBOARD, &t.support.token).await;
    assert_eq!(res.status(), StatusCode::OK);
    let text = res.text().await.unwrap();
    for money in [
        "value_cents",
        "open_pipeline",
        "weighted_forecast",
        "average_won",
        "amounts",
    ] {
        assert!(!text.contains(money), "support sees {money}: {text}");
    }
    let support: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(support["owner_id"], t.support.id.as_str());
    assert_eq!(support["kpis"]["tasks_due_today"], 1);
    assert_eq!(support["kpis"]["leads_created"], 0);
    let res = t
        .app
        .get(
            &format!("{DASHBOARD}?owner_id={}", t.rep1.id),
            &t.support.token,
        )
        .await;
    assert_problem(res, 403).await;
    // The task is support's own: a rep's dashboard does not count it.
    assert_eq!(own["kpis"]["tasks_due_today"], 0);
}

#[actix_web::test]
async fn period_and_rep_are_validated() {
    let app = spawn_app().await;
    let admin = app.bootstrap_admin().await;
    for (query, field) in [
        ("?from=2026-02-30", "from"),
        ("?to=tomorrow", "to"),
        ("?from=2026-05-02&to=2026-05-01", "from"),
        ("?from=2016-01-01&to=2026-01-01", "from"),
        ("?owner_id=nobody", "owner_id"),
        ("?colour=red", "colour"),
    ] {
        let res = app.get(&format!("{DASHBOARD}{query}"), &admin.token).await;
        let body = assert_problem(res, 422).await;
        assert_eq!(error_fields(&body), vec![field.to_owned()], "{query}");
    }
    let d = figures(&app, &admin, "?from=2026-01-01&to=2026-01-31").await;
    assert_eq!(
        (d["from"].as_str(), d["to"].as_str()),
        (Some("2026-01-01"), Some("2026-01-31"))
    );
    assert_eq!(d["trend"][0]["month"], "2025-02");
    let res = app
        .request(reqwest::Method::GET, DASHBOARD, None)
        .send()
        .await
        .unwrap();
    assert_problem(res, 401).await;
}

/// The figure a tile shows, by its `data-kpi` key.
fn tile<'a>(html: &'a str, key: &str) -> &'a str {
    let marker = format!("data-kpi=\"{key}\">");
    let start = html
        .find(&marker)
        .map(|i| i + marker.len())
        .unwrap_or_else(|| panic!("no {key} tile"));
    let end = html[start..].find("</strong>").unwrap() + start;
    &html[start..end]
}

#[actix_web::test]
async fn the_page_shows_the_api_figures() {
    let t = team().await;
    let (browser, _) = t.app.browser_sign_in(&t.admin.email, PASSWORD).await;
    let query = format!("?from=2026-01-01&to={}&owner_id=", today());
    let api = figures(
        &t.app,
        &t.admin,
        &format!("?from=2026-01-01&to={}", today()),
    )
    .await;
    let html = page_text(&browser, &t.app.url(&format!("/{query}"))).await;
    assert_eq!(
        tile(&html, "leads_created"),
        api["kpis"]["leads_created"].to_string()
    );
    assert_eq!(tile(&html, "won"), "USD 10.00");
    assert_eq!(tile(&html, "open_pipeline"), "EUR 20.00");
    assert_eq!(tile(&html, "weighted_forecast"), "EUR 12.00");
    assert_eq!(tile(&html, "win_rate"), "100%");
    assert_eq!(tile(&html, "tasks_due_today"), "1");
    assert!(html.contains("<svg"), "charts are inline SVG");
    assert!(html.contains("<title>web: 1</title>"), "values on hover");
    assert!(
        html.contains("value=\"2026-01-01\""),
        "the form keeps the period"
    );
    assert_eq!(
        html.matches("<script").count(),
        1,
        "no script but the layout's"
    );

    // A rep's page: their own figures, no picker; support's: no money.
    let (browser, _) = t.app.browser_sign_in(&t.rep2.email, PASSWORD).await;
    let html = page_text(&browser, &t.app.url("/")).await;
    assert_eq!(tile(&html, "leads_created"), "1");
    assert!(!html.contains("name=\"owner_id\""));
    let (browser, _) = t.app.browser_sign_in(&t.support.email, PASSWORD).await;
    let html = page_text(&browser, &t.app.url("/")).await;
    assert!(
        !html.contains("EUR") && !html.contains("USD"),
        "support sees no money"
    );
    assert_eq!(tile(&html, "tasks_due_today"), "1");
    // A bad date keeps the page, explains, and shows the default period.
    let html = page_text(&browser, &t.app.url("/?from=soon")).await;
    assert!(html.contains("must be a date"), "{html}");
}

#[actix_web::test]
async fn an_empty_crm_shows_the_first_steps() {
    let app = spawn_app().await;
    let admin = app.bootstrap_admin().await;
    let (browser, _) = app.browser_sign_in(&admin.email, PASSWORD).await;
    let html = page_text(&browser, &app.url("/")).await;
    assert!(html.contains("Bring in your team"));
    assert!(!html.contains("data-kpi"));
}
