//! Cross-cutting response behaviour: security headers, and the access log with the
//! request metrics.

use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::{DefaultHeaders, Next};
use actix_web::web;
use tracing::Instrument;

use crate::metrics::UNMATCHED_ROUTE;
use crate::state::AppState;

/// Scripts and styles only from our own origin (no inline script), no plugins, no `<base>`
/// tricks, no framing.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
     style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self'; \
     object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

pub fn security_headers(https: bool) -> DefaultHeaders {
    let headers = DefaultHeaders::new()
        .add(("Content-Security-Policy", CONTENT_SECURITY_POLICY))
        .add(("X-Content-Type-Options", "nosniff"))
        .add(("Referrer-Policy", "same-origin"))
        .add(("X-Frame-Options", "DENY"))
        .add(("Cross-Origin-Opener-Policy", "same-origin"))
        .add((
            "Permissions-Policy",
            "camera=(), microphone=(), geolocation=(), payment=()",
        ));
    if https {
        headers.add((
            "Strict-Transport-Security",
            "max-age=31536000; includeSubDomains",
        ))
    } else {
        headers
    }
}

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// One span per request carrying its id (echoed in `X-Request-Id`), and one log line with
/// the route template, status and duration once it is answered; the same template labels
/// the request's metrics.
pub async fn access_log(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody + 'static>, actix_web::Error> {
    let id = uuid::Uuid::now_v7().simple().to_string();
    let span = tracing::info_span!(
        "request",
        id = %id,
        method = %req.method(),
        route = tracing::field::Empty,
    );
    let started = Instant::now();
    let path = req.path().to_owned();
    let mut res = next.call(req).instrument(span.clone()).await?;
    let pattern = res.request().match_pattern();
    let route = pattern.as_deref().unwrap_or(&path);
    span.record("route", route);
    if let Ok(value) = HeaderValue::from_str(&id) {
        res.headers_mut().insert(REQUEST_ID, value);
    }
    let status = res.status().as_u16();
    let took = started.elapsed();
    let micros = took.as_micros() as u64;
    span.in_scope(|| {
        tracing::info!(target: "rapport::access", status, micros, "{route}");
    });
    if let Some(state) = res.request().app_data::<web::Data<AppState>>() {
        let route = pattern.unwrap_or_else(|| UNMATCHED_ROUTE.to_owned());
        let method = res.request().method().as_str();
        state.metrics.observe_request(route, method, status, took);
    }
    Ok(res)
}
