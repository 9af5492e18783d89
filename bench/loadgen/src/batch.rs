//! RecordBatch v2 (magic 2), built once per partition and re-sent many times.
//!
//! Layout (set in stone by Kafka; every integer big-endian):
//! ```text
//! offset  size  field
//!      0     8  baseOffset            (the broker rewrites it on append)
//!      8     4  batchLength           (bytes after this field)
//!     12     4  partitionLeaderEpoch
//!     16     1  magic = 2
//!     17     4  crc                   CRC-32C over bytes 21..end
//!     21     2  attributes            (0: uncompressed, CreateTime, not transactional)
//!     23     4  lastOffsetDelta
//!     27     8  baseTimestamp
//!     35     8  maxTimestamp
//!     43     8  producerId            (-1: no idempotence, so re-sending a batch is legal)
//!     51     2  producerEpoch
//!     53     4  baseSequence
//!     57     4  recordsCount
//!     61        records
//! ```
//! Each record: length varint, attributes int8, timestampDelta varlong, offsetDelta varint,
//! keyLength varint (-1 = null key), valueLength varint, value, headerCount varint (0).
//!
//! Value bytes: the first 8 hold a little-endian send stamp (nanoseconds on the load
//! generator's own clock; 0 when unstamped) so the consumer side can measure end-to-end latency;
//! the rest is a fixed pseudo-random pattern, so nothing downstream can shortcut zeros.

use crate::wire::{Encoder, varint_len};

pub const HEADER_BYTES: usize = 61;
/// Bytes before batchLength's coverage starts: baseOffset + batchLength.
pub const LOG_OVERHEAD: usize = 12;
const CRC_OFFSET: usize = 17;
const CRC_COVERAGE_START: usize = 21;
pub const STAMP_BYTES: usize = 8;
const ATTR_COMPRESSION_MASK: i16 = 0x07;
const ATTR_CONTROL: i16 = 0x20;

/// What a produced batch looks like.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchShape {
    /// Value bytes per record (no key, no headers).
    pub record_bytes: usize,
    /// Upper bound on the whole batch, header included; at least one record is always present.
    pub batch_bytes: usize,
}

/// One built batch plus what is needed to re-stamp it.
#[derive(Debug, Clone)]
pub struct BuiltBatch {
    pub bytes: Vec<u8>,
    pub records: u32,
    /// Offset of the first record's value inside `bytes`.
    first_value_offset: usize,
}

fn record_body_len(offset_delta: i64, record_bytes: usize) -> usize {
    1 + varint_len(0)
        + varint_len(offset_delta)
        + varint_len(-1)
        + varint_len(record_bytes as i64)
        + record_bytes
        + varint_len(0)
}

fn record_len(offset_delta: i64, record_bytes: usize) -> usize {
    let body = record_body_len(offset_delta, record_bytes);
    varint_len(body as i64) + body
}

/// How many records of `shape.record_bytes` fit in `shape.batch_bytes` (at least one).
pub fn records_per_batch(shape: BatchShape) -> u32 {
    let mut size = HEADER_BYTES;
    let mut n: u32 = 0;
    loop {
        let next = record_len(n as i64, shape.record_bytes);
        if n > 0 && size + next > shape.batch_bytes {
            return n;
        }
        size += next;
        n += 1;
    }
}

/// Deterministic filler (xorshift64) so value bytes are not all zeros.
fn fill_pattern(out: &mut [u8], seed: u64) {
    let mut x = seed | 1;
    for chunk in out.chunks_mut(8) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let bytes = x.to_le_bytes();
        chunk.copy_from_slice(&bytes[..chunk.len()]);
    }
}

/// Builds an uncompressed batch of as many records as fit `shape`, all with timestamp
/// `timestamp_ms`. `seed` varies the filler between partitions.
pub fn build_batch(shape: BatchShape, timestamp_ms: i64, seed: u64) -> BuiltBatch {
    let records = records_per_batch(shape);
    let mut value = vec![0u8; shape.record_bytes];
    fill_pattern(&mut value, seed);
    let stamp_len = STAMP_BYTES.min(value.len());
    value[..stamp_len].fill(0);

    let mut e = Encoder::with_capacity(
        shape
            .batch_bytes
            .max(HEADER_BYTES + record_len(0, shape.record_bytes)),
    );
    e.i64(0) // baseOffset
        .i32(0) // batchLength, patched below
        .i32(-1) // partitionLeaderEpoch
        .i8(2) // magic
        .i32(0) // crc, patched below
        .i16(0) // attributes
        .i32(records as i32 - 1) // lastOffsetDelta
        .i64(timestamp_ms)
        .i64(timestamp_ms)
        .i64(-1) // producerId
        .i16(-1) // producerEpoch
        .i32(-1) // baseSequence
        .i32(records as i32);
    let mut first_value_offset = 0;
    for delta in 0..records as i64 {
        let body = record_body_len(delta, shape.record_bytes);
        e.varint(body as i32)
            .i8(0)
            .varlong(0)
            .varint(delta as i32)
            .varint(-1)
            .varint(shape.record_bytes as i32);
        if delta == 0 {
            first_value_offset = e.len();
        }
        e.raw(&value).varint(0);
    }
    let mut bytes = e.into_bytes();
    let batch_length = (bytes.len() - LOG_OVERHEAD) as i32;
    bytes[8..12].copy_from_slice(&batch_length.to_be_bytes());
    let mut batch = BuiltBatch {
        bytes,
        records,
        first_value_offset,
    };
    batch.reseal();
    batch
}

impl BuiltBatch {
    /// Where the stamp goes (the first record's value), for `stamp_batch`. Values shorter than
    /// STAMP_BYTES cannot carry one; producers refuse stamped runs with such records.
    pub fn stamp_offset(&self) -> usize {
        self.first_value_offset
    }

    fn reseal(&mut self) {
        reseal(&mut self.bytes);
    }
}

fn reseal(batch: &mut [u8]) {
    let crc = crc32c::crc32c(&batch[CRC_COVERAGE_START..]);
    batch[CRC_OFFSET..CRC_OFFSET + 4].copy_from_slice(&crc.to_be_bytes());
}

/// Stamps a batch held anywhere (e.g. at the tail of a pre-built Produce request): writes the
/// stamp at `stamp_offset` (from `BuiltBatch::stamp_offset`) and recomputes the CRC.
pub fn stamp_batch(batch: &mut [u8], stamp_offset: usize, stamp: u64) {
    batch[stamp_offset..stamp_offset + STAMP_BYTES].copy_from_slice(&stamp.to_le_bytes());
    reseal(batch);
}

/// The fixed 61-byte header of a batch read back from a fetch response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchHeader {
    pub base_offset: i64,
    pub batch_length: i32,
    pub magic: i8,
    pub attributes: i16,
    pub last_offset_delta: i32,
    pub records_count: i32,
}

impl BatchHeader {
    pub fn parse(h: &[u8; HEADER_BYTES]) -> Self {
        let i64_at = |o: usize| i64::from_be_bytes(h[o..o + 8].try_into().unwrap());
        let i32_at = |o: usize| i32::from_be_bytes(h[o..o + 4].try_into().unwrap());
        Self {
            base_offset: i64_at(0),
            batch_length: i32_at(8),
            magic: h[16] as i8,
            attributes: i16::from_be_bytes([h[21], h[22]]),
            last_offset_delta: i32_at(23),
            records_count: i32_at(57),
        }
    }

    /// Total bytes of the batch on the wire, baseOffset included.
    pub fn total_len(&self) -> usize {
        LOG_OVERHEAD + self.batch_length.max(0) as usize
    }

    pub fn last_offset(&self) -> i64 {
        self.base_offset + self.last_offset_delta as i64
    }

    pub fn is_control(&self) -> bool {
        self.attributes & ATTR_CONTROL != 0
    }

    pub fn is_compressed(&self) -> bool {
        self.attributes & ATTR_COMPRESSION_MASK != 0
    }
}

/// Reads the stamp from the start of the first record (the bytes right after the header).
/// Returns None when the bytes do not hold a whole stamp (short values, foreign data).
pub fn first_record_stamp(record_start: &[u8]) -> Option<u64> {
    let mut d = crate::wire::Decoder::new(record_start);
    let _len = d.varint().ok()?;
    let _attributes = d.i8().ok()?;
    let _ts_delta = d.varlong().ok()?;
    let _offset_delta = d.varint().ok()?;
    let key_len = d.varint().ok()?;
    if key_len > 0 {
        d.take(key_len as usize).ok()?;
    }
    let value_len = d.varint().ok()?;
    if value_len < STAMP_BYTES as i32 {
        return None;
    }
    let stamp = d.take(STAMP_BYTES).ok()?;
    Some(u64::from_le_bytes(stamp.try_into().unwrap()))
}

/// Longest prefix of a record that `first_record_stamp` may need: varints at their widest.
pub const STAMP_PREFIX_MAX: usize = 5 + 1 + 10 + 5 + 5 + 5 + STAMP_BYTES;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::Decoder;

    fn walk_records(batch: &BuiltBatch, record_bytes: usize) -> usize {
        let mut d = Decoder::new(&batch.bytes[HEADER_BYTES..]);
        let mut n = 0;
        while d.remaining() > 0 {
            let len = d.varint().unwrap() as usize;
            let start = d.position();
            assert_eq!(d.i8().unwrap(), 0);
            assert_eq!(d.varlong().unwrap(), 0);
            assert_eq!(d.varint().unwrap(), n as i32);
            assert_eq!(d.varint().unwrap(), -1);
            assert_eq!(d.varint().unwrap(), record_bytes as i32);
            d.take(record_bytes).unwrap();
            assert_eq!(d.varint().unwrap(), 0);
            assert_eq!(d.position() - start, len);
            n += 1;
        }
        n
    }

    #[test]
    fn header_fields_and_crc_are_consistent() {
        let shape = BatchShape {
            record_bytes: 100,
            batch_bytes: 16 * 1024,
        };
        let b = build_batch(shape, 1_700_000_000_000, 7);
        assert!(b.bytes.len() <= shape.batch_bytes);
        let h = BatchHeader::parse(b.bytes[..HEADER_BYTES].try_into().unwrap());
        assert_eq!(h.magic, 2);
        assert_eq!(h.total_len(), b.bytes.len());
        assert_eq!(h.records_count as u32, b.records);
        assert_eq!(h.last_offset_delta as u32, b.records - 1);
        assert!(!h.is_control() && !h.is_compressed());
        let crc = u32::from_be_bytes(b.bytes[17..21].try_into().unwrap());
        assert_eq!(crc, crc32c::crc32c(&b.bytes[21..]));
        assert_eq!(walk_records(&b, 100), b.records as usize);
    }

    #[test]
    fn batches_fill_but_never_exceed_their_size() {
        for (record_bytes, batch_bytes) in [
            (100, 16384),
            (1024, 16384),
            (100, 1 << 20),
            (1024, 1 << 20),
            (10, 100),
        ] {
            let shape = BatchShape {
                record_bytes,
                batch_bytes,
            };
            let b = build_batch(shape, 0, 1);
            assert!(b.bytes.len() <= batch_bytes, "{record_bytes}/{batch_bytes}");
            // One more record would not have fit.
            let next = record_len(b.records as i64, record_bytes);
            assert!(
                b.bytes.len() + next > batch_bytes,
                "{record_bytes}/{batch_bytes} left room"
            );
            assert_eq!(walk_records(&b, record_bytes), b.records as usize);
        }
        // 1 MiB batches stay under Kafka's default message.max.bytes (1048588).
        let b = build_batch(
            BatchShape {
                record_bytes: 1024,
                batch_bytes: 1 << 20,
            },
            0,
            1,
        );
        assert!(b.bytes.len() <= 1_048_588);
    }

    #[test]
    fn an_oversized_record_still_makes_a_one_record_batch() {
        let b = build_batch(
            BatchShape {
                record_bytes: 5000,
                batch_bytes: 1000,
            },
            0,
            1,
        );
        assert_eq!(b.records, 1);
        assert_eq!(walk_records(&b, 5000), 1);
    }

    #[test]
    fn stamping_rewrites_the_first_value_and_the_crc() {
        let mut b = build_batch(
            BatchShape {
                record_bytes: 64,
                batch_bytes: 4096,
            },
            0,
            3,
        );
        assert_eq!(first_record_stamp(&b.bytes[HEADER_BYTES..]), Some(0));
        let at = b.stamp_offset();
        stamp_batch(&mut b.bytes, at, 0x0102_0304_0506_0708);
        assert_eq!(
            first_record_stamp(&b.bytes[HEADER_BYTES..]),
            Some(0x0102_0304_0506_0708)
        );
        let crc = u32::from_be_bytes(b.bytes[17..21].try_into().unwrap());
        assert_eq!(crc, crc32c::crc32c(&b.bytes[21..]));
        assert_eq!(walk_records(&b, 64), b.records as usize);
    }

    #[test]
    fn short_values_cannot_carry_a_stamp() {
        let b = build_batch(
            BatchShape {
                record_bytes: 4,
                batch_bytes: 4096,
            },
            0,
            3,
        );
        assert_eq!(first_record_stamp(&b.bytes[HEADER_BYTES..]), None);
        let mut one = build_batch(
            BatchShape {
                record_bytes: 8,
                batch_bytes: 10,
            },
            0,
            3,
        );
        assert_eq!(one.records, 1);
        let at = one.stamp_offset();
        stamp_batch(&mut one.bytes, at, 9);
        assert_eq!(first_record_stamp(&one.bytes[HEADER_BYTES..]), Some(9));
    }
}
