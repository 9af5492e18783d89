//! Producer load: pre-built Produce requests (one batch each), re-sent with a fresh correlation
//! id and, when end-to-end latency is measured, a fresh stamp. Each connection has a sender
//! thread and a receiver thread, with at most `in_flight` requests between them, so the client
//! costs a write() per request and a read() per few responses — never an encode.
//!
//! Paced runs (`rate`) are open-loop: request n is due at start + n × interval, and its latency
//! counts from when it was due, so a slow broker cannot hide its stalls by slowing the sender
//! (no coordinated omission).

use std::collections::{BTreeMap, VecDeque};
use std::io::Write;
use std::net::Shutdown;
use std::sync::{Arc, Condvar, Mutex};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use serde_json::{Value, json};

use crate::batch::{BatchShape, build_batch, stamp_batch};
use crate::cluster::TopicLayout;
use crate::conn::{CONTROL_RECEIVER, Connection, ReadHalf, WriteHalf, read_response_header};
use crate::error::{Error, IoContext, Result};
use crate::protocol::{self, PRODUCE};
use crate::receiver::FrameReader;
use crate::stats::Latency;
use crate::window::{Counter, Phase, now_ns};

#[derive(Debug, Clone)]
pub struct ProduceConfig {
    pub shape: BatchShape,
    pub acks: i16,
    /// Connections per leader broker.
    pub connections: usize,
    /// Requests written but not yet answered, per connection.
    pub in_flight: usize,
    /// Total batch bytes per second over all connections; None = as fast as acks allow.
    pub rate_bytes_per_s: Option<f64>,
    /// Write a send stamp into each batch (end-to-end latency runs).
    pub stamp: bool,
    pub timeout_ms: i32,
}

impl ProduceConfig {
    pub fn validate(&self) -> Result<()> {
        if ![-1, 0, 1].contains(&self.acks) {
            return Err(Error::Usage(format!(
                "--acks {} (expected -1, 0 or 1)",
                self.acks
            )));
        }
        if self.connections == 0 || self.in_flight == 0 {
            return Err(Error::Usage(
                "--connections and --in-flight must be at least 1".into(),
            ));
        }
        if self.shape.record_bytes == 0 || self.shape.batch_bytes == 0 {
            return Err(Error::Usage(
                "--record-bytes and --batch-bytes must be at least 1".into(),
            ));
        }
        if self.stamp && self.shape.record_bytes < crate::batch::STAMP_BYTES {
            return Err(Error::Usage(
                "stamped runs need --record-bytes of at least 8".into(),
            ));
        }
        if self.rate_bytes_per_s == Some(0.0) {
            return Err(Error::Usage("--rate-mbps must be above 0".into()));
        }
        Ok(())
    }
}

/// Acknowledged traffic (sent traffic when acks=0).
#[derive(Default)]
pub struct ProduceCounters {
    pub bytes: Counter,
    pub records: Counter,
    pub requests: Counter,
    pub errors: Counter,
    error_codes: Mutex<BTreeMap<i16, u64>>,
}

impl ProduceCounters {
    fn error(&self, code: i16) {
        self.errors.add(1);
        *self
            .error_codes
            .lock()
            .expect("error table lock")
            .entry(code)
            .or_default() += 1;
    }

    pub fn errors_json(&self) -> Value {
        let codes = self.error_codes.lock().expect("error table lock");
        Value::Object(
            codes
                .iter()
                .map(|(c, n)| (format!("{} ({c})", protocol::error_name(*c)), json!(n)))
                .collect(),
        )
    }
}

/// One pre-built request: the whole frame, with the batch at its tail.
struct Prepared {
    frame: Vec<u8>,
    batch_at: usize,
    stamp_offset: usize,
    batch_bytes: u64,
    records: u64,
}

struct InFlight {
    correlation_id: i32,
    due_ns: u64,
    batch_bytes: u64,
    records: u64,
}

/// The bounded queue between a connection's sender and receiver.
struct Pipeline {
    state: Mutex<(VecDeque<InFlight>, bool)>,
    changed: Condvar,
    capacity: usize,
}

impl Pipeline {
    fn new(capacity: usize) -> Self {
        Self {
            state: Mutex::new((VecDeque::with_capacity(capacity), false)),
            changed: Condvar::new(),
            capacity,
        }
    }

    /// Waits for room; false if the run ended while waiting.
    fn push(&self, item: InFlight, phase: &Phase) -> bool {
        let mut s = self.state.lock().expect("pipeline lock");
        while s.0.len() >= self.capacity {
            if phase.done() {
                return false;
            }
            s = self
                .changed
                .wait_timeout(s, Duration::from_millis(10))
                .expect("pipeline lock")
                .0;
        }
        s.0.push_back(item);
        self.changed.notify_all();
        true
    }

    /// The oldest request awaiting its answer; None once the sender closed and all are answered.
    fn wait_front(&self) -> Option<(i32, u64, u64, u64)> {
        let mut s = self.state.lock().expect("pipeline lock");
        loop {
            if let Some(f) = s.0.front() {
                return Some((f.correlation_id, f.due_ns, f.batch_bytes, f.records));
            }
            if s.1 {
                return None;
            }
            s = self.changed.wait(s).expect("pipeline lock");
        }
    }

    fn pop(&self) {
        let mut s = self.state.lock().expect("pipeline lock");
        s.0.pop_front().expect("pop of an answered request");
        self.changed.notify_all();
    }

    fn close(&self) {
        self.state.lock().expect("pipeline lock").1 = true;
        self.changed.notify_all();
    }
}

fn prepare(cfg: &ProduceConfig, client_id: &str, topic: &str, partitions: &[i32]) -> Vec<Prepared> {
    let timestamp_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0);
    partitions
        .iter()
        .map(|&p| {
            let batch = build_batch(cfg.shape, timestamp_ms, 0x9e37_79b9_7f4a_7c15 ^ p as u64);
            let frame = protocol::produce_request(
                client_id,
                cfg.acks,
                cfg.timeout_ms,
                topic,
                p,
                &batch.bytes,
            );
            Prepared {
                batch_at: frame.len() - batch.bytes.len(),
                stamp_offset: batch.stamp_offset(),
                batch_bytes: batch.bytes.len() as u64,
                records: batch.records as u64,
                frame,
            }
        })
        .collect()
}

/// Which partitions connection `c` of `n` to one leader sends to (round robin; when there are
/// more connections than partitions, connections share them).
pub fn partitions_for_connection(partitions: &[i32], c: usize, n: usize) -> Vec<i32> {
    let mine: Vec<i32> = partitions
        .iter()
        .enumerate()
        .filter(|(i, _)| i % n == c)
        .map(|(_, p)| *p)
        .collect();
    if mine.is_empty() {
        vec![partitions[c % partitions.len()]]
    } else {
        mine
    }
}

pub type Worker = JoinHandle<Result<Latency>>;

/// Starts the sender/receiver threads. Receiver threads return the produce-latency histogram
/// of the measured span; sender threads return an empty one.
pub fn start(
    layout: &TopicLayout,
    cfg: &ProduceConfig,
    client_id: &str,
    phase: &Arc<Phase>,
    counters: &Arc<ProduceCounters>,
) -> Result<Vec<Worker>> {
    cfg.validate()?;
    let groups = layout.by_leader();
    let total_connections = groups.len() * cfg.connections;
    let mut workers = Vec::new();
    let mut conn_index = 0usize;
    for (addr, partitions) in groups {
        for c in 0..cfg.connections {
            let reqs = prepare(
                cfg,
                client_id,
                &layout.name,
                &partitions_for_connection(&partitions, c, cfg.connections),
            );
            let conn = Connection::connect(&addr, client_id, CONTROL_RECEIVER)?;
            let (writer, reader) = conn.into_parts();
            let pipeline = Arc::new(Pipeline::new(cfg.in_flight));
            let interval_ns = cfg.rate_bytes_per_s.map(|rate| {
                let avg_batch =
                    reqs.iter().map(|r| r.batch_bytes).sum::<u64>() as f64 / reqs.len() as f64;
                avg_batch / (rate / total_connections as f64) * 1e9
            });
            // Stagger paced connections so they do not all send at the same instant.
            let offset_ns =
                interval_ns.map_or(0.0, |iv| iv * conn_index as f64 / total_connections as f64);
            if cfg.acks != 0 {
                let (p, ph, ct, a) = (
                    pipeline.clone(),
                    phase.clone(),
                    counters.clone(),
                    addr.clone(),
                );
                workers.push(
                    thread::Builder::new()
                        .name("produce-recv".into())
                        .spawn(move || receive(reader, &a, &p, &ph, &ct))
                        .expect("spawn"),
                );
            }
            let (p, ph, ct, acks, stamp) = (
                pipeline,
                phase.clone(),
                counters.clone(),
                cfg.acks,
                cfg.stamp,
            );
            workers.push(
                thread::Builder::new()
                    .name("produce-send".into())
                    .spawn(move || {
                        let sock = writer
                            .socket()
                            .try_clone()
                            .context(|| "dup producer socket".into());
                        let result = send(
                            writer,
                            reqs,
                            acks,
                            stamp,
                            interval_ns,
                            offset_ns,
                            &p,
                            &ph,
                            &ct,
                        );
                        p.close();
                        if result.is_err() {
                            // Wake the receiver out of its read: the answers it waits for will not come.
                            ph.finish();
                            if let Ok(s) = sock {
                                let _ = s.shutdown(Shutdown::Both);
                            }
                        }
                        result.map(|_| Latency::new())
                    })
                    .expect("spawn"),
            );
            conn_index += 1;
        }
    }
    Ok(workers)
}

#[allow(clippy::too_many_arguments)]
fn send(
    mut writer: WriteHalf,
    mut reqs: Vec<Prepared>,
    acks: i16,
    stamp: bool,
    interval_ns: Option<f64>,
    offset_ns: f64,
    pipeline: &Pipeline,
    phase: &Phase,
    counters: &ProduceCounters,
) -> Result<()> {
    let t0 = now_ns();
    let mut n: u64 = 0;
    let mut correlation_id: i32 = 0;
    while !phase.done() {
        let due = match interval_ns {
            Some(iv) => {
                let due = t0 + (offset_ns + n as f64 * iv) as u64;
                loop {
                    let now = now_ns();
                    if now >= due || phase.done() {
                        break;
                    }
                    thread::sleep(Duration::from_nanos((due - now).min(5_000_000)));
                }
                due
            }
            None => now_ns(),
        };
        if phase.done() {
            break;
        }
        let slot = (n % reqs.len() as u64) as usize;
        let req = &mut reqs[slot];
        correlation_id = correlation_id.wrapping_add(1).max(1);
        protocol::set_correlation_id(&mut req.frame, correlation_id);
        if stamp {
            stamp_batch(&mut req.frame[req.batch_at..], req.stamp_offset, due);
        }
        if acks != 0 {
            let item = InFlight {
                correlation_id,
                due_ns: due,
                batch_bytes: req.batch_bytes,
                records: req.records,
            };
            if !pipeline.push(item, phase) {
                break;
            }
        }
        writer
            .write_all(&req.frame)
            .context(|| "send Produce request".into())?;
        if acks == 0 {
            counters.bytes.add(req.batch_bytes);
            counters.records.add(req.records);
            counters.requests.add(1);
        }
        n += 1;
    }
    Ok(())
}

fn receive(
    mut reader: FrameReader<ReadHalf>,
    addr: &str,
    pipeline: &Pipeline,
    phase: &Phase,
    counters: &ProduceCounters,
) -> Result<Latency> {
    let mut latency = Latency::new();
    let result = (|| {
        while let Some((expected, due_ns, batch_bytes, records)) = pipeline.wait_front() {
            let (correlation_id, len) = read_response_header(&mut reader, PRODUCE, addr)?;
            if correlation_id != expected {
                return Err(Error::Protocol(format!(
                    "Produce response with correlation id {correlation_id}, expected {expected}"
                )));
            }
            let body = reader
                .read_vec(len)
                .context(|| format!("Produce response from {addr}"))?;
            reader
                .end_frame()
                .context(|| format!("Produce response from {addr}"))?;
            let now = now_ns();
            pipeline.pop();
            let results = protocol::decode_produce(&body).map_err(|source| Error::Wire {
                api: "Produce",
                source,
            })?;
            let failed = results
                .iter()
                .find(|r| r.error_code != protocol::ERROR_NONE);
            match failed {
                Some(r) => counters.error(r.error_code),
                None if results.is_empty() => {
                    return Err(Error::Protocol(
                        "Produce response without partitions".into(),
                    ));
                }
                None => {
                    counters.bytes.add(batch_bytes);
                    counters.records.add(records);
                    counters.requests.add(1);
                    if phase.measuring() {
                        latency.record_ns(now.saturating_sub(due_ns));
                    }
                }
            }
        }
        Ok(())
    })();
    if result.is_err() {
        phase.finish();
    }
    result.map(|_| latency)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connections_split_partitions_round_robin() {
        let ps = [0, 1, 2, 3, 4];
        assert_eq!(partitions_for_connection(&ps, 0, 2), vec![0, 2, 4]);
        assert_eq!(partitions_for_connection(&ps, 1, 2), vec![1, 3]);
        // More connections than partitions: they share.
        assert_eq!(partitions_for_connection(&[7, 8], 3, 4), vec![8]);
    }

    #[test]
    fn pipeline_bounds_requests_in_flight() {
        let p = Arc::new(Pipeline::new(2));
        let phase = Phase::new();
        let item = |c| InFlight {
            correlation_id: c,
            due_ns: 0,
            batch_bytes: 1,
            records: 1,
        };
        assert!(p.push(item(1), &phase));
        assert!(p.push(item(2), &phase));
        let p2 = p.clone();
        let third = thread::spawn(move || {
            let phase = Phase::new();
            p2.push(item(3), &phase)
        });
        thread::sleep(Duration::from_millis(30));
        assert!(!third.is_finished(), "a third request waits for room");
        assert_eq!(p.wait_front().map(|f| f.0), Some(1));
        p.pop();
        assert!(third.join().unwrap());
        p.pop();
        p.pop();
        p.close();
        assert_eq!(p.wait_front(), None);
        // A finished run stops waiting for room.
        let full = Pipeline::new(1);
        let done = Phase::new();
        assert!(full.push(item(1), &done));
        done.finish();
        assert!(!full.push(item(2), &done));
    }

    #[test]
    fn prepared_requests_end_with_their_batch() {
        let cfg = ProduceConfig {
            shape: BatchShape {
                record_bytes: 100,
                batch_bytes: 4096,
            },
            acks: 1,
            connections: 1,
            in_flight: 1,
            rate_bytes_per_s: None,
            stamp: true,
            timeout_ms: 1000,
        };
        let mut reqs = prepare(&cfg, "lg", "t", &[0, 1]);
        assert_eq!(reqs.len(), 2);
        let r = &mut reqs[1];
        let batch = &r.frame[r.batch_at..];
        assert_eq!(batch.len() as u64, r.batch_bytes);
        assert_eq!(batch[16], 2, "magic");
        let len_field = i32::from_be_bytes(r.frame[r.batch_at - 4..r.batch_at].try_into().unwrap());
        assert_eq!(
            len_field as u64, r.batch_bytes,
            "records field length precedes the batch"
        );
        stamp_batch(&mut r.frame[r.batch_at..], r.stamp_offset, 42);
        let batch = &r.frame[r.batch_at..];
        assert_eq!(
            crate::batch::first_record_stamp(&batch[crate::batch::HEADER_BYTES..]),
            Some(42)
        );
        assert_eq!(
            u32::from_be_bytes(batch[17..21].try_into().unwrap()),
            crc32c::crc32c(&batch[21..])
        );
    }
}
