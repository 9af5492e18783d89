//! One segment of a partition log: `<base>.log` plus its `.index` and `.timeindex`.
//!
//! File names are Kafka's: the base offset (the first offset the segment may hold) as 20
//! zero-padded decimal digits, e.g. `00000000000000001234.log`. The `.log` file is a plain
//! concatenation of RecordBatch v2 batches (format in `batch.rs`) with nothing before, between or
//! after them; index formats are in `index.rs`.
//!
//! Index entries: before a batch is appended, if more than `index.interval.bytes` of log were
//! written since the last entry, the offset index gets (batch's last offset, batch position) and
//! the time index (largest timestamp so far, last offset of the batch that first reached it).
//! Recovery rebuilds both with the same rule, so a rebuilt index equals the one appends made.
//!
//! Active segment in `mmap` mode: the file is mapped once at `segment.bytes`; the file itself is
//! extended with fallocate a step ahead of the write position and never touched past that; roll
//! and close cut it back to the bytes written. A crash leaves a zero-filled preallocated tail,
//! which recovery reads as the end of the log (a zero batch length is invalid).
//!
//! Concurrency contract: owned and mutated only by the partition's single appender thread. The
//! one piece shared with other threads is `published_end` (inside every `FileRange` handed out):
//! the appender stores the new end with `Release` after the bytes are in place, readers load it
//! with `Acquire`. It only moves back on `truncate_to`, which is documented to shorten in-flight
//! ranges.

use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::batch::{self, BatchHeader, HEADER_SIZE, RecordStamp};
use crate::config::{AppendMode, LogConfig};
use crate::error::{Error, Result};
use crate::file_range::FileRange;
use crate::index::{OffsetIndex, TimeIndex};
use crate::mmap::Mapping;
use crate::storage::{self, Storage};

pub const LOG_SUFFIX: &str = ".log";
pub const INDEX_SUFFIX: &str = ".index";
pub const TIME_INDEX_SUFFIX: &str = ".timeindex";

/// Kafka's segment file name for a base offset and suffix.
pub fn file_name(base_offset: i64, suffix: &str) -> String {
    format!("{base_offset:020}{suffix}")
}

/// The base offset a segment file name encodes, if it is one of ours (20 digits + suffix).
pub fn parse_file_name(name: &str, suffix: &str) -> Option<i64> {
    let digits = name.strip_suffix(suffix)?;
    if digits.len() != 20 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// Largest relative offset an index entry can hold (Kafka stores it as a non-negative int).
pub const MAX_RELATIVE_OFFSET: i64 = i32::MAX as i64;

/// Bytes read at a time while scanning a segment (recovery, CRC checks).
const SCAN_CHUNK: usize = 1 << 20;

#[derive(Debug)]
enum Appender {
    Mmap { map: Mapping, allocated: u64 },
    Pwrite,
}

/// A file to fdatasync and how many of its leading bytes are meaningful.
#[derive(Clone, Debug)]
pub struct SyncTarget {
    pub file: Arc<File>,
    pub durable_len: u64,
    pub path: PathBuf,
}

#[derive(Debug)]
pub struct Segment {
    base_offset: i64,
    log_path: PathBuf,
    file: Arc<File>,
    published_end: Arc<AtomicU64>,
    /// Bytes of whole batches; equals `published_end` outside an append.
    size: u64,
    /// Offset after the last batch (the base offset when empty).
    next_offset: i64,
    appender: Option<Appender>,
    indexes_writable: bool,
    offset_index: OffsetIndex,
    time_index: TimeIndex,
    /// Largest batch maxTimestamp so far, and the last offset of the first batch reaching it.
    max_timestamp: i64,
    offset_of_max_timestamp: i64,
    /// maxTimestamp of the first append, the reference point for `segment.ms`.
    rolling_timestamp: Option<i64>,
    created_ms: i64,
    bytes_since_last_index_entry: u64,
}

impl Segment {
    /// Creates an empty active segment at `base_offset`, replacing any stale files of that name.
    pub fn create(
        storage: &dyn Storage,
        dir: &Path,
        base_offset: i64,
        config: &LogConfig,
        now_ms: i64,
    ) -> Result<Segment> {
        for suffix in [LOG_SUFFIX, INDEX_SUFFIX, TIME_INDEX_SUFFIX] {
            let path = dir.join(file_name(base_offset, suffix));
            match storage.remove_file(&path) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(Error::from_io("remove stale segment file", path, e)),
            }
        }
        let log_path = dir.join(file_name(base_offset, LOG_SUFFIX));
        let file = storage
            .open(&log_path, true)
            .map_err(|e| Error::from_io("create segment", &log_path, e))?;
        let index_bytes = config.segment_index_bytes;
        let offset_index = OffsetIndex::open(
            storage,
            &dir.join(file_name(base_offset, INDEX_SUFFIX)),
            base_offset,
            true,
            index_bytes,
        )?;
        let time_index = TimeIndex::open(
            storage,
            &dir.join(file_name(base_offset, TIME_INDEX_SUFFIX)),
            base_offset,
            true,
            index_bytes,
        )?;
        let mut segment = Segment {
            base_offset,
            log_path,
            file: Arc::new(file),
            published_end: Arc::new(AtomicU64::new(0)),
            size: 0,
            next_offset: base_offset,
            appender: None,
            indexes_writable: true,
            offset_index,
            time_index,
            max_timestamp: batch::NO_TIMESTAMP,
            offset_of_max_timestamp: -1,
            rolling_timestamp: None,
            created_ms: now_ms,
            bytes_since_last_index_entry: 0,
        };
        segment.activate(storage, config)?;
        Ok(segment)
    }

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
        let log_path = dir.join(file_name(base_offset, LOG_SUFFIX));
        let index_path = dir.join(file_name(base_offset, INDEX_SUFFIX));
        let time_index_path = dir.join(file_name(base_offset, TIME_INDEX_SUFFIX));
        let indexes_missing = !index_path.exists() || !time_index_path.exists();
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
            max_timestamp: batch::NO_TIMESTAMP,
            offset_of_max_timestamp: -1,
            rolling_timestamp: None,
            created_ms: now_ms,
            bytes_since_last_index_entry: 0,
        };
        if !writable && segment.load_from_indexes(storage).is_ok() {
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
        self.seal(storage)?;
        Ok(truncated)
    }

    /// Updates the max timestamp and maybe adds index entries for the batch at `position`, given
    /// the log bytes written since the last index entry.
    fn note_batch(
        &mut self,
        header: &BatchHeader,
        position: u64,
        bytes_since_last_entry: u64,
        interval: u64,
    ) {
        if header.max_timestamp > self.max_timestamp {
            self.max_timestamp = header.max_timestamp;
            self.offset_of_max_timestamp = header.last_offset();
        }
        if bytes_since_last_entry > interval {
            self.offset_index.append(header.last_offset(), position);
            self.time_index
                .maybe_append(self.max_timestamp, self.offset_of_max_timestamp);
        }
    }

    /// Makes this the active segment: indexes writable at `segment.index.bytes`, and in mmap
    /// mode the file mapped at its capacity (`segment.bytes`, or its size if larger).
    pub fn activate(&mut self, storage: &dyn Storage, config: &LogConfig) -> Result<()> {
        assert!(
            self.appender.is_none(),
            "segment {} is already active",
            self.base_offset
        );
        if !self.indexes_writable {
            self.offset_index
                .make_writable(storage, config.segment_index_bytes)?;
            self.time_index
                .make_writable(storage, config.segment_index_bytes)?;
            self.indexes_writable = true;
        }
        self.appender = Some(match config.append_mode {
            AppendMode::Pwrite => Appender::Pwrite,
            AppendMode::Mmap => {
                let capacity = config.segment_bytes.max(self.size);
                let len = usize::try_from(capacity).expect("segment.bytes fits usize");
                let map = Mapping::map(&self.file, len, true)
                    .map_err(|e| Error::from_io("mmap segment", &self.log_path, e))?;
                Appender::Mmap {
                    map,
                    allocated: self.size,
                }
            }
        });
        Ok(())
    }

    /// Ends the active life of the segment (roll, close, after recovery): final time index entry,
    /// mapping dropped, preallocated tail cut off, indexes trimmed and read-only. Idempotent.
    pub fn seal(&mut self, storage: &dyn Storage) -> Result<()> {
        if self.indexes_writable && self.max_timestamp >= 0 {
            self.time_index.reserve(storage, 1)?;
            self.time_index
                .append_final(self.max_timestamp, self.offset_of_max_timestamp);
        }
        self.appender = None;
        let file_len = self
            .file
            .metadata()
            .map_err(|e| Error::from_io("stat segment", &self.log_path, e))?
            .len();
        if file_len != self.size {
            storage
                .set_len(&self.file, self.size)
                .map_err(|e| Error::from_io("trim segment", &self.log_path, e))?;
        }
        if self.indexes_writable {
            self.offset_index.trim(storage)?;
            self.time_index.trim(storage)?;
            self.indexes_writable = false;
        }
        Ok(())
    }

    pub fn is_active(&self) -> bool {
        self.appender.is_some()
    }

    /// Bytes this segment can hold in its current activation (the mapping size in mmap mode).
    pub fn capacity(&self) -> u64 {
        match &self.appender {
            Some(Appender::Mmap { map, .. }) => map.len() as u64,
            _ => u64::MAX,
        }
    }

    /// Makes room for `bytes` more (mmap mode: fallocate up to the next step boundary, capped at
    /// the mapping). Nothing is written; on error (ENOSPC) the segment is unchanged.
    pub fn reserve(&mut self, storage: &dyn Storage, bytes: u64, step: u64) -> Result<()> {
        let size = self.size;
        let Some(Appender::Mmap { map, allocated }) = &mut self.appender else {
            return Ok(());
        };
        let end = size + bytes;
        assert!(
            end <= map.len() as u64,
            "append past the mapping: roll must come first"
        );
        if end > *allocated {
            let target = end
                .div_ceil(step)
                .saturating_mul(step)
                .min(map.len() as u64);
            storage
                .allocate(&self.file, *allocated, target - *allocated)
                .map_err(|e| Error::from_io("fallocate segment", &self.log_path, e))?;
            *allocated = target;
        }
        Ok(())
    }

    /// Appends validated batches with offsets assigned, updates the indexes and publishes the new
    /// end. `max_timestamp` is the append's largest timestamp (the `segment.ms` reference when
    /// this is the segment's first append).
    pub fn append(
        &mut self,
        storage: &dyn Storage,
        records: &[u8],
        max_timestamp: i64,
        index_interval_bytes: u64,
    ) -> Result<()> {
        let position = self.size;
        let len = records.len() as u64;
        // Index blocks first: each batch adds at most one entry to each index (the time index
        // keeps one more for `seal`), and a full disk must fail here, before any byte is written.
        let batches = batch::batches(records).count();
        self.offset_index.reserve(storage, batches)?;
        self.time_index.reserve(storage, batches + 1)?;
        match self.appender.as_mut().expect("append to a sealed segment") {
            Appender::Mmap { map, allocated } => {
                assert!(
                    position + len <= *allocated,
                    "mapped write past the fallocated end"
                );
                let dst = map.slice_mut(position as usize, records.len());
                storage
                    .copy_into_map(&self.file, dst, records)
                    .map_err(|e| Error::from_io("write segment", &self.log_path, e))?;
            }
            Appender::Pwrite => {
                storage::write_all_at(storage, &self.file, records, position)
                    .map_err(|e| Error::from_io("write segment", &self.log_path, e))?;
            }
        }
        if position == 0 {
            self.rolling_timestamp = Some(max_timestamp);
        }
        for (at, header) in batch::batches(records) {
            let batch_position = position + at as u64;
            self.note_batch(
                &header,
                batch_position,
                self.bytes_since_last_index_entry,
                index_interval_bytes,
            );
            if self
                .offset_index
                .last_entry()
                .is_some_and(|e| e.position == batch_position)
            {
                self.bytes_since_last_index_entry = 0;
            }
            self.bytes_since_last_index_entry += header.size();
            self.next_offset = header.last_offset() + 1;
        }
        self.size = position + len;
        self.published_end.store(self.size, Ordering::Release);
        Ok(())
    }

    pub fn base_offset(&self) -> i64 {
        self.base_offset
    }

    pub fn next_offset(&self) -> i64 {
        self.next_offset
    }

    pub fn size(&self) -> u64 {
        self.size
    }

    pub fn created_ms(&self) -> i64 {
        self.created_ms
    }

    pub fn rolling_timestamp(&self) -> Option<i64> {
        self.rolling_timestamp
    }

    pub fn max_timestamp(&self) -> i64 {
        self.max_timestamp
    }

    pub fn offset_of_max_timestamp(&self) -> i64 {
        self.offset_of_max_timestamp
    }

    pub fn offset_index_full(&self) -> bool {
        self.offset_index.is_full()
    }

    pub fn time_index_full(&self) -> bool {
        self.time_index.is_full()
    }

    pub fn log_path(&self) -> &Path {
        &self.log_path
    }

    /// The log file, for the cleaner's reads on another thread and for telling this segment
    /// from a later one at the same base offset (`Arc::ptr_eq`).
    pub fn file(&self) -> &Arc<File> {
        &self.file
    }

    /// Bytes of the offset index and of the time index entries (the cleaner's grouping bound).
    pub fn index_bytes(&self) -> (u64, u64) {
        (
            (self.offset_index.entries() * crate::index::OFFSET_ENTRY_SIZE) as u64,
            (self.time_index.entries() * crate::index::TIME_ENTRY_SIZE) as u64,
        )
    }

    /// The timestamp retention.ms compares against: the largest batch timestamp, or the file's
    /// modification time when no batch carries one (Kafka's `largestTimestamp`).
    pub fn largest_timestamp(&self) -> Result<i64> {
        if self.max_timestamp >= 0 {
            return Ok(self.max_timestamp);
        }
        let modified = self
            .file
            .metadata()
            .and_then(|m| m.modified())
            .map_err(|e| Error::from_io("stat segment", &self.log_path, e))?;
        let ms = modified
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as i64);
        Ok(ms)
    }

    /// A range of this segment for the connection writer.
    pub fn range(&self, position: u64, len: u64) -> FileRange {
        assert!(position + len <= self.size, "range past the segment end");
        FileRange::new(self.file.clone(), position, len, self.published_end.clone())
    }

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

    fn read_batch(
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

    /// Removes the batch holding `offset` and everything after it, then rebuilds the indexes.
    /// In-flight `FileRange`s past the cut are shortened (the published end moves back first).
    /// Leaves the segment sealed; returns the new next offset.
    pub fn truncate_from(
        &mut self,
        storage: &dyn Storage,
        config: &LogConfig,
        offset: i64,
    ) -> Result<i64> {
        let Some((position, _)) = self.find_batch(storage, offset)? else {
            self.seal(storage)?;
            return Ok(self.next_offset);
        };
        self.published_end.store(position, Ordering::Release);
        self.appender = None;
        self.size = position;
        storage
            .set_len(&self.file, position)
            .map_err(|e| Error::from_io("truncate segment", &self.log_path, e))?;
        self.recover(storage, config)?;
        Ok(self.next_offset)
    }

    /// The files to fdatasync to make this segment durable as it stands.
    pub fn sync_targets(&self) -> [SyncTarget; 3] {
        let (index_file, index_len, index_path) = self.offset_index.sync_target();
        let (time_file, time_len, time_path) = self.time_index.sync_target();
        [
            SyncTarget {
                file: self.file.clone(),
                durable_len: self.size,
                path: self.log_path.clone(),
            },
            SyncTarget {
                file: index_file,
                durable_len: index_len,
                path: index_path,
            },
            SyncTarget {
                file: time_file,
                durable_len: time_len,
                path: time_path,
            },
        ]
    }

    /// Unlinks the segment's files. `FileRange`s still held elsewhere keep the log inode alive.
    pub fn delete(mut self, storage: &dyn Storage) -> Result<()> {
        self.appender = None;
        let paths = [
            self.log_path.clone(),
            self.offset_index.path().to_path_buf(),
            self.time_index.path().to_path_buf(),
        ];
        for path in paths {
            match storage.remove_file(&path) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(Error::from_io("delete segment file", path, e)),
            }
        }
        Ok(())
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
