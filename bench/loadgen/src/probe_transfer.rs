//! Raw transfer probe: the fastest a plain program moves a page-cached file to loopback
//! receivers on this machine, by the same three routes the broker can take (sendfile, splice
//! through a pipe, pread+send through a buffer) and with the same receiver behaviour as the
//! fetch consumers. It is the "raw limit" a fetch scenario is compared against, measured in the
//! same run.
//!
//! Like a broker's writer threads, `sender_threads` threads (default 1) send to the receivers,
//! each serving its share of the streams (stream i on thread i mod N) over non-blocking sockets
//! with poll(), taking the file in ranges of `chunk_bytes` (a fetch's per-partition range); each
//! receiver reads on its own thread. A thread per stream would be no limit on 2 cores: with 4 or
//! 8 streams it spends the machine on switching between senders; as many threads as cores is
//! what a ceiling for several streams needs (one thread cannot use the second core).
//! `sndbuf` sets SO_SNDBUF on the sending sockets (0: the kernel's autotuning), as a broker's
//! `socket.send.buffer.bytes` does.

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::os::fd::AsRawFd;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicI32, Ordering};
use std::thread;
use std::time::Duration;

use serde_json::{Value, json};

use crate::error::{Error, IoContext, Result};
use crate::receiver::{ReceiverConfig, read_when_marked, set_rcvlowat};
use crate::stats::{
    ThreadUsage, process_usage, thread_usage, threads_delta_json, usage_delta_json,
};
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
            _ => Err(Error::Usage(format!(
                "transfer mode {s:?} (expected sendfile, splice or copy)"
            ))),
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
    /// Threads sending (streams are dealt to them round-robin); at least 1.
    pub sender_threads: usize,
    /// SO_SNDBUF of the sending sockets; 0 leaves the kernel's autotuning.
    pub sndbuf: usize,
    pub file_bytes: u64,
    /// Bytes sent per file range (as a fetch sends one partition's range).
    pub chunk_bytes: u64,
    /// `copy`: the user-space buffer between pread and write.
    pub copy_buffer_bytes: usize,
    /// `splice`: the pipe's capacity.
    pub pipe_bytes: usize,
    pub receiver: ReceiverConfig,
    /// Where to create the page-cached file; ignored when `file` is given.
    pub dir: PathBuf,
    /// An existing file to send (already in the page cache); `file_bytes` is then its size.
    pub file: Option<PathBuf>,
}

fn last_os_error(what: &str) -> Error {
    Error::Io {
        context: what.to_string(),
        source: io::Error::last_os_error(),
    }
}

/// A file of `bytes` pattern bytes in `dir`, unlinked at once (it lives while open), flushed
/// to disk so writeback cannot disturb the measurement, and left in the page cache.
pub fn page_cached_file(dir: &Path, bytes: u64, tag: &str) -> Result<File> {
    let path = dir.join(format!(
        ".loadgen-{tag}-{}-{}",
        std::process::id(),
        crate::window::now_ns()
    ));
    let mut f = OpenOptions::new()
        .read(true)
        .write(true)
        .create_new(true)
        .open(&path)
        .context(|| format!("create {}", path.display()))?;
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
        f.write_all(&chunk[..n])
            .context(|| "fill probe file".into())?;
        left -= n as u64;
    }
    f.sync_data().context(|| "fdatasync probe file".into())?;
    // Read it back once so every page is resident even if the filesystem dropped any.
    let mut sink = vec![0u8; 1 << 20];
    let mut off = 0u64;
    while off < bytes {
        let n = f
            .read_at(&mut sink, off)
            .context(|| "warm probe file".into())?;
        if n == 0 {
            break;
        }
        off += n as u64;
    }
    Ok(f)
}

fn set_sndbuf(sock: &TcpStream, bytes: usize) -> Result<()> {
    let value = libc::c_int::try_from(bytes)
        .map_err(|_| Error::Usage(format!("--sndbuf {bytes} is too large")))?;
    // SAFETY: setsockopt reads one c_int from a live local.
    let rc = unsafe {
        libc::setsockopt(
            sock.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_SNDBUF,
            (&value as *const libc::c_int).cast(),
            size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if rc != 0 {
        return Err(last_os_error("SO_SNDBUF"));
    }
    Ok(())
}

/// What one sys call attempt did to a non-blocking socket.
enum Step {
    /// Moved this many bytes to the socket.
    Sent(usize),
    /// The socket is full; wait for POLLOUT.
    Full,
}

fn os_result(n: isize, what: &str) -> Result<Option<usize>> {
    if n >= 0 {
        return Ok(Some(n as usize));
    }
    let e = io::Error::last_os_error();
    match e.kind() {
        io::ErrorKind::WouldBlock => Ok(None),
        io::ErrorKind::Interrupted => Ok(Some(0)),
        _ => Err(Error::Io {
            context: what.to_string(),
            source: e,
        }),
    }
}

/// One receiver's stream: a non-blocking socket, where it is in the file, and what is parked
/// between the file and the socket (pipe contents for splice, buffer contents for copy).
struct Stream {
    sock: TcpStream,
    /// File offset of the next byte to take from the file.
    pos: u64,
    /// Bytes of the current range not yet taken from the file.
    range_left: u64,
    pipe: Option<(i32, i32)>,
    in_pipe: usize,
    buffer: Vec<u8>,
    buffered: std::ops::Range<usize>,
}

impl Stream {
    fn new(cfg: &TransferProbe, sock: TcpStream) -> Result<(Self, usize)> {
        sock.set_nonblocking(true)
            .context(|| "O_NONBLOCK on probe socket".into())?;
        if cfg.sndbuf > 0 {
            set_sndbuf(&sock, cfg.sndbuf)?;
        }
        let mut pipe_size = 0;
        let pipe = if cfg.mode == TransferMode::Splice {
            let mut fds = [0i32; 2];
            // SAFETY: pipe2 writes two fds into the array we own.
            if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC | libc::O_NONBLOCK) } != 0 {
                return Err(last_os_error("pipe2"));
            }
            // SAFETY: fcntl on the pipe we just created. A refused size keeps the default.
            unsafe { libc::fcntl(fds[1], libc::F_SETPIPE_SZ, cfg.pipe_bytes as libc::c_int) };
            // SAFETY: as above.
            pipe_size = unsafe { libc::fcntl(fds[1], libc::F_GETPIPE_SZ) }.max(0) as usize;
            Some((fds[0], fds[1]))
        } else {
            None
        };
        let buffer = if cfg.mode == TransferMode::Copy {
            vec![0u8; cfg.copy_buffer_bytes]
        } else {
            Vec::new()
        };
        Ok((
            Self {
                sock,
                pos: 0,
                range_left: 0,
                pipe,
                in_pipe: 0,
                buffer,
                buffered: 0..0,
            },
            pipe_size,
        ))
    }

    /// Takes the next range of the file when the current one is used up (wrapping at the end).
    fn next_range(&mut self, cfg: &TransferProbe) {
        if self.range_left == 0 {
            if self.pos >= cfg.file_bytes {
                self.pos = 0;
            }
            self.range_left = cfg.chunk_bytes.min(cfg.file_bytes - self.pos);
        }
    }

    /// One attempt to move bytes to the socket by the configured route.
    fn step(&mut self, cfg: &TransferProbe, file: &File) -> Result<Step> {
        let sfd = self.sock.as_raw_fd();
        let ffd = file.as_raw_fd();
        match cfg.mode {
            TransferMode::Sendfile => {
                self.next_range(cfg);
                let mut off = self.pos as libc::off_t;
                // SAFETY: valid fds; the kernel advances `off`.
                let n = unsafe { libc::sendfile(sfd, ffd, &mut off, self.range_left as usize) };
                let Some(n) = os_result(n, "sendfile")? else {
                    return Ok(Step::Full);
                };
                self.pos += n as u64;
                self.range_left -= n as u64;
                Ok(Step::Sent(n))
            }
            TransferMode::Splice => {
                let (pr, pw) = self.pipe.expect("splice streams have a pipe");
                let flags = libc::SPLICE_F_MOVE | libc::SPLICE_F_MORE | libc::SPLICE_F_NONBLOCK;
                if self.in_pipe == 0 {
                    self.next_range(cfg);
                    let mut off = self.pos as libc::loff_t;
                    // SAFETY: valid fds; the kernel advances `off`.
                    let n = unsafe {
                        libc::splice(
                            ffd,
                            &mut off,
                            pw,
                            std::ptr::null_mut(),
                            self.range_left as usize,
                            flags,
                        )
                    };
                    let Some(n) = os_result(n, "splice file->pipe")? else {
                        return Ok(Step::Full);
                    };
                    if n == 0 && self.range_left > 0 {
                        return Err(Error::Protocol("splice read nothing from the file".into()));
                    }
                    self.pos += n as u64;
                    self.range_left -= n as u64;
                    self.in_pipe = n;
                }
                // SAFETY: valid fds, no offsets for a pipe or a socket.
                let m = unsafe {
                    libc::splice(
                        pr,
                        std::ptr::null_mut(),
                        sfd,
                        std::ptr::null_mut(),
                        self.in_pipe,
                        flags,
                    )
                };
                let Some(m) = os_result(m, "splice pipe->socket")? else {
                    return Ok(Step::Full);
                };
                self.in_pipe -= m;
                Ok(Step::Sent(m))
            }
            TransferMode::Copy => {
                if self.buffered.is_empty() {
                    self.next_range(cfg);
                    let want = (self.range_left as usize).min(self.buffer.len());
                    let n = file
                        .read_at(&mut self.buffer[..want], self.pos)
                        .context(|| "pread".into())?;
                    if n == 0 {
                        return Err(Error::Protocol("pread hit end of file early".into()));
                    }
                    self.pos += n as u64;
                    self.range_left -= n as u64;
                    self.buffered = 0..n;
                }
                let pending = &self.buffer[self.buffered.clone()];
                // SAFETY: send from a buffer we own, at most its length.
                let m = unsafe {
                    libc::send(
                        sfd,
                        pending.as_ptr().cast(),
                        pending.len(),
                        libc::MSG_DONTWAIT | libc::MSG_NOSIGNAL,
                    )
                };
                let Some(m) = os_result(m, "send")? else {
                    return Ok(Step::Full);
                };
                self.buffered.start += m;
                Ok(Step::Sent(m))
            }
        }
    }
}

impl Drop for Stream {
    fn drop(&mut self) {
        if let Some((r, w)) = self.pipe.take() {
            // SAFETY: closing the pipe fds this stream created and still owns.
            unsafe {
                libc::close(r);
                libc::close(w);
            }
        }
    }
}

/// The sending side: one thread serving every stream, like a broker's writer thread. Sockets
/// are non-blocking; poll() says which can take more; each writable stream gets up to one range
/// per turn so no receiver starves the others.
fn send_all(cfg: &TransferProbe, file: &File, streams: &mut [Stream], phase: &Phase) -> Result<()> {
    let mut fds: Vec<libc::pollfd> = streams
        .iter()
        .map(|s| libc::pollfd {
            fd: s.sock.as_raw_fd(),
            events: libc::POLLOUT,
            revents: 0,
        })
        .collect();
    while !phase.done() {
        // SAFETY: a pollfd array we own, with its length.
        let rc = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, 100) };
        if rc < 0 {
            let e = io::Error::last_os_error();
            if e.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(Error::Io {
                context: "poll probe sockets".into(),
                source: e,
            });
        }
        for (pfd, stream) in fds.iter_mut().zip(streams.iter_mut()) {
            if pfd.revents & (libc::POLLERR | libc::POLLHUP) != 0 {
                return Err(Error::Protocol("a probe receiver went away".into()));
            }
            if pfd.revents & libc::POLLOUT == 0 {
                continue;
            }
            let mut budget = cfg.chunk_bytes;
            while budget > 0 {
                match stream.step(cfg, file)? {
                    Step::Sent(n) => budget = budget.saturating_sub(n as u64),
                    Step::Full => break,
                }
            }
        }
    }
    Ok(())
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
        let r = if marked {
            read_when_marked(&sock, &mut buf)
        } else {
            sock.read(&mut buf)
        };
        match r {
            Ok(0) => return Ok(()),
            Ok(n) => {
                totals.bytes.add(n as u64);
                totals.reads.add(1);
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => {
                return Err(Error::Io {
                    context: "probe receiver read".into(),
                    source: e,
                });
            }
        }
    }
}

fn usages(tids: &[AtomicI32]) -> Vec<ThreadUsage> {
    tids.iter()
        .map(|t| thread_usage(t.load(Ordering::Relaxed)))
        .collect()
}

pub fn run(cfg: &TransferProbe, warmup: Duration, measure: Duration) -> Result<Value> {
    cfg.receiver.validate().map_err(Error::Usage)?;
    if cfg.streams == 0
        || cfg.sender_threads == 0
        || cfg.chunk_bytes == 0
        || (cfg.file.is_none() && cfg.file_bytes == 0)
        || cfg.copy_buffer_bytes == 0
    {
        return Err(Error::Usage(
            "streams, sender threads, chunk, file and buffer sizes must be at least 1".into(),
        ));
    }
    let (file, file_bytes) = match &cfg.file {
        Some(path) => {
            let f = File::open(path).context(|| format!("open {}", path.display()))?;
            let len = f
                .metadata()
                .context(|| format!("stat {}", path.display()))?
                .len();
            if len == 0 {
                return Err(Error::Usage(format!("{} is empty", path.display())));
            }
            (f, len)
        }
        None => (
            page_cached_file(&cfg.dir, cfg.file_bytes, "transfer")?,
            cfg.file_bytes,
        ),
    };
    let cfg = &TransferProbe {
        file_bytes,
        ..cfg.clone()
    };
    let file = Arc::new(file);
    let listener = TcpListener::bind("127.0.0.1:0").context(|| "bind probe listener".into())?;
    let addr = listener
        .local_addr()
        .context(|| "probe listener address".into())?;
    let phase = Arc::new(Phase::new());
    let totals = Arc::new(Totals::default());
    let senders = cfg.sender_threads.min(cfg.streams);
    let sender_tids: Arc<Vec<AtomicI32>> =
        Arc::new((0..senders).map(|_| AtomicI32::new(0)).collect());
    let receiver_tids: Arc<Vec<AtomicI32>> =
        Arc::new((0..cfg.streams).map(|_| AtomicI32::new(0)).collect());
    let mut pipe_size = 0usize;
    let mut streams: Vec<Vec<Stream>> = (0..senders).map(|_| Vec::new()).collect();
    let mut handles = Vec::new();
    for i in 0..cfg.streams {
        let out = TcpStream::connect(addr).context(|| "connect probe receiver".into())?;
        let (inbound, _) = listener.accept().context(|| "accept probe stream".into())?;
        let (stream, ps) = Stream::new(cfg, out)?;
        pipe_size = ps;
        streams[i % senders].push(stream);
        let (totals_r, tids_r, rcfg, phase_r) = (
            totals.clone(),
            receiver_tids.clone(),
            cfg.receiver,
            phase.clone(),
        );
        handles.push(thread::spawn(move || {
            tids_r[i].store(crate::stats::current_tid(), Ordering::Relaxed);
            let r = receive(inbound, rcfg, &totals_r);
            if r.is_err() {
                phase_r.finish();
            }
            r
        }));
    }
    for (t, mut streams) in streams.into_iter().enumerate() {
        let (phase_s, tids_s, cfg_s, file_s) = (
            phase.clone(),
            sender_tids.clone(),
            cfg.clone(),
            file.clone(),
        );
        handles.push(thread::spawn(move || {
            tids_s[t].store(crate::stats::current_tid(), Ordering::Relaxed);
            let r = send_all(&cfg_s, &file_s, &mut streams, &phase_s);
            if r.is_err() {
                phase_s.finish();
            }
            for s in &streams {
                let _ = s.sock.shutdown(Shutdown::Write);
            }
            r
        }));
    }
    // Thread ids are published by the threads themselves; wait until all are known.
    while sender_tids
        .iter()
        .chain(receiver_tids.iter())
        .any(|t| t.load(Ordering::Relaxed) == 0)
    {
        thread::sleep(Duration::from_millis(1));
    }
    let span = run_window(&phase, warmup, measure, || {
        (
            totals.bytes.get(),
            totals.reads.get(),
            usages(&sender_tids),
            usages(&receiver_tids),
            process_usage(),
        )
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
        "pipe_bytes": if cfg.mode == TransferMode::Splice { json!(pipe_size) } else { Value::Null },
        "receiver": { "read_bytes": cfg.receiver.read_bytes, "rcvlowat": cfg.receiver.rcvlowat },
        "window_s": span.seconds,
        "bytes": bytes,
        "mb_per_s": bytes as f64 / span.seconds / 1e6,
        "read_calls": reads,
        "bytes_per_read": if reads > 0 { bytes as f64 / reads as f64 } else { 0.0 },
        "sender": "non-blocking sockets, poll(), streams dealt round-robin to the sender threads",
        "sender_threads": senders,
        "sndbuf": cfg.sndbuf,
        "sender_thread": threads_delta_json(&span.start.2, &span.end.2),
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
            sender_threads: 1,
            sndbuf: 0,
            file_bytes: 4 << 20,
            chunk_bytes: 1 << 20,
            copy_buffer_bytes: 256 << 10,
            pipe_bytes: 1 << 20,
            receiver: ReceiverConfig {
                read_bytes: 256 << 10,
                rcvlowat,
            },
            dir: dir.path().to_path_buf(),
            file: None,
        };
        run(&cfg, Duration::from_millis(20), Duration::from_millis(150)).unwrap()
    }

    #[test]
    fn every_mode_moves_bytes_and_accounts_for_them() {
        for mode in [
            TransferMode::Sendfile,
            TransferMode::Splice,
            TransferMode::Copy,
        ] {
            let v = probe(mode, 0, 1);
            assert!(
                v["bytes"].as_u64().unwrap() > 1 << 20,
                "{mode:?} moved {}",
                v["bytes"]
            );
            assert!(v["read_calls"].as_u64().unwrap() > 0);
            assert!(v["bytes_per_read"].as_f64().unwrap() <= (256 << 10) as f64);
            assert!(
                v["sender_thread"]["cpu_s"].as_f64().unwrap() > 0.0,
                "{mode:?}: {}",
                v["sender_thread"]
            );
        }
    }

    #[test]
    fn low_water_mark_and_fan_out_run() {
        let v = probe(TransferMode::Sendfile, 128 << 10, 2);
        assert_eq!(v["streams"], 2);
        assert!(v["bytes"].as_u64().unwrap() > 1 << 20);
        // With the mark set, reads come back with at least the mark most of the time.
        assert!(
            v["bytes_per_read"].as_f64().unwrap() > 16_384.0,
            "{}",
            v["bytes_per_read"]
        );
    }

    #[test]
    fn several_sender_threads_share_the_streams_with_a_bounded_send_buffer() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = TransferProbe {
            mode: TransferMode::Sendfile,
            streams: 3,
            sender_threads: 2,
            sndbuf: 64 << 10,
            file_bytes: 4 << 20,
            chunk_bytes: 1 << 20,
            copy_buffer_bytes: 1 << 20,
            pipe_bytes: 1 << 20,
            receiver: ReceiverConfig {
                read_bytes: 256 << 10,
                rcvlowat: 0,
            },
            dir: dir.path().to_path_buf(),
            file: None,
        };
        let v = run(&cfg, Duration::from_millis(20), Duration::from_millis(150)).unwrap();
        assert_eq!(v["sender_threads"], 2);
        assert_eq!(v["sndbuf"], 64 << 10);
        assert!(v["bytes"].as_u64().unwrap() > 1 << 20);
        // More threads than streams: one per stream.
        let v = run(
            &TransferProbe {
                streams: 1,
                sender_threads: 4,
                ..cfg
            },
            Duration::ZERO,
            Duration::from_millis(100),
        )
        .unwrap();
        assert_eq!(v["sender_threads"], 1);
    }

    #[test]
    fn an_existing_file_is_sent_as_it_is() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("data");
        std::fs::write(&path, vec![7u8; 3 << 20]).unwrap();
        let cfg = TransferProbe {
            mode: TransferMode::Sendfile,
            streams: 1,
            sender_threads: 1,
            sndbuf: 0,
            file_bytes: 0,
            chunk_bytes: 1 << 20,
            copy_buffer_bytes: 1 << 20,
            pipe_bytes: 1 << 20,
            receiver: ReceiverConfig {
                read_bytes: 1 << 20,
                rcvlowat: 0,
            },
            dir: dir.path().to_path_buf(),
            file: Some(path),
        };
        let v = run(&cfg, Duration::ZERO, Duration::from_millis(100)).unwrap();
        assert_eq!(v["file_bytes"], 3 << 20);
        assert!(v["bytes"].as_u64().unwrap() > 0);
    }

    #[test]
    fn modes_parse() {
        assert_eq!(
            "splice".parse::<TransferMode>().unwrap(),
            TransferMode::Splice
        );
        assert!("zerocopy".parse::<TransferMode>().is_err());
    }
}
