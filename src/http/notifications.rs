//! `/api/v1/notifications`: the caller's own notifications, and their live stream.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::time::Duration;

use actix_web::http::header::{self, ContentEncoding};
use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Serialize;
use tokio::sync::watch;

use crate::auth::Credentials;
use crate::auth::actor::authenticate;
use crate::domain::list::{ListParams, Page};
use crate::domain::notifications::{self, Notification};
use crate::error::{AppError, AppResult};
use crate::http::problem::Problem;
use crate::state::AppState;

type Query = web::Query<Vec<(String, String)>>;

crate::list_query!(NotificationListQuery, notifications::LIST);

/// The caller's notifications, newest first; `unread=true` for the unread ones only.
#[utoipa::path(get, path = "/api/v1/notifications", tag = "notifications",
    params(NotificationListQuery),
    responses((status = 200, description = "A page of notifications", body = Page<Notification>),
        (status = 401, response = Problem), (status = 422, response = Problem)))]
pub async fn list(
    state: web::Data<AppState>,
    credentials: Credentials,
    query: Query,
) -> AppResult<HttpResponse> {
    let params = ListParams::parse(&query, &notifications::LIST)?;
    let page = state
        .read_as(&credentials, move |conn, actor| {
            notifications::list(conn, &actor.user_id, &params)
        })
        .await?;
    Ok(HttpResponse::Ok().json(page))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct UnreadCount {
    pub count: i64,
}

/// How many of the caller's notifications are unread (the bell's badge).
#[utoipa::path(get, path = "/api/v1/notifications/unread-count", tag = "notifications",
    responses((status = 200, description = "The unread count", body = UnreadCount),
        (status = 401, response = Problem)))]
pub async fn unread_count(
    state: web::Data<AppState>,
    credentials: Credentials,
) -> AppResult<HttpResponse> {
    let count = state
        .read_as(&credentials, move |conn, actor| {
            notifications::unread_count(conn, &actor.user_id)
        })
        .await?;
    Ok(HttpResponse::Ok().json(UnreadCount { count }))
}

/// Mark one of the caller's notifications read. Marking it again changes nothing; another
/// user's notification is 404.
#[utoipa::path(post, path = "/api/v1/notifications/{id}/read", tag = "notifications",
    params(("id" = String, Path)),
    responses((status = 200, description = "The notification, read", body = Notification),
        (status = 401, response = Problem), (status = 404, response = Problem)))]
pub async fn read(
    state: web::Data<AppState>,
    credentials: Credentials,
    id: web::Path<String>,
) -> AppResult<HttpResponse> {
    let notification = state
        .write_as(&credentials, move |conn, actor| {
            notifications::mark_read(conn, &actor.user_id, &id)
        })
        .await?;
    Ok(HttpResponse::Ok().json(notification))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct MarkedRead {
    /// How many notifications were unread until now.
    pub marked: usize,
}

/// Mark all the caller's notifications read.
#[utoipa::path(post, path = "/api/v1/notifications/read-all", tag = "notifications",
    responses((status = 200, description = "How many were marked", body = MarkedRead),
        (status = 401, response = Problem)))]
pub async fn read_all(
    state: web::Data<AppState>,
    credentials: Credentials,
) -> AppResult<HttpResponse> {
    let marked = state
        .write_as(&credentials, move |conn, actor| {
            notifications::mark_all_read(conn, &actor.user_id)
        })
        .await?;
    Ok(HttpResponse::Ok().json(MarkedRead { marked }))
}

/// At most this many notifications per database read while catching a stream up.
const CATCH_UP_BATCH: usize = 100;

/// A Server-Sent Events stream of the caller's new notifications (`event: notification`,
/// `id:` its `seq`, data: the notification as JSON) and of their unread count whenever it
/// changes (`event: unread`, data: `{"count": n}`, also sent first). A new notification
/// arrives within a second. Reconnecting with `Last-Event-ID` (browsers do it by themselves)
/// resumes after that event, without losing or repeating any; without it the stream starts
/// with what happens next. Idle streams get a comment line every 15 s. The stream ends when
/// the session or token is revoked or the user deactivated. Cookie or bearer auth.
#[utoipa::path(get, path = "/api/v1/notifications/stream", tag = "notifications",
    params(("Last-Event-ID" = Option<i64>, Header, description = "The last event id received")),
    responses((status = 200, description = "The event stream", content_type = "text/event-stream"),
        (status = 400, response = Problem), (status = 401, response = Problem)))]
pub async fn stream(
    state: web::Data<AppState>,
    credentials: Credentials,
    req: HttpRequest,
) -> AppResult<HttpResponse> {
    let resume_after = last_event_id(&req)?;
    // Subscribed before the first read, so a notification committed in between still wakes
    // the stream.
    let mut changes = state.db.changes();
    changes.borrow_and_update();
    let start = state
        .read_as(&credentials, move |conn, actor| match resume_after {
            Some(seq) => Ok(seq),
            None => notifications::latest_seq(conn, &actor.user_id),
        })
        .await?;
    let mut events = EventStream {
        state: state.clone(),
        credentials,
        changes,
        stopping: state.stopping.subscribe(),
        keepalive: state.config.timers.stream_keepalive,
        last_seq: start,
        last_unread: None,
        queue: VecDeque::from([Bytes::from_static(b"retry: 3000\n\n")]),
        ended: false,
        _open: state.metrics.stream_opened(),
    };
    events.catch_up().await;
    Ok(HttpResponse::Ok()
        .content_type("text/event-stream")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        // Compression would hold events back in its buffer.
        .insert_header(ContentEncoding::Identity)
        .insert_header(("X-Accel-Buffering", "no"))
        .streaming(futures_util::stream::unfold(events, EventStream::next)))
}

fn last_event_id(req: &HttpRequest) -> AppResult<Option<i64>> {
    let Some(raw) = req.headers().get("last-event-id") else {
        return Ok(None);
    };
    raw.to_str()
        .ok()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| s.parse::<i64>().ok().filter(|n| *n >= 0))
        .map_or(Ok(None), |n| {
            n.map(Some).ok_or_else(|| {
                AppError::BadRequest(
                    "Last-Event-ID must be the id of an event from this stream.".into(),
                )
            })
        })
}

/// Why an idle stream woke up.
enum Wake {
    Changed,
    Idle,
    End,
}

struct EventStream {
    state: web::Data<AppState>,
    credentials: Credentials,
    changes: watch::Receiver<u64>,
    stopping: watch::Receiver<bool>,
    keepalive: Duration,
    last_seq: i64,
    last_unread: Option<i64>,
    queue: VecDeque<Bytes>,
    ended: bool,
    /// Counts this stream in `rapport_sse_connections` until the response body, and with
    /// it this state, is dropped: at the end, or when the client goes away.
    _open: crate::metrics::OpenStream,
}

impl EventStream {
    async fn next(mut self) -> Option<(Result<Bytes, Infallible>, Self)> {
        loop {
            if let Some(chunk) = self.queue.pop_front() {
                return Some((Ok(chunk), self));
            }
            if self.ended {
                return None;
            }
            let wake = tokio::select! {
                woken = tokio::time::timeout(self.keepalive, self.changes.changed()) => {
                    match woken {
                        Ok(Ok(())) => Wake::Changed,
                        // The database is closing: so is the server.
                        Ok(Err(_)) => Wake::End,
                        Err(_) => Wake::Idle,
                    }
                }
                // The server is stopping: end now, so the stop need not wait for the stream.
                _ = self.stopping.wait_for(|stopping| *stopping) => Wake::End,
            };
            match wake {
                Wake::Changed => self.catch_up().await,
                Wake::End => self.ended = true,
                Wake::Idle => {
                    self.catch_up().await;
                    self.queue
                        .push_back(Bytes::from_static(b": keep-alive\n\n"));
                }
            }
        }
    }

    /// Queues what happened since the last event, re-checking the session first; a
    /// session that is no longer valid (or a failing database) ends the stream, and the
    /// browser's reconnect then meets a 401 or resumes where this one stopped.
    async fn catch_up(&mut self) {
        loop {
            let credentials = self.credentials.clone();
            let after = self.last_seq;
            let read = self
                .state
                .db
                .read(move |conn| {
                    let actor = authenticate(conn, &credentials)?;
                    let news =
                        notifications::after_seq(conn, &actor.user_id, after, CATCH_UP_BATCH)?;
                    let unread = notifications::unread_count(conn, &actor.user_id)?;
                    Ok((news, unread))
                })
                .await;
            let Ok((news, unread)) = read else {
                self.ended = true;
                return;
            };
            let more = news.len() == CATCH_UP_BATCH;
            for notification in news {
                self.last_seq = notification.seq;
                self.queue
                    .push_back(event(Some(notification.seq), "notification", &notification));
            }
            if self.last_unread != Some(unread) {
                self.last_unread = Some(unread);
                self.queue
                    .push_back(event(None, "unread", &UnreadCount { count: unread }));
            }
            if !more {
                return;
            }
        }
    }
}

/// One SSE event. JSON never contains a raw line break, so `data:` is a single line.
fn event(id: Option<i64>, name: &str, data: &impl Serialize) -> Bytes {
    let json = serde_json::to_string(data).unwrap_or_else(|_| "null".into());
    let id = id.map(|id| format!("id: {id}\n")).unwrap_or_default();
    Bytes::from(format!("{id}event: {name}\ndata: {json}\n\n"))
}
