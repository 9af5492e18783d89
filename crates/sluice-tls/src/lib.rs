//! Sluice's TLS, the half that is not about bytes on a socket: building a rustls `ServerConfig`
//! from Kafka's `ssl.*` settings (PEM and PKCS12 key stores, trust stores, client auth,
//! protocols, cipher suites), the RFC 2253 subject of a client certificate (what Kafka's
//! principal mapping reads), and kernel TLS: the probe and the key export.
//!
//! The TLS session itself (handshake, reads, encrypted writes of send plans) lives in
//! `sluice_log::writer`, beside the writer that owns each connection's socket. No napi here.

mod error;
pub mod ktls;
mod settings;
mod stores;
mod subject;
mod suites;

pub use error::TlsConfigError;
pub use settings::{ClientAuth, TlsSettings, server_config};
pub use stores::{KeyMaterial, load_key_material, load_trust_anchors};
pub use subject::subject_rfc2253;
pub use suites::{SUPPORTED_PROTOCOLS, supported_cipher_suites};

/// The crypto provider every Sluice TLS config starts from: ring (Rust and assembly, no system
/// library or CMake to build against, unlike aws-lc-rs).
// rustls 0.23.48 deprecates ring's provider for lacking post-quantum key exchange; that is the
// trade made for building from crates.io alone (ring's groups: X25519, P-256, P-384).
#[allow(deprecated)]
pub fn ring_provider() -> rustls::crypto::CryptoProvider {
    rustls::crypto::ring::default_provider()
}
