//! Contacts and their customers in the trash: references, cascade, restore, purge.

use reqwest::{Method, StatusCode};
use serde_json::json;

use super::{audit_actions, create, id_of, json_of, send};
use crate::helpers::{assert_problem, error_fields, spawn_app};

#[actix_web::test]
async fn customer_references_and_the_trash() {
    let app = spawn_app().await;
    let admin = app.bootstrap_admin().await;
    let rep = app.user(&admin, "sales").await;
    let acme = create(&app, "customers", &rep, json!({"name": "Acme"})).await;
    let gone = create(&app, "customers", &rep, json!({"name": "Gone"})).await;
    let gone_path = format!("/api/v1/customers/{}", id_of(&gone));
    send(&app, Method::DELETE, &gone_path, &rep).await;

    // A trashed or unknown customer is not a valid reference.
    for customer in [id_of(&gone), "no-such-customer".to_owned()] {
        let res = app
            .post(
                "/api/v1/contacts",
                &rep.token,
                json!({"first_name": "Ada", "customer_id": customer}),
            )
            .await;
        assert_eq!(
            error_fields(&assert_problem(res, 422).await),
            ["customer_id"]
        );
    }
    let ada = create(
        &app,
        "contacts",
        &rep,
        json!({"first_name": "Ada", "customer_id": acme["id"]}),
    )
    .await;
    let path = format!("/api/v1/contacts/{}", id_of(&ada));
    let res = app
        .patch(&path, &rep.token, json!({"customer_id": gone["id"]}))
        .await;
    assert_eq!(
        error_fields(&assert_problem(res, 422).await),
        ["customer_id"]
    );

    // A contact whose customer is in the trash comes back only after the customer.
    send(&app, Method::DELETE, &path, &rep).await;
    // Restoring a customer brings back what was deleted at the same instant; make sure
    // this contact was not.
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let acme_path = format!("/api/v1/customers/{}", id_of(&acme));
    assert_eq!(
        send(&app, Method::DELETE, &acme_path, &rep).await.status(),
        StatusCode::NO_CONTENT,
        "no live contacts left"
    );
    let res = send(&app, Method::POST, &format!("{path}/restore"), &rep).await;
    let body = assert_problem(res, 409).await;
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .contains("restore the customer first"),
        "{body}"
    );
    assert_problem(app.get(&path, &rep.token).await, 404).await;
    let restored = send(&app, Method::POST, &format!("{acme_path}/restore"), &rep).await;
    assert_eq!(restored.status(), StatusCode::OK);
    // Trashed on its own, before the customer: it stays in the trash until restored.
    assert_problem(app.get(&path, &rep.token).await, 404).await;
    let res = send(&app, Method::POST, &format!("{path}/restore"), &rep).await;
    assert_eq!(json_of(res).await["customer_id"], acme["id"]);
}

#[actix_web::test]
async fn deleting_a_customer_with_contacts_cascades_restores_and_purges_cleanly() {
    let app = spawn_app().await;
    let admin = app.bootstrap_admin().await;
    let rep = app.user(&admin, "sales").await;
    let acme = create(&app, "customers", &rep, json!({"name": "Acme"})).await;
    let acme_path = format!("/api/v1/customers/{}", id_of(&acme));
    let ada = create(
        &app,
        "contacts",
        &rep,
        json!({"first_name": "Ada", "customer_id": acme["id"], "tags": ["vip"]}),
    )
    .await;
    let path = format!("/api/v1/contacts/{}", id_of(&ada));

    let res = send(&app, Method::DELETE, &acme_path, &rep).await;
    assert!(
        assert_problem(res, 409).await["detail"]
            .as_str()
            .unwrap()
            .contains("1 contact(s)")
    );
    assert_eq!(app.get(&path, &rep.token).await.status(), StatusCode::OK);

    let cascade = format!("{acme_path}?cascade=true");
    assert_eq!(
        send(&app, Method::DELETE, &cascade, &rep).await.status(),
        StatusCode::NO_CONTENT
    );
    assert_problem(app.get(&path, &rep.token).await, 404).await;
    assert_problem(app.get(&acme_path, &rep.token).await, 404).await;
    let trash = json_of(app.get("/api/v1/trash?entity=contact", &rep.token).await).await;
    assert_eq!(trash["items"][0]["id"], ada["id"]);

    let res = send(&app, Method::POST, &format!("{acme_path}/restore"), &rep).await;
    assert_eq!(res.status(), StatusCode::OK);
    let back = json_of(app.get(&path, &rep.token).await).await;
    assert_eq!(back["customer_id"], acme["id"]);
    assert_eq!(back["tags"], json!(["vip"]));
    assert_eq!(
        audit_actions(&app, &admin, &id_of(&ada)).await,
        ["contact.restore", "contact.delete", "contact.create"]
    );

    // Purging the customer lets go of the contact and breaks no foreign key.
    send(&app, Method::DELETE, &cascade, &rep).await;
    let purge = format!("/api/v1/customers/{}/purge", id_of(&acme));
    assert_problem(send(&app, Method::POST, &purge, &rep).await, 403).await;
    assert_eq!(
        send(&app, Method::POST, &purge, &admin).await.status(),
        StatusCode::NO_CONTENT
    );
    let check = app.cli(&["check"], None);
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stdout)
    );
    let res = send(&app, Method::POST, &format!("{path}/restore"), &rep).await;
    assert!(json_of(res).await["customer_id"].is_null());

    // And purging the contact itself.
    send(&app, Method::DELETE, &path, &rep).await;
    let purge = format!("/api/v1/contacts/{}/purge", id_of(&ada));
    assert_eq!(
        send(&app, Method::POST, &purge, &admin).await.status(),
        StatusCode::NO_CONTENT
    );
    assert_problem(
        send(&app, Method::POST, &format!("{path}/restore"), &rep).await,
        404,
    )
    .await;
    let check = app.cli(&["check"], None);
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stdout)
    );
}
