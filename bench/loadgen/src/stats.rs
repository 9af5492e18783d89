//! Latency histograms and CPU accounting for the load generator's own side, so a report can
//! show the client was not the bottleneck.

use std::fs;
use std::time::Duration;

use hdrhistogram::Histogram;
use serde_json::{Value, json};

/// Latencies in nanoseconds, 3 significant digits, up to 10 minutes.
pub struct Latency(Histogram<u64>);

impl Default for Latency {
    fn default() -> Self {
        Self::new()
    }
}

impl Latency {
    pub fn new() -> Self {
        Self(
            Histogram::new_with_bounds(1_000, 600_000_000_000, 3)
                .expect("static histogram bounds are valid"),
        )
    }

    pub fn record_ns(&mut self, ns: u64) {
        // Values outside the bounds are clamped rather than dropped: a 10-minute stall is
        // still a sample, and a sub-microsecond one is a microsecond.
        self.0.saturating_record(ns.max(1_000));
    }

    pub fn merge(&mut self, other: &Latency) {
        self.0.add(&other.0).expect("histograms share bounds");
    }

    /// JSON in microseconds: count, mean, p50, p90, p99, p99.9, max.
    pub fn to_json(&self) -> Value {
        if self.0.is_empty() {
            return json!({ "count": 0 });
        }
        let us = |ns: u64| ns as f64 / 1_000.0;
        json!({
            "count": self.0.len(),
            "mean_us": self.0.mean() / 1_000.0,
            "p50_us": us(self.0.value_at_quantile(0.50)),
            "p90_us": us(self.0.value_at_quantile(0.90)),
            "p99_us": us(self.0.value_at_quantile(0.99)),
            "p999_us": us(self.0.value_at_quantile(0.999)),
            "max_us": us(self.0.max()),
        })
    }
}

/// CPU time and context switches of this process (all threads).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Usage {
    pub user: Duration,
    pub sys: Duration,
    pub voluntary: u64,
    pub involuntary: u64,
}

fn timeval(tv: libc::timeval) -> Duration {
    Duration::new(tv.tv_sec as u64, tv.tv_usec as u32 * 1_000)
}

pub fn process_usage() -> Usage {
    // SAFETY: getrusage fills a zeroed rusage we own; RUSAGE_SELF cannot fail with a valid pointer.
    let ru = unsafe {
        let mut ru: libc::rusage = std::mem::zeroed();
        let rc = libc::getrusage(libc::RUSAGE_SELF, &mut ru);
        assert_eq!(rc, 0, "getrusage(RUSAGE_SELF) failed");
        ru
    };
    Usage {
        user: timeval(ru.ru_utime),
        sys: timeval(ru.ru_stime),
        voluntary: ru.ru_nvcsw as u64,
        involuntary: ru.ru_nivcsw as u64,
    }
}

pub fn usage_delta_json(a: Usage, b: Usage) -> Value {
    json!({
        "cpu_user_s": (b.user.saturating_sub(a.user)).as_secs_f64(),
        "cpu_sys_s": (b.sys.saturating_sub(a.sys)).as_secs_f64(),
        "voluntary_ctxt_switches": b.voluntary.saturating_sub(a.voluntary),
        "involuntary_ctxt_switches": b.involuntary.saturating_sub(a.involuntary),
    })
}

/// CPU and switches of one thread of this process, read from /proc/self/task/TID: the on-CPU
/// nanoseconds from schedstat (precise), the user/system split from stat (clock ticks).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct ThreadUsage {
    pub on_cpu_ns: u64,
    pub user_ticks: u64,
    pub sys_ticks: u64,
    pub voluntary: u64,
    pub involuntary: u64,
}

pub fn current_tid() -> i32 {
    // SAFETY: gettid has no preconditions.
    unsafe { libc::gettid() }
}

/// utime and stime (fields 14 and 15) from a stat line; the command name may contain spaces
/// and parentheses, so fields are counted after the last ')'.
pub fn parse_stat_times(stat: &str) -> Option<(u64, u64)> {
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // rest starts at field 3 (state); utime is field 14 -> index 11.
    Some((fields.get(11)?.parse().ok()?, fields.get(12)?.parse().ok()?))
}

pub fn parse_ctxt_switches(status: &str) -> (u64, u64) {
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0)
    };
    (
        field("voluntary_ctxt_switches:"),
        field("nonvoluntary_ctxt_switches:"),
    )
}

pub fn thread_usage(tid: i32) -> ThreadUsage {
    let base = format!("/proc/self/task/{tid}");
    let on_cpu_ns = fs::read_to_string(format!("{base}/schedstat"))
        .ok()
        .and_then(|s| s.split_whitespace().next().and_then(|v| v.parse().ok()))
        .unwrap_or(0);
    let (user_ticks, sys_ticks) = fs::read_to_string(format!("{base}/stat"))
        .ok()
        .and_then(|s| parse_stat_times(&s))
        .unwrap_or((0, 0));
    let (voluntary, involuntary) = fs::read_to_string(format!("{base}/status"))
        .map(|s| parse_ctxt_switches(&s))
        .unwrap_or((0, 0));
    ThreadUsage {
        on_cpu_ns,
        user_ticks,
        sys_ticks,
        voluntary,
        involuntary,
    }
}

pub fn ticks_per_second() -> f64 {
    // SAFETY: sysconf has no preconditions.
    let t = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if t > 0 { t as f64 } else { 100.0 }
}

/// Sums the change of a set of threads' usage between two samples, as JSON.
pub fn threads_delta_json(a: &[ThreadUsage], b: &[ThreadUsage]) -> Value {
    let hz = ticks_per_second();
    let mut on_cpu = 0u64;
    let (mut user, mut sys, mut vol, mut invol) = (0u64, 0u64, 0u64, 0u64);
    for (x, y) in a.iter().zip(b) {
        on_cpu += y.on_cpu_ns.saturating_sub(x.on_cpu_ns);
        user += y.user_ticks.saturating_sub(x.user_ticks);
        sys += y.sys_ticks.saturating_sub(x.sys_ticks);
        vol += y.voluntary.saturating_sub(x.voluntary);
        invol += y.involuntary.saturating_sub(x.involuntary);
    }
    json!({
        "cpu_s": on_cpu as f64 / 1e9,
        "cpu_user_s": user as f64 / hz,
        "cpu_sys_s": sys as f64 / hz,
        "voluntary_ctxt_switches": vol,
        "involuntary_ctxt_switches": invol,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_come_out_in_microseconds() {
        let mut h = Latency::new();
        for i in 1..=1000u64 {
            h.record_ns(i * 1_000);
        }
        let j = h.to_json();
        assert_eq!(j["count"], 1000);
        let p50 = j["p50_us"].as_f64().unwrap();
        assert!((499.0..=501.0).contains(&p50), "{p50}");
        let p999 = j["p999_us"].as_f64().unwrap();
        assert!((998.0..=1000.5).contains(&p999), "{p999}");
        assert!(Latency::new().to_json()["count"] == 0);
    }

    #[test]
    fn merge_adds_counts() {
        let mut a = Latency::new();
        let mut b = Latency::new();
        a.record_ns(5_000);
        b.record_ns(7_000);
        b.record_ns(10); // clamped to 1 µs, still counted
        a.merge(&b);
        assert_eq!(a.to_json()["count"], 3);
    }

    #[test]
    fn stat_parsing_survives_odd_command_names() {
        let line = "1234 (my (odd) name) S 1 2 3 4 5 6 7 8 9 10 111 222 13 14 15";
        assert_eq!(parse_stat_times(line), Some((111, 222)));
        let status = "Name:\tx\nvoluntary_ctxt_switches:\t17\nnonvoluntary_ctxt_switches:\t4\n";
        assert_eq!(parse_ctxt_switches(status), (17, 4));
    }

    #[test]
    fn this_thread_is_visible_in_proc() {
        let tid = current_tid();
        let before = thread_usage(tid);
        // Spin on the CPU for 30 ms (black_box keeps the optimizer from removing the loop).
        let start = std::time::Instant::now();
        let mut x = 0u64;
        while start.elapsed() < Duration::from_millis(30) {
            x = std::hint::black_box(x.wrapping_mul(31).wrapping_add(1));
        }
        let after = thread_usage(tid);
        assert!(
            after.on_cpu_ns >= before.on_cpu_ns + 1_000_000,
            "{before:?} -> {after:?}"
        );
        let p = process_usage();
        assert!(p.user + p.sys > Duration::ZERO);
    }
}
