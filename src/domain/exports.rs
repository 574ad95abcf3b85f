//! CSV export of a whole filtered list: the same filters and sorts as the entity's list
//! (`limit` and `cursor` aside), written row by row to any `io::Write`, so the HTTP stream
//! and `rapport export` share this code and memory stays flat however many rows there are.
//!
//! Cells are UTF-8, dates as stored (RFC 3339 UTC, `YYYY-MM-DD`), tags joined with `;`.
//! Text that a spreadsheet would run as a formula (starting with `=`, `+`, `-`, `@`, tab or
//! carriage return) is prefixed with `'` (OWASP's advice for CSV injection); this also
//! applies to phone numbers written `+1 555 0100`, which then open as text.

use std::borrow::Cow;
use std::io::Write;

use rusqlite::Connection;
use serde_json::{Value, json};

use crate::domain::activities::{self, Activity};
use crate::domain::choice::Choice;
use crate::domain::clock::Timestamp;
use crate::domain::contacts::{self, Contact};
use crate::domain::customers::{self, Customer};
use crate::domain::leads::{self, Lead};
use crate::domain::list::{ListParams, ListSpec};
use crate::domain::records::{self, Kind, Meta};
use crate::domain::tasks::{self, Task};
use crate::error::{AppError, AppResult, Violations};

/// The byte-order mark Excel needs to read a CSV file as UTF-8.
pub const BOM: &[u8] = b"\xEF\xBB\xBF";

/// What can be exported: the five CRM record lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entity(Kind);

impl Entity {
    /// From the plural used in URLs and on the command line (`leads`).
    pub fn parse(plural: &str) -> Option<Entity> {
        Kind::ALL
            .into_iter()
            .find(|k| k.table() == plural)
            .map(Entity)
    }

    pub fn plural(self) -> &'static str {
        self.0.table()
    }

    pub fn kind(self) -> Kind {
        self.0
    }

    fn spec(self, sees_value: bool) -> &'static ListSpec {
        match self.0 {
            Kind::Customer => &customers::LIST,
            Kind::Contact => &contacts::LIST,
            Kind::Lead if sees_value => &leads::LIST,
            Kind::Lead => &leads::LIST_WITHOUT_VALUE,
            Kind::Task => &tasks::LIST,
            Kind::Activity => &activities::LIST,
        }
    }
}

/// One export request, checked.
#[derive(Debug, Clone)]
pub struct Export {
    pub entity: Entity,
    pub params: ListParams,
    /// Start with a UTF-8 byte-order mark (for Excel).
    pub bom: bool,
    /// Whether the lead `value_cents` column is written (absent for roles that may not see
    /// lead values).
    pub with_value: bool,
    /// The list parameters as given, for the audit entry.
    pub filters: Vec<(String, String)>,
}

/// `LIMIT` for a whole list: every list query asks for `limit + 1` rows.
const ALL_ROWS: u32 = u32::MAX - 1;

impl Export {
    /// Parses the list parameters of `entity` plus `bom=true|false`. `limit` and `cursor`
    /// make no sense for a whole-list export and are refused (422) like any unknown filter.
    pub fn parse(entity: Entity, raw: &[(String, String)], with_value: bool) -> AppResult<Export> {
        let mut v = Violations::new();
        let mut bom = false;
        let mut rest = Vec::new();
        for (key, value) in raw {
            match key.as_str() {
                "bom" => match value.as_str() {
                    "true" => bom = true,
                    "false" | "" => bom = false,
                    _ => v.add("bom", "must be true or false"),
                },
                "limit" | "cursor" => v.add(key, "is not used by exports: they hold every row"),
                _ => rest.push((key.clone(), value.clone())),
            }
        }
        let parsed = ListParams::parse(&rest, entity.spec(with_value));
        let mut params = match (parsed, v.into_result()) {
            (Ok(p), Ok(())) => p,
            (Err(a), Err(b)) => {
                return Err(AppError::Validation(
                    [b.field_errors(), a.field_errors()].concat(),
                ));
            }
            (Err(e), _) | (_, Err(e)) => return Err(e),
        };
        params.limit = ALL_ROWS;
        // Checks the filter values now (422 before the first byte), not mid-stream.
        query(entity, &params)?;
        Ok(Export {
            entity,
            params,
            bom,
            with_value: with_value || entity.kind() != Kind::Lead,
            filters: rest,
        })
    }

    /// The records `ids` of `entity` (a list's selection), in the list's default order, with
    /// the same columns as a whole export. Ids that are not live records are left out.
    pub fn selection(entity: Entity, ids: Vec<String>, with_value: bool) -> AppResult<Export> {
        if ids.is_empty() {
            return Err(AppError::invalid("ids", "select at least one record"));
        }
        let mut params = ListParams::parse(&[], entity.spec(with_value))?;
        params.limit = ALL_ROWS;
        let filters = vec![("ids".to_owned(), ids.join(","))];
        params.ids = Some(ids);
        Ok(Export {
            entity,
            params,
            bom: false,
            with_value: with_value || entity.kind() != Kind::Lead,
            filters,
        })
    }

    /// The suggested file name, e.g. `leads-2026-11-22.csv`.
    pub fn filename(&self, today: &str) -> String {
        format!("{}-{today}.csv", self.entity.plural())
    }

    /// What the audit entry records: the filters and the rows written.
    pub fn audit_details(&self, rows: u64, complete: bool) -> Value {
        let filters: serde_json::Map<String, Value> = self
            .filters
            .iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect();
        json!({ "filters": filters, "rows": rows, "complete": complete })
    }

    /// The audit action, `export.leads`.
    pub fn action(&self) -> String {
        format!("export.{}", self.entity.plural())
    }
}

fn query(entity: Entity, params: &ListParams) -> AppResult<(String, Vec<rusqlite::types::Value>)> {
    match entity.kind() {
        Kind::Customer => customers::list_query(params),
        Kind::Contact => contacts::list_query(params),
        Kind::Lead => leads::list::list_query(params),
        Kind::Task => tasks::list_query(params, &Timestamp::now().to_stored()),
        Kind::Activity => activities::list_query(params),
    }
}

/// Writes the header and every row of `export` to `out`, returning the number of rows.
/// Rows are read and written one at a time; `out` decides how they are buffered.
pub fn write(conn: &Connection, export: &Export, out: impl Write) -> AppResult<u64> {
    let mut rows = 0;
    write_counted(conn, export, out, &mut rows)?;
    Ok(rows)
}

/// [`write`], counting the rows written in `n` as it goes (so a caller knows how far an
/// export got when it fails midway).
pub fn write_counted(
    conn: &Connection,
    export: &Export,
    out: impl Write,
    n: &mut u64,
) -> AppResult<()> {
    let mut out = out;
    if export.bom {
        out.write_all(BOM).map_err(io_error)?;
    }
    let mut csv = csv::WriterBuilder::new()
        .buffer_capacity(16 * 1024)
        .from_writer(out);
    let (sql, args) = query(export.entity, &export.params)?;
    let mut stmt = conn.prepare(&sql)?;
    let mut rows = stmt.query(rusqlite::params_from_iter(args))?;
    let kind = export.entity.kind();
    match kind {
        Kind::Customer => {
            write_header(&mut csv, CUSTOMER_HEADER)?;
            while let Some(row) = rows.next()? {
                let c = customers::from_row(row)?;
                let tags = records::tags(conn, kind, &c.meta.id)?;
                customer_cells(&mut csv, &c, &tags.join(";"))?;
                *n += 1;
            }
        }
        Kind::Contact => {
            write_header(&mut csv, CONTACT_HEADER)?;
            while let Some(row) = rows.next()? {
                let c = contacts::from_row(row)?;
                let tags = records::tags(conn, kind, &c.meta.id)?;
                contact_cells(&mut csv, &c, &tags.join(";"))?;
                *n += 1;
            }
        }
        Kind::Lead => {
            let header: Vec<&str> = LEAD_HEADER
                .iter()
                .copied()
                .filter(|h| export.with_value || *h != "value_cents")
                .collect();
            write_header(&mut csv, &header)?;
            while let Some(row) = rows.next()? {
                let mut lead = leads::from_row(row)?;
                if !export.with_value {
                    lead.value_cents = None;
                }
                lead_cells(&mut csv, &lead)?;
                *n += 1;
            }
        }
        Kind::Task => {
            write_header(&mut csv, TASK_HEADER)?;
            while let Some(row) = rows.next()? {
                task_cells(&mut csv, &tasks::from_row(row)?)?;
                *n += 1;
            }
        }
        Kind::Activity => {
            write_header(&mut csv, ACTIVITY_HEADER)?;
            while let Some(row) = rows.next()? {
                activity_cells(&mut csv, &activities::from_row(row)?)?;
                *n += 1;
            }
        }
    }
    csv.flush().map_err(io_error)
}

type Csv<W> = csv::Writer<W>;

const META_TAIL: [&str; 4] = ["created_at", "updated_at", "created_by", "version"];

const CUSTOMER_HEADER: &[&str] = &[
    "id",
    "name",
    "domain",
    "industry",
    "segment",
    "phone",
    "address",
    "owner_id",
    "tags",
    "created_at",
    "updated_at",
    "created_by",
    "version",
];

const CONTACT_HEADER: &[&str] = &[
    "id",
    "customer_id",
    "first_name",
    "last_name",
    "email",
    "phone",
    "title",
    "owner_id",
    "tags",
    "created_at",
    "updated_at",
    "created_by",
    "version",
];

const LEAD_HEADER: &[&str] = &[
    "id",
    "title",
    "customer_id",
    "contact_id",
    "stage",
    "value_cents",
    "currency",
    "source",
    "assigned_to",
    "expected_close_date",
    "lost_reason",
    "company_name",
    "contact_name",
    "email",
    "phone",
    "stage_changed_at",
    "closed_at",
    "created_at",
    "updated_at",
    "created_by",
    "version",
];

const TASK_HEADER: &[&str] = &[
    "id",
    "title",
    "description",
    "due_at",
    "remind_at",
    "priority",
    "status",
    "assigned_to",
    "lead_id",
    "customer_id",
    "contact_id",
    "completed_at",
    "completed_by",
    "created_at",
    "updated_at",
    "created_by",
    "version",
];

const ACTIVITY_HEADER: &[&str] = &[
    "id",
    "subject_type",
    "subject_id",
    "kind",
    "body",
    "occurred_at",
    "created_at",
    "updated_at",
    "created_by",
    "version",
];

fn write_header<W: Write>(csv: &mut Csv<W>, header: &[&str]) -> AppResult<()> {
    debug_assert!(header.ends_with(&META_TAIL));
    csv.write_record(header).map_err(csv_error)
}

/// A text cell, neutralised against formula injection.
fn text<W: Write>(csv: &mut Csv<W>, value: &str) -> AppResult<()> {
    csv.write_field(neutralise(value).as_bytes())
        .map_err(csv_error)
}

fn opt<W: Write>(csv: &mut Csv<W>, value: &Option<String>) -> AppResult<()> {
    text(csv, value.as_deref().unwrap_or(""))
}

/// `created_at, updated_at, created_by, version`, then the end of the record.
fn meta_tail<W: Write>(csv: &mut Csv<W>, meta: &Meta) -> AppResult<()> {
    text(csv, &meta.created_at)?;
    text(csv, &meta.updated_at)?;
    opt(csv, &meta.created_by)?;
    text(csv, &meta.version.to_string())?;
    csv.write_record(None::<&[u8]>).map_err(csv_error)
}

fn customer_cells<W: Write>(csv: &mut Csv<W>, c: &Customer, tags: &str) -> AppResult<()> {
    text(csv, &c.meta.id)?;
    text(csv, &c.name)?;
    for v in [
        &c.domain,
        &c.industry,
        &c.segment,
        &c.phone,
        &c.address,
        &c.owner_id,
    ] {
        opt(csv, v)?;
    }
    text(csv, tags)?;
    meta_tail(csv, &c.meta)
}

fn contact_cells<W: Write>(csv: &mut Csv<W>, c: &Contact, tags: &str) -> AppResult<()> {
    text(csv, &c.meta.id)?;
    opt(csv, &c.customer_id)?;
    text(csv, &c.first_name)?;
    for v in [&c.last_name, &c.email, &c.phone, &c.title, &c.owner_id] {
        opt(csv, v)?;
    }
    text(csv, tags)?;
    meta_tail(csv, &c.meta)
}

fn lead_cells<W: Write>(csv: &mut Csv<W>, l: &Lead) -> AppResult<()> {
    text(csv, &l.meta.id)?;
    text(csv, &l.title)?;
    opt(csv, &l.customer_id)?;
    opt(csv, &l.contact_id)?;
    text(csv, &l.stage)?;
    if let Some(value) = l.value_cents {
        text(csv, &value.to_string())?;
    }
    text(csv, &l.currency)?;
    for v in [
        &l.source,
        &l.assigned_to,
        &l.expected_close_date,
        &l.lost_reason,
        &l.company_name,
        &l.contact_name,
        &l.email,
        &l.phone,
    ] {
        opt(csv, v)?;
    }
    text(csv, &l.stage_changed_at)?;
    opt(csv, &l.closed_at)?;
    meta_tail(csv, &l.meta)
}

fn task_cells<W: Write>(csv: &mut Csv<W>, t: &Task) -> AppResult<()> {
    text(csv, &t.meta.id)?;
    text(csv, &t.title)?;
    for v in [&t.description, &t.due_at, &t.remind_at] {
        opt(csv, v)?;
    }
    text(csv, t.priority.as_str())?;
    text(csv, t.status.as_str())?;
    for v in [
        &t.assigned_to,
        &t.lead_id,
        &t.customer_id,
        &t.contact_id,
        &t.completed_at,
        &t.completed_by,
    ] {
        opt(csv, v)?;
    }
    meta_tail(csv, &t.meta)
}

fn activity_cells<W: Write>(csv: &mut Csv<W>, a: &Activity) -> AppResult<()> {
    text(csv, &a.meta.id)?;
    text(csv, a.subject_type.as_str())?;
    text(csv, &a.subject_id)?;
    text(csv, a.kind.as_str())?;
    text(csv, &a.body)?;
    text(csv, &a.occurred_at)?;
    meta_tail(csv, &a.meta)
}

/// Prefixes `'` to text a spreadsheet would evaluate as a formula.
pub fn neutralise(value: &str) -> Cow<'_, str> {
    if value.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        Cow::Owned(format!("'{value}"))
    } else {
        Cow::Borrowed(value)
    }
}

fn csv_error(e: csv::Error) -> AppError {
    match e.into_kind() {
        csv::ErrorKind::Io(io) => io_error(io),
        other => AppError::internal(format!("csv: {other:?}")),
    }
}

fn io_error(e: std::io::Error) -> AppError {
    AppError::internal(format!("export output: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_neutralised_and_plain_text_is_not() {
        for bad in [
            "=HYPERLINK(\"http://x\")",
            "+1 555 0100",
            "-2+3",
            "@SUM(A1)",
            "\tx",
            "\rx",
        ] {
            assert_eq!(neutralise(bad), format!("'{bad}"));
        }
        for fine in ["Acme", "", "2026-01-01", "a=b", " =x", "'quoted"] {
            assert!(matches!(neutralise(fine), Cow::Borrowed(_)), "{fine}");
        }
    }

    #[test]
    fn entities_are_the_five_lists() {
        for name in ["customers", "contacts", "leads", "tasks", "activities"] {
            assert_eq!(Entity::parse(name).unwrap().plural(), name);
        }
        assert!(Entity::parse("users").is_none());
        assert!(Entity::parse("lead").is_none());
    }

    fn raw(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn limit_cursor_and_bad_filters_are_refused() {
        let leads = Entity::parse("leads").unwrap();
        let err = Export::parse(
            leads,
            &raw(&[("limit", "5"), ("bom", "yes"), ("colour", "red")]),
            true,
        )
        .unwrap_err();
        let mut fields: Vec<_> = err.field_errors().iter().map(|e| e.field.clone()).collect();
        fields.sort();
        assert_eq!(fields, ["bom", "colour", "limit"]);
        assert!(Export::parse(leads, &raw(&[("value_min", "x")]), true).is_err());
        // Without value rights, value is not a filter at all, and not a column.
        assert!(Export::parse(leads, &raw(&[("value_min", "1")]), false).is_err());
        let e = Export::parse(leads, &raw(&[("stage", "won"), ("bom", "true")]), false).unwrap();
        assert!(e.bom && !e.with_value);
    }

    #[test]
    fn writes_header_rows_and_neutralised_cells() {
        let mut conn = crate::db::connection::open_in_memory().unwrap();
        crate::db::migrations::migrate(&mut conn, "mem").unwrap();
        conn.execute_batch(
            "INSERT INTO customers (id, name, phone, created_at, updated_at)
             VALUES ('c1', '=cmd|''/C calc''!A0', '+1 555 0100', '2026-01-01T00:00:00.000Z',
                     '2026-01-01T00:00:00.000Z'),
                    ('c2', 'Plain, \"quoted\"', NULL, '2026-01-02T00:00:00.000Z',
                     '2026-01-02T00:00:00.000Z');
             INSERT INTO customer_tags VALUES ('c1', 'vip'), ('c1', 'renewal');",
        )
        .unwrap();
        let export = Export::parse(
            Entity::parse("customers").unwrap(),
            &raw(&[("sort", "name"), ("order", "asc"), ("bom", "true")]),
            true,
        )
        .unwrap();
        let mut out = Vec::new();
        assert_eq!(write(&conn, &export, &mut out).unwrap(), 2);
        assert!(out.starts_with(BOM));
        let mut reader = csv::Reader::from_reader(&out[BOM.len()..]);
        assert_eq!(reader.headers().unwrap(), CUSTOMER_HEADER);
        let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
        assert_eq!(&rows[0][1], "'=cmd|'/C calc'!A0");
        assert_eq!(&rows[0][5], "'+1 555 0100");
        assert_eq!(&rows[0][8], "renewal;vip");
        assert_eq!(&rows[1][1], "Plain, \"quoted\"");
        assert_eq!(&rows[1][9], "2026-01-02T00:00:00.000Z");
    }

    #[test]
    fn a_selection_writes_exactly_its_live_rows() {
        let mut conn = crate::db::connection::open_in_memory().unwrap();
        crate::db::migrations::migrate(&mut conn, "mem").unwrap();
        conn.execute_batch(
            "INSERT INTO customers (id, name, created_at, updated_at) VALUES
                ('c1', 'One', '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z'),
                ('c2', 'Two', '2026-01-02T00:00:00.000Z', '2026-01-02T00:00:00.000Z'),
                ('c3', 'Three', '2026-01-03T00:00:00.000Z', '2026-01-03T00:00:00.000Z');
             UPDATE customers SET deleted_at = '2026-02-01T00:00:00.000Z' WHERE id = 'c3';",
        )
        .unwrap();
        let customers = Entity::parse("customers").unwrap();
        let ids = vec!["c1".to_owned(), "c3".to_owned(), "nope".to_owned()];
        let export = Export::selection(customers, ids, true).unwrap();
        let mut out = Vec::new();
        assert_eq!(write(&conn, &export, &mut out).unwrap(), 1);
        let mut reader = csv::Reader::from_reader(&out[..]);
        let names: Vec<String> = reader.records().map(|r| r.unwrap()[1].to_owned()).collect();
        assert_eq!(names, ["One"]);
        assert_eq!(export.filters, raw(&[("ids", "c1,c3,nope")]));
        assert!(Export::selection(customers, Vec::new(), true).is_err());
    }
}
