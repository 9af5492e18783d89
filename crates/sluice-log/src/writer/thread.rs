//! The writer's epoll thread: waits for writable edges and hand-offs, resumes those connections'
//! queues, and delivers the round's events in one call.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::Ordering::Acquire;

use super::connection::{AfterResume, Transport};
use super::poller::{EVENTS_PER_WAIT, WAKE_KEY};
use super::{ConnId, EventSink, Shared, WriterMode, lock, read};

/// Runs until the writer closes. A panic here is a broken invariant in the writer (or in the
/// event callback); the process aborts rather than go on with a writer that silently stopped.
pub(super) fn run(shared: Arc<Shared>, on_events: EventSink) {
    let outcome = catch_unwind(AssertUnwindSafe(|| run_rounds(&shared, on_events)));
    if outcome.is_err() {
        eprintln!("sluice-writer: the writer thread panicked; aborting");
        std::process::abort();
    }
}

fn run_rounds(shared: &Shared, mut on_events: EventSink) {
    let mut copy_buffer = match shared.config.mode {
        WriterMode::Copy => vec![0u8; shared.config.copy_buffer_bytes],
        _ => Vec::new(),
    };
    let mut readiness = vec![libc::epoll_event { events: 0, u64: 0 }; EVENTS_PER_WAIT];
    // Connections to resume this round, and those whose budget ran out (resumed next round
    // without waiting, since no edge will come for a socket that is still writable).
    let mut ready: Vec<ConnId> = Vec::new();
    let mut again: Vec<ConnId> = Vec::new();
    let mut events = Vec::new();
    loop {
        let timeout_ms = if ready.is_empty() { -1 } else { 0 };
        let count = {
            let poller = read(&shared.poller);
            let Some(poller) = poller.as_ref() else {
                return;
            };
            let count = poller
                .wait(&mut readiness, timeout_ms)
                .unwrap_or_else(|e| panic!("epoll_wait on the writer's own epoll fd failed: {e}"));
            if readiness[..count].iter().any(|event| event.u64 == WAKE_KEY) {
                poller.drain_wake();
            }
            count
        };
        if shared.closed.load(Acquire) {
            return;
        }
        for event in &readiness[..count] {
            let key = event.u64;
            if key == WAKE_KEY {
                ready.append(&mut lock(&shared.handoffs));
            } else {
                ready.push(key);
            }
        }
        ready.sort_unstable();
        ready.dedup();
        for &id in &ready {
            // Unregistered since the edge: nothing to do.
            let Ok(connection) = shared.connection(id) else {
                continue;
            };
            let mut connection = lock(&connection);
            connection.handed_off = false;
            let mut transport = Transport {
                mode: shared.config.mode,
                counters: &shared.counters,
                copy_buffer: &mut copy_buffer,
            };
            if connection.resume(&mut transport, &shared.config, &mut events)
                == AfterResume::RunAgain
            {
                again.push(id);
            }
        }
        ready.clear();
        std::mem::swap(&mut ready, &mut again);
        if !events.is_empty() {
            on_events(std::mem::take(&mut events));
        }
    }
}
