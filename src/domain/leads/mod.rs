//! Leads: the sales pipeline. A lead sits in one stage; moving it records the transition,
//! and closing it (a won or lost stage) stamps `closed_at`.
//!
//! Support users never see a lead's value: every function that hands a lead to a caller
//! passes it through [`Lead::visible_to`], and lists refuse to filter or sort by value for
//! them (see [`list`]).

mod convert;
mod input;
pub mod list;

use std::sync::LazyLock;

use rusqlite::{Connection, OptionalExtension, Row, params};
use serde::Serialize;

pub use convert::{Conversion, ConvertInput, convert};
pub use input::{LeadInput, StageMove};
pub use list::{LIST, LIST_WITHOUT_VALUE, list, list_json, list_spec};

use crate::auth::Actor;
use crate::auth::permissions::{self, Field, Ownership, RecordAction};
use crate::domain::audit::{self, Entry};
use crate::domain::clock::Timestamp;
use crate::domain::currency::Currency;
use crate::domain::list::JsonObject;
use crate::domain::notifications::{self, About, NotificationKind};
use crate::domain::records::{self, Kind, META_COLUMNS, Meta, Origin};
use crate::domain::stages;
use crate::error::{AppError, AppResult};
use input::{blank, merge};

const KIND: Kind = Kind::Lead;

/// The largest value a lead may carry, in minor units (100 billion in a two-decimal currency).
pub const MAX_VALUE_CENTS: i64 = 10_000_000_000_000;

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Lead {
    #[serde(flatten)]
    pub meta: Meta,
    pub title: String,
    pub customer_id: Option<String>,
    pub contact_id: Option<String>,
    /// A stage key, see `GET /api/v1/stages`.
    pub stage: String,
    /// The expected deal size in minor units of `currency` (cents for USD). Never sent to
    /// support users: the field is absent from their responses.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value_cents: Option<i64>,
    /// ISO 4217 code.
    pub currency: String,
    /// Where the lead came from, e.g. `web`, `referral`.
    pub source: Option<String>,
    /// The user responsible; when empty, the creator owns the lead.
    pub assigned_to: Option<String>,
    /// `YYYY-MM-DD`.
    pub expected_close_date: Option<String>,
    /// Set while the lead is in a lost stage.
    pub lost_reason: Option<String>,
    /// Prospect details, until the lead is converted into a customer and a contact.
    pub company_name: Option<String>,
    pub contact_name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    /// When the lead entered its current stage.
    pub stage_changed_at: String,
    /// When the lead entered a won or lost stage; `null` while open.
    pub closed_at: Option<String>,
}

impl Lead {
    /// The lead as `actor` may see it: without its value for roles that may not see values.
    pub fn visible_to(mut self, actor: &Actor) -> Lead {
        if !permissions::sees(actor.role, Field::LeadValue) {
            self.value_cents = None;
        }
        self
    }
}

const COLUMNS: &str = "title, customer_id, contact_id, stage, value_cents, currency, source, \
     assigned_to, expected_close_date, lost_reason, company_name, contact_name, email, phone, \
     stage_changed_at, closed_at";

pub(crate) fn from_row(r: &Row<'_>) -> rusqlite::Result<Lead> {
    Ok(Lead {
        meta: Meta::from_row(r, 0)?,
        title: r.get(6)?,
        customer_id: r.get(7)?,
        contact_id: r.get(8)?,
        stage: r.get(9)?,
        value_cents: Some(r.get(10)?),
        currency: r.get(11)?,
        source: r.get(12)?,
        assigned_to: r.get(13)?,
        expected_close_date: r.get(14)?,
        lost_reason: r.get(15)?,
        company_name: r.get(16)?,
        contact_name: r.get(17)?,
        email: r.get(18)?,
        phone: r.get(19)?,
        stage_changed_at: r.get(20)?,
        closed_at: r.get(21)?,
    })
}

/// Writes a row of [`from_row`]'s columns as [`Lead`] serialises, with its value only if
/// `sees_value` (as [`Lead::visible_to`] leaves it).
pub(crate) fn write_json(r: &Row<'_>, sees_value: bool, out: &mut JsonObject<'_>) -> AppResult<()> {
    Meta::write_json(r, 0, out)?;
    out.text("title", r.get_ref(6)?)?;
    out.text("customer_id", r.get_ref(7)?)?;
    out.text("contact_id", r.get_ref(8)?)?;
    out.text("stage", r.get_ref(9)?)?;
    if sees_value {
        out.int("value_cents", r.get_ref(10)?)?;
    }
    for (key, at) in [
        ("currency", 11),
        ("source", 12),
        ("assigned_to", 13),
        ("expected_close_date", 14),
        ("lost_reason", 15),
        ("company_name", 16),
        ("contact_name", 17),
        ("email", 18),
        ("phone", 19),
        ("stage_changed_at", 20),
        ("closed_at", 21),
    ] {
        out.text(key, r.get_ref(at)?)?;
    }
    Ok(())
}

/// Built once: every lead read looks its prepared statement up by this text.
static LOAD_SQL: LazyLock<String> = LazyLock::new(|| {
    format!("SELECT {META_COLUMNS}, {COLUMNS} FROM leads WHERE id = ?1 AND deleted_at IS NULL")
});

/// A live lead, with every field (for the domain's own use).
fn load(conn: &Connection, id: &str) -> AppResult<Lead> {
    conn.prepare_cached(&LOAD_SQL)?
        .query_row([id], from_row)
        .optional()?
        .ok_or(AppError::NotFound)
}

/// One live lead, as `actor` may see it.
pub fn get(conn: &Connection, actor: &Actor, id: &str) -> AppResult<Lead> {
    Ok(load(conn, id)?.visible_to(actor))
}

/// [`get`]'s lead as its JSON body, written straight from the row, with its version (for
/// the `ETag`): the API's read of one lead, the busiest request there is.
pub fn get_json(conn: &Connection, actor: &Actor, id: &str) -> AppResult<(i64, Vec<u8>)> {
    let sees_value = permissions::sees(actor.role, Field::LeadValue);
    let mut stmt = conn.prepare_cached(&LOAD_SQL)?;
    let mut rows = stmt.query([id])?;
    let row = rows.next()?.ok_or(AppError::NotFound)?;
    let mut out = Vec::with_capacity(768);
    JsonObject::write(&mut out, |object| write_json(row, sees_value, object))?;
    Ok((row.get(4)?, out))
}

/// Creates a lead. Without `stage` it starts in the first open stage, without `currency` in
/// `base_currency`; without `assigned_to` its creator owns it.
pub fn create(
    conn: &Connection,
    actor: &Actor,
    input: &LeadInput,
    base_currency: &Currency,
) -> AppResult<Lead> {
    let origin = Origin::now(actor);
    create_from(
        conn,
        actor,
        input,
        &origin,
        base_currency,
        &StageDates::default(),
    )
}

/// When a lead being imported entered its stage and closed, as its file has them.
#[derive(Debug, Clone, Default)]
pub struct StageDates {
    /// When it entered its stage; `None`: when it was created.
    pub changed_at: Option<String>,
    /// When it closed, if its stage is won or lost; `None`: when it entered its stage.
    pub closed_at: Option<String>,
}

/// Creates a lead with the history of `origin` and `dates` (an import's), validated as
/// [`create`] does. Its stage history starts when it entered its stage.
pub fn create_from(
    conn: &Connection,
    actor: &Actor,
    input: &LeadInput,
    origin: &Origin,
    base_currency: &Currency,
    dates: &StageDates,
) -> AppResult<Lead> {
    records::require(actor, RecordAction::Create, KIND, Ownership::Own)?;
    let meta = origin.meta(&Timestamp::now().to_stored());
    let entered_at = dates
        .changed_at
        .clone()
        .unwrap_or_else(|| meta.created_at.clone());
    let (mut lead, _) = merge(conn, &blank(base_currency), input, &entered_at)?;
    records::check_assignment(actor, None, lead.assigned_to.as_deref())?;
    if lead.closed_at.is_some() && dates.closed_at.is_some() {
        lead.closed_at = dates.closed_at.clone();
    }
    lead.meta = meta;
    conn.prepare_cached(&format!(
        "INSERT INTO leads ({META_COLUMNS}, {COLUMNS})
         VALUES (?1, ?2, ?3, ?4, ?5, NULL, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16,
                 ?17, ?18, ?19, ?20, ?21)"
    ))?
    .execute(params![
        lead.meta.id,
        lead.meta.created_at,
        lead.meta.updated_at,
        lead.meta.created_by,
        lead.meta.version,
        lead.title,
        lead.customer_id,
        lead.contact_id,
        lead.stage,
        lead.value_cents,
        lead.currency,
        lead.source,
        lead.assigned_to,
        lead.expected_close_date,
        lead.lost_reason,
        lead.company_name,
        lead.contact_name,
        lead.email,
        lead.phone,
        lead.stage_changed_at,
        lead.closed_at,
    ])?;
    record_stage_change(conn, actor, &lead.meta.id, None, &lead.stage, &entered_at)?;
    audit::record(
        conn,
        Entry::new(Some(&actor.user_id), "lead.create", "lead")
            .entity(&lead.meta.id)
            .after(&lead),
    )?;
    notify(conn, actor, None, &lead)?;
    Ok(lead.visible_to(actor))
}

/// Checks that `actor` may change the live lead `id` at `expected_version`, and returns it.
fn editable(
    conn: &Connection,
    actor: &Actor,
    id: &str,
    expected_version: Option<i64>,
) -> AppResult<Lead> {
    let before = load(conn, id)?;
    records::require(
        actor,
        RecordAction::Edit,
        KIND,
        records::ownership(conn, KIND, id, actor)?,
    )?;
    records::check_version(expected_version, before.meta.version)?;
    Ok(before)
}

/// `PATCH /leads/{id}`. A different `stage` is a move, with the same rules and records as
/// [`move_stage`].
pub fn update(
    conn: &Connection,
    actor: &Actor,
    id: &str,
    input: &LeadInput,
    expected_version: Option<i64>,
) -> AppResult<Lead> {
    let before = editable(conn, actor, id, expected_version)?;
    save(conn, actor, before, input)
}

/// `POST /leads/{id}/stage`: moves the lead to any stage, forward or back. Moving it to the
/// stage it is in changes nothing.
pub fn move_stage(
    conn: &Connection,
    actor: &Actor,
    id: &str,
    input: &StageMove,
    expected_version: Option<i64>,
) -> AppResult<Lead> {
    let before = editable(conn, actor, id, expected_version)?;
    let key = input.stage.as_deref().map(str::trim);
    if key == Some(before.stage.as_str()) {
        return Ok(before.visible_to(actor));
    }
    let change = LeadInput {
        stage: Some(input.stage.clone()),
        lost_reason: Some(input.lost_reason.clone()),
        ..LeadInput::default()
    };
    save(conn, actor, before, &change)
}

fn save(conn: &Connection, actor: &Actor, before: Lead, input: &LeadInput) -> AppResult<Lead> {
    let now = Timestamp::now().to_stored();
    let (mut after, entered) = merge(conn, &before, input, &now)?;
    records::check_assignment(
        actor,
        before.assigned_to.as_deref(),
        after.assigned_to.as_deref(),
    )?;
    after.meta.updated_at = now.clone();
    after.meta.version += 1;
    persist(conn, &after)?;
    if entered.is_some() {
        record_stage_change(
            conn,
            actor,
            &after.meta.id,
            Some(&before.stage),
            &after.stage,
            &now,
        )?;
    }
    audit_update(conn, actor, &before, &after, entered.is_some())?;
    notify(conn, actor, Some(&before), &after)?;
    Ok(after.visible_to(actor))
}

/// Tells a lead's new assignee that it is theirs now, or its assignee that someone else
/// moved it to another stage.
fn notify(conn: &Connection, actor: &Actor, before: Option<&Lead>, after: &Lead) -> AppResult<()> {
    let about = About::lead(&after.meta.id);
    let assignee = after.assigned_to.as_deref();
    let before_assignee = before.and_then(|b| b.assigned_to.as_deref());
    if assignee != before_assignee {
        return notifications::reassigned(
            conn,
            actor,
            before_assignee,
            assignee,
            NotificationKind::LeadAssigned,
            about,
            || format!("{} assigned you the lead “{}”", actor.name, after.title),
        );
    }
    match before {
        Some(before) if before.stage != after.stage => {
            let label = |key: &str| -> AppResult<String> {
                Ok(stages::find(conn, key)?.map_or_else(|| key.to_owned(), |s| s.label))
            };
            let message = format!(
                "{} moved your lead “{}” from {} to {}",
                actor.name,
                after.title,
                label(&before.stage)?,
                label(&after.stage)?
            );
            notifications::notify(
                conn,
                actor,
                assignee,
                NotificationKind::LeadStageChanged,
                about,
                &message,
            )
        }
        _ => Ok(()),
    }
}

/// Writes every column of an existing lead as `lead` has it.
fn persist(conn: &Connection, lead: &Lead) -> AppResult<()> {
    conn.prepare_cached(
        "UPDATE leads SET title = ?2, customer_id = ?3, contact_id = ?4, stage = ?5,
                          value_cents = ?6, currency = ?7, source = ?8, assigned_to = ?9,
                          expected_close_date = ?10, lost_reason = ?11, company_name = ?12,
                          contact_name = ?13, email = ?14, phone = ?15, stage_changed_at = ?16,
                          closed_at = ?17, updated_at = ?18, version = ?19
          WHERE id = ?1",
    )?
    .execute(params![
        lead.meta.id,
        lead.title,
        lead.customer_id,
        lead.contact_id,
        lead.stage,
        lead.value_cents,
        lead.currency,
        lead.source,
        lead.assigned_to,
        lead.expected_close_date,
        lead.lost_reason,
        lead.company_name,
        lead.contact_name,
        lead.email,
        lead.phone,
        lead.stage_changed_at,
        lead.closed_at,
        lead.meta.updated_at,
        lead.meta.version,
    ])?;
    Ok(())
}

/// The fields a stage move changes, audited as `lead.stage`.
const STAGE_FIELDS: [&str; 4] = ["stage", "lost_reason", "closed_at", "stage_changed_at"];

/// A move is audited as `lead.stage` (the stage fields) and, when a PATCH changed other
/// fields too, `lead.update` (the rest); any other change as one `lead.update`.
fn audit_update(
    conn: &Connection,
    actor: &Actor,
    before: &Lead,
    after: &Lead,
    moved: bool,
) -> AppResult<()> {
    let (b, a) = audit::changed_fields(
        &serde_json::to_value(before).unwrap_or_default(),
        &serde_json::to_value(after).unwrap_or_default(),
    );
    let (serde_json::Value::Object(mut b), serde_json::Value::Object(mut a)) = (b, a) else {
        return Err(AppError::internal("a lead did not serialise to an object"));
    };
    let mut entries = Vec::new();
    if moved {
        let mut stage_before = serde_json::Map::new();
        let mut stage_after = serde_json::Map::new();
        for field in STAGE_FIELDS {
            if let Some(value) = a.remove(field) {
                stage_before.insert(field.to_owned(), b.remove(field).unwrap_or_default());
                stage_after.insert(field.to_owned(), value);
            }
        }
        entries.push(("lead.stage", stage_before, stage_after));
    }
    if !moved || !a.is_empty() {
        entries.push(("lead.update", b, a));
    }
    for (action, old, new) in entries {
        let mut entry = Entry::new(Some(&actor.user_id), action, "lead").entity(&after.meta.id);
        entry.before = Some(old.into());
        entry.after = Some(new.into());
        audit::record(conn, entry)?;
    }
    Ok(())
}

/// One row of the lead's stage history.
fn record_stage_change(
    conn: &Connection,
    actor: &Actor,
    lead_id: &str,
    from: Option<&str>,
    to: &str,
    at: &str,
) -> AppResult<()> {
    conn.prepare_cached(
        "INSERT INTO lead_stage_changes (lead_id, from_stage, to_stage, actor_id, at)
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![lead_id, from, to, actor.user_id, at])?;
    Ok(())
}

/// Moves a lead to the trash.
pub fn delete(
    conn: &Connection,
    actor: &Actor,
    id: &str,
    expected_version: Option<i64>,
) -> AppResult<()> {
    let current = load(conn, id)?;
    records::delete_checked(
        conn,
        actor,
        KIND,
        id,
        current.meta.version,
        expected_version,
    )
}

/// Brings a lead back from the trash.
pub fn restore(conn: &Connection, actor: &Actor, id: &str) -> AppResult<Lead> {
    records::restore_checked(conn, actor, KIND, id)?;
    get(conn, actor, id)
}
