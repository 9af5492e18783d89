//! Appending to a log: validation, the idempotent producer check, roll rules, and the write
//! into the active segment.

use super::{AppendResult, Log};
use crate::config::TimestampType;
use crate::error::{Error, Result};
use crate::producer::{AppendCheck, BatchMetadata};
use crate::records::{batch, validate};
use crate::segment::MAX_RELATIVE_OFFSET;

impl Log {
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
        let summary = validate::validate_append(records, self.config.max_message_bytes)?;
        if summary.bytes > self.config.segment_bytes {
            return Err(Error::RecordListTooLarge {
                size: summary.bytes,
                segment_bytes: self.config.segment_bytes,
            });
        }
        if self.config.cleanup_policy.compact {
            // Kafka's LogValidator: a compacted topic refuses records without a key.
            validate::check_compacted_append(records)?;
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
    pub(super) fn maybe_roll(
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
}
