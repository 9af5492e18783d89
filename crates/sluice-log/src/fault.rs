//! `FaultyStorage`: a `Storage` for tests that injects the failures recovery must survive —
//! EIO and ENOSPC on any operation, short writes, a torn write followed by a "crash", a crash
//! between two operations, and a power loss that drops, zero-fills or scrambles everything
//! written after each file's last fdatasync (and may take files whose directory entry was never
//! fsync'd, or undo renames not yet fsync'd; unlinks are taken as durable at once).
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
    Rename,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// Fail the call with this errno, changing nothing.
    Errno(i32),
    /// Write only the first `keep` bytes of the call, then crash: this call and every later
    /// one fail with EIO until `revive` (or `power_loss`), like a process that died mid-write.
    TornWrite { keep: usize },
    /// Crash before the call: it and every later call fail with EIO until `revive` (or
    /// `power_loss`), like a process that died between two steps.
    Crash,
}

/// What a simulated power loss leaves of the bytes written after a file's last fdatasync.
/// Bytes up to the durable length (what the last `sync_data` covered) always survive.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PowerLoss {
    /// Gone: each file is cut back to its durable length.
    DropUnsynced,
    /// Zeros in their place, up to the file's current length: what allocated blocks whose data
    /// never reached the disk read back as (the preallocated tail of an mmap segment).
    ZeroFillUnsynced,
    /// What writeback may really leave: each 4 KiB page past the durable length independently
    /// reached the disk or reads back as zeros, then the file may be cut anywhere past the
    /// durable length (a torn last write, an extension whose size never made it). A file created
    /// after the last fsync of its directory may be gone altogether. Choices are drawn from
    /// `seed`, so a failing case replays.
    Scramble { seed: u64 },
}

/// The page size writeback works in, for `PowerLoss::Scramble`.
const PAGE_BYTES: u64 = 4096;

/// splitmix64: a tiny deterministic generator for `PowerLoss::Scramble` (no dependency).
#[derive(Debug)]
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn coin(&mut self) -> bool {
        self.next() & 1 == 1
    }

    /// Uniform in `[0, bound]`.
    fn up_to(&mut self, bound: u64) -> u64 {
        if bound == u64::MAX {
            return self.next();
        }
        self.next() % (bound + 1)
    }
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
    /// The file's directory entry is on disk: it existed before this storage first saw it, or
    /// its directory was fsync'd since it was created.
    entry_durable: bool,
    /// Renamed since its directory was last fsync'd from this durable name: a scrambling power
    /// loss may put it back there.
    renamed_from: Option<PathBuf>,
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
        let mut rng = match mode {
            PowerLoss::Scramble { seed } => Some(SplitMix(seed)),
            _ => None,
        };
        // Visit files in a fixed order so a seed replays the same choices.
        let mut files: Vec<&Tracked> = state.files.values().collect();
        files.sort_by(|a, b| a.path.cmp(&b.path));
        for tracked in files {
            let file = match std::fs::OpenOptions::new().write(true).open(&tracked.path) {
                Ok(file) => file,
                Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                Err(e) => return Err(e),
            };
            if let Some(rng) = rng.as_mut()
                && !tracked.entry_durable
                && rng.coin()
            {
                drop(file);
                match &tracked.renamed_from {
                    // The rename never reached the disk: the file is back under its old name.
                    Some(old) => std::fs::rename(&tracked.path, old)?,
                    None => std::fs::remove_file(&tracked.path)?,
                }
                continue;
            }
            let len = file.metadata()?.len();
            if len <= tracked.durable_len {
                continue;
            }
            match rng.as_mut() {
                None => {
                    file.set_len(tracked.durable_len)?;
                    if mode == PowerLoss::ZeroFillUnsynced {
                        file.set_len(len)?;
                    }
                }
                Some(rng) => scramble_tail(&file, tracked.durable_len, len, rng)?,
            }
        }
        state
            .files
            .retain(|_, t| t.path.exists() || t.renamed_from.is_some());
        for tracked in state.files.values_mut() {
            if let Some(old) = tracked.renamed_from.take()
                && !tracked.path.exists()
            {
                tracked.path = old;
            }
            tracked.entry_durable = true;
            tracked.durable_len = std::fs::metadata(&tracked.path)?.len();
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
            Fault::Crash => {
                state.crashed = true;
                Err(io::Error::other(
                    "injected crash: the process died before this call",
                ))
            }
        }
    }

    fn track(&self, path: &Path, file: &File, created: bool) -> io::Result<()> {
        let meta = file.metadata()?;
        let mut state = self.state();
        state
            .files
            .entry((meta.dev(), meta.ino()))
            .or_insert_with(|| Tracked {
                path: path.to_path_buf(),
                durable_len: meta.len(),
                entry_durable: !created,
                renamed_from: None,
            });
        Ok(())
    }
}

/// `PowerLoss::Scramble` for one file: each page of `[durable, len)` keeps what was written or
/// becomes zeros, then the file is cut somewhere in `[durable, len]`.
fn scramble_tail(file: &File, durable: u64, len: u64, rng: &mut SplitMix) -> io::Result<()> {
    use std::os::unix::fs::FileExt;
    let zeros = [0u8; PAGE_BYTES as usize];
    let mut page = durable - durable % PAGE_BYTES;
    while page < len {
        // The part of this page past the durable length is what may be lost.
        let from = page.max(durable);
        let to = (page + PAGE_BYTES).min(len);
        if rng.coin() {
            file.write_all_at(&zeros[..(to - from) as usize], from)?;
        }
        page += PAGE_BYTES;
    }
    if rng.coin() {
        file.set_len(durable + rng.up_to(len - durable))?;
    }
    Ok(())
}

fn torn_eio() -> io::Error {
    io::Error::other("injected torn write: the process crashed mid-write")
}

impl Storage for FaultyStorage {
    fn open(&self, path: &Path, create: bool) -> io::Result<File> {
        self.enter(Op::Open)?;
        let existed = path.exists();
        let file = self.os.open(path, create)?;
        self.track(path, &file, !existed)?;
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
        self.os.sync_dir(dir)?;
        for tracked in self.state().files.values_mut() {
            if tracked.path.parent() == Some(dir) {
                tracked.entry_durable = true;
                tracked.renamed_from = None;
            }
        }
        Ok(())
    }

    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        self.enter(Op::Rename)?;
        let meta = std::fs::metadata(from)?;
        let replaced = std::fs::metadata(to).ok();
        self.os.rename(from, to)?;
        let mut state = self.state();
        if let Some(replaced) = replaced {
            state.files.remove(&(replaced.dev(), replaced.ino()));
        }
        if let Some(tracked) = state.files.get_mut(&(meta.dev(), meta.ino())) {
            if tracked.entry_durable {
                tracked.renamed_from = Some(tracked.path.clone());
                tracked.entry_durable = false;
            }
            tracked.path = to.to_path_buf();
        }
        Ok(())
    }
}
