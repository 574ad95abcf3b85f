//! The page shell every screen shares: head, header with navigation and user menu, flash
//! message, main content.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, HttpResponseBuilder};
use maud::{DOCTYPE, Markup, html};

use crate::auth::permissions::{Capability, has};
use crate::web::assets;
use crate::web::flash::Flash;
use crate::web::session::Viewer;

/// Which navigation entry is current.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Nav {
    Home,
    Customers,
    Contacts,
    Leads,
    Tasks,
    Notifications,
    Profile,
    Admin,
    None,
}

/// The main navigation, in order: where a sales day starts.
const SECTIONS: [(Nav, &str, &str); 5] = [
    (Nav::Home, "/", "Dashboard"),
    (Nav::Customers, "/customers", "Customers"),
    (Nav::Contacts, "/contacts", "Contacts"),
    (Nav::Leads, "/leads", "Leads"),
    (Nav::Tasks, "/tasks/mine", "My tasks"),
];

/// The keyboard shortcuts `app.js` handles, listed in the `?` overlay.
const SHORTCUTS: [(&str, &str); 7] = [
    ("/", "Search customers, contacts and leads"),
    ("?", "Show or hide this help"),
    ("g d", "Go to the dashboard"),
    ("g c", "Go to customers"),
    ("g o", "Go to contacts"),
    ("g l", "Go to leads"),
    ("g t", "Go to my tasks"),
];

fn head(title: &str, csrf: Option<&str>) -> Markup {
    html! {
        head {
            meta charset="utf-8";
            meta name="viewport" content="width=device-width, initial-scale=1";
            meta name="color-scheme" content="light dark";
            @if let Some(token) = csrf {
                meta name="csrf-token" content=(token);
            }
            title { (title) " · Rapport" }
            link rel="stylesheet" href=(assets::url("app.css"));
            link rel="icon" href=(assets::url("favicon.svg")) type="image/svg+xml";
            script src=(assets::url("app.js")) defer {}
        }
    }
}

fn brand() -> Markup {
    html! {
        a.brand href="/" aria-label="Rapport home" {
            img src=(assets::url("favicon.svg")) alt="" width="24" height="24";
            span { "Rapport" }
        }
    }
}

/// A page for a signed-in user.
pub fn page(
    viewer: &Viewer,
    nav: Nav,
    title: &str,
    flash: Option<Flash>,
    content: Markup,
) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            (head(title, Some(&viewer.csrf)))
            body {
                a.skip href="#main" { "Skip to content" }
                header.topbar {
                    (brand())
                    (main_nav(nav, viewer))
                    (search_box(""))
                    div.tools {
                        (bell(viewer.unread, nav == Nav::Notifications))
                        button.iconbtn type="button" popovertarget="help" aria-label="Keyboard shortcuts" title="Keyboard shortcuts (?)" { "?" }
                        (user_menu(viewer, nav))
                    }
                }
                (flash_region(flash))
                main #main tabindex="-1" { (content) }
                (help_overlay())
            }
        }
    }
}

fn main_nav(nav: Nav, viewer: &Viewer) -> Markup {
    html! {
        nav.mainnav aria-label="Main" {
            @for (section, href, label) in SECTIONS {
                a href=(href) aria-current=[(nav == section).then_some("page")] { (label) }
            }
            @if crate::web::admin::visible(viewer.actor.role) {
                a href="/admin" aria-current=[(nav == Nav::Admin).then_some("page")] { "Admin" }
            }
        }
    }
}

/// The global search: a plain GET form, so it works without JavaScript; `app.js` adds
/// suggestions as you type.
pub fn search_box(q: &str) -> Markup {
    html! {
        form.search role="search" method="get" action="/search" {
            label.sr-only for="global-search" { "Search" }
            input #global-search type="search" name="q" value=(q) placeholder="Search  ( / )"
                autocomplete="off" aria-controls="search-suggestions" aria-autocomplete="list";
            ul #search-suggestions.suggestions role="listbox" aria-label="Suggestions" hidden {}
        }
    }
}

fn bell(unread: i64, current: bool) -> Markup {
    let label = match unread {
        0 => "Notifications, none unread".to_owned(),
        1 => "Notifications, 1 unread".to_owned(),
        n => format!("Notifications, {n} unread"),
    };
    html! {
        a.bell.iconbtn href="/notifications" aria-label=(label) title="Notifications"
            aria-current=[current.then_some("page")] data-bell {
            svg viewBox="0 0 24 24" width="20" height="20" aria-hidden="true" {
                path fill="currentColor" d="M12 22a2.5 2.5 0 0 0 2.45-2h-4.9A2.5 2.5 0 0 0 12 22Zm7-6V11a7 7 0 0 0-5.5-6.84V3a1.5 1.5 0 0 0-3 0v1.16A7 7 0 0 0 5 11v5l-2 2v1h18v-1l-2-2Z" {}
            }
            span.count data-unread hidden[unread == 0] { (unread) }
        }
    }
}

fn user_menu(viewer: &Viewer, nav: Nav) -> Markup {
    let actor = &viewer.actor;
    html! {
        details.usermenu {
            summary aria-label="Account menu" {
                span.avatar aria-hidden="true" { (initials(&actor.name)) }
                span.username { (actor.name) }
            }
            div.menu role="menu" {
                p.muted { (actor.email) br; span.badge { (actor.role.label()) } }
                a role="menuitem" href="/profile" aria-current=[(nav == Nav::Profile).then_some("page")] { "Profile & API tokens" }
                a role="menuitem" href="/trash" { "Trash" }
                @if has(actor.role, Capability::ImportCsv) { a role="menuitem" href="/import" { "Import CSV" } }
                @if has(actor.role, Capability::BulkEdit) { a role="menuitem" href="/duplicates" { "Duplicates" } }
                form method="post" action="/logout" {
                    input type="hidden" name="csrf_token" value=(viewer.csrf);
                    button.linklike type="submit" role="menuitem" { "Sign out" }
                }
            }
        }
    }
}

fn help_overlay() -> Markup {
    html! {
        div #help.help popover aria-labelledby="help-title" {
            h2 #help-title { "Keyboard shortcuts" }
            dl.shortcuts {
                @for (keys, what) in SHORTCUTS {
                    dt { @for k in keys.split(' ') { kbd { (k) } " " } }
                    dd { (what) }
                }
            }
            button type="button" popovertarget="help" popovertargetaction="hide" { "Close" }
        }
    }
}

/// A page for someone not signed in (sign-in, setup, errors).
pub fn bare(title: &str, content: Markup) -> Markup {
    bare_with_flash(title, None, content)
}

pub fn bare_with_flash(title: &str, flash: Option<Flash>, content: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            (head(title, None))
            body.bare {
                header.topbar { (brand()) }
                (flash_region(flash))
                main #main tabindex="-1" { (content) }
            }
        }
    }
}

fn flash_region(flash: Option<Flash>) -> Markup {
    html! {
        @if let Some(f) = flash {
            div.flash role="status" { (f.message()) }
        }
    }
}

fn initials(name: &str) -> String {
    name.split_whitespace()
        .filter_map(|w| w.chars().next())
        .take(2)
        .flat_map(char::to_uppercase)
        .collect()
}

/// An HTML response that also clears a flash message it has just shown.
/// A form page answered with `status`: shown first (200) or again with what the user typed
/// and why it was refused (422, 409).
pub fn form_response(
    nav: Nav,
    req: &HttpRequest,
    viewer: &Viewer,
    status: actix_web::http::StatusCode,
    title: &str,
    body: Markup,
) -> HttpResponse {
    respond(
        req,
        HttpResponse::build(status),
        page(viewer, nav, title, None, body),
    )
}

pub fn respond(
    req: &HttpRequest,
    mut builder: HttpResponseBuilder,
    markup: Markup,
) -> HttpResponse {
    if Flash::present(req) {
        builder.cookie(Flash::clear());
    }
    builder
        .insert_header((header::CONTENT_TYPE, "text/html; charset=utf-8"))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(markup.into_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn initials_of_names() {
        assert_eq!(initials("Ada Lovelace"), "AL");
        assert_eq!(initials("Émile"), "É");
        assert_eq!(initials("  "), "");
    }
}
