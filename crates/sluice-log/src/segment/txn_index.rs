//! The transaction index, `<base>.txnindex`: Kafka's `TransactionIndex`, one entry per aborted
//! transaction whose ABORT marker is in this segment, in marker order. A fetch at
//! `read_committed` asks it which producers' records to skip in the range it sends.
//!
//! Format, set in stone by Kafka (`AbortedTxn`). No header; entries back to back, 34 bytes each,
//! all integers big-endian:
//!
//! ```text
//! byte  size  field
//!    0     2  version           i16, 0
//!    2     8  producerId        i64
//!   10     8  firstOffset       i64, the transaction's first offset on this partition
//!   18     8  lastOffset        i64, the ABORT marker's offset (strictly increasing per file)
//!   26     8  lastStableOffset  i64, the LSO right after the abort (ignoring the high watermark)
//! ```
//!
//! The entry is written (pwrite through `Storage`) when the marker is appended, before the last
//! stable offset moves past it; it is synced with the segment. At open a torn tail (a length
//! that is not a multiple of 34) and every entry from the first one that breaks the rules
//! (version, increasing lastOffset inside the segment, firstOffset <= lastOffset) are cut off;
//! recovery then drops the entries it replays and writes them again (see `producer/manager.rs`).
//! The entries are also kept in memory: a segment holds few aborted transactions, and a fetch
//! reads them without a syscall.
//!
//! As in Kafka, the file is created by the first entry (most segments never hold an aborted
//! transaction, and an open file per segment is a file descriptor each): a missing file is an
//! empty index. The directory entry is made durable by the flush that syncs the entry (a flush
//! job fsyncs the directory after the files).
//!
//! Concurrency contract: owned by its segment, used from the log's single thread.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::error::{Error, Result};
use crate::storage::{self, Storage};

/// Bytes of one entry.
pub const TXN_ENTRY_SIZE: usize = 34;
const ENTRY_VERSION: i16 = 0;

/// One aborted transaction (Kafka's `AbortedTxn`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AbortedTxn {
    pub producer_id: i64,
    pub first_offset: i64,
    /// The ABORT marker's offset.
    pub last_offset: i64,
    pub last_stable_offset: i64,
}

impl AbortedTxn {
    fn encode(&self) -> [u8; TXN_ENTRY_SIZE] {
        let mut b = [0u8; TXN_ENTRY_SIZE];
        b[0..2].copy_from_slice(&ENTRY_VERSION.to_be_bytes());
        b[2..10].copy_from_slice(&self.producer_id.to_be_bytes());
        b[10..18].copy_from_slice(&self.first_offset.to_be_bytes());
        b[18..26].copy_from_slice(&self.last_offset.to_be_bytes());
        b[26..34].copy_from_slice(&self.last_stable_offset.to_be_bytes());
        b
    }

    fn decode(b: &[u8]) -> (i16, AbortedTxn) {
        let i64_at = |at: usize| i64::from_be_bytes(b[at..at + 8].try_into().expect("8 bytes"));
        (
            i16::from_be_bytes([b[0], b[1]]),
            AbortedTxn {
                producer_id: i64_at(2),
                first_offset: i64_at(10),
                last_offset: i64_at(18),
                last_stable_offset: i64_at(26),
            },
        )
    }
}

/// What `TxnIndex::collect` found.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct TxnSearch {
    pub aborted: Vec<AbortedTxn>,
    /// An entry's lastStableOffset reached the upper bound: later segments cannot hold an
    /// aborted transaction that overlaps the range (Kafka's `TxnIndexSearchResult.isComplete`).
    pub complete: bool,
}

#[derive(Debug)]
pub struct TxnIndex {
    path: PathBuf,
    /// None until the file exists (opened at open when present, created by the first entry).
    file: Option<Arc<File>>,
    base_offset: i64,
    entries: Vec<AbortedTxn>,
}

impl TxnIndex {
    /// Opens the transaction index of the segment at `base_offset` (an empty one when the file
    /// does not exist) and reads its entries, cutting off a torn or invalid tail.
    pub fn open(storage: &dyn Storage, path: &Path, base_offset: i64) -> Result<TxnIndex> {
        let mut index = TxnIndex {
            path: path.to_path_buf(),
            file: None,
            base_offset,
            entries: Vec::new(),
        };
        let exists = path
            .try_exists()
            .map_err(|e| Error::from_io("stat transaction index", path, e))?;
        if !exists {
            return Ok(index);
        }
        let file = storage
            .open(path, false)
            .map_err(|e| Error::from_io("open transaction index", path, e))?;
        let len = file
            .metadata()
            .map_err(|e| Error::from_io("stat transaction index", path, e))?
            .len();
        let mut bytes = vec![0u8; usize::try_from(len).expect("index fits memory")];
        storage::read_exact_at(storage, &file, &mut bytes, 0)
            .map_err(|e| Error::from_io("read transaction index", path, e))?;
        for chunk in bytes.chunks_exact(TXN_ENTRY_SIZE) {
            let (version, entry) = AbortedTxn::decode(chunk);
            let previous = index
                .entries
                .last()
                .map_or(base_offset - 1, |e| e.last_offset);
            let valid = version == ENTRY_VERSION
                && entry.last_offset > previous
                && entry.first_offset <= entry.last_offset
                && entry.first_offset >= 0;
            if !valid {
                break;
            }
            index.entries.push(entry);
        }
        index.file = Some(Arc::new(file));
        if index.byte_len() != len {
            index.set_len(storage)?;
        }
        Ok(index)
    }

    /// The file, created (empty) if it does not exist yet.
    fn file(&mut self, storage: &dyn Storage) -> Result<Arc<File>> {
        if let Some(file) = &self.file {
            return Ok(file.clone());
        }
        let file = storage
            .open(&self.path, true)
            .map_err(|e| Error::from_io("create transaction index", &self.path, e))?;
        let file = Arc::new(file);
        self.file = Some(file.clone());
        Ok(file)
    }

    fn byte_len(&self) -> u64 {
        (self.entries.len() * TXN_ENTRY_SIZE) as u64
    }

    fn set_len(&mut self, storage: &dyn Storage) -> Result<()> {
        let len = self.byte_len();
        let file = self.file(storage)?;
        storage
            .set_len(&file, len)
            .map_err(|e| Error::from_io("truncate transaction index", &self.path, e))
    }

    /// The entries, in marker order.
    pub fn entries(&self) -> &[AbortedTxn] {
        &self.entries
    }

    /// Appends the entry of an ABORT marker. Its lastOffset must be past the last entry's.
    pub fn append(&mut self, storage: &dyn Storage, entry: AbortedTxn) -> Result<()> {
        let previous = self
            .entries
            .last()
            .map_or(self.base_offset - 1, |e| e.last_offset);
        assert!(
            entry.last_offset > previous,
            "transaction index entries must follow their markers' order ({} after {previous})",
            entry.last_offset
        );
        let file = self.file(storage)?;
        storage::write_all_at(storage, &file, &entry.encode(), self.byte_len())
            .map_err(|e| Error::from_io("write transaction index", &self.path, e))?;
        self.entries.push(entry);
        Ok(())
    }

    /// Removes the entries whose marker is at or past `offset` (truncation, and the entries
    /// recovery is about to replay).
    pub fn truncate_from(&mut self, storage: &dyn Storage, offset: i64) -> Result<()> {
        let keep = self.entries.partition_point(|e| e.last_offset < offset);
        if keep < self.entries.len() {
            self.entries.truncate(keep);
            self.set_len(storage)?;
        }
        Ok(())
    }

    /// Kafka's `TransactionIndex.collectAbortedTxns`: the entries with lastOffset >=
    /// `fetch_offset` and firstOffset < `upper_bound`, stopping after the first whose
    /// lastStableOffset >= `upper_bound`.
    pub fn collect(&self, fetch_offset: i64, upper_bound: i64, into: &mut TxnSearch) {
        for entry in &self.entries {
            if entry.last_offset >= fetch_offset && entry.first_offset < upper_bound {
                into.aborted.push(*entry);
            }
            if entry.last_stable_offset >= upper_bound {
                into.complete = true;
                return;
            }
        }
    }

    /// (file, bytes that must be durable, path) for a flush; None while there is no file.
    pub fn sync_target(&self) -> Option<(Arc<File>, u64, PathBuf)> {
        let file = self.file.as_ref()?;
        Some((file.clone(), self.byte_len(), self.path.clone()))
    }

    /// Writes `entries` as the whole index, creating the file even when there are none (a
    /// cleaned segment's copy of its sources' entries: the swap renames every file of it).
    pub fn write_all(&mut self, storage: &dyn Storage, entries: &[AbortedTxn]) -> Result<()> {
        self.entries.clear();
        self.set_len(storage)?;
        for entry in entries {
            self.append(storage, *entry)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::OsStorage;

    fn entry(producer_id: i64, first: i64, last: i64) -> AbortedTxn {
        AbortedTxn {
            producer_id,
            first_offset: first,
            last_offset: last,
            last_stable_offset: last + 1,
        }
    }

    #[test]
    fn entries_are_kafkas_34_bytes_and_survive_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("00000000000000000100.txnindex");
        let mut index = TxnIndex::open(&OsStorage, &path, 100).unwrap();
        assert!(index.sync_target().is_none());
        assert!(!path.exists(), "created by the first entry");
        index.append(&OsStorage, entry(7, 100, 105)).unwrap();
        index
            .append(
                &OsStorage,
                AbortedTxn {
                    producer_id: 8,
                    first_offset: 101,
                    last_offset: 110,
                    last_stable_offset: 103,
                },
            )
            .unwrap();
        let bytes = std::fs::read(&path).unwrap();
        assert_eq!(bytes.len(), 68);
        assert_eq!(&bytes[0..2], &[0, 0], "version 0");
        assert_eq!(&bytes[2..10], &7i64.to_be_bytes());
        assert_eq!(&bytes[10..18], &100i64.to_be_bytes());
        assert_eq!(&bytes[18..26], &105i64.to_be_bytes());
        assert_eq!(&bytes[26..34], &106i64.to_be_bytes());
        assert_eq!(&bytes[34 + 26..68], &103i64.to_be_bytes());
        let reopened = TxnIndex::open(&OsStorage, &path, 100).unwrap();
        assert_eq!(reopened.entries(), index.entries());
    }

    #[test]
    fn a_torn_or_invalid_tail_is_cut_at_open() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("00000000000000000000.txnindex");
        let mut index = TxnIndex::open(&OsStorage, &path, 0).unwrap();
        index.append(&OsStorage, entry(1, 0, 3)).unwrap();
        index.append(&OsStorage, entry(2, 4, 9)).unwrap();
        let mut bytes = std::fs::read(&path).unwrap();
        bytes.extend_from_slice(&[0u8; 20]); // torn
        std::fs::write(&path, &bytes).unwrap();
        let reopened = TxnIndex::open(&OsStorage, &path, 0).unwrap();
        assert_eq!(reopened.entries().len(), 2);
        assert_eq!(std::fs::metadata(&path).unwrap().len(), 68);
        // A zero-filled whole entry (a power loss) goes backwards: cut.
        bytes.truncate(68);
        bytes.extend_from_slice(&[0u8; 34]);
        std::fs::write(&path, &bytes).unwrap();
        let reopened = TxnIndex::open(&OsStorage, &path, 0).unwrap();
        assert_eq!(reopened.entries().len(), 2);
        assert_eq!(std::fs::metadata(&path).unwrap().len(), 68);
    }

    #[test]
    fn truncation_and_collection_follow_kafka() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("00000000000000000000.txnindex");
        let mut index = TxnIndex::open(&OsStorage, &path, 0).unwrap();
        index.append(&OsStorage, entry(1, 0, 3)).unwrap();
        index
            .append(
                &OsStorage,
                AbortedTxn {
                    producer_id: 2,
                    first_offset: 4,
                    last_offset: 9,
                    last_stable_offset: 6,
                },
            )
            .unwrap();
        index.append(&OsStorage, entry(3, 12, 20)).unwrap();
        let mut search = TxnSearch::default();
        index.collect(5, 8, &mut search);
        assert_eq!(
            search
                .aborted
                .iter()
                .map(|e| e.producer_id)
                .collect::<Vec<_>>(),
            vec![2]
        );
        assert!(
            search.complete,
            "the third entry's LSO 21 reaches the bound 8"
        );
        let mut search = TxnSearch::default();
        index.collect(5, 30, &mut search);
        assert_eq!(
            search
                .aborted
                .iter()
                .map(|e| e.producer_id)
                .collect::<Vec<_>>(),
            vec![2, 3]
        );
        assert!(
            !search.complete,
            "no entry's LSO reaches 30: later segments may add some"
        );
        let mut search = TxnSearch::default();
        index.collect(0, 5, &mut search);
        assert_eq!(search.aborted.len(), 2);
        assert!(search.complete);
        index.truncate_from(&OsStorage, 9).unwrap();
        assert_eq!(index.entries().len(), 1);
        assert_eq!(std::fs::metadata(&path).unwrap().len(), 34);
    }
}
