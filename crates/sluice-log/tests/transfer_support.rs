//! Helpers shared by the transfer and writer integration tests (included with `#[path]`; cargo
//! also builds this file as a test target of its own, which holds no tests).
#![allow(dead_code)]

use std::fs::File;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd};
use std::os::unix::net::UnixStream;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use sluice_log::FileRange;

/// Deterministic, position-dependent bytes: any reordering, loss or duplication shows.
pub fn pattern(len: usize, seed: u64) -> Vec<u8> {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 24) as u8
        })
        .collect()
}

/// A temp file holding `data`, as a segment file would.
pub struct Segment {
    pub file: Arc<File>,
    pub data: Vec<u8>,
    _temp: tempfile::NamedTempFile,
}

impl Segment {
    pub fn new(data: Vec<u8>) -> Segment {
        let mut temp = tempfile::NamedTempFile::new().expect("temp file");
        temp.write_all(&data).expect("write segment");
        temp.flush().expect("flush segment");
        let file = Arc::new(File::open(temp.path()).expect("open segment"));
        Segment {
            file,
            data,
            _temp: temp,
        }
    }

    /// A range whose published end is the whole file.
    pub fn range(&self, position: u64, len: u64) -> FileRange {
        self.range_published_to(position, len, self.data.len() as u64)
    }

    pub fn range_published_to(&self, position: u64, len: u64, published_end: u64) -> FileRange {
        FileRange::new(
            self.file.clone(),
            position,
            len,
            Arc::new(AtomicU64::new(published_end)),
        )
    }

    pub fn bytes(&self, position: u64, len: u64) -> &[u8] {
        &self.data[position as usize..(position + len) as usize]
    }
}

/// Sets SO_SNDBUF (the kernel doubles it and applies its minimum).
pub fn set_send_buffer(fd: BorrowedFd<'_>, bytes: usize) {
    let value = bytes as libc::c_int;
    // SAFETY: setsockopt with a pointer to a live c_int of the size we pass.
    let rc = unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_SNDBUF,
            (&value as *const libc::c_int).cast(),
            size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    assert_eq!(
        rc,
        0,
        "setsockopt SO_SNDBUF: {}",
        std::io::Error::last_os_error()
    );
}

/// A connected unix stream pair: (non-blocking writer side, blocking reader side).
pub fn socket_pair(send_buffer: Option<usize>) -> (UnixStream, UnixStream) {
    let (writer, reader) = UnixStream::pair().expect("socketpair");
    writer.set_nonblocking(true).expect("nonblocking");
    if let Some(bytes) = send_buffer {
        set_send_buffer(writer.as_fd(), bytes);
    }
    (writer, reader)
}

/// A connected TCP loopback pair: (non-blocking writer side, blocking reader side).
pub fn tcp_pair(send_buffer: Option<usize>) -> (TcpStream, TcpStream) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let writer = TcpStream::connect(listener.local_addr().expect("addr")).expect("connect");
    let (reader, _) = listener.accept().expect("accept");
    writer.set_nonblocking(true).expect("nonblocking");
    writer.set_nodelay(true).expect("nodelay");
    if let Some(bytes) = send_buffer {
        set_send_buffer(writer.as_fd(), bytes);
    }
    (writer, reader)
}

/// How a test reader consumes its socket.
#[derive(Clone, Copy, Debug)]
pub enum Pace {
    /// Reads in 64 KiB chunks as fast as it can.
    Fast,
    /// Reads `chunk` bytes at a time and sleeps `pause` between reads, so the writer's socket
    /// buffer fills up and writes return EAGAIN.
    Slow { chunk: usize, pause: Duration },
}

pub const SLOW: Pace = Pace::Slow {
    chunk: 8 * 1024,
    pause: Duration::from_micros(300),
};

/// Reads `expected` bytes (or until EOF/error) on a thread and returns them.
pub fn spawn_reader<S: Read + Send + 'static>(
    mut stream: S,
    expected: usize,
    pace: Pace,
) -> JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let chunk = match pace {
            Pace::Fast => 64 * 1024,
            Pace::Slow { chunk, .. } => chunk,
        };
        let mut received = Vec::with_capacity(expected.min(4 << 20));
        let mut buffer = vec![0u8; chunk];
        while received.len() < expected {
            let want = chunk.min(expected - received.len());
            match stream.read(&mut buffer[..want]) {
                Ok(0) | Err(_) => break,
                Ok(n) => received.extend_from_slice(&buffer[..n]),
            }
            if let Pace::Slow { pause, .. } = pace {
                std::thread::sleep(pause);
            }
        }
        received
    })
}

/// Reads until EOF on a thread.
pub fn spawn_reader_to_eof<S: Read + Send + 'static>(stream: S) -> JoinHandle<Vec<u8>> {
    spawn_reader(stream, usize::MAX, Pace::Fast)
}

/// Waits until `fd` is writable (or 10 s pass, which fails the test).
pub fn wait_writable(fd: BorrowedFd<'_>) {
    let mut poll = libc::pollfd {
        fd: fd.as_raw_fd(),
        events: libc::POLLOUT,
        revents: 0,
    };
    // SAFETY: one valid pollfd.
    let rc = unsafe { libc::poll(&mut poll, 1, 10_000) };
    assert!(rc > 0, "socket did not become writable within 10 s");
}

/// Number of open fds of this process.
pub fn open_fd_count() -> usize {
    std::fs::read_dir("/proc/self/fd")
        .expect("read /proc/self/fd")
        .count()
}

/// Polls `condition` every millisecond until it holds or `timeout` passes.
pub fn eventually(timeout: Duration, mut condition: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        if condition() {
            return true;
        }
        if Instant::now() > deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
}
