//! The writer's threads and socket options: connections spread over several epoll threads (each
//! connection's events from one thread, in order), and SO_SNDBUF set at registration.

#[path = "transfer_support.rs"]
mod support;

use std::collections::HashMap;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd};
use std::os::unix::net::UnixStream;
use std::sync::mpsc;
use std::thread::ThreadId;
use std::time::Duration;

use sluice_log::writer::{
    ConnId, Event, MAX_DEFAULT_THREADS, Part, Writer, WriterConfig, WriterMode, default_threads,
};
use support::*;

const EVENT_WAIT: Duration = Duration::from_secs(20);

fn send_buffer_of(fd: BorrowedFd<'_>) -> usize {
    let mut value: libc::c_int = 0;
    let mut len = size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: getsockopt writes at most `len` bytes into `value`.
    let rc = unsafe {
        libc::getsockopt(
            fd.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_SNDBUF,
            (&mut value as *mut libc::c_int).cast(),
            &mut len,
        )
    };
    assert_eq!(rc, 0, "getsockopt: {}", std::io::Error::last_os_error());
    value as usize
}

#[test]
fn the_default_thread_count_follows_the_cores_within_its_cap() {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    assert_eq!(default_threads(), cores.clamp(1, MAX_DEFAULT_THREADS));
    assert_eq!(
        WriterConfig::new(WriterMode::Sendfile).threads,
        default_threads()
    );
    let mut config = WriterConfig::new(WriterMode::Sendfile);
    config.threads = 3;
    let writer = Writer::with_config(config, |_| {}).expect("writer");
    assert_eq!(writer.threads(), 3);
}

#[test]
fn queued_sends_spread_over_the_threads_and_each_connection_reports_from_one_in_order() {
    for mode in [WriterMode::Sendfile, WriterMode::Splice, WriterMode::Copy] {
        let mut config = WriterConfig::new(mode);
        config.threads = 3;
        let (events, received) = mpsc::channel::<(ThreadId, Event)>();
        let writer = Writer::with_config(config, move |batch| {
            let thread = std::thread::current().id();
            for event in batch {
                let _ = events.send((thread, event));
            }
        })
        .expect("writer");
        let segment = Segment::new(pattern(256 << 10, 7));
        let sends_per_connection = 4u64;
        let mut readers = Vec::new();
        let mut sockets: Vec<UnixStream> = Vec::new();
        let mut conns: Vec<ConnId> = Vec::new();
        for _ in 0..6 {
            let (socket, reader) = socket_pair(Some(4096));
            let conn = writer.register(socket.as_fd()).expect("register");
            readers.push(spawn_reader(
                reader,
                (256 << 10) * sends_per_connection as usize,
                SLOW,
            ));
            sockets.push(socket);
            conns.push(conn);
        }
        let mut queued = 0;
        for round in 0..sends_per_connection {
            for &conn in &conns {
                let plan = vec![Part::from(segment.range(0, 256 << 10))];
                if writer.send(conn, plan, conn * 100 + round).expect("send") > 0 {
                    queued += 1;
                }
            }
        }
        // Each connection's events come from one thread, tokens in send order.
        let mut thread_of: HashMap<ConnId, ThreadId> = HashMap::new();
        let mut last_token: HashMap<ConnId, u64> = HashMap::new();
        for _ in 0..queued {
            let (thread, event) = received.recv_timeout(EVENT_WAIT).expect("event");
            let Event::Sent { conn, token, bytes } = event else {
                panic!("{mode:?}: {event:?}");
            };
            assert_eq!(bytes, 256 << 10);
            assert_eq!(*thread_of.entry(conn).or_insert(thread), thread, "{mode:?}");
            if let Some(previous) = last_token.insert(conn, token) {
                assert!(token > previous, "{mode:?}: {token} after {previous}");
            }
        }
        let threads: std::collections::HashSet<_> = thread_of.values().collect();
        assert_eq!(
            threads.len(),
            3,
            "{mode:?}: six slow connections should use all three threads"
        );
        for reader in readers {
            let bytes = reader.join().expect("reader");
            assert_eq!(bytes.len(), (256 << 10) * sends_per_connection as usize);
            for chunk in bytes.chunks(256 << 10) {
                assert!(chunk == segment.data.as_slice(), "{mode:?}: bytes differ");
            }
        }
        drop(sockets);
    }
}

#[test]
fn a_connection_placed_on_a_thread_frees_its_place_when_unregistered() {
    let mut config = WriterConfig::new(WriterMode::Sendfile);
    config.threads = 2;
    let (events, received) = mpsc::channel::<ThreadId>();
    let writer = Writer::with_config(config, move |batch| {
        for _ in batch {
            let _ = events.send(std::thread::current().id());
        }
    })
    .expect("writer");
    let segment = Segment::new(pattern(1 << 20, 3));
    // Register and unregister many times: new connections keep going to an empty thread, so two
    // live connections always land on different threads.
    for _ in 0..5 {
        let mut pairs = Vec::new();
        let mut threads = Vec::new();
        for _ in 0..2 {
            let (socket, reader) = socket_pair(Some(4096));
            let conn = writer.register(socket.as_fd()).expect("register");
            let handle = spawn_reader(reader, 1 << 20, SLOW);
            let plan = vec![Part::from(segment.range(0, 1 << 20))];
            assert!(writer.send(conn, plan, 1).expect("send") > 0);
            pairs.push((conn, socket, handle));
        }
        for _ in 0..2 {
            threads.push(received.recv_timeout(EVENT_WAIT).expect("event"));
        }
        assert_ne!(threads[0], threads[1]);
        for (conn, socket, handle) in pairs {
            assert!(handle.join().expect("reader") == segment.data);
            writer.unregister(conn).expect("unregister");
            drop(socket);
        }
    }
}

#[test]
fn the_send_buffer_is_set_on_registration_only_when_configured() {
    let (untouched, _r1) = tcp_pair(None);
    let before = send_buffer_of(untouched.as_fd());
    let writer = Writer::new(WriterMode::Sendfile, |_| {}).expect("writer");
    writer.register(untouched.as_fd()).expect("register");
    assert_eq!(send_buffer_of(untouched.as_fd()), before);

    let mut config = WriterConfig::new(WriterMode::Sendfile);
    config.send_buffer_bytes = Some(96 * 1024);
    let writer = Writer::with_config(config, |_| {}).expect("writer");
    let (socket, _r2) = tcp_pair(None);
    writer.register(socket.as_fd()).expect("register");
    // Linux doubles the value it is given (room for its bookkeeping).
    assert_eq!(send_buffer_of(socket.as_fd()), 2 * 96 * 1024);
}

#[test]
fn a_zero_setting_is_an_error_not_a_panic() {
    for bad in [
        WriterConfig {
            threads: 0,
            ..WriterConfig::new(WriterMode::Sendfile)
        },
        WriterConfig {
            send_buffer_bytes: Some(0),
            ..WriterConfig::new(WriterMode::Sendfile)
        },
    ] {
        let err = Writer::with_config(bad, |_| {}).err().expect("refused");
        assert!(
            matches!(err, sluice_log::Error::InvalidConfig { .. }),
            "{err}"
        );
    }
}
