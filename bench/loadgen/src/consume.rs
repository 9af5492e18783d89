//! Consumer load: Fetch in a loop, one request in flight per connection (as Kafka consumers do),
//! streaming each response through a `FrameReader` with the configured receive behaviour. Record
//! bytes are read and thrown away; only batch headers are looked at (to count records and find
//! the next offset) plus, for end-to-end latency, the first record's stamp.
//!
//! `wrap` sends a partition back to its log start once it reaches the high watermark, so a
//! consumer can re-read the same hot data for as long as a measurement lasts.

use std::collections::HashMap;
use std::io;
use std::sync::Arc;
use std::thread::{self, JoinHandle};

use crate::batch::{BatchHeader, HEADER_BYTES, STAMP_PREFIX_MAX, first_record_stamp};
use crate::cluster::TopicLayout;
use crate::conn::Connection;
use crate::error::{Error, IoContext, Result};
use crate::protocol::{self, FETCH, FetchLimits, FetchSession};
use crate::receiver::{FrameReader, ReceiverConfig, Source};
use crate::stats::Latency;
use crate::window::{Counter, Phase, now_ns};

#[derive(Debug, Clone)]
pub struct ConsumeConfig {
    /// Independent consumers; each reads every partition (like separate consumer groups).
    pub consumers: usize,
    pub receiver: ReceiverConfig,
    pub limits: FetchLimits,
    pub wrap: bool,
    /// Read the first record's stamp of each batch (end-to-end latency).
    pub stamps: bool,
    /// Fetch through an incremental fetch session (KIP-227): after the first full request, list
    /// only the partitions whose fetch offset moved.
    pub sessions: bool,
}

#[derive(Default)]
pub struct ConsumeCounters {
    /// Bytes taken off the socket (whole responses).
    pub bytes: Counter,
    /// Bytes of complete record batches delivered.
    pub record_bytes: Counter,
    pub records: Counter,
    pub batches: Counter,
    pub fetches: Counter,
    pub empty_fetches: Counter,
    pub read_calls: Counter,
    pub lowat_changes: Counter,
    pub wraps: Counter,
}

/// Per-partition fetch position.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    pub partition: i32,
    pub offset: i64,
}

/// What one fetch response said about one partition.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PartitionOutcome {
    pub partition: i32,
    pub error_code: i16,
    pub high_watermark: i64,
    pub log_start_offset: i64,
    /// Offset after the last complete batch, if any batch was complete.
    pub next_offset: Option<i64>,
    pub records: u64,
    pub batches: u64,
    pub record_bytes: u64,
}

/// Counts the records of a batch at or after `fetch_offset` (a fetch may start mid-batch).
fn records_from(h: &BatchHeader, fetch_offset: i64) -> u64 {
    let count = h.records_count.max(0) as i64;
    let skipped = (fetch_offset - h.base_offset).clamp(0, count);
    (count - skipped) as u64
}

/// Walks a partition's record set of `len` bytes: complete batches are counted and skipped, a
/// trailing partial batch (cut by partitionMaxBytes) is discarded.
fn walk_records<S: Source>(
    r: &mut FrameReader<S>,
    len: u64,
    fetch_offset: i64,
    stamps: Option<&mut Vec<u64>>,
    out: &mut PartitionOutcome,
    on_batch: &mut dyn FnMut(u64),
) -> io::Result<()> {
    let mut left = len;
    let mut stamps = stamps;
    while left >= HEADER_BYTES as u64 {
        let header: [u8; HEADER_BYTES] = r.peek(HEADER_BYTES)?.try_into().expect("peek length");
        let h = BatchHeader::parse(&header);
        let total = h.total_len() as u64;
        if h.batch_length < 0 || total > left {
            break;
        }
        r.consume(HEADER_BYTES);
        let body = total - HEADER_BYTES as u64;
        let mut skipped_prefix = 0u64;
        if let Some(stamps) = stamps.as_deref_mut()
            && h.magic == 2
            && !h.is_control()
            && !h.is_compressed()
            && h.base_offset >= fetch_offset
        {
            let n = (STAMP_PREFIX_MAX as u64).min(body) as usize;
            if let Some(s) = first_record_stamp(r.peek(n)?) {
                stamps.push(s);
            }
            r.consume(n);
            skipped_prefix = n as u64;
        }
        r.skip(body - skipped_prefix)?;
        left -= total;
        if !h.is_control() {
            out.records += records_from(&h, fetch_offset);
        }
        out.batches += 1;
        out.record_bytes += total;
        out.next_offset = Some(h.last_offset() + 1);
        on_batch(total);
    }
    r.skip(left)
}

/// Streams one Fetch v11 response body (after the correlation id): its session id and partitions.
pub fn read_fetch_response<S: Source>(
    r: &mut FrameReader<S>,
    offsets: &HashMap<i32, i64>,
    mut stamps: Option<&mut Vec<u64>>,
    on_batch: &mut dyn FnMut(u64),
) -> Result<(i32, Vec<PartitionOutcome>)> {
    let io_err = |e: io::Error| Error::Io {
        context: "Fetch response".into(),
        source: e,
    };
    let _throttle = r.i32().map_err(io_err)?;
    let error = r.i16().map_err(io_err)?;
    if error != protocol::ERROR_NONE {
        return Err(Error::Kafka {
            api: "Fetch",
            detail: protocol::error_name(error).into(),
        });
    }
    let session = r.i32().map_err(io_err)?;
    let topics = r.i32().map_err(io_err)?;
    let mut out = Vec::new();
    for _ in 0..topics.max(0) {
        let name_len = r.i16().map_err(io_err)?;
        r.skip(name_len.max(0) as u64).map_err(io_err)?;
        let partitions = r.i32().map_err(io_err)?;
        for _ in 0..partitions.max(0) {
            let mut o = PartitionOutcome {
                partition: r.i32().map_err(io_err)?,
                error_code: r.i16().map_err(io_err)?,
                ..Default::default()
            };
            o.high_watermark = r.i64().map_err(io_err)?;
            let _last_stable = r.i64().map_err(io_err)?;
            o.log_start_offset = r.i64().map_err(io_err)?;
            let aborted = r.i32().map_err(io_err)?;
            r.skip(aborted.max(0) as u64 * 16).map_err(io_err)?;
            let _preferred_replica = r.i32().map_err(io_err)?;
            let records_len = r.i32().map_err(io_err)?;
            let fetch_offset = offsets.get(&o.partition).copied().unwrap_or(0);
            if records_len > 0 {
                walk_records(
                    r,
                    records_len as u64,
                    fetch_offset,
                    stamps.as_deref_mut(),
                    &mut o,
                    on_batch,
                )
                .map_err(io_err)?;
            }
            out.push(o);
        }
    }
    Ok((session, out))
}

pub type Worker = JoinHandle<Result<Latency>>;

/// Starts `consumers` × (leader brokers) fetch loops from the given start offsets. Each returns
/// the end-to-end latency histogram of the measured span (empty unless `stamps`).
pub fn start(
    layout: &TopicLayout,
    cfg: &ConsumeConfig,
    client_id: &str,
    start_offsets: &HashMap<i32, i64>,
    phase: &Arc<Phase>,
    counters: &Arc<ConsumeCounters>,
) -> Result<Vec<Worker>> {
    cfg.receiver.validate().map_err(Error::Usage)?;
    let mut workers = Vec::new();
    for consumer in 0..cfg.consumers {
        for (addr, partitions) in layout.by_leader() {
            let mut conn =
                Connection::connect(&addr, &format!("{client_id}-c{consumer}"), cfg.receiver)?;
            if cfg.receiver.rcvlowat > 0 {
                // The mark moves with each response (see receiver.rs); check it is settable now.
                Source::set_rcvlowat(conn.reader().source_mut(), 1)
                    .context(|| format!("SO_RCVLOWAT on {addr}"))?;
            }
            let positions: Vec<Position> = partitions
                .iter()
                .map(|&p| Position {
                    partition: p,
                    offset: start_offsets.get(&p).copied().unwrap_or(0),
                })
                .collect();
            let (cfg, topic, phase, counters) = (
                cfg.clone(),
                layout.name.clone(),
                phase.clone(),
                counters.clone(),
            );
            workers.push(
                thread::Builder::new()
                    .name(format!("consume-{consumer}"))
                    .spawn(move || {
                        let r = fetch_loop(&mut conn, &cfg, &topic, positions, &phase, &counters);
                        if r.is_err() {
                            phase.finish();
                        }
                        r
                    })
                    .expect("spawn"),
            );
        }
    }
    Ok(workers)
}

fn fetch_loop(
    conn: &mut Connection,
    cfg: &ConsumeConfig,
    topic: &str,
    mut positions: Vec<Position>,
    phase: &Phase,
    counters: &ConsumeCounters,
) -> Result<Latency> {
    let mut latency = Latency::new();
    let mut stamps = Vec::new();
    let mut last_stats = conn.reader().stats();
    let mut session = if cfg.sessions {
        FetchSession::OPEN
    } else {
        FetchSession::NONE
    };
    // The fetch offsets the broker's session holds: what the last requests listed.
    let mut sent: HashMap<i32, i64> = HashMap::new();
    while !phase.done() {
        let correlation_id = conn.next_correlation();
        let parts: Vec<(i32, i64)> = positions
            .iter()
            .filter(|p| !session.is_incremental() || sent.get(&p.partition) != Some(&p.offset))
            .map(|p| (p.partition, p.offset))
            .collect();
        let frame = protocol::frame_request(FETCH, correlation_id, conn.client_id(), |e| {
            protocol::fetch_body(e, cfg.limits, session, topic, &parts)
        });
        conn.send_frame(&frame)?;
        conn.begin_response(FETCH, correlation_id)?;
        // An incremental answer may carry any partition of the session.
        let offsets: HashMap<i32, i64> =
            positions.iter().map(|p| (p.partition, p.offset)).collect();
        stamps.clear();
        let reader = conn.reader();
        let mut on_batch = |bytes: u64| counters.record_bytes.add(bytes);
        let (session_id, outcomes) = read_fetch_response(
            reader,
            &offsets,
            cfg.stamps.then_some(&mut stamps),
            &mut on_batch,
        )?;
        if cfg.sessions {
            sent.extend(parts.iter().copied());
            session = session.after_response(session_id);
        }
        reader.end_frame().context(|| "Fetch response".into())?;
        let now = now_ns();
        let stats = reader.stats();
        counters.bytes.add(stats.bytes - last_stats.bytes);
        counters
            .read_calls
            .add(stats.read_calls - last_stats.read_calls);
        counters
            .lowat_changes
            .add(stats.lowat_changes - last_stats.lowat_changes);
        last_stats = stats;
        counters.fetches.add(1);
        if phase.measuring() {
            for s in &stamps {
                latency.record_ns(now.saturating_sub(*s));
            }
        }
        let mut delivered = 0u64;
        for o in &outcomes {
            let Some(pos) = positions.iter_mut().find(|p| p.partition == o.partition) else {
                return Err(Error::Protocol(format!(
                    "Fetch response names partition {} that was not asked for",
                    o.partition
                )));
            };
            match o.error_code {
                protocol::ERROR_NONE => {}
                protocol::ERROR_OFFSET_OUT_OF_RANGE => {
                    pos.offset = o.log_start_offset.max(0);
                    continue;
                }
                code => {
                    return Err(Error::Kafka {
                        api: "Fetch",
                        detail: format!("{topic}-{}: {}", o.partition, protocol::error_name(code)),
                    });
                }
            }
            counters.records.add(o.records);
            counters.batches.add(o.batches);
            delivered += o.batches;
            if let Some(next) = o.next_offset {
                pos.offset = next;
            }
            // Wrap as soon as the end is reached: asking from the end would park the fetch for
            // max.wait.ms (nothing new arrives while only reading).
            if cfg.wrap && o.high_watermark > 0 && pos.offset >= o.high_watermark {
                pos.offset = o.log_start_offset.max(0);
                counters.wraps.add(1);
            }
        }
        if delivered == 0 {
            counters.empty_fetches.add(1);
        }
    }
    Ok(latency)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::batch::{BatchShape, LOG_OVERHEAD, build_batch, stamp_batch};
    use crate::receiver::tests::Scripted;
    use crate::wire::Encoder;

    fn batch_at(base_offset: i64, stamp: u64) -> Vec<u8> {
        let mut b = build_batch(
            BatchShape {
                record_bytes: 50,
                batch_bytes: 1000,
            },
            0,
            1,
        );
        let at = b.stamp_offset();
        stamp_batch(&mut b.bytes, at, stamp);
        b.bytes[..8].copy_from_slice(&base_offset.to_be_bytes());
        b.bytes
    }

    /// A Fetch v11 response frame (size, correlation id, body) with one topic.
    fn response(parts: &[(i32, i16, i64, Vec<u8>)]) -> Vec<u8> {
        let mut e = Encoder::new();
        e.i32(0).i32(7).i32(0).i16(0).i32(0);
        e.array_len(1).string("t").array_len(parts.len());
        for (p, err, hw, records) in parts {
            e.i32(*p).i16(*err).i64(*hw).i64(*hw).i64(0);
            e.array_len(1).i64(9).i64(10); // one aborted transaction, skipped
            e.i32(-1).bytes(records);
        }
        let mut v = e.into_bytes();
        let size = (v.len() - 4) as i32;
        v[..4].copy_from_slice(&size.to_be_bytes());
        v
    }

    #[test]
    fn fetch_response_counts_complete_batches_and_drops_a_partial_tail() {
        let b0 = batch_at(0, 111);
        let b1 = batch_at(b0.len() as i64, 222); // any base offset will do
        let records_per = i32::from_be_bytes(b0[57..61].try_into().unwrap()) as u64;
        let mut set = b0.clone();
        set.extend_from_slice(&b1);
        set.extend_from_slice(&b1[..100]); // cut by partitionMaxBytes
        let frame = response(&[(0, 0, 500, set.clone()), (1, 0, 0, Vec::new())]);
        for (chunk, read_bytes) in [(usize::MAX, 1 << 20), (7, 64), (333, 1000)] {
            let mut r = FrameReader::new(
                Scripted::new(frame.clone(), chunk),
                ReceiverConfig {
                    read_bytes,
                    rcvlowat: 0,
                },
            );
            r.begin_frame().unwrap();
            assert_eq!(r.i32().unwrap(), 7);
            let mut stamps = Vec::new();
            let mut seen = 0u64;
            let offsets = HashMap::from([(0, 0), (1, 0)]);
            let (_, out) =
                read_fetch_response(&mut r, &offsets, Some(&mut stamps), &mut |b| seen += b)
                    .unwrap();
            assert_eq!(r.frame_remaining(), 0, "chunk {chunk}");
            r.end_frame().unwrap();
            assert_eq!(out.len(), 2);
            assert_eq!(out[0].batches, 2);
            assert_eq!(out[0].records, 2 * records_per);
            assert_eq!(out[0].record_bytes, (b0.len() + b1.len()) as u64);
            assert_eq!(seen, out[0].record_bytes);
            assert_eq!(
                out[0].next_offset,
                Some(b0.len() as i64 + records_per as i64)
            );
            assert_eq!(out[0].high_watermark, 500);
            assert_eq!(stamps, vec![111, 222]);
            assert_eq!(
                out[1],
                PartitionOutcome {
                    partition: 1,
                    ..Default::default()
                }
            );
        }
    }

    #[test]
    fn a_fetch_starting_mid_batch_counts_only_the_rest() {
        let b0 = batch_at(100, 5);
        let n = i32::from_be_bytes(b0[57..61].try_into().unwrap()) as u64;
        let frame = response(&[(3, 0, 1000, b0)]);
        let mut r = FrameReader::new(
            Scripted::new(frame, 4096),
            ReceiverConfig {
                read_bytes: 4096,
                rcvlowat: 0,
            },
        );
        r.begin_frame().unwrap();
        r.i32().unwrap();
        let mut stamps = Vec::new();
        let (_, out) = read_fetch_response(
            &mut r,
            &HashMap::from([(3, 102)]),
            Some(&mut stamps),
            &mut |_| {},
        )
        .unwrap();
        assert_eq!(out[0].records, n - 2);
        assert!(
            stamps.is_empty(),
            "the stamped first record was before the fetch offset"
        );
    }

    #[test]
    fn partition_errors_are_reported_not_parsed_as_records() {
        let frame = response(&[(0, 1, -1, Vec::new())]);
        let mut r = FrameReader::new(
            Scripted::new(frame, 4096),
            ReceiverConfig {
                read_bytes: 4096,
                rcvlowat: 0,
            },
        );
        r.begin_frame().unwrap();
        r.i32().unwrap();
        let (_, out) = read_fetch_response(&mut r, &HashMap::new(), None, &mut |_| {}).unwrap();
        assert_eq!(out[0].error_code, 1);
        assert_eq!(out[0].next_offset, None);
    }

    #[test]
    fn records_from_clamps() {
        let h = BatchHeader {
            base_offset: 10,
            batch_length: 0,
            magic: 2,
            attributes: 0,
            last_offset_delta: 4,
            records_count: 5,
        };
        assert_eq!(records_from(&h, 0), 5);
        assert_eq!(records_from(&h, 12), 3);
        assert_eq!(records_from(&h, 99), 0);
        assert_eq!(LOG_OVERHEAD, 12);
    }
}
