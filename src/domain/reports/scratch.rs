//! The dashboard computed straight from the records, with no report table: the reference
//! the rollups are tested against. Slow and plain on purpose; used only by tests. A record's
//! day is `local_day` of its time, the connection's zone (checked against jiff in
//! `clock::zone`); a month is the first seven characters of that day.

use rusqlite::{Connection, params};
use time::Date;

use super::{
    Amount, Dashboard, Kpis, MonthFigure, Period, RepFigure, SourceCount, StageFigure, day_string,
    median, sort_amounts, win_rate,
};
use crate::domain::clock::Zone;

const OWNER: &str = "ifnull(l.assigned_to, ifnull(l.created_by, ''))";

pub fn dashboard(
    conn: &Connection,
    period: &Period,
    base: &str,
    zone: &Zone,
    today: Date,
) -> Dashboard {
    let from = day_string(period.from);
    let to = day_string(period.to);
    let owner = period.owner_id.as_deref();
    let mut d = Dashboard {
        from: from.clone(),
        to: to.clone(),
        timezone: zone.name().to_owned(),
        owner_id: period.owner_id.clone(),
        base_currency: base.to_owned(),
        kpis: kpis(conn, &from, &to, owner, base, &day_string(today)),
        leads_by_source: by_source(conn, &from, &to, owner),
        pipeline_by_stage: stages(conn, owner, base),
        trend: trend(conn, period, owner),
        reps: reps(conn, &from, &to, base),
    };
    if let Some(owner) = owner {
        d.reps
            .retain(|r| r.user_id.as_deref().unwrap_or("") == owner);
    }
    if !period.money {
        super::figures::hide_money(&mut d);
    }
    d
}

fn amounts(conn: &Connection, sql: &str, p: &[&dyn rusqlite::ToSql], base: &str) -> Vec<Amount> {
    let mut out: Vec<Amount> = conn
        .prepare(sql)
        .unwrap()
        .query_map(p, |r| {
            Ok(Amount {
                currency: r.get(0)?,
                value_cents: r.get(1)?,
            })
        })
        .unwrap()
        .map(Result::unwrap)
        .collect();
    sort_amounts(&mut out, base);
    out
}

fn count(conn: &Connection, sql: &str, p: &[&dyn rusqlite::ToSql]) -> i64 {
    conn.query_row(sql, p, |r| r.get(0)).unwrap()
}

fn kpis(
    conn: &Connection,
    from: &str,
    to: &str,
    owner: Option<&str>,
    base: &str,
    today: &str,
) -> Kpis {
    let open = format!(
        "FROM leads l JOIN stages s ON s.key = l.stage
         WHERE l.deleted_at IS NULL AND s.kind = 'open' AND (?1 IS NULL OR {OWNER} = ?1)
         GROUP BY l.currency"
    );
    let closed = |kind: &str| {
        format!(
            "FROM leads l JOIN stages s ON s.key = l.stage
             WHERE l.deleted_at IS NULL AND s.kind = '{kind}' AND l.closed_at IS NOT NULL
               AND local_day(l.closed_at) BETWEEN ?1 AND ?2 AND (?3 IS NULL OR {OWNER} = ?3)"
        )
    };
    let won_count = count(
        conn,
        &format!("SELECT count(*) {}", closed("won")),
        &[&from, &to, &owner],
    );
    let lost_count = count(
        conn,
        &format!("SELECT count(*) {}", closed("lost")),
        &[&from, &to, &owner],
    );
    let tasks = |op: &str| {
        count(
            conn,
            &format!(
                "SELECT count(*) FROM tasks l WHERE l.deleted_at IS NULL AND l.status <> 'completed'
                   AND l.due_at IS NOT NULL AND local_day(l.due_at) {op} ?1
                   AND (?2 IS NULL OR {OWNER} = ?2)"
            ),
            &[&today, &owner],
        )
    };
    Kpis {
        open_pipeline: Some(amounts(
            conn,
            &format!("SELECT l.currency, sum(l.value_cents) {open}"),
            &[&owner],
            base,
        )),
        weighted_forecast: Some(amounts(
            conn,
            &format!("SELECT l.currency, sum(l.value_cents * s.probability) / 100 {open}"),
            &[&owner],
            base,
        )),
        won: Some(amounts(
            conn,
            &format!(
                "SELECT l.currency, sum(l.value_cents) {} GROUP BY l.currency",
                closed("won")
            ),
            &[&from, &to, &owner],
            base,
        )),
        average_won: Some(amounts(
            conn,
            &format!(
                "SELECT l.currency, sum(l.value_cents) / count(*) {} GROUP BY l.currency",
                closed("won")
            ),
            &[&from, &to, &owner],
            base,
        )),
        won_count,
        lost_count,
        win_rate: win_rate(won_count, lost_count),
        leads_created: count(
            conn,
            &format!(
                "SELECT count(*) FROM leads l WHERE l.deleted_at IS NULL
                   AND local_day(l.created_at) BETWEEN ?1 AND ?2 AND (?3 IS NULL OR {OWNER} = ?3)"
            ),
            &[&from, &to, &owner],
        ),
        tasks_overdue: tasks("<"),
        tasks_due_today: tasks("="),
    }
}

fn by_source(conn: &Connection, from: &str, to: &str, owner: Option<&str>) -> Vec<SourceCount> {
    let mut out: Vec<SourceCount> = conn
        .prepare(&format!(
            "SELECT nullif(ifnull(l.source, ''), ''), count(*) FROM leads l WHERE l.deleted_at IS NULL
               AND local_day(l.created_at) BETWEEN ?1 AND ?2 AND (?3 IS NULL OR {OWNER} = ?3)
             GROUP BY 1"
        ))
        .unwrap()
        .query_map(params![from, to, owner], |r| {
            Ok(SourceCount {
                source: r.get(0)?,
                leads: r.get(1)?,
            })
        })
        .unwrap()
        .map(Result::unwrap)
        .collect();
    out.sort_by(|a, b| b.leads.cmp(&a.leads).then_with(|| a.source.cmp(&b.source)));
    out
}

fn stages(conn: &Connection, owner: Option<&str>, base: &str) -> Vec<StageFigure> {
    let keys: Vec<(String, String, i64)> = conn
        .prepare(
            "SELECT key, label, probability FROM stages WHERE kind = 'open' ORDER BY position, key",
        )
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    keys.into_iter()
        .map(|(stage, label, probability)| {
            let filter = format!(
                "FROM leads l WHERE l.deleted_at IS NULL AND l.stage = ?1 AND (?2 IS NULL OR {OWNER} = ?2)"
            );
            StageFigure {
                leads: count(conn, &format!("SELECT count(*) {filter}"), &[&stage, &owner]),
                amounts: Some(amounts(
                    conn,
                    &format!("SELECT l.currency, sum(l.value_cents) {filter} GROUP BY l.currency"),
                    &[&stage, &owner],
                    base,
                )),
                stage,
                label,
                probability,
            }
        })
        .collect()
}

fn trend(conn: &Connection, period: &Period, owner: Option<&str>) -> Vec<MonthFigure> {
    let from = day_string(period.trend_from());
    let to = day_string(period.to);
    let months = super::figures::twelve_months(&from);
    let in_month = |column: &str, kind: Option<&str>, month: &str| {
        let stage = kind.map_or(String::new(), |k| {
            format!(" AND l.stage IN (SELECT key FROM stages WHERE kind = '{k}')")
        });
        count(
            conn,
            &format!(
                "SELECT count(*) FROM leads l WHERE l.deleted_at IS NULL AND l.{column} IS NOT NULL
                   AND substr(local_day(l.{column}), 1, 7) = ?1 AND local_day(l.{column}) BETWEEN ?2 AND ?3
                   AND (?4 IS NULL OR {OWNER} = ?4){stage}"
            ),
            &[&month, &from, &to, &owner],
        )
    };
    months
        .into_iter()
        .map(|month| MonthFigure {
            created: in_month("created_at", None, &month),
            won: in_month("closed_at", Some("won"), &month),
            lost: in_month("closed_at", Some("lost"), &month),
            month,
        })
        .collect()
}

fn reps(conn: &Connection, from: &str, to: &str, base: &str) -> Vec<RepFigure> {
    let owners: Vec<String> = conn
        .prepare(&format!(
            "SELECT {OWNER} FROM leads l UNION SELECT ifnull(created_by, '') FROM activities
             UNION SELECT id FROM users"
        ))
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let mut reps: Vec<RepFigure> = owners
        .into_iter()
        .map(|id| rep(conn, from, to, base, id))
        .filter(|r| r.leads_created + r.won_count + r.lost_count + r.activities > 0)
        .collect();
    reps.sort_by(|a, b| a.name.cmp(&b.name).then_with(|| a.user_id.cmp(&b.user_id)));
    reps
}

fn rep(conn: &Connection, from: &str, to: &str, base: &str, id: String) -> RepFigure {
    let period = (from, to, id.as_str());
    let o = Some(period.2);
    let closed = |kind: &str| {
        count(
            conn,
            &format!(
                "SELECT count(*) FROM leads l JOIN stages s ON s.key = l.stage
                  WHERE l.deleted_at IS NULL AND s.kind = '{kind}' AND l.closed_at IS NOT NULL
                    AND local_day(l.closed_at) BETWEEN ?1 AND ?2 AND {OWNER} = ?3"
            ),
            &[&from, &to, &o],
        )
    };
    let (won_count, lost_count) = (closed("won"), closed("lost"));
    let mut hours: Vec<f64> = conn
        .prepare(&format!(
            "SELECT max(0.0, (julianday(f.first) - julianday(f.created_at)) * 24.0) FROM (
                SELECT l.created_at, (SELECT min(a.occurred_at) FROM activities a
                         WHERE a.subject_type = 'lead' AND a.subject_id = l.id AND a.deleted_at IS NULL) AS first
                  FROM leads l WHERE l.deleted_at IS NULL AND {OWNER} = ?3
                   AND local_day(l.created_at) BETWEEN ?1 AND ?2) AS f
             WHERE f.first IS NOT NULL"
        ))
        .unwrap()
        .query_map(params![from, to, id], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let name = if id.is_empty() {
        "Unassigned".to_owned()
    } else {
        conn.query_row("SELECT name FROM users WHERE id = ?1", [&id], |r| r.get(0))
            .unwrap_or_else(|_| id.clone())
    };
    RepFigure {
        name,
        leads_created: count(
            conn,
            &format!(
                "SELECT count(*) FROM leads l WHERE l.deleted_at IS NULL
                   AND local_day(l.created_at) BETWEEN ?1 AND ?2 AND {OWNER} = ?3"
            ),
            &[&from, &to, &o],
        ),
        won_count,
        lost_count,
        win_rate: win_rate(won_count, lost_count),
        won: Some(amounts(
            conn,
            &format!(
                "SELECT l.currency, sum(l.value_cents) FROM leads l JOIN stages s ON s.key = l.stage
                  WHERE l.deleted_at IS NULL AND s.kind = 'won' AND l.closed_at IS NOT NULL
                    AND local_day(l.closed_at) BETWEEN ?1 AND ?2 AND {OWNER} = ?3
                  GROUP BY l.currency"
            ),
            &[&from, &to, &o],
            base,
        )),
        activities: count(
            conn,
            "SELECT count(*) FROM activities WHERE deleted_at IS NULL
               AND local_day(occurred_at) BETWEEN ?1 AND ?2 AND ifnull(created_by, '') = ?3",
            &[&from, &to, &o],
        ),
        responded_leads: hours.len() as i64,
        response_hours_median: median(&mut hours),
        user_id: (!id.is_empty()).then_some(id),
    }
}

/// The report tables' rows that count something, one line each (writes leave zeroed rows
/// behind; a rebuild does not), for comparing the tables before and after.
pub(crate) fn report_rows(conn: &Connection) -> rusqlite::Result<Vec<String>> {
    let mut out = Vec::new();
    for (table, sum) in [
        ("report_pipeline", "leads"),
        ("report_created", "leads"),
        ("report_closed", "won + lost"),
        ("report_activities", "activities"),
        ("report_tasks_due", "tasks"),
    ] {
        let mut stmt = conn.prepare(&format!(
            "SELECT * FROM {table} WHERE {sum} <> 0 ORDER BY 1, 2, 3"
        ))?;
        let n = stmt.column_count();
        let rows = stmt.query_map([], |r| {
            (0..n)
                .map(|i| {
                    r.get::<_, rusqlite::types::Value>(i)
                        .map(|v| format!("{v:?}"))
                })
                .collect::<Result<Vec<_>, _>>()
        })?;
        for row in rows {
            out.push(format!("{table}: {}", row?.join(", ")));
        }
    }
    Ok(out)
}
