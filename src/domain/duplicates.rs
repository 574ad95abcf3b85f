//! Candidate duplicates among live contacts or customers, each group with its reason. Only
//! ever a suggestion: merging is a separate, explicit request (see `merges`).
//!
//! Nothing compares every record with every other. Exact keys (e-mail, phone digits,
//! domain) are grouped in SQL with `GROUP BY … HAVING count(*) > 1`; similar names are found
//! by sorting on a normalised name and comparing each name with the next few in that order
//! (the sorted-neighbourhood method): O(n log n), and it catches typos, case, punctuation,
//! legal suffixes and swapped first/last names, though not a typo in the first letters.

use std::collections::BTreeMap;

use rusqlite::Connection;
use serde::Serialize;

use crate::domain::records::Kind;
use crate::error::{AppError, AppResult};

/// At most this many groups per answer (the list is cut, and says so).
pub const MAX_GROUPS: usize = 500;
/// At most this many records listed in one group (`count` says how many there are).
pub const MAX_GROUP_RECORDS: usize = 50;
/// How many following names each name is compared with, in normalised order.
const WINDOW: usize = 3;

/// One set of records that look like the same person or company.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DuplicateGroup {
    /// `email`, `phone` or `name` for contacts; `domain` or `name` for customers.
    pub reason: &'static str,
    /// What they share: the e-mail, the phone digits, the domain, or a normalised name.
    pub key: String,
    /// How many records share it (`records` lists at most 50).
    pub count: usize,
    pub records: Vec<DuplicateRecord>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DuplicateRecord {
    pub id: String,
    /// The name of the customer or contact.
    pub name: String,
    pub customer_id: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub domain: Option<String>,
    pub created_at: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Duplicates {
    pub items: Vec<DuplicateGroup>,
    /// True when there were more than 500 groups and the rest were left out: merge some
    /// and ask again.
    pub truncated: bool,
}

/// `contact` or `customer`.
pub fn parse_entity(raw: Option<&str>) -> AppResult<Kind> {
    match raw.and_then(Kind::parse) {
        Some(k @ (Kind::Contact | Kind::Customer)) => Ok(k),
        _ => Err(AppError::invalid("entity", "must be contact or customer")),
    }
}

pub fn find(conn: &Connection, kind: Kind) -> AppResult<Duplicates> {
    let mut groups = Vec::new();
    match kind {
        Kind::Contact => {
            let by_email = keyed(conn, "lower(email)", "contacts", "email IS NOT NULL")?;
            push(conn, kind, &mut groups, "email", by_email)?;
            // `phone_digits` is the phone without formatting (migration 0004), indexed;
            // only numbers of 7 digits or more are compared.
            let by_phone = keyed(
                conn,
                "phone_digits",
                "contacts",
                "phone_digits IS NOT NULL AND length(phone_digits) >= 7",
            )?;
            push(conn, kind, &mut groups, "phone", by_phone)?;
            // Names are compared within one customer only (two John Smiths at different
            // companies are two people).
            let names = names(
                conn,
                "SELECT id, customer_id, first_name || ' ' || ifnull(last_name, '') FROM contacts
                  WHERE deleted_at IS NULL AND customer_id IS NOT NULL",
                false,
            )?;
            push(conn, kind, &mut groups, "name", similar(names))?;
        }
        _ => {
            let by_domain = keyed(conn, "domain", "customers", "domain IS NOT NULL")?;
            push(conn, kind, &mut groups, "domain", by_domain)?;
            let names = names(
                conn,
                "SELECT id, '', name FROM customers WHERE deleted_at IS NULL",
                true,
            )?;
            push(conn, kind, &mut groups, "name", similar(names))?;
        }
    }
    let truncated = groups.len() > MAX_GROUPS;
    groups.truncate(MAX_GROUPS);
    Ok(Duplicates {
        items: groups,
        truncated,
    })
}

/// Rows of `table` sharing the value of `key` (an SQL expression) with another live row,
/// grouped by that value: one query, one sort, whatever the table's size.
fn keyed(
    conn: &Connection,
    key: &str,
    table: &str,
    condition: &str,
) -> AppResult<Vec<(String, Vec<String>)>> {
    let sql = format!(
        "SELECT k, id FROM (
             SELECT id, {key} AS k, count(*) OVER (PARTITION BY {key}) AS n FROM {table}
              WHERE deleted_at IS NULL AND {condition})
          WHERE n > 1 ORDER BY k, id"
    );
    let mut stmt = conn.prepare(&sql)?;
    let mut rows = stmt.query([])?;
    let mut out: Vec<(String, Vec<String>)> = Vec::new();
    while let Some(row) = rows.next()? {
        let (k, id): (String, String) = (row.get(0)?, row.get(1)?);
        match out.last_mut() {
            Some((last, ids)) if *last == k => ids.push(id),
            _ => {
                if out.len() > MAX_GROUPS {
                    break;
                }
                out.push((k, vec![id]));
            }
        }
    }
    Ok(out)
}

/// `(id, scope, normalised name)` of every row, sorted by scope and name.
fn names(conn: &Connection, sql: &str, company: bool) -> AppResult<Vec<(String, String, String)>> {
    let mut rows: Vec<(String, String, String)> = conn
        .prepare(sql)?
        .query_map([], |r| {
            let name: String = r.get(2)?;
            Ok((r.get(0)?, r.get(1)?, normalise_name(&name, company)))
        })?
        .collect::<Result<_, _>>()?;
    rows.retain(|(_, _, n)| n.chars().count() >= 3);
    rows.sort_by(|a, b| (&a.1, &a.2).cmp(&(&b.1, &b.2)));
    Ok(rows)
}

/// Groups of similar names within the same scope: each name is compared with the next
/// [`WINDOW`] names of its scope; matches are joined (union-find), so A~B and B~C make one
/// group.
fn similar(rows: Vec<(String, String, String)>) -> Vec<(String, Vec<String>)> {
    let mut parent: Vec<usize> = (0..rows.len()).collect();
    fn root(parent: &mut [usize], mut i: usize) -> usize {
        while parent[i] != i {
            parent[i] = parent[parent[i]];
            i = parent[i];
        }
        i
    }
    for i in 0..rows.len() {
        for j in (i + 1)..rows.len().min(i + 1 + WINDOW) {
            if rows[j].1 != rows[i].1 {
                break;
            }
            if similar_names(&rows[i].2, &rows[j].2) {
                let (a, b) = (root(&mut parent, i), root(&mut parent, j));
                parent[b] = a;
            }
        }
    }
    let mut groups: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for i in 0..rows.len() {
        let r = root(&mut parent, i);
        groups.entry(r).or_default().push(i);
    }
    groups
        .into_values()
        .filter(|members| members.len() > 1)
        .map(|members| {
            let key = rows[members[0]].2.clone();
            let ids = members.iter().map(|&i| rows[i].0.clone()).collect();
            (key, ids)
        })
        .collect()
}

fn push(
    conn: &Connection,
    kind: Kind,
    groups: &mut Vec<DuplicateGroup>,
    reason: &'static str,
    found: Vec<(String, Vec<String>)>,
) -> AppResult<()> {
    for (key, ids) in found {
        if groups.len() > MAX_GROUPS {
            break;
        }
        let count = ids.len();
        let mut records = Vec::new();
        for id in ids.iter().take(MAX_GROUP_RECORDS) {
            records.push(record(conn, kind, id)?);
        }
        groups.push(DuplicateGroup {
            reason,
            key,
            count,
            records,
        });
    }
    Ok(())
}

fn record(conn: &Connection, kind: Kind, id: &str) -> AppResult<DuplicateRecord> {
    let sql = match kind {
        Kind::Contact => {
            "SELECT id, trim(first_name || ' ' || ifnull(last_name, '')), customer_id, email,
                    phone, NULL, created_at FROM contacts WHERE id = ?1"
        }
        _ => "SELECT id, name, NULL, NULL, phone, domain, created_at FROM customers WHERE id = ?1",
    };
    Ok(conn.prepare_cached(sql)?.query_row([id], |r| {
        Ok(DuplicateRecord {
            id: r.get(0)?,
            name: r.get(1)?,
            customer_id: r.get(2)?,
            email: r.get(3)?,
            phone: r.get(4)?,
            domain: r.get(5)?,
            created_at: r.get(6)?,
        })
    })?)
}

/// Lower case, letters and digits only, words sorted (so "Smith, John" is "john smith");
/// for companies, legal suffixes (Inc, Ltd, GmbH…) are dropped.
pub fn normalise_name(name: &str, company: bool) -> String {
    const SUFFIXES: [&str; 14] = [
        "inc",
        "incorporated",
        "ltd",
        "limited",
        "llc",
        "gmbh",
        "corp",
        "corporation",
        "co",
        "company",
        "sa",
        "sarl",
        "plc",
        "ag",
    ];
    let lower = name.to_lowercase();
    let mut words: Vec<&str> = lower
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .filter(|w| !(company && SUFFIXES.contains(w)))
        .collect();
    words.sort_unstable();
    words.join(" ")
}

/// Two normalised names are "very similar" when equal, or within an edit distance of 1
/// (names up to 8 characters) or 2 (longer names).
pub fn similar_names(a: &str, b: &str) -> bool {
    if a == b {
        return true;
    }
    let longest = a.chars().count().max(b.chars().count());
    let allowed = if longest <= 8 { 1 } else { 2 };
    levenshtein_within(a, b, allowed)
}

/// Whether the edit distance of `a` and `b` is at most `max` (two rows of the usual table).
fn levenshtein_within(a: &str, b: &str, max: usize) -> bool {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    if a.len().abs_diff(b.len()) > max {
        return false;
    }
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.iter().enumerate() {
        cur[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        if cur.iter().min().is_some_and(|m| *m > max) {
            return false;
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()] <= max
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_normalise() {
        assert_eq!(normalise_name("Smith, John", false), "john smith");
        assert_eq!(normalise_name("John  SMITH", false), "john smith");
        assert_eq!(normalise_name("Acme, Inc.", true), "acme");
        assert_eq!(normalise_name("ACME Corp", true), "acme");
        assert_eq!(normalise_name("Acme Co", false), "acme co");
    }

    #[test]
    fn similarity_by_edit_distance() {
        assert!(similar_names("john smith", "jon smith"));
        assert!(similar_names("katherine johnson", "catherine jonson"));
        assert!(similar_names("acme", "acne"));
        assert!(!similar_names("acme", "apex"));
        assert!(!similar_names("ann lee", "tom lee"));
        assert!(!similar_names("globex", "initech"));
        assert!(levenshtein_within("kitten", "sitting", 3));
        assert!(!levenshtein_within("kitten", "sitting", 2));
    }

    #[test]
    fn sorted_neighbours_are_grouped_within_a_scope() {
        let rows = |v: &[(&str, &str, &str)]| {
            let mut r: Vec<(String, String, String)> = v
                .iter()
                .map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string()))
                .collect();
            r.sort_by(|a, b| (&a.1, &a.2).cmp(&(&b.1, &b.2)));
            r
        };
        let found = similar(rows(&[
            ("1", "c1", "john smith"),
            ("2", "c1", "jon smith"),
            ("3", "c1", "mary major"),
            ("4", "c2", "john smith"),
            ("5", "c1", "john smyth"),
        ]));
        assert_eq!(found.len(), 1);
        let mut ids = found[0].1.clone();
        ids.sort();
        assert_eq!(ids, ["1", "2", "5"]);
    }
}
