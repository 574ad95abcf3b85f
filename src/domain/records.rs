//! What every CRM record shares: its bookkeeping columns, optimistic versioning, the trash,
//! tags, and checks that referenced records exist.

use rusqlite::{Connection, OptionalExtension, Row, params};
use serde::{Deserialize, Deserializer, Serialize};

use crate::auth::Actor;
use crate::auth::permissions::{Capability, Ownership, Record, RecordAction};
use crate::domain::attachments;
use crate::domain::audit::{self, Entry};
use crate::domain::clock::Timestamp;
use crate::domain::list::{JsonObject, ListParams};
use crate::domain::search;
use crate::error::{AppError, AppResult, FieldError, Violations};

/// The kinds of record with their own table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Customer,
    Contact,
    Lead,
    Task,
    Activity,
}

impl Kind {
    pub const ALL: [Kind; 5] = [
        Kind::Customer,
        Kind::Contact,
        Kind::Lead,
        Kind::Task,
        Kind::Activity,
    ];

    pub fn table(self) -> &'static str {
        match self {
            Kind::Customer => "customers",
            Kind::Contact => "contacts",
            Kind::Lead => "leads",
            Kind::Task => "tasks",
            Kind::Activity => "activities",
        }
    }

    /// The singular name used in audit entries, trash listings and URLs' `entity=`.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Customer => "customer",
            Kind::Contact => "contact",
            Kind::Lead => "lead",
            Kind::Task => "task",
            Kind::Activity => "activity",
        }
    }

    pub fn parse(s: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.name() == s)
    }

    pub fn record(self) -> Record {
        match self {
            Kind::Customer => Record::Customer,
            Kind::Contact => Record::Contact,
            Kind::Lead => Record::Lead,
            Kind::Task => Record::Task,
            Kind::Activity => Record::Activity,
        }
    }

    /// The SQL that decides who owns a row, in terms of its own columns (see the contract's
    /// "Own" definition).
    fn owner_sql(self) -> &'static str {
        match self {
            Kind::Customer | Kind::Contact => "coalesce(owner_id, created_by)",
            Kind::Lead => "coalesce(assigned_to, created_by)",
            Kind::Task => "assigned_to, created_by",
            Kind::Activity => "created_by",
        }
    }
}

/// The bookkeeping every record carries.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Meta {
    pub id: String,
    pub created_at: String,
    pub updated_at: String,
    pub created_by: Option<String>,
    pub version: i64,
    /// Set while the record is in the trash.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deleted_at: Option<String>,
}

/// Selects the columns [`Meta::from_row`] reads, in order.
pub const META_COLUMNS: &str = "id, created_at, updated_at, created_by, version, deleted_at";

impl Meta {
    /// Reads the six meta columns starting at `at`.
    pub fn from_row(r: &Row<'_>, at: usize) -> rusqlite::Result<Meta> {
        Ok(Meta {
            id: r.get(at)?,
            created_at: r.get(at + 1)?,
            updated_at: r.get(at + 2)?,
            created_by: r.get(at + 3)?,
            version: r.get(at + 4)?,
            deleted_at: r.get(at + 5)?,
        })
    }

    /// Writes the six meta columns starting at `at` as [`Meta`] serialises.
    pub fn write_json(r: &Row<'_>, at: usize, out: &mut JsonObject<'_>) -> AppResult<()> {
        out.text("id", r.get_ref(at)?)?;
        out.text("created_at", r.get_ref(at + 1)?)?;
        out.text("updated_at", r.get_ref(at + 2)?)?;
        out.text("created_by", r.get_ref(at + 3)?)?;
        out.int("version", r.get_ref(at + 4)?)?;
        out.text_if_set("deleted_at", r.get_ref(at + 5)?)
    }
}

/// Where a new record comes from: when it was created and last changed, and who created
/// it. The API makes records now, by the actor ([`Origin::now`]); an import keeps the history
/// its file carries, so the record is written once, as it was. Either way its audit entry
/// has the real time and actor.
#[derive(Debug, Clone)]
pub struct Origin {
    /// `None`: at the time of the write.
    pub created_at: Option<String>,
    /// `None`: at the time of the write.
    pub updated_at: Option<String>,
    pub created_by: String,
}

impl Origin {
    /// Made now, by `actor`.
    pub fn now(actor: &Actor) -> Origin {
        Origin {
            created_at: None,
            updated_at: None,
            created_by: actor.user_id.clone(),
        }
    }

    /// The bookkeeping of a new record written at `now`: a fresh id, the first version.
    pub fn meta(&self, now: &str) -> Meta {
        Meta {
            id: crate::domain::new_id(),
            created_at: self.created_at.clone().unwrap_or_else(|| now.to_owned()),
            updated_at: self.updated_at.clone().unwrap_or_else(|| now.to_owned()),
            created_by: Some(self.created_by.clone()),
            version: 1,
            deleted_at: None,
        }
    }
}

/// 412 when the client's `If-Match` names another version.
pub fn check_version(expected: Option<i64>, actual: i64) -> AppResult<()> {
    match expected {
        Some(v) if v != actual => Err(AppError::PreconditionFailed),
        _ => Ok(()),
    }
}

/// For PATCH bodies: distinguishes a field that is absent (`None`) from one set to null
/// (`Some(None)`). Use with `#[serde(default, deserialize_with = "records::nullable")]`.
pub fn nullable<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

/// 403 unless the actor may do `action` to a record of `kind` with `ownership`.
pub fn require(
    actor: &Actor,
    action: RecordAction,
    kind: Kind,
    ownership: Ownership,
) -> AppResult<()> {
    if actor.may(action, kind.record(), ownership) {
        Ok(())
    } else {
        Err(AppError::Forbidden(match (action, ownership) {
            (RecordAction::Create, _) => format!("Your role may not create {}s.", kind.name()),
            (_, Ownership::Others) => format!("You may only change {}s you own.", kind.name()),
            _ => format!("Your role may not change {}s.", kind.name()),
        }))
    }
}

/// Whether a live (not trashed) row of `kind` with this id exists.
pub fn is_live(conn: &Connection, kind: Kind, id: &str) -> AppResult<bool> {
    let sql = format!(
        "SELECT 1 FROM {} WHERE id = ?1 AND deleted_at IS NULL",
        kind.table()
    );
    Ok(conn
        .prepare_cached(&sql)?
        .query_row([id], |_| Ok(()))
        .optional()?
        .is_some())
}

/// A referenced record must exist and be visible, else the field is invalid.
pub fn check_reference(
    conn: &Connection,
    field: &str,
    kind: Kind,
    id: Option<&str>,
) -> AppResult<Option<FieldError>> {
    match id {
        Some(id) if !is_live(conn, kind, id)? => Ok(Some(FieldError::new(
            field,
            format!("is not an existing {}", kind.name()),
        ))),
        _ => Ok(None),
    }
}

/// An owner or assignee must be an active user.
pub fn check_user(
    conn: &Connection,
    field: &str,
    id: Option<&str>,
) -> AppResult<Option<FieldError>> {
    let Some(id) = id else { return Ok(None) };
    let active: Option<bool> = conn
        .prepare_cached("SELECT active FROM users WHERE id = ?1")?
        .query_row([id], |r| r.get(0))
        .optional()?;
    Ok(match active {
        Some(true) => None,
        Some(false) => Some(FieldError::new(field, "is a deactivated user")),
        None => Some(FieldError::new(field, "is not an existing user")),
    })
}

/// Giving a record to anyone but yourself (or taking it from its owner) is reassignment:
/// managers and admins only.
pub fn check_assignment(
    actor: &Actor,
    previous: Option<&str>,
    next: Option<&str>,
) -> AppResult<()> {
    if next != previous && next != Some(actor.user_id.as_str()) {
        actor.require(Capability::Reassign)?;
    }
    Ok(())
}

/// The tags of one record, sorted.
pub fn tags(conn: &Connection, kind: Kind, id: &str) -> AppResult<Vec<String>> {
    let (table, column) = tag_table(kind);
    let sql = format!("SELECT tag FROM {table} WHERE {column} = ?1 ORDER BY tag COLLATE NOCASE");
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map([id], |r| r.get(0))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Fills in the tags of a whole page of records with one query (not one per row).
pub fn load_tags<T>(
    conn: &Connection,
    kind: Kind,
    rows: &mut [T],
    id_and_tags: impl Fn(&mut T) -> (&str, &mut Vec<String>),
) -> AppResult<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let (table, column) = tag_table(kind);
    let ids: Vec<String> = rows
        .iter_mut()
        .map(|r| id_and_tags(r).0.to_owned())
        .collect();
    let sql = format!(
        "SELECT {column}, tag FROM {table}
          WHERE {column} IN (SELECT value FROM json_each(?1)) ORDER BY tag COLLATE NOCASE"
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let pairs = stmt.query_map([serde_json::to_string(&ids).unwrap_or_default()], |r| {
        Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
    })?;
    let mut by_id: std::collections::HashMap<String, Vec<String>> =
        std::collections::HashMap::new();
    for pair in pairs {
        let (id, tag) = pair?;
        by_id.entry(id).or_default().push(tag);
    }
    for row in rows.iter_mut() {
        let (id, tags) = id_and_tags(row);
        *tags = by_id.remove(id).unwrap_or_default();
    }
    Ok(())
}

/// Replaces the tags of one record.
pub fn set_tags(conn: &Connection, kind: Kind, id: &str, tags: &[String]) -> AppResult<()> {
    let (table, column) = tag_table(kind);
    conn.prepare_cached(&format!("DELETE FROM {table} WHERE {column} = ?1"))?
        .execute([id])?;
    add_tags(conn, kind, id, tags)
}

/// Gives a record tags besides those it has (a new record: none).
pub fn add_tags(conn: &Connection, kind: Kind, id: &str, tags: &[String]) -> AppResult<()> {
    let (table, column) = tag_table(kind);
    let mut insert = conn.prepare_cached(&format!(
        "INSERT OR IGNORE INTO {table} ({column}, tag) VALUES (?1, ?2)"
    ))?;
    for tag in tags {
        insert.execute(params![id, tag])?;
    }
    Ok(())
}

fn tag_table(kind: Kind) -> (&'static str, &'static str) {
    match kind {
        Kind::Contact => ("contact_tags", "contact_id"),
        _ => ("customer_tags", "customer_id"),
    }
}

/// Tags from input: trimmed, 1–50 characters, at most 20, duplicates (ignoring case) dropped.
pub fn parse_tags(raw: &[String]) -> Result<Vec<String>, FieldError> {
    let mut out: Vec<String> = Vec::new();
    for tag in raw {
        let t = tag.trim();
        if t.is_empty() || t.chars().count() > 50 || t.chars().any(char::is_control) {
            return Err(FieldError::new(
                "tags",
                "each tag must be 1 to 50 characters",
            ));
        }
        if !out.iter().any(|o| o.eq_ignore_ascii_case(t)) {
            out.push(t.to_owned());
        }
    }
    if out.len() > 20 {
        return Err(FieldError::new("tags", "at most 20 tags"));
    }
    out.sort_by_key(|t| t.to_lowercase());
    Ok(out)
}

/// Who owns a row, by the contract's rules, for a permission check.
pub fn ownership(conn: &Connection, kind: Kind, id: &str, actor: &Actor) -> AppResult<Ownership> {
    let sql = format!(
        "SELECT {} FROM {} WHERE id = ?1",
        kind.owner_sql(),
        kind.table()
    );
    let owners: Vec<Option<String>> = conn.prepare_cached(&sql)?.query_row([id], |r| {
        (0..r.as_ref().column_count()).map(|i| r.get(i)).collect()
    })?;
    let own = owners.iter().flatten().any(|o| *o == actor.user_id);
    Ok(if own {
        Ownership::Own
    } else {
        Ownership::Others
    })
}

/// Moves a live record to the trash (or, with `at`, as part of a batch deleted together).
pub fn trash(conn: &Connection, kind: Kind, id: &str, actor: &Actor, at: &str) -> AppResult<()> {
    let sql = format!(
        "UPDATE {} SET deleted_at = ?2, updated_at = ?2, version = version + 1
          WHERE id = ?1 AND deleted_at IS NULL",
        kind.table()
    );
    if conn.prepare_cached(&sql)?.execute(params![id, at])? == 0 {
        return Err(AppError::NotFound);
    }
    attachments::trash_with_record(conn, kind, id, &actor.user_id, at)?;
    audit::record(
        conn,
        Entry::new(
            Some(&actor.user_id),
            &format!("{}.delete", kind.name()),
            kind.name(),
        )
        .entity(id),
    )
}

/// `DELETE`: the checks every kind shares (permission by ownership, `If-Match`), then the
/// trash. `current_version` is the version of the live record the caller loaded.
pub fn delete_checked(
    conn: &Connection,
    actor: &Actor,
    kind: Kind,
    id: &str,
    current_version: i64,
    expected_version: Option<i64>,
) -> AppResult<()> {
    require(
        actor,
        RecordAction::Delete,
        kind,
        ownership(conn, kind, id, actor)?,
    )?;
    check_version(expected_version, current_version)?;
    trash(conn, kind, id, actor, &Timestamp::now().to_stored())
}

/// `POST …/restore`: whoever may delete a record may bring it back. Returns its
/// `deleted_at`, like [`untrash`].
pub fn restore_checked(
    conn: &Connection,
    actor: &Actor,
    kind: Kind,
    id: &str,
) -> AppResult<String> {
    require(
        actor,
        RecordAction::Delete,
        kind,
        ownership(conn, kind, id, actor)?,
    )?;
    untrash(conn, kind, id, actor)
}

/// Brings a trashed record back. Returns the `deleted_at` it had, so callers can restore
/// what was trashed with it.
pub fn untrash(conn: &Connection, kind: Kind, id: &str, actor: &Actor) -> AppResult<String> {
    let table = kind.table();
    let deleted_at: Option<Option<String>> = conn
        .prepare_cached(&format!("SELECT deleted_at FROM {table} WHERE id = ?1"))?
        .query_row([id], |r| r.get(0))
        .optional()?;
    let deleted_at = match deleted_at {
        None => return Err(AppError::NotFound),
        Some(None) => {
            return Err(AppError::Conflict(format!(
                "This {} is not in the trash.",
                kind.name()
            )));
        }
        Some(Some(deleted_at)) => deleted_at,
    };
    let now = Timestamp::now().to_stored();
    conn.prepare_cached(&format!(
        "UPDATE {table} SET deleted_at = NULL, updated_at = ?2, version = version + 1 WHERE id = ?1"
    ))?
    .execute(params![id, now])?;
    attachments::restore_with_record(conn, kind, id, &deleted_at)?;
    audit::record(
        conn,
        Entry::new(
            Some(&actor.user_id),
            &format!("{}.restore", kind.name()),
            kind.name(),
        )
        .entity(id),
    )?;
    Ok(deleted_at)
}

/// Deletes a trashed record for good (admins only). Live records must be trashed first.
pub fn purge(conn: &Connection, kind: Kind, id: &str, actor: &Actor) -> AppResult<()> {
    actor.require(Capability::PurgeTrash)?;
    let table = kind.table();
    let in_trash: Option<bool> = conn
        .prepare_cached(&format!(
            "SELECT deleted_at IS NOT NULL FROM {table} WHERE id = ?1"
        ))?
        .query_row([id], |r| r.get(0))
        .optional()?;
    match in_trash {
        None => return Err(AppError::NotFound),
        Some(false) => {
            return Err(AppError::Conflict(format!(
                "Only records in the trash can be purged; delete the {} first.",
                kind.name()
            )));
        }
        Some(true) => {}
    }
    erase(conn, kind, id, Some(&actor.user_id), "purge")
}

/// Deletes a record for good, audited as `<kind>.<action>`: after the checks of [`purge`],
/// or when undoing an import that created it.
pub fn erase(
    conn: &Connection,
    kind: Kind,
    id: &str,
    actor_id: Option<&str>,
    action: &str,
) -> AppResult<()> {
    detach_references(conn, kind, id)?;
    attachments::erase_with_record(conn, kind, id)?;
    conn.prepare_cached(&format!("DELETE FROM {} WHERE id = ?1", kind.table()))?
        .execute([id])?;
    audit::record(
        conn,
        Entry::new(actor_id, &format!("{}.{action}", kind.name()), kind.name()).entity(id),
    )
}

/// Before a row is purged, whatever still points at it lets go, so purging never breaks a
/// foreign key and never takes other records with it. Activities about it go too: they are
/// part of its history; and so do its attachments, bytes and all ([`erase`]).
fn detach_references(conn: &Connection, kind: Kind, id: &str) -> AppResult<()> {
    let statements: &[&str] = match kind {
        Kind::Customer => &[
            "UPDATE contacts SET customer_id = NULL WHERE customer_id = ?1",
            "UPDATE leads SET customer_id = NULL WHERE customer_id = ?1",
            "UPDATE tasks SET customer_id = NULL WHERE customer_id = ?1",
            "DELETE FROM activities WHERE subject_type = 'customer' AND subject_id = ?1",
        ],
        Kind::Contact => &[
            "UPDATE leads SET contact_id = NULL WHERE contact_id = ?1",
            "UPDATE tasks SET contact_id = NULL WHERE contact_id = ?1",
            "DELETE FROM activities WHERE subject_type = 'contact' AND subject_id = ?1",
        ],
        Kind::Lead => &[
            "UPDATE tasks SET lead_id = NULL WHERE lead_id = ?1",
            "DELETE FROM activities WHERE subject_type = 'lead' AND subject_id = ?1",
        ],
        Kind::Task | Kind::Activity => &[],
    };
    for sql in statements {
        conn.prepare_cached(sql)?.execute([id])?;
    }
    Ok(())
}

/// Builds the `WHERE` of a list from its filters. Every value is a bound parameter; column
/// names come from the caller's code, never from the request.
pub struct Query<'p> {
    params: &'p ListParams,
    clauses: Vec<String>,
    args: Vec<rusqlite::types::Value>,
    violations: Violations,
}

impl<'p> Query<'p> {
    /// Starts with the keyset condition of the cursor, if any (parameters 1 and 2), and
    /// the selection's ids, if any.
    pub fn new(params: &'p ListParams) -> Self {
        let mut q = Query {
            params,
            clauses: Vec::new(),
            args: Vec::new(),
            violations: Violations::new(),
        };
        if let Some(after) = &params.after {
            q.args.push(after.value.clone().into());
            q.args.push(after.id.clone().into());
            q.clauses.extend(params.keyset_condition(1, 2));
        }
        if let Some(ids) = &params.ids {
            // One parameter however many ids: a JSON array read by `json_each`.
            let array = serde_json::Value::from(ids.clone()).to_string();
            q.clause("id IN (SELECT value FROM json_each(?))", array);
        }
        q
    }

    /// Adds `sql`, whose `?` (one or more, all the same value) is bound to `value`.
    pub fn clause(&mut self, sql: &str, value: impl Into<rusqlite::types::Value>) -> &mut Self {
        self.args.push(value.into());
        self.clauses
            .push(sql.replace('?', &format!("?{}", self.args.len())));
        self
    }

    /// `column = value` when the filter is present.
    pub fn eq(&mut self, filter: &str, column: &str) -> &mut Self {
        if let Some(v) = self.params.filter(filter) {
            self.clause(&format!("{column} = ?"), v.to_owned());
        }
        self
    }

    /// `column = value` when the filter is present and one of `allowed`.
    pub fn one_of(&mut self, filter: &str, column: &str, allowed: &[&str]) -> &mut Self {
        if let Some(v) = self.params.filter(filter) {
            if allowed.contains(&v) {
                self.clause(&format!("{column} = ?"), v.to_owned());
            } else {
                self.violations
                    .add(filter, format!("must be one of: {}", allowed.join(", ")));
            }
        }
        self
    }

    /// A half-open range `[from, to)` on a stored time column. Dates (`2026-01-31`) mean the
    /// start of that day, UTC.
    pub fn time_range(&mut self, from: &str, to: &str, column: &str) -> &mut Self {
        for (filter, op) in [(from, ">="), (to, "<")] {
            if let Some(raw) = self.params.filter(filter) {
                match parse_bound(raw) {
                    Some(t) => {
                        self.clause(&format!("{column} {op} ?"), t);
                    }
                    None => self
                        .violations
                        .add(filter, "must be a date (2026-01-31) or an RFC 3339 time"),
                }
            }
        }
        self
    }

    /// Free text `q` as a case-insensitive substring of any of `columns`, for the records the
    /// search index does not cover (tasks, activities).
    pub fn like(&mut self, columns: &[&str]) -> &mut Self {
        if let Some(q) = &self.params.q {
            let pattern = format!("%{}%", crate::domain::users::escape_like(q));
            let any = columns
                .iter()
                .map(|c| format!("{c} LIKE ? ESCAPE '\\'"))
                .collect::<Vec<_>>()
                .join(" OR ");
            self.clause(&format!("({any})"), pattern);
        }
        self
    }

    /// Free text `q` through the search index (see [`search::list_condition`]): records of
    /// `kind` whose words start with the query's words or that contain it. A `q` with
    /// nothing searchable in it matches nothing.
    pub fn text(&mut self, kind: Kind) -> &mut Self {
        let Some(q) = &self.params.q else {
            return self;
        };
        match search::list_condition(kind, q, self.params.many_matches) {
            Some((sql, values)) => {
                let mut numbered = String::with_capacity(sql.len() + 8);
                for (i, part) in sql.split('?').enumerate() {
                    if i > 0 {
                        numbered.push_str(&format!("?{}", self.args.len() + 1));
                        self.args.push(values[i - 1].clone().into());
                    }
                    numbered.push_str(part);
                }
                self.clauses.push(numbered);
            }
            None => self.clauses.push("0".into()),
        }
        self
    }

    /// The accumulated conditions as ` AND …` (empty when none) and their parameters; 422 if
    /// a filter value was invalid.
    pub fn finish(self) -> AppResult<(String, Vec<rusqlite::types::Value>)> {
        self.violations.into_result()?;
        let sql = self.clauses.iter().map(|c| format!(" AND {c}")).collect();
        Ok((sql, self.args))
    }
}

/// A filter bound: a date (start of that day, UTC) or an RFC 3339 time, as stored.
pub fn parse_bound(raw: &str) -> Option<String> {
    if let Ok(Some(date)) = crate::domain::values::date("", Some(raw)) {
        return Some(format!("{date}T00:00:00.000Z"));
    }
    Timestamp::parse(raw).map(|t| t.to_stored())
}

/// One row of the trash listing.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TrashItem {
    pub entity: &'static str,
    pub id: String,
    /// The record's name or title.
    pub title: String,
    pub deleted_at: String,
}

fn title_sql(kind: Kind) -> &'static str {
    match kind {
        Kind::Customer => "name",
        Kind::Contact => "trim(first_name || ' ' || coalesce(last_name, ''))",
        Kind::Lead | Kind::Task => "title",
        Kind::Activity => "kind || ': ' || substr(body, 1, 80)",
    }
}

/// The trash of one kind, most recently deleted first, limited to what the caller could
/// restore: everything for admins and managers, their own records for others.
pub fn list_trash(
    conn: &Connection,
    kind: Kind,
    actor: &Actor,
    limit: u32,
    before: Option<(&str, &str)>,
) -> AppResult<Vec<TrashItem>> {
    let everything = actor.may(RecordAction::Delete, kind.record(), Ownership::Others);
    if !everything && !actor.may(RecordAction::Delete, kind.record(), Ownership::Own) {
        return Ok(Vec::new());
    }
    let mut clauses = vec!["deleted_at IS NOT NULL".to_owned()];
    let mut args: Vec<&str> = Vec::new();
    if !everything {
        args.push(&actor.user_id);
        clauses.push(match kind {
            Kind::Task => "(assigned_to = ?1 OR created_by = ?1)".to_owned(),
            _ => format!("{} = ?1", kind.owner_sql()),
        });
    }
    if let Some((at, id)) = before {
        args.extend([at, id]);
        let (a, i) = (args.len() - 1, args.len());
        clauses.push(format!(
            "(deleted_at < ?{a} OR (deleted_at = ?{a} AND id < ?{i}))"
        ));
    }
    let sql = format!(
        "SELECT id, {title}, deleted_at FROM {table} WHERE {filter}
          ORDER BY deleted_at DESC, id DESC LIMIT {limit}",
        title = title_sql(kind),
        table = kind.table(),
        filter = clauses.join(" AND "),
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(rusqlite::params_from_iter(args), |r| {
        Ok(TrashItem {
            entity: kind.name(),
            id: r.get(0)?,
            title: r.get(1)?,
            deleted_at: r.get(2)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_are_trimmed_deduplicated_and_bounded() {
        let t = parse_tags(&[" VIP ".into(), "vip".into(), "renewal".into()]).unwrap();
        assert_eq!(t, ["renewal", "VIP"]);
        assert!(parse_tags(&["".into()]).is_err());
        assert!(parse_tags(&["x".repeat(51)]).is_err());
        let many: Vec<String> = (0..21).map(|i| format!("t{i}")).collect();
        assert!(parse_tags(&many).is_err());
    }

    #[test]
    fn versions() {
        assert!(check_version(None, 3).is_ok());
        assert!(check_version(Some(3), 3).is_ok());
        assert!(matches!(
            check_version(Some(2), 3),
            Err(AppError::PreconditionFailed)
        ));
    }

    #[test]
    fn nullable_tells_absent_from_null() {
        #[derive(Deserialize)]
        struct P {
            #[serde(default, deserialize_with = "nullable")]
            phone: Option<Option<String>>,
        }
        let absent: P = serde_json::from_str("{}").unwrap();
        let null: P = serde_json::from_str(r#"{"phone":null}"#).unwrap();
        let set: P = serde_json::from_str(r#"{"phone":"1"}"#).unwrap();
        assert_eq!(absent.phone, None);
        assert_eq!(null.phone, Some(None));
        assert_eq!(set.phone, Some(Some("1".into())));
    }
}
