//! Log compaction: Kafka's log cleaner for one partition (`cleanup.policy=compact`).
//!
//! What a clean does (Kafka's semantics, from `LogCleanerManager`, `Cleaner` and KIP-534):
//!
//! - Only closed segments are cleaned, never the active one, nor segments whose largest
//!   timestamp is younger than `min.compaction.lag.ms`. The dirty section runs from the first
//!   dirty offset (where the last clean ended; the log start at first) to the first uncleanable
//!   segment. A clean runs when dirty bytes / (clean + dirty bytes) exceeds
//!   `min.cleanable.dirty.ratio` (strictly, as Kafka compares).
//! - The dirty section's keys are mapped to their latest offsets in a fixed-size map
//!   (`offset_map.rs`, budget `sluice.log.cleaner.dedupe.buffer.bytes`); when it fills, the clean
//!   goes only as far as the map reached and the next one continues from there.
//! - Every closed segment from the log start up to there is rewritten in groups keeping, per key,
//!   only the latest record (`filter.rs`): offsets are never changed, batches may become sparse
//!   (their span stays), records without a key go, tombstones get a delete horizon the first
//!   time a clean sees them and go in the first clean after `delete.retention.ms`.
//!   Compressed batches are decompressed to read keys and rewritten with the same codec.
//! - Transactions: the range ends at the first unstable offset. Batches of aborted transactions
//!   (listed at plan time from the `.txnindex` files, later segments' included; `txns.rs`)
//!   are dropped like Kafka's cleaner drops them (kept empty when they are their producer's
//!   last) and their keys stay out of the map; committed transactional records are compacted
//!   by key like any other. A marker stays while any batch of its transaction (an empty one
//!   included) is left; then, like a tombstone, it gets a delete horizon (`delete.retention.ms`)
//!   and goes in the first clean after it. The cleaned segment's `.txnindex` is its sources'
//!   entries.
//! - The last batch of each active producer id (the log's producer state, minus producers past
//!   `producer.id.expiration.ms`) is kept, empty if all its records went (Kafka does so its
//!   sequence state survives a rebuild from the log); so is the last batch of each rewritten
//!   group, so a
//!   segment still ends where it ended (Kafka keeps the last batch of a cleaning round for the
//!   same reason). `Log::read` skips empty batches at the start of a read.
//! - New segments replace the old ones through the `.cleaned` / `.swap` suffix protocol
//!   (`swap.rs`), so a crash at any step recovers to either the old or the new segments.
//!
//! The split (the log is used from the JS thread): `Log::plan_clean` (cheap, on the log's
//! thread) picks the range and hands out a `CleanJob` owning `Arc`s of the closed segments'
//! files; `CleanJob::run` does all reading and writing on any thread; `Log::apply_clean` (log's
//! thread) swaps the new segments in if the segments they replace are still there unchanged.
//! `Log::clean` does the three in a row. While a job runs, `close`, `delete` and `truncate_to`
//! ask it to stop; its outcome is then applied as nothing.
//!
//! An I/O error after the old segments' files were unlinked leaves the log offline (every call
//! answers KAFKA_STORAGE_ERROR) until it is reopened, which finishes the swap — Kafka takes the
//! log dir offline in that case.
//!
//! Where things are: this module holds the settings, the stats and the `.cleaned` / `.swap`
//! suffixes; `job.rs` the clean itself, `filter.rs` the per-batch rewrite, `offset_map.rs` the
//! key map, `swap.rs` the rename protocol. The `Log` methods (`cleanable`, `plan_clean`,
//! `apply_clean`, `clean`) are the log's side, in `log/compaction.rs`.
//!
//! Concurrency contract: the `Log` methods follow the log's (one thread at a time); `CleanJob`
//! is `Send` and runs anywhere, one per log at a time.

mod filter;
pub(crate) mod job;
mod offset_map;
pub(crate) mod swap;
mod txns;

use std::path::{Path, PathBuf};

pub use job::{CleanJob, CleanOutcome, MAX_INSPECTED_BATCH_BYTES};
pub use offset_map::SLOT_BYTES as DEDUPE_SLOT_BYTES;

use crate::error::{Error, Result};

/// Suffix of a cleaned segment's files while it is being written.
pub const CLEANED_SUFFIX: &str = ".cleaned";
/// Suffix of a cleaned segment's files once committed, before they take the final names.
pub const SWAP_SUFFIX: &str = ".swap";

/// `path` with `suffix` appended to its file name.
pub(crate) fn suffixed(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_os_string();
    name.push(suffix);
    PathBuf::from(name)
}

/// Broker-wide cleaner settings (the per-log ones are in `LogConfig`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CleanerSettings {
    /// `sluice.log.cleaner.dedupe.buffer.bytes`: memory for the key -> offset map (24 bytes per
    /// key; full at 90%).
    pub dedupe_buffer_bytes: u64,
}

impl Default for CleanerSettings {
    fn default() -> Self {
        CleanerSettings {
            dedupe_buffer_bytes: 32 << 20,
        }
    }
}

impl CleanerSettings {
    pub fn validate(&self) -> Result<()> {
        if self.dedupe_buffer_bytes < 2 * DEDUPE_SLOT_BYTES {
            return Err(Error::InvalidConfig {
                name: "sluice.log.cleaner.dedupe.buffer.bytes",
                reason: format!(
                    "{} is below {}, the room of two keys",
                    self.dedupe_buffer_bytes,
                    2 * DEDUPE_SLOT_BYTES
                ),
            });
        }
        Ok(())
    }
}

/// What one clean did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CleanStats {
    /// The first dirty offset the clean started from.
    pub first_dirty_offset: i64,
    /// Where it ended: the next clean's first dirty offset.
    pub end_offset: i64,
    /// Segments read and replaced, and the segments that replaced them.
    pub segments_cleaned: u64,
    pub segments_written: u64,
    pub bytes_read: u64,
    pub bytes_written: u64,
    pub records_read: u64,
    pub records_kept: u64,
    pub tombstones_removed: u64,
    /// Batches of aborted transactions dropped (or emptied).
    pub aborted_batches_removed: u64,
    /// Transaction markers dropped (their transaction had no batch left, past the horizon).
    pub markers_removed: u64,
    /// Batches kept without records (a producer's last batch, or a segment's last).
    pub empty_batches_kept: u64,
    /// Batches kept whole because they could not be read (over `MAX_INSPECTED_BATCH_BYTES`,
    /// or records that do not parse).
    pub unreadable_batches: u64,
    /// Keys in the offset map, and whether it filled up (the clean stopped early).
    pub map_keys: u64,
    pub map_full: bool,
    /// Cleaned groups not applied because their segments changed while the job ran.
    pub groups_skipped: u64,
}

/// The range a clean would cover and its dirty ratio (Kafka's `LogToClean`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Cleanable {
    pub first_dirty_offset: i64,
    /// Base offset of the first segment that may not be cleaned.
    pub first_uncleanable_offset: i64,
    pub clean_bytes: u64,
    pub cleanable_bytes: u64,
}

impl Cleanable {
    pub fn ratio(&self) -> f64 {
        let total = self.clean_bytes + self.cleanable_bytes;
        if total == 0 {
            0.0
        } else {
            self.cleanable_bytes as f64 / total as f64
        }
    }
}
