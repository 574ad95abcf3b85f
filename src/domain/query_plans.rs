//! Every list shape (each filter, each sort, both directions, with and without a cursor) must
//! be answered through an index, never by scanning a whole table. The planner is asked
//! without statistics, as on a fresh install, where it assumes tables are large.

use rusqlite::Connection;

use crate::domain::list::{Filter, ListParams, ListSpec, Takes};
use crate::error::AppResult;

type QueryFn = fn(&ListParams) -> AppResult<(String, Vec<rusqlite::types::Value>)>;

/// The tables that grow large; a bare `SCAN` of one of them fails the test.
const LARGE: &[&str] = &[
    "customers",
    "contacts",
    "leads",
    "tasks",
    "activities",
    "audit_log",
];

/// A value of the kind the filter's docs promise (`Takes`), so the query binds and plans
/// like a real one, and a list that refused what its docs promise fails the test.
fn sample(filter: &Filter) -> String {
    match filter.takes {
        Takes::Text => match filter.name {
            "stage" => "new",
            "currency" => "USD",
            _ => "web",
        }
        .to_owned(),
        Takes::Id => "0190a000-0000-7000-8000-000000000000".to_owned(),
        Takes::DayOrTime | Takes::Day => "2026-01-01".to_owned(),
        Takes::Flag => "true".to_owned(),
        Takes::Cents => "1000".to_owned(),
        Takes::OneOf(names) => names().first().copied().unwrap_or_default().to_owned(),
    }
}

fn shapes(spec: &ListSpec) -> Vec<Vec<(String, String)>> {
    let mut out = Vec::new();
    let filters: Vec<Option<&Filter>> = std::iter::once(None)
        .chain(spec.filters.iter().map(Some))
        .collect();
    for filter in &filters {
        for (sort, _) in spec.sorts {
            for order in ["asc", "desc"] {
                let mut raw = vec![
                    ("sort".to_owned(), (*sort).to_owned()),
                    ("order".to_owned(), order.to_owned()),
                ];
                if let Some(f) = filter {
                    raw.push((f.name.to_owned(), sample(f)));
                }
                out.push(raw);
            }
        }
    }
    out
}

/// Returns every plan line that scans a large table without an index.
pub fn full_scans(conn: &Connection, spec: &ListSpec, query: QueryFn) -> Vec<String> {
    let mut problems = Vec::new();
    for raw in shapes(spec) {
        let Ok(params) = ListParams::parse(&raw, spec) else {
            problems.push(format!("{raw:?} does not parse"));
            continue;
        };
        let (sql, args) = match query(&params) {
            Ok(q) => q,
            Err(e) => {
                problems.push(format!("{raw:?}: {e}"));
                continue;
            }
        };
        let details = plan(conn, &sql, args);
        // With no filter, walking the table in the sort order (a rowid table sorted by id)
        // stops after one page: only a scan that must also sort is a problem.
        let unfiltered = raw.len() == 2;
        let sorts_in_memory = details.iter().any(|l| l.contains("TEMP B-TREE"));
        if unfiltered && !sorts_in_memory {
            continue;
        }
        problems.extend(bare_scans(&details).map(|line| format!("{raw:?}: {line}")));
    }
    problems
}

/// The lines of `EXPLAIN QUERY PLAN` for `sql`.
pub fn plan(conn: &Connection, sql: &str, args: Vec<rusqlite::types::Value>) -> Vec<String> {
    let mut stmt = conn
        .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
        .expect("the SQL prepares");
    stmt.query_map(rusqlite::params_from_iter(args), |r| r.get::<_, String>(3))
        .expect("plan runs")
        .map(Result::unwrap)
        .collect()
}

/// The plan lines that walk a whole large table.
pub fn bare_scans(details: &[String]) -> impl Iterator<Item = &String> {
    details.iter().filter(|line| {
        line.strip_prefix("SCAN ").is_some_and(|rest| {
            LARGE.contains(&rest.split_whitespace().next().unwrap_or("")) && !rest.contains("USING")
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{activities, audit, contacts, customers, leads, tasks};

    fn db() -> Connection {
        let mut conn = crate::db::connection::open_in_memory().unwrap();
        crate::db::migrations::migrate(&mut conn, "mem").unwrap();
        conn
    }

    fn assert_indexed(spec: &ListSpec, query: QueryFn) {
        let problems = full_scans(&db(), spec, query);
        assert!(
            problems.is_empty(),
            "full table scans:\n{}",
            problems.join("\n")
        );
    }

    #[test]
    fn customer_lists_use_indexes() {
        assert_indexed(&customers::LIST, customers::list_query);
    }

    #[test]
    fn contact_lists_use_indexes() {
        assert_indexed(&contacts::LIST, contacts::list_query);
    }

    /// The board's columns and a stage's leads by value read an index in order: sorting a
    /// whole stage in memory took hundreds of milliseconds at 500k leads.
    #[test]
    fn a_stage_s_leads_by_entry_or_value_need_no_sort() {
        let conn = db();
        for sort in ["stage_changed_at", "value_cents"] {
            for order in ["asc", "desc"] {
                let raw = [("stage", "won"), ("sort", sort), ("order", order)]
                    .map(|(k, v)| (k.to_owned(), v.to_owned()));
                let params = ListParams::parse(&raw, &leads::list::LIST).unwrap();
                let (sql, args) = leads::list::list_query(&params).unwrap();
                let details = plan(&conn, &sql, args);
                assert!(
                    !details.iter().any(|l| l.contains("TEMP B-TREE")),
                    "{sort} {order}: {details:?}"
                );
            }
        }
    }

    #[test]
    fn lead_lists_use_indexes() {
        assert_indexed(&leads::list::LIST, leads::list::list_query);
    }

    #[test]
    fn task_lists_use_indexes() {
        assert_indexed(&tasks::list::LIST, |p| {
            tasks::list::list_query(p, "2026-01-01T00:00:00.000Z")
        });
    }

    #[test]
    fn activity_lists_use_indexes() {
        assert_indexed(&activities::LIST, activities::list_query);
    }

    #[test]
    fn audit_lists_use_indexes() {
        assert_indexed(&audit::LIST, audit::list_query);
    }

    /// The admin page combines the audit filters (who, what, when, which record): every
    /// combination, on a first and a later page, is answered through an index.
    #[test]
    fn audit_filters_combined_use_indexes() {
        let conn = db();
        let filters = audit::LIST.filters;
        let mut problems = Vec::new();
        for mask in 1..(1u32 << filters.len()) {
            let raw: Vec<(String, String)> = filters
                .iter()
                .enumerate()
                .filter(|(i, _)| mask & (1 << i) != 0)
                .map(|(_, f)| (f.name.to_owned(), sample(f)))
                .collect();
            for paged in [false, true] {
                let mut params = ListParams::parse(&raw, &audit::LIST).unwrap();
                if paged {
                    params.after = Some(crate::domain::list::Cursor {
                        value: "500".into(),
                        id: "500".into(),
                    });
                }
                let (sql, args) = audit::list_query(&params).unwrap();
                let details = plan(&conn, &sql, args);
                problems
                    .extend(bare_scans(&details).map(|l| format!("{raw:?} paged={paged}: {l}")));
            }
        }
        assert!(problems.is_empty(), "full scans:\n{}", problems.join("\n"));
    }

    /// The values offered in the audit filters are read by seeking an index, never by
    /// reading the log.
    #[test]
    fn audit_facets_seek_their_indexes() {
        let conn = db();
        for (facet, index) in [
            (audit::Facet::Action, "audit_action"),
            (audit::Facet::EntityType, "audit_entity_type"),
        ] {
            let details = plan(&conn, &audit::facet_query(facet), Vec::new());
            assert_eq!(bare_scans(&details).count(), 0, "{facet:?}: {details:?}");
            assert!(
                details
                    .iter()
                    .filter(|l| l.contains("audit_log"))
                    .all(|l| l.contains(&format!("INDEX {index}"))),
                "{facet:?}: {details:?}"
            );
        }
    }

    /// Imports and conversions look records up by natural key once per row: each lookup
    /// must use its index even on a new database (no statistics), where ordering by
    /// `created_at` could tempt the planner into walking the whole table in that order.
    #[test]
    fn natural_key_lookups_use_their_indexes() {
        let conn = db();
        for (sql, index) in [
            (customers::BY_DOMAIN, "customers_domain"),
            (customers::BY_NAME, "customers_name"),
            (contacts::BY_EMAIL, "contacts_email"),
            (contacts::BY_PHONE_DIGITS, "contacts_phone_digits"),
        ] {
            let plan: Vec<String> = conn
                .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
                .unwrap()
                .query_map(["x"], |r| r.get::<_, String>(3))
                .unwrap()
                .map(Result::unwrap)
                .collect();
            assert!(
                plan.iter().any(|l| l.contains(&format!("INDEX {index} "))),
                "{sql}: {plan:?}"
            );
        }
    }

    #[test]
    fn a_scan_is_detected() {
        fn unindexed(_: &ListParams) -> AppResult<(String, Vec<rusqlite::types::Value>)> {
            Ok((
                "SELECT id FROM customers WHERE phone = '1'".into(),
                Vec::new(),
            ))
        }
        assert!(!full_scans(&db(), &customers::LIST, unindexed).is_empty());
    }
}
