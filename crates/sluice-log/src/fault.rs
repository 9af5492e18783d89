//! `FaultyStorage`: a `Storage` for tests that injects the failures recovery must survive —
//! EIO and ENOSPC on any operation, short writes, a torn write followed by a "crash", and a power
//! loss that drops (or zero-fills) everything written after each file's last fdatasync.
//!
//! It wraps the real `OsStorage`, so files are real files in a temp dir; faults are armed per
//! operation kind and fire on the n-th matching call.
//!
//! Concurrency contract: `Send + Sync`; all state sits behind one mutex, so faults fire in the
//! order calls arrive, whichever thread makes them.

use std::collections::HashMap;
use std::fs::File;
use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use crate::storage::{OsStorage, Storage};

/// The operation kinds a fault can be armed on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Op {
    Open,
    Read,
    /// `write_at` and `copy_into_map`: bytes going into a segment file.
    Write,
    Allocate,
    SetLen,
    Sync,
    Remove,
    SyncDir,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// Fail the call with this errno, changing nothing.
    Errno(i32),
    /// Write only the first `keep` bytes of the call, then crash: this call and every later
    /// one fail with EIO until `revive` (or `power_loss`), like a process that died mid-write.
    TornWrite { keep: usize },
}

/// What a simulated power loss leaves of the bytes written after a file's last fdatasync.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PowerLoss {
    /// Gone: each file is cut back to its durable length.
    DropUnsynced,
    /// Zeros in their place, up to the file's current length: what allocated blocks whose data
    /// never reached the disk read back as (the preallocated tail of an mmap segment).
    ZeroFillUnsynced,
}

#[derive(Debug)]
struct Armed {
    op: Op,
    /// Matching calls to let through before firing.
    skip: u32,
    fault: Fault,
}

#[derive(Debug)]
struct Tracked {
    path: PathBuf,
    durable_len: u64,
}

#[derive(Debug, Default)]
struct State {
    armed: Vec<Armed>,
    short_write_limit: Option<usize>,
    crashed: bool,
    files: HashMap<(u64, u64), Tracked>,
    calls: HashMap<Op, u64>,
}

#[derive(Debug, Default)]
pub struct FaultyStorage {
    os: OsStorage,
    state: Mutex<State>,
}

impl FaultyStorage {
    pub fn new() -> FaultyStorage {
        FaultyStorage::default()
    }

    /// Arms `fault` on the next call of kind `op`.
    pub fn fail_next(&self, op: Op, fault: Fault) {
        self.fail_nth(op, 0, fault);
    }

    /// Arms `fault` on the call of kind `op` after letting `skip` matching calls through.
    pub fn fail_nth(&self, op: Op, skip: u32, fault: Fault) {
        self.state().armed.push(Armed { op, skip, fault });
    }

    /// Makes every later `write_at` write at most `limit` bytes (a short write, not an error).
    pub fn short_writes(&self, limit: Option<usize>) {
        assert!(
            limit != Some(0),
            "a zero-byte write limit would never make progress"
        );
        self.state().short_write_limit = limit;
    }

    /// Ends the crash started by a torn write: calls succeed again.
    pub fn revive(&self) {
        let mut state = self.state();
        state.crashed = false;
        state.armed.clear();
    }

    /// How many calls of kind `op` reached this storage (including failed ones).
    pub fn calls(&self, op: Op) -> u64 {
        self.state().calls.get(&op).copied().unwrap_or(0)
    }

    /// Simulates a power loss: every file opened through this storage loses (or has zeroed) what
    /// was written after its last `sync_data`. Call it after dropping the `Log` (a live mapping
    /// over a shrinking file is SIGBUS). Clears armed faults and the crashed state.
    pub fn power_loss(&self, mode: PowerLoss) -> io::Result<()> {
        let mut state = self.state();
        state.crashed = false;
        state.armed.clear();
        for tracked in state.files.values() {
            let file = match std::fs::OpenOptions::new().write(true).open(&tracked.path) {
                Ok(file) => file,
                Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                Err(e) => return Err(e),
            };
            let len = file.metadata()?.len();
            if len <= tracked.durable_len {
                continue;
            }
            file.set_len(tracked.durable_len)?;
            if mode == PowerLoss::ZeroFillUnsynced {
                file.set_len(len)?;
            }
        }
        Ok(())
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Counts the call and returns the fault to apply to it, if any.
    fn enter(&self, op: Op) -> io::Result<Option<Fault>> {
        let mut state = self.state();
        *state.calls.entry(op).or_default() += 1;
        if state.crashed {
            return Err(io::Error::from_raw_os_error(libc::EIO));
        }
        let Some(index) = state.armed.iter().position(|a| a.op == op) else {
            return Ok(None);
        };
        if state.armed[index].skip > 0 {
            state.armed[index].skip -= 1;
            return Ok(None);
        }
        let armed = state.armed.remove(index);
        match armed.fault {
            Fault::Errno(errno) => Err(io::Error::from_raw_os_error(errno)),
            Fault::TornWrite { .. } => {
                state.crashed = true;
                Ok(Some(armed.fault))
            }
        }
    }

    fn track(&self, path: &Path, file: &File) -> io::Result<()> {
        let meta = file.metadata()?;
        let mut state = self.state();
        state
            .files
            .entry((meta.dev(), meta.ino()))
            .or_insert_with(|| Tracked {
                path: path.to_path_buf(),
                durable_len: meta.len(),
            });
        Ok(())
    }
}

fn torn_eio() -> io::Error {
    io::Error::other("injected torn write: the process crashed mid-write")
}

impl Storage for FaultyStorage {
    fn open(&self, path: &Path, create: bool) -> io::Result<File> {
        self.enter(Op::Open)?;
        let file = self.os.open(path, create)?;
        self.track(path, &file)?;
        Ok(file)
    }

    fn read_at(&self, file: &File, buf: &mut [u8], position: u64) -> io::Result<usize> {
        self.enter(Op::Read)?;
        self.os.read_at(file, buf, position)
    }

    fn write_at(&self, file: &File, buf: &[u8], position: u64) -> io::Result<usize> {
        if let Some(Fault::TornWrite { keep }) = self.enter(Op::Write)? {
            let keep = keep.min(buf.len());
            crate::storage::write_all_at(&self.os, file, &buf[..keep], position)?;
            return Err(torn_eio());
        }
        let limit = self.state().short_write_limit.unwrap_or(usize::MAX);
        let n = buf.len().min(limit);
        self.os.write_at(file, &buf[..n], position)
    }

    fn copy_into_map(&self, file: &File, dst: &mut [u8], src: &[u8]) -> io::Result<()> {
        if let Some(Fault::TornWrite { keep }) = self.enter(Op::Write)? {
            let keep = keep.min(src.len());
            dst[..keep].copy_from_slice(&src[..keep]);
            return Err(torn_eio());
        }
        self.os.copy_into_map(file, dst, src)
    }

    fn allocate(&self, file: &File, offset: u64, len: u64) -> io::Result<()> {
        self.enter(Op::Allocate)?;
        self.os.allocate(file, offset, len)
    }

    fn set_len(&self, file: &File, len: u64) -> io::Result<()> {
        self.enter(Op::SetLen)?;
        self.os.set_len(file, len)
    }

    fn sync_data(&self, file: &File, durable_len: u64) -> io::Result<()> {
        self.enter(Op::Sync)?;
        self.os.sync_data(file, durable_len)?;
        let meta = file.metadata()?;
        if let Some(tracked) = self.state().files.get_mut(&(meta.dev(), meta.ino())) {
            tracked.durable_len = durable_len;
        }
        Ok(())
    }

    fn remove_file(&self, path: &Path) -> io::Result<()> {
        self.enter(Op::Remove)?;
        let meta = std::fs::metadata(path)?;
        self.os.remove_file(path)?;
        self.state().files.remove(&(meta.dev(), meta.ino()));
        Ok(())
    }

    fn sync_dir(&self, dir: &Path) -> io::Result<()> {
        self.enter(Op::SyncDir)?;
        self.os.sync_dir(dir)
    }
}
