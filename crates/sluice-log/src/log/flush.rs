//! Flushing a log: `FlushJob` (the fdatasyncs, runnable on another thread) and the recovery
//! point it raises.
//!
//! Concurrency contract: a `FlushJob` is `Send` and runs while the log keeps appending; the
//! recovery point is the one piece of log state it shares, behind a mutex.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use super::Log;
use crate::error::{Error, Result};
use crate::flush_stats;
use crate::segment::SyncTarget;
use crate::storage::Storage;

/// The recovery point, shared with flush jobs running on other threads. `epoch` changes when the
/// log is truncated, so a job that started before a truncation cannot raise the recovery point
/// over bytes it never synced.
#[derive(Debug, Default)]
pub(super) struct RecoveryPoint {
    pub(super) offset: i64,
    pub(super) epoch: u64,
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

pub(super) fn lock(point: &Mutex<RecoveryPoint>) -> std::sync::MutexGuard<'_, RecoveryPoint> {
    point
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Log {
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

    pub(super) fn job_for(&self, targets: Vec<SyncTarget>) -> FlushJob {
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
}
