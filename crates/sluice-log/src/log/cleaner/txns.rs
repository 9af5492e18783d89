//! Transactions in a clean (Kafka's `CleanedTransactionMetadata`): which batches belong to
//! aborted transactions (`AbortedBatches`: the cleaner drops them, as Kafka's log cleaner does),
//! and which markers end a transaction with no batch left (`EmptyTxns`: such a marker gets a
//! delete horizon and goes after `delete.retention.ms`, as Kafka's).
//!
//! The aborted transactions are `Log::aborted_transactions(log start, first uncleanable)`, taken
//! when the clean is planned: Kafka's collection, which reads the `.txnindex` of later segments
//! too until no later abort can overlap the range, so a transaction whose ABORT marker lies past
//! the cleaned range is known. Every transaction with data in the range has ended (the range
//! stops at the first unstable offset): a transactional batch not covered here is committed.
//! Batches are fed in offset order; a transaction becomes current for its
//! producer once the scan reaches its first offset, and a transactional batch of that producer
//! at or before the marker's offset is aborted data. Markers are not dropped (see `mod.rs`).
//!
//! Concurrency contract: owned by one clean job.

use std::collections::{HashMap, HashSet};

use crate::records::batch::BatchHeader;
use crate::segment::AbortedTxn;

#[derive(Debug)]
pub(crate) struct AbortedBatches {
    /// Not reached yet, by descending first offset (the next one is last).
    pending: Vec<AbortedTxn>,
    /// Per producer, the latest aborted transaction the scan reached.
    current: HashMap<i64, AbortedTxn>,
}

impl AbortedBatches {
    pub(crate) fn new(mut aborted: Vec<AbortedTxn>) -> AbortedBatches {
        aborted.sort_unstable_by_key(|a| std::cmp::Reverse(a.first_offset));
        AbortedBatches {
            pending: aborted,
            current: HashMap::new(),
        }
    }

    /// Feeds the next batch of the clean (every batch, in offset order); true when it is data of
    /// an aborted transaction.
    pub(crate) fn is_aborted_data(&mut self, header: &BatchHeader) -> bool {
        while self
            .pending
            .last()
            .is_some_and(|next| next.first_offset <= header.last_offset())
        {
            let txn = self.pending.pop().expect("checked above");
            self.current.insert(txn.producer_id, txn);
        }
        if header.is_control() || !header.is_transactional() || !header.has_producer_id() {
            return false;
        }
        self.current.get(&header.producer_id).is_some_and(|txn| {
            txn.first_offset <= header.base_offset && header.last_offset() < txn.last_offset
        })
    }
}

/// Which markers end a transaction none of whose batches the clean writes. Fed, in offset
/// order, every transactional batch the clean writes (kept whole, rebuilt or kept empty) and
/// every marker. A marker may only go when no batch of its transaction is left, not even an
/// empty one: a rebuild of the producer state from the log would otherwise reopen that
/// transaction and the last stable offset would never pass it.
#[derive(Debug, Default)]
pub(crate) struct EmptyTxns {
    /// Producers with a transactional batch written since their last marker.
    with_batches: HashSet<i64>,
}

impl EmptyTxns {
    /// The clean writes this transactional data batch.
    pub(crate) fn batch_written(&mut self, header: &BatchHeader) {
        if header.is_transactional() && !header.is_control() && header.has_producer_id() {
            self.with_batches.insert(header.producer_id);
        }
    }

    /// A marker: true when its transaction has no batch left (the batches of a producer's
    /// transaction all lie between its previous marker and this one).
    pub(crate) fn marker_ends_empty(&mut self, header: &BatchHeader) -> bool {
        !self.with_batches.remove(&header.producer_id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(producer_id: i64, base_offset: i64, count: i32, attributes: i16) -> BatchHeader {
        BatchHeader {
            base_offset,
            batch_length: 49,
            partition_leader_epoch: 0,
            magic: 2,
            crc: 0,
            attributes,
            last_offset_delta: count - 1,
            base_timestamp: 0,
            max_timestamp: 0,
            producer_id,
            producer_epoch: 0,
            base_sequence: 0,
            records_count: count,
        }
    }

    fn txn(producer_id: i64, first_offset: i64, last_offset: i64) -> AbortedTxn {
        AbortedTxn {
            producer_id,
            first_offset,
            last_offset,
            last_stable_offset: last_offset + 1,
        }
    }

    #[test]
    fn only_transactional_batches_inside_an_aborted_transaction_are_aborted() {
        // p1 aborted [0, marker 6]; p2 committed [3, 4]; p1 aborted again [8, marker 9].
        let mut batches = AbortedBatches::new(vec![txn(1, 8, 9), txn(1, 0, 6)]);
        assert!(batches.is_aborted_data(&header(1, 0, 3, 0x10)));
        assert!(
            !batches.is_aborted_data(&header(2, 3, 2, 0x10)),
            "another producer"
        );
        assert!(!batches.is_aborted_data(&header(-1, 5, 1, 0)), "plain data");
        assert!(batches.is_aborted_data(&header(1, 5, 1, 0x10)));
        assert!(
            !batches.is_aborted_data(&header(1, 6, 1, 0x30)),
            "the marker"
        );
        assert!(!batches.is_aborted_data(&header(2, 7, 1, 0x30)));
        assert!(batches.is_aborted_data(&header(1, 8, 1, 0x10)));
        assert!(!batches.is_aborted_data(&header(1, 9, 1, 0x30)));
        assert!(
            !batches.is_aborted_data(&header(1, 10, 1, 0x10)),
            "a later transaction"
        );
    }

    #[test]
    fn a_marker_is_empty_when_no_batch_of_its_transaction_was_written() {
        let mut txns = EmptyTxns::default();
        txns.batch_written(&header(1, 0, 1, 0x10));
        txns.batch_written(&header(-1, 1, 1, 0));
        assert!(!txns.marker_ends_empty(&header(1, 2, 1, 0x30)));
        assert!(
            txns.marker_ends_empty(&header(2, 3, 1, 0x30)),
            "nothing of producer 2"
        );
        assert!(
            txns.marker_ends_empty(&header(1, 4, 1, 0x30)),
            "a second marker of 1"
        );
    }
}
