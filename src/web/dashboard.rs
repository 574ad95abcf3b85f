//! The dashboard on `/`: the figures of `GET /api/v1/reports/dashboard`, drawn as tiles,
//! SVG charts and a rep table, with a GET form so the URL carries the period and the rep.

use maud::{Markup, html};

use crate::domain::reports::{Amount, DEFAULT_DAYS, Dashboard, MonthFigure, RepFigure};
use crate::error::FieldError;
use crate::web::assets;
use crate::web::charts::{self, Bar, Group};
use crate::web::components::counted;

/// What the page needs besides the figures.
pub struct PageContext {
    /// The rep picker's choices; empty for users who only see their own figures.
    pub owners: Vec<(String, String)>,
    /// Refused `from`/`to`/`owner_id`: the figures are then the default period's.
    pub errors: Vec<FieldError>,
}

pub fn render(d: &Dashboard, ctx: &PageContext) -> Markup {
    html! {
        // Allowed in <body> (HTML's "body-ok" link types); the layout's <head> is shared.
        link rel="stylesheet" href=(assets::url("dashboard.css"));
        div.dashboard {
            h1 { "Dashboard" }
            (filters(d, ctx))
            p.muted.small {
                (d.from) " to " (d.to) ", days in " span data-timezone { (d.timezone) }
                @if d.kpis.open_pipeline.is_some() { ". Amounts per currency, " (d.base_currency) " first." }
            }
            (tiles(d))
            div.charts {
                (charts::bars("Leads by source", "Source", &source_bars(d)))
                (charts::bars("Open pipeline by stage (now)", "Stage", &stage_bars(d)))
                (charts::grouped("Leads created, won and lost by month", &["Created", "Won", "Lost"], &trend_groups(&d.trend)))
                (charts::bars("Median hours to first activity, by rep", "Rep", &response_bars(&d.reps)))
            }
            (reps_table(&d.reps))
        }
    }
}

fn filters(d: &Dashboard, ctx: &PageContext) -> Markup {
    html! {
        @if !ctx.errors.is_empty() {
            div.alert role="alert" {
                "Showing the last " (DEFAULT_DAYS) " days instead: "
                @for (i, e) in ctx.errors.iter().enumerate() {
                    @if i > 0 { "; " }
                    (e.field) " " (e.message)
                }
                "."
            }
        }
        form.filters method="get" action="/" {
            label { "From " input type="date" name="from" value=(d.from) required; }
            label { "To " input type="date" name="to" value=(d.to) required; }
            @if !ctx.owners.is_empty() {
                label {
                    "Rep "
                    select name="owner_id" {
                        option value="" selected[d.owner_id.is_none()] { "Whole team" }
                        @for (id, name) in &ctx.owners {
                            option value=(id) selected[d.owner_id.as_deref() == Some(id.as_str())] { (name) }
                        }
                    }
                }
            }
            button type="submit" { "Show" }
        }
    }
}

fn tile(label: &str, key: &str, value: Markup) -> Markup {
    html! { div.tile { span.tile-label { (label) } strong.tile-value data-kpi=(key) { (value) } } }
}

fn amounts(list: &[Amount]) -> Markup {
    html! {
        @if list.is_empty() { "—" }
        @for (i, a) in list.iter().enumerate() {
            @if i > 0 { br; }
            (money(a))
        }
    }
}

fn tiles(d: &Dashboard) -> Markup {
    let k = &d.kpis;
    let rate = k.win_rate.map_or("—".to_owned(), percent);
    html! {
        section.tiles aria-label="Key figures" {
            @if let Some(open) = &k.open_pipeline { (tile("Open pipeline", "open_pipeline", amounts(open))) }
            @if let Some(w) = &k.weighted_forecast { (tile("Weighted forecast", "weighted_forecast", amounts(w))) }
            @if let Some(won) = &k.won { (tile("Won in period", "won", amounts(won))) }
            (tile("Win rate", "win_rate", html! { (rate) }))
            @if let Some(avg) = &k.average_won { (tile("Average won deal", "average_won", amounts(avg))) }
            (tile("Leads created", "leads_created", html! { (k.leads_created) }))
            (tile("Tasks overdue", "tasks_overdue", html! { (k.tasks_overdue) }))
            (tile("Tasks due today", "tasks_due_today", html! { (k.tasks_due_today) }))
        }
    }
}

fn source_bars(d: &Dashboard) -> Vec<Bar> {
    d.leads_by_source
        .iter()
        .map(|s| Bar {
            label: s.source.clone().unwrap_or_else(|| "(none)".into()),
            value: s.leads as f64,
            shown: s.leads.to_string(),
        })
        .collect()
}

fn stage_bars(d: &Dashboard) -> Vec<Bar> {
    d.pipeline_by_stage
        .iter()
        .map(|s| {
            let money: Vec<String> = s.amounts.iter().flatten().map(money).collect();
            let mut shown = counted(s.leads, "lead", "leads");
            if !money.is_empty() {
                shown = format!("{shown} · {}", money.join(" + "));
            }
            Bar {
                label: s.label.clone(),
                value: s.leads as f64,
                shown,
            }
        })
        .collect()
}

fn trend_groups(trend: &[MonthFigure]) -> Vec<Group> {
    trend
        .iter()
        .map(|m| Group {
            axis: month_label(&m.month).chars().take(3).collect(),
            label: month_label(&m.month),
            values: vec![m.created, m.won, m.lost],
        })
        .collect()
}

fn response_bars(reps: &[RepFigure]) -> Vec<Bar> {
    reps.iter()
        .filter_map(|r| {
            let hours = r.response_hours_median?;
            Some(Bar {
                label: r.name.clone(),
                value: hours,
                shown: format!("{hours:.1} h over {} leads", r.responded_leads),
            })
        })
        .collect()
}

fn reps_table(reps: &[RepFigure]) -> Markup {
    let money = reps.iter().any(|r| r.won.is_some());
    html! {
        section.card.reps {
            h2 { "Rep performance in the period" }
            @if reps.is_empty() {
                p.muted { "No leads created or closed, and no activities logged, in this period." }
            } @else {
                div.table-scroll {
                    table {
                        thead { tr {
                            th scope="col" { "Rep" } th scope="col" { "Leads created" } th scope="col" { "Won" }
                            th scope="col" { "Lost" } th scope="col" { "Win rate" }
                            @if money { th scope="col" { "Won value" } }
                            th scope="col" { "Activities" } th scope="col" { "Median response" }
                        } }
                        tbody {
                            @for r in reps {
                                tr {
                                    th scope="row" { (r.name) }
                                    td { (r.leads_created) } td { (r.won_count) } td { (r.lost_count) }
                                    td { (r.win_rate.map_or("—".to_owned(), percent)) }
                                    @if let Some(won) = &r.won { td { (amounts(won)) } }
                                    td { (r.activities) }
                                    td { (r.response_hours_median.map_or("—".to_owned(), |h| format!("{h:.1} h"))) }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// `USD 1,234.56`: minor units shown as hundredths, grouped by thousands.
pub fn money(a: &Amount) -> String {
    let (units, cents) = (a.value_cents / 100, a.value_cents % 100);
    let digits = units.to_string();
    let mut grouped = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(c);
    }
    format!("{} {grouped}.{cents:02}", a.currency)
}

fn percent(rate: f64) -> String {
    format!("{:.0}%", rate * 100.0)
}

/// `2026-03` → `Mar 2026`.
fn month_label(month: &str) -> String {
    const NAMES: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let m: usize = month.get(5..7).and_then(|m| m.parse().ok()).unwrap_or(1);
    let name = NAMES.get(m.saturating_sub(1)).copied().unwrap_or("?");
    format!("{name} {}", month.get(0..4).unwrap_or(""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_groups_thousands_and_keeps_cents() {
        let a = |v| Amount {
            currency: "EUR".into(),
            value_cents: v,
        };
        assert_eq!(money(&a(123_456_789)), "EUR 1,234,567.89");
        assert_eq!(money(&a(5)), "EUR 0.05");
        assert_eq!(money(&a(100_000)), "EUR 1,000.00");
    }

    #[test]
    fn months_read_short() {
        assert_eq!(month_label("2026-03"), "Mar 2026");
    }
}
