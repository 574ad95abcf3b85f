//! The pipeline form as posted: its rows in order, the stage to add, the button pressed;
//! the moves it asks for, and the list it gives `domain::stages::replace`, with the
//! domain's errors placed back on the fields they concern.

use std::collections::BTreeMap;

use crate::domain::stages::{MAX_STAGES, PipelineInput, Stage, StageInput, StageKind};
use crate::error::FieldError;

/// One stage as typed. Existing stages carry their key in a hidden field; a new stage's
/// key is typed, or made from its name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct Row {
    pub(super) key: String,
    pub(super) label: String,
    pub(super) probability: String,
    pub(super) kind: String,
    pub(super) remove: bool,
}

/// What the form's buttons ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Op {
    Save,
    Up(usize),
    Down(usize),
}

/// The whole form: the pipeline's rows in order, the new stage, where it goes, and which
/// button was pressed.
#[derive(Debug, Default)]
pub(super) struct Draft {
    pub(super) rows: Vec<Row>,
    pub(super) add: Row,
    /// The key of the stage the new one follows; empty for the start of the pipeline.
    pub(super) add_after: String,
    pub(super) op: Option<Op>,
}

/// Where an item of the list sent to the domain came from, to put its errors back there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Slot {
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
    pub(super) fn from_stages(list: &[Stage]) -> Draft {
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
    pub(super) fn parse(pairs: &[(String, String)]) -> Draft {
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
    pub(super) fn apply_move(&mut self, op: Op) -> Option<usize> {
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
    pub(super) fn to_input(&self) -> (PipelineInput, Vec<Slot>, Vec<FieldError>) {
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
pub(super) fn place_errors(
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
