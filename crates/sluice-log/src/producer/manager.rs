//! `ProducerStateManager`: the partition's producer state (`state.rs`) together with its
//! snapshot files (`snapshot.rs`): taking and pruning snapshots, and rebuilding the state at open
//! and after truncation from the latest usable snapshot plus a header scan of the batches after
//! it (Kafka's `ProducerStateManager.truncateAndReload` / `UnifiedLog.rebuildProducerState`).
//!
//! The same scan rebuilds the transaction indexes (Kafka's `LogSegment.recover` updating the
//! txn index from the producer state): every entry of a marker at or past the scan's start is
//! dropped, and each ABORT marker the scan meets writes its entry again into its segment's
//! `.txnindex`. Entries below the start are those of markers below the snapshot offset, which is
//! at or below the recovery point: they were synced with their segment and are kept. So after an
//! unclean stop (or a truncation) the indexes are exact again, whatever was torn or lost.
//!
//! Concurrency contract: owned by the partition's `Log`, used from its single appender thread.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::error::Result;
use crate::producer::snapshot;
use crate::producer::state::{AppendCheck, MarkerCheck, ProducerEntry, ProducerState};
use crate::records::batch::BatchHeader;
use crate::records::control::{self, EndTxnMarker};
use crate::segment::{AbortedTxn, Segment, SyncTarget};
use crate::storage::Storage;

/// What `ProducerStateManager::rebuild` did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rebuild {
    /// The snapshot loaded, if any.
    pub snapshot: Option<i64>,
    /// Where the header scan started (the snapshot offset or the log start).
    pub scanned_from: i64,
    /// Batches of idempotent producers (markers included) replayed from the log.
    pub batches_replayed: u64,
    /// Transaction index entries written by the scan.
    pub aborted_txns_indexed: u64,
}

/// Control batches larger than this are not read as markers (a marker is 78 bytes; a control
/// batch from elsewhere would be small too): they are skipped, as unknown control records are.
const MAX_MARKER_BATCH_BYTES: u64 = 64 * 1024;

/// The producer state plus its snapshot files in the partition directory.
#[derive(Debug)]
pub struct ProducerStateManager {
    dir: PathBuf,
    state: ProducerState,
    /// Offsets of the snapshot files present in `dir`.
    snapshots: BTreeSet<i64>,
    /// Snapshots written without fdatasync (at roll); the next flush job syncs them.
    unsynced: Vec<SyncTarget>,
}

impl ProducerStateManager {
    /// The snapshots present in `dir`, no state loaded yet (see `rebuild`).
    pub fn open(dir: &Path) -> Result<ProducerStateManager> {
        Ok(ProducerStateManager {
            dir: dir.to_path_buf(),
            state: ProducerState::default(),
            snapshots: snapshot::list(dir)?.into_iter().collect(),
            unsynced: Vec::new(),
        })
    }

    pub fn state(&self) -> &ProducerState {
        &self.state
    }

    pub fn check_append(
        &self,
        records: &[u8],
        first_offset: i64,
        log_append_time: Option<i64>,
    ) -> Result<AppendCheck> {
        self.state
            .check_append(records, first_offset, log_append_time)
    }

    pub fn apply(&mut self, entries: Vec<ProducerEntry>) {
        self.state.apply(entries);
    }

    pub fn check_marker(
        &self,
        marker: &EndTxnMarker,
        offset: i64,
        timestamp: i64,
    ) -> Result<MarkerCheck> {
        self.state.check_marker(marker, offset, timestamp)
    }

    pub fn apply_marker(&mut self, check: MarkerCheck) {
        self.state.apply_marker(check);
    }

    /// A follower's data batch (origin REPLICATION: no checks), as recovery replays it.
    pub fn replay(&mut self, header: &BatchHeader) {
        self.state.replay(header);
    }

    /// A follower's marker (origin REPLICATION), as recovery replays it.
    pub fn replay_marker(&mut self, marker: &EndTxnMarker, offset: i64, timestamp: i64) {
        self.state.replay_marker(marker, offset, timestamp);
    }

    pub fn remove_expired(&mut self, now_ms: i64, expiration_ms: i64) -> usize {
        self.state.remove_expired(now_ms, expiration_ms)
    }

    /// Offsets of the snapshot files, oldest first.
    pub fn snapshot_offsets(&self) -> Vec<i64> {
        self.snapshots.iter().copied().collect()
    }

    pub fn latest_snapshot(&self) -> Option<i64> {
        self.snapshots.last().copied()
    }

    /// Rebuilds the state for a log holding [log_start, log_end): snapshots outside
    /// [log_start, bound] are deleted (a snapshot past the recovery point may describe batches
    /// an unclean stop lost; one below the log start misses the batches in between), the latest
    /// readable one is loaded (a corrupt one is deleted and the next older tried, as Kafka
    /// does), then the headers of every batch from there to the log end are replayed, and
    /// expired producers dropped.
    pub fn rebuild(
        &mut self,
        storage: &dyn Storage,
        segments: &mut BTreeMap<i64, Segment>,
        log_start: i64,
        bound: i64,
        now_ms: i64,
        expiration_ms: i64,
    ) -> Result<Rebuild> {
        let outside: Vec<i64> = self
            .snapshots
            .iter()
            .copied()
            .filter(|&o| o < log_start || o > bound)
            .collect();
        for offset in outside {
            self.delete_snapshot(offset)?;
        }
        self.state.clear();
        let mut loaded = None;
        while let Some(offset) = self.latest_snapshot() {
            match snapshot::read(&self.dir, offset)? {
                Ok(entries) => {
                    self.state.load(entries);
                    loaded = Some(offset);
                    break;
                }
                Err(_corrupt) => self.delete_snapshot(offset)?,
            }
        }
        let scanned_from = loaded.unwrap_or(log_start).max(log_start);
        let (batches_replayed, aborted_txns_indexed) =
            self.replay_from(storage, segments, scanned_from)?;
        self.state.remove_expired(now_ms, expiration_ms);
        Ok(Rebuild {
            snapshot: loaded,
            scanned_from,
            batches_replayed,
            aborted_txns_indexed,
        })
    }

    /// Replays the producer batches of every batch holding an offset >= `from`: headers only,
    /// nothing is decompressed, except that markers (78-byte control batches) are read whole.
    /// Rewrites the transaction index entries of the markers from `from` on (module doc).
    /// Returns the batches replayed and the index entries written.
    fn replay_from(
        &mut self,
        storage: &dyn Storage,
        segments: &mut BTreeMap<i64, Segment>,
        from: i64,
    ) -> Result<(u64, u64)> {
        let start_base = segments
            .range(..=from)
            .next_back()
            .map_or(i64::MIN, |(base, _)| *base);
        let mut replayed = 0;
        let mut indexed = 0;
        for segment in segments.range_mut(start_base..).map(|(_, s)| s) {
            segment.truncate_txn_index(storage, from)?;
            let Some((mut position, _)) = segment.find_batch(storage, from)? else {
                continue;
            };
            while position < segment.size() {
                let header = segment.read_header(storage, position)?;
                if header.is_control() {
                    if let Some(marker) = read_marker(storage, segment, position, &header)? {
                        let offset = header.base_offset;
                        let (completed, last_stable_offset) =
                            self.state
                                .replay_marker(&marker, offset, header.max_timestamp);
                        if let Some(txn) = completed.filter(|txn| txn.aborted) {
                            segment.append_aborted_txn(
                                storage,
                                AbortedTxn {
                                    producer_id: txn.producer_id,
                                    first_offset: txn.first_offset,
                                    last_offset: txn.last_offset,
                                    last_stable_offset,
                                },
                            )?;
                            indexed += 1;
                        }
                        replayed += 1;
                    }
                } else if header.has_producer_id() {
                    self.state.replay(&header);
                    replayed += 1;
                }
                position += header.size();
            }
        }
        Ok((replayed, indexed))
    }

    /// Writes a snapshot of the state at `offset` (the log end offset) unless one exists there.
    /// Not synced here: it is queued for the next flush job (`take_unsynced`).
    pub fn take_snapshot(&mut self, offset: i64) -> Result<()> {
        if self.snapshots.contains(&offset) {
            return Ok(());
        }
        let bytes = snapshot::encode(offset, &self.state.sorted_entries());
        let (file, path) = snapshot::write(&self.dir, offset, &bytes)?;
        self.snapshots.insert(offset);
        self.unsynced.push(SyncTarget {
            file: Arc::new(file),
            durable_len: bytes.len() as u64,
            path,
        });
        Ok(())
    }

    /// Snapshot files written since the last call, for a flush job to fdatasync.
    pub fn take_unsynced(&mut self) -> Vec<SyncTarget> {
        std::mem::take(&mut self.unsynced)
    }

    /// Deletes the snapshots below `offset`.
    pub fn delete_snapshots_below(&mut self, offset: i64) -> Result<()> {
        let old: Vec<i64> = self.snapshots.range(..offset).copied().collect();
        for snapshot in old {
            self.delete_snapshot(snapshot)?;
        }
        Ok(())
    }

    fn delete_snapshot(&mut self, offset: i64) -> Result<()> {
        self.snapshots.remove(&offset);
        self.unsynced
            .retain(|t| t.path != snapshot::path(&self.dir, offset));
        snapshot::delete(&self.dir, offset)
    }
}

/// The end-transaction marker of the control batch at `position`, or None when the batch holds
/// some other control record (Kafka skips those too) or is too large to be one.
fn read_marker(
    storage: &dyn Storage,
    segment: &Segment,
    position: u64,
    header: &BatchHeader,
) -> Result<Option<EndTxnMarker>> {
    if header.size() > MAX_MARKER_BATCH_BYTES || !header.has_producer_id() {
        return Ok(None);
    }
    let bytes = segment.read_batch(storage, position, header)?;
    match control::parse_marker(&bytes) {
        Ok(marker) => Ok(Some(marker)),
        Err(_) => Ok(None),
    }
}
