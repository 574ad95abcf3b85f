//! The HTTP front door: every route in one table, thin handlers, and the mapping of errors
//! to problem+json.

pub mod auth;
pub mod cookies;
pub mod extract;
pub mod middleware;
pub mod openapi;
pub mod problem;
pub mod system;
pub mod tokens;
pub mod users;

use actix_web::{HttpResponse, web};

use crate::error::{AppError, AppResult};

/// A resource that answers 405 (not the scope's 404) to methods it does not route.
pub fn resource(path: &str) -> actix_web::Resource {
    web::resource(path).default_service(web::to(method_not_allowed))
}

async fn method_not_allowed() -> AppResult<HttpResponse> {
    Err(AppError::MethodNotAllowed)
}

async fn api_not_found() -> AppResult<HttpResponse> {
    Err(AppError::NotFound)
}

/// Every route of the JSON API and the operational endpoints.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(resource("/healthz").route(web::get().to(system::healthz)))
        .service(resource("/api/openapi.json").route(web::get().to(system::openapi_json)))
        .service(
            web::scope("/api/v1")
                .service(resource("/auth/login").route(web::post().to(auth::login)))
                .service(resource("/auth/logout").route(web::post().to(auth::logout)))
                .service(resource("/auth/me").route(web::get().to(auth::me)))
                .service(resource("/auth/password").route(web::post().to(auth::change_password)))
                .service(
                    resource("/users")
                        .route(web::get().to(users::list))
                        .route(web::post().to(users::create)),
                )
                .service(
                    resource("/users/{id}")
                        .route(web::get().to(users::get))
                        .route(web::patch().to(users::update)),
                )
                .service(
                    resource("/users/{id}/reset-password")
                        .route(web::post().to(users::reset_password)),
                )
                .service(
                    resource("/tokens")
                        .route(web::get().to(tokens::list))
                        .route(web::post().to(tokens::create)),
                )
                .service(resource("/tokens/{id}").route(web::delete().to(tokens::revoke)))
                .default_service(web::to(api_not_found)),
        );
}
