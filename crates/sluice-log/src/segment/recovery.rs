//! Loading a segment at open: trusting the indexes of a cleanly closed segment after sanity
//! checks, or scanning and CRC-checking the log, cutting it at the first invalid byte and
//! rebuilding both indexes (`recover`).

use std::fs::File;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use super::{MAX_RELATIVE_OFFSET, Segment, SegmentFile, TxnIndex};
use crate::config::LogConfig;
use crate::error::{Error, Result};
use crate::index::{OffsetIndex, TimeIndex};
use crate::records::batch::{self, BatchHeader, HEADER_SIZE};
use crate::storage::{self, Storage};

/// Bytes read at a time while scanning a segment (recovery, CRC checks).
const SCAN_CHUNK: usize = 1 << 20;

impl Segment {
    /// Opens an existing segment, sealed (read-only indexes, no appender). With `recover`, or
    /// when its indexes are missing or fail their sanity checks, the log is scanned and CRC
    /// checked, cut at the first invalid byte and both indexes are rebuilt; the number of bytes
    /// cut is returned.
    pub fn load(
        storage: &dyn Storage,
        dir: &Path,
        base_offset: i64,
        config: &LogConfig,
        recover: bool,
        now_ms: i64,
    ) -> Result<(Segment, u64)> {
        let log_path = SegmentFile::Log.path(dir, base_offset);
        let index_path = SegmentFile::OffsetIndex.path(dir, base_offset);
        let time_index_path = SegmentFile::TimeIndex.path(dir, base_offset);
        let indexes_missing = SegmentFile::indexes()
            .filter(|kind| kind.rebuilt_by_segment_scan())
            .any(|kind| !kind.path(dir, base_offset).exists());
        let file = storage
            .open(&log_path, false)
            .map_err(|e| Error::from_io("open segment", &log_path, e))?;
        let size = file
            .metadata()
            .map_err(|e| Error::from_io("stat segment", &log_path, e))?
            .len();
        let writable = recover || indexes_missing;
        let index_bytes = config.segment_index_bytes;
        let offset_index =
            OffsetIndex::open(storage, &index_path, base_offset, writable, index_bytes)?;
        let time_index = TimeIndex::open(
            storage,
            &time_index_path,
            base_offset,
            writable,
            index_bytes,
        )?;
        let txn_index = TxnIndex::open(
            storage,
            &SegmentFile::TxnIndex.path(dir, base_offset),
            base_offset,
        )?;
        let mut segment = Segment {
            base_offset,
            log_path,
            file: Arc::new(file),
            published_end: Arc::new(AtomicU64::new(size)),
            size,
            next_offset: base_offset,
            appender: None,
            indexes_writable: writable,
            offset_index,
            time_index,
            txn_index,
            max_timestamp: batch::NO_TIMESTAMP,
            offset_of_max_timestamp: -1,
            rolling_timestamp: None,
            created_ms: now_ms,
            bytes_since_last_index_entry: 0,
        };
        if !writable && segment.load_from_indexes(storage).is_ok() {
            // Entries past the segment's end cannot be (a file copied from elsewhere).
            let end = segment.next_offset;
            segment.txn_index.truncate_from(storage, end)?;
            return Ok((segment, 0));
        }
        let truncated = segment.recover(storage, config)?;
        Ok((segment, truncated))
    }

    /// Trusts the indexes of a cleanly closed segment: sanity-checks them and finds the next
    /// offset by scanning headers from the last offset index entry. Any inconsistency is an
    /// error and the caller recovers the segment instead.
    fn load_from_indexes(&mut self, storage: &dyn Storage) -> std::result::Result<(), String> {
        self.offset_index.sanity_check(self.size)?;
        let last_entry = self.offset_index.last_entry();
        let mut position = last_entry.map_or(0, |e| e.position);
        // The entry must point at the batch it names (entries hold the batch's last offset):
        // an index left from another version of the log file (a crash between writes, a copy)
        // would otherwise seed the scan from a wrong offset and position. Rebuild then.
        if let Some(entry) = last_entry {
            let header = self
                .read_header(storage, entry.position)
                .map_err(|e| e.to_string())?;
            if header.last_offset() != entry.offset {
                return Err(format!(
                    "last offset index entry names offset {} at position {}, where the batch ends at offset {}",
                    entry.offset,
                    entry.position,
                    header.last_offset()
                ));
            }
        }
        let mut next_offset = self.base_offset;
        while position < self.size {
            let header = self
                .read_header(storage, position)
                .map_err(|e| e.to_string())?;
            next_offset = header.last_offset() + 1;
            position += header.size();
        }
        self.next_offset = next_offset;
        self.time_index.sanity_check(self.next_offset)?;
        if let Some(last) = self.time_index.last_entry() {
            self.max_timestamp = last.timestamp;
            self.offset_of_max_timestamp = last.offset;
        }
        if self.size > 0 {
            let first = self.read_header(storage, 0).map_err(|e| e.to_string())?;
            self.rolling_timestamp = Some(first.max_timestamp);
        }
        Ok(())
    }

    /// Scans the whole log file validating every batch (structure, counts, offsets growing and
    /// representable, CRC-32C), cuts it at the first invalid byte and rebuilds both indexes.
    /// Leaves the segment sealed. Returns the number of bytes cut.
    pub fn recover(&mut self, storage: &dyn Storage, config: &LogConfig) -> Result<u64> {
        self.appender = None;
        if !self.indexes_writable {
            self.offset_index
                .make_writable(storage, config.segment_index_bytes)?;
            self.time_index
                .make_writable(storage, config.segment_index_bytes)?;
            self.indexes_writable = true;
        }
        self.offset_index.reset();
        self.time_index.reset();
        self.max_timestamp = batch::NO_TIMESTAMP;
        self.offset_of_max_timestamp = -1;
        self.rolling_timestamp = None;

        let file_len = self
            .file
            .metadata()
            .map_err(|e| Error::from_io("stat segment", &self.log_path, e))?
            .len();
        let file = self.file.clone();
        let log_path = self.log_path.clone();
        let mut reader = ChunkReader::new(storage, &file, &log_path, file_len);
        let mut position = 0u64;
        let mut last_indexed_at = 0u64;
        let mut previous_last_offset = self.base_offset - 1;
        while file_len - position >= HEADER_SIZE as u64 {
            let header = BatchHeader::parse(reader.bytes(position, HEADER_SIZE)?);
            let valid = header.check_structure(file_len - position).is_ok()
                && header.check_stored_count().is_ok()
                && header.base_offset > previous_last_offset
                && header.last_offset() - self.base_offset <= MAX_RELATIVE_OFFSET
                && reader.crc(
                    position + batch::CRC_COVERS_FROM as u64,
                    position + header.size(),
                )? == header.crc;
            if !valid {
                break;
            }
            if self.rolling_timestamp.is_none() {
                self.rolling_timestamp = Some(header.max_timestamp);
            }
            self.offset_index.reserve(storage, 1)?;
            self.time_index.reserve(storage, 2)?;
            self.note_batch(
                &header,
                position,
                position - last_indexed_at,
                config.index_interval_bytes,
            );
            if self
                .offset_index
                .last_entry()
                .is_some_and(|e| e.position == position)
            {
                last_indexed_at = position;
            }
            previous_last_offset = header.last_offset();
            position += header.size();
        }
        let truncated = file_len - position;
        if truncated > 0 {
            storage
                .set_len(&self.file, position)
                .map_err(|e| Error::from_io("truncate segment", &self.log_path, e))?;
        }
        self.size = position;
        self.next_offset = previous_last_offset + 1;
        self.bytes_since_last_index_entry = position - last_indexed_at;
        self.published_end.store(position, Ordering::Release);
        // Markers cut off take their entries with them; the log replays the rest (it has the
        // producer state this scan lacks).
        self.txn_index.truncate_from(storage, self.next_offset)?;
        self.seal(storage)?;
        Ok(truncated)
    }
}

/// Sequential reads of a segment through a bounded buffer (`SCAN_CHUNK`), for recovery.
struct ChunkReader<'a> {
    storage: &'a dyn Storage,
    file: &'a File,
    path: &'a Path,
    len: u64,
    buf: Vec<u8>,
    start: u64,
}

impl<'a> ChunkReader<'a> {
    fn new(storage: &'a dyn Storage, file: &'a File, path: &'a Path, len: u64) -> Self {
        ChunkReader {
            storage,
            file,
            path,
            len,
            buf: Vec::new(),
            start: 0,
        }
    }

    /// `n` (<= SCAN_CHUNK) bytes at `position`, which must lie inside the file.
    fn bytes(&mut self, position: u64, n: usize) -> Result<&[u8]> {
        assert!(n <= SCAN_CHUNK, "chunk reads are bounded");
        assert!(position + n as u64 <= self.len, "read past the file");
        let buffered_end = self.start + self.buf.len() as u64;
        if position < self.start || position + n as u64 > buffered_end {
            let want = (SCAN_CHUNK as u64).min(self.len - position) as usize;
            self.buf.resize(want, 0);
            storage::read_exact_at(self.storage, self.file, &mut self.buf, position)
                .map_err(|e| Error::from_io("read segment", self.path, e))?;
            self.start = position;
        }
        let at = (position - self.start) as usize;
        Ok(&self.buf[at..at + n])
    }

    /// CRC-32C of `[from, to)`, streamed in chunks.
    fn crc(&mut self, from: u64, to: u64) -> Result<u32> {
        let mut crc = 0u32;
        let mut position = from;
        while position < to {
            let n = ((to - position) as usize).min(SCAN_CHUNK);
            crc = crc32c::crc32c_append(crc, self.bytes(position, n)?);
            position += n as u64;
        }
        Ok(crc)
    }
}
