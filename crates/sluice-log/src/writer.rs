//! The per-connection writer: the only writer on each registered socket.
//!
//! The broker reads requests through Node; every response byte goes out through a `Writer`.
//! A response is a *plan*: ordered parts, each plain bytes (headers, encoded by JS) or a
//! `FileRange` of a segment (records, sent by sendfile, splice or copy per the writer's mode).
//!
//! - `register(fd)` dup()s the socket, so a closed-and-reused fd number can never redirect
//!   bytes, sets O_NONBLOCK (on the open file description, which Node's fd shares — Node's
//!   sockets are non-blocking already) and returns a connection id. Ids are never reused.
//! - `send(conn, plan, token)` — fast path on the caller's thread: when the connection's queue
//!   is empty the plan is written at once (headers with MSG_MORE when more follows). Whatever
//!   the socket does not take (EAGAIN), or what is left once the per-turn byte budget is spent,
//!   is queued — borrowed bytes copied into owned memory — and finished by the writer's epoll
//!   thread. A send on a connection with a non-empty queue is appended to it untouched, so bytes
//!   leave in the order of the `send` calls.
//! - Completion: a send finished inline reports it through its return value (0 pending bytes)
//!   and gets **no event**. A send that was queued ends in exactly one `Event::Sent` (its token
//!   and total bytes), or in `Event::Failed` when the connection breaks while it is at the head
//!   of the queue; after a `Failed` event the connection's queue is dropped and no further event
//!   comes for it. An error met inline is returned by `send` instead of an event.
//!   Events reach the callback in batches, one call per round of the epoll thread.
//! - Bounds: per connection, `max_pending_bytes` (bytes queued and not yet written) and
//!   `max_queued_parts`. A send that would go past either is refused with
//!   `Error::WriterQueueFull` before anything of it is written; the connection stays usable.
//!   The broker reads `pending_bytes` (also `send`'s return value) and stops reading requests
//!   from a connection well before the bound, so hitting it means that backpressure failed.
//! - `unregister(conn)` drops the queue and closes the dup and the pipe; a peer that goes away
//!   mid-send is a `Failed` event (EPIPE/ECONNRESET as `PEER_RESET`), never a signal: sockets
//!   are written with MSG_NOSIGNAL, and SIGPIPE (which sendfile/splice would raise) is set to
//!   ignored when the process had left it at its default.
//!
//! - Threads: the writer owns `threads` epoll threads (default: one per core, at most
//!   `MAX_DEFAULT_THREADS`); each connection belongs to one of them for its life (the one with
//!   the fewest connections when it registers), so one thread finishes all of its queued sends
//!   and its events keep their order. Several threads let a fan-out to many connections use
//!   every core (bench/README.md, "Where fetch time goes").
//! - Cold ranges: before writing a file range the writer checks that the part it is about to
//!   write is in the page cache (one cachestat); a cold one is warmed by a small pool of
//!   threads (`cold_read_threads`) while the connection waits — its later sends behind it,
//!   other connections untouched — and then sent by its epoll thread (`cold.rs`).
//! - `send_buffer_bytes`: SO_SNDBUF set on each registered socket (Kafka's
//!   `socket.send.buffer.bytes`); `None` leaves the kernel's autotuning.
//!
//! Concurrency contract: a `Writer` is `Send + Sync`; any thread may call it. Each connection's
//! writes happen under that connection's mutex, from the caller of `send` or from the epoll
//! thread the connection belongs to. The events callbacks run on the epoll threads, one call
//! at a time (they are behind a mutex). `close()` (or drop) stops and joins the threads and
//! closes every connection; it must not be called from inside a callback.

mod cold;
mod connection;
mod poller;
mod shard;
mod stats;
mod thread;

use std::borrow::Cow;
use std::collections::HashMap;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd};
use std::str::FromStr;
use std::sync::atomic::Ordering::{AcqRel, Acquire, Relaxed};
use std::sync::atomic::{AtomicBool, AtomicU64};
use std::sync::{Arc, Mutex, MutexGuard, RwLock, RwLockReadGuard};
use std::thread::JoinHandle;
use std::thread::ThreadId;

use crate::transfer::{self, SplicePipe};
use crate::{Error, FileRange};
use cold::ColdReads;
use connection::{Connection, SendOutcome, Transport};
pub use connection::{TlsEvent, TlsEventSink, TlsOptions};
use poller::Poller;
use shard::Shard;
pub use shard::{MAX_DEFAULT_THREADS, default_threads};
use stats::Counters;
pub use stats::WriterStats;

/// A registered connection's id. Starts at 1; never reused within a writer.
pub type ConnId = u64;

/// How file ranges reach the socket.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WriterMode {
    /// sendfile(2): file -> socket in the kernel. The starting default.
    Sendfile,
    /// splice(2) file -> pipe -> socket, one pipe per connection.
    Splice,
    /// pread(2) + send(2) through a user buffer; the baseline for benchmarks.
    Copy,
}

impl WriterMode {
    pub fn as_str(self) -> &'static str {
        match self {
            WriterMode::Sendfile => "sendfile",
            WriterMode::Splice => "splice",
            WriterMode::Copy => "copy",
        }
    }
}

impl FromStr for WriterMode {
    type Err = Error;

    fn from_str(name: &str) -> Result<WriterMode, Error> {
        match name {
            "sendfile" => Ok(WriterMode::Sendfile),
            "splice" => Ok(WriterMode::Splice),
            "copy" => Ok(WriterMode::Copy),
            other => Err(Error::UnknownWriterMode(other.to_owned())),
        }
    }
}

/// Writer settings. `WriterConfig::new(mode)` gives the defaults.
#[derive(Clone, Debug)]
pub struct WriterConfig {
    pub mode: WriterMode,
    /// Per connection: most bytes queued and not yet written. Must exceed the largest single
    /// response (Kafka's broker-side `fetch.max.bytes` defaults to 55 MiB). Default 128 MiB.
    pub max_pending_bytes: u64,
    /// Per connection: most parts queued. A Fetch response has about two per partition.
    /// Default 16384.
    pub max_queued_parts: usize,
    /// Most bytes written to one connection per turn (one inline `send`, or one round of the
    /// epoll thread), so one fast reader of a large response neither holds the caller's thread
    /// nor starves the other connections. Default 1 MiB.
    pub write_budget_bytes: u64,
    /// Splice mode: pipe size asked for per connection (F_SETPIPE_SZ). Unprivileged processes
    /// share `/proc/sys/fs/pipe-user-pages-soft` (64 MiB by default) over all pipes, so bigger
    /// pipes mean fewer connections at full size. Default 256 KiB.
    pub splice_pipe_bytes: usize,
    /// Copy mode: buffer per writing thread (the caller's and each epoll thread's). Default 1 MiB.
    pub copy_buffer_bytes: usize,
    /// Epoll threads finishing queued sends; connections are spread over them. Default
    /// `default_threads()` (the core count, at most `MAX_DEFAULT_THREADS`).
    pub threads: usize,
    /// SO_SNDBUF for every registered socket (the kernel doubles it); `None` (the default here)
    /// leaves the socket as it is, with the kernel's autotuning.
    pub send_buffer_bytes: Option<usize>,
    /// Threads that bring cold file ranges into the page cache so that no sending thread waits
    /// on the disk (`writer/cold.rs`). 0 turns the residency probe off: ranges are sent at once,
    /// blocking the sending thread on a cold one. Default `DEFAULT_COLD_READ_THREADS`.
    pub cold_read_threads: usize,
}

/// Cold-read threads by default: two reads in flight keep a virtual disk busy while one
/// catching-up consumer per thread is served; more readers than that take turns.
pub const DEFAULT_COLD_READ_THREADS: usize = 2;

impl WriterConfig {
    pub fn new(mode: WriterMode) -> WriterConfig {
        WriterConfig {
            mode,
            max_pending_bytes: 128 << 20,
            max_queued_parts: 16_384,
            write_budget_bytes: 1 << 20,
            splice_pipe_bytes: 256 << 10,
            copy_buffer_bytes: 1 << 20,
            threads: default_threads(),
            send_buffer_bytes: None,
            cold_read_threads: DEFAULT_COLD_READ_THREADS,
        }
    }
}

/// One part of a send plan.
#[derive(Clone, Debug)]
pub enum Part<'a> {
    /// Plain bytes: borrowed for the duration of `send` (the unsent tail is copied if it has to
    /// be queued) or owned.
    Bytes(Cow<'a, [u8]>),
    /// A segment range, sent whole: its length may already be framed in the bytes before it,
    /// so a range the log truncated below `len()` fails the send and its connection.
    File(FileRange),
}

impl<'a> From<&'a [u8]> for Part<'a> {
    fn from(bytes: &'a [u8]) -> Part<'a> {
        Part::Bytes(Cow::Borrowed(bytes))
    }
}

impl From<Vec<u8>> for Part<'static> {
    fn from(bytes: Vec<u8>) -> Part<'static> {
        Part::Bytes(Cow::Owned(bytes))
    }
}

impl From<FileRange> for Part<'static> {
    fn from(range: FileRange) -> Part<'static> {
        Part::File(range)
    }
}

/// What the epoll thread reports about queued sends.
#[derive(Debug)]
pub enum Event {
    /// A queued send is completely written; `bytes` is its total size.
    Sent {
        conn: ConnId,
        token: u64,
        bytes: u64,
    },
    /// The connection broke while this send was at the head of its queue; `bytes` of it had
    /// been written. The queue is dropped; no more events come for `conn`.
    Failed {
        conn: ConnId,
        token: u64,
        bytes: u64,
        error: Error,
    },
}

/// Receives event batches on the writer's epoll threads (one call at a time).
pub type EventSink = Box<dyn FnMut(Vec<Event>) + Send + 'static>;

pub struct Writer {
    shared: Arc<Shared>,
    threads: Mutex<Vec<JoinHandle<()>>>,
    /// The epoll threads' ids, so `close` can refuse to run from inside a callback.
    thread_ids: Vec<ThreadId>,
}

/// State shared by the callers and the epoll threads.
struct Shared {
    config: WriterConfig,
    /// One per epoll thread: its poller and hand-off list (`shard.rs`).
    shards: Vec<Shard>,
    connections: Mutex<HashMap<ConnId, Arc<Mutex<Connection>>>>,
    next_id: AtomicU64,
    counters: Counters,
    closed: AtomicBool,
    /// Copy mode: the buffer of inline sends (the epoll thread has its own).
    inline_copy_buffer: Mutex<Vec<u8>>,
    tls_options: TlsOptions,
    /// Whether TLS connections may be registered (a TLS event sink was given).
    serves_tls: bool,
    /// The cold-read pool's queue and counters (its threads are in `Writer::threads`).
    cold_reads: ColdReads,
}

impl Writer {
    /// A writer in `mode` with default settings; `on_events` receives event batches.
    pub fn new(
        mode: WriterMode,
        on_events: impl FnMut(Vec<Event>) + Send + 'static,
    ) -> Result<Writer, Error> {
        Writer::with_config(WriterConfig::new(mode), on_events)
    }

    pub fn with_config(
        config: WriterConfig,
        on_events: impl FnMut(Vec<Event>) + Send + 'static,
    ) -> Result<Writer, Error> {
        Writer::build(config, TlsOptions::default(), Box::new(on_events), None)
    }

    /// A writer that also serves TLS connections (`register_tls`): `on_tls` receives their
    /// handshakes, decrypted bytes and read ends (see `TlsEvent`).
    pub fn with_tls(
        config: WriterConfig,
        tls_options: TlsOptions,
        on_events: impl FnMut(Vec<Event>) + Send + 'static,
        on_tls: impl FnMut(Vec<TlsEvent>) + Send + 'static,
    ) -> Result<Writer, Error> {
        Writer::build(
            config,
            tls_options,
            Box::new(on_events),
            Some(Box::new(on_tls)),
        )
    }

    fn build(
        config: WriterConfig,
        tls_options: TlsOptions,
        sink: EventSink,
        on_tls: Option<TlsEventSink>,
    ) -> Result<Writer, Error> {
        // Settings come from the broker's config: a bad one is an error for the caller, not a panic.
        let positive = [
            ("max_pending_bytes", config.max_pending_bytes > 0),
            ("max_queued_parts", config.max_queued_parts > 0),
            ("write_budget_bytes", config.write_budget_bytes > 0),
            ("splice_pipe_bytes", config.splice_pipe_bytes > 0),
            ("copy_buffer_bytes", config.copy_buffer_bytes > 0),
            ("threads", config.threads > 0),
            ("send_buffer_bytes", config.send_buffer_bytes != Some(0)),
        ];
        if let Some(&(name, _)) = positive.iter().find(|(_, ok)| !ok) {
            return Err(Error::InvalidConfig {
                name,
                reason: "must be positive".to_string(),
            });
        }
        ignore_sigpipe();
        let shards = (0..config.threads)
            .map(|_| Poller::new().map(Shard::new))
            .collect::<io::Result<Vec<Shard>>>()
            .map_err(|source| Error::TransferIo {
                op: "epoll setup",
                source,
            })?;
        let inline_copy_buffer = match config.mode {
            WriterMode::Copy => vec![0; config.copy_buffer_bytes],
            _ => Vec::new(),
        };
        let shared = Arc::new(Shared {
            config,
            shards,
            connections: Mutex::new(HashMap::new()),
            next_id: AtomicU64::new(1),
            counters: Counters::default(),
            closed: AtomicBool::new(false),
            inline_copy_buffer: Mutex::new(inline_copy_buffer),
            serves_tls: on_tls.is_some(),
            tls_options,
            cold_reads: ColdReads::new(),
        });
        let sink = Arc::new(Mutex::new(sink));
        let on_tls = on_tls.map(|on_tls| Arc::new(Mutex::new(on_tls)));
        let mut threads = Vec::with_capacity(shared.config.threads);
        for index in 0..shared.config.threads {
            let (thread_shared, sink, on_tls) = (shared.clone(), sink.clone(), on_tls.clone());
            // The first thread keeps the name tools and tests know; the others are numbered.
            let name = match index {
                0 => "sluice-writer".to_owned(),
                _ => format!("sluice-writer-{index}"),
            };
            let spawned = std::thread::Builder::new()
                .name(name)
                .spawn(move || thread::run(thread_shared, index, sink, on_tls));
            match spawned {
                Ok(handle) => threads.push(handle),
                Err(source) => {
                    // Stop the threads already running before reporting.
                    let writer = Writer {
                        thread_ids: threads.iter().map(|t| t.thread().id()).collect(),
                        shared,
                        threads: Mutex::new(threads),
                    };
                    writer.close();
                    return Err(Error::TransferIo {
                        op: "spawn writer thread",
                        source,
                    });
                }
            }
        }
        let thread_ids = threads.iter().map(|t| t.thread().id()).collect();
        for index in 0..shared.config.cold_read_threads {
            let pool_shared = shared.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("sluice-cold-{index}"))
                .spawn(move || cold::run(pool_shared));
            match spawned {
                Ok(handle) => threads.push(handle),
                Err(source) => {
                    let writer = Writer {
                        thread_ids,
                        shared,
                        threads: Mutex::new(threads),
                    };
                    writer.close();
                    return Err(Error::TransferIo {
                        op: "spawn cold-read thread",
                        source,
                    });
                }
            }
        }
        Ok(Writer {
            thread_ids,
            shared,
            threads: Mutex::new(threads),
        })
    }

    /// How many epoll threads this writer runs.
    pub fn threads(&self) -> usize {
        self.shared.shards.len()
    }

    pub fn mode(&self) -> WriterMode {
        self.shared.config.mode
    }

    /// Registers a connected stream socket; the writer keeps its own dup of it.
    pub fn register(&self, socket: BorrowedFd<'_>) -> Result<ConnId, Error> {
        self.register_with(socket, None)
    }

    /// Registers a connected TCP socket that speaks TLS with `config`. From here on the writer
    /// owns the socket in both directions: the host must not read it (Node: a server with
    /// `pauseOnConnect`) and gets its bytes from `TlsEvent::Received`.
    pub fn register_tls(
        &self,
        socket: BorrowedFd<'_>,
        config: Arc<rustls::ServerConfig>,
    ) -> Result<ConnId, Error> {
        if !self.shared.serves_tls {
            return Err(tls_setup(
                "this writer was made without a TLS event sink".into(),
            ));
        }
        let session =
            rustls::ServerConnection::new(config).map_err(|e| tls_setup(e.to_string()))?;
        self.register_with(socket, Some(session))
    }

    /// Lets a TLS connection deliver its next `Received` batch (reading stops after each).
    pub fn resume_reading(&self, conn: ConnId) -> Result<(), Error> {
        let connection = self.shared.connection(conn)?;
        let mut connection = lock(&connection);
        let Some(tls) = connection.tls_mut() else {
            return Err(tls_setup(format!(
                "connection {conn} is not a TLS connection"
            )));
        };
        tls.resume_reading();
        self.shared.hand_off(&mut connection);
        Ok(())
    }

    fn register_with(
        &self,
        socket: BorrowedFd<'_>,
        session: Option<rustls::ServerConnection>,
    ) -> Result<ConnId, Error> {
        self.ensure_open()?;
        check_stream_socket(socket)?;
        let dup = socket
            .try_clone_to_owned()
            .map_err(|source| Error::TransferIo { op: "dup", source })?;
        transfer::set_nonblocking(dup.as_fd()).map_err(|source| Error::TransferIo {
            op: "fcntl O_NONBLOCK",
            source,
        })?;
        if let Some(bytes) = self.shared.config.send_buffer_bytes {
            set_send_buffer(dup.as_fd(), bytes).map_err(|source| Error::TransferIo {
                op: "setsockopt SO_SNDBUF",
                source,
            })?;
        }
        let pipe = match self.shared.config.mode {
            WriterMode::Splice => Some(
                SplicePipe::new(self.shared.config.splice_pipe_bytes)
                    .map_err(|source| Error::TransferIo { op: "pipe", source })?,
            ),
            _ => None,
        };
        let id = self.shared.next_id.fetch_add(1, Relaxed);
        let shard_index = self.shared.least_loaded_shard();
        let shard = &self.shared.shards[shard_index];
        // Watched before it is in the map: an edge for an id not yet there is ignored, which is
        // right, since nothing is queued yet.
        let tls = session.is_some();
        {
            let poller = read(&shard.poller);
            let poller = poller.as_ref().ok_or(Error::WriterClosed)?;
            let added = if tls {
                poller.add_tls(dup.as_fd(), id)
            } else {
                poller.add(dup.as_fd(), id)
            };
            added.map_err(|source| Error::TransferIo {
                op: "epoll_ctl add",
                source,
            })?;
        }
        let connection = match session {
            Some(session) => Connection::new_tls(id, shard_index, dup, session),
            None => Connection::new(id, shard_index, dup, pipe),
        };
        let connection = Arc::new(Mutex::new(connection));
        lock(&self.shared.connections).insert(id, connection.clone());
        self.shared.counters.connections.fetch_add(1, Relaxed);
        shard.connections.fetch_add(1, Relaxed);
        if tls {
            // Bytes may have arrived before the registration armed the read edge.
            self.shared.hand_off(&mut lock(&connection));
        }
        if self.shared.closed.load(Acquire) {
            // `close` ran between our check and the insert and may have missed this one.
            let _ = self.unregister(id);
            return Err(Error::WriterClosed);
        }
        Ok(id)
    }

    /// Sends `plan` on `conn`; `token` names the send in its completion event. Returns the bytes
    /// queued on the connection after the inline attempt: 0 means this send is completely
    /// written and no event will follow; more means an `Event` for `token` will come.
    pub fn send(&self, conn: ConnId, plan: Vec<Part<'_>>, token: u64) -> Result<u64, Error> {
        self.ensure_open()?;
        let connection = self.shared.connection(conn)?;
        let mut connection = lock(&connection);
        let mut copy_buffer = match self.shared.config.mode {
            WriterMode::Copy => Some(lock(&self.shared.inline_copy_buffer)),
            _ => None,
        };
        let mut transport = Transport {
            mode: self.shared.config.mode,
            counters: &self.shared.counters,
            copy_buffer: copy_buffer
                .as_deref_mut()
                .map_or(&mut [], Vec::as_mut_slice),
            cold_reads: self.shared.cold_reads(),
        };
        match connection.send(&mut transport, &self.shared.config, plan, token)? {
            SendOutcome::Written => Ok(0),
            SendOutcome::Queued { pending, hand_off } => {
                if hand_off {
                    self.shared.hand_off(&mut connection);
                }
                Ok(pending)
            }
        }
    }

    /// Bytes queued on `conn` and not yet written.
    pub fn pending_bytes(&self, conn: ConnId) -> Result<u64, Error> {
        let connection = self.shared.connection(conn)?;
        let pending = lock(&connection).pending_bytes();
        Ok(pending)
    }

    /// Forgets `conn`: drops its queued sends (no events for them) and closes the dup. Returns
    /// the queued bytes dropped.
    pub fn unregister(&self, conn: ConnId) -> Result<u64, Error> {
        let connection = lock(&self.shared.connections)
            .remove(&conn)
            .ok_or(Error::UnknownConnection { conn })?;
        let mut connection = lock(&connection);
        let shard = &self.shared.shards[connection.shard()];
        if let (Some(socket), Some(poller)) = (connection.socket(), read(&shard.poller).as_ref()) {
            poller
                .remove(socket)
                .unwrap_or_else(|e| panic!("epoll_ctl del of a registered socket failed: {e}"));
        }
        let dropped = connection.close(&self.shared.counters);
        self.shared.counters.connections.fetch_sub(1, Relaxed);
        shard.connections.fetch_sub(1, Relaxed);
        Ok(dropped)
    }

    /// Test hook: while `held`, the cold-read pool starts no job, so a connection whose range
    /// was found cold stays deferred (tests show what goes on meanwhile).
    #[doc(hidden)]
    pub fn hold_cold_reads(&self, held: bool) {
        self.shared.cold_reads.hold(held);
    }

    pub fn stats(&self) -> WriterStats {
        let cold = &self.shared.cold_reads;
        WriterStats {
            cold_ranges_deferred: cold.deferred.load(Relaxed),
            cold_bytes_warmed: cold.warmed_bytes.load(Relaxed),
            cold_wait_micros: cold.wait_micros.load(Relaxed),
            residency_probes: cold.probes.load(Relaxed),
            ..self.shared.counters.snapshot()
        }
    }

    /// Stops the epoll threads and closes every connection (queued sends are dropped without
    /// events). Idempotent; later `register`/`send` return `WriterClosed`.
    pub fn close(&self) {
        if self.shared.closed.swap(true, AcqRel) {
            return;
        }
        assert!(
            !self.thread_ids.contains(&std::thread::current().id()),
            "Writer::close called from its own event callback"
        );
        for shard in &self.shared.shards {
            shard.wake();
        }
        self.shared.cold_reads.close();
        for handle in std::mem::take(&mut *lock(&self.threads)) {
            handle.join().expect("writer thread panicked");
        }
        // The threads are gone: release the epoll fds and the eventfds now.
        for shard in &self.shared.shards {
            shard.release_poller();
        }
        let connections = std::mem::take(&mut *lock(&self.shared.connections));
        for connection in connections.into_values() {
            let mut connection = lock(&connection);
            connection.close(&self.shared.counters);
            self.shared.counters.connections.fetch_sub(1, Relaxed);
            self.shared.shards[connection.shard()]
                .connections
                .fetch_sub(1, Relaxed);
        }
    }

    fn ensure_open(&self) -> Result<(), Error> {
        if self.shared.closed.load(Acquire) {
            return Err(Error::WriterClosed);
        }
        Ok(())
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        self.close();
    }
}

impl Shared {
    /// The cold-read pool for transports, when it has threads.
    fn cold_reads(&self) -> Option<&ColdReads> {
        (self.config.cold_read_threads > 0).then_some(&self.cold_reads)
    }

    fn connection(&self, conn: ConnId) -> Result<Arc<Mutex<Connection>>, Error> {
        lock(&self.connections)
            .get(&conn)
            .cloned()
            .ok_or(Error::UnknownConnection { conn })
    }

    /// Puts a connection on its thread's hand-off list (once) and wakes that thread.
    fn hand_off(&self, connection: &mut Connection) {
        if connection.handed_off {
            return;
        }
        connection.handed_off = true;
        let shard = &self.shards[connection.shard()];
        lock(&shard.handoffs).push(connection.id());
        shard.wake();
    }

    /// The shard with the fewest connections (the first of equals).
    fn least_loaded_shard(&self) -> usize {
        (0..self.shards.len())
            .min_by_key(|&index| self.shards[index].connections.load(Relaxed))
            .expect("a writer has at least one thread")
    }
}

/// Locks a mutex; a poisoned one means a thread panicked mid-update, a broken invariant.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().expect("writer mutex poisoned by a panic")
}

fn read<T>(lock: &RwLock<T>) -> RwLockReadGuard<'_, T> {
    lock.read().expect("writer lock poisoned by a panic")
}

/// A TLS call that cannot be served (`TRANSFER_IO`, op "tls").
fn tls_setup(message: String) -> Error {
    Error::TransferIo {
        op: "tls",
        source: io::Error::other(message),
    }
}

/// Sets SO_SNDBUF (the kernel doubles the value and applies its own minimum).
fn set_send_buffer(socket: BorrowedFd<'_>, bytes: usize) -> io::Result<()> {
    let value = libc::c_int::try_from(bytes)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "send buffer above i32::MAX"))?;
    // SAFETY: setsockopt reads one c_int from a live local.
    let rc = unsafe {
        libc::setsockopt(
            socket.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_SNDBUF,
            (&value as *const libc::c_int).cast(),
            size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

fn check_stream_socket(socket: BorrowedFd<'_>) -> Result<(), Error> {
    let mut kind: libc::c_int = 0;
    let mut len = size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: getsockopt writes at most `len` bytes into `kind`.
    let rc = unsafe {
        libc::getsockopt(
            socket.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_TYPE,
            (&mut kind as *mut libc::c_int).cast(),
            &mut len,
        )
    };
    if rc != 0 {
        let source = io::Error::last_os_error();
        if source.raw_os_error() == Some(libc::ENOTSOCK) {
            return Err(Error::NotAStreamSocket {
                fd: socket.as_raw_fd(),
            });
        }
        return Err(Error::TransferIo {
            op: "getsockopt SO_TYPE",
            source,
        });
    }
    if kind != libc::SOCK_STREAM {
        return Err(Error::NotAStreamSocket {
            fd: socket.as_raw_fd(),
        });
    }
    Ok(())
}

/// sendfile and splice cannot pass MSG_NOSIGNAL, so a peer that is gone raises SIGPIPE, whose
/// default action kills the process. Node and Rust programs ignore SIGPIPE from startup; for any
/// other host that left it at the default, set it to ignored (a handler someone installed is
/// left alone). Writes then fail with EPIPE, which we report.
fn ignore_sigpipe() {
    // SAFETY: sigaction with zeroed (valid) structs; reading the current action first.
    unsafe {
        let mut current: libc::sigaction = std::mem::zeroed();
        if libc::sigaction(libc::SIGPIPE, std::ptr::null(), &mut current) != 0 {
            return;
        }
        if current.sa_sigaction == libc::SIG_DFL {
            let mut ignore: libc::sigaction = std::mem::zeroed();
            ignore.sa_sigaction = libc::SIG_IGN;
            libc::sigaction(libc::SIGPIPE, &ignore, std::ptr::null_mut());
        }
    }
}
