//! Idempotent producers through `Log`: duplicates answered with their original offsets and never
//! written, out-of-order sequences and fenced epochs refused, the client batch rules, producer
//! snapshots at roll and close, and the state rebuilt after a clean close, an unclean stop (the
//! `Log` dropped without `close`), a torn last append, a truncation and a corrupt snapshot.

mod common;

use std::path::{Path, PathBuf};

use common::*;
use sluice_log::fault::{Fault, Op};
use sluice_log::{AppendMode, AppendResult, Log, LogConfig, OpenOptions};

/// Timestamps near the wall clock: producer state expires `producer.id.expiration.ms` after its
/// last batch's timestamp, and restarts measure that against the real time.
fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

/// A batch of `count` records from `producer_id` at `epoch`, first sequence `sequence`.
fn producer_batch(producer_id: i64, epoch: i16, sequence: i32, count: usize) -> Vec<u8> {
    let mut spec = BatchSpec::records(count, now_ms(), 400);
    spec.producer_id = producer_id;
    let mut batch = build_batch(&spec, sequence as u8);
    batch[51..53].copy_from_slice(&epoch.to_be_bytes());
    batch[53..57].copy_from_slice(&sequence.to_be_bytes());
    fix_crc(&mut batch);
    batch
}

fn with_attributes(mut batch: Vec<u8>, bits: i16) -> Vec<u8> {
    let attributes = i16::from_be_bytes([batch[21], batch[22]]) | bits;
    batch[21..23].copy_from_slice(&attributes.to_be_bytes());
    fix_crc(&mut batch);
    batch
}

fn append(log: &mut Log, batch: &[u8]) -> sluice_log::Result<AppendResult> {
    log.append(&mut batch.to_vec(), now_ms(), 0)
}

fn code(result: sluice_log::Result<AppendResult>) -> &'static str {
    result
        .expect_err("expected the append to be refused")
        .code()
}

fn snapshot_path(dir: &Path, offset: i64) -> PathBuf {
    dir.join(format!("{offset:020}.snapshot"))
}

fn unclean(recovery_point: i64) -> OpenOptions {
    OpenOptions {
        clean_shutdown: false,
        recovery_point,
        log_start_offset: 0,
    }
}

/// Producer 7 writes `batches` batches of 3 records (sequences 0, 3, 6, ...); returns each
/// batch's bytes and result.
fn produce(log: &mut Log, producer_id: i64, batches: usize) -> Vec<(Vec<u8>, AppendResult)> {
    (0..batches)
        .map(|i| {
            let batch = producer_batch(producer_id, 0, i as i32 * 3, 3);
            let result = append(log, &batch).unwrap();
            assert!(!result.duplicate);
            (batch, result)
        })
        .collect()
}

/// The last five batches are duplicates with their original offsets, and the next sequence is
/// accepted: the state is exactly what the appends made.
fn assert_state_continues(log: &mut Log, producer_id: i64, sent: &[(Vec<u8>, AppendResult)]) {
    let end = log.log_end_offset();
    for (batch, original) in sent.iter().rev().take(5) {
        let retry = append(log, batch).unwrap();
        assert!(
            retry.duplicate,
            "batch at {} should be a duplicate",
            original.base_offset
        );
        assert_eq!(retry.base_offset, original.base_offset);
        assert_eq!(retry.last_offset, original.last_offset);
    }
    assert_eq!(log.log_end_offset(), end, "duplicates are not written");
    let next = producer_batch(producer_id, 0, sent.len() as i32 * 3, 1);
    let appended = append(log, &next).unwrap();
    assert!(!appended.duplicate);
    assert_eq!(appended.base_offset, end);
}

for_each_mode!(
    a_retried_batch_gets_its_original_offsets_and_is_not_written,
    |mode: AppendMode| {
        let dir = tempfile::tempdir().unwrap();
        let mut log = open(dir.path(), small_config(mode));
        let first = producer_batch(1, 0, 0, 3);
        let second = producer_batch(1, 0, 3, 2);
        let r1 = append(&mut log, &first).unwrap();
        let r2 = append(&mut log, &second).unwrap();
        assert_eq!((r1.base_offset, r2.base_offset, r2.last_offset), (0, 3, 4));
        let size = log.size_bytes();
        for (batch, original) in [(&first, r1), (&second, r2)] {
            let retry = append(&mut log, batch).unwrap();
            assert!(retry.duplicate);
            assert!(!retry.rolled);
            assert_eq!(retry.base_offset, original.base_offset);
            assert_eq!(retry.last_offset, original.last_offset);
            assert_eq!(retry.record_count, original.record_count);
            // Kafka reports the original batch's timestamp as the log append time.
            assert_eq!(retry.log_append_time, original.max_timestamp);
        }
        assert_eq!(log.log_end_offset(), 5);
        assert_eq!(log.size_bytes(), size, "nothing was written");
        // Other producers are unaffected by producer 1's sequences.
        assert_eq!(
            append(&mut log, &producer_batch(2, 0, 0, 3))
                .unwrap()
                .base_offset,
            5
        );
    }
);

for_each_mode!(
    gaps_rewinds_and_fenced_epochs_are_refused_without_writing,
    |mode: AppendMode| {
        let dir = tempfile::tempdir().unwrap();
        let mut log = open(dir.path(), small_config(mode));
        append(&mut log, &producer_batch(1, 2, 0, 3)).unwrap();
        let end = log.log_end_offset();
        let size = log.size_bytes();
        assert_eq!(
            code(append(&mut log, &producer_batch(1, 2, 4, 1))),
            "OUT_OF_ORDER_SEQUENCE_NUMBER"
        );
        assert_eq!(
            code(append(&mut log, &producer_batch(1, 2, 1, 2))),
            "OUT_OF_ORDER_SEQUENCE_NUMBER",
            "an overlapping range that is not a retained batch"
        );
        assert_eq!(
            code(append(&mut log, &producer_batch(1, 1, 3, 1))),
            "INVALID_PRODUCER_EPOCH"
        );
        assert_eq!(
            code(append(&mut log, &producer_batch(1, 3, 3, 1))),
            "OUT_OF_ORDER_SEQUENCE_NUMBER",
            "a new epoch starts at 0"
        );
        assert_eq!((log.log_end_offset(), log.size_bytes()), (end, size));
        // The bumped epoch from 0 is fine, and fences the old one.
        assert_eq!(
            append(&mut log, &producer_batch(1, 3, 0, 1))
                .unwrap()
                .base_offset,
            end
        );
        assert_eq!(
            code(append(&mut log, &producer_batch(1, 2, 3, 1))),
            "INVALID_PRODUCER_EPOCH"
        );
        // A producer this partition has never seen may start anywhere (KIP-360).
        assert!(
            !append(&mut log, &producer_batch(9, 0, 500, 2))
                .unwrap()
                .duplicate
        );
        assert_eq!(
            code(append(&mut log, &producer_batch(9, 0, 503, 1))),
            "OUT_OF_ORDER_SEQUENCE_NUMBER"
        );
    }
);

for_each_mode!(
    control_sequence_less_and_producerless_transactional_batches_are_invalid,
    |mode: AppendMode| {
        let dir = tempfile::tempdir().unwrap();
        let mut log = open(dir.path(), small_config(mode));
        let no_sequence = producer_batch(1, 0, -1, 1);
        // Transactions are served since issue 14: a transactional batch needs a producer id.
        let transactional_without_producer = with_attributes(simple_batch(1, now_ms(), 10), 0x10);
        let control = with_attributes(simple_batch(1, now_ms(), 10), 0x20);
        let transactional_control = with_attributes(producer_batch(1, 0, 0, 1), 0x30);
        for batch in [
            no_sequence,
            transactional_without_producer,
            control,
            transactional_control,
        ] {
            assert_eq!(code(append(&mut log, &batch)), "INVALID_RECORD");
        }
        assert_eq!(log.log_end_offset(), 0);
    }
);

for_each_mode!(
    a_clean_close_snapshots_the_state_and_open_loads_it,
    |mode: AppendMode| {
        let dir = tempfile::tempdir().unwrap();
        let config = small_config(mode);
        let mut log = open(dir.path(), config.clone());
        let sent = produce(&mut log, 7, 12);
        let end = log.log_end_offset();
        log.close().unwrap();
        assert!(snapshot_path(dir.path(), end).exists());
        // Rewrite the producer id of every stored batch in place (CRC fixed): a clean open must
        // take the state from the snapshot, not from the batches.
        for base in segment_bases(dir.path()) {
            rewrite_producer_ids(&dir.path().join(format!("{base:020}.log")), 7, 8);
        }
        let mut log = open_clean(dir.path(), config.clone());
        assert!(log.producer_state().entry(7).is_some());
        assert!(log.producer_state().entry(8).is_none());
        assert_state_continues(&mut log, 7, &sent);
        log.close().unwrap();
        // Unclean with recovery point 0: no snapshot is trusted and the batches are scanned.
        let log = Log::open(dir.path(), config, unclean(0)).unwrap();
        assert!(log.producer_state().entry(8).is_some());
    }
);

for_each_mode!(
    an_unclean_stop_rebuilds_the_state_from_the_log,
    |mode: AppendMode| {
        let dir = tempfile::tempdir().unwrap();
        let config = small_config(mode);
        let mut log = open(dir.path(), config.clone());
        let sent = produce(&mut log, 7, 40);
        let other = produce(&mut log, 8, 3);
        assert!(log.segment_count() > 2, "the appends rolled segments");
        let snapshots = log.producer_snapshot_offsets();
        assert!(!snapshots.is_empty(), "rolls take snapshots");
        let end = log.log_end_offset();
        drop(log); // kill -9: no close, no final snapshot
        assert!(!snapshot_path(dir.path(), end).exists());

        // Recovery point in the middle: snapshots above it are dropped, the rest replayed.
        let middle = snapshots[snapshots.len() / 2];
        let mut log = Log::open(dir.path(), config.clone(), unclean(middle)).unwrap();
        assert!(
            log.producer_snapshot_offsets()
                .iter()
                .all(|&o| o <= middle || o == end)
        );
        assert!(
            snapshot_path(dir.path(), end).exists(),
            "the rebuilt state is snapshotted at the log end"
        );
        assert_state_continues(&mut log, 7, &sent);
        assert_state_continues(&mut log, 8, &other);
        drop(log);

        // No recovery point at all: everything is rebuilt from the batches.
        let log = Log::open(dir.path(), config, unclean(0)).unwrap();
        assert_eq!(log.producer_state().len(), 2);
        assert_eq!(
            log.producer_state().entry(7).unwrap().last_sequence(),
            40 * 3
        );
    }
);

#[test]
fn a_torn_last_append_is_not_taken_for_a_duplicate_after_recovery() {
    let dir = tempfile::tempdir().unwrap();
    let config = small_config(AppendMode::Pwrite);
    let (mut log, storage) = open_faulty(dir.path(), config.clone(), OpenOptions::default());
    let sent = produce(&mut log, 7, 4);
    let end = log.log_end_offset();
    let torn = producer_batch(7, 0, 12, 3);
    storage.fail_next(Op::Write, Fault::TornWrite { keep: 30 });
    assert_eq!(code(append(&mut log, &torn)), "KAFKA_STORAGE_ERROR");
    drop(log);
    storage.revive();
    let mut log = Log::open(dir.path(), config, unclean(0)).unwrap();
    assert_eq!(log.log_end_offset(), end);
    // The producer retries the batch that never made it: a new append, not a duplicate.
    let retry = append(&mut log, &torn).unwrap();
    assert!(!retry.duplicate);
    assert_eq!(retry.base_offset, end);
    assert!(append(&mut log, &sent[3].0).unwrap().duplicate);
}

for_each_mode!(
    truncation_reloads_the_state_below_the_cut,
    |mode: AppendMode| {
        let dir = tempfile::tempdir().unwrap();
        let mut log = open(dir.path(), small_config(mode));
        let sent = produce(&mut log, 7, 30);
        let cut = sent[20].1.base_offset;
        log.truncate_to(cut).unwrap();
        assert!(log.producer_snapshot_offsets().iter().all(|&o| o <= cut));
        assert_state_continues(&mut log, 7, &sent[..20]);
    }
);

for_each_mode!(
    state_outlives_its_batches_until_it_expires,
    |mode: AppendMode| {
        let dir = tempfile::tempdir().unwrap();
        let config = LogConfig {
            producer_id_expiration_ms: 60_000,
            ..small_config(mode)
        };
        let mut log = open(dir.path(), config);
        let sent = produce(&mut log, 7, 30);
        log.delete_records_before(log.log_end_offset()).unwrap();
        assert!(
            log.producer_snapshot_offsets()
                .iter()
                .all(|&o| o >= log.log_start_offset())
        );
        // KIP-360: the batches are gone, the producer's state is not.
        let retry = append(&mut log, &sent[29].0).unwrap();
        assert!(retry.duplicate);
        assert_eq!(retry.base_offset, sent[29].1.base_offset);
        log.enforce_retention(now_ms() + 59_000).unwrap();
        assert!(log.producer_state().entry(7).is_some());
        log.enforce_retention(now_ms() + 61_000).unwrap();
        assert!(log.producer_state().entry(7).is_none());
        // Without state any sequence is accepted again.
        assert!(
            !append(&mut log, &producer_batch(7, 0, 1_000, 1))
                .unwrap()
                .duplicate
        );
    }
);

for_each_mode!(expired_producers_are_not_loaded, |mode: AppendMode| {
    let dir = tempfile::tempdir().unwrap();
    let config = small_config(mode);
    let mut log = open(dir.path(), config.clone());
    let mut old = producer_batch(7, 0, 0, 1);
    old[35..43].copy_from_slice(&(now_ms() - config.producer_id_expiration_ms - 1).to_be_bytes());
    fix_crc(&mut old);
    append(&mut log, &old).unwrap();
    produce(&mut log, 8, 1);
    log.close().unwrap();
    let log = open_clean(dir.path(), config);
    assert!(log.producer_state().entry(7).is_none());
    assert!(log.producer_state().entry(8).is_some());
});

for_each_mode!(snapshots_are_pruned_as_segments_roll, |mode: AppendMode| {
    let dir = tempfile::tempdir().unwrap();
    let mut log = open(dir.path(), small_config(mode));
    produce(&mut log, 7, 100);
    let bases = log.segment_base_offsets();
    assert!(bases.len() > 5);
    // Nothing flushed, the recovery point is 0: every roll's snapshot may be needed.
    assert_eq!(log.producer_snapshot_offsets(), bases[1..].to_vec());
    // Once everything is flushed, only the snapshots of the last two segments remain.
    log.flush().unwrap();
    log.roll(now_ms()).unwrap();
    let bases = log.segment_base_offsets();
    let kept = log.producer_snapshot_offsets();
    assert_eq!(kept, bases[bases.len() - 2..].to_vec());
    assert_eq!(list_snapshot_files(dir.path()), kept);
});

for_each_mode!(
    a_corrupt_snapshot_is_deleted_and_an_older_one_used,
    |mode: AppendMode| {
        let dir = tempfile::tempdir().unwrap();
        let config = small_config(mode);
        let mut log = open(dir.path(), config.clone());
        let sent = produce(&mut log, 7, 40);
        let end = log.log_end_offset();
        log.close().unwrap();
        let latest = snapshot_path(dir.path(), end);
        let mut bytes = std::fs::read(&latest).unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 0xff;
        std::fs::write(&latest, bytes).unwrap();
        let mut log = open_clean(dir.path(), config);
        // Replaced by a snapshot of the state rebuilt from an older one and the batches.
        assert!(
            sluice_log::producer::snapshot::read(dir.path(), end)
                .unwrap()
                .is_ok()
        );
        assert_state_continues(&mut log, 7, &sent);
    }
);

fn segment_bases(dir: &Path) -> Vec<i64> {
    let mut bases: Vec<i64> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| {
            let name = e.unwrap().file_name().into_string().unwrap();
            name.strip_suffix(".log")?.parse().ok()
        })
        .collect();
    bases.sort_unstable();
    bases
}

fn list_snapshot_files(dir: &Path) -> Vec<i64> {
    sluice_log::producer::snapshot::list(dir).unwrap()
}

/// Changes the producer id of every batch in a segment file from `from` to `to`, fixing CRCs.
fn rewrite_producer_ids(path: &Path, from: i64, to: i64) {
    let mut data = std::fs::read(path).unwrap();
    let mut at = 0;
    while at + 61 <= data.len() {
        let length = i32::from_be_bytes(data[at + 8..at + 12].try_into().unwrap());
        if length <= 0 {
            break; // a zero-filled tail
        }
        let end = at + 12 + length as usize;
        let batch = &mut data[at..end];
        if i64::from_be_bytes(batch[43..51].try_into().unwrap()) == from {
            batch[43..51].copy_from_slice(&to.to_be_bytes());
            fix_crc(batch);
        }
        at = end;
    }
    std::fs::write(path, data).unwrap();
}
