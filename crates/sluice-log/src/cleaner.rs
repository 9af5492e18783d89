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
//! - Control and transactional batches are kept as they are (Sluice serves no transactions).
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
//! Concurrency contract: `Log` methods here follow the log's (one thread at a time); `CleanJob`
//! is `Send` and runs anywhere, one per log at a time.

pub mod codec;
mod filter;
mod job;
mod offset_map;
pub mod records;
pub(crate) mod swap;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

pub use job::{CleanJob, CleanOutcome, MAX_INSPECTED_BATCH_BYTES};
pub use offset_map::SLOT_BYTES as DEDUPE_SLOT_BYTES;

use crate::batch;
use crate::error::{Error, Result};
use crate::log::Log;
use crate::segment::Segment;

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

/// Kafka's LogValidator rule for compacted topics, over a validated append: every record of
/// every non-control batch has a key. INVALID_RECORD names the first batch that breaks it.
pub(crate) fn check_compacted_append(records: &[u8]) -> Result<()> {
    for (index, (position, header)) in batch::batches(records).enumerate() {
        let bytes = &records[position..position + header.size() as usize];
        records::check_keys_present(bytes, &header).map_err(|reason| Error::InvalidRecord {
            batch: index,
            position,
            reason,
        })?;
    }
    Ok(())
}

impl Log {
    /// Where the dirty section starts: the end of the last clean (Kafka's cleaner checkpoint).
    pub fn first_dirty_offset(&self) -> i64 {
        self.first_dirty_offset
            .clamp(self.log_start_offset, self.log_end_offset)
    }

    /// A clean planned and not yet applied exists (its job or outcome is still alive).
    pub fn is_cleaning(&self) -> bool {
        self.cleaning
            .as_ref()
            .is_some_and(|flag| Arc::strong_count(flag) > 1)
    }

    /// Kafka's `cleanableOffsets` + `calculateCleanableBytes` at `now_ms`.
    pub fn cleanable(&self, now_ms: i64) -> Result<Cleanable> {
        self.ensure_open()?;
        // A checkpoint outside [log start, log end] is reset to the log start, as Kafka does.
        let first_dirty =
            if (self.log_start_offset..=self.log_end_offset).contains(&self.first_dirty_offset) {
                self.first_dirty_offset
            } else {
                self.log_start_offset
            };
        let active_base = *self.segments.keys().next_back().expect("an active segment");
        let mut uncleanable = self.log_end_offset.min(active_base);
        let lag = self.config.min_compaction_lag_ms;
        if lag > 0 {
            for segment in self.non_active_from(first_dirty) {
                if segment.largest_timestamp()? > now_ms.saturating_sub(lag) {
                    uncleanable = uncleanable.min(segment.base_offset());
                    break;
                }
            }
        }
        let uncleanable = uncleanable.max(first_dirty);
        let first_uncleanable = self
            .segments
            .range(..=uncleanable)
            .next_back()
            .map_or(active_base, |(base, _)| *base);
        let clean_bytes = self
            .segments
            .range(..first_dirty)
            .map(|(_, s)| s.size())
            .sum();
        let dirty_from = first_dirty.min(first_uncleanable);
        let cleanable_bytes = self
            .overlapping(dirty_from, first_uncleanable)
            .map(Segment::size)
            .sum();
        Ok(Cleanable {
            first_dirty_offset: first_dirty,
            first_uncleanable_offset: first_uncleanable,
            clean_bytes,
            cleanable_bytes,
        })
    }

    /// Non-active segments from the one holding `offset` on.
    fn non_active_from(&self, offset: i64) -> impl Iterator<Item = &Segment> {
        let start = self
            .segments
            .range(..=offset)
            .next_back()
            .map_or(i64::MIN, |(base, _)| *base);
        let active_base = *self.segments.keys().next_back().expect("an active segment");
        self.segments.range(start..active_base).map(|(_, s)| s)
    }

    /// Segments holding any offset of `[from, to)` (Kafka's `logSegments(from, to)`).
    fn overlapping(&self, from: i64, to: i64) -> impl Iterator<Item = &Segment> {
        let start = self
            .segments
            .range(..=from)
            .next_back()
            .map_or(i64::MIN, |(base, _)| *base);
        self.segments.range(start..to.max(start)).map(|(_, s)| s)
    }

    /// Plans a clean: None when the log is not compacted, a clean is already running, or the
    /// dirty ratio is not above `min.cleanable.dirty.ratio`. Cheap: metadata and one index
    /// lookup; the returned job does the work.
    pub fn plan_clean(
        &mut self,
        now_ms: i64,
        settings: &CleanerSettings,
    ) -> Result<Option<CleanJob>> {
        self.ensure_open()?;
        settings.validate()?;
        if !self.config.cleanup_policy.compact || self.is_cleaning() {
            return Ok(None);
        }
        let range = self.cleanable(now_ms)?;
        // Kafka cleans when the ratio is strictly above the threshold (the ratio is never NaN).
        if range.cleanable_bytes == 0 || range.ratio() <= self.config.min_cleanable_dirty_ratio {
            return Ok(None);
        }
        let storage = &*self.storage;
        let first_dirty = range.first_dirty_offset;
        let mut dirty_start_position = 0;
        let mut segments = Vec::new();
        for (&base, segment) in self.segments.range(..range.first_uncleanable_offset) {
            if base <= first_dirty && first_dirty < segment.next_offset() {
                dirty_start_position = segment
                    .find_batch(storage, first_dirty)?
                    .map_or(segment.size(), |(position, _)| position);
            }
            segments.push(job::SegmentSource {
                base,
                next_offset: segment.next_offset(),
                size: segment.size(),
                file: segment.file().clone(),
                path: segment.log_path().to_path_buf(),
                index_bytes: segment.index_bytes(),
            });
        }
        // Kafka's `lastRecordsOfActiveProducers`: each producer's last batch, from its state.
        let expiration = self.config.producer_id_expiration_ms;
        let producer_last_offsets = self
            .producers
            .state()
            .sorted_entries()
            .into_iter()
            .filter(|entry| now_ms.saturating_sub(entry.last_timestamp()) < expiration)
            .filter_map(|entry| {
                let last = entry.batches().last()?;
                Some((entry.producer_id(), last.last_offset))
            })
            .collect();
        let abort = Arc::new(AtomicBool::new(false));
        self.cleaning = Some(abort.clone());
        Ok(Some(CleanJob {
            dir: self.dir.clone(),
            storage: self.storage.clone(),
            config: self.config.clone(),
            settings: *settings,
            now_ms,
            first_dirty,
            first_uncleanable: range.first_uncleanable_offset,
            dirty_start_position,
            segments,
            producer_last_offsets,
            abort,
        }))
    }

    /// Swaps in what `outcome` cleaned, group by group, skipping groups whose segments changed
    /// since the plan (retention, truncation). Ok(None) for an aborted job. A job error is
    /// returned as is (the log is unchanged).
    pub fn apply_clean(&mut self, outcome: CleanOutcome) -> Result<Option<CleanStats>> {
        let mine = self
            .cleaning
            .as_ref()
            .is_some_and(|flag| Arc::ptr_eq(flag, &outcome.abort));
        let (groups, end_offset, mut stats) = match outcome.result {
            job::JobResult::Aborted => {
                if mine {
                    self.cleaning = None;
                }
                return Ok(None);
            }
            job::JobResult::Failed(e) => {
                if mine {
                    self.cleaning = None;
                }
                return Err(e);
            }
            job::JobResult::Cleaned {
                groups,
                end_offset,
                stats,
            } => (groups, end_offset, stats),
        };
        let discard_all = |groups: &[job::CleanedGroup]| {
            for group in groups {
                swap::discard(&*outcome.storage, &outcome.dir, group.base);
            }
        };
        if !mine {
            discard_all(&groups);
            return Err(Error::InvalidArgument {
                name: "outcome",
                reason: "not the outcome of this log's planned clean".into(),
            });
        }
        self.cleaning = None;
        if let Err(e) = self.ensure_open() {
            discard_all(&groups);
            return Err(e);
        }
        let mut all_applied = true;
        for (i, group) in groups.iter().enumerate() {
            if !self.still_present(group) {
                swap::discard(&*self.storage, &self.dir, group.base);
                stats.groups_skipped += 1;
                all_applied = false;
                continue;
            }
            if let Err(e) = swap::stage(&*self.storage, &self.dir, group.base) {
                discard_all(&groups[i..]);
                return Err(e);
            }
            if let Err(e) = self.replace_group(group) {
                // The old files may be gone: only a reopen (which finishes the swap) is safe.
                self.offline = Some(e.to_string());
                discard_all(&groups[i + 1..]);
                return Err(e);
            }
        }
        if all_applied {
            self.first_dirty_offset = end_offset.min(self.log_end_offset);
        }
        Ok(Some(stats))
    }

    /// Plans, runs and applies a clean on this thread.
    pub fn clean(&mut self, now_ms: i64, settings: &CleanerSettings) -> Result<Option<CleanStats>> {
        match self.plan_clean(now_ms, settings)? {
            None => Ok(None),
            Some(job) => self.apply_clean(job.run()),
        }
    }

    /// Asks a running clean to stop (close, delete, truncation).
    pub(crate) fn abort_clean(&self) {
        if let Some(flag) = &self.cleaning {
            flag.store(true, Ordering::Release);
        }
    }

    /// The group's segments are still this log's, unchanged and closed.
    fn still_present(&self, group: &job::CleanedGroup) -> bool {
        group.replaces.iter().all(|(base, file, size)| {
            self.segments
                .get(base)
                .is_some_and(|s| Arc::ptr_eq(s.file(), file) && s.size() == *size && !s.is_active())
        })
    }

    fn replace_group(&mut self, group: &job::CleanedGroup) -> Result<()> {
        let storage = self.storage.clone();
        for (base, _, _) in &group.replaces {
            let old = self
                .segments
                .remove(base)
                .expect("checked by still_present");
            old.delete(&*storage)?;
        }
        storage
            .sync_dir(&self.dir)
            .map_err(|e| Error::from_io("fsync dir", &self.dir, e))?;
        swap::promote(&*storage, &self.dir, group.base)?;
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as i64);
        let (segment, _) =
            Segment::load(&*storage, &self.dir, group.base, &self.config, false, now)?;
        self.segments.insert(group.base, segment);
        Ok(())
    }
}
