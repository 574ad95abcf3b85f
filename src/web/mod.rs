//! The web app: server-rendered Maud pages over the same domain functions as the API.

pub mod assets;
pub mod charts;
pub mod components;
pub mod dashboard;
pub mod error;
pub mod flash;
pub mod forms;
pub mod home;
pub mod layout;
pub mod profile;
pub mod session;
pub mod signin;

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
}
