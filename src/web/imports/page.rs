//! The import pages' markup: the upload form, the columns with the preview, the progress
//! view and the outcome.

use maud::{Markup, html};

use super::Choices;
use crate::domain::exports::Entity;
use crate::domain::imports::ImportStatus;
use crate::domain::imports::mapping::{self, Field};
use crate::domain::imports::review::{self, Columns};
use crate::domain::records::Kind;
use crate::error::FieldError;
use crate::web::components::{Select, counted, csrf_field, error_for, form_errors};
use crate::web::session::Viewer;

/// What can be imported, as the upload form offers it.
const ENTITIES: [(&str, &str); 5] = [
    ("customers", "Customers (companies)"),
    ("contacts", "Contacts (people)"),
    ("leads", "Leads (deals)"),
    ("tasks", "Tasks"),
    ("activities", "Activities (calls, e-mails, meetings, notes)"),
];

const POLICIES: [(&str, &str); 3] = [
    ("skip", "Skip it: keep what is in Rapport"),
    ("update", "Update the existing record from the file"),
    ("create", "Create a new record anyway"),
];

/// Errors listed on the page; the error CSV has them all.
const LISTED: usize = 200;

fn megabytes(bytes: usize) -> String {
    format!("{} MB", bytes / (1024 * 1024))
}

pub fn upload(viewer: &Viewer, entity: &str, limit: usize, errors: &[FieldError]) -> Markup {
    let file_error = error_for(errors, "file");
    html! {
        div.pagehead { h1 { "Import a CSV file" } }
        section.card.formcard {
            p { "Bring in records from a spreadsheet or another CRM's export. Nothing is written until you press "
                strong { "Import" } ": first you check which column fills which field and preview the rows with problems." }
            (form_errors(errors, None))
            form method="post" action="/import" enctype="multipart/form-data" {
                // First, so the server checks it before it reads the file.
                (csrf_field(&viewer.csrf))
                (Select { name: "entity", label: "What the file holds", selected: entity,
                    options: ENTITIES.iter().map(|(v, l)| ((*v).to_owned(), (*l).to_owned())).collect() }
                    .render(errors))
                div.field.invalid[file_error.is_some()] {
                    label for="f-file" { "CSV file" }
                    input #f-file type="file" name="file" accept=".csv,.txt,.tsv,text/csv" required
                        aria-describedby=(if file_error.is_some() { "f-file-error" } else { "f-file-hint" })
                        aria-invalid=[file_error.map(|_| "true")];
                    @if let Some(message) = file_error {
                        p.error #f-file-error { "The file " (message) "." }
                    } @else {
                        p.hint #f-file-hint { "The first row names the columns. UTF-8 or Excel's Windows-1252; commas, semicolons or tabs; up to "
                            (megabytes(limit)) "." }
                    }
                }
                div.actions { button.primary type="submit" { "Upload and check the columns" } }
            }
        }
    }
}

/// How a field is named on the page.
fn field_label(kind: Kind, field: Field) -> String {
    let owner = match kind {
        Kind::Lead | Kind::Task => "Assignee (e-mail)",
        Kind::Activity => "Logged by (e-mail)",
        _ => "Owner (e-mail)",
    };
    let label = match field {
        Field::ExternalId => "Record id in the old system",
        Field::FullName => "Full name",
        Field::Owner => owner,
        Field::Customer => "Customer (id)",
        Field::CompanyName => "Company name",
        Field::CompanyDomain => "Company domain",
        Field::Contact => "Contact (id)",
        Field::ContactName => "Contact name",
        Field::Lead => "Lead (id)",
        Field::ValueCents => "Value in cents",
        Field::Amount => "Amount",
        Field::Kind => "Kind (call, email, meeting, note)",
        Field::SubjectType => "Subject type",
        Field::SubjectId => "Subject (id)",
        Field::CreatedBy => "Created by (e-mail)",
        Field::Email => "E-mail",
        _ => "",
    };
    if !label.is_empty() {
        return label.to_owned();
    }
    let name = field.name().replace('_', " ");
    let mut chars = name.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

fn kind_of(status: &ImportStatus) -> Kind {
    Entity::parse(&status.entity).map_or(Kind::Customer, Entity::kind)
}

fn entity_label(status: &ImportStatus) -> &'static str {
    match kind_of(status) {
        Kind::Customer => "customers",
        Kind::Contact => "contacts",
        Kind::Lead => "leads",
        Kind::Task => "tasks",
        Kind::Activity => "activities",
    }
}

/// The columns with a field select each, the duplicate policy, Preview and Import; under
/// them the preview's counts and problems once one has run.
pub fn review(
    viewer: &Viewer,
    status: &ImportStatus,
    columns: &Columns,
    posted: Option<&Choices>,
    errors: &[FieldError],
) -> Markup {
    let kind = kind_of(status);
    let fields = mapping::fields(kind);
    let required = fields.first().map(|(f, _)| *f);
    let id = &status.id;
    let chosen = |i: usize, header: &str| -> String {
        match posted {
            Some(p) => p.columns.get(i).cloned().unwrap_or_default(),
            None => status
                .mapping
                .get(header)
                .cloned()
                .flatten()
                .unwrap_or_default(),
        }
    };
    let policy = posted.map_or(status.on_duplicate.as_str(), |p| p.on_duplicate.as_str());
    let general = error_for(errors, "mapping");
    let checked = review::checked(status);
    html! {
        p.crumbs { a href="/import" { "Import" } }
        div.pagehead {
            h1 { "Check the columns" }
            span.muted { (status.filename) " · " (status.total) " rows of " (entity_label(status)) }
        }
        @if let Some(message) = general {
            div.alert role="alert" { "The columns cannot be imported this way: " (message) "." }
        } @else if !errors.is_empty() {
            div.alert role="alert" { "Please correct the columns marked below." }
        }
        // Once a preview has run, its outcome comes first, with the way on.
        @if checked { (preview(status)) }
        form #importmap.importmap method="post" action=(format!("/import/{id}/preview")) aria-labelledby="columns-title" {
            (csrf_field(&viewer.csrf))
            h2 #columns-title { "Columns" }
            p { "Each column of your file fills the field chosen next to it. Rapport suggested these from the column names; change any that are wrong, or leave a column out." }
            @if !checked {
                p.muted { "Not checked yet: " strong { "Preview" } " shows what the import would do and which rows have problems, without writing anything." }
            }
            ol.mapping {
                @for (i, header) in columns.headers.iter().enumerate() {
                    @let select_id = format!("col-{i}");
                    @let problem = error_for(errors, &format!("mapping.{header}"));
                    @let current = chosen(i, header);
                    li.invalid[problem.is_some()] {
                        div.column-name {
                            label for=(select_id) {
                                @if header.is_empty() { span.muted { "(column " (i + 1) ", no name)" } } @else { (header) }
                            }
                            @let examples: Vec<&str> = columns.samples.iter().filter_map(|row| row.get(i)).map(String::as_str).filter(|c| !c.trim().is_empty()).collect();
                            @if !examples.is_empty() {
                                span.examples { "e.g. " (examples.join(" · ")) }
                            }
                        }
                        select id=(select_id) name=(select_id) disabled[header.is_empty()]
                            aria-invalid=[problem.map(|_| "true")]
                            aria-describedby=[problem.map(|_| format!("{select_id}-error"))] {
                            option value="" selected[current.is_empty()] { "Don't import" }
                            @for (field, _) in fields {
                                @let name = field.name();
                                option value=(name) selected[current == name] {
                                    (field_label(kind, *field))
                                    @if Some(*field) == required { " (required)" }
                                }
                            }
                        }
                        @if let Some(message) = problem {
                            p.error id=(format!("{select_id}-error")) { (message) "." }
                        }
                    }
                }
            }
            (Select { name: "on_duplicate", label: "When a row matches a record already in Rapport", selected: policy,
                options: POLICIES.iter().map(|(v, l)| ((*v).to_owned(), (*l).to_owned())).collect() }
                .render(errors))
            div.actions {
                button type="submit" { @if checked { "Preview again" } @else { "Preview" } }
                (import_button(status))
            }
        }
    }
}

/// Imports with the columns as chosen in the form (`form="importmap"`, wherever it is).
fn import_button(status: &ImportStatus) -> Markup {
    html! {
        button.primary type="submit" form="importmap" formaction=(format!("/import/{}/start", status.id)) {
            "Import " (counted(status.total, "row", "rows"))
        }
    }
}

fn preview(status: &ImportStatus) -> Markup {
    html! {
        section.card.preview #preview aria-labelledby="preview-title" {
            h2 #preview-title { "Preview" }
            p { "Nothing has been written yet. With these columns, importing would:" }
            (counts(status, true))
            (problems(status))
            div.actions { (import_button(status)) }
        }
    }
}

fn counts(status: &ImportStatus, would: bool) -> Markup {
    let verb = |now: &'static str, then: &'static str| if would { then } else { now };
    html! {
        dl.counts {
            div { dt { (verb("Created", "Create")) } dd { (status.created) } }
            div { dt { (verb("Updated", "Update")) } dd { (status.updated) } }
            div { dt { (verb("Skipped", "Skip")) } dd { (status.skipped) } }
            div.bad[status.failed > 0] { dt { "Rows with problems" } dd { (status.failed) } }
        }
        @if status.linked_customers > 0 {
            p.muted {
                "and " (verb("created ", "create "))
                (counted(status.linked_customers, "customer", "customers"))
                " to link contacts to their company."
            }
        }
    }
}

/// The rows with problems by line, and the CSV of them to fix and upload again.
fn problems(status: &ImportStatus) -> Markup {
    html! {
        @if status.errors_total == 0 {
            p.ok { "No problems found." }
        } @else {
            table.list.errors {
                caption.sr-only { "Rows with problems" }
                thead { tr { th scope="col" { "Line" } th scope="col" { "Column" } th scope="col" { "Problem" } } }
                tbody {
                    @for e in status.errors.iter().take(LISTED) {
                        tr {
                            td.num data-label="Line" { (e.row) }
                            td data-label="Column" { (e.field) }
                            td data-label="Problem" { (e.message) }
                        }
                    }
                }
            }
            @if status.errors_total > LISTED as i64 {
                p.muted { "And " (status.errors_total - LISTED as i64) " more problems, all in the CSV below." }
            }
            p { a.button href=(format!("/api/v1/imports/{}/errors.csv", status.id)) download {
                "Download the rows with problems (CSV)" } }
            p.hint { "It holds those rows as they were in your file, with the line and the problem: fix them and import it again." }
        }
    }
}

pub fn progress(viewer: &Viewer, status: &ImportStatus) -> Markup {
    let what = match (status.status.as_str(), status.dry_run) {
        ("rolling_back", _) => "Undoing the import…",
        ("staged", _) => "Reading the rows…",
        (_, true) => "Checking the rows…",
        (_, false) => "Importing…",
    };
    let total = status.total.max(1);
    html! {
        p.crumbs { a href="/import" { "Import" } }
        div.pagehead { h1 { (what) } }
        section.card.formcard {
            p { (status.filename) " · " (status.total) " rows of " (entity_label(status)) }
            label for="import-progress" { "Rows done" }
            progress #import-progress max=(total) value=(status.processed.min(total)) {
                (status.processed) " of " (status.total)
            }
            p role="status" { (status.processed) " of " (status.total) " rows done." }
            @if !status.dry_run { (counts(status, false)) }
            p.muted { "This page updates itself every second. " a href=(format!("/import/{}", status.id)) { "Update now" } }
            @if matches!(status.status.as_str(), "staged" | "running") && !status.dry_run {
                form method="post" action=(format!("/import/{}/cancel", status.id))
                    data-confirm="Stop the import and undo everything it has written so far?" {
                    (csrf_field(&viewer.csrf))
                    button.danger type="submit" { "Cancel the import" }
                }
            }
        }
    }
}

pub fn outcome(status: &ImportStatus) -> Markup {
    let title = match status.status.as_str() {
        "completed" => "Import finished",
        "cancelled" => "Import cancelled",
        _ => "Import failed",
    };
    let kind = kind_of(status);
    html! {
        p.crumbs { a href="/import" { "Import" } }
        div.pagehead {
            h1 { (title) }
            span.muted { (status.filename) " · " (status.total) " rows of " (entity_label(status)) }
        }
        section.card.outcome aria-labelledby="outcome-title" {
            h2 #outcome-title.sr-only { "Outcome" }
            @if let Some(message) = &status.message { div.alert role="alert" { (message) } }
            @if status.status == "completed" {
                (counts(status, false))
                (problems(status))
            }
            div.actions {
                @if kind != Kind::Activity {
                    a.button.primary href=(format!("/{}", kind.table())) { "See the " (entity_label(status)) }
                }
                a.button href="/import" { "Import another file" }
            }
        }
    }
}
