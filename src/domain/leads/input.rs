//! What clients send to create, change and move a lead, and how it is validated and
//! applied over the lead as it is.

use rusqlite::Connection;
use serde::Deserialize;

use super::{Lead, MAX_VALUE_CENTS};
use crate::domain::currency::Currency;
use crate::domain::records::{self, Kind, Meta, nullable};
use crate::domain::stages::{self, Stage, StageKind};
use crate::domain::values::{
    date, multiline_text, optional_email, optional_text, phone, required_text,
};
use crate::error::{AppResult, Violations};

/// The body of `POST /leads` (where `title` is required) and of `PATCH /leads/{id}` (where
/// only the fields present change, and `null` clears one).
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LeadInput {
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub title: Option<Option<String>>,
    /// A live customer.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub customer_id: Option<Option<String>>,
    /// A live contact.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub contact_id: Option<Option<String>>,
    /// A stage key. New leads start in the first open stage. Changing it moves the lead as
    /// `POST /leads/{id}/stage` does.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub stage: Option<Option<String>>,
    /// Whole minor units, 0 to 10^13 (default 0).
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<i64>)]
    pub value_cents: Option<Option<i64>>,
    /// ISO 4217 code, any case (default: the server's base currency).
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub currency: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub source: Option<Option<String>>,
    /// Giving a lead to someone else needs a manager or admin.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub assigned_to: Option<Option<String>>,
    /// `YYYY-MM-DD`.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub expected_close_date: Option<Option<String>>,
    /// Required while the lead is in a lost stage, refused otherwise.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub lost_reason: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub company_name: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub contact_name: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub email: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub phone: Option<Option<String>>,
}

/// The body of `POST /leads/{id}/stage`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StageMove {
    /// The stage key to move to; any stage, also an earlier one.
    #[schema(value_type = String)]
    pub stage: Option<String>,
    /// Required when `stage` is a lost stage, refused otherwise.
    pub lost_reason: Option<String>,
}

/// An id field as given: trimmed, empty meaning none.
fn id_value(raw: Option<String>) -> Option<String> {
    raw.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty())
}

/// Applies `input` over `current` (a blank lead when creating), validating every field and
/// reporting all failures at once. When the stage changes, returns the stage entered, with
/// the transition already applied (`stage_changed_at`, `closed_at`, `lost_reason`).
pub(super) fn merge(
    conn: &Connection,
    current: &Lead,
    input: &LeadInput,
    now: &str,
) -> AppResult<(Lead, Option<Stage>)> {
    let mut v = Violations::new();
    let mut next = current.clone();
    let creating = current.meta.id.is_empty();
    let pick = |field: &Option<Option<String>>, was: &Option<String>| match field {
        None => was.clone(),
        Some(value) => value.clone(),
    };
    if input.title.is_some() || creating {
        let title = input.title.clone().flatten().unwrap_or_default();
        if let Some(t) = v.check(required_text("title", &title, 200)) {
            next.title = t;
        }
    }
    next.customer_id = id_value(pick(&input.customer_id, &current.customer_id));
    if next.customer_id != current.customer_id
        && let Some(e) = records::check_reference(
            conn,
            "customer_id",
            Kind::Customer,
            next.customer_id.as_deref(),
        )?
    {
        v.push(e);
    }
    next.contact_id = id_value(pick(&input.contact_id, &current.contact_id));
    if next.contact_id != current.contact_id
        && let Some(e) = records::check_reference(
            conn,
            "contact_id",
            Kind::Contact,
            next.contact_id.as_deref(),
        )?
    {
        v.push(e);
    }

    let mut stage_valid = true;
    let entered = match &input.stage {
        None if creating => Some(stages::first_open(conn)?),
        None => None,
        Some(None) => {
            v.add("stage", "must be a stage key (see GET /api/v1/stages)");
            stage_valid = false;
            None
        }
        Some(Some(key)) => match stages::find(conn, key.trim())? {
            Some(s) if s.key == current.stage => None,
            Some(s) => Some(s),
            None => {
                v.add("stage", "is not a known stage (see GET /api/v1/stages)");
                stage_valid = false;
                None
            }
        },
    };
    let current_kind = if creating {
        None
    } else {
        stages::find(conn, &current.stage)?.map(|s| s.kind)
    };
    let final_kind = match &entered {
        Some(s) => Some(s.kind),
        None if stage_valid => current_kind,
        None => None,
    };

    match input.value_cents {
        None => {}
        Some(Some(n)) if (0..=MAX_VALUE_CENTS).contains(&n) => next.value_cents = Some(n),
        Some(_) => v.add(
            "value_cents",
            "must be a whole number of minor units from 0 to 10000000000000",
        ),
    }
    match &input.currency {
        None => {}
        Some(raw) => {
            if let Some(c) = v.check(Currency::parse("currency", raw.as_deref().unwrap_or(""))) {
                next.currency = c.as_str().to_owned();
            }
        }
    }
    next.source = v
        .check(optional_text(
            "source",
            pick(&input.source, &current.source).as_deref(),
            100,
        ))
        .flatten();
    next.assigned_to = id_value(pick(&input.assigned_to, &current.assigned_to));
    if next.assigned_to != current.assigned_to
        && let Some(e) = records::check_user(conn, "assigned_to", next.assigned_to.as_deref())?
    {
        v.push(e);
    }
    next.expected_close_date = v
        .check(date(
            "expected_close_date",
            pick(&input.expected_close_date, &current.expected_close_date).as_deref(),
        ))
        .flatten();

    let reason = v.check(multiline_text(
        "lost_reason",
        pick(&input.lost_reason, &current.lost_reason).as_deref(),
        500,
    ));
    let reason_given = matches!(&input.lost_reason, Some(Some(s)) if !s.trim().is_empty());
    next.lost_reason = match (final_kind, reason) {
        (_, None) => None,
        (Some(StageKind::Lost), Some(None)) => {
            v.add("lost_reason", "is required for a lead in a lost stage");
            None
        }
        (Some(StageKind::Open | StageKind::Won), Some(_)) if reason_given => {
            v.add("lost_reason", "is only kept for a lead in a lost stage");
            None
        }
        (Some(StageKind::Open | StageKind::Won), Some(_)) => None,
        (_, Some(reason)) => reason,
    };

    next.company_name = v
        .check(optional_text(
            "company_name",
            pick(&input.company_name, &current.company_name).as_deref(),
            200,
        ))
        .flatten();
    next.contact_name = v
        .check(optional_text(
            "contact_name",
            pick(&input.contact_name, &current.contact_name).as_deref(),
            200,
        ))
        .flatten();
    next.email = v
        .check(optional_email(
            "email",
            pick(&input.email, &current.email).as_deref(),
        ))
        .flatten();
    next.phone = v
        .check(phone(
            "phone",
            pick(&input.phone, &current.phone).as_deref(),
        ))
        .flatten();
    v.into_result()?;

    if let Some(to) = &entered {
        next.stage = to.key.clone();
        next.stage_changed_at = now.to_owned();
        next.closed_at = match to.kind {
            StageKind::Open => None,
            // Between two closed stages of the same kind the lead stays closed since then.
            kind if current_kind == Some(kind) => current.closed_at.clone().or(Some(now.into())),
            _ => Some(now.to_owned()),
        };
    }
    Ok((next, entered))
}

pub(super) fn blank(currency: &Currency) -> Lead {
    Lead {
        meta: Meta {
            id: String::new(),
            created_at: String::new(),
            updated_at: String::new(),
            created_by: None,
            version: 0,
            deleted_at: None,
        },
        title: String::new(),
        customer_id: None,
        contact_id: None,
        stage: String::new(),
        value_cents: Some(0),
        currency: currency.as_str().to_owned(),
        source: None,
        assigned_to: None,
        expected_close_date: None,
        lost_reason: None,
        company_name: None,
        contact_name: None,
        email: None,
        phone: None,
        stage_changed_at: String::new(),
        closed_at: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn db() -> Connection {
        let mut conn = crate::db::connection::open_in_memory().unwrap();
        crate::db::migrations::migrate(&mut conn, "mem").unwrap();
        conn.execute_batch(
            "INSERT INTO stages VALUES ('won_late', 'Won late', 7, 100, 'won'),
                                       ('no_fit', 'No fit', 8, 0, 'lost')",
        )
        .unwrap();
        conn
    }

    fn to(stage: &str, reason: Option<&str>) -> LeadInput {
        LeadInput {
            stage: Some(Some(stage.into())),
            lost_reason: Some(reason.map(str::to_owned)),
            ..LeadInput::default()
        }
    }

    fn fields(err: crate::error::AppError) -> Vec<String> {
        err.field_errors().iter().map(|e| e.field.clone()).collect()
    }

    #[test]
    fn leads_close_and_reopen_as_they_move() {
        let conn = db();
        let mut lead = blank(&Currency::usd());
        lead.meta.id = "l1".into();
        let (created, entered) = merge(
            &conn,
            &blank(&Currency::usd()),
            &LeadInput {
                title: Some(Some("T".into())),
                ..LeadInput::default()
            },
            "t0",
        )
        .unwrap();
        assert_eq!(entered.unwrap().key, "new");
        assert_eq!((created.stage.as_str(), created.closed_at), ("new", None));
        lead.stage = created.stage;

        let (won, _) = merge(&conn, &lead, &to("won", None), "t1").unwrap();
        assert_eq!(won.closed_at.as_deref(), Some("t1"));
        assert_eq!(won.stage_changed_at, "t1");
        // Another stage of the same kind: still closed since t1.
        let (late, entered) = merge(&conn, &won, &to("won_late", None), "t2").unwrap();
        assert_eq!(entered.unwrap().kind, StageKind::Won);
        assert_eq!(late.closed_at.as_deref(), Some("t1"));
        assert_eq!(late.stage_changed_at, "t2");
        // Won to lost closes anew, with a reason.
        assert_eq!(
            fields(merge(&conn, &late, &to("lost", None), "t3").unwrap_err()),
            ["lost_reason"]
        );
        let (lost, _) = merge(&conn, &late, &to("lost", Some("Price")), "t3").unwrap();
        assert_eq!(
            (lost.closed_at.as_deref(), lost.lost_reason.as_deref()),
            (Some("t3"), Some("Price"))
        );
        // Lost to another lost stage keeps the time and, through PATCH, the reason.
        let patch = LeadInput {
            stage: Some(Some("no_fit".into())),
            ..LeadInput::default()
        };
        let (no_fit, _) = merge(&conn, &lost, &patch, "t4").unwrap();
        assert_eq!(
            (no_fit.closed_at.as_deref(), no_fit.lost_reason.as_deref()),
            (Some("t3"), Some("Price"))
        );
        // Reopened: neither closed nor lost any more.
        let (open, _) = merge(&conn, &no_fit, &to("qualified", None), "t5").unwrap();
        assert_eq!((&open.closed_at, &open.lost_reason), (&None, &None));
        // The same stage is no move.
        let (same, entered) = merge(&conn, &open, &to("qualified", None), "t6").unwrap();
        assert!(entered.is_none());
        assert_eq!(same.stage_changed_at, "t5");
    }
}
