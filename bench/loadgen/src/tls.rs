//! TLS to brokers' SSL listeners: rustls with the ring provider (the rustls Sluice's own data
//! plane uses, crates/sluice-tls, so nothing new is downloaded).
//!
//! Every connection of one loadgen run uses the same security protocol (as a Kafka client's
//! `security.protocol`), so the TLS settings are set once at start (`set_transport`) and
//! `Connection::connect` consults them.
//!
//! A TLS session is one object for both directions, while the producer writes requests on one
//! thread and reads responses on another. The session sits behind a mutex held only to encrypt
//! or decrypt, never across a blocking socket call: the writer encrypts into its own buffer
//! under the lock and sends it after; the reader receives ciphertext into its own buffer and
//! feeds it to the session under the lock. Only the writer thread writes to the socket, so
//! records leave in the order they were encrypted.

use std::io::{self, ErrorKind, Read, Write};
use std::net::TcpStream;
use std::sync::{Arc, Mutex, OnceLock};

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use rustls::{ClientConfig, ClientConnection};
use serde_json::{Value, json};

use crate::error::{Error, Result};
use crate::receiver::{Source, read_when_marked, set_rcvlowat};

/// Plaintext a partly received TLS record can hold (2^14): a low-water mark on the socket is
/// lowered by this much, since bytes of the frame may already sit in the session's buffer.
const RECORD_PLAINTEXT_MAX: usize = 16 * 1024;

pub struct TlsClient {
    config: Arc<ClientConfig>,
}

static TRANSPORT: OnceLock<Option<TlsClient>> = OnceLock::new();
static NEGOTIATED: OnceLock<(String, String)> = OnceLock::new();

/// Sets the run's transport (None = PLAINTEXT). Called once, before any connection.
pub fn set_transport(t: Option<TlsClient>) {
    let _ = TRANSPORT.set(t);
}

pub fn transport() -> Option<&'static TlsClient> {
    TRANSPORT.get().and_then(Option::as_ref)
}

/// What the run's TLS connections negotiated (protocol version, cipher suite); null on PLAINTEXT.
pub fn summary_json() -> Value {
    match (transport(), NEGOTIATED.get()) {
        (Some(_), Some((version, suite))) => json!({ "version": version, "cipher_suite": suite }),
        (Some(_), None) => json!({ "version": null, "cipher_suite": null }),
        _ => Value::Null,
    }
}

/// The ring provider, limited to one cipher suite when `suite` names one (e.g.
/// TLS13_AES_256_GCM_SHA384), so every broker is measured with the same cipher.
// rustls 0.23.48 deprecates ring's provider for lacking post-quantum key exchange; Sluice
// makes the same trade (crates/sluice-tls), and the loadgen must use what the broker uses.
#[allow(deprecated)]
pub fn provider(suite: Option<&str>) -> Result<rustls::crypto::CryptoProvider> {
    let mut p = rustls::crypto::ring::default_provider();
    if let Some(name) = suite {
        let known: Vec<String> = p
            .cipher_suites
            .iter()
            .map(|s| format!("{:?}", s.suite()))
            .collect();
        p.cipher_suites
            .retain(|s| format!("{:?}", s.suite()) == name);
        if p.cipher_suites.is_empty() {
            return Err(Error::Usage(format!(
                "--tls-cipher-suite {name:?}: expected one of {}",
                known.join(", ")
            )));
        }
    }
    Ok(p)
}

impl TlsClient {
    /// Trusts the PEM certificates in `ca_file`; no client certificate.
    pub fn new(ca_file: &str, suite: Option<&str>) -> Result<Self> {
        let mut roots = rustls::RootCertStore::empty();
        let certs = CertificateDer::pem_file_iter(ca_file)
            .map_err(|e| Error::Usage(format!("--tls-ca {ca_file}: {e}")))?;
        for cert in certs {
            let cert = cert.map_err(|e| Error::Usage(format!("--tls-ca {ca_file}: {e}")))?;
            roots
                .add(cert)
                .map_err(|e| Error::Usage(format!("--tls-ca {ca_file}: {e}")))?;
        }
        if roots.is_empty() {
            return Err(Error::Usage(format!("--tls-ca {ca_file}: no certificates")));
        }
        let config = ClientConfig::builder_with_provider(Arc::new(provider(suite)?))
            .with_safe_default_protocol_versions()
            .map_err(|e| Error::Usage(format!("TLS versions: {e}")))?
            .with_root_certificates(roots)
            .with_no_client_auth();
        Ok(Self {
            config: Arc::new(config),
        })
    }

    /// Runs the handshake on a connected socket (blocking); the name checked against the
    /// certificate is the host of `addr` (an IP address or a DNS name).
    pub fn handshake(
        &self,
        sock: &mut TcpStream,
        addr: &str,
    ) -> Result<Arc<Mutex<ClientConnection>>> {
        let host = addr.rsplit_once(':').map_or(addr, |(h, _)| h);
        let host = host.trim_start_matches('[').trim_end_matches(']');
        let name = ServerName::try_from(host.to_string())
            .map_err(|e| Error::Usage(format!("TLS server name {host:?}: {e}")))?;
        let fail = |e: io::Error| Error::Io {
            context: format!("TLS handshake with {addr}"),
            source: e,
        };
        let mut conn = ClientConnection::new(self.config.clone(), name)
            .map_err(|e| fail(io::Error::other(e)))?;
        // Whole requests are encrypted at once (the writer sends them after the lock is released).
        conn.set_buffer_limit(None);
        while conn.is_handshaking() {
            conn.complete_io(sock).map_err(fail)?;
        }
        let version = conn
            .protocol_version()
            .map_or("?".to_string(), |v| format!("{v:?}"));
        let suite = conn
            .negotiated_cipher_suite()
            .map_or("?".to_string(), |s| format!("{:?}", s.suite()));
        let _ = NEGOTIATED.set((version, suite));
        Ok(Arc::new(Mutex::new(conn)))
    }
}

/// The writing half of a TLS connection.
pub struct TlsWriter {
    sock: TcpStream,
    session: Arc<Mutex<ClientConnection>>,
    out: Vec<u8>,
}

impl TlsWriter {
    pub fn new(sock: TcpStream, session: Arc<Mutex<ClientConnection>>) -> Self {
        Self {
            sock,
            session,
            out: Vec::new(),
        }
    }

    pub fn socket(&self) -> &TcpStream {
        &self.sock
    }
}

impl Write for TlsWriter {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.write_all(data)?;
        Ok(data.len())
    }

    fn write_all(&mut self, data: &[u8]) -> io::Result<()> {
        {
            let mut s = self.session.lock().expect("TLS session lock");
            s.writer().write_all(data)?;
            while s.wants_write() {
                s.write_tls(&mut self.out)?;
            }
        }
        let r = self.sock.write_all(&self.out);
        self.out.clear();
        r
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// The reading half of a TLS connection: a `Source` of plaintext for a `FrameReader`.
pub struct TlsReader {
    sock: TcpStream,
    session: Arc<Mutex<ClientConnection>>,
    raw: Vec<u8>,
    raw_start: usize,
    raw_end: usize,
    /// The mark the frame reader asked for, and the one set on the socket.
    wanted_lowat: usize,
    socket_lowat: usize,
}

impl TlsReader {
    pub fn new(sock: TcpStream, session: Arc<Mutex<ClientConnection>>, read_bytes: usize) -> Self {
        Self {
            sock,
            session,
            raw: vec![0u8; read_bytes.max(RECORD_PLAINTEXT_MAX)],
            raw_start: 0,
            raw_end: 0,
            wanted_lowat: 1,
            socket_lowat: 1,
        }
    }

    /// Decrypted bytes into `buf` if any can be had from what was received; None if more
    /// ciphertext is needed.
    fn decrypt(&mut self, buf: &mut [u8]) -> io::Result<Option<usize>> {
        let mut s = self.session.lock().expect("TLS session lock");
        loop {
            match s.reader().read(buf) {
                Ok(n) => return Ok(Some(n)), // 0: the broker sent close_notify
                Err(e) if e.kind() == ErrorKind::WouldBlock => {}
                Err(e) => return Err(e),
            }
            if self.raw_start == self.raw_end {
                self.raw_start = 0;
                self.raw_end = 0;
                return Ok(None);
            }
            let n = s.read_tls(&mut &self.raw[self.raw_start..self.raw_end])?;
            self.raw_start += n;
            s.process_new_packets()
                .map_err(|e| io::Error::new(ErrorKind::InvalidData, e))?;
        }
    }
}

impl Source for TlsReader {
    fn read(&mut self, buf: &mut [u8], marked: bool) -> io::Result<usize> {
        loop {
            if let Some(n) = self.decrypt(buf)? {
                return Ok(n);
            }
            if marked {
                let lowat = self
                    .wanted_lowat
                    .saturating_sub(RECORD_PLAINTEXT_MAX)
                    .max(1);
                if lowat != self.socket_lowat {
                    set_rcvlowat(&self.sock, lowat)?;
                    self.socket_lowat = lowat;
                }
            }
            let n = if marked {
                read_when_marked(&self.sock, &mut self.raw)?
            } else {
                Read::read(&mut self.sock, &mut self.raw)?
            };
            if n == 0 {
                return Ok(0);
            }
            self.raw_end = n;
        }
    }

    fn set_rcvlowat(&mut self, bytes: usize) -> io::Result<()> {
        self.wanted_lowat = bytes;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::net::TcpListener;
    use std::time::Duration;

    use super::*;
    use crate::receiver::{FrameReader, ReceiverConfig};

    /// Frames of several sizes (some shorter than the mark, some spanning many TLS records)
    /// written by a rustls server in small pieces, read through `TlsReader` with a low-water
    /// mark: every frame arrives whole and the reader never waits on bytes already decrypted.
    #[test]
    fn framed_reads_over_tls_with_a_mark_never_hang() {
        let (_dir, store, ca) = crate::probe_tls::tests::pki();
        let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&store)
            .unwrap()
            .map(|c| c.unwrap())
            .collect();
        let key = rustls::pki_types::PrivateKeyDer::from_pem_file(&store).unwrap();
        let server = Arc::new(
            rustls::ServerConfig::builder_with_provider(Arc::new(provider(None).unwrap()))
                .with_safe_default_protocol_versions()
                .unwrap()
                .with_no_client_auth()
                .with_single_cert(certs, key)
                .unwrap(),
        );
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let sizes = [100_000usize, 70_000, 10, 65_536, 200_003, 16_000];
        let serving = std::thread::spawn(move || {
            let (mut sock, _) = listener.accept().unwrap();
            let mut s = rustls::ServerConnection::new(server).unwrap();
            while s.is_handshaking() {
                s.complete_io(&mut sock).unwrap();
            }
            let mut stream = rustls::StreamOwned::new(s, sock);
            for size in sizes {
                let mut one = [0u8; 1];
                Read::read_exact(&mut stream, &mut one).unwrap();
                let mut f = (size as i32).to_be_bytes().to_vec();
                f.extend(vec![9u8; size]);
                for piece in f.chunks(30_000) {
                    stream.write_all(piece).unwrap();
                    stream.flush().unwrap();
                    std::thread::sleep(Duration::from_millis(2));
                }
            }
        });
        let client = TlsClient::new(&ca.to_string_lossy(), None).unwrap();
        let mut sock = TcpStream::connect(&addr).unwrap();
        let session = client.handshake(&mut sock, &addr).unwrap();
        let mut writer = TlsWriter::new(sock.try_clone().unwrap(), session.clone());
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let cfg = ReceiverConfig {
                read_bytes: 1 << 20,
                rcvlowat: 64 << 10,
            };
            let mut r = FrameReader::new(TlsReader::new(sock, session, cfg.read_bytes), cfg);
            let mut got = Vec::new();
            for _ in sizes {
                writer.write_all(&[1]).unwrap();
                got.push(r.begin_frame().unwrap());
                r.end_frame().unwrap();
            }
            tx.send(got).unwrap();
        });
        let got = rx
            .recv_timeout(Duration::from_secs(20))
            .expect("TLS reader hung on a frame tail");
        assert_eq!(got, sizes.to_vec());
        serving.join().unwrap();
        let (version, _) = NEGOTIATED
            .get()
            .expect("the handshake records what it negotiated");
        assert!(version.starts_with("TLS"), "{version}");
    }
}
