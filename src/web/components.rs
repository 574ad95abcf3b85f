//! Small pieces of markup forms are built from.

use maud::{Markup, html};

use crate::auth::csrf;
use crate::domain::clock::Zone;
use crate::error::FieldError;

pub fn csrf_field(token: &str) -> Markup {
    html! { input type="hidden" name=(csrf::FIELD) value=(token); }
}

/// The message for `field`, if any.
pub fn error_for<'a>(errors: &'a [FieldError], field: &str) -> Option<&'a str> {
    errors
        .iter()
        .find(|e| e.field == field)
        .map(|e| e.message.as_str())
}

pub struct Input<'a> {
    pub name: &'a str,
    pub label: &'a str,
    pub kind: &'a str,
    pub value: &'a str,
    pub autocomplete: &'a str,
    pub required: bool,
    pub autofocus: bool,
    pub hint: Option<&'a str>,
}

impl<'a> Input<'a> {
    pub fn new(name: &'a str, label: &'a str, kind: &'a str) -> Self {
        Self {
            name,
            label,
            kind,
            value: "",
            autocomplete: "off",
            required: true,
            autofocus: false,
            hint: None,
        }
    }

    pub fn value(mut self, v: &'a str) -> Self {
        self.value = v;
        self
    }

    pub fn autocomplete(mut self, v: &'a str) -> Self {
        self.autocomplete = v;
        self
    }

    pub fn autofocus(mut self, yes: bool) -> Self {
        self.autofocus = yes;
        self
    }

    pub fn hint(mut self, h: &'a str) -> Self {
        self.hint = Some(h);
        self
    }

    /// A labelled input with its hint and, when the server refused it, the message.
    pub fn render(&self, errors: &[FieldError]) -> Markup {
        let error = error_for(errors, self.name);
        let id = format!("f-{}", self.name);
        let described = match (error.is_some(), self.hint.is_some()) {
            (true, _) => Some(format!("{id}-error")),
            (false, true) => Some(format!("{id}-hint")),
            _ => None,
        };
        html! {
            div.field.invalid[error.is_some()] {
                label for=(id) { (self.label) }
                input #(id) type=(self.kind) name=(self.name) value=(self.value)
                    autocomplete=(self.autocomplete) required[self.required]
                    autofocus[self.autofocus || (error.is_some() && errors.first().is_some_and(|e| e.field == self.name))]
                    aria-invalid=[error.map(|_| "true")]
                    aria-describedby=[described];
                @if let Some(message) = error {
                    p.error id=(format!("{id}-error")) { (self.label) " " (message) "." }
                } @else if let Some(hint) = self.hint {
                    p.hint id=(format!("{id}-hint")) { (hint) }
                }
            }
        }
    }
}

/// A summary at the top of a refused form, for screen readers and long forms.
pub fn form_errors(errors: &[FieldError], general: Option<&str>) -> Markup {
    html! {
        @if let Some(message) = general {
            div.alert role="alert" { (message) }
        } @else if !errors.is_empty() {
            div.alert role="alert" {
                @if errors.len() == 1 { "Please correct the field below." }
                @else { "Please correct the " (errors.len()) " fields below." }
            }
        }
    }
}

/// A labelled choice list; `options` are `(value, label)`.
pub struct Select<'a> {
    pub name: &'a str,
    pub label: &'a str,
    pub options: Vec<(String, String)>,
    pub selected: &'a str,
}

impl Select<'_> {
    pub fn render(&self, errors: &[FieldError]) -> Markup {
        let error = error_for(errors, self.name);
        let id = format!("f-{}", self.name);
        html! {
            div.field.invalid[error.is_some()] {
                label for=(id) { (self.label) }
                select #(id) name=(self.name) aria-invalid=[error.map(|_| "true")]
                    aria-describedby=[error.map(|_| format!("{id}-error"))] {
                    @for (value, label) in &self.options {
                        option value=(value) selected[value == self.selected] { (label) }
                    }
                }
                @if let Some(message) = error {
                    p.error id=(format!("{id}-error")) { (self.label) " " (message) "." }
                }
            }
        }
    }
}

/// A labelled multi-line input.
pub fn textarea(
    name: &str,
    label: &str,
    value: &str,
    required: bool,
    errors: &[FieldError],
) -> Markup {
    let error = error_for(errors, name);
    let id = format!("f-{name}");
    html! {
        div.field.invalid[error.is_some()] {
            label for=(id) { (label) }
            textarea #(id) name=(name) rows="3" required[required]
                aria-invalid=[error.map(|_| "true")]
                aria-describedby=[error.map(|_| format!("{id}-error"))] { (value) }
            @if let Some(message) = error {
                p.error id=(format!("{id}-error")) { (label) " " (message) "." }
            }
        }
    }
}

/// The URL of a list view: its path and the query it was opened with, so sorting and
/// paging keep the filters (and a view can be bookmarked).
pub struct ListUrl<'a> {
    pub path: &'a str,
    pub query: &'a [(String, String)],
}

impl ListUrl<'_> {
    pub fn value(&self, key: &str) -> &str {
        self.query
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
            .unwrap_or("")
    }

    /// This view with `set` replacing those parameters; the cursor is dropped unless set,
    /// since a cursor belongs to one ordering.
    pub fn with(&self, set: &[(&str, &str)]) -> String {
        let mut pairs: Vec<(&str, &str)> = self
            .query
            .iter()
            .filter(|(k, v)| k != "cursor" && !v.is_empty() && !set.iter().any(|(s, _)| s == k))
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        pairs.extend(set.iter().filter(|(_, v)| !v.is_empty()));
        match serde_urlencoded::to_string(&pairs) {
            Ok(q) if !q.is_empty() => format!("{}?{q}", self.path),
            _ => self.path.to_owned(),
        }
    }

    /// The CSV export of this view: the same filters and order, every row (so no paging).
    pub fn export(&self, entity: &str) -> String {
        let pairs: Vec<(&str, &str)> = self
            .query
            .iter()
            .filter(|(k, v)| !v.is_empty() && k != "cursor" && k != "limit")
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        match serde_urlencoded::to_string(&pairs) {
            Ok(q) if !q.is_empty() => format!("/api/v1/exports/{entity}.csv?{q}"),
            _ => format!("/api/v1/exports/{entity}.csv"),
        }
    }

    /// An "Export CSV" button for roles that may export.
    pub fn export_button(&self, viewer: &crate::web::session::Viewer, entity: &str) -> Markup {
        use crate::auth::permissions::{Capability, has};
        html! {
            @if has(viewer.actor.role, Capability::ExportCsv) {
                a.button href=(self.export(entity)) download { "Export CSV" }
            }
        }
    }

    /// The end of a list's filter form: the sort it keeps, Apply, and Clear when filtered.
    pub fn filter_buttons(&self) -> Markup {
        html! {
            @for key in ["sort", "order"] {
                @if !self.value(key).is_empty() { input type="hidden" name=(key) value=(self.value(key)); }
            }
            button type="submit" { "Apply" }
            @if self.filtered() { a.clear href=(self.path) { "Clear" } }
        }
    }

    pub fn filtered(&self) -> bool {
        self.query
            .iter()
            .any(|(k, v)| !v.is_empty() && !["sort", "order", "cursor"].contains(&k.as_str()))
    }

    /// A column header that sorts by `key`; a second click reverses the order.
    pub fn sort_header(&self, label: &str, key: &str, sort: &str, desc: bool) -> Markup {
        let current = sort == key;
        let next = if current && !desc { "desc" } else { "asc" };
        let aria = current.then_some(if desc { "descending" } else { "ascending" });
        html! {
            th scope="col" aria-sort=[aria] {
                a.sort href=(self.with(&[("sort", key), ("order", next)])) {
                    (label)
                    @if current { span aria-hidden="true" { @if desc { " ↓" } @else { " ↑" } } }
                }
            }
        }
    }

    /// "Next page" when there is one; the first page is always one click away.
    pub fn pager(&self, next_cursor: Option<&str>) -> Markup {
        let paged = !self.value("cursor").is_empty();
        html! {
            @if paged || next_cursor.is_some() {
                nav.pager aria-label="Pages" {
                    @if paged { a href=(self.with(&[])) { "First page" } }
                    @if let Some(cursor) = next_cursor {
                        a.button rel="next" href=(self.with(&[("cursor", cursor)])) { "Next page →" }
                    }
                }
            }
        }
    }
}

/// The list query a page reads: the URL's, with the web app's page size unless the URL
/// names one (`limit`, 1–200). 20 rows keep every list page light: with 50, a leads page and its
/// stylesheet and script weighed 75 KB; with 25, a contacts page 61 KB.
pub fn paged(raw: &[(String, String)]) -> Vec<(String, String)> {
    let mut query = raw.to_vec();
    if !raw.iter().any(|(k, _)| k == "limit") {
        query.push(("limit".to_owned(), PAGE_ROWS.to_owned()));
    }
    query
}

/// Rows per list page in the web app.
const PAGE_ROWS: &str = "20";

/// A record form's buttons: create or save, and the way back.
pub fn form_actions(editing: bool, create: &str, back: &str) -> Markup {
    html! {
        div.actions {
            button.primary type="submit" { @if editing { "Save changes" } @else { (create) } }
            a href=(back) { "Cancel" }
        }
    }
}

/// What an empty list says: a first step for a new team, or a way out of a filter.
pub fn empty_state(filtered: bool, clear_href: &str, title: &str, first_step: Markup) -> Markup {
    html! {
        div.empty-state {
            @if filtered {
                p.title { "Nothing matches these filters." }
                p { a href=(clear_href) { "Clear the filters" } }
            } @else {
                p.title { (title) }
                (first_step)
            }
        }
    }
}

/// `1 lead`, `2 leads`: a count with its noun in the right number.
pub fn counted(n: i64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// A date for tables: the day a stored time falls on in the team's timezone (a task due
/// "on the 5th" in Auckland is stored as 23:00 UTC on the 4th).
pub fn day(at: &str, zone: &Zone) -> Markup {
    let shown = zone
        .local_day(at.as_bytes())
        .map_or_else(|| at.to_owned(), |d| d.as_str().to_owned());
    html! { time datetime=(at) { (shown) } }
}

/// A time for timelines: day, hours and minutes on the team's clocks, the zone's name on
/// hover.
pub fn moment(at: &str, zone: &Zone) -> Markup {
    let shown = zone.wall_clock(at).unwrap_or_else(|| at.to_owned());
    html! { time datetime=(at) title=(zone.name()) { (shown) } }
}

/// An amount in minor units, e.g. `12,345.00 USD`.
pub fn money(cents: i64, currency: &str) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let abs = cents.unsigned_abs();
    let whole = (abs / 100).to_string();
    let mut grouped = String::new();
    for (i, ch) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(ch);
    }
    format!("{sign}{grouped}.{:02} {currency}", abs % 100)
}

/// `(value, label)` pairs with a first "any" entry, for filter selects.
pub fn options_with_any(any: &str, items: &[(&str, &str)]) -> Vec<(String, String)> {
    std::iter::once((String::new(), any.to_owned()))
        .chain(
            items
                .iter()
                .map(|(v, l)| ((*v).to_owned(), (*l).to_owned())),
        )
        .collect()
}

/// A stale edit: what the other person saved next to what this user typed, for the fields
/// that differ, so nothing is overwritten blindly. `changes` are `(label, mine, theirs)`.
pub fn conflict_notice(what: &str, changes: &[(&str, &str, &str)], discard_href: &str) -> Markup {
    html! {
        div.alert.conflict role="alert" {
            p { strong { "Someone else saved this " (what) " while you were editing." }
                " Your changes are not saved yet. Their version differs here:" }
            ul {
                @for (label, mine, theirs) in changes {
                    @if mine.trim() != theirs.trim() {
                        li { (label) ": theirs " q { (theirs) } ", yours " q { (mine) } }
                    }
                }
            }
            p { "Save again to keep your values, or " a href=(discard_href) { "discard yours" } "." }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
        p.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn list_urls_keep_filters_and_drop_cursors() {
        let q = pairs(&[
            ("q", "acme & co"),
            ("cursor", "abc"),
            ("segment", ""),
            ("sort", "name"),
        ]);
        let url = ListUrl {
            path: "/customers",
            query: &q,
        };
        assert_eq!(
            url.with(&[("sort", "created_at")]),
            "/customers?q=acme+%26+co&sort=created_at"
        );
        assert_eq!(
            url.with(&[("cursor", "xyz")]),
            "/customers?q=acme+%26+co&sort=name&cursor=xyz"
        );
        assert!(url.filtered());
        assert!(
            !ListUrl {
                path: "/x",
                query: &pairs(&[("sort", "name")])
            }
            .filtered()
        );
    }

    #[test]
    fn money_groups_thousands() {
        assert_eq!(money(123_456_789, "USD"), "1,234,567.89 USD");
        assert_eq!(money(5, "EUR"), "0.05 EUR");
        assert_eq!(money(-100_000, "USD"), "-1,000.00 USD");
    }
}
