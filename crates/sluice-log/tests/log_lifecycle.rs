//! Retention by time and size, DeleteRecords, timestamp lookups through the time index,
//! max timestamp, truncation, roll rules, flush policy and async flush, config updates, close
//! and delete.

mod common;

use common::*;
use sluice_log::fault::{Fault, Op};
use sluice_log::flush_stats::flush_stats;
use sluice_log::{AppendMode, Log, LogConfig, OpenOptions, TimestampType};

/// Appends `n` batches of 2 records with timestamps `t0 + 100*i` and `t0 + 100*i + 50`.
fn timed_batches(log: &mut Log, n: usize, t0: i64) -> Vec<Stored> {
    (0..n)
        .map(|i| {
            let ts = t0 + 100 * i as i64;
            let mut bytes = build_batch(
                &BatchSpec {
                    timestamps: vec![ts, ts + 50],
                    value_len: 120,
                    compression: 0,
                    producer_id: -1,
                },
                i as u8,
            );
            let r = log.append(&mut bytes, ts, 0).unwrap();
            Stored {
                base_offset: r.base_offset,
                count: 2,
                bytes,
            }
        })
        .collect()
}

for_each_mode!(
    retention_by_time_deletes_whole_expired_segments,
    |mode: AppendMode| {
        let dir = tempfile::tempdir().unwrap();
        let config = LogConfig {
            retention_ms: 10_000,
            segment_bytes: 2048,
            ..small_config(mode)
        };
        let mut log = open(dir.path(), config);
        timed_batches(&mut log, 100, 0); // timestamps 0 ..= 9_950
        let bases = log.segment_base_offsets();
        assert!(bases.len() > 5);
        // now = 15_000: segments whose largest timestamp is < 5_000 are past retention.ms.
        let deleted = log.enforce_retention(15_000).unwrap();
        assert!(deleted > 0);
        let first = log.segment_base_offsets()[0];
        assert_eq!(log.log_start_offset(), first);
        assert!(log.offset_for_timestamp(0).unwrap().unwrap().offset >= first);
        // Everything kept holds a timestamp within retention; the segment before the first kept did not.
        let kept_first = log.read(first, 1, true).unwrap().unwrap();
        assert!(kept_first.first_offset == first);
        assert_eq!(log.enforce_retention(15_000).unwrap(), 0, "idempotent");
        // Far in the future every segment expires: the log rolls and keeps one empty segment.
        let end = log.log_end_offset();
        let deleted = log.enforce_retention(1_000_000).unwrap();
        assert!(deleted > 0);
        assert_eq!(log.segment_base_offsets(), vec![end]);
        assert_eq!(
            (
                log.log_start_offset(),
                log.log_end_offset(),
                log.size_bytes()
            ),
            (end, end, 0)
        );
        assert!(log.read(end, 100, true).unwrap().is_none());
        assert_eq!(
            log.enforce_retention(1_000_000).unwrap(),
            0,
            "an empty active segment is never deleted"
        );
        log.append(&mut simple_batch(1, 2_000_000, 10), 2_000_000, 0)
            .unwrap();
        assert_eq!(log.log_end_offset(), end + 1);
    }
);

for_each_mode!(
    retention_by_size_keeps_the_newest_bytes,
    |mode: AppendMode| {
        let dir = tempfile::tempdir().unwrap();
        let config = LogConfig {
            retention_bytes: 5_000,
            segment_bytes: 2048,
            ..small_config(mode)
        };
        let mut log = open(dir.path(), config);
        timed_batches(&mut log, 60, 0);
        let before = log.size_bytes();
        assert!(before > 10_000);
        let deleted = log.enforce_retention(0).unwrap();
        assert!(deleted > 0);
        let after = log.size_bytes();
        assert!(after >= 5_000, "never below retention.bytes: {after}");
        // Kafka's rule: deleting the oldest remaining segment would go below retention.bytes.
        let bases = log.segment_base_offsets();
        let oldest = log
            .read(bases[0], u64::MAX, true)
            .unwrap()
            .unwrap()
            .range
            .len();
        assert!(
            after - oldest < 5_000,
            "one more deletion would have been allowed: {after} - {oldest}"
        );
        assert_eq!(log.log_start_offset(), bases[0]);
    }
);

for_each_mode!(delete_records_moves_the_log_start, |mode: AppendMode| {
    let dir = tempfile::tempdir().unwrap();
    let config = LogConfig {
        segment_bytes: 2048,
        ..small_config(mode)
    };
    let mut log = open(dir.path(), config);
    let stored = timed_batches(&mut log, 50, 0);
    let bases = log.segment_base_offsets();
    let target = bases[3] + 1;
    assert_eq!(log.delete_records_before(target).unwrap(), target);
    assert_eq!(
        log.segment_base_offsets()[0],
        bases[3],
        "segments wholly below the start are gone"
    );
    assert_eq!(
        log.read(target - 1, 10, true).unwrap_err().code(),
        "OFFSET_OUT_OF_RANGE"
    );
    let read = log.read(target, 1, true).unwrap().unwrap();
    assert_eq!(
        read.first_offset,
        stored[batch_containing(&stored, target)].base_offset,
        "the containing batch"
    );
    assert_eq!(
        log.delete_records_before(2).unwrap(),
        target,
        "never moves back"
    );
    let end = log.log_end_offset();
    assert_eq!(
        log.delete_records_before(end + 1).unwrap_err().code(),
        "OFFSET_OUT_OF_RANGE"
    );
    assert_eq!(log.delete_records_before(end).unwrap(), end);
    assert_eq!(log.segment_count(), 1);
    assert!(log.read(end, 10, true).unwrap().is_none());
    assert_eq!(
        log.offset_for_timestamp(0).unwrap(),
        None,
        "nothing at or after the start"
    );
});

for_each_mode!(
    timestamp_lookups_find_the_first_record_at_or_after,
    |mode: AppendMode| {
        let dir = tempfile::tempdir().unwrap();
        let config = LogConfig {
            segment_bytes: 2048,
            ..small_config(mode)
        };
        let mut log = open(dir.path(), config);
        let stored = timed_batches(&mut log, 80, 1_000);
        assert!(log.segment_count() > 3);
        for i in 0..80i64 {
            let ts = 1_000 + 100 * i;
            let at = |t: i64| log.offset_for_timestamp(t).unwrap().unwrap();
            assert_eq!(at(ts).offset, 2 * i, "exact first record");
            assert_eq!(at(ts).timestamp, ts);
            assert_eq!(at(ts + 1).offset, 2 * i + 1, "mid-batch record");
            assert_eq!(at(ts + 50).timestamp, ts + 50);
            if i + 1 < 80 {
                assert_eq!(at(ts + 51).offset, 2 * (i + 1), "next batch");
            }
        }
        assert_eq!(log.offset_for_timestamp(0).unwrap().unwrap().offset, 0);
        assert_eq!(log.offset_for_timestamp(1_000_000).unwrap(), None);
        assert_eq!(
            log.max_timestamp().unwrap().unwrap().offset,
            stored.last().unwrap().last_offset()
        );
        assert_eq!(
            log.max_timestamp().unwrap().unwrap().timestamp,
            1_000 + 7_950
        );
    }
);

for_each_mode!(
    timestamps_out_of_order_and_compressed_batches,
    |mode: AppendMode| {
        let dir = tempfile::tempdir().unwrap();
        let mut log = open(dir.path(), small_config(mode));
        // Records inside a batch out of order: [500, 900, 700].
        let mut a = build_batch(
            &BatchSpec {
                timestamps: vec![500, 900, 700],
                value_len: 10,
                compression: 0,
                producer_id: -1,
            },
            1,
        );
        log.append(&mut a, 0, 0).unwrap();
        // A compressed batch (the log reads only its header here): answers at batch level.
        let mut b = build_batch(
            &BatchSpec {
                timestamps: vec![1_000, 1_500],
                value_len: 10,
                compression: 1,
                producer_id: -1,
            },
            2,
        );
        log.append(&mut b, 0, 0).unwrap();
        let at = |t: i64| log.offset_for_timestamp(t).unwrap().unwrap();
        assert_eq!((at(600).offset, at(600).timestamp), (1, 900));
        assert_eq!((at(800).offset, at(800).timestamp), (1, 900));
        assert_eq!(
            (at(901).offset, at(901).timestamp),
            (3, 1_500),
            "compressed: first offset, maxTimestamp"
        );
        let max = log.max_timestamp().unwrap().unwrap();
        assert_eq!((max.offset, max.timestamp), (3, 1_500));
        // Uncompressed max in the middle of a batch.
        let dir2 = tempfile::tempdir().unwrap();
        let mut log2 = open(dir2.path(), small_config(mode));
        log2.append(&mut a.clone(), 0, 0).unwrap();
        let max = log2.max_timestamp().unwrap().unwrap();
        assert_eq!((max.offset, max.timestamp), (1, 900));
    }
);

for_each_mode!(log_append_time_lookups, |mode: AppendMode| {
    let dir = tempfile::tempdir().unwrap();
    let config = LogConfig {
        message_timestamp_type: TimestampType::LogAppendTime,
        ..small_config(mode)
    };
    let mut log = open(dir.path(), config);
    for i in 0..10i64 {
        log.append(&mut simple_batch(3, 1, 10), 10_000 + i * 10, 0)
            .unwrap();
    }
    let hit = log.offset_for_timestamp(10_045).unwrap().unwrap();
    assert_eq!((hit.offset, hit.timestamp), (15, 10_050));
    let max = log.max_timestamp().unwrap().unwrap();
    assert_eq!((max.offset, max.timestamp), (27, 10_090));
});

for_each_mode!(time_index_survives_reopen, |mode: AppendMode| {
    let dir = tempfile::tempdir().unwrap();
    let config = LogConfig {
        segment_bytes: 2048,
        ..small_config(mode)
    };
    let mut log = open(dir.path(), config.clone());
    timed_batches(&mut log, 40, 0);
    let before: Vec<_> = (0..40)
        .map(|i| log.offset_for_timestamp(i * 100 + 25).unwrap())
        .collect();
    let max = log.max_timestamp().unwrap();
    log.close().unwrap();
    let log = open_clean(dir.path(), config);
    let after: Vec<_> = (0..40)
        .map(|i| log.offset_for_timestamp(i * 100 + 25).unwrap())
        .collect();
    assert_eq!(before, after);
    assert_eq!(log.max_timestamp().unwrap(), max);
});

for_each_mode!(
    truncate_to_cuts_whole_batches_across_segments,
    |mode: AppendMode| {
        let dir = tempfile::tempdir().unwrap();
        let config = LogConfig {
            segment_bytes: 2048,
            ..small_config(mode)
        };
        let mut log = open(dir.path(), config.clone());
        let stored = timed_batches(&mut log, 50, 0);
        let bases = log.segment_base_offsets();
        // Mid-batch inside segment #2: the whole containing batch goes.
        let target = bases[2] + 3;
        let containing = &stored[batch_containing(&stored, target)];
        let read_before = log.read(0, 1 << 20, true).unwrap().unwrap();
        log.truncate_to(target).unwrap();
        assert_eq!(log.log_end_offset(), containing.base_offset);
        assert_eq!(log.segment_base_offsets(), bases[..3].to_vec());
        assert!(log.recovery_point() <= log.log_end_offset());
        assert_eq!(
            range_bytes(&read_before.range).len() as u64,
            read_before.range.len(),
            "earlier ranges untouched"
        );
        assert_eq!(
            log.max_timestamp().unwrap().unwrap().offset,
            containing.base_offset - 1
        );
        let mut next = simple_batch(2, 99_999, 10);
        assert_eq!(
            log.append(&mut next, 0, 0).unwrap().base_offset,
            containing.base_offset
        );
        assert_eq!(
            range_bytes(
                &log.read(containing.base_offset, 1, true)
                    .unwrap()
                    .unwrap()
                    .range
            ),
            next
        );
        // Survives a crash and recovery.
        let end = log.log_end_offset();
        drop(log);
        let mut log = open(dir.path(), config.clone());
        assert_eq!(log.log_end_offset(), end);
        // Below the first segment: emptied, restarts there.
        log.delete_records_before(bases[1]).unwrap();
        log.truncate_to(3).unwrap();
        assert_eq!(
            (
                log.log_start_offset(),
                log.log_end_offset(),
                log.segment_count()
            ),
            (3, 3, 1)
        );
        assert_eq!(log.truncate_to(-1).unwrap_err().code(), "INVALID_ARGUMENT");
    }
);

for_each_mode!(segment_ms_rolls_by_record_time, |mode: AppendMode| {
    let dir = tempfile::tempdir().unwrap();
    let config = LogConfig {
        segment_ms: 1_000,
        segment_bytes: 1 << 20,
        ..small_config(mode)
    };
    let mut log = open(dir.path(), config);
    log.append(&mut simple_batch(1, 10_000, 10), 0, 0).unwrap();
    assert!(
        !log.append(&mut simple_batch(1, 10_900, 10), 0, 0)
            .unwrap()
            .rolled
    );
    let r = log.append(&mut simple_batch(1, 11_001, 10), 0, 0).unwrap();
    assert!(r.rolled);
    assert_eq!(log.segment_base_offsets(), vec![0, 2]);
});

for_each_mode!(
    full_index_and_relative_offset_overflow_roll,
    |mode: AppendMode| {
        let dir = tempfile::tempdir().unwrap();
        // Room for 3 offset index entries (24 bytes) and an entry on every batch.
        let config = LogConfig {
            segment_index_bytes: 24,
            index_interval_bytes: 0,
            segment_bytes: 1 << 20,
            ..small_config(mode)
        };
        let mut log = open(dir.path(), config.clone());
        let stored = append_batches(&mut log, 20, 2, 10, 0);
        assert!(
            log.segment_count() >= 5,
            "rolled on full indexes: {}",
            log.segment_count()
        );
        for s in &stored {
            assert_eq!(
                range_bytes(&log.read(s.base_offset, 1, true).unwrap().unwrap().range),
                s.bytes
            );
        }
        // One batch claiming 2^31 offsets cannot share a segment with anything.
        let mut huge = simple_batch(1, 0, 1);
        huge[23..27].copy_from_slice(&i32::MAX.to_be_bytes()); // lastOffsetDelta
        huge[57..61].copy_from_slice(&i32::MAX.to_be_bytes()); // count: lastOffsetDelta + 1 overflows i32
        fix_crc(&mut huge);
        assert_eq!(
            log.append(&mut huge, 0, 0).unwrap_err().code(),
            "INVALID_RECORD"
        );
        // An append cannot claim more records than it holds, so the 2^31-offset gap comes the way
        // Kafka gets one: a stored (compacted-style) batch, one record left of i32::MAX offsets,
        // alone in a segment of its own, found by recovery on the next open.
        let gap_base = log.log_end_offset();
        log.close().unwrap();
        drop(log);
        let mut big = simple_batch(1, 0, 1);
        big[0..8].copy_from_slice(&gap_base.to_be_bytes());
        big[23..27].copy_from_slice(&(i32::MAX - 1).to_be_bytes());
        fix_crc(&mut big);
        std::fs::write(dir.path().join(format!("{gap_base:020}.log")), &big).unwrap();
        let mut log = open(dir.path(), config);
        assert_eq!(log.log_end_offset(), gap_base + i64::from(i32::MAX));
        let gap_last = gap_base + i64::from(i32::MAX) - 1;
        // Appends continue after the gap without overflowing a segment's relative offsets.
        // (Whether the offset at relative i32::MAX shares the recovered segment is not pinned
        // here: reopening may roll first.)
        let fits = log.append(&mut simple_batch(1, 0, 1), 0, 0).unwrap();
        assert_eq!(fits.base_offset, gap_last + 1);
        let after = log.append(&mut simple_batch(2, 0, 1), 0, 0).unwrap();
        assert_eq!(after.base_offset, gap_last + 2);
    }
);

for_each_mode!(flush_messages_policy_syncs, |mode: AppendMode| {
    let dir = tempfile::tempdir().unwrap();
    let config = LogConfig {
        flush_interval_messages: 5,
        ..small_config(mode)
    };
    let (mut log, storage) = open_faulty(dir.path(), config, OpenOptions::default());
    let syncs = storage.calls(Op::Sync);
    log.append(&mut simple_batch(4, 0, 10), 0, 0).unwrap();
    assert_eq!(storage.calls(Op::Sync), syncs);
    assert_eq!(log.recovery_point(), 0);
    log.append(&mut simple_batch(1, 0, 10), 0, 0).unwrap();
    assert!(storage.calls(Op::Sync) > syncs);
    assert_eq!(log.recovery_point(), 5);
});

for_each_mode!(flushes_are_counted_and_timed, |mode: AppendMode| {
    // The flush counters are process-wide and other tests flush at the same time, so this
    // checks growth by at least what this log did.
    let dir = tempfile::tempdir().unwrap();
    let config = LogConfig {
        flush_interval_messages: 2,
        ..small_config(mode)
    };
    let (mut log, storage) = open_faulty(dir.path(), config, OpenOptions::default());
    let before = flush_stats();
    log.append(&mut simple_batch(2, 0, 10), 0, 0).unwrap(); // flush.messages reached: a flush
    log.flush().unwrap();
    let middle = flush_stats();
    assert!(middle.count >= before.count + 2);
    assert!(middle.sum_seconds > before.sum_seconds);
    let bucketed = |s: &sluice_log::flush_stats::FlushStats| s.buckets.iter().sum::<u64>();
    assert!(bucketed(&middle) >= bucketed(&before) + 2);
    storage.fail_next(Op::Sync, Fault::Errno(libc::EIO));
    log.append(&mut simple_batch(1, 0, 10), 0, 0).unwrap();
    assert!(log.flush().is_err());
    let after = flush_stats();
    assert!(
        after.failures > middle.failures,
        "a failed flush is counted as a failure"
    );
    assert!(after.count > middle.count);
});

for_each_mode!(
    flush_job_runs_on_another_thread_while_appending,
    |mode: AppendMode| {
        let dir = tempfile::tempdir().unwrap();
        let mut log = open(dir.path(), small_config(mode));
        append_batches(&mut log, 50, 3, 100, 0);
        let flushed_end = log.log_end_offset();
        let job = log.flush_job().unwrap();
        let handle = std::thread::spawn(move || job.run());
        append_batches(&mut log, 50, 3, 100, 0);
        assert_eq!(handle.join().unwrap().unwrap(), flushed_end);
        assert_eq!(log.recovery_point(), flushed_end);
        // A job that started before a truncation cannot raise the recovery point past it.
        let job = log.flush_job().unwrap();
        log.truncate_to(10).unwrap();
        job.run().unwrap();
        assert!(log.recovery_point() <= 10);
    }
);

#[test]
fn update_config_switches_append_mode_in_place() {
    let dir = tempfile::tempdir().unwrap();
    let mut log = open(dir.path(), small_config(AppendMode::Mmap));
    let mut stored = append_batches(&mut log, 10, 3, 100, 0);
    log.update_config(small_config(AppendMode::Pwrite)).unwrap();
    stored.extend(append_batches(&mut log, 10, 3, 100, 0));
    log.update_config(LogConfig {
        segment_bytes: 100_000,
        ..small_config(AppendMode::Mmap)
    })
    .unwrap();
    stored.extend(append_batches(&mut log, 10, 3, 100, 0));
    for s in &stored {
        assert_eq!(
            range_bytes(&log.read(s.base_offset, 1, true).unwrap().unwrap().range),
            s.bytes
        );
    }
    assert_eq!(
        log.update_config(LogConfig {
            segment_ms: 0,
            ..LogConfig::default()
        })
        .unwrap_err()
        .code(),
        "INVALID_CONFIG"
    );
    assert_eq!(
        log.config().segment_bytes,
        100_000,
        "a rejected update changes nothing"
    );
}

#[test]
fn invalid_open_config_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let err = Log::open(
        dir.path(),
        LogConfig {
            segment_bytes: 1,
            ..LogConfig::default()
        },
        OpenOptions::default(),
    )
    .unwrap_err();
    assert_eq!(err.code(), "INVALID_CONFIG");
}

for_each_mode!(close_then_delete, |mode: AppendMode| {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("topic-0");
    let mut log = open(&path, small_config(mode));
    append_batches(&mut log, 5, 2, 10, 0);
    let stats = log.stats();
    assert_eq!(
        (
            stats.log_start_offset,
            stats.log_end_offset,
            stats.segment_count
        ),
        (0, 7, 1)
    );
    assert_eq!(stats.recovery_point, 0);
    log.close().unwrap();
    assert_eq!(log.flush().unwrap_err().code(), "LOG_CLOSED");
    assert_eq!(log.enforce_retention(0).unwrap_err().code(), "LOG_CLOSED");
    let mut log = open_clean(&path, small_config(mode));
    assert_eq!(log.recovery_point(), 7);
    log.delete().unwrap();
    assert!(!path.exists());
    assert_eq!(log.read(0, 1, true).unwrap_err().code(), "LOG_CLOSED");
});
