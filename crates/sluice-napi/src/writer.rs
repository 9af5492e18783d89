//! `NativeConnectionWriter`: the binding of `sluice_log::writer::Writer`. Each method converts
//! its arguments, calls the writer and converts the result; the behaviour is documented in
//! crates/sluice-log/src/writer.rs.

use std::fs::File;
use std::os::fd::BorrowedFd;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use napi::bindgen_prelude::{BufferSlice, Either, Float64Array};
use napi::threadsafe_function::{
    ThreadsafeFunction, ThreadsafeFunctionCallMode, UnknownReturnValue,
};
use napi::{Error as JsError, Status};
use napi_derive::napi;
use sluice_log::writer::{Event, Part, Writer, WriterMode};
use sluice_log::{Error, FileRange};

use crate::file_slice::NativeFileSlice;

/// The JS callback: called with one Float64Array per batch of events. Weak (unref'd): the
/// writer alone does not keep Node's event loop alive — the broker's server and sockets do — so
/// a process that forgets `close()` still exits.
type EventsCallback =
    ThreadsafeFunction<Float64Array, UnknownReturnValue, Float64Array, Status, false, true>;

/// Numbers per event in the batch array: `[kind, connId, token, bytes, errno]`.
pub const EVENT_STRIDE: usize = 5;

/// Event kinds by index: 0 is a completed send; the others are the error code a failed send
/// ended with. `errno` is 0 when the error has none (a segment file shorter than its range).
const EVENT_KINDS: [&str; 3] = ["SENT", "PEER_RESET", "TRANSFER_IO"];

#[napi]
pub struct NativeConnectionWriter {
    writer: Writer,
}

#[napi]
impl NativeConnectionWriter {
    /// `mode`: "sendfile" | "splice" | "copy". `onEvents` receives each batch as a Float64Array
    /// of `writerEventStride()` numbers per event (see `writerEventKinds()`).
    #[napi(constructor)]
    pub fn new(
        mode: String,
        #[napi(ts_arg_type = "(events: Float64Array) => void")] on_events: EventsCallback,
    ) -> Result<Self, JsError<&'static str>> {
        let mode: WriterMode = mode.parse().map_err(js_error)?;
        let writer = Writer::new(mode, move |events| {
            on_events.call(
                encode_events(&events),
                ThreadsafeFunctionCallMode::NonBlocking,
            );
        })
        .map_err(js_error)?;
        Ok(NativeConnectionWriter { writer })
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
