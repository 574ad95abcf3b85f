//! What an audit entry changed, compactly: a few `field: old → new` lines in the row,
//! the rest folded away.

use maud::{Markup, html};
use serde_json::Value;

/// The cell of an entry's row: what it changed.
pub(super) fn cell(before: Option<&Value>, after: Option<&Value>) -> Markup {
    changes_cell(&changes(before, after))
}

/// Changed fields shown in the row; the rest fold away.
const SHOWN_CHANGES: usize = 4;
/// Values longer than this are cut in the row.
const VALUE_CHARS: usize = 60;

/// One changed field: its value before and after (`None`: not there).
#[derive(Debug, PartialEq, Eq)]
struct Change {
    field: String,
    from: Option<String>,
    to: Option<String>,
}

/// Fields every record carries that say nothing about what changed.
const NOISE: [&str; 5] = ["id", "created_at", "updated_at", "created_by", "version"];

/// What an entry changed, field by field. Updates store only the differing fields; a
/// creation has only `after` (its empty fields are left out); anything that is not an
/// object (the pipeline's stage list) is one change of the whole value.
fn changes(before: Option<&Value>, after: Option<&Value>) -> Vec<Change> {
    fn object(v: Option<&Value>) -> Option<Option<&serde_json::Map<String, Value>>> {
        match v {
            None | Some(Value::Null) => Some(None),
            Some(Value::Object(map)) => Some(Some(map)),
            Some(_) => None,
        }
    }
    let empty = serde_json::Map::new();
    let (Some(b), Some(a)) = (object(before), object(after)) else {
        return vec![Change {
            field: "value".into(),
            from: before.map(short),
            to: after.map(short),
        }];
    };
    let (b_map, a_map) = (b.unwrap_or(&empty), a.unwrap_or(&empty));
    let keys = a_map
        .keys()
        .chain(b_map.keys().filter(|k| !a_map.contains_key(*k)));
    keys.filter(|k| !NOISE.contains(&k.as_str()))
        .filter_map(|k| {
            let (old, new) = (b_map.get(k), a_map.get(k));
            let blank = |v: Option<&Value>| v.is_none_or(is_blank);
            if old == new || (blank(old) && blank(new)) {
                return None;
            }
            Some(Change {
                field: k.clone(),
                from: b.map(|_| old.map_or_else(|| "—".to_owned(), short)),
                to: a.map(|_| new.map_or_else(|| "—".to_owned(), short)),
            })
        })
        .collect()
}

fn is_blank(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.is_empty(),
        _ => false,
    }
}

/// A value as a few words: strings as they are, `—` for nothing, anything else as JSON;
/// cut to [`VALUE_CHARS`].
fn short(v: &Value) -> String {
    let text = match v {
        Value::Null => "—".to_owned(),
        Value::String(s) if s.is_empty() => "—".to_owned(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    if text.chars().count() > VALUE_CHARS {
        let cut: String = text.chars().take(VALUE_CHARS - 1).collect();
        format!("{cut}…")
    } else {
        text
    }
}

fn change_item(c: &Change) -> Markup {
    html! {
        li {
            code { (c.field) } ": "
            @match (&c.from, &c.to) {
                (Some(from), Some(to)) => { del { (from) } " → " ins { (to) } },
                (None, Some(to)) => ins { (to) },
                (Some(from), None) => del { (from) },
                (None, None) => {},
            }
        }
    }
}

fn changes_cell(list: &[Change]) -> Markup {
    let (shown, rest) = list.split_at(list.len().min(SHOWN_CHANGES));
    html! {
        @if !list.is_empty() {
            ul.changes {
                @for c in shown { (change_item(c)) }
            }
            @if !rest.is_empty() {
                details.morechanges {
                    summary { (rest.len()) " more" }
                    ul.changes { @for c in rest { (change_item(c)) } }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn updates_show_each_changed_field() {
        let c = changes(
            Some(&json!({"name": "Acme", "phone": null})),
            Some(&json!({"name": "Acme Ltd", "phone": "+1 555"})),
        );
        assert_eq!(
            c,
            [
                Change {
                    field: "name".into(),
                    from: Some("Acme".into()),
                    to: Some("Acme Ltd".into())
                },
                Change {
                    field: "phone".into(),
                    from: Some("—".into()),
                    to: Some("+1 555".into())
                },
            ]
        );
    }

    #[test]
    fn creations_show_what_was_filled_in() {
        let c = changes(
            None,
            Some(
                &json!({"id": "x", "version": 1, "title": "Deal", "source": null, "tags": [], "value_cents": 500}),
            ),
        );
        let fields: Vec<_> = c
            .iter()
            .map(|c| (c.field.as_str(), c.from.is_none()))
            .collect();
        assert_eq!(fields, [("title", true), ("value_cents", true)]);
        assert!(changes(None, None).is_empty());
    }

    #[test]
    fn other_values_are_one_short_change() {
        let long = "x".repeat(200);
        let c = changes(Some(&json!([1, 2])), Some(&json!([long])));
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].from.as_deref(), Some("[1,2]"));
        assert_eq!(
            c[0].to.as_ref().map(|t| t.chars().count()),
            Some(VALUE_CHARS)
        );
    }
}
