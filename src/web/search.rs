//! `/search?q=`: the header's search, results grouped by type. Same domain search as
//! `/api/v1/search`, which `app.js` also calls for suggestions as you type.

use actix_web::{HttpRequest, HttpResponse, web};
use maud::html;
use serde::Deserialize;

use crate::domain::search::{self, Hit, SearchParams};
use crate::state::AppState;
use crate::web::error::WebError;
use crate::web::layout::{self, Nav, respond};
use crate::web::session::Viewer;

const GROUPS: [(&str, &str, &str); 3] = [
    ("customer", "Customers", "/customers/"),
    ("contact", "Contacts", "/contacts/"),
    ("lead", "Leads", "/leads/"),
];

#[derive(Deserialize)]
pub struct SearchQuery {
    #[serde(default)]
    q: String,
}

pub async fn page(
    req: HttpRequest,
    state: web::Data<AppState>,
    viewer: Viewer,
    query: web::Query<SearchQuery>,
) -> Result<HttpResponse, WebError> {
    let q = query.into_inner().q.trim().to_owned();
    let hits: Vec<Hit> = if q.is_empty() {
        Vec::new()
    } else {
        let params = SearchParams::parse(Some(&q), None, Some("50"))?;
        state
            .read_as(&viewer.credentials, move |conn, _| {
                search::search(conn, &params)
            })
            .await?
            .items
    };
    let body = html! {
        h1 { "Search" }
        form.filters method="get" action="/search" role="search" {
            div.field.grow {
                label for="search-q" { "Find customers, contacts and leads" }
                input #search-q type="search" name="q" value=(q) autofocus;
            }
            button.primary type="submit" { "Search" }
        }
        @if q.is_empty() {
            p.muted { "Type a name, e-mail, phone number or part of one. Press " kbd { "/" } " anywhere to search." }
        } @else if hits.is_empty() {
            div.empty-state { p.title { "Nothing found for “" (q) "”." } p { "Try fewer letters, or part of an e-mail or phone number." } }
        } @else {
            @for (kind, title, prefix) in GROUPS {
                @let group: Vec<&Hit> = hits.iter().filter(|h| h.kind == kind).collect();
                @if !group.is_empty() {
                    section.card.results aria-label=(title) {
                        h2 { (title) " " span.muted { "(" (group.len()) ")" } }
                        ul.plain {
                            @for h in group {
                                li { a href=(format!("{prefix}{}", h.id)) { (h.title) }
                                    @if !h.subtitle.is_empty() { span.muted { " — " (h.subtitle) } } }
                            }
                        }
                    }
                }
            }
        }
    };
    let markup = layout::page(&viewer, Nav::None, "Search", None, body);
    Ok(respond(&req, HttpResponse::Ok(), markup))
}
