//! Writer counters: atomics bumped on the hot path with `Relaxed` (each is an independent tally;
//! nothing is ordered by them) and read as one snapshot per metrics scrape.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use crate::transfer::{Progress, Stop, TransferError};

/// A snapshot of a writer's counters. Byte counts are sums of the socket syscalls' return
/// values, so they are what reached the sockets.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WriterStats {
    pub sendfile_bytes: u64,
    pub sendfile_syscalls: u64,
    /// splice syscalls count both halves (file -> pipe and pipe -> socket).
    pub splice_bytes: u64,
    pub splice_syscalls: u64,
    /// copy syscalls count both pread and send.
    pub copy_bytes: u64,
    pub copy_syscalls: u64,
    /// Plain bytes (response headers and other `Part::Bytes`) sent with send(2).
    pub plain_bytes: u64,
    pub plain_syscalls: u64,
    /// Sends written completely on the caller's thread (no event follows them).
    pub sends_inline: u64,
    /// Sends that went through the queue (each ends in a `Sent` or `Failed` event unless its
    /// connection fails earlier or is unregistered).
    pub sends_queued: u64,
    /// Transfer calls that stopped because the socket was full (EAGAIN).
    pub would_block: u64,
    /// Times the epoll thread resumed writing a connection's queue (EAGAIN continuations).
    pub continuations: u64,
    /// Bytes queued and not yet written, over all connections (a gauge).
    pub queued_bytes: u64,
    /// Registered connections (a gauge).
    pub connections: u64,
    /// Sends that failed with an I/O error (peer gone, EIO, ...).
    pub errors: u64,
    /// Of `errors`, sends failed because a file range could deliver fewer bytes than were
    /// framed for it: the log was truncated under a response not yet written.
    pub truncated_ranges: u64,
    /// TLS connections (rustls in the writer thread): plaintext encrypted, and the encrypted
    /// bytes and send syscalls that put it on the sockets (handshakes included).
    pub tls_plaintext_bytes: u64,
    pub tls_bytes: u64,
    pub tls_syscalls: u64,
    /// Cold reads (`writer/cold.rs`): file ranges found not in the page cache and handed to the
    /// cold-read pool, the bytes it read in, the microseconds those sends waited for it in all,
    /// and the residency probes made before file writes.
    pub cold_ranges_deferred: u64,
    pub cold_bytes_warmed: u64,
    pub cold_wait_micros: u64,
    pub residency_probes: u64,
}

/// Which syscall family moved a chunk.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Channel {
    Plain,
    Sendfile,
    Splice,
    Copy,
}

#[derive(Default)]
pub(super) struct Counters {
    sendfile_bytes: AtomicU64,
    sendfile_syscalls: AtomicU64,
    splice_bytes: AtomicU64,
    splice_syscalls: AtomicU64,
    copy_bytes: AtomicU64,
    copy_syscalls: AtomicU64,
    plain_bytes: AtomicU64,
    plain_syscalls: AtomicU64,
    pub(super) sends_inline: AtomicU64,
    pub(super) sends_queued: AtomicU64,
    would_block: AtomicU64,
    pub(super) continuations: AtomicU64,
    pub(super) queued_bytes: AtomicU64,
    pub(super) connections: AtomicU64,
    errors: AtomicU64,
    truncated_ranges: AtomicU64,
    pub(super) tls_plaintext_bytes: AtomicU64,
    tls_bytes: AtomicU64,
    tls_syscalls: AtomicU64,
}

impl Counters {
    /// Counts one transfer call, successful or not.
    pub(super) fn record(&self, channel: Channel, result: &Result<Progress, TransferError>) {
        let (bytes, syscalls) = match result {
            Ok(progress) => (progress.bytes, progress.syscalls),
            Err(error) => (error.bytes, error.syscalls),
        };
        let (bytes_counter, syscalls_counter) = match channel {
            Channel::Plain => (&self.plain_bytes, &self.plain_syscalls),
            Channel::Sendfile => (&self.sendfile_bytes, &self.sendfile_syscalls),
            Channel::Splice => (&self.splice_bytes, &self.splice_syscalls),
            Channel::Copy => (&self.copy_bytes, &self.copy_syscalls),
        };
        bytes_counter.fetch_add(bytes, Relaxed);
        syscalls_counter.fetch_add(syscalls, Relaxed);
        if matches!(
            result,
            Ok(Progress {
                stop: Stop::WouldBlock,
                ..
            })
        ) {
            self.would_block.fetch_add(1, Relaxed);
        }
    }

    /// Counts a send that failed (and ended its connection).
    /// One send(2) of encrypted records on a TLS connection.
    pub(super) fn record_tls(&self, bytes: u64) {
        self.tls_bytes.fetch_add(bytes, Relaxed);
        self.tls_syscalls.fetch_add(1, Relaxed);
    }

    pub(super) fn count_would_block(&self) {
        self.would_block.fetch_add(1, Relaxed);
    }

    pub(super) fn count_failure(&self, error: &TransferError) {
        self.errors.fetch_add(1, Relaxed);
        if error.is_short_range() {
            self.truncated_ranges.fetch_add(1, Relaxed);
        }
    }

    pub(super) fn snapshot(&self) -> WriterStats {
        WriterStats {
            sendfile_bytes: self.sendfile_bytes.load(Relaxed),
            sendfile_syscalls: self.sendfile_syscalls.load(Relaxed),
            splice_bytes: self.splice_bytes.load(Relaxed),
            splice_syscalls: self.splice_syscalls.load(Relaxed),
            copy_bytes: self.copy_bytes.load(Relaxed),
            copy_syscalls: self.copy_syscalls.load(Relaxed),
            plain_bytes: self.plain_bytes.load(Relaxed),
            plain_syscalls: self.plain_syscalls.load(Relaxed),
            sends_inline: self.sends_inline.load(Relaxed),
            sends_queued: self.sends_queued.load(Relaxed),
            would_block: self.would_block.load(Relaxed),
            continuations: self.continuations.load(Relaxed),
            queued_bytes: self.queued_bytes.load(Relaxed),
            connections: self.connections.load(Relaxed),
            errors: self.errors.load(Relaxed),
            truncated_ranges: self.truncated_ranges.load(Relaxed),
            tls_plaintext_bytes: self.tls_plaintext_bytes.load(Relaxed),
            tls_bytes: self.tls_bytes.load(Relaxed),
            tls_syscalls: self.tls_syscalls.load(Relaxed),
            ..WriterStats::default()
        }
    }
}
