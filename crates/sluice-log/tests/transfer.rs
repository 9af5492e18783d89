//! The transfer functions (sendfile, splice, copy, send_bytes) against real sockets: unix
//! socketpairs and TCP loopback, tiny send buffers, slow readers, short files, closed peers.

#[path = "transfer_support.rs"]
mod support;

use std::io;
use std::os::fd::{AsFd, BorrowedFd};
use std::time::Duration;

use sluice_log::transfer::{self, FileCursor, Progress, SplicePipe, Stop, TransferError};
use support::*;

#[derive(Clone, Copy, Debug)]
enum Mode {
    Sendfile,
    Splice,
    Copy,
}

const MODES: [Mode; 3] = [Mode::Sendfile, Mode::Splice, Mode::Copy];

/// Per-connection state a mode needs between calls.
struct Transport {
    mode: Mode,
    pipe: SplicePipe,
    buffer: Vec<u8>,
}

impl Transport {
    fn new(mode: Mode) -> Transport {
        Transport {
            mode,
            pipe: SplicePipe::new(64 * 1024).expect("pipe"),
            buffer: vec![0; 64 * 1024],
        }
    }

    fn step(
        &mut self,
        socket: BorrowedFd<'_>,
        cursor: &mut FileCursor,
        limit: u64,
    ) -> Result<Progress, TransferError> {
        match self.mode {
            Mode::Sendfile => transfer::sendfile(socket, cursor, limit),
            Mode::Splice => transfer::splice(socket, cursor, &mut self.pipe, false, limit),
            Mode::Copy => transfer::copy(socket, cursor, &mut self.buffer, false, limit),
        }
    }

    /// Calls the transfer until the cursor is done, waiting for writability on EAGAIN.
    /// Returns (bytes, would-block count, syscalls).
    fn drive(&mut self, socket: BorrowedFd<'_>, cursor: &mut FileCursor) -> (u64, u64, u64) {
        let (mut bytes, mut would_block, mut syscalls) = (0, 0, 0);
        loop {
            let progress = self.step(socket, cursor, u64::MAX).expect("transfer");
            bytes += progress.bytes;
            syscalls += progress.syscalls;
            match progress.stop {
                Stop::Complete => return (bytes, would_block, syscalls),
                Stop::WouldBlock => {
                    would_block += 1;
                    wait_writable(socket);
                }
                Stop::Limit => panic!("no limit was given"),
            }
        }
    }
}

/// A 2 MiB segment and a range inside it that starts and ends off page boundaries.
fn odd_range_segment() -> (Segment, u64, u64) {
    let segment = Segment::new(pattern(2 * 1024 * 1024 + 777, 1));
    let position = 4099;
    let len = segment.data.len() as u64 - position - 13;
    (segment, position, len)
}

#[test]
fn each_mode_delivers_identical_bytes_through_a_socketpair_with_a_tiny_send_buffer() {
    for mode in MODES {
        let (segment, position, len) = odd_range_segment();
        let (writer, reader) = socket_pair(Some(4096));
        let received = spawn_reader(reader, len as usize, SLOW);
        let mut cursor = FileCursor::new(segment.range(position, len));
        let (bytes, would_block, _) = Transport::new(mode).drive(writer.as_fd(), &mut cursor);
        assert_eq!(bytes, len, "{mode:?}");
        assert!(
            would_block > 0,
            "{mode:?}: a tiny send buffer and a slow reader must hit EAGAIN"
        );
        let received = received.join().expect("reader");
        assert!(
            received == segment.bytes(position, len),
            "{mode:?}: bytes differ"
        );
    }
}

#[test]
fn each_mode_delivers_identical_bytes_over_tcp_loopback() {
    for mode in MODES {
        for pace in [Pace::Fast, SLOW] {
            let (segment, position, len) = odd_range_segment();
            let (writer, reader) = tcp_pair(Some(8192));
            let received = spawn_reader(reader, len as usize, pace);
            let mut cursor = FileCursor::new(segment.range(position, len));
            let (bytes, _, _) = Transport::new(mode).drive(writer.as_fd(), &mut cursor);
            assert_eq!(bytes, len, "{mode:?} {pace:?}");
            let received = received.join().expect("reader");
            assert!(
                received == segment.bytes(position, len),
                "{mode:?} {pace:?}: bytes differ"
            );
        }
    }
}

#[test]
fn a_full_socket_is_would_block_not_an_error_and_the_call_resumes_where_it_stopped() {
    for mode in MODES {
        let (segment, position, len) = odd_range_segment();
        let (writer, reader) = socket_pair(Some(4096));
        let mut transport = Transport::new(mode);
        let mut cursor = FileCursor::new(segment.range(position, len));
        // Nobody reads yet: the first call fills the socket and must say so.
        let first = transport
            .step(writer.as_fd(), &mut cursor, u64::MAX)
            .expect("first call");
        assert_eq!(first.stop, Stop::WouldBlock, "{mode:?}");
        assert!(
            first.bytes > 0 && first.bytes < len,
            "{mode:?}: partial write expected, got {}",
            first.bytes
        );
        assert_eq!(cursor.sent(), first.bytes);
        if let Mode::Splice = mode {
            assert!(
                transport.pipe.buffered() > 0,
                "the pipe keeps what the socket did not take"
            );
        }
        let received = spawn_reader(reader, len as usize, Pace::Fast);
        let (rest, _, _) = transport.drive(writer.as_fd(), &mut cursor);
        assert_eq!(first.bytes + rest, len, "{mode:?}");
        assert!(
            received.join().expect("reader") == segment.bytes(position, len),
            "{mode:?}"
        );
    }
}

#[test]
fn a_limit_stops_each_mode_exactly_and_the_next_call_continues() {
    for mode in MODES {
        let (segment, position, len) = odd_range_segment();
        let (writer, reader) = socket_pair(None);
        let received = spawn_reader(reader, len as usize, Pace::Fast);
        let mut transport = Transport::new(mode);
        let mut cursor = FileCursor::new(segment.range(position, len));
        let mut steps = 0;
        loop {
            let progress = transport
                .step(writer.as_fd(), &mut cursor, 1000)
                .expect("transfer");
            assert!(
                progress.bytes <= 1000,
                "{mode:?}: limit exceeded: {}",
                progress.bytes
            );
            match progress.stop {
                Stop::Complete => break,
                Stop::Limit => assert_eq!(progress.bytes, 1000, "{mode:?}"),
                Stop::WouldBlock => wait_writable(writer.as_fd()),
            }
            steps += 1;
        }
        assert!(steps >= (len / 1000) as usize, "{mode:?}: {steps} steps");
        assert!(
            received.join().expect("reader") == segment.bytes(position, len),
            "{mode:?}"
        );
    }
}

#[test]
fn ranges_are_clamped_to_the_published_end() {
    for mode in MODES {
        let segment = Segment::new(pattern(100_000, 2));
        let (writer, reader) = socket_pair(None);
        let received = spawn_reader_to_eof(reader);
        // The range asks for 60 000 bytes from 10 000, but only 40 000 bytes past it are published.
        let mut cursor = FileCursor::new(segment.range_published_to(10_000, 60_000, 50_000));
        assert_eq!(cursor.len(), 40_000);
        let (bytes, _, _) = Transport::new(mode).drive(writer.as_fd(), &mut cursor);
        assert_eq!(bytes, 40_000, "{mode:?}");
        drop(writer);
        assert!(
            received.join().expect("reader") == segment.bytes(10_000, 40_000),
            "{mode:?}"
        );
    }
}

#[test]
fn a_range_past_the_published_end_sends_nothing() {
    for mode in MODES {
        let segment = Segment::new(pattern(10_000, 3));
        let (writer, _reader) = socket_pair(None);
        let mut cursor = FileCursor::new(segment.range_published_to(8_000, 1_000, 5_000));
        assert!(cursor.is_done());
        let progress = Transport::new(mode)
            .step(writer.as_fd(), &mut cursor, u64::MAX)
            .expect("transfer");
        assert_eq!(
            progress,
            Progress {
                bytes: 0,
                syscalls: 0,
                stop: Stop::Complete
            },
            "{mode:?}"
        );
    }
}

#[test]
fn a_file_shorter_than_its_published_end_is_an_error_not_a_hang() {
    for mode in MODES {
        let segment = Segment::new(pattern(100, 4));
        let (writer, reader) = socket_pair(None);
        let received = spawn_reader_to_eof(reader);
        let mut cursor = FileCursor::new(segment.range_published_to(0, 500, 1_000));
        let mut transport = Transport::new(mode);
        let error = transport
            .step(writer.as_fd(), &mut cursor, u64::MAX)
            .expect_err("short file");
        assert_eq!(
            error.source.kind(),
            io::ErrorKind::UnexpectedEof,
            "{mode:?}: {error}"
        );
        assert_eq!(
            error.bytes, 100,
            "{mode:?}: the bytes that exist were sent first"
        );
        drop(writer);
        assert!(received.join().expect("reader") == segment.data, "{mode:?}");
    }
}

#[test]
fn a_closed_peer_is_an_error_value_and_the_process_lives() {
    for mode in MODES {
        let segment = Segment::new(pattern(1 << 20, 5));
        for tcp in [false, true] {
            let (writer, reader): (Box<dyn AsFd>, Box<dyn AsFd>) = if tcp {
                let (w, r) = tcp_pair(Some(4096));
                (Box::new(w), Box::new(r))
            } else {
                let (w, r) = socket_pair(Some(4096));
                (Box::new(w), Box::new(r))
            };
            drop(reader);
            let mut cursor = FileCursor::new(segment.range(0, 1 << 20));
            let mut transport = Transport::new(mode);
            // TCP may accept a first write before the reset arrives; the error must come soon.
            let error = loop {
                match transport.step(writer.as_fd(), &mut cursor, u64::MAX) {
                    Err(error) => break error,
                    Ok(Progress {
                        stop: Stop::Complete,
                        ..
                    }) => panic!("{mode:?}: all sent to a closed peer"),
                    Ok(_) => std::thread::sleep(Duration::from_millis(1)),
                }
            };
            let errno = error.source.raw_os_error();
            assert!(
                errno == Some(libc::EPIPE) || errno == Some(libc::ECONNRESET),
                "{mode:?} tcp={tcp}: {error}"
            );
            assert!(sluice_log::error::is_peer_gone(&error.source));
        }
    }
}

#[test]
fn send_bytes_handles_partial_writes_under_a_tiny_send_buffer() {
    let data = pattern(1 << 20, 6);
    let (writer, reader) = socket_pair(Some(4096));
    let received = spawn_reader(reader, data.len(), SLOW);
    let (mut sent, mut would_block) = (0usize, 0);
    while sent < data.len() {
        let progress =
            transfer::send_bytes(writer.as_fd(), &data[sent..], false, u64::MAX).expect("send");
        sent += progress.bytes as usize;
        match progress.stop {
            Stop::Complete => assert_eq!(sent, data.len()),
            Stop::WouldBlock => {
                would_block += 1;
                wait_writable(writer.as_fd());
            }
            Stop::Limit => panic!("no limit was given"),
        }
    }
    assert!(would_block > 0);
    assert!(received.join().expect("reader") == data);
}

#[test]
fn syscalls_are_counted_per_call() {
    let segment = Segment::new(pattern(300_000, 7));
    for mode in MODES {
        let (writer, reader) = socket_pair(None);
        let received = spawn_reader(reader, 300_000, Pace::Fast);
        let mut cursor = FileCursor::new(segment.range(0, 300_000));
        let (bytes, _, syscalls) = Transport::new(mode).drive(writer.as_fd(), &mut cursor);
        assert_eq!(bytes, 300_000);
        // Splice and copy need two syscalls per piece (in and out); the buffers here hold 64 KiB.
        let least = match mode {
            Mode::Sendfile => 1,
            Mode::Splice | Mode::Copy => 2 * 300_000 / (64 * 1024),
        };
        assert!(syscalls >= least, "{mode:?}: {syscalls} syscalls");
        received.join().expect("reader");
    }
}

#[test]
fn a_range_truncated_under_a_pending_send_is_an_error_not_an_abort() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU64, Ordering};
    for mode in MODES {
        let segment = Segment::new(pattern(1000, 6));
        let published = Arc::new(AtomicU64::new(1000));
        let range = sluice_log::FileRange::new(segment.file.clone(), 0, 1000, published.clone());
        let mut cursor = FileCursor::new(range);
        let (writer, reader) = socket_pair(None);
        let received = spawn_reader_to_eof(reader);
        let mut transport = Transport::new(mode);
        transport
            .step(writer.as_fd(), &mut cursor, 100)
            .expect("first part");
        // Log::truncate_to moves the segment's published end back below the promised end.
        published.store(400, Ordering::Release);
        let error = transport
            .step(writer.as_fd(), &mut cursor, u64::MAX)
            .expect_err("truncated range");
        assert_eq!(error.op, "check published end", "{mode:?}: {error}");
        assert_eq!(
            error.source.kind(),
            io::ErrorKind::UnexpectedEof,
            "{mode:?}"
        );
        drop(writer);
        received.join().expect("reader");
    }
}
