//! Idempotent and transactional producers (Kafka's `ProducerStateManager`): the per-producer
//! state and its append rules, open transactions included (`state`), the `<offset>.snapshot` file format (`snapshot`), and
//! the manager that keeps both for one partition (`manager`). Dependencies point one way:
//! `state` <- `snapshot` <- `manager`.

pub mod manager;
pub mod snapshot;
pub mod state;

pub use manager::{ProducerStateManager, Rebuild};
pub use state::{
    AppendCheck, BATCHES_TO_RETAIN, BatchMetadata, CompletedTxn, MarkerCheck, OngoingTxn,
    ProducerEntry, ProducerState,
};
