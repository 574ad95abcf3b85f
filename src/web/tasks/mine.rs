//! `/tasks/mine`: the signed-in user's open tasks by due day.

use std::time::Duration;

use actix_web::{HttpRequest, HttpResponse, web};
use maud::html;

use crate::domain::clock::Timestamp;
use crate::domain::list::ListParams;
use crate::domain::tasks::{self, Status};
use crate::state::AppState;
use crate::web::error::WebError;
use crate::web::flash::Flash;
use crate::web::layout::{self, Nav, respond};
use crate::web::people;
use crate::web::session::Viewer;

use super::mini_list;

type WebResult = Result<HttpResponse, WebError>;

/// One section of "My tasks": its heading, the list filters that define it, and what it
/// says when empty.
struct Section {
    title: &'static str,
    filters: Vec<(String, String)>,
    empty: &'static str,
}

fn my_sections(user_id: &str) -> Vec<Section> {
    // Days are UTC days: the instance has no timezone setting yet.
    let now = Timestamp::now();
    let day = |t: &Timestamp| t.to_stored().get(..10).unwrap_or_default().to_owned();
    let (today, tomorrow) = (day(&now), day(&now.plus(Duration::from_secs(86_400))));
    let pairs = |extra: &[(&str, &str)]| {
        std::iter::once(("assigned_to", user_id))
            .chain(extra.iter().copied())
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect()
    };
    vec![
        Section {
            title: "Overdue",
            filters: pairs(&[("overdue", "true")]),
            empty: "Nothing overdue. Nice.",
        },
        Section {
            title: "Today",
            filters: pairs(&[("due_from", &today), ("due_to", &tomorrow)]),
            empty: "Nothing due today.",
        },
        Section {
            title: "Upcoming",
            filters: pairs(&[("due_from", &tomorrow), ("limit", "30")]),
            empty: "Nothing scheduled yet.",
        },
    ]
}

/// `/tasks/mine`: the signed-in user's open tasks by when they are due, each completed in
/// one click.
pub async fn mine(req: HttpRequest, state: web::Data<AppState>, viewer: Viewer) -> WebResult {
    let sections = my_sections(&viewer.actor.user_id);
    let queries: Vec<Vec<(String, String)>> = sections.iter().map(|s| s.filters.clone()).collect();
    let (pages, names) = state
        .read_as(&viewer.credentials, move |conn, _| {
            let mut pages = Vec::new();
            for q in &queries {
                let mut page = tasks::list(conn, &ListParams::parse(q, &tasks::LIST)?)?;
                // A due-date range includes completed tasks; this page is for open ones.
                page.items.retain(|t| t.status != Status::Completed);
                pages.push(page.items);
            }
            let names = people::names(
                conn,
                pages.iter().flatten().map(|t| t.assigned_to.as_deref()),
            )?;
            Ok((pages, names))
        })
        .await?;
    let body = html! {
        div.pagehead {
            h1 { "My tasks" }
            div { a href="/tasks" { "All tasks" } " " a.button.primary href="/tasks/new" { "New task" } }
        }
        div.mytasks {
            @for (section, items) in sections.iter().zip(&pages) {
                section.card aria-label=(section.title) {
                    h2 { (section.title) " " span.muted { "(" (items.len()) ")" } }
                    @if items.is_empty() { p.muted { (section.empty) } }
                    @else { (mini_list(&viewer, items, &names, "/tasks/mine")) }
                }
            }
        }
    };
    let markup = layout::page(
        &viewer,
        Nav::Tasks,
        "My tasks",
        Flash::from_request(&req),
        body,
    );
    Ok(respond(&req, HttpResponse::Ok(), markup))
}
