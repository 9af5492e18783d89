//! Finding things in a segment: batch headers by position, the batch holding an offset (index
//! floor entry, then a header scan), batch boundaries for read ranges, and the timestamp
//! lookups of ListOffsets.

use super::Segment;
use crate::error::{Error, Result};
use crate::records::batch::{self, BatchHeader, HEADER_SIZE, RecordStamp};
use crate::storage::{self, Storage};

impl Segment {
    /// Reads and structure-checks the batch header at `position` (which must be a batch start).
    pub fn read_header(&self, storage: &dyn Storage, position: u64) -> Result<BatchHeader> {
        let corrupt = |reason: String| Error::CorruptSegment {
            path: self.log_path.clone(),
            position,
            reason,
        };
        let available = self.size.saturating_sub(position);
        if available < HEADER_SIZE as u64 {
            return Err(corrupt(format!(
                "{available} bytes left, less than a batch header"
            )));
        }
        let mut bytes = [0u8; HEADER_SIZE];
        storage::read_exact_at(storage, &self.file, &mut bytes, position)
            .map_err(|e| Error::from_io("read segment", &self.log_path, e))?;
        let header = BatchHeader::parse(&bytes);
        header.check_structure(available).map_err(corrupt)?;
        Ok(header)
    }

    /// Reads the whole batch at `position` whose header is `header`.
    pub fn read_batch(
        &self,
        storage: &dyn Storage,
        position: u64,
        header: &BatchHeader,
    ) -> Result<Vec<u8>> {
        let mut bytes = vec![0u8; header.size() as usize];
        storage::read_exact_at(storage, &self.file, &mut bytes, position)
            .map_err(|e| Error::from_io("read segment", &self.log_path, e))?;
        Ok(bytes)
    }

    /// The first batch whose last offset is >= `offset` (the batch containing it when there are
    /// no gaps): the index gives the greatest entry <= offset, then headers are scanned forward.
    /// None when the segment ends before `offset`.
    pub fn find_batch(
        &self,
        storage: &dyn Storage,
        offset: i64,
    ) -> Result<Option<(u64, BatchHeader)>> {
        if offset >= self.next_offset {
            return Ok(None);
        }
        let mut position = self.offset_index.lookup(offset).position;
        while position < self.size {
            let header = self.read_header(storage, position)?;
            if header.last_offset() >= offset {
                return Ok(Some((position, header)));
            }
            position += header.size();
        }
        Ok(None)
    }

    /// The largest batch boundary in `[from, limit]`, given that `from` is one. Jumps to the
    /// last index entry at or below `limit` so at most about `index.interval.bytes` of headers
    /// are read however large the range.
    pub fn last_boundary(&self, storage: &dyn Storage, from: u64, limit: u64) -> Result<u64> {
        let limit = limit.min(self.size);
        let mut position = match self.offset_index.floor_by_position(limit) {
            Some(entry) if entry.position > from => entry.position,
            _ => from,
        };
        while position < limit {
            let header = self.read_header(storage, position)?;
            if position + header.size() > limit {
                break;
            }
            position += header.size();
        }
        Ok(position)
    }

    /// Kafka's timestamp search: the first record at or after `starting_offset` whose timestamp
    /// is >= `timestamp`, starting from the time index. Records are read one by one from
    /// uncompressed batches; a compressed batch answers with its first offset and maxTimestamp
    /// (the log does not decompress).
    pub fn find_offset_by_timestamp(
        &self,
        storage: &dyn Storage,
        timestamp: i64,
        starting_offset: i64,
    ) -> Result<Option<RecordStamp>> {
        let from = self
            .time_index
            .lookup(timestamp)
            .map_or(self.base_offset, |e| e.offset)
            .max(starting_offset);
        let Some((mut position, _)) = self.find_batch(storage, from)? else {
            return Ok(None);
        };
        while position < self.size {
            let header = self.read_header(storage, position)?;
            if header.max_timestamp >= timestamp
                && header.last_offset() >= starting_offset
                && let Some(stamp) = self.first_record_at_or_after(
                    storage,
                    position,
                    &header,
                    timestamp,
                    starting_offset,
                )?
            {
                return Ok(Some(stamp));
            }
            position += header.size();
        }
        Ok(None)
    }

    fn first_record_at_or_after(
        &self,
        storage: &dyn Storage,
        position: u64,
        header: &BatchHeader,
        timestamp: i64,
        starting_offset: i64,
    ) -> Result<Option<RecordStamp>> {
        let batch_level = RecordStamp {
            offset: header.base_offset.max(starting_offset),
            timestamp: header.max_timestamp,
        };
        if header.is_log_append_time() || header.compression() != 0 {
            return Ok(Some(batch_level));
        }
        let bytes = self.read_batch(storage, position, header)?;
        match batch::record_stamps(&bytes) {
            Some(stamps) => Ok(stamps
                .into_iter()
                .find(|s| s.timestamp >= timestamp && s.offset >= starting_offset)),
            None => Ok(Some(batch_level)),
        }
    }

    /// The record holding this segment's largest timestamp (offset, timestamp): the first record
    /// of the batch that first reached it whose timestamp equals it; that batch's first offset
    /// when it is compressed.
    pub fn max_timestamp_record(&self, storage: &dyn Storage) -> Result<Option<RecordStamp>> {
        if self.max_timestamp < 0 {
            return Ok(None);
        }
        let Some((position, header)) = self.find_batch(storage, self.offset_of_max_timestamp)?
        else {
            return Ok(None);
        };
        let batch_level = RecordStamp {
            offset: header.base_offset,
            timestamp: self.max_timestamp,
        };
        if header.is_log_append_time() || header.compression() != 0 {
            return Ok(Some(batch_level));
        }
        let bytes = self.read_batch(storage, position, &header)?;
        let exact = batch::record_stamps(&bytes).and_then(|stamps| {
            stamps
                .into_iter()
                .find(|s| s.timestamp == self.max_timestamp)
        });
        Ok(Some(exact.unwrap_or(batch_level)))
    }
}
