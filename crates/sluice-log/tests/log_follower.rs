//! `Log::append_as_follower`: a follower stores its leader's batches byte for byte at their own
//! offsets — a cleaned (compacted) leader log, with gaps between and inside batches, is mirrored
//! exactly, through rolls and a reopen; transaction markers rebuild the producer state and the
//! transaction index; batches whose offsets do not increase, or that are corrupt, are refused
//! with nothing written.

mod common;
mod compaction_support;

use common::*;
use compaction_support::*;
use sluice_log::records::batch::BatchHeader;
use sluice_log::records::codec::Codec;
use sluice_log::{AppendMode, CleanerSettings, Log, LogConfig, OpenOptions};

/// The leader's bytes from `from` to its end, as a follower fetches them: whole batches, at most
/// `max_bytes` a read.
fn fetches(leader: &Log, from: i64, max_bytes: u64) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut offset = from;
    while offset < leader.log_end_offset() {
        let Some(read) = leader.read(offset, max_bytes, true).unwrap() else {
            break;
        };
        let bytes = range_bytes(&read.range);
        let mut position = 0;
        while position < bytes.len() {
            let header = BatchHeader::parse(&bytes[position..]);
            offset = header.last_offset() + 1;
            position += header.size() as usize;
        }
        out.push(bytes);
    }
    out
}

fn replicate(leader: &Log, follower: &mut Log, max_bytes: u64) {
    for bytes in fetches(leader, follower.log_end_offset(), max_bytes) {
        follower.append_as_follower(&bytes, 0).unwrap();
    }
}

/// Every batch's bytes in offset order (headers included: epochs, CRCs, offsets).
fn all_bytes(log: &Log) -> Vec<u8> {
    fetches(log, log.log_start_offset(), 1 << 20).concat()
}

fn cleaned_leader(dir: &std::path::Path, mode: AppendMode) -> Log {
    let config = LogConfig {
        append_mode: mode,
        ..compact_config(4096)
    };
    let mut leader = open(dir, config);
    append_overwrites(&mut leader, 300, 12, 4, Codec::None, 1_000);
    leader
        .clean(10_000, &CleanerSettings::default())
        .unwrap()
        .expect("a dirty log is cleaned");
    leader
}

/// The offsets the log serves skip some: compaction removed records.
fn has_gaps(log: &Log) -> bool {
    let records = log_records(log);
    records.windows(2).any(|w| w[1].offset != w[0].offset + 1)
}

for_each_mode!(
    a_compacted_leader_log_is_mirrored_with_its_gaps,
    |mode: AppendMode| {
        let leader_dir = tempfile::tempdir().unwrap();
        let leader = cleaned_leader(leader_dir.path(), mode);
        assert!(has_gaps(&leader), "the cleaner left offset gaps");

        let follower_dir = tempfile::tempdir().unwrap();
        // Smaller segments than the leader's: the follower rolls where the leader did not.
        let config = LogConfig {
            append_mode: mode,
            ..compact_config(1024)
        };
        let mut follower = open(follower_dir.path(), config.clone());
        // Small fetches: many appends, several rolls.
        replicate(&leader, &mut follower, 700);
        assert_eq!(follower.log_end_offset(), leader.log_end_offset());
        assert_eq!(log_records(&follower), log_records(&leader));
        assert_eq!(all_bytes(&follower), all_bytes(&leader), "byte for byte");
        assert!(follower.segment_count() > 1, "the follower rolled");

        // Unclean reopen: recovery scans the segments with gaps inside them and keeps them all.
        drop(follower);
        let reopened = Log::open(
            follower_dir.path(),
            config,
            OpenOptions {
                clean_shutdown: false,
                recovery_point: 0,
                log_start_offset: 0,
            },
        )
        .unwrap();
        assert_eq!(reopened.log_end_offset(), leader.log_end_offset());
        assert_eq!(log_records(&reopened), log_records(&leader));
    }
);

#[test]
fn the_leader_appends_on_after_a_mirrored_gap() {
    let leader_dir = tempfile::tempdir().unwrap();
    let leader = cleaned_leader(leader_dir.path(), AppendMode::Pwrite);
    let follower_dir = tempfile::tempdir().unwrap();
    let mut follower = open(follower_dir.path(), compact_config(4096));
    replicate(&leader, &mut follower, 1 << 20);
    // The follower becomes leader: its own appends continue at the log end.
    let end = follower.log_end_offset();
    let mut batch = keyed_batch(&[kv("k", Some("v"))], 5_000, Codec::None, None);
    assert_eq!(
        follower.append(&mut batch, 5_000, 1).unwrap().base_offset,
        end
    );
}

#[test]
fn offsets_must_increase_and_nothing_is_written_on_refusal() {
    let leader_dir = tempfile::tempdir().unwrap();
    let leader = cleaned_leader(leader_dir.path(), AppendMode::Pwrite);
    let bytes = all_bytes(&leader);
    let follower_dir = tempfile::tempdir().unwrap();
    let mut follower = open(follower_dir.path(), compact_config(1 << 20));
    follower.append_as_follower(&bytes, 0).unwrap();
    let end = follower.log_end_offset();

    // Again from the start: below the log end.
    let err = follower.append_as_follower(&bytes, 0).unwrap_err();
    assert_eq!(err.code(), "INVALID_RECORD");
    assert!(err.to_string().contains("must increase"), "{err}");

    // Two batches out of order inside one append: the first is fine, the whole append refused.
    let mut a = keyed_batch(&[kv("a", Some("1"))], 1, Codec::None, None);
    let mut b = keyed_batch(&[kv("b", Some("2"))], 1, Codec::None, None);
    a[..8].copy_from_slice(&(end + 10).to_be_bytes());
    b[..8].copy_from_slice(&(end + 5).to_be_bytes());
    let out_of_order = [a.clone(), b].concat();
    assert_eq!(
        follower
            .append_as_follower(&out_of_order, 0)
            .unwrap_err()
            .code(),
        "INVALID_RECORD"
    );
    assert_eq!(follower.log_end_offset(), end, "nothing written");

    // A corrupt CRC.
    let mut corrupt = a.clone();
    let last = corrupt.len() - 1;
    corrupt[last] ^= 0xff;
    assert_eq!(
        follower.append_as_follower(&corrupt, 0).unwrap_err().code(),
        "CORRUPT_MESSAGE"
    );
    assert_eq!(follower.log_end_offset(), end);

    // A gap of 10 offsets is fine; the log end follows the batch.
    let appended = follower.append_as_follower(&a, 0).unwrap();
    assert_eq!(
        (appended.base_offset, appended.last_offset),
        (end + 10, end + 10)
    );
    assert_eq!(follower.log_end_offset(), end + 11);
}

/// A transactional producer's batches, an ABORT and a COMMIT on the leader; the follower's
/// producer state and transaction index say the same.
#[test]
fn markers_rebuild_transactions_and_the_index() {
    let leader_dir = tempfile::tempdir().unwrap();
    let mut leader = open(leader_dir.path(), small_config(AppendMode::Pwrite));
    let txn_batch = |producer_id: i64, sequence: i32| {
        let mut batch = keyed_batch(
            &[kv("k", Some("v")), kv("l", Some("w"))],
            1_000,
            Codec::None,
            Some((producer_id, 0, sequence)),
        );
        let attributes = i16::from_be_bytes([batch[21], batch[22]]) | 0x10;
        batch[21..23].copy_from_slice(&attributes.to_be_bytes());
        fix_crc(&mut batch);
        batch
    };
    leader.append(&mut txn_batch(7, 0), 1_000, 3).unwrap();
    leader.append(&mut txn_batch(8, 0), 1_000, 3).unwrap();
    leader.append_marker(7, 0, 0, false, 1_001, 3).unwrap();
    leader.append(&mut txn_batch(8, 2), 1_000, 3).unwrap();
    assert_eq!(leader.first_unstable_offset(), Some(2));

    let follower_dir = tempfile::tempdir().unwrap();
    let mut follower = open(follower_dir.path(), small_config(AppendMode::Pwrite));
    replicate(&leader, &mut follower, 1 << 20);
    assert_eq!(follower.first_unstable_offset(), Some(2));
    assert_eq!(
        follower.aborted_transactions(0, 10).unwrap(),
        leader.aborted_transactions(0, 10).unwrap()
    );

    leader.append_marker(8, 0, 0, true, 1_002, 3).unwrap();
    replicate(&leader, &mut follower, 1 << 20);
    assert_eq!(follower.first_unstable_offset(), None);
    assert_eq!(all_bytes(&follower), all_bytes(&leader));
    let entry = follower.producer_state().entry(8).unwrap();
    assert_eq!(entry.last_sequence(), 3);
    assert_eq!(entry.txn_first_offset(), None);
}
