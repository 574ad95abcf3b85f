use rusqlite::Connection;

use super::*;
use crate::domain::customers;

fn db() -> Connection {
    let mut conn = crate::db::connection::open_in_memory().unwrap();
    crate::db::migrations::migrate(&mut conn, "mem").unwrap();
    conn.execute_batch(
        "INSERT INTO customers (id, name, domain, industry, created_at, updated_at)
         VALUES ('c1', 'Acmecorp Ltd', 'acmecorp.com', 'Manufacturing', 't', 't'),
                ('c2', 'Acme', 'acme.io', 'Retail', 't', 't'),
                ('c3', 'Acme Rockets', NULL, NULL, 't', 't');
         INSERT INTO contacts (id, customer_id, first_name, last_name, email, phone, title,
                               created_at, updated_at)
         VALUES ('p1', 'c1', 'José', 'Núñez', 'jose.nunez@example.com', '+1 (555) 010-0147',
                 'Buyer', 't', 't'),
                ('p2', NULL, 'Ada', 'Lovelace', 'ada@analytical.org', NULL, NULL, 't', 't');
         INSERT INTO leads (id, title, stage, value_cents, currency, company_name, email,
                            stage_changed_at, created_at, updated_at)
         VALUES ('l1', 'Rocket fuel order', 'new', 990000, 'USD', 'Globex', 'hank@globex.com',
                 't', '2026-01-01T00:00:00.000Z', 't');",
    )
    .unwrap();
    conn
}

/// A customer list's parameters with `q`, as a request would give them.
fn list_params(q: &str) -> ListParams {
    let raw = [("q".to_owned(), q.to_owned())];
    ListParams::parse(&raw, &crate::domain::customers::LIST).unwrap()
}

fn find(conn: &Connection, q: &str) -> Vec<String> {
    let params = SearchParams::parse(Some(q), None, None).unwrap();
    search(conn, &params)
        .unwrap()
        .items
        .into_iter()
        .map(|h| h.id)
        .collect()
}

#[test]
fn hostile_queries_are_plain_text() {
    let conn = db();
    let hostile = [
        "\"",
        "\"\"\"",
        "*",
        "a*",
        "**acme",
        "NEAR(acme corp)",
        "NEAR",
        "-acme",
        "acme -corp",
        "title:acme",
        "title : acme",
        ":",
        "{title}: x",
        "AND",
        "OR",
        "NOT",
        "acme AND OR NOT",
        "(",
        ")",
        "((acme",
        "acme)",
        "^",
        "^acme",
        "+",
        "a + b",
        "'; DROP TABLE customers; --",
        "%",
        "_",
        "\\",
        "\u{0}",
        "😀",
        "x\u{301}",
        "ab",
        "a",
        &"z".repeat(5000),
        &"word ".repeat(500),
    ];
    for q in hostile {
        let params = SearchParams::parse(Some(q), None, None).unwrap();
        assert!(search(&conn, &params).is_ok(), "{q:?}");
        for kind in KINDS {
            for many in [false, true] {
                if let Some((sql, args)) = list_condition(kind, q, many) {
                    let sql = format!("SELECT count(*) FROM {} WHERE {sql}", kind.table());
                    let ok = conn.query_row(&sql, rusqlite::params_from_iter(args), |r| {
                        r.get::<_, i64>(0)
                    });
                    assert!(ok.is_ok(), "{q:?}: {ok:?}");
                }
            }
            let listed = list_params(q);
            let counted = counted_matches(&conn, kind, &listed);
            assert!(counted.is_ok(), "{q:?}: {:?}", counted.err());
        }
    }
    // Operators are words like any other: `acme AND corp` needs "and" in the record.
    assert!(find(&conn, "acme AND corp").is_empty());
    assert_eq!(find(&conn, "\"acmecorp\"")[0], "c1");
}

#[test]
fn match_expressions_quote_every_word() {
    let t = Terms::parse("  Jo\"sé NEAR(x* ").unwrap();
    assert_eq!(
        t.prefix_match().unwrap(),
        "\"jo\"* \"sé\"* \"near\"* \"x\"*"
    );
    assert_eq!(t.substring_match().unwrap(), "\"Jo\"\"sé NEAR(x*\"");
    assert_eq!(
        Terms::parse("555 0147").unwrap().substring_match().unwrap(),
        "\"555\" \"0147\""
    );
    assert!(Terms::parse("   ").is_none());
    assert!(Terms::parse("--").unwrap().prefix_match().is_none());
    assert!(Terms::parse("ab").unwrap().substring_match().is_none());
}

#[test]
fn parameters_are_checked() {
    for (q, types, limit, field) in [
        (None, None, None, "q"),
        (Some("  "), None, None, "q"),
        (Some("x"), Some("customer,task"), None, "types"),
        (Some("x"), None, Some("0"), "limit"),
        (Some("x"), None, Some("51"), "limit"),
        (Some("x"), None, Some("ten"), "limit"),
    ] {
        let err = SearchParams::parse(q, types, limit).unwrap_err();
        assert_eq!(
            err.field_errors()[0].field,
            field,
            "{q:?} {types:?} {limit:?}"
        );
    }
    let p = SearchParams::parse(Some("x"), Some("lead, contact,lead"), Some("5")).unwrap();
    assert_eq!(p.kinds, [Kind::Lead, Kind::Contact]);
    assert_eq!(p.limit, 5);
}

#[test]
fn prefixes_accents_phones_emails_and_substrings() {
    let conn = db();
    assert_eq!(find(&conn, "Jos"), ["p1"]);
    assert_eq!(find(&conn, "jose"), ["p1"]);
    assert_eq!(find(&conn, "NUNEZ"), ["p1"]);
    assert_eq!(find(&conn, "0147"), ["p1"]);
    assert_eq!(find(&conn, "555 0147"), ["p1"]);
    assert_eq!(find(&conn, "15550100147"), ["p1"]);
    assert_eq!(find(&conn, "analytical"), ["p2"]);
    assert_eq!(find(&conn, "ada@"), ["p2"]);
    assert_eq!(find(&conn, "corp"), ["c1"]);
    assert_eq!(find(&conn, "globex"), ["l1"]);
}

#[test]
fn exact_name_first_then_prefix_then_substring() {
    let conn = db();
    let hits = find(&conn, "acme");
    assert_eq!(hits[0], "c2", "{hits:?}");
    assert_eq!(hits.len(), 3, "{hits:?}");
    // "Acmecorp Ltd" and "Acme Rockets" both start with "acme"; substrings come last.
    let hits = find(&conn, "rocket");
    assert_eq!(hits.len(), 2);
    let only_leads = SearchParams::parse(Some("rocket"), Some("lead"), Some("1")).unwrap();
    let items = search(&conn, &only_leads).unwrap().items;
    assert_eq!(items.len(), 1);
    assert_eq!(items[0].kind, "lead");
    assert_eq!(items[0].subtitle, "Globex · New");
}

#[test]
fn triggers_follow_edits_trash_restore_and_purge() {
    let conn = db();
    conn.execute(
        "UPDATE customers SET name = 'Initech', domain = NULL WHERE id = 'c2'",
        [],
    )
    .unwrap();
    assert_eq!(find(&conn, "initech"), ["c2"]);
    assert!(!find(&conn, "acme").contains(&"c2".to_owned()));
    conn.execute("UPDATE contacts SET deleted_at = 't' WHERE id = 'p2'", [])
        .unwrap();
    assert!(find(&conn, "lovelace").is_empty());
    conn.execute("UPDATE contacts SET deleted_at = NULL WHERE id = 'p2'", [])
        .unwrap();
    assert_eq!(find(&conn, "lovelace"), ["p2"]);
    conn.execute("DELETE FROM leads WHERE id = 'l1'", [])
        .unwrap();
    assert!(find(&conn, "globex").is_empty());
    assert!(check_index(&conn).unwrap().is_empty());
}

#[test]
fn check_reports_a_drifted_index() {
    let conn = db();
    assert_eq!(check_index(&conn).unwrap(), Vec::<String>::new());
    conn.execute_batch(
        "DROP TRIGGER customers_search_insert;
         INSERT INTO customers (id, name, created_at, updated_at) VALUES ('c9', 'X', 't', 't');
         DELETE FROM search_words WHERE rowid = (SELECT doc FROM search_docs WHERE id = 'p1');",
    )
    .unwrap();
    let problems = check_index(&conn).unwrap();
    assert!(
        problems.iter().any(|p| p.contains("1 live customer")),
        "{problems:?}"
    );
    assert!(
        problems.iter().any(|p| p.starts_with("search_words holds")),
        "{problems:?}"
    );
}

#[test]
fn list_condition_asks_the_index_first() {
    let conn = db();
    let (sql, args) = list_condition(Kind::Customer, "acme", false).unwrap();
    let plan: Vec<String> = conn
        .prepare(&format!(
            "EXPLAIN QUERY PLAN SELECT id FROM customers WHERE deleted_at IS NULL AND {sql}
              ORDER BY created_at DESC, id DESC LIMIT 51"
        ))
        .unwrap()
        .query_map(rusqlite::params_from_iter(args), |r| r.get(3))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let plan = plan.join("\n");
    assert!(plan.contains("VIRTUAL TABLE INDEX"), "{plan}");
    assert!(!plan.contains("SCAN search_docs"), "{plan}");
}

#[test]
fn stages_then_kinds_then_newest_first() {
    let conn = db();
    conn.execute_batch(
        "INSERT INTO leads (id, title, stage, value_cents, currency, stage_changed_at,
                            created_at, updated_at)
         VALUES ('l2', 'Acme renewal', 'new', 100, 'USD', 't', '2026-01-02T00:00:00.000Z', 't');
         INSERT INTO customers (id, name, created_at, updated_at)
         VALUES ('c4', 'Acme West', 't', 't');",
    )
    .unwrap();
    // The exact name; names with the word: customers (newest first), then leads; names with a
    // word starting with it.
    assert_eq!(find(&conn, "acme"), ["c2", "c4", "c3", "l2", "c1"]);
    let customers = SearchParams::parse(Some("acme"), Some("customer"), None).unwrap();
    let ids: Vec<String> = search(&conn, &customers)
        .unwrap()
        .items
        .into_iter()
        .map(|h| h.id)
        .collect();
    assert_eq!(ids, ["c2", "c4", "c3", "c1"]);
    // A whole word in the name comes before a longer word it starts.
    assert_eq!(find(&conn, "rocket"), ["l1", "c3"]);
    // The exact name ignores case and accents, not other words.
    assert_eq!(find(&conn, "JOSE NUNEZ"), ["p1"]);
    assert_eq!(find(&conn, "acme west")[0], "c4");
}

#[test]
fn a_page_fills_although_stages_repeat_hits() {
    let conn = db();
    // Every stage finds "c2" again; the later stages still bring the others.
    let params = SearchParams::parse(Some("acme"), None, Some("3")).unwrap();
    assert_eq!(search(&conn, &params).unwrap().items.len(), 3);
}

#[test]
fn unchanged_text_is_not_indexed_again() {
    let conn = db();
    let doc = |id: &str| -> i64 {
        conn.query_row("SELECT doc FROM search_docs WHERE id = ?1", [id], |r| {
            r.get(0)
        })
        .unwrap()
    };
    // Rows written, the triggers' included: 1 is the lead alone.
    let written = |sql: &str| {
        let before = conn.total_changes();
        conn.execute(sql, []).unwrap();
        conn.total_changes() - before
    };
    assert_eq!(
        // (Not `value_cents`: the dashboard's report triggers rightly count that one.)
        written("UPDATE leads SET title = title, email = email, lost_reason = 'x' WHERE id = 'l1'"),
        1
    );
    assert!(written("UPDATE leads SET title = 'Saturn fuel' WHERE id = 'l1'") > 1);
    assert_eq!(find(&conn, "saturn"), ["l1"]);
    assert_eq!(kind_of(doc("l1")), Some(Kind::Lead));
    assert_eq!(kind_of(doc("c1")), Some(Kind::Customer));
    assert!(check_index(&conn).unwrap().is_empty());
}

#[test]
fn compacting_leaves_one_segment_per_index_and_finds_the_same() {
    let conn = db();
    // Each statement flushes its own segment, as an import's chunks do.
    for i in 0..40 {
        conn.execute(
            "INSERT INTO customers (id, name, created_at, updated_at)
             VALUES (?1, ?2, 't', 't')",
            [format!("k{i}"), format!("Kestrel Works {i}")],
        )
        .unwrap();
    }
    let segments = |table: &str| -> i64 {
        conn.query_row(
            &format!("SELECT count(DISTINCT segid) FROM {table}_idx"),
            [],
            |r| r.get(0),
        )
        .unwrap()
    };
    assert!(segments("search_words") > 1 && segments("search_trigrams") > 1);
    let before = find(&conn, "kestrel");
    let mut steps = 0;
    while compact_step(&conn).unwrap() {
        steps += 1;
        assert!(steps < 100, "compaction never ends");
    }
    assert_eq!(segments("search_words"), 1);
    assert_eq!(segments("search_trigrams"), 1);
    assert_eq!(find(&conn, "kestrel"), before);
    assert_eq!(find(&conn, "works 17"), ["k17"]);
    assert!(check_index(&conn).unwrap().is_empty());
}

#[test]
fn the_exact_name_comes_first_however_many_names_share_its_word() {
    let conn = db();
    // Few names with the word: they are read whole, and the one that is the word alone
    // (punctuation aside) comes first, although newer names have the word too.
    conn.execute_batch(
        "INSERT INTO customers (id, name, created_at, updated_at)
         VALUES ('z1', 'Zephyr.', 't', 't'), ('z2', 'Zephyr Labs', 't', 't');",
    )
    .unwrap();
    assert_eq!(find(&conn, "zephyr"), ["z1", "z2"]);
    assert_eq!(find(&conn, "ZÉPHYR"), ["z1", "z2"]);
    // More names with the word than a page holds: the exact name is found by its text.
    for i in 0..30 {
        conn.execute(
            "INSERT INTO customers (id, name, created_at, updated_at) VALUES (?1, ?2, 't', 't')",
            [format!("b{i}"), format!("Acme Branch {i}")],
        )
        .unwrap();
    }
    let hits = find(&conn, "acme");
    assert_eq!(hits[0], "c2", "{hits:?}");
    assert_eq!(hits.len(), DEFAULT_LIMIT as usize);
    assert!(hits[1].starts_with('b'), "{hits:?}");
}

/// Migrations 0012 and 0013: both indexes merge a level whole only at 64 segments and
/// never inside a write, and a bulk rebuild (which changes other settings and puts them back)
/// leaves that alone.
#[test]
fn indexes_merge_only_when_told_or_at_sixty_four_segments() {
    let conn = db();
    let ((), index) = bulk_indexed(&conn, |_| Ok(())).unwrap();
    index.finish(&conn).unwrap();
    for table in SEARCH_TABLES {
        let setting = |key: &str| -> i64 {
            conn.query_row(
                &format!("SELECT v FROM {table}_config WHERE k = ?1"),
                [key],
                |r| r.get(0),
            )
            .unwrap()
        };
        assert_eq!(setting("crisismerge"), 64, "{table}");
        assert_eq!(setting("automerge"), 0, "{table}");
    }
}

/// Each index's segments per level, the lowest first.
fn segments_per_level(conn: &Connection, table: &str) -> Vec<usize> {
    let structure = structure_record(conn, table).unwrap();
    let parsed = Structure::parse(&structure).expect("a structure record this code reads");
    parsed.levels.iter().map(Vec::len).collect()
}

fn add_customers_one_statement_each(conn: &Connection, prefix: &str, count: usize) {
    for i in 0..count {
        conn.execute(
            "INSERT INTO customers (id, name, created_at, updated_at) VALUES (?1, ?2, 't', 't')",
            [format!("{prefix}{i}"), format!("{prefix} Foundry {i}")],
        )
        .unwrap();
    }
}

/// A bulk rebuild leaves each index one segment on level 24, and the segments of later
/// writes are merged below it: the big one is never rewritten with them.
#[test]
fn the_bulk_segment_stays_high_above_the_merges_of_later_writes() {
    let conn = db();
    // Bigger than anything the later writes make: FTS5 moves a segment down to a level whose
    // newest segment is at least as big ("promotion").
    bulk_indexed(&conn, |conn| {
        conn.execute_batch(
            "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 2999)
             INSERT INTO customers (id, name, domain, created_at, updated_at)
             SELECT 'bulk' || i, 'Bulk Foundry ' || i, 'bulk' || i || '.example', 't', 't'
               FROM n",
        )?;
        Ok(())
    })
    .unwrap()
    .1
    .finish(&conn)
    .unwrap();
    let mut settled = [0; 25].to_vec();
    settled[24] = 1;
    for table in SEARCH_TABLES {
        assert_eq!(segments_per_level(&conn, table), settled, "{table}");
    }
    let big_segment = |table: &str| -> Vec<u8> {
        let structure = structure_record(&conn, table).unwrap();
        Structure::parse(&structure).unwrap().levels[24][0].to_vec()
    };
    let before = SEARCH_TABLES.map(big_segment);

    // Every statement flushes a segment of its own (no merging inside writes), and the
    // writer's idle steps merge them four at a time.
    add_customers_one_statement_each(&conn, "late", 40);
    assert!(segments_per_level(&conn, "search_words")[0] >= 40);
    let mut steps = 0;
    while tidy_step(&conn).unwrap() {
        steps += 1;
        assert!(steps < 1000, "merging never ends");
    }
    for (table, before) in SEARCH_TABLES.iter().zip(before) {
        let levels = segments_per_level(&conn, table);
        assert!(levels[..24].iter().all(|&n| n < 4), "{table}: {levels:?}");
        assert_eq!(
            big_segment(table),
            before,
            "{table}: the big segment was rewritten"
        );
    }
    assert_eq!(find(&conn, "bulk foundry 2718")[0], "bulk2718");
    assert_eq!(find(&conn, "late foundry 33"), ["late33"]);
    assert_eq!(find(&conn, "oundry").len(), DEFAULT_LIMIT as usize);
    assert!(check_index(&conn).unwrap().is_empty());

    // A compaction merges everything into one segment again, and settles it.
    while compact_step(&conn).unwrap() {}
    for table in SEARCH_TABLES {
        let levels = segments_per_level(&conn, table);
        assert_eq!(levels.iter().sum::<usize>(), 1, "{table}: {levels:?}");
        assert!(levels[..24].iter().all(|&n| n == 0), "{table}: {levels:?}");
    }
    assert_eq!(find(&conn, "late foundry 33"), ["late33"]);
    assert!(check_index(&conn).unwrap().is_empty());
}

/// Settling reads only the one layout it knows, and moves a lone segment only upwards.
#[test]
fn settling_leaves_any_other_structure_as_it_is() {
    // Cookie 5, the origins header, 2 levels, 1 segment, write counter 0; level 0 empty;
    // level 1 holds segment 4 (pages 1-300, origins 1-3, no tombstones, 1000 entries).
    let lone: Vec<u8> = [
        &[0, 0, 0, 5][..],
        Structure::ORIGINS_HEADER,
        &[
            2, 1, 0, 0, 0, 0, 1, 4, 1, 0x82, 0x2c, 1, 3, 0, 0, 0x87, 0x68,
        ],
    ]
    .concat();
    let settled = settled_structure(&lone, 24).expect("settled");
    let parsed = Structure::parse(&settled).unwrap();
    assert_eq!(parsed.levels.len(), 25);
    assert_eq!(parsed.levels[24], [&lone[lone.len() - 10..]]);
    assert_eq!(&settled[..8], &lone[..8]);
    assert_eq!(settled_structure(&settled, 24), None, "already settled");
    assert_eq!(settled_structure(&lone, 1), None, "never downwards");

    let mut two = lone.clone();
    two[9] = 2;
    two.extend_from_slice(&lone[lone.len() - 10..]);
    two[14] = 2;
    assert!(Structure::parse(&two).is_some());
    assert_eq!(settled_structure(&two, 24), None, "two segments");
    let mut merging = lone.clone();
    merging[13] = 1;
    assert_eq!(settled_structure(&merging, 24), None, "a merge under way");
    let mut old_layout = lone.clone();
    old_layout.drain(4..8);
    assert_eq!(
        settled_structure(&old_layout, 24),
        None,
        "no origins header"
    );
    assert_eq!(
        settled_structure(&lone[..lone.len() - 1], 24),
        None,
        "cut short"
    );
    assert_eq!(
        settled_structure(&[lone.as_slice(), &[0]].concat(), 24),
        None,
        "trailing"
    );
    assert_eq!(settled_structure(&[], 24), None);
}

/// A `q` that matches many records walks the list's order instead of looking each match up:
/// the same page either way, and a `q` that matches few keeps the lookup.
#[test]
fn lists_walk_their_order_when_q_matches_many() {
    let conn = db();
    conn.execute_batch(&format!(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {MANY_MATCHES})
         INSERT INTO customers (id, name, created_at, updated_at)
         SELECT printf('m%05d', i), 'Maple Supply ' || i,
                printf('2026-01-01T00:00:%02d.000Z', i % 60), 't' FROM n;"
    ))
    .unwrap();
    let many = list_params("maple");
    assert!(
        counted_matches(&conn, Kind::Customer, &many)
            .unwrap()
            .many_matches
    );
    let few = list_params("acme");
    assert!(matches!(
        counted_matches(&conn, Kind::Customer, &few).unwrap(),
        Cow::Borrowed(_)
    ));

    let ids = |params: &ListParams| -> Vec<String> {
        let (sql, args) = customers::list_query(params).unwrap();
        conn.prepare(&sql)
            .unwrap()
            .query_map(rusqlite::params_from_iter(args), |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    };
    let walked = ids(&ListParams {
        many_matches: true,
        ..many.clone()
    });
    assert_eq!(walked.len(), 51);
    assert_eq!(walked, ids(&many));
    // Listed through the customers' own function, the page is the same.
    let page = customers::list(&conn, &many).unwrap();
    let listed: Vec<String> = page.items.into_iter().map(|c| c.meta.id).collect();
    assert_eq!(listed, walked[..50]);
}

/// A bulk rebuild (built on its own thread, then copied in) indexes every record as the
/// triggers do: the same docs, the same token counts, the same hits.
#[test]
fn a_bulk_rebuild_indexes_what_the_triggers_index() {
    let conn = db();
    // Per record id: a bulk load numbers the docs in the order it reads the records.
    let snapshot = |conn: &Connection| {
        let rows = |sql: &str| -> Vec<(String, Vec<u8>)> {
            conn.prepare(sql)
                .unwrap()
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap()
        };
        let hits: Vec<Vec<String>> = ["acme", "jose", "0147", "globex", "corp", "ada lovelace"]
            .iter()
            .map(|q| find(conn, q))
            .collect();
        (
            rows(
                "SELECT d.id, w.sz FROM search_docs d JOIN search_words_docsize w ON w.id = d.doc ORDER BY d.id",
            ),
            rows(
                "SELECT d.id, t.sz FROM search_docs d JOIN search_trigrams_docsize t ON t.id = d.doc ORDER BY d.id",
            ),
            hits,
        )
    };
    let by_triggers = snapshot(&conn);
    assert_eq!(by_triggers.0.len(), 6);
    assert_eq!(by_triggers.1.len(), 6);
    let ((), index) = bulk_indexed(&conn, |_| Ok(())).unwrap();
    index.finish(&conn).unwrap();
    assert_eq!(snapshot(&conn), by_triggers);
    assert!(check_index(&conn).unwrap().is_empty());
}
