//! The log's side of compaction (Kafka's `LogCleanerManager` for one log): what is cleanable,
//! planning a clean on the log's thread, and applying its outcome (the segment swap). The work
//! itself, and the formats, are in `cleaner/`; the rules are in `cleaner/mod.rs`.
//!
//! Concurrency contract: the log's (one thread at a time); the `CleanJob` handed out runs
//! anywhere.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use super::Log;
use super::cleaner::job::{self, CleanJob, CleanOutcome};
use super::cleaner::{CleanStats, Cleanable, CleanerSettings, swap};
use crate::error::{Error, Result};
use crate::segment::Segment;

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
        // Never past an open transaction (Kafka's `cleanableOffsets`): whether it commits or
        // aborts is not known yet.
        let mut uncleanable = self
            .log_end_offset
            .min(active_base)
            .min(self.first_unstable_offset().unwrap_or(i64::MAX));
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
                aborted: segment.txn_index().entries().to_vec(),
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
        // Kafka's third case: an active producer with no data batch left in its epoch (it only
        // wrote markers since) keeps its markers of that epoch, so its epoch is not lost.
        let producer_marker_epochs = self
            .producers
            .state()
            .sorted_entries()
            .into_iter()
            .filter(|entry| now_ms.saturating_sub(entry.last_timestamp()) < expiration)
            .filter(|entry| entry.batches().len() == 0)
            .map(|entry| (entry.producer_id(), entry.epoch()))
            .collect();
        // Transactional batches in the range are aborted or committed: every transaction there
        // has ended (the range stops at the first unstable offset), and this lists the aborted.
        let aborted =
            self.aborted_transactions(self.log_start_offset, range.first_uncleanable_offset)?;
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
            producer_marker_epochs,
            aborted,
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
