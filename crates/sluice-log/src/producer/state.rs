//! Idempotent and transactional producer state of one partition: Kafka's `ProducerStateManager`
//! and `ProducerAppendInfo`.
//!
//! Per producer id the partition keeps the producer's epoch, the metadata of its last five
//! appended batches (first/last sequence, first/last offset, max timestamp), the coordinator
//! epoch of its last transaction marker, the first offset of its open transaction here (if any)
//! and the timestamp of its last batch or marker. `Log::append` asks
//! `check_append` before anything is written, with the offsets the batches are about to get, and
//! applies the accepted entries once the bytes are in place, so the check and the append are one
//! step for the single appender. The rules, transcribed from Kafka 3.x/4.x (`UnifiedLog.
//! analyzeAndValidateProducerState`, `ProducerAppendInfo.checkProducerEpoch` / `checkSequence`,
//! `ProducerStateEntry.findDuplicateBatch`), for each batch with a producer id (>= 0):
//!
//! 1. Duplicate: same epoch as the producer's entry before this append and the same (first, last)
//!    sequence as one of its retained batches. Nothing of the append is written; the append is
//!    answered with that batch's original offsets (the broker sends error NONE with them).
//! 2. Epoch older than the producer's current epoch: INVALID_PRODUCER_EPOCH.
//! 3. Newer epoch: it must start at sequence 0, unless the producer has no state here at all,
//!    else OUT_OF_ORDER_SEQUENCE_NUMBER.
//! 4. Same epoch: the first sequence must be the last one + 1 (i32::MAX wraps to 0), else
//!    OUT_OF_ORDER_SEQUENCE_NUMBER — unless the producer had no state before this append: since
//!    KIP-360 Kafka accepts any sequence then, because its records may have been removed by
//!    retention or DeleteRecords ("If there is no current producer epoch ... accept writes with any
//!    sequence number", ProducerAppendInfo.checkSequence). So UNKNOWN_PRODUCER_ID is never the
//!    answer to a produce: current Kafka only raises OUT_OF_ORDER_SEQUENCE_NUMBER for a stateless
//!    producer when transactions v2 verification is in play, which Sluice does not serve.
//!
//! Transactions (`ProducerAppendInfo.appendDataBatch` / `appendEndTxnMarker`):
//!
//! 5. A transactional batch from a producer with no open transaction here opens one at the
//!    batch's first offset; a non-transactional batch while one is open is INVALID_TXN_STATE.
//! 6. A marker (`check_marker`, the coordinator's COMMIT / ABORT) from an older epoch than the
//!    producer's is INVALID_PRODUCER_EPOCH; from an older coordinator epoch than the last marker's,
//!    TRANSACTION_COORDINATOR_FENCED. It takes the marker's epoch (a newer one forgets the batches,
//!    so the sequence restarts at 0), records the coordinator epoch and closes the open
//!    transaction, which it reports as a `CompletedTxn` (none when no transaction was open: such a
//!    marker is still written, and changes only the epoch).
//! 7. The first unstable offset is the smallest first offset of the open transactions
//!    (`first_unstable_offset`), kept in an ordered set so a fetch reads it in O(log n).
//!
//! State is never dropped when the log start passes a producer's batches (KIP-360); a producer
//! expires once its last batch's (or marker's) timestamp is `producer.id.expiration.ms` old
//! (`ProducerStateManager.removeExpiredProducers`), checked at open and on every retention pass;
//! a producer with an open transaction never expires.
//!
//! Snapshots (`snapshot.rs`, managed by `manager.rs`) are taken at roll and close at the log end offset; `open`
//! and `truncate_to` rebuild the state from the latest usable snapshot plus a header scan of the
//! batches after it (recovery appends like Kafka's REPLICATION origin: no sequence checks).
//!
//! Concurrency contract: owned by the partition's `Log`, used from its single appender thread.
//! Bounds: five batches per producer; the number of producers is bounded only by expiration, as
//! in Kafka (each costs about 200 bytes).

use std::collections::{BTreeSet, HashMap, VecDeque};

use crate::error::{Error, Result};
use crate::records::batch::{self, BatchHeader};
use crate::records::control::{EndTxnMarker, MarkerType};

/// Batches kept per producer for duplicate detection (Kafka's NUM_BATCHES_TO_RETAIN; producers
/// keep at most five requests in flight per partition for the same reason).
pub const BATCHES_TO_RETAIN: usize = 5;

/// Kafka's RecordBatch.NO_PRODUCER_EPOCH: the producer has no epoch here (no state).
const NO_PRODUCER_EPOCH: i16 = -1;

/// What the log keeps of one appended batch of an idempotent producer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BatchMetadata {
    pub first_sequence: i32,
    pub last_sequence: i32,
    pub first_offset: i64,
    pub last_offset: i64,
    /// The batch's maxTimestamp as stored (the append time under LogAppendTime).
    pub max_timestamp: i64,
}

impl BatchMetadata {
    /// The metadata of a batch as stored in a segment (offsets assigned).
    fn of_stored(header: &BatchHeader) -> BatchMetadata {
        BatchMetadata {
            first_sequence: header.base_sequence,
            last_sequence: header.last_sequence(),
            first_offset: header.base_offset,
            last_offset: header.last_offset(),
            max_timestamp: header.max_timestamp,
        }
    }
}

/// One producer's state: its epoch, its last batches (oldest first, 0 to 5 of them: a marker
/// with a new epoch forgets them), and its transaction state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProducerEntry {
    producer_id: i64,
    epoch: i16,
    batches: VecDeque<BatchMetadata>,
    /// The coordinator epoch of the last marker written for this producer; -1 before any.
    coordinator_epoch: i32,
    /// First offset of the producer's open transaction on this partition; None when none is.
    txn_first_offset: Option<i64>,
    /// maxTimestamp of the last batch, or the timestamp of the last marker.
    last_timestamp: i64,
}

impl ProducerEntry {
    /// An entry from its parts (a version 1 snapshot); None unless it holds 1 to 5 batches.
    pub fn new(producer_id: i64, epoch: i16, batches: Vec<BatchMetadata>) -> Option<ProducerEntry> {
        if batches.is_empty() {
            return None;
        }
        let last_timestamp = batches.last()?.max_timestamp;
        ProducerEntry::with_txn(producer_id, epoch, batches, -1, None, last_timestamp)
    }

    /// An entry with its transaction state (a version 2 snapshot); None beyond 5 batches.
    pub fn with_txn(
        producer_id: i64,
        epoch: i16,
        batches: Vec<BatchMetadata>,
        coordinator_epoch: i32,
        txn_first_offset: Option<i64>,
        last_timestamp: i64,
    ) -> Option<ProducerEntry> {
        if batches.len() > BATCHES_TO_RETAIN {
            return None;
        }
        Some(ProducerEntry {
            producer_id,
            epoch,
            batches: batches.into(),
            coordinator_epoch,
            txn_first_offset,
            last_timestamp,
        })
    }

    fn first(producer_id: i64, epoch: i16, batch: BatchMetadata) -> ProducerEntry {
        ProducerEntry {
            producer_id,
            epoch,
            batches: VecDeque::from([batch]),
            coordinator_epoch: -1,
            txn_first_offset: None,
            last_timestamp: batch.max_timestamp,
        }
    }

    /// The entry of a producer first seen through a marker.
    fn empty(producer_id: i64) -> ProducerEntry {
        ProducerEntry {
            producer_id,
            epoch: NO_PRODUCER_EPOCH,
            batches: VecDeque::new(),
            coordinator_epoch: -1,
            txn_first_offset: None,
            last_timestamp: batch::NO_TIMESTAMP,
        }
    }

    pub fn producer_id(&self) -> i64 {
        self.producer_id
    }

    pub fn epoch(&self) -> i16 {
        self.epoch
    }

    /// The retained batches, oldest first.
    pub fn batches(&self) -> impl ExactSizeIterator<Item = &BatchMetadata> {
        self.batches.iter()
    }

    /// Sequence of the last retained batch; -1 (Kafka's NO_SEQUENCE) when none is retained, so
    /// the next batch of the same epoch must start at 0.
    pub fn last_sequence(&self) -> i32 {
        self.batches.back().map_or(-1, |b| b.last_sequence)
    }

    /// Timestamp of the last batch or marker: what expiration is measured from.
    pub fn last_timestamp(&self) -> i64 {
        self.last_timestamp
    }

    /// The coordinator epoch of the last marker; -1 before any.
    pub fn coordinator_epoch(&self) -> i32 {
        self.coordinator_epoch
    }

    /// First offset of the open transaction on this partition, if one is open.
    pub fn txn_first_offset(&self) -> Option<i64> {
        self.txn_first_offset
    }

    /// `ProducerStateEntry.findDuplicateBatch`: a retained batch of the same epoch with exactly
    /// this sequence range.
    fn duplicate_of(
        &self,
        epoch: i16,
        first_sequence: i32,
        last_sequence: i32,
    ) -> Option<BatchMetadata> {
        if epoch != self.epoch {
            return None;
        }
        self.batches
            .iter()
            .find(|b| b.first_sequence == first_sequence && b.last_sequence == last_sequence)
            .copied()
    }

    /// `ProducerStateEntry.addBatch`: a new epoch forgets the old epoch's batches; at most five
    /// are kept.
    fn add_batch(&mut self, epoch: i16, batch: BatchMetadata) {
        if epoch != self.epoch {
            self.batches.clear();
            self.epoch = epoch;
        }
        if self.batches.len() == BATCHES_TO_RETAIN {
            self.batches.pop_front();
        }
        self.batches.push_back(batch);
        self.last_timestamp = batch.max_timestamp;
    }

    /// Kafka's transaction rule for a data batch (after the epoch and sequence checks):
    /// a transactional batch opens a transaction unless one is open; a non-transactional one
    /// is refused while one is open. `first_offset` is the batch's first offset.
    fn note_data_batch(
        &mut self,
        index: usize,
        transactional: bool,
        first_offset: i64,
    ) -> Result<()> {
        match (transactional, self.txn_first_offset) {
            (true, None) => self.txn_first_offset = Some(first_offset),
            (false, Some(txn_first_offset)) => {
                return Err(Error::InvalidTxnState {
                    batch: index,
                    producer_id: self.producer_id,
                    txn_first_offset,
                });
            }
            _ => {}
        }
        Ok(())
    }

    /// `ProducerAppendInfo.appendEndTxnMarker` without the checks: the marker at `offset` ends
    /// the open transaction (reported as completed), takes the marker's epoch (a new epoch
    /// forgets the batches) and coordinator epoch.
    fn end_txn(
        &mut self,
        marker: &EndTxnMarker,
        offset: i64,
        timestamp: i64,
    ) -> Option<CompletedTxn> {
        let completed = self
            .txn_first_offset
            .take()
            .map(|first_offset| CompletedTxn {
                producer_id: self.producer_id,
                first_offset,
                last_offset: offset,
                aborted: marker.kind == MarkerType::Abort,
            });
        if marker.producer_epoch != self.epoch {
            self.batches.clear();
            self.epoch = marker.producer_epoch;
        }
        self.coordinator_epoch = marker.coordinator_epoch;
        self.last_timestamp = timestamp;
        completed
    }
}

/// A transaction a marker ended (Kafka's `CompletedTxn`): its producer, its first offset on
/// this partition, the marker's offset, and whether it was aborted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CompletedTxn {
    pub producer_id: i64,
    pub first_offset: i64,
    /// The marker's offset.
    pub last_offset: i64,
    pub aborted: bool,
}

/// What `ProducerState::check_marker` accepted: the producer's entry once the marker is
/// written, the transaction it completes, and the last stable offset right after it (Kafka's
/// `lastStableOffset(completedTxn)`: the first offset of the earliest other open transaction,
/// or the offset after the marker).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MarkerCheck {
    pub entry: ProducerEntry,
    pub completed: Option<CompletedTxn>,
    pub last_stable_offset: i64,
}

/// An open transaction, for DescribeProducers and the coordinator's view of a partition.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OngoingTxn {
    pub producer_id: i64,
    pub producer_epoch: i16,
    pub first_offset: i64,
    pub last_timestamp: i64,
}

/// `nextSeq` follows `lastSeq` (Kafka's ProducerAppendInfo.inSequence).
fn in_sequence(last_sequence: i32, next_sequence: i32) -> bool {
    next_sequence as i64 == last_sequence as i64 + 1
        || (next_sequence == 0 && last_sequence == i32::MAX)
}

/// The outcome of `ProducerState::check_append`.
#[derive(Debug, PartialEq, Eq)]
pub enum AppendCheck {
    /// Every batch is acceptable; these are the producers' entries once the append is written.
    Accept(Vec<ProducerEntry>),
    /// The append retries a batch already in the log: nothing is to be written, and the answer
    /// carries this batch's original offsets.
    Duplicate(BatchMetadata),
}

/// The producer id -> entry map with Kafka's append rules (see the module doc).
#[derive(Debug, Default)]
pub struct ProducerState {
    producers: HashMap<i64, ProducerEntry>,
    /// (first offset, producer id) of every open transaction: the first is the first unstable
    /// offset. Kept in step with `producers` by `put`.
    ongoing: BTreeSet<(i64, i64)>,
}

impl ProducerState {
    /// Checks an append of validated batches that will get offsets from `first_offset` on, with
    /// `log_append_time` stamped into them under LogAppendTime. Changes nothing.
    pub fn check_append(
        &self,
        records: &[u8],
        first_offset: i64,
        log_append_time: Option<i64>,
    ) -> Result<AppendCheck> {
        // Entries as they stand after the batches seen so far; None: no state yet.
        let mut updated: HashMap<i64, Option<ProducerEntry>> = HashMap::new();
        let mut next_offset = first_offset;
        for (index, (_, header)) in batch::batches(records).enumerate() {
            let first_offset = next_offset;
            next_offset += header.records_count as i64;
            if !header.has_producer_id() {
                continue;
            }
            let producer_id = header.producer_id;
            let current = self.producers.get(&producer_id);
            // UnifiedLog.analyzeAndValidateProducerState: compared with the entry before this
            // append; a duplicate answers for the whole append.
            if let Some(original) = current.and_then(|entry| {
                entry.duplicate_of(
                    header.producer_epoch,
                    header.base_sequence,
                    header.last_sequence(),
                )
            }) {
                return Ok(AppendCheck::Duplicate(original));
            }
            let entry = updated
                .entry(producer_id)
                .or_insert_with(|| current.cloned());
            check_batch(
                index,
                &header,
                current.map_or(NO_PRODUCER_EPOCH, |c| c.epoch),
                entry.as_ref(),
            )?;
            let entry = entry.get_or_insert_with(|| ProducerEntry::empty(producer_id));
            entry.note_data_batch(index, header.is_transactional(), first_offset)?;
            let metadata = BatchMetadata {
                first_sequence: header.base_sequence,
                last_sequence: header.last_sequence(),
                first_offset,
                last_offset: first_offset + header.last_offset_delta as i64,
                max_timestamp: log_append_time.unwrap_or(header.max_timestamp),
            };
            entry.add_batch(header.producer_epoch, metadata);
        }
        Ok(AppendCheck::Accept(
            updated.into_values().flatten().collect(),
        ))
    }

    /// Stores the entries `check_append` accepted, once the append is written.
    pub fn apply(&mut self, entries: Vec<ProducerEntry>) {
        for entry in entries {
            self.put(entry);
        }
    }

    /// Checks a marker the coordinator asks to append at `offset` (rule 6 of the module doc).
    /// Changes nothing; `apply_marker` stores the outcome once the marker is written.
    pub fn check_marker(
        &self,
        marker: &EndTxnMarker,
        offset: i64,
        timestamp: i64,
    ) -> Result<MarkerCheck> {
        let mut entry = self
            .producers
            .get(&marker.producer_id)
            .cloned()
            .unwrap_or_else(|| ProducerEntry::empty(marker.producer_id));
        if marker.producer_epoch < entry.epoch {
            return Err(Error::InvalidProducerEpoch {
                batch: 0,
                producer_id: marker.producer_id,
                epoch: marker.producer_epoch,
                current_epoch: entry.epoch,
            });
        }
        if marker.coordinator_epoch < entry.coordinator_epoch {
            return Err(Error::TransactionCoordinatorFenced {
                producer_id: marker.producer_id,
                coordinator_epoch: marker.coordinator_epoch,
                current_coordinator_epoch: entry.coordinator_epoch,
            });
        }
        let completed = entry.end_txn(marker, offset, timestamp);
        let last_stable_offset = self
            .ongoing
            .iter()
            .find(|&&(_, producer_id)| producer_id != marker.producer_id)
            .map_or(offset + 1, |&(first_offset, _)| first_offset);
        Ok(MarkerCheck {
            entry,
            completed,
            last_stable_offset,
        })
    }

    /// Stores what `check_marker` accepted, once the marker is written.
    pub fn apply_marker(&mut self, check: MarkerCheck) {
        self.put(check.entry);
    }

    /// Adds a batch read back from the log, without checks (recovery, like Kafka's REPLICATION
    /// origin: what is in the log was accepted when it was appended). Control batches go to
    /// `replay_marker`.
    pub fn replay(&mut self, header: &BatchHeader) {
        assert!(
            header.has_producer_id(),
            "replaying a batch without a producer id"
        );
        assert!(!header.is_control(), "replaying a marker as a data batch");
        let metadata = BatchMetadata::of_stored(header);
        let mut entry = match self.producers.get(&header.producer_id) {
            Some(entry) => {
                let mut entry = entry.clone();
                entry.add_batch(header.producer_epoch, metadata);
                entry
            }
            None => ProducerEntry::first(header.producer_id, header.producer_epoch, metadata),
        };
        if header.is_transactional() && entry.txn_first_offset.is_none() {
            entry.txn_first_offset = Some(header.base_offset);
        }
        self.put(entry);
    }

    /// Replays a marker read back from the log at `offset`; returns the transaction it ended
    /// and the last stable offset right after it, as `check_marker` would have.
    pub fn replay_marker(
        &mut self,
        marker: &EndTxnMarker,
        offset: i64,
        timestamp: i64,
    ) -> (Option<CompletedTxn>, i64) {
        let mut entry = self
            .producers
            .get(&marker.producer_id)
            .cloned()
            .unwrap_or_else(|| ProducerEntry::empty(marker.producer_id));
        let completed = entry.end_txn(marker, offset, timestamp);
        self.put(entry);
        let last_stable_offset = self.first_unstable_offset().unwrap_or(offset + 1);
        (completed, last_stable_offset)
    }

    /// What `replay_marker` would answer for this marker, changing nothing (a follower writes
    /// an ABORT's transaction index entry before the marker itself).
    pub fn marker_outcome(
        &self,
        marker: &EndTxnMarker,
        offset: i64,
        timestamp: i64,
    ) -> (Option<CompletedTxn>, i64) {
        let mut entry = self
            .producers
            .get(&marker.producer_id)
            .cloned()
            .unwrap_or_else(|| ProducerEntry::empty(marker.producer_id));
        let completed = entry.end_txn(marker, offset, timestamp);
        let last_stable_offset = self
            .ongoing
            .iter()
            .find(|&&(_, producer_id)| producer_id != marker.producer_id)
            .map_or(offset + 1, |&(first_offset, _)| first_offset);
        (completed, last_stable_offset)
    }

    /// Drops producers whose last batch or marker is at least `expiration_ms` old, except those
    /// with an open transaction; returns how many.
    pub fn remove_expired(&mut self, now_ms: i64, expiration_ms: i64) -> usize {
        let before = self.producers.len();
        self.producers.retain(|_, entry| {
            entry.txn_first_offset.is_some()
                || now_ms.saturating_sub(entry.last_timestamp()) < expiration_ms
        });
        before - self.producers.len()
    }

    /// The first offset of the earliest open transaction (Kafka's `firstUnstableOffset`);
    /// None when no transaction is open. The last stable offset is min(this, high watermark).
    pub fn first_unstable_offset(&self) -> Option<i64> {
        self.ongoing.first().map(|&(first_offset, _)| first_offset)
    }

    /// The open transactions, earliest first.
    pub fn ongoing_transactions(&self) -> Vec<OngoingTxn> {
        self.ongoing
            .iter()
            .map(|&(first_offset, producer_id)| {
                let entry = &self.producers[&producer_id];
                OngoingTxn {
                    producer_id,
                    producer_epoch: entry.epoch,
                    first_offset,
                    last_timestamp: entry.last_timestamp,
                }
            })
            .collect()
    }

    /// Stores `entry`, keeping the set of open transactions in step.
    fn put(&mut self, entry: ProducerEntry) {
        let producer_id = entry.producer_id;
        if let Some(first_offset) = entry.txn_first_offset {
            self.ongoing.insert((first_offset, producer_id));
        }
        if let Some(old) = self.producers.insert(producer_id, entry)
            && let Some(old_first) = old.txn_first_offset
            && Some(old_first) != self.producers[&producer_id].txn_first_offset
        {
            self.ongoing.remove(&(old_first, producer_id));
        }
    }

    pub fn entry(&self, producer_id: i64) -> Option<&ProducerEntry> {
        self.producers.get(&producer_id)
    }

    pub fn len(&self) -> usize {
        self.producers.len()
    }

    pub fn is_empty(&self) -> bool {
        self.producers.is_empty()
    }

    /// Every entry, by producer id (the snapshot order).
    pub fn sorted_entries(&self) -> Vec<&ProducerEntry> {
        let mut entries: Vec<&ProducerEntry> = self.producers.values().collect();
        entries.sort_unstable_by_key(|e| e.producer_id);
        entries
    }

    pub(super) fn clear(&mut self) {
        self.producers.clear();
        self.ongoing.clear();
    }

    pub(super) fn load(&mut self, entries: Vec<ProducerEntry>) {
        self.clear();
        for entry in entries {
            self.put(entry);
        }
    }
}

/// Kafka's checkProducerEpoch and checkSequence for one client batch. `epoch_before` is the
/// producer's epoch before this append (NO_PRODUCER_EPOCH without state); `entry` is its entry
/// after the earlier batches of the same append.
fn check_batch(
    index: usize,
    header: &BatchHeader,
    epoch_before: i16,
    entry: Option<&ProducerEntry>,
) -> Result<()> {
    let epoch = header.producer_epoch;
    let current_epoch = entry.map_or(NO_PRODUCER_EPOCH, |e| e.epoch);
    if epoch < current_epoch {
        return Err(Error::InvalidProducerEpoch {
            batch: index,
            producer_id: header.producer_id,
            epoch,
            current_epoch,
        });
    }
    let first_sequence = header.base_sequence;
    let out_of_order = |reason: String| Error::OutOfOrderSequence {
        batch: index,
        producer_id: header.producer_id,
        epoch,
        first_sequence,
        reason,
    };
    if epoch != current_epoch {
        if first_sequence != 0 && current_epoch != NO_PRODUCER_EPOCH {
            return Err(out_of_order(format!(
                "a new epoch must start at sequence 0 (the current epoch is {current_epoch})"
            )));
        }
        return Ok(());
    }
    // A producer without state before this append may continue at any sequence (KIP-360).
    if epoch_before == NO_PRODUCER_EPOCH {
        return Ok(());
    }
    let last_sequence = entry.map_or(-1, ProducerEntry::last_sequence);
    if !in_sequence(last_sequence, first_sequence) {
        return Err(out_of_order(format!(
            "expected {} after the last appended sequence {last_sequence}",
            batch::increment_sequence(last_sequence, 1)
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests;
