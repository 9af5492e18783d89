//! Helpers for the compaction tests: keyed (and compressed, and producer-stamped) batches built
//! from scratch, the records a log holds read back through `Log::read`, the batches its segment
//! files hold read straight from disk, and what a full compaction must leave.

#![allow(dead_code)]

use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::path::Path;

use sluice_log::records::batch::{self, BatchHeader, HEADER_SIZE};
use sluice_log::records::codec::{Codec, Encoder};
use sluice_log::records::record::{self, put_varlong};
use sluice_log::{AppendMode, CleanupPolicy, Log, LogConfig};

/// One record as a test writes and reads it: (key, value); None is null.
pub type Kv = (Option<Vec<u8>>, Option<Vec<u8>>);

/// A record read back: its offset, key and value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stored {
    pub offset: i64,
    pub key: Option<Vec<u8>>,
    pub value: Option<Vec<u8>>,
}

pub fn kv(key: &str, value: Option<&str>) -> Kv {
    (
        Some(key.as_bytes().to_vec()),
        value.map(|v| v.as_bytes().to_vec()),
    )
}

/// Producer fields of a batch: (producer id, epoch, base sequence).
pub type ProducerFields = (i64, i16, i32);

fn put(out: &mut Vec<u8>, v: i64) {
    let mut tmp = [0u8; 10];
    let n = put_varlong(&mut tmp, v);
    out.extend_from_slice(&tmp[..n]);
}

/// A valid v2 batch (baseOffset 0) of `records`, timestamps `timestamp + i`, compressed with
/// `codec`.
pub fn keyed_batch(
    records: &[Kv],
    timestamp: i64,
    codec: Codec,
    producer: Option<ProducerFields>,
) -> Vec<u8> {
    assert!(!records.is_empty());
    let mut plain = Vec::new();
    for (i, (key, value)) in records.iter().enumerate() {
        let mut body = vec![0u8];
        put(&mut body, i as i64);
        put(&mut body, i as i64);
        for field in [key, value] {
            match field {
                None => put(&mut body, -1),
                Some(bytes) => {
                    put(&mut body, bytes.len() as i64);
                    body.extend_from_slice(bytes);
                }
            }
        }
        put(&mut body, 1);
        put(&mut body, 1);
        body.push(b'h');
        put(&mut body, 1);
        body.push(b'x');
        put(&mut plain, body.len() as i64);
        plain.extend_from_slice(&body);
    }
    let mut encoder = Encoder::new(codec).unwrap();
    encoder.write_all(&plain).unwrap();
    let payload = encoder.finish().unwrap();
    let codec_id = match codec {
        Codec::None => 0,
        Codec::Gzip => 1,
        Codec::Snappy => 2,
        Codec::Lz4 => 3,
        Codec::Zstd => 4,
    };
    let (producer_id, producer_epoch, base_sequence) = producer.unwrap_or((-1, -1, -1));
    let count = records.len() as i32;
    let header = BatchHeader {
        base_offset: 0,
        batch_length: (HEADER_SIZE - 12 + payload.len()) as i32,
        partition_leader_epoch: -1,
        magic: 2,
        crc: 0,
        attributes: codec_id,
        last_offset_delta: count - 1,
        base_timestamp: timestamp,
        max_timestamp: timestamp + count as i64 - 1,
        producer_id,
        producer_epoch,
        base_sequence,
        records_count: count,
    };
    let mut out = header.encode().to_vec();
    out.extend_from_slice(&payload);
    let crc = batch::compute_crc(&out);
    out[..HEADER_SIZE].copy_from_slice(&BatchHeader { crc, ..header }.encode());
    out
}

/// Every record the log serves, in offset order, read through `Log::read` from the log start.
pub fn log_records(log: &Log) -> Vec<Stored> {
    let mut out = Vec::new();
    let mut offset = log.log_start_offset();
    while offset < log.log_end_offset() {
        let Some(read) = log.read(offset, 1 << 20, true).unwrap() else {
            break;
        };
        let bytes = read.range.read_to_vec().unwrap();
        let mut position = 0;
        let mut next = offset;
        while position < bytes.len() {
            let header = BatchHeader::parse(&bytes[position..]);
            let whole = &bytes[position..position + header.size() as usize];
            batch::check_crc(&header, whole).unwrap();
            let mut reader = record::batch_records(whole, &header).unwrap();
            while let Some(r) = reader.next_record().unwrap() {
                let o = header.base_offset + r.offset_delta as i64;
                if o >= offset {
                    out.push(Stored {
                        offset: o,
                        key: r.key.map(<[u8]>::to_vec),
                        value: r.value.map(<[u8]>::to_vec),
                    });
                }
            }
            next = header.last_offset() + 1;
            position += header.size() as usize;
        }
        assert!(next > offset, "reads make progress");
        offset = next;
    }
    out
}

/// The headers of every batch in the segment files of `dir`, oldest segment first.
pub fn disk_batches(dir: &Path) -> Vec<BatchHeader> {
    let mut logs: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "log"))
        .collect();
    logs.sort();
    let mut out = Vec::new();
    for path in logs {
        let bytes = std::fs::read(&path).unwrap();
        let mut position = 0;
        // An active mmap segment ends in preallocated zeros.
        while bytes.len() - position >= HEADER_SIZE {
            let header = BatchHeader::parse(&bytes[position..]);
            if header.batch_length == 0 {
                break;
            }
            out.push(header);
            position += header.size() as usize;
        }
    }
    out
}

/// What compaction may leave of `original` once it has cleaned everything below `end`: per key,
/// only its last record below `end` (records from `end` on all stay); keyless records below
/// `end` go; tombstones stay unless `drop_tombstones`.
pub fn compacted(original: &[Stored], end: i64, drop_tombstones: bool) -> Vec<Stored> {
    let mut last: HashMap<Vec<u8>, i64> = HashMap::new();
    for r in original.iter().filter(|r| r.offset < end) {
        if let Some(k) = &r.key {
            last.insert(k.clone(), r.offset);
        }
    }
    original
        .iter()
        .filter(|r| {
            r.offset >= end
                || r.key
                    .as_ref()
                    .is_some_and(|k| last[k] == r.offset && (r.value.is_some() || !drop_tombstones))
        })
        .cloned()
        .collect()
}

/// The latest value per key (None for a tombstone), which compaction must never change.
pub fn latest_values(records: &[Stored]) -> BTreeMap<Vec<u8>, Option<Vec<u8>>> {
    let mut out = BTreeMap::new();
    for r in records {
        if let Some(k) = &r.key {
            out.insert(k.clone(), r.value.clone());
        }
    }
    out
}

/// Checks what any state of a compacting log must satisfy against its uncompacted content:
/// offsets increasing, each record the original one at its offset, nothing a full compaction
/// keeps is missing, and the latest value of every key unchanged.
pub fn assert_valid_compaction(now: &[Stored], original: &[Stored], fully_compacted: &[Stored]) {
    let by_offset: HashMap<i64, &Stored> = original.iter().map(|r| (r.offset, r)).collect();
    for pair in now.windows(2) {
        assert!(
            pair[0].offset < pair[1].offset,
            "offsets increase: {pair:?}"
        );
    }
    for r in now {
        assert_eq!(
            Some(&r),
            by_offset.get(&r.offset),
            "record at {} is the original",
            r.offset
        );
    }
    let kept: std::collections::HashSet<i64> = now.iter().map(|r| r.offset).collect();
    for r in fully_compacted {
        assert!(
            kept.contains(&r.offset),
            "record at {} must survive",
            r.offset
        );
    }
    let mut expected_latest = latest_values(original);
    let mut actual_latest = latest_values(now);
    // A tombstone may be gone once its horizon passed; then the key is simply absent.
    expected_latest.retain(|_, v| v.is_some());
    actual_latest.retain(|_, v| v.is_some());
    assert_eq!(actual_latest, expected_latest, "latest value per key");
}

/// A small-segment compacted config, in mmap mode (the tests that run in both modes override it).
pub fn compact_config(segment_bytes: u64) -> LogConfig {
    LogConfig {
        segment_bytes,
        append_mode: AppendMode::Mmap,
        index_interval_bytes: 256,
        preallocate_step_bytes: 4096,
        retention_ms: -1,
        cleanup_policy: CleanupPolicy {
            compact: true,
            delete: false,
        },
        min_cleanable_dirty_ratio: 0.0,
        delete_retention_ms: 1_000,
        ..LogConfig::default()
    }
}

/// Appends `rounds` batches of 1..=`max_per_batch` records cycling over `keys` keys, values
/// `v<round>-<i>`; every 7th record of key 3 is a tombstone. Returns nothing: read the log.
pub fn append_overwrites(
    log: &mut Log,
    rounds: usize,
    keys: usize,
    max_per_batch: usize,
    codec: Codec,
    ts: i64,
) {
    let mut n = 0usize;
    for round in 0..rounds {
        let count = 1 + round % max_per_batch;
        let records: Vec<Kv> = (0..count)
            .map(|i| {
                n += 1;
                let key = format!("key-{}", (n * 7 + i) % keys);
                let tombstone = key == "key-3" && n.is_multiple_of(7);
                let value = format!("v{round}-{i}-{}", "x".repeat(n % 40));
                kv(&key, (!tombstone).then_some(value.as_str()))
            })
            .collect();
        let mut bytes = keyed_batch(&records, ts + round as i64, codec, None);
        log.append(&mut bytes, ts + round as i64, 0).unwrap();
    }
}
