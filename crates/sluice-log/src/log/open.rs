//! Opening a log (Kafka's `LogLoader`): finishing interrupted segment swaps, listing and loading
//! the segments, recovering those past the recovery point after an unclean stop, deleting what
//! follows a lost tail, and rebuilding the producer state. The rules are in `log/mod.rs`.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

use super::cleaner::swap;
use super::flush::{RecoveryPoint, lock};
use super::{Log, OpenOptions, wall_clock_ms};
use crate::config::LogConfig;
use crate::error::{Error, Result};
use crate::producer::ProducerStateManager;
use crate::segment::{Segment, SegmentFile, SyncTarget, remove_segment_files};
use crate::storage::{OsStorage, Storage};

impl Log {
    /// Opens (creating if needed) the partition log in `dir`, recovering it as `options` say.
    pub fn open(dir: impl AsRef<Path>, config: LogConfig, options: OpenOptions) -> Result<Log> {
        Log::open_with_storage(dir, config, options, Arc::new(OsStorage))
    }

    /// `open` over a given `Storage` (tests inject faults through it).
    pub fn open_with_storage(
        dir: impl AsRef<Path>,
        config: LogConfig,
        options: OpenOptions,
        storage: Arc<dyn Storage>,
    ) -> Result<Log> {
        config.validate()?;
        if options.recovery_point < 0 || options.log_start_offset < 0 {
            return Err(Error::InvalidArgument {
                name: "OpenOptions",
                reason: format!(
                    "negative recovery point {} or log start {}",
                    options.recovery_point, options.log_start_offset
                ),
            });
        }
        let dir = dir.as_ref().to_path_buf();
        std::fs::create_dir_all(&dir).map_err(|e| Error::from_io("create log dir", &dir, e))?;
        let now = wall_clock_ms();
        let (segments, mut recovered) = load_segments(&*storage, &dir, &config, options, now)?;
        let producers = ProducerStateManager::open(&dir)?;
        let mut log = Log {
            dir,
            config,
            storage,
            segments,
            log_start_offset: 0,
            log_end_offset: 0,
            recovery_point: Arc::new(Mutex::new(RecoveryPoint::default())),
            unflushed_messages: 0,
            producers,
            recovered_segments: 0,
            closed: false,
            first_dirty_offset: 0,
            cleaning: None,
            offline: None,
        };
        log.settle_offsets(options, now, &mut recovered)?;
        let reindexed_from = log.rebuild_producer_state(options, now)?;
        if !recovered.is_empty() || reindexed_from.is_some() {
            let mut targets: Vec<SyncTarget> = recovered
                .iter()
                .filter_map(|b| log.segments.get(b))
                .flat_map(|s| s.sync_targets())
                .collect();
            if let Some(from) = reindexed_from {
                // Transaction index entries the scan wrote: durable before the recovery point
                // moves to the log end.
                let start = log
                    .segments
                    .range(..=from)
                    .next_back()
                    .map_or(from, |(base, _)| *base);
                targets.extend(
                    log.segments
                        .range(start..)
                        .filter(|(base, _)| !recovered.contains(base))
                        .flat_map(|(_, s)| s.sync_targets()),
                );
            }
            targets.extend(log.producers.take_unsynced());
            log.job_for(targets).run()?;
        }
        lock(&log.recovery_point).offset = log.log_end_offset;
        log.recovered_segments = recovered.len();
        Ok(log)
    }

    /// Log start and end from the loaded segments, and an active segment to append to. An empty
    /// directory gets its first segment at the checkpointed log start.
    fn settle_offsets(
        &mut self,
        options: OpenOptions,
        now: i64,
        recovered: &mut Vec<i64>,
    ) -> Result<()> {
        if self.segments.is_empty() {
            self.add_segment(options.log_start_offset, now)?;
        }
        let first_base = *self.segments.keys().next().expect("a segment exists");
        self.log_end_offset = self.active().next_offset();
        self.log_start_offset = options.log_start_offset.max(first_base);
        if self.log_start_offset > self.log_end_offset {
            // The checkpointed start is past everything on disk (the data was lost with writes
            // that were never synced): start over empty at it, as Kafka does.
            let start = self.log_start_offset;
            for (_, segment) in std::mem::take(&mut self.segments) {
                segment.delete(&*self.storage)?;
            }
            recovered.clear();
            self.add_segment(start, now)?;
            self.log_end_offset = start;
        }
        let storage = self.storage.clone();
        let config = self.config.clone();
        if !self.active().is_active() {
            self.active_mut().activate(&*storage, &config)?;
        }
        Ok(())
    }

    /// Loads the latest usable producer snapshot and replays the batches after it (rewriting
    /// the transaction index entries from there). Returns where the scan started when it wrote
    /// transaction index entries (they need a sync).
    fn rebuild_producer_state(&mut self, options: OpenOptions, now: i64) -> Result<Option<i64>> {
        // Snapshots above the recovery point may describe batches an unclean stop lost.
        let snapshot_bound = if options.clean_shutdown {
            self.log_end_offset
        } else {
            options.recovery_point.min(self.log_end_offset)
        };
        let rebuilt = self.producers.rebuild(
            &*self.storage,
            &mut self.segments,
            self.log_start_offset,
            snapshot_bound,
            now,
            self.config.producer_id_expiration_ms,
        )?;
        if rebuilt.scanned_from < self.log_end_offset {
            // Kafka snapshots the rebuilt state too, so the next restart scans from here.
            self.producers.take_snapshot(self.log_end_offset)?;
        }
        Ok((rebuilt.aborted_txns_indexed > 0).then_some(rebuilt.scanned_from))
    }

    /// Segments the last `open` scanned and CRC-checked or re-indexed (0 after a clean shutdown).
    pub fn recovered_segments(&self) -> usize {
        self.recovered_segments
    }
}

/// Finishes interrupted swaps, then loads every segment in `dir`, recovering those from the one
/// holding the recovery point on after an unclean stop, and deleting the segments that follow a
/// lost tail. Returns the segments and the base offsets of those recovered.
fn load_segments(
    storage: &dyn Storage,
    dir: &Path,
    config: &LogConfig,
    options: OpenOptions,
    now: i64,
) -> Result<(BTreeMap<i64, Segment>, Vec<i64>)> {
    // A crash during a segment swap left .cleaned or .swap files: roll back or finish first.
    swap::recover(storage, dir)?;
    let bases = scan_dir(storage, dir)?;
    let recover_from = if options.clean_shutdown {
        None
    } else {
        bases
            .iter()
            .rev()
            .find(|&&b| b <= options.recovery_point)
            .or(bases.first())
            .copied()
    };
    let mut segments: BTreeMap<i64, Segment> = BTreeMap::new();
    let mut recovered: Vec<i64> = Vec::new();
    for (i, &base) in bases.iter().enumerate() {
        if let Some((_, previous)) = segments.last_key_value() {
            if base < previous.next_offset() {
                return Err(Error::CorruptSegment {
                    path: SegmentFile::Log.path(dir, base),
                    position: 0,
                    reason: format!(
                        "segment starts at {base}, inside the previous one (which ends at {})",
                        previous.next_offset()
                    ),
                });
            }
            if base > previous.next_offset() {
                // Segments are contiguous (each starts at the log end when it is rolled), so
                // a gap means the previous segment lost its tail (a power loss took unsynced
                // bytes): this segment and the rest were written after data that is gone.
                for &later in &bases[i..] {
                    remove_segment_files(storage, dir, later, "delete segment file")?;
                }
                break;
            }
        }
        let recover = recover_from.is_some_and(|from| base >= from);
        let (segment, truncated) = Segment::load(storage, dir, base, config, recover, now)?;
        if recover || truncated > 0 {
            recovered.push(base);
        }
        segments.insert(base, segment);
        if truncated > 0 && i + 1 < bases.len() {
            // Invalid bytes inside a segment that is not the last: what follows was written
            // after bytes that never made it, so it goes too (Kafka does the same).
            for &later in &bases[i + 1..] {
                remove_segment_files(storage, dir, later, "delete segment file")?;
            }
            break;
        }
    }
    Ok((segments, recovered))
}

/// Lists the segment base offsets in `dir` (sorted), removing leftovers of interrupted
/// operations (`.deleted`, `.cleaned`, `.swap`, `.tmp` files, as Kafka does) and index files
/// whose log file is gone.
fn scan_dir(storage: &dyn Storage, dir: &Path) -> Result<Vec<i64>> {
    let mut logs = Vec::new();
    let mut indexes = Vec::new();
    let entries = std::fs::read_dir(dir).map_err(|e| Error::from_io("list log dir", dir, e))?;
    for entry in entries {
        let entry = entry.map_err(|e| Error::from_io("list log dir", dir, e))?;
        let Ok(name) = entry.file_name().into_string() else {
            continue;
        };
        if [".deleted", ".cleaned", ".swap", ".tmp"]
            .iter()
            .any(|s| name.ends_with(s))
        {
            storage
                .remove_file(&entry.path())
                .map_err(|e| Error::from_io("remove leftover file", entry.path(), e))?;
        } else if let Some((base, kind)) = SegmentFile::parse(&name) {
            if kind == SegmentFile::Log {
                logs.push(base);
            } else {
                indexes.push((base, entry.path()));
            }
        }
    }
    logs.sort_unstable();
    for (base, path) in indexes {
        if logs.binary_search(&base).is_err() {
            storage
                .remove_file(&path)
                .map_err(|e| Error::from_io("remove orphan index", &path, e))?;
        }
    }
    Ok(logs)
}
