//! Sluice storage core: segmented Kafka logs, sparse indexes, recovery, retention and zero-copy
//! transfer on raw fds. Pure Rust; no napi (see crates/sluice-napi for the Node binding).

pub mod error;
pub mod file_range;
pub mod transfer;
pub mod writer;

pub use error::Error;
pub use file_range::FileRange;
