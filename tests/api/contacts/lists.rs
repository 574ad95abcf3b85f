//! Filters, sorts and keyset paging.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use super::{create, id_of, json_of, send};
use crate::helpers::{assert_problem, spawn_app};

fn names(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["first_name"].as_str().unwrap().to_owned())
        .collect()
}

#[actix_web::test]
async fn list_filters_sorts_and_pages() {
    let app = spawn_app().await;
    let admin = app.bootstrap_admin().await;
    let rep = app.user(&admin, "sales").await;
    let acme = create(&app, "customers", &admin, json!({"name": "Acme"})).await;
    let people = [
        (
            "Ada",
            Some("Lovelace"),
            "ada@example.com",
            true,
            true,
            vec!["vip"],
        ),
        ("Bob", None, "bob@example.com", false, true, vec![]),
        (
            "Cy",
            Some("babbage"),
            "cy@example.org",
            true,
            false,
            vec!["VIP", "tech"],
        ),
        ("Di", None, "di@example.org", false, false, vec![]),
        ("Ed", Some("Zuse"), "ed@example.net", true, false, vec![]),
    ];
    let mut ids = Vec::new();
    for (first, last, email, owned, at_acme, tags) in &people {
        let created = create(
            &app,
            "contacts",
            &admin,
            json!({"first_name": first, "last_name": last, "email": email,
                   "owner_id": if *owned { Some(&rep.id) } else { None },
                   "customer_id": if *at_acme { Some(&acme["id"]) } else { None }, "tags": tags}),
        )
        .await;
        ids.push(id_of(&created));
    }
    let trashed = create(
        &app,
        "contacts",
        &admin,
        json!({"first_name": "Trashed", "owner_id": rep.id}),
    )
    .await;
    send(
        &app,
        Method::DELETE,
        &format!("/api/v1/contacts/{}", id_of(&trashed)),
        &admin,
    )
    .await;

    let list = async |query: &str| {
        names(
            &json_of(
                app.get(&format!("/api/v1/contacts?{query}"), &rep.token)
                    .await,
            )
            .await,
        )
    };
    assert_eq!(
        list("").await,
        ["Ed", "Di", "Cy", "Bob", "Ada"],
        "newest first"
    );
    assert_eq!(list("order=asc").await, ["Ada", "Bob", "Cy", "Di", "Ed"]);
    assert_eq!(
        list(&format!("owner_id={}", rep.id)).await,
        ["Ed", "Cy", "Ada"]
    );
    assert_eq!(
        list(&format!(
            "customer_id={}&sort=first_name&order=asc",
            acme["id"].as_str().unwrap()
        ))
        .await,
        ["Ada", "Bob"]
    );
    assert_eq!(
        list("tag=VIP&sort=first_name&order=asc").await,
        ["Ada", "Cy"]
    );
    assert_eq!(list("email=ADA@Example.com").await, ["Ada"]);
    assert!(
        list("email=ada@example").await.is_empty(),
        "exact, not a substring"
    );
    assert_eq!(list("q=example.org&order=asc").await, ["Cy", "Di"]);
    assert_eq!(
        list("q=ada%20love").await,
        ["Ada"],
        "q spans first and last name"
    );
    assert_eq!(list("q=LOVELACE").await, ["Ada"]);
    assert_eq!(list("q=100%25").await, Vec::<String>::new(), "% is literal");
    assert!(
        list("created_from=2000-01-01&created_to=2000-01-02")
            .await
            .is_empty()
    );
    assert_eq!(list("created_from=2000-01-01").await.len(), 5);
    // Contacts without a last name sort first, and case does not matter.
    assert_eq!(
        list("sort=last_name&order=asc").await,
        ["Bob", "Di", "Cy", "Ada", "Ed"]
    );
    assert_eq!(
        list("sort=last_name&order=desc").await,
        ["Ed", "Ada", "Cy", "Di", "Bob"]
    );
    assert_eq!(
        list("sort=first_name&order=desc").await,
        ["Ed", "Di", "Cy", "Bob", "Ada"]
    );
    let bob = format!("/api/v1/contacts/{}", ids[1]);
    let res = app
        .patch(&bob, &admin.token, json!({"phone": "+1 555 0199"}))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(list("sort=updated_at").await[0], "Bob");
    assert_eq!(list("sort=updated_at&order=asc").await[4], "Bob");
    assert_eq!(list("q=555%200199").await, ["Bob"], "q matches the phone");

    for bad in [
        "stage=won",
        "sort=email",
        "sort=deleted_at",
        "order=sideways",
        "limit=0",
        "limit=201",
        "created_from=yesterday",
        "cursor=garbage",
    ] {
        let res = app
            .get(&format!("/api/v1/contacts?{bad}"), &rep.token)
            .await;
        assert_problem(res, 422).await;
    }

    // Paging while rows are inserted visits every row once, for every sort.
    for sort in ["created_at", "updated_at", "last_name", "first_name"] {
        for order in ["asc", "desc"] {
            let mut seen = Vec::new();
            let mut cursor: Option<String> = None;
            let mut inserted = 0;
            loop {
                let mut query = format!("limit=2&sort={sort}&order={order}");
                if let Some(c) = &cursor {
                    query.push_str(&format!("&cursor={c}"));
                }
                let page = json_of(
                    app.get(&format!("/api/v1/contacts?{query}"), &rep.token)
                        .await,
                )
                .await;
                seen.extend(names(&page));
                if inserted < 3 {
                    let last_name = if inserted % 2 == 0 {
                        None
                    } else {
                        Some("Aaron")
                    };
                    let name = format!("New {sort} {order} {inserted}");
                    create(
                        &app,
                        "contacts",
                        &admin,
                        json!({"first_name": name, "last_name": last_name}),
                    )
                    .await;
                    inserted += 1;
                }
                match page["next_cursor"].as_str() {
                    Some(c) => cursor = Some(c.to_owned()),
                    None => break,
                }
            }
            for (first, ..) in &people {
                assert_eq!(
                    seen.iter().filter(|n| n == first).count(),
                    1,
                    "{first} once by {sort} {order}: {seen:?}"
                );
            }
            let mut unique = seen.clone();
            unique.sort();
            unique.dedup();
            assert_eq!(unique.len(), seen.len(), "no row twice by {sort} {order}");
        }
    }
}
