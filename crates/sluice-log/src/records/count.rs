//! The append-time check that a batch's `recordsCount` is the number of records it holds, as
//! Kafka's LogValidator checks by iterating the records: a header may not claim more (or fewer)
//! records than the bytes carry, or the log end would jump by the claimed count.
//!
//! Uncompressed batches: walk the records' length varints, which must give exactly
//! `recordsCount` records ending exactly at the end of the batch (no record body is parsed).
//! Compressed batches: stream-decompress with `codec.rs` and count the same way,
//! skipping bodies without holding them. The decompressed size is bounded
//! (`decompressed_limit`), so a small batch cannot make the broker inflate gigabytes.
//!
//! Concurrency contract: plain functions over one batch.

use std::io::{self, Read};

use crate::records::batch::{BatchHeader, HEADER_SIZE, read_varint};
use crate::records::codec::{self, Codec};

/// Why a batch's records do not match its header. `Corrupt` is CORRUPT_MESSAGE (bytes that do
/// not decode), `Invalid` is INVALID_RECORD (decodable records, but not `recordsCount` of them).
#[derive(Debug, PartialEq, Eq)]
pub enum CountError {
    Corrupt(String),
    Invalid(String),
}

/// Decompressed bytes a compressed batch may expand to: 32 times `max.message.bytes`, but never
/// less than 64 MiB (a small limit must not refuse well-compressing batches) nor more than 1 GiB.
pub fn decompressed_limit(max_message_bytes: u64) -> u64 {
    const FACTOR: u64 = 32;
    max_message_bytes
        .saturating_mul(FACTOR)
        .clamp(64 << 20, 1 << 30)
}

/// Checks that the CRC-checked batch `batch` (whole, header included) holds exactly
/// `header.records_count` records.
pub fn check_record_count(
    batch: &[u8],
    header: &BatchHeader,
    max_message_bytes: u64,
) -> Result<(), CountError> {
    let claimed = i64::from(header.records_count);
    let held = match Codec::from_attributes(header.attributes) {
        None => {
            return Err(CountError::Corrupt(format!(
                "unknown compression codec id {}",
                header.compression()
            )));
        }
        Some(Codec::None) => count_uncompressed(&batch[HEADER_SIZE..], claimed)?,
        Some(codec) => {
            let limit = decompressed_limit(max_message_bytes);
            let decoder = codec::decoder(codec, &batch[HEADER_SIZE..])
                .map_err(|e| CountError::Corrupt(format!("records do not decompress: {e}")))?;
            count_stream(decoder, claimed, limit)?
        }
    };
    if held != claimed {
        return Err(CountError::Invalid(format!(
            "the batch claims {claimed} records but holds {held}"
        )));
    }
    Ok(())
}

/// Records in `records` (length varint + body each), stopping once past `claimed` (the excess
/// is not worth counting). Bytes that are not whole records are `Corrupt`.
fn count_uncompressed(records: &[u8], claimed: i64) -> Result<i64, CountError> {
    let mut at = 0usize;
    let mut held = 0i64;
    while at < records.len() && held <= claimed {
        let (length, n) = read_varint(records, at)
            .ok_or_else(|| CountError::Corrupt(format!("record #{held} length does not parse")))?;
        let length = usize::try_from(length).map_err(|_| {
            CountError::Corrupt(format!("record #{held} length {length} is negative"))
        })?;
        let end = (at + n)
            .checked_add(length)
            .filter(|&end| end <= records.len())
            .ok_or_else(|| {
                CountError::Corrupt(format!("record #{held} runs past the end of the batch"))
            })?;
        at = end;
        held += 1;
    }
    Ok(held)
}

/// As `count_uncompressed`, over a decompressing stream that may yield at most `limit` bytes.
fn count_stream(mut source: impl Read, claimed: i64, limit: u64) -> Result<i64, CountError> {
    let corrupt = |what: String| CountError::Corrupt(what);
    let mut consumed = 0u64;
    let mut held = 0i64;
    while held <= claimed {
        let Some((length, n)) = read_stream_varint(&mut source)
            .map_err(|e| corrupt(format!("records do not decompress: {e}")))?
        else {
            break;
        };
        let length = u64::try_from(length)
            .map_err(|_| corrupt(format!("record #{held} length {length} is negative")))?;
        consumed += n + length;
        if consumed > limit {
            return Err(corrupt(format!(
                "records decompress to more than {limit} bytes"
            )));
        }
        let skipped = io::copy(&mut (&mut source).take(length), &mut io::sink())
            .map_err(|e| corrupt(format!("records do not decompress: {e}")))?;
        if skipped != length {
            return Err(corrupt(format!(
                "record #{held} runs past the end of the decompressed records"
            )));
        }
        held += 1;
    }
    Ok(held)
}

/// A zigzag varint (at most 5 bytes, an i32) and its size; `None` at a clean end of stream
/// before its first byte.
fn read_stream_varint(source: &mut impl Read) -> io::Result<Option<(i32, u64)>> {
    let mut raw: u64 = 0;
    for i in 0..5u64 {
        let mut byte = [0u8; 1];
        if source.read(&mut byte)? == 0 {
            if i == 0 {
                return Ok(None);
            }
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "a record length is cut off",
            ));
        }
        raw |= u64::from(byte[0] & 0x7f) << (7 * i);
        if byte[0] & 0x80 == 0 {
            let value = ((raw >> 1) as i64) ^ -((raw & 1) as i64);
            let value = i32::try_from(value).map_err(|_| {
                io::Error::new(io::ErrorKind::InvalidData, "a record length overflows")
            })?;
            return Ok(Some((value, i + 1)));
        }
    }
    Err(io::Error::new(
        io::ErrorKind::InvalidData,
        "a record length varint is too long",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn records(lengths: &[usize]) -> Vec<u8> {
        let mut out = Vec::new();
        for &len in lengths {
            // Zigzag of a small non-negative length in one byte.
            assert!(len < 64);
            out.push((len as u8) << 1);
            out.extend(std::iter::repeat_n(7u8, len));
        }
        out
    }

    #[test]
    fn uncompressed_counts_whole_records_and_rejects_partial_ones() {
        assert_eq!(count_uncompressed(&records(&[3, 0, 10]), 3), Ok(3));
        assert_eq!(
            count_uncompressed(&records(&[3, 4]), 1),
            Ok(2),
            "stops one past the claim"
        );
        let mut cut = records(&[3, 4]);
        cut.pop();
        assert!(matches!(
            count_uncompressed(&cut, 2),
            Err(CountError::Corrupt(_))
        ));
        assert!(
            matches!(count_uncompressed(&[0x01], 1), Err(CountError::Corrupt(_))),
            "negative length"
        );
        assert!(
            matches!(count_uncompressed(&[0x80], 1), Err(CountError::Corrupt(_))),
            "cut varint"
        );
    }

    #[test]
    fn compressed_counts_the_same_and_bounds_the_decompressed_size() {
        let plain = records(&[3, 0, 10, 20]);
        for codec in [Codec::Gzip, Codec::Snappy, Codec::Lz4, Codec::Zstd] {
            let mut encoder = codec::Encoder::new(codec).unwrap();
            encoder.write_all(&plain).unwrap();
            let payload = encoder.finish().unwrap();
            let stream = || codec::decoder(codec, &payload).unwrap();
            assert_eq!(count_stream(stream(), 4, 1 << 20), Ok(4), "{codec:?}");
            assert!(
                matches!(count_stream(stream(), 4, 20), Err(CountError::Corrupt(_))),
                "{codec:?}: over the limit"
            );
            let garbage = vec![0x5au8; 40];
            if let Ok(reader) = codec::decoder(codec, &garbage) {
                assert!(
                    matches!(
                        count_stream(reader, 4, 1 << 20),
                        Err(CountError::Corrupt(_))
                    ),
                    "{codec:?}: garbage"
                );
            }
        }
    }

    #[test]
    fn the_limit_scales_with_max_message_bytes_within_bounds() {
        assert_eq!(decompressed_limit(1), 64 << 20);
        assert_eq!(decompressed_limit(4 << 20), 128 << 20);
        assert_eq!(decompressed_limit(u64::MAX), 1 << 30);
    }
}
