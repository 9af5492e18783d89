//! The crate's error enum. Each variant has a stable string code (`Error::code`) that the napi
//! binding turns into `err.code` in JavaScript; codes never change once released.
//!
//! This file holds the transfer and connection-writer variants; the storage variants live in the
//! same enum on the storage branch and the two are merged into one list.

use std::io;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A send on a connection whose earlier send failed (peer gone or I/O error). The broker
    /// closes the socket and unregisters the connection.
    #[error("connection {conn} is closed: an earlier send on it failed")]
    ConnectionClosed { conn: u64 },

    /// The peer closed or reset the connection while bytes were being written
    /// (EPIPE, ECONNRESET, ECONNABORTED, ETIMEDOUT).
    #[error("connection {conn}: peer closed or reset the connection during {op}: {source}")]
    PeerReset {
        conn: u64,
        op: &'static str,
        source: io::Error,
    },

    /// The send would take the connection's queue past its bounds; nothing of it was written
    /// or queued and the connection stays usable. The broker pauses reading from a connection
    /// long before this (see `Writer::pending_bytes`), so hitting it means backpressure failed.
    #[error(
        "connection {conn}: send of {plan_bytes} bytes in {plan_parts} parts refused: \
         {pending_bytes} bytes in {queued_parts} parts already queued \
         (limits: {max_pending_bytes} bytes, {max_queued_parts} parts)"
    )]
    WriterQueueFull {
        conn: u64,
        plan_bytes: u64,
        plan_parts: usize,
        pending_bytes: u64,
        queued_parts: usize,
        max_pending_bytes: u64,
        max_queued_parts: usize,
    },

    /// No connection with this id is registered (never was, or already unregistered).
    #[error("unknown connection {conn}")]
    UnknownConnection { conn: u64 },

    /// Any other I/O error while moving bytes: reading the segment file (EIO), a file shorter
    /// than its published end, dup/epoll/pipe setup failures (EMFILE, ENOMEM).
    #[error("transfer I/O error during {op}: {source}")]
    TransferIo { op: &'static str, source: io::Error },

    /// The fd given to `register` is not a stream socket (ENOTSOCK or a datagram socket).
    #[error("fd {fd} is not a stream socket")]
    NotAStreamSocket { fd: i32 },

    /// `send`/`register` after the writer was closed.
    #[error("the connection writer is closed")]
    WriterClosed,

    /// A writer mode name other than `sendfile`, `splice` or `copy`.
    #[error("unknown writer mode {0:?} (expected \"sendfile\", \"splice\" or \"copy\")")]
    UnknownWriterMode(String),
}

impl Error {
    /// Stable code for this error, the JavaScript `err.code`.
    pub fn code(&self) -> &'static str {
        match self {
            Error::ConnectionClosed { .. } => "CONNECTION_CLOSED",
            Error::PeerReset { .. } => "PEER_RESET",
            Error::WriterQueueFull { .. } => "WRITER_QUEUE_FULL",
            Error::UnknownConnection { .. } => "UNKNOWN_CONNECTION",
            Error::TransferIo { .. } => "TRANSFER_IO",
            Error::NotAStreamSocket { .. } => "NOT_A_STREAM_SOCKET",
            Error::WriterClosed => "WRITER_CLOSED",
            Error::UnknownWriterMode(_) => "UNKNOWN_WRITER_MODE",
        }
    }

    /// The OS error number behind this error, when there is one.
    pub fn errno(&self) -> Option<i32> {
        match self {
            Error::PeerReset { source, .. } | Error::TransferIo { source, .. } => {
                source.raw_os_error()
            }
            _ => None,
        }
    }

    /// Classifies an I/O error met while writing to connection `conn`: the peer going away is
    /// `PeerReset`, anything else `TransferIo`.
    pub fn from_transfer(conn: u64, op: &'static str, source: io::Error) -> Error {
        if is_peer_gone(&source) {
            Error::PeerReset { conn, op, source }
        } else {
            Error::TransferIo { op, source }
        }
    }
}

/// True for the errnos a socket write returns once the peer has closed or reset the connection
/// (ETIMEDOUT: the kernel gave up retransmitting to it).
pub fn is_peer_gone(error: &io::Error) -> bool {
    matches!(
        error.raw_os_error(),
        Some(libc::EPIPE | libc::ECONNRESET | libc::ECONNABORTED | libc::ETIMEDOUT)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transfer_codes_are_stable_and_unique() {
        let samples = [
            Error::ConnectionClosed { conn: 1 },
            Error::PeerReset {
                conn: 1,
                op: "send",
                source: io::Error::from_raw_os_error(libc::EPIPE),
            },
            Error::WriterQueueFull {
                conn: 1,
                plan_bytes: 1,
                plan_parts: 1,
                pending_bytes: 1,
                queued_parts: 1,
                max_pending_bytes: 1,
                max_queued_parts: 1,
            },
            Error::UnknownConnection { conn: 1 },
            Error::TransferIo {
                op: "pread",
                source: io::Error::from_raw_os_error(libc::EIO),
            },
            Error::NotAStreamSocket { fd: 3 },
            Error::WriterClosed,
            Error::UnknownWriterMode("x".into()),
        ];
        let codes: Vec<&str> = samples.iter().map(Error::code).collect();
        let expected = [
            "CONNECTION_CLOSED",
            "PEER_RESET",
            "WRITER_QUEUE_FULL",
            "UNKNOWN_CONNECTION",
            "TRANSFER_IO",
            "NOT_A_STREAM_SOCKET",
            "WRITER_CLOSED",
            "UNKNOWN_WRITER_MODE",
        ];
        assert_eq!(codes, expected);
        let mut unique = codes.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), codes.len());
    }

    #[test]
    fn peer_errors_are_classified_as_peer_reset() {
        for errno in [libc::EPIPE, libc::ECONNRESET] {
            let e = Error::from_transfer(7, "send", io::Error::from_raw_os_error(errno));
            assert_eq!(e.code(), "PEER_RESET");
            assert_eq!(e.errno(), Some(errno));
        }
        let e = Error::from_transfer(7, "pread", io::Error::from_raw_os_error(libc::EIO));
        assert_eq!(e.code(), "TRANSFER_IO");
    }
}
