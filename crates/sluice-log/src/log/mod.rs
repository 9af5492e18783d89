//! `Log`: one partition's log — a directory of segments (see `segment/`) with Kafka's
//! semantics for append, read, timestamp lookup, retention, DeleteRecords, truncation, flush and
//! recovery.
//!
//! Concurrency contract: one appender. A `Log` is used from one thread at a time (the JS thread,
//! through napi); every method is synchronous except that `flush_job()` hands out a `FlushJob`
//! that may run on another thread while appends continue. `FileRange`s returned by `read` may be
//! transferred by any thread concurrently with appends (they never extend past a segment's
//! published end). Dropping a `Log` without `close()` is a crash as far as the files are
//! concerned: nothing is trimmed or synced, and the next `open` runs recovery.
//!
//! Recovery: `open` is told whether the last shutdown was clean and the recovery point (every
//! offset below it was fdatasync'd). Unclean: each segment from the one holding the recovery
//! point on is scanned, CRC-checked, cut at the first invalid or torn batch (a zero-filled
//! preallocated tail included) and gets rebuilt indexes; if a segment other than the last had to
//! be cut, or the next segment does not start where it ends (it lost its tail to a power loss),
//! the segments after it are deleted (Kafka does the former). Any segment whose indexes are missing or
//! fail their checks is rebuilt the same way, clean or not. Recovered segments are fdatasync'd
//! before `open` returns, so the recovery point is then the log end.
//!
//! Log start offset: kept in memory; the broker persists it per log dir in Kafka's
//! `log-start-offset-checkpoint` (see `checkpoint.rs`) and passes it back to `open`, which uses
//! max(checkpointed value, first segment's base offset), as Kafka does.
//!
//! Idempotent producers: `append` checks every batch with a producer id against the partition's
//! producer state (`producer/state.rs`) before anything is written, and answers a retried
//! duplicate with the original offsets without writing it. The state is snapshotted
//! (`producer/snapshot.rs`) at roll and close; `open` loads the latest snapshot at or below the
//! recovery point (the log end after a clean shutdown) and replays the batch headers after it.
//!
//! Layout (Kafka splits the same way into `UnifiedLog`, `LogLoader` and `LocalLog`): this file
//! holds the `Log` struct, its small accessors, truncation and close; `open.rs` opening and
//! recovery, `append.rs` appends and rolls, `read.rs` reads and timestamp lookups,
//! `retention.rs` retention and DeleteRecords, `flush.rs` flush jobs and the recovery point,
//! `compaction.rs` the log's side of compaction, whose job and formats are in `cleaner/`,
//! `transactions.rs` transaction markers, the first unstable offset and aborted transactions.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use crate::config::LogConfig;
use crate::error::{Error, Result};
use crate::file_range::FileRange;
use crate::producer::{ProducerState, ProducerStateManager};
use crate::segment::Segment;
use crate::storage::Storage;

pub use flush::FlushJob;
use flush::{RecoveryPoint, lock};

mod append;
pub mod cleaner;
mod compaction;
mod flush;
mod follower;
mod open;
mod read;
mod retention;
mod transactions;

/// What `open` needs to know about the previous run of this log.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct OpenOptions {
    /// The log dir had Kafka's clean shutdown marker (`.kafka_cleanshutdown`).
    pub clean_shutdown: bool,
    /// From `recovery-point-offset-checkpoint`; 0 when unknown (recovers everything).
    pub recovery_point: i64,
    /// From `log-start-offset-checkpoint`; 0 when unknown.
    pub log_start_offset: i64,
}

/// The outcome of an append (ProduceResponse fields and a little more).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AppendResult {
    pub base_offset: i64,
    pub last_offset: i64,
    /// The broker time stamped into the batches under LogAppendTime; -1 under CreateTime.
    pub log_append_time: i64,
    /// Largest timestamp of the appended batches (after LogAppendTime stamping).
    pub max_timestamp: i64,
    pub record_count: i64,
    pub log_start_offset: i64,
    /// The append rolled a new segment (Kafka flushes the previous one; the broker may call
    /// `flush_job` for it).
    pub rolled: bool,
    /// The append retried a batch an idempotent producer already appended: nothing was written
    /// and the offsets are the original batch's (Kafka answers error NONE with them).
    pub duplicate: bool,
}

/// A read: whole batches of one segment, starting with the batch that contains the offset.
#[derive(Clone, Debug)]
pub struct ReadResult {
    pub range: FileRange,
    /// Base offset of the first batch in the range (<= the offset asked for, unless empty
    /// batches left by the cleaner were skipped).
    pub first_offset: i64,
}

/// An (offset, timestamp) answer to ListOffsets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TimestampAndOffset {
    pub timestamp: i64,
    pub offset: i64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LogStats {
    pub log_start_offset: i64,
    pub log_end_offset: i64,
    pub size_bytes: u64,
    pub segment_count: usize,
    pub recovery_point: i64,
}

/// Milliseconds since the Unix epoch, for segment creation times when no caller clock is given.
fn wall_clock_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

#[derive(Debug)]
pub struct Log {
    pub(crate) dir: PathBuf,
    pub(crate) config: LogConfig,
    pub(crate) storage: Arc<dyn Storage>,
    /// By base offset; the last one is the active segment. Never empty while open.
    pub(crate) segments: BTreeMap<i64, Segment>,
    pub(crate) log_start_offset: i64,
    pub(crate) log_end_offset: i64,
    recovery_point: Arc<Mutex<RecoveryPoint>>,
    unflushed_messages: u64,
    pub(crate) producers: ProducerStateManager,
    /// Segments `open` scanned and CRC-checked (or whose indexes it rebuilt): 0 after a clean
    /// shutdown with intact indexes. Reported in the broker's startup line.
    recovered_segments: usize,
    closed: bool,
    // ---- log compaction (compaction.rs, cleaner/) ----
    /// Where the last clean ended (Kafka's cleaner checkpoint); clamped when read.
    pub(crate) first_dirty_offset: i64,
    /// The abort flag of the planned clean, shared with its job.
    pub(crate) cleaning: Option<Arc<std::sync::atomic::AtomicBool>>,
    /// Set when a segment swap failed half-way: the log refuses every call until reopened.
    pub(crate) offline: Option<String>,
}

impl Log {
    fn add_segment(&mut self, base_offset: i64, now_ms: i64) -> Result<()> {
        let segment =
            Segment::create(&*self.storage, &self.dir, base_offset, &self.config, now_ms)?;
        self.segments.insert(base_offset, segment);
        Ok(())
    }

    pub(crate) fn ensure_open(&self) -> Result<()> {
        if self.closed {
            return Err(Error::LogClosed {
                dir: self.dir.clone(),
            });
        }
        if let Some(reason) = &self.offline {
            return Err(Error::Storage {
                op: "use a log taken offline by a failed segment swap (reopen it)",
                path: self.dir.clone(),
                source: std::io::Error::other(reason.clone()),
            });
        }
        Ok(())
    }

    fn active(&self) -> &Segment {
        self.segments
            .values()
            .next_back()
            .expect("an open log has an active segment")
    }

    fn active_mut(&mut self) -> &mut Segment {
        self.segments
            .values_mut()
            .next_back()
            .expect("an open log has an active segment")
    }

    fn active_base(&self) -> &i64 {
        self.segments
            .keys()
            .next_back()
            .expect("an open log has an active segment")
    }

    /// Removes every batch that holds an offset >= `offset`. The cut is at a batch boundary: when
    /// `offset` falls inside a batch, that whole batch goes and the new log end is its base
    /// offset. Below the first segment, the log is emptied and restarts at `offset`.
    pub fn truncate_to(&mut self, offset: i64) -> Result<()> {
        self.ensure_open()?;
        if offset < 0 {
            return Err(Error::InvalidArgument {
                name: "offset",
                reason: format!("cannot truncate to {offset}"),
            });
        }
        if offset >= self.log_end_offset {
            return Ok(());
        }
        // A running clean read segments this may cut; its outcome is applied as nothing.
        self.abort_clean();
        self.first_dirty_offset = self.first_dirty_offset.min(offset);
        let storage = self.storage.clone();
        let config = self.config.clone();
        let first_base = *self.segments.keys().next().expect("a segment exists");
        if offset < first_base {
            for (_, segment) in std::mem::take(&mut self.segments) {
                segment.delete(&*storage)?;
            }
            self.add_segment(offset, wall_clock_ms())?;
            self.log_end_offset = offset;
            self.log_start_offset = offset;
        } else {
            while let Some(entry) = self.segments.last_entry() {
                if *entry.key() <= offset {
                    break;
                }
                entry.remove().delete(&*storage)?;
            }
            let active = self.active_mut();
            let next_offset = active.truncate_from(&*storage, &config, offset)?;
            active.activate(&*storage, &config)?;
            self.log_end_offset = next_offset;
            self.log_start_offset = self.log_start_offset.min(next_offset);
        }
        {
            let mut point = lock(&self.recovery_point);
            point.offset = point.offset.min(self.log_end_offset);
            point.epoch += 1;
        }
        // Kafka reloads producer state after a truncation: the snapshots past the new end go,
        // the latest one left is loaded and the batches after it replayed.
        self.producers.rebuild(
            &*storage,
            &mut self.segments,
            self.log_start_offset,
            self.log_end_offset,
            wall_clock_ms(),
            config.producer_id_expiration_ms,
        )?;
        Ok(())
    }

    /// Replaces the config. Segment size, index size and append mode apply to the active segment
    /// at once (it is re-activated); everything else applies from the next call.
    pub fn update_config(&mut self, config: LogConfig) -> Result<()> {
        self.ensure_open()?;
        config.validate()?;
        let reactivate = config.append_mode != self.config.append_mode
            || config.segment_bytes != self.config.segment_bytes
            || config.segment_index_bytes != self.config.segment_index_bytes;
        self.config = config;
        if reactivate {
            let storage = self.storage.clone();
            let config = self.config.clone();
            let active = self.active_mut();
            active.seal(&*storage)?;
            active.activate(&*storage, &config)?;
        }
        Ok(())
    }

    /// Seals the active segment (final time index entry, preallocated tail cut, indexes trimmed),
    /// flushes, and releases every file. Later calls fail with LOG_CLOSED, except `close` again.
    pub fn close(&mut self) -> Result<()> {
        if self.closed {
            return Ok(());
        }
        self.abort_clean();
        let result = self.seal_and_flush();
        self.closed = true;
        self.segments.clear();
        result
    }

    /// Close's work: the active segment sealed, a producer snapshot at the log end, then one
    /// flush that also syncs the snapshot.
    fn seal_and_flush(&mut self) -> Result<()> {
        let storage = self.storage.clone();
        self.active_mut().seal(&*storage)?;
        self.producers.take_snapshot(self.log_end_offset)?;
        self.prune_snapshots()?;
        self.flush()
    }

    /// Closes without flushing and removes the partition directory.
    pub fn delete(&mut self) -> Result<()> {
        self.abort_clean();
        self.closed = true;
        self.segments.clear();
        std::fs::remove_dir_all(&self.dir)
            .map_err(|e| Error::from_io("delete log dir", &self.dir, e))
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn config(&self) -> &LogConfig {
        &self.config
    }

    pub fn log_start_offset(&self) -> i64 {
        self.log_start_offset
    }

    pub fn log_end_offset(&self) -> i64 {
        self.log_end_offset
    }

    /// Bytes of all segments (0 once closed).
    pub fn size_bytes(&self) -> u64 {
        self.segments.values().map(Segment::size).sum()
    }

    pub fn segment_count(&self) -> usize {
        self.segments.len()
    }

    /// Base offsets of the segments, oldest first.
    pub fn segment_base_offsets(&self) -> Vec<i64> {
        self.segments.keys().copied().collect()
    }

    /// Every offset below this has been fdatasync'd.
    pub fn recovery_point(&self) -> i64 {
        lock(&self.recovery_point).offset.min(self.log_end_offset)
    }

    /// Restores where the last clean ended (Kafka's `cleaner-offset-checkpoint`, read by the
    /// broker at startup); without it the first clean starts at the log start.
    pub fn set_first_dirty_offset(&mut self, offset: i64) {
        self.first_dirty_offset = offset;
    }

    pub fn is_closed(&self) -> bool {
        self.closed
    }

    /// The idempotent producers' state (epochs and last batches per producer id).
    pub fn producer_state(&self) -> &ProducerState {
        self.producers.state()
    }

    /// Offsets of the producer snapshot files in the partition directory, oldest first.
    pub fn producer_snapshot_offsets(&self) -> Vec<i64> {
        self.producers.snapshot_offsets()
    }

    pub fn stats(&self) -> LogStats {
        LogStats {
            log_start_offset: self.log_start_offset,
            log_end_offset: self.log_end_offset,
            size_bytes: self.size_bytes(),
            segment_count: self.segment_count(),
            recovery_point: self.recovery_point(),
        }
    }
}
