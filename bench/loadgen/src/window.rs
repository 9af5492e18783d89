//! The measurement window every command shares: a warm-up, then a measured span whose start and
//! end are announced on stderr (`@measure-start` / `@measure-end`, one line each) so an
//! orchestrator can sample the broker process at the same moments. Workers keep running through
//! the whole window; they read the phase to decide whether a latency sample counts, and
//! counters are snapshotted at the two announcements.

use std::io::Write;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};
use std::thread;
use std::time::{Duration, Instant};

const WARMUP: u8 = 0;
const MEASURE: u8 = 1;
const DONE: u8 = 2;

/// Shared run phase. Any thread may end the run early (an error, a byte target reached).
#[derive(Default)]
pub struct Phase(AtomicU8);

impl Phase {
    pub fn new() -> Self {
        Self(AtomicU8::new(WARMUP))
    }

    pub fn measuring(&self) -> bool {
        self.0.load(Ordering::Relaxed) == MEASURE
    }

    pub fn done(&self) -> bool {
        self.0.load(Ordering::Relaxed) == DONE
    }

    pub fn finish(&self) {
        self.0.store(DONE, Ordering::Relaxed);
    }

    fn start_measuring(&self) -> bool {
        self.0
            .compare_exchange(WARMUP, MEASURE, Ordering::Relaxed, Ordering::Relaxed)
            .is_ok()
    }
}

/// Nanoseconds on the load generator's own monotonic clock (shared by all its threads, so a
/// producer's stamp and a consumer's receive time compare directly).
pub fn now_ns() -> u64 {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    EPOCH.get_or_init(Instant::now).elapsed().as_nanos() as u64
}

/// Monotonic counters a worker bumps as it goes; the window snapshots them.
#[derive(Default)]
pub struct Counter(AtomicU64);

impl Counter {
    pub fn add(&self, n: u64) {
        self.0.fetch_add(n, Ordering::Relaxed);
    }

    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

fn announce(event: &str) {
    let mut err = std::io::stderr().lock();
    // The orchestrator reacts to these lines; a failed stderr write only loses the broker-side
    // sample, never the run, so it is ignored on purpose.
    let _ = writeln!(err, "@{event}");
    let _ = err.flush();
}

/// What the window measured: its real length, and a snapshot taken at each edge.
pub struct Span<T> {
    pub seconds: f64,
    pub start: T,
    pub end: T,
}

/// Sleeps until `deadline` or until the phase is done, whichever comes first.
fn sleep_until(phase: &Phase, deadline: Instant) {
    while !phase.done() {
        let now = Instant::now();
        if now >= deadline {
            return;
        }
        thread::sleep((deadline - now).min(Duration::from_millis(5)));
    }
}

/// Runs warm-up then the measured span, snapshotting with `snapshot` at each edge, then marks
/// the phase done. If a worker finishes the run early, the span ends at that moment.
pub fn run_window<T>(
    phase: &Phase,
    warmup: Duration,
    measure: Duration,
    mut snapshot: impl FnMut() -> T,
) -> Span<T> {
    sleep_until(phase, Instant::now() + warmup);
    let start = snapshot();
    let t0 = Instant::now();
    if phase.start_measuring() {
        announce("measure-start");
    }
    sleep_until(phase, t0 + measure);
    let end = snapshot();
    let seconds = t0.elapsed().as_secs_f64();
    phase.finish();
    announce("measure-end");
    Span {
        seconds,
        start,
        end,
    }
}

/// Runs until `done()` holds (a byte target) or the phase ends; measured from the start.
pub fn run_until<T>(
    phase: &Phase,
    mut snapshot: impl FnMut() -> T,
    mut done: impl FnMut() -> bool,
) -> Span<T> {
    let start = snapshot();
    let t0 = Instant::now();
    phase.start_measuring();
    announce("measure-start");
    while !phase.done() && !done() {
        thread::sleep(Duration::from_millis(5));
    }
    let end = snapshot();
    let seconds = t0.elapsed().as_secs_f64();
    phase.finish();
    announce("measure-end");
    Span {
        seconds,
        start,
        end,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn window_snapshots_at_both_edges_and_ends_the_run() {
        let phase = Arc::new(Phase::new());
        let counter = Arc::new(Counter::default());
        let worker = {
            let (phase, counter) = (phase.clone(), counter.clone());
            thread::spawn(move || {
                let mut measured_samples = 0u64;
                while !phase.done() {
                    counter.add(1);
                    if phase.measuring() {
                        measured_samples += 1;
                    }
                    thread::sleep(Duration::from_micros(200));
                }
                measured_samples
            })
        };
        let span = run_window(
            &phase,
            Duration::from_millis(30),
            Duration::from_millis(60),
            || counter.get(),
        );
        let measured = worker.join().unwrap();
        assert!(phase.done());
        assert!(
            span.seconds >= 0.06 && span.seconds < 1.0,
            "{}",
            span.seconds
        );
        assert!(span.start > 0, "warm-up ran before the window");
        assert!(span.end > span.start);
        assert!(measured > 0);
    }

    #[test]
    fn an_early_finish_shortens_the_window() {
        let phase = Arc::new(Phase::new());
        let p2 = phase.clone();
        let stopper = thread::spawn(move || {
            thread::sleep(Duration::from_millis(20));
            p2.finish();
        });
        let span = run_window(&phase, Duration::ZERO, Duration::from_secs(10), || ());
        stopper.join().unwrap();
        assert!(span.seconds < 5.0);
    }

    #[test]
    fn clock_is_monotonic() {
        let a = now_ns();
        let b = now_ns();
        assert!(b >= a);
    }
}
