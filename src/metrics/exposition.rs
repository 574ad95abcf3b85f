//! The Prometheus text exposition format (version 0.0.4), written by hand: a few dozen
//! lines instead of a metrics framework.

use std::fmt::{Display, Write};

use super::histogram::Snapshot;

/// The `Content-Type` of a scrape.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

#[derive(Default)]
pub struct Exposition(String);

pub type Labels<'a> = &'a [(&'a str, &'a str)];

impl Exposition {
    pub fn finish(self) -> String {
        self.0
    }

    /// `# HELP` and `# TYPE` lines, once per metric name.
    pub fn describe(&mut self, name: &str, kind: &str, help: &str) {
        let _ = writeln!(self.0, "# HELP {name} {help}");
        let _ = writeln!(self.0, "# TYPE {name} {kind}");
    }

    pub fn sample(&mut self, name: &str, labels: Labels<'_>, value: impl Display) {
        self.0.push_str(name);
        write_labels(&mut self.0, labels, None);
        let _ = writeln!(self.0, " {value}");
    }

    /// A metric without labels, described and sampled at once.
    pub fn single(&mut self, name: &str, kind: &str, help: &str, value: impl Display) {
        self.describe(name, kind, help);
        self.sample(name, &[], value);
    }

    /// The `_bucket`, `_sum` and `_count` lines of one histogram series.
    pub fn histogram(&mut self, name: &str, labels: Labels<'_>, snapshot: &Snapshot) {
        let infinite = [f64::INFINITY];
        let bounds = snapshot.bounds.iter().chain(&infinite);
        for (bound, count) in bounds.zip(&snapshot.cumulative) {
            let le = if bound.is_infinite() {
                "+Inf".to_owned()
            } else {
                bound.to_string()
            };
            let _ = write!(self.0, "{name}_bucket");
            write_labels(&mut self.0, labels, Some(&le));
            let _ = writeln!(self.0, " {count}");
        }
        self.sample(&format!("{name}_sum"), labels, snapshot.sum);
        self.sample(&format!("{name}_count"), labels, snapshot.count());
    }
}

fn write_labels(out: &mut String, labels: Labels<'_>, le: Option<&str>) {
    let le = le.map(|le| ("le", le));
    let mut all = labels.iter().copied().chain(le).peekable();
    if all.peek().is_none() {
        return;
    }
    out.push('{');
    for (i, (key, value)) in all.enumerate() {
        if i > 0 {
            out.push(',');
        }
        let _ = write!(out, "{key}=\"{}\"", escape(value));
    }
    out.push('}');
}

/// Label values escape backslash, double quote and line feed.
fn escape(value: &str) -> String {
    value
        .replace('\\', r"\\")
        .replace('"', "\\\"")
        .replace('\n', r"\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::histogram::{BATCH_SIZES, Histogram};

    #[test]
    fn writes_labels_escaped_and_histograms_with_inf() {
        let mut out = Exposition::default();
        out.describe("x_total", "counter", "Things.");
        out.sample("x_total", &[("route", "/a\"b\\c")], 3);
        let h = Histogram::counts(&BATCH_SIZES[..2]);
        h.observe_raw(2);
        out.histogram("y", &[("k", "v")], &h.snapshot());
        let text = out.finish();
        assert!(text.contains("# TYPE x_total counter\n"));
        assert!(text.contains("x_total{route=\"/a\\\"b\\\\c\"} 3\n"));
        assert!(text.contains("y_bucket{k=\"v\",le=\"1\"} 0\n"));
        assert!(text.contains("y_bucket{k=\"v\",le=\"2\"} 1\n"));
        assert!(text.contains("y_bucket{k=\"v\",le=\"+Inf\"} 1\n"));
        assert!(text.contains("y_sum{k=\"v\"} 2\ny_count{k=\"v\"} 1\n"));
    }
}
