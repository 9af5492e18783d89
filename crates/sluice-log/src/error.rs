//! The crate's error enum. Each variant has a stable string code (`Error::code`) that the napi
//! binding turns into `err.code` in JavaScript; codes never change once released, and every code
//! is listed in `Error::CODES` (the table `packages/native/src/errors.ts` is checked against).
//!
//! Operating errors (bad input, EIO, ENOSPC, a closed log) are values of this enum; a broken
//! invariant panics instead.
//!
//! This file holds the storage variants; the transfer and connection-writer variants are kept in
//! their own block of the same enum.

use std::io;
use std::path::PathBuf;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    // ---- storage: append validation (the whole append is rejected, nothing is written) ----
    /// A batch failed an integrity check: bad magic, a length that lies (too small for a v2
    /// header or running past the input), or a CRC-32C mismatch. Kafka: CORRUPT_MESSAGE.
    #[error("corrupt record batch #{batch} at byte {position} of the append: {reason}")]
    CorruptMessage {
        batch: usize,
        position: usize,
        reason: String,
    },

    /// A batch is intact but not acceptable: lastOffsetDelta + 1 != record count, a
    /// non-positive count, an empty append, a control batch from a client, a producer id without
    /// a sequence, or a transactional batch without a producer id. Kafka: INVALID_RECORD.
    #[error("invalid record batch #{batch} at byte {position} of the append: {reason}")]
    InvalidRecord {
        batch: usize,
        position: usize,
        reason: String,
    },

    /// One batch is larger than `max.message.bytes`. Kafka: MESSAGE_TOO_LARGE.
    #[error("record batch #{batch} is {size} bytes, larger than max.message.bytes = {max}")]
    MessageTooLarge { batch: usize, size: u64, max: u64 },

    /// The whole append is larger than `segment.bytes`, so it can never fit in a segment.
    /// Kafka: RECORD_LIST_TOO_LARGE.
    #[error("append of {size} bytes is larger than segment.bytes = {segment_bytes}")]
    RecordListTooLarge { size: u64, segment_bytes: u64 },

    // ---- storage: idempotent producer state (checked inside `append`, nothing is written) ----
    /// A batch of an idempotent producer whose sequence does not continue the producer's last
    /// appended batch (a gap or a rewind), or a new epoch that does not start at sequence 0.
    /// Kafka: OUT_OF_ORDER_SEQUENCE_NUMBER.
    #[error(
        "record batch #{batch}: out-of-order sequence {first_sequence} from producer \
         {producer_id} (epoch {epoch}): {reason}"
    )]
    OutOfOrderSequence {
        batch: usize,
        producer_id: i64,
        epoch: i16,
        first_sequence: i32,
        reason: String,
    },

    /// A batch carrying an older epoch than the producer's current one on this partition (a
    /// fenced "zombie" producer). Kafka: INVALID_PRODUCER_EPOCH.
    #[error(
        "record batch #{batch}: epoch {epoch} of producer {producer_id} is older than its \
         current epoch {current_epoch}"
    )]
    InvalidProducerEpoch {
        batch: usize,
        producer_id: i64,
        epoch: i16,
        current_epoch: i16,
    },

    // ---- storage: transactions (checked inside `append` / `append_marker`, nothing written) ----
    /// A non-transactional batch from a producer whose transaction on this partition is still
    /// open (Kafka's `ProducerAppendInfo`: "Expected transactional write"). Kafka:
    /// INVALID_TXN_STATE.
    #[error(
        "record batch #{batch}: non-transactional batch from producer {producer_id}, whose \
         transaction starting at offset {txn_first_offset} is still open"
    )]
    InvalidTxnState {
        batch: usize,
        producer_id: i64,
        txn_first_offset: i64,
    },

    /// A transaction marker from a coordinator epoch older than the one that wrote this
    /// producer's last marker (a zombie coordinator). Kafka: TRANSACTION_COORDINATOR_FENCED.
    #[error(
        "transaction marker for producer {producer_id}: coordinator epoch {coordinator_epoch} \
         is older than {current_coordinator_epoch}"
    )]
    TransactionCoordinatorFenced {
        producer_id: i64,
        coordinator_epoch: i32,
        current_coordinator_epoch: i32,
    },

    // ---- storage: reads and offset arguments ----
    /// An offset outside [log start offset, log end offset]. Kafka: OFFSET_OUT_OF_RANGE.
    #[error("offset {offset} is out of range [{log_start}, {log_end}]")]
    OffsetOutOfRange {
        offset: i64,
        log_start: i64,
        log_end: i64,
    },

    /// Segment or index bytes on disk that do not parse (found after open, e.g. a batch header
    /// at a position an index pointed to). The broker reports it as KAFKA_STORAGE_ERROR.
    #[error("corrupt data in {} at byte {position}: {reason}", path.display())]
    CorruptSegment {
        path: PathBuf,
        position: u64,
        reason: String,
    },

    /// A checkpoint file that does not follow Kafka's text format.
    #[error("corrupt checkpoint file {} at line {line}: {reason}", path.display())]
    CorruptCheckpoint {
        path: PathBuf,
        line: usize,
        reason: String,
    },

    // ---- storage: the file system ----
    /// An I/O error other than ENOSPC (EIO, EROFS, EMFILE, ...). Kafka: KAFKA_STORAGE_ERROR.
    #[error("storage error during {op} on {}: {source}", path.display())]
    Storage {
        op: &'static str,
        path: PathBuf,
        source: io::Error,
    },

    /// The file system is full (ENOSPC, from fallocate or write). Nothing of the append that
    /// met it was published. Kafka: KAFKA_STORAGE_ERROR.
    #[error("no space left during {op} on {}: {source}", path.display())]
    NoSpace {
        op: &'static str,
        path: PathBuf,
        source: io::Error,
    },

    // ---- storage: API misuse that is still an operating error ----
    /// Any call after `close()` or `delete()`.
    #[error("the log in {} is closed", dir.display())]
    LogClosed { dir: PathBuf },

    /// A config value out of its allowed range.
    #[error("invalid config {name}: {reason}")]
    InvalidConfig { name: &'static str, reason: String },

    /// An argument that cannot be an offset, size or timestamp (negative, fractional, NaN).
    #[error("invalid argument {name}: {reason}")]
    InvalidArgument { name: &'static str, reason: String },

    /// Another process (or another lock in this one) holds `<logdir>/.lock`: two brokers on one
    /// log dir would trim each other's mapped files during recovery (SIGBUS).
    #[error("another broker is using log dir {}", dir.display())]
    LogDirLocked { dir: PathBuf },

    // ---- transfer and the connection writer ----
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
    /// Every code `code()` can return, in declaration order. The JS code table is tested against
    /// this list.
    pub const CODES: &'static [&'static str] = &[
        "CORRUPT_MESSAGE",
        "INVALID_RECORD",
        "MESSAGE_TOO_LARGE",
        "RECORD_LIST_TOO_LARGE",
        "OUT_OF_ORDER_SEQUENCE_NUMBER",
        "INVALID_PRODUCER_EPOCH",
        "INVALID_TXN_STATE",
        "TRANSACTION_COORDINATOR_FENCED",
        "OFFSET_OUT_OF_RANGE",
        "CORRUPT_SEGMENT",
        "CORRUPT_CHECKPOINT",
        "KAFKA_STORAGE_ERROR",
        "NO_SPACE",
        "LOG_CLOSED",
        "INVALID_CONFIG",
        "INVALID_ARGUMENT",
        "LOG_DIR_LOCKED",
        "CONNECTION_CLOSED",
        "PEER_RESET",
        "WRITER_QUEUE_FULL",
        "UNKNOWN_CONNECTION",
        "TRANSFER_IO",
        "NOT_A_STREAM_SOCKET",
        "WRITER_CLOSED",
        "UNKNOWN_WRITER_MODE",
    ];

    /// Stable code for this error, the JavaScript `err.code`.
    pub fn code(&self) -> &'static str {
        match self {
            Error::CorruptMessage { .. } => "CORRUPT_MESSAGE",
            Error::InvalidRecord { .. } => "INVALID_RECORD",
            Error::MessageTooLarge { .. } => "MESSAGE_TOO_LARGE",
            Error::RecordListTooLarge { .. } => "RECORD_LIST_TOO_LARGE",
            Error::OutOfOrderSequence { .. } => "OUT_OF_ORDER_SEQUENCE_NUMBER",
            Error::InvalidProducerEpoch { .. } => "INVALID_PRODUCER_EPOCH",
            Error::InvalidTxnState { .. } => "INVALID_TXN_STATE",
            Error::TransactionCoordinatorFenced { .. } => "TRANSACTION_COORDINATOR_FENCED",
            Error::OffsetOutOfRange { .. } => "OFFSET_OUT_OF_RANGE",
            Error::CorruptSegment { .. } => "CORRUPT_SEGMENT",
            Error::CorruptCheckpoint { .. } => "CORRUPT_CHECKPOINT",
            Error::Storage { .. } => "KAFKA_STORAGE_ERROR",
            Error::NoSpace { .. } => "NO_SPACE",
            Error::LogClosed { .. } => "LOG_CLOSED",
            Error::InvalidConfig { .. } => "INVALID_CONFIG",
            Error::InvalidArgument { .. } => "INVALID_ARGUMENT",
            Error::LogDirLocked { .. } => "LOG_DIR_LOCKED",
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
            Error::Storage { source, .. }
            | Error::NoSpace { source, .. }
            | Error::PeerReset { source, .. }
            | Error::TransferIo { source, .. } => source.raw_os_error(),
            _ => None,
        }
    }

    /// Classifies a file-system error: ENOSPC (and EDQUOT, a full quota) is `NoSpace`,
    /// anything else `Storage`.
    pub fn from_io(op: &'static str, path: impl Into<PathBuf>, source: io::Error) -> Error {
        let path = path.into();
        match source.raw_os_error() {
            Some(libc::ENOSPC | libc::EDQUOT) => Error::NoSpace { op, path, source },
            _ => Error::Storage { op, path, source },
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

    fn storage_samples() -> Vec<Error> {
        let reason = || "x".to_string();
        let path = || PathBuf::from("/tmp/x");
        vec![
            Error::CorruptMessage {
                batch: 0,
                position: 0,
                reason: reason(),
            },
            Error::InvalidRecord {
                batch: 0,
                position: 0,
                reason: reason(),
            },
            Error::MessageTooLarge {
                batch: 0,
                size: 2,
                max: 1,
            },
            Error::RecordListTooLarge {
                size: 2,
                segment_bytes: 1,
            },
            Error::OutOfOrderSequence {
                batch: 0,
                producer_id: 1,
                epoch: 0,
                first_sequence: 7,
                reason: reason(),
            },
            Error::InvalidProducerEpoch {
                batch: 0,
                producer_id: 1,
                epoch: 0,
                current_epoch: 1,
            },
            Error::InvalidTxnState {
                batch: 0,
                producer_id: 1,
                txn_first_offset: 0,
            },
            Error::TransactionCoordinatorFenced {
                producer_id: 1,
                coordinator_epoch: 0,
                current_coordinator_epoch: 1,
            },
            Error::OffsetOutOfRange {
                offset: 9,
                log_start: 0,
                log_end: 1,
            },
            Error::CorruptSegment {
                path: path(),
                position: 0,
                reason: reason(),
            },
            Error::CorruptCheckpoint {
                path: path(),
                line: 1,
                reason: reason(),
            },
            Error::from_io("write", path(), io::Error::from_raw_os_error(libc::EIO)),
            Error::from_io(
                "fallocate",
                path(),
                io::Error::from_raw_os_error(libc::ENOSPC),
            ),
            Error::LogClosed { dir: path() },
            Error::InvalidConfig {
                name: "segment.bytes",
                reason: reason(),
            },
            Error::InvalidArgument {
                name: "offset",
                reason: reason(),
            },
            Error::LogDirLocked { dir: path() },
        ]
    }

    #[test]
    fn storage_codes_are_listed_in_order_and_unique() {
        let codes: Vec<&str> = storage_samples().iter().map(Error::code).collect();
        assert_eq!(codes, &Error::CODES[..codes.len()]);
        let mut unique = Error::CODES.to_vec();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(unique.len(), Error::CODES.len());
    }

    #[test]
    fn enospc_is_no_space_and_eio_is_storage() {
        let e = Error::from_io(
            "fallocate",
            "/x",
            io::Error::from_raw_os_error(libc::ENOSPC),
        );
        assert_eq!(e.code(), "NO_SPACE");
        assert_eq!(e.errno(), Some(libc::ENOSPC));
        let e = Error::from_io("pwrite", "/x", io::Error::from_raw_os_error(libc::EIO));
        assert_eq!(e.code(), "KAFKA_STORAGE_ERROR");
        assert_eq!(e.errno(), Some(libc::EIO));
    }

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
