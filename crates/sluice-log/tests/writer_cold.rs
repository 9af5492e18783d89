//! Cold ranges (issue 21 §2): a file range not in the page cache is not sent by the thread that
//! meets it; the cold-read pool warms it while the connection waits behind it, and other
//! connections on the same writer thread keep being served. "Cold" is made deterministic with
//! posix_fadvise(DONTNEED) on a file written and fsynced here, and the pool is held with the
//! writer's test hook while the test looks at what happens meanwhile.

#[path = "transfer_support.rs"]
mod support;

use std::io::Read;
use std::sync::mpsc::{self, Receiver};
use std::time::Duration;

use sluice_log::residency;
use sluice_log::writer::{ConnId, Event, Part, Writer, WriterConfig, WriterMode};
use support::*;

const EVENT_WAIT: Duration = Duration::from_secs(20);
const MODES: [WriterMode; 3] = [WriterMode::Sendfile, WriterMode::Splice, WriterMode::Copy];

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

/// A segment whose pages were all dropped from the page cache.
fn cold_segment(len: usize, seed: u64) -> Segment {
    let segment = Segment::new(pattern(len, seed));
    segment.file.sync_all().expect("fsync");
    residency::drop_cached(&segment.file, 0, 0).expect("fadvise DONTNEED");
    assert!(
        !residency::is_resident(&segment.file, 0, len as u64).unwrap(),
        "the kernel kept the pages of a clean file after DONTNEED"
    );
    segment
}

fn next_sent(events: &Receiver<Event>) -> (ConnId, u64) {
    match events.recv_timeout(EVENT_WAIT).expect("an event") {
        Event::Sent { conn, token, .. } => (conn, token),
        Event::Failed { error, .. } => panic!("send failed: {error}"),
    }
}

fn read_exactly(stream: &mut impl Read, len: usize) -> Vec<u8> {
    let mut bytes = vec![0u8; len];
    stream.read_exact(&mut bytes).expect("read");
    bytes
}

#[test]
fn a_cold_range_waits_for_the_pool_while_a_hot_connection_on_the_same_thread_is_served() {
    for mode in MODES {
        let cold = cold_segment(3 << 20, 1);
        let hot = Segment::new(pattern(4 << 20, 2));
        let mut config = WriterConfig::new(mode);
        config.threads = 1;
        config.cold_read_threads = 1;
        let (writer, events) = writer_with(config);
        writer.hold_cold_reads(true);
        let (cold_socket, mut cold_reader) = socket_pair(None);
        let (hot_socket, hot_reader) = socket_pair(Some(64 << 10));
        let cold_conn = writer.register(cold_socket.as_fd_ref()).unwrap();
        let hot_conn = writer.register(hot_socket.as_fd_ref()).unwrap();

        // The cold response: nothing of it is written (not even its header) until it is warm.
        let header = pattern(40, 3);
        let plan = vec![
            Part::from(header.clone()),
            Part::from(cold.range(100, 2 << 20)),
        ];
        let pending = writer.send(cold_conn, plan, 1).unwrap();
        assert_eq!(pending, 40 + (2 << 20), "{mode:?}: the whole send waits");
        // A later response on the same connection queues behind it.
        let trailer = pattern(10, 4);
        writer
            .send(cold_conn, vec![Part::from(trailer.clone())], 2)
            .unwrap();
        assert_eq!(writer.stats().cold_ranges_deferred, 1);

        // The hot connection, on the same (only) epoll thread, is served meanwhile: 4 MiB
        // through a small socket buffer, so most of it goes out from the epoll thread.
        let reader = spawn_reader(hot_reader, 4 << 20, Pace::Fast);
        let pending = writer
            .send(hot_conn, vec![Part::from(hot.range(0, 4 << 20))], 7)
            .unwrap();
        if pending > 0 {
            assert_eq!(next_sent(&events), (hot_conn, 7), "{mode:?}");
        }
        assert_eq!(reader.join().unwrap(), hot.data, "{mode:?}: hot bytes");
        assert_eq!(
            writer.pending_bytes(cold_conn).unwrap(),
            40 + (2 << 20) + 10
        );

        // Released, the cold response goes out whole, then the one behind it, in order.
        let cold_received = std::thread::spawn(move || {
            let header = read_exactly(&mut cold_reader, 40);
            let body = read_exactly(&mut cold_reader, 2 << 20);
            let trailer = read_exactly(&mut cold_reader, 10);
            (header, body, trailer)
        });
        writer.hold_cold_reads(false);
        assert_eq!(next_sent(&events), (cold_conn, 1), "{mode:?}");
        assert_eq!(next_sent(&events), (cold_conn, 2), "{mode:?}");
        let (got_header, body, got_trailer) = cold_received.join().unwrap();
        assert_eq!(got_header, header);
        assert!(
            body == cold.bytes(100, 2 << 20),
            "{mode:?}: cold bytes differ"
        );
        assert_eq!(got_trailer, trailer);
        let stats = writer.stats();
        assert!(stats.cold_bytes_warmed >= 1 << 20, "{stats:?}");
        assert!(stats.cold_ranges_deferred >= 1, "{stats:?}");
        assert!(stats.cold_wait_micros > 0, "{stats:?}");
        writer.close();
    }
}

#[test]
fn warm_ranges_go_out_inline_by_sendfile_after_one_probe() {
    let segment = Segment::new(pattern(256 << 10, 5));
    let (writer, _events) = writer_with(WriterConfig::new(WriterMode::Sendfile));
    let (socket, reader) = socket_pair(None);
    let conn = writer.register(socket.as_fd_ref()).unwrap();
    let reader = spawn_reader(reader, 256 << 10, Pace::Fast);
    let pending = writer
        .send(conn, vec![Part::from(segment.range(0, 256 << 10))], 1)
        .unwrap();
    assert_eq!(pending, 0);
    assert_eq!(reader.join().unwrap(), segment.data);
    let stats = writer.stats();
    assert_eq!(stats.residency_probes, 1);
    assert_eq!(stats.cold_ranges_deferred, 0);
    assert_eq!(stats.sendfile_bytes, 256 << 10);
    assert_eq!(stats.sends_inline, 1);
}

#[test]
fn without_cold_read_threads_nothing_is_probed_and_a_cold_range_is_sent_at_once() {
    let cold = cold_segment(1 << 20, 6);
    let mut config = WriterConfig::new(WriterMode::Sendfile);
    config.cold_read_threads = 0;
    let (writer, _events) = writer_with(config);
    let (socket, reader) = socket_pair(None);
    let conn = writer.register(socket.as_fd_ref()).unwrap();
    let reader = spawn_reader(reader, 1 << 20, Pace::Fast);
    writer
        .send(conn, vec![Part::from(cold.range(0, 1 << 20))], 1)
        .unwrap();
    assert_eq!(reader.join().unwrap(), cold.data);
    let stats = writer.stats();
    assert_eq!((stats.residency_probes, stats.cold_ranges_deferred), (0, 0));
}

#[test]
fn a_long_cold_range_is_warmed_window_by_window_and_arrives_whole() {
    let cold = cold_segment(5 << 20, 8);
    let mut config = WriterConfig::new(WriterMode::Sendfile);
    config.threads = 1;
    let (writer, events) = writer_with(config);
    let (socket, reader) = socket_pair(None);
    let conn = writer.register(socket.as_fd_ref()).unwrap();
    let reader = spawn_reader(reader, (5 << 20) - 3, Pace::Fast);
    let pending = writer
        .send(conn, vec![Part::from(cold.range(3, (5 << 20) - 3))], 9)
        .unwrap();
    assert!(pending > 0);
    assert_eq!(next_sent(&events), (conn, 9));
    assert!(reader.join().unwrap() == cold.bytes(3, (5 << 20) - 3));
    let stats = writer.stats();
    // 1 MiB per turn: each window past the read-ahead may be found cold again.
    assert!(stats.cold_ranges_deferred >= 1, "{stats:?}");
    assert!(stats.cold_bytes_warmed >= 1 << 20, "{stats:?}");
}

/// `as_fd()` on a borrowed stream, named for readability at the call sites.
trait AsFdRef {
    fn as_fd_ref(&self) -> std::os::fd::BorrowedFd<'_>;
}

impl<T: std::os::fd::AsFd> AsFdRef for T {
    fn as_fd_ref(&self) -> std::os::fd::BorrowedFd<'_> {
        self.as_fd()
    }
}
