//! Connection writer tests that count this process's open fds (/proc/self/fd). They run in a
//! process of their own and one at a time, so no other test opens fds while they count.

#[path = "transfer_support.rs"]
mod support;

use std::io::Read;
use std::os::fd::AsFd;
use std::sync::Mutex;
use std::sync::mpsc::{self, Receiver};
use std::time::Duration;

use sluice_log::writer::{Event, Part, Writer, WriterMode};
use support::*;

const MODES: [WriterMode; 3] = [WriterMode::Sendfile, WriterMode::Splice, WriterMode::Copy];
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

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

#[test]
fn a_peer_that_disconnects_mid_send_gives_a_failed_event_and_leaks_no_fd() {
    let _serial = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    for mode in MODES {
        for tcp in [false, true] {
            let segment = Segment::new(pattern(4 << 20, 1));
            let (writer, events) = writer(mode);
            let baseline = open_fd_count();
            let (socket, mut reader): (Box<dyn AsFd>, Box<dyn Read + Send>) = if tcp {
                let (w, r) = tcp_pair(Some(4096));
                (Box::new(w), Box::new(r))
            } else {
                let (w, r) = socket_pair(Some(4096));
                (Box::new(w), Box::new(r))
            };
            let conn = writer.register(socket.as_fd()).expect("register");
            let plan = vec![
                Part::from(b"header".to_vec()),
                Part::from(segment.range(0, 4 << 20)),
            ];
            let pending = writer.send(conn, plan, 77).expect("send");
            assert!(pending > 0, "{mode:?} tcp={tcp}");
            // Read a little, then go away with unread data (TCP answers with a reset).
            let mut buffer = vec![0u8; 16 * 1024];
            reader.read_exact(&mut buffer).expect("read a little");
            drop(reader);
            match events
                .recv_timeout(Duration::from_secs(20))
                .expect("an event")
            {
                Event::Failed {
                    conn: c,
                    token,
                    bytes,
                    error,
                } => {
                    assert_eq!((c, token), (conn, 77), "{mode:?} tcp={tcp}");
                    assert!(
                        (16 * 1024..6 + (4 << 20)).contains(&bytes),
                        "{mode:?} tcp={tcp}: {bytes}"
                    );
                    assert_eq!(error.code(), "PEER_RESET", "{mode:?} tcp={tcp}: {error}");
                    let errno = error.errno();
                    assert!(
                        errno == Some(libc::EPIPE) || errno == Some(libc::ECONNRESET),
                        "{error}"
                    );
                }
                Event::Sent { .. } => {
                    panic!("{mode:?} tcp={tcp}: all bytes cannot reach a closed peer")
                }
            }
            assert_eq!(
                writer.pending_bytes(conn).expect("pending"),
                0,
                "the queue is dropped"
            );
            let again = writer
                .send(conn, vec![Part::from(b"more".to_vec())], 78)
                .expect_err("closed");
            assert_eq!(again.code(), "CONNECTION_CLOSED");
            writer.unregister(conn).expect("unregister");
            drop(socket);
            assert_eq!(open_fd_count(), baseline, "{mode:?} tcp={tcp}: fds leaked");
            let stats = writer.stats();
            assert_eq!(
                (stats.errors, stats.queued_bytes, stats.connections),
                (1, 0, 0),
                "{stats:?}"
            );
        }
    }
}

#[test]
fn unregister_drops_queued_data_and_closes_the_dup() {
    let _serial = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    for mode in MODES {
        let segment = Segment::new(pattern(1 << 20, 2));
        let (writer, events) = writer(mode);
        let baseline = open_fd_count();
        let (socket, peer) = socket_pair(Some(4096));
        let conn = writer.register(socket.as_fd()).expect("register");
        let pending = writer
            .send(conn, vec![Part::from(segment.range(0, 1 << 20))], 1)
            .expect("send");
        assert!(pending > 0);
        assert_eq!(
            writer.unregister(conn).expect("unregister"),
            pending,
            "{mode:?}"
        );
        assert_eq!(writer.stats().queued_bytes, 0);
        // Once our own fd closes, the peer sees EOF only if the writer's dup is closed too.
        drop(socket);
        peer.set_read_timeout(Some(Duration::from_secs(5)))
            .expect("timeout");
        let received = spawn_reader_to_eof(peer).join().expect("reader");
        assert_eq!(
            received.len() as u64,
            (1 << 20) - pending,
            "{mode:?}: only what was written inline"
        );
        assert!(received == segment.data[..received.len()]);
        assert!(
            events.recv_timeout(Duration::from_millis(100)).is_err(),
            "{mode:?}: no event after unregister"
        );
        assert_eq!(open_fd_count(), baseline, "{mode:?}: fds leaked");
    }
}

#[test]
fn closing_the_writer_closes_every_connection_and_its_own_fds() {
    let _serial = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    for mode in MODES {
        let segment = Segment::new(pattern(1 << 20, 3));
        let baseline = open_fd_count();
        let (writer, _events) = writer(mode);
        let mut peers = Vec::new();
        for _ in 0..4 {
            let (socket, peer) = socket_pair(Some(4096));
            let conn = writer.register(socket.as_fd()).expect("register");
            writer
                .send(conn, vec![Part::from(segment.range(0, 1 << 20))], 1)
                .expect("send");
            peers.push(peer);
        }
        writer.close();
        assert_eq!(writer.stats().connections, 0);
        for peer in peers {
            // The test's own socket ends were dropped in the loop: EOF proves the dups closed
            // (a dup left open shows as a timeout here and as an fd leak below).
            peer.set_read_timeout(Some(Duration::from_secs(5)))
                .expect("timeout");
            let received = spawn_reader_to_eof(peer).join().expect("reader");
            assert!(received.len() < 1 << 20);
        }
        // close() releases the writer's own epoll fd and eventfd too, without waiting for drop.
        assert_eq!(open_fd_count(), baseline, "{mode:?}: fds leaked");
        drop(writer);
        assert_eq!(open_fd_count(), baseline, "{mode:?}: fds leaked");
    }
}
