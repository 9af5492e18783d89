//! Reading a log: offset -> file range of whole batches (Fetch), and the ListOffsets lookups
//! by timestamp.

use super::{Log, ReadResult, TimestampAndOffset};
use crate::error::{Error, Result};
use crate::segment::Segment;

impl Log {
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

    pub(super) fn out_of_range(&self, offset: i64) -> Error {
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
}
