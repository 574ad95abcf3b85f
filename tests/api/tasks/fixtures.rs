//! Shared by the tasks, activities and timeline tests: rows whose API is built elsewhere
//! (contacts, leads, stage changes) are written straight into the app's database.

use std::time::Duration;

use reqwest::{Method, Response, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{Login, TestApp};

/// A direct connection to the app's database, for rows whose API is built elsewhere
/// (contacts, leads, stage changes), with Rapport's SQL functions (the report triggers
/// need `local_day`).
pub fn db(app: &TestApp) -> rusqlite::Connection {
    let conn = rusqlite::Connection::open(&app.db_path).unwrap();
    conn.busy_timeout(Duration::from_secs(10)).unwrap();
    rapport::db::connection::register_functions(&conn).unwrap();
    conn
}

const LONG_AGO: &str = "2020-01-01T00:00:00.000Z";

pub fn insert_contact(app: &TestApp, customer_id: Option<&str>) -> String {
    let id = uuid::Uuid::now_v7().to_string();
    db(app)
        .execute(
            "INSERT INTO contacts (id, customer_id, first_name, created_at, updated_at)
             VALUES (?1, ?2, 'Grace', ?3, ?3)",
            rusqlite::params![id, customer_id, LONG_AGO],
        )
        .unwrap();
    id
}

pub fn insert_lead(app: &TestApp, customer_id: Option<&str>, contact_id: Option<&str>) -> String {
    let id = uuid::Uuid::now_v7().to_string();
    db(app)
        .execute(
            "INSERT INTO leads (id, title, customer_id, contact_id, stage, currency,
                                stage_changed_at, created_at, updated_at)
             VALUES (?1, 'Big deal', ?2, ?3, 'new', 'USD', ?4, ?4, ?4)",
            rusqlite::params![id, customer_id, contact_id, LONG_AGO],
        )
        .unwrap();
    id
}

/// Moves a row to the trash behind the API's back.
pub fn trash_row(app: &TestApp, table: &str, id: &str) {
    db(app)
        .execute(
            &format!("UPDATE {table} SET deleted_at = ?2 WHERE id = ?1"),
            rusqlite::params![id, LONG_AGO],
        )
        .unwrap();
}

pub async fn body(res: Response) -> Value {
    let status = res.status();
    assert!(
        status.is_success(),
        "{status}: {}",
        res.text().await.unwrap()
    );
    res.json().await.unwrap()
}

pub async fn create_customer(app: &TestApp, who: &Login, name: &str) -> String {
    let res = app
        .post("/api/v1/customers", &who.token, json!({ "name": name }))
        .await;
    body(res).await["id"].as_str().unwrap().to_owned()
}

pub async fn create_task(app: &TestApp, who: &Login, fields: Value) -> Value {
    let res = app.post("/api/v1/tasks", &who.token, fields).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    res.json().await.unwrap()
}

pub async fn send(app: &TestApp, method: Method, path: &str, who: &Login) -> Response {
    app.request(method, path, Some(&who.token))
        .send()
        .await
        .unwrap()
}
