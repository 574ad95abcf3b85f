//! List parameters shared by every collection: `q`, filters, `sort`, `order`, `limit`,
//! `cursor`. Unknown parameters are refused (422) rather than ignored, and paging is keyset
//! pagination on `(sort value, id)`, so a cursor visits every row once even while rows are
//! inserted.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rusqlite::types::ValueRef;
use rusqlite::{Row, Rows};
use serde::Serialize;

use crate::error::{AppError, AppResult, FieldError, Violations};

pub const DEFAULT_LIMIT: u32 = 50;
pub const MAX_LIMIT: u32 = 200;

/// What one collection accepts.
pub struct ListSpec {
    /// Filter parameters besides `q`.
    pub filters: &'static [Filter],
    /// `sort` values, each with the SQL column it orders by (a whitelist: only these strings
    /// ever reach SQL).
    pub sorts: &'static [(&'static str, &'static str)],
    pub default_sort: &'static str,
    pub default_desc: bool,
}

/// One filter parameter of a list: its name, what it selects and the values it takes, which
/// the API docs state (OpenAPI) as the parameter's description and schema.
#[derive(Debug, Clone, Copy)]
pub struct Filter {
    pub name: &'static str,
    pub about: &'static str,
    pub takes: Takes,
}

impl Filter {
    pub const fn new(name: &'static str, about: &'static str, takes: Takes) -> Self {
        Self { name, about, takes }
    }
}

/// The values a filter takes. Each list checks its values itself; this says what they are.
#[derive(Debug, Clone, Copy)]
pub enum Takes {
    /// Text, compared as the filter says.
    Text,
    /// A record's or a user's id.
    Id,
    /// A day (`2026-01-31`, in UTC) or an RFC 3339 time.
    DayOrTime,
    /// A day, `2026-01-31`.
    Day,
    /// `true` or `false`.
    Flag,
    /// A whole number of cents, 0 or more.
    Cents,
    /// One of a closed set of words, named by the set's own list.
    OneOf(fn() -> Vec<&'static str>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListParams {
    pub q: Option<String>,
    pub filters: Vec<(String, String)>,
    pub sort: &'static str,
    pub sort_column: &'static str,
    pub desc: bool,
    pub limit: u32,
    pub after: Option<Cursor>,
    /// Only these records: set by code for an action on a selection (a list's bulk export),
    /// never from a request. Lists built with [`crate::domain::records::Query`] honour it.
    pub ids: Option<Vec<String>>,
    /// Set by code when `q` matches many records (`search::counted_matches`): the list then
    /// walks its sort order and keeps the matching records, instead of looking every match
    /// up and sorting them all. Never from a request.
    pub many_matches: bool,
}

/// Where the previous page ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    pub value: String,
    pub id: String,
}

/// One page of a list.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

impl ListParams {
    pub fn parse(raw: &[(String, String)], spec: &ListSpec) -> Result<ListParams, AppError> {
        let mut v = Violations::new();
        let mut q = None;
        let mut filters = Vec::new();
        let mut sort_key = spec.default_sort.to_owned();
        let mut order: Option<String> = None;
        let mut limit = DEFAULT_LIMIT;
        let mut cursor = None;
        for (key, value) in raw {
            match key.as_str() {
                "q" => q = Some(value.trim().to_owned()).filter(|s| !s.is_empty()),
                "sort" => sort_key = value.clone(),
                "order" => order = Some(value.clone()),
                "limit" => match value.parse::<u32>() {
                    Ok(n) if (1..=MAX_LIMIT).contains(&n) => limit = n,
                    _ => v.add(
                        "limit",
                        format!("must be a whole number from 1 to {MAX_LIMIT}"),
                    ),
                },
                "cursor" => cursor = Some(value.clone()).filter(|s| !s.is_empty()),
                k if spec.filters.iter().any(|f| f.name == k) => {
                    if !value.is_empty() {
                        filters.push((key.clone(), value.clone()));
                    }
                }
                other => v.add(other, "is not a known filter for this list"),
            }
        }
        let sort = spec.sorts.iter().find(|(name, _)| *name == sort_key);
        if sort.is_none() {
            let known: Vec<&str> = spec.sorts.iter().map(|(n, _)| *n).collect();
            v.add("sort", format!("must be one of: {}", known.join(", ")));
        }
        let desc = match order.as_deref() {
            None => spec.default_desc,
            Some("asc") => false,
            Some("desc") => true,
            Some(_) => {
                v.add("order", "must be asc or desc");
                false
            }
        };
        let after = cursor.and_then(|c| v.check(Cursor::decode(&c, &sort_key, desc)));
        v.into_result()?;
        let (sort, sort_column) = sort.copied().unwrap_or(("", ""));
        Ok(ListParams {
            q,
            filters,
            sort,
            sort_column,
            desc,
            limit,
            after,
            ids: None,
            many_matches: false,
        })
    }

    pub fn filter(&self, name: &str) -> Option<&str> {
        self.filters
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// `ORDER BY` for the sort column with `id` as the tie-breaker.
    pub fn order_by(&self) -> String {
        let dir = if self.desc { "DESC" } else { "ASC" };
        format!("{col} {dir}, id {dir}", col = self.sort_column)
    }

    /// The keyset condition after the cursor, using two numbered parameters. Its leading
    /// `>=` (or `<=`) is implied by the rest; it is there so SQLite seeks the index to the
    /// cursor instead of scanning up to it, which it cannot work out from the `OR` alone
    /// when the sort is an expression or has a collation.
    pub fn keyset_condition(&self, value_param: usize, id_param: usize) -> Option<String> {
        self.after.as_ref()?;
        let op = if self.desc { "<" } else { ">" };
        Some(format!(
            "({col} {op}= ?{value_param} AND ({col} {op} ?{value_param} OR ({col} = ?{value_param} AND id {op} ?{id_param})))",
            col = self.sort_column
        ))
    }

    /// Trims the extra row fetched to learn whether another page exists, and makes the
    /// cursor from the last row kept.
    pub fn page<T>(&self, mut rows: Vec<T>, key: impl Fn(&T) -> (String, String)) -> Page<T> {
        let next_cursor = if rows.len() > self.limit as usize {
            rows.truncate(self.limit as usize);
            rows.last().map(|row| {
                let (value, id) = key(row);
                Cursor { value, id }.encode(self.sort, self.desc)
            })
        } else {
            None
        };
        Page {
            items: rows,
            next_cursor,
        }
    }
}

/// How many bytes a page's JSON is given to start with, per item: a lead is about 600.
const JSON_BYTES_PER_ITEM: usize = 640;

impl ListParams {
    /// The page of `rows` (queried with `LIMIT limit + 1`) as the JSON `serde_json` makes of
    /// a [`Page`], written straight from the rows: `item` writes each kept row's fields, `key`
    /// gives the last kept row's `(sort value, id)` for the cursor. For the busiest lists:
    /// building a struct per row only to serialise and drop it was most of the server's
    /// work on the lead list (benches/README.md).
    pub fn json_page(
        &self,
        mut rows: Rows<'_>,
        item: impl Fn(&Row<'_>, &mut JsonObject<'_>) -> AppResult<()>,
        key: impl Fn(&Row<'_>) -> rusqlite::Result<(String, String)>,
    ) -> AppResult<Vec<u8>> {
        let limit = self.limit as usize;
        let mut out = Vec::with_capacity(limit * JSON_BYTES_PER_ITEM + 64);
        out.extend_from_slice(b"{\"items\":[");
        let mut kept = 0;
        let mut last_key = None;
        let mut more = false;
        while let Some(row) = rows.next()? {
            if kept == limit {
                more = true;
                break;
            }
            if kept > 0 {
                out.push(b',');
            }
            JsonObject::write(&mut out, |object| item(row, object))?;
            kept += 1;
            if kept == limit {
                last_key = Some(key(row)?);
            }
        }
        let next_cursor = last_key
            .filter(|_| more)
            .map(|(value, id)| Cursor { value, id }.encode(self.sort, self.desc));
        out.extend_from_slice(b"],\"next_cursor\":");
        match next_cursor {
            Some(cursor) => push_json(&mut out, &cursor)?,
            None => out.extend_from_slice(b"null"),
        }
        out.push(b'}');
        Ok(out)
    }
}

/// A JSON object written straight from a row (a list page's item, a single record): its
/// fields come out in the order they are added, as `serde_json` writes a struct's.
pub struct JsonObject<'a> {
    out: &'a mut Vec<u8>,
    empty: bool,
}

impl JsonObject<'_> {
    /// Appends to `out` the object whose fields `fields` writes.
    pub fn write(
        out: &mut Vec<u8>,
        fields: impl FnOnce(&mut JsonObject<'_>) -> AppResult<()>,
    ) -> AppResult<()> {
        out.push(b'{');
        fields(&mut JsonObject { out, empty: true })?;
        out.push(b'}');
        Ok(())
    }

    /// Starts the field `key` (a plain name that needs no escaping).
    fn key(&mut self, key: &'static str) {
        if !self.empty {
            self.out.push(b',');
        }
        self.empty = false;
        self.out.push(b'"');
        self.out.extend_from_slice(key.as_bytes());
        self.out.extend_from_slice(b"\":");
    }

    /// A text column as a string, or `null`.
    pub fn text(&mut self, key: &'static str, value: ValueRef<'_>) -> AppResult<()> {
        self.key(key);
        match value.as_str_or_null().map_err(rusqlite::Error::from)? {
            Some(text) => push_json(self.out, text),
            None => {
                self.out.extend_from_slice(b"null");
                Ok(())
            }
        }
    }

    /// A text column as a string, left out when it is NULL.
    pub fn text_if_set(&mut self, key: &'static str, value: ValueRef<'_>) -> AppResult<()> {
        match value {
            ValueRef::Null => Ok(()),
            value => self.text(key, value),
        }
    }

    /// An integer column.
    pub fn int(&mut self, key: &'static str, value: ValueRef<'_>) -> AppResult<()> {
        let value = value.as_i64().map_err(rusqlite::Error::from)?;
        self.key(key);
        push_json(self.out, &value)
    }
}

/// A string or number as `serde_json` writes it (strings escaped alike).
fn push_json(out: &mut Vec<u8>, value: &(impl Serialize + ?Sized)) -> AppResult<()> {
    serde_json::to_writer(out, value).map_err(AppError::internal)
}

impl Cursor {
    /// The cursor names the sort and direction it was made for, so it cannot be replayed
    /// against another ordering (which would skip or repeat rows).
    fn encode(&self, sort: &str, desc: bool) -> String {
        let json = serde_json::json!([sort, desc, self.value, self.id]);
        URL_SAFE_NO_PAD.encode(json.to_string())
    }

    fn decode(raw: &str, sort: &str, desc: bool) -> Result<Cursor, FieldError> {
        let bad = || {
            FieldError::new(
                "cursor",
                "is not a cursor from this list; start again without it",
            )
        };
        let bytes = URL_SAFE_NO_PAD.decode(raw).map_err(|_| bad())?;
        let (for_sort, for_desc, value, id): (String, bool, String, String) =
            serde_json::from_slice(&bytes).map_err(|_| bad())?;
        if for_sort != sort || for_desc != desc {
            return Err(bad());
        }
        Ok(Cursor { value, id })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPEC: ListSpec = ListSpec {
        filters: &[
            Filter::new("role", "a role", Takes::Text),
            Filter::new("active", "true or false", Takes::Flag),
        ],
        sorts: &[("name", "name"), ("created_at", "created_at")],
        default_sort: "created_at",
        default_desc: true,
    };

    fn raw(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn defaults() {
        let p = ListParams::parse(&[], &SPEC).unwrap();
        assert_eq!(
            (p.sort, p.desc, p.limit),
            ("created_at", true, DEFAULT_LIMIT)
        );
        assert_eq!(p.order_by(), "created_at DESC, id DESC");
        assert!(p.keyset_condition(1, 2).is_none());
    }

    #[test]
    fn unknown_filters_and_bad_values_are_all_reported() {
        let err = ListParams::parse(
            &raw(&[
                ("colour", "red"),
                ("limit", "0"),
                ("sort", "password_hash"),
                ("order", "up"),
            ]),
            &SPEC,
        )
        .unwrap_err();
        let fields: Vec<_> = err
            .field_errors()
            .iter()
            .map(|e| e.field.as_str())
            .collect();
        assert_eq!(fields, ["colour", "limit", "sort", "order"]);
    }

    #[test]
    fn limit_bounds() {
        assert!(ListParams::parse(&raw(&[("limit", "200")]), &SPEC).is_ok());
        assert!(ListParams::parse(&raw(&[("limit", "201")]), &SPEC).is_err());
        assert!(ListParams::parse(&raw(&[("limit", "-1")]), &SPEC).is_err());
        assert!(ListParams::parse(&raw(&[("limit", "ten")]), &SPEC).is_err());
    }

    #[test]
    fn cursor_round_trips_and_is_tied_to_its_sort() {
        let p = ListParams::parse(
            &raw(&[("limit", "2"), ("sort", "name"), ("order", "asc")]),
            &SPEC,
        )
        .unwrap();
        let page = p.page(vec!["a", "b", "c"], |s| (s.to_string(), format!("id-{s}")));
        assert_eq!(page.items, ["a", "b"]);
        let cursor = page.next_cursor.unwrap();
        let next = ListParams::parse(
            &raw(&[("sort", "name"), ("order", "asc"), ("cursor", &cursor)]),
            &SPEC,
        )
        .unwrap();
        assert_eq!(
            next.after,
            Some(Cursor {
                value: "b".into(),
                id: "id-b".into()
            })
        );
        assert_eq!(
            next.keyset_condition(1, 2).unwrap(),
            "(name >= ?1 AND (name > ?1 OR (name = ?1 AND id > ?2)))"
        );
        // The same cursor with another sort or direction would skip or repeat rows: refused.
        assert!(ListParams::parse(&raw(&[("cursor", &cursor)]), &SPEC).is_err());
        assert!(ListParams::parse(&raw(&[("sort", "name"), ("cursor", &cursor)]), &SPEC).is_err());
        assert!(ListParams::parse(&raw(&[("cursor", "garbage!")]), &SPEC).is_err());
    }

    #[test]
    fn last_page_has_no_cursor() {
        let p = ListParams::parse(&raw(&[("limit", "3")]), &SPEC).unwrap();
        let page = p.page(vec![1, 2, 3], |n| (n.to_string(), n.to_string()));
        assert_eq!(page.items.len(), 3);
        assert!(page.next_cursor.is_none());
    }
}
