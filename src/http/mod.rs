//! The HTTP front door: every route in one table, thin handlers, and the mapping of errors
//! to problem+json.

pub mod activities;
pub mod attachments;
pub mod auth;
pub mod backups;
pub mod contacts;
pub mod cookies;
pub mod customers;
pub mod download;
pub mod duplicates;
pub mod exports;
pub mod extract;
pub mod imports;
pub mod leads;
pub mod metrics;
pub mod middleware;
pub mod multipart;
pub mod notifications;
pub mod openapi;
pub mod problem;
pub mod reports;
mod resource;
pub mod search;
pub mod stages;
pub mod system;
pub mod tasks;
pub mod timeline;
pub mod tokens;
pub mod trash;
pub mod users;

use actix_web::http::Method;
use actix_web::{FromRequest, Handler, HttpResponse, Responder, Route, web};

use crate::error::{AppError, AppResult};
pub use resource::{Resource, resource};

/// One row of the route table.
pub struct Endpoint {
    pub method: Method,
    /// The full path as actix matches it and OpenAPI names it, e.g. `/api/v1/users/{id}`.
    pub path: &'static str,
    route: Route,
}

fn ep<F, Args>(method: Method, path: &'static str, handler: F) -> Endpoint
where
    F: Handler<Args>,
    Args: FromRequest + 'static,
    F::Output: Responder + 'static,
{
    Endpoint {
        route: web::route().to(handler),
        method,
        path,
    }
}

/// Every route of the JSON API and the operational endpoints. The OpenAPI document is
/// checked against this table by the tests, so neither can drift from the other.
pub fn endpoints() -> Vec<Endpoint> {
    use Method as M;
    vec![
        ep(M::GET, "/healthz", system::healthz),
        ep(M::GET, "/api/openapi.json", system::openapi_json),
        ep(M::GET, "/metrics", metrics::metrics),
        ep(M::POST, "/api/v1/auth/login", auth::login),
        ep(M::POST, "/api/v1/auth/logout", auth::logout),
        ep(M::GET, "/api/v1/auth/me", auth::me),
        ep(M::POST, "/api/v1/auth/password", auth::change_password),
        ep(M::GET, "/api/v1/users", users::list),
        ep(M::POST, "/api/v1/users", users::create),
        ep(M::GET, "/api/v1/users/{id}", users::get),
        ep(M::PATCH, "/api/v1/users/{id}", users::update),
        ep(
            M::POST,
            "/api/v1/users/{id}/reset-password",
            users::reset_password,
        ),
        ep(M::GET, "/api/v1/tokens", tokens::list),
        ep(M::POST, "/api/v1/tokens", tokens::create),
        ep(M::DELETE, "/api/v1/tokens/{id}", tokens::revoke),
        // customers
        ep(M::GET, "/api/v1/customers", customers::list),
        ep(M::POST, "/api/v1/customers", customers::create),
        ep(M::GET, "/api/v1/customers/{id}", customers::get),
        ep(M::PATCH, "/api/v1/customers/{id}", customers::update),
        ep(M::DELETE, "/api/v1/customers/{id}", customers::delete),
        ep(
            M::POST,
            "/api/v1/customers/{id}/restore",
            customers::restore,
        ),
        // contacts
        ep(M::GET, "/api/v1/contacts", contacts::list),
        ep(M::POST, "/api/v1/contacts", contacts::create),
        ep(M::GET, "/api/v1/contacts/{id}", contacts::get),
        ep(M::PATCH, "/api/v1/contacts/{id}", contacts::update),
        ep(M::DELETE, "/api/v1/contacts/{id}", contacts::delete),
        ep(M::POST, "/api/v1/contacts/{id}/restore", contacts::restore),
        // leads and stages
        ep(M::GET, "/api/v1/leads", leads::list),
        ep(M::POST, "/api/v1/leads", leads::create),
        ep(M::GET, "/api/v1/leads/{id}", leads::get),
        ep(M::PATCH, "/api/v1/leads/{id}", leads::update),
        ep(M::DELETE, "/api/v1/leads/{id}", leads::delete),
        ep(M::POST, "/api/v1/leads/{id}/restore", leads::restore),
        ep(M::POST, "/api/v1/leads/{id}/stage", leads::move_stage),
        ep(M::POST, "/api/v1/leads/{id}/convert", leads::convert),
        ep(M::GET, "/api/v1/stages", stages::list),
        ep(M::PUT, "/api/v1/stages", stages::replace),
        // tasks, activities and timelines
        ep(M::GET, "/api/v1/tasks", tasks::list),
        ep(M::POST, "/api/v1/tasks", tasks::create),
        ep(M::GET, "/api/v1/tasks/{id}", tasks::get),
        ep(M::PATCH, "/api/v1/tasks/{id}", tasks::update),
        ep(M::DELETE, "/api/v1/tasks/{id}", tasks::delete),
        ep(M::POST, "/api/v1/tasks/{id}/restore", tasks::restore),
        ep(M::POST, "/api/v1/tasks/{id}/complete", tasks::complete),
        ep(M::GET, "/api/v1/activities", activities::list),
        ep(M::POST, "/api/v1/activities", activities::create),
        ep(M::GET, "/api/v1/activities/{id}", activities::get),
        ep(M::PATCH, "/api/v1/activities/{id}", activities::update),
        ep(M::DELETE, "/api/v1/activities/{id}", activities::delete),
        ep(
            M::POST,
            "/api/v1/activities/{id}/restore",
            activities::restore,
        ),
        ep(
            M::GET,
            "/api/v1/customers/{id}/timeline",
            timeline::customer,
        ),
        ep(M::GET, "/api/v1/contacts/{id}/timeline", timeline::contact),
        ep(M::GET, "/api/v1/leads/{id}/timeline", timeline::lead),
        // attachments
        ep(M::POST, "/api/v1/attachments", attachments::upload),
        ep(M::GET, "/api/v1/attachments/{id}", attachments::download),
        ep(M::DELETE, "/api/v1/attachments/{id}", attachments::delete),
        ep(
            M::POST,
            "/api/v1/attachments/{id}/restore",
            attachments::restore,
        ),
        ep(
            M::GET,
            "/api/v1/customers/{id}/attachments",
            attachments::customer,
        ),
        ep(
            M::GET,
            "/api/v1/contacts/{id}/attachments",
            attachments::contact,
        ),
        ep(M::GET, "/api/v1/leads/{id}/attachments", attachments::lead),
        ep(M::GET, "/api/v1/tasks/{id}/attachments", attachments::task),
        // trash and audit
        ep(M::GET, "/api/v1/trash", trash::list),
        ep(M::POST, PURGE_PATH, trash::purge),
        ep(M::GET, "/api/v1/audit", trash::audit_log),
        // search
        ep(M::GET, "/api/v1/search", search::search),
        ep(M::GET, "/api/v1/reports/dashboard", reports::dashboard),
        // exports, duplicates and merges
        ep(M::GET, "/api/v1/exports/{entity}.csv", exports::export),
        ep(M::GET, "/api/v1/duplicates", duplicates::list),
        ep(M::POST, "/api/v1/merges", duplicates::merge),
        // imports
        ep(M::POST, "/api/v1/imports", imports::start),
        ep(M::GET, "/api/v1/imports/{id}", imports::status),
        ep(
            M::GET,
            "/api/v1/imports/{id}/errors.csv",
            imports::errors_csv,
        ),
        ep(M::POST, "/api/v1/imports/{id}/cancel", imports::cancel),
        ep(M::POST, "/api/v1/imports/{id}/commit", imports::commit),
        // backups
        ep(M::GET, "/api/v1/admin/backups", backups::list),
        ep(M::GET, "/api/v1/admin/backup", backups::download),
        // notifications
        ep(M::GET, "/api/v1/notifications", notifications::list),
        ep(
            M::GET,
            "/api/v1/notifications/unread-count",
            notifications::unread_count,
        ),
        ep(
            M::POST,
            "/api/v1/notifications/read-all",
            notifications::read_all,
        ),
        ep(
            M::POST,
            "/api/v1/notifications/{id}/read",
            notifications::read,
        ),
        ep(
            M::GET,
            "/api/v1/notifications/stream",
            notifications::stream,
        ),
    ]
}

/// Purging, as the route table and OpenAPI name it; `routes` registers it per collection.
const PURGE_PATH: &str = "/api/v1/{entity}/{id}/purge";

/// A path and the routes (one per method) it answers.
type PathRoutes = (&'static str, Vec<(Method, Route)>);

/// Registers the route table: one resource per path, answering 405 to other methods, in a
/// scope per collection (`/api/v1/leads`, …). actix tries resources in order and matches a
/// path with parameters by regex, so a flat table of a hundred paths cost every request
/// dozens of regex runs (5% of the CPU under the list and get loads); a scope is first
/// matched by its plain prefix.
pub fn routes(cfg: &mut web::ServiceConfig) {
    let mut scopes: Vec<(&'static str, Vec<PathRoutes>)> = Vec::new();
    for endpoint in endpoints() {
        // Purging is one route for every collection, but registered ahead of the scopes it
        // made every API request run its regex first (10% of the CPU under the get load);
        // each collection's scope gets its own purge route below instead.
        if endpoint.path == PURGE_PATH {
            continue;
        }
        let prefix = scope_of(endpoint.path);
        let i = match scopes.iter().position(|(p, _)| *p == prefix) {
            Some(i) => i,
            None => {
                scopes.push((prefix, Vec::new()));
                scopes.len() - 1
            }
        };
        let resources = &mut scopes[i].1;
        let path = &endpoint.path[prefix.len()..];
        match resources.iter_mut().find(|(p, _)| *p == path) {
            Some((_, routes)) => routes.push((endpoint.method, endpoint.route)),
            None => resources.push((path, vec![(endpoint.method, endpoint.route)])),
        }
    }
    let with_routes = |path: &str, routes: Vec<(Method, Route)>| {
        routes
            .into_iter()
            .fold(resource(path), |r, (method, route)| r.route(method, route))
    };
    for (prefix, resources) in scopes {
        if prefix.is_empty() {
            for (path, routes) in resources {
                cfg.service(with_routes(path, routes));
            }
            continue;
        }
        let scope = web::scope(prefix).default_service(web::to(api_not_found));
        let mut scope = resources.into_iter().fold(scope, |scope, (path, routes)| {
            scope.service(with_routes(path, routes))
        });
        // Last in its scope: the collection's own routes are tried first.
        if let Some(entity) = purgeable(prefix) {
            scope = scope
                .service(resource("/{id}/purge").route(Method::POST, trash::purge_route(entity)));
        }
        cfg.service(scope);
    }
    cfg.service(web::scope("/api").default_service(web::to(api_not_found)));
}

/// The purgeable collection a scope serves, if any.
fn purgeable(prefix: &str) -> Option<&'static str> {
    trash::purgeable(prefix.strip_prefix("/api/v1/")?)
}

/// The scope a route lives in: `/api/v1/<collection>`, or none (`""`) for the few
/// operational paths outside the versioned API and for a path whose collection is a
/// parameter (`/api/v1/{entity}/…`), which as a scope would take every collection's paths.
fn scope_of(path: &'static str) -> &'static str {
    let Some(rest) = path.strip_prefix("/api/v1/") else {
        return "";
    };
    if rest.starts_with('{') {
        return "";
    }
    let end = rest.find('/').map_or(path.len(), |i| "/api/v1/".len() + i);
    &path[..end]
}

async fn api_not_found() -> AppResult<HttpResponse> {
    Err(AppError::NotFound)
}

#[cfg(test)]
mod tests {
    use super::scope_of;

    #[test]
    fn every_purgeable_collection_has_a_scope_for_its_purge_route() {
        let scopes: Vec<&str> = super::endpoints()
            .iter()
            .map(|e| scope_of(e.path))
            .collect();
        let collections = crate::domain::records::Kind::ALL
            .into_iter()
            .map(|k| k.table())
            .chain(["attachments"]);
        for entity in collections {
            let prefix = format!("/api/v1/{entity}");
            assert!(scopes.contains(&prefix.as_str()), "{prefix}");
            assert_eq!(super::purgeable(&prefix), Some(entity));
        }
    }

    #[test]
    fn routes_are_scoped_by_their_collection() {
        assert_eq!(scope_of("/api/v1/leads"), "/api/v1/leads");
        assert_eq!(scope_of("/api/v1/leads/{id}/stage"), "/api/v1/leads");
        assert_eq!(scope_of("/api/v1/admin/backups"), "/api/v1/admin");
        assert_eq!(scope_of("/api/v1/{entity}/{id}/purge"), "");
        assert_eq!(scope_of("/healthz"), "");
        assert_eq!(scope_of("/api/openapi.json"), "");
    }
}
