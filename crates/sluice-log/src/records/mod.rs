//! The record format, Kafka's RecordBatch v2, as the append path and the cleaner both need it.
//! Nothing here knows about segments or logs: these are functions over bytes.
//!
//! | module | what it holds |
//! |---|---|
//! | `batch` | the batch header layout, parsing and structure checks, CRC, offset assignment, record timestamps |
//! | `control` | transaction markers: the COMMIT / ABORT control batch, built and parsed |
//! | `codec` | the five record-set codecs (none, gzip, xerial snappy, LZ4 frame, zstd) |
//! | `count` | the append-time check that `recordsCount` is the number of records a batch holds |
//! | `record` | records inside a batch: streaming reader, key check, varlong writer |
//! | `validate` | append validation (Kafka's `LogValidator`): every batch, then the compacted-topic key rule |
//!
//! Dependencies point one way: `batch` is the leaf; `codec` reads its attribute mask; `count`
//! and `record` use both; `control` and `validate` sit on top.

pub mod batch;
pub mod codec;
pub mod control;
pub mod count;
pub mod record;
pub mod validate;
