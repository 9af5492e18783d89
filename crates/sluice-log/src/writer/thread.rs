//! A writer epoll thread: waits for writable edges and hand-offs of the connections of its shard,
//! resumes those connections' queues, and delivers the round's events in one call.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::Ordering::Acquire;
use std::sync::{Arc, Mutex};

use super::connection::FILE_READ_BYTES;
use super::connection::{AfterResume, Transport};
use super::poller::{EVENTS_PER_WAIT, WAKE_KEY};
use super::{ConnId, EventSink, Shared, TlsEventSink, WriterMode, lock, read};

/// Runs until the writer closes. A panic here is a broken invariant in the writer (or in the
/// event callback); the process aborts rather than go on with a writer that silently stopped.
pub(super) fn run(
    shared: Arc<Shared>,
    shard: usize,
    on_events: Arc<Mutex<EventSink>>,
    on_tls: Option<Arc<Mutex<TlsEventSink>>>,
) {
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        run_rounds(&shared, shard, &on_events, on_tls.as_deref())
    }));
    if outcome.is_err() {
        eprintln!("sluice-writer: the writer thread panicked; aborting");
        std::process::abort();
    }
}

fn run_rounds(
    shared: &Shared,
    shard: usize,
    on_events: &Mutex<EventSink>,
    on_tls: Option<&Mutex<TlsEventSink>>,
) {
    let shard = &shared.shards[shard];
    // TLS connections read file ranges through this buffer too (one record at a time).
    let mut copy_buffer = match (shared.config.mode, on_tls.is_some()) {
        (WriterMode::Copy, _) => vec![0u8; shared.config.copy_buffer_bytes.max(FILE_READ_BYTES)],
        (_, true) => vec![0u8; FILE_READ_BYTES],
        _ => Vec::new(),
    };
    let mut tls_events = Vec::new();
    let mut readiness = vec![libc::epoll_event { events: 0, u64: 0 }; EVENTS_PER_WAIT];
    // Connections to resume this round, and those whose budget ran out (resumed next round
    // without waiting, since no edge will come for a socket that is still writable).
    let mut ready: Vec<ConnId> = Vec::new();
    let mut again: Vec<ConnId> = Vec::new();
    let mut events = Vec::new();
    loop {
        let timeout_ms = if ready.is_empty() { -1 } else { 0 };
        let count = {
            let poller = read(&shard.poller);
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
                ready.append(&mut lock(&shard.handoffs));
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
            let mut read_again = false;
            if connection.tls_mut().is_some() {
                read_again =
                    connection.read_tls(&shared.tls_options, &mut copy_buffer, &mut tls_events);
            }
            let mut transport = Transport {
                mode: shared.config.mode,
                counters: &shared.counters,
                copy_buffer: &mut copy_buffer,
                cold_reads: shared.cold_reads(),
            };
            if connection.resume(&mut transport, &shared.config, &mut events)
                == AfterResume::RunAgain
                || read_again
            {
                again.push(id);
            }
        }
        ready.clear();
        std::mem::swap(&mut ready, &mut again);
        // TLS events first: a connection's Established/Received come before the host learns
        // of sends on it completing.
        if !tls_events.is_empty()
            && let Some(on_tls) = on_tls
        {
            (lock(on_tls))(std::mem::take(&mut tls_events));
        }
        if !events.is_empty() {
            (lock(on_events))(std::mem::take(&mut events));
        }
    }
}
