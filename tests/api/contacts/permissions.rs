//! The role table for contacts, reassignment, and concurrent edits.

use reqwest::{Method, StatusCode};
use serde_json::json;

use super::{create, id_of, json_of, patch_if, send};
use crate::helpers::{assert_problem, error_fields, spawn_app};

#[actix_web::test]
async fn roles_ownership_and_reassignment() {
    let app = spawn_app().await;
    let admin = app.bootstrap_admin().await;
    let manager = app.user(&admin, "manager").await;
    let rep = app.user(&admin, "sales").await;
    let other_rep = app.user(&admin, "sales").await;
    let support = app.user(&admin, "support").await;
    let other_support = app.user(&admin, "support").await;

    // Every role may create contacts.
    for who in [&admin, &manager, &rep, &support] {
        create(&app, "contacts", who, json!({"first_name": "Someone"})).await;
    }
    // Only managers and admins give a contact to someone else, even when creating it.
    let res = app
        .post(
            "/api/v1/contacts",
            &rep.token,
            json!({"first_name": "R", "owner_id": other_rep.id}),
        )
        .await;
    assert_problem(res, 403).await;
    let res = app
        .post(
            "/api/v1/contacts",
            &support.token,
            json!({"first_name": "S", "owner_id": rep.id}),
        )
        .await;
    assert_problem(res, 403).await;
    let own = create(
        &app,
        "contacts",
        &rep,
        json!({"first_name": "Mine", "owner_id": rep.id}),
    )
    .await;
    assert_eq!(own["owner_id"], rep.id.as_str());
    let given = create(
        &app,
        "contacts",
        &manager,
        json!({"first_name": "Given", "owner_id": rep.id}),
    )
    .await;
    assert_eq!(given["owner_id"], rep.id.as_str());

    // Unowned: the creator's. Everyone reads it; only its owner (or a manager) edits it.
    let theirs = create(
        &app,
        "contacts",
        &support,
        json!({"first_name": "Support's"}),
    )
    .await;
    let path = format!("/api/v1/contacts/{}", id_of(&theirs));
    for reader in [&admin, &manager, &rep, &other_support] {
        assert_eq!(app.get(&path, &reader.token).await.status(), StatusCode::OK);
    }
    for outsider in [&rep, &other_support] {
        let res = app
            .patch(&path, &outsider.token, json!({"title": "Mine now"}))
            .await;
        assert_problem(res, 403).await;
        assert_problem(send(&app, Method::DELETE, &path, outsider).await, 403).await;
    }
    assert_eq!(
        app.patch(&path, &support.token, json!({"title": "Support lead"}))
            .await
            .status(),
        StatusCode::OK
    );
    // Taking ownership of your own unowned contact is not reassignment; giving it away is.
    assert_eq!(
        app.patch(&path, &support.token, json!({"owner_id": support.id}))
            .await
            .status(),
        StatusCode::OK
    );
    let res = app
        .patch(&path, &support.token, json!({"owner_id": other_support.id}))
        .await;
    assert_problem(res, 403).await;
    let res = app
        .patch(&path, &support.token, json!({"owner_id": null}))
        .await;
    assert_problem(res, 403).await;

    // A manager reassigns; then the new owner edits and the old one may not.
    let res = app
        .patch(&path, &manager.token, json!({"owner_id": other_support.id}))
        .await;
    assert_eq!(json_of(res).await["owner_id"], other_support.id.as_str());
    let res = app
        .patch(&path, &support.token, json!({"title": "x"}))
        .await;
    assert_problem(res, 403).await;
    let res = app
        .patch(&path, &other_support.token, json!({"title": "Mine"}))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let res = app
        .patch(&path, &admin.token, json!({"owner_id": rep.id}))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let res = app
        .patch(&path, &rep.token, json!({"owner_id": other_rep.id}))
        .await;
    assert_problem(res, 403).await;

    // Delete and restore follow ownership too.
    assert_problem(send(&app, Method::DELETE, &path, &other_rep).await, 403).await;
    assert_eq!(
        send(&app, Method::DELETE, &path, &rep).await.status(),
        StatusCode::NO_CONTENT
    );
    let restore = format!("{path}/restore");
    assert_problem(send(&app, Method::POST, &restore, &other_rep).await, 403).await;
    assert_problem(send(&app, Method::POST, &restore, &support).await, 403).await;
    assert_eq!(
        send(&app, Method::POST, &restore, &rep).await.status(),
        StatusCode::OK
    );
    // Support deletes and restores its own contacts; managers anyone's.
    let mine = create(&app, "contacts", &support, json!({"first_name": "Temp"})).await;
    let mine_path = format!("/api/v1/contacts/{}", id_of(&mine));
    assert_eq!(
        send(&app, Method::DELETE, &mine_path, &support)
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        send(
            &app,
            Method::POST,
            &format!("{mine_path}/restore"),
            &manager
        )
        .await
        .status(),
        StatusCode::OK
    );
    // An owner must be an active user.
    let res = app
        .patch(
            &mine_path,
            &manager.token,
            json!({"owner_id": "no-such-user"}),
        )
        .await;
    assert_eq!(error_fields(&assert_problem(res, 422).await), ["owner_id"]);
}

#[actix_web::test]
async fn concurrent_edits_with_the_same_etag_one_wins() {
    let app = spawn_app().await;
    let admin = app.bootstrap_admin().await;
    let manager = app.user(&admin, "manager").await;
    for round in 0..5 {
        let created = create(&app, "contacts", &admin, json!({"first_name": "Ada"})).await;
        let path = format!("/api/v1/contacts/{}", id_of(&created));
        let (a, b) = tokio::join!(
            patch_if(&app, &path, &admin, "\"1\"", json!({"title": "From admin"})),
            patch_if(
                &app,
                &path,
                &manager,
                "\"1\"",
                json!({"title": "From manager"})
            ),
        );
        let mut statuses = [a.status().as_u16(), b.status().as_u16()];
        statuses.sort();
        assert_eq!(statuses, [200, 412], "round {round}");
        let winner = if a.status() == StatusCode::OK { a } else { b };
        let won = json_of(winner).await;
        let now = json_of(app.get(&path, &admin.token).await).await;
        assert_eq!(now["version"], 2);
        assert_eq!(now["title"], won["title"]);
    }
}
