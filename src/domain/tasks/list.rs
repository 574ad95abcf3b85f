//! The list of tasks: filters, sorts and keyset pages, each served by an index.

use rusqlite::Connection;

use super::{COLUMNS, Priority, Status, Task, from_row};
use crate::domain::choice::Choice;
use crate::domain::clock::Timestamp;
use crate::domain::list::{Filter, ListParams, ListSpec, Page, Takes};
use crate::domain::records::{self, META_COLUMNS};
use crate::error::{AppError, AppResult, Violations};

pub const LIST: ListSpec = ListSpec {
    filters: &[
        Filter::new("assigned_to", "tasks assigned to this user", Takes::Id),
        Filter::new("created_by", "tasks created by this user", Takes::Id),
        Filter::new(
            "status",
            "tasks with this status",
            Takes::OneOf(Status::names),
        ),
        Filter::new(
            "priority",
            "tasks of this priority",
            Takes::OneOf(Priority::names),
        ),
        Filter::new("lead_id", "tasks about this lead", Takes::Id),
        Filter::new("customer_id", "tasks about this customer", Takes::Id),
        Filter::new("contact_id", "tasks about this contact", Takes::Id),
        Filter::new("due_from", "due at or after this", Takes::DayOrTime),
        Filter::new("due_to", "due before this", Takes::DayOrTime),
        Filter::new("created_from", "created at or after this", Takes::DayOrTime),
        Filter::new("created_to", "created before this", Takes::DayOrTime),
        Filter::new(
            "overdue",
            "true: due before now and not completed; false: everything else",
            Takes::Flag,
        ),
    ],
    sorts: &[
        // Tasks without a due time sort after every dated one.
        ("due_at", "ifnull(due_at, '~')"),
        ("created_at", "created_at"),
        ("updated_at", "updated_at"),
    ],
    default_sort: "due_at",
    default_desc: false,
};

/// The `SELECT` of a list page and its parameters; every filter and sort is served by an
/// index of the `tasks` table (see the test below).
pub fn list_query(
    params: &ListParams,
    now: &str,
) -> AppResult<(String, Vec<rusqlite::types::Value>)> {
    let mut bad = Violations::new();
    let overdue = match params.filter("overdue") {
        None => None,
        Some("true") => Some(true),
        Some("false") => Some(false),
        Some(_) => {
            bad.add("overdue", "must be true or false");
            None
        }
    };
    let mut q = records::Query::new(params);
    q.eq("assigned_to", "assigned_to")
        .eq("created_by", "created_by")
        .one_of("status", "status", &Status::names())
        .one_of("priority", "priority", &Priority::names())
        .eq("lead_id", "lead_id")
        .eq("customer_id", "customer_id")
        .eq("contact_id", "contact_id")
        // On the indexed expression; `< '~'` leaves out tasks without a due time.
        .time_range("due_from", "due_to", "ifnull(due_at, '~')")
        .time_range("created_from", "created_to", "created_at")
        .like(&["title", "description"]);
    if params.filter("due_from").is_some() {
        q.clause("ifnull(due_at, '~') < ?", "~".to_owned());
    }
    match overdue {
        Some(true) => {
            q.clause(
                "status <> 'completed' AND ifnull(due_at, '~') < ?",
                now.to_owned(),
            );
        }
        Some(false) => {
            q.clause(
                "(status = 'completed' OR ifnull(due_at, '~') >= ?)",
                now.to_owned(),
            );
        }
        None => {}
    }
    let (filter, args) = match (q.finish(), bad.into_result()) {
        (Ok(done), Ok(())) => done,
        (Err(a), Err(b)) => {
            let mut all = a.field_errors().to_vec();
            all.extend_from_slice(b.field_errors());
            return Err(AppError::Validation(all));
        }
        (Err(e), _) | (_, Err(e)) => return Err(e),
    };
    let sql = format!(
        "SELECT {META_COLUMNS}, {COLUMNS} FROM tasks
          WHERE deleted_at IS NULL {filter}
          ORDER BY {order} LIMIT {limit}",
        order = params.order_by(),
        limit = params.limit + 1
    );
    Ok((sql, args))
}

pub fn list(conn: &Connection, params: &ListParams) -> AppResult<Page<Task>> {
    let (sql, args) = list_query(params, &Timestamp::now().to_stored())?;
    let rows = conn
        .prepare_cached(&sql)?
        .query_map(rusqlite::params_from_iter(args), from_row)?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(params.page(rows, |t| {
        let value = match params.sort {
            "created_at" => t.meta.created_at.clone(),
            "updated_at" => t.meta.updated_at.clone(),
            _ => t.due_at.clone().unwrap_or_else(|| "~".to_owned()),
        };
        (value, t.meta.id.clone())
    }))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    #[test]
    fn every_list_shape_uses_an_index() {
        let mut conn = crate::db::connection::open_in_memory().unwrap();
        crate::db::migrations::migrate(&mut conn, "mem").unwrap();
        let value = |filter: &str| match filter {
            "status" => "pending",
            "priority" => "high",
            "overdue" => "true",
            f if f.ends_with("_from") || f.ends_with("_to") => "2026-01-01",
            _ => "some-id",
        };
        let mut shapes: Vec<Vec<(String, String)>> = vec![vec![], vec![("q".into(), "x".into())]];
        for filter in LIST.filters.iter().map(|f| f.name) {
            shapes.push(vec![(filter.to_string(), value(filter).to_owned())]);
        }
        shapes.push(vec![("overdue".into(), "false".into())]);
        for shape in shapes {
            for (sort, _) in LIST.sorts {
                for order in ["asc", "desc"] {
                    let mut raw = shape.clone();
                    raw.push(("sort".into(), sort.to_string()));
                    raw.push(("order".into(), order.into()));
                    let first = ListParams::parse(&raw, &LIST).unwrap();
                    let cursor = ListParams {
                        limit: 1,
                        ..first.clone()
                    }
                    .page(vec![1, 2], |_| ("2026-01-01".into(), "id".into()))
                    .next_cursor
                    .unwrap();
                    let mut paged = raw.clone();
                    paged.push(("cursor".into(), cursor));
                    let next = ListParams::parse(&paged, &LIST).unwrap();
                    for params in [first, next] {
                        let (sql, args) = list_query(&params, "2026-06-01T00:00:00.000Z").unwrap();
                        let plan = query_plan(&conn, &sql, args);
                        assert!(served_by_index(&plan, "tasks"), "{raw:?}: {plan:?}");
                    }
                }
            }
        }
    }

    /// Whether a list reads `table` through an index that either narrows the rows (a
    /// SEARCH) or already yields them in order (a SCAN of an index with no sort after it).
    /// A scan followed by a sort reads the whole table for every page: refused.
    pub(crate) fn served_by_index(plan: &[String], table: &str) -> bool {
        let sorts = plan
            .iter()
            .any(|l| l.starts_with("USE TEMP B-TREE FOR ORDER BY"));
        plan.iter()
            .filter(|l| l.contains(&format!(" {table} ")))
            .all(|l| {
                l.contains("INDEX")
                    && (l.starts_with("SEARCH") || (l.starts_with("SCAN") && !sorts))
            })
    }

    pub(crate) fn query_plan(
        conn: &Connection,
        sql: &str,
        args: Vec<rusqlite::types::Value>,
    ) -> Vec<String> {
        let mut stmt = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
        stmt.query_map(rusqlite::params_from_iter(args), |r| r.get::<_, String>(3))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    }

    #[test]
    fn bad_filter_values_are_reported_together() {
        let raw = vec![
            ("overdue".to_owned(), "maybe".to_owned()),
            ("status".to_owned(), "done".to_owned()),
        ];
        let params = ListParams::parse(&raw, &LIST).unwrap();
        let err = list_query(&params, "2026-01-01T00:00:00.000Z").unwrap_err();
        let fields: Vec<_> = err
            .field_errors()
            .iter()
            .map(|e| e.field.as_str())
            .collect();
        assert_eq!(fields, ["status", "overdue"]);
    }
}
