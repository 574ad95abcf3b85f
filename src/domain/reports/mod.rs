//! The dashboard's figures, read from report tables that triggers keep current on every
//! write (migrations 0008 and 0009). The API and the `/` page both call [`dashboard`].
//! Days and months are the instance's local ones (`--timezone`): the tables key figures by
//! `local_day` (see `db::local_day`), and the period's days are local days.

mod figures;
mod period;
#[cfg(test)]
pub(crate) mod scratch;
#[cfg(test)]
mod tests;

use rusqlite::Connection;
use serde::Serialize;

use crate::domain::clock::Zone;
use crate::domain::currency::Currency;
use crate::error::{AppError, AppResult};

pub use period::{DEFAULT_DAYS, MAX_DAYS, Period, day_string, spans};

/// An amount in one currency. Currencies are never summed into each other.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Amount {
    /// ISO 4217 code.
    pub currency: String,
    /// In the currency's minor unit (cents).
    pub value_cents: i64,
}

/// Everything the dashboard draws. Money fields are absent for support users.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Dashboard {
    /// First day of the period (inclusive, `YYYY-MM-DD`).
    pub from: String,
    /// Last day of the period (inclusive).
    pub to: String,
    /// The IANA time zone whose days and months these are (`--timezone`), e.g. `UTC` or
    /// `America/New_York`.
    pub timezone: String,
    /// Whose figures these are; absent for the whole team.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owner_id: Option<String>,
    /// The server's base currency (`--base-currency`), listed first in every amount list.
    pub base_currency: String,
    pub kpis: Kpis,
    /// Leads created in the period, by `source` (most first; `null` when none was given).
    pub leads_by_source: Vec<SourceCount>,
    /// Live leads in each open stage now (not date-filtered), in pipeline order.
    pub pipeline_by_stage: Vec<StageFigure>,
    /// Twelve calendar months ending with the month of `to` (cut at `to`).
    pub trend: Vec<MonthFigure>,
    /// One row per owner with leads created, leads closed or activities logged in the period.
    pub reps: Vec<RepFigure>,
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Kpis {
    /// Sum of `value_cents` of live leads in open stages now, per currency.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub open_pipeline: Option<Vec<Amount>>,
    /// Sum over open stages of value × stage probability / 100 (rounded down), per currency.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub weighted_forecast: Option<Vec<Amount>>,
    /// Value of leads in a won stage whose `closed_at` falls in the period, per currency.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub won: Option<Vec<Amount>>,
    /// Won value ÷ won count in the period, per currency (rounded down).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub average_won: Option<Vec<Amount>>,
    /// Leads won (by `closed_at`) in the period.
    pub won_count: i64,
    /// Leads lost (by `closed_at`) in the period.
    pub lost_count: i64,
    /// won ÷ (won + lost) for leads closed in the period; `null` when none closed.
    pub win_rate: Option<f64>,
    /// Live leads whose `created_at` falls in the period.
    pub leads_created: i64,
    /// Live, unfinished tasks due before today.
    pub tasks_overdue: i64,
    /// Live, unfinished tasks due today.
    pub tasks_due_today: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct SourceCount {
    pub source: Option<String>,
    pub leads: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct StageFigure {
    pub stage: String,
    pub label: String,
    /// Percent, for the weighted forecast.
    pub probability: i64,
    pub leads: i64,
    /// Value per currency; absent for support users.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub amounts: Option<Vec<Amount>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct MonthFigure {
    /// `YYYY-MM`.
    pub month: String,
    /// Leads created in the month.
    pub created: i64,
    /// Leads won (by `closed_at`) in the month.
    pub won: i64,
    /// Leads lost (by `closed_at`) in the month.
    pub lost: i64,
}

/// A lead or task owner's figures: the assignee, or the creator when nobody is assigned.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct RepFigure {
    /// `null` for records nobody owns.
    pub user_id: Option<String>,
    pub name: String,
    pub leads_created: i64,
    pub won_count: i64,
    pub lost_count: i64,
    /// won ÷ (won + lost) in the period; `null` when none closed.
    pub win_rate: Option<f64>,
    /// Won value in the period per currency; absent for support users.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub won: Option<Vec<Amount>>,
    /// Activities the rep logged, by `occurred_at` in the period.
    pub activities: i64,
    /// Median hours from creation to the first activity about the lead, over the rep's
    /// leads created in the period that have one (negative gaps count as 0).
    pub response_hours_median: Option<f64>,
    /// How many leads the median is over.
    pub responded_leads: i64,
}

/// Every stage's live leads now and their value per currency, base currency first, from the
/// rollup that writes keep current (the pipeline board's column headers, which show only the
/// first cards). `owner_id` narrows them to one owner: the assignee, or the creator of an
/// unassigned lead. Amounts are for the caller to hide from those who may not see money.
pub fn stage_totals(
    conn: &Connection,
    owner_id: Option<&str>,
    base: &Currency,
) -> AppResult<Vec<StageFigure>> {
    figures::pipeline(conn, owner_id, base.as_str(), true)
}

/// The dashboard for `period`, as of `today` (the tasks' overdue and due-today split), both
/// in `zone`: the zone the connection's report tables are built for.
pub fn dashboard(
    conn: &Connection,
    period: &Period,
    base: &Currency,
    zone: &Zone,
    today: time::Date,
) -> AppResult<Dashboard> {
    if let Some(owner) = &period.owner_id {
        require_user(conn, owner)?;
    }
    figures::compute(conn, period, base.as_str(), zone, today)
}

fn require_user(conn: &Connection, id: &str) -> AppResult<()> {
    let found: bool = conn
        .prepare_cached("SELECT EXISTS (SELECT 1 FROM users WHERE id = ?1)")?
        .query_row([id], |r| r.get(0))?;
    if found {
        Ok(())
    } else {
        Err(AppError::Validation(vec![crate::error::FieldError::new(
            "owner_id",
            "no such user",
        )]))
    }
}

/// Recomputes every report table from the records, by the local days of the connection's
/// `local_day`: after a bulk load that ran without the triggers, when the instance's
/// timezone changed (`db::local_day::adopt`), or to repair a database.
pub fn rebuild(conn: &Connection) -> AppResult<()> {
    conn.execute_batch(include_str!(
        "../../db/migrations/0009_reports_backfill.sql"
    ))?;
    Ok(())
}

/// Runs `fill` (a bulk load in the caller's transaction) with the report triggers dropped,
/// then puts them back and rebuilds the tables in a few grouped scans: far cheaper than
/// millions of one-row upserts. DDL is transactional, so a failure rolls it all back.
pub fn bulk<T>(conn: &Connection, fill: impl FnOnce(&Connection) -> AppResult<T>) -> AppResult<T> {
    // The records' report triggers, and the delta tables' (nothing writes a delta meanwhile).
    let filled = crate::db::without_triggers(conn, "report\\_%", fill)?;
    rebuild(conn)?;
    Ok(filled)
}

/// Orders amounts with the base currency first, then by code.
fn sort_amounts(amounts: &mut [Amount], base: &str) {
    amounts
        .sort_by(|a, b| (a.currency != base, &a.currency).cmp(&(b.currency != base, &b.currency)));
}

/// won ÷ (won + lost), or `None` when nothing closed.
fn win_rate(won: i64, lost: i64) -> Option<f64> {
    (won + lost > 0).then(|| won as f64 / (won + lost) as f64)
}

/// The median of `values` (sorted here), rounded to a hundredth of an hour.
fn median(values: &mut [f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    let m = if values.len().is_multiple_of(2) {
        (values[mid - 1] + values[mid]) / 2.0
    } else {
        values[mid]
    };
    Some((m * 100.0).round() / 100.0)
}

/// Who may own leads, for the dashboard's rep picker: active admins, managers and sales.
pub fn owners(conn: &Connection) -> AppResult<Vec<(String, String)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, name FROM users WHERE active = 1 AND role IN ('admin', 'manager', 'sales')
          ORDER BY name COLLATE NOCASE, id",
    )?;
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// A CRM with no customers and no leads yet: the page shows how to start instead.
pub fn crm_is_empty(conn: &Connection) -> AppResult<bool> {
    Ok(conn
        .prepare_cached(
            "SELECT NOT EXISTS (SELECT 1 FROM leads) AND NOT EXISTS (SELECT 1 FROM customers)",
        )?
        .query_row([], |r| r.get(0))?)
}
