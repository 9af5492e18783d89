//! Transactions on `NativePartitionLog` (issue 14): the coordinator's marker append, the first
//! unstable offset, the aborted transactions of a fetch range and the producers' state. Lists
//! cross as flat `Float64Array`s (numbers only; `packages/native/src/log.ts` turns them into
//! objects): producer ids, offsets and timestamps are safe integers.
//!
//! Concurrency contract: as `NativePartitionLog`, the JS thread that made it.

use napi::bindgen_prelude::Float64Array;
use napi_derive::napi;

use crate::error::{ErrorCode, integer, native_error};
use crate::log::{NativeAppendResult, NativePartitionLog};

/// A JS number that must be an integer within i16 / i32 (epochs).
fn epoch<T: TryFrom<i64>>(name: &'static str, value: f64) -> napi::Result<T, ErrorCode> {
    let v = integer(name, value)?;
    T::try_from(v).map_err(|_| {
        native_error(sluice_log::Error::InvalidArgument {
            name,
            reason: format!("{v} is out of range"),
        })
    })
}

#[napi]
impl NativePartitionLog {
    /// Appends the COMMIT (`commit`) or ABORT marker of `producerId`'s transaction.
    #[napi]
    pub fn append_txn_marker(
        &mut self,
        producer_id: f64,
        producer_epoch: f64,
        coordinator_epoch: f64,
        commit: bool,
        now_ms: f64,
        leader_epoch: Option<i32>,
    ) -> napi::Result<NativeAppendResult, ErrorCode> {
        let result = self
            .log
            .append_marker(
                integer("producerId", producer_id)?,
                epoch("producerEpoch", producer_epoch)?,
                epoch("coordinatorEpoch", coordinator_epoch)?,
                commit,
                integer("nowMs", now_ms)?,
                leader_epoch.unwrap_or(0),
            )
            .map_err(native_error)?;
        Ok(result.into())
    }

    /// First offset of the earliest open transaction; -1 when none is open.
    #[napi(getter)]
    pub fn first_unstable_offset(&self) -> f64 {
        self.log.first_unstable_offset().map_or(-1.0, |o| o as f64)
    }

    /// Aborted transactions overlapping [startOffset, upperBoundOffset): pairs
    /// `producerId, firstOffset`.
    #[napi]
    pub fn aborted_transactions(
        &self,
        start_offset: f64,
        upper_bound_offset: f64,
    ) -> napi::Result<Float64Array, ErrorCode> {
        let aborted = self
            .log
            .aborted_transactions(
                integer("startOffset", start_offset)?,
                integer("upperBoundOffset", upper_bound_offset)?,
            )
            .map_err(native_error)?;
        let flat: Vec<f64> = aborted
            .iter()
            .flat_map(|a| [a.producer_id as f64, a.first_offset as f64])
            .collect();
        Ok(Float64Array::new(flat))
    }

    /// Open transactions, earliest first: quadruples `producerId, producerEpoch, firstOffset,
    /// lastTimestamp`.
    #[napi]
    pub fn ongoing_transactions(&self) -> Float64Array {
        let flat: Vec<f64> = self
            .log
            .ongoing_transactions()
            .iter()
            .flat_map(|t| {
                [
                    t.producer_id as f64,
                    t.producer_epoch as f64,
                    t.first_offset as f64,
                    t.last_timestamp as f64,
                ]
            })
            .collect();
        Float64Array::new(flat)
    }

    /// Every producer's state (DescribeProducers), by producer id: sextuples `producerId,
    /// producerEpoch, lastSequence, lastTimestamp, coordinatorEpoch, currentTxnFirstOffset`
    /// (-1 for none).
    #[napi]
    pub fn producers(&self) -> Float64Array {
        let flat: Vec<f64> = self
            .log
            .producer_state()
            .sorted_entries()
            .into_iter()
            .flat_map(|e| {
                [
                    e.producer_id() as f64,
                    e.epoch() as f64,
                    e.last_sequence() as f64,
                    e.last_timestamp() as f64,
                    e.coordinator_epoch() as f64,
                    e.txn_first_offset().map_or(-1.0, |o| o as f64),
                ]
            })
            .collect();
        Float64Array::new(flat)
    }
}
