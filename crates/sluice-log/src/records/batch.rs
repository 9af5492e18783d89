//! Kafka RecordBatch v2 ("magic 2"): header parsing and structure checks, CRC, offset
//! assignment, and the little record-level parsing the log needs for timestamp lookups (append
//! validation built on them is in `validate.rs`).
//!
//! On-disk and on-wire format, set in stone by Kafka (the bytes are stored exactly as produced,
//! apart from the fields the log assigns). All integers are big-endian.
//!
//! ```text
//! byte  size  field                 notes
//!    0     8  baseOffset            i64, assigned by the log (outside the CRC)
//!    8     4  batchLength           i32, bytes after this field: total size = 12 + batchLength
//!   12     4  partitionLeaderEpoch  i32, assigned by the log (outside the CRC)
//!   16     1  magic                 i8, always 2
//!   17     4  crc                   u32, CRC-32C (Castagnoli) of bytes 21..end
//!   21     2  attributes            i16: bits 0-2 compression (0 none, 1 gzip, 2 snappy,
//!                                   3 lz4, 4 zstd), bit 3 timestamp type (1 = LogAppendTime),
//!                                   bit 4 transactional, bit 5 control, bit 6 delete horizon
//!                                   (KIP-534: set by the log cleaner, then baseTimestamp holds
//!                                   the delete horizon and record timestamps are relative to it)
//!   23     4  lastOffsetDelta       i32, offset of the last record minus baseOffset
//!   27     8  baseTimestamp         i64
//!   35     8  maxTimestamp          i64 (set to the append time under LogAppendTime)
//!   43     8  producerId            i64
//!   51     2  producerEpoch         i16
//!   53     4  baseSequence          i32
//!   57     4  recordsCount          i32
//!   61     …  records               (compressed as a whole when compression != 0)
//! ```
//!
//! Each record (uncompressed) is: length varint, attributes i8, timestampDelta varlong,
//! offsetDelta varint, key (varint length + bytes), value (varint length + bytes), headers
//! (varint count + entries); varints are zigzag-encoded.

/// Size of baseOffset + batchLength, the part of a batch before `batchLength` counts.
pub const LOG_OVERHEAD: usize = 12;
/// Size of the fixed v2 header; the smallest possible batch (no records).
pub const HEADER_SIZE: usize = 61;
/// The smallest legal `batchLength`.
pub const MIN_BATCH_LENGTH: i32 = (HEADER_SIZE - LOG_OVERHEAD) as i32;
pub const MAGIC_V2: i8 = 2;

const BASE_OFFSET_AT: usize = 0;
const BATCH_LENGTH_AT: usize = 8;
const LEADER_EPOCH_AT: usize = 12;
const MAGIC_AT: usize = 16;
const CRC_AT: usize = 17;
/// The CRC covers everything from the attributes to the end of the batch.
pub const CRC_COVERS_FROM: usize = 21;
const ATTRIBUTES_AT: usize = 21;
const LAST_OFFSET_DELTA_AT: usize = 23;
const BASE_TIMESTAMP_AT: usize = 27;
const MAX_TIMESTAMP_AT: usize = 35;
const PRODUCER_ID_AT: usize = 43;
const PRODUCER_EPOCH_AT: usize = 51;
const BASE_SEQUENCE_AT: usize = 53;
const RECORDS_COUNT_AT: usize = 57;

pub const COMPRESSION_MASK: i16 = 0x07;
pub const TIMESTAMP_TYPE_BIT: i16 = 0x08;
const TRANSACTIONAL_BIT: i16 = 0x10;
const CONTROL_BIT: i16 = 0x20;
/// KIP-534: the batch's baseTimestamp is the time after which the cleaner may drop its
/// tombstones. Only the log cleaner sets it.
pub const DELETE_HORIZON_BIT: i16 = 0x40;

/// Kafka's "no timestamp" value.
pub const NO_TIMESTAMP: i64 = -1;

/// The fixed fields of a v2 batch header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BatchHeader {
    pub base_offset: i64,
    pub batch_length: i32,
    pub partition_leader_epoch: i32,
    pub magic: i8,
    pub crc: u32,
    pub attributes: i16,
    pub last_offset_delta: i32,
    pub base_timestamp: i64,
    pub max_timestamp: i64,
    pub producer_id: i64,
    pub producer_epoch: i16,
    pub base_sequence: i32,
    pub records_count: i32,
}

impl BatchHeader {
    /// Parses the fixed header. Panics if `bytes` is shorter than `HEADER_SIZE` (callers check).
    pub fn parse(bytes: &[u8]) -> BatchHeader {
        assert!(
            bytes.len() >= HEADER_SIZE,
            "batch header needs {HEADER_SIZE} bytes"
        );
        BatchHeader {
            base_offset: be_i64(bytes, BASE_OFFSET_AT),
            batch_length: be_i32(bytes, BATCH_LENGTH_AT),
            partition_leader_epoch: be_i32(bytes, LEADER_EPOCH_AT),
            magic: bytes[MAGIC_AT] as i8,
            crc: be_i32(bytes, CRC_AT) as u32,
            attributes: be_i16(bytes, ATTRIBUTES_AT),
            last_offset_delta: be_i32(bytes, LAST_OFFSET_DELTA_AT),
            base_timestamp: be_i64(bytes, BASE_TIMESTAMP_AT),
            max_timestamp: be_i64(bytes, MAX_TIMESTAMP_AT),
            producer_id: be_i64(bytes, PRODUCER_ID_AT),
            producer_epoch: be_i16(bytes, PRODUCER_EPOCH_AT),
            base_sequence: be_i32(bytes, BASE_SEQUENCE_AT),
            records_count: be_i32(bytes, RECORDS_COUNT_AT),
        }
    }

    /// Total size of the batch in bytes, `LOG_OVERHEAD + batchLength` (only meaningful once
    /// `check_structure` passed).
    pub fn size(&self) -> u64 {
        LOG_OVERHEAD as u64 + self.batch_length.max(0) as u64
    }

    pub fn last_offset(&self) -> i64 {
        self.base_offset + self.last_offset_delta as i64
    }

    pub fn compression(&self) -> u8 {
        (self.attributes & COMPRESSION_MASK) as u8
    }

    pub fn is_log_append_time(&self) -> bool {
        self.attributes & TIMESTAMP_TYPE_BIT != 0
    }

    pub fn is_transactional(&self) -> bool {
        self.attributes & TRANSACTIONAL_BIT != 0
    }

    pub fn is_control(&self) -> bool {
        self.attributes & CONTROL_BIT != 0
    }

    /// The batch comes from an idempotent producer: Kafka's NO_PRODUCER_ID is -1, and any id
    /// >= 0 is a real one.
    pub fn has_producer_id(&self) -> bool {
        self.producer_id >= 0
    }

    /// Sequence number of the batch's last record (only meaningful with a producer id).
    pub fn last_sequence(&self) -> i32 {
        increment_sequence(self.base_sequence, self.last_offset_delta)
    }

    /// The rules Kafka's LogValidator applies to batches from clients beyond the counts: no
    /// control batches (transaction markers are the coordinator's, appended through
    /// `Log::append_marker`), an idempotent producer's batch must carry a sequence, and a
    /// transactional batch must carry a producer id (its transaction is tracked per producer).
    pub fn check_client_batch(&self) -> Result<(), String> {
        if self.is_control() {
            return Err("clients are not allowed to write control records".into());
        }
        if self.has_producer_id() && self.base_sequence < 0 {
            return Err(format!(
                "invalid sequence number {} in a batch with producerId {}",
                self.base_sequence, self.producer_id
            ));
        }
        if self.is_transactional() && !self.has_producer_id() {
            return Err("transactional batch without a producer id".into());
        }
        Ok(())
    }

    // ---- for the log cleaner (log/cleaner/) ----

    /// KIP-534 `deleteHorizonMs`: the baseTimestamp when attribute bit 6 is set.
    pub fn delete_horizon_ms(&self) -> Option<i64> {
        (self.attributes & DELETE_HORIZON_BIT != 0).then_some(self.base_timestamp)
    }

    /// The count checks for a batch as stored: the log cleaner leaves batches sparse (fewer
    /// records than lastOffsetDelta + 1, the span kept) or empty (no records, kept for its
    /// offsets or its producer), so only 0 <= count <= lastOffsetDelta + 1 must hold.
    pub fn check_stored_count(&self) -> Result<(), String> {
        if self.records_count < 0 || self.last_offset_delta < 0 {
            return Err(format!(
                "record count {} or lastOffsetDelta {} is negative",
                self.records_count, self.last_offset_delta
            ));
        }
        if self.records_count as i64 > self.last_offset_delta as i64 + 1 {
            return Err(format!(
                "record count {} exceeds the span lastOffsetDelta {} + 1",
                self.records_count, self.last_offset_delta
            ));
        }
        Ok(())
    }

    /// The 61 header bytes of these fields (the inverse of `parse`); `crc` is written as it is,
    /// so callers set it from `compute_crc` over the finished batch.
    pub fn encode(&self) -> [u8; HEADER_SIZE] {
        let mut b = [0u8; HEADER_SIZE];
        b[BASE_OFFSET_AT..BASE_OFFSET_AT + 8].copy_from_slice(&self.base_offset.to_be_bytes());
        b[BATCH_LENGTH_AT..BATCH_LENGTH_AT + 4].copy_from_slice(&self.batch_length.to_be_bytes());
        b[LEADER_EPOCH_AT..LEADER_EPOCH_AT + 4]
            .copy_from_slice(&self.partition_leader_epoch.to_be_bytes());
        b[MAGIC_AT] = self.magic as u8;
        b[CRC_AT..CRC_AT + 4].copy_from_slice(&self.crc.to_be_bytes());
        b[ATTRIBUTES_AT..ATTRIBUTES_AT + 2].copy_from_slice(&self.attributes.to_be_bytes());
        b[LAST_OFFSET_DELTA_AT..LAST_OFFSET_DELTA_AT + 4]
            .copy_from_slice(&self.last_offset_delta.to_be_bytes());
        b[BASE_TIMESTAMP_AT..BASE_TIMESTAMP_AT + 8]
            .copy_from_slice(&self.base_timestamp.to_be_bytes());
        b[MAX_TIMESTAMP_AT..MAX_TIMESTAMP_AT + 8]
            .copy_from_slice(&self.max_timestamp.to_be_bytes());
        b[PRODUCER_ID_AT..PRODUCER_ID_AT + 8].copy_from_slice(&self.producer_id.to_be_bytes());
        b[PRODUCER_EPOCH_AT..PRODUCER_EPOCH_AT + 2]
            .copy_from_slice(&self.producer_epoch.to_be_bytes());
        b[BASE_SEQUENCE_AT..BASE_SEQUENCE_AT + 4]
            .copy_from_slice(&self.base_sequence.to_be_bytes());
        b[RECORDS_COUNT_AT..RECORDS_COUNT_AT + 4]
            .copy_from_slice(&self.records_count.to_be_bytes());
        b
    }

    // ---- end of the cleaner's part ----

    /// Magic and length checks that need only the header. `available` is how many bytes of the
    /// batch exist from its first byte on (the rest of the input, or of the file).
    pub fn check_structure(&self, available: u64) -> Result<(), String> {
        if self.magic != MAGIC_V2 {
            return Err(format!("magic is {}, only 2 is supported", self.magic));
        }
        if self.batch_length < MIN_BATCH_LENGTH {
            return Err(format!(
                "batchLength {} is smaller than the v2 header ({MIN_BATCH_LENGTH})",
                self.batch_length
            ));
        }
        if self.size() > available {
            return Err(format!(
                "batchLength {} runs past the end: the batch needs {} bytes, {} remain",
                self.batch_length,
                self.size(),
                available
            ));
        }
        Ok(())
    }

    /// The count checks Kafka applies to client batches (LogValidator): a positive count equal to
    /// lastOffsetDelta + 1.
    pub fn check_count(&self) -> Result<(), String> {
        if self.records_count <= 0 {
            return Err(format!(
                "record count is {}, must be positive",
                self.records_count
            ));
        }
        if self.last_offset_delta < 0 {
            return Err(format!(
                "lastOffsetDelta is {}, must not be negative",
                self.last_offset_delta
            ));
        }
        if self.last_offset_delta as i64 + 1 != self.records_count as i64 {
            return Err(format!(
                "lastOffsetDelta {} + 1 does not match record count {}",
                self.last_offset_delta, self.records_count
            ));
        }
        Ok(())
    }
}

/// `sequence + increment` in Kafka's sequence space: non-negative i32 values where the one
/// after i32::MAX is 0 (DefaultRecordBatch.incrementSequence). Both arguments are >= 0.
pub fn increment_sequence(sequence: i32, increment: i32) -> i32 {
    let next = (sequence as i64 + increment as i64).rem_euclid(i32::MAX as i64 + 1);
    i32::try_from(next).expect("reduced modulo 2^31")
}

/// CRC-32C of a whole batch's covered bytes (attributes..end).
pub fn compute_crc(batch: &[u8]) -> u32 {
    crc32c::crc32c(&batch[CRC_COVERS_FROM..])
}

/// Checks the stored CRC of one whole batch.
pub fn check_crc(header: &BatchHeader, batch: &[u8]) -> Result<(), String> {
    let computed = compute_crc(batch);
    if computed != header.crc {
        return Err(format!(
            "CRC-32C mismatch: stored {:#010x}, computed {computed:#010x}",
            header.crc
        ));
    }
    Ok(())
}

/// Assigns offsets to already-validated batches in place: baseOffset (consecutive from
/// `first_offset`) and partitionLeaderEpoch, both outside the CRC. With `log_append_time`, sets
/// the timestamp type bit and maxTimestamp and recomputes the CRC, as Kafka does.
pub fn assign_offsets(
    records: &mut [u8],
    first_offset: i64,
    leader_epoch: i32,
    log_append_time: Option<i64>,
) {
    let mut position = 0usize;
    let mut next_offset = first_offset;
    while position < records.len() {
        let header = BatchHeader::parse(&records[position..]);
        let size = header.size() as usize;
        let batch = &mut records[position..position + size];
        batch[BASE_OFFSET_AT..BASE_OFFSET_AT + 8].copy_from_slice(&next_offset.to_be_bytes());
        batch[LEADER_EPOCH_AT..LEADER_EPOCH_AT + 4].copy_from_slice(&leader_epoch.to_be_bytes());
        if let Some(now) = log_append_time {
            let attributes = header.attributes | TIMESTAMP_TYPE_BIT;
            batch[ATTRIBUTES_AT..ATTRIBUTES_AT + 2].copy_from_slice(&attributes.to_be_bytes());
            batch[MAX_TIMESTAMP_AT..MAX_TIMESTAMP_AT + 8].copy_from_slice(&now.to_be_bytes());
            let crc = compute_crc(batch);
            batch[CRC_AT..CRC_AT + 4].copy_from_slice(&crc.to_be_bytes());
        }
        next_offset += header.records_count as i64;
        position += size;
    }
}

/// Iterates over the whole batches of a validated byte slice, yielding (position, header).
pub fn batches(records: &[u8]) -> impl Iterator<Item = (usize, BatchHeader)> + '_ {
    let mut position = 0usize;
    std::iter::from_fn(move || {
        if records.len() - position < HEADER_SIZE {
            return None;
        }
        let header = BatchHeader::parse(&records[position..]);
        if header
            .check_structure((records.len() - position) as u64)
            .is_err()
        {
            return None;
        }
        let at = position;
        position += header.size() as usize;
        Some((at, header))
    })
}

/// One record's (offset, timestamp) as seen by a consumer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RecordStamp {
    pub offset: i64,
    pub timestamp: i64,
}

/// Record-level timestamps of one whole batch, when they can be read without decompressing:
/// `None` for a compressed batch or records that do not parse. Under LogAppendTime every record
/// carries the batch's maxTimestamp (Kafka semantics).
pub fn record_stamps(batch: &[u8]) -> Option<Vec<RecordStamp>> {
    let header = BatchHeader::parse(batch);
    if header.is_log_append_time() {
        let count = header.records_count.max(0) as i64;
        return Some(
            (0..count)
                .map(|i| RecordStamp {
                    offset: header.base_offset + i,
                    timestamp: header.max_timestamp,
                })
                .collect(),
        );
    }
    if header.compression() != 0 {
        return None;
    }
    let mut stamps = Vec::with_capacity(header.records_count.clamp(0, 1 << 16) as usize);
    let mut at = HEADER_SIZE;
    for _ in 0..header.records_count.max(0) {
        let (length, n) = read_varint(batch, at)?;
        let body_start = at + n;
        let body_end = body_start.checked_add(usize::try_from(length).ok()?)?;
        if body_end > batch.len() {
            return None;
        }
        let mut p = body_start + 1; // skip attributes
        let (timestamp_delta, n) = read_varlong(batch, p)?;
        p += n;
        let (offset_delta, _) = read_varint(batch, p)?;
        stamps.push(RecordStamp {
            offset: header.base_offset + offset_delta as i64,
            timestamp: header.base_timestamp.wrapping_add(timestamp_delta),
        });
        at = body_end;
    }
    Some(stamps)
}

pub(crate) fn read_varlong(bytes: &[u8], at: usize) -> Option<(i64, usize)> {
    let mut raw: u64 = 0;
    for i in 0..10 {
        let byte = *bytes.get(at + i)?;
        raw |= ((byte & 0x7f) as u64) << (7 * i);
        if byte & 0x80 == 0 {
            let value = ((raw >> 1) as i64) ^ -((raw & 1) as i64);
            return Some((value, i + 1));
        }
    }
    None
}

pub(crate) fn read_varint(bytes: &[u8], at: usize) -> Option<(i32, usize)> {
    let (value, n) = read_varlong(bytes, at)?;
    if n > 5 {
        return None;
    }
    Some((i32::try_from(value).ok()?, n))
}

fn be_i64(b: &[u8], at: usize) -> i64 {
    i64::from_be_bytes(b[at..at + 8].try_into().expect("8 bytes"))
}

fn be_i32(b: &[u8], at: usize) -> i32 {
    i32::from_be_bytes(b[at..at + 4].try_into().expect("4 bytes"))
}

fn be_i16(b: &[u8], at: usize) -> i16 {
    i16::from_be_bytes(b[at..at + 2].try_into().expect("2 bytes"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_decode_zigzag() {
        assert_eq!(read_varlong(&[0x00], 0), Some((0, 1)));
        assert_eq!(read_varlong(&[0x01], 0), Some((-1, 1)));
        assert_eq!(read_varlong(&[0x02], 0), Some((1, 1)));
        assert_eq!(read_varlong(&[0xac, 0x02], 0), Some((150, 2)));
        assert_eq!(read_varlong(&[0x80], 0), None);
        assert_eq!(read_varint(&[0xff, 0xff, 0xff, 0xff, 0xff, 0x01], 0), None);
    }

    #[test]
    fn sequences_wrap_from_i32_max_to_zero() {
        assert_eq!(increment_sequence(0, 0), 0);
        assert_eq!(increment_sequence(5, 4), 9);
        assert_eq!(increment_sequence(i32::MAX, 0), i32::MAX);
        assert_eq!(increment_sequence(i32::MAX, 1), 0);
        assert_eq!(increment_sequence(i32::MAX - 2, 5), 2);
    }
}
