//! A connection whose socket carries TLS: the rustls session, both directions.
//!
//! A TLS session is one object for reading and writing (the handshake, alerts and key updates
//! cross both), so on a TLS connection the writer owns the socket whole: its epoll thread reads
//! ciphertext, runs the handshake, decrypts and hands the plaintext to the host in batches
//! (`TlsEvent::Received`), and encrypts the send plans. Send plans are never written inline on
//! the caller's thread (encryption is CPU work the JS thread should not do): `send` queues and
//! hands the connection to the thread. A file range is read with pread into the thread's
//! buffer (one record's worth at a time) and given to the session, which encrypts it into its
//! outgoing buffer (bounded by `SESSION_BUFFER_BYTES`); a send is `Sent` once all its records
//! are on the socket.
//!
//! Reads are paced by the host: after each `Received` batch the connection stops reading until
//! `Writer::resume_reading` — so what is decrypted and not yet taken is at most one batch
//! (`READ_BATCH_BYTES`, plus the rest of one TLS record).
//!
//! Kernel TLS: when the writer was told the kernel has it (`TlsOptions::ktls`) and the
//! negotiated suite is one the kernel implements, the session's keys go to the kernel right
//! after the handshake; from then on the connection is written exactly as a plaintext one
//! (sendfile included) and read with `ktls::recv_record`.

use std::io::{self, Read, Write};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd};
use std::sync::atomic::Ordering::Relaxed;

use rustls::ServerConnection;
use sluice_tls::ktls::{self, KtlsDecision, KtlsSupport};

use super::{AfterResume, Chunk, Connection, Transport};
use crate::transfer;
use crate::writer::{ConnId, Event, WriterConfig};

/// Most plaintext handed to the host per read batch.
pub(crate) const READ_BATCH_BYTES: usize = 256 << 10;
/// rustls's outgoing buffer bound per connection (encrypted records not yet on the socket).
const SESSION_BUFFER_BYTES: usize = 256 << 10;
/// Plaintext taken from a file range per session write: one full TLS record.
pub(crate) const FILE_READ_BYTES: usize = 16 << 10;

/// What the reading side of TLS connections reports, in batches, on the writer thread.
#[derive(Debug)]
pub enum TlsEvent {
    /// The handshake finished. `peer_subject`: the client certificate's subject in RFC 2253
    /// form, when the client sent one. `kernel`: the keys went to the kernel (kTLS).
    Established {
        conn: ConnId,
        protocol: String,
        cipher_suite: String,
        peer_subject: Option<String>,
        kernel: bool,
    },
    /// Decrypted bytes, in order. Reading stops until `Writer::resume_reading(conn)`.
    Received { conn: ConnId, data: Vec<u8> },
    /// Reading ended: `None` for the peer's orderly close (EOF or close_notify), else why (a
    /// TLS error — garbage, a plaintext client, a failed handshake — or a socket error).
    Closed { conn: ConnId, error: Option<String> },
}

/// Receives TLS event batches on the writer's epoll thread.
pub type TlsEventSink = Box<dyn FnMut(Vec<TlsEvent>) + Send + 'static>;

/// Writer-wide TLS options.
#[derive(Clone, Debug)]
pub struct TlsOptions {
    /// What the start-up probe found about kernel TLS.
    pub ktls_support: KtlsSupport,
    /// The operator's switch; with it on and the kernel able, keys move to the kernel.
    pub ktls_enabled: bool,
}

impl Default for TlsOptions {
    fn default() -> TlsOptions {
        TlsOptions {
            ktls_support: KtlsSupport::Unavailable {
                reason: "not probed".into(),
            },
            ktls_enabled: false,
        }
    }
}

pub(in crate::writer) struct TlsLayer {
    /// `None` once the keys moved to the kernel.
    session: Option<ServerConnection>,
    established: bool,
    /// The host wants more plaintext.
    reading: bool,
    /// Reading ended (EOF or error); no more `TlsEvent`s but the ones already pushed.
    read_closed: bool,
}

impl TlsLayer {
    pub(in crate::writer) fn new(mut session: ServerConnection) -> TlsLayer {
        session.set_buffer_limit(Some(SESSION_BUFFER_BYTES));
        TlsLayer {
            session: Some(session),
            established: false,
            reading: true,
            read_closed: false,
        }
    }

    /// True while rustls encrypts (false after the keys moved to the kernel).
    pub(in crate::writer) fn in_user_space(&self) -> bool {
        self.session.is_some()
    }

    pub(in crate::writer) fn resume_reading(&mut self) {
        self.reading = true;
    }

    /// Best effort on close: a close_notify, if the socket takes it now.
    pub(in crate::writer) fn close_notify(&mut self, socket: BorrowedFd<'_>) {
        if let Some(session) = self.session.as_mut() {
            session.send_close_notify();
            let _ = session.write_tls(&mut SocketIo(socket));
        }
    }
}

/// The socket as `Read`/`Write` for rustls: non-blocking recv and send, no SIGPIPE.
struct SocketIo<'a>(BorrowedFd<'a>);

impl Read for SocketIo<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            // SAFETY: recv writes at most `buf.len()` bytes into live memory.
            let n = unsafe {
                libc::recv(
                    self.0.as_raw_fd(),
                    buf.as_mut_ptr().cast(),
                    buf.len(),
                    libc::MSG_DONTWAIT,
                )
            };
            if n >= 0 {
                return Ok(n as usize);
            }
            let error = io::Error::last_os_error();
            if error.kind() != io::ErrorKind::Interrupted {
                return Err(error);
            }
        }
    }
}

impl Write for SocketIo<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        loop {
            // SAFETY: send reads `buf.len()` bytes from live memory.
            let n = unsafe {
                libc::send(
                    self.0.as_raw_fd(),
                    buf.as_ptr().cast(),
                    buf.len(),
                    libc::MSG_DONTWAIT | libc::MSG_NOSIGNAL,
                )
            };
            if n >= 0 {
                return Ok(n as usize);
            }
            let error = io::Error::last_os_error();
            if error.kind() != io::ErrorKind::Interrupted {
                return Err(error);
            }
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Connection {
    /// True when sends must go through the writer thread's TLS path.
    pub(in crate::writer) fn encrypts_in_user_space(&self) -> bool {
        self.tls.as_ref().is_some_and(|tls| tls.in_user_space())
    }

    pub(in crate::writer) fn tls_mut(&mut self) -> Option<&mut TlsLayer> {
        self.tls.as_deref_mut()
    }

    /// Reads what the socket has (writer thread): handshake, decryption, kTLS hand-over.
    /// Pushes at most one `Received` batch; returns true when the socket may hold more and the
    /// host still wants it (resume next round without waiting for an edge).
    pub(in crate::writer) fn read_tls(
        &mut self,
        options: &TlsOptions,
        buffer: &mut [u8],
        events: &mut Vec<TlsEvent>,
    ) -> bool {
        let id = self.id;
        let (Some(socket), Some(tls)) = (self.socket.as_ref(), self.tls.as_deref_mut()) else {
            return false;
        };
        if !tls.reading || tls.read_closed {
            return false;
        }
        let socket = socket.as_fd();
        let mut plaintext = Vec::new();
        let mut closed: Option<Option<String>> = None;
        while plaintext.len() < READ_BATCH_BYTES {
            let Some(session) = tls.session.as_mut() else {
                // Kernel TLS: the kernel decrypts; a non-data record ends the connection.
                match ktls::recv_record(socket, buffer) {
                    Ok((0, _)) => closed = Some(None),
                    Ok((n, ktls::RECORD_APPLICATION_DATA)) => {
                        plaintext.extend_from_slice(&buffer[..n]);
                        continue;
                    }
                    Ok((_, 21)) => closed = Some(None), // an alert: close_notify or fatal, either ends it
                    Ok((_, kind)) => {
                        closed = Some(Some(format!(
                            "kTLS: record type {kind} (e.g. a KeyUpdate) is not handled; closing"
                        )))
                    }
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                        return deliver_then_stop(&mut plaintext, tls, id, events);
                    }
                    Err(e) => closed = Some(Some(format!("read: {e}"))),
                }
                break;
            };
            match session.read_tls(&mut SocketIo(socket)) {
                Ok(0) => {
                    closed = Some(None);
                    break;
                }
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) => {
                    closed = Some(Some(format!("read: {e}")));
                    break;
                }
            }
            let state = match session.process_new_packets() {
                Ok(state) => state,
                Err(error) => {
                    // Send the alert rustls queued, if the socket takes it, then give up.
                    let _ = session.write_tls(&mut SocketIo(socket));
                    closed = Some(Some(format!("TLS: {error}")));
                    break;
                }
            };
            let peer_closed = state.peer_has_closed();
            drain_plaintext(session, &mut plaintext);
            if !tls.established && !session.is_handshaking() {
                tls.established = true;
                let event = established(id, session, socket, options);
                let kernel = matches!(&event, Ok(TlsEvent::Established { kernel: true, .. }));
                match event {
                    Ok(event) => events.push(event),
                    Err(error) => {
                        closed = Some(Some(error));
                        break;
                    }
                }
                if kernel {
                    let session = tls.session.take().expect("checked above");
                    if let Err(error) = move_keys_to_kernel(session, socket) {
                        closed = Some(Some(error));
                        break;
                    }
                }
            }
            if peer_closed {
                closed = Some(None);
                break;
            }
        }
        if !plaintext.is_empty() {
            events.push(TlsEvent::Received {
                conn: id,
                data: plaintext,
            });
            tls.reading = false;
        }
        if let Some(error) = closed {
            tls.read_closed = true;
            events.push(TlsEvent::Closed { conn: id, error });
            return false;
        }
        tls.reading
    }

    /// Continues the queue through the TLS session (writer thread): flushes encrypted records,
    /// feeds plaintext (bytes, or file ranges by pread) into the session, pushes `Sent` when a
    /// send's records are all on the socket. Also flushes handshake records when nothing is
    /// queued.
    pub(in crate::writer) fn resume_tls(
        &mut self,
        transport: &mut Transport<'_>,
        config: &WriterConfig,
        events: &mut Vec<Event>,
    ) -> AfterResume {
        if self.failed {
            return AfterResume::Idle;
        }
        let Some(socket) = self.socket.as_ref() else {
            return AfterResume::Idle;
        };
        let socket = socket.as_fd();
        let Some(session) = self.tls.as_deref_mut().and_then(|tls| tls.session.as_mut()) else {
            return AfterResume::Idle;
        };
        let mut budget = config.write_budget_bytes;
        // Records are flushed in batches (up to the session's buffer bound), not one send per
        // 16 KiB record: when the session refuses plaintext, when a send's plaintext is all in,
        // and before going idle.
        let mut flush = true;
        loop {
            let at_end = self.queue.front().is_none_or(|send| send.chunks.is_empty());
            if flush || at_end || session.is_handshaking() {
                while session.wants_write() {
                    if budget == 0 {
                        return AfterResume::RunAgain;
                    }
                    match session.write_tls(&mut SocketIo(socket)) {
                        Ok(n) => {
                            budget = budget.saturating_sub(n as u64);
                            transport.counters.record_tls(n as u64);
                        }
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                            transport.counters.count_would_block();
                            return AfterResume::AwaitWritable;
                        }
                        Err(e) => {
                            let error = transfer::TransferError {
                                op: "send",
                                bytes: 0,
                                syscalls: 1,
                                source: e,
                            };
                            return self.fail_front(transport, error, events);
                        }
                    }
                }
                flush = false;
            }
            let Some(send) = self.queue.front_mut() else {
                return AfterResume::Idle;
            };
            let Some(chunk) = send.chunks.front_mut() else {
                events.push(Event::Sent {
                    conn: self.id,
                    token: send.token,
                    bytes: send.total,
                });
                self.queue.pop_front();
                continue;
            };
            if session.is_handshaking() {
                // Plaintext waits for the handshake (rustls would buffer it unbounded).
                return AfterResume::Idle;
            }
            if budget == 0 {
                // This turn's share is on the socket; the rest waits for the next round.
                return AfterResume::RunAgain;
            }
            let (offered, accepted) = match chunk {
                Chunk::Bytes { data, sent } => {
                    let offered = data.len() - *sent;
                    let n = session
                        .writer()
                        .write(&data[*sent..])
                        .expect("rustls writes to memory");
                    *sent += n;
                    (offered, n)
                }
                Chunk::File(cursor) => {
                    let take = FILE_READ_BYTES.min(transport.copy_buffer.len());
                    let buffer = &mut transport.copy_buffer[..take];
                    match transfer::pread_next(cursor, buffer) {
                        Ok(read) => {
                            let n = session
                                .writer()
                                .write(&buffer[..read])
                                .expect("rustls writes to memory");
                            cursor.advance(n as u64);
                            (read, n)
                        }
                        Err(error) => return self.fail_front(transport, error, events),
                    }
                }
            };
            if chunk.remaining() == 0 {
                send.chunks.pop_front();
                self.queued_chunks -= 1;
            }
            let accepted_bytes = accepted as u64;
            send.written += accepted_bytes;
            self.pending_bytes -= accepted_bytes;
            transport
                .counters
                .queued_bytes
                .fetch_sub(accepted_bytes, Relaxed);
            transport
                .counters
                .tls_plaintext_bytes
                .fetch_add(accepted_bytes, Relaxed);
            if accepted < offered {
                // The session's buffer is full: put its records on the socket.
                flush = true;
                assert!(
                    session.wants_write(),
                    "the TLS session refused plaintext with nothing to send"
                );
            }
        }
    }

    fn fail_front(
        &mut self,
        transport: &mut Transport<'_>,
        error: transfer::TransferError,
        events: &mut Vec<Event>,
    ) -> AfterResume {
        let front = self.queue.front().map(|send| (send.token, send.written));
        self.fail(transport.counters, &error);
        if let Some((token, bytes)) = front {
            events.push(Event::Failed {
                conn: self.id,
                token,
                bytes,
                error: crate::Error::from_transfer(self.id, error.op, error.source),
            });
        }
        AfterResume::Idle
    }
}

/// kTLS reads hit EAGAIN: hand over what was read (reading then waits for the host) and stop.
fn deliver_then_stop(
    plaintext: &mut Vec<u8>,
    tls: &mut TlsLayer,
    id: ConnId,
    events: &mut Vec<TlsEvent>,
) -> bool {
    if !plaintext.is_empty() {
        events.push(TlsEvent::Received {
            conn: id,
            data: std::mem::take(plaintext),
        });
        tls.reading = false;
    }
    false
}

fn drain_plaintext(session: &mut ServerConnection, into: &mut Vec<u8>) {
    let mut reader = session.reader();
    let mut chunk = [0u8; 16 << 10];
    loop {
        match reader.read(&mut chunk) {
            Ok(0) => return,
            Ok(n) => into.extend_from_slice(&chunk[..n]),
            // WouldBlock: nothing more decrypted now; an UnexpectedEof (peer closed without
            // close_notify) is reported by the socket read that follows.
            Err(_) => return,
        }
    }
}

/// The `Established` event, and whether the keys go to the kernel (decided here, done by the
/// caller once the session's remaining handshake records are on the socket).
fn established(
    conn: ConnId,
    session: &mut ServerConnection,
    socket: BorrowedFd<'_>,
    options: &TlsOptions,
) -> Result<TlsEvent, String> {
    let suite = session
        .negotiated_cipher_suite()
        .expect("a finished handshake has a suite")
        .suite();
    let peer_subject = match session.peer_certificates().and_then(|certs| certs.first()) {
        Some(cert) => Some(sluice_tls::subject_rfc2253(cert).map_err(|e| e.to_string())?),
        None => None,
    };
    let mut kernel =
        ktls::decide(&options.ktls_support, options.ktls_enabled, suite) == KtlsDecision::Kernel;
    if kernel {
        // The kernel takes over at a record boundary: every record rustls made must be out.
        while session.wants_write() {
            if session.write_tls(&mut SocketIo(socket)).is_err() {
                kernel = false;
                break;
            }
        }
    }
    let protocol = match session.protocol_version() {
        Some(rustls::ProtocolVersion::TLSv1_3) => "TLSv1.3",
        Some(rustls::ProtocolVersion::TLSv1_2) => "TLSv1.2",
        _ => "TLS",
    };
    let cipher_suite = suite
        .as_str()
        .unwrap_or("unknown")
        .replacen("TLS13_", "TLS_", 1);
    Ok(TlsEvent::Established {
        conn,
        protocol: protocol.into(),
        cipher_suite,
        peer_subject,
        kernel,
    })
}

fn move_keys_to_kernel(session: ServerConnection, socket: BorrowedFd<'_>) -> Result<(), String> {
    let version = session.protocol_version().expect("established");
    let secrets = session
        .dangerous_extract_secrets()
        .map_err(|e| format!("kTLS key export: {e}"))?;
    let tx = ktls::crypto_info(version, secrets.tx.0, &secrets.tx.1).map_err(|e| e.to_string())?;
    let rx = ktls::crypto_info(version, secrets.rx.0, &secrets.rx.1).map_err(|e| e.to_string())?;
    ktls::install(socket, &tx, &rx).map_err(|e| format!("kTLS install: {e}"))
}
