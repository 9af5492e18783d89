//! `Log`: one partition's log — a directory of segments (see `segment.rs`) with Kafka's
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
//! producer state (`producer_state.rs`) before anything is written, and answers a retried
//! duplicate with the original offsets without writing it. The state is snapshotted
//! (`producer_snapshot.rs`) at roll and close; `open` loads the latest snapshot at or below the
//! recovery point (the log end after a clean shutdown) and replays the batch headers after it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use crate::batch;
use crate::config::{LogConfig, TimestampType};
use crate::error::{Error, Result};
use crate::file_range::FileRange;
use crate::flush_stats;
use crate::producer_state::{AppendCheck, BatchMetadata, ProducerState, ProducerStateManager};
use crate::segment::{self, MAX_RELATIVE_OFFSET, Segment, SyncTarget};
use crate::storage::{OsStorage, Storage};

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

/// The recovery point, shared with flush jobs running on other threads. `epoch` changes when the
/// log is truncated, so a job that started before a truncation cannot raise the recovery point
/// over bytes it never synced.
#[derive(Debug, Default)]
struct RecoveryPoint {
    offset: i64,
    epoch: u64,
}

/// fdatasync of every file holding data past the recovery point, then the directory; on
/// success the recovery point becomes the log end offset at the time the job was made.
/// Concurrency contract: `Send`; runs on any thread while the log keeps appending.
#[derive(Debug)]
pub struct FlushJob {
    storage: Arc<dyn Storage>,
    dir: PathBuf,
    targets: Vec<SyncTarget>,
    flushed_offset: i64,
    epoch: u64,
    recovery_point: Arc<Mutex<RecoveryPoint>>,
}

impl FlushJob {
    /// Runs the fdatasyncs; returns the offset everything below which is now durable. Each run
    /// is counted and timed in `flush_stats`.
    pub fn run(self) -> Result<i64> {
        let started = Instant::now();
        let result = self.sync();
        flush_stats::record_flush(started.elapsed(), result.is_ok());
        result
    }

    fn sync(self) -> Result<i64> {
        for target in &self.targets {
            self.storage
                .sync_data(&target.file, target.durable_len)
                .map_err(|e| Error::from_io("fdatasync", &target.path, e))?;
        }
        self.storage
            .sync_dir(&self.dir)
            .map_err(|e| Error::from_io("fsync dir", &self.dir, e))?;
        let mut point = lock(&self.recovery_point);
        if point.epoch == self.epoch && point.offset < self.flushed_offset {
            point.offset = self.flushed_offset;
        }
        Ok(self.flushed_offset)
    }
}

fn lock(point: &Mutex<RecoveryPoint>) -> std::sync::MutexGuard<'_, RecoveryPoint> {
    point
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
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
    // ---- log compaction (cleaner.rs) ----
    /// Where the last clean ended (Kafka's cleaner checkpoint); clamped when read.
    pub(crate) first_dirty_offset: i64,
    /// The abort flag of the planned clean, shared with its job.
    pub(crate) cleaning: Option<Arc<std::sync::atomic::AtomicBool>>,
    /// Set when a segment swap failed half-way: the log refuses every call until reopened.
    pub(crate) offline: Option<String>,
}

impl Log {
    /// Opens (creating if needed) the partition log in `dir`, recovering it as `options` say.
    pub fn open(dir: impl AsRef<Path>, config: LogConfig, options: OpenOptions) -> Result<Log> {
        Log::open_with_storage(dir, config, options, Arc::new(OsStorage))
    }

    /// `open` over a given `Storage` (tests inject faults through it).
    pub fn open_with_storage(
        dir: impl AsRef<Path>,
        config: LogConfig,
        options: OpenOptions,
        storage: Arc<dyn Storage>,
    ) -> Result<Log> {
        config.validate()?;
        if options.recovery_point < 0 || options.log_start_offset < 0 {
            return Err(Error::InvalidArgument {
                name: "OpenOptions",
                reason: format!(
                    "negative recovery point {} or log start {}",
                    options.recovery_point, options.log_start_offset
                ),
            });
        }
        let dir = dir.as_ref().to_path_buf();
        std::fs::create_dir_all(&dir).map_err(|e| Error::from_io("create log dir", &dir, e))?;
        let now = wall_clock_ms();
        // A crash during a segment swap left .cleaned or .swap files: roll back or finish first.
        crate::cleaner::swap::recover(&*storage, &dir)?;
        let bases = scan_dir(&*storage, &dir)?;
        let recover_from = if options.clean_shutdown {
            None
        } else {
            bases
                .iter()
                .rev()
                .find(|&&b| b <= options.recovery_point)
                .or(bases.first())
                .copied()
        };

        let mut segments: BTreeMap<i64, Segment> = BTreeMap::new();
        let mut recovered: Vec<i64> = Vec::new();
        for (i, &base) in bases.iter().enumerate() {
            if let Some((_, previous)) = segments.last_key_value() {
                if base < previous.next_offset() {
                    return Err(Error::CorruptSegment {
                        path: dir.join(segment::file_name(base, segment::LOG_SUFFIX)),
                        position: 0,
                        reason: format!(
                            "segment starts at {base}, inside the previous one (which ends at {})",
                            previous.next_offset()
                        ),
                    });
                }
                if base > previous.next_offset() {
                    // Segments are contiguous (each starts at the log end when it is rolled), so
                    // a gap means the previous segment lost its tail (a power loss took unsynced
                    // bytes): this segment and the rest were written after data that is gone.
                    for &later in &bases[i..] {
                        delete_segment_files(&*storage, &dir, later)?;
                    }
                    break;
                }
            }
            let recover = recover_from.is_some_and(|from| base >= from);
            let (segment, truncated) = Segment::load(&*storage, &dir, base, &config, recover, now)?;
            if recover || truncated > 0 {
                recovered.push(base);
            }
            segments.insert(base, segment);
            if truncated > 0 && i + 1 < bases.len() {
                // Invalid bytes inside a segment that is not the last: what follows was written
                // after bytes that never made it, so it goes too (Kafka does the same).
                for &later in &bases[i + 1..] {
                    delete_segment_files(&*storage, &dir, later)?;
                }
                break;
            }
        }

        let producers = ProducerStateManager::open(&dir)?;
        let mut log = Log {
            dir,
            config,
            storage,
            segments,
            log_start_offset: 0,
            log_end_offset: 0,
            recovery_point: Arc::new(Mutex::new(RecoveryPoint::default())),
            unflushed_messages: 0,
            producers,
            recovered_segments: 0,
            closed: false,
            first_dirty_offset: 0,
            cleaning: None,
            offline: None,
        };
        if log.segments.is_empty() {
            log.add_segment(options.log_start_offset, now)?;
        }
        let first_base = *log.segments.keys().next().expect("a segment exists");
        log.log_end_offset = log.active().next_offset();
        log.log_start_offset = options.log_start_offset.max(first_base);
        if log.log_start_offset > log.log_end_offset {
            // The checkpointed start is past everything on disk (the data was lost with writes
            // that were never synced): start over empty at it, as Kafka does.
            let start = log.log_start_offset;
            for (_, segment) in std::mem::take(&mut log.segments) {
                segment.delete(&*log.storage)?;
            }
            recovered.clear();
            log.add_segment(start, now)?;
            log.log_end_offset = start;
        }
        let storage = log.storage.clone();
        let config = log.config.clone();
        if !log.active().is_active() {
            log.active_mut().activate(&*storage, &config)?;
        }
        // Snapshots above the recovery point may describe batches an unclean stop lost.
        let snapshot_bound = if options.clean_shutdown {
            log.log_end_offset
        } else {
            options.recovery_point.min(log.log_end_offset)
        };
        let rebuilt = log.producers.rebuild(
            &*storage,
            &log.segments,
            log.log_start_offset,
            snapshot_bound,
            now,
            config.producer_id_expiration_ms,
        )?;
        if rebuilt.scanned_from < log.log_end_offset {
            // Kafka snapshots the rebuilt state too, so the next restart scans from here.
            log.producers.take_snapshot(log.log_end_offset)?;
        }
        if !recovered.is_empty() {
            let mut targets: Vec<SyncTarget> = recovered
                .iter()
                .filter_map(|b| log.segments.get(b))
                .flat_map(|s| s.sync_targets())
                .collect();
            targets.extend(log.producers.take_unsynced());
            log.job_for(targets).run()?;
        }
        lock(&log.recovery_point).offset = log.log_end_offset;
        log.recovered_segments = recovered.len();
        Ok(log)
    }

    /// Segments the last `open` scanned and CRC-checked or re-indexed (0 after a clean shutdown).
    pub fn recovered_segments(&self) -> usize {
        self.recovered_segments
    }

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

    /// Validates and appends one or more RecordBatch v2 batches, assigning offsets from the log
    /// end. Rewrites `records` in place: baseOffset and partitionLeaderEpoch of every batch, and
    /// under LogAppendTime the timestamp type, maxTimestamp and CRC. On a validation error
    /// nothing is changed or written and the error names the batch.
    pub fn append(
        &mut self,
        records: &mut [u8],
        now_ms: i64,
        leader_epoch: i32,
    ) -> Result<AppendResult> {
        self.ensure_open()?;
        let summary = batch::validate_append(records, self.config.max_message_bytes)?;
        if summary.bytes > self.config.segment_bytes {
            return Err(Error::RecordListTooLarge {
                size: summary.bytes,
                segment_bytes: self.config.segment_bytes,
            });
        }
        if self.config.cleanup_policy.compact {
            // Kafka's LogValidator: a compacted topic refuses records without a key.
            crate::cleaner::check_compacted_append(records)?;
        }
        let base_offset = self.log_end_offset;
        let span = summary.records - 1;
        let last_offset = match base_offset.checked_add(span) {
            Some(last) if span <= MAX_RELATIVE_OFFSET && last < i64::MAX => last,
            _ => {
                return Err(Error::InvalidRecord {
                    batch: 0,
                    position: 0,
                    reason: format!(
                        "the append claims {} records, more offsets than a segment can index",
                        summary.records
                    ),
                });
            }
        };
        let log_append_time =
            (self.config.message_timestamp_type == TimestampType::LogAppendTime).then_some(now_ms);
        let producer_entries =
            match self
                .producers
                .check_append(records, base_offset, log_append_time)?
            {
                AppendCheck::Accept(entries) => entries,
                AppendCheck::Duplicate(original) => return Ok(self.duplicate_result(original)),
            };
        let max_timestamp = log_append_time.unwrap_or(summary.max_timestamp);
        let rolled = self.maybe_roll(summary.bytes, max_timestamp, last_offset, now_ms)?;

        let storage = self.storage.clone();
        let step = self.config.preallocate_step();
        let interval = self.config.index_interval_bytes;
        let active = self.active_mut();
        active.reserve(&*storage, summary.bytes, step)?;
        batch::assign_offsets(records, base_offset, leader_epoch, log_append_time);
        active.append(&*storage, records, max_timestamp, interval)?;
        self.log_end_offset = last_offset + 1;
        self.producers.apply(producer_entries);

        self.unflushed_messages += summary.records as u64;
        if self.unflushed_messages >= self.config.flush_interval_messages {
            self.flush()?;
        }
        Ok(AppendResult {
            base_offset,
            last_offset,
            log_append_time: log_append_time.unwrap_or(-1),
            max_timestamp,
            record_count: summary.records,
            log_start_offset: self.log_start_offset,
            rolled,
            duplicate: false,
        })
    }

    /// The answer to a retried batch: the original batch's offsets. Kafka (UnifiedLog.append)
    /// also reports the original batch's timestamp as the log append time, whatever the topic's
    /// timestamp type.
    fn duplicate_result(&self, original: BatchMetadata) -> AppendResult {
        AppendResult {
            base_offset: original.first_offset,
            last_offset: original.last_offset,
            log_append_time: original.max_timestamp,
            max_timestamp: original.max_timestamp,
            record_count: original.last_offset - original.first_offset + 1,
            log_start_offset: self.log_start_offset,
            rolled: false,
            duplicate: true,
        }
    }

    /// Kafka's roll rules, checked before an append of `bytes` ending at `last_offset`.
    fn maybe_roll(
        &mut self,
        bytes: u64,
        max_timestamp_in_messages: i64,
        last_offset: i64,
        now_ms: i64,
    ) -> Result<bool> {
        let active = self.active();
        let time_waited = match active.rolling_timestamp() {
            Some(first) if first >= 0 => max_timestamp_in_messages - first,
            _ => now_ms - active.created_ms(),
        };
        let should_roll = active.size() + bytes > self.config.segment_bytes
            || active.size() + bytes > active.capacity()
            || (active.size() > 0 && time_waited > self.config.segment_ms)
            || active.offset_index_full()
            || active.time_index_full()
            || last_offset - active.base_offset() > MAX_RELATIVE_OFFSET;
        if should_roll {
            self.roll(now_ms)?;
        }
        Ok(should_roll)
    }

    /// Starts a new active segment at the log end. An empty active segment is re-activated
    /// instead (picking up the current config), since its base offset already is the log end.
    pub fn roll(&mut self, now_ms: i64) -> Result<()> {
        self.ensure_open()?;
        let storage = self.storage.clone();
        let config = self.config.clone();
        if self.active().size() == 0 {
            let active = self.active_mut();
            active.seal(&*storage)?;
            return active.activate(&*storage, &config);
        }
        let old_base = self.active().base_offset();
        // Create first: if that fails (ENOSPC, EMFILE) the old segment is still the active one.
        self.add_segment(self.log_end_offset, now_ms)?;
        self.segments
            .get_mut(&old_base)
            .expect("old active segment")
            .seal(&*storage)?;
        // Kafka snapshots producer state at the new segment's base: recovering that segment
        // then starts from the snapshot. Synced by the next flush job, not here.
        self.producers.take_snapshot(self.log_end_offset)?;
        self.prune_snapshots()
    }

    /// Deletes the producer snapshots recovery cannot need: Kafka keeps those from the segment
    /// holding the recovery point and from the last two segments on
    /// (`UnifiedLog.minSnapshotsOffsetToRetain`); below the log start none is usable.
    fn prune_snapshots(&mut self) -> Result<()> {
        let recovery_point = self.recovery_point();
        let recovery_segment = self
            .segments
            .range(..=recovery_point)
            .next_back()
            .map_or(recovery_point, |(base, _)| *base);
        let last_two = self
            .segments
            .keys()
            .nth_back(1)
            .unwrap_or_else(|| self.active_base());
        let keep_from = recovery_segment.min(*last_two).max(self.log_start_offset);
        self.producers.delete_snapshots_below(keep_from)
    }

    fn active_base(&self) -> &i64 {
        self.segments
            .keys()
            .next_back()
            .expect("an open log has an active segment")
    }

    /// `read_up_to` with no upper bound but the log end.
    pub fn read(
        &self,
        offset: i64,
        max_bytes: u64,
        min_one_batch: bool,
    ) -> Result<Option<ReadResult>> {
        self.read_up_to(offset, max_bytes, min_one_batch, i64::MAX)
    }

    /// Resolves `offset` to a range of whole batches of one segment, starting with the batch
    /// that contains it (or, when that one is a batch the cleaner left empty, with the first
    /// batch after it that has records), at most `max_bytes` long, except that with
    /// `min_one_batch` the first batch is returned whole whatever its size (KIP-74). Batches at
    /// or past `max_offset` (the high watermark or last stable offset) are left out. None when
    /// there is nothing at `offset` yet; OFFSET_OUT_OF_RANGE outside [log start, log end].
    pub fn read_up_to(
        &self,
        offset: i64,
        max_bytes: u64,
        min_one_batch: bool,
        max_offset: i64,
    ) -> Result<Option<ReadResult>> {
        self.ensure_open()?;
        if offset < self.log_start_offset || offset > self.log_end_offset {
            return Err(self.out_of_range(offset));
        }
        let upper = max_offset.min(self.log_end_offset);
        if offset >= upper {
            return Ok(None);
        }
        let storage = &*self.storage;
        let start_base = self
            .segments
            .range(..=offset)
            .next_back()
            .map_or(i64::MIN, |(b, _)| *b);
        'segments: for segment in self.segments.range(start_base..).map(|(_, s)| s) {
            let Some((mut position, mut header)) = segment.find_batch(storage, offset)? else {
                continue; // the offset lies past this segment's last batch: try the next one
            };
            // Batches the cleaner left empty (no records, kept for their offsets or producer)
            // are not handed out first: a response of nothing but empty batches makes some
            // clients (kafkajs) fetch the same offset forever.
            while header.records_count == 0 {
                position += header.size();
                if position >= segment.size() {
                    continue 'segments;
                }
                header = segment.read_header(storage, position)?;
            }
            if header.base_offset >= upper {
                return Ok(None);
            }
            let end_limit = if upper >= segment.next_offset() {
                segment.size()
            } else {
                segment
                    .find_batch(storage, upper)?
                    .map_or(segment.size(), |(p, _)| p)
            };
            if position >= end_limit {
                return Ok(None);
            }
            let first_end = position + header.size();
            let limit = position.saturating_add(max_bytes).min(end_limit);
            let end = if first_end <= limit {
                segment.last_boundary(storage, first_end, limit)?
            } else if min_one_batch {
                first_end
            } else {
                position
            };
            return Ok(Some(ReadResult {
                range: segment.range(position, end - position),
                first_offset: header.base_offset,
            }));
        }
        Ok(None)
    }

    fn out_of_range(&self, offset: i64) -> Error {
        Error::OffsetOutOfRange {
            offset,
            log_start: self.log_start_offset,
            log_end: self.log_end_offset,
        }
    }

    /// ListOffsets by timestamp: the first record at or after the log start whose timestamp is
    /// >= `timestamp`, or None if there is none (Kafka answers offset -1 then).
    pub fn offset_for_timestamp(&self, timestamp: i64) -> Result<Option<TimestampAndOffset>> {
        self.ensure_open()?;
        let storage = &*self.storage;
        for segment in self.segments.values() {
            if segment.next_offset() <= self.log_start_offset || segment.max_timestamp() < timestamp
            {
                continue;
            }
            if let Some(stamp) =
                segment.find_offset_by_timestamp(storage, timestamp, self.log_start_offset)?
            {
                return Ok(Some(TimestampAndOffset {
                    timestamp: stamp.timestamp,
                    offset: stamp.offset,
                }));
            }
        }
        Ok(None)
    }

    /// ListOffsets MAX_TIMESTAMP (-3): the record with the largest timestamp (the first one on a
    /// tie), or None when no batch carries a timestamp.
    pub fn max_timestamp(&self) -> Result<Option<TimestampAndOffset>> {
        self.ensure_open()?;
        let mut best: Option<&Segment> = None;
        for segment in self.segments.values() {
            if segment.max_timestamp() >= 0
                && best.is_none_or(|b| segment.max_timestamp() > b.max_timestamp())
            {
                best = Some(segment);
            }
        }
        let Some(segment) = best else {
            return Ok(None);
        };
        let stamp = segment.max_timestamp_record(&*self.storage)?;
        Ok(stamp.map(|s| TimestampAndOffset {
            timestamp: s.timestamp,
            offset: s.offset,
        }))
    }

    /// DeleteRecords: moves the log start offset up to `offset` (never down) and deletes the
    /// segments wholly below it. Returns the new log start offset (the low watermark).
    pub fn delete_records_before(&mut self, offset: i64) -> Result<i64> {
        self.ensure_open()?;
        if offset < 0 || offset > self.log_end_offset {
            return Err(self.out_of_range(offset));
        }
        if offset > self.log_start_offset {
            self.log_start_offset = offset;
        }
        self.delete_log_start_breached_segments()?;
        self.prune_snapshots()?;
        Ok(self.log_start_offset)
    }

    /// Kafka's retention pass: segments past `retention.ms` (by largest timestamp), then the
    /// oldest while the log minus that segment is still >= `retention.bytes`, then those wholly
    /// below the log start offset. Oldest first, stopping at the first segment to keep; if every
    /// segment goes, a new empty active segment is rolled first. Returns the segments deleted.
    /// Without `delete` in `cleanup.policy` (a compacted topic) only the last rule applies.
    /// Also expires idle producers (`producer.id.expiration.ms`; Kafka runs that check on its
    /// own timer) and prunes producer snapshots.
    pub fn enforce_retention(&mut self, now_ms: i64) -> Result<usize> {
        self.ensure_open()?;
        let mut deleted = 0;
        if self.config.cleanup_policy.delete {
            let retention_ms = self.config.retention_ms;
            if retention_ms >= 0 {
                let mut expired = Vec::new();
                for segment in self.segments.values() {
                    if now_ms - segment.largest_timestamp()? > retention_ms {
                        expired.push(segment.base_offset());
                    } else {
                        break;
                    }
                }
                deleted += self.delete_oldest(expired.len(), now_ms)?;
            }
            let retention_bytes = self.config.retention_bytes;
            let size = self.size_bytes();
            if retention_bytes >= 0 && size >= retention_bytes as u64 {
                let mut excess = size - retention_bytes as u64;
                let mut count = 0;
                for segment in self.segments.values() {
                    if excess < segment.size() {
                        break;
                    }
                    excess -= segment.size();
                    count += 1;
                }
                deleted += self.delete_oldest(count, now_ms)?;
            }
        }
        deleted += self.delete_log_start_breached_segments()?;
        self.producers
            .remove_expired(now_ms, self.config.producer_id_expiration_ms);
        self.prune_snapshots()?;
        Ok(deleted)
    }

    fn delete_log_start_breached_segments(&mut self) -> Result<usize> {
        let bases: Vec<i64> = self.segments.keys().copied().collect();
        let count = bases
            .windows(2)
            .take_while(|pair| pair[1] <= self.log_start_offset)
            .count();
        self.delete_oldest(count, wall_clock_ms())
    }

    /// Deletes the `count` oldest segments, never an empty active one; rolls first when all of
    /// them go. Moves the log start offset up to the new first segment.
    fn delete_oldest(&mut self, count: usize, now_ms: i64) -> Result<usize> {
        let mut count = count.min(self.segments.len());
        if count == self.segments.len() && self.active().size() == 0 {
            count -= 1;
        }
        if count == 0 {
            return Ok(0);
        }
        if count == self.segments.len() {
            self.roll(now_ms)?;
        }
        let storage = self.storage.clone();
        for _ in 0..count {
            let (_, segment) = self.segments.pop_first().expect("counted segments exist");
            segment.delete(&*storage)?;
        }
        let first_base = *self
            .segments
            .keys()
            .next()
            .expect("the active segment remains");
        self.log_start_offset = self.log_start_offset.max(first_base);
        Ok(count)
    }

    /// A flush of everything appended so far, to run here (`FlushJob::run`) or on another thread.
    pub fn flush_job(&mut self) -> Result<FlushJob> {
        self.ensure_open()?;
        let recovery_point = self.recovery_point();
        // From the segment holding the last flushed offset (recovery point - 1): when the
        // recovery point sits exactly on a segment boundary, that segment was sealed (trimmed,
        // indexes written) after the flush and its seal is not durable yet.
        let start_base = self
            .segments
            .range(..recovery_point)
            .next_back()
            .map_or(i64::MIN, |(b, _)| *b);
        let mut targets: Vec<SyncTarget> = self
            .segments
            .range(start_base..)
            .flat_map(|(_, s)| s.sync_targets())
            .collect();
        targets.extend(self.producers.take_unsynced());
        self.unflushed_messages = 0;
        Ok(self.job_for(targets))
    }

    fn job_for(&self, targets: Vec<SyncTarget>) -> FlushJob {
        FlushJob {
            storage: self.storage.clone(),
            dir: self.dir.clone(),
            targets,
            flushed_offset: self.log_end_offset,
            epoch: lock(&self.recovery_point).epoch,
            recovery_point: self.recovery_point.clone(),
        }
    }

    /// fdatasync of the log and index files past the recovery point, on this thread.
    pub fn flush(&mut self) -> Result<()> {
        self.flush_job()?.run().map(|_| ())
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
            &self.segments,
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

/// Lists the segment base offsets in `dir` (sorted), removing leftovers of interrupted
/// operations (`.deleted`, `.cleaned`, `.swap`, `.tmp` files, as Kafka does) and index files
/// whose log file is gone.
fn scan_dir(storage: &dyn Storage, dir: &Path) -> Result<Vec<i64>> {
    let mut logs = Vec::new();
    let mut indexes = Vec::new();
    let entries = std::fs::read_dir(dir).map_err(|e| Error::from_io("list log dir", dir, e))?;
    for entry in entries {
        let entry = entry.map_err(|e| Error::from_io("list log dir", dir, e))?;
        let Ok(name) = entry.file_name().into_string() else {
            continue;
        };
        if [".deleted", ".cleaned", ".swap", ".tmp"]
            .iter()
            .any(|s| name.ends_with(s))
        {
            storage
                .remove_file(&entry.path())
                .map_err(|e| Error::from_io("remove leftover file", entry.path(), e))?;
        } else if let Some(base) = segment::parse_file_name(&name, segment::LOG_SUFFIX) {
            logs.push(base);
        } else if let Some(base) = segment::parse_file_name(&name, segment::INDEX_SUFFIX)
            .or_else(|| segment::parse_file_name(&name, segment::TIME_INDEX_SUFFIX))
        {
            indexes.push((base, entry.path()));
        }
    }
    logs.sort_unstable();
    for (base, path) in indexes {
        if logs.binary_search(&base).is_err() {
            storage
                .remove_file(&path)
                .map_err(|e| Error::from_io("remove orphan index", &path, e))?;
        }
    }
    Ok(logs)
}

fn delete_segment_files(storage: &dyn Storage, dir: &Path, base: i64) -> Result<()> {
    for suffix in [
        segment::LOG_SUFFIX,
        segment::INDEX_SUFFIX,
        segment::TIME_INDEX_SUFFIX,
    ] {
        let path = dir.join(segment::file_name(base, suffix));
        match storage.remove_file(&path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(Error::from_io("delete segment file", path, e)),
        }
    }
    Ok(())
}
