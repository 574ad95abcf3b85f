//! `/`: where a signed-in user lands.

use actix_web::{HttpRequest, HttpResponse};
use maud::html;

use crate::auth::permissions::{Capability, has};
use crate::web::flash::Flash;
use crate::web::layout::{self, Nav, respond};
use crate::web::session::Viewer;

pub async fn home(req: HttpRequest, viewer: Viewer) -> HttpResponse {
    let actor = &viewer.actor;
    let first_name = actor.name.split_whitespace().next().unwrap_or(&actor.name);
    let body = html! {
        h1 { "Hello, " (first_name) }
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
            section.card {
                h2 { "Connect your tools" }
                p { "Everything in Rapport is available through a JSON API. Create a personal API token on your "
                    a href="/profile#tokens" { "profile" } " and read the "
                    a href="/api/openapi.json" { "OpenAPI description" } "." }
            }
        }
    };
    respond(
        &req,
        HttpResponse::Ok(),
        layout::page(&viewer, Nav::Home, "Home", Flash::from_request(&req), body),
    )
}
