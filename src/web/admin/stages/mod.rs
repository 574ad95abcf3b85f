//! `/admin/stages`: the pipeline as one form. Up and down buttons reorder the rows without
//! saving (and without JavaScript); "Save pipeline" sends the whole list to
//! `domain::stages::replace`, the function behind `PUT /api/v1/stages`. Whatever it refuses
//! comes back next to the row it concerns, with everything typed still in place.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use maud::{Markup, html};

use crate::auth::permissions::Capability;
use crate::domain::stages;
use crate::error::{AppError, FieldError};
use crate::state::AppState;
use crate::web::components::{csrf_field, error_for, form_errors};
use crate::web::flash::Flash;
use crate::web::forms::{CsrfForm, see_other};
use crate::web::session::Viewer;

use super::{WebResult, require, shell};

mod draft;
use draft::{Draft, Op, Row, place_errors};

pub(super) const PATH: &str = "/admin/stages";
const KINDS: [(&str, &str); 3] = [("open", "Open"), ("won", "Won"), ("lost", "Lost")];

/// Why the form is shown again.
#[derive(Default)]
struct Outcome {
    errors: Vec<FieldError>,
    conflict: Option<String>,
    /// The button to focus after a move, so the keyboard stays where it was.
    focus: Option<String>,
    moved: bool,
}

fn render(viewer: &Viewer, draft: &Draft, outcome: &Outcome) -> Markup {
    let e = &outcome.errors;
    let general: Vec<&FieldError> = e.iter().filter(|f| f.field == "stages").collect();
    let last = draft.rows.len().saturating_sub(1);
    html! {
        p.muted { "The order here is the order of the board. A stage that still has leads, even in the trash, can be renamed, moved and re-weighed, but not removed or given another kind." }
        form #pipeline method="post" action=(PATH) novalidate {
            (csrf_field(&viewer.csrf))
            // First in the form, so Enter in a field saves rather than moving a row.
            button.sr-only type="submit" name="op" value="save" tabindex="-1" aria-hidden="true" { "Save pipeline" }
            @if let Some(message) = &outcome.conflict {
                div.alert role="alert" { (message) }
            } @else if !general.is_empty() {
                div.alert role="alert" { @for g in &general { "The pipeline " (g.message) ". " } }
            } @else {
                (form_errors(e, None))
            }
            @if outcome.moved {
                p.notice role="status" { "Order changed. Not saved yet: “Save pipeline” keeps it." }
            }
            table.list.stages {
                thead { tr {
                    th scope="col" { "Order" } th scope="col" { "Name" } th scope="col" { "Win probability" }
                    th scope="col" { "Kind" } th scope="col" { "Remove" }
                } }
                tbody {
                    @for (i, row) in draft.rows.iter().enumerate() {
                        (stage_row(i, row, i == last, e, outcome.focus.as_deref()))
                    }
                }
            }
            (add_fieldset(draft, e))
            div.actions {
                button.primary type="submit" name="op" value="save" { "Save pipeline" }
                a href=(PATH) { "Discard changes" }
            }
        }
    }
}

fn text_error(e: &[FieldError], field: &str, label: &str) -> Markup {
    html! {
        @if let Some(message) = error_for(e, field) {
            p.error id=(format!("f-{field}-error")) { (label) " " (message) "." }
        }
    }
}

fn stage_row(i: usize, row: &Row, last: bool, e: &[FieldError], focus: Option<&str>) -> Markup {
    let f = |name: &str| format!("s.{i}.{name}");
    let name = if row.label.trim().is_empty() {
        &row.key
    } else {
        &row.label
    };
    let invalid = |field: &str| error_for(e, field).map(|_| "true");
    let described = |field: &str| error_for(e, field).map(|_| format!("f-{field}-error"));
    let (up, down) = (format!("up:{i}"), format!("down:{i}"));
    html! {
        tr.removed[row.remove] {
            td.order data-label="Order" {
                span.pos aria-hidden="true" { (i + 1) }
                button.small type="submit" name="op" value=(up) disabled[i == 0]
                    autofocus[focus == Some(up.as_str())] aria-label=(format!("Move {name} up")) { "↑" }
                button.small type="submit" name="op" value=(down) disabled[last]
                    autofocus[focus == Some(down.as_str())] aria-label=(format!("Move {name} down")) { "↓" }
            }
            td data-label="Name" {
                input type="hidden" name=(f("key")) value=(row.key);
                label.sr-only for=(format!("f-{}", f("label"))) { "Name of stage " (i + 1) }
                input #(format!("f-{}", f("label"))) type="text" name=(f("label")) value=(row.label)
                    required aria-invalid=[invalid(&f("label"))] aria-describedby=[described(&f("label"))];
                span.muted.small { "key " code { (row.key) } }
                (text_error(e, &f("label"), "Name"))
                (text_error(e, &f("key"), "Key"))
            }
            td data-label="Win probability" {
                label.sr-only for=(format!("f-{}", f("probability"))) { "Win probability of " (name) ", in percent" }
                span.percent {
                    input #(format!("f-{}", f("probability"))) type="number" inputmode="numeric" min="0" max="100" step="1"
                        name=(f("probability")) value=(row.probability)
                        aria-invalid=[invalid(&f("probability"))] aria-describedby=[described(&f("probability"))];
                    span aria-hidden="true" { "%" }
                }
                (text_error(e, &f("probability"), "Win probability"))
            }
            td data-label="Kind" {
                label.sr-only for=(format!("f-{}", f("kind"))) { "Kind of " (name) }
                (kind_select(&f("kind"), &row.kind, e))
            }
            td data-label="Remove" {
                label.check {
                    input type="checkbox" name=(f("remove")) value="on" checked[row.remove];
                    span { "Remove" span.sr-only { " " (name) } }
                }
            }
        }
    }
}

fn kind_select(name: &str, selected: &str, e: &[FieldError]) -> Markup {
    html! {
        select #(format!("f-{name}")) name=(name) aria-invalid=[error_for(e, name).map(|_| "true")]
            aria-describedby=[error_for(e, name).map(|_| format!("f-{name}-error"))] {
            @for (value, label) in KINDS {
                option value=(value) selected[value == selected] { (label) }
            }
        }
        (text_error(e, name, "Kind"))
    }
}

fn add_fieldset(draft: &Draft, e: &[FieldError]) -> Markup {
    let a = &draft.add;
    let invalid = |field: &str| error_for(e, field).map(|_| "true");
    html! {
        fieldset.addstage {
            legend { "Add a stage" }
            p.muted.small { "Leave the name empty to add none." }
            div.addfields {
                div.field {
                    label for="f-add.label" { "Name" }
                    input id="f-add.label" type="text" name="add.label" value=(a.label) aria-invalid=[invalid("add.label")];
                    (text_error(e, "add.label", "Name"))
                }
                div.field {
                    label for="f-add.key" { "Key" }
                    input id="f-add.key" type="text" name="add.key" value=(a.key) aria-describedby="f-add-key-hint"
                        aria-invalid=[invalid("add.key")] pattern="[a-z0-9_]{1,40}";
                    p.hint id="f-add-key-hint" { "Optional: made from the name. a–z, 0–9 and _; it never changes." }
                    (text_error(e, "add.key", "Key"))
                }
                div.field {
                    label for="f-add.probability" { "Win probability (%)" }
                    input id="f-add.probability" type="number" inputmode="numeric" min="0" max="100" step="1"
                        name="add.probability" value=(a.probability) aria-invalid=[invalid("add.probability")];
                    (text_error(e, "add.probability", "Win probability"))
                }
                div.field {
                    label for="f-add.kind" { "Kind" }
                    (kind_select("add.kind", &a.kind, e))
                }
                div.field {
                    label for="f-add_after" { "Place after" }
                    select id="f-add_after" name="add_after" {
                        option value="" selected[draft.add_after.is_empty()] { "(the start of the pipeline)" }
                        @for row in draft.rows.iter().filter(|r| !r.remove) {
                            option value=(row.key) selected[row.key == draft.add_after] {
                                @if row.label.trim().is_empty() { (row.key) } @else { (row.label) }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn show(
    req: &HttpRequest,
    viewer: &Viewer,
    status: StatusCode,
    draft: &Draft,
    outcome: &Outcome,
) -> HttpResponse {
    shell(
        req,
        viewer,
        status,
        PATH,
        "Pipeline stages",
        render(viewer, draft, outcome),
    )
}

pub async fn edit(req: HttpRequest, state: web::Data<AppState>, viewer: Viewer) -> WebResult {
    require(&viewer, Capability::ManageStages)?;
    let list = state
        .read_as(&viewer.credentials, |conn, actor| {
            actor.require(Capability::ManageStages)?;
            stages::list(conn)
        })
        .await?;
    let draft = Draft::from_stages(&list);
    Ok(show(
        &req,
        &viewer,
        StatusCode::OK,
        &draft,
        &Outcome::default(),
    ))
}

pub async fn submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    viewer: Viewer,
    CsrfForm(pairs): CsrfForm<Vec<(String, String)>>,
) -> WebResult {
    require(&viewer, Capability::ManageStages)?;
    let mut draft = Draft::parse(&pairs);
    match draft.op.unwrap_or(Op::Save) {
        Op::Save => {}
        op => {
            let focus = draft.apply_move(op).map(|to| {
                let last = draft.rows.len().saturating_sub(1);
                match op {
                    Op::Up(_) if to > 0 => format!("up:{to}"),
                    Op::Down(_) if to < last => format!("down:{to}"),
                    Op::Up(_) => format!("down:{to}"),
                    _ => format!("up:{to}"),
                }
            });
            let outcome = Outcome {
                moved: focus.is_some(),
                focus,
                ..Outcome::default()
            };
            return Ok(show(&req, &viewer, StatusCode::OK, &draft, &outcome));
        }
    }
    let (input, slots, mine) = draft.to_input();
    let result = state
        .write_as(&viewer.credentials, move |conn, actor| {
            stages::replace(conn, actor, &input)
        })
        .await;
    let outcome = match result {
        Ok(_) => return Ok(see_other(PATH, Flash::Saved)),
        Err(AppError::Validation(domain)) => Outcome {
            errors: place_errors(&domain, &slots, mine),
            ..Outcome::default()
        },
        Err(AppError::Conflict(message)) => {
            let outcome = Outcome {
                conflict: Some(message),
                errors: mine,
                ..Outcome::default()
            };
            return Ok(show(&req, &viewer, StatusCode::CONFLICT, &draft, &outcome));
        }
        Err(e) => return Err(e.into()),
    };
    Ok(show(
        &req,
        &viewer,
        StatusCode::UNPROCESSABLE_ENTITY,
        &draft,
        &outcome,
    ))
}
