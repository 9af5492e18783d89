//! Log-dir files shared by all partitions of a log directory, in Kafka's formats:
//!
//! `recovery-point-offset-checkpoint`, `log-start-offset-checkpoint`,
//! `cleaner-offset-checkpoint` (where the last clean of each compacted partition ended) and
//! `replication-offset-checkpoint` (each partition's high watermark, cluster mode) (Kafka's
//! `OffsetCheckpointFile`), set in stone as UTF-8 text, one item per line, `\n` endings:
//!
//! ```text
//! 0                      version
//! 2                      number of entries
//! orders 0 1234          topic, partition, offset separated by single spaces
//! orders 1 99
//! ```
//!
//! Written atomically: to `<name>.tmp`, fdatasync, rename over the old file, fsync of the dir.
//!
//! `.kafka_cleanshutdown`: an empty marker file whose presence means every log in the dir was
//! closed cleanly. The broker removes it right after startup and writes it last on shutdown.
//!
//! `.lock`: Kafka's log-dir lock file. `lock_log_dir` holds an exclusive `flock` on it for as
//! long as the returned `LogDirLock` lives, so a second broker on the same dir fails to start
//! instead of recovering (and truncating) segment files the first one has mapped.
//!
//! Concurrency contract: plain functions; the broker serializes writes to one log dir.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

pub const RECOVERY_POINT_CHECKPOINT: &str = "recovery-point-offset-checkpoint";
pub const LOG_START_OFFSET_CHECKPOINT: &str = "log-start-offset-checkpoint";
pub const CLEANER_OFFSET_CHECKPOINT: &str = "cleaner-offset-checkpoint";
pub const REPLICATION_OFFSET_CHECKPOINT: &str = "replication-offset-checkpoint";
pub const CLEAN_SHUTDOWN_MARKER: &str = ".kafka_cleanshutdown";
pub const LOG_DIR_LOCK: &str = ".lock";

const VERSION: i32 = 0;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckpointEntry {
    pub topic: String,
    pub partition: i32,
    pub offset: i64,
}

/// Reads an offset checkpoint file; a missing file is an empty checkpoint.
pub fn read_offset_checkpoint(path: &Path) -> Result<Vec<CheckpointEntry>> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(Error::from_io("read checkpoint", path, e)),
    };
    let corrupt = |line: usize, reason: String| Error::CorruptCheckpoint {
        path: path.to_path_buf(),
        line,
        reason,
    };
    let mut lines = text.lines();
    let version = lines
        .next()
        .ok_or_else(|| corrupt(1, "empty file".into()))?;
    if version.trim().parse::<i32>() != Ok(VERSION) {
        return Err(corrupt(
            1,
            format!("version {version:?}, expected {VERSION}"),
        ));
    }
    let count_line = lines
        .next()
        .ok_or_else(|| corrupt(2, "missing entry count".into()))?;
    let count: usize = count_line
        .trim()
        .parse()
        .map_err(|_| corrupt(2, format!("entry count {count_line:?}")))?;
    let mut entries = Vec::with_capacity(count.min(1 << 16));
    for (i, line) in lines.enumerate() {
        let number = i + 3;
        let fields: Vec<&str> = line.split(' ').collect();
        let [topic, partition, offset] = fields[..] else {
            return Err(corrupt(
                number,
                format!("expected \"topic partition offset\", found {line:?}"),
            ));
        };
        let partition = partition
            .parse()
            .map_err(|_| corrupt(number, format!("partition {partition:?}")))?;
        let offset = offset
            .parse()
            .map_err(|_| corrupt(number, format!("offset {offset:?}")))?;
        if topic.is_empty() {
            return Err(corrupt(number, "empty topic".into()));
        }
        entries.push(CheckpointEntry {
            topic: topic.to_string(),
            partition,
            offset,
        });
    }
    if entries.len() != count {
        return Err(corrupt(
            2,
            format!("says {count} entries, the file has {}", entries.len()),
        ));
    }
    Ok(entries)
}

/// Writes an offset checkpoint file atomically (see the module doc).
pub fn write_offset_checkpoint(path: &Path, entries: &[CheckpointEntry]) -> Result<()> {
    let mut text = format!("{VERSION}\n{}\n", entries.len());
    for entry in entries {
        if entry.topic.is_empty() || entry.topic.chars().any(char::is_whitespace) {
            return Err(Error::InvalidArgument {
                name: "topic",
                reason: format!("{:?} cannot be written to a checkpoint", entry.topic),
            });
        }
        text.push_str(&format!(
            "{} {} {}\n",
            entry.topic, entry.partition, entry.offset
        ));
    }
    let tmp = tmp_path(path);
    let write = || -> io::Result<()> {
        let mut file = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(&tmp)?;
        file.write_all(text.as_bytes())?;
        file.sync_data()?;
        std::fs::rename(&tmp, path)?;
        sync_parent(path)
    };
    write().map_err(|e| Error::from_io("write checkpoint", path, e))
}

fn tmp_path(path: &Path) -> PathBuf {
    let mut name = path
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_default();
    name.push(".tmp");
    path.with_file_name(name)
}

fn sync_parent(path: &Path) -> io::Result<()> {
    let parent = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    File::open(parent)?.sync_all()
}

pub fn read_recovery_point_checkpoint(log_dir: &Path) -> Result<Vec<CheckpointEntry>> {
    read_offset_checkpoint(&log_dir.join(RECOVERY_POINT_CHECKPOINT))
}

pub fn write_recovery_point_checkpoint(log_dir: &Path, entries: &[CheckpointEntry]) -> Result<()> {
    write_offset_checkpoint(&log_dir.join(RECOVERY_POINT_CHECKPOINT), entries)
}

pub fn read_log_start_offset_checkpoint(log_dir: &Path) -> Result<Vec<CheckpointEntry>> {
    read_offset_checkpoint(&log_dir.join(LOG_START_OFFSET_CHECKPOINT))
}

pub fn write_log_start_offset_checkpoint(
    log_dir: &Path,
    entries: &[CheckpointEntry],
) -> Result<()> {
    write_offset_checkpoint(&log_dir.join(LOG_START_OFFSET_CHECKPOINT), entries)
}

pub fn read_cleaner_offset_checkpoint(log_dir: &Path) -> Result<Vec<CheckpointEntry>> {
    read_offset_checkpoint(&log_dir.join(CLEANER_OFFSET_CHECKPOINT))
}

pub fn write_cleaner_offset_checkpoint(log_dir: &Path, entries: &[CheckpointEntry]) -> Result<()> {
    write_offset_checkpoint(&log_dir.join(CLEANER_OFFSET_CHECKPOINT), entries)
}

pub fn read_replication_offset_checkpoint(log_dir: &Path) -> Result<Vec<CheckpointEntry>> {
    read_offset_checkpoint(&log_dir.join(REPLICATION_OFFSET_CHECKPOINT))
}

pub fn write_replication_offset_checkpoint(
    log_dir: &Path,
    entries: &[CheckpointEntry],
) -> Result<()> {
    write_offset_checkpoint(&log_dir.join(REPLICATION_OFFSET_CHECKPOINT), entries)
}

pub fn has_clean_shutdown_marker(log_dir: &Path) -> Result<bool> {
    let path = log_dir.join(CLEAN_SHUTDOWN_MARKER);
    path.try_exists()
        .map_err(|e| Error::from_io("stat clean shutdown marker", path, e))
}

/// Writes the marker durably (file and directory entry).
pub fn write_clean_shutdown_marker(log_dir: &Path) -> Result<()> {
    let path = log_dir.join(CLEAN_SHUTDOWN_MARKER);
    let write = || -> io::Result<()> {
        File::create(&path)?.sync_all()?;
        sync_parent(&path)
    };
    write().map_err(|e| Error::from_io("write clean shutdown marker", &path, e))
}

/// Removes the marker durably; a missing marker is fine.
pub fn remove_clean_shutdown_marker(log_dir: &Path) -> Result<()> {
    let path = log_dir.join(CLEAN_SHUTDOWN_MARKER);
    match std::fs::remove_file(&path) {
        Ok(()) => {
            sync_parent(&path).map_err(|e| Error::from_io("remove clean shutdown marker", &path, e))
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(Error::from_io("remove clean shutdown marker", &path, e)),
    }
}

/// An exclusive hold on `<logdir>/.lock`; released when dropped (closing the fd drops the flock,
/// and the kernel drops it too if the process dies).
#[derive(Debug)]
pub struct LogDirLock {
    _file: File,
    dir: PathBuf,
}

impl LogDirLock {
    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

/// Takes `flock(LOCK_EX | LOCK_NB)` on `<logdir>/.lock`, creating the file if needed. A lock held
/// elsewhere (another process, or another open of the file in this one) is `LogDirLocked`.
pub fn lock_log_dir(log_dir: &Path) -> Result<LogDirLock> {
    use std::os::fd::AsRawFd;
    let path = log_dir.join(LOG_DIR_LOCK);
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .map_err(|e| Error::from_io("open log dir lock", &path, e))?;
    // SAFETY: flock on an fd this function owns; no memory is passed.
    if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } != 0 {
        let e = io::Error::last_os_error();
        return Err(if e.raw_os_error() == Some(libc::EWOULDBLOCK) {
            Error::LogDirLocked {
                dir: log_dir.to_path_buf(),
            }
        } else {
            Error::from_io("flock log dir lock", &path, e)
        });
    }
    Ok(LogDirLock {
        _file: file,
        dir: log_dir.to_path_buf(),
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn log_dir_lock_is_exclusive_until_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let first = lock_log_dir(dir.path()).unwrap();
        assert!(dir.path().join(LOG_DIR_LOCK).exists());
        let second = lock_log_dir(dir.path()).unwrap_err();
        assert_eq!(second.code(), "LOG_DIR_LOCKED");
        assert!(
            second
                .to_string()
                .contains(&dir.path().display().to_string())
        );
        drop(first);
        let again = lock_log_dir(dir.path()).unwrap();
        assert_eq!(again.dir(), dir.path());
    }

    use super::*;

    #[test]
    fn round_trip_in_kafkas_text_format() {
        let dir = tempfile::tempdir().unwrap();
        let entries = vec![
            CheckpointEntry {
                topic: "orders".into(),
                partition: 0,
                offset: 1234,
            },
            CheckpointEntry {
                topic: "orders".into(),
                partition: 1,
                offset: 99,
            },
        ];
        write_recovery_point_checkpoint(dir.path(), &entries).unwrap();
        let text = std::fs::read_to_string(dir.path().join(RECOVERY_POINT_CHECKPOINT)).unwrap();
        assert_eq!(text, "0\n2\norders 0 1234\norders 1 99\n");
        assert_eq!(read_recovery_point_checkpoint(dir.path()).unwrap(), entries);
        assert!(
            !dir.path()
                .join("recovery-point-offset-checkpoint.tmp")
                .exists()
        );
    }

    #[test]
    fn missing_file_is_empty_and_garbage_is_corrupt() {
        let dir = tempfile::tempdir().unwrap();
        assert!(
            read_log_start_offset_checkpoint(dir.path())
                .unwrap()
                .is_empty()
        );
        let path = dir.path().join(LOG_START_OFFSET_CHECKPOINT);
        for bad in ["1\n0\n", "0\n2\nt 0 1\n", "0\n1\nt zero 1\n", "0\n1\nt 0\n"] {
            std::fs::write(&path, bad).unwrap();
            let err = read_log_start_offset_checkpoint(dir.path()).unwrap_err();
            assert_eq!(err.code(), "CORRUPT_CHECKPOINT", "{bad:?}");
        }
    }

    #[test]
    fn replication_offsets_round_trip_in_their_own_file() {
        let dir = tempfile::tempdir().unwrap();
        let entries = [CheckpointEntry {
            topic: "orders".into(),
            partition: 3,
            offset: 42,
        }];
        write_replication_offset_checkpoint(dir.path(), &entries).unwrap();
        let text = std::fs::read_to_string(dir.path().join(REPLICATION_OFFSET_CHECKPOINT)).unwrap();
        assert_eq!(text, "0\n1\norders 3 42\n");
        assert_eq!(
            read_replication_offset_checkpoint(dir.path()).unwrap(),
            entries
        );
        assert!(
            read_recovery_point_checkpoint(dir.path())
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn topics_with_spaces_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let entries = [CheckpointEntry {
            topic: "a b".into(),
            partition: 0,
            offset: 1,
        }];
        assert_eq!(
            write_recovery_point_checkpoint(dir.path(), &entries)
                .unwrap_err()
                .code(),
            "INVALID_ARGUMENT"
        );
    }

    #[test]
    fn clean_shutdown_marker_lifecycle() {
        let dir = tempfile::tempdir().unwrap();
        assert!(!has_clean_shutdown_marker(dir.path()).unwrap());
        write_clean_shutdown_marker(dir.path()).unwrap();
        assert!(has_clean_shutdown_marker(dir.path()).unwrap());
        remove_clean_shutdown_marker(dir.path()).unwrap();
        assert!(!has_clean_shutdown_marker(dir.path()).unwrap());
        remove_clean_shutdown_marker(dir.path()).unwrap();
    }
}
