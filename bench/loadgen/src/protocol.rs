//! The few Kafka requests the load generator sends, at one classic version each, written from
//! the Kafka protocol specification. Every version used here is served by Apache Kafka 4.x and by
//! Sluice, so the same binary measures either broker.
//!
//! Requests use header v1 (apiKey, apiVersion, correlationId, clientId); responses header v0
//! (correlationId). Fetch responses are not decoded here but streamed by `consume`.

use crate::wire::{Decoder, Encoder, WireError};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Api {
    pub key: i16,
    pub version: i16,
    pub name: &'static str,
}

pub const PRODUCE: Api = Api {
    key: 0,
    version: 7,
    name: "Produce",
};
pub const FETCH: Api = Api {
    key: 1,
    version: 11,
    name: "Fetch",
};
pub const LIST_OFFSETS: Api = Api {
    key: 2,
    version: 4,
    name: "ListOffsets",
};
pub const METADATA: Api = Api {
    key: 3,
    version: 7,
    name: "Metadata",
};
pub const API_VERSIONS: Api = Api {
    key: 18,
    version: 0,
    name: "ApiVersions",
};
pub const CREATE_TOPICS: Api = Api {
    key: 19,
    version: 4,
    name: "CreateTopics",
};
pub const DELETE_TOPICS: Api = Api {
    key: 20,
    version: 3,
    name: "DeleteTopics",
};

/// Every API the load generator may send; checked against ApiVersions before any load runs.
pub const ALL_APIS: [Api; 7] = [
    PRODUCE,
    FETCH,
    LIST_OFFSETS,
    METADATA,
    API_VERSIONS,
    CREATE_TOPICS,
    DELETE_TOPICS,
];

/// Offset of the correlation id inside a framed request (size, apiKey, apiVersion).
pub const CORRELATION_OFFSET: usize = 8;

/// ListOffsets timestamps with special meaning.
pub const LATEST_TIMESTAMP: i64 = -1;
pub const EARLIEST_TIMESTAMP: i64 = -2;

pub const ERROR_NONE: i16 = 0;
pub const ERROR_OFFSET_OUT_OF_RANGE: i16 = 1;
pub const ERROR_TOPIC_ALREADY_EXISTS: i16 = 36;
pub const ERROR_UNKNOWN_TOPIC_OR_PARTITION: i16 = 3;

/// Kafka's name for an error code, for messages (a subset: the ones a benchmark meets).
pub fn error_name(code: i16) -> &'static str {
    match code {
        -1 => "UNKNOWN_SERVER_ERROR",
        0 => "NONE",
        1 => "OFFSET_OUT_OF_RANGE",
        2 => "CORRUPT_MESSAGE",
        3 => "UNKNOWN_TOPIC_OR_PARTITION",
        5 => "LEADER_NOT_AVAILABLE",
        6 => "NOT_LEADER_OR_FOLLOWER",
        7 => "REQUEST_TIMED_OUT",
        10 => "MESSAGE_TOO_LARGE",
        14 => "COORDINATOR_LOAD_IN_PROGRESS",
        15 => "COORDINATOR_NOT_AVAILABLE",
        16 => "NOT_COORDINATOR",
        19 => "NOT_ENOUGH_REPLICAS",
        20 => "NOT_ENOUGH_REPLICAS_AFTER_APPEND",
        35 => "UNSUPPORTED_VERSION",
        36 => "TOPIC_ALREADY_EXISTS",
        37 => "INVALID_PARTITIONS",
        38 => "INVALID_REPLICATION_FACTOR",
        41 => "NOT_CONTROLLER",
        42 => "INVALID_REQUEST",
        45 => "OUT_OF_ORDER_SEQUENCE_NUMBER",
        47 => "INVALID_PRODUCER_EPOCH",
        48 => "INVALID_TXN_STATE",
        49 => "INVALID_PRODUCER_ID_MAPPING",
        51 => "CONCURRENT_TRANSACTIONS",
        53 => "TRANSACTIONAL_ID_AUTHORIZATION_FAILED",
        90 => "PRODUCER_FENCED",
        56 => "KAFKA_STORAGE_ERROR",
        87 => "INVALID_RECORD",
        _ => "(other)",
    }
}

/// Errors that clear up on their own (leadership moving, a topic being set up); Kafka's
/// RetriableException subclasses among the codes a benchmark meets.
pub fn is_retriable(code: i16) -> bool {
    matches!(code, 3 | 5 | 6 | 7 | 19 | 20)
}

/// Frames a request: size, header v1, then the body written by `body`.
pub fn frame_request(
    api: Api,
    correlation_id: i32,
    client_id: &str,
    body: impl FnOnce(&mut Encoder),
) -> Vec<u8> {
    let mut e = Encoder::new();
    e.i32(0)
        .i16(api.key)
        .i16(api.version)
        .i32(correlation_id)
        .nullable_string(Some(client_id));
    body(&mut e);
    let mut bytes = e.into_bytes();
    let size = (bytes.len() - 4) as i32;
    bytes[..4].copy_from_slice(&size.to_be_bytes());
    bytes
}

pub fn set_correlation_id(frame: &mut [u8], correlation_id: i32) {
    frame[CORRELATION_OFFSET..CORRELATION_OFFSET + 4]
        .copy_from_slice(&correlation_id.to_be_bytes());
}

// ---- ApiVersions v0 -------------------------------------------------------------------------

pub fn api_versions_body(_e: &mut Encoder) {}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiVersionRange {
    pub key: i16,
    pub min: i16,
    pub max: i16,
}

pub fn decode_api_versions(body: &[u8]) -> Result<(i16, Vec<ApiVersionRange>), WireError> {
    let mut d = Decoder::new(body);
    let error = d.i16()?;
    let n = d.array_len()?;
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        out.push(ApiVersionRange {
            key: d.i16()?,
            min: d.i16()?,
            max: d.i16()?,
        });
    }
    Ok((error, out))
}

/// The APIs of `needed` the broker does not serve at the version we send.
pub fn unsupported(needed: &[Api], offered: &[ApiVersionRange]) -> Vec<Api> {
    needed
        .iter()
        .filter(|api| {
            !offered
                .iter()
                .any(|r| r.key == api.key && r.min <= api.version && api.version <= r.max)
        })
        .copied()
        .collect()
}

// ---- Metadata v7 ----------------------------------------------------------------------------

pub fn metadata_body(e: &mut Encoder, topics: Option<&[&str]>, allow_auto_create: bool) {
    match topics {
        None => {
            e.i32(-1);
        }
        Some(ts) => {
            e.array_len(ts.len());
            for t in ts {
                e.string(t);
            }
        }
    }
    e.bool(allow_auto_create);
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrokerAddr {
    pub node_id: i32,
    pub host: String,
    pub port: i32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartitionMeta {
    pub error_code: i16,
    pub index: i32,
    pub leader: i32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicMeta {
    pub error_code: i16,
    pub name: String,
    pub partitions: Vec<PartitionMeta>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Metadata {
    pub brokers: Vec<BrokerAddr>,
    pub controller_id: i32,
    pub topics: Vec<TopicMeta>,
}

pub fn decode_metadata(body: &[u8]) -> Result<Metadata, WireError> {
    let mut d = Decoder::new(body);
    let _throttle = d.i32()?;
    let mut brokers = Vec::new();
    for _ in 0..d.array_len()? {
        let node_id = d.i32()?;
        let host = d.string()?;
        let port = d.i32()?;
        let _rack = d.nullable_string()?;
        brokers.push(BrokerAddr {
            node_id,
            host,
            port,
        });
    }
    let _cluster_id = d.nullable_string()?;
    let controller_id = d.i32()?;
    let mut topics = Vec::new();
    for _ in 0..d.array_len()? {
        let error_code = d.i16()?;
        let name = d.string()?;
        let _internal = d.bool()?;
        let mut partitions = Vec::new();
        for _ in 0..d.array_len()? {
            let error_code = d.i16()?;
            let index = d.i32()?;
            let leader = d.i32()?;
            let _leader_epoch = d.i32()?;
            for _ in 0..3 {
                // replicas, isr, offline replicas
                for _ in 0..d.array_len()? {
                    d.i32()?;
                }
            }
            partitions.push(PartitionMeta {
                error_code,
                index,
                leader,
            });
        }
        partitions.sort_by_key(|p| p.index);
        topics.push(TopicMeta {
            error_code,
            name,
            partitions,
        });
    }
    Ok(Metadata {
        brokers,
        controller_id,
        topics,
    })
}

// ---- CreateTopics v4 / DeleteTopics v3 --------------------------------------------------------

pub fn create_topics_body(
    e: &mut Encoder,
    name: &str,
    partitions: i32,
    replication_factor: i16,
    configs: &[(String, String)],
    timeout_ms: i32,
) {
    e.array_len(1)
        .string(name)
        .i32(partitions)
        .i16(replication_factor);
    e.array_len(0); // no manual assignments
    e.array_len(configs.len());
    for (k, v) in configs {
        e.string(k).nullable_string(Some(v));
    }
    e.i32(timeout_ms).bool(false);
}

/// (topic, error code, error message) per topic.
pub fn decode_create_topics(body: &[u8]) -> Result<Vec<(String, i16, Option<String>)>, WireError> {
    let mut d = Decoder::new(body);
    let _throttle = d.i32()?;
    let mut out = Vec::new();
    for _ in 0..d.array_len()? {
        out.push((d.string()?, d.i16()?, d.nullable_string()?));
    }
    Ok(out)
}

pub fn delete_topics_body(e: &mut Encoder, names: &[&str], timeout_ms: i32) {
    e.array_len(names.len());
    for n in names {
        e.string(n);
    }
    e.i32(timeout_ms);
}

pub fn decode_delete_topics(body: &[u8]) -> Result<Vec<(String, i16)>, WireError> {
    let mut d = Decoder::new(body);
    let _throttle = d.i32()?;
    let mut out = Vec::new();
    for _ in 0..d.array_len()? {
        out.push((d.string()?, d.i16()?));
    }
    Ok(out)
}

// ---- ListOffsets v4 -------------------------------------------------------------------------

pub fn list_offsets_body(e: &mut Encoder, topic: &str, partitions: &[i32], timestamp: i64) {
    e.i32(-1).i8(0); // replicaId (consumer), isolation READ_UNCOMMITTED
    e.array_len(1).string(topic).array_len(partitions.len());
    for p in partitions {
        e.i32(*p).i32(-1).i64(timestamp); // currentLeaderEpoch unknown
    }
}

/// (partition, error code, offset) per partition.
pub fn decode_list_offsets(body: &[u8]) -> Result<Vec<(i32, i16, i64)>, WireError> {
    let mut d = Decoder::new(body);
    let _throttle = d.i32()?;
    let mut out = Vec::new();
    for _ in 0..d.array_len()? {
        let _topic = d.string()?;
        for _ in 0..d.array_len()? {
            let partition = d.i32()?;
            let error = d.i16()?;
            let _timestamp = d.i64()?;
            let offset = d.i64()?;
            let _epoch = d.i32()?;
            out.push((partition, error, offset));
        }
    }
    Ok(out)
}

// ---- Produce v7 -----------------------------------------------------------------------------

/// A whole framed Produce request carrying one batch for one partition.
pub fn produce_request(
    client_id: &str,
    acks: i16,
    timeout_ms: i32,
    topic: &str,
    partition: i32,
    batch: &[u8],
) -> Vec<u8> {
    frame_request(PRODUCE, 0, client_id, |e| {
        e.nullable_string(None).i16(acks).i32(timeout_ms);
        e.array_len(1)
            .string(topic)
            .array_len(1)
            .i32(partition)
            .bytes(batch);
    })
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProducePartitionResult {
    pub partition: i32,
    pub error_code: i16,
    pub base_offset: i64,
}

pub fn decode_produce(body: &[u8]) -> Result<Vec<ProducePartitionResult>, WireError> {
    let mut d = Decoder::new(body);
    let mut out = Vec::new();
    for _ in 0..d.array_len()? {
        let _topic = d.string()?;
        for _ in 0..d.array_len()? {
            let partition = d.i32()?;
            let error_code = d.i16()?;
            let base_offset = d.i64()?;
            let _log_append_time = d.i64()?;
            let _log_start_offset = d.i64()?;
            out.push(ProducePartitionResult {
                partition,
                error_code,
                base_offset,
            });
        }
    }
    let _throttle = d.i32()?;
    Ok(out)
}

// ---- Fetch v11 request ----------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FetchLimits {
    pub max_wait_ms: i32,
    pub min_bytes: i32,
    pub max_bytes: i32,
    pub partition_max_bytes: i32,
}

/// A fetch session (KIP-227) as a request names it: id 0 and epoch -1 is a full fetch without a
/// session, id 0 and epoch 0 a full fetch that opens one, (id, n) the n-th incremental fetch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FetchSession {
    pub id: i32,
    pub epoch: i32,
}

impl FetchSession {
    pub const NONE: FetchSession = FetchSession { id: 0, epoch: -1 };
    pub const OPEN: FetchSession = FetchSession { id: 0, epoch: 0 };

    /// The session after a response that carried `id`: open (epoch 1) or the next epoch; a
    /// response without a session id leaves a fetcher that asked for one asking again.
    pub fn after_response(self, id: i32) -> FetchSession {
        if self.epoch < 0 {
            return self;
        }
        if id == 0 {
            return FetchSession::OPEN;
        }
        let epoch = if self.id == 0 || self.epoch == i32::MAX {
            1
        } else {
            self.epoch + 1
        };
        FetchSession { id, epoch }
    }

    /// An incremental request lists only partitions whose fetch offset changed.
    pub fn is_incremental(self) -> bool {
        self.epoch > 0
    }
}

pub fn fetch_body(
    e: &mut Encoder,
    limits: FetchLimits,
    session: FetchSession,
    topic: &str,
    partitions: &[(i32, i64)],
) {
    e.i32(-1) // replicaId: a consumer
        .i32(limits.max_wait_ms)
        .i32(limits.min_bytes)
        .i32(limits.max_bytes)
        .i8(0) // READ_UNCOMMITTED
        .i32(session.id)
        .i32(session.epoch);
    if partitions.is_empty() {
        // An incremental fetch with nothing changed lists no topic at all.
        e.array_len(0);
        e.array_len(0); // forgotten topics
        e.string(""); // rackId
        return;
    }
    e.array_len(1).string(topic).array_len(partitions.len());
    for (p, offset) in partitions {
        e.i32(*p)
            .i32(-1)
            .i64(*offset)
            .i64(-1)
            .i32(limits.partition_max_bytes);
    }
    e.array_len(0); // forgotten topics
    e.string(""); // rackId
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_frame_has_size_and_header_v1() {
        let f = frame_request(METADATA, 0x01020304, "lg", |e| {
            metadata_body(e, Some(&["t"]), false)
        });
        assert_eq!(
            i32::from_be_bytes(f[..4].try_into().unwrap()) as usize,
            f.len() - 4
        );
        assert_eq!(&f[4..12], &[0, 3, 0, 7, 1, 2, 3, 4]);
        assert_eq!(&f[12..16], &[0, 2, b'l', b'g']);
        // topics [ "t" ], allowAutoTopicCreation false
        assert_eq!(&f[16..], &[0, 0, 0, 1, 0, 1, b't', 0]);
    }

    #[test]
    fn correlation_id_can_be_patched_in_place() {
        let mut f = produce_request("lg", 1, 30_000, "t", 0, &[1, 2, 3]);
        set_correlation_id(&mut f, 77);
        assert_eq!(i32::from_be_bytes(f[8..12].try_into().unwrap()), 77);
    }

    #[test]
    fn produce_request_body_layout() {
        let f = produce_request("c", -1, 1000, "t", 5, &[0xaa, 0xbb]);
        let body = &f[4 + 2 + 2 + 4 + 3..];
        let expected: Vec<u8> = [
            &[0xff, 0xff][..],         // transactionalId null
            &[0xff, 0xff],             // acks -1
            &[0, 0, 0x03, 0xe8],       // timeout 1000
            &[0, 0, 0, 1, 0, 1, b't'], // one topic "t"
            &[0, 0, 0, 1, 0, 0, 0, 5], // one partition, index 5
            &[0, 0, 0, 2, 0xaa, 0xbb], // records
        ]
        .concat();
        assert_eq!(body, &expected[..]);
    }

    #[test]
    fn fetch_session_epochs() {
        let opened = FetchSession::OPEN.after_response(77);
        assert_eq!(opened, FetchSession { id: 77, epoch: 1 });
        assert!(opened.is_incremental());
        assert_eq!(opened.after_response(77), FetchSession { id: 77, epoch: 2 });
        let last = FetchSession {
            id: 77,
            epoch: i32::MAX,
        };
        assert_eq!(last.after_response(77).epoch, 1);
        // No slot for a session: the next request is full again and asks again.
        assert_eq!(FetchSession::OPEN.after_response(0), FetchSession::OPEN);
        assert!(!FetchSession::OPEN.is_incremental());
        assert_eq!(FetchSession::NONE.after_response(5), FetchSession::NONE);
    }

    #[test]
    fn an_incremental_fetch_with_nothing_changed_lists_no_topic() {
        let limits = FetchLimits {
            max_wait_ms: 0,
            min_bytes: 1,
            max_bytes: 1024,
            partition_max_bytes: 512,
        };
        let mut e = Encoder::new();
        fetch_body(&mut e, limits, FetchSession { id: 9, epoch: 3 }, "t", &[]);
        let b = e.into_bytes();
        // replicaId, maxWait, minBytes, maxBytes, isolation, session id, epoch, 0 topics, 0 forgotten, "".
        assert_eq!(b.len(), 4 * 4 + 1 + 4 + 4 + 4 + 4 + 2);
        assert_eq!(&b[17..25], &[0, 0, 0, 9, 0, 0, 0, 3]);
    }

    #[test]
    fn fetch_request_body_layout() {
        let mut e = Encoder::new();
        let limits = FetchLimits {
            max_wait_ms: 500,
            min_bytes: 1,
            max_bytes: 1 << 20,
            partition_max_bytes: 1 << 16,
        };
        fetch_body(&mut e, limits, FetchSession::NONE, "t", &[(2, 9)]);
        let expected: Vec<u8> = [
            &[0xff, 0xff, 0xff, 0xff][..],
            &[0, 0, 0x01, 0xf4],
            &[0, 0, 0, 1],
            &[0, 0x10, 0, 0],
            &[0],
            &[0, 0, 0, 0],
            &[0xff, 0xff, 0xff, 0xff],
            &[0, 0, 0, 1, 0, 1, b't', 0, 0, 0, 1],
            &[0, 0, 0, 2, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 9],
            &[0xff; 8],
            &[0, 1, 0, 0],
            &[0, 0, 0, 0],
            &[0, 0],
        ]
        .concat();
        assert_eq!(e.into_bytes(), expected);
    }

    #[test]
    fn metadata_response_decodes() {
        let mut e = Encoder::new();
        e.i32(0); // throttle
        e.array_len(1)
            .i32(1)
            .string("127.0.0.1")
            .i32(9092)
            .nullable_string(None);
        e.nullable_string(Some("cluster")).i32(1);
        e.array_len(1).i16(0).string("t").bool(false);
        e.array_len(2);
        for p in [1, 0] {
            e.i16(0).i32(p).i32(1).i32(0);
            e.array_len(1).i32(1).array_len(1).i32(1).array_len(0);
        }
        let m = decode_metadata(&e.into_bytes()).unwrap();
        assert_eq!(
            m.brokers,
            vec![BrokerAddr {
                node_id: 1,
                host: "127.0.0.1".into(),
                port: 9092
            }]
        );
        assert_eq!(m.controller_id, 1);
        assert_eq!(m.topics[0].name, "t");
        assert_eq!(
            m.topics[0]
                .partitions
                .iter()
                .map(|p| p.index)
                .collect::<Vec<_>>(),
            vec![0, 1]
        );
    }

    #[test]
    fn produce_response_decodes() {
        let mut e = Encoder::new();
        e.array_len(1)
            .string("t")
            .array_len(1)
            .i32(3)
            .i16(6)
            .i64(42)
            .i64(-1)
            .i64(0);
        e.i32(0);
        let r = decode_produce(&e.into_bytes()).unwrap();
        assert_eq!(
            r,
            vec![ProducePartitionResult {
                partition: 3,
                error_code: 6,
                base_offset: 42
            }]
        );
    }

    #[test]
    fn list_offsets_and_api_versions_decode() {
        let mut e = Encoder::new();
        e.i32(0)
            .array_len(1)
            .string("t")
            .array_len(1)
            .i32(0)
            .i16(0)
            .i64(-1)
            .i64(1234)
            .i32(0);
        assert_eq!(
            decode_list_offsets(&e.into_bytes()).unwrap(),
            vec![(0, 0, 1234)]
        );

        let mut e = Encoder::new();
        e.i16(0)
            .array_len(2)
            .i16(0)
            .i16(3)
            .i16(11)
            .i16(1)
            .i16(4)
            .i16(10);
        let (err, ranges) = decode_api_versions(&e.into_bytes()).unwrap();
        assert_eq!(err, 0);
        // Fetch v11 is above this broker's max of 10; Produce v7 fits 3..11.
        assert_eq!(unsupported(&[PRODUCE, FETCH], &ranges), vec![FETCH]);
    }

    #[test]
    fn create_and_delete_topics_round_trip() {
        let mut e = Encoder::new();
        create_topics_body(
            &mut e,
            "t",
            4,
            1,
            &[("segment.bytes".into(), "1048576".into())],
            5000,
        );
        let bytes = e.into_bytes();
        let mut d = Decoder::new(&bytes);
        assert_eq!(d.array_len().unwrap(), 1);
        assert_eq!(d.string().unwrap(), "t");
        assert_eq!(d.i32().unwrap(), 4);
        assert_eq!(d.i16().unwrap(), 1);
        assert_eq!(d.array_len().unwrap(), 0);
        assert_eq!(d.array_len().unwrap(), 1);
        assert_eq!(d.string().unwrap(), "segment.bytes");
        assert_eq!(d.nullable_string().unwrap().as_deref(), Some("1048576"));
        assert_eq!(d.i32().unwrap(), 5000);
        assert!(!d.bool().unwrap());
        assert_eq!(d.remaining(), 0);

        let mut e = Encoder::new();
        e.i32(0)
            .array_len(1)
            .string("t")
            .i16(36)
            .nullable_string(Some("exists"));
        assert_eq!(
            decode_create_topics(&e.into_bytes()).unwrap(),
            vec![("t".into(), 36, Some("exists".into()))]
        );
        let mut e = Encoder::new();
        e.i32(0).array_len(1).string("t").i16(0);
        assert_eq!(
            decode_delete_topics(&e.into_bytes()).unwrap(),
            vec![("t".into(), 0)]
        );
    }
}
