//! Transfer micro-benchmark: sendfile vs splice vs copy, moving 1 KiB, 16 KiB and 1 MiB file
//! ranges from a segment file in the page cache to a loopback TCP connection read by another
//! thread, side by side in one run, with ratios to `copy` (pread + send, the baseline).
//!
//! Two reader behaviours, because on these machines the cost of a stream is set by wake-ups as
//! much as by copying (see ARCHITECTURE.md, "Measure, don't assume"):
//! - reads of up to 1 MiB as data arrives;
//! - the same with SO_RCVLOWAT = 256 KiB, so the reader wakes only once that much is queued.
//!
//! Per cell: MB/s (bytes received by the reader / wall time until it has them all), and the
//! sending thread's CPU time and context switches per GB (getrusage RUSAGE_THREAD).
//!
//! Run: `cargo bench -p sluice-log --bench transfer` (SLUICE_BENCH_SECONDS=<s> per cell,
//! default 0.5).

use std::fs::File;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd};
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::{Duration, Instant};

use sluice_log::FileRange;
use sluice_log::transfer::{self, FileCursor, SplicePipe, Stop};
use sluice_log::writer::{WriterConfig, WriterMode};

const SEGMENT_BYTES: u64 = 64 << 20;
const RANGE_SIZES: [u64; 3] = [1 << 10, 16 << 10, 1 << 20];
const MODES: [WriterMode; 3] = [WriterMode::Sendfile, WriterMode::Splice, WriterMode::Copy];
const READ_BUFFER_BYTES: usize = 1 << 20;
const RCVLOWAT_BYTES: i32 = 256 << 10;

#[derive(Clone, Copy)]
enum ReaderKind {
    MegabyteReads,
    LowWatermark,
}

impl ReaderKind {
    fn describe(self) -> &'static str {
        match self {
            ReaderKind::MegabyteReads => "reader: read() up to 1 MiB as data arrives",
            ReaderKind::LowWatermark => "reader: read() up to 1 MiB with SO_RCVLOWAT = 256 KiB",
        }
    }
}

struct Cell {
    bytes: u64,
    elapsed: Duration,
    cpu: Duration,
    context_switches: u64,
}

impl Cell {
    fn mb_per_s(&self) -> f64 {
        self.bytes as f64 / 1e6 / self.elapsed.as_secs_f64()
    }

    fn per_gb(&self, value: f64) -> f64 {
        value / (self.bytes as f64 / 1e9)
    }
}

fn main() {
    let seconds: f64 = std::env::var("SLUICE_BENCH_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0.5);
    let per_cell = Duration::from_secs_f64(seconds);
    let (_dir, file) = segment_file();

    println!("transfer: segment file in page cache -> loopback TCP, {seconds} s per cell");
    println!(
        "sender: TCP_NODELAY, non-blocking, poll() on EAGAIN; splice pipe and copy buffer at writer defaults"
    );
    for reader in [ReaderKind::MegabyteReads, ReaderKind::LowWatermark] {
        println!();
        println!("{}", reader.describe());
        println!(
            "{:>8}  {:<8}  {:>9}  {:>7}  {:>13}  {:>10}",
            "range", "mode", "MB/s", "vs copy", "send CPU s/GB", "csw/GB"
        );
        for size in RANGE_SIZES {
            let cells: Vec<(WriterMode, Cell)> = MODES
                .iter()
                .map(|&mode| (mode, run_cell(&file, mode, size, reader, per_cell)))
                .collect();
            let copy = cells
                .iter()
                .find(|(mode, _)| *mode == WriterMode::Copy)
                .expect("copy cell")
                .1
                .mb_per_s();
            for (mode, cell) in &cells {
                println!(
                    "{:>8}  {:<8}  {:>9.0}  {:>6.2}x  {:>13.3}  {:>10.0}",
                    human(size),
                    mode.as_str(),
                    cell.mb_per_s(),
                    cell.mb_per_s() / copy,
                    cell.per_gb(cell.cpu.as_secs_f64()),
                    cell.per_gb(cell.context_switches as f64),
                );
            }
        }
    }
}

/// A 64 MiB segment-like file, read once so the page cache holds it.
fn segment_file() -> (tempfile::TempDir, Arc<File>) {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("00000000000000000000.log");
    let mut file = File::create(&path).expect("create segment");
    let block: Vec<u8> = (0..1 << 20)
        .map(|i: u32| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
        .collect();
    for _ in 0..SEGMENT_BYTES / block.len() as u64 {
        file.write_all(&block).expect("write segment");
    }
    drop(file);
    let mut file = File::open(&path).expect("open segment");
    let mut sink = vec![0u8; 1 << 20];
    while file.read(&mut sink).expect("warm page cache") > 0 {}
    (dir, Arc::new(file))
}

fn run_cell(
    file: &Arc<File>,
    mode: WriterMode,
    size: u64,
    reader_kind: ReaderKind,
    duration: Duration,
) -> Cell {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let sender = TcpStream::connect(listener.local_addr().expect("addr")).expect("connect");
    let (receiver, _) = listener.accept().expect("accept");
    sender.set_nodelay(true).expect("nodelay");
    sender.set_nonblocking(true).expect("nonblocking");
    if let ReaderKind::LowWatermark = reader_kind {
        set_int_option(receiver.as_fd(), libc::SO_RCVLOWAT, RCVLOWAT_BYTES);
    }
    let reader = std::thread::spawn(move || read_to_end(receiver));

    let config = WriterConfig::new(mode);
    let mut pipe = SplicePipe::new(config.splice_pipe_bytes).expect("pipe");
    let mut buffer = vec![0u8; config.copy_buffer_bytes];
    let published = Arc::new(AtomicU64::new(SEGMENT_BYTES));
    let socket = sender.as_fd();
    let start = Instant::now();
    let usage_before = thread_usage();
    let (mut sent, mut position) = (0u64, 0u64);
    while start.elapsed() < duration {
        // Check the clock once per 64 ranges, not per range.
        for _ in 0..64 {
            let mut cursor = FileCursor::new(FileRange::new(
                file.clone(),
                position,
                size,
                published.clone(),
            ));
            loop {
                let progress = match mode {
                    WriterMode::Sendfile => transfer::sendfile(socket, &mut cursor, u64::MAX),
                    WriterMode::Splice => {
                        transfer::splice(socket, &mut cursor, &mut pipe, false, u64::MAX)
                    }
                    WriterMode::Copy => {
                        transfer::copy(socket, &mut cursor, &mut buffer, false, u64::MAX)
                    }
                }
                .expect("transfer");
                match progress.stop {
                    Stop::Complete => break,
                    Stop::WouldBlock => wait_writable(socket),
                    Stop::Limit => unreachable!("no limit given"),
                }
            }
            sent += size;
            position += size;
            if position + size > SEGMENT_BYTES {
                position = 0;
            }
        }
    }
    let usage_after = thread_usage();
    drop(sender);
    let received = reader.join().expect("reader");
    let elapsed = start.elapsed();
    assert_eq!(received, sent, "the reader got other than what was sent");
    Cell {
        bytes: received,
        elapsed,
        cpu: usage_after.0 - usage_before.0,
        context_switches: usage_after.1 - usage_before.1,
    }
}

fn read_to_end(mut socket: TcpStream) -> u64 {
    let mut buffer = vec![0u8; READ_BUFFER_BYTES];
    let mut total = 0u64;
    loop {
        match socket.read(&mut buffer) {
            Ok(0) => return total,
            Ok(n) => total += n as u64,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => panic!("reader: {e}"),
        }
    }
}

fn wait_writable(socket: BorrowedFd<'_>) {
    let mut poll = libc::pollfd {
        fd: socket.as_raw_fd(),
        events: libc::POLLOUT,
        revents: 0,
    };
    // SAFETY: one valid pollfd.
    unsafe { libc::poll(&mut poll, 1, -1) };
}

fn set_int_option(socket: BorrowedFd<'_>, option: libc::c_int, value: libc::c_int) {
    // SAFETY: setsockopt with a pointer to a live c_int of the size passed.
    let rc = unsafe {
        libc::setsockopt(
            socket.as_raw_fd(),
            libc::SOL_SOCKET,
            option,
            (&value as *const libc::c_int).cast(),
            size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    assert_eq!(rc, 0, "setsockopt: {}", std::io::Error::last_os_error());
}

/// CPU time (user + system) and context switches (voluntary + involuntary) of this thread.
fn thread_usage() -> (Duration, u64) {
    // SAFETY: getrusage fills the zeroed struct.
    let usage = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_THREAD, &mut usage);
        usage
    };
    let time = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    let cpu = time(usage.ru_utime) + time(usage.ru_stime);
    (cpu, (usage.ru_nvcsw + usage.ru_nivcsw) as u64)
}

fn human(bytes: u64) -> String {
    match bytes {
        b if b >= 1 << 20 => format!("{} MiB", b >> 20),
        b => format!("{} KiB", b >> 10),
    }
}
