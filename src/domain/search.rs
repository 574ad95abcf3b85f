//! Search across customers, contacts and leads (`GET /search`) and the `q` of their lists,
//! both over the full-text index of migrations 0002 and 0003 (`search_docs`, `search_words`,
//! `search_trigrams`).
//!
//! User text never reaches FTS5's query syntax: it is cut into words here, and each word
//! becomes a quoted string, so quotes, `*`, `NEAR`, `-`, `:`, `AND`/`OR`/`NOT` and
//! parentheses are plain text that at worst finds nothing.

use std::borrow::Cow;
use std::collections::HashSet;

use rusqlite::{Connection, OptionalExtension};
use serde::Serialize;

use crate::domain::list::ListParams;
use crate::domain::records::Kind;
use crate::error::{AppError, AppResult, Violations};

/// The kinds search covers, in the order results list them.
pub const KINDS: [Kind; 3] = [Kind::Customer, Kind::Contact, Kind::Lead];

/// Bits of a `doc` below its kind's code (migration 0003).
const KIND_SHIFT: u32 = 40;
/// Ends the `title` in `search_trigrams`, so a match anchored on both ends is a whole name.
const NAME_EDGE: char = '\u{E000}';

/// The `doc`s of `kind`, as a half-open range. Codes count down along [`KINDS`] (customer 3,
/// contact 2, lead 1), so descending rowid order lists the kinds in that order. A kind search
/// does not cover gets code 0, a range that holds no doc.
fn doc_range(kind: Kind) -> (i64, i64) {
    let index = KINDS.iter().position(|k| *k == kind).unwrap_or(KINDS.len());
    let code = (KINDS.len() - index) as i64;
    (code << KIND_SHIFT, (code + 1) << KIND_SHIFT)
}

/// The kind a `doc` belongs to.
fn kind_of(doc: i64) -> Option<Kind> {
    let code = usize::try_from(doc >> KIND_SHIFT).ok()?;
    KINDS
        .len()
        .checked_sub(code)
        .and_then(|i| KINDS.get(i))
        .copied()
}

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

    /// Whether the text is one whole word alone (no other words, spaces or punctuation):
    /// its exact names are then the names that are that one word.
    fn is_bare_word(&self) -> bool {
        self.words.len() == 1
            && self.text.chars().count() <= MAX_WORD_CHARS
            && self.text.chars().all(char::is_alphanumeric)
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

    /// Every word whole: `"acme" "rockets"`.
    fn word_match(&self) -> Option<String> {
        if self.words.is_empty() {
            return None;
        }
        Some(
            self.words
                .iter()
                .map(|w| quote(w))
                .collect::<Vec<_>>()
                .join(" "),
        )
    }

    /// A name (title) that is the whole query text, case and accents aside, for the trigram
    /// index: the text between the two edge marks.
    fn name_match(&self) -> String {
        // A control character could end the FTS5 string early; no name contains one.
        let text: String = self.text.chars().filter(|c| !c.is_control()).collect();
        format!(
            "title : {}",
            quote(&format!("{NAME_EDGE}{text}{NAME_EDGE}"))
        )
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

/// How many matches make a list walk its own order and keep the matching records, rather
/// than look each match up and sort them all. At 500k leads, newest first: 3-letter queries
/// matching 12k–25k leads took 54–86 ms looked up and 14–25 ms walked; a word matching nothing
/// took no time looked up and 24–36 ms walked, as the walk then reads the whole index.
const MANY_MATCHES: i64 = 2_000;

/// The index queries that find `q` among `kind`'s docs (words by prefix, then substrings),
/// each with its `MATCH` argument. `None` when `q` has nothing searchable.
fn match_queries(kind: Kind, q: &str) -> Option<Vec<(String, String)>> {
    let terms = Terms::parse(q)?;
    let (lo, hi) = doc_range(kind);
    let queries: Vec<(String, String)> = [
        ("search_words", terms.prefix_match()),
        ("search_trigrams", terms.substring_match()),
    ]
    .into_iter()
    .filter_map(|(table, m)| {
        Some((
            format!(
                "SELECT rowid FROM {table} WHERE {table} MATCH ? AND rowid >= {lo} AND rowid < {hi}"
            ),
            m?,
        ))
    })
    .collect();
    (!queries.is_empty()).then_some(queries)
}

/// The condition a list adds for its `q`: the ids of live records of `kind` whose words start
/// with the query's words, or which contain it as a substring. The index is asked first, only
/// within `kind`'s doc range, and its matches are handed to the list, which keeps its own
/// order and keyset paging. `None` when `q` has nothing searchable: the list is then empty.
///
/// With `many_matches`, `+id` keeps SQLite from looking each match up by id: it walks the
/// index of the list's filters and sort instead and checks each record against the matches,
/// stopping once the page is full.
pub fn list_condition(kind: Kind, q: &str, many_matches: bool) -> Option<(String, Vec<String>)> {
    let (queries, args): (Vec<String>, Vec<String>) = match_queries(kind, q)?.into_iter().unzip();
    let column = if many_matches { "+id" } else { "id" };
    Some((
        format!(
            "{column} IN (SELECT id FROM search_docs WHERE doc IN ({}))",
            queries.join(" UNION ")
        ),
        args,
    ))
}

/// `params` for a list of `kind`, marked [`ListParams::many_matches`] when its `q` matches at
/// least [`MANY_MATCHES`] records. Counting stops there, so asking costs about a millisecond.
pub fn counted_matches<'p>(
    conn: &Connection,
    kind: Kind,
    params: &'p ListParams,
) -> AppResult<Cow<'p, ListParams>> {
    let Some(queries) = params.q.as_deref().and_then(|q| match_queries(kind, q)) else {
        return Ok(Cow::Borrowed(params));
    };
    // The matches of either query are at most as many as those of the list's union.
    for (query, arg) in &queries {
        let found: i64 = conn
            .prepare_cached(&format!(
                "SELECT count(*) FROM ({query} LIMIT {MANY_MATCHES})"
            ))?
            .query_row([arg], |r| r.get(0))?;
        if found >= MANY_MATCHES {
            return Ok(Cow::Owned(ListParams {
                many_matches: true,
                ..params.clone()
            }));
        }
    }
    Ok(Cow::Borrowed(params))
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

/// Best first, in stages: records whose name is the query text (case and accents aside; for a
/// one-word query, that word with at most punctuation around it), then whose name has the
/// query's words, then whose name has words starting with them, then
/// whose words anywhere start with them, then which merely contain the text. Within a stage,
/// customers, then contacts, then leads, each most recently indexed (created, renamed or
/// restored) first. One list across the requested kinds.
///
/// No stage ranks its matches: each asks the index for the first few in rowid order, which
/// FTS5 answers without reading every match, so a query matching half the CRM costs about
/// what one matching twenty records does.
///
/// Every role may read every customer, contact and lead; a hit never shows a lead's value,
/// so nothing here depends on the caller's role.
pub fn search(conn: &Connection, params: &SearchParams) -> AppResult<Results> {
    let terms = &params.terms;
    let title = |m: Option<String>| m.map(|m| format!("title : ({m})"));
    let mut page = Page::new(params.limit as usize);
    let groups = kind_groups(&params.kinds);
    // Stages 1 and 2: exact names, then names with the query's words. Every exact name is
    // among the names with its words, so when those are few enough to read whole, the
    // exact ones are picked from them; else the trigram index is asked for the exact text.
    let title_words = title(terms.word_match());
    let mut read_whole: Vec<Option<Vec<Doc>>> = Vec::with_capacity(groups.len());
    for kind in &groups {
        let whole = match &title_words {
            Some(expr) if terms.is_bare_word() => all_docs(conn, expr, *kind, page.wanted())?,
            _ => None,
        };
        match &whole {
            Some(docs) => {
                let exact = docs.iter().filter(|d| d.one_title_word).cloned();
                page.add(conn, exact.collect())?;
            }
            None => {
                let docs = first_docs(
                    conn,
                    "search_trigrams",
                    &terms.name_match(),
                    *kind,
                    page.wanted(),
                )?;
                page.add(conn, docs)?;
            }
        }
        read_whole.push(whole);
    }
    if let Some(expr) = &title_words {
        for (kind, whole) in groups.iter().zip(read_whole) {
            if page.full() {
                return Ok(page.into_results());
            }
            let docs = match whole {
                Some(docs) => docs,
                None => first_docs(conn, "search_words", expr, *kind, page.wanted())?,
            };
            page.add(conn, docs)?;
        }
    }
    let later = [
        ("search_words", title(terms.prefix_match())),
        ("search_words", terms.prefix_match()),
        ("search_trigrams", terms.substring_match()),
    ];
    for (table, expr) in later {
        let Some(expr) = expr else { continue };
        for kind in &groups {
            if page.full() {
                return Ok(page.into_results());
            }
            let docs = first_docs(conn, table, &expr, *kind, page.wanted())?;
            page.add(conn, docs)?;
        }
    }
    Ok(page.into_results())
}

/// A search's results as the stages fill them: each record once, up to the limit.
struct Page {
    limit: usize,
    seen: HashSet<i64>,
    items: Vec<Hit>,
}

impl Page {
    fn new(limit: usize) -> Self {
        Page {
            limit,
            seen: HashSet::new(),
            items: Vec::new(),
        }
    }

    fn full(&self) -> bool {
        self.items.len() >= self.limit
    }

    /// How many docs to ask a stage for: earlier stages' hits come again, so asking for that
    /// many more still fills the page.
    fn wanted(&self) -> usize {
        self.limit.saturating_sub(self.items.len()) + self.seen.len()
    }

    /// Adds the live records among `docs` not listed yet, in order, until the page is full.
    fn add(&mut self, conn: &Connection, docs: Vec<Doc>) -> AppResult<()> {
        for doc in docs {
            if self.full() {
                break;
            }
            if self.seen.insert(doc.doc)
                && let Some(kind) = kind_of(doc.doc)
                && let Some(hit) = describe(conn, kind, &doc.id)?
            {
                self.items.push(hit);
            }
        }
        Ok(())
    }

    fn into_results(self) -> Results {
        Results { items: self.items }
    }
}

/// A match from the index: its doc, the record's id, and (from [`all_docs`]) whether the
/// record's name is a single word.
#[derive(Debug, Clone)]
struct Doc {
    doc: i64,
    id: String,
    one_title_word: bool,
}

/// The requested kinds as the index is asked for them: all at once (`None`, no range) or one
/// range each, in [`KINDS`] order.
fn kind_groups(kinds: &[Kind]) -> Vec<Option<Kind>> {
    if KINDS.iter().all(|k| kinds.contains(k)) {
        vec![None]
    } else {
        KINDS
            .into_iter()
            .filter(|k| kinds.contains(k))
            .map(Some)
            .collect()
    }
}

/// The first `n` docs (and ids) matching `expr` in `table`, highest doc first, within `kind`'s
/// range when given. No ORDER BY on a rank: FTS5 streams rowid order and stops at the LIMIT.
fn first_docs(
    conn: &Connection,
    table: &str,
    expr: &str,
    kind: Option<Kind>,
    n: usize,
) -> AppResult<Vec<Doc>> {
    let sql = format!(
        "SELECT d.doc, d.id, false
           FROM (SELECT rowid AS doc FROM {table}
                  WHERE {table} MATCH ?1 AND rowid >= ?2 AND rowid < ?3
                  ORDER BY rowid DESC LIMIT ?4) f
           JOIN search_docs d ON d.doc = f.doc
          ORDER BY d.doc DESC"
    );
    query_docs(conn, &sql, expr, kind, n)
}

/// Every doc matching `expr` in `search_words` (highest first, within `kind`'s range), with
/// whether its title is one word; `None` when there are more than `n`.
///
/// The title's word count is the first varint of the doc's `sz` in FTS5's `docsize` table
/// (one per column, in column order); a count of one is the single byte 0x01.
fn all_docs(
    conn: &Connection,
    expr: &str,
    kind: Option<Kind>,
    n: usize,
) -> AppResult<Option<Vec<Doc>>> {
    let docs = query_docs(
        conn,
        "SELECT d.doc, d.id, substr(z.sz, 1, 1) = x'01'
           FROM (SELECT rowid AS doc FROM search_words
                  WHERE search_words MATCH ?1 AND rowid >= ?2 AND rowid < ?3
                  ORDER BY rowid DESC LIMIT ?4) f
           JOIN search_docs d ON d.doc = f.doc
           JOIN search_words_docsize z ON z.id = f.doc
          ORDER BY d.doc DESC",
        expr,
        kind,
        n + 1,
    )?;
    Ok((docs.len() <= n).then_some(docs))
}

/// Runs `sql` (doc, id, one title word) with the match `expr`, `kind`'s doc range and the
/// limit `n` as ?1 to ?4.
fn query_docs(
    conn: &Connection,
    sql: &str,
    expr: &str,
    kind: Option<Kind>,
    n: usize,
) -> AppResult<Vec<Doc>> {
    let (lo, hi) = kind.map_or((i64::MIN, i64::MAX), doc_range);
    Ok(conn
        .prepare_cached(sql)?
        .query_map(rusqlite::params![expr, lo, hi, n as i64], |r| {
            Ok(Doc {
                doc: r.get(0)?,
                id: r.get(1)?,
                one_title_word: r.get(2)?,
            })
        })?
        .collect::<Result<_, _>>()?)
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

/// The two FTS5 indexes every search reads: whole words (with prefixes) and trigrams.
const SEARCH_TABLES: [&str; 2] = ["search_words", "search_trigrams"];

/// Runs `write` (many records in the caller's transaction) with the search triggers noting
/// new records instead of indexing each at once, then indexes them all in one statement:
/// FTS5 flushes a segment at every statement savepoint, so record by record it would write
/// and merge a segment per record. Migration 0005 explains the tables.
pub fn deferred<T>(
    conn: &Connection,
    write: impl FnOnce(&Connection) -> AppResult<T>,
) -> AppResult<T> {
    defer_new_records(conn)?;
    let out = write(conn)?;
    index_deferred(conn)?;
    Ok(out)
}

/// From here on, new records are noted for [`index_deferred`] instead of indexed at once.
/// The writer does this around each batch of jobs (each job runs in a savepoint, and FTS5
/// flushes a segment at every savepoint release): a batch of N creates then writes one
/// small segment per search table instead of N, and merges that much less.
pub fn defer_new_records(conn: &Connection) -> rusqlite::Result<()> {
    conn.prepare_cached("INSERT OR IGNORE INTO search_deferring (on_) VALUES (1)")?
        .execute([])?;
    Ok(())
}

/// Indexes the records noted since [`defer_new_records`] in one statement, and ends the
/// deferral; must run before the transaction commits.
pub fn index_deferred(conn: &Connection) -> rusqlite::Result<()> {
    conn.prepare_cached("DELETE FROM search_deferring")?
        .execute([])?;
    // Records trashed or indexed since (an update re-indexes at once) are left out. Each
    // kind's table is asked by primary key: through the `search_text` view the planner
    // would read every live record.
    conn.prepare_cached(
        "INSERT INTO search_entry (kind, id)
         SELECT d.kind, d.id FROM search_deferred d
          WHERE NOT EXISTS (SELECT 1 FROM search_docs s WHERE s.id = d.id)
            AND CASE d.kind
                  WHEN 3 THEN EXISTS (SELECT 1 FROM customers WHERE id = d.id AND deleted_at IS NULL)
                  WHEN 2 THEN EXISTS (SELECT 1 FROM contacts WHERE id = d.id AND deleted_at IS NULL)
                  ELSE EXISTS (SELECT 1 FROM leads WHERE id = d.id AND deleted_at IS NULL)
                END
          ORDER BY d.kind, d.id",
    )?
    .execute([])?;
    conn.prepare_cached("DELETE FROM search_deferred")?
        .execute([])?;
    Ok(())
}

/// How many leaf pages one [`compact_step`] merges per index: about 50 ms of work, so writes
/// queued behind a step wait no longer than that.
const COMPACT_PAGES: i64 = 1000;

/// One step of merging the search indexes' segments into one; `true` while work remains.
///
/// A big import indexes chunk by chunk and leaves each index in a dozen segments, and every
/// query term opens an iterator on each of them: on the medium dataset the name stage of a
/// search took 0.29 ms instead of 0.10 ms on one segment. 'optimize' would do the same in one
/// go, holding the writer for seconds on a large CRM; a negative 'merge' merges across levels
/// a bounded number of pages at a time. The last step settles the one segment left
/// ([`settle_single_segments`]).
pub fn compact_step(conn: &Connection) -> rusqlite::Result<bool> {
    let more = merge_step(conn, -COMPACT_PAGES)?;
    if !more {
        settle_single_segments(conn)?;
    }
    Ok(more)
}

/// How many leaf pages one [`tidy_step`] merges per index: a millisecond or two of work, so
/// a write that arrives meanwhile hardly waits.
const TIDY_PAGES: i64 = 64;

/// One step of the merging that keeps each search index in few segments; `true` while work
/// remains. It merges the segments of a level once it holds four ('usermerge'), as FTS5's
/// own 'automerge' would inside every write; migration 0013 turned that off, and the writer
/// calls this while no write is waiting instead.
pub fn tidy_step(conn: &Connection) -> rusqlite::Result<bool> {
    merge_step(conn, TIDY_PAGES)
}

/// Runs FTS5's 'merge' of `pages` leaf pages on both indexes (negative: across all levels),
/// and says whether either did work, which FTS5 reports as two changes or more.
fn merge_step(conn: &Connection, pages: i64) -> rusqlite::Result<bool> {
    let mut more = false;
    for table in SEARCH_TABLES {
        let before = conn.total_changes();
        conn.prepare_cached(&format!(
            "INSERT INTO {table} ({table}, rank) VALUES ('merge', ?1)"
        ))?
        .execute([pages])?;
        more |= conn.total_changes() - before >= 2;
    }
    Ok(more)
}

/// The level [`settle_single_segments`] moves an index's only segment to.
const SETTLED_LEVEL: u8 = 24;

/// Moves each search index's segment, when it has only one, up to [`SETTLED_LEVEL`].
///
/// 'optimize' and a compaction leave an index in one segment on the level above the highest
/// it had: level 1 after a bulk load. Merging takes a level's segments together once it
/// holds four, and the small segments of later writes reach level 1 within a dozen merges:
/// the whole index would be rewritten with them, and again at each level it climbed. On the
/// large demo that was the 215 MB trigram index, rewritten a step at a time with every 64th
/// create paying 12-40 ms (create mean 0.82 ms instead of 0.46). Small segments need 4^24
/// merges to reach level 24. Only the level changes: the segment's pages stay as they are.
pub fn settle_single_segments(conn: &Connection) -> rusqlite::Result<()> {
    for table in SEARCH_TABLES {
        if let Some(settled) = settled_structure(&structure_record(conn, table)?, SETTLED_LEVEL) {
            conn.execute(
                &format!("UPDATE {table}_data SET block = ?1 WHERE id = {FTS5_STRUCTURE_ROWID}"),
                [settled],
            )?;
            forget_cached_structure(conn, table)?;
        }
    }
    Ok(())
}

/// Makes this connection's FTS5 forget the structure record of `table` it may hold (it
/// keeps the one it read last, and a settings change reads it), after the record was
/// written around it: its next write would put the old one back. A merge of no pages
/// forgets it and writes nothing.
fn forget_cached_structure(conn: &Connection, table: &str) -> rusqlite::Result<()> {
    conn.execute(
        &format!("INSERT INTO {table} ({table}, rank) VALUES ('merge', 0)"),
        [],
    )?;
    Ok(())
}

/// Where FTS5 keeps an index's structure record (`FTS5_STRUCTURE_ROWID` in fts5_index.c).
const FTS5_STRUCTURE_ROWID: i64 = 10;

/// The structure record of the FTS5 index `table`, as stored.
fn structure_record(conn: &Connection, table: &str) -> rusqlite::Result<Vec<u8>> {
    conn.query_row(
        &format!("SELECT block FROM {table}_data WHERE id = {FTS5_STRUCTURE_ROWID}"),
        [],
        |r| r.get(0),
    )
}

/// The structure record `structure` with its only segment moved up to `level`, or `None`
/// when it holds another number of segments, the segment on `level` or higher already, or
/// a layout [`Structure::parse`] does not read.
fn settled_structure(structure: &[u8], level: u8) -> Option<Vec<u8>> {
    let parsed = Structure::parse(structure)?;
    let mut segments = parsed
        .levels
        .iter()
        .enumerate()
        .flat_map(|(at, segments)| segments.iter().map(move |segment| (at, *segment)));
    let (at, segment) = segments.next()?;
    if segments.next().is_some() || at >= usize::from(level) {
        return None;
    }
    let mut settled = parsed.head.to_vec();
    // Counts below 128 are one-byte varints.
    settled.extend([level + 1, 1]);
    settled.extend(parsed.write_counter);
    for _ in 0..level {
        settled.extend([0, 0]);
    }
    settled.extend([0, 1]);
    settled.extend(segment);
    Some(settled)
}

/// An FTS5 structure record, read as far as settling needs it, in the layout fts5_index.c
/// describes for tables that record their segments' origins (ours: `contentless_delete`):
/// a 4-byte cookie and the 4-byte version header; varints for the level count, the segment
/// count and the write counter; then each level's merging count and segment count,
/// followed by its segments, 8 varints each.
struct Structure<'a> {
    /// The cookie and the version header.
    head: &'a [u8],
    write_counter: &'a [u8],
    /// Each level's segments, as stored, the lowest level first.
    levels: Vec<Vec<&'a [u8]>>,
}

impl<'a> Structure<'a> {
    const ORIGINS_HEADER: &'static [u8] = b"\xff\x00\x00\x01";
    const SEGMENT_VARINTS: usize = 8;

    /// `None` for another layout, or while a merge is under way.
    fn parse(structure: &'a [u8]) -> Option<Self> {
        let (head, mut rest) = structure.split_at_checked(8)?;
        if &head[4..] != Self::ORIGINS_HEADER {
            return None;
        }
        let level_count = read_varint(&mut rest)?;
        let segment_count = read_varint(&mut rest)?;
        let write_counter = take_varints(&mut rest, 1)?;
        let mut levels = Vec::new();
        for _ in 0..level_count {
            let (merging, count) = (read_varint(&mut rest)?, read_varint(&mut rest)?);
            if merging != 0 {
                return None;
            }
            let segments = (0..count)
                .map(|_| take_varints(&mut rest, Self::SEGMENT_VARINTS))
                .collect::<Option<Vec<_>>>()?;
            levels.push(segments);
        }
        let counted = levels.iter().map(Vec::len).sum::<usize>() as u64;
        (rest.is_empty() && counted == segment_count).then_some(Structure {
            head,
            write_counter,
            levels,
        })
    }
}

/// The bytes of the next `count` varints of `bytes`, which it moves past them.
fn take_varints<'a>(bytes: &mut &'a [u8], count: usize) -> Option<&'a [u8]> {
    let start = *bytes;
    for _ in 0..count {
        read_varint(bytes)?;
    }
    Some(&start[..start.len() - bytes.len()])
}

/// Reads one SQLite varint (groups of 7 bits, most significant first, the ninth byte whole)
/// off the front of `bytes`.
fn read_varint(bytes: &mut &[u8]) -> Option<u64> {
    let mut value = 0u64;
    for i in 0..9 {
        let (&byte, rest) = bytes.split_first()?;
        *bytes = rest;
        if i == 8 {
            return Some(value << 8 | u64::from(byte));
        }
        value = value << 7 | u64::from(byte & 0x7f);
        if byte & 0x80 == 0 {
            return Some(value);
        }
    }
    None
}

/// Problems with the search index, for `rapport check`: each index's own integrity check,
/// and exactly one entry per live customer, contact and lead.
pub fn check_index(conn: &Connection) -> rusqlite::Result<Vec<String>> {
    let mut problems = Vec::new();
    let left: i64 = conn.query_row(
        "SELECT (SELECT count(*) FROM search_deferring) + (SELECT count(*) FROM search_deferred)",
        [],
        |r| r.get(0),
    )?;
    if left > 0 {
        problems.push(format!(
            "{left} deferred search entries were never indexed (a bulk write committed half done)"
        ));
    }
    for table in SEARCH_TABLES {
        if let Err(e) = conn.execute(
            &format!("INSERT INTO {table} ({table}) VALUES ('integrity-check')"),
            [],
        ) {
            problems.push(format!("{table}: {e}"));
        }
    }
    for kind in KINDS {
        let (table, name) = (kind.table(), kind.name());
        let (lo, hi) = doc_range(kind);
        let (missing, stale): (i64, i64) = conn.query_row(
            &format!(
                "SELECT (SELECT count(*) FROM {table} t WHERE deleted_at IS NULL
                           AND NOT EXISTS (SELECT 1 FROM search_docs d WHERE d.id = t.id
                                             AND d.doc >= {lo} AND d.doc < {hi})),
                        (SELECT count(*) FROM search_docs d WHERE d.doc >= {lo} AND d.doc < {hi}
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
    for table in SEARCH_TABLES {
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

mod bulk;
pub use bulk::{BulkIndex, bulk_indexed};

#[cfg(test)]
mod tests;
