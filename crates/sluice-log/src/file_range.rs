//! A byte range of a segment file, handed from the log (which resolves offsets to positions) to
//! the connection writer (which transfers it to a socket).
//!
//! Concurrency contract: a `FileRange` is immutable and `Send + Sync`; any thread may transfer
//! it. It keeps the segment file open through an `Arc`, so retention deleting or closing the
//! segment cannot break or redirect a pending send (the inode lives until the last range
//! drops). The published end is shared with the segment's single appender, which stores it
//! with `Release` after the bytes are in place; readers load it with `Acquire` and never send
//! past it, so a range can never expose bytes that are not yet fully written.

use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

#[derive(Clone, Debug)]
pub struct FileRange {
    file: Arc<File>,
    position: u64,
    len: u64,
    published_end: Arc<AtomicU64>,
}

impl FileRange {
    /// `published_end` is the segment's log-end file position, as published by its appender.
    pub fn new(file: Arc<File>, position: u64, len: u64, published_end: Arc<AtomicU64>) -> Self {
        FileRange {
            file,
            position,
            len,
            published_end,
        }
    }

    pub fn file(&self) -> &File {
        &self.file
    }

    pub fn position(&self) -> u64 {
        self.position
    }

    /// The length asked for when the range was made.
    pub fn len(&self) -> u64 {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The length that may be sent now: the range clamped to the published end of the segment.
    /// A range is made inside the published end, which grows with appends but moves backwards
    /// when the log is truncated (`Log::truncate_to`, as well as recovery) while ranges of it
    /// are still held; the clamp means a truncated range never sends garbage. The connection
    /// writer sends ranges whole (`FileCursor::whole`): a range whose `sendable_len()` fell below
    /// `len()` fails its send, since `len()` may already be framed on the wire.
    pub fn sendable_len(&self) -> u64 {
        let end = self.published_end.load(Ordering::Acquire);
        let available = end.saturating_sub(self.position);
        self.len.min(available)
    }

    /// Reads the sendable bytes into memory. For the few readers that must see the bytes, such
    /// as replaying an internal log at startup; fetches never do this (they transfer ranges).
    pub fn read_to_vec(&self) -> io::Result<Vec<u8>> {
        let len = usize::try_from(self.sendable_len())
            .map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
        let mut buf = vec![0u8; len];
        self.file.read_exact_at(&mut buf, self.position)?;
        Ok(buf)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn read_to_vec_stops_at_the_published_end() {
        let mut file = tempfile::tempfile().unwrap();
        file.write_all(b"0123456789").unwrap();
        let end = Arc::new(AtomicU64::new(7));
        let range = FileRange::new(Arc::new(file), 2, 8, end.clone());
        assert_eq!(range.read_to_vec().unwrap(), b"23456");
        end.store(10, Ordering::Release);
        assert_eq!(range.read_to_vec().unwrap(), b"23456789");
    }
}
