//! `GET /metrics`: Prometheus text format, outside `/api/v1` and without a user session.
//!
//! Who may scrape: with `--metrics-token`, whoever sends it as a bearer token (Prometheus'
//! `authorization: { credentials_file: … }`). Without one, only direct connections from
//! this machine: a loopback peer that no proxy forwarded (a reverse proxy on the same host
//! also connects from loopback, so a forwarding header means "from outside").

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};

use crate::config::Secret;
use crate::domain::tokens;
use crate::error::{AppError, AppResult};
use crate::http::problem::Problem;
use crate::metrics::{self, exposition, facts};
use crate::state::AppState;

/// Request counts and latencies by route template, database queue waits and write batch
/// sizes, SQLite file and WAL sizes, backup age and failures, open notification streams,
/// refused sign-ins, resident memory and uptime. Needs `Authorization: Bearer
/// <metrics token>` when the server runs with `--metrics-token`; otherwise it answers only
/// connections from the server's own machine that no proxy forwarded.
#[utoipa::path(get, path = "/metrics", tag = "operations", security((), ("metrics_token" = [])),
    responses((status = 200, description = "Prometheus text exposition format 0.0.4",
            content_type = "text/plain"),
        (status = 401, response = Problem), (status = 403, response = Problem)))]
pub async fn metrics(state: web::Data<AppState>, req: HttpRequest) -> AppResult<HttpResponse> {
    may_scrape(&req, state.config.metrics_token.as_ref())?;
    let db = state.db.path().to_owned();
    let schedule = state.config.backups.clone();
    let status = state.backup_status.clone();
    let facts = web::block(move || facts::gather(&db, schedule.as_ref(), &status))
        .await
        .map_err(AppError::internal)?;
    let body = metrics::scrape(&state.metrics, &state.db, &facts);
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .content_type(exposition::CONTENT_TYPE)
        .body(body))
}

fn may_scrape(req: &HttpRequest, token: Option<&Secret>) -> AppResult<()> {
    match token {
        Some(token) => {
            let sent = bearer(req).ok_or(AppError::Unauthorized)?;
            // Digests compared, so the time taken says nothing about the token's bytes.
            let expected = tokens::digest(&String::from_utf8_lossy(token.bytes()));
            if tokens::digest(sent) == expected {
                Ok(())
            } else {
                Err(AppError::Unauthorized)
            }
        }
        None if direct_from_this_machine(req) => Ok(()),
        None => Err(AppError::Forbidden(
            "/metrics answers only this machine; start Rapport with --metrics-token to \
             scrape it from elsewhere."
                .into(),
        )),
    }
}

fn bearer(req: &HttpRequest) -> Option<&str> {
    req.headers()
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(str::trim)
}

fn direct_from_this_machine(req: &HttpRequest) -> bool {
    const FORWARDING: [&str; 3] = ["forwarded", "x-forwarded-for", "x-real-ip"];
    let loopback = req.peer_addr().is_some_and(|peer| peer.ip().is_loopback());
    loopback && !FORWARDING.iter().any(|h| req.headers().contains_key(*h))
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    fn from(peer: &str) -> TestRequest {
        TestRequest::default().peer_addr(peer.parse().unwrap())
    }

    #[test]
    fn without_a_token_only_direct_local_connections_may_scrape() {
        assert!(may_scrape(&from("127.0.0.1:5000").to_http_request(), None).is_ok());
        assert!(may_scrape(&from("[::1]:5000").to_http_request(), None).is_ok());
        let proxied = from("127.0.0.1:5000")
            .insert_header(("X-Forwarded-For", "203.0.113.9"))
            .to_http_request();
        assert!(matches!(
            may_scrape(&proxied, None),
            Err(AppError::Forbidden(_))
        ));
        let remote = from("192.0.2.7:5000").to_http_request();
        assert!(matches!(
            may_scrape(&remote, None),
            Err(AppError::Forbidden(_))
        ));
    }

    #[test]
    fn with_a_token_everyone_needs_it() {
        let token = Secret::parse_named("t", "0123456789abcdef-metrics", 16).unwrap();
        let with = |value: &str| {
            from("192.0.2.7:5000")
                .insert_header(("Authorization", value))
                .to_http_request()
        };
        assert!(may_scrape(&with("Bearer 0123456789abcdef-metrics"), Some(&token)).is_ok());
        let wrong = may_scrape(&with("Bearer nope"), Some(&token));
        assert!(matches!(wrong, Err(AppError::Unauthorized)));
        let local = from("127.0.0.1:5000").to_http_request();
        assert!(matches!(
            may_scrape(&local, Some(&token)),
            Err(AppError::Unauthorized)
        ));
    }
}
