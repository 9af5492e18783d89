//! Producer state snapshot files: `<20-digit offset>.snapshot` in the partition directory
//! (Kafka's file name), holding the idempotent producer state (`state.rs`) that covers
//! every batch below `offset`. Taken at roll (offset = the new segment's base) and at close
//! (offset = the log end), so recovery loads one and scans only the batch headers after it.
//!
//! Format — Sluice's own, set in stone once released (a new layout gets a new version number).
//! All integers big-endian. Version 2 (written since transactions are served):
//!
//! ```text
//! offset  size  field
//!      0     2  version          i16, 2
//!      2     4  crc              u32, CRC-32C (Castagnoli) of bytes 6..end of file
//!      6     8  snapshotOffset   i64, the offset in the file name
//!     14     4  producerCount    i32, N >= 0
//!     18     …  N producers, by ascending producerId, each:
//!                 producerId        i64, >= 0
//!                 epoch             i16
//!                 coordinatorEpoch  i32, -1 before the producer's first marker
//!                 txnFirstOffset    i64, first offset of its open transaction; -1: none open
//!                                   (else >= 0 and below snapshotOffset)
//!                 lastTimestamp     i64, of its last batch or marker
//!                 batchCount        u8, 0..=5 (0: a marker with a new epoch forgot them)
//!                 batchCount batches, oldest first, 32 bytes each:
//!                   firstSequence i32
//!                   lastSequence  i32
//!                   firstOffset   i64
//!                   lastOffset    i64, >= firstOffset, below the next batch's firstOffset
//!                   maxTimestamp  i64
//! ```
//!
//! Version 1 (still read; written before transactions): the same without coordinatorEpoch,
//! txnFirstOffset and lastTimestamp, and batchCount 1..=5. It loads as coordinator epoch -1, no
//! open transaction, and the last batch's maxTimestamp as the last timestamp.
//!
//! Nothing follows the last producer. A file that fails any of these rules is corrupt: the
//! loader deletes it and falls back to an older snapshot (or a scan from the log start), as
//! Kafka does with a CorruptSnapshotException.
//!
//! Files are written to `<name>.tmp` and renamed into place (an interrupted write leaves a
//! `.tmp` file, which opening the log removes); the caller decides when to fdatasync. They are
//! written with plain file calls rather than through `Storage`: like the checkpoint files they
//! carry their own integrity check and are never the only copy of anything.
//!
//! Concurrency contract: plain functions; the partition's appender calls them.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::producer::state::{BATCHES_TO_RETAIN, BatchMetadata, ProducerEntry};
use crate::segment;

pub const SNAPSHOT_SUFFIX: &str = ".snapshot";

const VERSION: i16 = 2;
const VERSION_1: i16 = 1;
const CRC_AT: usize = 2;
const CRC_COVERS_FROM: usize = 6;
const HEADER_SIZE: usize = 18;
const PRODUCER_FIXED_SIZE: usize = 8 + 2 + 4 + 8 + 8 + 1;
const PRODUCER_FIXED_SIZE_V1: usize = 8 + 2 + 1;
const BATCH_SIZE: usize = 4 + 4 + 8 + 8 + 8;

pub fn path(dir: &Path, offset: i64) -> PathBuf {
    dir.join(segment::file_name(offset, SNAPSHOT_SUFFIX))
}

/// The snapshot offsets present in `dir`, sorted.
pub fn list(dir: &Path) -> Result<Vec<i64>> {
    let mut offsets = Vec::new();
    let entries = std::fs::read_dir(dir).map_err(|e| Error::from_io("list log dir", dir, e))?;
    for entry in entries {
        let entry = entry.map_err(|e| Error::from_io("list log dir", dir, e))?;
        if let Some(offset) = entry
            .file_name()
            .to_str()
            .and_then(|name| segment::parse_file_name(name, SNAPSHOT_SUFFIX))
        {
            offsets.push(offset);
        }
    }
    offsets.sort_unstable();
    Ok(offsets)
}

/// The file bytes for `entries` (sorted by producer id) at `offset`.
pub fn encode(offset: i64, entries: &[&ProducerEntry]) -> Vec<u8> {
    let count = i32::try_from(entries.len()).expect("fewer than 2^31 producers");
    let mut out = Vec::with_capacity(
        HEADER_SIZE + entries.len() * (PRODUCER_FIXED_SIZE + BATCHES_TO_RETAIN * BATCH_SIZE),
    );
    out.extend_from_slice(&VERSION.to_be_bytes());
    out.extend_from_slice(&0u32.to_be_bytes()); // crc, filled below
    out.extend_from_slice(&offset.to_be_bytes());
    out.extend_from_slice(&count.to_be_bytes());
    for entry in entries {
        out.extend_from_slice(&entry.producer_id().to_be_bytes());
        out.extend_from_slice(&entry.epoch().to_be_bytes());
        out.extend_from_slice(&entry.coordinator_epoch().to_be_bytes());
        out.extend_from_slice(&entry.txn_first_offset().unwrap_or(-1).to_be_bytes());
        out.extend_from_slice(&entry.last_timestamp().to_be_bytes());
        out.push(u8::try_from(entry.batches().len()).expect("at most five batches"));
        for b in entry.batches() {
            out.extend_from_slice(&b.first_sequence.to_be_bytes());
            out.extend_from_slice(&b.last_sequence.to_be_bytes());
            out.extend_from_slice(&b.first_offset.to_be_bytes());
            out.extend_from_slice(&b.last_offset.to_be_bytes());
            out.extend_from_slice(&b.max_timestamp.to_be_bytes());
        }
    }
    let crc = crc32c::crc32c(&out[CRC_COVERS_FROM..]);
    out[CRC_AT..CRC_AT + 4].copy_from_slice(&crc.to_be_bytes());
    out
}

/// Parses a snapshot file's bytes; `Err(reason)` when any rule of the format is broken.
pub fn decode(
    bytes: &[u8],
    expected_offset: i64,
) -> std::result::Result<Vec<ProducerEntry>, String> {
    let mut reader = Reader { bytes, at: 0 };
    let version = reader.i16()?;
    if version != VERSION && version != VERSION_1 {
        return Err(format!(
            "version {version}, expected {VERSION_1} or {VERSION}"
        ));
    }
    let stored_crc = reader.u32()?;
    let computed = crc32c::crc32c(&bytes[CRC_COVERS_FROM..]);
    if stored_crc != computed {
        return Err(format!(
            "CRC-32C mismatch: stored {stored_crc:#010x}, computed {computed:#010x}"
        ));
    }
    let offset = reader.i64()?;
    if offset != expected_offset {
        return Err(format!(
            "holds offset {offset}, its name says {expected_offset}"
        ));
    }
    let count = reader.i32()?;
    let smallest_producer = if version == VERSION_1 {
        PRODUCER_FIXED_SIZE_V1 + BATCH_SIZE
    } else {
        PRODUCER_FIXED_SIZE
    };
    if count < 0 || count as usize > reader.remaining() / smallest_producer {
        return Err(format!(
            "producer count {count} does not fit the {} bytes left",
            reader.remaining()
        ));
    }
    let mut entries = Vec::with_capacity(count as usize);
    let mut previous_id = -1i64;
    for _ in 0..count {
        let producer_id = reader.i64()?;
        if producer_id <= previous_id {
            return Err(format!(
                "producer id {producer_id} after {previous_id}: ids must be >= 0 and increasing"
            ));
        }
        previous_id = producer_id;
        let epoch = reader.i16()?;
        let (coordinator_epoch, txn_first_offset, last_timestamp) = if version == VERSION_1 {
            (-1, -1, None)
        } else {
            (reader.i32()?, reader.i64()?, Some(reader.i64()?))
        };
        if txn_first_offset < -1 || txn_first_offset >= offset {
            return Err(format!(
                "producer {producer_id}: open transaction at {txn_first_offset}, outside [0, {offset})"
            ));
        }
        let batch_count = reader.u8()? as usize;
        let min_batches = if version == VERSION_1 { 1 } else { 0 };
        if !(min_batches..=BATCHES_TO_RETAIN).contains(&batch_count) {
            return Err(format!(
                "producer {producer_id}: {batch_count} batches, expected {min_batches} to {BATCHES_TO_RETAIN}"
            ));
        }
        let mut batches = Vec::with_capacity(batch_count);
        for _ in 0..batch_count {
            let b = BatchMetadata {
                first_sequence: reader.i32()?,
                last_sequence: reader.i32()?,
                first_offset: reader.i64()?,
                last_offset: reader.i64()?,
                max_timestamp: reader.i64()?,
            };
            let ordered = b.first_offset <= b.last_offset
                && batches
                    .last()
                    .is_none_or(|p: &BatchMetadata| p.last_offset < b.first_offset)
                && b.last_offset < offset;
            if !ordered {
                return Err(format!(
                    "producer {producer_id}: batch [{}, {}] out of order or past {offset}",
                    b.first_offset, b.last_offset
                ));
            }
            batches.push(b);
        }
        let entry = match last_timestamp {
            None => ProducerEntry::new(producer_id, epoch, batches),
            Some(last_timestamp) => ProducerEntry::with_txn(
                producer_id,
                epoch,
                batches,
                coordinator_epoch,
                (txn_first_offset >= 0).then_some(txn_first_offset),
                last_timestamp,
            ),
        };
        entries.push(entry.expect("batch count checked above"));
    }
    if reader.remaining() != 0 {
        return Err(format!(
            "{} bytes after the last producer",
            reader.remaining()
        ));
    }
    Ok(entries)
}

/// Writes `bytes` as the snapshot at `offset`: `.tmp`, then rename into place. Not synced;
/// returns the open file (for a later fdatasync) and its path.
pub fn write(dir: &Path, offset: i64, bytes: &[u8]) -> Result<(File, PathBuf)> {
    let final_path = path(dir, offset);
    let mut tmp_name = final_path.clone().into_os_string();
    tmp_name.push(".tmp");
    let tmp = PathBuf::from(tmp_name);
    let write = || -> io::Result<File> {
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(&tmp)?;
        file.write_all(bytes)?;
        std::fs::rename(&tmp, &final_path)?;
        Ok(file)
    };
    let file = write().map_err(|e| Error::from_io("write producer snapshot", &final_path, e))?;
    Ok((file, final_path))
}

/// Reads the snapshot at `offset`: the outer error is I/O, the inner one a corrupt file.
pub fn read(dir: &Path, offset: i64) -> Result<std::result::Result<Vec<ProducerEntry>, String>> {
    let path = path(dir, offset);
    let bytes =
        std::fs::read(&path).map_err(|e| Error::from_io("read producer snapshot", &path, e))?;
    Ok(decode(&bytes, offset))
}

/// Unlinks the snapshot at `offset`; a missing file is fine.
pub fn delete(dir: &Path, offset: i64) -> Result<()> {
    let path = path(dir, offset);
    match std::fs::remove_file(&path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(Error::from_io("delete producer snapshot", path, e)),
    }
}

/// Big-endian reads that fail with a reason past the end.
struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Reader<'_> {
    fn take<const N: usize>(&mut self) -> std::result::Result<[u8; N], String> {
        let end = self.at + N;
        let slice = self
            .bytes
            .get(self.at..end)
            .ok_or_else(|| format!("ends at byte {} inside a {N}-byte field", self.bytes.len()))?;
        self.at = end;
        Ok(slice.try_into().expect("N bytes"))
    }

    fn remaining(&self) -> usize {
        self.bytes.len() - self.at
    }

    fn u8(&mut self) -> std::result::Result<u8, String> {
        Ok(self.take::<1>()?[0])
    }

    fn i16(&mut self) -> std::result::Result<i16, String> {
        Ok(i16::from_be_bytes(self.take()?))
    }

    fn i32(&mut self) -> std::result::Result<i32, String> {
        Ok(i32::from_be_bytes(self.take()?))
    }

    fn u32(&mut self) -> std::result::Result<u32, String> {
        Ok(u32::from_be_bytes(self.take()?))
    }

    fn i64(&mut self) -> std::result::Result<i64, String> {
        Ok(i64::from_be_bytes(self.take()?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(first_offset: i64, count: i64, first_sequence: i32) -> BatchMetadata {
        BatchMetadata {
            first_sequence,
            last_sequence: first_sequence + count as i32 - 1,
            first_offset,
            last_offset: first_offset + count - 1,
            max_timestamp: 1_700_000_000_000 + first_offset,
        }
    }

    fn sample() -> Vec<ProducerEntry> {
        vec![
            ProducerEntry::new(3, 0, vec![meta(0, 2, 0), meta(5, 1, 2)]).unwrap(),
            ProducerEntry::new(
                1 << 40,
                7,
                (0..5).map(|i| meta(10 + i * 3, 3, i as i32 * 3)).collect(),
            )
            .unwrap(),
        ]
    }

    #[test]
    fn round_trip_spells_out_the_documented_bytes() {
        let entries = sample();
        let refs: Vec<&ProducerEntry> = entries.iter().collect();
        let bytes = encode(100, &refs);
        assert_eq!(
            bytes.len(),
            HEADER_SIZE + 2 * PRODUCER_FIXED_SIZE + 7 * BATCH_SIZE
        );
        assert_eq!(&bytes[0..2], &[0, 2]);
        assert_eq!(&bytes[6..14], &100i64.to_be_bytes());
        assert_eq!(&bytes[14..18], &2i32.to_be_bytes());
        assert_eq!(&bytes[18..26], &3i64.to_be_bytes());
        assert_eq!(&bytes[28..32], &(-1i32).to_be_bytes(), "coordinator epoch");
        assert_eq!(
            &bytes[32..40],
            &(-1i64).to_be_bytes(),
            "no open transaction"
        );
        assert_eq!(
            &bytes[40..48],
            &1_700_000_000_005i64.to_be_bytes(),
            "last timestamp"
        );
        assert_eq!(bytes[48], 2, "batch count of the first producer");
        assert_eq!(decode(&bytes, 100).unwrap(), entries);
        assert!(decode(&encode(0, &[]), 0).unwrap().is_empty());
    }

    #[test]
    fn transaction_state_and_batchless_producers_round_trip() {
        let entries = vec![
            ProducerEntry::with_txn(5, 2, vec![meta(40, 3, 0)], 7, Some(40), 1_234).unwrap(),
            // A marker with a new epoch forgot the batches.
            ProducerEntry::with_txn(9, 4, vec![], 3, None, 99).unwrap(),
        ];
        let refs: Vec<&ProducerEntry> = entries.iter().collect();
        let bytes = encode(50, &refs);
        let decoded = decode(&bytes, 50).unwrap();
        assert_eq!(decoded, entries);
        assert_eq!(decoded[0].txn_first_offset(), Some(40));
        assert_eq!(decoded[0].coordinator_epoch(), 7);
        assert_eq!(decoded[1].batches().len(), 0);
        assert_eq!(decoded[1].last_timestamp(), 99);
        // An open transaction at or past the snapshot offset cannot be.
        let bad = ProducerEntry::with_txn(5, 2, vec![], 0, Some(50), 0).unwrap();
        assert!(
            decode(&encode(50, &[&bad]), 50)
                .unwrap_err()
                .contains("open transaction")
        );
    }

    /// A version 1 file, byte for byte as the first release wrote it.
    fn encode_v1(offset: i64, entries: &[&ProducerEntry]) -> Vec<u8> {
        let mut out = Vec::new();
        out.extend_from_slice(&1i16.to_be_bytes());
        out.extend_from_slice(&0u32.to_be_bytes());
        out.extend_from_slice(&offset.to_be_bytes());
        out.extend_from_slice(&(entries.len() as i32).to_be_bytes());
        for entry in entries {
            out.extend_from_slice(&entry.producer_id().to_be_bytes());
            out.extend_from_slice(&entry.epoch().to_be_bytes());
            out.push(entry.batches().len() as u8);
            for b in entry.batches() {
                out.extend_from_slice(&b.first_sequence.to_be_bytes());
                out.extend_from_slice(&b.last_sequence.to_be_bytes());
                out.extend_from_slice(&b.first_offset.to_be_bytes());
                out.extend_from_slice(&b.last_offset.to_be_bytes());
                out.extend_from_slice(&b.max_timestamp.to_be_bytes());
            }
        }
        let crc = crc32c::crc32c(&out[CRC_COVERS_FROM..]);
        out[CRC_AT..CRC_AT + 4].copy_from_slice(&crc.to_be_bytes());
        out
    }

    #[test]
    fn version_1_files_still_load_without_transactions() {
        let entries = sample();
        let refs: Vec<&ProducerEntry> = entries.iter().collect();
        let bytes = encode_v1(100, &refs);
        assert_eq!(
            bytes.len(),
            HEADER_SIZE + 2 * PRODUCER_FIXED_SIZE_V1 + 7 * BATCH_SIZE
        );
        let decoded = decode(&bytes, 100).unwrap();
        assert_eq!(decoded, entries);
        for entry in &decoded {
            assert_eq!(entry.coordinator_epoch(), -1);
            assert_eq!(entry.txn_first_offset(), None);
            assert_eq!(
                entry.last_timestamp(),
                entry.batches().last().unwrap().max_timestamp
            );
        }
        // Version 1 never held a producer without batches.
        let empty = ProducerEntry::with_txn(1, 0, vec![], -1, None, 0).unwrap();
        assert!(decode(&encode_v1(10, &[&empty]), 10).is_err());
    }

    #[test]
    fn any_damage_is_reported_as_corrupt() {
        let entries = sample();
        let refs: Vec<&ProducerEntry> = entries.iter().collect();
        let bytes = encode(100, &refs);
        for cut in [0, 1, 5, 17, 40, bytes.len() - 1] {
            assert!(decode(&bytes[..cut], 100).is_err(), "cut at {cut}");
        }
        let mut flipped = bytes.clone();
        flipped[30] ^= 1;
        assert!(decode(&flipped, 100).unwrap_err().contains("CRC"));
        assert!(decode(&bytes, 101).unwrap_err().contains("name says"));
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(decode(&longer, 100).is_err());
        let zeros = vec![0u8; bytes.len()];
        assert!(decode(&zeros, 100).is_err());
    }

    #[test]
    fn batches_past_the_snapshot_offset_are_corrupt() {
        let entry = ProducerEntry::new(1, 0, vec![meta(0, 5, 0)]).unwrap();
        assert!(
            decode(&encode(4, &[&entry]), 4)
                .unwrap_err()
                .contains("past")
        );
    }

    #[test]
    fn files_are_named_listed_and_deleted_by_offset() {
        let dir = tempfile::tempdir().unwrap();
        let entries = sample();
        let refs: Vec<&ProducerEntry> = entries.iter().collect();
        write(dir.path(), 100, &encode(100, &refs)).unwrap();
        write(dir.path(), 20, &encode(20, &[])).unwrap();
        std::fs::write(dir.path().join("00000000000000000020.log"), b"").unwrap();
        assert!(dir.path().join("00000000000000000100.snapshot").exists());
        assert!(
            !dir.path()
                .join("00000000000000000100.snapshot.tmp")
                .exists()
        );
        assert_eq!(list(dir.path()).unwrap(), vec![20, 100]);
        assert_eq!(read(dir.path(), 100).unwrap().unwrap(), entries);
        delete(dir.path(), 20).unwrap();
        delete(dir.path(), 20).unwrap();
        assert_eq!(list(dir.path()).unwrap(), vec![100]);
    }
}
