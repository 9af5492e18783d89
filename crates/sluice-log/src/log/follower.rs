//! Appending as a follower (Kafka's `UnifiedLog.appendAsFollower`, origin REPLICATION): the
//! leader's batches are stored byte for byte, at the offsets they carry. Nothing is assigned or
//! restamped — base offset, partition leader epoch, LogAppendTime timestamps and CRC are the
//! leader's — and the offsets may have gaps: a compacted leader log (the cleaner removed
//! records, whole batches or records inside a batch, keeping the offsets of the rest) is
//! mirrored exactly, sparse and empty batches included.
//!
//! What is checked is what a stored batch must satisfy (the recovery checks): structure, CRC,
//! `0 <= recordsCount <= lastOffsetDelta + 1`, and that the offsets increase — the first batch
//! starts at or after the log end, each next one after the previous one's last offset. Client
//! rules (keys on compacted topics, producer sequences, `max.message.bytes`) were the leader's
//! to apply; a follower takes what the leader has. The whole append is checked before anything
//! is written.
//!
//! Producer state and the transaction index are rebuilt as recovery does (`replay`,
//! `replay_marker`): data batches of producers update their entries, COMMIT/ABORT markers end
//! transactions, and an ABORT gets its `.txnindex` entry before the marker is written.
//!
//! Segments stay contiguous (recovery relies on it): a roll starts the new segment at the log
//! end, so a gap in the offsets lies inside a segment, never between two.

use super::{AppendResult, Log};
use crate::error::{Error, Result};
use crate::records::batch::{self, BatchHeader, HEADER_SIZE, NO_TIMESTAMP};
use crate::records::control;
use crate::segment::{AbortedTxn, MAX_RELATIVE_OFFSET};

/// Control batches larger than this are not transaction markers (a marker batch is 78 bytes).
const MAX_MARKER_BATCH_BYTES: u64 = 256;

impl Log {
    /// Appends the leader's batches in `records` unchanged, at their own offsets (module doc).
    /// `now_ms` only decides time-based rolls. The result's `base_offset` is the first batch's,
    /// `last_offset` the last batch's last offset (the log end is one past it), `record_count`
    /// the records the batches hold. On any check failing nothing is written.
    pub fn append_as_follower(&mut self, records: &[u8], now_ms: i64) -> Result<AppendResult> {
        self.ensure_open()?;
        let headers = self.check_follower_append(records)?;
        let mut rolled = false;
        let mut record_count = 0i64;
        let mut max_timestamp = NO_TIMESTAMP;
        let mut position = 0usize;
        for header in &headers {
            let bytes = &records[position..position + header.size() as usize];
            position += bytes.len();
            rolled |= self.append_stored_batch(header, bytes, now_ms)?;
            record_count += i64::from(header.records_count);
            max_timestamp = max_timestamp.max(header.max_timestamp);
        }
        let (first, last) = (&headers[0], &headers[headers.len() - 1]);
        Ok(AppendResult {
            base_offset: first.base_offset,
            last_offset: last.last_offset(),
            log_append_time: -1,
            max_timestamp,
            record_count,
            log_start_offset: self.log_start_offset,
            rolled,
            duplicate: false,
        })
    }

    /// The checks of the module doc over the whole append; returns the batches' headers.
    fn check_follower_append(&self, records: &[u8]) -> Result<Vec<BatchHeader>> {
        let mut headers: Vec<BatchHeader> = Vec::new();
        let mut position = 0usize;
        let mut next = self.log_end_offset;
        while position < records.len() {
            let index = headers.len();
            let rest = &records[position..];
            let corrupt = |reason: String| Error::CorruptMessage {
                batch: index,
                position,
                reason,
            };
            if rest.len() < HEADER_SIZE {
                return Err(corrupt(format!(
                    "{} trailing bytes, less than a {HEADER_SIZE}-byte batch header",
                    rest.len()
                )));
            }
            let header = BatchHeader::parse(rest);
            header.check_structure(rest.len() as u64).map_err(corrupt)?;
            batch::check_crc(&header, &rest[..header.size() as usize]).map_err(corrupt)?;
            header.check_stored_count().map_err(corrupt)?;
            if header.size() > self.config.segment_bytes {
                return Err(Error::RecordListTooLarge {
                    size: header.size(),
                    segment_bytes: self.config.segment_bytes,
                });
            }
            let invalid = |reason: String| Error::InvalidRecord {
                batch: index,
                position,
                reason,
            };
            if header.base_offset < next {
                return Err(invalid(format!(
                    "the batch starts at offset {}, below {next} (the log end or the previous \
                     batch's end): a follower's offsets must increase",
                    header.base_offset
                )));
            }
            if header.last_offset() >= i64::MAX - 1 {
                return Err(invalid(format!(
                    "the batch ends at offset {}, past the last usable offset",
                    header.last_offset()
                )));
            }
            next = header.last_offset() + 1;
            position += header.size() as usize;
            headers.push(header);
        }
        if headers.is_empty() {
            return Err(Error::InvalidRecord {
                batch: 0,
                position: 0,
                reason: "the append holds no record batch".into(),
            });
        }
        Ok(headers)
    }

    /// Writes one checked batch: roll if due, the transaction index entry of an ABORT marker,
    /// the bytes, then the producer state. Returns whether it rolled.
    fn append_stored_batch(
        &mut self,
        header: &BatchHeader,
        bytes: &[u8],
        now_ms: i64,
    ) -> Result<bool> {
        let last_offset = header.last_offset();
        let rolled = self.maybe_roll(header.size(), header.max_timestamp, last_offset, now_ms)?;
        if last_offset - *self.active_base() > MAX_RELATIVE_OFFSET {
            // Only a gap of 2^31 offsets inside an empty active segment gets here.
            return Err(Error::InvalidRecord {
                batch: 0,
                position: 0,
                reason: format!(
                    "the batch ends at offset {last_offset}, too far past the segment base {} \
                     for its offset index",
                    self.active_base()
                ),
            });
        }
        let marker = (header.is_control()
            && header.has_producer_id()
            && header.size() <= MAX_MARKER_BATCH_BYTES)
            .then(|| control::parse_marker(bytes).ok())
            .flatten();
        // The index entry needs the transaction's first offset, so the marker's outcome is
        // computed (without changing the state) before the marker is written.
        let aborted = marker.as_ref().and_then(|m| {
            let state = self.producers.state();
            let (completed, last_stable_offset) =
                state.marker_outcome(m, header.base_offset, header.max_timestamp);
            completed.filter(|txn| txn.aborted).map(|txn| AbortedTxn {
                producer_id: txn.producer_id,
                first_offset: txn.first_offset,
                last_offset: txn.last_offset,
                last_stable_offset,
            })
        });
        let storage = self.storage.clone();
        let step = self.config.preallocate_step();
        let interval = self.config.index_interval_bytes;
        let segment = self.active_mut();
        segment.reserve(&*storage, header.size(), step)?;
        if let Some(entry) = aborted {
            segment.append_aborted_txn(&*storage, entry)?;
        }
        if let Err(e) = segment.append(&*storage, bytes, header.max_timestamp, interval) {
            if aborted.is_some()
                && let Err(undo) = segment.truncate_txn_index(&*storage, header.base_offset)
            {
                self.offline = Some(format!(
                    "removing the transaction index entry of a failed marker: {undo}"
                ));
            }
            return Err(e);
        }
        self.log_end_offset = last_offset + 1;
        if let Some(marker) = &marker {
            self.producers
                .replay_marker(marker, header.base_offset, header.max_timestamp);
        } else if header.has_producer_id() && !header.is_control() {
            self.producers.replay(header);
        }
        self.unflushed_messages += u64::try_from(header.records_count).unwrap_or(0);
        if self.unflushed_messages >= self.config.flush_interval_messages {
            self.flush()?;
        }
        Ok(rolled)
    }
}
