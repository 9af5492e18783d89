//! Log compaction end to end on real temp dirs: overwrites shrink to the latest record per key
//! with offsets unchanged, tombstones live until their delete horizon, every codec, the bounded
//! offset map, producers' last batches, the dirty ratio and compaction lag, retention of
//! compacted logs, the compacted-topic key rule, and what a clean does when the log changed
//! under it.

mod common;
mod compaction_support;

use std::path::Path;

use common::*;
use compaction_support::*;
use sluice_log::records::codec::Codec;
use sluice_log::{AppendMode, CleanerSettings, CleanupPolicy, Log, LogConfig, OpenOptions};

fn settings() -> CleanerSettings {
    CleanerSettings::default()
}

fn active_base(log: &Log) -> i64 {
    *log.segment_base_offsets().last().unwrap()
}

fn file_bytes(dir: &Path, base: i64, suffix: &str) -> Vec<u8> {
    std::fs::read(dir.join(format!("{base:020}{suffix}"))).unwrap()
}

for_each_mode!(
    overwrites_shrink_to_the_latest_record_per_key,
    |mode: AppendMode| {
        let dir = tempfile::tempdir().unwrap();
        let config = LogConfig {
            append_mode: mode,
            ..compact_config(4096)
        };
        let mut log = open(dir.path(), config.clone());
        append_overwrites(&mut log, 400, 20, 4, Codec::None, 1_000);
        let before = log_records(&log);
        let (end, size, segments) = (log.log_end_offset(), log.size_bytes(), log.segment_count());
        let first_uncleanable = active_base(&log);
        assert!(segments > 10);

        let stats = log
            .clean(10_000, &settings())
            .unwrap()
            .expect("a dirty log is cleaned");
        assert_eq!(stats.first_dirty_offset, 0);
        assert_eq!(stats.end_offset, first_uncleanable);
        assert_eq!(log.first_dirty_offset(), first_uncleanable);
        assert!(!stats.map_full);
        let after = log_records(&log);
        assert_eq!(after, compacted(&before, first_uncleanable, false));
        assert_valid_compaction(
            &after,
            &before,
            &compacted(&before, first_uncleanable, false),
        );
        assert_eq!(log.log_end_offset(), end, "the log end never moves");
        assert!(
            log.size_bytes() * 3 < size,
            "{} of {size} bytes left",
            log.size_bytes()
        );
        assert_eq!(stats.segments_cleaned as usize, segments - 1);
        // Groups are formed from the sizes before cleaning (Kafka's rule): full segments are
        // rewritten one by one, and merge on a later clean.
        assert_eq!(log.segment_count(), segments);

        // Nothing dirty: nothing to do.
        assert!(log.clean(10_000, &settings()).unwrap().is_none());

        append_overwrites(&mut log, 40, 20, 4, Codec::None, 2_000);
        let before = log_records(&log);
        let first_uncleanable = active_base(&log);
        log.clean(10_000, &settings()).unwrap().unwrap();
        let after = log_records(&log);
        assert_eq!(after, compacted(&before, first_uncleanable, false));
        assert!(
            log.segment_count() * 3 < segments,
            "{} segments",
            log.segment_count()
        );
        let end = log.log_end_offset();

        // The cleaned segments' indexes are the ones recovery would build.
        let bases: Vec<i64> = log.segment_base_offsets();
        let closed = &bases[..bases.len() - 1];
        let indexes: Vec<(Vec<u8>, Vec<u8>)> = closed
            .iter()
            .map(|&b| {
                (
                    file_bytes(dir.path(), b, ".index"),
                    file_bytes(dir.path(), b, ".timeindex"),
                )
            })
            .collect();
        log.close().unwrap();
        for &b in closed {
            std::fs::remove_file(dir.path().join(format!("{b:020}.index"))).unwrap();
            std::fs::remove_file(dir.path().join(format!("{b:020}.timeindex"))).unwrap();
        }
        let log = open_clean(dir.path(), config.clone());
        for (&b, (index, time_index)) in closed.iter().zip(&indexes) {
            assert_eq!(
                &file_bytes(dir.path(), b, ".index"),
                index,
                "offset index of {b}"
            );
            assert_eq!(
                &file_bytes(dir.path(), b, ".timeindex"),
                time_index,
                "time index of {b}"
            );
        }
        assert_eq!(log_records(&log), after);
        drop(log);
        // And a full recovery scan accepts the sparse and empty batches as they are.
        let log = Log::open(dir.path(), config, OpenOptions::default()).unwrap();
        assert_eq!(log_records(&log), after);
        assert_eq!(log.log_end_offset(), end);
    }
);

#[test]
fn tombstones_live_until_their_delete_horizon_then_go() {
    let dir = tempfile::tempdir().unwrap();
    let config = LogConfig {
        delete_retention_ms: 1_000,
        ..compact_config(1 << 20)
    };
    let mut log = open(dir.path(), config);
    let append = |log: &mut Log, records: &[Kv]| {
        let mut bytes = keyed_batch(records, 5_000, Codec::None, None);
        log.append(&mut bytes, 5_000, 0).unwrap().base_offset
    };
    append(&mut log, &[kv("a", Some("1")), kv("b", Some("1"))]);
    let tombstone = append(&mut log, &[kv("b", None)]);
    append(&mut log, &[kv("a", Some("2"))]);
    log.roll(5_000).unwrap();
    append(&mut log, &[kv("c", Some("1"))]);

    let stats = log.clean(10_000, &settings()).unwrap().unwrap();
    assert_eq!(stats.tombstones_removed, 0);
    let records = log_records(&log);
    let keys: Vec<_> = records
        .iter()
        .map(|r| (r.offset, r.key.clone(), r.value.clone()))
        .collect();
    assert_eq!(
        keys,
        vec![
            (tombstone, Some(b"b".to_vec()), None),
            (3, Some(b"a".to_vec()), Some(b"2".to_vec())),
            (4, Some(b"c".to_vec()), Some(b"1".to_vec())),
        ],
        "older values go, the tombstone stays"
    );
    let stamped = disk_batches(dir.path())
        .into_iter()
        .find(|h| h.base_offset == tombstone)
        .unwrap();
    assert_eq!(
        stamped.delete_horizon_ms(),
        Some(11_000),
        "KIP-534 horizon = now + delete.retention.ms"
    );

    // A later clean before the horizon keeps it...
    append(&mut log, &[kv("d", Some("1"))]);
    log.roll(5_000).unwrap();
    append(&mut log, &[kv("e", Some("1"))]);
    log.clean(10_999, &settings()).unwrap().unwrap();
    assert!(log_records(&log).iter().any(|r| r.offset == tombstone));
    // ...the first one at or after it removes it.
    append(&mut log, &[kv("f", Some("1"))]);
    log.roll(5_000).unwrap();
    append(&mut log, &[kv("g", Some("1"))]);
    let stats = log.clean(11_000, &settings()).unwrap().unwrap();
    assert_eq!(stats.tombstones_removed, 1);
    let records = log_records(&log);
    assert!(
        records.iter().all(|r| r.key.as_deref() != Some(b"b")),
        "{records:?}"
    );
    assert!(records.iter().any(|r| r.key.as_deref() == Some(b"a")));
}

#[test]
fn compressed_batches_are_cleaned_and_keep_their_codec() {
    for (codec, id) in [
        (Codec::Gzip, 1),
        (Codec::Snappy, 2),
        (Codec::Lz4, 3),
        (Codec::Zstd, 4),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let mut log = open(dir.path(), compact_config(4096));
        append_overwrites(&mut log, 300, 15, 6, codec, 1_000);
        let before = log_records(&log);
        let first_uncleanable = active_base(&log);
        let stats = log.clean(10_000, &settings()).unwrap().unwrap();
        assert_eq!(stats.unreadable_batches, 0, "{codec:?}");
        assert!(stats.records_kept < stats.records_read, "{codec:?}");
        let after = log_records(&log);
        assert_eq!(
            after,
            compacted(&before, first_uncleanable, false),
            "{codec:?}"
        );
        let batches = disk_batches(dir.path());
        assert!(
            batches
                .iter()
                .all(|h| h.records_count == 0 || h.compression() == id),
            "{codec:?}"
        );
        assert!(
            batches
                .iter()
                .any(|h| (h.records_count as i64) < h.last_offset_delta as i64 + 1),
            "{codec:?}: some batch is sparse"
        );
        // Reopened with a full recovery scan (CRCs of the recompressed batches).
        log.close().unwrap();
        let log = Log::open(dir.path(), compact_config(4096), OpenOptions::default()).unwrap();
        assert_eq!(log_records(&log), after, "{codec:?}");
    }
}

#[test]
fn a_full_offset_map_cleans_up_to_where_it_reached_and_later_cleans_finish() {
    let dir = tempfile::tempdir().unwrap();
    let mut log = open(dir.path(), compact_config(2048));
    append_overwrites(&mut log, 300, 60, 3, Codec::Snappy, 1_000);
    let before = log_records(&log);
    let first_uncleanable = active_base(&log);
    let full = compacted(&before, first_uncleanable, false);
    // Room for 10 keys: every clean covers only part of the dirty section.
    let small = CleanerSettings {
        dedupe_buffer_bytes: 24 * 12,
    };
    let mut rounds = 0;
    let mut last_end = 0;
    while let Some(stats) = log.clean(10_000, &small).unwrap() {
        rounds += 1;
        assert!(
            stats.map_full || stats.end_offset == first_uncleanable,
            "{stats:?}"
        );
        assert!(stats.map_keys <= 10);
        assert!(stats.end_offset > last_end, "each clean makes progress");
        assert_eq!(stats.first_dirty_offset, last_end);
        last_end = stats.end_offset;
        // Keys of a batch the map filled up in point past `end_offset`: older records of them
        // may go early. Nothing a full compaction keeps may ever go.
        assert_valid_compaction(&log_records(&log), &before, &full);
        assert!(rounds < 200);
    }
    assert!(rounds > 3, "{rounds} rounds");
    assert_eq!(last_end, first_uncleanable);
    assert_eq!(
        log_records(&log),
        full,
        "bounded rounds end where one big clean would"
    );
}

#[test]
fn a_map_too_small_for_one_batch_is_an_error_not_a_stall() {
    let dir = tempfile::tempdir().unwrap();
    let mut log = open(dir.path(), compact_config(1 << 20));
    let mut bytes = keyed_batch(
        &[kv("a", Some("1")), kv("b", Some("1")), kv("c", Some("1"))],
        0,
        Codec::None,
        None,
    );
    log.append(&mut bytes, 0, 0).unwrap();
    log.roll(0).unwrap();
    let mut bytes = keyed_batch(&[kv("d", Some("1"))], 0, Codec::None, None);
    log.append(&mut bytes, 0, 0).unwrap();
    let tiny = CleanerSettings {
        dedupe_buffer_bytes: 48,
    };
    let err = log.clean(0, &tiny).unwrap_err();
    assert_eq!(err.code(), "INVALID_CONFIG");
    assert!(err.to_string().contains("dedupe.buffer.bytes"), "{err}");
    assert!(!log.is_cleaning(), "a failed clean does not block the next");
    assert!(log.clean(0, &settings()).unwrap().is_some());
}

#[test]
fn the_last_batch_of_an_active_producer_is_kept_empty() {
    let dir = tempfile::tempdir().unwrap();
    let config = LogConfig {
        producer_id_expiration_ms: 1_000,
        ..compact_config(1 << 20)
    };
    let mut log = open(dir.path(), config);
    let now = 100_000;
    let append = |log: &mut Log, records: &[Kv], ts: i64, producer: Option<ProducerFields>| {
        let mut bytes = keyed_batch(records, ts, Codec::Gzip, producer);
        log.append(&mut bytes, ts, 0).unwrap();
    };
    append(&mut log, &[kv("a", Some("1"))], now - 10, Some((7, 0, 0)));
    append(
        &mut log,
        &[kv("b", Some("1")), kv("b", Some("1b"))],
        now - 10,
        Some((7, 0, 1)),
    );
    append(
        &mut log,
        &[kv("c", Some("1"))],
        now - 5_000,
        Some((9, 0, 0)),
    );
    append(
        &mut log,
        &[kv("a", Some("2")), kv("b", Some("2")), kv("c", Some("2"))],
        now,
        None,
    );
    log.roll(now).unwrap();
    append(&mut log, &[kv("z", Some("1"))], now, None);
    let stats = log.clean(now, &settings()).unwrap().unwrap();
    assert_eq!(stats.empty_batches_kept, 1);
    let batches = disk_batches(dir.path());
    let summary: Vec<_> = batches
        .iter()
        .map(|h| {
            (
                h.base_offset,
                h.last_offset(),
                h.records_count,
                h.producer_id,
            )
        })
        .collect();
    // Producer 7's first batch goes; its last one stays, empty, with its sequence fields;
    // producer 9 expired, so its only batch goes.
    assert_eq!(summary, vec![(1, 2, 0, 7), (4, 6, 3, -1), (7, 7, 1, -1)]);
    let kept = batches[0];
    assert_eq!(
        (kept.producer_epoch, kept.base_sequence, kept.compression()),
        (0, 1, 0)
    );
    // Fetching from offset 0 skips the empty batch.
    let read = log.read(0, 1 << 20, true).unwrap().unwrap();
    assert_eq!(read.first_offset, 4);
}

#[test]
fn reads_skip_empty_batches_left_at_a_segment_end() {
    let dir = tempfile::tempdir().unwrap();
    // Segments too large to share a group: each is cleaned on its own and keeps its last batch.
    let mut log = open(dir.path(), compact_config(1_000));
    let value = "v".repeat(300);
    let append = |log: &mut Log, key: &str| {
        let mut bytes = keyed_batch(&[kv(key, Some(&value))], 0, Codec::None, None);
        log.append(&mut bytes, 0, 0).unwrap().base_offset
    };
    append(&mut log, "a");
    let superseded = append(&mut log, "b");
    log.roll(0).unwrap();
    let newer = append(&mut log, "b");
    append(&mut log, "c");
    log.roll(0).unwrap();
    append(&mut log, "d");
    log.clean(0, &settings()).unwrap().unwrap();
    let empty = disk_batches(dir.path())
        .into_iter()
        .find(|h| h.base_offset == superseded)
        .expect("the first segment keeps its last batch");
    assert_eq!(empty.records_count, 0);
    let read = log.read(superseded, 1 << 20, true).unwrap().unwrap();
    assert_eq!(read.first_offset, newer);
    // Segments stay contiguous: a recovery scan of everything keeps every segment.
    let bases = log.segment_base_offsets();
    drop(log);
    let log = Log::open(dir.path(), compact_config(1_000), OpenOptions::default()).unwrap();
    assert_eq!(log.segment_base_offsets(), bases);
}

#[test]
fn segments_younger_than_the_compaction_lag_are_not_cleaned() {
    let dir = tempfile::tempdir().unwrap();
    let config = LogConfig {
        min_compaction_lag_ms: 10_000,
        ..compact_config(1 << 20)
    };
    let mut log = open(dir.path(), config);
    let append = |log: &mut Log, key: &str, ts: i64| {
        let mut bytes = keyed_batch(&[kv(key, Some("value"))], ts, Codec::None, None);
        log.append(&mut bytes, ts, 0).unwrap();
    };
    for _ in 0..10 {
        append(&mut log, "a", 0);
    }
    log.roll(0).unwrap();
    let young = log.log_end_offset();
    for _ in 0..10 {
        append(&mut log, "a", 100_000);
    }
    log.roll(0).unwrap();
    append(&mut log, "z", 100_000);
    // The second segment's records are younger than the lag at 105 s: only the first goes.
    assert_eq!(
        log.cleanable(105_000).unwrap().first_uncleanable_offset,
        young
    );
    let stats = log.clean(105_000, &settings()).unwrap().unwrap();
    assert_eq!(stats.end_offset, young);
    let records = log_records(&log);
    assert_eq!(records.iter().filter(|r| r.offset < young).count(), 1);
    assert_eq!(records.iter().filter(|r| r.offset >= young).count(), 11);
    // Old enough later on.
    let stats = log.clean(200_000, &settings()).unwrap().unwrap();
    assert_eq!(stats.end_offset, active_base(&log));
    assert_eq!(log_records(&log).len(), 2);
}

#[test]
fn a_clean_runs_only_above_the_dirty_ratio() {
    let dir = tempfile::tempdir().unwrap();
    let config = LogConfig {
        min_cleanable_dirty_ratio: 0.5,
        ..compact_config(1 << 20)
    };
    let mut log = open(dir.path(), config);
    let append = |log: &mut Log, key: &str| {
        let mut bytes = keyed_batch(&[kv(key, Some("value"))], 0, Codec::None, None);
        log.append(&mut bytes, 0, 0).unwrap();
    };
    for k in 0..10 {
        append(&mut log, &format!("k{k}"));
    }
    log.roll(0).unwrap();
    append(&mut log, "z");
    assert!(
        log.clean(0, &settings()).unwrap().is_some(),
        "all dirty: ratio 1"
    );
    // Two dirty batches against ten clean ones: below 0.5.
    append(&mut log, "k0");
    log.roll(0).unwrap();
    append(&mut log, "z");
    let range = log.cleanable(0).unwrap();
    assert!(range.ratio() < 0.5, "{range:?}");
    assert!(log.clean(0, &settings()).unwrap().is_none());
    // Thirteen against ten: above.
    for k in 0..10 {
        append(&mut log, &format!("k{k}"));
    }
    log.roll(0).unwrap();
    append(&mut log, "z");
    let range = log.cleanable(0).unwrap();
    assert!(range.ratio() > 0.5, "{range:?}");
    let before = log_records(&log);
    log.clean(0, &settings()).unwrap().unwrap();
    assert_eq!(
        log_records(&log),
        compacted(&before, active_base(&log), false)
    );
}

#[test]
fn compacted_logs_refuse_records_without_a_key() {
    for codec in [Codec::None, Codec::Zstd] {
        let dir = tempfile::tempdir().unwrap();
        let mut log = open(dir.path(), compact_config(1 << 20));
        let mut good = keyed_batch(&[kv("a", Some("1"))], 0, codec, None);
        let mut bad = keyed_batch(
            &[kv("a", Some("1")), (None, Some(b"v".to_vec()))],
            0,
            codec,
            None,
        );
        let mut both = good.clone();
        both.extend_from_slice(&bad);
        let err = log.append(&mut both, 0, 0).unwrap_err();
        assert_eq!(err.code(), "INVALID_RECORD", "{codec:?}");
        assert!(err.to_string().contains("#1"), "{err}");
        assert!(err.to_string().contains("without a key"), "{err}");
        assert_eq!(log.log_end_offset(), 0, "nothing of the append was written");
        log.append(&mut good, 0, 0).unwrap();
        // A delete-policy log takes them.
        let mut config = compact_config(1 << 20);
        config.cleanup_policy = CleanupPolicy::DELETE;
        log.update_config(config).unwrap();
        log.append(&mut bad, 0, 0).unwrap();
    }
}

#[test]
fn the_cleaner_drops_keyless_records_written_before_the_log_was_compacted() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = compact_config(1 << 20);
    config.cleanup_policy = CleanupPolicy::DELETE;
    let mut log = open(dir.path(), config.clone());
    let mut bytes = keyed_batch(
        &[(None, Some(b"x".to_vec())), kv("a", Some("1"))],
        0,
        Codec::None,
        None,
    );
    log.append(&mut bytes, 0, 0).unwrap();
    config.cleanup_policy = CleanupPolicy::parse("compact").unwrap();
    log.update_config(config).unwrap();
    log.roll(0).unwrap();
    let mut bytes = keyed_batch(&[kv("b", Some("1"))], 0, Codec::None, None);
    log.append(&mut bytes, 0, 0).unwrap();
    log.clean(0, &settings()).unwrap().unwrap();
    let offsets: Vec<i64> = log_records(&log).iter().map(|r| r.offset).collect();
    assert_eq!(offsets, vec![1, 2]);
}

#[test]
fn compact_only_logs_skip_time_and_size_retention() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = LogConfig {
        retention_ms: 1,
        retention_bytes: 1,
        ..compact_config(1 << 20)
    };
    let mut log = open(dir.path(), config.clone());
    for _ in 0..3 {
        let mut bytes = keyed_batch(&[kv("a", Some("1"))], 0, Codec::None, None);
        log.append(&mut bytes, 0, 0).unwrap();
        log.roll(0).unwrap();
    }
    assert_eq!(log.enforce_retention(1_000_000).unwrap(), 0);
    assert_eq!(log.segment_count(), 4);
    config.cleanup_policy = CleanupPolicy::parse("compact,delete").unwrap();
    log.update_config(config).unwrap();
    assert_eq!(log.enforce_retention(1_000_000).unwrap(), 3);
}

#[test]
fn groups_whose_segments_changed_after_the_plan_are_not_swapped_in() {
    let dir = tempfile::tempdir().unwrap();
    let mut log = open(dir.path(), compact_config(2048));
    append_overwrites(&mut log, 200, 10, 3, Codec::None, 0);
    let bases = log.segment_base_offsets();
    let job = log.plan_clean(0, &settings()).unwrap().unwrap();
    assert!(log.is_cleaning());
    assert!(
        log.plan_clean(0, &settings()).unwrap().is_none(),
        "one clean at a time"
    );
    let outcome = job.run();
    // DeleteRecords past the first two segments deletes them before the swap.
    log.delete_records_before(bases[2]).unwrap();
    let before = log_records(&log);
    let stats = log.apply_clean(outcome).unwrap().unwrap();
    assert!(stats.groups_skipped >= 1, "{stats:?}");
    assert_eq!(
        log.first_dirty_offset(),
        bases[2],
        "not advanced past a skipped group"
    );
    let first_uncleanable = active_base(&log);
    assert_valid_compaction(
        &log_records(&log),
        &before,
        &compacted(&before, first_uncleanable, false),
    );
    assert!(std::fs::read_dir(dir.path()).unwrap().all(|e| {
        !e.unwrap()
            .file_name()
            .to_string_lossy()
            .ends_with(".cleaned")
    }));
    // The next clean does it all.
    log.clean(0, &settings()).unwrap().unwrap();
    assert_eq!(
        log_records(&log),
        compacted(&before, first_uncleanable, false)
    );
}

#[test]
fn truncation_and_close_abort_a_running_clean() {
    let dir = tempfile::tempdir().unwrap();
    let mut log = open(dir.path(), compact_config(2048));
    append_overwrites(&mut log, 200, 10, 3, Codec::None, 0);
    let before = log_records(&log);
    let job = log.plan_clean(0, &settings()).unwrap().unwrap();
    log.truncate_to(log.log_end_offset() - 5).unwrap();
    assert!(
        log.apply_clean(job.run()).unwrap().is_none(),
        "an aborted clean applies nothing"
    );
    let now = log_records(&log);
    assert_eq!(now[..], before[..now.len()]);
    let job = log.plan_clean(0, &settings()).unwrap().unwrap();
    log.close().unwrap();
    let outcome = job.run();
    assert_eq!(log.apply_clean(outcome).unwrap(), None);
    assert!(std::fs::read_dir(dir.path()).unwrap().all(|e| {
        !e.unwrap()
            .file_name()
            .to_string_lossy()
            .ends_with(".cleaned")
    }));
}

#[test]
fn a_dropped_job_does_not_block_later_cleans() {
    let dir = tempfile::tempdir().unwrap();
    let mut log = open(dir.path(), compact_config(2048));
    append_overwrites(&mut log, 100, 10, 3, Codec::None, 0);
    drop(log.plan_clean(0, &settings()).unwrap().unwrap());
    assert!(!log.is_cleaning());
    assert!(log.clean(0, &settings()).unwrap().is_some());
}
