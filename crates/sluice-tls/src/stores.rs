//! Key stores and trust stores, as Kafka's `ssl.keystore.*` / `ssl.truststore.*` describe them.
//!
//! - `PEM`: inline (`ssl.keystore.certificate.chain` + `ssl.keystore.key`,
//!   `ssl.truststore.certificates`) or a file at `*.location` holding the same PEM blocks. The
//!   key is PKCS#8, PKCS#1 (RSA) or SEC1 (EC); an `ENCRYPTED PRIVATE KEY` (PKCS#8 PBES2, what
//!   `openssl pkcs8 -topk8 -v2 aes-256-cbc` writes) is decrypted with `ssl.key.password`.
//! - `PKCS12`: the file at `*.location`, decrypted with `*.password`: PBES2 / PBKDF2 /
//!   AES-256-CBC (OpenSSL 3's and Java's defaults) and the legacy PKCS#12 PBEs
//!   (3DES, RC2-40). A key store's first private key entry and its chain; a trust store's
//!   trusted certificate entries (keytool `-importcert`; `openssl pkcs12 -export -jdktrust …`).
//! - `JKS` (Kafka's default type): Java has read PKCS12 files under that type since JDK 9, so a
//!   PKCS12 file is loaded as one; a real JKS file (magic FEEDFEED) is refused, with the
//!   keytool command that converts it.

use std::fs;

use pkcs8::der::Decode;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

use crate::TlsConfigError;
use crate::settings::TlsSettings;

/// A server's certificate chain (leaf first) and private key.
pub struct KeyMaterial {
    pub chain: Vec<CertificateDer<'static>>,
    pub key: PrivateKeyDer<'static>,
}

impl std::fmt::Debug for KeyMaterial {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyMaterial")
            .field("chain", &self.chain.len())
            .field("key", &"<KEY>")
            .finish()
    }
}

const JKS_MAGIC: [u8; 4] = [0xFE, 0xED, 0xFE, 0xED];

/// Loads the server's key material from the `ssl.keystore.*` settings.
pub fn load_key_material(settings: &TlsSettings) -> Result<KeyMaterial, TlsConfigError> {
    let kind = store_type(settings.keystore_type.as_deref(), "ssl.keystore.type")?;
    match kind {
        StoreType::Pem => {
            let (chain_pem, key_pem) = match (
                &settings.keystore_certificate_chain,
                &settings.keystore_key,
                &settings.keystore_location,
            ) {
                (Some(chain), Some(key), None) => {
                    (chain.clone().into_bytes(), key.clone().into_bytes())
                }
                (None, None, Some(path)) => {
                    let text = read_file("ssl.keystore.location", path)?;
                    (text.clone(), text)
                }
                (None, None, None) => {
                    return Err(TlsConfigError::invalid(
                        "ssl.keystore.location",
                        "a PEM key store needs ssl.keystore.location, or ssl.keystore.certificate.chain and ssl.keystore.key",
                    ));
                }
                _ => {
                    return Err(TlsConfigError::invalid(
                        "ssl.keystore.certificate.chain",
                        "give ssl.keystore.certificate.chain and ssl.keystore.key together, and not with ssl.keystore.location",
                    ));
                }
            };
            let chain = pem_certificates("ssl.keystore.certificate.chain", &chain_pem)?;
            let key = pem_private_key(&key_pem, settings.key_password.as_deref())?;
            Ok(KeyMaterial { chain, key })
        }
        StoreType::Pkcs12 => {
            let path = settings.keystore_location.as_deref().ok_or_else(|| {
                TlsConfigError::invalid("ssl.keystore.location", "a PKCS12 key store needs a file")
            })?;
            let data = read_binary_store("ssl.keystore.location", path)?;
            let store = open_pkcs12(
                "ssl.keystore.password",
                &data,
                settings.keystore_password.as_deref(),
                settings.key_password.as_deref(),
            )?;
            let Some((_, entry)) = store.private_key_chain() else {
                return Err(TlsConfigError::invalid(
                    "ssl.keystore.location",
                    format!("{path} holds no private key entry"),
                ));
            };
            let chain = entry
                .chain()
                .iter()
                .map(|cert| CertificateDer::from(cert.as_der().to_vec()))
                .collect();
            let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(entry.key().to_vec()));
            Ok(KeyMaterial { chain, key })
        }
    }
}

/// Loads the trust anchors for client certificates from `ssl.truststore.*`; `None` when no
/// trust store is configured.
pub fn load_trust_anchors(
    settings: &TlsSettings,
) -> Result<Option<Vec<CertificateDer<'static>>>, TlsConfigError> {
    let kind = store_type(settings.truststore_type.as_deref(), "ssl.truststore.type")?;
    let certs = match (
        kind,
        &settings.truststore_certificates,
        &settings.truststore_location,
    ) {
        (_, None, None) => return Ok(None),
        (StoreType::Pem, Some(inline), None) => {
            pem_certificates("ssl.truststore.certificates", inline.as_bytes())?
        }
        (StoreType::Pem, None, Some(path)) => pem_certificates(
            "ssl.truststore.location",
            &read_file("ssl.truststore.location", path)?,
        )?,
        (StoreType::Pkcs12, None, Some(path)) => {
            let data = read_binary_store("ssl.truststore.location", path)?;
            let store = open_pkcs12(
                "ssl.truststore.password",
                &data,
                settings.truststore_password.as_deref(),
                None,
            )?;
            let certs: Vec<_> = store
                .entries()
                .filter_map(|(_, entry)| match entry {
                    p12_keystore::KeyStoreEntry::Certificate(cert) => {
                        Some(CertificateDer::from(cert.as_der().to_vec()))
                    }
                    _ => None,
                })
                .collect();
            if certs.is_empty() {
                return Err(TlsConfigError::invalid(
                    "ssl.truststore.location",
                    format!(
                        "{path} holds no trusted certificate entry (keytool -importcert makes one; openssl needs -jdktrust anyExtendedKeyUsage)"
                    ),
                ));
            }
            certs
        }
        (StoreType::Pkcs12, Some(_), _) => {
            return Err(TlsConfigError::invalid(
                "ssl.truststore.certificates",
                "inline certificates need ssl.truststore.type=PEM",
            ));
        }
        (StoreType::Pem, Some(_), Some(_)) => {
            return Err(TlsConfigError::invalid(
                "ssl.truststore.certificates",
                "give ssl.truststore.certificates or ssl.truststore.location, not both",
            ));
        }
    };
    Ok(Some(certs))
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum StoreType {
    Pem,
    Pkcs12,
}

fn store_type(value: Option<&str>, key: &'static str) -> Result<StoreType, TlsConfigError> {
    // Kafka's default for both stores is JKS; Java reads PKCS12 under it (see the module doc).
    match value.unwrap_or("JKS").to_ascii_uppercase().as_str() {
        "PEM" => Ok(StoreType::Pem),
        "PKCS12" | "JKS" => Ok(StoreType::Pkcs12),
        other => Err(TlsConfigError::invalid(
            key,
            format!("unsupported store type {other:?} (PEM, PKCS12, or JKS for a PKCS12 file)"),
        )),
    }
}

fn read_file(key: &'static str, path: &str) -> Result<Vec<u8>, TlsConfigError> {
    fs::read(path).map_err(|source| TlsConfigError::Read {
        key,
        path: path.to_owned(),
        source,
    })
}

fn read_binary_store(key: &'static str, path: &str) -> Result<Vec<u8>, TlsConfigError> {
    let data = read_file(key, path)?;
    if data.starts_with(&JKS_MAGIC) {
        return Err(TlsConfigError::invalid(
            key,
            format!(
                "{path} is a JKS key store, which Sluice does not read; convert it: keytool -importkeystore -srckeystore {path} -destkeystore store.p12 -deststoretype PKCS12"
            ),
        ));
    }
    Ok(data)
}

/// Opens a PKCS12 file. The store password checks the MAC and decrypts the certificates;
/// p12-keystore decrypts the key bag with the same password, so a distinct `ssl.key.password`
/// is tried when the store password fails (keytool writes both the same by default).
fn open_pkcs12(
    password_key: &'static str,
    data: &[u8],
    password: Option<&str>,
    key_password: Option<&str>,
) -> Result<p12_keystore::KeyStore, TlsConfigError> {
    let password = password.ok_or_else(|| {
        TlsConfigError::invalid(password_key, "a PKCS12 store needs its password")
    })?;
    match p12_keystore::KeyStore::from_pkcs12(data, password) {
        Ok(store) => Ok(store),
        Err(first) => {
            if let Some(key_password) = key_password.filter(|k| *k != password)
                && let Ok(store) = p12_keystore::KeyStore::from_pkcs12(data, key_password)
            {
                return Ok(store);
            }
            Err(TlsConfigError::invalid(
                password_key,
                format!(
                    "cannot open the PKCS12 store (wrong password or unsupported format): {first}"
                ),
            ))
        }
    }
}

fn pem_certificates(
    key: &'static str,
    pem: &[u8],
) -> Result<Vec<CertificateDer<'static>>, TlsConfigError> {
    let certs = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| TlsConfigError::invalid(key, format!("bad PEM certificate: {e}")))?;
    if certs.is_empty() {
        return Err(TlsConfigError::invalid(key, "no CERTIFICATE block found"));
    }
    Ok(certs)
}

const ENCRYPTED_KEY_LABEL: &str = "-----BEGIN ENCRYPTED PRIVATE KEY-----";

fn pem_private_key(
    pem: &[u8],
    password: Option<&str>,
) -> Result<PrivateKeyDer<'static>, TlsConfigError> {
    let text = String::from_utf8_lossy(pem);
    if text.contains(ENCRYPTED_KEY_LABEL) {
        let password = password.ok_or_else(|| {
            TlsConfigError::invalid(
                "ssl.key.password",
                "the PEM private key is encrypted: ssl.key.password is needed",
            )
        })?;
        let block = extract_block(&text, "ENCRYPTED PRIVATE KEY");
        let (label, der) = pkcs8::der::pem::decode_vec(block.as_bytes()).map_err(|e| {
            TlsConfigError::invalid("ssl.keystore.key", format!("bad encrypted PEM key: {e}"))
        })?;
        debug_assert_eq!(label, "ENCRYPTED PRIVATE KEY");
        let info = pkcs8::EncryptedPrivateKeyInfo::from_der(&der).map_err(|e| {
            TlsConfigError::invalid("ssl.keystore.key", format!("bad encrypted PKCS#8 key: {e}"))
        })?;
        let plain = info.decrypt(password).map_err(|e| {
            TlsConfigError::invalid(
                "ssl.key.password",
                format!("cannot decrypt the private key: {e}"),
            )
        })?;
        return Ok(PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(
            plain.as_bytes().to_vec(),
        )));
    }
    PrivateKeyDer::from_pem_slice(pem).map_err(|e| {
        TlsConfigError::invalid(
            "ssl.keystore.key",
            format!("no usable PEM private key: {e}"),
        )
    })
}

/// The one PEM block with `label` in `text` (begin to end line).
fn extract_block(text: &str, label: &str) -> String {
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    match (text.find(&begin), text.find(&end)) {
        (Some(start), Some(stop)) if stop > start => {
            format!("{}\n", &text[start..stop + end.len()])
        }
        _ => String::new(),
    }
}
