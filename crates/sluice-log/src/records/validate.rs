//! Append-time validation of a record set (Kafka's `LogValidator` for magic 2): every batch's
//! structure, CRC, counts and size are checked before the log changes anything, and compacted
//! topics additionally refuse records without a key.
//!
//! Concurrency contract: plain functions over one append.

use crate::error::{Error, Result};
use crate::records::batch::{BatchHeader, HEADER_SIZE, NO_TIMESTAMP, batches, check_crc};
use crate::records::count::{self, CountError};
use crate::records::record;

/// What validation learned about an append.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AppendSummary {
    pub batches: usize,
    /// Sum of the batches' record counts (= offsets the append takes).
    pub records: i64,
    pub bytes: u64,
    /// Largest `maxTimestamp` among the batches as produced (NO_TIMESTAMP if none).
    pub max_timestamp: i64,
}

/// Validates every batch of an append without changing anything: structure, CRC, counts (the
/// header's and the records actually held, `count.rs`), the
/// client batch rules (`check_client_batch`) and size against `max_message_bytes`. The first
/// failure is returned, naming the batch.
pub fn validate_append(records: &[u8], max_message_bytes: u64) -> Result<AppendSummary> {
    if records.is_empty() {
        return Err(Error::InvalidRecord {
            batch: 0,
            position: 0,
            reason: "the append holds no record batch".into(),
        });
    }
    let mut summary = AppendSummary {
        batches: 0,
        records: 0,
        bytes: 0,
        max_timestamp: NO_TIMESTAMP,
    };
    let mut position = 0usize;
    while position < records.len() {
        let batch = summary.batches;
        let rest = &records[position..];
        let corrupt = |reason: String| Error::CorruptMessage {
            batch,
            position,
            reason,
        };
        if rest.len() < HEADER_SIZE {
            return Err(corrupt(format!(
                "{} trailing bytes, less than a {HEADER_SIZE}-byte batch header",
                rest.len()
            )));
        }
        let header = BatchHeader::parse(rest);
        header.check_structure(rest.len() as u64).map_err(corrupt)?;
        let size = header.size();
        if size > max_message_bytes {
            return Err(Error::MessageTooLarge {
                batch,
                size,
                max: max_message_bytes,
            });
        }
        let bytes = &rest[..size as usize];
        check_crc(&header, bytes).map_err(corrupt)?;
        header
            .check_count()
            .and_then(|()| header.check_client_batch())
            .map_err(|reason| Error::InvalidRecord {
                batch,
                position,
                reason,
            })?;
        count::check_record_count(bytes, &header, max_message_bytes).map_err(
            |error| match error {
                CountError::Corrupt(reason) => corrupt(reason),
                CountError::Invalid(reason) => Error::InvalidRecord {
                    batch,
                    position,
                    reason,
                },
            },
        )?;
        summary.batches += 1;
        summary.records += header.records_count as i64;
        summary.bytes += size;
        summary.max_timestamp = summary.max_timestamp.max(header.max_timestamp);
        position += size as usize;
    }
    Ok(summary)
}

/// Kafka's LogValidator rule for compacted topics, over a validated append: every record of
/// every non-control batch has a key. INVALID_RECORD names the first batch that breaks it.
pub fn check_compacted_append(records: &[u8]) -> Result<()> {
    for (index, (position, header)) in batches(records).enumerate() {
        let bytes = &records[position..position + header.size() as usize];
        record::check_keys_present(bytes, &header).map_err(|reason| Error::InvalidRecord {
            batch: index,
            position,
            reason,
        })?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_append_is_invalid_record() {
        let err = validate_append(&[], 1 << 20).unwrap_err();
        assert_eq!(err.code(), "INVALID_RECORD");
    }

    #[test]
    fn short_trailing_bytes_are_corrupt() {
        let err = validate_append(&[0u8; 20], 1 << 20).unwrap_err();
        assert_eq!(err.code(), "CORRUPT_MESSAGE");
        assert!(err.to_string().contains("#0"), "{err}");
    }
}
