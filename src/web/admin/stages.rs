//! `/admin/stages`: the pipeline as one form. Up and down buttons reorder the rows without
//! saving (and without JavaScript); "Save pipeline" sends the whole list to
//! `domain::stages::replace`, the function behind `PUT /api/v1/stages`. Whatever it refuses
//! comes back next to the row it concerns, with everything typed still in place.

use std::collections::BTreeMap;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use maud::{Markup, html};

use crate::auth::permissions::Capability;
use crate::domain::stages::{self, MAX_STAGES, PipelineInput, Stage, StageInput, StageKind};
use crate::error::{AppError, FieldError};
use crate::state::AppState;
use crate::web::components::{csrf_field, error_for, form_errors};
use crate::web::flash::Flash;
use crate::web::forms::{CsrfForm, see_other};
use crate::web::session::Viewer;

use super::{WebResult, require, shell};

pub(super) const PATH: &str = "/admin/stages";
const KINDS: [(&str, &str); 3] = [("open", "Open"), ("won", "Won"), ("lost", "Lost")];

/// One stage as typed. Existing stages carry their key in a hidden field; a new stage's
/// key is typed, or made from its name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Row {
    key: String,
    label: String,
    probability: String,
    kind: String,
    remove: bool,
}

/// What the form's buttons ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Save,
    Up(usize),
    Down(usize),
}

/// The whole form: the pipeline's rows in order, the new stage, where it goes, and which
/// button was pressed.
#[derive(Debug, Default)]
struct Draft {
    rows: Vec<Row>,
    add: Row,
    /// The key of the stage the new one follows; empty for the start of the pipeline.
    add_after: String,
    op: Option<Op>,
}

/// Where an item of the list sent to the domain came from, to put its errors back there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Slot {
    Row(usize),
    Add,
}

impl Slot {
    fn field(self, name: &str) -> String {
        match self {
            Slot::Row(i) => format!("s.{i}.{name}"),
            Slot::Add => format!("add.{name}"),
        }
    }
}

impl Draft {
    fn from_stages(list: &[Stage]) -> Draft {
        let rows = list
            .iter()
            .map(|s| Row {
                key: s.key.clone(),
                label: s.label.clone(),
                probability: s.probability.to_string(),
                kind: s.kind.as_str().to_owned(),
                remove: false,
            })
            .collect();
        Draft {
            rows,
            add: Row {
                kind: "open".into(),
                ..Row::default()
            },
            add_after: list
                .iter()
                .rfind(|s| s.kind == StageKind::Open)
                .map(|s| s.key.clone())
                .unwrap_or_default(),
            op: None,
        }
    }

    /// Reads the posted fields: `s.<n>.<field>` for the rows (in the order of `n`),
    /// `add.<field>` for the new stage, `add_after`, and `op` from the button pressed.
    fn parse(pairs: &[(String, String)]) -> Draft {
        let mut rows: BTreeMap<usize, Row> = BTreeMap::new();
        let mut draft = Draft::default();
        let set = |row: &mut Row, field: &str, value: &str| match field {
            "key" => row.key = value.trim().to_owned(),
            "label" => row.label = value.to_owned(),
            "probability" => row.probability = value.to_owned(),
            "kind" => row.kind = value.to_owned(),
            "remove" => row.remove = true,
            _ => {}
        };
        for (name, value) in pairs {
            if let Some(rest) = name.strip_prefix("s.") {
                if let Some((n, field)) = rest.split_once('.')
                    && let Ok(n) = n.parse::<usize>()
                    && n < MAX_STAGES * 2
                {
                    set(rows.entry(n).or_default(), field, value);
                }
            } else if let Some(field) = name.strip_prefix("add.") {
                set(&mut draft.add, field, value);
            } else if name == "add_after" {
                draft.add_after = value.clone();
            } else if name == "op" {
                draft.op = Some(parse_op(value));
            }
        }
        draft.rows = rows.into_values().collect();
        draft
    }

    /// Swaps the row with its neighbour; returns where it went.
    fn apply_move(&mut self, op: Op) -> Option<usize> {
        let (from, to) = match op {
            Op::Up(i) if i > 0 && i < self.rows.len() => (i, i - 1),
            Op::Down(i) if i + 1 < self.rows.len() => (i, i + 1),
            _ => return None,
        };
        self.rows.swap(from, to);
        Some(to)
    }

    fn adds_a_stage(&self) -> bool {
        !self.add.label.trim().is_empty() || !self.add.key.is_empty()
    }

    /// The list for `stages::replace`, where each item came from, and the fields refused
    /// before asking it (a probability that is not a number).
    fn to_input(&self) -> (PipelineInput, Vec<Slot>, Vec<FieldError>) {
        let mut slots: Vec<Slot> = (0..self.rows.len())
            .filter(|i| !self.rows[*i].remove)
            .map(Slot::Row)
            .collect();
        if self.adds_a_stage() {
            let at = if self.add_after.is_empty() {
                0
            } else {
                slots
                    .iter()
                    .position(|s| matches!(s, Slot::Row(i) if self.rows[*i].key == self.add_after))
                    .map_or(slots.len(), |p| p + 1)
            };
            slots.insert(at, Slot::Add);
        }
        let mut errors = Vec::new();
        let items = slots
            .iter()
            .map(|slot| {
                let row = match slot {
                    Slot::Row(i) => &self.rows[*i],
                    Slot::Add => &self.add,
                };
                let key = match (slot, row.key.is_empty()) {
                    (Slot::Add, true) => key_from(&row.label),
                    _ => row.key.clone(),
                };
                // One that is not a number goes as missing, so the domain refuses the list
                // too (and reports the other fields); the message here is the clearer one.
                let typed = row.probability.trim();
                let probability = match typed.parse::<i64>() {
                    Ok(p) => Some(p),
                    Err(_) if typed.is_empty() => None,
                    Err(_) => {
                        errors.push(FieldError::new(
                            slot.field("probability"),
                            "must be a whole number from 0 to 100",
                        ));
                        None
                    }
                };
                StageInput {
                    key: Some(key),
                    label: Some(row.label.clone()),
                    position: None,
                    probability,
                    kind: Some(row.kind.clone()),
                }
            })
            .collect();
        (
            PipelineInput {
                stages: Some(items),
            },
            slots,
            errors,
        )
    }
}

fn parse_op(raw: &str) -> Op {
    let index = |s: &str| s.parse::<usize>().ok();
    match raw.split_once(':') {
        Some(("up", i)) => index(i).map_or(Op::Save, Op::Up),
        Some(("down", i)) => index(i).map_or(Op::Save, Op::Down),
        _ => Op::Save,
    }
}

/// A key for a new stage made from its name: lower-case letters, digits and `_`
/// (`"Demo booked"` → `demo_booked`). Empty when the name has none of those; the key field
/// then says what it needs.
fn key_from(label: &str) -> String {
    let mut key = String::new();
    for c in label.trim().chars().flat_map(char::to_lowercase) {
        if c.is_ascii_lowercase() || c.is_ascii_digit() {
            key.push(c);
        } else if !key.is_empty() && !key.ends_with('_') {
            key.push('_');
        }
    }
    key.truncate(40);
    key.trim_end_matches('_').to_owned()
}

/// The domain's field errors (`stages[3].label`) moved onto the form's fields, after the
/// ones found here, which win for the same field.
fn place_errors(
    domain: &[FieldError],
    slots: &[Slot],
    mut mine: Vec<FieldError>,
) -> Vec<FieldError> {
    for e in domain {
        let field = e
            .field
            .strip_prefix("stages[")
            .and_then(|rest| rest.split_once("]."))
            .and_then(|(n, name)| {
                let slot = slots.get(n.parse::<usize>().ok()?)?;
                Some(slot.field(name))
            })
            .unwrap_or_else(|| e.field.clone());
        if !mine.iter().any(|m| m.field == field) {
            mine.push(FieldError::new(field, e.message.clone()));
        }
    }
    mine
}

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

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
        p.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn posted() -> Vec<(String, String)> {
        pairs(&[
            ("csrf_token", "t"),
            ("s.0.key", "new"),
            ("s.0.label", "New"),
            ("s.0.probability", "10"),
            ("s.0.kind", "open"),
            ("s.1.key", "won"),
            ("s.1.label", "Won"),
            ("s.1.probability", "100"),
            ("s.1.kind", "won"),
            ("s.10.key", "lost"),
            ("s.10.label", "Lost"),
            ("s.10.probability", "0"),
            ("s.10.kind", "lost"),
            ("s.10.remove", "on"),
            ("add.label", "Demo booked!"),
            ("add.key", ""),
            ("add.probability", "x"),
            ("add.kind", "open"),
            ("add_after", "new"),
        ])
    }

    #[test]
    fn the_form_reads_back_in_row_order() {
        let d = Draft::parse(&posted());
        let keys: Vec<_> = d.rows.iter().map(|r| r.key.as_str()).collect();
        assert_eq!(keys, ["new", "won", "lost"]);
        assert!(d.rows[2].remove && !d.rows[0].remove);
        assert_eq!(d.add.label, "Demo booked!");
        assert_eq!(d.op, None);
    }

    #[test]
    fn saving_leaves_removed_rows_out_and_places_the_new_one() {
        let (input, slots, errors) = Draft::parse(&posted()).to_input();
        let items = input.stages.unwrap();
        let keys: Vec<_> = items.iter().map(|s| s.key.clone().unwrap()).collect();
        assert_eq!(keys, ["new", "demo_booked", "won"]);
        assert_eq!(slots, [Slot::Row(0), Slot::Add, Slot::Row(1)]);
        assert_eq!(errors[0].field, "add.probability");
        assert_eq!(items[1].probability, None);
    }

    #[test]
    fn moves_stay_inside_the_list() {
        let mut d = Draft::parse(&posted());
        assert_eq!(d.apply_move(Op::Up(0)), None);
        assert_eq!(d.apply_move(Op::Down(2)), None);
        assert_eq!(d.apply_move(Op::Up(9)), None);
        assert_eq!(d.apply_move(Op::Down(0)), Some(1));
        let keys: Vec<_> = d.rows.iter().map(|r| r.key.as_str()).collect();
        assert_eq!(keys, ["won", "new", "lost"]);
        assert_eq!(parse_op("up:2"), Op::Up(2));
        assert_eq!(parse_op("down:0"), Op::Down(0));
        assert_eq!(parse_op("up:x"), Op::Save);
        assert_eq!(parse_op("save"), Op::Save);
    }

    #[test]
    fn keys_are_made_from_names() {
        assert_eq!(key_from("Demo booked"), "demo_booked");
        assert_eq!(key_from("  Négociation / legal  "), "n_gociation_legal");
        assert_eq!(key_from("Stage 2!"), "stage_2");
        assert_eq!(key_from("商談"), "");
        assert_eq!(key_from(&"a".repeat(60)).len(), 40);
    }

    #[test]
    fn domain_errors_land_on_the_fields_they_concern() {
        let slots = [Slot::Row(0), Slot::Add, Slot::Row(3)];
        let domain = vec![
            FieldError::new("stages[1].key", "must be 1 to 40 characters"),
            FieldError::new("stages[2].label", "is required"),
            FieldError::new("stages[1].probability", "is required (0 to 100)"),
            FieldError::new("stages", "must include at least one won stage"),
        ];
        let mine = vec![FieldError::new("add.probability", "must be a whole number")];
        let placed = place_errors(&domain, &slots, mine);
        let fields: Vec<_> = placed
            .iter()
            .map(|e| (e.field.as_str(), e.message.as_str()))
            .collect();
        assert_eq!(
            fields,
            [
                ("add.probability", "must be a whole number"),
                ("add.key", "must be 1 to 40 characters"),
                ("s.3.label", "is required"),
                ("stages", "must include at least one won stage"),
            ]
        );
    }
}
