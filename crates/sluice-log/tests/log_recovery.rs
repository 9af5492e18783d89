//! Recovery: torn tails, zero-filled preallocated tails, missing and corrupt indexes, torn and
//! short writes followed by a crash, power loss after fsync, and the recovery point's reach.

mod common;

use std::fs::OpenOptions as FsOpenOptions;
use std::io::Write;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use common::*;
use sluice_log::fault::{Fault, Op, PowerLoss};
use sluice_log::{AppendMode, Log, LogConfig, OpenOptions};

fn segment_file(dir: &Path, base: i64, suffix: &str) -> PathBuf {
    dir.join(format!("{base:020}{suffix}"))
}

fn file_len(path: &Path) -> u64 {
    std::fs::metadata(path).unwrap().len()
}

fn unclean(recovery_point: i64) -> OpenOptions {
    OpenOptions {
        clean_shutdown: false,
        recovery_point,
        log_start_offset: 0,
    }
}

/// Every stored batch with base offset below `end` reads back byte-identical, and `end` is the
/// log end.
fn assert_log_holds(log: &Log, stored: &[Stored], end: i64) {
    assert_eq!(log.log_end_offset(), end);
    for s in stored.iter().filter(|s| s.last_offset() < end) {
        let read = log.read(s.base_offset, 1, true).unwrap().unwrap();
        assert_eq!(
            range_bytes(&read.range),
            s.bytes,
            "batch at {}",
            s.base_offset
        );
    }
}

for_each_mode!(
    torn_tail_is_cut_at_the_last_whole_batch,
    |mode: AppendMode| {
        let dir = tempfile::tempdir().unwrap();
        let config = small_config(mode);
        let mut log = open(dir.path(), config.clone());
        let stored = append_batches(&mut log, 30, 3, 100, 0);
        let active = *log.segment_base_offsets().last().unwrap();
        drop(log); // crash: nothing trimmed or synced
        // Tear the last batch: keep only part of it (after any preallocated tail is gone too).
        let last = stored.last().unwrap();
        let path = segment_file(dir.path(), active, ".log");
        let data_end: u64 = stored
            .iter()
            .filter(|s| s.base_offset >= active)
            .map(|s| s.bytes.len() as u64)
            .sum();
        let file = FsOpenOptions::new().write(true).open(&path).unwrap();
        file.set_len(data_end - 10).unwrap();
        let log = Log::open(dir.path(), config, unclean(0)).unwrap();
        assert_log_holds(&log, &stored, last.base_offset);
        assert_eq!(file_len(&path), data_end - last.bytes.len() as u64);
        assert_eq!(
            log.recovery_point(),
            log.log_end_offset(),
            "recovered data is synced"
        );
    }
);

for_each_mode!(garbage_after_the_last_batch_is_cut, |mode: AppendMode| {
    let dir = tempfile::tempdir().unwrap();
    let config = small_config(mode);
    let mut log = open(dir.path(), config.clone());
    let stored = append_batches(&mut log, 10, 3, 100, 0);
    log.close().unwrap();
    let path = segment_file(dir.path(), 0, ".log");
    let mut file = FsOpenOptions::new().append(true).open(&path).unwrap();
    let mut garbage = simple_batch(2, 0, 30);
    garbage[0..8].copy_from_slice(&stored.last().unwrap().last_offset().to_be_bytes()); // offset goes back
    file.write_all(&garbage).unwrap();
    file.write_all(&[0xAB; 100]).unwrap();
    let log = Log::open(dir.path(), config, unclean(0)).unwrap();
    assert_log_holds(&log, &stored, stored.last().unwrap().last_offset() + 1);
});

#[test]
fn zero_filled_preallocated_tail_is_the_end() {
    let dir = tempfile::tempdir().unwrap();
    let config = LogConfig {
        preallocate_step_bytes: 64 * 1024,
        segment_bytes: 256 * 1024,
        ..small_config(AppendMode::Mmap)
    };
    let mut log = open(dir.path(), config.clone());
    let stored = append_batches(&mut log, 20, 3, 100, 0);
    drop(log); // crash with the preallocated tail still there
    let path = segment_file(dir.path(), 0, ".log");
    assert_eq!(file_len(&path), 64 * 1024, "the tail was preallocated");
    let mut log = Log::open(dir.path(), config, unclean(0)).unwrap();
    let end = stored.last().unwrap().last_offset() + 1;
    assert_log_holds(&log, &stored, end);
    let data: u64 = stored.iter().map(|s| s.bytes.len() as u64).sum();
    assert_eq!(log.size_bytes(), data);
    let next = log.append(&mut simple_batch(1, 0, 10), 0, 0).unwrap();
    assert_eq!(next.base_offset, end);
}

#[test]
fn zero_tail_in_pwrite_mode_too() {
    let dir = tempfile::tempdir().unwrap();
    let config = small_config(AppendMode::Pwrite);
    let mut log = open(dir.path(), config.clone());
    let stored = append_batches(&mut log, 5, 2, 50, 0);
    drop(log);
    let path = segment_file(dir.path(), 0, ".log");
    let len = file_len(&path);
    FsOpenOptions::new()
        .write(true)
        .open(&path)
        .unwrap()
        .set_len(len + 5000)
        .unwrap();
    let log = Log::open(dir.path(), config, unclean(0)).unwrap();
    assert_log_holds(&log, &stored, stored.last().unwrap().last_offset() + 1);
    assert_eq!(file_len(&path), len);
}

for_each_mode!(deleted_index_is_rebuilt_identically, |mode: AppendMode| {
    let dir = tempfile::tempdir().unwrap();
    let config = small_config(mode);
    let mut log = open(dir.path(), config.clone());
    let stored = append_batches(&mut log, 120, 4, 100, 0);
    let bases = log.segment_base_offsets();
    log.close().unwrap();
    let index = segment_file(dir.path(), bases[1], ".index");
    let time_index = segment_file(dir.path(), bases[1], ".timeindex");
    let (index_bytes, time_bytes) = (
        std::fs::read(&index).unwrap(),
        std::fs::read(&time_index).unwrap(),
    );
    assert!(!index_bytes.is_empty() && !time_bytes.is_empty());
    std::fs::remove_file(&index).unwrap();
    std::fs::remove_file(&time_index).unwrap();
    let log = open_clean(dir.path(), config);
    assert_eq!(
        std::fs::read(&index).unwrap(),
        index_bytes,
        "rebuilt offset index equals the original"
    );
    assert_eq!(
        std::fs::read(&time_index).unwrap(),
        time_bytes,
        "rebuilt time index equals the original"
    );
    assert_log_holds(&log, &stored, stored.last().unwrap().last_offset() + 1);
});

for_each_mode!(corrupt_index_is_rebuilt, |mode: AppendMode| {
    let dir = tempfile::tempdir().unwrap();
    let config = small_config(mode);
    let mut log = open(dir.path(), config.clone());
    let stored = append_batches(&mut log, 120, 4, 100, 0);
    let bases = log.segment_base_offsets();
    log.close().unwrap();
    let index = segment_file(dir.path(), bases[0], ".index");
    let original = std::fs::read(&index).unwrap();
    assert!(original.len() >= 16);
    // Swap the first two entries: offsets no longer grow.
    let mut broken = original.clone();
    broken[..8].copy_from_slice(&original[8..16]);
    broken[8..16].copy_from_slice(&original[..8]);
    std::fs::write(&index, &broken).unwrap();
    // And a torn time index (not a whole number of entries).
    let time_index = segment_file(dir.path(), bases[1], ".timeindex");
    let time_original = std::fs::read(&time_index).unwrap();
    std::fs::write(&time_index, &time_original[..time_original.len() - 5]).unwrap();
    let log = open_clean(dir.path(), config);
    assert_eq!(std::fs::read(&index).unwrap(), original);
    assert_eq!(std::fs::read(&time_index).unwrap(), time_original);
    assert_log_holds(&log, &stored, stored.last().unwrap().last_offset() + 1);
});

for_each_mode!(
    index_pointing_past_the_log_is_rebuilt,
    |mode: AppendMode| {
        let dir = tempfile::tempdir().unwrap();
        let config = small_config(mode);
        let mut log = open(dir.path(), config.clone());
        let stored = append_batches(&mut log, 60, 4, 100, 0);
        log.close().unwrap();
        let index = segment_file(dir.path(), 0, ".index");
        let mut bytes = std::fs::read(&index).unwrap();
        let n = bytes.len();
        bytes[n - 4..].copy_from_slice(&u32::MAX.to_be_bytes());
        std::fs::write(&index, &bytes).unwrap();
        let log = open_clean(dir.path(), config);
        assert_log_holds(&log, &stored, stored.last().unwrap().last_offset() + 1);
    }
);

for_each_mode!(
    torn_write_then_crash_recovers_to_the_previous_append,
    |mode: AppendMode| {
        let dir = tempfile::tempdir().unwrap();
        let config = small_config(mode);
        let (mut log, storage) = open_faulty(dir.path(), config.clone(), OpenOptions::default());
        let stored = append_batches(&mut log, 8, 3, 100, 0);
        let end = log.log_end_offset();
        storage.fail_next(Op::Write, Fault::TornWrite { keep: 70 });
        let err = log.append(&mut simple_batch(3, 0, 100), 0, 0).unwrap_err();
        assert_eq!(err.code(), "KAFKA_STORAGE_ERROR");
        drop(log); // the process died mid-write
        storage.revive();
        let mut log =
            Log::open_with_storage(dir.path(), config, unclean(0), storage.clone()).unwrap();
        assert_log_holds(&log, &stored, end);
        let mut again = simple_batch(3, 0, 100);
        assert_eq!(log.append(&mut again, 0, 0).unwrap().base_offset, end);
        assert_eq!(
            range_bytes(&log.read(end, 1, true).unwrap().unwrap().range),
            again
        );
    }
);

#[test]
fn short_write_then_crash_recovers_to_the_previous_append() {
    let dir = tempfile::tempdir().unwrap();
    let config = small_config(AppendMode::Pwrite);
    let (mut log, storage) = open_faulty(dir.path(), config.clone(), OpenOptions::default());
    let stored = append_batches(&mut log, 8, 3, 100, 0);
    let end = log.log_end_offset();
    // The first pwrite is short (40 bytes land); the retry dies with EIO.
    storage.short_writes(Some(40));
    storage.fail_nth(Op::Write, 1, Fault::Errno(libc::EIO));
    assert_eq!(
        log.append(&mut simple_batch(3, 0, 100), 0, 0)
            .unwrap_err()
            .code(),
        "KAFKA_STORAGE_ERROR"
    );
    drop(log);
    let path = segment_file(dir.path(), 0, ".log");
    let data: u64 = stored.iter().map(|s| s.bytes.len() as u64).sum();
    assert_eq!(file_len(&path), data + 40, "a partial batch is on disk");
    let log = Log::open(dir.path(), config, unclean(0)).unwrap();
    assert_log_holds(&log, &stored, end);
    assert_eq!(file_len(&path), data);
}

fn power_loss_keeps_every_synced_batch(mode: AppendMode, loss: PowerLoss) {
    let dir = tempfile::tempdir().unwrap();
    let config = small_config(mode);
    let (mut log, storage) = open_faulty(dir.path(), config.clone(), OpenOptions::default());
    let mut stored = append_batches(&mut log, 70, 3, 100, 0);
    log.flush().unwrap();
    let durable = log.log_end_offset();
    assert_eq!(log.recovery_point(), durable);
    // More data that never reaches the disk, across a roll.
    let bases_before = log.segment_count();
    let more = append_batches(&mut log, 70, 3, 100, 1_000);
    assert!(
        log.segment_count() > bases_before,
        "the unsynced appends rolled a segment"
    );
    stored.extend(more);
    let recovery_point = log.recovery_point();
    drop(log);
    storage.power_loss(loss).unwrap();
    let log = Log::open(dir.path(), config, unclean(recovery_point)).unwrap();
    assert!(log.log_end_offset() >= durable);
    assert_log_holds(&log, &stored, log.log_end_offset());
    assert_eq!(
        log.log_end_offset(),
        durable,
        "nothing unsynced survives this model of power loss"
    );
}

for_each_mode!(power_loss_drops_only_unsynced_data, |mode: AppendMode| {
    power_loss_keeps_every_synced_batch(mode, PowerLoss::DropUnsynced);
});

for_each_mode!(
    power_loss_with_zeroed_unsynced_blocks,
    |mode: AppendMode| {
        power_loss_keeps_every_synced_batch(mode, PowerLoss::ZeroFillUnsynced);
    }
);

for_each_mode!(
    corruption_in_a_middle_segment_drops_what_follows,
    |mode: AppendMode| {
        let dir = tempfile::tempdir().unwrap();
        let config = small_config(mode);
        let mut log = open(dir.path(), config.clone());
        let stored = append_batches(&mut log, 150, 3, 100, 0);
        let bases = log.segment_base_offsets();
        assert!(bases.len() >= 4);
        log.close().unwrap();
        // Flip a byte inside the third batch of segment #1.
        let victims: Vec<&Stored> = stored
            .iter()
            .filter(|s| s.base_offset >= bases[1] && s.base_offset < bases[2])
            .collect();
        let position: u64 = victims[..2]
            .iter()
            .map(|s| s.bytes.len() as u64)
            .sum::<u64>()
            + 70;
        let file = FsOpenOptions::new()
            .read(true)
            .write(true)
            .open(segment_file(dir.path(), bases[1], ".log"))
            .unwrap();
        let mut byte = [0u8];
        file.read_exact_at(&mut byte, position).unwrap();
        file.write_all_at(&[byte[0] ^ 0xFF], position).unwrap();
        let log = Log::open(dir.path(), config, unclean(0)).unwrap();
        assert_log_holds(&log, &stored, victims[2].base_offset);
        assert_eq!(log.segment_base_offsets(), bases[..2].to_vec());
        assert!(!segment_file(dir.path(), bases[2], ".log").exists());
    }
);

for_each_mode!(
    segments_below_the_recovery_point_are_not_scanned,
    |mode: AppendMode| {
        let dir = tempfile::tempdir().unwrap();
        let config = small_config(mode);
        let mut log = open(dir.path(), config.clone());
        let stored = append_batches(&mut log, 150, 3, 100, 0);
        let bases = log.segment_base_offsets();
        log.flush().unwrap();
        let recovery_point = log.recovery_point();
        drop(log);
        // A flipped byte in a segment fully below the recovery point goes unnoticed (not scanned);
        // the same flip in the active segment is found.
        let flip = |base: i64, position: u64| {
            let file = FsOpenOptions::new()
                .read(true)
                .write(true)
                .open(segment_file(dir.path(), base, ".log"))
                .unwrap();
            let mut byte = [0u8];
            file.read_exact_at(&mut byte, position).unwrap();
            file.write_all_at(&[byte[0] ^ 0xFF], position).unwrap();
        };
        flip(bases[0], 70);
        let log = Log::open(dir.path(), config.clone(), unclean(recovery_point)).unwrap();
        assert_eq!(
            log.log_end_offset(),
            stored.last().unwrap().last_offset() + 1
        );
        drop(log);
        let active = *bases.last().unwrap();
        let first_active = stored.iter().find(|s| s.base_offset == active).unwrap();
        flip(active, 70);
        let log = Log::open(dir.path(), config, unclean(recovery_point)).unwrap();
        assert_eq!(log.log_end_offset(), first_active.base_offset);
    }
);

#[test]
fn log_start_offset_from_the_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    let config = small_config(AppendMode::Mmap);
    let mut log = open(dir.path(), config.clone());
    append_batches(&mut log, 10, 3, 10, 0);
    log.delete_records_before(5).unwrap();
    let end = log.log_end_offset();
    log.close().unwrap();
    let options = OpenOptions {
        clean_shutdown: true,
        recovery_point: end,
        log_start_offset: 5,
    };
    let mut log = Log::open(dir.path(), config.clone(), options).unwrap();
    assert_eq!(log.log_start_offset(), 5);
    assert_eq!(
        log.read(4, 10, true).unwrap_err().code(),
        "OFFSET_OUT_OF_RANGE"
    );
    log.close().unwrap();
    // A checkpointed start past the end (data lost): the log restarts empty there.
    let options = OpenOptions {
        clean_shutdown: true,
        recovery_point: 0,
        log_start_offset: end + 100,
    };
    let log = Log::open(dir.path(), config, options).unwrap();
    assert_eq!(
        (
            log.log_start_offset(),
            log.log_end_offset(),
            log.size_bytes()
        ),
        (end + 100, end + 100, 0)
    );
    assert_eq!(log.segment_base_offsets(), vec![end + 100]);
}

#[test]
fn leftover_and_orphan_files_are_removed() {
    let dir = tempfile::tempdir().unwrap();
    let config = small_config(AppendMode::Pwrite);
    let mut log = open(dir.path(), config.clone());
    append_batches(&mut log, 3, 1, 10, 0);
    log.close().unwrap();
    std::fs::write(dir.path().join("00000000000000000999.index"), [0u8; 16]).unwrap();
    std::fs::write(dir.path().join("00000000000000000000.log.deleted"), b"x").unwrap();
    std::fs::write(dir.path().join("leader-epoch-checkpoint"), b"0\n0\n").unwrap();
    let log = open_clean(dir.path(), config);
    assert_eq!(log.log_end_offset(), 3);
    assert!(!dir.path().join("00000000000000000999.index").exists());
    assert!(!dir.path().join("00000000000000000000.log.deleted").exists());
    assert!(
        dir.path().join("leader-epoch-checkpoint").exists(),
        "files that are not ours stay"
    );
}

for_each_mode!(
    recovered_segments_counts_what_open_scanned,
    |mode: AppendMode| {
        let dir = tempfile::tempdir().unwrap();
        let config = small_config(mode);
        let mut log = open(dir.path(), config.clone());
        append_batches(&mut log, 150, 3, 100, 0);
        let segments = log.segment_count();
        assert!(segments >= 4);
        let end = log.log_end_offset();
        log.close().unwrap();
        let clean = OpenOptions {
            clean_shutdown: true,
            recovery_point: end,
            log_start_offset: 0,
        };
        let log = Log::open(dir.path(), config.clone(), clean).unwrap();
        assert_eq!(
            log.recovered_segments(),
            0,
            "a clean shutdown scans nothing"
        );
        drop(log);
        let log = Log::open(dir.path(), config.clone(), unclean(0)).unwrap();
        assert_eq!(
            log.recovered_segments(),
            segments,
            "recovery point 0: all of them"
        );
        drop(log);
        let bases = open_clean(dir.path(), config.clone()).segment_base_offsets();
        let log = Log::open(dir.path(), config, unclean(bases[bases.len() - 1])).unwrap();
        assert_eq!(
            log.recovered_segments(),
            1,
            "only the segment holding the recovery point"
        );
    }
);

/// A clean-shutdown open trusts a sealed segment's indexes only when the last offset index entry
/// names the batch at its position; a stale entry makes it rebuild the indexes (rewritten here).
#[test]
fn a_last_index_entry_that_does_not_match_its_batch_rebuilds_the_indexes() {
    let dir = tempfile::tempdir().unwrap();
    let config = LogConfig {
        segment_bytes: 600,
        index_interval_bytes: 0,
        ..small_config(AppendMode::Pwrite)
    };
    let mut log = open(dir.path(), config.clone());
    for i in 0..8 {
        log.append(&mut simple_batch(1, 1000 + i, 100), 2000, 0)
            .unwrap();
    }
    assert!(log.segment_count() >= 2, "a sealed first segment");
    log.close().unwrap();
    drop(log);
    let index = segment_file(dir.path(), 0, ".index");
    let bytes = std::fs::read(&index).unwrap();
    assert!(bytes.len() >= 16 && bytes.len().is_multiple_of(8));
    let last = bytes.len() - 8;
    let good = u32::from_be_bytes(bytes[last..last + 4].try_into().unwrap());
    // The last entry now names an offset past its batch (still increasing, still in the file).
    let file = FsOpenOptions::new().write(true).open(&index).unwrap();
    file.write_all_at(&(good + 1).to_be_bytes(), last as u64)
        .unwrap();
    drop(file);
    let mut log = open_clean(dir.path(), config);
    assert_eq!(log.log_end_offset(), 8);
    log.close().unwrap();
    drop(log);
    let rebuilt = std::fs::read(&index).unwrap();
    assert_eq!(
        u32::from_be_bytes(rebuilt[last..last + 4].try_into().unwrap()),
        good,
        "the index was rebuilt from the log"
    );
}
