//! Raw transfer probe: the fastest a plain program moves a page-cached file to a loopback
//! receiver on this machine, by the same three routes the broker can take (sendfile, splice
//! through a pipe, pread+write through a buffer) and with the same receiver behaviour as the
//! fetch consumers. It is the "raw limit" a fetch scenario is compared against, measured in the
//! same run.

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::os::fd::AsRawFd;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use serde_json::{Value, json};

use crate::error::{Error, IoContext, Result};
use crate::receiver::{ReceiverConfig, read_when_marked, set_rcvlowat};
use crate::stats::{ThreadUsage, process_usage, thread_usage, threads_delta_json, usage_delta_json};
use crate::window::{Counter, Phase, run_window};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransferMode {
    Sendfile,
    Splice,
    Copy,
}

impl FromStr for TransferMode {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "sendfile" => Ok(Self::Sendfile),
            "splice" => Ok(Self::Splice),
            "copy" => Ok(Self::Copy),
            _ => Err(Error::Usage(format!("transfer mode {s:?} (expected sendfile, splice or copy)"))),
        }
    }
}

impl TransferMode {
    pub fn name(self) -> &'static str {
        match self {
            Self::Sendfile => "sendfile",
            Self::Splice => "splice",
            Self::Copy => "copy",
        }
    }
}

#[derive(Debug, Clone)]
pub struct TransferProbe {
    pub mode: TransferMode,
    /// Sender/receiver pairs running at once (fan-out).
    pub streams: usize,
    pub file_bytes: u64,
    /// Bytes sent per file range (as a fetch sends one partition's range).
    pub chunk_bytes: u64,
    /// `copy`: the user-space buffer between pread and write.
    pub copy_buffer_bytes: usize,
    /// `splice`: the pipe's capacity.
    pub pipe_bytes: usize,
    pub receiver: ReceiverConfig,
    pub dir: PathBuf,
}

fn last_os_error(what: &str) -> Error {
    Error::Io { context: what.to_string(), source: io::Error::last_os_error() }
}

/// A file of `bytes` pattern bytes in `dir`, unlinked at once (it lives while open), flushed
/// to disk so writeback cannot disturb the measurement, and left in the page cache.
pub fn page_cached_file(dir: &Path, bytes: u64, tag: &str) -> Result<File> {
    let path = dir.join(format!(".loadgen-{tag}-{}-{}", std::process::id(), crate::window::now_ns()));
    let mut f = OpenOptions::new().read(true).write(true).create_new(true).open(&path).context(|| format!("create {}", path.display()))?;
    std::fs::remove_file(&path).context(|| format!("unlink {}", path.display()))?;
    let mut chunk = vec![0u8; 1 << 20];
    let mut x = 0x2545_f491_4f6c_dd1du64;
    for b in chunk.chunks_mut(8) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        b.copy_from_slice(&x.to_le_bytes()[..b.len()]);
    }
    let mut left = bytes;
    while left > 0 {
        let n = left.min(chunk.len() as u64) as usize;
        f.write_all(&chunk[..n]).context(|| "fill probe file".into())?;
        left -= n as u64;
    }
    f.sync_data().context(|| "fdatasync probe file".into())?;
    // Read it back once so every page is resident even if the filesystem dropped any.
    let mut sink = vec![0u8; 1 << 20];
    let mut off = 0u64;
    while off < bytes {
        let n = f.read_at(&mut sink, off).context(|| "warm probe file".into())?;
        if n == 0 {
            break;
        }
        off += n as u64;
    }
    Ok(f)
}

struct Sender {
    mode: TransferMode,
    file: Arc<File>,
    file_bytes: u64,
    chunk_bytes: u64,
    copy_buffer: Vec<u8>,
    pipe: Option<(i32, i32)>,
}

impl Sender {
    fn new(cfg: &TransferProbe, file: Arc<File>) -> Result<(Self, usize)> {
        let mut pipe_size = 0;
        let pipe = if cfg.mode == TransferMode::Splice {
            let mut fds = [0i32; 2];
            // SAFETY: pipe2 writes two fds into the array we own.
            if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
                return Err(last_os_error("pipe2"));
            }
            // SAFETY: fcntl on the pipe we just created. A refused size keeps the default.
            unsafe { libc::fcntl(fds[1], libc::F_SETPIPE_SZ, cfg.pipe_bytes as libc::c_int) };
            pipe_size = unsafe { libc::fcntl(fds[1], libc::F_GETPIPE_SZ) }.max(0) as usize;
            Some((fds[0], fds[1]))
        } else {
            None
        };
        let copy_buffer = if cfg.mode == TransferMode::Copy { vec![0u8; cfg.copy_buffer_bytes] } else { Vec::new() };
        Ok((Self { mode: cfg.mode, file, file_bytes: cfg.file_bytes, chunk_bytes: cfg.chunk_bytes, copy_buffer, pipe }, pipe_size))
    }

    /// Sends file bytes [off, off+len) to the socket by this sender's route.
    fn send_range(&mut self, sock: &mut TcpStream, mut off: u64, len: u64) -> Result<()> {
        let end = off + len;
        let sfd = sock.as_raw_fd();
        let ffd = self.file.as_raw_fd();
        while off < end {
            let left = (end - off) as usize;
            match self.mode {
                TransferMode::Sendfile => {
                    let mut o = off as libc::off_t;
                    // SAFETY: valid fds; the kernel advances `o`.
                    let n = unsafe { libc::sendfile(sfd, ffd, &mut o, left) };
                    if n < 0 {
                        let e = io::Error::last_os_error();
                        if e.kind() == io::ErrorKind::Interrupted {
                            continue;
                        }
                        return Err(Error::Io { context: "sendfile".into(), source: e });
                    }
                    if n == 0 {
                        return Err(Error::Protocol("sendfile sent nothing (file shorter than expected)".into()));
                    }
                    off += n as u64;
                }
                TransferMode::Splice => {
                    let (pr, pw) = self.pipe.expect("splice sender has a pipe");
                    let mut o = off as libc::loff_t;
                    let flags = libc::SPLICE_F_MOVE | libc::SPLICE_F_MORE;
                    // SAFETY: valid fds; the kernel advances `o`.
                    let n = unsafe { libc::splice(ffd, &mut o, pw, std::ptr::null_mut(), left, flags) };
                    if n <= 0 {
                        let e = io::Error::last_os_error();
                        if n < 0 && e.kind() == io::ErrorKind::Interrupted {
                            continue;
                        }
                        return Err(Error::Io { context: "splice file->pipe".into(), source: e });
                    }
                    let mut in_pipe = n as usize;
                    while in_pipe > 0 {
                        // SAFETY: valid fds, no offsets for pipe or socket.
                        let m = unsafe { libc::splice(pr, std::ptr::null_mut(), sfd, std::ptr::null_mut(), in_pipe, flags) };
                        if m <= 0 {
                            let e = io::Error::last_os_error();
                            if m < 0 && e.kind() == io::ErrorKind::Interrupted {
                                continue;
                            }
                            return Err(Error::Io { context: "splice pipe->socket".into(), source: e });
                        }
                        in_pipe -= m as usize;
                    }
                    off += n as u64;
                }
                TransferMode::Copy => {
                    let want = left.min(self.copy_buffer.len());
                    let n = self.file.read_at(&mut self.copy_buffer[..want], off).context(|| "pread".into())?;
                    if n == 0 {
                        return Err(Error::Protocol("pread hit end of file early".into()));
                    }
                    sock.write_all(&self.copy_buffer[..n]).context(|| "write".into())?;
                    off += n as u64;
                }
            }
        }
        Ok(())
    }

    fn run(&mut self, sock: &mut TcpStream, phase: &Phase) -> Result<()> {
        let mut pos = 0u64;
        while !phase.done() {
            let len = self.chunk_bytes.min(self.file_bytes - pos);
            self.send_range(sock, pos, len)?;
            pos += len;
            if pos >= self.file_bytes {
                pos = 0;
            }
        }
        Ok(())
    }
}

impl Drop for Sender {
    fn drop(&mut self) {
        if let Some((r, w)) = self.pipe {
            // SAFETY: closing the pipe fds this sender created and still owns.
            unsafe {
                libc::close(r);
                libc::close(w);
            }
        }
    }
}

#[derive(Default)]
struct Totals {
    bytes: Counter,
    reads: Counter,
}

/// Reads the stream the way a fetch consumer with the same config reads a response body.
fn receive(mut sock: TcpStream, cfg: ReceiverConfig, totals: &Totals) -> Result<()> {
    let marked = cfg.rcvlowat > 0;
    if marked {
        set_rcvlowat(&sock, cfg.rcvlowat).context(|| "SO_RCVLOWAT".into())?;
    }
    let mut buf = vec![0u8; cfg.read_bytes];
    loop {
        let r = if marked { read_when_marked(&sock, &mut buf) } else { sock.read(&mut buf) };
        match r {
            Ok(0) => return Ok(()),
            Ok(n) => {
                totals.bytes.add(n as u64);
                totals.reads.add(1);
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(Error::Io { context: "probe receiver read".into(), source: e }),
        }
    }
}

fn usages(tids: &[AtomicI32]) -> Vec<ThreadUsage> {
    tids.iter().map(|t| thread_usage(t.load(Ordering::Relaxed))).collect()
}

pub fn run(cfg: &TransferProbe, warmup: Duration, measure: Duration) -> Result<Value> {
    cfg.receiver.validate().map_err(Error::Usage)?;
    if cfg.streams == 0 || cfg.chunk_bytes == 0 || cfg.file_bytes == 0 || cfg.copy_buffer_bytes == 0 {
        return Err(Error::Usage("streams, chunk, file and buffer sizes must be at least 1".into()));
    }
    let file = Arc::new(page_cached_file(&cfg.dir, cfg.file_bytes, "transfer")?);
    let listener = TcpListener::bind("127.0.0.1:0").context(|| "bind probe listener".into())?;
    let addr = listener.local_addr().context(|| "probe listener address".into())?;
    let phase = Arc::new(Phase::new());
    let totals = Arc::new(Totals::default());
    let sender_tids: Arc<Vec<AtomicI32>> = Arc::new((0..cfg.streams).map(|_| AtomicI32::new(0)).collect());
    let receiver_tids: Arc<Vec<AtomicI32>> = Arc::new((0..cfg.streams).map(|_| AtomicI32::new(0)).collect());
    let pipe_size = Arc::new(Mutex::new(0usize));
    let mut handles = Vec::new();
    for i in 0..cfg.streams {
        let (mut sender, ps) = Sender::new(cfg, file.clone())?;
        *pipe_size.lock().expect("pipe size lock") = ps;
        let mut out = TcpStream::connect(addr).context(|| "connect probe receiver".into())?;
        let (inbound, _) = listener.accept().context(|| "accept probe stream".into())?;
        let (phase_s, tids_s) = (phase.clone(), sender_tids.clone());
        handles.push(thread::spawn(move || {
            tids_s[i].store(crate::stats::current_tid(), Ordering::Relaxed);
            let r = sender.run(&mut out, &phase_s);
            if r.is_err() {
                phase_s.finish();
            }
            let _ = out.shutdown(Shutdown::Write);
            r
        }));
        let (totals_r, tids_r, rcfg, phase_r) = (totals.clone(), receiver_tids.clone(), cfg.receiver, phase.clone());
        handles.push(thread::spawn(move || {
            tids_r[i].store(crate::stats::current_tid(), Ordering::Relaxed);
            let r = receive(inbound, rcfg, &totals_r);
            if r.is_err() {
                phase_r.finish();
            }
            r
        }));
    }
    // Thread ids are published by the threads themselves; wait until all are known.
    while sender_tids.iter().chain(receiver_tids.iter()).any(|t| t.load(Ordering::Relaxed) == 0) {
        thread::sleep(Duration::from_millis(1));
    }
    let span = run_window(&phase, warmup, measure, || {
        (totals.bytes.get(), totals.reads.get(), usages(&sender_tids), usages(&receiver_tids), process_usage())
    });
    for h in handles {
        h.join().expect("probe thread panicked")?;
    }
    let bytes = span.end.0 - span.start.0;
    let reads = span.end.1 - span.start.1;
    Ok(json!({
        "probe": "transfer",
        "mode": cfg.mode.name(),
        "streams": cfg.streams,
        "file_bytes": cfg.file_bytes,
        "chunk_bytes": cfg.chunk_bytes,
        "copy_buffer_bytes": if cfg.mode == TransferMode::Copy { json!(cfg.copy_buffer_bytes) } else { Value::Null },
        "pipe_bytes": if cfg.mode == TransferMode::Splice { json!(*pipe_size.lock().expect("pipe size lock")) } else { Value::Null },
        "receiver": { "read_bytes": cfg.receiver.read_bytes, "rcvlowat": cfg.receiver.rcvlowat },
        "window_s": span.seconds,
        "bytes": bytes,
        "mb_per_s": bytes as f64 / span.seconds / 1e6,
        "read_calls": reads,
        "bytes_per_read": if reads > 0 { bytes as f64 / reads as f64 } else { 0.0 },
        "sender": threads_delta_json(&span.start.2, &span.end.2),
        "receiver_threads": threads_delta_json(&span.start.3, &span.end.3),
        "process": usage_delta_json(span.start.4, span.end.4),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn probe(mode: TransferMode, rcvlowat: usize, streams: usize) -> Value {
        let dir = tempfile::tempdir().unwrap();
        let cfg = TransferProbe {
            mode,
            streams,
            file_bytes: 4 << 20,
            chunk_bytes: 1 << 20,
            copy_buffer_bytes: 256 << 10,
            pipe_bytes: 1 << 20,
            receiver: ReceiverConfig { read_bytes: 256 << 10, rcvlowat },
            dir: dir.path().to_path_buf(),
        };
        run(&cfg, Duration::from_millis(20), Duration::from_millis(150)).unwrap()
    }

    #[test]
    fn every_mode_moves_bytes_and_accounts_for_them() {
        for mode in [TransferMode::Sendfile, TransferMode::Splice, TransferMode::Copy] {
            let v = probe(mode, 0, 1);
            assert!(v["bytes"].as_u64().unwrap() > 1 << 20, "{mode:?} moved {}", v["bytes"]);
            assert!(v["read_calls"].as_u64().unwrap() > 0);
            assert!(v["bytes_per_read"].as_f64().unwrap() <= (256 << 10) as f64);
            assert!(v["sender"]["cpu_s"].as_f64().unwrap() > 0.0, "{mode:?}: {}", v["sender"]);
        }
    }

    #[test]
    fn low_water_mark_and_fan_out_run() {
        let v = probe(TransferMode::Sendfile, 128 << 10, 2);
        assert_eq!(v["streams"], 2);
        assert!(v["bytes"].as_u64().unwrap() > 1 << 20);
        // With the mark set, reads come back with at least the mark most of the time.
        assert!(v["bytes_per_read"].as_f64().unwrap() > 16_384.0, "{}", v["bytes_per_read"]);
    }

    #[test]
    fn modes_parse() {
        assert_eq!("splice".parse::<TransferMode>().unwrap(), TransferMode::Splice);
        assert!("zerocopy".parse::<TransferMode>().is_err());
    }
}
