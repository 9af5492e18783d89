//! Transactions through `Log` (issue 14): transactional batches open a transaction per producer,
//! `append_marker` ends it (COMMIT / ABORT control batch, Kafka's layout), ABORT writes the
//! `.txnindex` entry, the first unstable offset follows, `aborted_transactions` answers a
//! read_committed fetch; the epoch and coordinator fences; and the state and the index kept
//! right across close/open, an unclean stop, a lost or torn index, a power loss, truncation,
//! retention, DeleteRecords and compaction.

mod common;
mod compaction_support;

use std::path::{Path, PathBuf};

use common::*;
use compaction_support::*;
use sluice_log::fault::PowerLoss;
use sluice_log::records::codec::Codec;
use sluice_log::{
    AbortedTxn, AppendMode, AppendResult, CleanerSettings, CleanupPolicy, Log, LogConfig,
    OpenOptions,
};

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

/// A batch of `count` records from `producer_id` at `epoch`, first sequence `sequence`;
/// transactional when `transactional`. Records carry keys (compacted logs need them).
fn producer_batch(
    producer_id: i64,
    epoch: i16,
    sequence: i32,
    count: usize,
    transactional: bool,
) -> Vec<u8> {
    let mut spec = BatchSpec::records(count, now_ms(), 100);
    spec.producer_id = producer_id;
    let mut batch = build_batch(&spec, sequence as u8);
    batch[51..53].copy_from_slice(&epoch.to_be_bytes());
    batch[53..57].copy_from_slice(&sequence.to_be_bytes());
    if transactional {
        let attributes = i16::from_be_bytes([batch[21], batch[22]]) | 0x10;
        batch[21..23].copy_from_slice(&attributes.to_be_bytes());
    }
    fix_crc(&mut batch);
    batch
}

fn txn(log: &mut Log, producer_id: i64, sequence: i32, count: usize) -> AppendResult {
    log.append(
        &mut producer_batch(producer_id, 0, sequence, count, true),
        now_ms(),
        0,
    )
    .unwrap()
}

fn marker(log: &mut Log, producer_id: i64, commit: bool) -> AppendResult {
    log.append_marker(producer_id, 0, 0, commit, now_ms(), 0)
        .unwrap()
}

fn aborted(log: &Log, from: i64, to: i64) -> Vec<(i64, i64)> {
    log.aborted_transactions(from, to)
        .unwrap()
        .iter()
        .map(|a| (a.producer_id, a.first_offset))
        .collect()
}

fn txn_index_path(dir: &Path, base: i64) -> PathBuf {
    dir.join(format!("{base:020}.txnindex"))
}

fn unclean(recovery_point: i64) -> OpenOptions {
    OpenOptions {
        clean_shutdown: false,
        recovery_point,
        log_start_offset: 0,
    }
}

/// Two transactions, one aborted and one committed, interleaved:
/// p1 [0,3) p2 [3,5) p1 [5,6) ABORT(p1)@6 COMMIT(p2)@7.
fn interleaved(log: &mut Log) {
    assert_eq!(txn(log, 1, 0, 3).base_offset, 0);
    assert_eq!(txn(log, 2, 0, 2).base_offset, 3);
    assert_eq!(txn(log, 1, 3, 1).base_offset, 5);
    assert_eq!(log.first_unstable_offset(), Some(0));
    assert_eq!(marker(log, 1, false).base_offset, 6);
    assert_eq!(log.first_unstable_offset(), Some(3));
    assert_eq!(marker(log, 2, true).base_offset, 7);
    assert_eq!(log.first_unstable_offset(), None);
}

for_each_mode!(
    markers_end_transactions_and_aborts_are_indexed,
    |mode: AppendMode| {
        let dir = tempfile::tempdir().unwrap();
        let mut log = open(dir.path(), small_config(mode));
        interleaved(&mut log);
        assert_eq!(log.log_end_offset(), 8);
        // The ABORT's entry: version 0, producer 1, first 0, last 6, LSO 3 (p2 was still open).
        let bytes = std::fs::read(txn_index_path(dir.path(), 0)).unwrap();
        let mut expected = vec![0u8, 0];
        for v in [1i64, 0, 6, 3] {
            expected.extend_from_slice(&v.to_be_bytes());
        }
        assert_eq!(bytes, expected);
        assert_eq!(aborted(&log, 0, 8), vec![(1, 0)]);
        assert_eq!(aborted(&log, 6, 8), vec![(1, 0)], "the marker is in range");
        assert_eq!(aborted(&log, 7, 8), vec![], "past the marker");
        // The marker batch is Kafka's 78 bytes, control + transactional.
        let read = log.read(6, 1 << 20, true).unwrap().unwrap();
        let stored = range_bytes(&read.range);
        assert_eq!(read.first_offset, 6);
        assert_eq!(&stored[21..23], &[0, 0x30]);
        assert_eq!(
            i32::from_be_bytes(stored[8..12].try_into().unwrap()) + 12,
            78
        );
        // Open transactions are listed with their producers.
        txn(&mut log, 3, 0, 1);
        let ongoing = log.ongoing_transactions();
        assert_eq!(ongoing.len(), 1);
        assert_eq!((ongoing[0].producer_id, ongoing[0].first_offset), (3, 8));
    }
);

for_each_mode!(fences_and_txn_state_rules, |mode: AppendMode| {
    let dir = tempfile::tempdir().unwrap();
    let mut log = open(dir.path(), small_config(mode));
    log.append(&mut producer_batch(1, 2, 0, 1, true), now_ms(), 0)
        .unwrap();
    // A non-transactional batch while the transaction is open.
    let err = log
        .append(&mut producer_batch(1, 2, 1, 1, false), now_ms(), 0)
        .unwrap_err();
    assert_eq!(err.code(), "INVALID_TXN_STATE");
    // A marker from an older producer epoch.
    let err = log.append_marker(1, 1, 0, true, now_ms(), 0).unwrap_err();
    assert_eq!(err.code(), "INVALID_PRODUCER_EPOCH");
    log.append_marker(1, 2, 4, false, now_ms(), 0).unwrap();
    // An older coordinator epoch.
    let err = log.append_marker(1, 2, 3, true, now_ms(), 0).unwrap_err();
    assert_eq!(err.code(), "TRANSACTION_COORDINATOR_FENCED");
    // A marker bumping the epoch (TV2) fences the old epoch's data.
    log.append_marker(1, 3, 4, false, now_ms(), 0).unwrap();
    let err = log
        .append(&mut producer_batch(1, 2, 1, 1, true), now_ms(), 0)
        .unwrap_err();
    assert_eq!(err.code(), "INVALID_PRODUCER_EPOCH");
    log.append(&mut producer_batch(1, 3, 0, 1, true), now_ms(), 0)
        .unwrap();
    // A marker for a producer the partition never saw is written and changes nothing else.
    let end = log.log_end_offset();
    let result = log.append_marker(99, 0, 0, false, now_ms(), 0).unwrap();
    assert_eq!(result.base_offset, end);
    assert_eq!(aborted(&log, 0, end + 1), vec![(1, 0)]);
    // Refused calls wrote nothing.
    assert_eq!(log.log_end_offset(), end + 1);
    let err = log.append_marker(-1, 0, 0, true, now_ms(), 0).unwrap_err();
    assert_eq!(err.code(), "INVALID_ARGUMENT");
});

for_each_mode!(
    open_transactions_and_the_index_survive_close_and_an_unclean_stop,
    |mode: AppendMode| {
        let dir = tempfile::tempdir().unwrap();
        let config = small_config(mode);
        let mut log = open(dir.path(), config.clone());
        interleaved(&mut log);
        txn(&mut log, 3, 0, 2); // open at 8
        log.close().unwrap();
        let mut log = open_clean(dir.path(), config.clone());
        assert_eq!(log.first_unstable_offset(), Some(8));
        assert_eq!(aborted(&log, 0, 10), vec![(1, 0)]);
        // Unclean stop: dropped without close after another abort.
        marker(&mut log, 3, false);
        drop(log);
        let log = Log::open(dir.path(), config.clone(), unclean(0)).unwrap();
        assert_eq!(log.first_unstable_offset(), None);
        assert_eq!(aborted(&log, 0, 11), vec![(1, 0), (3, 8)]);
    }
);

for_each_mode!(
    a_lost_or_torn_txn_index_is_rebuilt_by_recovery,
    |mode: AppendMode| {
        let dir = tempfile::tempdir().unwrap();
        let config = small_config(mode);
        let mut log = open(dir.path(), config.clone());
        interleaved(&mut log);
        txn(&mut log, 3, 0, 1);
        marker(&mut log, 3, false);
        let expected = log.aborted_transactions(0, 100).unwrap();
        assert_eq!(expected.len(), 2);
        drop(log);
        let path = txn_index_path(dir.path(), 0);
        let original = std::fs::read(&path).unwrap();
        // Lost entirely.
        std::fs::remove_file(&path).unwrap();
        let log = Log::open(dir.path(), config.clone(), unclean(0)).unwrap();
        assert_eq!(log.aborted_transactions(0, 100).unwrap(), expected);
        drop(log);
        assert_eq!(std::fs::read(&path).unwrap(), original);
        // Torn: half of the second entry, then garbage.
        let mut torn = original[..34 + 17].to_vec();
        torn.extend_from_slice(&[0xff; 5]);
        std::fs::write(&path, &torn).unwrap();
        let log = Log::open(dir.path(), config, unclean(0)).unwrap();
        assert_eq!(log.aborted_transactions(0, 100).unwrap(), expected);
        drop(log);
        assert_eq!(std::fs::read(&path).unwrap(), original);
    }
);

for_each_mode!(
    a_power_loss_keeps_synced_entries_and_drops_lost_markers,
    |mode: AppendMode| {
        let dir = tempfile::tempdir().unwrap();
        let config = small_config(mode);
        let (mut log, storage) = open_faulty(dir.path(), config.clone(), OpenOptions::default());
        interleaved(&mut log);
        log.flush().unwrap();
        let recovery_point = log.recovery_point();
        assert_eq!(recovery_point, 8);
        txn(&mut log, 3, 0, 1);
        marker(&mut log, 3, false);
        drop(log);
        storage.power_loss(PowerLoss::ZeroFillUnsynced).unwrap();
        let log = Log::open(dir.path(), config, unclean(recovery_point)).unwrap();
        assert_eq!(log.log_end_offset(), 8, "the unsynced batches are gone");
        assert_eq!(aborted(&log, 0, 8), vec![(1, 0)]);
        assert_eq!(log.first_unstable_offset(), None);
    }
);

for_each_mode!(
    a_transaction_across_a_roll_survives_restarts_from_the_roll_snapshot,
    |mode: AppendMode| {
        let dir = tempfile::tempdir().unwrap();
        let config = small_config(mode);
        let mut log = open(dir.path(), config.clone());
        txn(&mut log, 1, 0, 2);
        log.roll(now_ms()).unwrap();
        assert!(dir.path().join(format!("{:020}.snapshot", 2)).exists());
        txn(&mut log, 1, 2, 2);
        marker(&mut log, 1, false);
        log.flush().unwrap();
        drop(log);
        // Recovery point 2: the roll snapshot (an open transaction at 0) plus a scan of the rest.
        let log = Log::open(dir.path(), config, unclean(2)).unwrap();
        assert_eq!(aborted(&log, 2, 5), vec![(1, 0)]);
        assert_eq!(
            log.aborted_transactions(0, 5).unwrap(),
            vec![AbortedTxn {
                producer_id: 1,
                first_offset: 0,
                last_offset: 4,
                last_stable_offset: 5
            }]
        );
        assert!(txn_index_path(dir.path(), 2).exists());
        assert!(
            !txn_index_path(dir.path(), 0).exists(),
            "created by its first entry"
        );
    }
);

for_each_mode!(
    truncation_removes_entries_and_reopens_the_transaction,
    |mode: AppendMode| {
        let dir = tempfile::tempdir().unwrap();
        let mut log = open(dir.path(), small_config(mode));
        interleaved(&mut log);
        log.truncate_to(6).unwrap();
        assert_eq!(aborted(&log, 0, 6), vec![]);
        assert_eq!(
            std::fs::metadata(txn_index_path(dir.path(), 0))
                .unwrap()
                .len(),
            0
        );
        assert_eq!(log.first_unstable_offset(), Some(0), "both open again");
        assert_eq!(log.ongoing_transactions().len(), 2);
        marker(&mut log, 1, true);
        assert_eq!(log.first_unstable_offset(), Some(3));
    }
);

for_each_mode!(
    retention_and_delete_records_take_the_index_with_their_segments,
    |mode: AppendMode| {
        let dir = tempfile::tempdir().unwrap();
        let mut log = open(dir.path(), small_config(mode));
        interleaved(&mut log);
        log.roll(now_ms()).unwrap();
        txn(&mut log, 1, 4, 1); // new transaction in the next segment
        marker(&mut log, 1, false);
        assert!(txn_index_path(dir.path(), 0).exists());
        assert!(txn_index_path(dir.path(), 8).exists());
        // A fetch from the first segment that reaches the second sees both aborts.
        assert_eq!(aborted(&log, 0, 10), vec![(1, 0), (1, 8)]);
        log.delete_records_before(8).unwrap();
        assert!(!txn_index_path(dir.path(), 0).exists());
        assert_eq!(aborted(&log, 8, 10), vec![(1, 8)]);
        // An open transaction whose first batch DeleteRecords passed: the first unstable offset
        // is clamped to the log start (Kafka).
        txn(&mut log, 7, 0, 2); // 10-11
        log.delete_records_before(11).unwrap();
        assert_eq!(log.first_unstable_offset(), Some(11));
        assert_eq!(log.ongoing_transactions()[0].first_offset, 10);
    }
);

/// A keyed batch; transactional from `producer` when given (sequence `sequence`, epoch 0).
fn keyed(records: &[Kv], producer: Option<(i64, i32)>) -> Vec<u8> {
    let fields = producer.map(|(id, sequence)| (id, 0i16, sequence));
    let mut batch = keyed_batch(records, now_ms(), Codec::None, fields);
    if producer.is_some() {
        batch[22] |= 0x10;
        fix_crc(&mut batch);
    }
    batch
}

for_each_mode!(
    compaction_drops_aborted_data_and_keeps_markers_committed_data_and_the_index,
    |mode: AppendMode| {
        let dir = tempfile::tempdir().unwrap();
        let config = LogConfig {
            cleanup_policy: CleanupPolicy::parse("compact").unwrap(),
            min_cleanable_dirty_ratio: 0.0,
            ..small_config(mode)
        };
        let mut log = open(dir.path(), config.clone());
        let append = |log: &mut Log, batch: Vec<u8>| {
            log.append(&mut batch.clone(), now_ms(), 0).unwrap();
        };
        append(
            &mut log,
            keyed(&[kv("a", Some("old")), kv("b", Some("old"))], None),
        ); // 0-1
        append(&mut log, keyed(&[kv("a", Some("aborted"))], Some((1, 0)))); // 2
        append(&mut log, keyed(&[kv("b", Some("committed"))], Some((2, 0)))); // 3
        marker(&mut log, 1, false); // 4
        marker(&mut log, 2, true); // 5
        append(&mut log, keyed(&[kv("e", Some("committed"))], Some((1, 1)))); // 6
        marker(&mut log, 1, true); // 7
        append(&mut log, keyed(&[kv("a", Some("new"))], None)); // 8
        append(&mut log, keyed(&[kv("c", Some("x"))], None)); // 9
        log.roll(now_ms()).unwrap();
        append(&mut log, keyed(&[kv("d", Some("open"))], Some((5, 0)))); // 10, stays open
        append(&mut log, keyed(&[kv("a", Some("newest"))], None)); // 11, past the open one
        log.roll(now_ms()).unwrap();
        let before = log.aborted_transactions(0, 100).unwrap();
        assert_eq!(before.len(), 1);
        let cleanable = log.cleanable(now_ms()).unwrap();
        assert_eq!(
            cleanable.first_uncleanable_offset, 10,
            "never past the open transaction"
        );
        let stats = log.clean(now_ms(), &CleanerSettings::default()).unwrap();
        assert!(stats.is_some());
        let offsets: Vec<i64> = log_records(&log).iter().map(|r| r.offset).collect();
        // a=old (0) went to a=new (8) and b=old (1) to the committed b (3): committed
        // transactional records count as any other; the aborted a (2) went without shadowing
        // a=old; all three markers stay; the clean's map ended at 10, so a=new (8) is kept
        // even though a=newest (11) exists.
        assert_eq!(offsets, vec![3, 4, 5, 6, 7, 8, 9, 10, 11]);
        assert_eq!(
            disk_batches(dir.path())
                .iter()
                .filter(|h| h.is_control())
                .count(),
            3
        );
        assert_eq!(log.aborted_transactions(0, 100).unwrap(), before);
        assert!(txn_index_path(dir.path(), 0).exists());
        // A second clean finds nothing more to change in the first segment.
        log.clean(now_ms(), &CleanerSettings::default()).unwrap();
        let again: Vec<i64> = log_records(&log).iter().map(|r| r.offset).collect();
        assert_eq!(again, offsets);
        log.close().unwrap();
        let log = open_clean(dir.path(), config);
        assert_eq!(log.aborted_transactions(0, 100).unwrap(), before);
        assert_eq!(log.first_unstable_offset(), Some(10));
    }
);

for_each_mode!(
    an_aborted_batch_that_is_its_producers_last_is_kept_empty,
    |mode: AppendMode| {
        let dir = tempfile::tempdir().unwrap();
        let config = LogConfig {
            cleanup_policy: CleanupPolicy::parse("compact").unwrap(),
            min_cleanable_dirty_ratio: 0.0,
            ..small_config(mode)
        };
        let mut log = open(dir.path(), config);
        log.append(
            &mut keyed(&[kv("a", Some("aborted"))], Some((1, 0))),
            now_ms(),
            0,
        )
        .unwrap(); // 0
        marker(&mut log, 1, false); // 1
        log.append(&mut keyed(&[kv("b", Some("x"))], None), now_ms(), 0)
            .unwrap(); // 2
        log.roll(now_ms()).unwrap();
        log.clean(now_ms(), &CleanerSettings::default()).unwrap();
        let offsets: Vec<i64> = log_records(&log).iter().map(|r| r.offset).collect();
        assert_eq!(
            offsets,
            vec![1, 2],
            "the aborted record is gone, the marker stays"
        );
        let batches = disk_batches(dir.path());
        assert_eq!(batches[0].base_offset, 0);
        assert_eq!(
            batches[0].records_count, 0,
            "kept empty: producer 1's last batch"
        );
        assert!(batches[0].is_transactional());
        // The producer's sequence continues after it.
        log.append(&mut keyed(&[kv("c", Some("y"))], Some((1, 1))), now_ms(), 0)
            .unwrap();
    }
);

for_each_mode!(
    an_aborted_record_never_shadows_a_committed_one_even_with_its_marker_uncleaned,
    |mode: AppendMode| {
        let dir = tempfile::tempdir().unwrap();
        let config = LogConfig {
            cleanup_policy: CleanupPolicy::parse("compact").unwrap(),
            min_cleanable_dirty_ratio: 0.0,
            ..small_config(mode)
        };
        let mut log = open(dir.path(), config);
        log.append(&mut keyed(&[kv("a", Some("old"))], None), now_ms(), 0)
            .unwrap(); // 0
        log.append(
            &mut keyed(&[kv("a", Some("aborted"))], Some((1, 0))),
            now_ms(),
            0,
        )
        .unwrap(); // 1
        log.roll(now_ms()).unwrap();
        // The ABORT lands in the active segment, which no clean touches: the clean learns of
        // the abort from that segment's .txnindex all the same.
        marker(&mut log, 1, false); // 2
        log.append(&mut keyed(&[kv("x", Some("y"))], None), now_ms(), 0)
            .unwrap(); // 3
        assert_eq!(log.cleanable(now_ms()).unwrap().first_uncleanable_offset, 2);
        log.clean(now_ms(), &CleanerSettings::default()).unwrap();
        let records = log_records(&log);
        let kept: Vec<(i64, Option<Vec<u8>>)> =
            records.into_iter().map(|r| (r.offset, r.value)).collect();
        assert_eq!(kept[0], (0, Some(b"old".to_vec())), "a=old survives");
        assert_eq!(
            kept.iter().map(|(o, _)| *o).collect::<Vec<_>>(),
            vec![0, 2, 3],
            "the aborted record is gone"
        );
    }
);

for_each_mode!(
    markers_of_emptied_transactions_go_after_delete_retention,
    |mode: AppendMode| {
        let dir = tempfile::tempdir().unwrap();
        let config = LogConfig {
            cleanup_policy: CleanupPolicy::parse("compact").unwrap(),
            min_cleanable_dirty_ratio: 0.0,
            delete_retention_ms: 1_000,
            ..small_config(mode)
        };
        let mut log = open(dir.path(), config.clone());
        let append = |log: &mut Log, batch: Vec<u8>| {
            log.append(&mut batch.clone(), now_ms(), 0).unwrap();
        };
        append(&mut log, keyed(&[kv("a", Some("aborted"))], Some((1, 0)))); // 0
        marker(&mut log, 1, false); // 1
        append(&mut log, keyed(&[kv("c", Some("1"))], Some((1, 1)))); // 2
        marker(&mut log, 1, true); // 3
        append(&mut log, keyed(&[kv("c", Some("2"))], None)); // 4
        append(&mut log, keyed(&[kv("d", Some("1"))], Some((1, 2)))); // 5
        marker(&mut log, 1, true); // 6
        log.roll(now_ms()).unwrap();
        let now = now_ms();
        let stats = log
            .clean(now, &CleanerSettings::default())
            .unwrap()
            .unwrap();
        assert_eq!(stats.aborted_batches_removed, 1);
        assert_eq!(stats.markers_removed, 0, "first a delete horizon");
        let offsets =
            |log: &Log| -> Vec<i64> { log_records(log).iter().map(|r| r.offset).collect() };
        // 0 aborted, 2 compacted away: the markers 1 and 3 end empty transactions now; 6 does
        // not (5 is producer 1's last batch).
        assert_eq!(offsets(&log), vec![1, 3, 4, 5, 6]);
        let horizons: Vec<(i64, Option<i64>)> = disk_batches(dir.path())
            .iter()
            .filter(|h| h.is_control())
            .map(|h| (h.base_offset, h.delete_horizon_ms()))
            .collect();
        assert_eq!(
            horizons,
            vec![(1, Some(now + 1_000)), (3, Some(now + 1_000)), (6, None)]
        );
        // Before the horizon nothing more goes; after it the two markers do.
        append(&mut log, keyed(&[kv("e", Some("1"))], None)); // 7
        log.roll(now_ms()).unwrap();
        let stats = log
            .clean(now + 500, &CleanerSettings::default())
            .unwrap()
            .unwrap();
        assert_eq!(stats.markers_removed, 0);
        append(&mut log, keyed(&[kv("f", Some("1"))], None)); // 8
        log.roll(now_ms()).unwrap();
        let stats = log
            .clean(now + 1_000, &CleanerSettings::default())
            .unwrap()
            .unwrap();
        assert_eq!(stats.markers_removed, 2);
        assert_eq!(offsets(&log), vec![4, 5, 6, 7, 8]);
        assert_eq!(
            aborted(&log, 0, 9),
            vec![(1, 0)],
            "index entries stay with their segment"
        );
        drop(log);
        // A rebuild from the log finds no transaction left open.
        let log = Log::open(dir.path(), config, unclean(0)).unwrap();
        assert_eq!(log.first_unstable_offset(), None);
    }
);

for_each_mode!(
    the_markers_of_a_producer_with_no_data_left_keep_its_epoch,
    |mode: AppendMode| {
        let dir = tempfile::tempdir().unwrap();
        let config = LogConfig {
            cleanup_policy: CleanupPolicy::parse("compact").unwrap(),
            min_cleanable_dirty_ratio: 0.0,
            delete_retention_ms: 0,
            ..small_config(mode)
        };
        let mut log = open(dir.path(), config);
        // Producer 1's marker with a new epoch (TV2) forgets its batches: it has none left.
        log.append(&mut keyed(&[kv("a", Some("1"))], Some((1, 0))), now_ms(), 0)
            .unwrap(); // 0
        log.append_marker(1, 1, 0, false, now_ms(), 0).unwrap(); // 1
        // Producer 2's abort with its epoch unchanged: its empty transaction's marker may go.
        log.append(&mut keyed(&[kv("b", Some("1"))], Some((2, 0))), now_ms(), 0)
            .unwrap(); // 2
        marker(&mut log, 2, false); // 3
        log.append(&mut keyed(&[kv("c", Some("1"))], Some((2, 1))), now_ms(), 0)
            .unwrap(); // 4
        marker(&mut log, 2, true); // 5
        log.append(&mut keyed(&[kv("x", Some("1"))], None), now_ms(), 0)
            .unwrap(); // 6
        log.roll(now_ms()).unwrap();
        let now = now_ms();
        log.clean(now, &CleanerSettings::default()).unwrap();
        log.append(&mut keyed(&[kv("y", Some("1"))], None), now_ms(), 0)
            .unwrap(); // 7
        log.roll(now_ms()).unwrap();
        log.clean(now + 1, &CleanerSettings::default()).unwrap();
        let markers: Vec<i64> = disk_batches(dir.path())
            .iter()
            .filter(|h| h.is_control() && h.records_count > 0)
            .map(|h| h.base_offset)
            .collect();
        // 1 stays (producer 1's epoch lives only there); 3 went (its data went, producer 2
        // still has batch 4); 5 stays (batch 4 is left).
        assert_eq!(markers, vec![1, 5]);
    }
);

for_each_mode!(
    aborted_data_and_its_marker_in_one_clean_leave_older_records_alone,
    |mode: AppendMode| {
        let dir = tempfile::tempdir().unwrap();
        let config = LogConfig {
            cleanup_policy: CleanupPolicy::parse("compact").unwrap(),
            min_cleanable_dirty_ratio: 0.0,
            ..small_config(mode)
        };
        let mut log = open(dir.path(), config);
        log.append(&mut keyed(&[kv("a", Some("old"))], None), now_ms(), 0)
            .unwrap(); // 0
        log.append(
            &mut keyed(&[kv("a", Some("aborted"))], Some((1, 0))),
            now_ms(),
            0,
        )
        .unwrap(); // 1
        marker(&mut log, 1, false); // 2
        log.append(&mut keyed(&[kv("b", Some("c"))], Some((1, 1))), now_ms(), 0)
            .unwrap(); // 3
        marker(&mut log, 1, true); // 4
        log.roll(now_ms()).unwrap();
        let stats = log
            .clean(now_ms(), &CleanerSettings::default())
            .unwrap()
            .unwrap();
        assert_eq!(stats.aborted_batches_removed, 1);
        let offsets: Vec<i64> = log_records(&log).iter().map(|r| r.offset).collect();
        assert_eq!(
            offsets,
            vec![0, 2, 3, 4],
            "a=old (0) stays, the aborted a (1) goes"
        );
    }
);

/// What was appended, for the randomized power-loss test's oracle.
#[derive(Clone, Copy, Debug)]
enum Event {
    Data {
        producer_id: i64,
        base: i64,
        last: i64,
    },
    Marker {
        producer_id: i64,
        offset: i64,
        abort: bool,
    },
}

/// (aborted transactions, open transactions), each as (producer, first offset).
type TxnState = (Vec<(i64, i64)>, Vec<(i64, i64)>);

/// The aborted transactions and the open ones that the events below `end` make: Kafka's rules,
/// computed from scratch.
fn expected_state(events: &[Event], end: i64) -> TxnState {
    let mut open: std::collections::BTreeMap<i64, i64> = Default::default();
    let mut aborted = Vec::new();
    for event in events {
        match *event {
            Event::Data {
                producer_id,
                base,
                last,
            } if last < end => {
                open.entry(producer_id).or_insert(base);
            }
            Event::Marker {
                producer_id,
                offset,
                abort,
            } if offset < end => {
                if let Some(first) = open.remove(&producer_id)
                    && abort
                {
                    aborted.push((producer_id, first));
                }
            }
            _ => {}
        }
    }
    let mut ongoing: Vec<(i64, i64)> = open.into_iter().collect();
    ongoing.sort_by_key(|&(producer, first)| (first, producer));
    (aborted, ongoing)
}

fn observed_state(log: &Log) -> TxnState {
    let ongoing = log
        .ongoing_transactions()
        .iter()
        .map(|t| (t.producer_id, t.first_offset))
        .collect();
    (aborted(log, 0, log.log_end_offset()), ongoing)
}

/// splitmix64.
fn next(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

for_each_mode!(
    transactions_and_the_index_survive_random_power_losses,
    |mode: AppendMode| {
        for seed in 1..=12u64 {
            let mut rng = seed;
            let dir = tempfile::tempdir().unwrap();
            let storage = std::sync::Arc::new(sluice_log::fault::FaultyStorage::new());
            let config = small_config(mode);
            let mut log = Log::open_with_storage(
                dir.path(),
                config.clone(),
                OpenOptions::default(),
                storage.clone(),
            )
            .unwrap();
            let mut events: Vec<Event> = Vec::new();
            for round in 0..3i64 {
                // Fresh producers each round (no sequence bookkeeping across a loss); the
                // coordinator aborts what the last round left open.
                for (producer_id, _) in observed_state(&log).1 {
                    let offset = log
                        .append_marker(producer_id, 0, 0, false, now_ms(), 0)
                        .unwrap()
                        .base_offset;
                    events.push(Event::Marker {
                        producer_id,
                        offset,
                        abort: true,
                    });
                }
                let mut sequences = [0i32; 4];
                for _ in 0..(20 + next(&mut rng) % 60) {
                    let k = (next(&mut rng) % 4) as usize;
                    let producer_id = 100 * (round + 1) + k as i64;
                    match next(&mut rng) % 10 {
                        0..=5 => {
                            let count = 1 + (next(&mut rng) % 4) as usize;
                            let result = log
                                .append(
                                    &mut producer_batch(producer_id, 0, sequences[k], count, true),
                                    now_ms(),
                                    0,
                                )
                                .unwrap();
                            sequences[k] += count as i32;
                            events.push(Event::Data {
                                producer_id,
                                base: result.base_offset,
                                last: result.last_offset,
                            });
                        }
                        6 => {
                            log.append(&mut simple_batch(2, now_ms(), 50), now_ms(), 0)
                                .unwrap();
                        }
                        _ => {
                            let abort = next(&mut rng).is_multiple_of(2);
                            let offset = log
                                .append_marker(producer_id, 0, 0, !abort, now_ms(), 0)
                                .unwrap()
                                .base_offset;
                            events.push(Event::Marker {
                                producer_id,
                                offset,
                                abort,
                            });
                        }
                    }
                    if next(&mut rng).is_multiple_of(12) {
                        log.flush().unwrap();
                    }
                    if next(&mut rng).is_multiple_of(15) {
                        log.roll(now_ms()).unwrap();
                    }
                }
                let recovery_point = log.recovery_point();
                drop(log);
                let loss = match next(&mut rng) % 3 {
                    0 => PowerLoss::DropUnsynced,
                    1 => PowerLoss::ZeroFillUnsynced,
                    _ => PowerLoss::Scramble {
                        seed: next(&mut rng),
                    },
                };
                storage.power_loss(loss).unwrap();
                let context = format!("{mode:?} seed {seed} round {round} {loss:?}");
                log = Log::open_with_storage(
                    dir.path(),
                    config.clone(),
                    unclean(recovery_point),
                    storage.clone(),
                )
                .unwrap_or_else(|e| panic!("{context}: {e}"));
                let end = log.log_end_offset();
                assert!(end >= recovery_point, "{context}: flushed data lost");
                let expected = expected_state(&events, end);
                assert_eq!(observed_state(&log), expected, "{context}");
                // A rebuild from scratch (no snapshot trusted) agrees.
                drop(log);
                let scratch = Log::open(dir.path(), config.clone(), unclean(0)).unwrap();
                assert_eq!(
                    observed_state(&scratch),
                    expected,
                    "{context}: from scratch"
                );
                drop(scratch);
                events.retain(|e| match *e {
                    Event::Data { last, .. } => last < end,
                    Event::Marker { offset, .. } => offset < end,
                });
                log = Log::open_with_storage(
                    dir.path(),
                    config.clone(),
                    OpenOptions {
                        clean_shutdown: false,
                        recovery_point: end,
                        log_start_offset: 0,
                    },
                    storage.clone(),
                )
                .unwrap();
            }
        }
    }
);
