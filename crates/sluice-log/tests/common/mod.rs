//! Test helpers: valid RecordBatch v2 bytes built from scratch (CRC-32C over attributes..end),
//! a temp-dir log opener parametrized by append mode, and readers for what a `FileRange` covers.

#![allow(dead_code)]

use std::os::unix::fs::FileExt;
use std::path::Path;
use std::sync::Arc;

use sluice_log::fault::FaultyStorage;
use sluice_log::{AppendMode, FileRange, Log, LogConfig, OpenOptions};

/// Both append modes, for parametrized tests.
pub const MODES: [AppendMode; 2] = [AppendMode::Mmap, AppendMode::Pwrite];

/// Generates `mod $name { #[test] fn mmap(); #[test] fn pwrite(); }` running `$body(mode)`.
#[macro_export]
macro_rules! for_each_mode {
    ($name:ident, $body:expr) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            #[test]
            fn mmap() {
                ($body)(sluice_log::AppendMode::Mmap)
            }
            #[test]
            fn pwrite() {
                ($body)(sluice_log::AppendMode::Pwrite)
            }
        }
    };
}

fn zigzag(value: i64) -> u64 {
    ((value << 1) ^ (value >> 63)) as u64
}

fn put_varlong(out: &mut Vec<u8>, value: i64) {
    let mut v = zigzag(value);
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// What a batch is made of.
#[derive(Clone, Debug)]
pub struct BatchSpec {
    /// One record per timestamp.
    pub timestamps: Vec<i64>,
    pub value_len: usize,
    /// Attribute bits 0-2; the payload is not really compressed (the log never decompresses).
    pub compression: u8,
    pub producer_id: i64,
}

impl BatchSpec {
    pub fn records(count: usize, timestamp: i64, value_len: usize) -> BatchSpec {
        BatchSpec {
            timestamps: vec![timestamp; count],
            value_len,
            compression: 0,
            producer_id: -1,
        }
    }
}

/// A valid v2 batch: baseOffset 0, partitionLeaderEpoch -1, records with null keys and values
/// of `value_len` bytes (a byte pattern derived from the record's index and `seed`).
pub fn build_batch(spec: &BatchSpec, seed: u8) -> Vec<u8> {
    assert!(!spec.timestamps.is_empty());
    let base_timestamp = *spec.timestamps.iter().min().unwrap();
    let max_timestamp = *spec.timestamps.iter().max().unwrap();
    let mut records = Vec::new();
    for (i, ts) in spec.timestamps.iter().enumerate() {
        let mut body = Vec::new();
        body.push(0u8); // attributes
        put_varlong(&mut body, ts - base_timestamp);
        put_varlong(&mut body, i as i64); // offset delta
        put_varlong(&mut body, -1); // null key
        put_varlong(&mut body, spec.value_len as i64);
        body.extend((0..spec.value_len).map(|j| seed.wrapping_add((i * 31 + j) as u8)));
        put_varlong(&mut body, 0); // no headers
        put_varlong(&mut records, body.len() as i64);
        records.extend_from_slice(&body);
    }
    let count = spec.timestamps.len() as i32;
    // Compressed for real: appends count the records inside (decompressing), as Kafka does.
    if spec.compression != 0 {
        use std::io::Write;
        let codec = sluice_log::records::codec::Codec::from_attributes(spec.compression as i16)
            .expect("a codec Kafka defines");
        let mut encoder = sluice_log::records::codec::Encoder::new(codec).unwrap();
        encoder.write_all(&records).unwrap();
        records = encoder.finish().unwrap();
    }
    let mut batch = Vec::with_capacity(61 + records.len());
    batch.extend_from_slice(&0i64.to_be_bytes()); // baseOffset
    batch.extend_from_slice(&((49 + records.len()) as i32).to_be_bytes()); // batchLength
    batch.extend_from_slice(&(-1i32).to_be_bytes()); // partitionLeaderEpoch
    batch.push(2); // magic
    batch.extend_from_slice(&0u32.to_be_bytes()); // crc, filled below
    batch.extend_from_slice(&(spec.compression as i16 & 7).to_be_bytes()); // attributes
    batch.extend_from_slice(&(count - 1).to_be_bytes()); // lastOffsetDelta
    batch.extend_from_slice(&base_timestamp.to_be_bytes());
    batch.extend_from_slice(&max_timestamp.to_be_bytes());
    batch.extend_from_slice(&spec.producer_id.to_be_bytes());
    batch.extend_from_slice(&(-1i16).to_be_bytes()); // producerEpoch
    batch.extend_from_slice(&(-1i32).to_be_bytes()); // baseSequence
    batch.extend_from_slice(&count.to_be_bytes());
    batch.extend_from_slice(&records);
    fix_crc(&mut batch);
    batch
}

/// Recomputes the CRC-32C of a single batch (after a test edits covered bytes on purpose).
pub fn fix_crc(batch: &mut [u8]) {
    let crc = crc32c::crc32c(&batch[21..]);
    batch[17..21].copy_from_slice(&crc.to_be_bytes());
}

/// `count` records at `timestamp` with `value_len`-byte values.
pub fn simple_batch(count: usize, timestamp: i64, value_len: usize) -> Vec<u8> {
    build_batch(
        &BatchSpec::records(count, timestamp, value_len),
        count as u8,
    )
}

pub fn small_config(mode: AppendMode) -> LogConfig {
    LogConfig {
        segment_bytes: 16 * 1024,
        index_interval_bytes: 256,
        preallocate_step_bytes: 4096,
        retention_ms: -1,
        append_mode: mode,
        ..LogConfig::default()
    }
}

pub fn open(dir: &Path, config: LogConfig) -> Log {
    Log::open(dir, config, OpenOptions::default()).unwrap()
}

pub fn open_clean(dir: &Path, config: LogConfig) -> Log {
    Log::open(
        dir,
        config,
        OpenOptions {
            clean_shutdown: true,
            ..OpenOptions::default()
        },
    )
    .unwrap()
}

pub fn open_faulty(
    dir: &Path,
    config: LogConfig,
    options: OpenOptions,
) -> (Log, Arc<FaultyStorage>) {
    let storage = Arc::new(FaultyStorage::new());
    let log = Log::open_with_storage(dir, config, options, storage.clone()).unwrap();
    (log, storage)
}

/// The bytes a range covers (what the writer would send).
pub fn range_bytes(range: &FileRange) -> Vec<u8> {
    let mut bytes = vec![0u8; range.sendable_len() as usize];
    range
        .file()
        .read_exact_at(&mut bytes, range.position())
        .unwrap();
    bytes
}

/// A stored batch as the test expects it: the appended bytes after offset assignment.
#[derive(Clone, Debug)]
pub struct Stored {
    pub base_offset: i64,
    pub count: i64,
    pub bytes: Vec<u8>,
}

impl Stored {
    pub fn last_offset(&self) -> i64 {
        self.base_offset + self.count - 1
    }
}

/// Appends one batch per spec (timestamps `ts`, value lengths cycling), returning the stored
/// form of each.
pub fn append_batches(
    log: &mut Log,
    n: usize,
    records_per_batch: usize,
    value_len: usize,
    ts: i64,
) -> Vec<Stored> {
    (0..n)
        .map(|i| {
            let count = 1 + (i % records_per_batch);
            let len = value_len + (i * 7) % (value_len + 1);
            let mut bytes = build_batch(&BatchSpec::records(count, ts + i as i64, len), i as u8);
            let result = log.append(&mut bytes, ts + i as i64, 0).unwrap();
            assert_eq!(result.record_count, count as i64);
            Stored {
                base_offset: result.base_offset,
                count: count as i64,
                bytes,
            }
        })
        .collect()
}

/// The stored batch that contains `offset`.
pub fn batch_containing(stored: &[Stored], offset: i64) -> usize {
    stored
        .iter()
        .position(|s| s.base_offset <= offset && offset <= s.last_offset())
        .expect("offset is stored")
}
