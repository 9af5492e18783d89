//! The file operations the log performs, behind a trait so tests can inject faults (torn and
//! short writes, EIO, ENOSPC, power loss; see `fault::FaultyStorage`).
//!
//! Every byte that reaches a segment file goes through `Storage`: `write_at` in `pwrite` mode and
//! `copy_into_map` in `mmap` mode. Index files are written through their mappings directly (they
//! are rebuilt by recovery, so a fault there is modelled by corrupting or truncating them).
//!
//! Concurrency contract: implementations are `Send + Sync`; the partition's appender thread and
//! a flush job on another thread may call them at the same time (on different operations of the
//! same files: appends versus fdatasync).

use std::fs::{File, OpenOptions};
use std::io;
use std::os::fd::AsRawFd;
use std::os::unix::fs::FileExt;
use std::path::Path;

pub trait Storage: Send + Sync + std::fmt::Debug {
    /// Opens `path` for reading and writing, creating it (empty) if `create` and it is missing.
    fn open(&self, path: &Path, create: bool) -> io::Result<File>;

    /// One pread; may return fewer bytes than asked (0 at end of file).
    fn read_at(&self, file: &File, buf: &mut [u8], position: u64) -> io::Result<usize>;

    /// One pwrite; may return fewer bytes than asked (the caller loops).
    fn write_at(&self, file: &File, buf: &[u8], position: u64) -> io::Result<usize>;

    /// Copies `src` into `dst`, a part of `file`'s shared mapping that lies inside the file.
    fn copy_into_map(&self, file: &File, dst: &mut [u8], src: &[u8]) -> io::Result<()>;

    /// Reserves blocks for `[offset, offset + len)`, extending the file size if needed
    /// (fallocate mode 0): ENOSPC surfaces here instead of as SIGBUS on a mapped write.
    fn allocate(&self, file: &File, offset: u64, len: u64) -> io::Result<()>;

    /// ftruncate.
    fn set_len(&self, file: &File, len: u64) -> io::Result<()>;

    /// fdatasync. `durable_len` is how many leading bytes of the file hold meaningful data at
    /// this point (a fault-injecting implementation keeps exactly those on a simulated power
    /// loss). On Linux fdatasync also writes back pages dirtied through shared mappings.
    fn sync_data(&self, file: &File, durable_len: u64) -> io::Result<()>;

    /// Unlinks a file.
    fn remove_file(&self, path: &Path) -> io::Result<()>;

    /// fsync of a directory, making created, renamed and removed entries durable.
    fn sync_dir(&self, dir: &Path) -> io::Result<()>;

    /// rename(2): atomically replaces `to` if it exists. Durable after `sync_dir`.
    fn rename(&self, from: &Path, to: &Path) -> io::Result<()>;
}

/// The real thing: plain syscalls.
#[derive(Debug, Default, Clone, Copy)]
pub struct OsStorage;

impl Storage for OsStorage {
    fn open(&self, path: &Path, create: bool) -> io::Result<File> {
        OpenOptions::new()
            .read(true)
            .write(true)
            .create(create)
            .truncate(false)
            .open(path)
    }

    fn read_at(&self, file: &File, buf: &mut [u8], position: u64) -> io::Result<usize> {
        file.read_at(buf, position)
    }

    fn write_at(&self, file: &File, buf: &[u8], position: u64) -> io::Result<usize> {
        file.write_at(buf, position)
    }

    fn copy_into_map(&self, _file: &File, dst: &mut [u8], src: &[u8]) -> io::Result<()> {
        dst.copy_from_slice(src);
        Ok(())
    }

    fn allocate(&self, file: &File, offset: u64, len: u64) -> io::Result<()> {
        let offset =
            libc::off_t::try_from(offset).map_err(|_| io::Error::from_raw_os_error(libc::EFBIG))?;
        let len =
            libc::off_t::try_from(len).map_err(|_| io::Error::from_raw_os_error(libc::EFBIG))?;
        // posix_fallocate uses fallocate(2) and, on file systems without it, writes zeros per
        // block; either way the blocks are reserved when it returns. It returns the errno.
        // SAFETY: a plain syscall on an fd the `File` keeps open for the call.
        let rc = unsafe { libc::posix_fallocate(file.as_raw_fd(), offset, len) };
        if rc != 0 {
            return Err(io::Error::from_raw_os_error(rc));
        }
        Ok(())
    }

    fn set_len(&self, file: &File, len: u64) -> io::Result<()> {
        file.set_len(len)
    }

    fn sync_data(&self, file: &File, _durable_len: u64) -> io::Result<()> {
        file.sync_data()
    }

    fn remove_file(&self, path: &Path) -> io::Result<()> {
        std::fs::remove_file(path)
    }

    fn sync_dir(&self, dir: &Path) -> io::Result<()> {
        File::open(dir)?.sync_all()
    }

    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        std::fs::rename(from, to)
    }
}

/// Reads exactly `buf.len()` bytes at `position`; `UnexpectedEof` if the file is shorter.
pub fn read_exact_at(
    storage: &dyn Storage,
    file: &File,
    mut buf: &mut [u8],
    mut position: u64,
) -> io::Result<()> {
    while !buf.is_empty() {
        match storage.read_at(file, buf, position) {
            Ok(0) => {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "file shorter than expected",
                ));
            }
            Ok(n) => {
                buf = &mut buf[n..];
                position += n as u64;
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Writes all of `buf` at `position`, looping over short writes and EINTR.
pub fn write_all_at(
    storage: &dyn Storage,
    file: &File,
    mut buf: &[u8],
    mut position: u64,
) -> io::Result<()> {
    while !buf.is_empty() {
        match storage.write_at(file, buf, position) {
            Ok(0) => {
                return Err(io::Error::new(
                    io::ErrorKind::WriteZero,
                    "pwrite wrote nothing",
                ));
            }
            Ok(n) => {
                buf = &buf[n..];
                position += n as u64;
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}
