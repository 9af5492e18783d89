//! Moving bytes to a socket: plain functions on raw fds, one per transfer mode.
//!
//! - `sendfile`: file -> socket inside the kernel (sendfile(2)).
//! - `splice`: file -> pipe -> socket (splice(2) twice); the pipe is kept per connection because
//!   bytes already in it when the socket fills up belong to that connection's stream.
//! - `copy`: pread(2) into a user buffer, then send(2); the baseline the other two are measured
//!   against.
//! - `send_bytes`: plain bytes (response headers) with send(2), `MSG_MORE` when more follows.
//!
//! Every function moves as much as the socket takes now and reports what happened as a value:
//! `Stop::Complete`, `Stop::WouldBlock` (the socket is full: EAGAIN is not an error) or
//! `Stop::Limit` (the caller's byte budget for this call is used up). EINTR is retried. Bytes are
//! counted from the syscalls' return values, so the counts are what reached the socket.
//!
//! The socket must be non-blocking (O_NONBLOCK): `send` is called with MSG_DONTWAIT, but sendfile
//! and splice have no such flag and would wait for buffer space otherwise.
//!
//! SIGPIPE: sendfile and splice cannot pass MSG_NOSIGNAL, so writing to a socket whose peer is
//! gone raises SIGPIPE. Node and Rust binaries ignore SIGPIPE at startup; `Writer::new` makes
//! sure of it for any other host (see writer.rs). The functions then see EPIPE as an error value.

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};

use crate::FileRange;

/// Most bytes asked of one sendfile/splice call. The kernel caps a call at 0x7ffff000 anyway;
/// a round power of two keeps the offsets simple.
const MAX_BYTES_PER_CALL: u64 = 1 << 30;

/// Why a transfer call returned without an error.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stop {
    /// Everything asked for is on the socket.
    Complete,
    /// The socket's send buffer is full (EAGAIN); call again once it is writable.
    WouldBlock,
    /// The byte limit given to this call was reached first; call again to continue.
    Limit,
}

/// What one transfer call did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Progress {
    /// Bytes the socket took during this call (sum of the socket syscalls' return values).
    pub bytes: u64,
    /// Syscalls made, including ones that returned EAGAIN or EINTR.
    pub syscalls: u64,
    pub stop: Stop,
}

/// An I/O error during a transfer, with what the call had done before it failed.
#[derive(Debug, thiserror::Error)]
#[error("{op} failed after {bytes} bytes: {source}")]
pub struct TransferError {
    /// The operation that failed: "sendfile", "splice file->pipe", "splice pipe->socket",
    /// "pread", "send".
    pub op: &'static str,
    /// Bytes the socket took during this call before the error.
    pub bytes: u64,
    pub syscalls: u64,
    #[source]
    pub source: io::Error,
}

impl TransferError {
    /// The range could not deliver the bytes promised for it: the log was truncated (its
    /// published end moved back, or its file was cut) after the range was made or framed. The
    /// peer's byte stream is then out of step, so the connection must go.
    pub fn is_short_range(&self) -> bool {
        self.op == SHORT_RANGE_OP || self.source.kind() == io::ErrorKind::UnexpectedEof
    }
}

/// The `op` of a `TransferError` for a range whose published end is below what it promised.
pub const SHORT_RANGE_OP: &str = "check published end";

/// A `FileRange` on its way to a socket: how much of it the socket has taken, and where it ends.
///
/// `FileCursor::new` takes the range's `sendable_len()` as the end: the range is clamped once, to
/// the log end published at that moment, so the length promised to a send never changes while
/// the bytes are in flight, and a range whose published end is short sends the published part
/// only. `FileCursor::whole` is for a range whose length was already framed (a Fetch response's
/// size prefix counts `range.len()`): a short range is an error there, not a short frame.
/// Either way, the end moving below the cursor's end later fails the transfer.
///
/// Concurrency contract: a cursor belongs to one connection and is used under its lock.
#[derive(Clone, Debug)]
pub struct FileCursor {
    range: FileRange,
    sent: u64,
    end: u64,
}

impl FileCursor {
    pub fn new(range: FileRange) -> FileCursor {
        let end = range.sendable_len();
        FileCursor {
            range,
            sent: 0,
            end,
        }
    }

    /// A cursor over all of `range`, for a send whose framing already counted `range.len()`
    /// bytes. Errs (`is_short_range`) when less than that is published now: the log was
    /// truncated after the range was made (a follower truncating, a crash-recovery cut), and
    /// sending the published part would leave the peer's stream short of what was framed.
    pub fn whole(range: FileRange) -> Result<FileCursor, TransferError> {
        let cursor = FileCursor::new(range);
        if cursor.end < cursor.range.len() {
            return Err(short_range(
                &Calls::default(),
                format!(
                    "the log was truncated after the range was framed: {} of its {} bytes are left",
                    cursor.end,
                    cursor.range.len()
                ),
            ));
        }
        Ok(cursor)
    }

    pub fn range(&self) -> &FileRange {
        &self.range
    }

    /// Bytes of the range the socket has taken.
    pub fn sent(&self) -> u64 {
        self.sent
    }

    /// Bytes this cursor sends in all: the range clamped to its published end.
    pub fn len(&self) -> u64 {
        self.end
    }

    /// True when the clamped range is empty (nothing to send at all).
    pub fn is_empty(&self) -> bool {
        self.end == 0
    }

    pub fn remaining(&self) -> u64 {
        self.end - self.sent
    }

    pub fn is_done(&self) -> bool {
        self.sent == self.end
    }

    fn file_fd(&self) -> RawFd {
        self.range.file().as_raw_fd()
    }

    /// File position of the next byte to send.
    pub(crate) fn next_position(&self) -> u64 {
        self.range.position() + self.sent
    }

    pub(crate) fn advance(&mut self, bytes: u64) {
        assert!(
            bytes <= self.remaining(),
            "advanced past the end of a file cursor"
        );
        self.sent += bytes;
    }

    /// The clamp taken at creation must still hold. A segment's end moves backwards when the
    /// log is truncated (`Log::truncate_to`) while a send of its bytes is queued; the bytes
    /// promised to the peer no longer exist, so this connection fails (the response cannot be
    /// completed) and the process goes on.
    fn check_still_published(&self, calls: &Calls) -> Result<(), TransferError> {
        if self.end <= self.range.sendable_len() {
            return Ok(());
        }
        Err(short_range(
            calls,
            "the log was truncated under a pending send of its bytes".into(),
        ))
    }
}

/// The pipe `splice` moves bytes through. Bytes in it were read from the file but have not yet
/// reached the socket; they belong to the cursor that put them there, so pass that cursor until
/// it is done. One pipe per connection.
#[derive(Debug)]
pub struct SplicePipe {
    read: OwnedFd,
    write: OwnedFd,
    buffered: u64,
    capacity: u64,
}

impl SplicePipe {
    /// A non-blocking pipe asked to hold `capacity_hint` bytes (F_SETPIPE_SZ). When the kernel
    /// refuses the size (EPERM past `/proc/sys/fs/pipe-max-size` or the per-user pipe limit) the
    /// pipe keeps its default size: smaller pipes only cost more syscalls.
    pub fn new(capacity_hint: usize) -> io::Result<SplicePipe> {
        let mut fds = [0 as RawFd; 2];
        // SAFETY: pipe2 writes two fds into the array we pass.
        let rc = unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_NONBLOCK | libc::O_CLOEXEC) };
        if rc != 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: both fds were just created and are owned by nobody else.
        let (read, write) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
        let hint = libc::c_int::try_from(capacity_hint).unwrap_or(libc::c_int::MAX);
        // SAFETY: fcntl on an fd we own; failure leaves the pipe at its default size.
        unsafe { libc::fcntl(write.as_raw_fd(), libc::F_SETPIPE_SZ, hint) };
        // SAFETY: as above.
        let capacity = unsafe { libc::fcntl(write.as_raw_fd(), libc::F_GETPIPE_SZ) };
        if capacity <= 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(SplicePipe {
            read,
            write,
            buffered: 0,
            capacity: capacity as u64,
        })
    }

    /// Bytes the pipe can hold.
    pub fn capacity(&self) -> u64 {
        self.capacity
    }

    /// Bytes read from the file and not yet taken by the socket.
    pub fn buffered(&self) -> u64 {
        self.buffered
    }
}

/// Sends `cursor`'s remaining bytes with sendfile(2), at most `limit` of them.
pub fn sendfile(
    socket: BorrowedFd<'_>,
    cursor: &mut FileCursor,
    limit: u64,
) -> Result<Progress, TransferError> {
    let mut calls = Calls::default();
    cursor.check_still_published(&calls)?;
    loop {
        if cursor.is_done() {
            return Ok(calls.stop(Stop::Complete));
        }
        let allowed = limit - calls.bytes;
        if allowed == 0 {
            return Ok(calls.stop(Stop::Limit));
        }
        let count = cursor.remaining().min(allowed).min(MAX_BYTES_PER_CALL);
        let mut offset = file_offset(cursor.next_position());
        let result = calls.make(|| {
            // SAFETY: both fds are open for the duration of the call; `offset` is a valid
            // pointer the kernel updates.
            unsafe {
                libc::sendfile(
                    socket.as_raw_fd(),
                    cursor.file_fd(),
                    &mut offset,
                    count as usize,
                )
            }
        });
        match result {
            Ok(0) => return Err(calls.fail("sendfile", file_ended_early())),
            Ok(n) => {
                cursor.advance(n);
                calls.bytes += n;
            }
            Err(e) if is_would_block(&e) => return Ok(calls.stop(Stop::WouldBlock)),
            Err(e) => return Err(calls.fail("sendfile", e)),
        }
    }
}

/// Sends `cursor`'s remaining bytes file -> `pipe` -> socket with splice(2), at most `limit` of
/// them. `more` says more bytes follow this range on the connection (sets SPLICE_F_MORE on the
/// last piece, so the kernel may coalesce it with what comes next).
pub fn splice(
    socket: BorrowedFd<'_>,
    cursor: &mut FileCursor,
    pipe: &mut SplicePipe,
    more: bool,
    limit: u64,
) -> Result<Progress, TransferError> {
    let mut calls = Calls::default();
    cursor.check_still_published(&calls)?;
    assert!(
        pipe.buffered <= cursor.remaining(),
        "splice pipe holds bytes of another range"
    );
    loop {
        if cursor.is_done() {
            assert_eq!(
                pipe.buffered, 0,
                "splice pipe not empty after its range completed"
            );
            return Ok(calls.stop(Stop::Complete));
        }
        let allowed = limit - calls.bytes;
        if allowed == 0 {
            return Ok(calls.stop(Stop::Limit));
        }
        // Fill the pipe, but never past what this call may still send: bytes left in the pipe
        // would have to be drained by the next call before anything else goes out anyway.
        let unread = cursor.remaining() - pipe.buffered;
        let fill = unread
            .min(pipe.capacity.saturating_sub(pipe.buffered))
            .min(allowed.saturating_sub(pipe.buffered));
        if fill > 0 {
            let mut offset = file_offset(cursor.next_position() + pipe.buffered);
            let result = calls.make(|| {
                // SAFETY: the file and the pipe's write end are open; `offset` is valid.
                unsafe {
                    libc::splice(
                        cursor.file_fd(),
                        &mut offset,
                        pipe.write.as_raw_fd(),
                        std::ptr::null_mut(),
                        fill as usize,
                        libc::SPLICE_F_MOVE | libc::SPLICE_F_NONBLOCK,
                    )
                }
            });
            match result {
                Ok(0) => return Err(calls.fail("splice file->pipe", file_ended_early())),
                Ok(n) => pipe.buffered += n,
                // The pipe counts pages, not bytes: a range that does not start on a page
                // boundary fills it before `capacity` bytes. Drain what is in it first.
                Err(e) if is_would_block(&e) && pipe.buffered > 0 => {}
                Err(e) => return Err(calls.fail("splice file->pipe", e)),
            }
        }
        let drain = pipe.buffered.min(allowed);
        let more_follows = more || cursor.remaining() > drain;
        let flags = libc::SPLICE_F_MOVE
            | libc::SPLICE_F_NONBLOCK
            | if more_follows { libc::SPLICE_F_MORE } else { 0 };
        let result = calls.make(|| {
            // SAFETY: the pipe's read end and the socket are open.
            unsafe {
                libc::splice(
                    pipe.read.as_raw_fd(),
                    std::ptr::null_mut(),
                    socket.as_raw_fd(),
                    std::ptr::null_mut(),
                    drain as usize,
                    flags,
                )
            }
        });
        match result {
            Ok(n) => {
                assert!(n > 0, "splice from a non-empty pipe returned 0");
                pipe.buffered -= n;
                cursor.advance(n);
                calls.bytes += n;
            }
            Err(e) if is_would_block(&e) => return Ok(calls.stop(Stop::WouldBlock)),
            Err(e) => return Err(calls.fail("splice pipe->socket", e)),
        }
    }
}

/// Sends `cursor`'s remaining bytes by pread(2) into `buffer` and send(2), at most `limit` of
/// them. When the socket fills up part way through a buffer, the unsent tail is dropped and read
/// again by the next call: the file bytes are immutable and in the page cache, and it keeps the
/// buffer shareable between connections (one per thread, not one per connection).
pub fn copy(
    socket: BorrowedFd<'_>,
    cursor: &mut FileCursor,
    buffer: &mut [u8],
    more: bool,
    limit: u64,
) -> Result<Progress, TransferError> {
    assert!(!buffer.is_empty(), "copy needs a non-empty buffer");
    let mut calls = Calls::default();
    cursor.check_still_published(&calls)?;
    loop {
        if cursor.is_done() {
            return Ok(calls.stop(Stop::Complete));
        }
        let allowed = limit - calls.bytes;
        if allowed == 0 {
            return Ok(calls.stop(Stop::Limit));
        }
        let want = cursor.remaining().min(allowed).min(buffer.len() as u64) as usize;
        let position = file_offset(cursor.next_position());
        let result = calls.make(|| {
            // SAFETY: `buffer[..want]` is valid writable memory; the file is open.
            unsafe { libc::pread(cursor.file_fd(), buffer.as_mut_ptr().cast(), want, position) }
        });
        let read = match result {
            Ok(0) => return Err(calls.fail("pread", file_ended_early())),
            Ok(n) => n as usize,
            Err(e) => return Err(calls.fail("pread", e)),
        };
        let mut written = 0;
        while written < read {
            let more_follows = more || cursor.remaining() > (read - written) as u64;
            match send_once(socket, &buffer[written..read], more_follows, &mut calls) {
                Ok(n) => {
                    written += n as usize;
                    cursor.advance(n);
                    calls.bytes += n;
                }
                Err(e) if is_would_block(&e) => return Ok(calls.stop(Stop::WouldBlock)),
                Err(e) => return Err(calls.fail("send", e)),
            }
        }
    }
}

/// Reads the cursor's next bytes into `buffer` with pread(2) without advancing it (the TLS
/// writer advances by what its session accepted). Fails like `copy` on a range the log
/// truncated or a file shorter than its published end.
pub(crate) fn pread_next(cursor: &FileCursor, buffer: &mut [u8]) -> Result<usize, TransferError> {
    let mut calls = Calls::default();
    cursor.check_still_published(&calls)?;
    let want = cursor.remaining().min(buffer.len() as u64) as usize;
    if want == 0 {
        return Ok(0);
    }
    let position = file_offset(cursor.next_position());
    let result = calls.make(|| {
        // SAFETY: `buffer[..want]` is valid writable memory; the file is open.
        unsafe { libc::pread(cursor.file_fd(), buffer.as_mut_ptr().cast(), want, position) }
    });
    match result {
        Ok(0) => Err(calls.fail("pread", file_ended_early())),
        Ok(n) => Ok(n as usize),
        Err(e) => Err(calls.fail("pread", e)),
    }
}

/// Sends `bytes` with send(2), at most `limit` of them; returns how many the socket took in
/// `Progress::bytes`. `more` says more bytes follow on the connection (MSG_MORE).
pub fn send_bytes(
    socket: BorrowedFd<'_>,
    bytes: &[u8],
    more: bool,
    limit: u64,
) -> Result<Progress, TransferError> {
    let mut calls = Calls::default();
    let mut sent = 0usize;
    loop {
        if sent == bytes.len() {
            return Ok(calls.stop(Stop::Complete));
        }
        let allowed = limit - calls.bytes;
        if allowed == 0 {
            return Ok(calls.stop(Stop::Limit));
        }
        let end = bytes
            .len()
            .min(sent.saturating_add(usize::try_from(allowed).unwrap_or(usize::MAX)));
        let more_follows = more || end < bytes.len();
        match send_once(socket, &bytes[sent..end], more_follows, &mut calls) {
            Ok(n) => {
                sent += n as usize;
                calls.bytes += n;
            }
            Err(e) if is_would_block(&e) => return Ok(calls.stop(Stop::WouldBlock)),
            Err(e) => return Err(calls.fail("send", e)),
        }
    }
}

/// Sets O_NONBLOCK on `fd`'s open file description (shared with every dup of it).
pub fn set_nonblocking(fd: BorrowedFd<'_>) -> io::Result<()> {
    // SAFETY: fcntl on an open fd.
    let flags = unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_GETFL) };
    if flags < 0 {
        return Err(io::Error::last_os_error());
    }
    if flags & libc::O_NONBLOCK != 0 {
        return Ok(());
    }
    // SAFETY: as above.
    if unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_SETFL, flags | libc::O_NONBLOCK) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// One send(2) with EINTR retried. MSG_NOSIGNAL: a gone peer is EPIPE, never SIGPIPE.
fn send_once(
    socket: BorrowedFd<'_>,
    bytes: &[u8],
    more: bool,
    calls: &mut Calls,
) -> io::Result<u64> {
    let flags = libc::MSG_NOSIGNAL | libc::MSG_DONTWAIT | if more { libc::MSG_MORE } else { 0 };
    calls.make(|| {
        // SAFETY: `bytes` is valid readable memory; the socket is open.
        unsafe {
            libc::send(
                socket.as_raw_fd(),
                bytes.as_ptr().cast(),
                bytes.len(),
                flags,
            )
        }
    })
}

/// Syscall and byte tally of one transfer call.
#[derive(Default)]
struct Calls {
    bytes: u64,
    syscalls: u64,
}

impl Calls {
    /// Runs one syscall returning a byte count or -1, retrying EINTR; counts every attempt.
    fn make(&mut self, mut syscall: impl FnMut() -> isize) -> io::Result<u64> {
        loop {
            self.syscalls += 1;
            let rc = syscall();
            if rc >= 0 {
                return Ok(rc as u64);
            }
            let error = io::Error::last_os_error();
            if error.kind() != io::ErrorKind::Interrupted {
                return Err(error);
            }
        }
    }

    fn stop(&self, stop: Stop) -> Progress {
        Progress {
            bytes: self.bytes,
            syscalls: self.syscalls,
            stop,
        }
    }

    fn fail(&self, op: &'static str, source: io::Error) -> TransferError {
        TransferError {
            op,
            bytes: self.bytes,
            syscalls: self.syscalls,
            source,
        }
    }
}

fn short_range(calls: &Calls, message: String) -> TransferError {
    calls.fail(
        SHORT_RANGE_OP,
        io::Error::new(io::ErrorKind::UnexpectedEof, message),
    )
}

fn is_would_block(error: &io::Error) -> bool {
    error.kind() == io::ErrorKind::WouldBlock
}

/// The file returned end-of-file inside a range the log published: someone truncated the
/// segment file under us. The connection's stream is broken; report it, do not spin.
fn file_ended_early() -> io::Error {
    io::Error::new(
        io::ErrorKind::UnexpectedEof,
        "segment file ends before the published end of the range",
    )
}

fn file_offset(position: u64) -> libc::off_t {
    libc::off_t::try_from(position).expect("file position beyond off_t")
}
