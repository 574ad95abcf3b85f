//! The web app: server-rendered Maud pages over the same domain functions as the API.

pub mod admin;
pub mod assets;
pub mod attachments;
pub mod bulk;
pub mod charts;
pub mod components;
pub mod contacts;
pub mod customers;
pub mod dashboard;
pub mod duplicates;
pub mod error;
pub mod flash;
pub mod forms;
pub mod home;
pub mod imports;
pub mod layout;
pub mod leads;
pub mod multipart;
pub mod notifications;
pub mod people;
pub mod profile;
pub mod search;
pub mod session;
pub mod signin;
pub mod tasks;
pub mod timeline;
pub mod trash;

use actix_web::web;

use crate::http::resource;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(resource("/").get(home::home))
        .service(resource("/assets/{name:.*}").get(assets::serve))
        .service(
            resource("/login")
                .get(signin::login_page)
                .post(signin::login_submit),
        )
        .service(
            resource("/logout")
                .get(signin::logout_page)
                .post(signin::logout_submit),
        )
        .service(
            resource("/setup")
                .get(signin::setup_page)
                .post(signin::setup_submit),
        )
        .service(resource("/profile").get(profile::page))
        .service(resource("/profile/password").post(profile::change_password))
        .service(resource("/profile/tokens").post(profile::create_token))
        .service(resource("/profile/tokens/{id}/revoke").post(profile::revoke_token));
    // Import, duplicates, the lists' bulk actions and uploads without JavaScript; before
    // `records`, whose `/{entity}/{id}` pages would take the bulk paths.
    imports::routes(cfg);
    duplicates::routes(cfg);
    bulk::routes(cfg);
    attachments::routes(cfg);
    records(cfg);
    admin::routes(cfg);
}

/// The daily-work pages: lists, records, their forms, search and notifications.
fn records(cfg: &mut web::ServiceConfig) {
    cfg.service(resource("/search").get(search::page))
        // Before the `/{entity}/{id}` pages, which would otherwise take this path.
        .service(
            resource("/{entity:customers|contacts|leads|tasks}/bulk-delete")
                .post(trash::bulk_delete),
        )
        .service(
            resource("/customers")
                .get(customers::list)
                .post(customers::create),
        )
        .service(resource("/customers/new").get(customers::new))
        .service(resource("/customers/{id}").get(customers::show))
        .service(
            resource("/customers/{id}/edit")
                .get(customers::edit)
                .post(customers::update),
        )
        .service(
            resource("/contacts")
                .get(contacts::list)
                .post(contacts::create),
        )
        .service(resource("/contacts/new").get(contacts::new))
        .service(resource("/contacts/{id}").get(contacts::show))
        .service(
            resource("/contacts/{id}/edit")
                .get(contacts::edit)
                .post(contacts::update),
        )
        .service(resource("/leads").get(leads::list).post(leads::create))
        .service(resource("/leads/new").get(leads::new))
        .service(resource("/leads/board").get(leads::board))
        .service(resource("/leads/{id}").get(leads::show))
        .service(
            resource("/leads/{id}/edit")
                .get(leads::edit)
                .post(leads::update),
        )
        .service(resource("/leads/{id}/stage").post(leads::move_stage))
        .service(resource("/leads/{id}/convert").post(leads::convert))
        .service(resource("/tasks").get(tasks::list).post(tasks::create))
        .service(resource("/tasks/new").get(tasks::new))
        .service(resource("/tasks/mine").get(tasks::mine))
        .service(resource("/tasks/{id}").get(tasks::show))
        .service(
            resource("/tasks/{id}/edit")
                .get(tasks::edit)
                .post(tasks::update),
        )
        .service(resource("/tasks/{id}/complete").post(tasks::complete))
        .service(resource("/activities").post(timeline::log))
        .service(
            resource("/{entity:customers|contacts|leads|tasks}/{id}/delete").post(trash::delete),
        )
        .service(resource("/attachments/{id}/delete").post(attachments::delete))
        .service(resource("/trash").get(trash::page))
        .service(
            resource("/trash/{entity:customers|contacts|leads|tasks}/{id}/restore")
                .post(trash::restore),
        )
        .service(resource("/notifications").get(notifications::page))
        .service(resource("/notifications/read-all").post(notifications::mark_all_read))
        .service(resource("/notifications/{id}/read").post(notifications::mark_read));
}
