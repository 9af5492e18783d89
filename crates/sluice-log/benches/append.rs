//! Append throughput, mmap vs pwrite, side by side in one run, for 1 KiB, 16 KiB and 1 MiB
//! batches. Each cell appends `SLUICE_BENCH_MB` MiB (default 256) of valid RecordBatch v2 bytes
//! into a fresh log in a temp dir (so into new page-cache pages, rolling 1 GiB segments as the
//! broker would), best of 3. The baseline row is validation alone (CRC-32C over every batch),
//! the floor any append pays. Run: `cargo bench -p sluice-log --bench append`.

use std::time::{Duration, Instant};

use sluice_log::records::validate;
use sluice_log::{AppendMode, Log, LogConfig, OpenOptions};

const BATCH_SIZES: [(usize, &str); 3] =
    [(1 << 10, "1 KiB"), (16 << 10, "16 KiB"), (1 << 20, "1 MiB")];
const ROUNDS: usize = 3;

/// One uncompressed batch of exactly `size` bytes holding a single record (null key, no
/// headers).
fn batch_of(size: usize) -> Vec<u8> {
    let mut value_len = size - 61 - 12;
    loop {
        let b = build(value_len);
        match b.len().cmp(&size) {
            std::cmp::Ordering::Equal => return b,
            std::cmp::Ordering::Less => value_len += size - b.len(),
            std::cmp::Ordering::Greater => value_len -= b.len() - size,
        }
    }
}

fn build(value_len: usize) -> Vec<u8> {
    // Record body: attributes, timestampDelta 0, offsetDelta 0, key -1, value, 0 headers.
    let mut body = vec![0u8, 0, 0, 1];
    put_varint(&mut body, value_len as i64);
    body.extend((0..value_len).map(|i| (i * 7) as u8));
    body.push(0);
    let mut records = Vec::new();
    put_varint(&mut records, body.len() as i64);
    records.extend_from_slice(&body);
    let mut b = Vec::with_capacity(61 + records.len());
    b.extend_from_slice(&0i64.to_be_bytes());
    b.extend_from_slice(&((49 + records.len()) as i32).to_be_bytes());
    b.extend_from_slice(&(-1i32).to_be_bytes());
    b.push(2);
    b.extend_from_slice(&[0; 4]);
    b.extend_from_slice(&0i16.to_be_bytes());
    b.extend_from_slice(&0i32.to_be_bytes());
    b.extend_from_slice(&1_700_000_000_000i64.to_be_bytes());
    b.extend_from_slice(&1_700_000_000_000i64.to_be_bytes());
    b.extend_from_slice(&(-1i64).to_be_bytes());
    b.extend_from_slice(&(-1i16).to_be_bytes());
    b.extend_from_slice(&(-1i32).to_be_bytes());
    b.extend_from_slice(&1i32.to_be_bytes());
    b.extend_from_slice(&records);
    let crc = crc32c::crc32c(&b[21..]);
    b[17..21].copy_from_slice(&crc.to_be_bytes());
    validate::validate_append(&b, u64::MAX).expect("bench batch is valid");
    b
}

fn put_varint(out: &mut Vec<u8>, value: i64) {
    let mut v = ((value << 1) ^ (value >> 63)) as u64;
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn append_run(mode: AppendMode, batch: &[u8], total: usize) -> Duration {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = LogConfig {
        append_mode: mode,
        max_message_bytes: 2 << 20,
        ..LogConfig::default()
    };
    let mut log = Log::open(dir.path(), config, OpenOptions::default()).expect("open");
    let mut records = batch.to_vec();
    let count = total / batch.len();
    let start = Instant::now();
    for _ in 0..count {
        log.append(&mut records, 0, 0).expect("append");
    }
    let elapsed = start.elapsed();
    log.close().expect("close");
    elapsed
}

fn validate_run(batch: &[u8], total: usize) -> Duration {
    let count = total / batch.len();
    let start = Instant::now();
    for _ in 0..count {
        std::hint::black_box(
            validate::validate_append(std::hint::black_box(batch), u64::MAX).expect("valid"),
        );
    }
    start.elapsed()
}

fn best(run: impl Fn() -> Duration) -> Duration {
    (0..ROUNDS).map(|_| run()).min().expect("rounds > 0")
}

fn mb_per_s(bytes: usize, d: Duration) -> f64 {
    bytes as f64 / d.as_secs_f64() / 1e6
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` passes nothing: run a tiny pass then.
    let quick = !std::env::args().any(|a| a == "--bench");
    let mib: usize = std::env::var("SLUICE_BENCH_MB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(if quick { 4 } else { 256 });
    let total = mib << 20;
    println!(
        "append throughput, {mib} MiB per cell, best of {ROUNDS}, fresh log per run (MB/s = 10^6 bytes/s)"
    );
    println!(
        "{:>8} | {:>14} | {:>10} | {:>10} | {:>12}",
        "batch", "validate only", "mmap", "pwrite", "mmap/pwrite"
    );
    for (size, label) in BATCH_SIZES {
        let batch = batch_of(size);
        let bytes = total / size * size;
        let validate = mb_per_s(bytes, best(|| validate_run(&batch, total)));
        let mmap = mb_per_s(bytes, best(|| append_run(AppendMode::Mmap, &batch, total)));
        let pwrite = mb_per_s(
            bytes,
            best(|| append_run(AppendMode::Pwrite, &batch, total)),
        );
        println!(
            "{label:>8} | {validate:>14.0} | {mmap:>10.0} | {pwrite:>10.0} | {:>12.2}",
            mmap / pwrite
        );
    }
}
