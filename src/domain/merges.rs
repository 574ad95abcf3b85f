//! Merging duplicate customers or contacts into one survivor, on request only (never
//! automatically). In one transaction: the survivor gains the fields it lacks (its own
//! values always win) and the union of the tags, the merged records' children move to it,
//! and the merged records go to the trash, where they can still be looked at.
//!
//! Children move whether live or in the trash, so nothing restored later points at a merged
//! record. Each moved child gets its own `<kind>.update` audit entry, the survivor a
//! `<entity>.update`, each merged record a `<entity>.delete`, and one `<entity>.merge`
//! entry on the survivor lists everything that moved.

use rusqlite::{Connection, params};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::auth::Actor;
use crate::auth::permissions::Capability;
use crate::domain::audit::{self, Entry};
use crate::domain::clock::Timestamp;
use crate::domain::contacts::{self, Contact, ContactInput};
use crate::domain::customers::{self, Customer, CustomerInput};
use crate::domain::records::{self, Kind};
use crate::error::{AppError, AppResult, Violations};

/// The most records one merge may absorb.
pub const MAX_MERGED: usize = 20;

/// The body of `POST /merges`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MergeInput {
    /// `customer` or `contact`.
    pub entity: String,
    /// The record that stays.
    pub survivor_id: String,
    /// 1 to 20 records of the same entity merged into the survivor and then trashed.
    pub merged_ids: Vec<String>,
}

/// The survivor after the merge.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(untagged)]
pub enum Survivor {
    Customer(Customer),
    Contact(Contact),
}

impl Survivor {
    pub fn version(&self) -> i64 {
        match self {
            Survivor::Customer(c) => c.meta.version,
            Survivor::Contact(c) => c.meta.version,
        }
    }
}

/// What a merge moves: `(table, kind name, column, extra condition)` per child.
fn children(kind: Kind) -> &'static [(&'static str, &'static str, &'static str, &'static str)] {
    match kind {
        Kind::Customer => &[
            ("contacts", "contact", "customer_id", ""),
            ("leads", "lead", "customer_id", ""),
            ("tasks", "task", "customer_id", ""),
            (
                "activities",
                "activity",
                "subject_id",
                " AND subject_type = 'customer'",
            ),
        ],
        _ => &[
            ("leads", "lead", "contact_id", ""),
            ("tasks", "task", "contact_id", ""),
            (
                "activities",
                "activity",
                "subject_id",
                " AND subject_type = 'contact'",
            ),
        ],
    }
}

/// Checks the request (403 for roles without bulk edit, 422 for a malformed one, 404 when
/// a record is not a live one of that entity), then merges.
pub fn merge(conn: &Connection, actor: &Actor, input: &MergeInput) -> AppResult<Survivor> {
    actor.require(Capability::BulkEdit)?;
    let kind = check(input)?;
    let survivor = input.survivor_id.as_str();
    for id in std::iter::once(survivor).chain(input.merged_ids.iter().map(String::as_str)) {
        if !records::is_live(conn, kind, id)? {
            return Err(AppError::NotFound);
        }
    }
    let filled = match kind {
        Kind::Customer => fill_customer(conn, actor, survivor, &input.merged_ids)?,
        _ => fill_contact(conn, actor, survivor, &input.merged_ids)?,
    };
    let now = Timestamp::now().to_stored();
    let mut moved = Map::new();
    for (table, child, column, extra) in children(kind) {
        let mut ids = Vec::new();
        for from in &input.merged_ids {
            ids.extend(move_children(
                conn, actor, table, child, column, extra, from, survivor, &now,
            )?);
        }
        moved.insert((*table).to_owned(), json!(ids));
    }
    for id in &input.merged_ids {
        records::trash(conn, kind, id, actor, &now)?;
    }
    audit::record(
        conn,
        Entry::new(
            Some(&actor.user_id),
            &format!("{}.merge", kind.name()),
            kind.name(),
        )
        .entity(survivor)
        .after(&json!({
            "merged_ids": input.merged_ids,
            "filled": filled,
            "moved": moved,
        })),
    )?;
    Ok(match kind {
        Kind::Customer => Survivor::Customer(customers::get(conn, survivor)?),
        _ => Survivor::Contact(contacts::get(conn, survivor)?),
    })
}

fn check(input: &MergeInput) -> AppResult<Kind> {
    let mut v = Violations::new();
    let kind = match Kind::parse(&input.entity) {
        Some(k @ (Kind::Customer | Kind::Contact)) => Some(k),
        _ => {
            v.add("entity", "must be customer or contact");
            None
        }
    };
    if input.survivor_id.trim().is_empty() {
        v.add("survivor_id", "is required");
    }
    let ids = &input.merged_ids;
    if ids.is_empty() || ids.len() > MAX_MERGED {
        v.add("merged_ids", format!("must list 1 to {MAX_MERGED} records"));
    }
    if ids.contains(&input.survivor_id) {
        v.add("merged_ids", "must not include the survivor");
    }
    if ids.iter().enumerate().any(|(i, id)| ids[..i].contains(id)) {
        v.add("merged_ids", "must not repeat a record");
    }
    v.into_result()?;
    kind.ok_or_else(|| AppError::invalid("entity", "must be customer or contact"))
}

/// Takes the first value among `merged` for a field the survivor lacks.
fn first_missing<T>(
    survivor: &Option<String>,
    merged: &[T],
    field: impl Fn(&T) -> &Option<String>,
) -> Option<Option<String>> {
    if survivor.is_some() {
        return None;
    }
    merged.iter().find_map(|m| field(m).clone()).map(Some)
}

/// The union of the tags, or `None` when the survivor already has them all.
fn union_tags<'a>(
    survivor: &[String],
    merged: impl Iterator<Item = &'a String>,
) -> Option<Vec<String>> {
    let mut tags = survivor.to_vec();
    for tag in merged {
        if !tags.iter().any(|t| t.eq_ignore_ascii_case(tag)) {
            tags.push(tag.clone());
        }
    }
    (tags.len() > survivor.len()).then_some(tags)
}

/// The names of the fields an input sets.
fn set_fields(pairs: &[(&str, bool)]) -> Vec<String> {
    pairs
        .iter()
        .filter(|(_, set)| *set)
        .map(|(name, _)| (*name).to_owned())
        .collect()
}

fn fill_customer(
    conn: &Connection,
    actor: &Actor,
    survivor: &str,
    merged: &[String],
) -> AppResult<Vec<String>> {
    let current = customers::get(conn, survivor)?;
    let others = merged
        .iter()
        .map(|id| customers::get(conn, id))
        .collect::<AppResult<Vec<Customer>>>()?;
    let input = CustomerInput {
        domain: first_missing(&current.domain, &others, |c| &c.domain),
        industry: first_missing(&current.industry, &others, |c| &c.industry),
        segment: first_missing(&current.segment, &others, |c| &c.segment),
        phone: first_missing(&current.phone, &others, |c| &c.phone),
        address: first_missing(&current.address, &others, |c| &c.address),
        owner_id: first_missing(&current.owner_id, &others, |c| &c.owner_id),
        tags: union_tags(&current.tags, others.iter().flat_map(|c| &c.tags)),
        ..CustomerInput::default()
    };
    let filled = set_fields(&[
        ("domain", input.domain.is_some()),
        ("industry", input.industry.is_some()),
        ("segment", input.segment.is_some()),
        ("phone", input.phone.is_some()),
        ("address", input.address.is_some()),
        ("owner_id", input.owner_id.is_some()),
        ("tags", input.tags.is_some()),
    ]);
    if !filled.is_empty() {
        customers::update(conn, actor, survivor, &input, None)?;
    }
    Ok(filled)
}

fn fill_contact(
    conn: &Connection,
    actor: &Actor,
    survivor: &str,
    merged: &[String],
) -> AppResult<Vec<String>> {
    let current = contacts::get(conn, survivor)?;
    let others = merged
        .iter()
        .map(|id| contacts::get(conn, id))
        .collect::<AppResult<Vec<Contact>>>()?;
    // A merged contact's customer counts only while that customer is live.
    let mut live_customers = Vec::new();
    for c in &others {
        if let Some(id) = &c.customer_id
            && records::is_live(conn, Kind::Customer, id)?
        {
            live_customers.push(Some(id.clone()));
        }
    }
    let input = ContactInput {
        customer_id: first_missing(&current.customer_id, &live_customers, |c| c),
        last_name: first_missing(&current.last_name, &others, |c| &c.last_name),
        email: first_missing(&current.email, &others, |c| &c.email),
        phone: first_missing(&current.phone, &others, |c| &c.phone),
        title: first_missing(&current.title, &others, |c| &c.title),
        owner_id: first_missing(&current.owner_id, &others, |c| &c.owner_id),
        tags: union_tags(&current.tags, others.iter().flat_map(|c| &c.tags)),
        ..ContactInput::default()
    };
    let filled = set_fields(&[
        ("customer_id", input.customer_id.is_some()),
        ("last_name", input.last_name.is_some()),
        ("email", input.email.is_some()),
        ("phone", input.phone.is_some()),
        ("title", input.title.is_some()),
        ("owner_id", input.owner_id.is_some()),
        ("tags", input.tags.is_some()),
    ]);
    if !filled.is_empty() {
        contacts::update(conn, actor, survivor, &input, None)?;
    }
    Ok(filled)
}

/// Points every row of `table` whose `column` is `from` at `to` (live or trashed), each
/// with a new version and its own audit entry. Returns the ids moved.
#[allow(clippy::too_many_arguments)]
fn move_children(
    conn: &Connection,
    actor: &Actor,
    table: &str,
    child: &str,
    column: &str,
    extra: &str,
    from: &str,
    to: &str,
    now: &str,
) -> AppResult<Vec<String>> {
    let ids: Vec<String> = conn
        .prepare_cached(&format!(
            "SELECT id FROM {table} WHERE {column} = ?1{extra} ORDER BY id"
        ))?
        .query_map([from], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    let mut update = conn.prepare_cached(&format!(
        "UPDATE {table} SET {column} = ?2, updated_at = ?3, version = version + 1 WHERE id = ?1"
    ))?;
    let action = format!("{child}.update");
    for id in &ids {
        update.execute(params![id, to, now])?;
        let mut before = Map::new();
        before.insert(column.to_owned(), Value::from(from));
        let mut after = Map::new();
        after.insert(column.to_owned(), Value::from(to));
        audit::record(
            conn,
            Entry::new(Some(&actor.user_id), &action, child)
                .entity(id)
                .before(&before)
                .after(&after),
        )?;
    }
    Ok(ids)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(entity: &str, survivor: &str, merged: &[&str]) -> MergeInput {
        MergeInput {
            entity: entity.into(),
            survivor_id: survivor.into(),
            merged_ids: merged.iter().map(|s| s.to_string()).collect(),
        }
    }

    fn fields(err: AppError) -> Vec<String> {
        err.field_errors().iter().map(|e| e.field.clone()).collect()
    }

    #[test]
    fn requests_are_checked() {
        assert_eq!(
            check(&input("contact", "a", &["b"])).unwrap(),
            Kind::Contact
        );
        assert_eq!(
            fields(check(&input("lead", "a", &["b"])).unwrap_err()),
            ["entity"]
        );
        assert_eq!(
            fields(check(&input("customer", "a", &[])).unwrap_err()),
            ["merged_ids"]
        );
        assert_eq!(
            fields(check(&input("customer", "a", &["a"])).unwrap_err()),
            ["merged_ids"]
        );
        assert_eq!(
            fields(check(&input("customer", "a", &["b", "b"])).unwrap_err()),
            ["merged_ids"]
        );
        let many: Vec<String> = (0..21).map(|i| i.to_string()).collect();
        let many: Vec<&str> = many.iter().map(String::as_str).collect();
        assert!(check(&input("customer", "a", &many)).is_err());
    }

    #[test]
    fn survivor_values_win_and_missing_ones_are_filled() {
        let merged = [None, Some("b".to_string()), Some("c".to_string())];
        assert_eq!(first_missing(&Some("a".into()), &merged, |m| m), None);
        assert_eq!(first_missing(&None, &merged, |m| m), Some(Some("b".into())));
        assert_eq!(first_missing(&None, &[None::<String>], |m| m), None);
        let tags = ["VIP".to_string()];
        let theirs = ["vip".to_string(), "renewal".to_string()];
        assert_eq!(
            union_tags(&tags, theirs.iter()),
            Some(vec!["VIP".to_string(), "renewal".to_string()])
        );
        assert_eq!(union_tags(&tags, tags.iter()), None);
    }
}
