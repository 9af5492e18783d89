//! Kafka's suffix protocol for replacing segments with cleaned ones, crash-safe at every step:
//!
//! ```text
//! job      writes <base>.log.cleaned, .index.cleaned, .timeindex.cleaned, .txnindex.cleaned (every
//!          `SegmentFile`); fdatasync each
//! stage    renames them to .swap (indexes first, the log last); fsync dir
//! replace  unlinks the replaced segments' files (the one at <base> too); fsync dir
//! promote  renames the .swap files to their final names (the log first); fsync dir
//! ```
//!
//! A `.log.swap` file is the commit point. At open (`recover`), before segments are loaded:
//! `.cleaned` files are deleted (the clean never committed); if `.log.swap` files exist, every
//! segment file (each `SegmentFile`: `.log`, `.index`, `.timeindex`, `.txnindex`) whose base offset lies in
//! [lowest swap base, highest swap end) is deleted — those segments were replaced — and the swap
//! files get their final names (Kafka's `LogLoader`); index `.swap` files without their log are
//! deleted (indexes are rebuilt when missing). So a crash leaves either the old segments or the
//! new one, never both and never neither.
//!
//! Concurrency contract: called from the log's thread (stage, replace, promote) or from `open`.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::log::cleaner::{CLEANED_SUFFIX, SWAP_SUFFIX, suffixed};
use crate::records::batch::{BatchHeader, HEADER_SIZE};
use crate::segment::SegmentFile;
use crate::storage::{self, Storage};

/// The files of the segment at `base` with a protocol suffix, in commit order: the indexes
/// first, the log last (renaming it is the commit point).
fn names(dir: &Path, base: i64, suffix: &str) -> Vec<PathBuf> {
    SegmentFile::indexes()
        .chain([SegmentFile::Log])
        .map(|kind| suffixed(&kind.path(dir, base), suffix))
        .collect()
}

fn rename(storage: &dyn Storage, from: &Path, to: &Path) -> Result<()> {
    storage
        .rename(from, to)
        .map_err(|e| Error::from_io("rename segment file", from, e))
}

fn sync_dir(storage: &dyn Storage, dir: &Path) -> Result<()> {
    storage
        .sync_dir(dir)
        .map_err(|e| Error::from_io("fsync dir", dir, e))
}

/// `.cleaned` -> `.swap` for the cleaned segment at `base`, then fsync of the dir.
pub(crate) fn stage(storage: &dyn Storage, dir: &Path, base: i64) -> Result<()> {
    for (from, to) in names(dir, base, CLEANED_SUFFIX)
        .iter()
        .zip(names(dir, base, SWAP_SUFFIX).iter())
    {
        rename(storage, from, to)?;
    }
    sync_dir(storage, dir)
}

/// `.swap` -> final names for the segment at `base` (the log first), then fsync of the dir.
pub(crate) fn promote(storage: &dyn Storage, dir: &Path, base: i64) -> Result<()> {
    for kind in [SegmentFile::Log].into_iter().chain(SegmentFile::indexes()) {
        let path = kind.path(dir, base);
        rename(storage, &suffixed(&path, SWAP_SUFFIX), &path)?;
    }
    sync_dir(storage, dir)
}

/// Best-effort removal of a cleaned segment's `.cleaned` and `.swap` files (a clean that is not
/// applied). What remains is removed by the next `open`.
pub(crate) fn discard(storage: &dyn Storage, dir: &Path, base: i64) {
    for path in names(dir, base, CLEANED_SUFFIX)
        .into_iter()
        .chain(names(dir, base, SWAP_SUFFIX))
    {
        let _ = storage.remove_file(&path);
    }
}

/// Finishes or rolls back swaps a crash interrupted (see the module doc).
pub(crate) fn recover(storage: &dyn Storage, dir: &Path) -> Result<()> {
    let mut log_swaps: Vec<i64> = Vec::new();
    let mut index_swaps: Vec<(i64, PathBuf)> = Vec::new();
    let mut segment_files: Vec<(i64, PathBuf)> = Vec::new();
    let entries = std::fs::read_dir(dir).map_err(|e| Error::from_io("list log dir", dir, e))?;
    for entry in entries {
        let entry = entry.map_err(|e| Error::from_io("list log dir", dir, e))?;
        let Ok(name) = entry.file_name().into_string() else {
            continue;
        };
        let path = entry.path();
        if name.ends_with(CLEANED_SUFFIX) {
            remove(storage, &path)?;
        } else if let Some(plain) = name.strip_suffix(SWAP_SUFFIX) {
            match SegmentFile::parse(plain) {
                Some((base, SegmentFile::Log)) => log_swaps.push(base),
                Some((base, _)) => index_swaps.push((base, path)),
                None => {}
            }
        } else if let Some((base, _)) = SegmentFile::parse(&name) {
            segment_files.push((base, path));
        }
    }
    if !log_swaps.is_empty() {
        let mut low = i64::MAX;
        let mut high = i64::MIN;
        for &base in &log_swaps {
            low = low.min(base);
            high = high.max(next_offset(storage, dir, base)?);
        }
        for (base, path) in &segment_files {
            if (low..high).contains(base) {
                remove(storage, path)?;
            }
        }
        sync_dir(storage, dir)?;
    }
    for (base, path) in &index_swaps {
        if log_swaps.contains(base) {
            let name = path.to_string_lossy();
            let final_path = PathBuf::from(name.strip_suffix(SWAP_SUFFIX).expect("a .swap name"));
            rename(storage, path, &final_path)?;
        } else {
            remove(storage, path)?;
        }
    }
    for &base in &log_swaps {
        let final_path = SegmentFile::Log.path(dir, base);
        rename(storage, &suffixed(&final_path, SWAP_SUFFIX), &final_path)?;
    }
    if !log_swaps.is_empty() || !index_swaps.is_empty() {
        sync_dir(storage, dir)?;
    }
    Ok(())
}

/// The offset after the last whole batch of `<base>.log.swap` (it was fdatasync'd before it got
/// its name, so it is whole; a header that does not parse ends the scan all the same).
fn next_offset(storage: &dyn Storage, dir: &Path, base: i64) -> Result<i64> {
    let path = suffixed(&SegmentFile::Log.path(dir, base), SWAP_SUFFIX);
    let file = storage
        .open(&path, false)
        .map_err(|e| Error::from_io("open swap segment", &path, e))?;
    let size = file
        .metadata()
        .map_err(|e| Error::from_io("stat swap segment", &path, e))?
        .len();
    let mut position = 0;
    let mut next = base;
    let mut bytes = [0u8; HEADER_SIZE];
    while size - position >= HEADER_SIZE as u64 {
        storage::read_exact_at(storage, &file, &mut bytes, position)
            .map_err(|e| Error::from_io("read swap segment", &path, e))?;
        let header = BatchHeader::parse(&bytes);
        if header.check_structure(size - position).is_err() || header.check_stored_count().is_err()
        {
            break;
        }
        next = header.last_offset() + 1;
        position += header.size();
    }
    Ok(next)
}

fn remove(storage: &dyn Storage, path: &Path) -> Result<()> {
    match storage.remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(Error::from_io("remove segment file", path, e)),
    }
}
