//! A Fetch response over a real log and a real socket, while the log changes under it: the
//! response is framed (a size prefix counting the range's length) when it is built, and written
//! later. A truncation in between (a follower truncating to the leader, a truncation on
//! recovery) must fail the send and close that connection — never a short frame nor a dropped
//! empty range, which would leave the peer's byte stream out of step — and be counted. A
//! compaction swap in between is not a truncation: the range keeps the replaced file's inode,
//! so the framed bytes are sent whole.
//!
//! Every case runs for both append modes and every writer mode.

mod common;
mod compaction_support;
#[path = "transfer_support.rs"]
mod support;

use std::os::fd::AsFd;
use std::sync::mpsc::{self, Receiver};
use std::time::Duration;

use common::{append_batches, open, range_bytes};
use compaction_support::{compact_config, keyed_batch, kv};
use sluice_log::records::codec::Codec;
use sluice_log::writer::{Event, Part, Writer, WriterMode};
use sluice_log::{AppendMode, CleanerSettings, FileRange, Log, LogConfig};
use support::{socket_pair, spawn_reader_to_eof};

const APPEND_MODES: [AppendMode; 2] = [AppendMode::Mmap, AppendMode::Pwrite];
const WRITER_MODES: [WriterMode; 3] = [WriterMode::Sendfile, WriterMode::Splice, WriterMode::Copy];
const EVENT_WAIT: Duration = Duration::from_secs(20);

fn writer(mode: WriterMode) -> (Writer, Receiver<Event>) {
    let (events, received) = mpsc::channel();
    let writer = Writer::new(mode, move |batch| {
        for event in batch {
            let _ = events.send(event);
        }
    })
    .expect("writer");
    (writer, received)
}

/// A log of one segment holding 64 batches of about 16 KiB (offsets 0..64).
fn filled_log(dir: &std::path::Path, mode: AppendMode) -> Log {
    let config = LogConfig {
        segment_bytes: 8 << 20,
        append_mode: mode,
        retention_ms: -1,
        ..LogConfig::default()
    };
    let mut log = open(dir, config);
    append_batches(&mut log, 64, 1, 16_000, 1_000);
    assert_eq!(log.segment_count(), 1);
    log
}

/// The Fetch-style plan for a range: its length as a size prefix, then the range.
fn framed(range: &FileRange) -> Vec<Part<'static>> {
    let prefix = u32::try_from(range.len())
        .expect("a small range")
        .to_be_bytes();
    vec![Part::from(prefix.to_vec()), Part::from(range.clone())]
}

#[test]
fn a_log_truncated_under_a_queued_fetch_fails_that_connection_and_is_counted() {
    for append_mode in APPEND_MODES {
        for mode in WRITER_MODES {
            let dir = tempfile::tempdir().unwrap();
            let mut log = filled_log(dir.path(), append_mode);
            let range = log.read(0, 2 << 20, true).unwrap().expect("data").range;
            let framed_len = 4 + range.len();
            let (writer, events) = writer(mode);
            // The reader does not read until the truncation happened: the send must queue.
            let (socket, reader) = socket_pair(Some(4096));
            let conn = writer.register(socket.as_fd()).expect("register");
            let pending = writer.send(conn, framed(&range), 7).expect("send");
            assert!(pending > 0, "{append_mode:?}/{mode:?}: a 1 MiB send queues");

            log.truncate_to(32).unwrap(); // a follower truncating to its leader
            assert_eq!(log.log_end_offset(), 32);
            let received = spawn_reader_to_eof(reader);
            match events.recv_timeout(EVENT_WAIT).expect("an event") {
                Event::Failed {
                    conn: c,
                    token,
                    error,
                    bytes,
                } => {
                    assert_eq!((c, token), (conn, 7), "{append_mode:?}/{mode:?}");
                    assert_eq!(error.code(), "TRANSFER_IO", "{mode:?}: {error}");
                    assert!(bytes < framed_len, "{mode:?}: {bytes} of {framed_len}");
                }
                other => panic!("{append_mode:?}/{mode:?}: expected a failure, got {other:?}"),
            }
            let stats = writer.stats();
            assert_eq!(
                (stats.errors, stats.truncated_ranges),
                (1, 1),
                "{append_mode:?}/{mode:?}"
            );
            let again = writer.send(conn, vec![Part::from(b"next".to_vec())], 8);
            assert_eq!(again.expect_err("failed").code(), "CONNECTION_CLOSED");
            drop(socket);
            writer.unregister(conn).expect("unregister");
            let received = received.join().expect("reader");
            assert!(
                (received.len() as u64) < framed_len,
                "{append_mode:?}/{mode:?}: the peer never gets the whole frame"
            );
            log.close().unwrap();
        }
    }
}

#[test]
fn a_log_truncated_between_read_and_send_fails_the_send_even_down_to_nothing() {
    // Truncated into the range (fewer bytes) and below its start (zero bytes: an empty file
    // chunk that must not be dropped, as its length is in the prefix already).
    for cut in [32, 0] {
        for append_mode in APPEND_MODES {
            for mode in WRITER_MODES {
                let dir = tempfile::tempdir().unwrap();
                let mut log = filled_log(dir.path(), append_mode);
                let range = log.read(0, 2 << 20, true).unwrap().expect("data").range;
                log.truncate_to(cut).unwrap();
                assert!(range.sendable_len() < range.len());
                let (writer, _events) = writer(mode);
                let (socket, reader) = socket_pair(None);
                let conn = writer.register(socket.as_fd()).expect("register");
                let error = writer
                    .send(conn, framed(&range), 1)
                    .expect_err("a truncated range");
                assert_eq!(error.code(), "TRANSFER_IO", "cut {cut} {mode:?}: {error}");
                assert_eq!(writer.stats().truncated_ranges, 1, "cut {cut} {mode:?}");
                drop(socket);
                writer.unregister(conn).expect("unregister");
                let received = spawn_reader_to_eof(reader).join().expect("reader");
                assert!(received.is_empty(), "cut {cut} {mode:?}: nothing went out");
                log.close().unwrap();
            }
        }
    }
}

#[test]
fn a_compaction_swap_under_a_queued_fetch_sends_the_framed_bytes_whole() {
    for append_mode in APPEND_MODES {
        for mode in WRITER_MODES {
            let dir = tempfile::tempdir().unwrap();
            let config = LogConfig {
                append_mode,
                ..compact_config(1 << 20)
            };
            let mut log = open(dir.path(), config);
            // 20 keys overwritten 60 times with 2 KiB values: 2.4 MiB, 3 segments.
            let value = "v".repeat(2048);
            for round in 0..1_200 {
                let key = format!("key-{}", round % 20);
                let mut batch = keyed_batch(&[kv(&key, Some(&value))], 1_000, Codec::None, None);
                log.append(&mut batch, 1_000, 0).unwrap();
            }
            assert!(log.segment_count() > 2);
            let range = log.read(0, 1 << 20, true).unwrap().expect("data").range;
            let mut expected = u32::try_from(range.len()).unwrap().to_be_bytes().to_vec();
            expected.extend_from_slice(&range_bytes(&range));
            let (writer, events) = writer(mode);
            let (socket, reader) = socket_pair(Some(4096));
            let conn = writer.register(socket.as_fd()).expect("register");
            let pending = writer.send(conn, framed(&range), 3).expect("send");
            assert!(pending > 0, "{append_mode:?}/{mode:?}: the send queues");

            let stats = log
                .clean(10_000, &CleanerSettings::default())
                .unwrap()
                .expect("a dirty log is cleaned");
            assert!(stats.segments_cleaned > 0);
            assert!(
                log.read(0, 1 << 20, true).unwrap().unwrap().range.len() < range.len(),
                "the segment the range came from was replaced by a smaller one"
            );
            let received = spawn_reader_to_eof(reader);
            match events.recv_timeout(EVENT_WAIT).expect("an event") {
                Event::Sent {
                    conn: c,
                    token,
                    bytes,
                } => {
                    assert_eq!((c, token, bytes), (conn, 3, expected.len() as u64));
                }
                other => panic!("{append_mode:?}/{mode:?}: expected Sent, got {other:?}"),
            }
            assert_eq!(writer.stats().truncated_ranges, 0);
            drop(socket);
            writer.unregister(conn).expect("unregister");
            assert!(
                received.join().expect("reader") == expected,
                "{append_mode:?}/{mode:?}: the old segment's bytes, whole"
            );
            log.close().unwrap();
        }
    }
}
