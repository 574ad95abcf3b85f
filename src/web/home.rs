//! `/`: the dashboard, or for a CRM with nothing in it yet, what to do first.

use actix_web::{HttpRequest, HttpResponse, web};
use maud::{Markup, html};

use crate::auth::Actor;
use crate::auth::permissions::{Capability, DashboardScope, dashboard_scope, has};
use crate::domain::reports::{self, Dashboard, Period};
use crate::error::AppError;
use crate::state::AppState;
use crate::web::dashboard::{self, PageContext};
use crate::web::error::WebError;
use crate::web::flash::Flash;
use crate::web::layout::{self, Nav, respond};
use crate::web::session::Viewer;

/// What the page shows: an empty CRM's first steps, or the figures.
enum View {
    Empty,
    Figures(Box<Dashboard>, PageContext),
}

pub async fn home(
    req: HttpRequest,
    viewer: Viewer,
    state: web::Data<AppState>,
    query: web::Query<Vec<(String, String)>>,
) -> Result<HttpResponse, WebError> {
    let base = state.config.base_currency.clone();
    let zone = state.config.timezone.clone();
    let view = state
        .read_as(&viewer.credentials, move |conn, actor| {
            if reports::crm_is_empty(conn)? {
                return Ok(View::Empty);
            }
            let today = zone.today();
            // A refused period or rep shows the default figures with the form's errors, as
            // any form does; a forbidden rep stays a 403.
            let (figures, errors) = match Period::parse(&query, actor, today)
                .and_then(|p| reports::dashboard(conn, &p, &base, &zone, today))
            {
                Ok(figures) => (figures, Vec::new()),
                Err(AppError::Validation(errors)) => {
                    let period = Period::parse(&[], actor, today)?;
                    (
                        reports::dashboard(conn, &period, &base, &zone, today)?,
                        errors,
                    )
                }
                Err(e) => return Err(e),
            };
            let owners = match dashboard_scope(actor.role) {
                DashboardScope::TeamOrRep => reports::owners(conn)?,
                _ => Vec::new(),
            };
            Ok(View::Figures(
                Box::new(figures),
                PageContext { owners, errors },
            ))
        })
        .await?;
    let body = match &view {
        View::Empty => getting_started(&viewer.actor),
        View::Figures(figures, ctx) => dashboard::render(figures, ctx),
    };
    Ok(respond(
        &req,
        HttpResponse::Ok(),
        layout::page(&viewer, Nav::Home, "Home", Flash::from_request(&req), body),
    ))
}

/// The first steps for a new team, shown until the first customer or lead exists.
fn getting_started(actor: &Actor) -> Markup {
    let first_name = actor.name.split_whitespace().next().unwrap_or(&actor.name);
    html! {
        h1 { "Hello, " (first_name) }
        p.empty { "Nothing in the CRM yet. Once the first customers and leads are in, this page becomes your dashboard." }
        div.grid {
            section.card {
                h2 { "Your account" }
                dl.facts {
                    dt { "Signed in as" } dd { (actor.email) }
                    dt { "Role" } dd { span.badge { (actor.role.label()) } }
                }
                p { a href="/profile" { "Change your password or create an API token" } }
            }
            @if has(actor.role, Capability::ManageUsers) {
                section.card {
                    h2 { "Bring in your team" }
                    p { "Create an account for each colleague with the role that fits their work:" }
                    ul.roles {
                        li { strong { "Manager" } " — sees and edits everything, reassigns, imports and exports." }
                        li { strong { "Sales" } " — works the pipeline and edits what they own." }
                        li { strong { "Support" } " — looks after contacts, tasks and activities; never sees deal values." }
                    }
                    p { "On the server: " code { "rapport user create --email … --name … --role sales" }
                        ", or through the API: " code { "POST /api/v1/users" } "." }
                }
            }
            @if has(actor.role, Capability::ImportCsv) {
                section.card {
                    h2 { "Bring in your data" }
                    p { "Import customers, contacts and leads from a CSV export of your old tool or a spreadsheet: "
                        "check the columns, preview the rows with problems, then import." }
                    p { a.button href="/import" { "Import a CSV file" } }
                }
            }
            section.card {
                h2 { "Connect your tools" }
                p { "Everything in Rapport is available through a JSON API. Create a personal API token on your "
                    a href="/profile#tokens" { "profile" } " and read the "
                    a href="/api/openapi.json" { "OpenAPI description" } "." }
            }
        }
    }
}
