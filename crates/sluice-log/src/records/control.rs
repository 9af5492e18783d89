//! Transaction markers: the COMMIT / ABORT control batch the transaction coordinator has a
//! partition append when a transaction ends (Kafka's `EndTransactionMarker` in a control batch).
//!
//! Format, set in stone by Kafka (RecordBatch v2 as in `batch.rs`, record as in `record.rs`):
//!
//! ```text
//! batch header   attributes 0x30 (transactional | control, no compression, CreateTime),
//!                lastOffsetDelta 0, baseTimestamp = maxTimestamp = the marker's time,
//!                producerId / producerEpoch of the transaction, baseSequence -1, recordsCount 1
//! record         length 16, attributes 0, timestampDelta 0, offsetDelta 0,
//!                keyLength 4, key   = version i16 (0) | type i16 (0 ABORT, 1 COMMIT)
//!                valueLength 6, value = version i16 (0) | coordinatorEpoch i32
//!                headersCount 0
//! ```
//!
//! The whole batch is 78 bytes (61 header + 17 record), the same as the coordinator side's
//! `buildEndTxnMarkerBatch` in `@sluice/protocol`.
//!
//! Concurrency contract: plain functions over bytes.

use crate::records::batch::{self, BatchHeader, HEADER_SIZE, LOG_OVERHEAD, MAGIC_V2};
use crate::records::record;

/// Size of a marker batch.
pub const MARKER_BATCH_SIZE: usize = HEADER_SIZE + MARKER_RECORD_SIZE;
const MARKER_RECORD_SIZE: usize = 17;
/// Attributes of a marker batch: transactional (0x10) and control (0x20).
const MARKER_ATTRIBUTES: i16 = 0x30;
const ABORT_TYPE: i16 = 0;
const COMMIT_TYPE: i16 = 1;

/// Which way a transaction ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MarkerType {
    Abort,
    Commit,
}

/// A marker's contents (the record's key and value plus the header's producer).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EndTxnMarker {
    pub producer_id: i64,
    pub producer_epoch: i16,
    pub coordinator_epoch: i32,
    pub kind: MarkerType,
}

/// The 78 bytes of a marker batch at offset 0, CRC set (the log assigns baseOffset and the
/// partitionLeaderEpoch, both outside the CRC).
pub fn build_marker_batch(marker: &EndTxnMarker, timestamp: i64) -> Vec<u8> {
    let header = BatchHeader {
        base_offset: 0,
        batch_length: (MARKER_BATCH_SIZE - LOG_OVERHEAD) as i32,
        partition_leader_epoch: 0,
        magic: MAGIC_V2,
        crc: 0,
        attributes: MARKER_ATTRIBUTES,
        last_offset_delta: 0,
        base_timestamp: timestamp,
        max_timestamp: timestamp,
        producer_id: marker.producer_id,
        producer_epoch: marker.producer_epoch,
        base_sequence: -1,
        records_count: 1,
    };
    let mut out = Vec::with_capacity(MARKER_BATCH_SIZE);
    out.extend_from_slice(&header.encode());
    let kind = match marker.kind {
        MarkerType::Abort => ABORT_TYPE,
        MarkerType::Commit => COMMIT_TYPE,
    };
    // length 16, attributes, timestampDelta 0, offsetDelta 0 (zigzag varints: 16 -> 32).
    out.extend_from_slice(&[32, 0, 0, 0]);
    out.push(8); // keyLength 4
    out.extend_from_slice(&0i16.to_be_bytes());
    out.extend_from_slice(&kind.to_be_bytes());
    out.push(12); // valueLength 6
    out.extend_from_slice(&0i16.to_be_bytes());
    out.extend_from_slice(&marker.coordinator_epoch.to_be_bytes());
    out.push(0); // headersCount
    assert_eq!(out.len(), MARKER_BATCH_SIZE, "marker batch layout");
    let crc = batch::compute_crc(&out);
    out[17..21].copy_from_slice(&crc.to_be_bytes());
    out
}

/// Reads the marker of a stored control batch (`bytes` is the whole batch). `Err` when the
/// batch is not a control batch holding a well-formed end-transaction marker.
pub fn parse_marker(bytes: &[u8]) -> Result<EndTxnMarker, String> {
    let header = BatchHeader::parse(bytes);
    if !header.is_control() {
        return Err("not a control batch".into());
    }
    let mut records = record::batch_records(bytes, &header)?;
    let record = records
        .next_record()?
        .ok_or_else(|| "a control batch without a record".to_string())?;
    let key = record.key.ok_or("a control record without a key")?;
    if key.len() < 4 {
        return Err(format!("control record key of {} bytes", key.len()));
    }
    let kind = match i16::from_be_bytes([key[2], key[3]]) {
        ABORT_TYPE => MarkerType::Abort,
        COMMIT_TYPE => MarkerType::Commit,
        other => {
            return Err(format!(
                "control record type {other} is no transaction marker"
            ));
        }
    };
    let value = record.value.ok_or("a transaction marker without a value")?;
    if value.len() < 6 {
        return Err(format!("transaction marker value of {} bytes", value.len()));
    }
    Ok(EndTxnMarker {
        producer_id: header.producer_id,
        producer_epoch: header.producer_epoch,
        coordinator_epoch: i32::from_be_bytes([value[2], value[3], value[4], value[5]]),
        kind,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_marker_batch_is_kafkas_78_bytes_and_parses_back() {
        let marker = EndTxnMarker {
            producer_id: 4242,
            producer_epoch: 3,
            coordinator_epoch: 7,
            kind: MarkerType::Abort,
        };
        let bytes = build_marker_batch(&marker, 1_700_000_000_000);
        assert_eq!(bytes.len(), 78);
        let header = BatchHeader::parse(&bytes);
        assert_eq!(header.attributes, 0x30);
        assert!(header.is_control() && header.is_transactional());
        assert_eq!(header.base_sequence, -1);
        assert_eq!(header.records_count, 1);
        assert_eq!(header.size(), 78);
        batch::check_crc(&header, &bytes).unwrap();
        header.check_structure(78).unwrap();
        header.check_count().unwrap();
        // The record: length 16, key [0, 0, 0, 0] (version 0, ABORT), value [0, 0, 0, 0, 0, 7].
        assert_eq!(
            &bytes[61..],
            &[32, 0, 0, 0, 8, 0, 0, 0, 0, 12, 0, 0, 0, 0, 0, 7, 0]
        );
        assert_eq!(parse_marker(&bytes).unwrap(), marker);
        let commit = EndTxnMarker {
            kind: MarkerType::Commit,
            ..marker
        };
        let bytes = build_marker_batch(&commit, 5);
        assert_eq!(bytes[61 + 8], 1, "COMMIT is type 1");
        assert_eq!(parse_marker(&bytes).unwrap(), commit);
    }

    #[test]
    fn a_data_batch_is_no_marker() {
        let mut bytes = build_marker_batch(
            &EndTxnMarker {
                producer_id: 1,
                producer_epoch: 0,
                coordinator_epoch: 0,
                kind: MarkerType::Commit,
            },
            0,
        );
        bytes[22] = 0x10; // transactional only
        assert!(parse_marker(&bytes).is_err());
    }
}
