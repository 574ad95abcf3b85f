//! Pipeline stages, kept as data: admins rename, reorder, re-weigh and add them. Leads refer
//! to a stage by its key, which therefore never changes.

use rusqlite::{Connection, OptionalExtension, Row, params};
use serde::{Deserialize, Serialize};

use crate::auth::Actor;
use crate::auth::permissions::Capability;
use crate::domain::audit::{self, Entry};
use crate::domain::values::required_text;
use crate::error::{AppError, AppResult, Violations};

/// What reaching a stage means for a lead: still in play, or closed as won or lost.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum StageKind {
    Open,
    Won,
    Lost,
}

impl StageKind {
    pub fn as_str(self) -> &'static str {
        match self {
            StageKind::Open => "open",
            StageKind::Won => "won",
            StageKind::Lost => "lost",
        }
    }

    pub fn parse(s: &str) -> Option<StageKind> {
        [StageKind::Open, StageKind::Won, StageKind::Lost]
            .into_iter()
            .find(|k| k.as_str() == s)
    }

    pub fn is_closed(self) -> bool {
        self != StageKind::Open
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Stage {
    /// Stable identifier, `[a-z0-9_]{1,40}`; leads store it.
    pub key: String,
    pub label: String,
    /// 1-based place in the pipeline.
    pub position: i64,
    /// Chance of winning a lead in this stage, in percent (0–100), for weighted forecasts.
    pub probability: i64,
    pub kind: StageKind,
}

const COLUMNS: &str = "key, label, position, probability, kind";

fn from_row(r: &Row<'_>) -> rusqlite::Result<Stage> {
    let kind: String = r.get(4)?;
    Ok(Stage {
        key: r.get(0)?,
        label: r.get(1)?,
        position: r.get(2)?,
        probability: r.get(3)?,
        // The table's CHECK constraint allows only the three kinds.
        kind: StageKind::parse(&kind).unwrap_or(StageKind::Open),
    })
}

/// The whole pipeline, as `GET /stages` answers and `PUT /stages` takes it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Pipeline {
    /// In pipeline order.
    pub stages: Vec<Stage>,
}

/// Every stage, in pipeline order.
pub fn list(conn: &Connection) -> AppResult<Vec<Stage>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM stages ORDER BY position, key"
    ))?;
    let rows = stmt.query_map([], from_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub fn find(conn: &Connection, key: &str) -> AppResult<Option<Stage>> {
    Ok(conn
        .prepare_cached(&format!("SELECT {COLUMNS} FROM stages WHERE key = ?1"))?
        .query_row([key], from_row)
        .optional()?)
}

/// Where new leads start: the first open stage. There always is one (see [`replace`]).
pub fn first_open(conn: &Connection) -> AppResult<Stage> {
    conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM stages WHERE kind = 'open' ORDER BY position, key LIMIT 1"
    ))?
    .query_row([], from_row)
    .optional()?
    .ok_or_else(|| AppError::internal("the pipeline has no open stage"))
}

/// The body of `PUT /stages`: the complete new pipeline.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PipelineInput {
    /// In the new pipeline order.
    #[schema(value_type = Vec<StageInput>)]
    pub stages: Option<Vec<StageInput>>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StageInput {
    /// An existing key keeps that stage (and its leads); a new key adds a stage.
    pub key: Option<String>,
    pub label: Option<String>,
    /// Optional, for sending back what `GET` returned: when present it must be the item's
    /// 1-based place in the array. The array's order is the pipeline's order.
    pub position: Option<i64>,
    /// 0–100.
    pub probability: Option<i64>,
    /// `open`, `won` or `lost`.
    pub kind: Option<String>,
}

pub const MAX_STAGES: usize = 50;

/// Validates the new pipeline, reporting every problem at once.
fn parse(input: &PipelineInput) -> AppResult<Vec<Stage>> {
    let mut v = Violations::new();
    let Some(items) = &input.stages else {
        return Err(AppError::invalid("stages", "is required"));
    };
    if items.is_empty() || items.len() > MAX_STAGES {
        v.add("stages", format!("must list from 1 to {MAX_STAGES} stages"));
    }
    let mut out = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let at = |field: &str| format!("stages[{i}].{field}");
        let key = item.key.as_deref().unwrap_or("").trim();
        let valid_key = (1..=40).contains(&key.len())
            && key
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        if !valid_key {
            v.add(at("key"), "must be 1 to 40 characters of a-z, 0-9 and _");
        } else if items[..i]
            .iter()
            .any(|o| o.key.as_deref().map(str::trim) == Some(key))
        {
            v.add(at("key"), format!("repeats the key {key:?}"));
        }
        let label = v.check(required_text(
            &at("label"),
            item.label.as_deref().unwrap_or(""),
            60,
        ));
        let position = i as i64 + 1;
        if item.position.is_some_and(|p| p != position) {
            v.add(
                at("position"),
                format!(
                    "must be {position}, the stage's place in the list (the list's order is the pipeline's order)"
                ),
            );
        }
        let probability = match item.probability {
            Some(p) if (0..=100).contains(&p) => Some(p),
            Some(_) => {
                v.add(at("probability"), "must be from 0 to 100");
                None
            }
            None => {
                v.add(at("probability"), "is required (0 to 100)");
                None
            }
        };
        let kind = item.kind.as_deref().and_then(StageKind::parse);
        if kind.is_none() {
            v.add(at("kind"), "must be open, won or lost");
        }
        if let (true, Some(label), Some(probability), Some(kind)) =
            (valid_key, label, probability, kind)
        {
            out.push(Stage {
                key: key.to_owned(),
                label,
                position,
                probability,
                kind,
            });
        }
    }
    for kind in [StageKind::Open, StageKind::Won, StageKind::Lost] {
        let given = items
            .iter()
            .any(|s| s.kind.as_deref().and_then(StageKind::parse) == Some(kind));
        if !items.is_empty() && !given {
            v.add(
                "stages",
                format!("must include at least one {} stage", kind.as_str()),
            );
        }
    }
    v.into_result()?;
    Ok(out)
}

/// Live and trashed leads in a stage. Two indexed counts rather than one scan of `leads`.
fn leads_in(conn: &Connection, key: &str) -> AppResult<i64> {
    Ok(conn
        .prepare_cached(
            "SELECT (SELECT count(*) FROM leads WHERE stage = ?1 AND deleted_at IS NULL)
                  + (SELECT count(*) FROM leads WHERE stage = ?1 AND deleted_at IS NOT NULL)",
        )?
        .query_row([key], |r| r.get(0))?)
}

/// Replaces the pipeline (admins only), in the caller's transaction. A stage that still has
/// leads, live or in the trash, may be renamed, moved and re-weighed, but neither removed
/// nor given another kind (which would contradict its leads' `closed_at` and `lost_reason`):
/// 409, naming the stage and how many leads it has.
pub fn replace(conn: &Connection, actor: &Actor, input: &PipelineInput) -> AppResult<Vec<Stage>> {
    actor.require(Capability::ManageStages)?;
    let next = parse(input)?;
    let before = list(conn)?;
    let mut blocked = Vec::new();
    for old in &before {
        let change = match next.iter().find(|s| s.key == old.key) {
            None => "removed",
            Some(new) if new.kind != old.kind => "given another kind",
            Some(_) => continue,
        };
        let count = leads_in(conn, &old.key)?;
        if count > 0 {
            blocked.push(format!(
                "stage {:?} cannot be {change}: it has {count} lead(s), counting the trash",
                old.key
            ));
        }
    }
    if !blocked.is_empty() {
        return Err(AppError::Conflict(format!(
            "{}. Move those leads to another stage first.",
            capitalise(&blocked.join("; "))
        )));
    }
    if next == before {
        return Ok(before);
    }
    for old in &before {
        if !next.iter().any(|s| s.key == old.key) {
            conn.prepare_cached("DELETE FROM stages WHERE key = ?1")?
                .execute([&old.key])?;
        }
    }
    let mut upsert = conn.prepare_cached(
        "INSERT INTO stages (key, label, position, probability, kind) VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (key) DO UPDATE SET label = excluded.label, position = excluded.position,
                                         probability = excluded.probability, kind = excluded.kind",
    )?;
    for s in &next {
        upsert.execute(params![
            s.key,
            s.label,
            s.position,
            s.probability,
            s.kind.as_str()
        ])?;
    }
    audit::record(
        conn,
        Entry::new(Some(&actor.user_id), "stage.update", "stage")
            .before(&before)
            .after(&next),
    )?;
    Ok(next)
}

fn capitalise(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) => c.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(key: &str, kind: &str) -> StageInput {
        StageInput {
            key: Some(key.into()),
            label: Some(key.to_uppercase()),
            position: None,
            probability: Some(50),
            kind: Some(kind.into()),
        }
    }

    fn fields(err: AppError) -> Vec<String> {
        err.field_errors().iter().map(|e| e.field.clone()).collect()
    }

    #[test]
    fn a_valid_pipeline_is_numbered_in_order() {
        let parsed = parse(&PipelineInput {
            stages: Some(vec![
                item("new", "open"),
                item("won", "won"),
                item("lost", "lost"),
            ]),
        })
        .unwrap();
        let keys: Vec<_> = parsed
            .iter()
            .map(|s| (s.key.as_str(), s.position))
            .collect();
        assert_eq!(keys, [("new", 1), ("won", 2), ("lost", 3)]);
    }

    #[test]
    fn every_problem_is_reported_with_its_path() {
        let mut bad_probability = item("won", "won");
        bad_probability.probability = Some(101);
        let mut bad_position = item("x", "open");
        bad_position.position = Some(7);
        let err = parse(&PipelineInput {
            stages: Some(vec![
                item("New Stage", "open"),
                item("dup", "maybe"),
                item("dup", "open"),
                bad_probability,
                bad_position,
            ]),
        })
        .unwrap_err();
        assert_eq!(
            fields(err),
            [
                "stages[0].key",
                "stages[1].kind",
                "stages[2].key",
                "stages[3].probability",
                "stages[4].position",
                "stages",
            ]
        );
        assert_eq!(
            fields(
                parse(&PipelineInput {
                    stages: Some(vec![])
                })
                .unwrap_err()
            ),
            ["stages"]
        );
        assert_eq!(
            fields(parse(&PipelineInput { stages: None }).unwrap_err()),
            ["stages"]
        );
    }
}
