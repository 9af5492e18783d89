//! Kernel TLS: once rustls has finished the handshake, the traffic keys can be handed to the
//! kernel (`setsockopt(TCP_ULP, "tls")`, then `SOL_TLS`/`TLS_TX` and `TLS_RX`), after which the
//! kernel encrypts what is written to the socket — so sendfile of segment ranges works on a TLS
//! connection as on a plaintext one — and decrypts what is read.
//!
//! - `probe()` runs once at start on a loopback TCP pair (the ULP can only be set on an
//!   established socket) and says whether this kernel has kTLS; without `CONFIG_TLS` the
//!   setsockopt fails with ENOENT and every connection stays on rustls.
//! - `decide()` picks kernel or rustls for one connection from the probe, the operator's
//!   switch and the negotiated suite.
//! - `crypto_info()` lays out a direction's keys as the kernel's `tls12_crypto_info_*` struct
//!   (`linux/tls.h`; the same structs serve TLS 1.2 and 1.3); `install()` makes the three
//!   setsockopt calls; `recv_record()` reads one decrypted record with its content type (a
//!   non-application record — an alert, a TLS 1.3 KeyUpdate — comes as a control message).
//!
//! What has been exercised where: the layouts and the decision are unit-tested everywhere;
//! the probe runs on every start; `install` and `recv_record` have only been run against a
//! kernel without kTLS (they fail cleanly there). See crates/sluice-tls/README.md.

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd};

use rustls::{CipherSuite, ConnectionTrafficSecrets, ProtocolVersion};

const SOL_TLS: libc::c_int = 282;
const TCP_ULP: libc::c_int = 31;
const TLS_TX: libc::c_int = 1;
const TLS_RX: libc::c_int = 2;
/// cmsg type carrying a received record's content type.
const TLS_GET_RECORD_TYPE: libc::c_int = 2;
const TLS_CIPHER_AES_GCM_128: u16 = 51;
const TLS_CIPHER_AES_GCM_256: u16 = 52;
const TLS_CIPHER_CHACHA20_POLY1305: u16 = 54;
/// TLS record content type of application data.
pub const RECORD_APPLICATION_DATA: u8 = 23;

/// What the start-up probe found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KtlsSupport {
    Available,
    Unavailable { reason: String },
}

impl KtlsSupport {
    pub fn is_available(&self) -> bool {
        matches!(self, KtlsSupport::Available)
    }

    /// One word for logs and metrics, and the reason when there is one.
    pub fn describe(&self) -> String {
        match self {
            KtlsSupport::Available => "available".into(),
            KtlsSupport::Unavailable { reason } => format!("unavailable ({reason})"),
        }
    }
}

/// Sets the TLS ULP on an established loopback connection and reports whether the kernel took it.
pub fn probe() -> KtlsSupport {
    match probe_loopback() {
        Ok(()) => KtlsSupport::Available,
        Err(e) if e.raw_os_error() == Some(libc::ENOENT) => KtlsSupport::Unavailable {
            reason:
                "setsockopt(TCP_ULP, \"tls\"): ENOENT, the kernel has no TLS module (CONFIG_TLS)"
                    .into(),
        },
        Err(e) => KtlsSupport::Unavailable {
            reason: format!("setsockopt(TCP_ULP, \"tls\"): {e}"),
        },
    }
}

fn probe_loopback() -> io::Result<()> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    let _client = std::net::TcpStream::connect(listener.local_addr()?)?;
    let (server, _) = listener.accept()?;
    set_ulp(&server)
}

fn set_ulp(socket: &impl AsRawFd) -> io::Result<()> {
    let name = b"tls";
    // SAFETY: setsockopt reads `name.len()` bytes from a live buffer.
    let rc = unsafe {
        libc::setsockopt(
            socket.as_raw_fd(),
            libc::SOL_TCP,
            TCP_ULP,
            name.as_ptr().cast(),
            name.len() as libc::socklen_t,
        )
    };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Kernel or rustls, for one connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KtlsDecision {
    /// Hand the keys to the kernel; file ranges go out by sendfile.
    Kernel,
    /// Stay on rustls (pread + encrypt in the writer thread), for the reason given.
    Rustls(&'static str),
}

/// Decides for one finished handshake: the kernel must have kTLS, the operator must not have
/// switched it off, and the suite must be one the kernel implements (every AEAD suite rustls's
/// ring provider offers is, so the last check guards against a provider change).
pub fn decide(support: &KtlsSupport, enabled: bool, suite: CipherSuite) -> KtlsDecision {
    if !enabled {
        return KtlsDecision::Rustls("kernel TLS switched off");
    }
    if !support.is_available() {
        return KtlsDecision::Rustls("the kernel has no kTLS");
    }
    if kernel_cipher(suite).is_none() {
        return KtlsDecision::Rustls("the kernel does not implement the negotiated suite");
    }
    KtlsDecision::Kernel
}

fn kernel_cipher(suite: CipherSuite) -> Option<u16> {
    use CipherSuite::*;
    match suite {
        TLS13_AES_128_GCM_SHA256
        | TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256
        | TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 => Some(TLS_CIPHER_AES_GCM_128),
        TLS13_AES_256_GCM_SHA384
        | TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384
        | TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384 => Some(TLS_CIPHER_AES_GCM_256),
        TLS13_CHACHA20_POLY1305_SHA256
        | TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256
        | TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256 => Some(TLS_CIPHER_CHACHA20_POLY1305),
        _ => None,
    }
}

/// The kernel's `tls12_crypto_info_*` for one direction: `{u16 version, u16 cipher_type}` then,
/// for AES-GCM, `iv[8] key[16|32] salt[4] rec_seq[8]` (rustls's 12-byte IV is salt ‖ iv), for
/// ChaCha20-Poly1305 `iv[12] key[32] rec_seq[8]`. `seq` is the next record's sequence number.
pub fn crypto_info(
    version: ProtocolVersion,
    seq: u64,
    secrets: &ConnectionTrafficSecrets,
) -> io::Result<Vec<u8>> {
    let version: u16 = match version {
        ProtocolVersion::TLSv1_2 => 0x0303,
        ProtocolVersion::TLSv1_3 => 0x0304,
        other => {
            return Err(io::Error::new(
                io::ErrorKind::Unsupported,
                format!("kTLS: protocol {other:?}"),
            ));
        }
    };
    let (cipher, key, iv) = match secrets {
        ConnectionTrafficSecrets::Aes128Gcm { key, iv } => (TLS_CIPHER_AES_GCM_128, key, iv),
        ConnectionTrafficSecrets::Aes256Gcm { key, iv } => (TLS_CIPHER_AES_GCM_256, key, iv),
        ConnectionTrafficSecrets::Chacha20Poly1305 { key, iv } => {
            (TLS_CIPHER_CHACHA20_POLY1305, key, iv)
        }
        _ => {
            return Err(io::Error::new(
                io::ErrorKind::Unsupported,
                "kTLS: cipher without a kernel layout",
            ));
        }
    };
    Ok(layout(version, cipher, key.as_ref(), iv.as_ref(), seq))
}

/// The struct's bytes from raw parts (`iv` is the 12-byte nonce base rustls keeps).
fn layout(version: u16, cipher: u16, key: &[u8], iv: &[u8], seq: u64) -> Vec<u8> {
    let mut info = Vec::with_capacity(56);
    info.extend_from_slice(&version.to_ne_bytes());
    info.extend_from_slice(&cipher.to_ne_bytes());
    if cipher == TLS_CIPHER_CHACHA20_POLY1305 {
        info.extend_from_slice(iv);
        info.extend_from_slice(key);
    } else {
        info.extend_from_slice(&iv[4..12]);
        info.extend_from_slice(key);
        info.extend_from_slice(&iv[..4]);
    }
    info.extend_from_slice(&seq.to_be_bytes());
    info
}

/// Moves an established connection's record layer into the kernel: the ULP, then both
/// directions' keys. After this, plain writes and sendfile on `socket` are encrypted by the
/// kernel and reads are decrypted. On an error part way, the connection cannot go on (the
/// rustls session is gone): the caller closes it.
pub fn install(socket: BorrowedFd<'_>, tx: &[u8], rx: &[u8]) -> io::Result<()> {
    set_ulp(&socket)?;
    set_tls_option(socket, TLS_TX, tx)?;
    set_tls_option(socket, TLS_RX, rx)
}

fn set_tls_option(socket: BorrowedFd<'_>, option: libc::c_int, info: &[u8]) -> io::Result<()> {
    // SAFETY: setsockopt reads `info.len()` bytes from a live slice.
    let rc = unsafe {
        libc::setsockopt(
            socket.as_raw_fd(),
            SOL_TLS,
            option,
            info.as_ptr().cast(),
            info.len() as libc::socklen_t,
        )
    };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Reads one decrypted record (or part of one) from a kTLS socket: the bytes and the record's
/// content type (application data unless the kernel says otherwise in a control message).
pub fn recv_record(socket: BorrowedFd<'_>, buffer: &mut [u8]) -> io::Result<(usize, u8)> {
    let mut iov = libc::iovec {
        iov_base: buffer.as_mut_ptr().cast(),
        iov_len: buffer.len(),
    };
    let mut control = [0u64; 8];
    // SAFETY: zeroed msghdr is valid; the pointers set below stay live for the call.
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.as_mut_ptr().cast();
    msg.msg_controllen = size_of_val(&control);
    // SAFETY: recvmsg writes into the live buffers `msg` points at.
    let n = unsafe { libc::recvmsg(socket.as_raw_fd(), &mut msg, libc::MSG_DONTWAIT) };
    if n < 0 {
        return Err(io::Error::last_os_error());
    }
    let mut record_type = RECORD_APPLICATION_DATA;
    // SAFETY: the CMSG_* macros walk the control buffer recvmsg filled, within msg_controllen.
    unsafe {
        let mut cmsg = libc::CMSG_FIRSTHDR(&msg);
        while !cmsg.is_null() {
            if (*cmsg).cmsg_level == SOL_TLS && (*cmsg).cmsg_type == TLS_GET_RECORD_TYPE {
                record_type = *libc::CMSG_DATA(cmsg);
            }
            cmsg = libc::CMSG_NXTHDR(&msg, cmsg);
        }
    }
    Ok((n as usize, record_type))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aes_128_gcm_layout_is_the_kernels() {
        let iv = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12];
        let info = layout(
            0x0304,
            TLS_CIPHER_AES_GCM_128,
            &[0xAA; 16],
            &iv,
            0x0102030405060708,
        );
        assert_eq!(
            info.len(),
            40,
            "sizeof(struct tls12_crypto_info_aes_gcm_128)"
        );
        assert_eq!(&info[0..2], &0x0304u16.to_ne_bytes());
        assert_eq!(&info[2..4], &51u16.to_ne_bytes());
        assert_eq!(
            &info[4..12],
            &[5, 6, 7, 8, 9, 10, 11, 12],
            "iv: the explicit part"
        );
        assert_eq!(&info[12..28], &[0xAA; 16], "key");
        assert_eq!(&info[28..32], &[1, 2, 3, 4], "salt: the implicit part");
        assert_eq!(
            &info[32..40],
            &[1, 2, 3, 4, 5, 6, 7, 8],
            "rec_seq, big-endian"
        );
    }

    #[test]
    fn aes_256_gcm_and_chacha_layouts() {
        use rustls::crypto::cipher::{AeadKey, Iv};
        let aes = ConnectionTrafficSecrets::Aes256Gcm {
            key: AeadKey::from([7; 32]),
            iv: Iv::new([9; 12]),
        };
        let info = crypto_info(ProtocolVersion::TLSv1_2, 5, &aes).unwrap();
        assert_eq!(
            info.len(),
            56,
            "sizeof(struct tls12_crypto_info_aes_gcm_256)"
        );
        assert_eq!(&info[0..2], &0x0303u16.to_ne_bytes());
        assert_eq!(&info[2..4], &52u16.to_ne_bytes());
        assert_eq!(&info[12..44], &[7; 32]);
        assert_eq!(&info[48..56], &5u64.to_be_bytes());
        let chacha = ConnectionTrafficSecrets::Chacha20Poly1305 {
            key: AeadKey::from([3; 32]),
            iv: Iv::new([4; 12]),
        };
        let info = crypto_info(ProtocolVersion::TLSv1_3, 0, &chacha).unwrap();
        assert_eq!(
            info.len(),
            56,
            "sizeof(struct tls12_crypto_info_chacha20_poly1305)"
        );
        assert_eq!(&info[2..4], &54u16.to_ne_bytes());
        assert_eq!(&info[4..16], &[4; 12], "the whole 12-byte iv; no salt");
        assert_eq!(&info[16..48], &[3; 32]);
    }

    #[test]
    fn decision_needs_kernel_switch_and_suite() {
        let yes = KtlsSupport::Available;
        let no = KtlsSupport::Unavailable {
            reason: "test".into(),
        };
        let suite = CipherSuite::TLS13_AES_128_GCM_SHA256;
        assert_eq!(decide(&yes, true, suite), KtlsDecision::Kernel);
        assert_eq!(
            decide(&no, true, suite),
            KtlsDecision::Rustls("the kernel has no kTLS")
        );
        assert_eq!(
            decide(&yes, false, suite),
            KtlsDecision::Rustls("kernel TLS switched off")
        );
        assert!(matches!(
            decide(&yes, true, CipherSuite::TLS_RSA_WITH_AES_128_CBC_SHA),
            KtlsDecision::Rustls(_)
        ));
    }

    #[test]
    fn probe_reports_this_kernel() {
        // Either answer is right for some kernel; what must hold is that the probe agrees with
        // a direct attempt, and that absence is explained.
        let support = probe();
        match &support {
            KtlsSupport::Available => {}
            KtlsSupport::Unavailable { reason } => assert!(reason.contains("TCP_ULP"), "{reason}"),
        }
        assert_eq!(support.is_available(), probe_loopback().is_ok());
    }
}
