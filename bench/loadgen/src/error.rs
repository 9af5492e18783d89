//! The load generator's one error type. Everything a broker or the OS can do to a run is a
//! value here; the binary prints it and exits non-zero.

use std::io;

use thiserror::Error;

use crate::wire::WireError;

#[derive(Debug, Error)]
pub enum Error {
    #[error("usage: {0}")]
    Usage(String),
    #[error("{context}: {source}")]
    Io { context: String, source: io::Error },
    #[error("malformed {api} response: {source}")]
    Wire {
        api: &'static str,
        source: WireError,
    },
    #[error("{api}: {detail}")]
    Kafka { api: &'static str, detail: String },
    #[error("broker does not serve {0}")]
    Unsupported(String),
    #[error("{0}")]
    Protocol(String),
}

pub type Result<T> = std::result::Result<T, Error>;

/// Attaches what was being done to an io::Error.
pub trait IoContext<T> {
    fn context(self, what: impl FnOnce() -> String) -> Result<T>;
}

impl<T> IoContext<T> for io::Result<T> {
    fn context(self, what: impl FnOnce() -> String) -> Result<T> {
        self.map_err(|source| Error::Io {
            context: what(),
            source,
        })
    }
}
