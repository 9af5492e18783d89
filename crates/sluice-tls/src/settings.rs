//! Kafka's `ssl.*` settings of one listener, and the rustls `ServerConfig` they make.

use std::sync::Arc;

use rustls::ServerConfig;
use rustls::crypto::CryptoProvider;
use rustls::server::WebPkiClientVerifier;

use crate::TlsConfigError;
use crate::stores::{load_key_material, load_trust_anchors};
use crate::suites::{cipher_suites, protocol_versions};

/// `ssl.client.auth`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ClientAuth {
    /// No client certificate is asked for (Kafka's default).
    #[default]
    None,
    /// Asked for; a client without one connects as `User:ANONYMOUS`; one that sends a
    /// certificate the trust store does not vouch for is refused.
    Requested,
    /// Without a certificate the trust store vouches for, the handshake fails.
    Required,
}

impl std::str::FromStr for ClientAuth {
    type Err = TlsConfigError;

    fn from_str(value: &str) -> Result<ClientAuth, TlsConfigError> {
        match value {
            "none" => Ok(ClientAuth::None),
            "requested" => Ok(ClientAuth::Requested),
            "required" => Ok(ClientAuth::Required),
            other => Err(TlsConfigError::invalid(
                "ssl.client.auth",
                format!("{other:?} is not one of none, requested, required"),
            )),
        }
    }
}

/// One listener's TLS settings, with Kafka's names (`None`: not set).
#[derive(Clone, Debug, Default)]
pub struct TlsSettings {
    pub keystore_type: Option<String>,
    pub keystore_location: Option<String>,
    pub keystore_password: Option<String>,
    pub key_password: Option<String>,
    pub keystore_certificate_chain: Option<String>,
    pub keystore_key: Option<String>,
    pub truststore_type: Option<String>,
    pub truststore_location: Option<String>,
    pub truststore_password: Option<String>,
    pub truststore_certificates: Option<String>,
    pub client_auth: ClientAuth,
    /// `ssl.enabled.protocols`; empty: TLSv1.2 and TLSv1.3.
    pub enabled_protocols: Vec<String>,
    /// `ssl.cipher.suites`; empty: every suite of the provider.
    pub cipher_suites: Vec<String>,
}

/// Builds the listener's server config. Secret extraction is enabled (the kernel-TLS key
/// export needs it); TLS 1.3 session tickets are not sent (no resumption: Kafka clients hold
/// long connections, and no post-handshake message is then pending when keys move to the kernel).
pub fn server_config(settings: &TlsSettings) -> Result<Arc<ServerConfig>, TlsConfigError> {
    let versions = protocol_versions(&settings.enabled_protocols)?;
    let suites = cipher_suites(&settings.cipher_suites, &versions)?;
    let provider = Arc::new(CryptoProvider {
        cipher_suites: suites,
        ..crate::ring_provider()
    });
    let material = load_key_material(settings)?;
    let anchors = load_trust_anchors(settings)?;
    let builder =
        ServerConfig::builder_with_provider(provider.clone()).with_protocol_versions(&versions)?;
    let builder = match (settings.client_auth, anchors) {
        (ClientAuth::None, _) => builder.with_no_client_auth(),
        (auth, Some(anchors)) => {
            let mut roots = rustls::RootCertStore::empty();
            for anchor in anchors {
                roots.add(anchor).map_err(|e| {
                    TlsConfigError::invalid(
                        "ssl.truststore.location",
                        format!("unusable trust anchor: {e}"),
                    )
                })?;
            }
            let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider);
            let verifier = if auth == ClientAuth::Requested {
                verifier.allow_unauthenticated()
            } else {
                verifier
            };
            let verifier = verifier.build().map_err(|e| {
                TlsConfigError::invalid("ssl.truststore.location", format!("client verifier: {e}"))
            })?;
            builder.with_client_cert_verifier(verifier)
        }
        (_, None) => {
            return Err(TlsConfigError::invalid(
                "ssl.client.auth",
                "requested/required client auth needs a trust store (ssl.truststore.location or ssl.truststore.certificates)",
            ));
        }
    };
    let mut config = builder.with_single_cert(material.chain, material.key)?;
    config.enable_secret_extraction = true;
    config.send_tls13_tickets = 0;
    Ok(Arc::new(config))
}
