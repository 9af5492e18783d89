//! The files that make a segment and their names: Kafka's base offset as 20 zero-padded
//! decimal digits plus a suffix per kind, e.g. `00000000000000001234.log`.
//!
//! `SegmentFile::ALL` is the one list of them. Everything that handles a segment's files as a
//! set (create, delete, open's directory scan, the cleaner's `.cleaned` / `.swap` names and
//! crash recovery, flush targets) iterates it, so a new kind of segment file is a variant, its
//! suffix and its entry in `ALL`; the compiler then points at the places that must open, write
//! and sync it (as it did for Kafka's transaction index, `.txnindex`).

use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::error::{Error, Result};
use crate::storage::Storage;

/// One kind of file of a segment.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SegmentFile {
    /// `.log`: the record batches.
    Log,
    /// `.index`: offset -> position.
    OffsetIndex,
    /// `.timeindex`: timestamp -> offset.
    TimeIndex,
    /// `.txnindex`: the aborted transactions whose ABORT marker is in the segment.
    TxnIndex,
}

impl SegmentFile {
    /// Every file of a segment, the log first.
    pub const ALL: &'static [SegmentFile] = &[
        SegmentFile::Log,
        SegmentFile::OffsetIndex,
        SegmentFile::TimeIndex,
        SegmentFile::TxnIndex,
    ];

    pub const fn suffix(self) -> &'static str {
        match self {
            SegmentFile::Log => LOG_SUFFIX,
            SegmentFile::OffsetIndex => INDEX_SUFFIX,
            SegmentFile::TimeIndex => TIME_INDEX_SUFFIX,
            SegmentFile::TxnIndex => TXN_INDEX_SUFFIX,
        }
    }

    /// The file is rebuilt from the log alone by a segment scan (the offset and time indexes):
    /// a missing one makes `Segment::load` recover the segment. The transaction index also
    /// needs the producer state, so the log rebuilds it (`producer/manager.rs`).
    pub fn rebuilt_by_segment_scan(self) -> bool {
        matches!(self, SegmentFile::OffsetIndex | SegmentFile::TimeIndex)
    }

    /// Every file of a segment except the log (the files a swap renames before its commit point).
    pub fn indexes() -> impl Iterator<Item = SegmentFile> {
        SegmentFile::ALL
            .iter()
            .copied()
            .filter(|kind| *kind != SegmentFile::Log)
    }

    /// This file's name for the segment at `base_offset`.
    pub fn file_name(self, base_offset: i64) -> String {
        file_name(base_offset, self.suffix())
    }

    /// This file's path for the segment at `base_offset` in `dir`.
    pub fn path(self, dir: &Path, base_offset: i64) -> PathBuf {
        dir.join(self.file_name(base_offset))
    }

    /// The base offset and kind a file name encodes, if it is a segment file.
    pub fn parse(name: &str) -> Option<(i64, SegmentFile)> {
        SegmentFile::ALL
            .iter()
            .find_map(|&kind| parse_file_name(name, kind.suffix()).map(|base| (base, kind)))
    }
}

const LOG_SUFFIX: &str = ".log";
const INDEX_SUFFIX: &str = ".index";
const TIME_INDEX_SUFFIX: &str = ".timeindex";
const TXN_INDEX_SUFFIX: &str = ".txnindex";

/// Kafka's file name for a base offset and suffix (segment files, producer snapshots).
pub fn file_name(base_offset: i64, suffix: &str) -> String {
    format!("{base_offset:020}{suffix}")
}

/// The base offset a file name encodes, if it is one of ours (20 digits + suffix).
pub fn parse_file_name(name: &str, suffix: &str) -> Option<i64> {
    let digits = name.strip_suffix(suffix)?;
    if digits.len() != 20 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// Unlinks every file of the segment at `base_offset` in `dir`; files already gone are fine.
/// `op` names the operation in errors.
pub fn remove_segment_files(
    storage: &dyn Storage,
    dir: &Path,
    base_offset: i64,
    op: &'static str,
) -> Result<()> {
    for kind in SegmentFile::ALL {
        let path = kind.path(dir, base_offset);
        match storage.remove_file(&path) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(Error::from_io(op, path, e)),
        }
    }
    Ok(())
}

/// A file to fdatasync and how many of its leading bytes are meaningful.
#[derive(Clone, Debug)]
pub struct SyncTarget {
    pub file: Arc<File>,
    pub durable_len: u64,
    pub path: PathBuf,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_for_every_kind() {
        for &kind in SegmentFile::ALL {
            let name = kind.file_name(1234);
            assert_eq!(name, format!("00000000000000001234{}", kind.suffix()));
            assert_eq!(SegmentFile::parse(&name), Some((1234, kind)));
        }
        assert_eq!(SegmentFile::parse("00000000000000001234.snapshot"), None);
        assert_eq!(SegmentFile::parse("1234.log"), None);
        assert_eq!(SegmentFile::parse("00000000000000001234.log.swap"), None);
    }

    #[test]
    fn indexes_are_every_kind_but_the_log() {
        let indexes: Vec<SegmentFile> = SegmentFile::indexes().collect();
        assert_eq!(indexes.len() + 1, SegmentFile::ALL.len());
        assert!(!indexes.contains(&SegmentFile::Log));
    }
}
