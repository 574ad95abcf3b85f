use serde_json::{Value, json};

use super::{body, create_customer, create_task, insert_contact, insert_lead};
use crate::helpers::{assert_problem, spawn_app};

fn titles(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["title"].as_str().unwrap().to_owned())
        .collect()
}

#[actix_web::test]
async fn list_filters_sorts_and_pages() {
    let app = spawn_app().await;
    let admin = app.bootstrap_admin().await;
    let rep = app.user(&admin, "sales").await;
    let customer = create_customer(&app, &admin, "Acme").await;
    let contact = insert_contact(&app, Some(&customer));
    let lead = insert_lead(&app, None, None);
    // title, due_at, priority, status, assigned to rep, link
    let rows = [
        (
            "Past due",
            Some("2020-01-01T00:00:00Z"),
            "high",
            "pending",
            true,
            "customer",
        ),
        (
            "Past done",
            Some("2020-01-02T00:00:00Z"),
            "low",
            "completed",
            false,
            "",
        ),
        (
            "Next week",
            Some("2099-01-08T00:00:00Z"),
            "medium",
            "in_progress",
            true,
            "contact",
        ),
        (
            "Tomorrow",
            Some("2099-01-01T00:00:00Z"),
            "high",
            "pending",
            false,
            "lead",
        ),
        ("Someday", None, "low", "pending", true, ""),
        ("Whenever", None, "medium", "pending", false, ""),
    ];
    for (title, due, priority, status, mine, link) in rows {
        let mut fields = json!({"title": title, "due_at": due, "priority": priority, "status": status,
                                "assigned_to": if mine { &rep.id } else { &admin.id }});
        match link {
            "customer" => fields["customer_id"] = json!(customer),
            "contact" => fields["contact_id"] = json!(contact),
            "lead" => fields["lead_id"] = json!(lead),
            _ => {}
        }
        create_task(&app, &admin, fields).await;
    }
    create_task(&app, &rep, json!({"title": "Rep's own note to self"})).await;
    let get = |query: &str| {
        let app = &app;
        let token = admin.token.clone();
        let query = query.to_owned();
        async move { body(app.get(&format!("/api/v1/tasks{query}"), &token).await).await }
    };

    assert_eq!(
        titles(&get("").await),
        [
            "Past due",
            "Past done",
            "Tomorrow",
            "Next week",
            "Someday",
            "Whenever",
            "Rep's own note to self"
        ],
        "soonest due first, undated last"
    );
    assert_eq!(
        titles(&get("?order=desc&limit=3").await),
        ["Rep's own note to self", "Whenever", "Someday"]
    );
    assert_eq!(titles(&get("?overdue=true").await), ["Past due"]);
    assert_eq!(
        get("?overdue=false").await["items"]
            .as_array()
            .unwrap()
            .len(),
        6
    );
    assert_eq!(
        titles(&get(&format!("?assigned_to={}", rep.id)).await),
        ["Past due", "Next week", "Someday", "Rep's own note to self"]
    );
    assert_eq!(
        titles(&get(&format!("?created_by={}", rep.id)).await),
        ["Rep's own note to self"]
    );
    assert_eq!(
        titles(&get("?status=pending&priority=high").await),
        ["Past due", "Tomorrow"]
    );
    assert_eq!(titles(&get("?status=in_progress").await), ["Next week"]);
    assert_eq!(
        titles(&get(&format!("?customer_id={customer}")).await),
        ["Past due"]
    );
    assert_eq!(
        titles(&get(&format!("?contact_id={contact}")).await),
        ["Next week"]
    );
    assert_eq!(
        titles(&get(&format!("?lead_id={lead}")).await),
        ["Tomorrow"]
    );
    assert_eq!(
        titles(&get("?due_from=2099-01-01&due_to=2099-01-02").await),
        ["Tomorrow"]
    );
    assert_eq!(
        titles(&get("?due_from=2030-01-01").await),
        ["Tomorrow", "Next week"],
        "undated tasks are not due after anything"
    );
    assert_eq!(
        titles(&get("?due_to=2021-01-01T00:00:00Z").await),
        ["Past due", "Past done"]
    );
    assert_eq!(titles(&get("?q=WHENEVER").await), ["Whenever"]);
    assert!(titles(&get("?created_to=2000-01-01").await).is_empty());
    assert_eq!(
        get("?created_from=2000-01-01").await["items"]
            .as_array()
            .unwrap()
            .len(),
        7
    );
    let by_created = titles(&get("?sort=created_at&order=asc").await);
    assert_eq!(by_created[0], "Past due");
    let by_updated = titles(&get("?sort=updated_at&order=desc&limit=1").await);
    assert_eq!(by_updated, ["Rep's own note to self"]);

    for bad in [
        "?overdue=yes",
        "?status=done",
        "?priority=urgent",
        "?due_from=soon",
        "?sort=title",
        "?order=sideways",
        "?colour=red",
        "?limit=0",
        "?cursor=forged",
    ] {
        assert_problem(
            app.get(&format!("/api/v1/tasks{bad}"), &admin.token).await,
            422,
        )
        .await;
    }

    // Paging visits every row once, in order, for every sort, even while rows are added.
    for (sort, order) in [
        ("due_at", "asc"),
        ("due_at", "desc"),
        ("created_at", "desc"),
        ("updated_at", "asc"),
    ] {
        let all = titles(&get(&format!("?sort={sort}&order={order}&limit=200")).await);
        let mut seen = Vec::new();
        let mut cursor: Option<String> = None;
        let mut added = 0;
        loop {
            let mut query = format!("?sort={sort}&order={order}&limit=2");
            if let Some(c) = &cursor {
                query.push_str(&format!("&cursor={c}"));
            }
            let page = get(&query).await;
            seen.extend(titles(&page));
            create_task(
                &app,
                &admin,
                json!({"title": format!("Added {sort} {order} {added}"), "due_at": "2050-01-01T00:00:00Z"}),
            )
            .await;
            added += 1;
            match page["next_cursor"].as_str() {
                Some(c) => cursor = Some(c.to_owned()),
                None => break,
            }
        }
        let old: Vec<&String> = seen.iter().filter(|t| all.contains(t)).collect();
        assert_eq!(old, all.iter().collect::<Vec<_>>(), "{sort} {order}");
        let mut unique = seen.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), seen.len(), "{sort} {order}: no row twice");
    }
}
