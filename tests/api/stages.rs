use reqwest::{Method, Response, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{Login, TestApp, assert_problem, error_fields, spawn_app};

async fn put_stages(app: &TestApp, who: &Login, body: Value) -> Response {
    app.request(Method::PUT, "/api/v1/stages", Some(&who.token))
        .json(&body)
        .send()
        .await
        .unwrap()
}

async fn stages(app: &TestApp, who: &Login) -> Value {
    let res = app.get("/api/v1/stages", &who.token).await;
    assert_eq!(res.status(), StatusCode::OK);
    res.json().await.unwrap()
}

fn keys(pipeline: &Value) -> Vec<String> {
    pipeline["stages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["key"].as_str().unwrap().to_owned())
        .collect()
}

fn stage(key: &str, label: &str, probability: i64, kind: &str) -> Value {
    json!({"key": key, "label": label, "probability": probability, "kind": kind})
}

/// The default pipeline, as `PUT` takes it.
fn defaults() -> Vec<Value> {
    vec![
        stage("new", "New", 10, "open"),
        stage("contacted", "Contacted", 20, "open"),
        stage("qualified", "Qualified", 40, "open"),
        stage("proposal", "Proposal", 60, "open"),
        stage("won", "Won", 100, "won"),
        stage("lost", "Lost", 0, "lost"),
    ]
}

async fn new_lead(app: &TestApp, who: &Login, body: Value) -> Value {
    let res = app.post("/api/v1/leads", &who.token, body).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    res.json().await.unwrap()
}

#[actix_web::test]
async fn everyone_reads_the_default_pipeline() {
    let app = spawn_app().await;
    let admin = app.bootstrap_admin().await;
    let support = app.user(&admin, "support").await;
    let pipeline = stages(&app, &support).await;
    assert_eq!(
        pipeline["stages"][0],
        json!({"key": "new", "label": "New", "position": 1, "probability": 10, "kind": "open"})
    );
    assert_eq!(
        keys(&pipeline),
        ["new", "contacted", "qualified", "proposal", "won", "lost"]
    );
    let kinds: Vec<&str> = pipeline["stages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["open", "open", "open", "open", "won", "lost"]);
    assert_problem(
        app.request(Method::GET, "/api/v1/stages", None)
            .send()
            .await
            .unwrap(),
        401,
    )
    .await;
}

#[actix_web::test]
async fn admins_rename_reorder_and_add_stages_and_leads_survive() {
    let app = spawn_app().await;
    let admin = app.bootstrap_admin().await;
    let qualified = new_lead(&app, &admin, json!({"title": "Q", "stage": "qualified"})).await;
    let fresh = new_lead(&app, &admin, json!({"title": "N"})).await;

    // What GET returned, changed: positions may be sent back when they match the order.
    let mut next = stages(&app, &admin).await;
    let list = next["stages"].as_array_mut().unwrap();
    list.swap(2, 3); // proposal before qualified
    list[3]["label"] = json!("Sales qualified");
    list[3]["probability"] = json!(45);
    list.insert(
        4,
        json!({"key": "negotiation_2", "label": "Negotiation", "probability": 80, "kind": "open"}),
    );
    list.swap(0, 1); // contacted first: new leads now start there
    for (i, s) in list.iter_mut().enumerate() {
        if s.get("position").is_some() {
            s["position"] = json!(i + 1);
        }
    }
    let res = put_stages(&app, &admin, next.clone()).await;
    assert_eq!(res.status(), StatusCode::OK);
    let saved: Value = res.json().await.unwrap();
    assert_eq!(
        keys(&saved),
        [
            "contacted",
            "new",
            "proposal",
            "qualified",
            "negotiation_2",
            "won",
            "lost"
        ]
    );
    let positions: Vec<i64> = saved["stages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["position"].as_i64().unwrap())
        .collect();
    assert_eq!(positions, [1, 2, 3, 4, 5, 6, 7]);
    assert_eq!(saved["stages"][3]["label"], "Sales qualified");
    assert_eq!(saved["stages"][3]["probability"], 45);
    assert_eq!(stages(&app, &admin).await, saved);

    // The leads kept their stages; the new stage is usable; new leads start in the first
    // open stage by position.
    for lead in [&qualified, &fresh] {
        let path = format!("/api/v1/leads/{}", lead["id"].as_str().unwrap());
        let now: Value = app.get(&path, &admin.token).await.json().await.unwrap();
        assert_eq!(now["stage"], lead["stage"]);
        assert_eq!(now["version"], 1);
    }
    let res = app
        .post(
            &format!("/api/v1/leads/{}/stage", qualified["id"].as_str().unwrap()),
            &admin.token,
            json!({"stage": "negotiation_2"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let newer = new_lead(&app, &admin, json!({"title": "Newer"})).await;
    assert_eq!(newer["stage"], "contacted");

    // Sending the same pipeline again changes nothing and is not audited.
    assert_eq!(
        put_stages(&app, &admin, saved.clone()).await.status(),
        StatusCode::OK
    );
    let audit: Value = app
        .get("/api/v1/audit?entity_type=stage", &admin.token)
        .await
        .json()
        .await
        .unwrap();
    let entries = audit["items"].as_array().unwrap();
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0]["action"], "stage.update");
    assert_eq!(entries[0]["actor_id"], admin.id.as_str());
    assert_eq!(keys(&json!({"stages": entries[0]["before"]})).len(), 6);
    assert_eq!(entries[0]["after"], saved["stages"]);
}

#[actix_web::test]
async fn a_stage_with_leads_cannot_vanish_or_change_kind() {
    let app = spawn_app().await;
    let admin = app.bootstrap_admin().await;
    let lead = new_lead(&app, &admin, json!({"title": "P", "stage": "proposal"})).await;
    let id = lead["id"].as_str().unwrap();
    let without_proposal: Vec<Value> = defaults()
        .into_iter()
        .filter(|s| s["key"] != "proposal")
        .collect();

    let res = put_stages(&app, &admin, json!({"stages": without_proposal})).await;
    let body = assert_problem(res, 409).await;
    let detail = body["detail"].as_str().unwrap();
    assert!(
        detail.contains("\"proposal\"") && detail.contains("1 lead"),
        "{detail}"
    );

    // Two at once are both named.
    let mut two_gone = without_proposal.clone();
    two_gone.retain(|s| s["key"] != "new");
    new_lead(&app, &admin, json!({"title": "N1"})).await;
    new_lead(&app, &admin, json!({"title": "N2"})).await;
    let body = assert_problem(
        put_stages(&app, &admin, json!({"stages": two_gone})).await,
        409,
    )
    .await;
    let detail = body["detail"].as_str().unwrap();
    assert!(
        detail.contains("\"new\"") && detail.contains("2 lead"),
        "{detail}"
    );
    assert!(detail.contains("\"proposal\""), "{detail}");

    // Its kind is fixed while it has leads.
    let mut closing = defaults();
    closing[3]["kind"] = json!("won");
    assert_problem(
        put_stages(&app, &admin, json!({"stages": closing})).await,
        409,
    )
    .await;

    // The trash counts: a trashed lead can come back.
    let res = app
        .request(
            Method::DELETE,
            &format!("/api/v1/leads/{id}"),
            Some(&admin.token),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let body = assert_problem(
        put_stages(&app, &admin, json!({"stages": without_proposal})).await,
        409,
    )
    .await;
    assert!(body["detail"].as_str().unwrap().contains("proposal"));
    assert_eq!(
        keys(&stages(&app, &admin).await).len(),
        6,
        "nothing changed"
    );

    // Purged, the stage is free to go; an unused stage always is.
    let res = app
        .request(
            Method::POST,
            &format!("/api/v1/leads/{id}/purge"),
            Some(&admin.token),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let mut fewer = without_proposal.clone();
    fewer.retain(|s| s["key"] != "contacted");
    let res = put_stages(&app, &admin, json!({"stages": fewer})).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        keys(&stages(&app, &admin).await),
        ["new", "qualified", "won", "lost"]
    );
    // A removed stage is no longer a place for leads.
    let res = app
        .post(
            "/api/v1/leads",
            &admin.token,
            json!({"title": "T", "stage": "proposal"}),
        )
        .await;
    assert_eq!(error_fields(&assert_problem(res, 422).await), ["stage"]);
    let check = app.cli(&["check"], None);
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stdout)
    );
}

#[actix_web::test]
async fn only_admins_change_stages() {
    let app = spawn_app().await;
    let admin = app.bootstrap_admin().await;
    for role in ["manager", "sales", "support"] {
        let user = app.user(&admin, role).await;
        let res = put_stages(&app, &user, json!({"stages": defaults()})).await;
        assert_problem(res, 403).await;
    }
    assert_problem(
        app.request(Method::PUT, "/api/v1/stages", None)
            .json(&json!({"stages": defaults()}))
            .send()
            .await
            .unwrap(),
        401,
    )
    .await;
    assert_problem(
        app.post(
            "/api/v1/stages",
            &admin.token,
            json!({"stages": defaults()}),
        )
        .await,
        405,
    )
    .await;
}

#[actix_web::test]
async fn invalid_pipelines_are_refused_with_every_problem() {
    let app = spawn_app().await;
    let admin = app.bootstrap_admin().await;
    let before = stages(&app, &admin).await;

    let mut bad = defaults();
    bad[0]["key"] = json!("New Stage");
    bad[1]["label"] = json!("  ");
    bad[2]["probability"] = json!(101);
    bad[3]["kind"] = json!("maybe");
    bad[4]["key"] = json!("lost");
    bad[4]["kind"] = json!("lost");
    bad[5]["position"] = json!(1);
    bad.push(json!({"key": "x".repeat(41), "label": "L".repeat(61), "probability": -1}));
    let body = assert_problem(put_stages(&app, &admin, json!({"stages": bad})).await, 422).await;
    assert_eq!(
        error_fields(&body),
        [
            "stages[0].key",
            "stages[1].label",
            "stages[2].probability",
            "stages[3].kind",
            "stages[5].key",
            "stages[5].position",
            "stages[6].key",
            "stages[6].label",
            "stages[6].probability",
            "stages[6].kind",
            "stages",
        ]
    );
    assert!(
        body["errors"][10]["message"]
            .as_str()
            .unwrap()
            .contains("won")
    );

    for (body, field) in [
        (json!({}), "stages"),
        (json!({"stages": []}), "stages"),
        (json!({"stages": null}), "stages"),
        (json!({"stages": "new,won,lost"}), "stages"),
        (
            json!({"stages": [stage("new", "New", 10, "open"), stage("won", "Won", 100, "won")]}),
            "stages",
        ),
        (
            json!({"stages": [stage("a", "A", 1, "open"), {"key": "b", "label": "B", "probability": "high", "kind": "won"}]}),
            "stages[1].probability",
        ),
        (
            json!({"stages": [stage("a", "A", 1, "open"), {"key": "b", "label": "B", "probability": 1.5, "kind": "won"}]}),
            "stages[1].probability",
        ),
    ] {
        let res = put_stages(&app, &admin, body.clone()).await;
        assert_eq!(
            error_fields(&assert_problem(res, 422).await),
            [field],
            "{body}"
        );
    }
    let many: Vec<Value> = (0..51)
        .map(|i| stage(&format!("s{i}"), "S", 1, ["open", "won", "lost"][i % 3]))
        .collect();
    let res = put_stages(&app, &admin, json!({"stages": many})).await;
    assert_eq!(error_fields(&assert_problem(res, 422).await), ["stages"]);

    // Unknown fields, in the body or in a stage.
    let mut extra = defaults();
    extra[0]["colour"] = json!("red");
    assert_problem(
        put_stages(&app, &admin, json!({"stages": extra})).await,
        422,
    )
    .await;
    assert_problem(
        put_stages(&app, &admin, json!({"stages": defaults(), "force": true})).await,
        422,
    )
    .await;
    let res = app
        .request(Method::PUT, "/api/v1/stages", Some(&admin.token))
        .json(&defaults())
        .send()
        .await
        .unwrap();
    assert_problem(res, 422).await;

    assert_eq!(stages(&app, &admin).await, before, "nothing changed");
}
