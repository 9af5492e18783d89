//! What the cleaner keeps of one batch (Kafka's `Cleaner.shouldRetainRecord` and
//! `MemoryRecords.filterTo`):
//!
//! - A record past the offset map's latest offset is kept (the map knows nothing newer).
//! - A record without a key is dropped (Kafka counts it as an invalid message).
//! - A keyed record is kept when no later offset for its key is in the map, and it has a value,
//!   or it is a tombstone whose batch has no delete horizon yet or one still in the future.
//! - A batch keeping all its records and needing no new delete horizon is written unchanged,
//!   byte for byte (compressed payload included).
//! - Otherwise the kept records are written into a batch with the same baseOffset,
//!   lastOffsetDelta (the span stays, so offsets are never renumbered and the producer's last
//!   sequence survives), producer fields, leader epoch, timestamp type and codec; records are
//!   re-encoded with timestamp deltas from the new baseTimestamp and recompressed; CRC anew.
//! - KIP-534: when a kept batch holds a tombstone and has no delete horizon, the horizon
//!   `now + delete.retention.ms` is stamped (attribute bit 6, baseTimestamp = horizon), so the
//!   tombstone survives until a clean after the horizon.
//! - A batch with no record left is dropped, unless the caller needs it kept as an empty batch
//!   (Kafka's `writeEmptyHeader`: no records, the same offsets and producer fields).
//!
//! Concurrency contract: pure functions over one batch.

use std::io::Write;

use crate::log::cleaner::offset_map::OffsetMap;
use crate::records::batch::{
    self, BatchHeader, DELETE_HORIZON_BIT, HEADER_SIZE, LOG_OVERHEAD, MAGIC_V2,
};
use crate::records::batch::{COMPRESSION_MASK, TIMESTAMP_TYPE_BIT};
use crate::records::codec::{Codec, Encoder};
use crate::records::record::{self, Record};

/// What a clean needs to know to judge records.
pub struct FilterContext<'a> {
    pub map: &'a OffsetMap,
    pub now_ms: i64,
    pub delete_retention_ms: i64,
}

/// The outcome for one batch.
#[derive(Debug, PartialEq, Eq)]
pub enum Filtered {
    /// Keep the batch exactly as stored.
    Original,
    /// Replace it with this one batch.
    Rebuilt(Vec<u8>),
    /// No record is left.
    Empty,
}

/// Counts of one batch, for `CleanStats`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FilterCounts {
    pub records_read: u64,
    pub records_kept: u64,
    pub tombstones_dropped: u64,
}

/// Decides what to keep of `batch` (one whole stored batch, CRC checked, not a control batch).
/// An error means its records do not parse; the caller keeps such a batch whole.
pub fn filter_batch(
    batch: &[u8],
    header: &BatchHeader,
    ctx: &FilterContext<'_>,
) -> Result<(Filtered, FilterCounts), String> {
    let horizon = header.delete_horizon_ms();
    let mut keep = Vec::with_capacity(header.records_count.clamp(0, 1 << 16) as usize);
    let mut counts = FilterCounts::default();
    let mut keeps_tombstone = false;
    let mut reader = record::batch_records(batch, header)?;
    while let Some(record) = reader.next_record()? {
        let kept = should_keep(&record, header, horizon, ctx);
        counts.records_read += 1;
        if kept {
            counts.records_kept += 1;
            keeps_tombstone |= record.is_tombstone;
        } else if record.is_tombstone {
            counts.tombstones_dropped += 1;
        }
        keep.push(kept);
    }
    if counts.records_kept == 0 {
        return Ok((Filtered::Empty, counts));
    }
    let new_horizon = keeps_tombstone && horizon.is_none();
    if counts.records_kept == counts.records_read && !new_horizon {
        return Ok((Filtered::Original, counts));
    }
    let horizon = if new_horizon {
        Some(ctx.now_ms.saturating_add(ctx.delete_retention_ms))
    } else {
        horizon
    };
    Ok((
        Filtered::Rebuilt(rebuild(batch, header, &keep, horizon)?),
        counts,
    ))
}

fn should_keep(
    record: &Record<'_>,
    header: &BatchHeader,
    horizon: Option<i64>,
    ctx: &FilterContext<'_>,
) -> bool {
    let offset = header.base_offset + record.offset_delta as i64;
    if offset > ctx.map.latest_offset() {
        return true;
    }
    let Some(key) = record.key else {
        return false;
    };
    let latest_for_key = offset >= ctx.map.get(key).unwrap_or(-1);
    let deletes_retained = horizon.is_none_or(|h| ctx.now_ms < h);
    latest_for_key && (!record.is_tombstone || deletes_retained)
}

/// The batch holding the records marked in `keep` (in record order), with `horizon` as its
/// delete horizon when given.
fn rebuild(
    batch: &[u8],
    header: &BatchHeader,
    keep: &[bool],
    horizon: Option<i64>,
) -> Result<Vec<u8>, String> {
    let codec = Codec::from_attributes(header.attributes)
        .ok_or_else(|| format!("unknown compression codec id {}", header.compression()))?;
    // First pass over the kept records: the timestamps the new header needs.
    let mut first_timestamp = None;
    let mut max_timestamp = batch::NO_TIMESTAMP;
    let mut reader = record::batch_records(batch, header)?;
    let mut i = 0;
    while let Some(record) = reader.next_record()? {
        if keep[i] {
            let ts = record.timestamp(header);
            first_timestamp.get_or_insert(ts);
            max_timestamp = max_timestamp.max(ts);
        }
        i += 1;
    }
    let base_timestamp = horizon
        .or(first_timestamp)
        .expect("a rebuilt batch keeps a record");
    if header.is_log_append_time() {
        max_timestamp = header.max_timestamp;
    }
    // Second pass: the kept records re-encoded against the new base timestamp.
    let mut encoder = Encoder::new(codec).map_err(|e| e.to_string())?;
    let mut reader = record::batch_records(batch, header)?;
    let mut i = 0;
    let mut kept = 0i32;
    while let Some(record) = reader.next_record()? {
        if keep[i] {
            let delta = record.timestamp(header).wrapping_sub(base_timestamp);
            record
                .write_with_timestamp_delta(&mut encoder, delta)
                .map_err(|e| e.to_string())?;
            kept += 1;
        }
        i += 1;
    }
    let payload = encoder.finish().map_err(|e| e.to_string())?;
    let mut attributes = header.attributes & !DELETE_HORIZON_BIT;
    if horizon.is_some() {
        attributes |= DELETE_HORIZON_BIT;
    }
    let rebuilt = BatchHeader {
        attributes,
        base_timestamp,
        max_timestamp,
        records_count: kept,
        ..*header
    };
    Ok(assemble(rebuilt, &payload))
}

/// `batch` (whole, every record kept) with `horizon` as its delete horizon (KIP-534): how a
/// marker whose transaction has no batch left is kept until `delete.retention.ms` has passed.
pub fn with_delete_horizon(
    batch: &[u8],
    header: &BatchHeader,
    horizon: i64,
) -> Result<Vec<u8>, String> {
    let keep = vec![true; header.records_count.max(0) as usize];
    rebuild(batch, header, &keep, Some(horizon))
}

/// Kafka's empty batch (`DefaultRecordBatch.writeEmptyHeader`): the original offsets, leader
/// epoch and producer fields, no records, no compression, both timestamps the batch's
/// maxTimestamp, no delete horizon.
pub fn empty_batch(header: &BatchHeader) -> Vec<u8> {
    let empty = BatchHeader {
        attributes: header.attributes & !(COMPRESSION_MASK | DELETE_HORIZON_BIT),
        base_timestamp: header.max_timestamp,
        records_count: 0,
        ..*header
    };
    debug_assert!(empty.attributes & TIMESTAMP_TYPE_BIT == header.attributes & TIMESTAMP_TYPE_BIT);
    assemble(empty, &[])
}

/// Header + payload with batchLength and CRC filled in.
fn assemble(header: BatchHeader, payload: &[u8]) -> Vec<u8> {
    let total = HEADER_SIZE + payload.len();
    let header = BatchHeader {
        batch_length: i32::try_from(total - LOG_OVERHEAD).expect("a rebuilt batch is below 2 GiB"),
        magic: MAGIC_V2,
        crc: 0,
        ..header
    };
    let mut out = Vec::with_capacity(total);
    out.extend_from_slice(&header.encode());
    out.write_all(payload)
        .expect("writing to a Vec cannot fail");
    let crc = batch::compute_crc(&out);
    let with_crc = BatchHeader { crc, ..header };
    out[..HEADER_SIZE].copy_from_slice(&with_crc.encode());
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::records::record::put_varlong;

    /// One record: (offset delta, timestamp delta, key, value).
    type Spec<'a> = (i32, i64, Option<&'a [u8]>, Option<&'a [u8]>);

    fn record_bytes(specs: &[Spec<'_>]) -> Vec<u8> {
        let mut out = Vec::new();
        let mut tmp = [0u8; 10];
        for &(od, ts, key, value) in specs {
            let mut body = vec![0u8];
            let mut put = |b: &mut Vec<u8>, v: i64| {
                let n = put_varlong(&mut tmp, v);
                b.extend_from_slice(&tmp[..n]);
            };
            put(&mut body, ts);
            put(&mut body, od as i64);
            for field in [key, value] {
                match field {
                    None => put(&mut body, -1),
                    Some(f) => {
                        put(&mut body, f.len() as i64);
                        body.extend_from_slice(f);
                    }
                }
            }
            put(&mut body, 0);
            let mut len = [0u8; 10];
            let n = put_varlong(&mut len, body.len() as i64);
            out.extend_from_slice(&len[..n]);
            out.extend_from_slice(&body);
        }
        out
    }

    /// A stored batch at `base` with the records compressed by `codec`.
    fn stored(
        base: i64,
        base_ts: i64,
        codec: Codec,
        specs: &[Spec<'_>],
        attributes: i16,
    ) -> Vec<u8> {
        let mut encoder = Encoder::new(codec).unwrap();
        encoder.write_all(&record_bytes(specs)).unwrap();
        let payload = encoder.finish().unwrap();
        let codec_id = [
            Codec::None,
            Codec::Gzip,
            Codec::Snappy,
            Codec::Lz4,
            Codec::Zstd,
        ]
        .iter()
        .position(|c| *c == codec)
        .unwrap() as i16;
        let last = specs.iter().map(|s| s.0).max().unwrap();
        let header = BatchHeader {
            base_offset: base,
            batch_length: 0,
            partition_leader_epoch: 3,
            magic: 2,
            crc: 0,
            attributes: attributes | codec_id,
            last_offset_delta: last,
            base_timestamp: base_ts,
            max_timestamp: base_ts + specs.iter().map(|s| s.1).max().unwrap(),
            producer_id: 42,
            producer_epoch: 1,
            base_sequence: 10,
            records_count: specs.len() as i32,
        };
        assemble(header, &payload)
    }

    fn read_all(batch: &[u8]) -> Vec<(i64, i64, Option<Vec<u8>>, bool)> {
        let header = BatchHeader::parse(batch);
        batch::check_crc(&header, batch).unwrap();
        let mut out = Vec::new();
        let mut reader = record::batch_records(batch, &header).unwrap();
        while let Some(r) = reader.next_record().unwrap() {
            out.push((
                header.base_offset + r.offset_delta as i64,
                r.timestamp(&header),
                r.key.map(<[u8]>::to_vec),
                r.is_tombstone,
            ));
        }
        out
    }

    fn map_with(entries: &[(&[u8], i64)], latest: i64) -> OffsetMap {
        let mut map = OffsetMap::with_budget(24 * 64);
        for (k, o) in entries {
            assert!(map.put(k, *o));
        }
        map.update_latest_offset(latest);
        map
    }

    #[test]
    fn superseded_and_keyless_records_go_offsets_and_span_stay() {
        for codec in [
            Codec::None,
            Codec::Gzip,
            Codec::Snappy,
            Codec::Lz4,
            Codec::Zstd,
        ] {
            let batch = stored(
                100,
                1_000,
                codec,
                &[
                    (0, 0, Some(b"a"), Some(b"1")),
                    (1, 5, Some(b"b"), Some(b"2")),
                    (2, 9, None, Some(b"x")),
                    (3, 7, Some(b"c"), Some(b"3")),
                ],
                0,
            );
            let map = map_with(&[(b"a", 200), (b"b", 101), (b"c", 103)], 300);
            let ctx = FilterContext {
                map: &map,
                now_ms: 5_000,
                delete_retention_ms: 100,
            };
            let header = BatchHeader::parse(&batch);
            let (filtered, counts) = filter_batch(&batch, &header, &ctx).unwrap();
            let Filtered::Rebuilt(out) = filtered else {
                panic!("{codec:?}: {filtered:?}")
            };
            assert_eq!(
                counts,
                FilterCounts {
                    records_read: 4,
                    records_kept: 2,
                    tombstones_dropped: 0
                }
            );
            let h = BatchHeader::parse(&out);
            assert_eq!(
                (h.base_offset, h.last_offset_delta, h.records_count),
                (100, 3, 2)
            );
            assert_eq!(
                (
                    h.producer_id,
                    h.producer_epoch,
                    h.base_sequence,
                    h.partition_leader_epoch
                ),
                (42, 1, 10, 3)
            );
            assert_eq!(
                h.compression(),
                header.compression(),
                "{codec:?} keeps its codec"
            );
            assert_eq!((h.base_timestamp, h.max_timestamp), (1_005, 1_007));
            assert_eq!(h.delete_horizon_ms(), None);
            assert_eq!(
                read_all(&out),
                vec![
                    (101, 1_005, Some(b"b".to_vec()), false),
                    (103, 1_007, Some(b"c".to_vec()), false)
                ]
            );
        }
    }

    #[test]
    fn a_batch_that_keeps_everything_is_left_byte_for_byte() {
        let batch = stored(
            0,
            10,
            Codec::Lz4,
            &[
                (0, 0, Some(b"a"), Some(b"1")),
                (1, 1, Some(b"b"), Some(b"2")),
            ],
            0,
        );
        let map = map_with(&[(b"a", 0), (b"b", 1)], 1);
        let ctx = FilterContext {
            map: &map,
            now_ms: 0,
            delete_retention_ms: 0,
        };
        let (filtered, _) = filter_batch(&batch, &BatchHeader::parse(&batch), &ctx).unwrap();
        assert_eq!(filtered, Filtered::Original);
        // Records past the map's latest offset are kept whatever the map says.
        let map = map_with(&[(b"a", 50), (b"b", 50)], -1);
        let ctx = FilterContext {
            map: &map,
            now_ms: 0,
            delete_retention_ms: 0,
        };
        let (filtered, _) = filter_batch(&batch, &BatchHeader::parse(&batch), &ctx).unwrap();
        assert_eq!(filtered, Filtered::Original);
    }

    #[test]
    fn tombstones_get_a_delete_horizon_then_go_after_it() {
        let batch = stored(
            10,
            1_000,
            Codec::Zstd,
            &[
                (0, 0, Some(b"gone"), None),
                (1, 3, Some(b"kept"), Some(b"v")),
            ],
            0,
        );
        let map = map_with(&[(b"gone", 10), (b"kept", 11)], 11);
        let first = FilterContext {
            map: &map,
            now_ms: 50_000,
            delete_retention_ms: 1_000,
        };
        let (filtered, counts) = filter_batch(&batch, &BatchHeader::parse(&batch), &first).unwrap();
        assert_eq!(counts.records_kept, 2);
        let Filtered::Rebuilt(stamped) = filtered else {
            panic!("{filtered:?}")
        };
        let h = BatchHeader::parse(&stamped);
        assert_eq!(h.delete_horizon_ms(), Some(51_000));
        assert_eq!(h.attributes & DELETE_HORIZON_BIT, DELETE_HORIZON_BIT);
        // Record timestamps survive the new base (negative deltas).
        let records = read_all(&stamped);
        assert_eq!(
            records.iter().map(|r| r.1).collect::<Vec<_>>(),
            vec![1_000, 1_003]
        );
        assert_eq!(h.max_timestamp, 1_003);
        // Before the horizon: unchanged. At the horizon: the tombstone goes.
        let before = FilterContext {
            map: &map,
            now_ms: 50_999,
            delete_retention_ms: 1_000,
        };
        assert_eq!(
            filter_batch(&stamped, &h, &before).unwrap().0,
            Filtered::Original
        );
        let after = FilterContext {
            map: &map,
            now_ms: 51_000,
            delete_retention_ms: 1_000,
        };
        let (filtered, counts) = filter_batch(&stamped, &h, &after).unwrap();
        assert_eq!(counts.tombstones_dropped, 1);
        let Filtered::Rebuilt(out) = filtered else {
            panic!("{filtered:?}")
        };
        let h2 = BatchHeader::parse(&out);
        assert_eq!(
            h2.delete_horizon_ms(),
            Some(51_000),
            "the horizon stays with the batch"
        );
        assert_eq!(
            read_all(&out),
            vec![(11, 1_003, Some(b"kept".to_vec()), false)]
        );
    }

    #[test]
    fn a_superseded_tombstone_goes_at_once() {
        let batch = stored(0, 0, Codec::None, &[(0, 0, Some(b"k"), None)], 0);
        let map = map_with(&[(b"k", 5)], 5);
        let ctx = FilterContext {
            map: &map,
            now_ms: 0,
            delete_retention_ms: 1 << 40,
        };
        let (filtered, counts) = filter_batch(&batch, &BatchHeader::parse(&batch), &ctx).unwrap();
        assert_eq!(filtered, Filtered::Empty);
        assert_eq!(counts.tombstones_dropped, 1);
    }

    #[test]
    fn log_append_time_batches_keep_their_append_time() {
        let batch = stored(
            0,
            500,
            Codec::Gzip,
            &[
                (0, 0, Some(b"a"), Some(b"1")),
                (1, 1, Some(b"b"), Some(b"2")),
            ],
            TIMESTAMP_TYPE_BIT,
        );
        let mut header = BatchHeader::parse(&batch);
        assert!(header.is_log_append_time());
        header.max_timestamp = 9_999; // what the log stamped at append
        let mut batch = batch;
        batch[..HEADER_SIZE].copy_from_slice(&header.encode());
        let crc = batch::compute_crc(&batch);
        header.crc = crc;
        batch[..HEADER_SIZE].copy_from_slice(&header.encode());
        let map = map_with(&[(b"a", 9), (b"b", 1)], 9);
        let ctx = FilterContext {
            map: &map,
            now_ms: 0,
            delete_retention_ms: 0,
        };
        let Filtered::Rebuilt(out) = filter_batch(&batch, &header, &ctx).unwrap().0 else {
            panic!()
        };
        let h = BatchHeader::parse(&out);
        assert!(h.is_log_append_time());
        assert_eq!(h.max_timestamp, 9_999);
        assert_eq!(read_all(&out), vec![(1, 9_999, Some(b"b".to_vec()), false)]);
    }

    #[test]
    fn empty_batches_keep_offsets_and_producer_fields() {
        let batch = stored(
            7,
            100,
            Codec::Snappy,
            &[
                (0, 0, Some(b"a"), Some(b"1")),
                (4, 2, Some(b"b"), Some(b"2")),
            ],
            0,
        );
        let header = BatchHeader::parse(&batch);
        let empty = empty_batch(&header);
        assert_eq!(empty.len(), HEADER_SIZE);
        let h = BatchHeader::parse(&empty);
        batch::check_crc(&h, &empty).unwrap();
        h.check_stored_count().unwrap();
        assert_eq!(
            (h.base_offset, h.last_offset(), h.records_count),
            (7, 11, 0)
        );
        assert_eq!(
            (h.producer_id, h.producer_epoch, h.base_sequence),
            (42, 1, 10)
        );
        assert_eq!(
            (h.compression(), h.base_timestamp, h.max_timestamp),
            (0, 102, 102)
        );
        assert!(read_all(&empty).is_empty());
    }
}
