//! A Prometheus histogram in atomics: observing is one `partition_point` over a dozen
//! bounds and two relaxed additions, with no lock.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

pub struct Histogram {
    /// Upper bounds in the exposed unit (seconds, or a plain count).
    bounds: &'static [f64],
    /// The same bounds in raw units (nanoseconds for durations), compared on observe.
    raw_bounds: Box<[u64]>,
    /// Raw units per exposed unit.
    scale: f64,
    /// One counter per bound plus the `+Inf` bucket; not cumulative (summed at scrape).
    counts: Box<[AtomicU64]>,
    sum: AtomicU64,
}

/// Latency buckets, finer than Prometheus' defaults at the low end: most answers take a
/// millisecond or two.
pub const REQUEST_SECONDS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// Queue waits: usually microseconds, milliseconds when the database is busy.
pub const QUEUE_SECONDS: &[f64] = &[
    0.00001, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
    1.0,
];

/// Jobs per write transaction, up to `WRITE_BATCH_MAX` (64).
pub const BATCH_SIZES: &[f64] = &[1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0];

/// What a scrape reads: cumulative bucket counts, the total count and the sum.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Snapshot {
    pub bounds: &'static [f64],
    pub cumulative: Vec<u64>,
    pub sum: f64,
}

impl Snapshot {
    pub fn count(&self) -> u64 {
        self.cumulative.last().copied().unwrap_or(0)
    }

    /// Adds another snapshot of a histogram with the same bounds (series merged by label).
    pub fn merge(&mut self, other: &Snapshot) {
        if self.cumulative.is_empty() {
            *self = other.clone();
            return;
        }
        for (mine, theirs) in self.cumulative.iter_mut().zip(&other.cumulative) {
            *mine += theirs;
        }
        self.sum += other.sum;
    }
}

impl Histogram {
    /// Durations, exposed in seconds and kept in nanoseconds.
    pub fn seconds(bounds: &'static [f64]) -> Histogram {
        Self::scaled(bounds, 1e9)
    }

    /// Plain counts (batch sizes).
    pub fn counts(bounds: &'static [f64]) -> Histogram {
        Self::scaled(bounds, 1.0)
    }

    fn scaled(bounds: &'static [f64], scale: f64) -> Histogram {
        Histogram {
            bounds,
            raw_bounds: bounds.iter().map(|b| (b * scale).round() as u64).collect(),
            scale,
            counts: (0..=bounds.len()).map(|_| AtomicU64::new(0)).collect(),
            sum: AtomicU64::new(0),
        }
    }

    pub fn observe_duration(&self, elapsed: Duration) {
        self.observe_raw(u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX));
    }

    pub fn observe_raw(&self, raw: u64) {
        // The first bucket whose bound is at least `raw` (`le` means less or equal).
        let bucket = self.raw_bounds.partition_point(|bound| *bound < raw);
        self.counts[bucket].fetch_add(1, Ordering::Relaxed);
        self.sum.fetch_add(raw, Ordering::Relaxed);
    }

    pub fn snapshot(&self) -> Snapshot {
        let mut total = 0;
        let cumulative = self
            .counts
            .iter()
            .map(|c| {
                total += c.load(Ordering::Relaxed);
                total
            })
            .collect();
        Snapshot {
            bounds: self.bounds,
            cumulative,
            sum: self.sum.load(Ordering::Relaxed) as f64 / self.scale,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_cumulative_and_bounds_inclusive() {
        let h = Histogram::counts(BATCH_SIZES);
        for size in [1, 1, 2, 3, 64, 100] {
            h.observe_raw(size);
        }
        let s = h.snapshot();
        // le=1, 2, 4, 8, 16, 32, 64, +Inf
        assert_eq!(s.cumulative, vec![2, 3, 4, 4, 4, 4, 5, 6]);
        assert_eq!(s.count(), 6);
        assert_eq!(s.sum, 171.0);
    }

    #[test]
    fn durations_are_exposed_in_seconds() {
        let h = Histogram::seconds(REQUEST_SECONDS);
        h.observe_duration(Duration::from_millis(3));
        let s = h.snapshot();
        assert!((s.sum - 0.003).abs() < 1e-9);
        assert_eq!(s.cumulative[2], 0, "3 ms is above le=0.0025");
        assert_eq!(s.cumulative[3], 1, "and within le=0.005");
        let mut merged = s.clone();
        merged.merge(&s);
        assert_eq!(merged.count(), 2);
    }
}
