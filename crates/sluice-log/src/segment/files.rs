//! The files that make a segment and their names: Kafka's base offset as 20 zero-padded
//! decimal digits plus a suffix per kind.

use std::fs::File;
use std::path::PathBuf;
use std::sync::Arc;

pub const LOG_SUFFIX: &str = ".log";
pub const INDEX_SUFFIX: &str = ".index";
pub const TIME_INDEX_SUFFIX: &str = ".timeindex";

/// Kafka's segment file name for a base offset and suffix.
pub fn file_name(base_offset: i64, suffix: &str) -> String {
    format!("{base_offset:020}{suffix}")
}

/// The base offset a segment file name encodes, if it is one of ours (20 digits + suffix).
pub fn parse_file_name(name: &str, suffix: &str) -> Option<i64> {
    let digits = name.strip_suffix(suffix)?;
    if digits.len() != 20 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// A file to fdatasync and how many of its leading bytes are meaningful.
#[derive(Clone, Debug)]
pub struct SyncTarget {
    pub file: Arc<File>,
    pub durable_len: u64,
    pub path: PathBuf,
}
