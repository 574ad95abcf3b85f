//! `/notifications`: what happened to the signed-in user's records, with mark-as-read.

use actix_web::{HttpRequest, HttpResponse, web};
use maud::html;

use crate::domain::list::ListParams;
use crate::domain::notifications;
use crate::state::AppState;
use crate::web::components::{ListUrl, csrf_field, moment};
use crate::web::error::WebError;
use crate::web::flash::Flash;
use crate::web::forms::{CsrfForm, see_other};
use crate::web::layout::{self, Nav, respond};
use crate::web::session::Viewer;
use crate::web::signin::Empty;

type WebResult = Result<HttpResponse, WebError>;

fn entity_path(entity_type: &str, id: &str) -> Option<String> {
    match entity_type {
        "customer" => Some(format!("/customers/{id}")),
        "contact" => Some(format!("/contacts/{id}")),
        "lead" => Some(format!("/leads/{id}")),
        "task" => Some(format!("/tasks/{id}")),
        _ => None,
    }
}

pub async fn page(
    req: HttpRequest,
    state: web::Data<AppState>,
    viewer: Viewer,
    query: web::Query<Vec<(String, String)>>,
) -> WebResult {
    let raw = query.into_inner();
    let params = ListParams::parse(&raw, &notifications::LIST)?;
    let page = state
        .read_as(&viewer.credentials, move |conn, actor| {
            notifications::list(conn, &actor.user_id, &params)
        })
        .await?;
    let url = ListUrl {
        path: "/notifications",
        query: &raw,
    };
    let body = html! {
        div.pagehead {
            h1 { "Notifications" }
            @if viewer.unread > 0 {
                form method="post" action="/notifications/read-all" {
                    (csrf_field(&viewer.csrf))
                    button type="submit" { "Mark all as read" }
                }
            }
        }
        @if page.items.is_empty() {
            div.empty-state { p.title { "You are all caught up." }
                p { "When someone assigns you a customer, lead or task, or a reminder is due, it shows here." } }
        } @else {
            ul.notifications {
                @for n in &page.items {
                    li.unread[n.read_at.is_none()] {
                        div {
                            @match entity_path(&n.entity_type, &n.entity_id) {
                                Some(href) => a href=(href) { (n.message) },
                                None => span { (n.message) },
                            }
                            span.muted { " · " (moment(&n.created_at, &viewer.zone)) }
                        }
                        @if n.read_at.is_none() {
                            form.inline method="post" action=(format!("/notifications/{}/read", n.id)) {
                                (csrf_field(&viewer.csrf))
                                button.small type="submit" { "Mark read" }
                            }
                        }
                    }
                }
            }
        }
        (url.pager(page.next_cursor.as_deref()))
    };
    let markup = layout::page(
        &viewer,
        Nav::Notifications,
        "Notifications",
        Flash::from_request(&req),
        body,
    );
    Ok(respond(&req, HttpResponse::Ok(), markup))
}

pub async fn mark_read(
    state: web::Data<AppState>,
    viewer: Viewer,
    id: web::Path<String>,
    CsrfForm(_): CsrfForm<Empty>,
) -> WebResult {
    let id = id.into_inner();
    state
        .write_as(&viewer.credentials, move |conn, actor| {
            notifications::mark_read(conn, &actor.user_id, &id)
        })
        .await?;
    Ok(HttpResponse::SeeOther()
        .insert_header((actix_web::http::header::LOCATION, "/notifications"))
        .finish())
}

pub async fn mark_all_read(
    state: web::Data<AppState>,
    viewer: Viewer,
    CsrfForm(_): CsrfForm<Empty>,
) -> WebResult {
    state
        .write_as(&viewer.credentials, move |conn, actor| {
            notifications::mark_all_read(conn, &actor.user_id)
        })
        .await?;
    Ok(see_other("/notifications", Flash::AllRead))
}
