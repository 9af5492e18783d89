//! Removing a log's oldest data: Kafka's retention rules (time, size, log start), DeleteRecords,
//! and the pruning of producer snapshots recovery can no longer need.

use super::{Log, wall_clock_ms};
use crate::error::Result;

impl Log {
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

    /// Deletes the producer snapshots recovery cannot need: Kafka keeps those from the segment
    /// holding the recovery point and from the last two segments on
    /// (`UnifiedLog.minSnapshotsOffsetToRetain`); below the log start none is usable.
    pub(super) fn prune_snapshots(&mut self) -> Result<()> {
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
}
