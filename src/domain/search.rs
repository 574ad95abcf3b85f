//! Search across customers, contacts and leads (`GET /search`) and the `q` of their lists,
//! both over the full-text index of migration 0002 (`search_docs`, `search_words`,
//! `search_trigrams`).
//!
//! User text never reaches FTS5's query syntax: it is cut into words here, and each word
//! becomes a quoted string, so quotes, `*`, `NEAR`, `-`, `:`, `AND`/`OR`/`NOT` and
//! parentheses are plain text that at worst finds nothing.

use std::collections::HashSet;

use rusqlite::{Connection, OptionalExtension};
use serde::Serialize;

use crate::domain::records::Kind;
use crate::error::{AppError, AppResult, Violations};

/// The kinds search covers.
pub const KINDS: [Kind; 3] = [Kind::Customer, Kind::Contact, Kind::Lead];

/// At most this many words of a query are used; the rest is ignored.
const MAX_WORDS: usize = 16;
/// Longer words are cut (no real name or e-mail part is this long).
const MAX_WORD_CHARS: usize = 64;
pub const DEFAULT_LIMIT: u32 = 20;
pub const MAX_LIMIT: u32 = 50;

/// Free text as search uses it: the words (what the word index tokenizes: runs of letters
/// and digits) and the whole text (for substrings).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Terms {
    words: Vec<String>,
    text: String,
}

impl Terms {
    /// `None` when `raw` is blank.
    pub fn parse(raw: &str) -> Option<Terms> {
        let text: String = raw.trim().chars().take(200).collect();
        if text.is_empty() {
            return None;
        }
        let words = text
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .take(MAX_WORDS)
            .map(|w| {
                w.chars()
                    .take(MAX_WORD_CHARS)
                    .collect::<String>()
                    .to_lowercase()
            })
            .collect();
        Some(Terms { words, text })
    }

    /// Every word as a prefix: `"jos"* "lov"*` (all must match).
    pub fn prefix_match(&self) -> Option<String> {
        if self.words.is_empty() {
            return None;
        }
        Some(
            self.words
                .iter()
                .map(|w| format!("{}*", quote(w)))
                .collect::<Vec<_>>()
                .join(" "),
        )
    }

    /// The title starting with exactly these words: `title : ^"ada lovelace"`.
    fn title_starts_match(&self) -> Option<String> {
        if self.words.is_empty() {
            return None;
        }
        Some(format!("title : ^{}", quote(&self.words.join(" "))))
    }

    /// Substrings for the trigram index: every word when all have 3 characters or more
    /// (`"555" "0147"`), else the whole text as one substring when that is long enough.
    pub fn substring_match(&self) -> Option<String> {
        let long = |s: &str| s.chars().count() >= 3;
        if !self.words.is_empty() && self.words.iter().all(|w| long(w)) {
            Some(
                self.words
                    .iter()
                    .map(|w| quote(w))
                    .collect::<Vec<_>>()
                    .join(" "),
            )
        } else if long(&self.text) {
            Some(quote(&self.text))
        } else {
            None
        }
    }
}

/// An FTS5 string: double quotes around, inner ones doubled. Inside one, every character is
/// text to the query parser.
fn quote(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\"\""))
}

/// The condition a list adds for its `q`: the ids of live records of `kind` whose words start
/// with the query's words, or which contain it as a substring. The index is asked first and
/// its (few) matches are handed to the list, which keeps its own order and keyset paging.
/// `None` when `q` has nothing searchable: the list is then empty.
pub fn list_condition(kind: Kind, q: &str) -> Option<(String, Vec<String>)> {
    let terms = Terms::parse(q)?;
    let kind_name = kind.name();
    let mut parts = Vec::new();
    let mut args = Vec::new();
    if let Some(m) = terms.prefix_match() {
        parts.push("SELECT rowid FROM search_words WHERE search_words MATCH ?");
        args.push(m);
    }
    if let Some(m) = terms.substring_match() {
        parts.push("SELECT rowid FROM search_trigrams WHERE search_trigrams MATCH ?");
        args.push(m);
    }
    if parts.is_empty() {
        return None;
    }
    Some((
        format!(
            "id IN (SELECT id FROM search_docs WHERE kind = '{kind_name}' AND doc IN ({}))",
            parts.join(" UNION ")
        ),
        args,
    ))
}

/// `GET /search` parameters, parsed.
#[derive(Debug, Clone)]
pub struct SearchParams {
    pub terms: Terms,
    pub kinds: Vec<Kind>,
    pub limit: u32,
}

impl SearchParams {
    /// 422 for a blank `q`, an unknown type or a limit outside 1..=50; every problem listed.
    pub fn parse(q: Option<&str>, types: Option<&str>, limit: Option<&str>) -> AppResult<Self> {
        let mut v = Violations::new();
        let terms = Terms::parse(q.unwrap_or(""));
        if terms.is_none() {
            v.add("q", "must not be empty");
        }
        let mut kinds = Vec::new();
        match types.map(str::trim) {
            None | Some("") => kinds.extend(KINDS),
            Some(list) => {
                for name in list.split(',').map(str::trim) {
                    match KINDS.into_iter().find(|k| k.name() == name) {
                        Some(k) if !kinds.contains(&k) => kinds.push(k),
                        Some(_) => {}
                        None => {
                            v.add(
                                "types",
                                "must be a comma-separated list of customer, contact, lead",
                            );
                            break;
                        }
                    }
                }
            }
        }
        let limit = match limit.map(str::trim) {
            None | Some("") => DEFAULT_LIMIT,
            Some(raw) => match raw.parse::<u32>() {
                Ok(n) if (1..=MAX_LIMIT).contains(&n) => n,
                _ => {
                    v.add(
                        "limit",
                        format!("must be a whole number from 1 to {MAX_LIMIT}"),
                    );
                    DEFAULT_LIMIT
                }
            },
        };
        v.into_result()?;
        Ok(SearchParams {
            terms: terms.ok_or_else(|| AppError::invalid("q", "must not be empty"))?,
            kinds,
            limit,
        })
    }
}

/// One search result.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Hit {
    /// `customer`, `contact` or `lead`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub id: String,
    /// The name: a customer's name, a contact's full name, a lead's title.
    pub title: String,
    /// What tells it apart: domain and industry; job title, e-mail and company; company,
    /// stage and contact. Never money, so it is the same for every role.
    pub subtitle: String,
}

/// `{ "items": [...] }`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Results {
    pub items: Vec<Hit>,
}

/// Best first: records whose name is exactly the query, then records whose words start with
/// the query's words (by bm25, names weighing more than other fields), then records that
/// merely contain it. One list across the requested kinds.
///
/// Every role may read every customer, contact and lead; a hit never shows a lead's value,
/// so nothing here depends on the caller's role.
pub fn search(conn: &Connection, params: &SearchParams) -> AppResult<Results> {
    let limit = params.limit as usize;
    let terms = &params.terms;
    let mut seen = HashSet::new();
    let mut items = Vec::new();

    if let Some(m) = terms.title_starts_match() {
        for hit in candidates(conn, "search_words", &m, params)? {
            if word_count(&hit.title) == terms.words.len() && seen.insert(hit.id.clone()) {
                items.push(hit);
            }
        }
    }
    if let Some(m) = terms.prefix_match() {
        for hit in candidates(conn, "search_words", &m, params)? {
            if items.len() < limit && seen.insert(hit.id.clone()) {
                items.push(hit);
            }
        }
    }
    if items.len() < limit
        && let Some(m) = terms.substring_match()
    {
        for hit in candidates(conn, "search_trigrams", &m, params)? {
            if items.len() < limit && seen.insert(hit.id.clone()) {
                items.push(hit);
            }
        }
    }
    items.truncate(limit);
    Ok(Results { items })
}

/// Words in a title, as the word index counts them.
fn word_count(title: &str) -> usize {
    title
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .count()
}

/// The best `params.limit` matches of `expr` in `table` among the requested kinds.
fn candidates(
    conn: &Connection,
    table: &str,
    expr: &str,
    params: &SearchParams,
) -> AppResult<Vec<Hit>> {
    let kinds = params
        .kinds
        .iter()
        .map(|k| format!("'{}'", k.name()))
        .collect::<Vec<_>>()
        .join(", ");
    // Names count ten times as much as the other fields.
    let sql = format!(
        "SELECT d.kind, d.id FROM {table} JOIN search_docs d ON d.doc = {table}.rowid
          WHERE {table} MATCH ?1 AND d.kind IN ({kinds})
          ORDER BY bm25({table}, 10.0, 1.0) LIMIT ?2"
    );
    let found: Vec<(String, String)> = conn
        .prepare_cached(&sql)?
        .query_map(rusqlite::params![expr, params.limit], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })?
        .collect::<Result<_, _>>()?;
    let mut hits = Vec::with_capacity(found.len());
    for (kind, id) in found {
        if let Some(kind) = Kind::parse(&kind)
            && let Some(hit) = describe(conn, kind, &id)?
        {
            hits.push(hit);
        }
    }
    Ok(hits)
}

/// The title and subtitle of one live record.
fn describe(conn: &Connection, kind: Kind, id: &str) -> AppResult<Option<Hit>> {
    let sql = match kind {
        Kind::Customer => {
            "SELECT name, concat_ws(' · ', domain, industry)
               FROM customers WHERE id = ?1 AND deleted_at IS NULL"
        }
        Kind::Contact => {
            "SELECT trim(first_name || ' ' || coalesce(last_name, '')),
                    concat_ws(' · ', c.title, c.email,
                              (SELECT name FROM customers WHERE id = c.customer_id))
               FROM contacts c WHERE id = ?1 AND deleted_at IS NULL"
        }
        _ => {
            "SELECT l.title,
                    concat_ws(' · ',
                              coalesce(l.company_name,
                                       (SELECT name FROM customers WHERE id = l.customer_id)),
                              (SELECT label FROM stages WHERE key = l.stage),
                              l.contact_name)
               FROM leads l WHERE id = ?1 AND deleted_at IS NULL"
        }
    };
    Ok(conn
        .prepare_cached(sql)?
        .query_row([id], |r| {
            Ok(Hit {
                kind: kind.name(),
                id: id.to_owned(),
                title: r.get(0)?,
                subtitle: r.get(1)?,
            })
        })
        .optional()?)
}

/// Problems with the search index, for `rapport check`: each index's own integrity check,
/// and exactly one entry per live customer, contact and lead.
pub fn check_index(conn: &Connection) -> rusqlite::Result<Vec<String>> {
    let mut problems = Vec::new();
    for table in ["search_words", "search_trigrams"] {
        if let Err(e) = conn.execute(
            &format!("INSERT INTO {table} ({table}) VALUES ('integrity-check')"),
            [],
        ) {
            problems.push(format!("{table}: {e}"));
        }
    }
    for kind in KINDS {
        let (table, name) = (kind.table(), kind.name());
        let (missing, stale): (i64, i64) = conn.query_row(
            &format!(
                "SELECT (SELECT count(*) FROM {table} t WHERE deleted_at IS NULL
                           AND NOT EXISTS (SELECT 1 FROM search_docs d WHERE d.id = t.id)),
                        (SELECT count(*) FROM search_docs d WHERE kind = '{name}'
                           AND NOT EXISTS (SELECT 1 FROM {table} t
                                            WHERE t.id = d.id AND t.deleted_at IS NULL))"
            ),
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        if missing > 0 {
            problems.push(format!(
                "{missing} live {name}(s) missing from the search index"
            ));
        }
        if stale > 0 {
            problems.push(format!(
                "{stale} search entries for {name}s that are trashed or gone"
            ));
        }
    }
    for table in ["search_words", "search_trigrams"] {
        let (docs, indexed): (i64, i64) = conn.query_row(
            &format!(
                "SELECT (SELECT count(*) FROM search_docs), (SELECT count(*) FROM {table}_docsize)"
            ),
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        if docs != indexed {
            problems.push(format!(
                "{table} holds {indexed} record(s), the search index lists {docs}"
            ));
        }
    }
    Ok(problems)
}

#[cfg(test)]
mod tests;
