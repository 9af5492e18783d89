//! The heavy half of a clean, run on any thread from immutable closed segments (Kafka's
//! `Cleaner.doClean`):
//!
//! 1. Offset map: the dirty section (first dirty offset to first uncleanable offset) is read
//!    record by record (decompressing), key -> latest offset, until the map is full; the map's
//!    latest offset then says how far this clean goes (`end_offset`).
//! 2. The closed segments below `end_offset`, from the log start, are grouped (Kafka's
//!    `groupSegmentsBySize`: at most `segment.bytes` of log and `segment.index.bytes` of each
//!    index per group, relative offsets within an int) and each group is filtered (`filter.rs`)
//!    into one new segment `<first base>.log.cleaned` with `.index.cleaned` and
//!    `.timeindex.cleaned` built by the same rule as appends. The group's last batch is always
//!    kept (empty if need be), so the new segment ends exactly where the group ended and the
//!    segments stay contiguous (recovery reads a gap as a lost tail); so is the last batch of
//!    each active producer (from the log's producer state at plan time: Kafka keeps it so the
//!    producer's sequence state survives). Files are fdatasync'd.
//! 3. A group whose output would equal its single input is dropped from the result (no swap).
//!
//! The job never touches the `Log`; `Log::apply_clean` swaps the results in on the log's thread.
//! Aborting (the log closed, was truncated or deleted) is checked between batches.
//!
//! Bounds: the offset map's budget; one batch in memory at a time (up to
//! `MAX_INSPECTED_BATCH_BYTES`; larger batches are copied through in chunks and kept whole); a
//! 1 MiB read chunk and a 1 MiB write buffer; the producers' last offsets (one entry per
//! producer the log's state holds, bounded by `producer.id.expiration.ms` as in Kafka).
//!
//! Concurrency contract: `CleanJob` is `Send`; it owns `Arc`s of the segment files it reads (the
//! log may delete them meanwhile: the inodes live on) and writes only `.cleaned` files.

use std::collections::HashMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::SystemTime;

use crate::config::LogConfig;
use crate::error::{Error, Result};
use crate::index::{OffsetIndex, TimeIndex};
use crate::log::cleaner::filter::{self, FilterContext, Filtered};
use crate::log::cleaner::offset_map::OffsetMap;
use crate::log::cleaner::txns::{AbortedBatches, EmptyTxns};
use crate::log::cleaner::{CLEANED_SUFFIX, CleanStats, CleanerSettings, suffixed};
use crate::records::batch::{self, BatchHeader, HEADER_SIZE};
use crate::records::record;
use crate::segment::{AbortedTxn, MAX_RELATIVE_OFFSET, SegmentFile, TxnIndex};
use crate::storage::{self, Storage};

/// Batches up to this size are read into memory and filtered; larger ones are kept whole.
pub const MAX_INSPECTED_BATCH_BYTES: u64 = 32 << 20;
/// Sequential reads of a segment go through a buffer of this size.
const READ_CHUNK_BYTES: usize = 1 << 20;
/// Output is written in pieces of this size.
const WRITE_BUFFER_BYTES: usize = 1 << 20;

/// A closed segment as the plan saw it.
#[derive(Debug)]
pub(crate) struct SegmentSource {
    pub base: i64,
    pub next_offset: i64,
    pub size: u64,
    pub file: Arc<File>,
    pub path: PathBuf,
    /// Bytes of the offset index and time index entries.
    pub index_bytes: (u64, u64),
    /// Its transaction index entries at plan time (a closed segment's never change): the
    /// cleaned segment gets them all, since markers and transactional batches are kept.
    pub aborted: Vec<AbortedTxn>,
}

/// A planned clean of one log; `run` does the work (on any thread).
#[derive(Debug)]
pub struct CleanJob {
    pub(crate) dir: PathBuf,
    pub(crate) storage: Arc<dyn Storage>,
    pub(crate) config: LogConfig,
    pub(crate) settings: CleanerSettings,
    pub(crate) now_ms: i64,
    pub(crate) first_dirty: i64,
    pub(crate) first_uncleanable: i64,
    /// Where the map scan starts in the segment holding `first_dirty`.
    pub(crate) dirty_start_position: u64,
    /// Closed segments below `first_uncleanable`, oldest first.
    pub(crate) segments: Vec<SegmentSource>,
    /// Each active producer id's last batch (its last offset): kept even when emptied.
    pub(crate) producer_last_offsets: HashMap<i64, i64>,
    /// Active producers with no data batch in their current epoch, and that epoch: their
    /// markers of it are kept (Kafka's `isBatchLastRecordOfProducer`, third case).
    pub(crate) producer_marker_epochs: HashMap<i64, i16>,
    /// The aborted transactions overlapping the cleanable range (Kafka's
    /// `collectAbortedTransactions`, which reads later segments' indexes too): a transactional
    /// batch in the range is aborted data if one of these covers it, else committed data.
    pub(crate) aborted: Vec<AbortedTxn>,
    pub(crate) abort: Arc<AtomicBool>,
}

/// One cleaned group, its files written as `.cleaned` and synced.
#[derive(Debug)]
pub(crate) struct CleanedGroup {
    pub base: i64,
    /// The segments it replaces: base offset, file (identity) and size at plan time.
    pub replaces: Vec<(i64, Arc<File>, u64)>,
}

/// What a job produced.
#[derive(Debug)]
pub(crate) enum JobResult {
    Cleaned {
        groups: Vec<CleanedGroup>,
        end_offset: i64,
        stats: CleanStats,
    },
    Aborted,
    Failed(Error),
}

/// A finished job, for `Log::apply_clean`.
#[derive(Debug)]
pub struct CleanOutcome {
    pub(crate) dir: PathBuf,
    pub(crate) storage: Arc<dyn Storage>,
    pub(crate) abort: Arc<AtomicBool>,
    pub(crate) result: JobResult,
}

struct Aborted;

/// Failures inside the job: an error, or the log asked it to stop.
enum Stop {
    Error(Error),
    Aborted,
}

impl From<Error> for Stop {
    fn from(e: Error) -> Stop {
        Stop::Error(e)
    }
}

impl From<Aborted> for Stop {
    fn from(_: Aborted) -> Stop {
        Stop::Aborted
    }
}

impl CleanJob {
    /// Does the clean; never panics on bad data (a segment that does not parse is an error).
    pub fn run(self) -> CleanOutcome {
        let mut created: Vec<PathBuf> = Vec::new();
        let result = match self.clean(&mut created) {
            Ok((groups, end_offset, stats)) => JobResult::Cleaned {
                groups,
                end_offset,
                stats,
            },
            Err(stop) => {
                for path in &created {
                    remove_if_exists(&*self.storage, path);
                }
                match stop {
                    Stop::Aborted => JobResult::Aborted,
                    // Asked to stop (truncation, close, delete) and then met an error (a file cut
                    // or removed under it): that is the abort, not a failure of the clean.
                    Stop::Error(_) if self.abort.load(Ordering::Acquire) => JobResult::Aborted,
                    Stop::Error(e) => JobResult::Failed(e),
                }
            }
        };
        CleanOutcome {
            dir: self.dir,
            storage: self.storage,
            abort: self.abort,
            result,
        }
    }

    fn check_abort(&self) -> std::result::Result<(), Aborted> {
        if self.abort.load(Ordering::Acquire) {
            Err(Aborted)
        } else {
            Ok(())
        }
    }

    fn clean(
        &self,
        created: &mut Vec<PathBuf>,
    ) -> std::result::Result<(Vec<CleanedGroup>, i64, CleanStats), Stop> {
        let mut stats = CleanStats {
            first_dirty_offset: self.first_dirty,
            ..CleanStats::default()
        };
        let mut map = OffsetMap::with_budget(self.settings.dedupe_buffer_bytes);
        let full = self.build_offset_map(&mut map, &mut stats)?;
        stats.map_full = full;
        stats.map_keys = map.len() as u64;
        let end_offset = map.latest_offset() + 1;
        if end_offset <= self.first_dirty {
            return Err(Stop::Error(Error::InvalidConfig {
                name: "sluice.log.cleaner.dedupe.buffer.bytes",
                reason: format!(
                    "the offset map holds {} keys, fewer than the batch at offset {} carries: the \
                     clean cannot make progress",
                    map.capacity(),
                    self.first_dirty
                ),
            }));
        }
        stats.end_offset = end_offset;
        let ctx = FilterContext {
            map: &map,
            now_ms: self.now_ms,
            delete_retention_ms: self.config.delete_retention_ms,
        };
        let cleanable: Vec<&SegmentSource> = self
            .segments
            .iter()
            .filter(|s| s.base < end_offset)
            .collect();
        let mut aborted = AbortedBatches::new(self.aborted.clone());
        let mut empty_txns = EmptyTxns::default();
        let mut groups = Vec::new();
        for group in group_by_size(&cleanable, &self.config, self.first_uncleanable) {
            if let Some(cleaned) = self.clean_group(
                &group,
                &ctx,
                &mut aborted,
                &mut empty_txns,
                &mut stats,
                created,
            )? {
                groups.push(cleaned);
            }
        }
        Ok((groups, end_offset, stats))
    }

    /// Step 1. Returns whether the map filled up.
    fn build_offset_map(
        &self,
        map: &mut OffsetMap,
        stats: &mut CleanStats,
    ) -> std::result::Result<bool, Stop> {
        let mut aborted = AbortedBatches::new(self.aborted.clone());
        let dirty: Vec<&SegmentSource> = self
            .segments
            .iter()
            .filter(|s| s.next_offset > self.first_dirty || s.base >= self.first_dirty)
            .collect();
        for (i, segment) in dirty.iter().enumerate() {
            let next_start = dirty.get(i + 1).map_or(self.first_uncleanable, |s| s.base);
            let mut position = if segment.base <= self.first_dirty {
                self.dirty_start_position
            } else {
                0
            };
            let mut reader = SegmentReader::new(&*self.storage, segment);
            while position < segment.size {
                self.check_abort()?;
                let header = reader.header(position)?;
                // Committed transactional records are compacted by key like any other (Kafka);
                // aborted ones stay out of the map.
                if !header.is_control()
                    && !aborted.is_aborted_data(&header)
                    && header.size() <= MAX_INSPECTED_BATCH_BYTES
                {
                    let bytes = reader.batch(position, &header)?;
                    match record::batch_records(bytes, &header) {
                        Ok(mut records) => loop {
                            match records.next_record() {
                                Ok(Some(record)) => {
                                    let offset = header.base_offset + record.offset_delta as i64;
                                    if let Some(key) = record.key
                                        && offset >= self.first_dirty
                                        && !map.put(key, offset)
                                    {
                                        return Ok(true);
                                    }
                                }
                                Ok(None) => break,
                                Err(_) => {
                                    // Keys of a batch that does not parse stay out of the map:
                                    // the batch is kept whole, and so is every older record of
                                    // those keys.
                                    stats.unreadable_batches += 1;
                                    break;
                                }
                            }
                        },
                        Err(_) => stats.unreadable_batches += 1,
                    }
                }
                if header.last_offset() >= self.first_dirty {
                    map.update_latest_offset(header.last_offset());
                }
                position += header.size();
            }
            // Offsets past the last batch up to the next segment are gaps: mapped too.
            map.update_latest_offset(next_start - 1);
        }
        Ok(false)
    }

    /// Step 2 for one group: the new segment, or None when it would be the same as before.
    fn clean_group(
        &self,
        group: &[&SegmentSource],
        ctx: &FilterContext<'_>,
        aborted: &mut AbortedBatches,
        empty_txns: &mut EmptyTxns,
        stats: &mut CleanStats,
        created: &mut Vec<PathBuf>,
    ) -> std::result::Result<Option<CleanedGroup>, Stop> {
        let base = group[0].base;
        let mut out =
            CleanedWriter::create(&*self.storage, &self.dir, base, &self.config, created)?;
        let mut changed = group.len() > 1;
        for (i, segment) in group.iter().enumerate() {
            let last_segment = i + 1 == group.len();
            let mut reader = SegmentReader::new(&*self.storage, segment);
            let mut position = 0;
            while position < segment.size {
                self.check_abort()?;
                let header = reader.header(position)?;
                let end = position + header.size();
                let last_of_group = last_segment && end == segment.size;
                stats.bytes_read += header.size();
                let aborted_data = aborted.is_aborted_data(&header);
                if header.size() > MAX_INSPECTED_BATCH_BYTES && !aborted_data {
                    // Too large to hold: kept whole, its keys were never mapped either.
                    stats.unreadable_batches += 1;
                    reader.copy_to(position, header.size(), &mut out)?;
                    out.note_written(&header)?;
                    empty_txns.batch_written(&header);
                    if header.is_control() {
                        empty_txns.marker_ends_empty(&header);
                    }
                    position = end;
                    continue;
                }
                let bytes = if header.size() > MAX_INSPECTED_BATCH_BYTES {
                    &[][..] // aborted data too large to hold: dropped or kept empty, never read
                } else {
                    reader.batch(position, &header)?
                };
                let filtered = if aborted_data {
                    // Kafka's cleaner drops aborted transactions' records (from the .txnindex).
                    // Committed transactional batches go through the key filter below.
                    stats.records_read += header.records_count.max(0) as u64;
                    stats.aborted_batches_removed += 1;
                    Filtered::Empty
                } else if header.is_control() {
                    // Kafka: a marker stays while any batch of its transaction is left; then it
                    // gets a delete horizon like a tombstone and goes in the first clean after.
                    let horizon = header.delete_horizon_ms();
                    let producer_epoch_marker =
                        self.producer_marker_epochs.get(&header.producer_id)
                            == Some(&header.producer_epoch);
                    if !empty_txns.marker_ends_empty(&header) || producer_epoch_marker {
                        Filtered::Original
                    } else if header.records_count == 0 {
                        // A marker already emptied by an earlier clean (kept only as a
                        // group's last batch): Kafka discards it.
                        Filtered::Empty
                    } else if let Some(horizon) = horizon {
                        if ctx.now_ms >= horizon {
                            stats.markers_removed += 1;
                            Filtered::Empty
                        } else {
                            Filtered::Original
                        }
                    } else {
                        let horizon = ctx.now_ms.saturating_add(ctx.delete_retention_ms);
                        match filter::with_delete_horizon(bytes, &header, horizon) {
                            Ok(rebuilt) => Filtered::Rebuilt(rebuilt),
                            Err(_) => {
                                stats.unreadable_batches += 1;
                                Filtered::Original
                            }
                        }
                    }
                } else {
                    match filter::filter_batch(bytes, &header, ctx) {
                        Ok((filtered, counts)) => {
                            stats.records_read += counts.records_read;
                            stats.records_kept += counts.records_kept;
                            stats.tombstones_removed += counts.tombstones_dropped;
                            filtered
                        }
                        Err(_) => {
                            stats.unreadable_batches += 1;
                            Filtered::Original
                        }
                    }
                };
                if !matches!(filtered, Filtered::Empty) {
                    empty_txns.batch_written(&header);
                }
                match filtered {
                    Filtered::Original => out.write_batch(bytes)?,
                    Filtered::Rebuilt(rebuilt) => {
                        changed = true;
                        out.write_batch(&rebuilt)?;
                    }
                    Filtered::Empty => {
                        let last_of_producer = header.producer_id >= 0
                            && self.producer_last_offsets.get(&header.producer_id)
                                == Some(&header.last_offset());
                        let keep_empty = last_of_group || last_of_producer;
                        if keep_empty {
                            empty_txns.batch_written(&header);
                            let empty = filter::empty_batch(&header);
                            changed |= empty != bytes;
                            stats.empty_batches_kept += 1;
                            out.write_batch(&empty)?;
                        } else {
                            changed = true;
                        }
                    }
                }
                position = end;
            }
        }
        if !changed {
            out.discard(created);
            return Ok(None);
        }
        let aborted: Vec<AbortedTxn> = group
            .iter()
            .flat_map(|s| s.aborted.iter().copied())
            .collect();
        out.txn_index.write_all(&*self.storage, &aborted)?;
        let modified = group
            .last()
            .and_then(|s| s.file.metadata().and_then(|m| m.modified()).ok());
        let written = out.finish(modified)?;
        stats.bytes_written += written;
        stats.segments_cleaned += group.len() as u64;
        stats.segments_written += 1;
        Ok(Some(CleanedGroup {
            base,
            replaces: group
                .iter()
                .map(|s| (s.base, s.file.clone(), s.size))
                .collect(),
        }))
    }
}

/// Kafka's `groupSegmentsBySize`: consecutive segments while the summed log size stays within
/// `segment.bytes`, each summed index within `segment.index.bytes`, and the last offset (bounded
/// by the next segment's base, or the first uncleanable offset) within an int of the group base.
fn group_by_size<'a>(
    segments: &[&'a SegmentSource],
    config: &LogConfig,
    first_uncleanable: i64,
) -> Vec<Vec<&'a SegmentSource>> {
    let mut groups = Vec::new();
    let mut i = 0;
    while i < segments.len() {
        let mut group = vec![segments[i]];
        let (mut log, (mut index, mut time_index)) = (segments[i].size, segments[i].index_bytes);
        i += 1;
        while i < segments.len() {
            let next = segments[i];
            let last_offset = segments.get(i + 1).map_or(first_uncleanable, |s| s.base) - 1;
            let fits = log + next.size <= config.segment_bytes
                && index + next.index_bytes.0 <= config.segment_index_bytes
                && time_index + next.index_bytes.1 <= config.segment_index_bytes
                && (next.size == 0 || last_offset - group[0].base <= MAX_RELATIVE_OFFSET);
            if !fits {
                break;
            }
            log += next.size;
            index += next.index_bytes.0;
            time_index += next.index_bytes.1;
            group.push(next);
            i += 1;
        }
        groups.push(group);
    }
    groups
}

/// Sequential reads of one segment through a chunk buffer.
struct SegmentReader<'a> {
    storage: &'a dyn Storage,
    source: &'a SegmentSource,
    buf: Vec<u8>,
    buf_start: u64,
}

impl<'a> SegmentReader<'a> {
    fn new(storage: &'a dyn Storage, source: &'a SegmentSource) -> SegmentReader<'a> {
        SegmentReader {
            storage,
            source,
            buf: Vec::new(),
            buf_start: 0,
        }
    }

    /// Makes `[position, position + len)` (inside the segment, len <= max(chunk, max batch))
    /// available in the buffer.
    fn fill(&mut self, position: u64, len: u64) -> Result<&[u8]> {
        let buffered_end = self.buf_start + self.buf.len() as u64;
        if position < self.buf_start || position + len > buffered_end {
            let want = len
                .max(READ_CHUNK_BYTES as u64)
                .min(self.source.size - position);
            self.buf.resize(want as usize, 0);
            storage::read_exact_at(self.storage, &self.source.file, &mut self.buf, position)
                .map_err(|e| Error::from_io("read segment", &self.source.path, e))?;
            self.buf_start = position;
        }
        let at = (position - self.buf_start) as usize;
        Ok(&self.buf[at..at + len as usize])
    }

    /// The structure-checked header of the batch at `position`.
    fn header(&mut self, position: u64) -> Result<BatchHeader> {
        let size = self.source.size;
        let available = size - position;
        let corrupt = |reason: String| Error::CorruptSegment {
            path: self.source.path.clone(),
            position,
            reason,
        };
        if available < HEADER_SIZE as u64 {
            return Err(corrupt(format!(
                "{available} bytes left, less than a batch header"
            )));
        }
        let header = BatchHeader::parse(self.fill(position, HEADER_SIZE as u64)?);
        header.check_structure(available).map_err(corrupt)?;
        header.check_stored_count().map_err(corrupt)?;
        Ok(header)
    }

    /// The whole batch at `position`, CRC checked.
    fn batch(&mut self, position: u64, header: &BatchHeader) -> Result<&[u8]> {
        let path = self.source.path.clone();
        let bytes = self.fill(position, header.size())?;
        batch::check_crc(header, bytes).map_err(|reason| Error::CorruptSegment {
            path,
            position,
            reason,
        })?;
        Ok(bytes)
    }

    /// Copies `[position, position + len)` to `out` a chunk at a time.
    fn copy_to(&mut self, position: u64, len: u64, out: &mut CleanedWriter<'_>) -> Result<()> {
        let mut at = position;
        while at < position + len {
            let n = (position + len - at).min(READ_CHUNK_BYTES as u64);
            let bytes = self.fill(at, n)?;
            out.write_raw(bytes)?;
            at += n;
        }
        Ok(())
    }
}

/// Writes one cleaned segment: `<base>.log.cleaned` and its two indexes, built with the rule of
/// `Segment::append` (an entry pair before a batch once more than `index.interval.bytes` were
/// written since the last one), so they equal what recovery would rebuild; and its transaction
/// index, the entries of the segments it replaces.
struct CleanedWriter<'a> {
    storage: &'a dyn Storage,
    /// Every file of the cleaned segment (one per `SegmentFile`).
    paths: Vec<PathBuf>,
    log_path: PathBuf,
    file: File,
    /// Bytes handed to the file so far.
    flushed: u64,
    pending: Vec<u8>,
    offset_index: OffsetIndex,
    time_index: TimeIndex,
    txn_index: TxnIndex,
    index_interval_bytes: u64,
    bytes_since_last_index_entry: u64,
    max_timestamp: i64,
    offset_of_max_timestamp: i64,
}

impl<'a> CleanedWriter<'a> {
    fn create(
        storage: &'a dyn Storage,
        dir: &Path,
        base: i64,
        config: &LogConfig,
        created: &mut Vec<PathBuf>,
    ) -> Result<CleanedWriter<'a>> {
        let paths: Vec<PathBuf> = SegmentFile::ALL
            .iter()
            .map(|kind| suffixed(&kind.path(dir, base), CLEANED_SUFFIX))
            .collect();
        // Leftovers of an earlier job that died: index files would be read as entries.
        for path in &paths {
            remove_if_exists(storage, path);
        }
        created.extend(paths.iter().cloned());
        let path = |kind: SegmentFile| suffixed(&kind.path(dir, base), CLEANED_SUFFIX);
        let (log_path, index_path, time_index_path, txn_index_path) = (
            path(SegmentFile::Log),
            path(SegmentFile::OffsetIndex),
            path(SegmentFile::TimeIndex),
            path(SegmentFile::TxnIndex),
        );
        let file = storage
            .open(&log_path, true)
            .map_err(|e| Error::from_io("create cleaned segment", &log_path, e))?;
        let offset_index =
            OffsetIndex::open(storage, &index_path, base, true, config.segment_index_bytes)?;
        let time_index = TimeIndex::open(
            storage,
            &time_index_path,
            base,
            true,
            config.segment_index_bytes,
        )?;
        let txn_index = TxnIndex::open(storage, &txn_index_path, base)?;
        Ok(CleanedWriter {
            storage,
            paths,
            log_path,
            file,
            flushed: 0,
            pending: Vec::with_capacity(WRITE_BUFFER_BYTES),
            offset_index,
            time_index,
            txn_index,
            index_interval_bytes: config.index_interval_bytes,
            bytes_since_last_index_entry: 0,
            max_timestamp: batch::NO_TIMESTAMP,
            offset_of_max_timestamp: -1,
        })
    }

    fn size(&self) -> u64 {
        self.flushed + self.pending.len() as u64
    }

    /// One whole batch.
    fn write_batch(&mut self, bytes: &[u8]) -> Result<()> {
        let header = BatchHeader::parse(bytes);
        self.note_written_at(&header, self.size())?;
        self.write_raw(bytes)
    }

    /// Index bookkeeping for a large batch `copy_to` just wrote in pieces (it started
    /// `header.size()` bytes before the current end).
    fn note_written(&mut self, header: &BatchHeader) -> Result<()> {
        let position = self.size() - header.size();
        self.note_written_at(header, position)
    }

    fn note_written_at(&mut self, header: &BatchHeader, position: u64) -> Result<()> {
        self.offset_index.reserve(self.storage, 1)?;
        self.time_index.reserve(self.storage, 2)?;
        if header.max_timestamp > self.max_timestamp {
            self.max_timestamp = header.max_timestamp;
            self.offset_of_max_timestamp = header.last_offset();
        }
        if self.bytes_since_last_index_entry > self.index_interval_bytes {
            self.offset_index.append(header.last_offset(), position);
            self.time_index
                .maybe_append(self.max_timestamp, self.offset_of_max_timestamp);
        }
        if self
            .offset_index
            .last_entry()
            .is_some_and(|e| e.position == position)
        {
            self.bytes_since_last_index_entry = 0;
        }
        self.bytes_since_last_index_entry += header.size();
        Ok(())
    }

    fn write_raw(&mut self, bytes: &[u8]) -> Result<()> {
        if self.pending.len() + bytes.len() > WRITE_BUFFER_BYTES {
            self.flush()?;
        }
        if bytes.len() >= WRITE_BUFFER_BYTES {
            storage::write_all_at(self.storage, &self.file, bytes, self.flushed)
                .map_err(|e| Error::from_io("write cleaned segment", &self.log_path, e))?;
            self.flushed += bytes.len() as u64;
        } else {
            self.pending.extend_from_slice(bytes);
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<()> {
        if !self.pending.is_empty() {
            storage::write_all_at(self.storage, &self.file, &self.pending, self.flushed)
                .map_err(|e| Error::from_io("write cleaned segment", &self.log_path, e))?;
            self.flushed += self.pending.len() as u64;
            self.pending.clear();
        }
        Ok(())
    }

    /// Final time index entry, indexes trimmed, everything fdatasync'd, the modification time
    /// carried over from the replaced segments (retention falls back to it). Returns the size.
    fn finish(mut self, modified: Option<SystemTime>) -> Result<u64> {
        self.flush()?;
        if self.max_timestamp >= 0 {
            self.time_index.reserve(self.storage, 1)?;
            self.time_index
                .append_final(self.max_timestamp, self.offset_of_max_timestamp);
        }
        self.offset_index.trim(self.storage)?;
        self.time_index.trim(self.storage)?;
        self.storage
            .sync_data(&self.file, self.flushed)
            .map_err(|e| Error::from_io("fdatasync cleaned segment", &self.log_path, e))?;
        let txn_index = self
            .txn_index
            .sync_target()
            .expect("written by clean_group before finish");
        for (file, len, path) in [
            self.offset_index.sync_target(),
            self.time_index.sync_target(),
            txn_index,
        ] {
            self.storage
                .sync_data(&file, len)
                .map_err(|e| Error::from_io("fdatasync cleaned index", &path, e))?;
        }
        if let Some(modified) = modified {
            // Best effort: only the retention fallback for segments without timestamps reads it.
            let _ = self.file.set_modified(modified);
        }
        Ok(self.flushed)
    }

    /// Drops the files (the group needed no change).
    fn discard(mut self, created: &mut Vec<PathBuf>) {
        let storage = self.storage;
        let paths = std::mem::take(&mut self.paths);
        drop(self);
        for path in &paths {
            remove_if_exists(storage, path);
        }
        created.retain(|p| !paths.contains(p));
    }
}

fn remove_if_exists(storage: &dyn Storage, path: &Path) {
    // Best effort: leftovers are removed when the log is next opened.
    let _ = storage.remove_file(path);
}
