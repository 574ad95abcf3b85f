//! Customers: the companies a team sells to.

use rusqlite::{Connection, OptionalExtension, Row, params};
use serde::{Deserialize, Serialize};

use crate::auth::Actor;
use crate::auth::permissions::{Ownership, RecordAction};
use crate::domain::audit::{self, Entry};
use crate::domain::clock::Timestamp;
use crate::domain::list::{Filter, ListParams, ListSpec, Page, Takes};
use crate::domain::notifications::{self, About, NotificationKind};
use crate::domain::records::{self, Kind, META_COLUMNS, Meta, Origin, nullable};
use crate::domain::search;
use crate::domain::values::{domain, multiline_text, optional_text, phone, required_text};
use crate::error::{AppError, AppResult, Violations};

const KIND: Kind = Kind::Customer;

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Customer {
    #[serde(flatten)]
    pub meta: Meta,
    pub name: String,
    /// Normalised web domain, e.g. `acme.com`.
    pub domain: Option<String>,
    pub industry: Option<String>,
    /// e.g. SMB, Mid-Market, Enterprise.
    pub segment: Option<String>,
    pub phone: Option<String>,
    pub address: Option<String>,
    pub owner_id: Option<String>,
    pub tags: Vec<String>,
}

const COLUMNS: &str = "name, domain, industry, segment, phone, address, owner_id";

pub(crate) fn from_row(r: &Row<'_>) -> rusqlite::Result<Customer> {
    Ok(Customer {
        meta: Meta::from_row(r, 0)?,
        name: r.get(6)?,
        domain: r.get(7)?,
        industry: r.get(8)?,
        segment: r.get(9)?,
        phone: r.get(10)?,
        address: r.get(11)?,
        owner_id: r.get(12)?,
        tags: Vec::new(),
    })
}

/// The body of `POST /customers` (where `name` is required) and of `PATCH /customers/{id}`
/// (where only the fields present change, and `null` clears one).
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CustomerInput {
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub name: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub domain: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub industry: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub segment: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub phone: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub address: Option<Option<String>>,
    /// Giving a customer to someone else needs a manager or admin.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub owner_id: Option<Option<String>>,
    pub tags: Option<Vec<String>>,
}

/// Applies `input` over `current` (all `None` for a new record), validating every field
/// and reporting all failures at once.
fn merge(
    conn: &Connection,
    current: &Customer,
    input: &CustomerInput,
) -> AppResult<(Customer, Option<Vec<String>>)> {
    let mut v = Violations::new();
    let mut next = current.clone();
    let pick = |field: &Option<Option<String>>, now: &Option<String>| match field {
        None => now.clone(),
        Some(value) => value.clone(),
    };
    let creating = current.meta.id.is_empty();
    if input.name.is_some() || creating {
        let name = input.name.clone().flatten().unwrap_or_default();
        if let Some(n) = v.check(required_text("name", &name, 200)) {
            next.name = n;
        }
    }
    next.domain = v
        .check(domain(
            "domain",
            pick(&input.domain, &current.domain).as_deref(),
        ))
        .flatten();
    next.industry = v
        .check(optional_text(
            "industry",
            pick(&input.industry, &current.industry).as_deref(),
            100,
        ))
        .flatten();
    next.segment = v
        .check(optional_text(
            "segment",
            pick(&input.segment, &current.segment).as_deref(),
            100,
        ))
        .flatten();
    next.phone = v
        .check(phone(
            "phone",
            pick(&input.phone, &current.phone).as_deref(),
        ))
        .flatten();
    next.address = v
        .check(multiline_text(
            "address",
            pick(&input.address, &current.address).as_deref(),
            500,
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

pub fn get(conn: &Connection, id: &str) -> AppResult<Customer> {
    let mut customer = conn
        .prepare_cached(&format!(
            "SELECT {META_COLUMNS}, {COLUMNS} FROM customers WHERE id = ?1 AND deleted_at IS NULL"
        ))?
        .query_row([id], from_row)
        .optional()?
        .ok_or(AppError::NotFound)?;
    customer.tags = records::tags(conn, KIND, id)?;
    Ok(customer)
}

pub fn create(conn: &Connection, actor: &Actor, input: &CustomerInput) -> AppResult<Customer> {
    create_from(conn, actor, input, &Origin::now(actor))
}

/// Creates a customer with the history of `origin` (an import's), validated as [`create`]
/// does.
pub fn create_from(
    conn: &Connection,
    actor: &Actor,
    input: &CustomerInput,
    origin: &Origin,
) -> AppResult<Customer> {
    let (mut customer, tags) = checked(conn, actor, input)?;
    customer.meta = origin.meta(&Timestamp::now().to_stored());
    conn.prepare_cached(&format!(
        "INSERT INTO customers ({META_COLUMNS}, {COLUMNS})
         VALUES (?1, ?2, ?3, ?4, ?5, NULL, ?6, ?7, ?8, ?9, ?10, ?11, ?12)"
    ))?
    .execute(params![
        customer.meta.id,
        customer.meta.created_at,
        customer.meta.updated_at,
        customer.meta.created_by,
        customer.meta.version,
        customer.name,
        customer.domain,
        customer.industry,
        customer.segment,
        customer.phone,
        customer.address,
        customer.owner_id,
    ])?;
    if let Some(tags) = tags {
        records::add_tags(conn, KIND, &customer.meta.id, &tags)?;
        customer.tags = tags;
    }
    audit::record(
        conn,
        Entry::new(Some(&actor.user_id), "customer.create", "customer")
            .entity(&customer.meta.id)
            .after(&customer),
    )?;
    notify_owner(conn, actor, None, &customer)?;
    Ok(customer)
}

/// Checks `input` as [`create`] does (permission, every field, assignment), writing
/// nothing.
pub fn check(conn: &Connection, actor: &Actor, input: &CustomerInput) -> AppResult<()> {
    checked(conn, actor, input).map(|_| ())
}

/// A new customer from `input`, checked, and its tags.
fn checked(
    conn: &Connection,
    actor: &Actor,
    input: &CustomerInput,
) -> AppResult<(Customer, Option<Vec<String>>)> {
    records::require(actor, RecordAction::Create, KIND, Ownership::Own)?;
    let (customer, tags) = merge(conn, &blank(), input)?;
    records::check_assignment(actor, None, customer.owner_id.as_deref())?;
    Ok((customer, tags))
}

fn blank() -> Customer {
    Customer {
        meta: Meta {
            id: String::new(),
            created_at: String::new(),
            updated_at: String::new(),
            created_by: None,
            version: 0,
            deleted_at: None,
        },
        name: String::new(),
        domain: None,
        industry: None,
        segment: None,
        phone: None,
        address: None,
        owner_id: None,
        tags: Vec::new(),
    }
}

pub fn update(
    conn: &Connection,
    actor: &Actor,
    id: &str,
    input: &CustomerInput,
    expected_version: Option<i64>,
) -> AppResult<Customer> {
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
        "UPDATE customers SET name = ?2, domain = ?3, industry = ?4, segment = ?5, phone = ?6,
                              address = ?7, owner_id = ?8, updated_at = ?9, version = ?10
          WHERE id = ?1",
    )?
    .execute(params![
        id,
        after.name,
        after.domain,
        after.industry,
        after.segment,
        after.phone,
        after.address,
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
        Entry::new(Some(&actor.user_id), "customer.update", "customer")
            .entity(id)
            .changes(&before, &after),
    )?;
    notify_owner(conn, actor, before.owner_id.as_deref(), &after)?;
    Ok(after)
}

fn notify_owner(
    conn: &Connection,
    actor: &Actor,
    before: Option<&str>,
    customer: &Customer,
) -> AppResult<()> {
    notifications::reassigned(
        conn,
        actor,
        before,
        customer.owner_id.as_deref(),
        NotificationKind::CustomerAssigned,
        About::customer(&customer.meta.id),
        || format!("{} made you the owner of {}", actor.name, customer.name),
    )
}

/// Moves a customer to the trash. A customer with live contacts or leads is refused (409)
/// unless `cascade`, which moves them to the trash with it; restoring the customer brings
/// back exactly the records trashed together with it.
pub fn delete(
    conn: &Connection,
    actor: &Actor,
    id: &str,
    expected_version: Option<i64>,
    cascade: bool,
) -> AppResult<()> {
    let current = get(conn, id)?;
    let ownership = records::ownership(conn, KIND, id, actor)?;
    records::require(actor, RecordAction::Delete, KIND, ownership)?;
    records::check_version(expected_version, current.meta.version)?;
    let (contacts, leads) = live_children(conn, id)?;
    if (contacts > 0 || leads > 0) && !cascade {
        return Err(AppError::Conflict(format!(
            "This customer has {contacts} contact(s) and {leads} lead(s). Move or delete them first, \
             or delete with ?cascade=true to move them to the trash with it."
        )));
    }
    let at = Timestamp::now().to_stored();
    for (kind, table) in [(Kind::Contact, "contacts"), (Kind::Lead, "leads")] {
        let ids: Vec<String> = conn
            .prepare_cached(&format!(
                "SELECT id FROM {table} WHERE customer_id = ?1 AND deleted_at IS NULL"
            ))?
            .query_map([id], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        for child in ids {
            records::require(
                actor,
                RecordAction::Delete,
                kind,
                records::ownership(conn, kind, &child, actor)?,
            )?;
            records::trash(conn, kind, &child, actor, &at)?;
        }
    }
    records::trash(conn, KIND, id, actor, &at)
}

fn live_children(conn: &Connection, id: &str) -> AppResult<(i64, i64)> {
    Ok(conn
        .prepare_cached(
            "SELECT (SELECT count(*) FROM contacts WHERE customer_id = ?1 AND deleted_at IS NULL),
                    (SELECT count(*) FROM leads WHERE customer_id = ?1 AND deleted_at IS NULL)",
        )?
        .query_row([id], |r| Ok((r.get(0)?, r.get(1)?)))?)
}

/// Restores a customer and whatever was trashed together with it.
pub fn restore(conn: &Connection, actor: &Actor, id: &str) -> AppResult<Customer> {
    let deleted_at = records::restore_checked(conn, actor, KIND, id)?;
    for (kind, table) in [(Kind::Contact, "contacts"), (Kind::Lead, "leads")] {
        let ids: Vec<String> = conn
            .prepare_cached(&format!(
                "SELECT id FROM {table} WHERE customer_id = ?1 AND deleted_at = ?2"
            ))?
            .query_map(params![id, deleted_at], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        for child in ids {
            records::untrash(conn, kind, &child, actor)?;
        }
    }
    get(conn, id)
}

pub const LIST: ListSpec = ListSpec {
    filters: &[
        Filter::new("owner_id", "customers owned by this user", Takes::Id),
        Filter::new("segment", "exact segment, e.g. SMB", Takes::Text),
        Filter::new("industry", "exact industry", Takes::Text),
        Filter::new("tag", "customers with this tag", Takes::Text),
        Filter::new("created_from", "created at or after this", Takes::DayOrTime),
        Filter::new("created_to", "created before this", Takes::DayOrTime),
    ],
    sorts: &[
        ("created_at", "created_at"),
        ("updated_at", "updated_at"),
        ("name", "name COLLATE NOCASE"),
    ],
    default_sort: "created_at",
    default_desc: true,
};

pub fn list(conn: &Connection, params: &ListParams) -> AppResult<Page<Customer>> {
    let (sql, args) = list_query(&*search::counted_matches(conn, KIND, params)?)?;
    let mut stmt = conn.prepare_cached(&sql)?;
    let mut rows = stmt
        .query_map(rusqlite::params_from_iter(args), from_row)?
        .collect::<Result<Vec<_>, _>>()?;
    records::load_tags(conn, KIND, &mut rows, |c| (c.meta.id.as_str(), &mut c.tags))?;
    Ok(params.page(rows, |c| {
        let value = match params.sort {
            "name" => c.name.clone(),
            "updated_at" => c.meta.updated_at.clone(),
            _ => c.meta.created_at.clone(),
        };
        (value, c.meta.id.clone())
    }))
}

/// The SQL and parameters of one list page (also checked by the query-plan test).
pub fn list_query(params: &ListParams) -> AppResult<(String, Vec<rusqlite::types::Value>)> {
    let mut q = records::Query::new(params);
    q.eq("owner_id", "owner_id")
        .eq("segment", "segment")
        .eq("industry", "industry")
        .time_range("created_from", "created_to", "created_at")
        .text(KIND);
    if let Some(tag) = params.filter("tag") {
        q.clause(
            "id IN (SELECT customer_id FROM customer_tags WHERE tag = ?)",
            tag.to_owned(),
        );
    }
    let (filter, args) = q.finish()?;
    let sql = format!(
        "SELECT {META_COLUMNS}, {COLUMNS} FROM customers
          WHERE deleted_at IS NULL {filter}
          ORDER BY {order} LIMIT {limit}",
        order = params.order_by(),
        limit = params.limit + 1
    );
    Ok((sql, args))
}

/// The oldest live customer with this (normalised) domain, for conversions and imports.
///
/// `+created_at` keeps the planner off the `created_at` index: without statistics (a new
/// database) it would walk every customer in creation order looking for the domain.
pub fn find_by_domain(conn: &Connection, domain: &str) -> AppResult<Option<String>> {
    Ok(conn
        .prepare_cached(BY_DOMAIN)?
        .query_row([domain], |r| r.get(0))
        .optional()?)
}

/// The oldest live customer with this name, ignoring case, for imports.
pub fn find_by_name(conn: &Connection, name: &str) -> AppResult<Option<String>> {
    Ok(conn
        .prepare_cached(BY_NAME)?
        .query_row([name], |r| r.get(0))
        .optional()?)
}

/// The SQL of a natural-key lookup, for the planner test.
pub(crate) const BY_DOMAIN: &str =
    "SELECT id FROM customers WHERE domain = ?1 AND deleted_at IS NULL
              ORDER BY +created_at LIMIT 1";

/// The SQL of a natural-key lookup, for the planner test.
pub(crate) const BY_NAME: &str =
    "SELECT id FROM customers WHERE name = ?1 COLLATE NOCASE AND deleted_at IS NULL
              ORDER BY +created_at LIMIT 1";
