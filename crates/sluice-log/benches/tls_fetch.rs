//! TLS fetch micro-benchmark: 1 MiB file ranges from a segment file in the page cache to a
//! loopback TCP reader, three ways side by side in one run:
//!
//! - `writer tls`: the connection writer's TLS path (rustls in the writer thread, pread 16 KiB
//!   records from the file, encrypt, send) — what a Fetch response on an SSL listener does;
//! - `writer plain`: the same writer on a plaintext connection (sendfile), the PLAINTEXT listener;
//! - `raw rustls probe`: one thread doing nothing but pread + rustls encrypt + send on a blocking
//!   socket — the ceiling for a rustls sender on this machine, with no writer machinery.
//!
//! The reader is a rustls client (decrypting, as a real consumer does) or a plain reader, in its
//! own thread. Per row: MB/s, and the sender thread's CPU seconds per GB (the writer's epoll
//! thread from /proc/self/task, or the probe thread), and the reader's. On 2 vCPUs the reader's
//! decryption shares the cores with the sender, which caps every TLS row.
//!
//! Run: `cargo bench -p sluice-log --bench tls_fetch` (SLUICE_BENCH_SECONDS per row, default 2).

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::fd::AsFd;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::sync::mpsc::channel;
use std::time::{Duration, Instant};

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use sluice_log::FileRange;
use sluice_log::writer::{Event, Part, TlsOptions, Writer, WriterConfig, WriterMode};

const SEGMENT_BYTES: usize = 64 << 20;
const RANGE_BYTES: u64 = 1 << 20;
const IN_FLIGHT: usize = 8;

struct Row {
    name: &'static str,
    bytes: u64,
    elapsed: Duration,
    sender_cpu: f64,
    reader_cpu: f64,
}

fn main() {
    let seconds: f64 = std::env::var("SLUICE_BENCH_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(2.0);
    let dir = tempfile::tempdir().unwrap();
    let (server, client) = tls_configs(dir.path());
    let segment = dir.path().join("segment.log");
    let data: Vec<u8> = (0..SEGMENT_BYTES).map(|i| (i * 31 % 251) as u8).collect();
    std::fs::write(&segment, &data).unwrap();
    let file = Arc::new(std::fs::File::open(&segment).unwrap());
    // Warm the page cache.
    let _ = std::fs::read(&segment).unwrap();
    let run_for = Duration::from_secs_f64(seconds);
    println!(
        "tls_fetch: 1 MiB ranges of a page-cached segment -> loopback TCP, {seconds} s per row, {IN_FLIGHT} sends in flight"
    );
    let rows = [
        writer_row(
            "writer tls (rustls, writer thread)",
            Some((server.clone(), client.clone())),
            &file,
            run_for,
        ),
        writer_row("writer plain (sendfile)", None, &file, run_for),
        probe_row(server, client, &file, run_for),
    ];
    println!();
    println!("| path | MB/s | sender CPU s/GB | reader CPU s/GB |");
    println!("|---|---|---|---|");
    for row in &rows {
        let gb = row.bytes as f64 / 1e9;
        println!(
            "| {} | {:.0} | {:.2} | {:.2} |",
            row.name,
            row.bytes as f64 / 1e6 / row.elapsed.as_secs_f64(),
            row.sender_cpu / gb,
            row.reader_cpu / gb
        );
    }
    let mbps = |r: &Row| r.bytes as f64 / r.elapsed.as_secs_f64();
    println!();
    println!(
        "writer tls / raw rustls probe: {:.2}",
        mbps(&rows[0]) / mbps(&rows[2])
    );
    println!(
        "writer tls / writer plain:     {:.2}",
        mbps(&rows[0]) / mbps(&rows[1])
    );
}

fn tls_configs(dir: &std::path::Path) -> (Arc<rustls::ServerConfig>, Arc<rustls::ClientConfig>) {
    let out = Command::new("openssl")
        .current_dir(dir)
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            "key.pem",
            "-out",
            "cert.pem",
            "-days",
            "1",
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=DNS:localhost",
            "-addext",
            "basicConstraints=critical,CA:FALSE",
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    let read = |name: &str| std::fs::read_to_string(dir.join(name)).unwrap();
    let server = sluice_tls::server_config(&sluice_tls::TlsSettings {
        keystore_type: Some("PEM".into()),
        keystore_certificate_chain: Some(read("cert.pem")),
        keystore_key: Some(read("key.pem")),
        ..Default::default()
    })
    .unwrap();
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(CertificateDer::from_pem_slice(read("cert.pem").as_bytes()).unwrap())
        .unwrap();
    let client = rustls::ClientConfig::builder_with_provider(Arc::new(sluice_tls::ring_provider()))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    (server, Arc::new(client))
}

fn pair() -> (TcpStream, TcpStream) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    let (server, _) = listener.accept().unwrap();
    server.set_nodelay(true).unwrap();
    (server, client)
}

/// Reads (decrypting when `tls`) until the sender closes; returns its thread CPU seconds.
fn spawn_reader(
    stream: TcpStream,
    tls: Option<Arc<rustls::ClientConfig>>,
) -> std::thread::JoinHandle<f64> {
    std::thread::spawn(move || {
        let mut buffer = vec![0u8; 1 << 20];
        match tls {
            Some(config) => {
                let session = rustls::ClientConnection::new(
                    config,
                    ServerName::try_from("localhost").unwrap(),
                )
                .unwrap();
                let mut stream = rustls::StreamOwned::new(session, stream);
                while let Ok(n) = stream.read(&mut buffer) {
                    if n == 0 {
                        break;
                    }
                }
            }
            None => {
                let mut stream = stream;
                while let Ok(n) = stream.read(&mut buffer) {
                    if n == 0 {
                        break;
                    }
                }
            }
        }
        thread_cpu_seconds()
    })
}

fn writer_row(
    name: &'static str,
    tls: Option<(Arc<rustls::ServerConfig>, Arc<rustls::ClientConfig>)>,
    file: &Arc<std::fs::File>,
    run_for: Duration,
) -> Row {
    let (events_tx, events) = channel();
    let (tls_tx, tls_events) = channel();
    let writer = Writer::with_tls(
        WriterConfig::new(WriterMode::Sendfile),
        TlsOptions::default(),
        move |batch| batch.into_iter().for_each(|e| drop(events_tx.send(e))),
        move |batch| batch.into_iter().for_each(|e| drop(tls_tx.send(e))),
    )
    .unwrap();
    let (server, client) = pair();
    let (conn, reader) = match &tls {
        Some((server_config, client_config)) => {
            let conn = writer
                .register_tls(server.as_fd(), server_config.clone())
                .unwrap();
            (conn, spawn_reader(client, Some(client_config.clone())))
        }
        None => (
            writer.register(server.as_fd()).unwrap(),
            spawn_reader(client, None),
        ),
    };
    if tls.is_some() {
        // The handshake, before the clock starts.
        let _ = tls_events.recv_timeout(Duration::from_secs(10)).unwrap();
    }
    let writer_cpu_before = writer_thread_cpu_seconds();
    let started = Instant::now();
    let (mut sent, mut token, mut outstanding) = (0u64, 0u64, 0usize);
    let mut offset = 0u64;
    while started.elapsed() < run_for {
        while outstanding < IN_FLIGHT {
            let range = FileRange::new(
                file.clone(),
                offset,
                RANGE_BYTES,
                Arc::new(AtomicU64::new(SEGMENT_BYTES as u64)),
            );
            offset = (offset + RANGE_BYTES) % SEGMENT_BYTES as u64;
            token += 1;
            if writer.send(conn, vec![Part::File(range)], token).unwrap() == 0 {
                sent += RANGE_BYTES;
            } else {
                outstanding += 1;
            }
        }
        match events.recv_timeout(Duration::from_secs(10)).unwrap() {
            Event::Sent { bytes, .. } => {
                sent += bytes;
                outstanding -= 1;
            }
            Event::Failed { error, .. } => panic!("{error}"),
        }
    }
    while outstanding > 0 {
        if let Event::Sent { bytes, .. } = events.recv_timeout(Duration::from_secs(10)).unwrap() {
            sent += bytes;
            outstanding -= 1;
        }
    }
    let elapsed = started.elapsed();
    let sender_cpu = writer_thread_cpu_seconds() - writer_cpu_before;
    writer.unregister(conn).unwrap();
    drop(server);
    writer.close();
    let reader_cpu = reader.join().unwrap();
    Row {
        name,
        bytes: sent,
        elapsed,
        sender_cpu,
        reader_cpu,
    }
}

fn probe_row(
    server_config: Arc<rustls::ServerConfig>,
    client_config: Arc<rustls::ClientConfig>,
    file: &Arc<std::fs::File>,
    run_for: Duration,
) -> Row {
    let (server, client) = pair();
    let reader = spawn_reader(client, Some(client_config));
    let file = file.clone();
    let sender = std::thread::spawn(move || {
        let mut session = rustls::ServerConnection::new(server_config).unwrap();
        let mut socket = server;
        while session.is_handshaking() {
            session.complete_io(&mut socket).unwrap();
        }
        // The same shape as the writer (16 KiB records, 256 KiB of records per flush), without
        // its queue, events or epoll: one blocking thread.
        session.set_buffer_limit(Some(256 << 10));
        let cpu_before = thread_cpu_seconds();
        let started = Instant::now();
        let mut buffer = vec![0u8; 16 << 10];
        let (mut sent, mut offset) = (0u64, 0u64);
        while started.elapsed() < run_for {
            for _ in 0..16 {
                let n = std::os::unix::fs::FileExt::read_at(&*file, &mut buffer, offset).unwrap();
                let taken = session.writer().write(&buffer[..n]).unwrap();
                offset = (offset + taken as u64) % SEGMENT_BYTES as u64;
                sent += taken as u64;
            }
            while session.wants_write() {
                session.write_tls(&mut socket).unwrap();
            }
        }
        let elapsed = started.elapsed();
        let cpu = thread_cpu_seconds() - cpu_before;
        session.send_close_notify();
        while session.wants_write() {
            if session.write_tls(&mut socket).is_err() {
                break;
            }
        }
        (sent, elapsed, cpu)
    });
    let (bytes, elapsed, sender_cpu) = sender.join().unwrap();
    let reader_cpu = reader.join().unwrap();
    Row {
        name: "raw rustls probe (one thread)",
        bytes,
        elapsed,
        sender_cpu,
        reader_cpu,
    }
}

fn thread_cpu_seconds() -> f64 {
    // SAFETY: getrusage fills a zeroed struct.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: RUSAGE_THREAD on the calling thread with a live struct.
    unsafe { libc::getrusage(libc::RUSAGE_THREAD, &mut usage) };
    let tv = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    tv(usage.ru_utime) + tv(usage.ru_stime)
}

/// CPU seconds of this process's threads named "sluice-writer" (utime + stime, clock ticks).
fn writer_thread_cpu_seconds() -> f64 {
    // SAFETY: sysconf has no preconditions.
    let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
    let mut total = 0.0;
    for task in std::fs::read_dir("/proc/self/task").unwrap().flatten() {
        let comm = std::fs::read_to_string(task.path().join("comm")).unwrap_or_default();
        if comm.trim() != "sluice-writer" {
            continue;
        }
        let stat = std::fs::read_to_string(task.path().join("stat")).unwrap_or_default();
        // Fields after the ")" closing comm: state is field 3, utime 14, stime 15.
        let rest = &stat[stat.rfind(')').map_or(0, |i| i + 2)..];
        let fields: Vec<&str> = rest.split_whitespace().collect();
        if fields.len() > 12 {
            total +=
                fields[11].parse::<f64>().unwrap_or(0.0) + fields[12].parse::<f64>().unwrap_or(0.0);
        }
    }
    total / ticks
}
