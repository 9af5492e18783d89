//! Log compaction for JavaScript: `NativePartitionLog.planClean` hands out a `NativeCleanJob`,
//! whose `run()` does the reading and writing on the libuv pool (AsyncTask), and
//! `NativePartitionLog.applyClean(job)` swaps the result in on the JS thread. Plus the
//! `cleaner-offset-checkpoint` helpers. Behaviour: crates/sluice-log/src/log/cleaner/mod.rs and log/compaction.rs.
//!
//! Concurrency contract: the log and the job object live on the JS thread; only the job's work
//! runs elsewhere, and its outcome comes back through a mutex the task fills.

use std::path::Path;
use std::sync::{Arc, Mutex};

use napi::bindgen_prelude::{AsyncTask, Env, Task};
use napi_derive::napi;
use sluice_log::checkpoint;
use sluice_log::{CleanJob, CleanOutcome, CleanStats, CleanerSettings};

use crate::error::{ErrorCode, integer, native_error, unsigned};
use crate::log::{NativeCheckpointEntry, NativePartitionLog, from_native, to_native};

/// Broker-wide cleaner settings; missing fields keep their default.
#[napi(object)]
pub struct NativeCleanerSettings {
    /// sluice.log.cleaner.dedupe.buffer.bytes (default 32 MiB).
    pub dedupe_buffer_bytes: Option<f64>,
}

#[napi(object, object_from_js = false)]
pub struct NativeCleanStats {
    pub first_dirty_offset: f64,
    pub end_offset: f64,
    pub segments_cleaned: f64,
    pub segments_written: f64,
    pub bytes_read: f64,
    pub bytes_written: f64,
    pub records_read: f64,
    pub records_kept: f64,
    pub tombstones_removed: f64,
    pub aborted_batches_removed: f64,
    pub markers_removed: f64,
    pub empty_batches_kept: f64,
    pub unreadable_batches: f64,
    pub map_keys: f64,
    pub map_full: bool,
    pub groups_skipped: f64,
}

impl From<CleanStats> for NativeCleanStats {
    fn from(s: CleanStats) -> Self {
        NativeCleanStats {
            first_dirty_offset: s.first_dirty_offset as f64,
            end_offset: s.end_offset as f64,
            segments_cleaned: s.segments_cleaned as f64,
            segments_written: s.segments_written as f64,
            bytes_read: s.bytes_read as f64,
            bytes_written: s.bytes_written as f64,
            records_read: s.records_read as f64,
            records_kept: s.records_kept as f64,
            tombstones_removed: s.tombstones_removed as f64,
            aborted_batches_removed: s.aborted_batches_removed as f64,
            markers_removed: s.markers_removed as f64,
            empty_batches_kept: s.empty_batches_kept as f64,
            unreadable_batches: s.unreadable_batches as f64,
            map_keys: s.map_keys as f64,
            map_full: s.map_full,
            groups_skipped: s.groups_skipped as f64,
        }
    }
}

/// A planned clean: `run()` once, then hand it to `applyClean`.
#[napi]
pub struct NativeCleanJob {
    job: Option<CleanJob>,
    outcome: Arc<Mutex<Option<CleanOutcome>>>,
}

#[napi]
impl NativeCleanJob {
    /// Does the clean off the JS thread; resolves when it is done (its errors come from
    /// `applyClean`).
    #[napi(ts_return_type = "Promise<void>")]
    pub fn run(&mut self) -> napi::Result<AsyncTask<CleanTask>, ErrorCode> {
        let job = self.job.take().ok_or_else(|| {
            native_error(sluice_log::Error::InvalidArgument {
                name: "job",
                reason: "this clean job already ran".into(),
            })
        })?;
        Ok(AsyncTask::new(CleanTask {
            job: Some(job),
            outcome: self.outcome.clone(),
        }))
    }
}

/// Runs a `CleanJob` on the libuv pool.
pub struct CleanTask {
    job: Option<CleanJob>,
    outcome: Arc<Mutex<Option<CleanOutcome>>>,
}

impl Task for CleanTask {
    type Output = ();
    type JsValue = ();

    fn compute(&mut self) -> napi::Result<Self::Output> {
        let job = self.job.take().expect("a clean task computes once");
        let outcome = job.run();
        *self.outcome.lock().unwrap_or_else(|p| p.into_inner()) = Some(outcome);
        Ok(())
    }

    fn resolve(&mut self, _env: Env, _output: ()) -> napi::Result<()> {
        Ok(())
    }
}

#[napi]
impl NativePartitionLog {
    /// Plans a clean at `nowMs`; null when the log is not compacted, a clean is running, or it
    /// is not dirty enough.
    #[napi]
    pub fn plan_clean(
        &mut self,
        now_ms: f64,
        settings: Option<NativeCleanerSettings>,
    ) -> napi::Result<Option<NativeCleanJob>, ErrorCode> {
        let now = integer("nowMs", now_ms)?;
        let mut resolved = CleanerSettings::default();
        if let Some(v) = settings.and_then(|s| s.dedupe_buffer_bytes) {
            resolved.dedupe_buffer_bytes = unsigned("dedupeBufferBytes", v)?;
        }
        let job = self.log.plan_clean(now, &resolved).map_err(native_error)?;
        Ok(job.map(|job| NativeCleanJob {
            job: Some(job),
            outcome: Arc::new(Mutex::new(None)),
        }))
    }

    /// Swaps in what a finished job cleaned; null when it was aborted (the log closed or was
    /// truncated meanwhile). Throws the job's error, if it failed.
    #[napi]
    pub fn apply_clean(
        &mut self,
        job: &mut NativeCleanJob,
    ) -> napi::Result<Option<NativeCleanStats>, ErrorCode> {
        let outcome = job
            .outcome
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
            .ok_or_else(|| {
                native_error(sluice_log::Error::InvalidArgument {
                    name: "job",
                    reason: "the clean job has not finished (await run() first) or was applied"
                        .into(),
                })
            })?;
        Ok(self
            .log
            .apply_clean(outcome)
            .map_err(native_error)?
            .map(Into::into))
    }

    /// Where the last clean ended (for `cleaner-offset-checkpoint`).
    #[napi(getter)]
    pub fn first_dirty_offset(&self) -> f64 {
        self.log.first_dirty_offset() as f64
    }
}

/// `<logDir>/cleaner-offset-checkpoint`; empty when missing.
#[napi]
pub fn read_cleaner_offset_checkpoint(
    log_dir: String,
) -> napi::Result<Vec<NativeCheckpointEntry>, ErrorCode> {
    checkpoint::read_cleaner_offset_checkpoint(Path::new(&log_dir))
        .map(to_native)
        .map_err(native_error)
}

#[napi]
pub fn write_cleaner_offset_checkpoint(
    log_dir: String,
    entries: Vec<NativeCheckpointEntry>,
) -> napi::Result<(), ErrorCode> {
    checkpoint::write_cleaner_offset_checkpoint(Path::new(&log_dir), &from_native(entries)?)
        .map_err(native_error)
}
