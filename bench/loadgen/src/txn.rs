//! Transactional produce (`txn-produce`): a transactional producer as Kafka's clients run one,
//! so the cost of transactions can be measured on any broker that serves them.
//!
//! FindCoordinator (key type 1) finds the transaction coordinator; InitProducerId with the
//! transactional id gives the producer id and epoch. Then, in a loop: AddPartitionsToTxn for
//! every partition of the topic, `batches_per_txn` Produce requests (transactional batches:
//! attribute bit 0x10, the producer id and epoch, per-partition sequences), up to `in_flight`
//! of them unanswered on the leader's connection, then EndTxn(commit). Bytes and records count
//! once their transaction has committed; the commit latency is EndTxn request → response.
//!
//! Each batch's sequence changes every send, so its CRC is recomputed each time (CRC-32C of the
//! batch; hardware-assisted, small next to the send). Every request is v1 (non-flexible; served
//! by Apache Kafka 4.x and by Sluice). Single-leader topics only: a benchmark broker is one node.

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread;
use std::time::Duration;

use serde_json::{Value, json};

use crate::batch::{BatchShape, build_batch};
use crate::cluster::TopicLayout;
use crate::conn::{CONTROL_RECEIVER, Connection};
use crate::error::{Error, IoContext, Result};
use crate::protocol::{self, Api, PRODUCE};
use crate::stats::Latency;
use crate::window::{Counter, Phase, now_ns};
use crate::wire::Decoder;

pub const FIND_COORDINATOR: Api = Api {
    key: 10,
    version: 1,
    name: "FindCoordinator",
};
pub const INIT_PRODUCER_ID: Api = Api {
    key: 22,
    version: 1,
    name: "InitProducerId",
};
pub const ADD_PARTITIONS_TO_TXN: Api = Api {
    key: 24,
    version: 1,
    name: "AddPartitionsToTxn",
};
pub const END_TXN: Api = Api {
    key: 26,
    version: 1,
    name: "EndTxn",
};

/// Coordinator errors a client waits out and retries (Kafka's clients do the same):
/// COORDINATOR_LOAD_IN_PROGRESS, COORDINATOR_NOT_AVAILABLE, CONCURRENT_TRANSACTIONS (the
/// previous transaction's markers are still being written).
const RETRY_ERRORS: [i16; 3] = [14, 15, 51];

/// Coordinator requests answered with one of RETRY_ERRORS and sent again (reported, since a
/// broker that answers CONCURRENT_TRANSACTIONS after every commit spends the client's time).
pub static RETRIES: AtomicU64 = AtomicU64::new(0);

/// RecordBatch v2 fields rewritten per send (see batch.rs for the layout).
const CRC_OFFSET: usize = 17;
const ATTRIBUTES_OFFSET: usize = 21;
const PRODUCER_ID_OFFSET: usize = 43;
const PRODUCER_EPOCH_OFFSET: usize = 51;
const BASE_SEQUENCE_OFFSET: usize = 53;
const ATTR_TRANSACTIONAL: i16 = 0x10;

#[derive(Debug, Clone)]
pub struct TxnConfig {
    pub shape: BatchShape,
    pub transactional_id: String,
    pub batches_per_txn: usize,
    pub in_flight: usize,
    pub transaction_timeout_ms: i32,
    pub timeout_ms: i32,
}

#[derive(Default)]
pub struct TxnCounters {
    pub bytes: Counter,
    pub records: Counter,
    pub transactions: Counter,
    pub requests: Counter,
}

/// Makes a built batch transactional for (producer id, epoch) with `sequence` and re-signs it.
pub fn set_producer(batch: &mut [u8], producer_id: i64, epoch: i16, sequence: i32) {
    let attrs = i16::from_be_bytes([batch[ATTRIBUTES_OFFSET], batch[ATTRIBUTES_OFFSET + 1]])
        | ATTR_TRANSACTIONAL;
    batch[ATTRIBUTES_OFFSET..ATTRIBUTES_OFFSET + 2].copy_from_slice(&attrs.to_be_bytes());
    batch[PRODUCER_ID_OFFSET..PRODUCER_ID_OFFSET + 8].copy_from_slice(&producer_id.to_be_bytes());
    batch[PRODUCER_EPOCH_OFFSET..PRODUCER_EPOCH_OFFSET + 2].copy_from_slice(&epoch.to_be_bytes());
    batch[BASE_SEQUENCE_OFFSET..BASE_SEQUENCE_OFFSET + 4].copy_from_slice(&sequence.to_be_bytes());
    let crc = crc32c::crc32c(&batch[ATTRIBUTES_OFFSET..]);
    batch[CRC_OFFSET..CRC_OFFSET + 4].copy_from_slice(&crc.to_be_bytes());
}

fn kafka_error(api: &'static str, code: i16) -> Error {
    Error::Kafka {
        api,
        detail: format!("{} ({code})", protocol::error_name(code)),
    }
}

fn wire(api: &'static str) -> impl Fn(crate::wire::WireError) -> Error {
    move |source| Error::Wire { api, source }
}

/// Sends a coordinator request until its error is not one to wait out; returns the body.
fn with_retries(
    conn: &mut Connection,
    api: Api,
    timeout_ms: i32,
    mut body: impl FnMut(&mut crate::wire::Encoder),
    error_of: impl Fn(&[u8]) -> Result<i16>,
) -> Result<Vec<u8>> {
    let deadline = now_ns() + timeout_ms as u64 * 1_000_000;
    loop {
        let resp = conn.request(api, &mut body)?;
        let code = error_of(&resp)?;
        if code == protocol::ERROR_NONE {
            return Ok(resp);
        }
        if !RETRY_ERRORS.contains(&code) || now_ns() > deadline {
            return Err(kafka_error(api.name, code));
        }
        RETRIES.fetch_add(1, Ordering::Relaxed);
        thread::sleep(Duration::from_millis(5));
    }
}

/// The transaction coordinator's address for `transactional_id`.
pub fn find_coordinator(
    conn: &mut Connection,
    transactional_id: &str,
    timeout_ms: i32,
) -> Result<String> {
    let resp = with_retries(
        conn,
        FIND_COORDINATOR,
        timeout_ms,
        |e| {
            e.string(transactional_id).i8(1);
        },
        |b| {
            let mut d = Decoder::new(b);
            d.i32()
                .and_then(|_| d.i16())
                .map_err(wire("FindCoordinator"))
        },
    )?;
    let mut d = Decoder::new(&resp);
    let f = wire("FindCoordinator");
    let (_throttle, _error, _message) = (
        d.i32().map_err(&f)?,
        d.i16().map_err(&f)?,
        d.nullable_string().map_err(&f)?,
    );
    let (_node, host, port) = (
        d.i32().map_err(&f)?,
        d.string().map_err(&f)?,
        d.i32().map_err(&f)?,
    );
    Ok(format!("{host}:{port}"))
}

/// InitProducerId with the transactional id: (producer id, epoch).
pub fn init_producer_id(conn: &mut Connection, cfg: &TxnConfig) -> Result<(i64, i16)> {
    let resp = with_retries(
        conn,
        INIT_PRODUCER_ID,
        cfg.timeout_ms,
        |e| {
            e.nullable_string(Some(&cfg.transactional_id))
                .i32(cfg.transaction_timeout_ms);
        },
        |b| {
            let mut d = Decoder::new(b);
            d.i32()
                .and_then(|_| d.i16())
                .map_err(wire("InitProducerId"))
        },
    )?;
    let mut d = Decoder::new(&resp);
    let f = wire("InitProducerId");
    let (_throttle, _error) = (d.i32().map_err(&f)?, d.i16().map_err(&f)?);
    Ok((d.i64().map_err(&f)?, d.i16().map_err(&f)?))
}

fn add_partitions(
    conn: &mut Connection,
    cfg: &TxnConfig,
    pid: (i64, i16),
    topic: &str,
    partitions: &[i32],
) -> Result<()> {
    with_retries(
        conn,
        ADD_PARTITIONS_TO_TXN,
        cfg.timeout_ms,
        |e| {
            e.string(&cfg.transactional_id).i64(pid.0).i16(pid.1);
            e.array_len(1).string(topic).array_len(partitions.len());
            for p in partitions {
                e.i32(*p);
            }
        },
        |b| {
            // The first partition error that is not NONE, or NONE.
            let f = wire("AddPartitionsToTxn");
            let mut d = Decoder::new(b);
            let _throttle = d.i32().map_err(&f)?;
            let mut worst = protocol::ERROR_NONE;
            for _ in 0..d.array_len().map_err(&f)? {
                let _name = d.string().map_err(&f)?;
                for _ in 0..d.array_len().map_err(&f)? {
                    let (_p, code) = (d.i32().map_err(&f)?, d.i16().map_err(&f)?);
                    if worst == protocol::ERROR_NONE {
                        worst = code;
                    }
                }
            }
            Ok(worst)
        },
    )
    .map(|_| ())
}

fn end_txn(conn: &mut Connection, cfg: &TxnConfig, pid: (i64, i16), commit: bool) -> Result<()> {
    with_retries(
        conn,
        END_TXN,
        cfg.timeout_ms,
        |e| {
            e.string(&cfg.transactional_id)
                .i64(pid.0)
                .i16(pid.1)
                .bool(commit);
        },
        |b| {
            let mut d = Decoder::new(b);
            d.i32().and_then(|_| d.i16()).map_err(wire("EndTxn"))
        },
    )
    .map(|_| ())
}

struct Prepared {
    frame: Vec<u8>,
    batch_at: usize,
    batch_bytes: u64,
    records: i32,
    sequence: i32,
}

fn prepare(cfg: &TxnConfig, client_id: &str, topic: &str, partitions: &[i32]) -> Vec<Prepared> {
    let ts = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0);
    partitions
        .iter()
        .map(|&p| {
            let batch = build_batch(cfg.shape, ts, 0x5851_f42d_4c95_7f2d ^ p as u64);
            let frame = protocol::frame_request(PRODUCE, 0, client_id, |e| {
                e.nullable_string(Some(&cfg.transactional_id))
                    .i16(-1)
                    .i32(cfg.timeout_ms);
                e.array_len(1)
                    .string(topic)
                    .array_len(1)
                    .i32(p)
                    .bytes(&batch.bytes);
            });
            Prepared {
                batch_at: frame.len() - batch.bytes.len(),
                batch_bytes: batch.bytes.len() as u64,
                records: batch.records as i32,
                sequence: 0,
                frame,
            }
        })
        .collect()
}

/// Runs transactions until the phase is done; returns (produce latency, commit latency) of the
/// measured span. Produce is acks=-1, as transactional producers must.
pub fn run(
    layout: &TopicLayout,
    cfg: &TxnConfig,
    client_id: &str,
    phase: &Arc<Phase>,
    counters: &Arc<TxnCounters>,
) -> Result<(Latency, Latency)> {
    let groups = layout.by_leader();
    let [(leader, partitions)] = groups.as_slice() else {
        return Err(Error::Usage(
            "txn-produce: the topic's partitions must share one leader".into(),
        ));
    };
    let mut control = Connection::connect(leader, client_id, CONTROL_RECEIVER)?;
    // A coordinator that has just created __transaction_state answers NOT_COORDINATOR until it
    // has loaded it; as Kafka's clients do, find it again and retry.
    let deadline = now_ns() + cfg.timeout_ms as u64 * 1_000_000;
    let (mut coordinator, pid) = loop {
        let addr = find_coordinator(&mut control, &cfg.transactional_id, cfg.timeout_ms)?;
        let mut conn = Connection::connect(&addr, client_id, CONTROL_RECEIVER)?;
        match init_producer_id(&mut conn, cfg) {
            Ok(pid) => break (conn, pid),
            Err(Error::Kafka { detail, .. }) if detail.ends_with("(16)") && now_ns() < deadline => {
                thread::sleep(Duration::from_millis(50));
            }
            Err(e) => return Err(e),
        }
    };
    let mut data = Connection::connect(leader, client_id, CONTROL_RECEIVER)?;
    let mut reqs = prepare(cfg, client_id, &layout.name, partitions);
    let (mut produce_latency, mut commit_latency) = (Latency::new(), Latency::new());
    let mut correlation_id = 0i32;
    while !phase.done() {
        add_partitions(&mut coordinator, cfg, pid, &layout.name, partitions)?;
        let (mut bytes, mut records) = (0u64, 0u64);
        let mut waiting: VecDeque<(i32, u64)> = VecDeque::new();
        let mut sent = 0usize;
        while sent < cfg.batches_per_txn || !waiting.is_empty() {
            if sent < cfg.batches_per_txn && waiting.len() < cfg.in_flight {
                let req = &mut reqs[sent % partitions.len()];
                correlation_id = correlation_id.wrapping_add(1).max(1);
                protocol::set_correlation_id(&mut req.frame, correlation_id);
                set_producer(&mut req.frame[req.batch_at..], pid.0, pid.1, req.sequence);
                req.sequence = req.sequence.wrapping_add(req.records);
                data.send_frame(&req.frame)?;
                waiting.push_back((correlation_id, now_ns()));
                bytes += req.batch_bytes;
                records += req.records as u64;
                sent += 1;
                continue;
            }
            let (expected, at) = waiting.pop_front().expect("a request in flight");
            let len = data.begin_response(PRODUCE, expected)?;
            let body = data
                .reader()
                .read_vec(len)
                .context(|| "Produce response".into())?;
            data.reader()
                .end_frame()
                .context(|| "Produce response".into())?;
            if phase.measuring() {
                produce_latency.record_ns(now_ns() - at);
            }
            let results = protocol::decode_produce(&body).map_err(wire("Produce"))?;
            if let Some(r) = results
                .iter()
                .find(|r| r.error_code != protocol::ERROR_NONE)
            {
                return Err(kafka_error("Produce", r.error_code));
            }
            counters.requests.add(1);
        }
        let started = now_ns();
        end_txn(&mut coordinator, cfg, pid, true)?;
        if phase.measuring() {
            commit_latency.record_ns(now_ns() - started);
        }
        counters.bytes.add(bytes);
        counters.records.add(records);
        counters.transactions.add(1);
    }
    Ok((produce_latency, commit_latency))
}

/// JSON for the run's configuration.
pub fn config_json(cfg: &TxnConfig) -> Value {
    json!({
        "transactional_id": cfg.transactional_id,
        "batches_per_txn": cfg.batches_per_txn,
        "in_flight": cfg.in_flight,
        "acks": -1,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_batch_made_transactional_carries_the_producer_and_a_valid_crc() {
        let shape = BatchShape {
            record_bytes: 100,
            batch_bytes: 4096,
        };
        let mut b = build_batch(shape, 0, 1).bytes;
        set_producer(&mut b, 4242, 3, 150);
        let h =
            crate::batch::BatchHeader::parse(b[..crate::batch::HEADER_BYTES].try_into().unwrap());
        assert_eq!(h.attributes & ATTR_TRANSACTIONAL, ATTR_TRANSACTIONAL);
        assert!(!h.is_control());
        assert_eq!(i64::from_be_bytes(b[43..51].try_into().unwrap()), 4242);
        assert_eq!(i16::from_be_bytes(b[51..53].try_into().unwrap()), 3);
        assert_eq!(i32::from_be_bytes(b[53..57].try_into().unwrap()), 150);
        assert_eq!(
            u32::from_be_bytes(b[17..21].try_into().unwrap()),
            crc32c::crc32c(&b[21..])
        );
        // Re-stamping with the next sequence keeps the batch valid.
        set_producer(&mut b, 4242, 3, 165);
        assert_eq!(
            u32::from_be_bytes(b[17..21].try_into().unwrap()),
            crc32c::crc32c(&b[21..])
        );
    }
}
