//! One registered connection: its dup'd socket, its queue of unfinished sends, and the code that
//! writes chunks to it, shared by the inline path and the writer thread.
//!
//! Concurrency contract: a `Connection` lives in an `Arc<Mutex<_>>`; every write to its socket
//! happens under that mutex, by the caller of `send` (inline) or by the writer thread
//! (continuation). Holding the mutex from the first write attempt until the remainder is queued
//! is what keeps bytes in order and makes sure no writable edge is lost between the two.

use std::borrow::Cow;
use std::collections::VecDeque;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::sync::atomic::Ordering::Relaxed;

use super::cold::{ColdReads, ColdState, WarmJob};
use super::stats::{Channel, Counters};
use super::{ConnId, Event, Part, WriterConfig, WriterMode};
use crate::transfer::{self, FileCursor, Progress, SplicePipe, Stop, TransferError};
use crate::{Error, FileRange, residency};

mod tls;
pub(super) use tls::{FILE_READ_BYTES, TlsLayer};
pub use tls::{TlsEvent, TlsEventSink, TlsOptions};

/// A part of a send, with how much of it the socket has taken.
pub(super) enum Chunk<'a> {
    Bytes { data: Cow<'a, [u8]>, sent: usize },
    File(FileCursor),
}

impl<'a> Chunk<'a> {
    /// The part ready to write. A file range must still be published whole: its length is
    /// already in the response's framing (Fetch's size prefix), so a range the log truncated
    /// since it was read is an error, never a short chunk or a dropped empty one.
    fn from_part(part: Part<'a>) -> Result<Chunk<'a>, TransferError> {
        Ok(match part {
            Part::Bytes(data) => Chunk::Bytes { data, sent: 0 },
            Part::File(range) => Chunk::File(FileCursor::whole(range)?),
        })
    }

    pub(super) fn remaining(&self) -> u64 {
        match self {
            Chunk::Bytes { data, sent } => (data.len() - sent) as u64,
            Chunk::File(cursor) => cursor.remaining(),
        }
    }

    /// The chunk as owned memory for the queue: borrowed bytes are copied (their unsent tail
    /// only), owned bytes and file cursors move as they are.
    fn into_owned(self) -> Chunk<'static> {
        match self {
            Chunk::Bytes {
                data: Cow::Borrowed(slice),
                sent,
            } => Chunk::Bytes {
                data: Cow::Owned(slice[sent..].to_vec()),
                sent: 0,
            },
            Chunk::Bytes {
                data: Cow::Owned(vec),
                sent,
            } => Chunk::Bytes {
                data: Cow::Owned(vec),
                sent,
            },
            Chunk::File(cursor) => Chunk::File(cursor),
        }
    }
}

/// Why writing a list of chunks stopped.
#[derive(Debug)]
pub(super) enum Turn {
    /// Every chunk is written.
    Drained,
    /// The socket is full; the writable edge will bring the thread back.
    WouldBlock,
    /// The per-turn byte budget is spent; someone must call again without waiting for an edge.
    BudgetSpent,
    /// The next file range is not in the page cache: `len` bytes from `position` of `range`'s
    /// file must be warmed by the cold-read pool before it is written (`cold.rs`).
    Cold {
        range: FileRange,
        position: u64,
        len: u64,
    },
}

/// What the writer thread should do with a connection after resuming it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum AfterResume {
    /// Nothing left, or the connection failed.
    Idle,
    /// Waiting for the socket's writable edge.
    AwaitWritable,
    /// Budget spent with the socket still writable: resume again next round.
    RunAgain,
}

/// What the inline attempt of a send did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum SendOutcome {
    /// Fully written; no event will follow.
    Written,
    /// Some or all of it is queued. `pending` is the connection's queued bytes now; `hand_off`
    /// says the budget ran out with the socket writable, so the thread must be told.
    Queued { pending: u64, hand_off: bool },
}

/// The means to write chunks: the writer's mode, its counters, and a copy buffer for the thread
/// doing the writing (empty unless the mode is `copy`).
pub(super) struct Transport<'a> {
    pub(super) mode: WriterMode,
    pub(super) counters: &'a Counters,
    pub(super) copy_buffer: &'a mut [u8],
    /// The cold-read pool, when file ranges are probed before they are written (`None`: written
    /// at once, as before the pool; `WriterConfig::cold_read_threads` 0).
    pub(super) cold_reads: Option<&'a ColdReads>,
}

/// Most bytes of a range one cold-read job warms: one turn's worth of writing.
fn warm_window(config: &WriterConfig) -> u64 {
    config.write_budget_bytes
}

impl Transport<'_> {
    /// Writes `chunks` front first until all are written, the socket is full or `budget` is
    /// spent, popping finished chunks. `more_after` says bytes follow these chunks on the
    /// connection (so the last one is sent with MSG_MORE / SPLICE_F_MORE). Returns why it
    /// stopped and the bytes written; an error carries the bytes written before it.
    #[allow(clippy::too_many_arguments)]
    fn write_chunks(
        &mut self,
        socket: BorrowedFd<'_>,
        pipe: &mut Option<SplicePipe>,
        chunks: &mut VecDeque<Chunk<'_>>,
        more_after: bool,
        budget: &mut u64,
        cold: &mut ColdState,
        window: u64,
    ) -> Result<(Turn, u64), TransferError> {
        let mut written = 0;
        loop {
            let more = chunks.len() > 1 || more_after;
            let Some(chunk) = chunks.front_mut() else {
                return Ok((Turn::Drained, written));
            };
            if *budget == 0 {
                return Ok((Turn::BudgetSpent, written));
            }
            if let Chunk::File(cursor) = chunk
                && let Some(turn) = self.probe(cursor, *budget, cold, window)
            {
                return Ok((turn, written));
            }
            match self.write_chunk(socket, pipe, chunk, more, *budget) {
                Ok(progress) => {
                    *budget -= progress.bytes;
                    written += progress.bytes;
                    match progress.stop {
                        Stop::Complete => {
                            chunks.pop_front();
                        }
                        Stop::WouldBlock => return Ok((Turn::WouldBlock, written)),
                        Stop::Limit => return Ok((Turn::BudgetSpent, written)),
                    }
                }
                Err(mut error) => {
                    error.bytes += written;
                    return Err(error);
                }
            }
        }
    }

    /// Before a file write: `Some(Turn::Cold)` when the part of `cursor` this turn would write
    /// is not all in the page cache (sendfile would wait on the disk). A connection whose range
    /// was just warmed skips the probe once, so it always makes progress. A failed probe is
    /// read as "resident": the write itself then reports what is wrong.
    fn probe(
        &mut self,
        cursor: &FileCursor,
        budget: u64,
        cold: &mut ColdState,
        window: u64,
    ) -> Option<Turn> {
        let reads = self.cold_reads?;
        if *cold == ColdState::Warmed {
            *cold = ColdState::Probe;
            return None;
        }
        let position = cursor.next_position();
        let len = cursor.remaining().min(budget);
        reads.probes.fetch_add(1, Relaxed);
        let file = cursor.range().file();
        if residency::is_resident(file, position, len).unwrap_or(true) {
            return None;
        }
        Some(Turn::Cold {
            range: cursor.range().clone(),
            position,
            len: cursor.remaining().min(window.max(len)),
        })
    }

    fn write_chunk(
        &mut self,
        socket: BorrowedFd<'_>,
        pipe: &mut Option<SplicePipe>,
        chunk: &mut Chunk<'_>,
        more: bool,
        limit: u64,
    ) -> Result<Progress, TransferError> {
        let (channel, result) = match chunk {
            Chunk::Bytes { data, sent } => {
                let result = transfer::send_bytes(socket, &data[*sent..], more, limit);
                if let Ok(progress) = &result {
                    *sent += progress.bytes as usize;
                }
                (Channel::Plain, result)
            }
            Chunk::File(cursor) => match self.mode {
                WriterMode::Sendfile => {
                    (Channel::Sendfile, transfer::sendfile(socket, cursor, limit))
                }
                WriterMode::Splice => {
                    let pipe = pipe
                        .as_mut()
                        .expect("connections of a splice writer have a pipe");
                    (
                        Channel::Splice,
                        transfer::splice(socket, cursor, pipe, more, limit),
                    )
                }
                WriterMode::Copy => (
                    Channel::Copy,
                    transfer::copy(socket, cursor, self.copy_buffer, more, limit),
                ),
            },
        };
        self.counters.record(channel, &result);
        result
    }
}

/// A send that did not finish inline.
struct QueuedSend {
    token: u64,
    chunks: VecDeque<Chunk<'static>>,
    /// Bytes of the whole send (inline part included), reported in its `Sent` event.
    total: u64,
    /// Bytes of it written so far.
    written: u64,
}

pub(super) struct Connection {
    id: ConnId,
    /// The writer thread (shard) this connection belongs to for its life.
    shard: usize,
    /// The dup'd socket; `None` once the connection is closed (unregistered or writer closed).
    socket: Option<OwnedFd>,
    /// Splice mode only: the pipe between file and socket, kept for the connection's life.
    pipe: Option<SplicePipe>,
    queue: VecDeque<QueuedSend>,
    /// Bytes in `queue` not yet written.
    pending_bytes: u64,
    /// Chunks in `queue`.
    queued_chunks: usize,
    /// An earlier send failed: the byte stream is broken, nothing more is written.
    failed: bool,
    /// The connection is on the writer thread's hand-off list (at most once).
    pub(super) handed_off: bool,
    /// A TLS connection's session (`tls.rs`); `None` on plaintext connections.
    tls: Option<Box<TlsLayer>>,
    /// Where the connection stands with the cold-read pool (`cold.rs`).
    pub(super) cold: ColdState,
}

impl Connection {
    pub(super) fn new(
        id: ConnId,
        shard: usize,
        socket: OwnedFd,
        pipe: Option<SplicePipe>,
    ) -> Connection {
        Connection {
            id,
            shard,
            socket: Some(socket),
            pipe,
            queue: VecDeque::new(),
            pending_bytes: 0,
            queued_chunks: 0,
            failed: false,
            handed_off: false,
            tls: None,
            cold: ColdState::Probe,
        }
    }

    /// A TLS connection: the writer thread reads and writes it through `session`.
    pub(super) fn new_tls(
        id: ConnId,
        shard: usize,
        socket: OwnedFd,
        session: rustls::ServerConnection,
    ) -> Connection {
        let mut connection = Connection::new(id, shard, socket, None);
        connection.tls = Some(Box::new(TlsLayer::new(session)));
        connection
    }

    pub(super) fn id(&self) -> ConnId {
        self.id
    }

    pub(super) fn shard(&self) -> usize {
        self.shard
    }

    pub(super) fn socket(&self) -> Option<BorrowedFd<'_>> {
        self.socket.as_ref().map(|socket| socket.as_fd())
    }

    /// Queued bytes not yet written. On a TLS connection a send whose plaintext is all in the
    /// session but whose records are not all on the socket yet still counts (as 1 byte), so
    /// "nothing pending" keeps meaning "everything is on the socket".
    pub(super) fn pending_bytes(&self) -> u64 {
        if self.tls.is_some() && !self.queue.is_empty() {
            return self.pending_bytes.max(1);
        }
        self.pending_bytes
    }

    /// One send: written inline when the queue is empty, appended to the queue otherwise. A
    /// file range that can no longer deliver its length fails the connection before anything
    /// of this send is written (the sends queued before it are dropped: the peer can never get
    /// a whole response past this one).
    pub(super) fn send(
        &mut self,
        transport: &mut Transport<'_>,
        config: &WriterConfig,
        plan: Vec<Part<'_>>,
        token: u64,
    ) -> Result<SendOutcome, Error> {
        if self.failed {
            return Err(Error::ConnectionClosed { conn: self.id });
        }
        if self.socket.is_none() {
            // Unregistered by another thread after the caller looked the connection up.
            return Err(Error::UnknownConnection { conn: self.id });
        }
        let mut chunks = match plan
            .into_iter()
            .map(Chunk::from_part)
            .collect::<Result<VecDeque<Chunk<'_>>, TransferError>>()
        {
            Ok(chunks) => chunks,
            Err(error) => {
                self.fail(transport.counters, &error);
                return Err(Error::from_transfer(self.id, error.op, error.source));
            }
        };
        // Empty parts (and ranges framed as empty) put nothing on the wire.
        chunks.retain(|chunk| chunk.remaining() > 0);
        let socket = self
            .socket
            .as_ref()
            .expect("checked above, under the connection's lock");
        let total: u64 = chunks.iter().map(Chunk::remaining).sum();
        self.check_room(config, total, chunks.len())?;
        if self.encrypts_in_user_space() {
            // TLS: the writer thread encrypts; the caller's thread never does.
            self.enqueue(transport.counters, token, chunks, total, 0);
            return Ok(SendOutcome::Queued {
                pending: self.pending_bytes(),
                hand_off: true,
            });
        }
        if !self.queue.is_empty() {
            // Order is strict: behind a queued send, everything queues.
            self.enqueue(transport.counters, token, chunks, total, 0);
            return Ok(SendOutcome::Queued {
                pending: self.pending_bytes,
                hand_off: false,
            });
        }
        let mut budget = config.write_budget_bytes;
        // The first range is probed before anything is written, so that a response waiting for
        // the cold-read pool leaves whole later (its header included), not a header now.
        let first_file = chunks.iter().find_map(|chunk| match chunk {
            Chunk::File(cursor) => Some(cursor),
            Chunk::Bytes { .. } => None,
        });
        if let Some(cursor) = first_file {
            match transport.probe(cursor, budget, &mut self.cold, warm_window(config)) {
                Some(Turn::Cold {
                    range,
                    position,
                    len,
                }) => {
                    self.enqueue(transport.counters, token, chunks, total, 0);
                    self.defer(transport, range, position, len);
                    return Ok(SendOutcome::Queued {
                        pending: self.pending_bytes,
                        hand_off: false,
                    });
                }
                // Resident: the write below need not probe it again.
                _ if transport.cold_reads.is_some() => self.cold = ColdState::Warmed,
                _ => {}
            }
        }
        match transport.write_chunks(
            socket.as_fd(),
            &mut self.pipe,
            &mut chunks,
            false,
            &mut budget,
            &mut self.cold,
            warm_window(config),
        ) {
            Ok((Turn::Drained, _)) => {
                transport.counters.sends_inline.fetch_add(1, Relaxed);
                Ok(SendOutcome::Written)
            }
            Ok((turn, written)) => {
                self.enqueue(transport.counters, token, chunks, total, written);
                let hand_off = matches!(turn, Turn::BudgetSpent);
                if let Turn::Cold {
                    range,
                    position,
                    len,
                } = turn
                {
                    self.defer(transport, range, position, len);
                }
                Ok(SendOutcome::Queued {
                    pending: self.pending_bytes,
                    hand_off,
                })
            }
            Err(error) => {
                self.failed = true;
                transport.counters.count_failure(&error);
                Err(Error::from_transfer(self.id, error.op, error.source))
            }
        }
    }

    /// Continues the queue (writer thread), pushing a `Sent` event per finished send, or one
    /// `Failed` event when the connection breaks (its queue is then dropped).
    pub(super) fn resume(
        &mut self,
        transport: &mut Transport<'_>,
        config: &WriterConfig,
        events: &mut Vec<Event>,
    ) -> AfterResume {
        if self.encrypts_in_user_space() {
            if !self.queue.is_empty() {
                transport.counters.continuations.fetch_add(1, Relaxed);
            }
            return self.resume_tls(transport, config, events);
        }
        let Some(socket) = self.socket.as_ref() else {
            return AfterResume::Idle;
        };
        if self.failed || self.queue.is_empty() || self.cold == ColdState::Warming {
            return AfterResume::Idle;
        }
        transport.counters.continuations.fetch_add(1, Relaxed);
        let mut budget = config.write_budget_bytes;
        loop {
            let more_after = self.queue.len() > 1;
            let Some(send) = self.queue.front_mut() else {
                return AfterResume::Idle;
            };
            let chunks_before = send.chunks.len();
            let result = transport.write_chunks(
                socket.as_fd(),
                &mut self.pipe,
                &mut send.chunks,
                more_after,
                &mut budget,
                &mut self.cold,
                warm_window(config),
            );
            let written = match &result {
                Ok((_, written)) => *written,
                Err(error) => error.bytes,
            };
            send.written += written;
            self.pending_bytes -= written;
            self.queued_chunks -= chunks_before - send.chunks.len();
            transport.counters.queued_bytes.fetch_sub(written, Relaxed);
            match result {
                Ok((Turn::Drained, _)) => {
                    assert_eq!(
                        send.written, send.total,
                        "a drained send wrote other than its size"
                    );
                    events.push(Event::Sent {
                        conn: self.id,
                        token: send.token,
                        bytes: send.total,
                    });
                    self.queue.pop_front();
                }
                Ok((Turn::WouldBlock, _)) => return AfterResume::AwaitWritable,
                Ok((Turn::BudgetSpent, _)) => return AfterResume::RunAgain,
                Ok((
                    Turn::Cold {
                        range,
                        position,
                        len,
                    },
                    _,
                )) => {
                    self.defer(transport, range, position, len);
                    return AfterResume::Idle;
                }
                Err(error) => {
                    let (token, bytes) = (send.token, send.written);
                    self.fail(transport.counters, &error);
                    let error = Error::from_transfer(self.id, error.op, error.source);
                    events.push(Event::Failed {
                        conn: self.id,
                        token,
                        bytes,
                        error,
                    });
                    return AfterResume::Idle;
                }
            }
        }
    }

    /// Stops writing until the cold-read pool has warmed `len` bytes at `position` of
    /// `range`'s file; the pool then hands the connection back to its epoll thread.
    fn defer(&mut self, transport: &Transport<'_>, range: FileRange, position: u64, len: u64) {
        let reads = transport
            .cold_reads
            .expect("only a probing transport finds a range cold");
        self.cold = ColdState::Warming;
        reads.submit(WarmJob {
            conn: self.id,
            range,
            position,
            len,
            submitted: std::time::Instant::now(),
        });
    }

    /// Drops the queue and closes the dup (and the pipe). Returns the queued bytes dropped.
    /// The caller has already removed the socket from epoll.
    pub(super) fn close(&mut self, counters: &Counters) -> u64 {
        let dropped = self.drop_queue(counters);
        if let (Some(tls), Some(socket)) = (self.tls.as_deref_mut(), self.socket.as_ref()) {
            tls.close_notify(socket.as_fd());
        }
        self.pipe = None;
        self.socket = None;
        dropped
    }

    fn fail(&mut self, counters: &Counters, error: &TransferError) {
        self.failed = true;
        counters.count_failure(error);
        self.drop_queue(counters);
    }

    fn drop_queue(&mut self, counters: &Counters) -> u64 {
        let dropped = self.pending_bytes;
        counters.queued_bytes.fetch_sub(dropped, Relaxed);
        self.queue.clear();
        self.pending_bytes = 0;
        self.queued_chunks = 0;
        dropped
    }

    fn check_room(
        &self,
        config: &WriterConfig,
        plan_bytes: u64,
        plan_parts: usize,
    ) -> Result<(), Error> {
        let bytes_fit = self.pending_bytes + plan_bytes <= config.max_pending_bytes;
        let parts_fit = self.queued_chunks + plan_parts <= config.max_queued_parts;
        if bytes_fit && parts_fit {
            return Ok(());
        }
        Err(Error::WriterQueueFull {
            conn: self.id,
            plan_bytes,
            plan_parts,
            pending_bytes: self.pending_bytes,
            queued_parts: self.queued_chunks,
            max_pending_bytes: config.max_pending_bytes,
            max_queued_parts: config.max_queued_parts,
        })
    }

    fn enqueue(
        &mut self,
        counters: &Counters,
        token: u64,
        chunks: VecDeque<Chunk<'_>>,
        total: u64,
        written: u64,
    ) {
        let pending = total - written;
        assert_eq!(
            pending,
            chunks.iter().map(Chunk::remaining).sum::<u64>(),
            "queued chunks disagree with the send's unwritten bytes"
        );
        self.pending_bytes += pending;
        self.queued_chunks += chunks.len();
        counters.queued_bytes.fetch_add(pending, Relaxed);
        counters.sends_queued.fetch_add(1, Relaxed);
        let chunks = chunks.into_iter().map(Chunk::into_owned).collect();
        self.queue.push_back(QueuedSend {
            token,
            chunks,
            total,
            written,
        });
    }
}
