//! One segment of a partition log: `<base>.log` plus its `.index`, `.timeindex` and `.txnindex`
//! (the list of a segment's files is `SegmentFile::ALL`, in `files.rs`; the transaction index's
//! format is in `txn_index.rs`).
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
//! with `Acquire`. It only moves back on `truncate_to`; a range it cuts can no longer deliver
//! its length, and the connection writer fails such a send rather than send it short.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::config::{AppendMode, LogConfig};
use crate::error::{Error, Result};
use crate::file_range::FileRange;
use crate::index::{OffsetIndex, TimeIndex};
use crate::mmap::Mapping;
use crate::records::batch::{self, BatchHeader};
use crate::storage::{self, Storage};
mod files;
mod lookup;
mod recovery;
mod txn_index;

pub use files::{SegmentFile, SyncTarget, file_name, parse_file_name, remove_segment_files};
pub use txn_index::{AbortedTxn, TXN_ENTRY_SIZE, TxnIndex, TxnSearch};

/// Largest relative offset an index entry can hold (Kafka stores it as a non-negative int).
pub const MAX_RELATIVE_OFFSET: i64 = i32::MAX as i64;

#[derive(Debug)]
enum Appender {
    Mmap { map: Mapping, allocated: u64 },
    Pwrite,
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
    txn_index: TxnIndex,
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
        remove_segment_files(storage, dir, base_offset, "remove stale segment file")?;
        let log_path = SegmentFile::Log.path(dir, base_offset);
        let file = storage
            .open(&log_path, true)
            .map_err(|e| Error::from_io("create segment", &log_path, e))?;
        let index_bytes = config.segment_index_bytes;
        let offset_index = OffsetIndex::open(
            storage,
            &SegmentFile::OffsetIndex.path(dir, base_offset),
            base_offset,
            true,
            index_bytes,
        )?;
        let time_index = TimeIndex::open(
            storage,
            &SegmentFile::TimeIndex.path(dir, base_offset),
            base_offset,
            true,
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
            published_end: Arc::new(AtomicU64::new(0)),
            size: 0,
            next_offset: base_offset,
            appender: None,
            indexes_writable: true,
            offset_index,
            time_index,
            txn_index,
            max_timestamp: batch::NO_TIMESTAMP,
            offset_of_max_timestamp: -1,
            rolling_timestamp: None,
            created_ms: now_ms,
            bytes_since_last_index_entry: 0,
        };
        segment.activate(storage, config)?;
        Ok(segment)
    }

    /// Updates the max timestamp and maybe adds index entries for the batch at `position`, given
    /// the log bytes written since the last index entry.
    pub(super) fn note_batch(
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

    /// Removes the batch holding `offset` and everything after it, then rebuilds the indexes.
    /// In-flight `FileRange`s past the cut can no longer deliver their length (the published end
    /// moves back first, then the file is cut); the writer fails their sends.
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

    /// The files to fdatasync to make this segment durable as it stands, one per
    /// `SegmentFile::ALL` that exists (the transaction index is created by its first entry).
    pub fn sync_targets(&self) -> impl Iterator<Item = SyncTarget> + '_ {
        SegmentFile::ALL
            .iter()
            .filter_map(|&kind| self.sync_target(kind))
    }

    fn sync_target(&self, kind: SegmentFile) -> Option<SyncTarget> {
        let (file, durable_len, path) = match kind {
            SegmentFile::Log => (self.file.clone(), self.size, self.log_path.clone()),
            SegmentFile::OffsetIndex => self.offset_index.sync_target(),
            SegmentFile::TimeIndex => self.time_index.sync_target(),
            SegmentFile::TxnIndex => self.txn_index.sync_target()?,
        };
        Some(SyncTarget {
            file,
            durable_len,
            path,
        })
    }

    /// The aborted transactions whose ABORT marker is in this segment.
    pub fn txn_index(&self) -> &TxnIndex {
        &self.txn_index
    }

    /// Adds the entry of an ABORT marker this segment holds (append or recovery).
    pub fn append_aborted_txn(&mut self, storage: &dyn Storage, entry: AbortedTxn) -> Result<()> {
        // The marker is in the segment, or about to be appended to it (the entry goes first).
        assert!(
            entry.last_offset >= self.base_offset && entry.last_offset <= self.next_offset,
            "the ABORT marker at {} is not in the segment [{}, {}]",
            entry.last_offset,
            self.base_offset,
            self.next_offset
        );
        self.txn_index.append(storage, entry)
    }

    /// Drops the transaction index entries of markers at or past `offset` (recovery replays
    /// them).
    pub fn truncate_txn_index(&mut self, storage: &dyn Storage, offset: i64) -> Result<()> {
        self.txn_index.truncate_from(storage, offset)
    }

    /// Unlinks the segment's files. `FileRange`s still held elsewhere keep the log inode alive.
    pub fn delete(mut self, storage: &dyn Storage) -> Result<()> {
        self.appender = None;
        let dir = self
            .log_path
            .parent()
            .expect("a segment file is in a directory");
        remove_segment_files(storage, dir, self.base_offset, "delete segment file")
    }
}
