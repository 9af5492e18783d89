//! loadgen: a Kafka-protocol load generator and raw I/O probes for the Sluice benchmarks.
//!
//! Every command prints one JSON object on stdout. Commands that measure announce their
//! measured span on stderr (`@measure-start`, `@measure-end`) so a caller can sample the
//! broker process at the same moments. Run `loadgen help` for the commands and options.

mod args;
mod batch;
mod cluster;
mod conn;
mod consume;
mod error;
mod probe_append;
mod probe_tls;
mod probe_transfer;
mod produce;
mod protocol;
mod receiver;
mod stats;
mod tls;
mod txn;
mod window;
mod wire;

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use serde_json::{Value, json};

use args::Args;
use batch::BatchShape;
use cluster::{Cluster, TopicLayout, TopicSpec};
use consume::{ConsumeConfig, ConsumeCounters};
use error::{Error, Result};
use produce::{ProduceConfig, ProduceCounters};
use protocol::FetchLimits;
use receiver::ReceiverConfig;
use stats::{Latency, Usage, process_usage, usage_delta_json};
use window::{Phase, Span, run_until, run_window};

const HELP: &str = "\
loadgen <command> [--option value]...

Cluster commands (any Kafka-compatible broker; --bootstrap host:port[,host:port];
  --tls-ca FILE: over TLS (an SSL listener), trusting FILE's PEM certificates;
  --tls-cipher-suite NAME: offer only that suite, e.g. TLS13_AES_256_GCM_SHA384):
  ping           wait until the broker answers ApiVersions and Metadata   [--timeout-s 60]
  create-topic   --topic T [--partitions 1] [--replication-factor 1] [--topic-config k=v,k=v]
  delete-topics  --topics a,b
  offsets        --topic T                 earliest and latest offset per partition
  produce        --topic T [topic options] [producer options] [window options]
                 [--total-bytes N: stop after N acknowledged bytes instead of a window]
  consume        --topic T [consumer options] [--from earliest|latest] [--wrap true] [window options]
  e2e            --topic T [topic, producer and consumer options] [window options]
                 paced producer + tailing consumers; reports end-to-end latency
  txn-produce    --topic T [topic options] [--record-bytes 1024 --batch-bytes 16KiB]
                 [--transactional-id ID] [--batches-per-txn 8] [--in-flight 5]
                 [--transaction-timeout-ms 60000] [--timeout-ms 30000] [window options]
                 transactional producer (acks=-1): AddPartitionsToTxn, batches, EndTxn commit;
                 reports committed MB/s and commit latency

Topic options:    --partitions 1 --replication-factor 1 --topic-config k=v,...
                  (the topic is created if missing)
Producer options: --record-bytes 1024 --batch-bytes 16KiB --acks 1 --connections 1
                  --in-flight 4 --rate-mbps (unpaced) --timeout-ms 30000
Consumer options: --consumers 1 --read-bytes 1MiB --rcvlowat 0 --fetch-max-bytes 64MiB
                  --partition-max-bytes 16MiB --max-wait-ms 500 --min-bytes 1
                  --fetch-sessions false (true: incremental fetch sessions, KIP-227)
Window options:   --warmup-seconds 1 --seconds 5

Raw probes (no broker):
  probe-transfer --mode sendfile|splice|copy [--streams 1] [--file-bytes 256MiB | --file PATH]
                 [--sender-threads 1] [--sndbuf 0 (kernel autotuning)]
                 [--chunk-bytes 16MiB] [--copy-buffer-bytes 1MiB] [--pipe-bytes 1MiB]
                 [--read-bytes 1MiB] [--rcvlowat 0] [--dir /tmp] [window options]
  probe-tls      --tls-key-store PEM --tls-ca PEM [--tls-cipher-suite NAME] [--streams 1]
                 [--file-bytes 256MiB | --file PATH] [--chunk-bytes 16MiB] [--read-bytes 1MiB]
                 [--rcvlowat 0] [--dir /tmp] [window options]
                 rustls sender (one thread, 16 KiB records) -> decrypting loopback receivers
  probe-append   --mode write|mmap [--chunk-bytes 1MiB] [--segment-bytes 1GiB]
                 [--preallocate-step-bytes 32MiB] [--max-bytes 4GiB] [--dir /tmp]
                 [--warmup-seconds 0] [--seconds 5]

Sizes take binary suffixes (KiB, MiB, GiB). MB/s in the output are 10^6 bytes per second.
";

fn main() -> ExitCode {
    let mut argv = std::env::args().skip(1);
    let Some(command) = argv.next() else {
        eprint!("{HELP}");
        return ExitCode::from(2);
    };
    if matches!(command.as_str(), "help" | "--help" | "-h") {
        print!("{HELP}");
        return ExitCode::SUCCESS;
    }
    let result = Args::parse(argv).and_then(|a| {
        if !command.starts_with("probe-") {
            tls::set_transport(tls_client(&a)?);
        }
        dispatch(&command, &a)
    });
    match result {
        Ok((value, failed)) => {
            println!(
                "{}",
                serde_json::to_string_pretty(&value).expect("JSON values serialize")
            );
            if failed {
                eprintln!(
                    "loadgen: the broker answered some requests with errors (see \"errors\")"
                );
                ExitCode::from(3)
            } else {
                ExitCode::SUCCESS
            }
        }
        Err(e) => {
            eprintln!("loadgen {command}: {e}");
            ExitCode::from(if matches!(e, Error::Usage(_)) { 2 } else { 1 })
        }
    }
}

/// Runs a command; the flag says whether the broker reported errors during the run.
fn dispatch(command: &str, a: &Args) -> Result<(Value, bool)> {
    let out = match command {
        "ping" => ping(a)?,
        "create-topic" => create_topic(a)?,
        "delete-topics" => delete_topics(a)?,
        "offsets" => offsets(a)?,
        "produce" => return load(a, true, false, false),
        "consume" => return load(a, false, true, false),
        "e2e" => return load(a, true, true, true),
        "txn-produce" => txn_produce(a)?,
        "probe-transfer" => probe_transfer(a)?,
        "probe-append" => probe_append(a)?,
        "probe-tls" => probe_tls(a)?,
        other => {
            return Err(Error::Usage(format!(
                "unknown command {other:?}; try `loadgen help`"
            )));
        }
    };
    Ok((out, false))
}

/// `--tls-ca FILE` connects over TLS (a broker's SSL listener), trusting the PEM certificates
/// in FILE; `--tls-cipher-suite NAME` offers only that suite.
fn tls_client(a: &Args) -> Result<Option<tls::TlsClient>> {
    let ca = a.string("tls-ca", "");
    let suite = a.string("tls-cipher-suite", "");
    if ca.is_empty() {
        if !suite.is_empty() {
            return Err(Error::Usage("--tls-cipher-suite needs --tls-ca".into()));
        }
        return Ok(None);
    }
    Ok(Some(tls::TlsClient::new(
        &ca,
        (!suite.is_empty()).then_some(suite.as_str()),
    )?))
}

fn client_id(a: &Args) -> String {
    a.string("client-id", "sluice-loadgen")
}

fn connect(a: &Args) -> Result<Cluster> {
    Cluster::connect(&a.required("bootstrap")?, &client_id(a))
}

fn ping(a: &Args) -> Result<Value> {
    let bootstrap = a.required("bootstrap")?;
    let timeout = a.seconds("timeout-s", 60.0)?;
    let cid = client_id(a);
    a.finish()?;
    let (mut cluster, elapsed) = Cluster::wait_ready(&bootstrap, &cid, timeout)?;
    let meta = cluster.metadata(Some(&[]))?;
    Ok(
        json!({ "ready": true, "elapsed_ms": elapsed.as_secs_f64() * 1e3, "brokers": meta.brokers.len(), "controller_id": meta.controller_id }),
    )
}

fn topic_spec(a: &Args) -> Result<TopicSpec> {
    Ok(TopicSpec {
        name: a.required("topic")?,
        partitions: i32::try_from(a.u64("partitions", 1)?)
            .map_err(|_| Error::Usage("--partitions too large".into()))?,
        replication_factor: i16::try_from(a.u64("replication-factor", 1)?)
            .map_err(|_| Error::Usage("--replication-factor too large".into()))?,
        configs: a.pairs("topic-config")?,
    })
}

fn layout_json(l: &TopicLayout) -> Value {
    json!({ "topic": l.name, "partitions": l.partitions.iter().map(|(p, addr)| json!({ "partition": p, "leader": addr })).collect::<Vec<_>>() })
}

fn create_topic(a: &Args) -> Result<Value> {
    let spec = topic_spec(a)?;
    let mut cluster = connect(a)?;
    a.finish()?;
    Ok(layout_json(&cluster.ensure_topic(&spec)?))
}

fn delete_topics(a: &Args) -> Result<Value> {
    let topics = a.required("topics")?;
    let mut cluster = connect(a)?;
    a.finish()?;
    let names: Vec<&str> = topics.split(',').filter(|t| !t.is_empty()).collect();
    cluster.delete_topics(&names)?;
    Ok(json!({ "deleted": names }))
}

fn offsets(a: &Args) -> Result<Value> {
    let topic = a.required("topic")?;
    let mut cluster = connect(a)?;
    a.finish()?;
    let layout = cluster
        .topic_layout(&topic)?
        .ok_or_else(|| Error::Usage(format!("topic {topic} does not exist")))?;
    let earliest = cluster.list_offsets(&layout, protocol::EARLIEST_TIMESTAMP)?;
    let latest = cluster.list_offsets(&layout, protocol::LATEST_TIMESTAMP)?;
    let parts: Vec<Value> = layout
        .partitions
        .iter()
        .map(|(p, _)| json!({ "partition": p, "earliest": earliest[p], "latest": latest[p] }))
        .collect();
    Ok(json!({ "topic": topic, "partitions": parts }))
}

fn produce_config(a: &Args, stamp: bool) -> Result<ProduceConfig> {
    let rate_mbps = a.f64("rate-mbps", 0.0)?;
    Ok(ProduceConfig {
        shape: BatchShape {
            record_bytes: a.size("record-bytes", 1024)? as usize,
            batch_bytes: a.size("batch-bytes", 16 << 10)? as usize,
        },
        acks: i16::try_from(a.i64("acks", 1)?)
            .map_err(|_| Error::Usage("--acks out of range".into()))?,
        connections: a.u64("connections", 1)? as usize,
        in_flight: a.u64("in-flight", 4)? as usize,
        rate_bytes_per_s: (rate_mbps > 0.0).then_some(rate_mbps * 1e6),
        stamp,
        timeout_ms: a.u64("timeout-ms", 30_000)?.min(i32::MAX as u64) as i32,
    })
}

fn i32_size(a: &Args, name: &str, default: u64) -> Result<i32> {
    i32::try_from(a.size(name, default)?)
        .map_err(|_| Error::Usage(format!("--{name} must be below 2 GiB")))
}

fn consume_config(a: &Args, stamps: bool, wrap_default: bool) -> Result<ConsumeConfig> {
    Ok(ConsumeConfig {
        consumers: a.u64("consumers", 1)? as usize,
        receiver: ReceiverConfig {
            read_bytes: a.size("read-bytes", 1 << 20)? as usize,
            rcvlowat: a.size("rcvlowat", 0)? as usize,
        },
        limits: FetchLimits {
            max_wait_ms: a.u64("max-wait-ms", 500)?.min(i32::MAX as u64) as i32,
            min_bytes: i32_size(a, "min-bytes", 1)?,
            max_bytes: i32_size(a, "fetch-max-bytes", 64 << 20)?,
            partition_max_bytes: i32_size(a, "partition-max-bytes", 16 << 20)?,
        },
        wrap: a.bool("wrap", wrap_default)?,
        stamps,
        sessions: a.bool("fetch-sessions", false)?,
    })
}

/// Counter values at one edge of the window.
#[derive(Clone, Copy)]
struct Snap {
    produced: [u64; 4],
    consumed: [u64; 9],
    usage: Usage,
}

fn snap(p: &ProduceCounters, c: &ConsumeCounters) -> Snap {
    Snap {
        produced: [
            p.bytes.get(),
            p.records.get(),
            p.requests.get(),
            p.errors.get(),
        ],
        consumed: [
            c.bytes.get(),
            c.record_bytes.get(),
            c.records.get(),
            c.batches.get(),
            c.fetches.get(),
            c.empty_fetches.get(),
            c.read_calls.get(),
            c.lowat_changes.get(),
            c.wraps.get(),
        ],
        usage: process_usage(),
    }
}

fn join_all(workers: Vec<JoinHandle<Result<Latency>>>) -> Result<Latency> {
    let mut merged = Latency::new();
    let mut first_err = None;
    for w in workers {
        match w.join().expect("worker thread panicked") {
            Ok(h) => merged.merge(&h),
            Err(e) => {
                first_err.get_or_insert(e);
            }
        }
    }
    first_err.map_or(Ok(merged), Err)
}

/// produce, consume and e2e: set up, run the window, report.
fn load(a: &Args, producing: bool, consuming: bool, e2e: bool) -> Result<(Value, bool)> {
    let mut cluster = connect(a)?;
    let spec = topic_spec(a)?;
    let pcfg = if producing {
        Some(produce_config(a, e2e)?)
    } else {
        None
    };
    let ccfg = if consuming {
        Some(consume_config(a, e2e, !e2e)?)
    } else {
        None
    };
    let from = if consuming {
        a.string("from", if e2e { "latest" } else { "earliest" })
    } else {
        String::new()
    };
    let total_bytes = if producing && !e2e {
        a.size("total-bytes", 0)?
    } else {
        0
    };
    let warmup = a.seconds("warmup-seconds", if total_bytes > 0 { 0.0 } else { 1.0 })?;
    let measure = a.seconds("seconds", 5.0)?;
    a.finish()?;
    if let Some(p) = &pcfg {
        p.validate()?;
    }

    let layout = if producing {
        cluster.ensure_topic(&spec)?
    } else {
        cluster
            .topic_layout(&spec.name)?
            .ok_or_else(|| Error::Usage(format!("topic {} does not exist", spec.name)))?
    };
    let phase = Arc::new(Phase::new());
    let pc = Arc::new(ProduceCounters::default());
    let cc = Arc::new(ConsumeCounters::default());

    // Consumers first, positioned before any new data, so an e2e run sees every stamped batch.
    let mut consumers = Vec::new();
    if let Some(c) = &ccfg {
        let ts = match from.as_str() {
            "earliest" => protocol::EARLIEST_TIMESTAMP,
            "latest" => protocol::LATEST_TIMESTAMP,
            other => {
                return Err(Error::Usage(format!(
                    "--from {other:?} (expected earliest or latest)"
                )));
            }
        };
        let start = cluster.list_offsets(&layout, ts)?;
        consumers = consume::start(&layout, c, cluster.client_id(), &start, &phase, &cc)?;
    }
    let mut producers = Vec::new();
    if let Some(p) = &pcfg {
        producers = produce::start(&layout, p, cluster.client_id(), &phase, &pc)?;
    }

    let span: Span<Snap> = if total_bytes > 0 {
        run_until(&phase, || snap(&pc, &cc), || pc.bytes.get() >= total_bytes)
    } else {
        run_window(&phase, warmup, measure, || snap(&pc, &cc))
    };
    let produce_latency = join_all(producers)?;
    let e2e_latency = join_all(consumers)?;

    let secs = span.seconds;
    let d = |i: usize| span.end.produced[i] - span.start.produced[i];
    let c = |i: usize| span.end.consumed[i] - span.start.consumed[i];
    let mut out = json!({
        "command": if e2e { "e2e" } else if producing { "produce" } else { "consume" },
        "topic": layout_json(&layout),
        "window_s": secs,
        "client": usage_delta_json(span.start.usage, span.end.usage),
        "tls": tls::summary_json(),
    });
    let mut failed = false;
    if let Some(p) = &pcfg {
        let requests = d(2);
        failed = pc.errors.get() > 0;
        out["produce"] = json!({
            "record_bytes": p.shape.record_bytes,
            "batch_bytes_max": p.shape.batch_bytes,
            "records_per_batch": batch::records_per_batch(p.shape),
            "acks": p.acks,
            "connections": p.connections,
            "in_flight": p.in_flight,
            "rate_mbps_target": p.rate_bytes_per_s.map(|r| r / 1e6),
            "bytes": d(0),
            "records": d(1),
            "requests": requests,
            "mb_per_s": d(0) as f64 / secs / 1e6,
            "records_per_s": d(1) as f64 / secs,
            "latency_us": produce_latency.to_json(),
            "errors": pc.errors.get(),
            "error_codes": pc.errors_json(),
        });
    }
    if let Some(cf) = &ccfg {
        let reads = c(6);
        out["consume"] = json!({
            "consumers": cf.consumers,
            "read_bytes": cf.receiver.read_bytes,
            "rcvlowat": cf.receiver.rcvlowat,
            "fetch_max_bytes": cf.limits.max_bytes,
            "partition_max_bytes": cf.limits.partition_max_bytes,
            "bytes": c(0),
            "record_bytes": c(1),
            "records": c(2),
            "batches": c(3),
            "fetches": c(4),
            "empty_fetches": c(5),
            "read_calls": reads,
            "bytes_per_read": if reads > 0 { c(0) as f64 / reads as f64 } else { 0.0 },
            "lowat_changes": c(7),
            "wraps": c(8),
            "mb_per_s": c(0) as f64 / secs / 1e6,
            "records_per_s": c(2) as f64 / secs,
        });
        if e2e {
            out["consume"]["e2e_latency_us"] = e2e_latency.to_json();
        }
    }
    Ok((out, failed))
}

fn txn_produce(a: &Args) -> Result<Value> {
    let mut cluster = connect(a)?;
    let spec = topic_spec(a)?;
    let cfg = txn::TxnConfig {
        shape: BatchShape {
            record_bytes: a.size("record-bytes", 1024)? as usize,
            batch_bytes: a.size("batch-bytes", 16 << 10)? as usize,
        },
        transactional_id: a.string(
            "transactional-id",
            &format!("loadgen-txn-{}", std::process::id()),
        ),
        batches_per_txn: a.u64("batches-per-txn", 8)?.max(1) as usize,
        in_flight: a.u64("in-flight", 5)?.max(1) as usize,
        transaction_timeout_ms: a
            .u64("transaction-timeout-ms", 60_000)?
            .min(i32::MAX as u64) as i32,
        timeout_ms: a.u64("timeout-ms", 30_000)?.min(i32::MAX as u64) as i32,
    };
    let warmup = a.seconds("warmup-seconds", 1.0)?;
    let measure = a.seconds("seconds", 5.0)?;
    a.finish()?;
    let layout = cluster.ensure_topic(&spec)?;
    let phase = Arc::new(Phase::new());
    let counters = Arc::new(txn::TxnCounters::default());
    let worker = {
        let (layout, cfg, cid, phase, counters) = (
            layout.clone(),
            cfg.clone(),
            cluster.client_id().to_string(),
            phase.clone(),
            counters.clone(),
        );
        std::thread::spawn(move || {
            let r = txn::run(&layout, &cfg, &cid, &phase, &counters);
            phase.finish();
            r
        })
    };
    let snap = || {
        (
            [
                counters.bytes.get(),
                counters.records.get(),
                counters.transactions.get(),
                counters.requests.get(),
            ],
            process_usage(),
        )
    };
    let span = run_window(&phase, warmup, measure, snap);
    let (produce_latency, commit_latency) = worker.join().expect("txn thread panicked")?;
    let secs = span.seconds;
    let d = |i: usize| span.end.0[i] - span.start.0[i];
    Ok(json!({
        "command": "txn-produce",
        "topic": layout_json(&layout),
        "window_s": secs,
        "client": usage_delta_json(span.start.1, span.end.1),
        "tls": tls::summary_json(),
        "txn": txn::config_json(&cfg),
        "produce": {
            "record_bytes": cfg.shape.record_bytes,
            "batch_bytes_max": cfg.shape.batch_bytes,
            "records_per_batch": batch::records_per_batch(cfg.shape),
            "acks": -1,
            "bytes": d(0),
            "records": d(1),
            "requests": d(3),
            "mb_per_s": d(0) as f64 / secs / 1e6,
            "records_per_s": d(1) as f64 / secs,
            "latency_us": produce_latency.to_json(),
        },
        "transactions": {
            "committed": d(2),
            "per_s": d(2) as f64 / secs,
            "commit_latency_us": commit_latency.to_json(),
            "coordinator_retries_whole_run": txn::RETRIES.load(std::sync::atomic::Ordering::Relaxed),
        },
    }))
}

fn probe_window(
    a: &Args,
    warmup_default: f64,
    seconds_default: f64,
) -> Result<(Duration, Duration)> {
    Ok((
        a.seconds("warmup-seconds", warmup_default)?,
        a.seconds("seconds", seconds_default)?,
    ))
}

fn probe_transfer(a: &Args) -> Result<Value> {
    let cfg = probe_transfer::TransferProbe {
        mode: a.required("mode")?.parse()?,
        streams: a.u64("streams", 1)? as usize,
        sender_threads: a.u64("sender-threads", 1)? as usize,
        sndbuf: a.size("sndbuf", 0)? as usize,
        file_bytes: a.size("file-bytes", 256 << 20)?,
        chunk_bytes: a.size("chunk-bytes", 16 << 20)?,
        copy_buffer_bytes: a.size("copy-buffer-bytes", 1 << 20)? as usize,
        pipe_bytes: a.size("pipe-bytes", 1 << 20)? as usize,
        receiver: ReceiverConfig {
            read_bytes: a.size("read-bytes", 1 << 20)? as usize,
            rcvlowat: a.size("rcvlowat", 0)? as usize,
        },
        dir: PathBuf::from(a.string("dir", "/tmp")),
        file: match a.string("file", "") {
            f if f.is_empty() => None,
            f => Some(PathBuf::from(f)),
        },
    };
    let (warmup, measure) = probe_window(a, 0.5, 5.0)?;
    a.finish()?;
    probe_transfer::run(&cfg, warmup, measure)
}

fn probe_tls(a: &Args) -> Result<Value> {
    let cfg = probe_tls::TlsProbe {
        streams: a.u64("streams", 1)? as usize,
        file_bytes: a.size("file-bytes", 256 << 20)?,
        chunk_bytes: a.size("chunk-bytes", 16 << 20)?,
        receiver: ReceiverConfig {
            read_bytes: a.size("read-bytes", 1 << 20)? as usize,
            rcvlowat: a.size("rcvlowat", 0)? as usize,
        },
        dir: PathBuf::from(a.string("dir", "/tmp")),
        file: match a.string("file", "") {
            f if f.is_empty() => None,
            f => Some(PathBuf::from(f)),
        },
        key_store: PathBuf::from(a.required("tls-key-store")?),
        ca: PathBuf::from(a.required("tls-ca")?),
        cipher_suite: match a.string("tls-cipher-suite", "") {
            s if s.is_empty() => None,
            s => Some(s),
        },
    };
    let (warmup, measure) = probe_window(a, 0.5, 5.0)?;
    a.finish()?;
    probe_tls::run(&cfg, warmup, measure)
}

fn probe_append(a: &Args) -> Result<Value> {
    let cfg = probe_append::AppendProbe {
        mode: a.required("mode")?.parse()?,
        dir: PathBuf::from(a.string("dir", "/tmp")),
        chunk_bytes: a.size("chunk-bytes", 1 << 20)? as usize,
        segment_bytes: a.size("segment-bytes", 1 << 30)?,
        preallocate_step_bytes: a.size("preallocate-step-bytes", 32 << 20)?,
        max_bytes: a.size("max-bytes", 4 << 30)?,
    };
    let (warmup, measure) = probe_window(a, 0.0, 5.0)?;
    a.finish()?;
    probe_append::run(&cfg, warmup, measure)
}
