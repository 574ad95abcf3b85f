//! `GET /leads`: filters, sorts and keyset pages. Every filter and sort is served by an
//! index of `leads` (the tests below check each shape's query plan).

use rusqlite::types::Value;
use rusqlite::{Connection, Row};

use super::{COLUMNS, Lead, from_row, write_json};
use crate::auth::Actor;
use crate::auth::permissions::{self, Field};
use crate::domain::currency::Currency;
use crate::domain::list::{Filter, ListParams, ListSpec, Page, Takes};
use crate::domain::records::{self, Kind, META_COLUMNS};
use crate::domain::search;
use crate::domain::values;
use crate::error::{AppError, AppResult, Violations};

// The filters both lists take.
const STAGE: Filter = Filter::new(
    "stage",
    "leads in this stage (a key from GET /api/v1/stages)",
    Takes::Text,
);
const ASSIGNED_TO: Filter = Filter::new("assigned_to", "leads assigned to this user", Takes::Id);
const CUSTOMER_ID: Filter = Filter::new("customer_id", "leads of this customer", Takes::Id);
const CONTACT_ID: Filter = Filter::new("contact_id", "leads of this contact", Takes::Id);
const SOURCE: Filter = Filter::new("source", "exact source, e.g. web", Takes::Text);
const CURRENCY: Filter = Filter::new("currency", "ISO 4217 code, e.g. USD", Takes::Text);
const CREATED_FROM: Filter =
    Filter::new("created_from", "created at or after this", Takes::DayOrTime);
const CREATED_TO: Filter = Filter::new("created_to", "created before this", Takes::DayOrTime);
const CLOSED_FROM: Filter = Filter::new(
    "closed_from",
    "closed (won or lost) at or after this",
    Takes::DayOrTime,
);
const CLOSED_TO: Filter = Filter::new("closed_to", "closed before this", Takes::DayOrTime);
const EXPECTED_CLOSE_FROM: Filter = Filter::new(
    "expected_close_from",
    "expected to close on or after this day",
    Takes::Day,
);
const EXPECTED_CLOSE_TO: Filter = Filter::new(
    "expected_close_to",
    "expected to close on or before this day",
    Takes::Day,
);

/// The list as roles that see values use it.
pub const LIST: ListSpec = ListSpec {
    filters: &[
        STAGE,
        ASSIGNED_TO,
        CUSTOMER_ID,
        CONTACT_ID,
        SOURCE,
        CURRENCY,
        Filter::new(
            "value_min",
            "value_cents at least this (not for support)",
            Takes::Cents,
        ),
        Filter::new(
            "value_max",
            "value_cents at most this (not for support)",
            Takes::Cents,
        ),
        CREATED_FROM,
        CREATED_TO,
        CLOSED_FROM,
        CLOSED_TO,
        EXPECTED_CLOSE_FROM,
        EXPECTED_CLOSE_TO,
    ],
    sorts: &[
        ("created_at", "created_at"),
        ("updated_at", "updated_at"),
        ("value_cents", "value_cents"),
        // Leads without a date sort after every date, as the index `leads_expected_close`.
        ("expected_close_date", "ifnull(expected_close_date, '~')"),
        ("stage_changed_at", "stage_changed_at"),
        ("title", "title COLLATE NOCASE"),
    ],
    default_sort: "created_at",
    default_desc: true,
};

/// The list as support users use it: value is neither a filter nor a sort, so asking for
/// one is the usual 422 for an unknown parameter.
pub const LIST_WITHOUT_VALUE: ListSpec = ListSpec {
    filters: &[
        STAGE,
        ASSIGNED_TO,
        CUSTOMER_ID,
        CONTACT_ID,
        SOURCE,
        CURRENCY,
        CREATED_FROM,
        CREATED_TO,
        CLOSED_FROM,
        CLOSED_TO,
        EXPECTED_CLOSE_FROM,
        EXPECTED_CLOSE_TO,
    ],
    sorts: &[
        ("created_at", "created_at"),
        ("updated_at", "updated_at"),
        ("expected_close_date", "ifnull(expected_close_date, '~')"),
        ("stage_changed_at", "stage_changed_at"),
        ("title", "title COLLATE NOCASE"),
    ],
    default_sort: "created_at",
    default_desc: true,
};

/// The list parameters `actor` may use.
pub fn list_spec(actor: &Actor) -> &'static ListSpec {
    if permissions::sees(actor.role, Field::LeadValue) {
        &LIST
    } else {
        &LIST_WITHOUT_VALUE
    }
}

/// The statement of one page and its parameters.
pub fn list_query(params: &ListParams) -> AppResult<(String, Vec<Value>)> {
    let mut v = Violations::new();
    let mut q = records::Query::new(params);
    q.eq("stage", "stage")
        .eq("assigned_to", "assigned_to")
        .eq("customer_id", "customer_id")
        .eq("contact_id", "contact_id")
        .eq("source", "source")
        .time_range("created_from", "created_to", "created_at")
        .time_range("closed_from", "closed_to", "closed_at")
        .text(Kind::Lead);
    if let Some(raw) = params.filter("currency")
        && let Some(c) = v.check(Currency::parse("currency", raw))
    {
        q.clause("currency = ?", c.as_str().to_owned());
    }
    for (filter, op) in [("value_min", ">="), ("value_max", "<=")] {
        if let Some(raw) = params.filter(filter) {
            match raw.trim().parse::<i64>() {
                Ok(n) if n >= 0 => {
                    q.clause(&format!("value_cents {op} ?"), n);
                }
                _ => v.add(filter, "must be a whole number of minor units, 0 or more"),
            }
        }
    }
    // Written over the indexed expression, so the range is searched in `leads_expected_close`;
    // the upper bound of `from` keeps leads without a date ('~') out.
    for (filter, sql) in [
        (
            "expected_close_from",
            "ifnull(expected_close_date, '~') BETWEEN ? AND '9999-12-31'",
        ),
        ("expected_close_to", "ifnull(expected_close_date, '~') <= ?"),
    ] {
        if let Some(raw) = params.filter(filter) {
            match values::date(filter, Some(raw)) {
                Ok(Some(day)) => {
                    q.clause(sql, day);
                }
                _ => v.add(filter, "must be a date like 2026-12-31"),
            }
        }
    }
    let (filter, args) = match (q.finish(), v.into_result()) {
        (Ok(built), Ok(())) => built,
        (Err(a), Err(b)) => {
            return Err(AppError::Validation(
                [a.field_errors(), b.field_errors()].concat(),
            ));
        }
        (Err(e), _) | (_, Err(e)) => return Err(e),
    };
    let sql = format!(
        "SELECT {META_COLUMNS}, {COLUMNS} FROM leads
          WHERE deleted_at IS NULL {filter}
          ORDER BY {order} LIMIT {limit}",
        order = params.order_by(),
        limit = params.limit + 1
    );
    Ok((sql, args))
}

/// A row's `(value under sort, id)` for the cursor, the value as the sort's SQL expression
/// computes it (columns as [`from_row`] reads them).
fn cursor_key(sort: &str, r: &Row<'_>) -> rusqlite::Result<(String, String)> {
    let value = match sort {
        "updated_at" => r.get(2)?,
        "value_cents" => r.get::<_, i64>(10)?.to_string(),
        "expected_close_date" => r
            .get::<_, Option<String>>(14)?
            .unwrap_or_else(|| "~".into()),
        "stage_changed_at" => r.get(20)?,
        "title" => r.get(6)?,
        _ => r.get(1)?,
    };
    Ok((value, r.get(0)?))
}

/// One page of live leads, as `actor` may see them. `params` must have been parsed with
/// [`list_spec`] for the same actor.
pub fn list(conn: &Connection, actor: &Actor, params: &ListParams) -> AppResult<Page<Lead>> {
    let (sql, args) = list_query(&*search::counted_matches(conn, Kind::Lead, params)?)?;
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt
        .query_map(rusqlite::params_from_iter(args), |r| {
            Ok((from_row(r)?, cursor_key(params.sort, r)?))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    let page = params.page(rows, |(_, key)| key.clone());
    Ok(Page {
        items: page
            .items
            .into_iter()
            .map(|(lead, _)| lead.visible_to(actor))
            .collect(),
        next_cursor: page.next_cursor,
    })
}

/// [`list`]'s page as its JSON body, written straight from the rows (the API's list: the
/// same bytes, at a fraction of the work; see [`ListParams::json_page`]).
pub fn list_json(conn: &Connection, actor: &Actor, params: &ListParams) -> AppResult<Vec<u8>> {
    let (sql, args) = list_query(&*search::counted_matches(conn, Kind::Lead, params)?)?;
    let mut stmt = conn.prepare_cached(&sql)?;
    let sees_value = permissions::sees(actor.role, Field::LeadValue);
    params.json_page(
        stmt.query(rusqlite::params_from_iter(args))?,
        |r, out| write_json(r, sees_value, out),
        |r| cursor_key(params.sort, r),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn db() -> Connection {
        let mut conn = crate::db::connection::open_in_memory().unwrap();
        crate::db::migrations::migrate(&mut conn, "mem").unwrap();
        conn
    }

    fn params(pairs: &[(&str, &str)]) -> ListParams {
        let raw: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        ListParams::parse(&raw, &LIST).unwrap()
    }

    fn plan(conn: &Connection, params: &ListParams) -> String {
        let (sql, args) = list_query(params).unwrap();
        let mut stmt = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
        let rows = stmt
            .query_map(rusqlite::params_from_iter(args), |r| r.get::<_, String>(3))
            .unwrap();
        rows.map(Result::unwrap).collect::<Vec<_>>().join("\n")
    }

    /// A filter value that parses, for each filter.
    fn sample(filter: &str) -> &'static str {
        match filter {
            "currency" => "EUR",
            "value_min" | "value_max" => "1000",
            f if f.starts_with("expected_close") => "2026-06-30",
            f if f.ends_with("_from") || f.ends_with("_to") => "2026-01-01",
            _ => "x",
        }
    }

    /// A cursor for `sort` in `order`, taken from a real page.
    fn cursor(conn: &Connection, sort: &str, order: &str) -> String {
        let p = params(&[("sort", sort), ("order", order), ("limit", "1")]);
        let (sql, args) = list_query(&p).unwrap();
        let rows = conn
            .prepare(&sql)
            .unwrap()
            .query_map(rusqlite::params_from_iter(args), |r| cursor_key(sort, r))
            .unwrap()
            .collect::<Result<Vec<_>, _>>()
            .unwrap();
        p.page(rows, |key| key.clone())
            .next_cursor
            .unwrap_or_default()
    }

    /// Every filter (alone and with `q`, whether it matches few or many) under every sort,
    /// both ways, on the first page and after a cursor: `leads` is always read through an
    /// index, never scanned whole.
    fn assert_every_shape_uses_an_index(conn: &Connection) {
        let filters: Vec<Option<&str>> = std::iter::once(None)
            .chain(LIST.filters.iter().map(|f| Some(f.name)))
            .collect();
        let mut checked = 0;
        for (sort, _) in LIST.sorts {
            for order in ["asc", "desc"] {
                let after = cursor(conn, sort, order);
                for filter in &filters {
                    for (with_q, many) in [(false, false), (true, false), (true, true)] {
                        for paged in [false, true] {
                            let mut pairs = vec![("sort", *sort), ("order", order)];
                            if let Some(f) = filter {
                                pairs.push((f, sample(f)));
                            }
                            if with_q {
                                pairs.push(("q", "acme"));
                            }
                            if paged && !after.is_empty() {
                                pairs.push(("cursor", &after));
                            }
                            let p = ListParams {
                                many_matches: many,
                                ..params(&pairs)
                            };
                            let plan = plan(conn, &p);
                            for line in plan.lines().filter(|l| l.contains("leads")) {
                                assert!(
                                    line.contains("USING INDEX")
                                        || line.contains("USING COVERING INDEX"),
                                    "{pairs:?} many={many} scans leads:\n{plan}"
                                );
                            }
                            checked += 1;
                        }
                    }
                }
            }
        }
        assert!(checked > 300);
    }

    fn assert_benchmark_shape(conn: &Connection) {
        for pairs in [
            vec![
                ("stage", "new"),
                ("sort", "created_at"),
                ("order", "desc"),
                ("limit", "50"),
            ],
            vec![("stage", "new"), ("limit", "50")],
        ] {
            assert_eq!(
                plan(conn, &params(&pairs)),
                "SEARCH leads USING INDEX leads_stage (stage=?)"
            );
        }
        let after = cursor(conn, "created_at", "desc");
        if !after.is_empty() {
            let p = params(&[("stage", "new"), ("limit", "50"), ("cursor", &after)]);
            let plan = plan(conn, &p);
            assert!(plan.starts_with("SEARCH leads USING INDEX leads_stage (stage=?"));
            assert!(!plan.contains("TEMP B-TREE"), "{plan}");
        }
    }

    #[test]
    fn leads_lists_use_indexes_on_an_empty_database() {
        let conn = db();
        assert_every_shape_uses_an_index(&conn);
        assert_benchmark_shape(&conn);
    }

    #[test]
    fn leads_lists_use_indexes_with_statistics() {
        // A skewed pipeline, then what `PRAGMA optimize` would leave the planner to go by.
        let conn = db();
        conn.execute_batch(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3000)
             INSERT INTO leads (id, title, stage, value_cents, currency, source, stage_changed_at,
                                closed_at, expected_close_date, created_at, updated_at,
                                deleted_at)
             SELECT printf('%08d', i), 'Lead ' || i,
                    CASE WHEN i % 10 < 6 THEN 'new' WHEN i % 10 < 8 THEN 'won' ELSE 'lost' END,
                    i * 100, CASE WHEN i % 50 = 0 THEN 'EUR' ELSE 'USD' END,
                    CASE WHEN i % 3 = 0 THEN 'web' END,
                    printf('2026-01-01T00:00:%02d.000Z', i % 60),
                    CASE WHEN i % 10 >= 6 THEN printf('2026-02-%02dT00:00:00.000Z', i % 28 + 1) END,
                    CASE WHEN i % 4 = 0 THEN printf('2026-03-%02d', i % 28 + 1) END,
                    printf('2025-%02d-01T00:00:%02d.000Z', i % 12 + 1, i % 60),
                    printf('2025-%02d-01T00:00:%02d.000Z', i % 12 + 1, i % 60),
                    CASE WHEN i % 100 = 0 THEN '2026-01-01T00:00:00.000Z' END
               FROM n;
             ANALYZE;",
        )
        .unwrap();
        assert_every_shape_uses_an_index(&conn);
        assert_benchmark_shape(&conn);
    }

    /// The API's JSON written from the rows is byte for byte what `serde_json` makes of the
    /// structs: for each lead, and for every page of a walk under every sort and order; for
    /// each role, with text that needs escaping.
    #[test]
    fn leads_json_pages_match_the_serialised_pages() {
        use crate::auth::actor::Via;
        use crate::auth::permissions::Role;

        let conn = db();
        conn.execute_batch(
            r#"INSERT INTO users (id, email, name, role, password_hash, password_changed_at,
                                created_at, updated_at)
             VALUES ('u1', 'pat@example.com', 'Pat', 'admin', 'x', '2026-01-01', '2026-01-01',
                     '2026-01-01');
             WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 23)
             INSERT INTO leads (id, title, stage, value_cents, currency, source, stage_changed_at,
                                closed_at, expected_close_date, created_at, updated_at,
                                created_by, version, email, company_name, lost_reason, phone)
             SELECT printf('%08d', i),
                    CASE i % 4 WHEN 0 THEN 'Quote " and \ backslash' WHEN 1 THEN 'Ünïcødé 🎨 </script>'
                               WHEN 2 THEN 'tab	and' || char(1, 10, 31) ELSE 'Lead ' || i END,
                    CASE WHEN i % 3 = 0 THEN 'won' ELSE 'new' END, i % 5 * 100, 'USD',
                    CASE WHEN i % 2 = 0 THEN 'web' END,
                    printf('2026-01-01T00:00:%02d.000Z', i % 7),
                    CASE WHEN i % 3 = 0 THEN '2026-02-01T00:00:00.000Z' END,
                    CASE WHEN i % 4 = 0 THEN printf('2026-03-%02d', i % 3 + 1) END,
                    printf('2025-01-01T00:00:%02d.000Z', i % 6),
                    printf('2025-02-01T00:00:%02d.000Z', i % 5),
                    CASE WHEN i % 2 = 1 THEN 'u1' END, i % 3 + 1,
                    'pat' || i || '@example.com', '=cmd|'' /C calc''!A0', NULL, '+1 555 0100'
               FROM n;"#,
        )
        .unwrap();
        for role in [Role::Admin, Role::Support] {
            let actor = Actor {
                user_id: "u1".into(),
                role,
                name: "Pat".into(),
                email: "pat@example.com".into(),
                via: Via::CommandLine,
            };
            for i in 1..=23 {
                let id = format!("{i:08}");
                let lead = crate::domain::leads::get(&conn, &actor, &id).unwrap();
                let (version, json) = crate::domain::leads::get_json(&conn, &actor, &id).unwrap();
                assert_eq!(version, lead.meta.version);
                assert_eq!(
                    json,
                    serde_json::to_vec(&lead).unwrap(),
                    "{role:?} lead {id}"
                );
            }
            let spec = list_spec(&actor);
            for (sort, _) in spec.sorts {
                // 23 leads: four pages of up to 7, or one page that holds them all exactly.
                for (order, limit, expected_pages) in
                    [("asc", "7", 4), ("desc", "7", 4), ("desc", "23", 1)]
                {
                    let mut cursor = None;
                    let mut pages = 0;
                    loop {
                        let mut raw = vec![
                            ("sort".to_owned(), sort.to_string()),
                            ("order".to_owned(), order.to_owned()),
                            ("limit".to_owned(), limit.to_owned()),
                        ];
                        raw.extend(cursor.map(|c| ("cursor".to_owned(), c)));
                        let p = ListParams::parse(&raw, spec).unwrap();
                        let page = list(&conn, &actor, &p).unwrap();
                        let json = list_json(&conn, &actor, &p).unwrap();
                        assert_eq!(
                            String::from_utf8(json).unwrap(),
                            serde_json::to_string(&page).unwrap(),
                            "{role:?} sort={sort} order={order} page {pages}"
                        );
                        pages += 1;
                        cursor = page.next_cursor;
                        if cursor.is_none() {
                            break;
                        }
                    }
                    assert_eq!(pages, expected_pages, "{role:?} sort={sort} order={order}");
                }
            }
        }
    }

    #[test]
    fn leads_filters_are_checked() {
        let p = params(&[
            ("currency", "dollars"),
            ("value_min", "-1"),
            ("expected_close_to", "soon"),
            ("closed_from", "yesterday"),
        ]);
        let err = list_query(&p).unwrap_err();
        let mut fields: Vec<_> = err
            .field_errors()
            .iter()
            .map(|e| e.field.as_str())
            .collect();
        fields.sort();
        assert_eq!(
            fields,
            ["closed_from", "currency", "expected_close_to", "value_min"]
        );
    }

    #[test]
    fn leads_support_may_not_filter_or_sort_by_value() {
        for pairs in [
            [("sort", "value_cents")],
            [("value_min", "1")],
            [("value_max", "1")],
        ] {
            let raw: Vec<(String, String)> = pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
            assert!(ListParams::parse(&raw, &LIST).is_ok());
            assert!(ListParams::parse(&raw, &LIST_WITHOUT_VALUE).is_err());
        }
        // Apart from value, support may use everything.
        for filter in LIST.filters.iter().map(|f| f.name) {
            assert_eq!(
                LIST_WITHOUT_VALUE.filters.iter().any(|f| f.name == filter),
                !filter.starts_with("value_"),
                "{filter}"
            );
        }
    }
}
