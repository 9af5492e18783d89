//! Per-partition log configuration: Kafka's topic-level settings (`segment.bytes`, `segment.ms`,
//! `segment.index.bytes`, `index.interval.bytes`, `max.message.bytes`, `retention.ms`,
//! `retention.bytes`, `message.timestamp.type`, `flush.messages`, and the compaction settings
//! `cleanup.policy`, `delete.retention.ms`, `min.compaction.lag.ms`,
//! `min.cleanable.dirty.ratio`), the broker's `producer.id.expiration.ms` (Kafka keeps it in the
//! partition's producer state manager config) plus Sluice's own append mode and preallocation
//! step (`sluice.log.append.mode`, `sluice.log.preallocate.step.bytes`).

use crate::error::{Error, Result};

/// How appended bytes reach the active segment file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AppendMode {
    /// The active segment is mapped once at `segment.bytes`; the file is extended with fallocate
    /// `preallocate_step_bytes` at a time ahead of the write position; appends are memcpy.
    Mmap,
    /// pwrite(2) at the end of the file.
    Pwrite,
}

impl AppendMode {
    pub fn parse(name: &str) -> Result<AppendMode> {
        match name {
            "mmap" => Ok(AppendMode::Mmap),
            "pwrite" => Ok(AppendMode::Pwrite),
            other => Err(Error::InvalidConfig {
                name: "sluice.log.append.mode",
                reason: format!("{other:?} is not \"mmap\" or \"pwrite\""),
            }),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            AppendMode::Mmap => "mmap",
            AppendMode::Pwrite => "pwrite",
        }
    }
}

/// Kafka's `message.timestamp.type`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimestampType {
    CreateTime,
    LogAppendTime,
}

impl TimestampType {
    pub fn parse(name: &str) -> Result<TimestampType> {
        match name {
            "CreateTime" => Ok(TimestampType::CreateTime),
            "LogAppendTime" => Ok(TimestampType::LogAppendTime),
            other => Err(Error::InvalidConfig {
                name: "message.timestamp.type",
                reason: format!("{other:?} is not \"CreateTime\" or \"LogAppendTime\""),
            }),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            TimestampType::CreateTime => "CreateTime",
            TimestampType::LogAppendTime => "LogAppendTime",
        }
    }
}

/// Kafka's `cleanup.policy`: a list of `delete` and `compact`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CleanupPolicy {
    /// Time and size retention (`retention.ms`, `retention.bytes`) delete old segments.
    pub delete: bool,
    /// The log cleaner keeps the latest record per key (see `log/cleaner/mod.rs`); appends must carry
    /// keys.
    pub compact: bool,
}

impl CleanupPolicy {
    pub const DELETE: CleanupPolicy = CleanupPolicy {
        delete: true,
        compact: false,
    };

    /// A comma-separated list as Kafka writes it: `delete`, `compact`, `compact,delete`.
    pub fn parse(list: &str) -> Result<CleanupPolicy> {
        let mut policy = CleanupPolicy {
            delete: false,
            compact: false,
        };
        for item in list.split(',').map(str::trim).filter(|i| !i.is_empty()) {
            match item {
                "delete" => policy.delete = true,
                "compact" => policy.compact = true,
                other => {
                    return Err(Error::InvalidConfig {
                        name: "cleanup.policy",
                        reason: format!("{other:?} is not \"delete\" or \"compact\""),
                    });
                }
            }
        }
        Ok(policy)
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct LogConfig {
    /// `segment.bytes`: roll before a segment would grow past this.
    pub segment_bytes: u64,
    /// `segment.ms`: roll a non-empty segment once its first batch is this old.
    pub segment_ms: i64,
    /// `segment.index.bytes`: size of each index file of the active segment.
    pub segment_index_bytes: u64,
    /// `index.interval.bytes`: log bytes between index entries.
    pub index_interval_bytes: u64,
    /// `max.message.bytes`: largest batch accepted (its whole size, header included).
    pub max_message_bytes: u64,
    /// `retention.ms`; negative: unlimited.
    pub retention_ms: i64,
    /// `retention.bytes`; negative: unlimited.
    pub retention_bytes: i64,
    /// `sluice.log.append.mode`: `pwrite` by default, the mode the end-to-end benchmark chose
    /// (and the broker's default).
    pub append_mode: AppendMode,
    /// `sluice.log.preallocate.step.bytes`: fallocate granularity in mmap mode (rounded up to
    /// whole 4 KiB pages).
    pub preallocate_step_bytes: u64,
    /// `message.timestamp.type`.
    pub message_timestamp_type: TimestampType,
    /// `flush.messages`: fdatasync after this many messages since the last flush.
    pub flush_interval_messages: u64,
    /// `cleanup.policy`.
    pub cleanup_policy: CleanupPolicy,
    /// `delete.retention.ms`: how long the cleaner keeps a tombstone after it first saw it
    /// (KIP-534 delete horizon).
    pub delete_retention_ms: i64,
    /// `min.compaction.lag.ms`: a segment whose largest timestamp is younger than this is not
    /// cleaned.
    pub min_compaction_lag_ms: i64,
    /// `min.cleanable.dirty.ratio`: clean once dirty bytes / all bytes exceeds this.
    pub min_cleanable_dirty_ratio: f64,
    /// `producer.id.expiration.ms`: an idempotent producer's state is dropped once its last
    /// batch's timestamp is this old (Kafka's default: one day).
    pub producer_id_expiration_ms: i64,
}

impl Default for LogConfig {
    fn default() -> Self {
        LogConfig {
            segment_bytes: 1 << 30,
            segment_ms: 7 * 24 * 60 * 60 * 1000,
            segment_index_bytes: 10 * 1024 * 1024,
            index_interval_bytes: 4096,
            max_message_bytes: 1_048_588,
            retention_ms: 7 * 24 * 60 * 60 * 1000,
            retention_bytes: -1,
            append_mode: AppendMode::Pwrite,
            preallocate_step_bytes: 32 << 20,
            message_timestamp_type: TimestampType::CreateTime,
            flush_interval_messages: i64::MAX as u64,
            cleanup_policy: CleanupPolicy::DELETE,
            delete_retention_ms: 24 * 60 * 60 * 1000,
            min_compaction_lag_ms: 0,
            min_cleanable_dirty_ratio: 0.5,
            producer_id_expiration_ms: 24 * 60 * 60 * 1000,
        }
    }
}

/// Page granularity of preallocation and of mmap offsets.
pub const PAGE_SIZE: u64 = 4096;

impl LogConfig {
    /// Checks every value against Kafka's allowed ranges (and ours for the Sluice knobs).
    pub fn validate(&self) -> Result<()> {
        // Positions in the offset index are 32-bit, as in Kafka (segment.bytes is an int there).
        check(
            self.segment_bytes >= 14 && self.segment_bytes <= i32::MAX as u64,
            "segment.bytes",
            || format!("{} is not in [14, {}]", self.segment_bytes, i32::MAX),
        )?;
        check(self.segment_ms >= 1, "segment.ms", || {
            format!("{} is below 1", self.segment_ms)
        })?;
        check(
            self.segment_index_bytes >= 4 && self.segment_index_bytes <= i32::MAX as u64,
            "segment.index.bytes",
            || format!("{} is not in [4, {}]", self.segment_index_bytes, i32::MAX),
        )?;
        check(
            self.index_interval_bytes <= i32::MAX as u64,
            "index.interval.bytes",
            || format!("{} is above {}", self.index_interval_bytes, i32::MAX),
        )?;
        check(
            self.max_message_bytes <= i32::MAX as u64,
            "max.message.bytes",
            || format!("{} is above {}", self.max_message_bytes, i32::MAX),
        )?;
        check(self.retention_ms >= -1, "retention.ms", || {
            format!("{} is below -1", self.retention_ms)
        })?;
        check(
            self.preallocate_step_bytes >= 1 && self.preallocate_step_bytes <= 1 << 30,
            "sluice.log.preallocate.step.bytes",
            || {
                format!(
                    "{} is not in [1, {}]",
                    self.preallocate_step_bytes,
                    1u64 << 30
                )
            },
        )?;
        check(self.flush_interval_messages >= 1, "flush.messages", || {
            format!("{} is below 1", self.flush_interval_messages)
        })?;
        check(self.delete_retention_ms >= 0, "delete.retention.ms", || {
            format!("{} is below 0", self.delete_retention_ms)
        })?;
        check(
            self.min_compaction_lag_ms >= 0,
            "min.compaction.lag.ms",
            || format!("{} is below 0", self.min_compaction_lag_ms),
        )?;
        check(
            (0.0..=1.0).contains(&self.min_cleanable_dirty_ratio),
            "min.cleanable.dirty.ratio",
            || format!("{} is not in [0, 1]", self.min_cleanable_dirty_ratio),
        )?;
        check(
            self.producer_id_expiration_ms >= 1,
            "producer.id.expiration.ms",
            || format!("{} is below 1", self.producer_id_expiration_ms),
        )?;
        Ok(())
    }

    /// The preallocation step rounded up to whole pages.
    pub fn preallocate_step(&self) -> u64 {
        self.preallocate_step_bytes.div_ceil(PAGE_SIZE) * PAGE_SIZE
    }
}

fn check(ok: bool, name: &'static str, reason: impl FnOnce() -> String) -> Result<()> {
    if ok {
        Ok(())
    } else {
        Err(Error::InvalidConfig {
            name,
            reason: reason(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_kafkas_and_valid() {
        let c = LogConfig::default();
        c.validate().unwrap();
        assert_eq!(
            c.append_mode,
            AppendMode::Pwrite,
            "the broker's default too"
        );
        assert_eq!(c.segment_bytes, 1_073_741_824);
        assert_eq!(c.segment_ms, 604_800_000);
        assert_eq!(c.segment_index_bytes, 10_485_760);
        assert_eq!(c.max_message_bytes, 1_048_588);
        assert_eq!(c.preallocate_step_bytes, 33_554_432);
        assert_eq!(c.producer_id_expiration_ms, 86_400_000);
    }

    #[test]
    fn out_of_range_values_name_the_setting() {
        let c = LogConfig {
            segment_bytes: 3,
            ..LogConfig::default()
        };
        let e = c.validate().unwrap_err();
        assert_eq!(e.code(), "INVALID_CONFIG");
        assert!(e.to_string().contains("segment.bytes"), "{e}");
        let c = LogConfig {
            flush_interval_messages: 0,
            ..LogConfig::default()
        };
        assert!(
            c.validate()
                .unwrap_err()
                .to_string()
                .contains("flush.messages")
        );
        assert_eq!(AppendMode::parse("mmap").unwrap(), AppendMode::Mmap);
        assert_eq!(
            AppendMode::parse("mmapp").unwrap_err().code(),
            "INVALID_CONFIG"
        );
        assert_eq!(
            TimestampType::parse("LogAppendTime").unwrap(),
            TimestampType::LogAppendTime
        );
    }

    #[test]
    fn cleanup_policy_lists_parse_as_kafka_writes_them() {
        assert_eq!(
            CleanupPolicy::parse("delete").unwrap(),
            CleanupPolicy::DELETE
        );
        let both = CleanupPolicy::parse("compact,delete").unwrap();
        assert!(both.compact && both.delete);
        let compact = CleanupPolicy::parse(" compact ").unwrap();
        assert!(compact.compact && !compact.delete);
        assert_eq!(
            CleanupPolicy::parse("compact,shred").unwrap_err().code(),
            "INVALID_CONFIG"
        );
        let c = LogConfig {
            min_cleanable_dirty_ratio: 1.5,
            ..LogConfig::default()
        };
        assert!(
            c.validate()
                .unwrap_err()
                .to_string()
                .contains("min.cleanable.dirty.ratio")
        );
    }

    #[test]
    fn preallocation_step_rounds_up_to_pages() {
        let c = LogConfig {
            preallocate_step_bytes: 5000,
            ..LogConfig::default()
        };
        assert_eq!(c.preallocate_step(), 8192);
    }
}
