//! Raw rustls sender probe: the fastest a plain program sends a page-cached file over TLS to
//! loopback receivers on this machine — the "raw limit" the TLS fetch of a broker is compared
//! against, in the same run.
//!
//! Shaped like Sluice's TLS writer and like `probe-transfer`: one thread sends to every receiver
//! over non-blocking sockets with poll(); per stream it preads the file in 16 KiB records (one
//! TLS record each) and encrypts up to 256 KiB of records before writing them out, taking the
//! file in ranges of `chunk_bytes` (a fetch's per-partition range). Each receiver decrypts on
//! its own thread with the loadgen's TLS reader (the one fetch consumers use) and the same
//! receiver behaviour. Bytes are counted as plaintext, as a fetch consumer counts them.

use std::fs::File;
use std::io::{self, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::os::fd::AsRawFd;
use std::os::unix::fs::FileExt;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicI32, Ordering};
use std::thread;
use std::time::Duration;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::{ServerConfig, ServerConnection};
use serde_json::{Value, json};

use crate::error::{Error, IoContext, Result};
use crate::probe_transfer::page_cached_file;
use crate::receiver::{ReceiverConfig, Source};
use crate::stats::{
    ThreadUsage, process_usage, thread_usage, threads_delta_json, usage_delta_json,
};
use crate::tls::{TlsClient, TlsReader, provider};
use crate::window::{Counter, Phase, run_window};

/// Plaintext per TLS record (the maximum), and records encrypted before each socket write.
const RECORD_BYTES: usize = 16 * 1024;
const RECORDS_PER_FLUSH: usize = 16;

#[derive(Debug, Clone)]
pub struct TlsProbe {
    pub streams: usize,
    pub file_bytes: u64,
    pub chunk_bytes: u64,
    pub receiver: ReceiverConfig,
    pub dir: PathBuf,
    pub file: Option<PathBuf>,
    /// PEM file with the server's private key and certificate chain.
    pub key_store: PathBuf,
    /// PEM certificates the receivers trust.
    pub ca: PathBuf,
    pub cipher_suite: Option<String>,
}

fn server_config(cfg: &TlsProbe) -> Result<Arc<ServerConfig>> {
    let bad = |e: String| Error::Usage(format!("--key-store {}: {e}", cfg.key_store.display()));
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&cfg.key_store)
        .map_err(|e| bad(e.to_string()))?
        .collect::<std::result::Result<_, _>>()
        .map_err(|e| bad(e.to_string()))?;
    let key = PrivateKeyDer::from_pem_file(&cfg.key_store).map_err(|e| bad(e.to_string()))?;
    let config =
        ServerConfig::builder_with_provider(Arc::new(provider(cfg.cipher_suite.as_deref())?))
            .with_safe_default_protocol_versions()
            .map_err(|e| bad(e.to_string()))?
            .with_no_client_auth()
            .with_single_cert(certs, key)
            .map_err(|e| bad(e.to_string()))?;
    Ok(Arc::new(config))
}

struct Stream {
    sock: TcpStream,
    session: ServerConnection,
    pos: u64,
    range_left: u64,
}

impl Stream {
    /// Encrypts the next records of the file into the session's buffer.
    fn fill(&mut self, cfg: &TlsProbe, file: &File, buf: &mut [u8]) -> Result<()> {
        for _ in 0..RECORDS_PER_FLUSH {
            if self.range_left == 0 {
                if self.pos >= cfg.file_bytes {
                    self.pos = 0;
                }
                self.range_left = cfg.chunk_bytes.min(cfg.file_bytes - self.pos);
            }
            let want = (self.range_left as usize).min(buf.len());
            let n = file
                .read_at(&mut buf[..want], self.pos)
                .context(|| "pread".into())?;
            if n == 0 {
                return Err(Error::Protocol("pread hit end of file early".into()));
            }
            self.session
                .writer()
                .write_all(&buf[..n])
                .context(|| "TLS encrypt".into())?;
            self.pos += n as u64;
            self.range_left -= n as u64;
        }
        Ok(())
    }
}

/// One thread serving every stream, like a broker's writer thread.
fn send_all(cfg: &TlsProbe, file: &File, streams: &mut [Stream], phase: &Phase) -> Result<()> {
    let mut buf = vec![0u8; RECORD_BYTES];
    let mut fds: Vec<libc::pollfd> = streams
        .iter()
        .map(|s| libc::pollfd {
            fd: s.sock.as_raw_fd(),
            events: libc::POLLOUT,
            revents: 0,
        })
        .collect();
    while !phase.done() {
        // SAFETY: a pollfd array we own, with its length.
        let rc = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, 100) };
        if rc < 0 {
            let e = io::Error::last_os_error();
            if e.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(Error::Io {
                context: "poll probe sockets".into(),
                source: e,
            });
        }
        for (pfd, stream) in fds.iter_mut().zip(streams.iter_mut()) {
            if pfd.revents & (libc::POLLERR | libc::POLLHUP) != 0 {
                return Err(Error::Protocol("a probe receiver went away".into()));
            }
            if pfd.revents & libc::POLLOUT == 0 {
                continue;
            }
            let mut budget = cfg.chunk_bytes;
            while budget > 0 {
                if !stream.session.wants_write() {
                    stream.fill(cfg, file, &mut buf)?;
                }
                match stream.session.write_tls(&mut stream.sock) {
                    Ok(n) => budget = budget.saturating_sub(n as u64),
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => {
                        return Err(Error::Io {
                            context: "TLS send".into(),
                            source: e,
                        });
                    }
                }
            }
        }
    }
    Ok(())
}

#[derive(Default)]
struct Totals {
    bytes: Counter,
    reads: Counter,
}

fn receive(mut reader: TlsReader, cfg: ReceiverConfig, totals: &Totals) -> Result<()> {
    let marked = cfg.rcvlowat > 0;
    if marked {
        reader
            .set_rcvlowat(cfg.rcvlowat)
            .context(|| "SO_RCVLOWAT".into())?;
    }
    let mut buf = vec![0u8; cfg.read_bytes];
    loop {
        match reader.read(&mut buf, marked) {
            Ok(0) => return Ok(()),
            Ok(n) => {
                totals.bytes.add(n as u64);
                totals.reads.add(1);
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            // The sender ends the run by shutting its side; without close_notify that is an
            // unexpected EOF to TLS, and the end of the stream here.
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(()),
            Err(e) => {
                return Err(Error::Io {
                    context: "probe TLS receiver read".into(),
                    source: e,
                });
            }
        }
    }
}

fn usages(tids: &[AtomicI32]) -> Vec<ThreadUsage> {
    tids.iter()
        .map(|t| thread_usage(t.load(Ordering::Relaxed)))
        .collect()
}

pub fn run(cfg: &TlsProbe, warmup: Duration, measure: Duration) -> Result<Value> {
    cfg.receiver.validate().map_err(Error::Usage)?;
    if cfg.streams == 0 || cfg.chunk_bytes == 0 || (cfg.file.is_none() && cfg.file_bytes == 0) {
        return Err(Error::Usage(
            "streams, chunk and file sizes must be at least 1".into(),
        ));
    }
    let (file, file_bytes) = match &cfg.file {
        Some(path) => {
            let f = File::open(path).context(|| format!("open {}", path.display()))?;
            let len = f
                .metadata()
                .context(|| format!("stat {}", path.display()))?
                .len();
            if len == 0 {
                return Err(Error::Usage(format!("{} is empty", path.display())));
            }
            (f, len)
        }
        None => (
            page_cached_file(&cfg.dir, cfg.file_bytes, "tls")?,
            cfg.file_bytes,
        ),
    };
    let cfg = &TlsProbe {
        file_bytes,
        ..cfg.clone()
    };
    let server = server_config(cfg)?;
    let client = Arc::new(TlsClient::new(
        &cfg.ca.to_string_lossy(),
        cfg.cipher_suite.as_deref(),
    )?);
    let listener = TcpListener::bind("127.0.0.1:0").context(|| "bind probe listener".into())?;
    let addr = listener
        .local_addr()
        .context(|| "probe listener address".into())?
        .to_string();
    let phase = Arc::new(Phase::new());
    let totals = Arc::new(Totals::default());
    let sender_tids: Arc<Vec<AtomicI32>> = Arc::new(vec![AtomicI32::new(0)]);
    let receiver_tids: Arc<Vec<AtomicI32>> =
        Arc::new((0..cfg.streams).map(|_| AtomicI32::new(0)).collect());
    let mut streams = Vec::with_capacity(cfg.streams);
    let mut handles = Vec::new();
    let mut suite = String::new();
    for i in 0..cfg.streams {
        let (client, addr_r, totals_r, tids_r, rcfg, phase_r) = (
            client.clone(),
            addr.clone(),
            totals.clone(),
            receiver_tids.clone(),
            cfg.receiver,
            phase.clone(),
        );
        handles.push(thread::spawn(move || {
            tids_r[i].store(crate::stats::current_tid(), Ordering::Relaxed);
            let r = (|| {
                let mut sock =
                    TcpStream::connect(&addr_r).context(|| "connect probe receiver".into())?;
                let session = client.handshake(&mut sock, &addr_r)?;
                receive(
                    TlsReader::new(sock, session, rcfg.read_bytes),
                    rcfg,
                    &totals_r,
                )
            })();
            if r.is_err() {
                phase_r.finish();
            }
            r
        }));
        let (mut sock, _) = listener.accept().context(|| "accept probe stream".into())?;
        sock.set_nodelay(true).context(|| "TCP_NODELAY".into())?;
        let mut session =
            ServerConnection::new(server.clone()).map_err(|e| Error::Protocol(e.to_string()))?;
        // `fill` bounds what is encrypted ahead (RECORDS_PER_FLUSH records at a time).
        session.set_buffer_limit(None);
        while session.is_handshaking() {
            session
                .complete_io(&mut sock)
                .context(|| "probe TLS handshake".into())?;
        }
        suite = session
            .negotiated_cipher_suite()
            .map_or(String::new(), |s| format!("{:?}", s.suite()));
        sock.set_nonblocking(true)
            .context(|| "O_NONBLOCK on probe socket".into())?;
        streams.push(Stream {
            sock,
            session,
            pos: 0,
            range_left: 0,
        });
    }
    {
        let (phase_s, tids_s, cfg_s, file_s) = (
            phase.clone(),
            sender_tids.clone(),
            cfg.clone(),
            Arc::new(file),
        );
        handles.push(thread::spawn(move || {
            tids_s[0].store(crate::stats::current_tid(), Ordering::Relaxed);
            let r = send_all(&cfg_s, &file_s, &mut streams, &phase_s);
            if r.is_err() {
                phase_s.finish();
            }
            for s in &streams {
                let _ = s.sock.shutdown(Shutdown::Write);
            }
            r
        }));
    }
    while sender_tids
        .iter()
        .chain(receiver_tids.iter())
        .any(|t| t.load(Ordering::Relaxed) == 0)
    {
        thread::sleep(Duration::from_millis(1));
    }
    let span = run_window(&phase, warmup, measure, || {
        (
            totals.bytes.get(),
            totals.reads.get(),
            usages(&sender_tids),
            usages(&receiver_tids),
            process_usage(),
        )
    });
    for h in handles {
        h.join().expect("probe thread panicked")?;
    }
    let bytes = span.end.0 - span.start.0;
    let reads = span.end.1 - span.start.1;
    Ok(json!({
        "probe": "tls",
        "mode": "rustls",
        "cipher_suite": suite,
        "streams": cfg.streams,
        "file_bytes": cfg.file_bytes,
        "chunk_bytes": cfg.chunk_bytes,
        "record_bytes": RECORD_BYTES,
        "records_per_flush": RECORDS_PER_FLUSH,
        "receiver": { "read_bytes": cfg.receiver.read_bytes, "rcvlowat": cfg.receiver.rcvlowat },
        "window_s": span.seconds,
        "bytes": bytes,
        "mb_per_s": bytes as f64 / span.seconds / 1e6,
        "read_calls": reads,
        "bytes_per_read": if reads > 0 { bytes as f64 / reads as f64 } else { 0.0 },
        "sender": "one thread, rustls, pread 16 KiB records, non-blocking sockets, poll()",
        "sender_thread": threads_delta_json(&span.start.2, &span.end.2),
        "receiver_threads": threads_delta_json(&span.start.3, &span.end.3),
        "process": usage_delta_json(span.start.4, span.end.4),
    }))
}

#[cfg(test)]
pub mod tests {
    use super::*;

    /// A CA-signed server certificate for 127.0.0.1 made with openssl: (dir, key store, CA).
    pub fn pki() -> (tempfile::TempDir, PathBuf, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let ssl = |args: &[&str]| {
            let out = std::process::Command::new("openssl")
                .current_dir(dir.path())
                .args(args)
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
        };
        let ec = [
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
        ];
        ssl(&[
            &["req", "-x509"][..],
            &ec,
            &[
                "-keyout", "ca.key", "-out", "ca.pem", "-days", "1", "-subj", "/CN=ca",
            ],
        ]
        .concat());
        std::fs::write(
            dir.path().join("s.ext"),
            "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n",
        )
        .unwrap();
        ssl(&[
            &["req"][..],
            &ec,
            &[
                "-keyout",
                "s.key",
                "-out",
                "s.csr",
                "-subj",
                "/CN=localhost",
            ],
        ]
        .concat());
        ssl(&[
            "x509",
            "-req",
            "-in",
            "s.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "s.pem",
            "-days",
            "1",
            "-extfile",
            "s.ext",
        ]);
        let read = |n: &str| std::fs::read_to_string(dir.path().join(n)).unwrap();
        let store = dir.path().join("all.pem");
        std::fs::write(&store, read("s.key") + &read("s.pem") + &read("ca.pem")).unwrap();
        let ca = dir.path().join("ca.pem");
        (dir, store, ca)
    }

    #[test]
    fn the_probe_encrypts_to_decrypting_receivers_with_the_chosen_suite() {
        let (dir, key_store, ca) = pki();
        for (streams, rcvlowat) in [(1, 0), (2, 128 << 10)] {
            let cfg = TlsProbe {
                streams,
                file_bytes: 4 << 20,
                chunk_bytes: 1 << 20,
                receiver: ReceiverConfig {
                    read_bytes: 256 << 10,
                    rcvlowat,
                },
                dir: dir.path().to_path_buf(),
                file: None,
                key_store: key_store.clone(),
                ca: ca.clone(),
                cipher_suite: Some("TLS13_AES_128_GCM_SHA256".into()),
            };
            let v = run(&cfg, Duration::from_millis(20), Duration::from_millis(200)).unwrap();
            assert_eq!(v["cipher_suite"], "TLS13_AES_128_GCM_SHA256");
            assert!(
                v["bytes"].as_u64().unwrap() > 1 << 20,
                "{streams} streams moved {}",
                v["bytes"]
            );
            assert!(v["sender_thread"]["cpu_s"].as_f64().unwrap() > 0.0);
        }
    }

    #[test]
    fn an_unknown_suite_is_refused_by_name() {
        let err = provider(Some("TLS13_ROT13")).err().unwrap().to_string();
        assert!(err.contains("TLS13_AES_256_GCM_SHA384"), "{err}");
    }
}
