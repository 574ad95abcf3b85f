//! Contacts: the people a team talks to, optionally at a customer.

use rusqlite::{Connection, OptionalExtension, Row, params};
use serde::{Deserialize, Serialize};

use crate::auth::Actor;
use crate::auth::permissions::{Ownership, RecordAction};
use crate::domain::audit::{self, Entry};
use crate::domain::clock::Timestamp;
use crate::domain::list::{Filter, ListParams, ListSpec, Page, Takes};
use crate::domain::records::{self, Kind, META_COLUMNS, Meta, Origin, nullable};
use crate::domain::search;
use crate::domain::values::{optional_email, optional_text, phone, required_text};
use crate::error::{AppError, AppResult, Violations};

const KIND: Kind = Kind::Contact;

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Contact {
    #[serde(flatten)]
    pub meta: Meta,
    /// The customer this person works at, if any.
    pub customer_id: Option<String>,
    pub first_name: String,
    pub last_name: Option<String>,
    /// Stored lower-case.
    pub email: Option<String>,
    pub phone: Option<String>,
    /// Job title, e.g. Head of Purchasing.
    pub title: Option<String>,
    pub owner_id: Option<String>,
    pub tags: Vec<String>,
}

const COLUMNS: &str = "customer_id, first_name, last_name, email, phone, title, owner_id";

pub(crate) fn from_row(r: &Row<'_>) -> rusqlite::Result<Contact> {
    Ok(Contact {
        meta: Meta::from_row(r, 0)?,
        customer_id: r.get(6)?,
        first_name: r.get(7)?,
        last_name: r.get(8)?,
        email: r.get(9)?,
        phone: r.get(10)?,
        title: r.get(11)?,
        owner_id: r.get(12)?,
        tags: Vec::new(),
    })
}

/// The body of `POST /contacts` (where `first_name` is required) and of
/// `PATCH /contacts/{id}` (where only the fields present change, and `null` clears one).
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ContactInput {
    /// A live customer.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub customer_id: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub first_name: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub last_name: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub email: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub phone: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub title: Option<Option<String>>,
    /// Giving a contact to someone else needs a manager or admin.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub owner_id: Option<Option<String>>,
    pub tags: Option<Vec<String>>,
}

/// Applies `input` over `current` (blank for a new record), validating every field and
/// reporting all failures at once.
fn merge(
    conn: &Connection,
    current: &Contact,
    input: &ContactInput,
) -> AppResult<(Contact, Option<Vec<String>>)> {
    let mut v = Violations::new();
    let mut next = current.clone();
    let pick = |field: &Option<Option<String>>, now: &Option<String>| match field {
        None => now.clone(),
        Some(value) => value.clone(),
    };
    next.customer_id = pick(&input.customer_id, &current.customer_id);
    if input.customer_id.is_some()
        && let Some(e) = records::check_reference(
            conn,
            "customer_id",
            Kind::Customer,
            next.customer_id.as_deref(),
        )?
    {
        v.push(e);
    }
    if input.first_name.is_some() || current.meta.id.is_empty() {
        let name = input.first_name.clone().flatten().unwrap_or_default();
        if let Some(n) = v.check(required_text("first_name", &name, 100)) {
            next.first_name = n;
        }
    }
    next.last_name = v
        .check(optional_text(
            "last_name",
            pick(&input.last_name, &current.last_name).as_deref(),
            100,
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
    next.title = v
        .check(optional_text(
            "title",
            pick(&input.title, &current.title).as_deref(),
            100,
        ))
        .flatten();
    next.owner_id = pick(&input.owner_id, &current.owner_id);
    if input.owner_id.is_some()
        && let Some(e) = records::check_user(conn, "owner_id", next.owner_id.as_deref())?
    {
        v.push(e);
    }
    let tags = input
        .tags
        .as_ref()
        .and_then(|t| v.check(records::parse_tags(t)));
    v.into_result()?;
    Ok((next, tags))
}

/// A live contact; trashed and unknown ids are both 404.
pub fn get(conn: &Connection, id: &str) -> AppResult<Contact> {
    let mut contact = conn
        .prepare_cached(&format!(
            "SELECT {META_COLUMNS}, {COLUMNS} FROM contacts WHERE id = ?1 AND deleted_at IS NULL"
        ))?
        .query_row([id], from_row)
        .optional()?
        .ok_or(AppError::NotFound)?;
    contact.tags = records::tags(conn, KIND, id)?;
    Ok(contact)
}

pub fn create(conn: &Connection, actor: &Actor, input: &ContactInput) -> AppResult<Contact> {
    create_from(conn, actor, input, &Origin::now(actor))
}

/// Creates a contact with the history of `origin` (an import's), validated as [`create`]
/// does.
pub fn create_from(
    conn: &Connection,
    actor: &Actor,
    input: &ContactInput,
    origin: &Origin,
) -> AppResult<Contact> {
    let (mut contact, tags) = checked(conn, actor, input)?;
    contact.meta = origin.meta(&Timestamp::now().to_stored());
    conn.prepare_cached(&format!(
        "INSERT INTO contacts ({META_COLUMNS}, {COLUMNS})
         VALUES (?1, ?2, ?3, ?4, ?5, NULL, ?6, ?7, ?8, ?9, ?10, ?11, ?12)"
    ))?
    .execute(params![
        contact.meta.id,
        contact.meta.created_at,
        contact.meta.updated_at,
        contact.meta.created_by,
        contact.meta.version,
        contact.customer_id,
        contact.first_name,
        contact.last_name,
        contact.email,
        contact.phone,
        contact.title,
        contact.owner_id,
    ])?;
    if let Some(tags) = tags {
        records::add_tags(conn, KIND, &contact.meta.id, &tags)?;
        contact.tags = tags;
    }
    audit::record(
        conn,
        Entry::new(Some(&actor.user_id), "contact.create", "contact")
            .entity(&contact.meta.id)
            .after(&contact),
    )?;
    Ok(contact)
}

/// Checks `input` as [`create`] does (permission, every field, assignment), writing
/// nothing.
pub fn check(conn: &Connection, actor: &Actor, input: &ContactInput) -> AppResult<()> {
    checked(conn, actor, input).map(|_| ())
}

/// A new contact from `input`, checked, and its tags.
fn checked(
    conn: &Connection,
    actor: &Actor,
    input: &ContactInput,
) -> AppResult<(Contact, Option<Vec<String>>)> {
    records::require(actor, RecordAction::Create, KIND, Ownership::Own)?;
    let (contact, tags) = merge(conn, &blank(), input)?;
    records::check_assignment(actor, None, contact.owner_id.as_deref())?;
    Ok((contact, tags))
}

fn blank() -> Contact {
    Contact {
        meta: Meta {
            id: String::new(),
            created_at: String::new(),
            updated_at: String::new(),
            created_by: None,
            version: 0,
            deleted_at: None,
        },
        customer_id: None,
        first_name: String::new(),
        last_name: None,
        email: None,
        phone: None,
        title: None,
        owner_id: None,
        tags: Vec::new(),
    }
}

pub fn update(
    conn: &Connection,
    actor: &Actor,
    id: &str,
    input: &ContactInput,
    expected_version: Option<i64>,
) -> AppResult<Contact> {
    let before = get(conn, id)?;
    records::require(
        actor,
        RecordAction::Edit,
        KIND,
        records::ownership(conn, KIND, id, actor)?,
    )?;
    records::check_version(expected_version, before.meta.version)?;
    let (mut after, tags) = merge(conn, &before, input)?;
    records::check_assignment(actor, before.owner_id.as_deref(), after.owner_id.as_deref())?;
    after.meta.updated_at = Timestamp::now().to_stored();
    after.meta.version += 1;
    conn.prepare_cached(
        "UPDATE contacts SET customer_id = ?2, first_name = ?3, last_name = ?4, email = ?5,
                             phone = ?6, title = ?7, owner_id = ?8, updated_at = ?9, version = ?10
          WHERE id = ?1",
    )?
    .execute(params![
        id,
        after.customer_id,
        after.first_name,
        after.last_name,
        after.email,
        after.phone,
        after.title,
        after.owner_id,
        after.meta.updated_at,
        after.meta.version,
    ])?;
    if let Some(tags) = tags {
        records::set_tags(conn, KIND, id, &tags)?;
        after.tags = tags;
    }
    audit::record(
        conn,
        Entry::new(Some(&actor.user_id), "contact.update", "contact")
            .entity(id)
            .changes(&before, &after),
    )?;
    Ok(after)
}

/// Moves a contact to the trash. Leads and tasks that name it keep the reference (restoring
/// the contact brings the link back; purging it lets go of them).
pub fn delete(
    conn: &Connection,
    actor: &Actor,
    id: &str,
    expected_version: Option<i64>,
) -> AppResult<()> {
    let current = get(conn, id)?;
    records::delete_checked(
        conn,
        actor,
        KIND,
        id,
        current.meta.version,
        expected_version,
    )
}

/// Brings a contact back from the trash. A contact whose customer is still in the trash
/// would point at a record nobody can see: refused (409) until the customer is restored.
pub fn restore(conn: &Connection, actor: &Actor, id: &str) -> AppResult<Contact> {
    records::require(
        actor,
        RecordAction::Delete,
        KIND,
        records::ownership(conn, KIND, id, actor)?,
    )?;
    let trashed_customer: Option<String> = conn
        .prepare_cached(
            "SELECT cu.id FROM contacts c JOIN customers cu ON cu.id = c.customer_id
              WHERE c.id = ?1 AND c.deleted_at IS NOT NULL AND cu.deleted_at IS NOT NULL",
        )?
        .query_row([id], |r| r.get(0))
        .optional()?;
    if let Some(customer) = trashed_customer {
        return Err(AppError::Conflict(format!(
            "This contact's customer ({customer}) is in the trash: restore the customer first."
        )));
    }
    records::untrash(conn, KIND, id, actor)?;
    get(conn, id)
}

pub const LIST: ListSpec = ListSpec {
    filters: &[
        Filter::new("owner_id", "contacts owned by this user", Takes::Id),
        Filter::new("customer_id", "contacts at this customer", Takes::Id),
        Filter::new("tag", "contacts with this tag", Takes::Text),
        Filter::new("email", "this e-mail address, ignoring case", Takes::Text),
        Filter::new("created_from", "created at or after this", Takes::DayOrTime),
        Filter::new("created_to", "created before this", Takes::DayOrTime),
    ],
    sorts: &[
        ("created_at", "created_at"),
        ("updated_at", "updated_at"),
        // Keyset paging compares sort values, so a missing last name sorts as ''; the
        // index `contacts_last_name` is on this very expression.
        ("last_name", "ifnull(last_name, '') COLLATE NOCASE"),
        ("first_name", "first_name COLLATE NOCASE"),
    ],
    default_sort: "created_at",
    default_desc: true,
};

/// The `SELECT` of one page and its parameters.
pub fn list_query(params: &ListParams) -> AppResult<(String, Vec<rusqlite::types::Value>)> {
    let mut q = records::Query::new(params);
    q.eq("owner_id", "owner_id")
        .eq("customer_id", "customer_id")
        .time_range("created_from", "created_to", "created_at")
        .text(KIND);
    if let Some(email) = params.filter("email") {
        // NOCASE so that `contacts_email` serves it; lower-cased first because stored
        // addresses are, and NOCASE folds ASCII only.
        q.clause("email = ? COLLATE NOCASE", email.trim().to_lowercase());
    }
    if let Some(tag) = params.filter("tag") {
        q.clause(
            "id IN (SELECT contact_id FROM contact_tags WHERE tag = ?)",
            tag.to_owned(),
        );
    }
    let (filter, args) = q.finish()?;
    let sql = format!(
        "SELECT {META_COLUMNS}, {COLUMNS} FROM contacts
          WHERE deleted_at IS NULL {filter}
          ORDER BY {order} LIMIT {limit}",
        order = params.order_by(),
        limit = params.limit + 1
    );
    Ok((sql, args))
}

pub fn list(conn: &Connection, params: &ListParams) -> AppResult<Page<Contact>> {
    let (sql, args) = list_query(&*search::counted_matches(conn, KIND, params)?)?;
    let mut stmt = conn.prepare_cached(&sql)?;
    let mut rows = stmt
        .query_map(rusqlite::params_from_iter(args), from_row)?
        .collect::<Result<Vec<_>, _>>()?;
    records::load_tags(conn, KIND, &mut rows, |c| (c.meta.id.as_str(), &mut c.tags))?;
    Ok(params.page(rows, |c| {
        let value = match params.sort {
            "last_name" => c.last_name.clone().unwrap_or_default(),
            "first_name" => c.first_name.clone(),
            "updated_at" => c.meta.updated_at.clone(),
            _ => c.meta.created_at.clone(),
        };
        (value, c.meta.id.clone())
    }))
}

/// A live contact at this customer with this e-mail address (stored lower-case), for
/// conversions and imports.
pub fn find_by_email(
    conn: &Connection,
    customer_id: &str,
    email: &str,
) -> AppResult<Option<String>> {
    Ok(conn
        .prepare_cached(
            "SELECT id FROM contacts
              WHERE email = ?2 COLLATE NOCASE AND customer_id = ?1 AND deleted_at IS NULL
              ORDER BY +created_at LIMIT 1",
        )?
        .query_row(params![customer_id, email.trim().to_lowercase()], |r| {
            r.get(0)
        })
        .optional()?)
}

/// The oldest live contact with this e-mail address (any customer), for imports.
pub fn find_any_by_email(conn: &Connection, email: &str) -> AppResult<Option<String>> {
    Ok(conn
        .prepare_cached(BY_EMAIL)?
        .query_row([email.trim().to_lowercase()], |r| r.get(0))
        .optional()?)
}

/// The oldest live contact whose phone has these digits, for imports.
pub fn find_by_phone_digits(conn: &Connection, digits: &str) -> AppResult<Option<String>> {
    Ok(conn
        .prepare_cached(BY_PHONE_DIGITS)?
        .query_row([digits], |r| r.get(0))
        .optional()?)
}

/// The SQL of a natural-key lookup, for the planner test.
pub(crate) const BY_EMAIL: &str =
    "SELECT id FROM contacts WHERE email = ?1 COLLATE NOCASE AND deleted_at IS NULL
              ORDER BY +created_at LIMIT 1";

/// The SQL of a natural-key lookup, for the planner test.
pub(crate) const BY_PHONE_DIGITS: &str =
    "SELECT id FROM contacts WHERE phone_digits = ?1 AND deleted_at IS NULL
              ORDER BY +created_at LIMIT 1";

#[cfg(test)]
mod tests;
