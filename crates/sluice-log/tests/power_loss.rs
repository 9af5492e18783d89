//! Power loss, randomized: a seeded workload of appends (across rolls), flushes and an optional
//! torn write, then a simulated power loss (`FaultyStorage::power_loss`: unsynced bytes dropped,
//! zero-filled, or scrambled page by page with torn ends and lost directory entries), then
//! recovery. Recovery must yield a valid log that holds every batch flushed before the power
//! went, is a prefix of what was appended (byte for byte, no gaps, nothing invented), is itself
//! durable, and takes appends again. Several power losses per case; both append modes.
//!
//! A failure prints its seed; `SLUICE_POWER_LOSS_SEED=<n>` runs that case alone.

mod common;

use std::sync::Arc;

use common::*;
use sluice_log::fault::{Fault, FaultyStorage, Op, PowerLoss};
use sluice_log::{AppendMode, Log, LogConfig, OpenOptions};

/// Cases per append mode in `cargo test`; each one runs `ROUNDS` power losses.
const CASES: u64 = 48;
const ROUNDS: usize = 3;

/// splitmix64, for the workload (the storage has its own for the scramble).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `[lo, hi]`.
    fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next() % (hi - lo + 1)
    }

    /// True with probability `percent`/100.
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

fn config(mode: AppendMode) -> LogConfig {
    LogConfig {
        segment_bytes: 16 * 1024,
        index_interval_bytes: 256,
        preallocate_step_bytes: 4096,
        retention_ms: -1,
        append_mode: mode,
        ..LogConfig::default()
    }
}

/// What the model knows: every batch appended so far, in offset order, and how far the log
/// was flushed (every batch below `durable_end` must survive any power loss).
struct Model {
    appended: Vec<Stored>,
    durable_end: i64,
}

impl Model {
    fn end(&self) -> i64 {
        self.appended.last().map_or(0, |s| s.last_offset() + 1)
    }
}

/// The recovered log is exactly the first k appended batches for some k with every flushed
/// batch among them, byte for byte; the model is cut back to it.
fn check_recovered(log: &Log, model: &mut Model, context: &str) {
    let end = log.log_end_offset();
    assert!(
        end >= model.durable_end,
        "{context}: lost flushed data: log end {end} < flushed end {}",
        model.durable_end
    );
    let kept = model
        .appended
        .iter()
        .position(|s| s.base_offset >= end)
        .unwrap_or(model.appended.len());
    assert_eq!(
        model.appended[..kept]
            .last()
            .map_or(0, |s| s.last_offset() + 1),
        end,
        "{context}: the log ends inside a batch or past what was appended"
    );
    // Walk the log from the start: whole batches, back to back, equal to what was appended.
    let mut offset = 0;
    let mut index = 0;
    while offset < end {
        let read = log
            .read(offset, 64 * 1024, true)
            .unwrap_or_else(|e| panic!("{context}: read at {offset}: {e}"))
            .unwrap_or_else(|| panic!("{context}: nothing at {offset} below the end {end}"));
        assert_eq!(
            read.first_offset, offset,
            "{context}: read starts elsewhere"
        );
        let bytes = range_bytes(&read.range);
        let mut at = 0;
        while at < bytes.len() {
            let expected = &model.appended[index];
            let n = expected.bytes.len();
            assert_eq!(
                &bytes[at..at + n],
                &expected.bytes[..],
                "{context}: batch at offset {} differs",
                expected.base_offset
            );
            at += n;
            offset = expected.last_offset() + 1;
            index += 1;
        }
    }
    assert_eq!(index, kept, "{context}: batch count");
    assert_eq!(
        log.recovery_point(),
        end,
        "{context}: recovered data is synced before open returns"
    );
    model.appended.truncate(kept);
    model.durable_end = end;
}

/// One random stretch of work on an open log; may end in a torn write (the process dies
/// mid-append). Returns the recovery point the broker would have checkpointed.
fn work(log: &mut Log, storage: &FaultyStorage, model: &mut Model, rng: &mut Rng) -> i64 {
    let steps = rng.range(5, 120);
    for _ in 0..steps {
        let count = rng.range(1, 5) as usize;
        let value_len = rng.range(1, 700) as usize;
        let ts = rng.range(0, 1_000_000) as i64;
        let mut bytes = build_batch(&BatchSpec::records(count, ts, value_len), rng.next() as u8);
        let result = log.append(&mut bytes, ts, 0).expect("append");
        assert_eq!(result.base_offset, model.end());
        model.appended.push(Stored {
            base_offset: result.base_offset,
            count: count as i64,
            bytes,
        });
        if rng.chance(8) {
            log.flush().expect("flush");
            model.durable_end = model.end();
        }
        if rng.chance(2) {
            log.roll(ts).expect("roll");
        }
    }
    if rng.chance(40) {
        let mut bytes = build_batch(&BatchSpec::records(3, 7, 900), 0x5A);
        let keep = rng.range(0, bytes.len() as u64 - 1) as usize;
        storage.fail_next(Op::Write, Fault::TornWrite { keep });
        let err = log.append(&mut bytes, 7, 0).unwrap_err();
        assert_eq!(err.code(), "KAFKA_STORAGE_ERROR");
    }
    log.recovery_point()
}

fn power_loss_case(mode: AppendMode, seed: u64) {
    let dir = tempfile::tempdir().unwrap();
    let mut rng = Rng(seed);
    let storage = Arc::new(FaultyStorage::new());
    let mut model = Model {
        appended: Vec::new(),
        durable_end: 0,
    };
    let mut log = Log::open_with_storage(
        dir.path(),
        config(mode),
        OpenOptions::default(),
        storage.clone(),
    )
    .unwrap();
    for round in 0..ROUNDS {
        let recovery_point = work(&mut log, &storage, &mut model, &mut rng);
        drop(log); // the power goes: no seal, no trim, no flush
        let loss = match rng.range(0, 3) {
            0 => PowerLoss::DropUnsynced,
            1 => PowerLoss::ZeroFillUnsynced,
            _ => PowerLoss::Scramble { seed: rng.next() },
        };
        storage.power_loss(loss).unwrap();
        let context = format!("{mode:?} seed {seed} round {round} {loss:?}");
        let options = OpenOptions {
            clean_shutdown: false,
            recovery_point,
            log_start_offset: 0,
        };
        log = Log::open_with_storage(dir.path(), config(mode), options, storage.clone())
            .unwrap_or_else(|e| panic!("{context}: recovery failed: {e}"));
        check_recovered(&log, &mut model, &context);
        // The recovered log takes appends at its end.
        let mut bytes = simple_batch(2, 0, 30);
        let result = log.append(&mut bytes, 0, 0).unwrap();
        assert_eq!(result.base_offset, model.end(), "{context}: next offset");
        model.appended.push(Stored {
            base_offset: result.base_offset,
            count: 2,
            bytes,
        });
    }
}

fn seeds() -> Vec<u64> {
    match std::env::var("SLUICE_POWER_LOSS_SEED") {
        Ok(seed) => vec![seed.parse().expect("SLUICE_POWER_LOSS_SEED is a number")],
        Err(_) => (1..=CASES).collect(),
    }
}

for_each_mode!(
    every_flushed_batch_survives_power_loss,
    |mode: AppendMode| {
        for seed in seeds() {
            power_loss_case(mode, seed);
        }
    }
);

#[test]
fn scramble_keeps_durable_bytes_and_may_drop_new_files() {
    // The model itself: synced bytes are untouchable; a file whose directory entry was never
    // fsync'd can vanish, one whose directory was fsync'd cannot.
    let dir = tempfile::tempdir().unwrap();
    let storage = FaultyStorage::new();
    use sluice_log::storage::Storage;
    let synced = storage.open(&dir.path().join("synced"), true).unwrap();
    storage.write_at(&synced, &[7u8; 10_000], 0).unwrap();
    storage.sync_data(&synced, 5_000).unwrap();
    storage.sync_dir(dir.path()).unwrap();
    let mut vanished = 0;
    for seed in 0..32 {
        let fresh = dir.path().join(format!("fresh-{seed}"));
        storage.open(&fresh, true).unwrap();
        storage.power_loss(PowerLoss::Scramble { seed }).unwrap();
        let bytes = std::fs::read(dir.path().join("synced")).unwrap();
        assert!(bytes.len() >= 5_000);
        assert!(
            bytes[..5_000].iter().all(|&b| b == 7),
            "durable bytes survive"
        );
        if !fresh.exists() {
            vanished += 1;
        }
    }
    assert!(
        vanished > 0 && vanished < 32,
        "unsynced entries vanish sometimes"
    );
}

/// A flush at exactly a segment boundary (recovery point = the next segment's base), then a roll
/// and a flush: the sealed segment's trim and indexes must be synced too, or a power loss leaves
/// it zero-filled past its data and retention sees garbage timestamps.
#[test]
fn a_segment_sealed_after_a_boundary_flush_is_synced_by_the_next_flush() {
    fn run(power_loss: bool) -> (usize, i64) {
        let config = LogConfig {
            segment_bytes: 400,
            retention_ms: 7 * 24 * 3600 * 1000,
            append_mode: AppendMode::Mmap,
            preallocate_step_bytes: 4096,
            ..LogConfig::default()
        };
        let dir = tempfile::tempdir().unwrap();
        let now = 1_700_000_000_000i64;
        let storage = Arc::new(FaultyStorage::new());
        let mut log = Log::open_with_storage(
            dir.path(),
            config.clone(),
            OpenOptions::default(),
            storage.clone(),
        )
        .unwrap();
        log.append(&mut simple_batch(1, now - 1000, 100), now, 0)
            .unwrap();
        log.append(&mut simple_batch(1, now, 100), now, 0).unwrap();
        log.flush().unwrap();
        let third = log.append(&mut simple_batch(1, now, 100), now, 0).unwrap();
        assert!(
            third.rolled,
            "the third batch rolls at the flushed boundary"
        );
        log.flush().unwrap();
        let recovery_point = log.recovery_point();
        drop(log);
        if power_loss {
            storage.power_loss(PowerLoss::ZeroFillUnsynced).unwrap();
        }
        let options = OpenOptions {
            clean_shutdown: false,
            recovery_point,
            log_start_offset: 0,
        };
        let mut log = Log::open(dir.path(), config, options).unwrap();
        let deleted = log.enforce_retention(now).unwrap();
        (deleted, log.log_start_offset())
    }
    assert_eq!(
        run(true),
        run(false),
        "retention deleted flushed, one-second-old data after a power loss"
    );
}
