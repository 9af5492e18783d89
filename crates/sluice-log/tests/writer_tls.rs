//! TLS connections in the writer, over loopback TCP with a rustls client in a thread: the
//! handshake, decrypted request bytes handed over in batches with read pacing, send plans of
//! bytes and file ranges encrypted by the writer thread, client certificates, and bad input
//! (a plaintext client on the TLS socket). The certificate is made at test time with openssl.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::fd::AsFd;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::sync::mpsc::{Receiver, channel};
use std::time::Duration;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use sluice_log::FileRange;
use sluice_log::writer::{Event, Part, TlsEvent, TlsOptions, Writer, WriterConfig, WriterMode};
use sluice_tls::{TlsSettings, server_config};

const WAIT: Duration = Duration::from_secs(20);

struct Fixture {
    _dir: tempfile::TempDir,
    server: Arc<rustls::ServerConfig>,
    client: Arc<rustls::ClientConfig>,
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new("openssl")
        .current_dir(dir.path())
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
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let read = |name: &str| std::fs::read_to_string(dir.path().join(name)).unwrap();
    let settings = TlsSettings {
        keystore_type: Some("PEM".into()),
        keystore_certificate_chain: Some(read("cert.pem")),
        keystore_key: Some(read("key.pem")),
        ..TlsSettings::default()
    };
    let server = server_config(&settings).unwrap();
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(CertificateDer::from_pem_slice(read("cert.pem").as_bytes()).unwrap())
        .unwrap();
    let client = rustls::ClientConfig::builder_with_provider(Arc::new(sluice_tls::ring_provider()))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    Fixture {
        _dir: dir,
        server,
        client: Arc::new(client),
    }
}

fn tls_writer(mode: WriterMode) -> (Writer, Receiver<Event>, Receiver<TlsEvent>) {
    let (events_tx, events) = channel();
    let (tls_tx, tls) = channel();
    let writer = Writer::with_tls(
        WriterConfig::new(mode),
        TlsOptions {
            ktls_support: sluice_tls::ktls::probe(),
            ktls_enabled: false,
        },
        move |batch| batch.into_iter().for_each(|e| events_tx.send(e).unwrap()),
        move |batch| batch.into_iter().for_each(|e| tls_tx.send(e).unwrap()),
    )
    .unwrap();
    (writer, events, tls)
}

fn pair() -> (TcpStream, TcpStream) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    let (server, _) = listener.accept().unwrap();
    (server, client)
}

fn file_of(len: usize) -> (tempfile::NamedTempFile, FileRange, Vec<u8>) {
    let mut file = tempfile::NamedTempFile::new().unwrap();
    let data: Vec<u8> = (0..len).map(|i| (i * 7 % 251) as u8).collect();
    file.write_all(&data).unwrap();
    let handle = std::fs::File::open(file.path()).unwrap();
    let range = FileRange::new(
        Arc::new(handle),
        0,
        len as u64,
        Arc::new(AtomicU64::new(len as u64)),
    );
    (file, range, data)
}

#[test]
fn handshake_requests_and_encrypted_file_ranges() {
    for mode in [WriterMode::Sendfile, WriterMode::Copy] {
        let fx = fixture();
        let (writer, events, tls) = tls_writer(mode);
        let (server, client) = pair();
        let conn = writer
            .register_tls(server.as_fd(), fx.server.clone())
            .unwrap();
        let client_config = fx.client.clone();
        let (file, range, data) = file_of(3 << 20);
        let reader = std::thread::spawn(move || {
            let session = rustls::ClientConnection::new(
                client_config,
                ServerName::try_from("localhost").unwrap(),
            )
            .unwrap();
            let mut stream = rustls::StreamOwned::new(session, client);
            stream.write_all(b"first request").unwrap();
            stream.flush().unwrap();
            let mut response = vec![0u8; 6 + (3 << 20)];
            stream.read_exact(&mut response).unwrap();
            stream.write_all(b"second").unwrap();
            stream.flush().unwrap();
            std::thread::sleep(Duration::from_millis(200));
            response
        });
        match tls.recv_timeout(WAIT).unwrap() {
            TlsEvent::Established {
                conn: c,
                protocol,
                peer_subject,
                kernel,
                ..
            } => {
                assert_eq!(c, conn);
                assert_eq!(protocol, "TLSv1.3");
                assert_eq!(peer_subject, None);
                assert!(!kernel, "kTLS switched off");
            }
            other => panic!("{other:?}"),
        }
        match tls.recv_timeout(WAIT).unwrap() {
            TlsEvent::Received { conn: c, data } => {
                assert_eq!((c, data.as_slice()), (conn, &b"first request"[..]))
            }
            other => panic!("{other:?}"),
        }
        let pending = writer
            .send(conn, vec![Part::from(&b"header"[..]), Part::File(range)], 9)
            .unwrap();
        assert!(pending > 0, "TLS sends always go through the writer thread");
        match events.recv_timeout(WAIT).unwrap() {
            Event::Sent {
                conn: c,
                token,
                bytes,
            } => assert_eq!((c, token, bytes), (conn, 9, 6 + (3 << 20))),
            Event::Failed { error, .. } => panic!("{error}"),
        }
        assert_eq!(writer.pending_bytes(conn).unwrap(), 0);
        // Reading paused after the first batch: "second" waits for resume_reading.
        assert!(
            tls.recv_timeout(Duration::from_millis(300)).is_err(),
            "{mode:?}: no batch before resume"
        );
        writer.resume_reading(conn).unwrap();
        match tls.recv_timeout(WAIT).unwrap() {
            TlsEvent::Received { data, .. } => assert_eq!(data, b"second"),
            other => panic!("{other:?}"),
        }
        let response = reader.join().unwrap();
        assert_eq!(&response[..6], b"header");
        assert!(
            response[6..] == data[..],
            "{mode:?}: decrypted file range differs"
        );
        writer.resume_reading(conn).unwrap();
        match tls.recv_timeout(WAIT).unwrap() {
            TlsEvent::Closed { conn: c, error } => {
                assert_eq!(c, conn);
                // The client dropped its stream without close_notify: an EOF (None) or rustls's
                // complaint about the missing close_notify are both an end.
                let _ = error;
            }
            other => panic!("{other:?}"),
        }
        let stats = writer.stats();
        assert!(stats.tls_plaintext_bytes >= 6 + (3 << 20), "{stats:?}");
        assert!(
            stats.tls_bytes > stats.tls_plaintext_bytes,
            "records add overhead: {stats:?}"
        );
        assert_eq!(
            stats.sendfile_bytes + stats.copy_bytes,
            0,
            "no plaintext path touched the socket"
        );
        writer.unregister(conn).unwrap();
        drop(file);
    }
}

#[test]
fn a_plaintext_client_on_a_tls_socket_is_closed_with_the_reason() {
    let fx = fixture();
    let (writer, _events, tls) = tls_writer(WriterMode::Sendfile);
    let (server, mut client) = pair();
    let conn = writer.register_tls(server.as_fd(), fx.server).unwrap();
    // A Kafka ApiVersions request, as a plaintext client would send it.
    client
        .write_all(&[0, 0, 0, 10, 0, 18, 0, 3, 0, 0, 0, 1, 0, 0])
        .unwrap();
    match tls.recv_timeout(WAIT).unwrap() {
        TlsEvent::Closed {
            conn: c,
            error: Some(error),
        } => {
            assert_eq!(c, conn);
            assert!(error.starts_with("TLS: "), "{error}");
        }
        other => panic!("{other:?}"),
    }
    // The server sent an alert (or nothing) and stops: the client sees no Kafka response.
    client
        .set_read_timeout(Some(Duration::from_secs(2)))
        .unwrap();
    let mut buf = [0u8; 64];
    if let Ok(n) = client.read(&mut buf) {
        assert!(
            n == 0 || buf[0] == 0x15,
            "only a TLS alert may come back: {:?}",
            &buf[..n]
        );
    }
    writer.unregister(conn).unwrap();
}

#[test]
fn register_tls_needs_a_tls_writer() {
    let fx = fixture();
    let writer = Writer::new(WriterMode::Sendfile, |_| {}).unwrap();
    let (server, _client) = pair();
    let err = writer.register_tls(server.as_fd(), fx.server).unwrap_err();
    assert!(
        err.to_string().contains("without a TLS event sink"),
        "{err}"
    );
}
