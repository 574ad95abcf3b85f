//! The page shell every screen shares: head, header with navigation and user menu, flash
//! message, main content.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, HttpResponseBuilder};
use maud::{DOCTYPE, Markup, html};

use crate::web::assets;
use crate::web::flash::Flash;
use crate::web::session::Viewer;

/// Which navigation entry is current.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Nav {
    Home,
    Profile,
    None,
}

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
    let actor = &viewer.actor;
    html! {
        (DOCTYPE)
        html lang="en" {
            (head(title, Some(&viewer.csrf)))
            body {
                a.skip href="#main" { "Skip to content" }
                header.topbar {
                    (brand())
                    nav aria-label="Main" {
                        a href="/" aria-current=[(nav == Nav::Home).then_some("page")] { "Home" }
                    }
                    details.usermenu {
                        summary {
                            span.avatar aria-hidden="true" { (initials(&actor.name)) }
                            span.username { (actor.name) }
                        }
                        div.menu role="menu" {
                            p.muted { (actor.email) br; span.badge { (actor.role.label()) } }
                            a role="menuitem" href="/profile" aria-current=[(nav == Nav::Profile).then_some("page")] { "Profile & API tokens" }
                            form method="post" action="/logout" {
                                input type="hidden" name="csrf_token" value=(viewer.csrf);
                                button.linklike type="submit" role="menuitem" { "Sign out" }
                            }
                        }
                    }
                }
                (flash_region(flash))
                main #main tabindex="-1" { (content) }
            }
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
