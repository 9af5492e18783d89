//! Process-wide flush counters for metrics: how many log flushes ran (each `FlushJob::run`: the
//! fdatasyncs of a partition's unflushed files plus the fsync of its directory), how many failed,
//! and how long they took, as a histogram with fixed bucket bounds.
//!
//! Process-wide on purpose: flushes happen on the appender's thread (`flush.messages`), on the
//! libuv pool (the broker's `flush()`) and at close, for every partition; the operator asks one
//! question of them all ("how slow is fdatasync on this disk?"), as Kafka's
//! LogFlushRateAndTimeMs does. Metrics read one snapshot per scrape.
//!
//! Concurrency contract: any thread records and reads at any time. Every counter is an
//! independent `Relaxed` tally, so a snapshot taken during a flush may count it in `count` but
//! not yet in its bucket; the next snapshot agrees again.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

/// Upper bounds of the duration buckets, in seconds (Prometheus `le`); a last bucket holds
/// everything slower. Chosen for fdatasync: page-cache-only flushes land under 100 µs, SSDs in
/// the 0.25–5 ms buckets, a struggling disk in the seconds.
pub const FLUSH_BUCKET_BOUNDS_SECONDS: [f64; 16] = [
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
    5.0, 10.0,
];

const BUCKETS: usize = FLUSH_BUCKET_BOUNDS_SECONDS.len() + 1;

/// A snapshot of the flush counters.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FlushStats {
    /// Flushes that ran to completion or failed (failures are counted here too).
    pub count: u64,
    /// Flushes that ended with an I/O error.
    pub failures: u64,
    /// Total time spent in flushes, in seconds.
    pub sum_seconds: f64,
    /// Flushes per bucket (not cumulative): `buckets[i]` counts durations in
    /// `(bound[i-1], bound[i]]`; the last entry counts those above the last bound.
    pub buckets: Vec<u64>,
}

struct Counters {
    count: AtomicU64,
    failures: AtomicU64,
    nanos: AtomicU64,
    buckets: [AtomicU64; BUCKETS],
}

static COUNTERS: Counters = Counters {
    count: AtomicU64::new(0),
    failures: AtomicU64::new(0),
    nanos: AtomicU64::new(0),
    buckets: [const { AtomicU64::new(0) }; BUCKETS],
};

/// Counts one flush that took `elapsed`; `ok` is false when it ended with an error.
pub(crate) fn record_flush(elapsed: Duration, ok: bool) {
    let seconds = elapsed.as_secs_f64();
    let bucket = FLUSH_BUCKET_BOUNDS_SECONDS
        .iter()
        .position(|&bound| seconds <= bound)
        .unwrap_or(BUCKETS - 1);
    COUNTERS.buckets[bucket].fetch_add(1, Relaxed);
    COUNTERS.nanos.fetch_add(
        u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX),
        Relaxed,
    );
    if !ok {
        COUNTERS.failures.fetch_add(1, Relaxed);
    }
    COUNTERS.count.fetch_add(1, Relaxed);
}

/// The counters so far (since the process started).
pub fn flush_stats() -> FlushStats {
    FlushStats {
        count: COUNTERS.count.load(Relaxed),
        failures: COUNTERS.failures.load(Relaxed),
        sum_seconds: COUNTERS.nanos.load(Relaxed) as f64 / 1e9,
        buckets: COUNTERS.buckets.iter().map(|b| b.load(Relaxed)).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // The counters are process-wide and other tests flush concurrently, so these assert on
    // growth by at least what this test added, never on exact totals.

    #[test]
    fn a_flush_lands_in_the_bucket_of_its_duration() {
        let before = flush_stats();
        record_flush(Duration::from_micros(300), true);
        let after = flush_stats();
        // 300 µs is above 0.00025 s and at most 0.0005 s: the third bucket.
        assert!(after.buckets[2] > before.buckets[2]);
        assert!(after.count > before.count);
        assert!(after.sum_seconds >= before.sum_seconds + 0.0003 - 1e-9);
    }

    #[test]
    fn a_flush_slower_than_every_bound_lands_in_the_last_bucket() {
        let before = flush_stats();
        record_flush(Duration::from_secs(11), false);
        let after = flush_stats();
        assert!(after.buckets[BUCKETS - 1] > before.buckets[BUCKETS - 1]);
        assert!(after.failures > before.failures);
    }

    #[test]
    fn a_duration_equal_to_a_bound_belongs_to_that_bound() {
        let before = flush_stats();
        record_flush(Duration::from_millis(1), true);
        let after = flush_stats();
        // le="0.001" includes exactly 1 ms (Prometheus buckets are upper-inclusive).
        assert!(after.buckets[3] > before.buckets[3]);
    }

    #[test]
    fn bounds_increase() {
        assert!(FLUSH_BUCKET_BOUNDS_SECONDS.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(
            flush_stats().buckets.len(),
            FLUSH_BUCKET_BOUNDS_SECONDS.len() + 1
        );
    }
}
