//! What `GET /metrics` exposes. Everything counted on a hot path is an atomic (HTTP
//! requests take one uncontended read lock to find their series); what is cheaper to read
//! than to count (file sizes, backups, memory) is read at scrape time, in [`facts`].
//!
//! Each server has its own [`Metrics`] (in `AppState`, the database's in `Db`), so the
//! tests' servers, many in one process, never mix their numbers.

pub mod exposition;
pub mod facts;
pub mod histogram;

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use crate::db::Db;
use exposition::Exposition;
use facts::Facts;
use histogram::{BATCH_SIZES, Histogram, QUEUE_SECONDS, REQUEST_SECONDS, Snapshot};

/// The route label of requests no route matched: raw paths would let any scanner create
/// series without end.
pub const UNMATCHED_ROUTE: &str = "unmatched";

pub struct Metrics {
    started: Instant,
    http: RwLock<HashMap<SeriesKey, Histogram>>,
    login_failures: [AtomicU64; LoginFailure::ALL.len()],
    open_streams: AtomicI64,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct SeriesKey {
    route: String,
    method: &'static str,
    status: u16,
}

/// Why a sign-in was refused.
#[derive(Debug, Clone, Copy)]
pub enum LoginFailure {
    /// Unknown e-mail, wrong password or deactivated account (one answer for all three).
    InvalidCredentials,
    /// Too many recent failures from the address or for the account.
    RateLimited,
}

impl LoginFailure {
    const ALL: [LoginFailure; 2] = [LoginFailure::InvalidCredentials, LoginFailure::RateLimited];

    fn label(self) -> &'static str {
        match self {
            LoginFailure::InvalidCredentials => "invalid_credentials",
            LoginFailure::RateLimited => "rate_limited",
        }
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics {
            started: Instant::now(),
            http: RwLock::default(),
            login_failures: Default::default(),
            open_streams: AtomicI64::new(0),
        }
    }
}

impl Metrics {
    /// Counts an answered request under its route template (`/api/v1/leads/{id}`).
    pub fn observe_request(&self, route: String, method: &str, status: u16, took: Duration) {
        let key = SeriesKey {
            route,
            method: method_label(method),
            status,
        };
        // A poisoned lock only means a panic elsewhere mid-insert; the map is still sound.
        let series = self.http.read().unwrap_or_else(|p| p.into_inner());
        if let Some(histogram) = series.get(&key) {
            histogram.observe_duration(took);
            return;
        }
        drop(series);
        let mut series = self.http.write().unwrap_or_else(|p| p.into_inner());
        series
            .entry(key)
            .or_insert_with(|| Histogram::seconds(REQUEST_SECONDS))
            .observe_duration(took);
    }

    pub fn login_failed(&self, why: LoginFailure) {
        self.login_failures[why as usize].fetch_add(1, Ordering::Relaxed);
    }

    /// Counts an open notification stream until the returned guard is dropped, which
    /// happens however the stream ends (client gone, session revoked, server stopping).
    pub fn stream_opened(self: &Arc<Self>) -> OpenStream {
        self.open_streams.fetch_add(1, Ordering::Relaxed);
        OpenStream(self.clone())
    }

    pub fn uptime(&self) -> Duration {
        self.started.elapsed()
    }

    /// The counters of this module, in the exposition format.
    pub fn render(&self, out: &mut Exposition) {
        self.render_http(out);
        out.describe(
            "rapport_login_failures_total",
            "counter",
            "Refused sign-ins (API and sign-in page), by reason.",
        );
        for why in LoginFailure::ALL {
            let n = self.login_failures[why as usize].load(Ordering::Relaxed);
            out.sample(
                "rapport_login_failures_total",
                &[("reason", why.label())],
                n,
            );
        }
        out.single(
            "rapport_sse_connections",
            "gauge",
            "Open notification streams (Server-Sent Events).",
            self.open_streams.load(Ordering::Relaxed),
        );
    }

    fn render_http(&self, out: &mut Exposition) {
        let mut series: Vec<(SeriesKey, Snapshot)> = {
            let map = self.http.read().unwrap_or_else(|p| p.into_inner());
            map.iter().map(|(k, h)| (k.clone(), h.snapshot())).collect()
        };
        series.sort_by(|(a, _), (b, _)| {
            (&a.route, a.method, a.status).cmp(&(&b.route, b.method, b.status))
        });
        out.describe(
            "rapport_http_requests_total",
            "counter",
            "Answered HTTP requests by route template, method and status.",
        );
        for (key, snapshot) in &series {
            let status = key.status.to_string();
            let labels = [
                ("route", key.route.as_str()),
                ("method", key.method),
                ("status", status.as_str()),
            ];
            out.sample("rapport_http_requests_total", &labels, snapshot.count());
        }
        out.describe(
            "rapport_http_request_duration_seconds",
            "histogram",
            "Time to answer (until the response head; streams count their start only), \
             by route template and method.",
        );
        // Statuses are neighbours after sorting: merge each run into one series.
        let mut merged: Vec<(&str, &str, Snapshot)> = Vec::new();
        for (key, snapshot) in &series {
            match merged.last_mut() {
                Some((route, method, sum)) if *route == key.route && *method == key.method => {
                    sum.merge(snapshot)
                }
                _ => merged.push((&key.route, key.method, snapshot.clone())),
            }
        }
        for (route, method, snapshot) in &merged {
            let labels = [("route", *route), ("method", *method)];
            out.histogram("rapport_http_request_duration_seconds", &labels, snapshot);
        }
    }
}

/// The whole scrape: this server's counters, the database's, the facts read just now.
pub fn scrape(metrics: &Metrics, db: &Db, facts: &Facts) -> String {
    let mut out = Exposition::default();
    metrics.render(&mut out);
    db.metrics().render(db.queued(), &mut out);
    facts.render(&mut out);
    out.single(
        "rapport_uptime_seconds",
        "gauge",
        "Seconds since the server started.",
        metrics.uptime().as_secs_f64(),
    );
    out.describe(
        "rapport_build_info",
        "gauge",
        "Always 1; the version is a label.",
    );
    out.sample(
        "rapport_build_info",
        &[("version", env!("CARGO_PKG_VERSION"))],
        1,
    );
    out.finish()
}

/// Known methods keep their name; anything else is `other`, so that made-up methods
/// cannot grow the series.
fn method_label(method: &str) -> &'static str {
    const KNOWN: [&str; 7] = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];
    KNOWN
        .into_iter()
        .find(|known| *known == method)
        .unwrap_or("other")
}

/// Keeps `rapport_sse_connections` up by one while it lives.
pub struct OpenStream(Arc<Metrics>);

impl Drop for OpenStream {
    fn drop(&mut self) {
        self.0.open_streams.fetch_sub(1, Ordering::Relaxed);
    }
}

/// The database threads' numbers, kept by `Db` (which exists before the server does).
pub struct DbMetrics {
    /// From a read being queued until a reader thread, holding a pooled connection,
    /// starts it.
    pub read_wait: Histogram,
    /// From a write being queued until the writer thread takes it into a transaction.
    pub write_wait: Histogram,
    /// Jobs committed together in one write transaction.
    pub write_batch: Histogram,
}

impl Default for DbMetrics {
    fn default() -> Self {
        DbMetrics {
            read_wait: Histogram::seconds(QUEUE_SECONDS),
            write_wait: Histogram::seconds(QUEUE_SECONDS),
            write_batch: Histogram::counts(BATCH_SIZES),
        }
    }
}

impl DbMetrics {
    /// `queued`: jobs waiting right now (reads, writes).
    pub fn render(&self, queued: (usize, usize), out: &mut Exposition) {
        let histograms = [
            (
                "rapport_db_read_queue_wait_seconds",
                "Time a database read waited for a reader thread and a pooled connection.",
                &self.read_wait,
            ),
            (
                "rapport_db_write_queue_wait_seconds",
                "Time a database write waited in the queue for the single writer thread.",
                &self.write_wait,
            ),
            (
                "rapport_db_write_batch_size",
                "Write jobs committed together in one transaction (group commit).",
                &self.write_batch,
            ),
        ];
        for (name, help, histogram) in histograms {
            out.describe(name, "histogram", help);
            out.histogram(name, &[], &histogram.snapshot());
        }
        out.describe(
            "rapport_db_queued_jobs",
            "gauge",
            "Database jobs waiting for a thread right now, by queue.",
        );
        out.sample("rapport_db_queued_jobs", &[("queue", "read")], queued.0);
        out.sample("rapport_db_queued_jobs", &[("queue", "write")], queued.1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_are_counted_by_status_and_timed_by_route_and_method() {
        let m = Metrics::default();
        let route = || "/api/v1/leads/{id}".to_owned();
        m.observe_request(route(), "GET", 200, Duration::from_millis(1));
        m.observe_request(route(), "GET", 200, Duration::from_millis(2));
        m.observe_request(route(), "GET", 404, Duration::from_millis(1));
        m.observe_request(route(), "BREW", 405, Duration::from_millis(1));
        let mut out = Exposition::default();
        m.render(&mut out);
        let text = out.finish();
        let counter = "rapport_http_requests_total{route=\"/api/v1/leads/{id}\",method=\"GET\"";
        assert!(text.contains(&format!("{counter},status=\"200\"}} 2\n")));
        assert!(text.contains(&format!("{counter},status=\"404\"}} 1\n")));
        assert!(text.contains("method=\"other\",status=\"405\"} 1\n"));
        assert!(text.contains(
            "rapport_http_request_duration_seconds_count{route=\"/api/v1/leads/{id}\",method=\"GET\"} 3\n"
        ));
    }

    #[test]
    fn the_stream_gauge_follows_its_guards() {
        let m = Arc::new(Metrics::default());
        let a = m.stream_opened();
        let b = m.stream_opened();
        assert_eq!(m.open_streams.load(Ordering::Relaxed), 2);
        drop(a);
        drop(b);
        assert_eq!(m.open_streams.load(Ordering::Relaxed), 0);
    }
}
