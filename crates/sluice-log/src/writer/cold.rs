//! The cold-read pool: threads that bring file ranges into the page cache for connections whose
//! next range is not there, so that no epoll thread (and no caller of `send`, the JS thread)
//! waits on the disk.
//!
//! How a range reaches it: before a connection writes a file range (inline or on its epoll
//! thread) it probes the part it is about to write (`residency::is_resident`, one cachestat).
//! Cold: the connection stops writing, keeps its queue (later sends on it wait behind, as
//! always; other connections are not held), marks itself `Warming` and submits a `WarmJob`.
//! A pool thread reads the range in (fadvise WILLNEED, then pread through a buffer), marks the
//! connection `Warmed` and hands it back to its epoll thread, which sends the range by
//! sendfile (or splice/copy) without probing it again: the write goes on even if the pages were
//! evicted meanwhile, so a connection always makes progress.
//!
//! Bounds: a connection has at most one job at a time, so the queue holds at most one job per
//! connection. Jobs run in submission order.
//!
//! Concurrency contract: `ColdReads` is shared by the writer's callers, epoll threads and pool
//! threads. `submit` is called under a connection's mutex and takes only the pool's queue lock
//! (a leaf); a pool thread takes no lock while warming, and then the connection's mutex alone.

use std::collections::VecDeque;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::AtomicU64;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::{Arc, Condvar, Mutex};
use std::time::Instant;

use super::{ConnId, Shared, lock};
use crate::{FileRange, residency};

/// How far past a warmed range the pool asks the kernel to read ahead (fadvise WILLNEED, not
/// waited for): a reader catching up asks for the next range next, and finds it in memory
/// instead of waiting a pool round trip per fetch (why 4 MiB: crates/sluice-log/README.md).
pub(super) const READ_AHEAD_BYTES: u64 = 4 << 20;
/// The pool threads' read buffer.
pub(super) const WARM_BUFFER_BYTES: usize = 256 << 10;

/// Where a connection stands with the cold-read pool.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) enum ColdState {
    /// Probe before each file write.
    #[default]
    Probe,
    /// A job for this connection is queued or running: write nothing.
    Warming,
    /// The next range to write was warmed (or just probed resident): write it without probing
    /// again (once).
    Warmed,
}

/// A range to bring into the page cache for `conn`.
pub(super) struct WarmJob {
    pub(super) conn: ConnId,
    pub(super) range: FileRange,
    /// File position and length to warm.
    pub(super) position: u64,
    pub(super) len: u64,
    pub(super) submitted: Instant,
}

pub(super) struct ColdReads {
    queue: Mutex<Jobs>,
    wake: Condvar,
    pub(super) deferred: AtomicU64,
    pub(super) warmed_bytes: AtomicU64,
    pub(super) wait_micros: AtomicU64,
    pub(super) probes: AtomicU64,
}

struct Jobs {
    jobs: VecDeque<WarmJob>,
    closed: bool,
    /// Test hook (`Writer::hold_cold_reads`): jobs queue but none starts.
    held: bool,
}

impl ColdReads {
    pub(super) fn new() -> ColdReads {
        ColdReads {
            queue: Mutex::new(Jobs {
                jobs: VecDeque::new(),
                closed: false,
                held: false,
            }),
            wake: Condvar::new(),
            deferred: AtomicU64::new(0),
            warmed_bytes: AtomicU64::new(0),
            wait_micros: AtomicU64::new(0),
            probes: AtomicU64::new(0),
        }
    }

    /// Queues a job (a connection that found its next range cold).
    pub(super) fn submit(&self, job: WarmJob) {
        self.deferred.fetch_add(1, Relaxed);
        lock(&self.queue).jobs.push_back(job);
        self.wake.notify_one();
    }

    /// The next job, waiting for one; `None` once the pool is closed.
    pub(super) fn next(&self) -> Option<WarmJob> {
        let mut queue = lock(&self.queue);
        loop {
            if queue.closed {
                return None;
            }
            if !queue.held
                && let Some(job) = queue.jobs.pop_front()
            {
                return Some(job);
            }
            queue = self
                .wake
                .wait(queue)
                .expect("cold-read queue poisoned by a panic");
        }
    }

    /// A job is done: `bytes` read in, after waiting since it was submitted.
    pub(super) fn finished(&self, job: &WarmJob, bytes: u64) {
        self.warmed_bytes.fetch_add(bytes, Relaxed);
        let waited = u64::try_from(job.submitted.elapsed().as_micros()).unwrap_or(u64::MAX);
        self.wait_micros.fetch_add(waited, Relaxed);
    }

    /// Test hook: while held, queued jobs wait (a cold connection stays deferred).
    pub(super) fn hold(&self, held: bool) {
        lock(&self.queue).held = held;
        self.wake.notify_all();
    }

    /// Stops the pool threads (jobs still queued are dropped: their connections are closing).
    pub(super) fn close(&self) {
        let mut queue = lock(&self.queue);
        queue.closed = true;
        queue.jobs.clear();
        drop(queue);
        self.wake.notify_all();
    }
}

/// A pool thread: warms jobs until the writer closes, then hands each connection back to its
/// epoll thread. A read error is not reported here: the send meets it (sendfile/pread return it
/// as a value) and fails the connection as any transfer error does. A panic is a broken
/// invariant and aborts, as on the epoll threads.
pub(super) fn run(shared: Arc<Shared>) {
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        let mut buffer = vec![0u8; WARM_BUFFER_BYTES];
        while let Some(job) = shared.cold_reads.next() {
            let file = job.range.file();
            let bytes = residency::warm(file, job.position, job.len, READ_AHEAD_BYTES, &mut buffer)
                .unwrap_or(0);
            shared.cold_reads.finished(&job, bytes);
            let Ok(connection) = shared.connection(job.conn) else {
                continue; // unregistered meanwhile
            };
            let mut connection = lock(&connection);
            if connection.cold == ColdState::Warming {
                connection.cold = ColdState::Warmed;
                shared.hand_off(&mut connection);
            }
        }
    }));
    if outcome.is_err() {
        eprintln!("sluice-writer: a cold-read thread panicked; aborting");
        std::process::abort();
    }
}
