//! The receiving side of a stream, with its wake-up behaviour as a parameter.
//!
//! On a loopback stream between two CPUs the cost that dominates is how often the receiver is
//! woken, not how many bytes are copied. Two knobs decide it: how much one read() asks for
//! (`read_bytes`) and the socket's low-water mark (`SO_RCVLOWAT`), below which the kernel does
//! not wake a blocked reader. Fetch consumers and the raw transfer probes share this reader so
//! both sides of a comparison receive the same way.
//!
//! A fixed low-water mark would hang a request/response reader: the tail of a response that is
//! shorter than the mark never wakes it. So inside a frame of known size the mark is lowered to
//! what is left of the frame, and before a frame's size is known it is 1 — what a careful
//! receiver does. Each change costs one setsockopt; with large responses that is a few per
//! response.
//!
//! With a mark set, the reader waits in poll() and then takes what is there without blocking
//! (an event-loop receiver). A blocking read() would be wrong here: it copies what has arrived,
//! then sleeps until the *uncopied* bytes reach the mark, which the last bytes of a response
//! may never do — the read hangs with the answer sitting in the socket. poll() tests the mark
//! against everything queued, so it cannot miss the end.

use std::io::{self, ErrorKind, Read};
use std::net::TcpStream;
use std::os::fd::AsRawFd;

/// Bytes a parser may ask to see contiguously (field groups, batch headers, record prefixes).
pub const MAX_CONTIGUOUS: usize = 256;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReceiverConfig {
    /// Largest read() request.
    pub read_bytes: usize,
    /// SO_RCVLOWAT to use inside large frames; 0 leaves the socket's default (1 byte).
    pub rcvlowat: usize,
}

impl ReceiverConfig {
    pub fn validate(&self) -> Result<(), String> {
        if self.read_bytes < 64 {
            return Err(format!("read size {} is below 64 bytes", self.read_bytes));
        }
        if self.rcvlowat > i32::MAX as usize {
            return Err(format!(
                "rcvlowat {} does not fit a socket option",
                self.rcvlowat
            ));
        }
        Ok(())
    }
}

/// How long a receiver waits for data before the run is declared stuck.
pub const POLL_TIMEOUT_MS: i32 = 60_000;

/// Where bytes come from: a socket in real runs, a scripted source in tests.
pub trait Source {
    /// One read of at most `buf.len()` bytes. `marked`: a low-water mark is set on the socket,
    /// so wait for it with poll() and then read without blocking.
    fn read(&mut self, buf: &mut [u8], marked: bool) -> io::Result<usize>;
    fn set_rcvlowat(&mut self, bytes: usize) -> io::Result<()>;
}

impl Source for TcpStream {
    fn read(&mut self, buf: &mut [u8], marked: bool) -> io::Result<usize> {
        if marked {
            read_when_marked(self, buf)
        } else {
            Read::read(self, buf)
        }
    }

    fn set_rcvlowat(&mut self, bytes: usize) -> io::Result<()> {
        set_rcvlowat(self, bytes)
    }
}

/// Waits until the socket's low-water mark is met (or the peer closed), then reads what is
/// queued without blocking. Returns 0 at end of stream.
pub fn read_when_marked(sock: &impl AsRawFd, buf: &mut [u8]) -> io::Result<usize> {
    let fd = sock.as_raw_fd();
    loop {
        let mut pfd = libc::pollfd {
            fd,
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one pollfd we own, count 1.
        let rc = unsafe { libc::poll(&mut pfd, 1, POLL_TIMEOUT_MS) };
        if rc < 0 {
            let e = io::Error::last_os_error();
            if e.kind() == ErrorKind::Interrupted {
                continue;
            }
            return Err(e);
        }
        if rc == 0 {
            return Err(io::Error::new(
                ErrorKind::TimedOut,
                "no data within the poll timeout",
            ));
        }
        // SAFETY: recv into a buffer we own, at most its length.
        let n = unsafe { libc::recv(fd, buf.as_mut_ptr().cast(), buf.len(), libc::MSG_DONTWAIT) };
        if n >= 0 {
            return Ok(n as usize);
        }
        let e = io::Error::last_os_error();
        if !matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::Interrupted) {
            return Err(e);
        }
    }
}

pub fn set_rcvlowat(sock: &impl AsRawFd, bytes: usize) -> io::Result<()> {
    let v: libc::c_int = bytes
        .try_into()
        .map_err(|_| io::Error::new(ErrorKind::InvalidInput, "rcvlowat too large"))?;
    // SAFETY: plain setsockopt on an fd we own, with a pointer to a live c_int of the right size.
    let rc = unsafe {
        libc::setsockopt(
            sock.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_RCVLOWAT,
            (&v as *const libc::c_int).cast(),
            size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct ReadStats {
    pub read_calls: u64,
    pub bytes: u64,
    pub lowat_changes: u64,
}

/// A buffered, frame-aware reader. Not shared between threads: one per connection.
pub struct FrameReader<S: Source> {
    src: S,
    cfg: ReceiverConfig,
    buf: Box<[u8]>,
    start: usize,
    end: usize,
    /// Stream positions (bytes since the connection opened).
    consumed_pos: u64,
    received_pos: u64,
    /// Stream position where the current frame ends; None between frames.
    frame_end: Option<u64>,
    current_lowat: usize,
    stats: ReadStats,
}

impl<S: Source> FrameReader<S> {
    pub fn new(src: S, cfg: ReceiverConfig) -> Self {
        cfg.validate()
            .expect("receiver config validated by the caller");
        Self {
            src,
            cfg,
            buf: vec![0u8; cfg.read_bytes + MAX_CONTIGUOUS].into_boxed_slice(),
            start: 0,
            end: 0,
            consumed_pos: 0,
            received_pos: 0,
            frame_end: None,
            current_lowat: 1,
            stats: ReadStats::default(),
        }
    }

    pub fn stats(&self) -> ReadStats {
        self.stats
    }

    pub fn source_mut(&mut self) -> &mut S {
        &mut self.src
    }

    fn buffered(&self) -> usize {
        self.end - self.start
    }

    /// The low-water mark the next read should run with.
    fn wanted_lowat(&self) -> usize {
        if self.cfg.rcvlowat == 0 {
            return 1;
        }
        match self.frame_end {
            Some(end) if end > self.received_pos => {
                (self.cfg.rcvlowat as u64).min(end - self.received_pos) as usize
            }
            _ => 1,
        }
    }

    /// One read() into the free part of the buffer (at most `read_bytes`).
    fn read_more(&mut self) -> io::Result<()> {
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
        } else if self.buf.len() - self.end < MAX_CONTIGUOUS {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        let want = self.wanted_lowat();
        if self.cfg.rcvlowat != 0 && want != self.current_lowat {
            self.src.set_rcvlowat(want)?;
            self.current_lowat = want;
            self.stats.lowat_changes += 1;
        }
        let limit = (self.end + self.cfg.read_bytes).min(self.buf.len());
        loop {
            match self
                .src
                .read(&mut self.buf[self.end..limit], self.cfg.rcvlowat != 0)
            {
                Ok(0) => {
                    return Err(io::Error::new(
                        ErrorKind::UnexpectedEof,
                        "connection closed by peer",
                    ));
                }
                Ok(n) => {
                    self.stats.read_calls += 1;
                    self.stats.bytes += n as u64;
                    self.end += n;
                    self.received_pos += n as u64;
                    return Ok(());
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        }
    }

    /// Makes `n` bytes (n <= MAX_CONTIGUOUS) available contiguously and returns them without
    /// consuming them.
    pub fn peek(&mut self, n: usize) -> io::Result<&[u8]> {
        assert!(
            n <= MAX_CONTIGUOUS,
            "peek of {n} bytes exceeds MAX_CONTIGUOUS"
        );
        while self.buffered() < n {
            self.read_more()?;
        }
        Ok(&self.buf[self.start..self.start + n])
    }

    pub fn consume(&mut self, n: usize) {
        assert!(n <= self.buffered(), "consume past buffered data");
        self.start += n;
        self.consumed_pos += n as u64;
    }

    pub fn take<const N: usize>(&mut self) -> io::Result<[u8; N]> {
        let out: [u8; N] = self.peek(N)?.try_into().expect("peek returned N bytes");
        self.consume(N);
        Ok(out)
    }

    pub fn i16(&mut self) -> io::Result<i16> {
        Ok(i16::from_be_bytes(self.take()?))
    }

    pub fn i32(&mut self) -> io::Result<i32> {
        Ok(i32::from_be_bytes(self.take()?))
    }

    pub fn i64(&mut self) -> io::Result<i64> {
        Ok(i64::from_be_bytes(self.take()?))
    }

    /// Reads `n` bytes and throws them away, reading at most `read_bytes` per call.
    pub fn skip(&mut self, mut n: u64) -> io::Result<()> {
        loop {
            let here = (self.buffered() as u64).min(n) as usize;
            self.consume(here);
            n -= here as u64;
            if n == 0 {
                return Ok(());
            }
            self.read_more()?;
        }
    }

    /// Copies the next `n` bytes out (small and medium payloads: response bodies).
    pub fn read_vec(&mut self, n: usize) -> io::Result<Vec<u8>> {
        let mut out = Vec::with_capacity(n);
        while out.len() < n {
            if self.buffered() == 0 {
                self.read_more()?;
            }
            let here = self.buffered().min(n - out.len());
            out.extend_from_slice(&self.buf[self.start..self.start + here]);
            self.consume(here);
        }
        Ok(out)
    }

    /// Reads a frame's int32 size and starts tracking its end. Returns the size.
    pub fn begin_frame(&mut self) -> io::Result<usize> {
        assert!(self.frame_end.is_none(), "begin_frame inside a frame");
        let size = self.i32()?;
        if size < 0 {
            return Err(io::Error::new(
                ErrorKind::InvalidData,
                format!("negative frame size {size}"),
            ));
        }
        self.frame_end = Some(self.consumed_pos + size as u64);
        Ok(size as usize)
    }

    /// Bytes of the current frame not consumed yet.
    pub fn frame_remaining(&self) -> u64 {
        let end = self.frame_end.expect("frame_remaining outside a frame");
        end - self.consumed_pos
    }

    /// Skips what is left of the current frame and stops tracking it.
    pub fn end_frame(&mut self) -> io::Result<()> {
        let left = self.frame_remaining();
        self.skip(left)?;
        self.frame_end = None;
        Ok(())
    }
}

#[cfg(test)]
pub mod tests {
    use super::*;

    /// Hands out a byte string in reads of at most `chunk` bytes and logs low-water marks.
    pub struct Scripted {
        pub data: Vec<u8>,
        pub pos: usize,
        pub chunk: usize,
        pub lowats: Vec<usize>,
        pub read_sizes: Vec<usize>,
    }

    impl Scripted {
        pub fn new(data: Vec<u8>, chunk: usize) -> Self {
            Self {
                data,
                pos: 0,
                chunk,
                lowats: Vec::new(),
                read_sizes: Vec::new(),
            }
        }
    }

    impl Source for Scripted {
        fn read(&mut self, buf: &mut [u8], _marked: bool) -> io::Result<usize> {
            self.read_sizes.push(buf.len());
            let n = buf.len().min(self.chunk).min(self.data.len() - self.pos);
            buf[..n].copy_from_slice(&self.data[self.pos..self.pos + n]);
            self.pos += n;
            Ok(n)
        }

        fn set_rcvlowat(&mut self, bytes: usize) -> io::Result<()> {
            self.lowats.push(bytes);
            Ok(())
        }
    }

    fn frame(payload: &[u8]) -> Vec<u8> {
        let mut v = (payload.len() as i32).to_be_bytes().to_vec();
        v.extend_from_slice(payload);
        v
    }

    #[test]
    fn reads_never_ask_for_more_than_read_bytes() {
        let payload: Vec<u8> = (0..10_000u32).map(|i| i as u8).collect();
        let src = Scripted::new(frame(&payload), usize::MAX);
        let mut r = FrameReader::new(
            src,
            ReceiverConfig {
                read_bytes: 1000,
                rcvlowat: 0,
            },
        );
        assert_eq!(r.begin_frame().unwrap(), 10_000);
        assert_eq!(r.i16().unwrap(), 0x0001);
        r.skip(9_000).unwrap();
        assert_eq!(r.frame_remaining(), 998);
        assert_eq!(
            r.read_vec(2).unwrap(),
            vec![(9002u32 % 256) as u8, (9003u32 % 256) as u8]
        );
        r.end_frame().unwrap();
        let src = r.source_mut();
        assert!(
            src.read_sizes.iter().all(|&n| n <= 1000),
            "{:?}",
            src.read_sizes
        );
        assert!(src.lowats.is_empty(), "no SO_RCVLOWAT when disabled");
        assert_eq!(r.stats().bytes, 10_004);
        assert_eq!(r.stats().read_calls, 11);
    }

    #[test]
    fn low_water_mark_shrinks_to_the_rest_of_the_frame() {
        // The first frame is 2800 bytes on the wire: exactly four 700-byte reads.
        let mut data = frame(&vec![7u8; 2796]);
        data.extend(frame(&[1, 2, 3]));
        let src = Scripted::new(data, 700);
        let mut r = FrameReader::new(
            src,
            ReceiverConfig {
                read_bytes: 1024,
                rcvlowat: 1000,
            },
        );
        r.begin_frame().unwrap();
        r.end_frame().unwrap();
        assert_eq!(r.begin_frame().unwrap(), 3);
        assert_eq!(r.take::<3>().unwrap(), [1, 2, 3]);
        r.end_frame().unwrap();
        // Before the size is known the mark stays at 1 (no call). Then 1000 while 2100 and 1400
        // bytes are left in the socket, exactly the 700-byte tail, and 1 again before the next
        // frame's size.
        assert_eq!(r.source_mut().lowats, vec![1000, 700, 1]);
        assert_eq!(r.stats().lowat_changes, 3);
    }

    #[test]
    fn marked_reads_over_a_socket_never_miss_a_short_tail() {
        // Responses trickle in while the reader holds a 64 KiB mark; each tail is shorter than
        // the mark. A blocking read() would hang on such a tail; poll()+recv must not.
        use std::io::Write;
        use std::net::TcpListener;
        use std::sync::mpsc;
        use std::time::Duration;
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let sizes = [100_000usize, 70_000, 10, 65_536, 200_003];
        let server = std::thread::spawn(move || {
            let (mut s, _) = listener.accept().unwrap();
            for size in sizes {
                let mut one = [0u8; 1];
                Read::read_exact(&mut s, &mut one).unwrap(); // the "request"
                let f = frame(&vec![9u8; size]);
                for piece in f.chunks(20_000) {
                    s.write_all(piece).unwrap();
                    std::thread::sleep(Duration::from_millis(2));
                }
            }
        });
        let (done_tx, done_rx) = mpsc::channel();
        std::thread::spawn(move || {
            let sock = TcpStream::connect(addr).unwrap();
            let mut writer = sock.try_clone().unwrap();
            let mut r = FrameReader::new(
                sock,
                ReceiverConfig {
                    read_bytes: 1 << 20,
                    rcvlowat: 64 << 10,
                },
            );
            let mut got = Vec::new();
            for _ in sizes {
                writer.write_all(&[1]).unwrap();
                got.push(r.begin_frame().unwrap());
                r.end_frame().unwrap();
            }
            done_tx.send(got).unwrap();
        });
        let got = done_rx
            .recv_timeout(Duration::from_secs(20))
            .expect("reader hung on a frame tail");
        assert_eq!(got, sizes.to_vec());
        server.join().unwrap();
    }

    #[test]
    fn eof_mid_frame_is_an_error() {
        let mut data = frame(&[0u8; 100]);
        data.truncate(50);
        let mut r = FrameReader::new(
            Scripted::new(data, 16),
            ReceiverConfig {
                read_bytes: 64,
                rcvlowat: 0,
            },
        );
        r.begin_frame().unwrap();
        let err = r.end_frame().unwrap_err();
        assert_eq!(err.kind(), ErrorKind::UnexpectedEof);
    }

    #[test]
    fn peek_compacts_across_the_buffer_end() {
        // A 64-byte read size with fields straddling read boundaries.
        let mut payload = Vec::new();
        for i in 0..100i64 {
            payload.extend_from_slice(&i.to_be_bytes());
        }
        let mut r = FrameReader::new(
            Scripted::new(frame(&payload), 13),
            ReceiverConfig {
                read_bytes: 64,
                rcvlowat: 0,
            },
        );
        r.begin_frame().unwrap();
        for i in 0..100i64 {
            assert_eq!(r.i64().unwrap(), i);
        }
        assert_eq!(r.frame_remaining(), 0);
    }
}
