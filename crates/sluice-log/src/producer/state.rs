//! Idempotent producer state of one partition: Kafka's `ProducerStateManager` and
//! `ProducerAppendInfo` for producers without transactions.
//!
//! Per producer id the partition keeps the producer's epoch and the metadata of its last five
//! appended batches (first/last sequence, first/last offset, max timestamp). `Log::append` asks
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
//! State is never dropped when the log start passes a producer's batches (KIP-360); a producer
//! expires once its last batch's timestamp is `producer.id.expiration.ms` old
//! (`ProducerStateManager.removeExpiredProducers`), checked at open and on every retention pass.
//!
//! Snapshots (`snapshot.rs`, managed by `manager.rs`) are taken at roll and close at the log end offset; `open`
//! and `truncate_to` rebuild the state from the latest usable snapshot plus a header scan of the
//! batches after it (recovery appends like Kafka's REPLICATION origin: no sequence checks).
//!
//! Concurrency contract: owned by the partition's `Log`, used from its single appender thread.
//! Bounds: five batches per producer; the number of producers is bounded only by expiration, as
//! in Kafka (each costs about 200 bytes).

use std::collections::{HashMap, VecDeque};

use crate::error::{Error, Result};
use crate::records::batch::{self, BatchHeader};

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

/// One producer's state: its epoch and its last batches, oldest first (1 to 5 of them).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProducerEntry {
    producer_id: i64,
    epoch: i16,
    batches: VecDeque<BatchMetadata>,
}

impl ProducerEntry {
    /// An entry from its parts (a snapshot); None unless it holds 1 to 5 batches.
    pub fn new(producer_id: i64, epoch: i16, batches: Vec<BatchMetadata>) -> Option<ProducerEntry> {
        if batches.is_empty() || batches.len() > BATCHES_TO_RETAIN {
            return None;
        }
        Some(ProducerEntry {
            producer_id,
            epoch,
            batches: batches.into(),
        })
    }

    fn first(producer_id: i64, epoch: i16, batch: BatchMetadata) -> ProducerEntry {
        ProducerEntry {
            producer_id,
            epoch,
            batches: VecDeque::from([batch]),
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

    fn last(&self) -> &BatchMetadata {
        self.batches
            .back()
            .expect("a producer entry holds at least one batch")
    }

    pub fn last_sequence(&self) -> i32 {
        self.last().last_sequence
    }

    /// Timestamp of the last batch: what expiration is measured from.
    pub fn last_timestamp(&self) -> i64 {
        self.last().max_timestamp
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
    }
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
            let metadata = BatchMetadata {
                first_sequence: header.base_sequence,
                last_sequence: header.last_sequence(),
                first_offset,
                last_offset: first_offset + header.last_offset_delta as i64,
                max_timestamp: log_append_time.unwrap_or(header.max_timestamp),
            };
            match entry {
                Some(entry) => entry.add_batch(header.producer_epoch, metadata),
                None => {
                    *entry = Some(ProducerEntry::first(
                        producer_id,
                        header.producer_epoch,
                        metadata,
                    ))
                }
            }
        }
        Ok(AppendCheck::Accept(
            updated.into_values().flatten().collect(),
        ))
    }

    /// Stores the entries `check_append` accepted, once the append is written.
    pub fn apply(&mut self, entries: Vec<ProducerEntry>) {
        for entry in entries {
            self.producers.insert(entry.producer_id, entry);
        }
    }

    /// Adds a batch read back from the log, without checks (recovery, like Kafka's REPLICATION
    /// origin: what is in the log was accepted when it was appended).
    pub fn replay(&mut self, header: &BatchHeader) {
        assert!(
            header.has_producer_id(),
            "replaying a batch without a producer id"
        );
        let metadata = BatchMetadata::of_stored(header);
        match self.producers.get_mut(&header.producer_id) {
            Some(entry) => entry.add_batch(header.producer_epoch, metadata),
            None => {
                let entry =
                    ProducerEntry::first(header.producer_id, header.producer_epoch, metadata);
                self.producers.insert(header.producer_id, entry);
            }
        }
    }

    /// Drops producers whose last batch is at least `expiration_ms` old; returns how many.
    pub fn remove_expired(&mut self, now_ms: i64, expiration_ms: i64) -> usize {
        let before = self.producers.len();
        self.producers
            .retain(|_, entry| now_ms.saturating_sub(entry.last_timestamp()) < expiration_ms);
        before - self.producers.len()
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
    }

    pub(super) fn load(&mut self, entries: Vec<ProducerEntry>) {
        self.producers = entries.into_iter().map(|e| (e.producer_id, e)).collect();
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
mod tests {
    use super::*;

    /// A header-only batch (records are never read here) of `count` records.
    fn batch(producer_id: i64, epoch: i16, first_sequence: i32, count: i32) -> Vec<u8> {
        let mut b = vec![0u8; batch::HEADER_SIZE];
        b[8..12].copy_from_slice(&((batch::HEADER_SIZE - 12) as i32).to_be_bytes());
        b[16] = 2;
        b[23..27].copy_from_slice(&(count - 1).to_be_bytes());
        b[35..43].copy_from_slice(&1_000i64.to_be_bytes());
        b[43..51].copy_from_slice(&producer_id.to_be_bytes());
        b[51..53].copy_from_slice(&epoch.to_be_bytes());
        b[53..57].copy_from_slice(&first_sequence.to_be_bytes());
        b[57..61].copy_from_slice(&count.to_be_bytes());
        b
    }

    /// Checks and applies like `Log::append` at `offset`; returns the check.
    fn append(state: &mut ProducerState, records: &[u8], offset: i64) -> Result<AppendCheck> {
        let check = state.check_append(records, offset, None)?;
        if let AppendCheck::Accept(entries) = &check {
            state.apply(entries.clone());
        }
        Ok(check)
    }

    fn accepted(check: Result<AppendCheck>) {
        match check {
            Ok(AppendCheck::Accept(_)) => {}
            other => panic!("expected the append to be accepted, got {other:?}"),
        }
    }

    fn code(check: Result<AppendCheck>) -> &'static str {
        check.expect_err("expected an error").code()
    }

    #[test]
    fn in_order_sequences_are_accepted_and_recorded() {
        let mut state = ProducerState::default();
        accepted(append(&mut state, &batch(7, 0, 0, 3), 0));
        accepted(append(&mut state, &batch(7, 0, 3, 2), 3));
        let entry = state.entry(7).unwrap();
        assert_eq!(entry.epoch(), 0);
        assert_eq!(entry.last_sequence(), 4);
        let last = *entry.batches().last().unwrap();
        assert_eq!(
            last,
            BatchMetadata {
                first_sequence: 3,
                last_sequence: 4,
                first_offset: 3,
                last_offset: 4,
                max_timestamp: 1_000
            }
        );
    }

    #[test]
    fn a_retry_of_any_of_the_last_five_batches_is_a_duplicate_with_its_offsets() {
        let mut state = ProducerState::default();
        for i in 0..6 {
            accepted(append(
                &mut state,
                &batch(7, 0, i * 2, 2),
                100 + i as i64 * 2,
            ));
        }
        // Batches 1..=5 are retained; batch 0 (sequences 0-1) has been forgotten.
        for i in 1..6 {
            let check = state
                .check_append(&batch(7, 0, i * 2, 2), 999, None)
                .unwrap();
            let AppendCheck::Duplicate(original) = check else {
                panic!("batch {i} should be a duplicate");
            };
            assert_eq!(original.first_offset, 100 + i as i64 * 2);
            assert_eq!(original.last_offset, 101 + i as i64 * 2);
        }
        // The forgotten one is just out of order now.
        assert_eq!(
            code(state.check_append(&batch(7, 0, 0, 2), 999, None)),
            "OUT_OF_ORDER_SEQUENCE_NUMBER"
        );
        // Same first sequence but another range is not a duplicate.
        assert_eq!(
            code(state.check_append(&batch(7, 0, 10, 1), 999, None)),
            "OUT_OF_ORDER_SEQUENCE_NUMBER"
        );
    }

    #[test]
    fn a_gap_or_a_rewind_is_out_of_order() {
        let mut state = ProducerState::default();
        accepted(append(&mut state, &batch(7, 0, 0, 3), 0));
        assert_eq!(
            code(state.check_append(&batch(7, 0, 4, 1), 3, None)),
            "OUT_OF_ORDER_SEQUENCE_NUMBER"
        );
        assert_eq!(
            code(state.check_append(&batch(7, 0, 1, 1), 3, None)),
            "OUT_OF_ORDER_SEQUENCE_NUMBER"
        );
        // Nothing changed.
        assert_eq!(state.entry(7).unwrap().last_sequence(), 2);
    }

    #[test]
    fn sequences_wrap_after_i32_max() {
        let mut state = ProducerState::default();
        accepted(append(&mut state, &batch(7, 0, i32::MAX - 1, 2), 0));
        assert_eq!(state.entry(7).unwrap().last_sequence(), i32::MAX);
        accepted(append(&mut state, &batch(7, 0, 0, 1), 2));
        // A batch spanning the wrap: last sequence 1.
        let mut state = ProducerState::default();
        accepted(append(&mut state, &batch(8, 0, i32::MAX, 3), 0));
        assert_eq!(state.entry(8).unwrap().last_sequence(), 1);
        accepted(append(&mut state, &batch(8, 0, 2, 1), 3));
    }

    #[test]
    fn an_older_epoch_is_fenced_and_a_newer_one_starts_at_zero() {
        let mut state = ProducerState::default();
        accepted(append(&mut state, &batch(7, 3, 0, 2), 0));
        assert_eq!(
            code(state.check_append(&batch(7, 2, 2, 1), 2, None)),
            "INVALID_PRODUCER_EPOCH"
        );
        assert_eq!(
            code(state.check_append(&batch(7, 4, 5, 1), 2, None)),
            "OUT_OF_ORDER_SEQUENCE_NUMBER"
        );
        accepted(append(&mut state, &batch(7, 4, 0, 1), 2));
        let entry = state.entry(7).unwrap();
        assert_eq!(entry.epoch(), 4);
        assert_eq!(
            entry.batches().len(),
            1,
            "a new epoch forgets the old epoch's batches"
        );
        // The old epoch's batches are no duplicates any more: that epoch is fenced.
        assert_eq!(
            code(state.check_append(&batch(7, 3, 0, 2), 3, None)),
            "INVALID_PRODUCER_EPOCH"
        );
    }

    #[test]
    fn a_producer_without_state_may_start_at_any_sequence() {
        let mut state = ProducerState::default();
        accepted(append(&mut state, &batch(9, 2, 4_000, 5), 0));
        assert_eq!(state.entry(9).unwrap().last_sequence(), 4_004);
        accepted(append(&mut state, &batch(9, 2, 4_005, 1), 5));
        assert_eq!(
            code(state.check_append(&batch(9, 2, 4_000, 1), 6, None)),
            "OUT_OF_ORDER_SEQUENCE_NUMBER"
        );
    }

    #[test]
    fn batches_of_one_append_are_checked_against_each_other() {
        let mut state = ProducerState::default();
        accepted(append(&mut state, &batch(7, 0, 0, 1), 0));
        let mut two = batch(7, 0, 1, 2);
        two.extend(batch(7, 0, 3, 1));
        accepted(append(&mut state, &two, 1));
        assert_eq!(state.entry(7).unwrap().last_sequence(), 3);
        let mut gap = batch(7, 0, 4, 1);
        gap.extend(batch(7, 0, 6, 1));
        let err = state.check_append(&gap, 4, None).unwrap_err();
        assert_eq!(err.code(), "OUT_OF_ORDER_SEQUENCE_NUMBER");
        assert!(err.to_string().contains("#1"), "{err}");
        // The first batch of the rejected append left no trace.
        assert_eq!(state.entry(7).unwrap().last_sequence(), 3);
    }

    #[test]
    fn a_duplicate_anywhere_in_the_append_answers_for_all_of_it() {
        let mut state = ProducerState::default();
        accepted(append(&mut state, &batch(7, 0, 0, 2), 10));
        let mut records = batch(8, 0, 0, 1);
        records.extend(batch(7, 0, 0, 2));
        let check = state.check_append(&records, 50, None).unwrap();
        assert!(
            matches!(check, AppendCheck::Duplicate(b) if b.first_offset == 10 && b.last_offset == 11)
        );
        assert!(state.entry(8).is_none());
    }

    #[test]
    fn batches_without_a_producer_id_are_ignored_but_take_offsets() {
        let mut state = ProducerState::default();
        let mut records = batch(-1, -1, -1, 4);
        records.extend(batch(7, 0, 0, 1));
        accepted(append(&mut state, &records, 20));
        assert_eq!(state.len(), 1);
        assert_eq!(
            state
                .entry(7)
                .unwrap()
                .batches()
                .next()
                .unwrap()
                .first_offset,
            24
        );
    }

    #[test]
    fn log_append_time_is_what_the_metadata_keeps() {
        let state = ProducerState::default();
        let AppendCheck::Accept(entries) =
            state.check_append(&batch(7, 0, 0, 1), 0, Some(55)).unwrap()
        else {
            panic!("accepted");
        };
        assert_eq!(entries[0].last_timestamp(), 55);
    }

    #[test]
    fn replay_skips_checks_and_expiry_drops_idle_producers() {
        let mut state = ProducerState::default();
        let mut header = BatchHeader::parse(&batch(7, 5, 100, 2));
        header.base_offset = 40;
        state.replay(&header);
        header.producer_epoch = 1; // an older epoch from the log is taken as it is
        header.base_sequence = 0;
        state.replay(&header);
        assert_eq!(state.entry(7).unwrap().epoch(), 1);
        assert_eq!(state.remove_expired(1_000 + 99, 100), 0);
        assert_eq!(state.remove_expired(1_000 + 100, 100), 1);
        assert!(state.is_empty());
    }
}
