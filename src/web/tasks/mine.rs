//! `/tasks/mine`: the signed-in user's open tasks by due day, in the instance's timezone.

use actix_web::{HttpRequest, HttpResponse, web};
use maud::html;

use crate::domain::clock::Zone;
use crate::domain::list::ListParams;
use crate::domain::tasks::{self, Status};
use crate::error::AppError;
use crate::state::AppState;
use crate::web::error::WebError;
use crate::web::flash::Flash;
use crate::web::layout::{self, Nav, respond};
use crate::web::people;
use crate::web::session::Viewer;

use super::mini_list;

type WebResult = Result<HttpResponse, WebError>;

/// The index of the "No due date" section in [`my_sections`].
const UNDATED: usize = 3;

/// One section of "My tasks": its heading, the list filters that define it, and what it
/// says when empty.
struct Section {
    title: &'static str,
    /// One or more list queries whose open tasks make up the section.
    queries: Vec<Vec<(String, String)>>,
    empty: &'static str,
}

/// The sections by local day (`--timezone`): overdue is due before today began, today is
/// due between today's start and tomorrow's, as the dashboard's tiles count them.
fn my_sections(user_id: &str, zone: &Zone) -> Result<Vec<Section>, AppError> {
    let today = zone.today();
    let start = |day: time::Date| {
        zone.start_of(day)
            .map(|t| t.to_stored())
            .ok_or_else(|| AppError::internal(format!("no start of {day} in {zone}")))
    };
    let (today, tomorrow) = (start(today)?, start(today + time::Duration::days(1))?);
    let pairs = |extra: &[(&str, &str)]| {
        std::iter::once(("assigned_to", user_id))
            .chain(extra.iter().copied())
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect()
    };
    Ok(vec![
        Section {
            title: "Overdue",
            queries: vec![pairs(&[("overdue", "true"), ("due_to", &today)])],
            empty: "Nothing overdue. Nice.",
        },
        Section {
            title: "Today",
            queries: vec![pairs(&[("due_from", &today), ("due_to", &tomorrow)])],
            empty: "Nothing due today.",
        },
        Section {
            title: "Upcoming",
            queries: vec![pairs(&[("due_from", &tomorrow), ("limit", "30")])],
            empty: "Nothing scheduled yet.",
        },
        // Undated tasks sort after every date, so in descending due order they come first;
        // one query per open status keeps completed ones from crowding them out.
        Section {
            title: "No due date",
            queries: ["pending", "in_progress"]
                .iter()
                .map(|status| {
                    pairs(&[
                        ("status", status),
                        ("sort", "due_at"),
                        ("order", "desc"),
                        ("limit", "30"),
                    ])
                })
                .collect(),
            empty: "Nothing without a date.",
        },
    ])
}

/// `/tasks/mine`: the signed-in user's open tasks by when they are due, each completed in
/// one click.
pub async fn mine(req: HttpRequest, state: web::Data<AppState>, viewer: Viewer) -> WebResult {
    let sections = my_sections(&viewer.actor.user_id, &state.config.timezone)?;
    let queries: Vec<Vec<Vec<(String, String)>>> =
        sections.iter().map(|s| s.queries.clone()).collect();
    let (pages, names) = state
        .read_as(&viewer.credentials, move |conn, _| {
            let mut pages = Vec::new();
            for (i, section) in queries.iter().enumerate() {
                let mut items = Vec::new();
                for q in section {
                    items.extend(tasks::list(conn, &ListParams::parse(q, &tasks::LIST)?)?.items);
                }
                // A due-date range includes completed tasks; this page is for open ones.
                items.retain(|t| t.status != Status::Completed);
                if i == UNDATED {
                    items.retain(|t| t.due_at.is_none());
                }
                pages.push(items);
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
