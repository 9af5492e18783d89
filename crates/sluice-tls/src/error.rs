//! Errors building a TLS config: each names the Kafka setting that is wrong.

#[derive(Debug, thiserror::Error)]
pub enum TlsConfigError {
    /// A setting has a value Sluice cannot use; `key` is Kafka's name for it.
    #[error("{key}: {message}")]
    Invalid { key: &'static str, message: String },
    /// A file a setting names cannot be read.
    #[error("{key}: cannot read {path}: {source}")]
    Read {
        key: &'static str,
        path: String,
        source: std::io::Error,
    },
    /// rustls refused the assembled config (e.g. a key that does not match the certificate).
    #[error("TLS config: {0}")]
    Rustls(#[from] rustls::Error),
}

impl TlsConfigError {
    pub(crate) fn invalid(key: &'static str, message: impl Into<String>) -> TlsConfigError {
        TlsConfigError::Invalid {
            key,
            message: message.into(),
        }
    }

    /// The stable code JS sees as `err.code`.
    pub fn code(&self) -> &'static str {
        "INVALID_CONFIG"
    }
}
