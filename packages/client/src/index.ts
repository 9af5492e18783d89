// @sluice/client: a small Kafka client over @sluice/protocol. It speaks the Kafka protocol to any
// Kafka-compatible broker (ours or not) over TCP and knows nothing of the broker's internals or
// of a command line: the `sluice` command (packages/cli) is one user; the broker (followers
// fetching from leaders, the transaction coordinator writing markers) is meant to be another.
//
// Layers, bottom up: BrokerConnection (one socket, version negotiation) -> KafkaClient
// (bootstrap, Metadata, a connection per broker) -> operations as functions over a KafkaClient
// (admin, groups, offsets, transactions) and the stateful Producer, Fetcher, Consumer and GroupMember.
// Everything a caller needs is exported here; src/testing/ (the scripted fake broker) is not.

export { ClientError, ConnectionError, KafkaApiError, RequestTimeoutError, UnsupportedApiError, UsageError, checkError } from './errors.ts';
export { MalformedBytesError } from './bytes.ts';

export { BrokerConnection, type ClientTlsOptions, type ConnectionOptions, type RequestOptions } from './connection.ts';
export { SASL_MECHANISMS, type SaslCredentials, type SaslMechanism } from './sasl/authenticate.ts';
export { ScramClient, type ScramMechanism } from './sasl/scram-client.ts';
export { type BrokerApiRange, clientRange, negotiate, pickVersion, type VersionRow, versionTable } from './api-versions.ts';
export {
  type BrokerInfo,
  type ClientOptions,
  type ClusterMetadata,
  DEFAULT_BOOTSTRAP,
  KafkaClient,
  type PartitionInfo,
  parseBootstrap,
  type TopicInfo,
} from './kafka-client.ts';

export {
  alterTopicConfigs,
  type ClusterDescription,
  CONFIG_SOURCE_DYNAMIC_TOPIC,
  CONFIG_SOURCE_NAMES,
  type ConfigChange,
  type ConfigEntry,
  ConfigResourceType,
  type CreatedTopic,
  createPartitions,
  createTopics,
  deleteTopics,
  describeCluster,
  describeConfigs,
  type NewTopic,
  type ResourceConfigs,
  type TopicResult,
} from './admin.ts';
export {
  type CommitRequest,
  type CommittedOffset,
  commitOffsets,
  committedByPartition,
  deleteGroups,
  describeGroup,
  fetchCommittedOffsets,
  findCoordinator,
  type GroupDescription,
  type GroupListing,
  type GroupMemberDescription,
  type GroupResult,
  listGroups,
  shareGroupStartOffsets,
} from './groups.ts';
export {
  type ActiveProducer,
  describeProducers,
  describeTransaction,
  type ListTransactionsFilters,
  listTransactions,
  type TransactionDescription,
  type TransactionListing,
} from './transactions.ts';
export { EARLIEST_TIMESTAMP, LATEST_TIMESTAMP, listOffsets, type OffsetAnswer, type OffsetQuery, type TopicPartition, tpKey } from './offsets.ts';

export { DEFAULT_PRODUCER_OPTIONS, Producer, type ProducerOptions, type ProducerRecord, type ProducerStats } from './producer.ts';
export { murmur2, partitionForKey, StickyPartitioner } from './partitioner.ts';
export {
  DEFAULT_FETCH_OPTIONS,
  decodePartitionRecords,
  type FetchedHeader,
  type FetchedRecord,
  Fetcher,
  type FetchOptions,
  type FetchPosition,
  type PartitionFetch,
} from './fetcher.ts';
export { Consumer, type ConsumerOptions, type ResetPolicy, type StartPosition } from './consumer.ts';

export { DEFAULT_MEMBERSHIP, GroupMember, type HeartbeatOutcome, type MembershipOptions } from './group-member.ts';
export {
  type Assignment,
  CONSUMER_PROTOCOL_TYPE,
  CONSUMER_PROTOCOL_VERSION,
  decodeAssignment,
  decodeSubscription,
  encodeAssignment,
  encodeSubscription,
  type Subscription,
  type TopicPartitions,
} from './consumer-protocol.ts';
export { alterClientQuotas, describeClientQuotas, type QuotaEntity, type QuotaEntry, type QuotaMatch } from './quota-admin.ts';
export { type AssignorMember, assignRange, RANGE_ASSIGNOR_NAME } from './range-assignor.ts';
export {
  ACL_OPERATIONS,
  ACL_PATTERN_TYPES,
  ACL_PERMISSIONS,
  ACL_RESOURCE_TYPES,
  type AclBinding,
  type AclFilter,
  aclName,
  type AclResult,
  alterUserScramCredentials,
  createAcls,
  deleteAcls,
  describeAcls,
  describeUserScramCredentials,
  SCRAM_MECHANISMS,
  type ScramDelete,
  type ScramMechanismName,
  type ScramUpsert,
  scramMechanismName,
  type UserCredentials,
} from './security-admin.ts';
