//! Append and read: round trips across segment rolls, offset lookup of every offset, read
//! bounds, validation (whole append rejected, nothing written), LogAppendTime, reopen.

mod common;

use common::*;
use sluice_log::fault::{Fault, Op};
use sluice_log::records::batch::{self, BatchHeader};
use sluice_log::records::validate;
use sluice_log::{AppendMode, LogConfig, OpenOptions, TimestampType};

for_each_mode!(round_trip_across_rolls, |mode: AppendMode| {
    let dir = tempfile::tempdir().unwrap();
    let mut log = open(dir.path(), small_config(mode));
    let stored = append_batches(&mut log, 300, 5, 200, 1_000);
    assert!(
        log.segment_count() >= 4,
        "expected several rolls, got {} segments",
        log.segment_count()
    );
    assert_eq!(
        log.log_end_offset(),
        stored.last().unwrap().last_offset() + 1
    );
    // Reading from 0 repeatedly with a large max_bytes walks every segment and yields every
    // batch byte-identical, in order.
    let mut offset = 0;
    let mut seen = 0;
    while let Some(read) = log.read(offset, 1 << 20, true).unwrap() {
        let bytes = range_bytes(&read.range);
        assert_eq!(read.first_offset, stored[seen].base_offset);
        let mut at = 0;
        while at < bytes.len() {
            let expected = &stored[seen].bytes;
            assert_eq!(
                &bytes[at..at + expected.len()],
                &expected[..],
                "batch {seen}"
            );
            at += expected.len();
            offset = stored[seen].last_offset() + 1;
            seen += 1;
        }
    }
    assert_eq!(seen, stored.len());
    assert_eq!(offset, log.log_end_offset());
    // Every segment file except the active one is exactly its batches (trimmed at roll).
    let sum: u64 = stored.iter().map(|s| s.bytes.len() as u64).sum();
    assert_eq!(log.size_bytes(), sum);
});

for_each_mode!(every_offset_resolves_to_its_batch, |mode: AppendMode| {
    let dir = tempfile::tempdir().unwrap();
    let mut log = open(dir.path(), small_config(mode));
    let stored = append_batches(&mut log, 120, 7, 90, 5_000);
    for offset in 0..log.log_end_offset() {
        let expected = &stored[batch_containing(&stored, offset)];
        let read = log
            .read(offset, 1, true)
            .unwrap()
            .expect("data at every offset below the end");
        assert_eq!(read.first_offset, expected.base_offset, "offset {offset}");
        assert_eq!(
            range_bytes(&read.range),
            expected.bytes,
            "offset {offset}: the containing batch, whole"
        );
    }
});

for_each_mode!(
    reads_cover_whole_batches_within_max_bytes,
    |mode: AppendMode| {
        let dir = tempfile::tempdir().unwrap();
        let mut log = open(dir.path(), small_config(mode));
        let stored = append_batches(&mut log, 40, 3, 100, 0);
        let first = stored[0].bytes.len() as u64;
        let second = stored[1].bytes.len() as u64;
        // Room for one and a half batches: exactly one.
        let read = log.read(0, first + second / 2, false).unwrap().unwrap();
        assert_eq!(read.range.len(), first);
        // Room for exactly two.
        let read = log.read(0, first + second, false).unwrap().unwrap();
        assert_eq!(read.range.len(), first + second);
        // Less than the first batch: empty without min_one_batch, the whole first batch with it.
        let read = log.read(0, first - 1, false).unwrap().unwrap();
        assert_eq!(read.range.len(), 0);
        let read = log.read(0, 1, true).unwrap().unwrap();
        assert_eq!(read.range.len(), first);
        // A range never leaves its segment.
        let read = log.read(0, u64::MAX, true).unwrap().unwrap();
        assert!(read.range.len() <= small_config(mode).segment_bytes);
    }
);

for_each_mode!(offsets_outside_the_log, |mode: AppendMode| {
    let dir = tempfile::tempdir().unwrap();
    let mut log = open(dir.path(), small_config(mode));
    assert!(
        log.read(0, 100, true).unwrap().is_none(),
        "empty log: nothing at the end"
    );
    append_batches(&mut log, 3, 2, 10, 0);
    let end = log.log_end_offset();
    assert!(log.read(end, 100, true).unwrap().is_none());
    assert_eq!(
        log.read(end + 1, 100, true).unwrap_err().code(),
        "OFFSET_OUT_OF_RANGE"
    );
    assert_eq!(
        log.read(-1, 100, true).unwrap_err().code(),
        "OFFSET_OUT_OF_RANGE"
    );
    log.delete_records_before(1).unwrap();
    assert_eq!(
        log.read(0, 100, true).unwrap_err().code(),
        "OFFSET_OUT_OF_RANGE"
    );
});

for_each_mode!(reads_stop_before_max_offset, |mode: AppendMode| {
    let dir = tempfile::tempdir().unwrap();
    let mut log = open(dir.path(), small_config(mode));
    let stored = append_batches(&mut log, 10, 3, 50, 0);
    let bound = stored[4].base_offset;
    let read = log.read_up_to(0, 1 << 20, true, bound).unwrap().unwrap();
    let expected: u64 = stored[..4].iter().map(|s| s.bytes.len() as u64).sum();
    assert_eq!(read.range.len(), expected);
    assert!(
        log.read_up_to(bound, 1 << 20, true, bound)
            .unwrap()
            .is_none()
    );
});

/// A valid batch followed by a broken one: the error names batch #1 and nothing is written.
fn assert_rejected(
    mode: AppendMode,
    config: LogConfig,
    break_second: impl Fn(&mut Vec<u8>),
    code: &str,
) {
    let dir = tempfile::tempdir().unwrap();
    let mut log = open(
        dir.path(),
        LogConfig {
            append_mode: mode,
            ..config
        },
    );
    append_batches(&mut log, 2, 2, 20, 0);
    let (end, size) = (log.log_end_offset(), log.size_bytes());
    let good = simple_batch(2, 10, 30);
    let mut bad = simple_batch(3, 10, 30);
    break_second(&mut bad);
    let mut records = [good, bad].concat();
    let before = records.clone();
    let err = log.append(&mut records, 0, 0).unwrap_err();
    assert_eq!(err.code(), code, "{err}");
    assert_eq!(
        records, before,
        "a rejected append leaves the input untouched"
    );
    assert_eq!(log.log_end_offset(), end);
    assert_eq!(log.size_bytes(), size);
    // The log still works.
    log.append(&mut simple_batch(1, 0, 5), 0, 0).unwrap();
    assert_eq!(log.log_end_offset(), end + 1);
}

for_each_mode!(crc_mismatch_is_corrupt_message, |mode: AppendMode| {
    let dir = tempfile::tempdir().unwrap();
    let mut log = open(dir.path(), small_config(mode));
    let mut records = [simple_batch(1, 0, 10), simple_batch(2, 0, 10)].concat();
    let last = records.len() - 1;
    records[last] ^= 0x55;
    let err = log.append(&mut records, 0, 0).unwrap_err();
    assert_eq!(err.code(), "CORRUPT_MESSAGE");
    assert!(
        err.to_string().contains("#1") && err.to_string().contains("CRC"),
        "{err}"
    );
    assert_rejected(mode, small_config(mode), |b| b[70] ^= 1, "CORRUPT_MESSAGE");
});

for_each_mode!(
    bad_magic_and_lying_lengths_are_corrupt_message,
    |mode: AppendMode| {
        assert_rejected(mode, small_config(mode), |b| b[16] = 1, "CORRUPT_MESSAGE");
        // Length smaller than a header.
        assert_rejected(
            mode,
            small_config(mode),
            |b| b[8..12].copy_from_slice(&10i32.to_be_bytes()),
            "CORRUPT_MESSAGE",
        );
        // Length running past the input.
        assert_rejected(
            mode,
            small_config(mode),
            |b| {
                let len = i32::from_be_bytes(b[8..12].try_into().unwrap());
                b[8..12].copy_from_slice(&(len + 1).to_be_bytes());
            },
            "CORRUPT_MESSAGE",
        );
        // Trailing bytes shorter than a header.
        assert_rejected(
            mode,
            small_config(mode),
            |b| b.truncate(40),
            "CORRUPT_MESSAGE",
        );
    }
);

for_each_mode!(count_mismatch_is_invalid_record, |mode: AppendMode| {
    assert_rejected(
        mode,
        small_config(mode),
        |b| {
            b[57..61].copy_from_slice(&7i32.to_be_bytes());
            fix_crc(b);
        },
        "INVALID_RECORD",
    );
    assert_rejected(
        mode,
        small_config(mode),
        |b| {
            b[23..27].copy_from_slice(&(-1i32).to_be_bytes());
            b[57..61].copy_from_slice(&0i32.to_be_bytes());
            fix_crc(b);
        },
        "INVALID_RECORD",
    );
});

for_each_mode!(size_limits, |mode: AppendMode| {
    let limited = LogConfig {
        max_message_bytes: 150,
        ..small_config(mode)
    };
    assert_rejected(
        mode,
        limited,
        |b| *b = simple_batch(1, 0, 200),
        "MESSAGE_TOO_LARGE",
    );
    let tiny_segments = LogConfig {
        segment_bytes: 200,
        ..small_config(mode)
    };
    let dir = tempfile::tempdir().unwrap();
    let mut log = open(dir.path(), tiny_segments);
    let mut records = [simple_batch(1, 0, 60), simple_batch(1, 0, 60)].concat();
    assert_eq!(
        log.append(&mut records, 0, 0).unwrap_err().code(),
        "RECORD_LIST_TOO_LARGE"
    );
    assert_eq!(
        log.append(&mut Vec::new(), 0, 0).unwrap_err().code(),
        "INVALID_RECORD"
    );
});

for_each_mode!(
    offsets_and_leader_epoch_are_assigned_outside_the_crc,
    |mode: AppendMode| {
        let dir = tempfile::tempdir().unwrap();
        let mut log = open(dir.path(), small_config(mode));
        append_batches(&mut log, 3, 4, 10, 0);
        let mut records = [simple_batch(2, 7, 10), simple_batch(3, 8, 10)].concat();
        let result = log.append(&mut records, 99, 5).unwrap();
        assert_eq!(
            (result.base_offset, result.last_offset, result.record_count),
            (6, 10, 5)
        );
        assert_eq!(result.log_append_time, -1);
        assert_eq!(result.max_timestamp, 8);
        let stored = range_bytes(&log.read(6, 1 << 20, true).unwrap().unwrap().range);
        assert_eq!(stored, records);
        let headers: Vec<BatchHeader> = batch::batches(&stored).map(|(_, h)| h).collect();
        assert_eq!(headers[0].base_offset, 6);
        assert_eq!(headers[1].base_offset, 8);
        assert!(headers.iter().all(|h| h.partition_leader_epoch == 5));
        validate::validate_append(&stored, u64::MAX).expect("CRCs still valid");
    }
);

for_each_mode!(
    log_append_time_restamps_and_recomputes_the_crc,
    |mode: AppendMode| {
        let dir = tempfile::tempdir().unwrap();
        let config = LogConfig {
            message_timestamp_type: TimestampType::LogAppendTime,
            ..small_config(mode)
        };
        let mut log = open(dir.path(), config);
        let mut records = simple_batch(3, 1_000, 10);
        let result = log.append(&mut records, 55_555, 0).unwrap();
        assert_eq!(result.log_append_time, 55_555);
        assert_eq!(result.max_timestamp, 55_555);
        let stored = range_bytes(&log.read(0, 1 << 20, true).unwrap().unwrap().range);
        let header = BatchHeader::parse(&stored);
        assert!(header.is_log_append_time());
        assert_eq!(header.max_timestamp, 55_555);
        assert_eq!(
            header.base_timestamp, 1_000,
            "baseTimestamp is left as produced"
        );
        validate::validate_append(&stored, u64::MAX).expect("CRC recomputed");
    }
);

for_each_mode!(
    clean_reopen_keeps_everything_and_continues,
    |mode: AppendMode| {
        let dir = tempfile::tempdir().unwrap();
        let config = small_config(mode);
        let mut log = open(dir.path(), config.clone());
        let mut stored = append_batches(&mut log, 100, 4, 120, 0);
        let segments = log.segment_base_offsets();
        log.close().unwrap();
        assert_eq!(
            log.append(&mut simple_batch(1, 0, 1), 0, 0)
                .unwrap_err()
                .code(),
            "LOG_CLOSED"
        );
        assert_eq!(log.read(0, 1, true).unwrap_err().code(), "LOG_CLOSED");
        log.close().unwrap();
        // Every file is trimmed to its data on close.
        let active = dir
            .path()
            .join(format!("{:020}.log", segments.last().unwrap()));
        let expected_active: u64 = stored
            .iter()
            .filter(|s| s.base_offset >= *segments.last().unwrap())
            .map(|s| s.bytes.len() as u64)
            .sum();
        assert_eq!(std::fs::metadata(&active).unwrap().len(), expected_active);

        let mut log = open_clean(dir.path(), config);
        assert_eq!(log.segment_base_offsets(), segments);
        assert_eq!(
            log.log_end_offset(),
            stored.last().unwrap().last_offset() + 1
        );
        assert_eq!(log.recovery_point(), log.log_end_offset());
        stored.extend(append_batches(&mut log, 50, 4, 120, 10_000));
        for offset in (0..log.log_end_offset()).step_by(3) {
            let expected = &stored[batch_containing(&stored, offset)];
            let read = log.read(offset, 1, true).unwrap().unwrap();
            assert_eq!(range_bytes(&read.range), expected.bytes);
        }
    }
);

#[test]
fn mmap_preallocates_in_steps_and_trims_on_roll() {
    let dir = tempfile::tempdir().unwrap();
    let config = LogConfig {
        preallocate_step_bytes: 8192,
        ..small_config(AppendMode::Mmap)
    };
    let mut log = open(dir.path(), config);
    log.append(&mut simple_batch(1, 0, 100), 0, 0).unwrap();
    let active = dir.path().join(format!("{:020}.log", 0));
    assert_eq!(
        std::fs::metadata(&active).unwrap().len(),
        8192,
        "one step ahead"
    );
    append_batches(&mut log, 200, 3, 100, 0);
    assert!(log.segment_count() > 1);
    assert_eq!(std::fs::metadata(&active).unwrap().len(), {
        let bases = log.segment_base_offsets();
        let read = log.read(0, 1 << 30, true).unwrap().unwrap();
        assert!(bases[1] > 0);
        read.range.len()
    });
}

#[test]
fn no_space_on_fallocate_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let config = LogConfig {
        preallocate_step_bytes: 4096,
        ..small_config(AppendMode::Mmap)
    };
    let (mut log, storage) = open_faulty(dir.path(), config, OpenOptions::default());
    append_batches(&mut log, 1, 1, 10, 0);
    let (end, size) = (log.log_end_offset(), log.size_bytes());
    storage.fail_next(Op::Allocate, Fault::Errno(libc::ENOSPC));
    let mut big = simple_batch(1, 0, 5000);
    let before = big.clone();
    let err = log.append(&mut big, 0, 0).unwrap_err();
    assert_eq!(err.code(), "NO_SPACE");
    assert_eq!(err.errno(), Some(libc::ENOSPC));
    assert_eq!(
        big, before,
        "offsets are assigned only after space is reserved"
    );
    assert_eq!((log.log_end_offset(), log.size_bytes()), (end, size));
    log.append(&mut big, 0, 0).unwrap();
    assert_eq!(
        range_bytes(&log.read(end, 1 << 20, true).unwrap().unwrap().range),
        big
    );
}

for_each_mode!(
    no_space_for_index_blocks_writes_nothing,
    |mode: AppendMode| {
        // Index entries go through a shared mapping: a store into a hole the file system cannot
        // back is SIGBUS. Their blocks are reserved with fallocate before the log bytes are
        // written, so a full disk is a NO_SPACE value and the log is untouched.
        let dir = tempfile::tempdir().unwrap();
        let config = LogConfig {
            segment_bytes: 1 << 20,
            preallocate_step_bytes: 1 << 20, // mmap: the whole segment at the first append
            index_interval_bytes: 0,         // an index entry for every batch
            retention_ms: -1,
            append_mode: mode,
            ..LogConfig::default()
        };
        let (mut log, storage) = open_faulty(dir.path(), config, OpenOptions::default());
        let mut appended = append_batches(&mut log, 1, 1, 10, 0);
        assert!(
            storage.calls(Op::Allocate) >= 2,
            "index blocks were reserved"
        );
        // From here on only index top-ups allocate; the disk is full for all of them.
        for _ in 0..8 {
            storage.fail_next(Op::Allocate, Fault::Errno(libc::ENOSPC));
        }
        let err = loop {
            let (end, size) = (log.log_end_offset(), log.size_bytes());
            let mut batch = simple_batch(1, 0, 40);
            match log.append(&mut batch, 0, 0) {
                Ok(result) => appended.push(Stored {
                    base_offset: result.base_offset,
                    count: 1,
                    bytes: batch,
                }),
                Err(err) => {
                    assert_eq!((log.log_end_offset(), log.size_bytes()), (end, size));
                    break err;
                }
            }
            assert!(appended.len() < 5_000, "index blocks are reserved in steps");
        };
        assert_eq!(err.code(), "NO_SPACE");
        assert!(err.to_string().contains("index"), "{err}");
        assert_eq!(log.segment_count(), 1);
        let end = log.log_end_offset();
        storage.revive(); // space is back
        let mut batch = simple_batch(2, 0, 40);
        let result = log.append(&mut batch, 0, 0).unwrap();
        assert_eq!(result.base_offset, end, "the refused append left no trace");
        appended.push(Stored {
            base_offset: result.base_offset,
            count: 2,
            bytes: batch,
        });
        for s in &appended {
            let read = log.read(s.base_offset, 1, true).unwrap().unwrap();
            assert_eq!(range_bytes(&read.range), s.bytes);
        }
    }
);

for_each_mode!(
    eio_on_write_is_storage_error_and_the_log_goes_on,
    |mode: AppendMode| {
        let dir = tempfile::tempdir().unwrap();
        let (mut log, storage) =
            open_faulty(dir.path(), small_config(mode), OpenOptions::default());
        let stored = append_batches(&mut log, 3, 2, 10, 0);
        storage.fail_next(Op::Write, Fault::Errno(libc::EIO));
        let err = log.append(&mut simple_batch(2, 0, 10), 0, 0).unwrap_err();
        assert_eq!(err.code(), "KAFKA_STORAGE_ERROR");
        assert_eq!(
            log.log_end_offset(),
            stored.last().unwrap().last_offset() + 1
        );
        let mut next = simple_batch(2, 0, 10);
        let result = log.append(&mut next, 0, 0).unwrap();
        assert_eq!(result.base_offset, stored.last().unwrap().last_offset() + 1);
        assert_eq!(
            range_bytes(
                &log.read(result.base_offset, 1 << 20, true)
                    .unwrap()
                    .unwrap()
                    .range
            ),
            next
        );
    }
);

#[test]
fn short_pwrites_are_retried_to_completion() {
    let dir = tempfile::tempdir().unwrap();
    let (mut log, storage) = open_faulty(
        dir.path(),
        small_config(AppendMode::Pwrite),
        OpenOptions::default(),
    );
    storage.short_writes(Some(7));
    let stored = append_batches(&mut log, 20, 3, 50, 0);
    for s in &stored {
        assert_eq!(
            range_bytes(&log.read(s.base_offset, 1, true).unwrap().unwrap().range),
            s.bytes
        );
    }
    assert!(storage.calls(Op::Write) > 20 * 5, "writes were split");
}

for_each_mode!(
    ranges_stay_valid_after_segments_are_deleted,
    |mode: AppendMode| {
        let dir = tempfile::tempdir().unwrap();
        let mut log = open(dir.path(), small_config(mode));
        let stored = append_batches(&mut log, 200, 3, 100, 0);
        let read = log.read(0, 1 << 20, true).unwrap().unwrap();
        let before = range_bytes(&read.range);
        log.delete_records_before(stored.last().unwrap().base_offset)
            .unwrap();
        assert!(!dir.path().join(format!("{:020}.log", 0)).exists());
        assert_eq!(
            range_bytes(&read.range),
            before,
            "the open file keeps the data alive"
        );
    }
);

#[test]
fn a_batch_claiming_more_records_than_it_holds_is_invalid_and_the_log_end_stays() {
    let dir = tempfile::tempdir().unwrap();
    let mut log = open(dir.path(), LogConfig::default());
    let mut lying = simple_batch(1, 1000, 10);
    lying[23..27].copy_from_slice(&(i32::MAX - 1).to_be_bytes()); // lastOffsetDelta
    lying[57..61].copy_from_slice(&i32::MAX.to_be_bytes()); // recordsCount
    fix_crc(&mut lying);
    assert_eq!(
        log.append(&mut lying, 5000, 0).unwrap_err().code(),
        "INVALID_RECORD"
    );
    // Fewer claimed than held is as wrong as more.
    let mut short = simple_batch(3, 1000, 10);
    short[23..27].copy_from_slice(&1i32.to_be_bytes());
    short[57..61].copy_from_slice(&2i32.to_be_bytes());
    fix_crc(&mut short);
    assert_eq!(
        log.append(&mut short, 5000, 0).unwrap_err().code(),
        "INVALID_RECORD"
    );
    // A record length running past the batch end is undecodable: CORRUPT_MESSAGE.
    let mut cut = simple_batch(1, 1000, 10);
    cut[61] = 0x7e; // length 63, more than the batch holds
    fix_crc(&mut cut);
    assert_eq!(
        log.append(&mut cut, 5000, 0).unwrap_err().code(),
        "CORRUPT_MESSAGE"
    );
    // A compressed batch that lies about its count is caught after decompressing.
    let spec = BatchSpec {
        timestamps: vec![1000, 1001],
        value_len: 10,
        compression: 4,
        producer_id: -1,
    };
    let mut zstd = build_batch(&spec, 1);
    zstd[23..27].copy_from_slice(&2i32.to_be_bytes());
    zstd[57..61].copy_from_slice(&3i32.to_be_bytes());
    fix_crc(&mut zstd);
    assert_eq!(
        log.append(&mut zstd, 5000, 0).unwrap_err().code(),
        "INVALID_RECORD"
    );
    assert_eq!(log.log_end_offset(), 0);
    log.append(&mut build_batch(&spec, 1), 5000, 0).unwrap();
    assert_eq!(log.log_end_offset(), 2);
}
