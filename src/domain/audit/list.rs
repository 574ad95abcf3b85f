//! Reading the audit log: the filtered, newest-first list the API and the admin page page
//! through, and the values its filters can take.

use rusqlite::{Connection, Row};
use serde::Serialize;
use serde_json::Value;

use crate::domain::list::{Filter, ListParams, ListSpec, Page, Takes};
use crate::error::AppResult;

/// An entry as the audit API shows it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AuditEntry {
    pub id: i64,
    pub at: String,
    pub actor_id: Option<String>,
    pub action: String,
    pub entity_type: String,
    pub entity_id: Option<String>,
    pub before: Option<Value>,
    pub after: Option<Value>,
}

fn entry_from_row(r: &Row<'_>) -> rusqlite::Result<AuditEntry> {
    let json = |s: Option<String>| s.and_then(|s| serde_json::from_str(&s).ok());
    Ok(AuditEntry {
        id: r.get(0)?,
        at: r.get(1)?,
        actor_id: r.get(2)?,
        action: r.get(3)?,
        entity_type: r.get(4)?,
        entity_id: r.get(5)?,
        before: json(r.get(6)?),
        after: json(r.get(7)?),
    })
}

pub const LIST: ListSpec = ListSpec {
    filters: &[
        Filter::new(
            "entity_type",
            "customer, contact, lead, task, activity, user, api_token, stage",
            Takes::Text,
        ),
        Filter::new(
            "entity_id",
            "one record's history (with entity_type)",
            Takes::Id,
        ),
        Filter::new("actor_id", "what one user did", Takes::Id),
        Filter::new("action", "e.g. lead.stage, customer.delete", Takes::Text),
        Filter::new("from", "entries at or after this", Takes::DayOrTime),
        Filter::new("to", "entries before this", Takes::DayOrTime),
    ],
    sorts: &[("id", "id")],
    default_sort: "id",
    default_desc: true,
};

/// The audit log, newest first, filtered. The cursor is the entry id, which increases with
/// time.
pub fn list(conn: &Connection, params: &ListParams) -> AppResult<Page<AuditEntry>> {
    let (sql, args) = list_query(params)?;
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt
        .query_map(rusqlite::params_from_iter(args), entry_from_row)?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(params.page(rows, |e| (e.id.to_string(), e.id.to_string())))
}

/// The SQL and parameters of one page of the audit log.
pub fn list_query(params: &ListParams) -> AppResult<(String, Vec<rusqlite::types::Value>)> {
    // The cursor of this list is the entry id alone.
    let after = match &params.after {
        Some(c) => Some(c.id.parse::<i64>().map_err(|_| {
            crate::error::AppError::invalid("cursor", "is not a cursor from this list")
        })?),
        None => None,
    };
    let mut unpaged = params.clone();
    unpaged.after = None;
    let mut q = crate::domain::records::Query::new(&unpaged);
    q.eq("entity_type", "entity_type")
        .eq("entity_id", "entity_id")
        .eq("actor_id", "actor_id")
        .eq("action", "action");
    // Entries are appended in time order, so a time range is an id range: found through the
    // `at` index, then walked by id like every other page.
    for (filter, op) in [("from", ">="), ("to", "<")] {
        if let Some(raw) = params.filter(filter) {
            let bound = crate::domain::records::parse_bound(raw).ok_or_else(|| {
                crate::error::AppError::invalid(
                    filter,
                    "must be a date (2026-01-31) or an RFC 3339 time",
                )
            })?;
            q.clause(
                &format!(
                    "id {op} coalesce((SELECT id FROM audit_log WHERE at >= ? ORDER BY at, id LIMIT 1), 9223372036854775807)"
                ),
                bound,
            );
        }
    }
    if let Some(id) = after {
        q.clause(if params.desc { "id < ?" } else { "id > ?" }, id);
    }
    let (filter, args) = q.finish()?;
    let sql = format!(
        "SELECT id, at, actor_id, action, entity_type, entity_id, before, after
           FROM audit_log WHERE 1 = 1 {filter} ORDER BY id {dir} LIMIT {limit}",
        dir = if params.desc { "DESC" } else { "ASC" },
        limit = params.limit + 1
    );
    Ok((sql, args))
}

/// The columns whose values the audit filters offer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Facet {
    EntityType,
    Action,
}

impl Facet {
    fn column(self) -> &'static str {
        match self {
            Facet::EntityType => "entity_type",
            Facet::Action => "action",
        }
    }
}

/// At most this many distinct values are offered per filter.
const FACET_LIMIT: u32 = 500;

/// The distinct values of `facet` in the log, in order. A skip scan: each step seeks the
/// column's index past the previous value, so the cost grows with the number of distinct
/// values (a few dozen), not with the number of entries (millions).
pub fn facet_query(facet: Facet) -> String {
    format!(
        "WITH RECURSIVE v(x) AS (
             SELECT (SELECT min({c}) FROM audit_log)
             UNION ALL
             SELECT (SELECT min({c}) FROM audit_log WHERE {c} > v.x) FROM v WHERE v.x IS NOT NULL
         )
         SELECT x FROM v WHERE x IS NOT NULL LIMIT {FACET_LIMIT}",
        c = facet.column()
    )
}

fn facet(conn: &Connection, facet: Facet) -> AppResult<Vec<String>> {
    let mut stmt = conn.prepare_cached(&facet_query(facet))?;
    let rows = stmt.query_map([], |r| r.get(0))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The entity types the log mentions (`customer`, `user`, `stage`…).
pub fn entity_types(conn: &Connection) -> AppResult<Vec<String>> {
    facet(conn, Facet::EntityType)
}

/// The actions the log mentions (`lead.create`, `user.login`…).
pub fn actions(conn: &Connection) -> AppResult<Vec<String>> {
    facet(conn, Facet::Action)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::audit::{Entry, record};

    fn db() -> Connection {
        let mut conn = crate::db::connection::open_in_memory().unwrap();
        crate::db::migrations::migrate(&mut conn, "mem").unwrap();
        conn
    }

    #[test]
    fn facets_list_each_value_once_in_order() {
        let conn = db();
        assert!(actions(&conn).unwrap().is_empty());
        for (action, entity) in [
            ("lead.create", "lead"),
            ("customer.update", "customer"),
            ("lead.create", "lead"),
            ("user.login", "user"),
            ("lead.stage", "lead"),
        ] {
            record(&conn, Entry::new(None, action, entity)).unwrap();
        }
        assert_eq!(
            actions(&conn).unwrap(),
            ["customer.update", "lead.create", "lead.stage", "user.login"]
        );
        assert_eq!(entity_types(&conn).unwrap(), ["customer", "lead", "user"]);
    }

    #[test]
    fn a_page_of_filters_combined() {
        let conn = db();
        for i in 0..7 {
            let action = if i % 2 == 0 {
                "lead.update"
            } else {
                "lead.create"
            };
            record(&conn, Entry::new(None, action, "lead").entity("l1")).unwrap();
        }
        let raw = |pairs: &[(&str, &str)]| -> Vec<(String, String)> {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        let mut seen = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let mut q = raw(&[
                ("action", "lead.update"),
                ("entity_type", "lead"),
                ("limit", "2"),
            ]);
            if let Some(c) = &cursor {
                q.push(("cursor".into(), c.clone()));
            }
            let page = list(&conn, &ListParams::parse(&q, &LIST).unwrap()).unwrap();
            seen.extend(page.items.iter().map(|e| e.id));
            match page.next_cursor {
                Some(c) => cursor = Some(c),
                None => break,
            }
        }
        assert_eq!(seen, [7, 5, 3, 1], "newest first, each once");
    }
}
