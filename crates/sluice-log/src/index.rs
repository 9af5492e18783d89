//! The sparse per-segment indexes, memory-mapped in both append modes.
//!
//! On-disk formats, set in stone by Kafka (`OffsetIndex.java`, `TimeIndex.java`); big-endian:
//!
//! ```text
//! <base>.index      8-byte entries:  relativeOffset u32 (offset - base) | position u32 (byte in .log)
//! <base>.timeindex 12-byte entries:  timestamp i64                      | relativeOffset u32
//! ```
//!
//! An offset index entry maps the LAST offset of a batch to the position where that batch starts;
//! entries are strictly increasing in both fields. A time index entry `(t, o)` says: every batch
//! up to and including the one holding offset `o` has maxTimestamp <= t, and `o`'s batch is the
//! first to reach `t`; timestamps strictly increase, offsets never decrease. One entry of each is
//! considered every `index.interval.bytes` of log (see `segment/`).
//!
//! While a segment is active its index files are extended (sparse) to `segment.index.bytes`
//! rounded down to whole entries and mapped writable; when it rolls or the log closes they are
//! trimmed to their entries and mapped read-only. After an unclean shutdown the untrimmed files
//! of the active segment are rebuilt by recovery, never trusted.
//!
//! Disk full: a store into a hole of a shared mapping that the file system cannot back kills the
//! process with SIGBUS. So entries are only ever written into blocks reserved beforehand with
//! fallocate (`reserve`, `INDEX_RESERVE_STEP_BYTES` at a time), and ENOSPC surfaces there as an
//! error value before anything of the append is written.
//!
//! Concurrency contract: owned by one segment; only the partition's appender thread reads or
//! writes an index (readers on other threads get `FileRange`s, never index access).

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::error::{Error, Result};
use crate::mmap::Mapping;
use crate::storage::Storage;

pub const OFFSET_ENTRY_SIZE: usize = 8;
pub const TIME_ENTRY_SIZE: usize = 12;

/// Entries searched first: lookups mostly target the tail (consumers near the end), so keeping
/// the binary search inside the last 8 KiB keeps it inside pages that are already resident
/// (Kafka's "warm section").
const WARM_SECTION_BYTES: usize = 8192;

/// How far ahead of the entries in use index blocks are reserved (fallocate): one call per
/// 2048 offset entries, about 8 MiB of log at the default `index.interval.bytes`.
const INDEX_RESERVE_STEP_BYTES: usize = 16 * 1024;

/// The file, mapping and entry count shared by both index kinds.
#[derive(Debug)]
struct IndexFile {
    path: PathBuf,
    file: Arc<File>,
    map: Option<Mapping>,
    entry_size: usize,
    entries: usize,
    /// Capacity in entries while writable; equal to `entries` once trimmed.
    max_entries: usize,
    /// Leading bytes of the file known to be backed by blocks (fallocated by `reserve`); entries
    /// are written only below this. 0 after open: what a previous run left is not trusted.
    reserved: usize,
    writable: bool,
    /// The file did not hold a whole number of entries when opened (a torn index write).
    opened_torn: bool,
}

impl IndexFile {
    /// Opens (creating if missing) an index file. Writable: the file is extended to
    /// `max_bytes` (rounded down to whole entries) and mapped at that size. Read-only: mapped at
    /// its current size. Existing bytes are taken as entries; callers sanity-check or rebuild.
    fn open(
        storage: &dyn Storage,
        path: &Path,
        entry_size: usize,
        writable: bool,
        max_bytes: u64,
    ) -> Result<IndexFile> {
        let file = storage
            .open(path, true)
            .map_err(|e| Error::from_io("open index", path, e))?;
        let len = file
            .metadata()
            .map_err(|e| Error::from_io("stat index", path, e))?
            .len();
        let entries = (len / entry_size as u64) as usize;
        let mut index = IndexFile {
            path: path.to_path_buf(),
            file: Arc::new(file),
            map: None,
            entry_size,
            entries,
            max_entries: entries,
            reserved: 0,
            writable: false,
            opened_torn: len % entry_size as u64 != 0,
        };
        if writable {
            index.make_writable(storage, max_bytes)?;
        } else {
            index.remap(false)?;
        }
        Ok(index)
    }

    fn remap(&mut self, writable: bool) -> Result<()> {
        self.map = None;
        let bytes = if writable {
            self.max_entries
        } else {
            self.entries
        } * self.entry_size;
        if bytes > 0 {
            let map = Mapping::map(&self.file, bytes, writable)
                .map_err(|e| Error::from_io("mmap index", &self.path, e))?;
            self.map = Some(map);
        }
        self.writable = writable;
        Ok(())
    }

    /// Extends the file to `max_bytes` (whole entries, never below the current entries) and maps
    /// it writable.
    fn make_writable(&mut self, storage: &dyn Storage, max_bytes: u64) -> Result<()> {
        let max_entries = ((max_bytes / self.entry_size as u64) as usize).max(self.entries);
        self.map = None;
        storage
            .set_len(&self.file, (max_entries * self.entry_size) as u64)
            .map_err(|e| Error::from_io("extend index", &self.path, e))?;
        self.max_entries = max_entries;
        self.remap(true)
    }

    /// Cuts the file to its entries and maps it read-only (segment rolled or log closing).
    fn trim(&mut self, storage: &dyn Storage) -> Result<()> {
        self.map = None;
        storage
            .set_len(&self.file, (self.entries * self.entry_size) as u64)
            .map_err(|e| Error::from_io("trim index", &self.path, e))?;
        self.max_entries = self.entries;
        self.reserved = self.reserved.min(self.entries * self.entry_size);
        self.remap(false)
    }

    /// Makes sure the next `more` entries (as many as fit) land in reserved blocks, reserving
    /// `INDEX_RESERVE_STEP_BYTES` at a time. On ENOSPC nothing changes and the error is NO_SPACE.
    fn reserve(&mut self, storage: &dyn Storage, more: usize) -> Result<()> {
        assert!(
            self.writable,
            "reserve in a read-only index {}",
            self.path.display()
        );
        let capacity = self.max_entries * self.entry_size;
        let wanted = (self.entries.saturating_add(more)).min(self.max_entries) * self.entry_size;
        if wanted <= self.reserved {
            return Ok(());
        }
        let target = wanted
            .div_ceil(INDEX_RESERVE_STEP_BYTES)
            .saturating_mul(INDEX_RESERVE_STEP_BYTES)
            .min(capacity);
        storage
            .allocate(
                &self.file,
                self.reserved as u64,
                (target - self.reserved) as u64,
            )
            .map_err(|e| Error::from_io("fallocate index", &self.path, e))?;
        self.reserved = target;
        Ok(())
    }

    fn entry(&self, n: usize) -> &[u8] {
        assert!(n < self.entries, "index entry {n} of {}", self.entries);
        let map = self.map.as_ref().expect("an index with entries is mapped");
        map.slice(n * self.entry_size, self.entry_size)
    }

    fn push(&mut self, bytes: &[u8]) {
        assert!(
            self.writable,
            "append to a read-only index {}",
            self.path.display()
        );
        assert!(
            self.entries < self.max_entries,
            "append to a full index {}",
            self.path.display()
        );
        assert_eq!(bytes.len(), self.entry_size);
        let at = self.entries * self.entry_size;
        assert!(
            at + self.entry_size <= self.reserved,
            "index entry written past the reserved blocks of {} (SIGBUS on a full disk)",
            self.path.display()
        );
        let map = self
            .map
            .as_mut()
            .expect("a writable index with capacity is mapped");
        map.slice_mut(at, self.entry_size).copy_from_slice(bytes);
        self.entries += 1;
    }

    fn is_full(&self) -> bool {
        self.entries >= self.max_entries
    }

    fn sync_target(&self) -> (Arc<File>, u64, PathBuf) {
        (
            self.file.clone(),
            (self.entries * self.entry_size) as u64,
            self.path.clone(),
        )
    }

    /// Index of the last entry whose key is <= `target`, searching the warm tail first.
    fn floor_slot(&self, target: i64, key: impl Fn(&[u8]) -> i64) -> Option<usize> {
        if self.entries == 0 || key(self.entry(0)) > target {
            return None;
        }
        let warm_entries = (WARM_SECTION_BYTES / self.entry_size).max(1);
        let warm_start = self.entries.saturating_sub(warm_entries);
        let (lo, hi) = if key(self.entry(warm_start)) <= target {
            (warm_start, self.entries)
        } else {
            (0, warm_start)
        };
        // Invariant: key(lo) <= target; answer in [lo, hi).
        let (mut lo, mut hi) = (lo, hi);
        while hi - lo > 1 {
            let mid = lo + (hi - lo) / 2;
            if key(self.entry(mid)) <= target {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        Some(lo)
    }
}

fn be_u32(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes(b[at..at + 4].try_into().expect("4 bytes"))
}

fn be_i64(b: &[u8], at: usize) -> i64 {
    i64::from_be_bytes(b[at..at + 8].try_into().expect("8 bytes"))
}

/// One offset index entry, with the relative offset made absolute.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OffsetPosition {
    pub offset: i64,
    pub position: u64,
}

#[derive(Debug)]
pub struct OffsetIndex {
    base_offset: i64,
    inner: IndexFile,
}

impl OffsetIndex {
    pub fn open(
        storage: &dyn Storage,
        path: &Path,
        base_offset: i64,
        writable: bool,
        max_bytes: u64,
    ) -> Result<OffsetIndex> {
        Ok(OffsetIndex {
            base_offset,
            inner: IndexFile::open(storage, path, OFFSET_ENTRY_SIZE, writable, max_bytes)?,
        })
    }

    pub fn entries(&self) -> usize {
        self.inner.entries
    }

    pub fn is_full(&self) -> bool {
        self.inner.is_full()
    }

    fn parse(&self, n: usize) -> OffsetPosition {
        let e = self.inner.entry(n);
        OffsetPosition {
            offset: self.base_offset + be_u32(e, 0) as i64,
            position: be_u32(e, 4) as u64,
        }
    }

    pub fn last_entry(&self) -> Option<OffsetPosition> {
        (self.inner.entries > 0).then(|| self.parse(self.inner.entries - 1))
    }

    /// Appends (last offset of a batch, its position). Skipped when the index is full: the index
    /// is sparse, lookups then scan a little further, and the next append rolls the segment.
    pub fn append(&mut self, offset: i64, position: u64) {
        if self.inner.is_full() {
            return;
        }
        let relative = u32::try_from(offset - self.base_offset)
            .expect("relative offset fits u32 (roll guarantees it)");
        let position32 =
            u32::try_from(position).expect("segment position fits u32 (segment.bytes <= i32::MAX)");
        if let Some(last) = self.last_entry() {
            assert!(
                offset > last.offset,
                "offset index must grow: {offset} after {}",
                last.offset
            );
            assert!(
                position > last.position,
                "offset index positions must grow: {position} after {}",
                last.position
            );
        }
        let mut bytes = [0u8; OFFSET_ENTRY_SIZE];
        bytes[..4].copy_from_slice(&relative.to_be_bytes());
        bytes[4..].copy_from_slice(&position32.to_be_bytes());
        self.inner.push(&bytes);
    }

    /// The entry with the greatest offset <= `target`, or (base offset, 0) if there is none.
    pub fn lookup(&self, target: i64) -> OffsetPosition {
        match self
            .inner
            .floor_slot(target, |e| self.base_offset + be_u32(e, 0) as i64)
        {
            Some(slot) => self.parse(slot),
            None => OffsetPosition {
                offset: self.base_offset,
                position: 0,
            },
        }
    }

    /// The entry with the greatest position <= `position` (positions grow with offsets).
    pub fn floor_by_position(&self, position: u64) -> Option<OffsetPosition> {
        let target = i64::try_from(position).unwrap_or(i64::MAX);
        self.inner
            .floor_slot(target, |e| be_u32(e, 4) as i64)
            .map(|slot| self.parse(slot))
    }

    pub fn reset(&mut self) {
        assert!(self.inner.writable, "reset of a read-only index");
        self.inner.entries = 0;
        self.inner.opened_torn = false;
    }

    /// Checks what a reopened index must satisfy against its segment: whole entries, offsets
    /// and positions strictly increasing, every position inside the log.
    pub fn sanity_check(&self, log_size: u64) -> std::result::Result<(), String> {
        if self.inner.opened_torn {
            return Err("file size is not a whole number of 8-byte entries".into());
        }
        let mut previous: Option<OffsetPosition> = None;
        for n in 0..self.inner.entries {
            let entry = self.parse(n);
            if entry.position >= log_size {
                return Err(format!(
                    "entry {n} points at byte {} of a {log_size}-byte log",
                    entry.position
                ));
            }
            if let Some(p) = previous
                && (entry.offset <= p.offset || entry.position <= p.position)
            {
                return Err(format!(
                    "entry {n} ({}, {}) does not follow ({}, {})",
                    entry.offset, entry.position, p.offset, p.position
                ));
            }
            previous = Some(entry);
        }
        Ok(())
    }

    pub fn make_writable(&mut self, storage: &dyn Storage, max_bytes: u64) -> Result<()> {
        self.inner.make_writable(storage, max_bytes)
    }

    /// Reserves blocks for the next `entries` entries (see `IndexFile::reserve`).
    pub fn reserve(&mut self, storage: &dyn Storage, entries: usize) -> Result<()> {
        self.inner.reserve(storage, entries)
    }

    pub fn trim(&mut self, storage: &dyn Storage) -> Result<()> {
        self.inner.trim(storage)
    }

    pub fn sync_target(&self) -> (Arc<File>, u64, PathBuf) {
        self.inner.sync_target()
    }

    pub fn path(&self) -> &Path {
        &self.inner.path
    }
}

/// One time index entry, with the relative offset made absolute.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TimestampOffset {
    pub timestamp: i64,
    pub offset: i64,
}

#[derive(Debug)]
pub struct TimeIndex {
    base_offset: i64,
    inner: IndexFile,
}

impl TimeIndex {
    pub fn open(
        storage: &dyn Storage,
        path: &Path,
        base_offset: i64,
        writable: bool,
        max_bytes: u64,
    ) -> Result<TimeIndex> {
        Ok(TimeIndex {
            base_offset,
            inner: IndexFile::open(storage, path, TIME_ENTRY_SIZE, writable, max_bytes)?,
        })
    }

    pub fn entries(&self) -> usize {
        self.inner.entries
    }

    /// Full for regular appends one entry early: the last slot is kept for the final entry
    /// written when the segment rolls or closes (see `append_final`).
    pub fn is_full(&self) -> bool {
        self.inner.entries + 1 >= self.inner.max_entries
    }

    fn parse(&self, n: usize) -> TimestampOffset {
        let e = self.inner.entry(n);
        TimestampOffset {
            timestamp: be_i64(e, 0),
            offset: self.base_offset + be_u32(e, 8) as i64,
        }
    }

    pub fn last_entry(&self) -> Option<TimestampOffset> {
        (self.inner.entries > 0).then(|| self.parse(self.inner.entries - 1))
    }

    /// Appends `(timestamp, offset)` if the timestamp is larger than the last entry's and the
    /// index is not full (Kafka's `maybeAppend`).
    pub fn maybe_append(&mut self, timestamp: i64, offset: i64) {
        if !self.is_full() {
            self.append_if_newer(timestamp, offset);
        }
    }

    /// The entry written when the segment rolls or closes, so the last entry always carries the
    /// segment's largest timestamp (reopen reads it from there). Uses the reserved slot.
    pub fn append_final(&mut self, timestamp: i64, offset: i64) {
        if !self.inner.is_full() {
            self.append_if_newer(timestamp, offset);
        }
    }

    fn append_if_newer(&mut self, timestamp: i64, offset: i64) {
        if timestamp < 0 {
            return;
        }
        if let Some(last) = self.last_entry() {
            if timestamp <= last.timestamp {
                return;
            }
            assert!(
                offset >= last.offset,
                "time index offsets must not go back: {offset} after {}",
                last.offset
            );
        }
        let relative = u32::try_from(offset - self.base_offset)
            .expect("relative offset fits u32 (roll guarantees it)");
        let mut bytes = [0u8; TIME_ENTRY_SIZE];
        bytes[..8].copy_from_slice(&timestamp.to_be_bytes());
        bytes[8..].copy_from_slice(&relative.to_be_bytes());
        self.inner.push(&bytes);
    }

    /// The entry with the greatest timestamp <= `target`, if any.
    pub fn lookup(&self, target: i64) -> Option<TimestampOffset> {
        self.inner
            .floor_slot(target, |e| be_i64(e, 0))
            .map(|slot| self.parse(slot))
    }

    pub fn reset(&mut self) {
        assert!(self.inner.writable, "reset of a read-only index");
        self.inner.entries = 0;
        self.inner.opened_torn = false;
    }

    /// Whole entries, timestamps strictly increasing, offsets non-decreasing and inside
    /// `[base, next_offset)`.
    pub fn sanity_check(&self, next_offset: i64) -> std::result::Result<(), String> {
        if self.inner.opened_torn {
            return Err("file size is not a whole number of 12-byte entries".into());
        }
        let mut previous: Option<TimestampOffset> = None;
        for n in 0..self.inner.entries {
            let entry = self.parse(n);
            if entry.offset >= next_offset {
                return Err(format!(
                    "entry {n} names offset {} at or past the segment end {next_offset}",
                    entry.offset
                ));
            }
            if let Some(p) = previous
                && (entry.timestamp <= p.timestamp || entry.offset < p.offset)
            {
                return Err(format!(
                    "entry {n} ({}, {}) does not follow ({}, {})",
                    entry.timestamp, entry.offset, p.timestamp, p.offset
                ));
            }
            previous = Some(entry);
        }
        Ok(())
    }

    pub fn make_writable(&mut self, storage: &dyn Storage, max_bytes: u64) -> Result<()> {
        self.inner.make_writable(storage, max_bytes)
    }

    /// Reserves blocks for the next `entries` entries (see `IndexFile::reserve`).
    pub fn reserve(&mut self, storage: &dyn Storage, entries: usize) -> Result<()> {
        self.inner.reserve(storage, entries)
    }

    pub fn trim(&mut self, storage: &dyn Storage) -> Result<()> {
        self.inner.trim(storage)
    }

    pub fn sync_target(&self) -> (Arc<File>, u64, PathBuf) {
        self.inner.sync_target()
    }

    pub fn path(&self) -> &Path {
        &self.inner.path
    }
}
