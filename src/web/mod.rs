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
    cfg.service(resource("/").route(web::get().to(home::home)))
        .service(resource("/assets/{name:.*}").route(web::get().to(assets::serve)))
        .service(
            resource("/login")
                .route(web::get().to(signin::login_page))
                .route(web::post().to(signin::login_submit)),
        )
        .service(
            resource("/logout")
                .route(web::get().to(signin::logout_page))
                .route(web::post().to(signin::logout_submit)),
        )
        .service(
            resource("/setup")
                .route(web::get().to(signin::setup_page))
                .route(web::post().to(signin::setup_submit)),
        )
        .service(resource("/profile").route(web::get().to(profile::page)))
        .service(resource("/profile/password").route(web::post().to(profile::change_password)))
        .service(resource("/profile/tokens").route(web::post().to(profile::create_token)))
        .service(
            resource("/profile/tokens/{id}/revoke").route(web::post().to(profile::revoke_token)),
        );
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
    cfg.service(resource("/search").route(web::get().to(search::page)))
        // Before the `/{entity}/{id}` pages, which would otherwise take this path.
        .service(
            resource("/{entity:customers|contacts|leads|tasks}/bulk-delete")
                .route(web::post().to(trash::bulk_delete)),
        )
        .service(
            resource("/customers")
                .route(web::get().to(customers::list))
                .route(web::post().to(customers::create)),
        )
        .service(resource("/customers/new").route(web::get().to(customers::new)))
        .service(resource("/customers/{id}").route(web::get().to(customers::show)))
        .service(
            resource("/customers/{id}/edit")
                .route(web::get().to(customers::edit))
                .route(web::post().to(customers::update)),
        )
        .service(
            resource("/contacts")
                .route(web::get().to(contacts::list))
                .route(web::post().to(contacts::create)),
        )
        .service(resource("/contacts/new").route(web::get().to(contacts::new)))
        .service(resource("/contacts/{id}").route(web::get().to(contacts::show)))
        .service(
            resource("/contacts/{id}/edit")
                .route(web::get().to(contacts::edit))
                .route(web::post().to(contacts::update)),
        )
        .service(
            resource("/leads")
                .route(web::get().to(leads::list))
                .route(web::post().to(leads::create)),
        )
        .service(resource("/leads/new").route(web::get().to(leads::new)))
        .service(resource("/leads/board").route(web::get().to(leads::board)))
        .service(resource("/leads/{id}").route(web::get().to(leads::show)))
        .service(
            resource("/leads/{id}/edit")
                .route(web::get().to(leads::edit))
                .route(web::post().to(leads::update)),
        )
        .service(resource("/leads/{id}/stage").route(web::post().to(leads::move_stage)))
        .service(resource("/leads/{id}/convert").route(web::post().to(leads::convert)))
        .service(
            resource("/tasks")
                .route(web::get().to(tasks::list))
                .route(web::post().to(tasks::create)),
        )
        .service(resource("/tasks/new").route(web::get().to(tasks::new)))
        .service(resource("/tasks/mine").route(web::get().to(tasks::mine)))
        .service(resource("/tasks/{id}").route(web::get().to(tasks::show)))
        .service(
            resource("/tasks/{id}/edit")
                .route(web::get().to(tasks::edit))
                .route(web::post().to(tasks::update)),
        )
        .service(resource("/tasks/{id}/complete").route(web::post().to(tasks::complete)))
        .service(resource("/activities").route(web::post().to(timeline::log)))
        .service(
            resource("/{entity:customers|contacts|leads|tasks}/{id}/delete")
                .route(web::post().to(trash::delete)),
        )
        .service(resource("/attachments/{id}/delete").route(web::post().to(attachments::delete)))
        .service(resource("/trash").route(web::get().to(trash::page)))
        .service(
            resource("/trash/{entity:customers|contacts|leads|tasks}/{id}/restore")
                .route(web::post().to(trash::restore)),
        )
        .service(resource("/notifications").route(web::get().to(notifications::page)))
        .service(
            resource("/notifications/read-all").route(web::post().to(notifications::mark_all_read)),
        )
        .service(
            resource("/notifications/{id}/read").route(web::post().to(notifications::mark_read)),
        );
}
