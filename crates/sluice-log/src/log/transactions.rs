//! The log's side of transactions (KIP-98): appending the coordinator's COMMIT / ABORT markers,
//! the first unstable offset (from which the broker derives the last stable offset), the aborted
//! transactions a `read_committed` fetch must be told about, and the open transactions.
//!
//! A marker append (Kafka's `UnifiedLog.appendAsLeader` with origin COORDINATOR) is never the
//! produce path: clients' control batches are refused by validation. Its order of effects:
//! checks (producer epoch, coordinator epoch) → roll if due → for an ABORT that ends an open
//! transaction, the `.txnindex` entry in the segment that will hold the marker → the marker batch
//! → the producer state (which moves the first unstable offset, so the LSO never passes an
//! aborted transaction before its index entry exists). A failed marker write removes the entry
//! again; nothing else has changed then.

use super::{AppendResult, Log};
use crate::config::TimestampType;
use crate::error::{Error, Result};
use crate::producer::OngoingTxn;
use crate::records::batch;
use crate::records::control::{self, EndTxnMarker, MarkerType};
use crate::segment::{AbortedTxn, TxnSearch};

impl Log {
    /// Appends the end-transaction marker (`commit` or abort) of `producer_id`'s transaction,
    /// written by a coordinator at `coordinator_epoch`, stamped `now_ms`. INVALID_PRODUCER_EPOCH
    /// when `producer_epoch` is older than the producer's on this partition,
    /// TRANSACTION_COORDINATOR_FENCED when `coordinator_epoch` is older than its last marker's.
    /// A marker for a producer without an open transaction here is written all the same (Kafka
    /// does; readers ignore it) and changes only the producer's epoch.
    pub fn append_marker(
        &mut self,
        producer_id: i64,
        producer_epoch: i16,
        coordinator_epoch: i32,
        commit: bool,
        now_ms: i64,
        leader_epoch: i32,
    ) -> Result<AppendResult> {
        self.ensure_open()?;
        if producer_id < 0 || producer_epoch < 0 {
            return Err(Error::InvalidArgument {
                name: "producerId",
                reason: format!(
                    "a marker needs a producer id and epoch >= 0, got {producer_id} / {producer_epoch}"
                ),
            });
        }
        let marker = EndTxnMarker {
            producer_id,
            producer_epoch,
            coordinator_epoch,
            kind: if commit {
                MarkerType::Commit
            } else {
                MarkerType::Abort
            },
        };
        let offset = self.log_end_offset;
        if offset == i64::MAX - 1 {
            return Err(Error::InvalidRecord {
                batch: 0,
                position: 0,
                reason: "the log has no offset left for a marker".into(),
            });
        }
        let check = self.producers.check_marker(&marker, offset, now_ms)?;
        let mut records = control::build_marker_batch(&marker, now_ms);
        let bytes = records.len() as u64;
        let rolled = self.maybe_roll(bytes, now_ms, offset, now_ms)?;

        let storage = self.storage.clone();
        let step = self.config.preallocate_step();
        let interval = self.config.index_interval_bytes;
        let log_append_time =
            (self.config.message_timestamp_type == TimestampType::LogAppendTime).then_some(now_ms);
        let active = self.active_mut();
        active.reserve(&*storage, bytes, step)?;
        let aborted = check.completed.filter(|txn| txn.aborted);
        if let Some(txn) = aborted {
            active.append_aborted_txn(
                &*storage,
                AbortedTxn {
                    producer_id,
                    first_offset: txn.first_offset,
                    last_offset: offset,
                    last_stable_offset: check.last_stable_offset,
                },
            )?;
        }
        batch::assign_offsets(&mut records, offset, leader_epoch, log_append_time);
        if let Err(e) = active.append(&*storage, &records, now_ms, interval) {
            if aborted.is_some()
                && let Err(undo) = active.truncate_txn_index(&*storage, offset)
            {
                // The index holds an entry for a marker that is not in the log: only a reopen
                // (which rebuilds the index from the log) makes it right again.
                self.offline = Some(format!(
                    "removing the transaction index entry of a failed marker: {undo}"
                ));
            }
            return Err(e);
        }
        self.log_end_offset = offset + 1;
        self.producers.apply_marker(check);

        self.unflushed_messages += 1;
        if self.unflushed_messages >= self.config.flush_interval_messages {
            self.flush()?;
        }
        Ok(AppendResult {
            base_offset: offset,
            last_offset: offset,
            log_append_time: log_append_time.unwrap_or(-1),
            max_timestamp: now_ms,
            record_count: 1,
            log_start_offset: self.log_start_offset,
            rolled,
            duplicate: false,
        })
    }

    /// The first offset of the earliest open transaction (Kafka's `firstUnstableOffset`), None
    /// when none is open; never below the log start (Kafka clamps it there when retention or
    /// DeleteRecords passed the transaction's first batch). The last stable offset is min(this,
    /// high watermark).
    pub fn first_unstable_offset(&self) -> Option<i64> {
        self.producers
            .state()
            .first_unstable_offset()
            .map(|offset| offset.max(self.log_start_offset))
    }

    /// The open transactions, earliest first (DescribeProducers, metrics).
    pub fn ongoing_transactions(&self) -> Vec<OngoingTxn> {
        self.producers.state().ongoing_transactions()
    }

    /// Kafka's `collectAbortedTransactions(startOffset, upperBoundOffset)` for a fetch at
    /// `read_committed`: the aborted transactions with a marker at or past `fetch_offset` and a
    /// first offset below `upper_bound`, from the transaction indexes of the segment holding
    /// `fetch_offset` and the following ones, until an entry's last stable offset reaches
    /// `upper_bound` (no later abort can overlap the range). Reads only the in-memory indexes.
    pub fn aborted_transactions(
        &self,
        fetch_offset: i64,
        upper_bound: i64,
    ) -> Result<Vec<AbortedTxn>> {
        self.ensure_open()?;
        let start_base = self
            .segments
            .range(..=fetch_offset)
            .next_back()
            .map_or(i64::MIN, |(base, _)| *base);
        let mut search = TxnSearch::default();
        for segment in self.segments.range(start_base..).map(|(_, s)| s) {
            segment
                .txn_index()
                .collect(fetch_offset, upper_bound, &mut search);
            if search.complete {
                break;
            }
        }
        Ok(search.aborted)
    }
}
