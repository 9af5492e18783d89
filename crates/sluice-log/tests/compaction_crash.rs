//! Crashes during a clean: at every file operation of the segment swap (each rename, unlink,
//! directory fsync, open and read of `apply_clean`), during the job's writes, and between the
//! job and the swap — each followed by a power loss that may undo what was not yet fsync'd. The
//! reopened log must hold a valid state of the same content (each record the original at its
//! offset, nothing a full compaction keeps missing, the latest value per key and the log end
//! unchanged), with no `.cleaned` or `.swap` file left, and a clean from there must reach exactly
//! what an uninterrupted clean reaches.

mod common;
mod compaction_support;

use std::path::Path;
use std::sync::Arc;

use compaction_support::*;
use sluice_log::fault::{Fault, FaultyStorage, Op, PowerLoss};
use sluice_log::records::codec::Codec;
use sluice_log::{CleanerSettings, Log, LogConfig, OpenOptions};

struct Template {
    dir: tempfile::TempDir,
    config: LogConfig,
    before: Vec<Stored>,
    cleaned: Vec<Stored>,
    end: i64,
}

fn copy_dir(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
    }
}

fn clean_shutdown() -> OpenOptions {
    OpenOptions {
        clean_shutdown: true,
        ..OpenOptions::default()
    }
}

/// A compacted log whose next clean both merges already-cleaned segments and cleans new ones,
/// closed cleanly; and what that clean leaves.
fn template() -> Template {
    let dir = tempfile::tempdir().unwrap();
    let config = compact_config(2048);
    let mut log = Log::open(dir.path(), config.clone(), OpenOptions::default()).unwrap();
    append_overwrites(&mut log, 120, 12, 3, Codec::Lz4, 0);
    log.clean(0, &CleanerSettings::default()).unwrap().unwrap();
    append_overwrites(&mut log, 60, 12, 3, Codec::None, 1_000);
    let before = log_records(&log);
    let end = log.log_end_offset();
    log.close().unwrap();

    let reference = tempfile::tempdir().unwrap();
    copy_dir(dir.path(), reference.path());
    let mut log = Log::open(reference.path(), config.clone(), clean_shutdown()).unwrap();
    let stats = log.clean(0, &CleanerSettings::default()).unwrap().unwrap();
    assert!(stats.segments_written >= 2, "{stats:?}");
    assert!(
        stats.segments_cleaned > stats.segments_written,
        "some group merges: {stats:?}"
    );
    let cleaned = log_records(&log);
    Template {
        dir,
        config,
        before,
        cleaned,
        end,
    }
}

fn leftovers(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".cleaned") || n.ends_with(".swap"))
        .collect()
}

/// Reopens after the crash (full recovery) and checks the state, then that a clean from there
/// converges.
fn check_recovered(t: &Template, dir: &Path, case: &str) {
    let mut log = Log::open(dir, t.config.clone(), OpenOptions::default())
        .unwrap_or_else(|e| panic!("{case}: reopen failed: {e}"));
    assert!(leftovers(dir).is_empty(), "{case}: {:?}", leftovers(dir));
    assert_eq!(log.log_end_offset(), t.end, "{case}");
    let now = log_records(&log);
    assert_valid_compaction(&now, &t.before, &t.cleaned);
    assert!(
        now == t.before || now == t.cleaned || now.len() < t.before.len(),
        "{case}"
    );
    log.clean(0, &CleanerSettings::default()).unwrap();
    assert_eq!(
        log_records(&log),
        t.cleaned,
        "{case}: a later clean converges"
    );
}

fn power_loss(storage: &FaultyStorage, seed: u64) {
    let mode = if seed.is_multiple_of(3) {
        PowerLoss::DropUnsynced
    } else {
        PowerLoss::Scramble { seed }
    };
    storage.power_loss(mode).unwrap();
}

const SWAP_OPS: [Op; 5] = [Op::Rename, Op::Remove, Op::SyncDir, Op::Open, Op::Read];

#[test]
fn a_crash_at_any_step_of_the_swap_recovers_to_the_same_content() {
    let t = template();
    // How many operations of each kind the swap makes.
    let counting = tempfile::tempdir().unwrap();
    copy_dir(t.dir.path(), counting.path());
    let storage = Arc::new(FaultyStorage::new());
    let mut log = Log::open_with_storage(
        counting.path(),
        t.config.clone(),
        clean_shutdown(),
        storage.clone(),
    )
    .unwrap();
    let outcome = log
        .plan_clean(0, &CleanerSettings::default())
        .unwrap()
        .unwrap()
        .run();
    let before: Vec<u64> = SWAP_OPS.iter().map(|&op| storage.calls(op)).collect();
    log.apply_clean(outcome).unwrap().unwrap();
    let counts: Vec<u64> = SWAP_OPS
        .iter()
        .zip(&before)
        .map(|(&op, b)| storage.calls(op) - b)
        .collect();
    assert!(
        counts[0] >= 12 && counts[1] >= 6 && counts[2] >= 6,
        "{counts:?}"
    );
    drop(log);

    let mut cases = 0;
    for (&op, &count) in SWAP_OPS.iter().zip(&counts) {
        // Reads while loading the new segment: the first few are enough.
        let count = if op == Op::Read { count.min(6) } else { count };
        for skip in 0..count {
            let case = format!("crash before {op:?} #{skip}");
            let dir = tempfile::tempdir().unwrap();
            copy_dir(t.dir.path(), dir.path());
            let storage = Arc::new(FaultyStorage::new());
            let mut log = Log::open_with_storage(
                dir.path(),
                t.config.clone(),
                clean_shutdown(),
                storage.clone(),
            )
            .unwrap();
            let outcome = log
                .plan_clean(0, &CleanerSettings::default())
                .unwrap()
                .unwrap()
                .run();
            storage.fail_nth(op, skip as u32, Fault::Crash);
            let err = log.apply_clean(outcome).expect_err(&case);
            assert_eq!(err.code(), "KAFKA_STORAGE_ERROR", "{case}: {err}");
            drop(log);
            power_loss(&storage, skip + cases);
            check_recovered(&t, dir.path(), &case);
            cases += 1;
        }
    }
    assert!(cases >= 30, "{cases} crash points");
}

#[test]
fn a_crash_while_the_job_writes_leaves_the_old_segments() {
    let t = template();
    for skip in [0u32, 2, 4] {
        let case = format!("crash at job write #{skip}");
        let dir = tempfile::tempdir().unwrap();
        copy_dir(t.dir.path(), dir.path());
        let storage = Arc::new(FaultyStorage::new());
        let mut log = Log::open_with_storage(
            dir.path(),
            t.config.clone(),
            clean_shutdown(),
            storage.clone(),
        )
        .unwrap();
        let job = log
            .plan_clean(0, &CleanerSettings::default())
            .unwrap()
            .unwrap();
        storage.fail_nth(Op::Write, skip, Fault::Crash);
        let err = log.apply_clean(job.run()).expect_err(&case);
        assert_eq!(err.code(), "KAFKA_STORAGE_ERROR", "{case}");
        drop(log);
        power_loss(&storage, skip as u64);
        let log = Log::open(dir.path(), t.config.clone(), OpenOptions::default()).unwrap();
        assert!(leftovers(dir.path()).is_empty(), "{case}");
        assert_eq!(log_records(&log), t.before, "{case}");
        drop(log);
        check_recovered(&t, dir.path(), &case);
    }
}

#[test]
fn a_crash_between_the_job_and_the_swap_leaves_the_old_segments() {
    let t = template();
    for seed in 0..4 {
        let dir = tempfile::tempdir().unwrap();
        copy_dir(t.dir.path(), dir.path());
        let storage = Arc::new(FaultyStorage::new());
        let mut log = Log::open_with_storage(
            dir.path(),
            t.config.clone(),
            clean_shutdown(),
            storage.clone(),
        )
        .unwrap();
        let outcome = log
            .plan_clean(0, &CleanerSettings::default())
            .unwrap()
            .unwrap()
            .run();
        assert!(
            !leftovers(dir.path()).is_empty(),
            "the job wrote .cleaned files"
        );
        drop(outcome);
        drop(log);
        power_loss(&storage, seed);
        let log = Log::open(dir.path(), t.config.clone(), OpenOptions::default()).unwrap();
        assert!(leftovers(dir.path()).is_empty());
        assert_eq!(log_records(&log), t.before, "seed {seed}");
    }
}

#[test]
fn a_failed_swap_takes_the_log_offline_until_reopened() {
    let t = template();
    let dir = tempfile::tempdir().unwrap();
    copy_dir(t.dir.path(), dir.path());
    let storage = Arc::new(FaultyStorage::new());
    let mut log = Log::open_with_storage(
        dir.path(),
        t.config.clone(),
        clean_shutdown(),
        storage.clone(),
    )
    .unwrap();
    let outcome = log
        .plan_clean(0, &CleanerSettings::default())
        .unwrap()
        .unwrap()
        .run();
    // One failing unlink (EIO), not a crash: the process goes on.
    storage.fail_nth(Op::Remove, 1, Fault::Errno(libc::EIO));
    assert_eq!(
        log.apply_clean(outcome).unwrap_err().code(),
        "KAFKA_STORAGE_ERROR"
    );
    let err = log.read(0, 100, true).unwrap_err();
    assert_eq!(err.code(), "KAFKA_STORAGE_ERROR");
    assert!(err.to_string().contains("offline"), "{err}");
    let mut bytes = keyed_batch(&[kv("a", Some("1"))], 0, Codec::None, None);
    assert_eq!(
        log.append(&mut bytes, 0, 0).unwrap_err().code(),
        "KAFKA_STORAGE_ERROR"
    );
    drop(log);
    check_recovered(&t, dir.path(), "failed unlink");
}

#[test]
fn an_error_before_the_commit_point_leaves_the_log_usable() {
    let t = template();
    let dir = tempfile::tempdir().unwrap();
    copy_dir(t.dir.path(), dir.path());
    let storage = Arc::new(FaultyStorage::new());
    let mut log = Log::open_with_storage(
        dir.path(),
        t.config.clone(),
        clean_shutdown(),
        storage.clone(),
    )
    .unwrap();
    let outcome = log
        .plan_clean(0, &CleanerSettings::default())
        .unwrap()
        .unwrap()
        .run();
    // The second rename of the first group (its time index): before the log's .swap exists.
    storage.fail_nth(Op::Rename, 1, Fault::Errno(libc::EIO));
    assert_eq!(
        log.apply_clean(outcome).unwrap_err().code(),
        "KAFKA_STORAGE_ERROR"
    );
    assert_eq!(log_records(&log), t.before, "nothing was swapped");
    assert!(
        leftovers(dir.path()).is_empty(),
        "{:?}",
        leftovers(dir.path())
    );
    log.clean(0, &CleanerSettings::default()).unwrap().unwrap();
    assert_eq!(log_records(&log), t.cleaned);
}
