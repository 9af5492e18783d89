//! Sluice storage core: segmented Kafka logs, sparse indexes, recovery, retention, compaction
//! (`log::cleaner`) and zero-copy transfer on raw fds. Pure Rust; no napi (see crates/sluice-napi for the Node binding).
//!
//! Storage entry points: `Log` (one partition, with its idempotent producer state), `LogConfig`,
//! the log-dir helpers in `checkpoint`, and `Error` with its stable codes. See README.md for
//! formats and contracts.

pub mod checkpoint;
pub mod config;
pub mod error;
pub mod fault;
pub mod file_range;
pub mod flush_stats;
pub mod index;
pub mod log;
mod mmap;
pub mod producer;
pub mod records;
pub mod residency;
pub mod segment;
pub mod storage;
pub mod transfer;
pub mod writer;

pub use config::{AppendMode, CleanupPolicy, LogConfig, TimestampType};
pub use error::{Error, Result};
pub use file_range::FileRange;
pub use log::cleaner::{CleanJob, CleanOutcome, CleanStats, Cleanable, CleanerSettings};
pub use log::{AppendResult, FlushJob, Log, LogStats, OpenOptions, ReadResult, TimestampAndOffset};
pub use producer::{BatchMetadata, OngoingTxn, ProducerEntry, ProducerState};
pub use segment::AbortedTxn;
pub use storage::{OsStorage, Storage};
