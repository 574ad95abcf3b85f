//! `/admin`: the admin pages — users, pipeline stages, the audit log and backups. Each page
//! belongs to one capability of the role table; a role without it gets the forbidden page
//! (403) on every route of that page, reads and writes alike.

mod audit;
mod backups;
mod stages;
mod users;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use maud::{Markup, html};

use crate::auth::permissions::{Capability, Role, has};
use crate::error::AppError;
use crate::http::resource;
use crate::web::error::WebError;
use crate::web::flash::Flash;
use crate::web::layout::{self, Nav, respond};
use crate::web::session::Viewer;

type WebResult = Result<HttpResponse, WebError>;

/// One admin page: who may open it, where it lives, and what it is for.
struct Section {
    capability: Capability,
    href: &'static str,
    label: &'static str,
    about: &'static str,
}

const SECTIONS: [Section; 4] = [
    Section {
        capability: Capability::ManageUsers,
        href: "/admin/users",
        label: "Users",
        about: "Add people, change their role, deactivate them, reset a password.",
    },
    Section {
        capability: Capability::ManageStages,
        href: "/admin/stages",
        label: "Pipeline stages",
        about: "Rename, reorder and add stages; set their win probability.",
    },
    Section {
        capability: Capability::ViewAudit,
        href: "/admin/audit",
        label: "Audit log",
        about: "Who changed what, and when.",
    },
    Section {
        capability: Capability::DownloadBackup,
        href: "/admin/backups",
        label: "Backups",
        about: "Scheduled snapshots, and a fresh one to download.",
    },
];

fn sections(role: Role) -> impl Iterator<Item = &'static Section> {
    SECTIONS.iter().filter(move |s| has(role, s.capability))
}

/// Whether `role` may open any admin page (and so sees "Admin" in the navigation).
pub fn visible(role: Role) -> bool {
    sections(role).next().is_some()
}

/// 403 (the forbidden page) unless the viewer's role has `capability`. The write or read
/// that follows checks it again inside its database job.
fn require(viewer: &Viewer, capability: Capability) -> Result<(), WebError> {
    viewer.actor.require(capability).map_err(WebError::from)
}

/// An admin page: the sub-navigation between the admin pages above `body`.
fn shell(
    req: &HttpRequest,
    viewer: &Viewer,
    status: StatusCode,
    current: &str,
    title: &str,
    body: Markup,
) -> HttpResponse {
    let content = html! {
        div.admin {
            p.crumbs { a href="/admin" { "Admin" } }
            h1 { (title) }
            nav.tabs aria-label="Admin pages" {
                @for s in sections(viewer.actor.role) {
                    a href=(s.href) aria-current=[(s.href == current).then_some("page")] { (s.label) }
                }
            }
            (body)
        }
    };
    let flash = Flash::from_request(req);
    respond(
        req,
        HttpResponse::build(status),
        layout::page(viewer, Nav::Admin, title, flash, content),
    )
}

/// `/admin`: the admin pages this role may open.
async fn index(req: HttpRequest, viewer: Viewer) -> WebResult {
    if !visible(viewer.actor.role) {
        return Err(AppError::Forbidden("The admin pages are for admins.".into()).into());
    }
    let body = html! {
        h1 { "Admin" }
        ul.admin-index {
            @for s in sections(viewer.actor.role) {
                li.card {
                    h2 { a href=(s.href) { (s.label) } }
                    p.muted { (s.about) }
                }
            }
        }
    };
    let flash = Flash::from_request(&req);
    Ok(respond(
        &req,
        HttpResponse::Ok(),
        layout::page(&viewer, Nav::Admin, "Admin", flash, body),
    ))
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(resource("/admin").get(index))
        .service(
            resource("/admin/users")
                .get(users::list)
                .post(users::create),
        )
        .service(resource("/admin/users/{id}/role").post(users::change_role))
        .service(resource("/admin/users/{id}/active").post(users::set_active))
        .service(resource("/admin/users/{id}/reset-password").post(users::reset_password))
        .service(
            resource("/admin/stages")
                .get(stages::edit)
                .post(stages::submit),
        )
        .service(resource("/admin/audit").get(audit::list))
        .service(resource("/admin/backups").get(backups::show));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_roles_with_an_admin_capability_see_the_admin_pages() {
        let seen: Vec<bool> = Role::ALL.iter().map(|r| visible(*r)).collect();
        assert_eq!(seen, [true, false, false, false]);
        assert_eq!(sections(Role::Admin).count(), SECTIONS.len());
    }
}
