//! `NativeConnectionWriter`: the binding of `sluice_log::writer::Writer`. Each method converts
//! its arguments, calls the writer and converts the result; the behaviour is documented in
//! crates/sluice-log/src/writer.rs.

use std::fs::File;
use std::os::fd::BorrowedFd;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use napi::bindgen_prelude::{BufferSlice, Either, Float64Array, Uint8Array};
use napi::threadsafe_function::{
    ThreadsafeFunction, ThreadsafeFunctionCallMode, UnknownReturnValue,
};
use napi::{Error as JsError, Status};
use napi_derive::napi;
use sluice_log::writer::{Event, Part, TlsEvent, TlsOptions, Writer, WriterConfig, WriterMode};
use sluice_log::{Error, FileRange};

use crate::file_slice::NativeFileSlice;

/// The JS callback: called with one Float64Array per batch of events. Weak (unref'd): the
/// writer alone does not keep Node's event loop alive — the broker's server and sockets do — so
/// a process that forgets `close()` still exits.
type EventsCallback =
    ThreadsafeFunction<Float64Array, UnknownReturnValue, Float64Array, Status, false, true>;

/// The TLS callback: one array of events per batch (handshakes, decrypted bytes, read ends).
type TlsEventsCallback = ThreadsafeFunction<
    Vec<NativeTlsEvent>,
    UnknownReturnValue,
    Vec<NativeTlsEvent>,
    Status,
    false,
    true,
>;

/// One TLS event. `kind`: "established" (protocol, cipherSuite, peerSubject, kernel),
/// "received" (data), "closed" (error: absent for the peer's orderly close).
#[napi(object)]
pub struct NativeTlsEvent {
    pub kind: String,
    pub conn_id: f64,
    pub data: Option<Uint8Array>,
    pub protocol: Option<String>,
    pub cipher_suite: Option<String>,
    pub peer_subject: Option<String>,
    pub kernel: Option<bool>,
    pub error: Option<String>,
}

/// Numbers per event in the batch array: `[kind, connId, token, bytes, errno]`.
pub const EVENT_STRIDE: usize = 5;

/// Event kinds by index: 0 is a completed send; the others are the error code a failed send
/// ended with. `errno` is 0 when the error has none (a segment file shorter than its range).
const EVENT_KINDS: [&str; 3] = ["SENT", "PEER_RESET", "TRANSFER_IO"];

/// Writer settings beyond the mode (absent: the writer's defaults).
#[napi(object)]
pub struct NativeWriterOptions {
    /// Epoll threads the connections are spread over (default: the core count, at most 8).
    pub threads: Option<u32>,
    /// SO_SNDBUF set on every registered socket; absent or -1: the kernel's autotuning.
    pub send_buffer_bytes: Option<i32>,
    /// Threads that warm cold file ranges before they are sent (default 2; 0: no residency
    /// probe, cold ranges block the sending thread).
    pub cold_read_threads: Option<u32>,
}

#[napi]
pub struct NativeConnectionWriter {
    writer: Writer,
}

#[napi]
impl NativeConnectionWriter {
    /// `mode`: "sendfile" | "splice" | "copy". `onEvents` receives each batch as a Float64Array
    /// of `writerEventStride()` numbers per event (see `writerEventKinds()`).
    /// With `onTlsEvents` the writer also serves TLS connections (`registerTls`); `ktls`
    /// lets it move a TLS connection's keys to the kernel when the start-up probe found kTLS.
    #[napi(constructor)]
    pub fn new(
        mode: String,
        #[napi(ts_arg_type = "(events: Float64Array) => void")] on_events: EventsCallback,
        #[napi(ts_arg_type = "(events: NativeTlsEvent[]) => void")] on_tls_events: Option<
            TlsEventsCallback,
        >,
        ktls: Option<bool>,
        options: Option<NativeWriterOptions>,
    ) -> Result<Self, JsError<&'static str>> {
        let mode: WriterMode = mode.parse().map_err(js_error)?;
        let config = writer_config(mode, options)?;
        let on_events = move |events: Vec<Event>| {
            on_events.call(
                encode_events(&events),
                ThreadsafeFunctionCallMode::NonBlocking,
            );
        };
        let writer = match on_tls_events {
            None => Writer::with_config(config, on_events),
            Some(on_tls) => Writer::with_tls(
                config,
                TlsOptions {
                    ktls_support: sluice_tls::ktls::probe(),
                    ktls_enabled: ktls.unwrap_or(true),
                },
                on_events,
                move |events: Vec<TlsEvent>| {
                    on_tls.call(
                        events.into_iter().map(encode_tls_event).collect(),
                        ThreadsafeFunctionCallMode::NonBlocking,
                    );
                },
            ),
        }
        .map_err(js_error)?;
        Ok(NativeConnectionWriter { writer })
    }

    /// Registers a connected TCP socket fd that speaks TLS: the writer owns it in both
    /// directions from now on (Node must not read it). Returns its connection id.
    #[napi]
    pub fn register_tls(
        &self,
        fd: i32,
        config: &NativeTlsConfig,
    ) -> Result<f64, JsError<&'static str>> {
        if fd < 0 {
            return Err(JsError::new(
                "InvalidArg",
                format!("fd must be >= 0, got {fd}"),
            ));
        }
        // SAFETY: the fd belongs to a live Node socket for the duration of this call; the writer
        // keeps its own dup, not this borrow.
        let socket = unsafe { BorrowedFd::borrow_raw(fd) };
        self.writer
            .register_tls(socket, config.config.clone())
            .map(|id| id as f64)
            .map_err(js_error)
    }

    /// Lets a TLS connection deliver its next batch of decrypted bytes.
    #[napi]
    pub fn resume_reading(&self, conn_id: f64) -> Result<(), JsError<&'static str>> {
        let conn = integer_arg("connId", conn_id)?;
        self.writer.resume_reading(conn).map_err(js_error)
    }

    /// Registers a connected TCP socket fd (Node: `socket._handle.fd`); returns its connection id.
    #[napi]
    pub fn register(&self, fd: i32) -> Result<f64, JsError<&'static str>> {
        if fd < 0 {
            return Err(JsError::new(
                "InvalidArg",
                format!("fd must be >= 0, got {fd}"),
            ));
        }
        // SAFETY: the fd belongs to a live Node socket for the duration of this call; the writer
        // keeps its own dup, not this borrow.
        let socket = unsafe { BorrowedFd::borrow_raw(fd) };
        self.writer
            .register(socket)
            .map(|id| id as f64)
            .map_err(js_error)
    }

    /// Sends the parts in order; returns the connection's queued bytes after the inline attempt
    /// (0: completely written, no event will follow; more: an event for `token` will come).
    #[napi]
    pub fn send(
        &self,
        conn_id: f64,
        #[napi(ts_arg_type = "Array<Uint8Array | NativeFileSlice>")] parts: Vec<
            Either<BufferSlice<'_>, &NativeFileSlice>,
        >,
        token: f64,
    ) -> Result<f64, JsError<&'static str>> {
        let plan = parts
            .iter()
            .map(|part| match part {
                Either::A(bytes) => Part::from(&bytes[..]),
                Either::B(slice) => Part::from(slice.range.clone()),
            })
            .collect();
        let conn = integer_arg("connId", conn_id)?;
        let token = integer_arg("token", token)?;
        self.writer
            .send(conn, plan, token)
            .map(|pending| pending as f64)
            .map_err(js_error)
    }

    #[napi]
    pub fn pending_bytes(&self, conn_id: f64) -> Result<f64, JsError<&'static str>> {
        let conn = integer_arg("connId", conn_id)?;
        self.writer
            .pending_bytes(conn)
            .map(|pending| pending as f64)
            .map_err(js_error)
    }

    /// Drops the connection's queued sends and closes the writer's dup; returns the bytes dropped.
    #[napi]
    pub fn unregister(&self, conn_id: f64) -> Result<f64, JsError<&'static str>> {
        let conn = integer_arg("connId", conn_id)?;
        self.writer
            .unregister(conn)
            .map(|dropped| dropped as f64)
            .map_err(js_error)
    }

    #[napi]
    pub fn stats(&self) -> NativeWriterStats {
        let s = self.writer.stats();
        NativeWriterStats {
            sendfile_bytes: s.sendfile_bytes as f64,
            sendfile_syscalls: s.sendfile_syscalls as f64,
            splice_bytes: s.splice_bytes as f64,
            splice_syscalls: s.splice_syscalls as f64,
            copy_bytes: s.copy_bytes as f64,
            copy_syscalls: s.copy_syscalls as f64,
            plain_bytes: s.plain_bytes as f64,
            plain_syscalls: s.plain_syscalls as f64,
            sends_inline: s.sends_inline as f64,
            sends_queued: s.sends_queued as f64,
            would_block: s.would_block as f64,
            continuations: s.continuations as f64,
            queued_bytes: s.queued_bytes as f64,
            connections: s.connections as f64,
            errors: s.errors as f64,
            truncated_ranges: s.truncated_ranges as f64,
            tls_plaintext_bytes: s.tls_plaintext_bytes as f64,
            tls_bytes: s.tls_bytes as f64,
            tls_syscalls: s.tls_syscalls as f64,
            cold_ranges_deferred: s.cold_ranges_deferred as f64,
            cold_bytes_warmed: s.cold_bytes_warmed as f64,
            cold_wait_micros: s.cold_wait_micros as f64,
            residency_probes: s.residency_probes as f64,
        }
    }

    /// Stops the writer thread, closes every connection, its epoll fd and eventfd, and releases
    /// `onEvents`.
    #[napi]
    pub fn close(&self) {
        self.writer.close();
    }
}

/// `WriterStats` as a plain object of numbers (see crates/sluice-log/src/writer/stats.rs).
#[napi(object)]
pub struct NativeWriterStats {
    pub sendfile_bytes: f64,
    pub sendfile_syscalls: f64,
    pub splice_bytes: f64,
    pub splice_syscalls: f64,
    pub copy_bytes: f64,
    pub copy_syscalls: f64,
    pub plain_bytes: f64,
    pub plain_syscalls: f64,
    pub sends_inline: f64,
    pub sends_queued: f64,
    pub would_block: f64,
    pub continuations: f64,
    pub queued_bytes: f64,
    pub connections: f64,
    pub errors: f64,
    /// Of `errors`: sends failed because the log was truncated under a file slice they held
    /// (the slice could no longer deliver the length already framed for it).
    pub truncated_ranges: f64,
    /// TLS connections: plaintext encrypted by the writer thread, and the encrypted bytes and
    /// send syscalls that carried it (handshakes included).
    pub tls_plaintext_bytes: f64,
    pub tls_bytes: f64,
    pub tls_syscalls: f64,
    /// Cold reads: ranges not in the page cache handed to the cold-read pool, bytes it read in,
    /// microseconds those sends waited for it in all, residency probes before file writes.
    pub cold_ranges_deferred: f64,
    pub cold_bytes_warmed: f64,
    pub cold_wait_micros: f64,
    pub residency_probes: f64,
}

/// A listener's TLS server config, built once from Kafka's `ssl.*` settings (see
/// crates/sluice-tls) and shared by its connections. Throws INVALID_CONFIG naming the setting.
#[napi]
pub struct NativeTlsConfig {
    config: Arc<rustls::ServerConfig>,
}

/// Kafka's `ssl.*` settings of one listener (names in camelCase; absent: not set).
#[napi(object)]
pub struct NativeTlsSettings {
    pub keystore_type: Option<String>,
    pub keystore_location: Option<String>,
    pub keystore_password: Option<String>,
    pub key_password: Option<String>,
    pub keystore_certificate_chain: Option<String>,
    pub keystore_key: Option<String>,
    pub truststore_type: Option<String>,
    pub truststore_location: Option<String>,
    pub truststore_password: Option<String>,
    pub truststore_certificates: Option<String>,
    pub client_auth: Option<String>,
    pub enabled_protocols: Option<Vec<String>>,
    pub cipher_suites: Option<Vec<String>>,
}

#[napi]
impl NativeTlsConfig {
    #[napi(constructor)]
    pub fn new(settings: NativeTlsSettings) -> Result<Self, JsError<&'static str>> {
        let config_error = |e: sluice_tls::TlsConfigError| JsError::new(e.code(), e.to_string());
        let client_auth = match settings.client_auth.as_deref() {
            None => sluice_tls::ClientAuth::None,
            Some(value) => value.parse().map_err(config_error)?,
        };
        let settings = sluice_tls::TlsSettings {
            keystore_type: settings.keystore_type,
            keystore_location: settings.keystore_location,
            keystore_password: settings.keystore_password,
            key_password: settings.key_password,
            keystore_certificate_chain: settings.keystore_certificate_chain,
            keystore_key: settings.keystore_key,
            truststore_type: settings.truststore_type,
            truststore_location: settings.truststore_location,
            truststore_password: settings.truststore_password,
            truststore_certificates: settings.truststore_certificates,
            client_auth,
            enabled_protocols: settings.enabled_protocols.unwrap_or_default(),
            cipher_suites: settings.cipher_suites.unwrap_or_default(),
        };
        let config = sluice_tls::server_config(&settings).map_err(config_error)?;
        Ok(NativeTlsConfig { config })
    }
}

/// What the start-up probe finds about kernel TLS: "available", or "unavailable (why)".
#[napi]
pub fn ktls_probe() -> String {
    sluice_tls::ktls::probe().describe()
}

fn encode_tls_event(event: TlsEvent) -> NativeTlsEvent {
    let mut out = NativeTlsEvent {
        kind: String::new(),
        conn_id: 0.0,
        data: None,
        protocol: None,
        cipher_suite: None,
        peer_subject: None,
        kernel: None,
        error: None,
    };
    match event {
        TlsEvent::Established {
            conn,
            protocol,
            cipher_suite,
            peer_subject,
            kernel,
        } => {
            out.kind = "established".into();
            out.conn_id = conn as f64;
            out.protocol = Some(protocol);
            out.cipher_suite = Some(cipher_suite);
            out.peer_subject = peer_subject;
            out.kernel = Some(kernel);
        }
        TlsEvent::Received { conn, data } => {
            out.kind = "received".into();
            out.conn_id = conn as f64;
            out.data = Some(Uint8Array::new(data));
        }
        TlsEvent::Closed { conn, error } => {
            out.kind = "closed".into();
            out.conn_id = conn as f64;
            out.error = error;
        }
    }
    out
}

/// Numbers per event in the `onEvents` array.
#[napi]
pub fn writer_event_stride() -> u32 {
    EVENT_STRIDE as u32
}

/// Event kinds by index (`kind` field of an event): "SENT", then error codes.
#[napi]
pub fn writer_event_kinds() -> Vec<&'static str> {
    EVENT_KINDS.to_vec()
}

/// Test helper, not for production: a `NativeFileSlice` over `len` bytes of the file at `path`
/// from `position`, published up to the file's current size. Lets the writer's tests run before
/// the log binding hands out real slices.
#[napi]
pub fn file_slice_for_test(
    path: String,
    position: f64,
    len: f64,
) -> Result<NativeFileSlice, JsError<&'static str>> {
    let position = integer_arg("position", position)?;
    let len = integer_arg("len", len)?;
    let file =
        File::open(&path).map_err(|e| JsError::new("TRANSFER_IO", format!("open {path}: {e}")))?;
    let size = file
        .metadata()
        .map_err(|e| JsError::new("TRANSFER_IO", format!("stat {path}: {e}")))?
        .len();
    let range = FileRange::new(
        Arc::new(file),
        position,
        len,
        Arc::new(AtomicU64::new(size)),
    );
    Ok(NativeFileSlice::new(range))
}

fn encode_events(events: &[Event]) -> Float64Array {
    let mut flat = Vec::with_capacity(events.len() * EVENT_STRIDE);
    for event in events {
        let (kind, conn, token, bytes, errno) = match event {
            Event::Sent { conn, token, bytes } => (0, *conn, *token, *bytes, 0),
            Event::Failed {
                conn,
                token,
                bytes,
                error,
            } => {
                let kind = EVENT_KINDS
                    .iter()
                    .position(|code| *code == error.code())
                    .unwrap_or_else(|| panic!("writer event with unlisted code {}", error.code()));
                (kind, *conn, *token, *bytes, error.errno().unwrap_or(0))
            }
        };
        flat.extend_from_slice(&[
            kind as f64,
            conn as f64,
            token as f64,
            bytes as f64,
            f64::from(errno),
        ]);
    }
    Float64Array::new(flat)
}

/// The writer's config from the JS options; bad values are "InvalidArg".
fn writer_config(
    mode: WriterMode,
    options: Option<NativeWriterOptions>,
) -> Result<WriterConfig, JsError<&'static str>> {
    let mut config = WriterConfig::new(mode);
    let Some(options) = options else {
        return Ok(config);
    };
    if let Some(threads) = options.threads {
        if threads == 0 {
            return Err(JsError::new("InvalidArg", "threads must be at least 1"));
        }
        config.threads = threads as usize;
    }
    if let Some(threads) = options.cold_read_threads {
        config.cold_read_threads = threads as usize;
    }
    config.send_buffer_bytes = match options.send_buffer_bytes {
        None | Some(-1) => None,
        Some(bytes) if bytes > 0 => Some(bytes as usize),
        Some(bytes) => {
            return Err(JsError::new(
                "InvalidArg",
                format!("sendBufferBytes must be positive or -1, got {bytes}"),
            ));
        }
    };
    Ok(config)
}

/// A JS number that must be a non-negative safe integer (ids, tokens, positions). Bad
/// arguments get napi's own code, "InvalidArg", as napi-rs gives wrong argument types.
fn integer_arg(name: &str, value: f64) -> Result<u64, JsError<&'static str>> {
    const MAX_SAFE_INTEGER: f64 = 9_007_199_254_740_991.0;
    if value.fract() == 0.0 && (0.0..=MAX_SAFE_INTEGER).contains(&value) {
        return Ok(value as u64);
    }
    Err(JsError::new(
        "InvalidArg",
        format!("{name} must be a non-negative safe integer, got {value}"),
    ))
}

/// The crate error as a JS error whose `code` is the stable code.
fn js_error(error: Error) -> JsError<&'static str> {
    JsError::new(error.code(), error.to_string())
}
