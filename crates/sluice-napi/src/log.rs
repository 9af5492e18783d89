//! `NativePartitionLog`: the partition log (`sluice_log::Log`) for JavaScript, plus the log-dir
//! checkpoint and clean-shutdown helpers. Offsets, sizes and timestamps cross as JS numbers;
//! record sets as `Uint8Array`/`Buffer`; reads come back as a `NativeFileSlice` for the writer.
//!
//! Concurrency contract: a `NativePartitionLog` lives on the JS thread that made it; `flush()`
//! runs the fdatasyncs on the libuv pool (AsyncTask) while appends continue.

use std::path::Path;

use napi::bindgen_prelude::{AsyncTask, Buffer, BufferSlice, Env, Task};
use napi_derive::napi;
use sluice_log::checkpoint::{self, CheckpointEntry};
use sluice_log::flush_stats;
use sluice_log::{
    AppendMode, AppendResult, CleanupPolicy, FlushJob, Log, LogConfig, OpenOptions,
    TimestampAndOffset, TimestampType,
};

use crate::error::{ErrorCode, integer, native_error, rejection, unsigned};
use crate::file_slice::NativeFileSlice;
use crate::test_faults::{NativeTestFault, faulty_storage};

/// Partial log config (camelCase in JS); missing fields keep their default (`open`) or their
/// current value (`updateConfig`).
#[napi(object)]
pub struct NativeLogConfig {
    pub segment_bytes: Option<f64>,
    pub segment_ms: Option<f64>,
    pub segment_index_bytes: Option<f64>,
    pub index_interval_bytes: Option<f64>,
    pub max_message_bytes: Option<f64>,
    pub retention_ms: Option<f64>,
    pub retention_bytes: Option<f64>,
    /// 'mmap' | 'pwrite'
    pub append_mode: Option<String>,
    pub preallocate_step_bytes: Option<f64>,
    /// 'CreateTime' | 'LogAppendTime'
    pub message_timestamp_type: Option<String>,
    pub flush_interval_messages: Option<f64>,
    /// producer.id.expiration.ms
    pub producer_id_expiration_ms: Option<f64>,
    /// 'delete' | 'compact' | 'compact,delete'
    pub cleanup_policy: Option<String>,
    pub delete_retention_ms: Option<f64>,
    pub min_compaction_lag_ms: Option<f64>,
    pub min_cleanable_dirty_ratio: Option<f64>,
}

impl NativeLogConfig {
    fn apply_to(&self, mut config: LogConfig) -> napi::Result<LogConfig, ErrorCode> {
        if let Some(v) = self.segment_bytes {
            config.segment_bytes = unsigned("segmentBytes", v)?;
        }
        if let Some(v) = self.segment_ms {
            config.segment_ms = integer("segmentMs", v)?;
        }
        if let Some(v) = self.segment_index_bytes {
            config.segment_index_bytes = unsigned("segmentIndexBytes", v)?;
        }
        if let Some(v) = self.index_interval_bytes {
            config.index_interval_bytes = unsigned("indexIntervalBytes", v)?;
        }
        if let Some(v) = self.max_message_bytes {
            config.max_message_bytes = unsigned("maxMessageBytes", v)?;
        }
        if let Some(v) = self.retention_ms {
            config.retention_ms = integer("retentionMs", v)?;
        }
        if let Some(v) = self.retention_bytes {
            config.retention_bytes = integer("retentionBytes", v)?;
        }
        if let Some(v) = &self.append_mode {
            config.append_mode = AppendMode::parse(v).map_err(native_error)?;
        }
        if let Some(v) = self.preallocate_step_bytes {
            config.preallocate_step_bytes = unsigned("preallocateStepBytes", v)?;
        }
        if let Some(v) = &self.message_timestamp_type {
            config.message_timestamp_type = TimestampType::parse(v).map_err(native_error)?;
        }
        if let Some(v) = self.flush_interval_messages {
            config.flush_interval_messages = unsigned("flushIntervalMessages", v)?;
        }
        if let Some(v) = self.producer_id_expiration_ms {
            config.producer_id_expiration_ms = integer("producerIdExpirationMs", v)?;
        }
        if let Some(v) = &self.cleanup_policy {
            config.cleanup_policy = CleanupPolicy::parse(v).map_err(native_error)?;
        }
        if let Some(v) = self.delete_retention_ms {
            config.delete_retention_ms = integer("deleteRetentionMs", v)?;
        }
        if let Some(v) = self.min_compaction_lag_ms {
            config.min_compaction_lag_ms = integer("minCompactionLagMs", v)?;
        }
        if let Some(v) = self.min_cleanable_dirty_ratio {
            config.min_cleanable_dirty_ratio = v;
        }
        Ok(config)
    }
}

/// What the previous run left: clean shutdown marker, recovery point, log start offset; and,
/// for end-to-end tests only, storage faults to inject (see `test_faults.rs`).
#[napi(object)]
pub struct NativeOpenOptions {
    pub clean_shutdown: Option<bool>,
    pub recovery_point: Option<f64>,
    pub log_start_offset: Option<f64>,
    pub test_faults: Option<Vec<NativeTestFault>>,
    /// From `cleaner-offset-checkpoint`: where the last clean ended.
    pub first_dirty_offset: Option<f64>,
}

#[napi(object, object_from_js = false)]
pub struct NativeAppendResult {
    pub base_offset: f64,
    pub last_offset: f64,
    /// -1 under CreateTime.
    pub log_append_time: f64,
    pub max_timestamp: f64,
    pub record_count: f64,
    pub log_start_offset: f64,
    /// A new segment was rolled by this append.
    pub rolled: bool,
    /// A retried batch of an idempotent producer: nothing was written, the offsets are the
    /// original batch's.
    pub duplicate: bool,
}

impl From<AppendResult> for NativeAppendResult {
    fn from(r: AppendResult) -> Self {
        NativeAppendResult {
            base_offset: r.base_offset as f64,
            last_offset: r.last_offset as f64,
            log_append_time: r.log_append_time as f64,
            max_timestamp: r.max_timestamp as f64,
            record_count: r.record_count as f64,
            log_start_offset: r.log_start_offset as f64,
            rolled: r.rolled,
            duplicate: r.duplicate,
        }
    }
}

#[napi(object, object_from_js = false)]
pub struct NativeReadResult {
    /// Whole batches starting with the one containing the offset asked for.
    pub slice: NativeFileSlice,
    /// Base offset of the first batch in `slice`.
    pub first_offset: f64,
}

#[napi(object, object_from_js = false)]
pub struct NativeTimestampAndOffset {
    pub timestamp: f64,
    pub offset: f64,
}

impl From<TimestampAndOffset> for NativeTimestampAndOffset {
    fn from(t: TimestampAndOffset) -> Self {
        NativeTimestampAndOffset {
            timestamp: t.timestamp as f64,
            offset: t.offset as f64,
        }
    }
}

#[napi]
pub struct NativePartitionLog {
    pub(crate) log: Log,
}

#[napi]
impl NativePartitionLog {
    /// Opens (creating if needed) the partition directory `dir`, recovering as `options` say.
    #[napi(factory)]
    pub fn open(
        dir: String,
        config: Option<NativeLogConfig>,
        options: Option<NativeOpenOptions>,
    ) -> napi::Result<Self, ErrorCode> {
        let config = match config {
            Some(c) => c.apply_to(LogConfig::default())?,
            None => LogConfig::default(),
        };
        let first_dirty_offset = options
            .as_ref()
            .and_then(|o| o.first_dirty_offset)
            .map(|v| integer("firstDirtyOffset", v))
            .transpose()?;
        let faults = options.as_ref().and_then(|o| o.test_faults.as_deref());
        let storage = match faults {
            Some(faults) if !faults.is_empty() => Some(faulty_storage(faults)?),
            _ => None,
        };
        let options = match &options {
            Some(o) => OpenOptions {
                clean_shutdown: o.clean_shutdown.unwrap_or(false),
                recovery_point: integer("recoveryPoint", o.recovery_point.unwrap_or(0.0))?,
                log_start_offset: integer("logStartOffset", o.log_start_offset.unwrap_or(0.0))?,
            },
            None => OpenOptions::default(),
        };
        let mut log = match storage {
            Some(storage) => Log::open_with_storage(dir, config, options, storage),
            None => Log::open(dir, config, options),
        }
        .map_err(native_error)?;
        if let Some(offset) = first_dirty_offset {
            log.set_first_dirty_offset(offset);
        }
        Ok(NativePartitionLog { log })
    }

    /// Validates and appends the batches in `records`, rewriting their offsets in place.
    #[napi]
    pub fn append(
        &mut self,
        mut records: BufferSlice<'_>,
        now_ms: f64,
        leader_epoch: Option<i32>,
    ) -> napi::Result<NativeAppendResult, ErrorCode> {
        let now = integer("nowMs", now_ms)?;
        let r = self
            .log
            .append(&mut records, now, leader_epoch.unwrap_or(0))
            .map_err(native_error)?;
        Ok(r.into())
    }

    /// Appends a leader's batches unchanged at their own offsets (a follower; gaps allowed,
    /// offsets increasing from the log end).
    #[napi]
    pub fn append_as_follower(
        &mut self,
        records: BufferSlice<'_>,
        now_ms: f64,
    ) -> napi::Result<NativeAppendResult, ErrorCode> {
        let now = integer("nowMs", now_ms)?;
        let r = self
            .log
            .append_as_follower(&records, now)
            .map_err(native_error)?;
        Ok(r.into())
    }

    /// Whole batches from the one containing `offset`, up to `maxBytes` (the first batch whole
    /// when `minOneBatch`), stopping before `maxOffset` if given. Null at the log end.
    #[napi]
    pub fn read(
        &self,
        offset: f64,
        max_bytes: f64,
        min_one_batch: bool,
        max_offset: Option<f64>,
    ) -> napi::Result<Option<NativeReadResult>, ErrorCode> {
        let offset = integer("offset", offset)?;
        let max_bytes = unsigned("maxBytes", max_bytes)?;
        let max_offset = max_offset
            .map(|m| integer("maxOffset", m))
            .transpose()?
            .unwrap_or(i64::MAX);
        let read = self
            .log
            .read_up_to(offset, max_bytes, min_one_batch, max_offset)
            .map_err(native_error)?;
        Ok(read.map(|r| NativeReadResult {
            slice: NativeFileSlice::new(r.range),
            first_offset: r.first_offset as f64,
        }))
    }

    /// The bytes of whole batches from the one containing `offset` (at least one batch, up to
    /// `maxBytes` otherwise); null at the log end. For replaying internal logs, not for fetches.
    #[napi]
    pub fn read_bytes(
        &self,
        offset: f64,
        max_bytes: f64,
    ) -> napi::Result<Option<Buffer>, ErrorCode> {
        let offset = integer("offset", offset)?;
        let max_bytes = unsigned("maxBytes", max_bytes)?;
        let Some(read) = self
            .log
            .read(offset, max_bytes, true)
            .map_err(native_error)?
        else {
            return Ok(None);
        };
        let bytes = read.range.read_to_vec().map_err(|source| {
            native_error(sluice_log::Error::from_io("read", self.log.dir(), source))
        })?;
        Ok(Some(bytes.into()))
    }

    /// First record at or after the log start with timestamp >= `timestamp`; null if none.
    #[napi]
    pub fn offset_for_timestamp(
        &self,
        timestamp: f64,
    ) -> napi::Result<Option<NativeTimestampAndOffset>, ErrorCode> {
        let timestamp = integer("timestamp", timestamp)?;
        Ok(self
            .log
            .offset_for_timestamp(timestamp)
            .map_err(native_error)?
            .map(Into::into))
    }

    /// The record with the largest timestamp (ListOffsets -3); null when none has one.
    #[napi]
    pub fn max_timestamp(&self) -> napi::Result<Option<NativeTimestampAndOffset>, ErrorCode> {
        Ok(self
            .log
            .max_timestamp()
            .map_err(native_error)?
            .map(Into::into))
    }

    /// Moves the log start offset up to `offset`; returns the new log start offset.
    #[napi]
    pub fn delete_records_before(&mut self, offset: f64) -> napi::Result<f64, ErrorCode> {
        let offset = integer("offset", offset)?;
        Ok(self
            .log
            .delete_records_before(offset)
            .map_err(native_error)? as f64)
    }

    /// Applies retention.ms / retention.bytes; returns how many segments were deleted.
    #[napi]
    pub fn enforce_retention(&mut self, now_ms: f64) -> napi::Result<u32, ErrorCode> {
        let now = integer("nowMs", now_ms)?;
        let deleted = self.log.enforce_retention(now).map_err(native_error)?;
        Ok(u32::try_from(deleted).unwrap_or(u32::MAX))
    }

    /// A flush of everything appended so far, to `run()` off the JS thread. Not a method that
    /// returns the promise itself: napi-rs keeps a method's `self` borrowed until an AsyncTask
    /// it returned settles, so appends would be refused while the fdatasync runs.
    #[napi]
    pub fn flush_job(&mut self) -> napi::Result<NativeFlushJob, ErrorCode> {
        let job = self.log.flush_job().map_err(native_error)?;
        Ok(NativeFlushJob { job: Some(job) })
    }

    /// Removes every batch holding an offset >= `offset` (cut at a batch boundary).
    #[napi]
    pub fn truncate_to(&mut self, offset: f64) -> napi::Result<(), ErrorCode> {
        let offset = integer("offset", offset)?;
        self.log.truncate_to(offset).map_err(native_error)
    }

    /// Starts a new segment at the log end.
    #[napi]
    pub fn roll(&mut self, now_ms: f64) -> napi::Result<(), ErrorCode> {
        let now = integer("nowMs", now_ms)?;
        self.log.roll(now).map_err(native_error)
    }

    /// Changes the given settings, keeping the others.
    #[napi]
    pub fn update_config(&mut self, config: NativeLogConfig) -> napi::Result<(), ErrorCode> {
        let config = config.apply_to(self.log.config().clone())?;
        self.log.update_config(config).map_err(native_error)
    }

    /// Seals the active segment, flushes and releases the files. Idempotent.
    #[napi]
    pub fn close(&mut self) -> napi::Result<(), ErrorCode> {
        self.log.close().map_err(native_error)
    }

    /// Closes without flushing and removes the partition directory.
    #[napi]
    pub fn delete(&mut self) -> napi::Result<(), ErrorCode> {
        self.log.delete().map_err(native_error)
    }

    #[napi(getter)]
    pub fn log_start_offset(&self) -> f64 {
        self.log.log_start_offset() as f64
    }

    #[napi(getter)]
    pub fn log_end_offset(&self) -> f64 {
        self.log.log_end_offset() as f64
    }

    #[napi(getter)]
    pub fn size_bytes(&self) -> f64 {
        self.log.size_bytes() as f64
    }

    #[napi(getter)]
    pub fn segment_count(&self) -> u32 {
        u32::try_from(self.log.segment_count()).unwrap_or(u32::MAX)
    }

    #[napi(getter)]
    pub fn recovery_point(&self) -> f64 {
        self.log.recovery_point() as f64
    }

    /// Segments `open` scanned and CRC-checked or re-indexed (0 after a clean shutdown).
    #[napi(getter)]
    pub fn recovered_segments(&self) -> u32 {
        u32::try_from(self.log.recovered_segments()).unwrap_or(u32::MAX)
    }
}

/// One flush made by `NativePartitionLog.flushJob()`, run once. Its own object, so the pending
/// run borrows it and not the log.
#[napi]
pub struct NativeFlushJob {
    job: Option<FlushJob>,
}

#[napi]
impl NativeFlushJob {
    /// fdatasync of what the job covers on the libuv pool; resolves when durable. Once only.
    #[napi(ts_return_type = "Promise<void>")]
    pub fn run(&mut self) -> napi::Result<AsyncTask<FlushTask>, ErrorCode> {
        let job = self.job.take().ok_or_else(|| {
            native_error(sluice_log::Error::InvalidArgument {
                name: "flushJob",
                reason: "a flush job runs once".into(),
            })
        })?;
        Ok(AsyncTask::new(FlushTask { job: Some(job) }))
    }
}

/// Runs a `FlushJob` on the libuv pool.
pub struct FlushTask {
    job: Option<FlushJob>,
}

impl Task for FlushTask {
    type Output = Result<i64, sluice_log::Error>;
    type JsValue = ();

    fn compute(&mut self) -> napi::Result<Self::Output> {
        let job = self.job.take().expect("a flush task computes once");
        Ok(job.run())
    }

    fn resolve(&mut self, env: Env, output: Self::Output) -> napi::Result<()> {
        output.map(|_| ()).map_err(|e| rejection(env, e))
    }
}

#[napi(object)]
pub struct NativeCheckpointEntry {
    pub topic: String,
    pub partition: i32,
    pub offset: f64,
}

pub(crate) fn to_native(entries: Vec<CheckpointEntry>) -> Vec<NativeCheckpointEntry> {
    entries
        .into_iter()
        .map(|e| NativeCheckpointEntry {
            topic: e.topic,
            partition: e.partition,
            offset: e.offset as f64,
        })
        .collect()
}

pub(crate) fn from_native(
    entries: Vec<NativeCheckpointEntry>,
) -> napi::Result<Vec<CheckpointEntry>, ErrorCode> {
    entries
        .into_iter()
        .map(|e| {
            Ok(CheckpointEntry {
                topic: e.topic,
                partition: e.partition,
                offset: integer("offset", e.offset)?,
            })
        })
        .collect()
}

/// `<logDir>/recovery-point-offset-checkpoint`; empty when missing.
#[napi]
pub fn read_recovery_point_checkpoint(
    log_dir: String,
) -> napi::Result<Vec<NativeCheckpointEntry>, ErrorCode> {
    checkpoint::read_recovery_point_checkpoint(Path::new(&log_dir))
        .map(to_native)
        .map_err(native_error)
}

#[napi]
pub fn write_recovery_point_checkpoint(
    log_dir: String,
    entries: Vec<NativeCheckpointEntry>,
) -> napi::Result<(), ErrorCode> {
    checkpoint::write_recovery_point_checkpoint(Path::new(&log_dir), &from_native(entries)?)
        .map_err(native_error)
}

/// `<logDir>/log-start-offset-checkpoint`; empty when missing.
#[napi]
pub fn read_log_start_offset_checkpoint(
    log_dir: String,
) -> napi::Result<Vec<NativeCheckpointEntry>, ErrorCode> {
    checkpoint::read_log_start_offset_checkpoint(Path::new(&log_dir))
        .map(to_native)
        .map_err(native_error)
}

#[napi]
pub fn write_log_start_offset_checkpoint(
    log_dir: String,
    entries: Vec<NativeCheckpointEntry>,
) -> napi::Result<(), ErrorCode> {
    checkpoint::write_log_start_offset_checkpoint(Path::new(&log_dir), &from_native(entries)?)
        .map_err(native_error)
}

/// `<logDir>/replication-offset-checkpoint` (high watermarks); empty when missing.
#[napi]
pub fn read_replication_offset_checkpoint(
    log_dir: String,
) -> napi::Result<Vec<NativeCheckpointEntry>, ErrorCode> {
    checkpoint::read_replication_offset_checkpoint(Path::new(&log_dir))
        .map(to_native)
        .map_err(native_error)
}

#[napi]
pub fn write_replication_offset_checkpoint(
    log_dir: String,
    entries: Vec<NativeCheckpointEntry>,
) -> napi::Result<(), ErrorCode> {
    checkpoint::write_replication_offset_checkpoint(Path::new(&log_dir), &from_native(entries)?)
        .map_err(native_error)
}

/// Whether `<logDir>/.kafka_cleanshutdown` exists.
#[napi]
pub fn has_clean_shutdown_marker(log_dir: String) -> napi::Result<bool, ErrorCode> {
    checkpoint::has_clean_shutdown_marker(Path::new(&log_dir)).map_err(native_error)
}

#[napi]
pub fn write_clean_shutdown_marker(log_dir: String) -> napi::Result<(), ErrorCode> {
    checkpoint::write_clean_shutdown_marker(Path::new(&log_dir)).map_err(native_error)
}

#[napi]
pub fn remove_clean_shutdown_marker(log_dir: String) -> napi::Result<(), ErrorCode> {
    checkpoint::remove_clean_shutdown_marker(Path::new(&log_dir)).map_err(native_error)
}

/// An exclusive hold on `<logDir>/.lock` (`checkpoint::lock_log_dir`) until `release()` or
/// garbage collection.
#[napi]
pub struct NativeLogDirLock {
    lock: Option<checkpoint::LogDirLock>,
}

#[napi]
impl NativeLogDirLock {
    /// Drops the flock; idempotent.
    #[napi]
    pub fn release(&mut self) {
        self.lock = None;
    }
}

/// Throws `LOG_DIR_LOCKED` when another broker holds the dir.
#[napi]
pub fn lock_log_dir(log_dir: String) -> napi::Result<NativeLogDirLock, ErrorCode> {
    let lock = checkpoint::lock_log_dir(Path::new(&log_dir)).map_err(native_error)?;
    Ok(NativeLogDirLock { lock: Some(lock) })
}

/// `sluice_log::flush_stats::FlushStats` as numbers: every log flush in this process so far.
#[napi(object)]
pub struct NativeFlushStats {
    pub count: f64,
    pub failures: f64,
    pub sum_seconds: f64,
    /// Flushes per bucket, not cumulative; one more entry than `flushBucketBoundsSeconds()`.
    pub buckets: Vec<f64>,
}

/// Process-wide flush counters (count, failures, time, duration buckets), one snapshot.
#[napi]
pub fn flush_stats() -> NativeFlushStats {
    let s = flush_stats::flush_stats();
    NativeFlushStats {
        count: s.count as f64,
        failures: s.failures as f64,
        sum_seconds: s.sum_seconds,
        buckets: s.buckets.iter().map(|&b| b as f64).collect(),
    }
}

/// Upper bounds (seconds) of the flush duration buckets.
#[napi]
pub fn flush_bucket_bounds_seconds() -> Vec<f64> {
    flush_stats::FLUSH_BUCKET_BOUNDS_SECONDS.to_vec()
}
