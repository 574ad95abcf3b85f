use rusqlite::Connection;

use super::*;
use crate::domain::list::Cursor;

fn db() -> Connection {
    let mut conn = crate::db::connection::open_in_memory().unwrap();
    crate::db::migrations::migrate(&mut conn, "mem").unwrap();
    conn
}

fn params(
    filter: Option<(&str, &str)>,
    q: Option<&str>,
    sort: (&'static str, &'static str),
    desc: bool,
    after: bool,
) -> ListParams {
    ListParams {
        q: q.map(str::to_owned),
        filters: filter
            .map(|(k, v)| vec![(k.to_owned(), v.to_owned())])
            .unwrap_or_default(),
        sort: sort.0,
        sort_column: sort.1,
        desc,
        limit: 50,
        after: after.then(|| Cursor {
            value: "m".into(),
            id: "0190".into(),
        }),
        ids: None,
        many_matches: false,
    }
}

fn plan(conn: &Connection, p: &ListParams) -> Vec<String> {
    let (sql, args) = list_query(p).unwrap();
    let mut stmt = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
    stmt.query_map(rusqlite::params_from_iter(args), |r| r.get::<_, String>(3))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

/// Every filter with every sort, both directions, first and later pages: contacts are only
/// ever reached through an index, and an equality filter is a search, not a scan.
#[test]
fn every_filter_and_sort_is_served_by_an_index() {
    let conn = db();
    let mut filters: Vec<Option<(&str, &str)>> = vec![None];
    filters.extend(LIST.filters.iter().map(|filter| {
        Some((
            filter.name,
            match filter.name {
                "created_from" | "created_to" => "2026-01-01",
                "email" => "Ada@Example.com",
                _ => "x",
            },
        ))
    }));
    for filter in &filters {
        for &sort in LIST.sorts {
            for desc in [false, true] {
                for after in [false, true] {
                    for (q, many) in [(None, false), (Some("ada"), false), (Some("ada"), true)] {
                        let p = ListParams {
                            many_matches: many,
                            ..params(*filter, q, sort, desc, after)
                        };
                        let plan = plan(&conn, &p);
                        let shape = format!(
                            "{filter:?} {} desc={desc} after={after} q={q:?} many={many}",
                            sort.0
                        );
                        for line in plan.iter().filter(|l| l.contains(" contacts")) {
                            assert!(
                                line.contains("INDEX") || line.contains("PRIMARY KEY"),
                                "{shape}: {plan:?}"
                            );
                        }
                        if let Some(("owner_id" | "customer_id" | "email" | "tag", _)) = filter {
                            assert!(
                                plan.iter().any(|l| l.starts_with("SEARCH contacts ")),
                                "{shape}: {plan:?}"
                            );
                        }
                    }
                }
            }
        }
    }
}

/// Unfiltered lists read their sort's index in order, and a later page seeks to the cursor
/// instead of reading every row before it.
#[test]
fn later_pages_seek_to_the_cursor_without_sorting() {
    let conn = db();
    for &sort in LIST.sorts {
        for desc in [false, true] {
            let plan = plan(&conn, &params(None, None, sort, desc, true));
            assert_eq!(plan.len(), 1, "{}: {plan:?}", sort.0);
            assert!(
                plan[0].starts_with("SEARCH contacts USING INDEX contacts_"),
                "{}: {plan:?}",
                sort.0
            );
        }
    }
}

fn insert(conn: &Connection, id: &str, first: &str, last: Option<&str>) {
    conn.execute(
        "INSERT INTO contacts (id, first_name, last_name, created_at, updated_at)
         VALUES (?1, ?2, ?3, '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z')",
        params![id, first, last],
    )
    .unwrap();
}

#[test]
fn paging_by_last_name_visits_contacts_without_one_once() {
    let conn = db();
    insert(&conn, "a", "Ada", Some("lovelace"));
    insert(&conn, "b", "Bob", None);
    insert(&conn, "c", "Cy", Some("Babbage"));
    insert(&conn, "d", "Di", None);
    insert(&conn, "e", "Ed", Some("Lovelace"));
    let raw = |cursor: Option<&str>| {
        let mut raw = vec![
            ("sort".to_owned(), "last_name".to_owned()),
            ("order".to_owned(), "asc".to_owned()),
            ("limit".to_owned(), "2".to_owned()),
        ];
        raw.extend(cursor.map(|c| ("cursor".to_owned(), c.to_owned())));
        ListParams::parse(&raw, &LIST).unwrap()
    };
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let page = list(&conn, &raw(cursor.as_deref())).unwrap();
        seen.extend(page.items.iter().map(|c| c.meta.id.clone()));
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    assert_eq!(seen, ["b", "d", "c", "a", "e"]);
}
