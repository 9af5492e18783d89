//! The connection writer over real sockets: interleaved plans in every mode, the inline fast
//! path, EAGAIN continuations on the epoll thread, ordering, bounds, hand-off, fd reuse, errors.
//! (Tests that count open fds live in writer_fds.rs, a process of their own.)

#[path = "transfer_support.rs"]
mod support;

use std::io::{ErrorKind, Read};
use std::os::fd::AsFd;
use std::os::unix::net::UnixStream;
use std::sync::mpsc::{self, Receiver};
use std::time::Duration;

use sluice_log::Error;
use sluice_log::writer::{ConnId, Event, Part, Writer, WriterConfig, WriterMode};
use support::*;

const MODES: [WriterMode; 3] = [WriterMode::Sendfile, WriterMode::Splice, WriterMode::Copy];
const EVENT_WAIT: Duration = Duration::from_secs(20);

fn writer_with(config: WriterConfig) -> (Writer, Receiver<Event>) {
    let (events, received) = mpsc::channel();
    let writer = Writer::with_config(config, move |batch| {
        for event in batch {
            let _ = events.send(event);
        }
    })
    .expect("writer");
    (writer, received)
}

fn writer(mode: WriterMode) -> (Writer, Receiver<Event>) {
    writer_with(WriterConfig::new(mode))
}

fn expect_sent(events: &Receiver<Event>, conn: ConnId, token: u64, bytes: u64) {
    match events.recv_timeout(EVENT_WAIT).expect("an event") {
        Event::Sent {
            conn: c,
            token: t,
            bytes: b,
        } => {
            assert_eq!((c, t, b), (conn, token, bytes), "Sent event");
        }
        Event::Failed { error, .. } => panic!("send failed: {error}"),
    }
}

/// A plan of header bytes and file ranges (bytes, file, bytes, file, bytes) and the bytes it
/// must put on the wire.
fn interleaved_plan(segment: &Segment) -> (Vec<Part<'static>>, Vec<u8>) {
    let headers = [pattern(100, 11), pattern(5_000, 12), pattern(7, 13)];
    let ranges = [(4_099u64, 700_001u64), (1_000_000, 300_000)];
    let mut expected = Vec::new();
    let mut plan: Vec<Part<'static>> = Vec::new();
    for (i, header) in headers.iter().enumerate() {
        expected.extend_from_slice(header);
        plan.push(Part::from(header.clone()));
        if let Some(&(position, len)) = ranges.get(i) {
            expected.extend_from_slice(segment.bytes(position, len));
            plan.push(Part::from(segment.range(position, len)));
        }
    }
    (plan, expected)
}

#[test]
fn an_interleaved_plan_arrives_byte_identical_in_every_mode_through_eagain_continuations() {
    for mode in MODES {
        for tcp in [false, true] {
            let segment = Segment::new(pattern(1_400_000, 10));
            let (plan, expected) = interleaved_plan(&segment);
            let (writer, events) = writer(mode);
            let (socket, reader): (Box<dyn AsFd>, Box<dyn Read + Send>) = if tcp {
                let (w, r) = tcp_pair(Some(4096));
                (Box::new(w), Box::new(r))
            } else {
                let (w, r) = socket_pair(Some(4096));
                (Box::new(w), Box::new(r))
            };
            let received = spawn_reader(reader, expected.len(), SLOW);
            let conn = writer.register(socket.as_fd()).expect("register");
            let pending = writer.send(conn, plan, 42).expect("send");
            assert!(
                pending > 0,
                "{mode:?} tcp={tcp}: a tiny send buffer cannot take 1 MB inline"
            );
            expect_sent(&events, conn, 42, expected.len() as u64);
            assert!(
                received.join().expect("reader") == expected,
                "{mode:?} tcp={tcp}: bytes differ"
            );

            let stats = writer.stats();
            let file_bytes = 700_001 + 300_000;
            let (mode_bytes, other_modes) = match mode {
                WriterMode::Sendfile => {
                    (stats.sendfile_bytes, stats.splice_bytes + stats.copy_bytes)
                }
                WriterMode::Splice => (stats.splice_bytes, stats.sendfile_bytes + stats.copy_bytes),
                WriterMode::Copy => (stats.copy_bytes, stats.sendfile_bytes + stats.splice_bytes),
            };
            assert_eq!(mode_bytes, file_bytes, "{mode:?}: {stats:?}");
            assert_eq!(other_modes, 0, "{mode:?}: {stats:?}");
            assert_eq!(stats.plain_bytes, 5_107, "{mode:?}: {stats:?}");
            assert!(
                stats.would_block > 0 && stats.continuations > 0,
                "{mode:?}: {stats:?}"
            );
            assert_eq!(
                (stats.sends_queued, stats.sends_inline),
                (1, 0),
                "{mode:?}: {stats:?}"
            );
            assert_eq!(stats.queued_bytes, 0, "{mode:?}: {stats:?}");
            assert_eq!(writer.pending_bytes(conn).expect("pending"), 0);
        }
    }
}

#[test]
fn a_send_the_socket_takes_at_once_completes_inline_without_an_event() {
    for mode in MODES {
        let segment = Segment::new(pattern(20_000, 20));
        let (writer, events) = writer(mode);
        let (socket, reader) = socket_pair(None);
        let header = pattern(64, 21);
        let conn = writer.register(socket.as_fd()).expect("register");
        let plan = vec![
            Part::from(&header[..]),
            Part::from(segment.range(100, 10_000)),
        ];
        assert_eq!(writer.send(conn, plan, 1).expect("send"), 0, "{mode:?}");
        let received = spawn_reader(reader, 10_064, Pace::Fast)
            .join()
            .expect("reader");
        let mut expected = header.clone();
        expected.extend_from_slice(segment.bytes(100, 10_000));
        assert!(received == expected, "{mode:?}");
        assert!(
            events.recv_timeout(Duration::from_millis(100)).is_err(),
            "{mode:?}: no event for inline sends"
        );
        let stats = writer.stats();
        assert_eq!(
            (stats.sends_inline, stats.sends_queued, stats.continuations),
            (1, 0, 0),
            "{mode:?}"
        );
    }
}

#[test]
fn many_queued_sends_leave_in_order_and_report_in_order() {
    for mode in MODES {
        let segment = Segment::new(pattern(300_000, 30));
        let (writer, events) = writer(mode);
        let (socket, reader) = socket_pair(Some(4096));
        let conn = writer.register(socket.as_fd()).expect("register");
        let mut expected = Vec::new();
        let mut queued_tokens = Vec::new();
        let mut sends = Vec::new();
        for token in 0..200u64 {
            let header = format!("send {token:05}|").into_bytes();
            let position = token * 1_301 % 200_000;
            let len = 1 + token * 997 % 20_000;
            expected.extend_from_slice(&header);
            expected.extend_from_slice(segment.bytes(position, len));
            sends.push((token, header, position, len));
        }
        let received = spawn_reader(reader, expected.len(), SLOW);
        for (token, header, position, len) in &sends {
            let plan = vec![
                Part::from(&header[..]),
                Part::from(segment.range(*position, *len)),
            ];
            if writer.send(conn, plan, *token).expect("send") > 0 {
                queued_tokens.push(*token);
            }
        }
        assert!(
            queued_tokens.len() > 100,
            "{mode:?}: most sends must queue behind the first"
        );
        for &token in &queued_tokens {
            let (_, _, _, len) = sends[token as usize];
            let header_len = format!("send {token:05}|").len() as u64;
            expect_sent(&events, conn, token, header_len + len);
        }
        assert!(
            received.join().expect("reader") == expected,
            "{mode:?}: bytes differ or out of order"
        );
    }
}

#[test]
fn borrowed_bytes_are_copied_when_queued() {
    let (writer, events) = writer(WriterMode::Sendfile);
    let (socket, reader) = socket_pair(Some(4096));
    let conn = writer.register(socket.as_fd()).expect("register");
    let original = pattern(500_000, 40);
    let mut buffer = original.clone();
    let pending = writer
        .send(conn, vec![Part::from(&buffer[..])], 7)
        .expect("send");
    assert!(pending > 0);
    // The caller may reuse its buffer as soon as send returns.
    buffer.iter_mut().for_each(|b| *b = 0);
    let received = spawn_reader(reader, original.len(), Pace::Fast);
    expect_sent(&events, conn, 7, original.len() as u64);
    assert!(received.join().expect("reader") == original);
}

#[test]
fn queue_bounds_refuse_a_send_whole_and_the_connection_stays_usable() {
    let mut config = WriterConfig::new(WriterMode::Sendfile);
    config.max_pending_bytes = 256 * 1024;
    config.max_queued_parts = 4;
    let (writer, events) = writer_with(config);
    let segment = Segment::new(pattern(400_000, 50));
    let (socket, reader) = socket_pair(Some(4096));
    let conn = writer.register(socket.as_fd()).expect("register");

    let first = writer
        .send(conn, vec![Part::from(segment.range(0, 200_000))], 1)
        .expect("first send");
    assert!(first > 0 && first <= 200_000);
    let refused = writer.send(conn, vec![Part::from(segment.range(200_000, 200_000))], 2);
    match refused {
        Err(Error::WriterQueueFull {
            conn: c,
            plan_bytes,
            pending_bytes,
            max_pending_bytes,
            ..
        }) => {
            assert_eq!(
                (c, plan_bytes, pending_bytes, max_pending_bytes),
                (conn, 200_000, first, 256 * 1024)
            );
        }
        other => panic!("expected WriterQueueFull, got {other:?}"),
    }
    assert_eq!(
        writer.pending_bytes(conn).expect("pending"),
        first,
        "a refused send queues nothing"
    );
    let parts: Vec<Part<'_>> = (0..5).map(|i| Part::from(vec![i as u8])).collect();
    assert_eq!(
        writer
            .send(conn, parts, 3)
            .expect_err("too many parts")
            .code(),
        "WRITER_QUEUE_FULL"
    );

    let received = spawn_reader(reader, 400_000, Pace::Fast);
    expect_sent(&events, conn, 1, 200_000);
    let second = writer
        .send(conn, vec![Part::from(segment.range(200_000, 200_000))], 2)
        .expect("retry");
    if second > 0 {
        expect_sent(&events, conn, 2, 200_000);
    }
    assert!(received.join().expect("reader") == segment.data[..400_000]);
}

#[test]
fn a_spent_budget_hands_the_rest_to_the_thread_even_while_the_socket_is_writable() {
    for mode in MODES {
        let mut config = WriterConfig::new(mode);
        config.write_budget_bytes = 64 * 1024;
        let (writer, events) = writer_with(config);
        let segment = Segment::new(pattern(4 << 20, 60));
        let (socket, reader) = socket_pair(None);
        let received = spawn_reader(reader, 4 << 20, Pace::Fast);
        let conn = writer.register(socket.as_fd()).expect("register");
        let pending = writer
            .send(conn, vec![Part::from(segment.range(0, 4 << 20))], 9)
            .expect("send");
        assert!(
            pending >= (4 << 20) - 64 * 1024,
            "{mode:?}: at most the budget goes inline, got {pending} pending"
        );
        expect_sent(&events, conn, 9, 4 << 20);
        assert!(received.join().expect("reader") == segment.data, "{mode:?}");
        // 64 turns of 64 KiB: one inline, the rest on the thread.
        assert!(
            writer.stats().continuations >= 63,
            "{mode:?}: {:?}",
            writer.stats()
        );
    }
}

#[test]
fn a_range_published_short_of_its_length_fails_the_send_before_writing_any_of_it() {
    // The header before a range may frame its length (Fetch's size prefix), so a range the log
    // truncated since it was read — partly, or down to nothing — fails the send and its
    // connection: sending the published part, or dropping an empty one, would desync the peer.
    for (position, len, published_end) in [(50_000, 40_000, 60_000), (5_000, 5_000, 5_000)] {
        for mode in MODES {
            let (writer, _events) = writer(mode);
            let segment = Segment::new(pattern(100_000, 70));
            let (socket, reader) = socket_pair(None);
            let conn = writer.register(socket.as_fd()).expect("register");
            let plan = vec![
                Part::from(b"header".to_vec()),
                Part::from(segment.range_published_to(position, len, published_end)),
            ];
            let error = writer.send(conn, plan, 5).expect_err("a short range");
            assert_eq!(error.code(), "TRANSFER_IO", "{mode:?}: {error}");
            let stats = writer.stats();
            assert_eq!((stats.errors, stats.truncated_ranges), (1, 1), "{mode:?}");
            let again = writer.send(conn, vec![Part::from(b"more".to_vec())], 6);
            assert_eq!(
                again.expect_err("the connection failed").code(),
                "CONNECTION_CLOSED"
            );
            drop(socket);
            writer.unregister(conn).expect("unregister");
            let received = spawn_reader_to_eof(reader).join().expect("reader");
            assert!(
                received.is_empty(),
                "{mode:?}: nothing of the send went out"
            );
        }
    }
}

#[test]
fn the_dup_keeps_bytes_on_the_registered_socket_when_the_fd_number_is_reused() {
    let (writer, _events) = writer(WriterMode::Sendfile);
    let (first, first_peer) = socket_pair(None);
    let conn = writer.register(first.as_fd()).expect("register");
    drop(first);
    // The next socket most likely gets the number just freed; bytes must not follow the number.
    let (second, second_peer) = socket_pair(None);
    second_peer.set_nonblocking(true).expect("nonblocking");
    assert_eq!(
        writer
            .send(conn, vec![Part::from(b"for the first peer".to_vec())], 1)
            .expect("send"),
        0
    );
    let mut buffer = [0u8; 64];
    let n = (&first_peer).read(&mut buffer).expect("first peer reads");
    assert_eq!(&buffer[..n], b"for the first peer");
    assert_eq!(
        (&second_peer)
            .read(&mut buffer)
            .map_err(|e| e.kind())
            .expect_err("nothing"),
        ErrorKind::WouldBlock
    );
    drop(second);
}

#[test]
fn errors_name_unknown_connections_closed_writers_and_non_sockets() {
    let (writer, _events) = writer(WriterMode::Sendfile);
    assert_eq!(
        writer.send(999, vec![], 0).expect_err("unknown").code(),
        "UNKNOWN_CONNECTION"
    );
    assert_eq!(
        writer.pending_bytes(999).expect_err("unknown").code(),
        "UNKNOWN_CONNECTION"
    );

    let file = tempfile::tempfile().expect("temp file");
    assert_eq!(
        writer.register(file.as_fd()).expect_err("a file").code(),
        "NOT_A_STREAM_SOCKET"
    );
    let udp = std::net::UdpSocket::bind("127.0.0.1:0").expect("udp");
    assert_eq!(
        writer.register(udp.as_fd()).expect_err("udp").code(),
        "NOT_A_STREAM_SOCKET"
    );

    let (socket, _peer) = socket_pair(None);
    let conn = writer.register(socket.as_fd()).expect("register");
    assert_eq!(writer.unregister(conn).expect("unregister"), 0);
    assert_eq!(
        writer.unregister(conn).expect_err("twice").code(),
        "UNKNOWN_CONNECTION"
    );
    assert_eq!(
        writer.send(conn, vec![], 0).expect_err("gone").code(),
        "UNKNOWN_CONNECTION"
    );

    writer.close();
    writer.close();
    assert_eq!(
        writer.register(socket.as_fd()).expect_err("closed").code(),
        "WRITER_CLOSED"
    );
    assert_eq!(
        writer.send(conn, vec![], 0).expect_err("closed").code(),
        "WRITER_CLOSED"
    );
    assert_eq!(
        "zerocopy".parse::<WriterMode>().expect_err("mode").code(),
        "UNKNOWN_WRITER_MODE"
    );
    assert_eq!(
        "splice".parse::<WriterMode>().expect("mode"),
        WriterMode::Splice
    );
}

#[test]
fn an_empty_plan_completes_inline() {
    let (writer, _events) = writer(WriterMode::Splice);
    let (socket, _peer) = socket_pair(None);
    let conn = writer.register(socket.as_fd()).expect("register");
    let segment = Segment::new(pattern(10, 80));
    let plan = vec![
        Part::from(Vec::new()),
        Part::from(segment.range_published_to(5, 0, 5)),
    ];
    assert_eq!(writer.send(conn, plan, 1).expect("send"), 0);
    assert_eq!(writer.stats().sends_inline, 1);
}

#[test]
fn sends_on_many_connections_interleave_on_one_thread() {
    let (writer, events) = writer(WriterMode::Splice);
    let segment = Segment::new(pattern(1 << 20, 90));
    let mut readers = Vec::new();
    let mut sockets: Vec<UnixStream> = Vec::new();
    let mut queued = Vec::new();
    for i in 0..8u64 {
        let (socket, reader) = socket_pair(Some(4096));
        let conn = writer.register(socket.as_fd()).expect("register");
        readers.push(spawn_reader(reader, 1 << 20, SLOW));
        if writer
            .send(conn, vec![Part::from(segment.range(0, 1 << 20))], 100 + i)
            .expect("send")
            > 0
        {
            queued.push(conn);
        }
        sockets.push(socket);
    }
    let mut done = Vec::new();
    for _ in &queued {
        match events.recv_timeout(EVENT_WAIT).expect("event") {
            Event::Sent { conn, bytes, token } => {
                assert_eq!(bytes, 1 << 20);
                assert_eq!(token, 100 + conn - 1, "tokens follow their connection");
                done.push(conn);
            }
            Event::Failed { error, .. } => panic!("{error}"),
        }
    }
    done.sort_unstable();
    assert_eq!(done, queued);
    for reader in readers {
        assert!(reader.join().expect("reader") == segment.data);
    }
}

#[test]
fn a_log_truncated_under_a_queued_send_fails_that_connection_and_the_process_lives() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU64, Ordering};
    for mode in MODES {
        let (writer, events) = writer(mode);
        let segment = Segment::new(pattern(1 << 20, 71));
        let published = Arc::new(AtomicU64::new(1 << 20));
        let range = sluice_log::FileRange::new(segment.file.clone(), 0, 1 << 20, published.clone());
        let (socket, reader) = socket_pair(Some(4096));
        let conn = writer.register(socket.as_fd()).expect("register");
        let pending = writer.send(conn, vec![Part::from(range)], 9).expect("send");
        assert!(
            pending > 0,
            "{mode:?}: a 1 MiB send into a 4 KiB buffer queues"
        );
        // Log::truncate_to while the send waits for the socket.
        published.store(1000, Ordering::Release);
        let received = spawn_reader_to_eof(reader);
        match events.recv_timeout(EVENT_WAIT).expect("an event") {
            Event::Failed {
                conn: c,
                token,
                error,
                ..
            } => {
                assert_eq!((c, token), (conn, 9), "{mode:?}");
                assert_eq!(error.code(), "TRANSFER_IO", "{mode:?}: {error}");
            }
            other => panic!("{mode:?}: expected a failure, got {other:?}"),
        }
        assert_eq!(writer.stats().truncated_ranges, 1, "{mode:?}: counted");
        drop(socket);
        writer.unregister(conn).expect("unregister");
        received.join().expect("reader");
    }
}
