//! Server-rendered SVG charts: no script and no chart library. Each chart scales to its
//! container (`viewBox`), names every value in a `<title>` (shown on hover), and comes with
//! the same figures as a table for screen readers, print and anyone who prefers numbers.

use maud::{Markup, html};

/// Colours as presentation attributes, so charts stay readable without any stylesheet.
pub const SERIES: [&str; 3] = ["#2563eb", "#16a34a", "#dc2626"];

/// Narrow enough that a 375 px phone shows the text at about 80% of its size.
const WIDTH: f64 = 400.0;

/// One bar of a horizontal bar chart.
pub struct Bar {
    pub label: String,
    pub value: f64,
    /// How the value reads, e.g. "12 leads · USD 1,200.00".
    pub shown: String,
}

/// A chart plus its table, under a heading-like caption.
fn figure(caption: &str, chart: Markup, table: Markup) -> Markup {
    html! {
        figure.chart {
            figcaption { (caption) }
            (chart)
            details.chart-table {
                summary { "As a table" }
                (table)
            }
        }
    }
}

/// Horizontal bars, one per row: the label and value on a line, the bar under it across the
/// whole width, so the text stays legible when a phone scales the chart down.
pub fn bars(caption: &str, column: &str, rows: &[Bar]) -> Markup {
    if rows.is_empty() {
        return html! { figure.chart { figcaption { (caption) } p.muted { "Nothing in this period." } } };
    }
    let row_h = 40.0;
    let bar_w = WIDTH - 10.0;
    let height = row_h * rows.len() as f64 + 20.0;
    let max = rows.iter().map(|r| r.value).fold(0.0, f64::max).max(1.0);
    let chart = html! {
        svg.bars viewBox=(format!("0 0 {WIDTH} {height}")) width="100%" role="img"
            aria-label=(caption) preserveAspectRatio="xMinYMin meet" {
            @for (i, row) in rows.iter().enumerate() {
                @let y = i as f64 * row_h;
                @let w = (row.value / max * bar_w).max(if row.value > 0.0 { 2.0 } else { 0.0 });
                g {
                    title { (row.label) ": " (row.shown) }
                    text x="0" y=(fmt(y + 14.0)) font-size="13" fill="currentColor" {
                        tspan font-weight="600" { (truncate(&row.label, 24)) }
                        " " (truncate(&row.shown, 36))
                    }
                    rect x="0" y=(fmt(y + 20.0)) width=(fmt(w)) height="14" rx="2" fill=(SERIES[0]) {}
                }
            }
            // The value axis: zero and the largest bar.
            @let axis_y = row_h * rows.len() as f64;
            text x="0" y=(fmt(axis_y + 14.0)) font-size="11" fill="#64748b" { "0" }
            text x=(fmt(bar_w)) y=(fmt(axis_y + 14.0)) font-size="11" text-anchor="end" fill="#64748b" {
                (fmt_count(max))
            }
        }
    };
    let table = html! {
        table {
            thead { tr { th scope="col" { (column) } th scope="col" { "Value" } } }
            tbody {
                @for row in rows {
                    tr { th scope="row" { (row.label) } td { (row.shown) } }
                }
            }
        }
    };
    figure(caption, chart, table)
}

/// One group of a grouped bar chart: a label and one value per series.
pub struct Group {
    /// Under the group on the axis: short (`Mar`).
    pub axis: String,
    /// In titles and the table (`Mar 2026`).
    pub label: String,
    pub values: Vec<i64>,
}

/// Vertical bars in groups (e.g. months), one colour per series, with a legend and a
/// value axis.
pub fn grouped(caption: &str, series: &[&str], groups: &[Group]) -> Markup {
    let (left, top, plot_h) = (32.0, 10.0, 160.0);
    let height = top + plot_h + 50.0;
    let group_w = (WIDTH - left - 10.0) / groups.len().max(1) as f64;
    let bar_w = (group_w - 6.0) / series.len().max(1) as f64;
    let max = groups
        .iter()
        .flat_map(|g| g.values.iter().copied())
        .max()
        .unwrap_or(0)
        .max(1) as f64;
    let y_of = |v: f64| top + plot_h - v / max * plot_h;
    let chart = html! {
        svg.grouped viewBox=(format!("0 0 {WIDTH} {height}")) width="100%" role="img"
            aria-label=(caption) preserveAspectRatio="xMinYMin meet" {
            @for tick in ticks(max) {
                line x1=(left) x2=(WIDTH - 10.0) y1=(fmt(y_of(tick))) y2=(fmt(y_of(tick))) stroke="#e2e8f0" {}
                text x=(left - 4.0) y=(fmt(y_of(tick) + 4.0)) text-anchor="end" font-size="11" fill="#64748b" {
                    (fmt_count(tick))
                }
            }
            @for (i, group) in groups.iter().enumerate() {
                @let x0 = left + i as f64 * group_w + 3.0;
                @for (s, value) in group.values.iter().enumerate() {
                    @let v = *value as f64;
                    g {
                        title { (group.label) " — " (series.get(s).copied().unwrap_or("")) ": " (value) }
                        rect x=(fmt(x0 + s as f64 * bar_w)) y=(fmt(y_of(v))) width=(fmt(bar_w.max(1.0)))
                            height=(fmt(top + plot_h - y_of(v))) fill=(SERIES[s % SERIES.len()]) {}
                    }
                }
                text x=(fmt(x0 + group_w / 2.0 - 3.0)) y=(fmt(top + plot_h + 16.0)) text-anchor="middle"
                    font-size="11" fill="currentColor" { (group.axis) }
            }
            @for (s, name) in series.iter().enumerate() {
                @let x = left + s as f64 * 100.0;
                rect x=(fmt(x)) y=(fmt(height - 18.0)) width="12" height="12" fill=(SERIES[s % SERIES.len()]) {}
                text x=(fmt(x + 16.0)) y=(fmt(height - 8.0)) font-size="12" fill="currentColor" { (name) }
            }
        }
    };
    let table = html! {
        table {
            thead { tr { th scope="col" { "" } @for name in series { th scope="col" { (name) } } } }
            tbody {
                @for group in groups {
                    tr { th scope="row" { (group.label) } @for v in &group.values { td { (v) } } }
                }
            }
        }
    };
    figure(caption, chart, table)
}

/// Zero, the top, and a whole middle value when there is one: counts have no halves.
fn ticks(max: f64) -> Vec<f64> {
    let half = (max / 2.0).round();
    if half > 0.0 && half < max {
        vec![0.0, half, max]
    } else {
        vec![0.0, max]
    }
}

fn fmt(v: f64) -> String {
    format!("{v:.1}")
}

fn fmt_count(v: f64) -> String {
    if v.fract() == 0.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_owned()
    } else {
        let cut: String = s.chars().take(max - 1).collect();
        format!("{cut}…")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_name_every_value_and_carry_a_table() {
        let html = bars(
            "Leads by source",
            "Source",
            &[
                Bar {
                    label: "web".into(),
                    value: 3.0,
                    shown: "3".into(),
                },
                Bar {
                    label: "referral".into(),
                    value: 1.0,
                    shown: "1".into(),
                },
            ],
        )
        .into_string();
        assert!(html.contains("<title>web: 3</title>"));
        assert!(html.contains("<th scope=\"row\">referral</th><td>1</td>"));
        assert!(html.contains("viewBox=\"0 0 400 100\""));
        assert!(!html.contains("NaN"));
    }

    #[test]
    fn grouped_bars_survive_all_zero_values() {
        let groups = vec![Group {
            axis: "Jan".into(),
            label: "Jan 2026".into(),
            values: vec![0, 0, 0],
        }];
        let html = grouped("Trend", &["Created", "Won", "Lost"], &groups).into_string();
        assert!(html.contains("<title>Jan 2026 — Won: 0</title>"));
        assert!(!html.contains("NaN") && !html.contains("inf"));
    }
}
