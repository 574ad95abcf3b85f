//! The dashboard's queries over the report tables: each sums a few hundred small rows.

use std::collections::BTreeMap;

use rusqlite::{Connection, OptionalExtension, params};
use time::{Date, Duration};

use super::{
    Amount, Dashboard, Kpis, MonthFigure, Period, RepFigure, SourceCount, StageFigure, day_string,
    median, sort_amounts, spans, win_rate,
};
use crate::domain::clock::Zone;
use crate::error::{AppError, AppResult};

/// Per-owner sums over the period, merged from the report tables.
#[derive(Default)]
struct Owner {
    created: i64,
    won: i64,
    lost: i64,
    /// Won (count, value) per currency.
    won_by_currency: BTreeMap<String, (i64, i64)>,
    activities: i64,
    response_hours: Vec<f64>,
}

pub(super) fn compute(
    conn: &Connection,
    period: &Period,
    base: &str,
    zone: &Zone,
    today: Date,
) -> AppResult<Dashboard> {
    let from = day_string(period.from);
    let to = day_string(period.to);
    let owner = period.owner_id.as_deref();
    let mut owners: BTreeMap<String, Owner> = BTreeMap::new();
    let period_spans = spans(period.from, period.to);
    let by_source = created(conn, &period_spans, owner, &mut owners)?;
    closed(conn, &period_spans, owner, &mut owners)?;
    activities(conn, &period_spans, owner, &mut owners)?;
    // Response times read the leads themselves: the period's local days as UTC instants.
    let start = |day: Date| {
        zone.start_of(day)
            .map(|t| t.to_stored())
            .ok_or_else(|| AppError::internal(format!("no start of {day} in {zone}")))
    };
    let (first, after) = (start(period.from)?, start(period.to + Duration::days(1))?);
    response_hours(conn, &first, &after, owner, &mut owners)?;
    let stages = pipeline(conn, owner, base, false)?;
    let (tasks_overdue, tasks_due_today) = tasks_due(conn, &day_string(today), owner)?;
    let kpis = kpis(&owners, &stages, base, tasks_overdue, tasks_due_today);
    let reps = reps(conn, owners, base)?;
    let mut dashboard = Dashboard {
        from,
        to: to.clone(),
        timezone: zone.name().to_owned(),
        owner_id: period.owner_id.clone(),
        base_currency: base.to_owned(),
        kpis,
        leads_by_source: by_source,
        pipeline_by_stage: stages,
        trend: trend(conn, period, owner)?,
        reps,
    };
    if !period.money {
        hide_money(&mut dashboard);
    }
    Ok(dashboard)
}

/// Support users see counts only: every amount goes, not just the totals.
pub(super) fn hide_money(d: &mut Dashboard) {
    d.kpis.open_pipeline = None;
    d.kpis.weighted_forecast = None;
    d.kpis.won = None;
    d.kpis.average_won = None;
    for stage in &mut d.pipeline_by_stage {
        stage.amounts = None;
    }
    for rep in &mut d.reps {
        rep.won = None;
    }
}

/// Leads created in the period, per owner, and the by-source chart (most first).
fn created(
    conn: &Connection,
    spans: &[(String, String)],
    owner: Option<&str>,
    owners: &mut BTreeMap<String, Owner>,
) -> AppResult<Vec<SourceCount>> {
    let mut stmt = conn.prepare_cached(
        "SELECT owner_id, source, sum(leads) FROM report_created
          WHERE day BETWEEN ?1 AND ?2 AND (?3 IS NULL OR owner_id = ?3)
          GROUP BY owner_id, source",
    )?;
    let mut sources: BTreeMap<String, i64> = BTreeMap::new();
    for (lo, hi) in spans {
        let mut rows = stmt.query(params![lo, hi, owner])?;
        while let Some(r) = rows.next()? {
            let (owner_id, source, n): (String, String, i64) = (r.get(0)?, r.get(1)?, r.get(2)?);
            owners.entry(owner_id).or_default().created += n;
            *sources.entry(source).or_default() += n;
        }
    }
    let mut by_source: Vec<SourceCount> = sources
        .into_iter()
        .filter(|(_, n)| *n > 0)
        .map(|(source, leads)| SourceCount {
            source: (!source.is_empty()).then_some(source),
            leads,
        })
        .collect();
    by_source.sort_by(|a, b| b.leads.cmp(&a.leads).then_with(|| a.source.cmp(&b.source)));
    Ok(by_source)
}

fn closed(
    conn: &Connection,
    spans: &[(String, String)],
    owner: Option<&str>,
    owners: &mut BTreeMap<String, Owner>,
) -> AppResult<()> {
    let mut stmt = conn.prepare_cached(
        "SELECT owner_id, currency, sum(won), sum(won_cents), sum(lost) FROM report_closed
          WHERE day BETWEEN ?1 AND ?2 AND (?3 IS NULL OR owner_id = ?3)
          GROUP BY owner_id, currency",
    )?;
    for (lo, hi) in spans {
        let mut rows = stmt.query(params![lo, hi, owner])?;
        while let Some(r) = rows.next()? {
            let o = owners.entry(r.get(0)?).or_default();
            let (won, cents, lost): (i64, i64, i64) = (r.get(2)?, r.get(3)?, r.get(4)?);
            o.won += won;
            o.lost += lost;
            if won > 0 {
                let entry = o.won_by_currency.entry(r.get(1)?).or_default();
                entry.0 += won;
                entry.1 += cents;
            }
        }
    }
    Ok(())
}

fn activities(
    conn: &Connection,
    spans: &[(String, String)],
    owner: Option<&str>,
    owners: &mut BTreeMap<String, Owner>,
) -> AppResult<()> {
    let mut stmt = conn.prepare_cached(
        "SELECT owner_id, sum(activities) FROM report_activities
          WHERE day BETWEEN ?1 AND ?2 AND (?3 IS NULL OR owner_id = ?3)
          GROUP BY owner_id",
    )?;
    for (lo, hi) in spans {
        let mut rows = stmt.query(params![lo, hi, owner])?;
        while let Some(r) = rows.next()? {
            owners.entry(r.get(0)?).or_default().activities += r.get::<_, i64>(1)?;
        }
    }
    Ok(())
}

/// Each lead created in [?1, ?2) that has an activity, by owner (?3: one owner or all).
pub(super) const RESPONSE_HOURS: &str = "SELECT ifnull(assigned_to, ifnull(created_by, '')),
                max(0.0, (julianday(first_activity_at) - julianday(created_at)) * 24.0)
           FROM leads
          WHERE deleted_at IS NULL AND created_at >= ?1 AND created_at < ?2
            AND first_activity_at IS NOT NULL
            AND (?3 IS NULL OR ifnull(assigned_to, ifnull(created_by, '')) = ?3)";

/// One value per lead (a median cannot be summed), read from the index `leads_response_hours`
/// (migration 0011), which holds each lead's hours already worked out: the expressions here
/// must stay exactly as the index spells them.
fn response_hours(
    conn: &Connection,
    from: &str,
    before: &str,
    owner: Option<&str>,
    owners: &mut BTreeMap<String, Owner>,
) -> AppResult<()> {
    let mut stmt = conn.prepare_cached(RESPONSE_HOURS)?;
    let mut rows = stmt.query(params![from, before, owner])?;
    while let Some(r) = rows.next()? {
        owners
            .entry(r.get(0)?)
            .or_default()
            .response_hours
            .push(r.get(1)?);
    }
    Ok(())
}

/// Stages in pipeline order (the open ones only, unless `all`), with each one's leads and
/// value per currency.
pub(super) fn pipeline(
    conn: &Connection,
    owner: Option<&str>,
    base: &str,
    all: bool,
) -> AppResult<Vec<StageFigure>> {
    let mut stages: Vec<StageFigure> = conn
        .prepare_cached(
            "SELECT key, label, probability FROM stages WHERE ?1 OR kind = 'open'
              ORDER BY position, key",
        )?
        .query_map([all], |r| {
            Ok(StageFigure {
                stage: r.get(0)?,
                label: r.get(1)?,
                probability: r.get(2)?,
                leads: 0,
                amounts: Some(Vec::new()),
            })
        })?
        .collect::<Result<_, _>>()?;
    // The rollup is summed on its own and matched to the stages here: joined to `stages`,
    // SQLite built an automatic index over the whole rollup for every request (0.8 ms of a
    // 4 ms dashboard). Rows emptied by later writes stay behind with zero leads.
    let mut sums = conn.prepare_cached(
        "SELECT stage, currency, sum(leads), sum(value_cents) FROM report_pipeline
          WHERE ?1 IS NULL OR owner_id = ?1
          GROUP BY stage, currency HAVING sum(leads) > 0",
    )?;
    let mut rows = sums.query([owner])?;
    while let Some(r) = rows.next()? {
        let key: String = r.get(0)?;
        if let Some(stage) = stages.iter_mut().find(|s| s.stage == key) {
            stage.leads += r.get::<_, i64>(2)?;
            stage.amounts.get_or_insert_with(Vec::new).push(Amount {
                currency: r.get(1)?,
                value_cents: r.get(3)?,
            });
        }
    }
    for stage in &mut stages {
        sort_amounts(stage.amounts.get_or_insert_with(Vec::new), base);
    }
    Ok(stages)
}

/// Unfinished tasks due before today, and due today.
fn tasks_due(conn: &Connection, today: &str, owner: Option<&str>) -> AppResult<(i64, i64)> {
    let mut stmt = conn.prepare_cached(
        "SELECT ifnull(sum(tasks) FILTER (WHERE day < ?1), 0),
                ifnull(sum(tasks) FILTER (WHERE day = ?1), 0)
           FROM report_tasks_due WHERE day <= ?1 AND (?2 IS NULL OR owner_id = ?2)",
    )?;
    Ok(stmt.query_row(params![today, owner], |r| Ok((r.get(0)?, r.get(1)?)))?)
}

/// Created, won and lost per month over the twelve months up to `to`.
fn trend(conn: &Connection, period: &Period, owner: Option<&str>) -> AppResult<Vec<MonthFigure>> {
    // Month keys carry an `m` prefix; either kind of key starts its month after it.
    let mut out: BTreeMap<String, (i64, i64, i64)> = BTreeMap::new();
    let mut created = conn.prepare_cached(
        "SELECT substr(ltrim(day, 'm'), 1, 7), sum(leads) FROM report_created
          WHERE day BETWEEN ?1 AND ?2 AND (?3 IS NULL OR owner_id = ?3) GROUP BY 1",
    )?;
    let mut closed = conn.prepare_cached(
        "SELECT substr(ltrim(day, 'm'), 1, 7), sum(won), sum(lost) FROM report_closed
          WHERE day BETWEEN ?1 AND ?2 AND (?3 IS NULL OR owner_id = ?3) GROUP BY 1",
    )?;
    for (lo, hi) in spans(period.trend_from(), period.to) {
        let mut rows = created.query(params![lo, hi, owner])?;
        while let Some(r) = rows.next()? {
            out.entry(r.get(0)?).or_default().0 += r.get::<_, i64>(1)?;
        }
        let mut rows = closed.query(params![lo, hi, owner])?;
        while let Some(r) = rows.next()? {
            let m = out.entry(r.get(0)?).or_default();
            m.1 += r.get::<_, i64>(1)?;
            m.2 += r.get::<_, i64>(2)?;
        }
    }
    Ok(twelve_months(&day_string(period.trend_from()))
        .into_iter()
        .map(|month| {
            let (created, won, lost) = out.get(&month).copied().unwrap_or_default();
            MonthFigure {
                month,
                created,
                won,
                lost,
            }
        })
        .collect())
}

/// `YYYY-MM` of the twelve months starting with `from`'s.
pub(super) fn twelve_months(from: &str) -> Vec<String> {
    let year: i32 = from.get(0..4).and_then(|y| y.parse().ok()).unwrap_or(2000);
    let month: i32 = from.get(5..7).and_then(|m| m.parse().ok()).unwrap_or(1);
    (0..12)
        .map(|i| {
            let m = month - 1 + i;
            format!("{:04}-{:02}", year + m / 12, m % 12 + 1)
        })
        .collect()
}

fn kpis(
    owners: &BTreeMap<String, Owner>,
    stages: &[StageFigure],
    base: &str,
    tasks_overdue: i64,
    tasks_due_today: i64,
) -> Kpis {
    let mut open: BTreeMap<String, i64> = BTreeMap::new();
    let mut weighted: BTreeMap<String, i64> = BTreeMap::new();
    for stage in stages {
        for a in stage.amounts.iter().flatten() {
            *open.entry(a.currency.clone()).or_default() += a.value_cents;
            *weighted.entry(a.currency.clone()).or_default() += a.value_cents * stage.probability;
        }
    }
    let weighted = weighted.into_iter().map(|(c, v)| (c, v / 100)).collect();
    let mut won: BTreeMap<String, (i64, i64)> = BTreeMap::new();
    for o in owners.values() {
        for (currency, (count, cents)) in &o.won_by_currency {
            let entry = won.entry(currency.clone()).or_default();
            entry.0 += count;
            entry.1 += cents;
        }
    }
    let average = won
        .iter()
        .map(|(c, (count, cents))| (c.clone(), cents / count))
        .collect();
    let (won_total, lost_total) = owners
        .values()
        .fold((0, 0), |(w, l), o| (w + o.won, l + o.lost));
    Kpis {
        open_pipeline: Some(amounts(open, base)),
        weighted_forecast: Some(amounts(weighted, base)),
        won: Some(amounts(
            won.into_iter().map(|(c, (_, v))| (c, v)).collect(),
            base,
        )),
        average_won: Some(amounts(average, base)),
        won_count: won_total,
        lost_count: lost_total,
        win_rate: win_rate(won_total, lost_total),
        leads_created: owners.values().map(|o| o.created).sum(),
        tasks_overdue,
        tasks_due_today,
    }
}

fn amounts(values: BTreeMap<String, i64>, base: &str) -> Vec<Amount> {
    let mut out: Vec<Amount> = values
        .into_iter()
        .map(|(currency, value_cents)| Amount {
            currency,
            value_cents,
        })
        .collect();
    sort_amounts(&mut out, base);
    out
}

/// One row per owner with something in the period, named from `users`, by name.
fn reps(
    conn: &Connection,
    owners: BTreeMap<String, Owner>,
    base: &str,
) -> AppResult<Vec<RepFigure>> {
    let mut name_of = conn.prepare_cached("SELECT name FROM users WHERE id = ?1")?;
    let mut reps = Vec::new();
    for (id, mut o) in owners {
        if o.created == 0 && o.won == 0 && o.lost == 0 && o.activities == 0 {
            continue;
        }
        let name = if id.is_empty() {
            "Unassigned".to_owned()
        } else {
            name_of
                .query_row([&id], |r| r.get(0))
                .optional()?
                .unwrap_or_else(|| id.clone())
        };
        let won = o
            .won_by_currency
            .iter()
            .map(|(c, (_, v))| (c.clone(), *v))
            .collect();
        reps.push(RepFigure {
            user_id: (!id.is_empty()).then_some(id),
            name,
            leads_created: o.created,
            won_count: o.won,
            lost_count: o.lost,
            win_rate: win_rate(o.won, o.lost),
            won: Some(amounts(won, base)),
            activities: o.activities,
            responded_leads: o.response_hours.len() as i64,
            response_hours_median: median(&mut o.response_hours),
        });
    }
    reps.sort_by(|a, b| a.name.cmp(&b.name).then_with(|| a.user_id.cmp(&b.user_id)));
    Ok(reps)
}
