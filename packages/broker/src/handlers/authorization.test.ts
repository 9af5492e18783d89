// The authorization table: for every API the broker serves, what a principal without ACLs gets
// with the authorizer on, as Kafka's KafkaApis answers it (the check table in
// security/README.md, read from KafkaApis/AclApis), and that the ACL Kafka checks, once granted,
// lifts exactly that error. Every served API key must have a row.

import { ErrorCode } from '@sluice/protocol';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { AclOperation, AclPermissionType, PatternType, ResourceType } from '../security/acl/acl-types.ts';
import { callHandler } from '../testing/call-handler.ts';
import type { TopicImages } from '../groups/consumer-group-manager.ts';
import { harness } from '../testing/group-harness.ts';
import { MemoryGroupLog } from '../testing/memory-group-log.ts';
import { startTestBroker, type TestBroker } from '../testing/test-broker.ts';
import type { ApiHandler } from './handler.ts';
import { createHandlerRegistry } from './index.ts';

const ALICE = { principal: 'User:alice', host: '127.0.0.1' };
const E = ErrorCode;
const { TOPIC, GROUP, CLUSTER, TRANSACTIONAL_ID } = ResourceType;
const O = AclOperation;

interface Grant {
  readonly type: number;
  readonly name: string;
  readonly op: number;
}

interface Row {
  readonly api: string;
  readonly key: number;
  readonly version: number;
  readonly body: object;
  /** The error codes of the answer that the check decides. */
  readonly codes: (response: any) => number[];
  /** What a principal without ACLs gets in those places (NONE: nothing is checked). */
  readonly denied: number;
  /** The ACLs that lift the denial. */
  readonly grants: readonly Grant[];
  /** ACLs the principal already has (the checks before the one this row is about pass). */
  readonly given?: readonly Grant[];
}

const fetchPartition = { partition: 0, currentLeaderEpoch: -1, fetchOffset: 0, lastFetchedEpoch: -1, logStartOffset: -1, partitionMaxBytes: 1000 };
const join = {
  groupId: 'g',
  sessionTimeoutMs: 10_000,
  rebalanceTimeoutMs: 10_000,
  memberId: '',
  groupInstanceId: null,
  protocolType: 'consumer',
  protocols: [{ name: 'range', metadata: new Uint8Array(1) }],
  reason: null,
};

const heartbeat = {
  groupId: 'cg',
  memberId: 'm1',
  memberEpoch: 0,
  instanceId: null,
  rackId: null,
  rebalanceTimeoutMs: 60_000,
  subscribedTopicNames: ['t'],
  subscribedTopicRegex: null,
  serverAssignor: null,
  topicPartitions: [],
};

const ROWS: Row[] = [
  {
    api: 'Produce',
    key: 0,
    version: 9,
    body: { transactionalId: null, acks: 1, timeoutMs: 1000, topicData: [{ name: 't', partitionData: [{ index: 0, records: null }] }] },
    codes: (r) => [r.responses[0].partitionResponses[0].errorCode],
    denied: E.TOPIC_AUTHORIZATION_FAILED,
    grants: [{ type: TOPIC, name: 't', op: O.WRITE }],
  },
  {
    api: 'Produce (transactional)',
    key: 0,
    version: 9,
    body: { transactionalId: 'tx', acks: 1, timeoutMs: 1000, topicData: [{ name: 't', partitionData: [{ index: 0, records: null }] }] },
    codes: (r) => [r.responses[0].partitionResponses[0].errorCode],
    denied: E.TRANSACTIONAL_ID_AUTHORIZATION_FAILED,
    grants: [{ type: TRANSACTIONAL_ID, name: 'tx', op: O.WRITE }],
  },
  {
    api: 'Fetch',
    key: 1,
    version: 12,
    body: {
      replicaId: -1,
      maxWaitMs: 0,
      minBytes: 0,
      maxBytes: 1000,
      isolationLevel: 0,
      sessionId: 0,
      sessionEpoch: -1,
      topics: [{ topic: 't', partitions: [fetchPartition] }],
      forgottenTopicsData: [],
      rackId: '',
    },
    codes: (r) => [r.responses[0].partitions[0].errorCode],
    denied: E.TOPIC_AUTHORIZATION_FAILED,
    grants: [{ type: TOPIC, name: 't', op: O.READ }],
  },
  {
    api: 'ListOffsets',
    key: 2,
    version: 7,
    body: { replicaId: -1, isolationLevel: 0, topics: [{ name: 't', partitions: [{ partitionIndex: 0, currentLeaderEpoch: -1, timestamp: -1 }] }] },
    codes: (r) => [r.topics[0].partitions[0].errorCode],
    denied: E.TOPIC_AUTHORIZATION_FAILED,
    grants: [{ type: TOPIC, name: 't', op: O.DESCRIBE }],
  },
  {
    api: 'Metadata (named)',
    key: 3,
    version: 12,
    body: { topics: [{ name: 't', topicId: '00000000000000000000000000000000' }], allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false },
    codes: (r) => [r.topics[0].errorCode],
    denied: E.TOPIC_AUTHORIZATION_FAILED,
    grants: [{ type: TOPIC, name: 't', op: O.DESCRIBE }],
  },
  {
    api: 'Metadata (auto-create)',
    key: 3,
    version: 12,
    body: { topics: [{ name: 'fresh', topicId: '00000000000000000000000000000000' }], allowAutoTopicCreation: true, includeTopicAuthorizedOperations: false },
    codes: (r) => [r.topics[0].errorCode],
    denied: E.TOPIC_AUTHORIZATION_FAILED,
    grants: [
      { type: TOPIC, name: 'fresh', op: O.DESCRIBE },
      { type: TOPIC, name: 'fresh', op: O.CREATE },
    ],
  },
  {
    api: 'OffsetCommit',
    key: 8,
    version: 8,
    body: {
      groupId: 'g',
      generationIdOrMemberEpoch: -1,
      memberId: '',
      groupInstanceId: null,
      topics: [{ name: 't', partitions: [{ partitionIndex: 0, committedOffset: 0, committedLeaderEpoch: -1, committedMetadata: '' }] }],
    },
    codes: (r) => [r.topics[0].partitions[0].errorCode],
    denied: E.GROUP_AUTHORIZATION_FAILED,
    grants: [
      { type: GROUP, name: 'g', op: O.READ },
      { type: TOPIC, name: 't', op: O.READ },
    ],
  },
  {
    api: 'OffsetFetch v7',
    key: 9,
    version: 7,
    body: { groupId: 'g', topics: [{ name: 't', partitionIndexes: [0] }], requireStable: false },
    codes: (r) => [r.errorCode],
    denied: E.GROUP_AUTHORIZATION_FAILED,
    grants: [{ type: GROUP, name: 'g', op: O.DESCRIBE }],
  },
  {
    api: 'OffsetFetch v8',
    key: 9,
    version: 8,
    body: { groups: [{ groupId: 'g', topics: [{ name: 't', partitionIndexes: [0] }] }], requireStable: false },
    codes: (r) => [r.groups[0].errorCode],
    denied: E.GROUP_AUTHORIZATION_FAILED,
    grants: [{ type: GROUP, name: 'g', op: O.DESCRIBE }],
  },
  {
    api: 'FindCoordinator (group)',
    key: 10,
    version: 4,
    body: { keyType: 0, coordinatorKeys: ['g'] },
    codes: (r) => [r.coordinators[0].errorCode],
    denied: E.GROUP_AUTHORIZATION_FAILED,
    grants: [{ type: GROUP, name: 'g', op: O.DESCRIBE }],
  },
  {
    api: 'FindCoordinator (transaction)',
    key: 10,
    version: 3,
    body: { key: 'tx', keyType: 1 },
    codes: (r) => [r.errorCode],
    denied: E.TRANSACTIONAL_ID_AUTHORIZATION_FAILED,
    grants: [{ type: TRANSACTIONAL_ID, name: 'tx', op: O.DESCRIBE }],
  },
  {
    api: 'JoinGroup',
    key: 11,
    version: 9,
    body: join,
    codes: (r) => [r.errorCode],
    denied: E.GROUP_AUTHORIZATION_FAILED,
    grants: [{ type: GROUP, name: 'g', op: O.READ }],
  },
  {
    api: 'Heartbeat',
    key: 12,
    version: 4,
    body: { groupId: 'g', generationId: 1, memberId: 'm', groupInstanceId: null },
    codes: (r) => [r.errorCode],
    denied: E.GROUP_AUTHORIZATION_FAILED,
    grants: [{ type: GROUP, name: 'g', op: O.READ }],
  },
  {
    api: 'LeaveGroup',
    key: 13,
    version: 5,
    body: { groupId: 'g', members: [{ memberId: 'm', groupInstanceId: null, reason: null }] },
    codes: (r) => [r.errorCode],
    denied: E.GROUP_AUTHORIZATION_FAILED,
    grants: [{ type: GROUP, name: 'g', op: O.READ }],
  },
  {
    api: 'SyncGroup',
    key: 14,
    version: 5,
    body: { groupId: 'g', generationId: 1, memberId: 'm', groupInstanceId: null, protocolType: 'consumer', protocolName: 'range', assignments: [] },
    codes: (r) => [r.errorCode],
    denied: E.GROUP_AUTHORIZATION_FAILED,
    grants: [{ type: GROUP, name: 'g', op: O.READ }],
  },
  {
    api: 'DescribeGroups',
    key: 15,
    version: 5,
    body: { groups: ['g'], includeAuthorizedOperations: true },
    codes: (r) => [r.groups[0].errorCode],
    denied: E.GROUP_AUTHORIZATION_FAILED,
    grants: [{ type: GROUP, name: 'g', op: O.DESCRIBE }],
  },
  {
    api: 'ListGroups (filtered)',
    key: 16,
    version: 4,
    body: { statesFilter: [] },
    codes: (r) => [r.groups.length === 0 ? -1 : 0],
    denied: -1,
    grants: [{ type: GROUP, name: 'g', op: O.DESCRIBE }],
  },
  { api: 'SaslHandshake', key: 17, version: 1, body: { mechanism: 'PLAIN' }, codes: () => [0], denied: E.NONE, grants: [] },
  {
    api: 'ApiVersions',
    key: 18,
    version: 3,
    body: { clientSoftwareName: 'x', clientSoftwareVersion: '1' },
    codes: (r) => [r.errorCode],
    denied: E.NONE,
    grants: [],
  },
  {
    api: 'CreateTopics',
    key: 19,
    version: 7,
    body: { topics: [{ name: 'new', numPartitions: 1, replicationFactor: -1, assignments: [], configs: [] }], timeoutMs: 1000, validateOnly: true },
    codes: (r) => [r.topics[0].errorCode],
    denied: E.TOPIC_AUTHORIZATION_FAILED,
    grants: [{ type: TOPIC, name: 'new', op: O.CREATE }],
  },
  {
    api: 'CreateTopics (CREATE on cluster)',
    key: 19,
    version: 7,
    body: { topics: [{ name: 'new', numPartitions: 1, replicationFactor: -1, assignments: [], configs: [] }], timeoutMs: 1000, validateOnly: true },
    codes: (r) => [r.topics[0].errorCode],
    denied: E.TOPIC_AUTHORIZATION_FAILED,
    grants: [{ type: CLUSTER, name: 'kafka-cluster', op: O.CREATE }],
  },
  {
    api: 'DeleteTopics',
    key: 20,
    version: 6,
    body: { topics: [{ name: 't', topicId: '00000000000000000000000000000000' }], timeoutMs: 1000 },
    codes: (r) => [r.responses[0].errorCode],
    denied: E.TOPIC_AUTHORIZATION_FAILED,
    grants: [{ type: TOPIC, name: 't', op: O.DELETE }],
  },
  {
    api: 'DeleteRecords',
    key: 21,
    version: 2,
    body: { topics: [{ name: 't', partitions: [{ partitionIndex: 0, offset: 0 }] }], timeoutMs: 1000 },
    codes: (r) => [r.topics[0].partitions[0].errorCode],
    denied: E.TOPIC_AUTHORIZATION_FAILED,
    grants: [{ type: TOPIC, name: 't', op: O.DELETE }],
  },
  {
    api: 'InitProducerId (idempotent)',
    key: 22,
    version: 4,
    body: { transactionalId: null, transactionTimeoutMs: 1000, producerId: -1, producerEpoch: -1 },
    codes: (r) => [r.errorCode],
    denied: E.CLUSTER_AUTHORIZATION_FAILED,
    grants: [{ type: CLUSTER, name: 'kafka-cluster', op: O.IDEMPOTENT_WRITE }],
  },
  {
    api: 'InitProducerId (idempotent, WRITE on a topic)',
    key: 22,
    version: 4,
    body: { transactionalId: null, transactionTimeoutMs: 1000, producerId: -1, producerEpoch: -1 },
    codes: (r) => [r.errorCode],
    denied: E.CLUSTER_AUTHORIZATION_FAILED,
    grants: [{ type: TOPIC, name: 'any', op: O.WRITE }],
  },
  {
    api: 'InitProducerId (transactional)',
    key: 22,
    version: 4,
    body: { transactionalId: 'tx', transactionTimeoutMs: 1000, producerId: -1, producerEpoch: -1 },
    codes: (r) => [r.errorCode],
    denied: E.TRANSACTIONAL_ID_AUTHORIZATION_FAILED,
    grants: [{ type: TRANSACTIONAL_ID, name: 'tx', op: O.WRITE }],
  },
  {
    api: 'OffsetForLeaderEpoch',
    key: 23,
    version: 4,
    body: { replicaId: -1, topics: [{ topic: 't', partitions: [{ partition: 0, currentLeaderEpoch: -1, leaderEpoch: 0 }] }] },
    codes: (r) => [r.topics[0].partitions[0].errorCode],
    denied: E.TOPIC_AUTHORIZATION_FAILED,
    grants: [{ type: TOPIC, name: 't', op: O.DESCRIBE }],
  },
  {
    api: 'DescribeAcls',
    key: 29,
    version: 3,
    body: { resourceTypeFilter: 1, resourceNameFilter: null, patternTypeFilter: 1, principalFilter: null, hostFilter: null, operation: 1, permissionType: 1 },
    codes: (r) => [r.errorCode],
    denied: E.CLUSTER_AUTHORIZATION_FAILED,
    grants: [{ type: CLUSTER, name: 'kafka-cluster', op: O.DESCRIBE }],
  },
  {
    api: 'CreateAcls',
    key: 30,
    version: 3,
    body: {
      creations: [{ resourceType: TOPIC, resourceName: 'x', resourcePatternType: 3, principal: 'User:bob', host: '*', operation: O.READ, permissionType: 3 }],
    },
    codes: (r) => [r.results[0].errorCode],
    denied: E.CLUSTER_AUTHORIZATION_FAILED,
    grants: [{ type: CLUSTER, name: 'kafka-cluster', op: O.ALTER }],
  },
  {
    api: 'DeleteAcls',
    key: 31,
    version: 3,
    body: {
      filters: [
        { resourceTypeFilter: TOPIC, resourceNameFilter: 'x', patternTypeFilter: 3, principalFilter: null, hostFilter: null, operation: 1, permissionType: 1 },
      ],
    },
    codes: (r) => [r.filterResults[0].errorCode],
    denied: E.CLUSTER_AUTHORIZATION_FAILED,
    grants: [{ type: CLUSTER, name: 'kafka-cluster', op: O.ALTER }],
  },
  {
    api: 'DescribeConfigs (topic)',
    key: 32,
    version: 4,
    body: { resources: [{ resourceType: 2, resourceName: 't', configurationKeys: null }], includeSynonyms: false, includeDocumentation: false },
    codes: (r) => [r.results[0].errorCode],
    denied: E.TOPIC_AUTHORIZATION_FAILED,
    grants: [{ type: TOPIC, name: 't', op: O.DESCRIBE_CONFIGS }],
  },
  {
    api: 'DescribeConfigs (broker)',
    key: 32,
    version: 4,
    body: { resources: [{ resourceType: 4, resourceName: '1', configurationKeys: null }], includeSynonyms: false, includeDocumentation: false },
    codes: (r) => [r.results[0].errorCode],
    denied: E.CLUSTER_AUTHORIZATION_FAILED,
    grants: [{ type: CLUSTER, name: 'kafka-cluster', op: O.DESCRIBE_CONFIGS }],
  },
  {
    api: 'AlterConfigs (topic)',
    key: 33,
    version: 2,
    body: { resources: [{ resourceType: 2, resourceName: 't', configs: [] }], validateOnly: true },
    codes: (r) => [r.responses[0].errorCode],
    denied: E.TOPIC_AUTHORIZATION_FAILED,
    grants: [{ type: TOPIC, name: 't', op: O.ALTER_CONFIGS }],
  },
  {
    api: 'AlterConfigs (broker)',
    key: 33,
    version: 2,
    body: { resources: [{ resourceType: 4, resourceName: '1', configs: [] }], validateOnly: true },
    codes: (r) => [r.responses[0].errorCode],
    denied: E.CLUSTER_AUTHORIZATION_FAILED,
    grants: [{ type: CLUSTER, name: 'kafka-cluster', op: O.ALTER_CONFIGS }],
  },
  {
    api: 'DescribeLogDirs',
    key: 35,
    version: 4,
    body: { topics: null },
    // Kafka answers no results along with the error.
    codes: (r) => [r.errorCode, r.results.length === 0 ? E.CLUSTER_AUTHORIZATION_FAILED : E.NONE],
    denied: E.CLUSTER_AUTHORIZATION_FAILED,
    grants: [{ type: CLUSTER, name: 'kafka-cluster', op: O.DESCRIBE }],
  },
  { api: 'SaslAuthenticate', key: 36, version: 2, body: { authBytes: new Uint8Array(0) }, codes: () => [0], denied: E.NONE, grants: [] },
  {
    api: 'CreatePartitions',
    key: 37,
    version: 3,
    body: { topics: [{ name: 't', count: 2, assignments: null }], timeoutMs: 1000, validateOnly: true },
    codes: (r) => [r.results[0].errorCode],
    denied: E.TOPIC_AUTHORIZATION_FAILED,
    grants: [{ type: TOPIC, name: 't', op: O.ALTER }],
  },
  {
    api: 'DeleteGroups',
    key: 42,
    version: 2,
    body: { groupsNames: ['g'] },
    codes: (r) => [r.results[0].errorCode],
    denied: E.GROUP_AUTHORIZATION_FAILED,
    grants: [{ type: GROUP, name: 'g', op: O.DELETE }],
  },
  {
    api: 'ElectLeaders',
    key: 43,
    version: 2,
    body: { electionType: 0, topicPartitions: [{ topic: 't', partitions: [0] }], timeoutMs: 1000 },
    codes: (r) => [r.errorCode, r.replicaElectionResults[0].partitionResult[0].errorCode],
    denied: E.CLUSTER_AUTHORIZATION_FAILED,
    grants: [{ type: CLUSTER, name: 'kafka-cluster', op: O.ALTER }],
  },
  {
    api: 'IncrementalAlterConfigs (topic)',
    key: 44,
    version: 1,
    body: { resources: [{ resourceType: 2, resourceName: 't', configs: [] }], validateOnly: true },
    codes: (r) => [r.responses[0].errorCode],
    denied: E.TOPIC_AUTHORIZATION_FAILED,
    grants: [{ type: TOPIC, name: 't', op: O.ALTER_CONFIGS }],
  },
  {
    api: 'IncrementalAlterConfigs (broker)',
    key: 44,
    version: 1,
    body: { resources: [{ resourceType: 4, resourceName: '1', configs: [] }], validateOnly: true },
    codes: (r) => [r.responses[0].errorCode],
    denied: E.CLUSTER_AUTHORIZATION_FAILED,
    grants: [{ type: CLUSTER, name: 'kafka-cluster', op: O.ALTER_CONFIGS }],
  },
  {
    api: 'AlterPartitionReassignments',
    key: 45,
    version: 0,
    body: { timeoutMs: 1000, topics: [{ name: 't', partitions: [{ partitionIndex: 0, replicas: null }] }] },
    codes: (r) => [r.errorCode, r.responses[0].partitions[0].errorCode],
    denied: E.CLUSTER_AUTHORIZATION_FAILED,
    grants: [{ type: CLUSTER, name: 'kafka-cluster', op: O.ALTER }],
  },
  {
    api: 'ListPartitionReassignments',
    key: 46,
    version: 0,
    body: { timeoutMs: 1000, topics: null },
    codes: (r) => [r.errorCode],
    denied: E.CLUSTER_AUTHORIZATION_FAILED,
    grants: [{ type: CLUSTER, name: 'kafka-cluster', op: O.DESCRIBE }],
  },
  {
    api: 'OffsetDelete',
    key: 47,
    version: 0,
    body: { groupId: 'g', topics: [{ name: 't', partitions: [{ partitionIndex: 0 }] }] },
    codes: (r) => [r.errorCode],
    denied: E.GROUP_AUTHORIZATION_FAILED,
    grants: [{ type: GROUP, name: 'g', op: O.DELETE }],
  },
  {
    api: 'OffsetDelete (topic)',
    key: 47,
    version: 0,
    body: { groupId: 'g', topics: [{ name: 't', partitions: [{ partitionIndex: 0 }] }] },
    codes: (r) => [r.topics[0].partitions[0].errorCode],
    denied: E.TOPIC_AUTHORIZATION_FAILED,
    grants: [{ type: TOPIC, name: 't', op: O.READ }],
    given: [{ type: GROUP, name: 'g', op: O.DELETE }],
  },
  {
    api: 'DescribeUserScramCredentials',
    key: 50,
    version: 0,
    body: { users: null },
    codes: (r) => [r.errorCode],
    denied: E.CLUSTER_AUTHORIZATION_FAILED,
    grants: [{ type: CLUSTER, name: 'kafka-cluster', op: O.DESCRIBE }],
  },
  {
    api: 'AlterUserScramCredentials',
    key: 51,
    version: 0,
    body: { deletions: [{ name: 'bob', mechanism: 1 }], upsertions: [] },
    codes: (r) => [r.results[0].errorCode],
    denied: E.CLUSTER_AUTHORIZATION_FAILED,
    grants: [{ type: CLUSTER, name: 'kafka-cluster', op: O.ALTER }],
  },
  {
    api: 'DescribeClientQuotas',
    key: 48,
    version: 1,
    body: { components: [], strict: false },
    codes: (r) => [r.errorCode],
    denied: E.CLUSTER_AUTHORIZATION_FAILED,
    grants: [{ type: CLUSTER, name: 'kafka-cluster', op: O.DESCRIBE_CONFIGS }],
  },
  {
    api: 'AlterClientQuotas',
    key: 49,
    version: 1,
    body: {
      entries: [{ entity: [{ entityType: 'user', entityName: 'bob' }], ops: [{ key: 'producer_byte_rate', value: 1024, remove: false }] }],
      validateOnly: true,
    },
    codes: (r) => [r.entries[0].errorCode],
    denied: E.CLUSTER_AUTHORIZATION_FAILED,
    grants: [{ type: CLUSTER, name: 'kafka-cluster', op: O.ALTER_CONFIGS }],
  },
  {
    api: 'UpdateFeatures',
    key: 57,
    version: 1,
    body: { timeoutMs: 1000, featureUpdates: [{ feature: 'group.version', maxVersionLevel: 1, upgradeType: 1 }], validateOnly: true },
    codes: (r) => [r.errorCode],
    denied: E.CLUSTER_AUTHORIZATION_FAILED,
    grants: [{ type: CLUSTER, name: 'kafka-cluster', op: O.ALTER }],
  },
  {
    api: 'AddPartitionsToTxn v3',
    key: 24,
    version: 3,
    body: { v3AndBelowTransactionalId: 'tx', v3AndBelowProducerId: 1, v3AndBelowProducerEpoch: 0, v3AndBelowTopics: [{ name: 't', partitions: [0] }] },
    codes: (r) => r.resultsByTopicV3AndBelow[0].resultsByPartition.map((p: { partitionErrorCode: number }) => p.partitionErrorCode),
    denied: E.TRANSACTIONAL_ID_AUTHORIZATION_FAILED,
    grants: [
      { type: TRANSACTIONAL_ID, name: 'tx', op: O.WRITE },
      { type: TOPIC, name: 't', op: O.WRITE },
    ],
  },
  {
    api: 'AddPartitionsToTxn v4 (brokers)',
    key: 24,
    version: 4,
    body: { transactions: [{ transactionalId: 'tx', producerId: 1, producerEpoch: 0, verifyOnly: true, topics: [{ name: 't', partitions: [0] }] }] },
    codes: (r) => [r.errorCode],
    denied: E.CLUSTER_AUTHORIZATION_FAILED,
    grants: [{ type: CLUSTER, name: 'kafka-cluster', op: O.CLUSTER_ACTION }],
  },
  {
    api: 'AddOffsetsToTxn',
    key: 25,
    version: 3,
    body: { transactionalId: 'tx', producerId: 1, producerEpoch: 0, groupId: 'g' },
    codes: (r) => [r.errorCode],
    denied: E.TRANSACTIONAL_ID_AUTHORIZATION_FAILED,
    grants: [
      { type: TRANSACTIONAL_ID, name: 'tx', op: O.WRITE },
      { type: GROUP, name: 'g', op: O.READ },
    ],
  },
  {
    api: 'EndTxn',
    key: 26,
    version: 3,
    body: { transactionalId: 'tx', producerId: 1, producerEpoch: 0, committed: true },
    codes: (r) => [r.errorCode],
    denied: E.TRANSACTIONAL_ID_AUTHORIZATION_FAILED,
    grants: [{ type: TRANSACTIONAL_ID, name: 'tx', op: O.WRITE }],
  },
  {
    api: 'WriteTxnMarkers',
    key: 27,
    version: 1,
    body: { markers: [{ producerId: 1, producerEpoch: 0, transactionResult: true, topics: [{ name: 't', partitionIndexes: [0] }], coordinatorEpoch: 0 }] },
    codes: (r) => r.markers[0].topics[0].partitions.map((p: { errorCode: number }) => p.errorCode),
    denied: E.CLUSTER_AUTHORIZATION_FAILED,
    grants: [{ type: CLUSTER, name: 'kafka-cluster', op: O.CLUSTER_ACTION }],
  },
  {
    api: 'TxnOffsetCommit',
    key: 28,
    version: 3,
    body: {
      transactionalId: 'tx',
      groupId: 'g',
      producerId: 1,
      producerEpoch: 0,
      generationId: -1,
      memberId: '',
      groupInstanceId: null,
      topics: [{ name: 't', partitions: [{ partitionIndex: 0, committedOffset: 1, committedLeaderEpoch: -1, committedMetadata: '' }] }],
    },
    codes: (r) => [r.topics[0].partitions[0].errorCode],
    denied: E.TRANSACTIONAL_ID_AUTHORIZATION_FAILED,
    grants: [
      { type: TRANSACTIONAL_ID, name: 'tx', op: O.WRITE },
      { type: GROUP, name: 'g', op: O.READ },
      { type: TOPIC, name: 't', op: O.READ },
    ],
  },
  {
    api: 'DescribeProducers',
    key: 61,
    version: 0,
    body: { topics: [{ name: 't', partitionIndexes: [0] }] },
    codes: (r) => [r.topics[0].partitions[0].errorCode],
    denied: E.TOPIC_AUTHORIZATION_FAILED,
    grants: [{ type: TOPIC, name: 't', op: O.READ }],
  },
  {
    api: 'DescribeTransactions',
    key: 65,
    version: 0,
    body: { transactionalIds: ['tx'] },
    codes: (r) => [r.transactionStates[0].errorCode],
    denied: E.TRANSACTIONAL_ID_AUTHORIZATION_FAILED,
    grants: [{ type: TRANSACTIONAL_ID, name: 'tx', op: O.DESCRIBE }],
  },
  {
    api: 'ListTransactions (filtered, never refused)',
    key: 66,
    version: 1,
    body: { stateFilters: [], producerIdFilters: [], durationFilter: -1 },
    codes: (r) => [r.errorCode],
    denied: E.NONE,
    grants: [],
  },
  {
    api: 'DescribeCluster',
    key: 60,
    version: 1,
    body: { includeClusterAuthorizedOperations: true, endpointType: 1 },
    codes: (r) => [r.errorCode],
    denied: E.NONE,
    grants: [],
  },
  {
    api: 'ConsumerGroupHeartbeat',
    key: 68,
    version: 1,
    body: heartbeat,
    codes: (r) => [r.errorCode],
    denied: E.GROUP_AUTHORIZATION_FAILED,
    grants: [{ type: GROUP, name: 'cg', op: O.READ }],
  },
  {
    api: 'ConsumerGroupHeartbeat (subscribed topic)',
    key: 68,
    version: 1,
    body: heartbeat,
    codes: (r) => [r.errorCode],
    denied: E.TOPIC_AUTHORIZATION_FAILED,
    grants: [{ type: TOPIC, name: 't', op: O.DESCRIBE }],
    given: [{ type: GROUP, name: 'cg', op: O.READ }],
  },
  {
    api: 'ConsumerGroupDescribe',
    key: 69,
    version: 1,
    body: { groupIds: ['cg'], includeAuthorizedOperations: true },
    codes: (r) => [r.groups[0].errorCode],
    denied: E.GROUP_AUTHORIZATION_FAILED,
    grants: [{ type: GROUP, name: 'cg', op: O.DESCRIBE }],
  },
  {
    api: 'ShareGroupHeartbeat',
    key: 76,
    version: 1,
    body: { groupId: 'sg', memberId: 'm1', memberEpoch: 0, rackId: null, subscribedTopicNames: ['t'] },
    codes: (r) => [r.errorCode],
    denied: E.GROUP_AUTHORIZATION_FAILED,
    grants: [{ type: GROUP, name: 'sg', op: O.READ }],
  },
  {
    api: 'ShareGroupHeartbeat (subscribed topic)',
    key: 76,
    version: 1,
    body: { groupId: 'sg', memberId: 'm1', memberEpoch: 0, rackId: null, subscribedTopicNames: ['t'] },
    codes: (r) => [r.errorCode],
    denied: E.TOPIC_AUTHORIZATION_FAILED,
    grants: [{ type: TOPIC, name: 't', op: O.DESCRIBE }],
    given: [{ type: GROUP, name: 'sg', op: O.READ }],
  },
  {
    api: 'ShareGroupDescribe',
    key: 77,
    version: 1,
    body: { groupIds: ['sg'], includeAuthorizedOperations: false },
    codes: (r) => [r.groups[0].errorCode],
    denied: E.GROUP_AUTHORIZATION_FAILED,
    grants: [{ type: GROUP, name: 'sg', op: O.DESCRIBE }],
  },
  {
    api: 'ShareFetch',
    key: 78,
    version: 2,
    body: {
      groupId: 'sg',
      memberId: 'm1',
      shareSessionEpoch: 0,
      maxWaitMs: 0,
      minBytes: 0,
      maxBytes: 1000,
      maxRecords: 10,
      batchSize: 10,
      topics: [],
      forgottenTopicsData: [],
    },
    codes: (r) => [r.errorCode],
    denied: E.GROUP_AUTHORIZATION_FAILED,
    grants: [{ type: GROUP, name: 'sg', op: O.READ }],
  },
  {
    api: 'ShareAcknowledge',
    key: 79,
    version: 2,
    body: { groupId: 'sg', memberId: 'm1', shareSessionEpoch: 1, topics: [] },
    codes: (r) => [r.errorCode],
    denied: E.GROUP_AUTHORIZATION_FAILED,
    grants: [{ type: GROUP, name: 'sg', op: O.READ }],
  },
  {
    api: 'DescribeShareGroupOffsets',
    key: 90,
    version: 0,
    body: { groups: [{ groupId: 'sg', topics: null }] },
    codes: (r) => [r.groups[0].errorCode],
    denied: E.GROUP_AUTHORIZATION_FAILED,
    grants: [{ type: GROUP, name: 'sg', op: O.DESCRIBE }],
  },
  {
    api: 'AlterShareGroupOffsets',
    key: 91,
    version: 0,
    body: { groupId: 'sg', topics: [] },
    codes: (r) => [r.errorCode],
    denied: E.GROUP_AUTHORIZATION_FAILED,
    grants: [{ type: GROUP, name: 'sg', op: O.READ }],
  },
  {
    api: 'DeleteShareGroupOffsets',
    key: 92,
    version: 0,
    body: { groupId: 'sg', topics: [] },
    codes: (r) => [r.errorCode],
    denied: E.GROUP_AUTHORIZATION_FAILED,
    grants: [{ type: GROUP, name: 'sg', op: O.DELETE }],
  },
];

/** The test broker's topics as the consumer groups read them (as broker.ts wires them). */
function topicImages(b: TestBroker): TopicImages {
  const image = (x: { id: string; name: string; partitions: readonly unknown[] }) => ({ id: x.id, name: x.name, partitionCount: x.partitions.length });
  return {
    byName: (name) => {
      const x = b.topics.get(name);
      return x === undefined ? undefined : image(x);
    },
    all: () => [...b.topics.topics].map(image),
  };
}

const registry = createHandlerRegistry();
let t: TestBroker;

beforeEach(async () => {
  t = startTestBroker([
    ['authorizer.class.name', 'org.apache.kafka.metadata.authorizer.StandardAuthorizer'],
    ['auto.create.topics.enable', 'true'],
  ]);
  t.topics.create('t', 1, new Map());
  // A coordinator over the broker's topics, so KIP-848 consumer groups can be assigned them.
  const h = harness({}, new MemoryGroupLog(4), topicImages(t));
  t.broker.useGroupCoordinator(h.coordinator);
  // A group with committed offsets, so ListGroups has something to filter.
  await h.coordinator.commitOffsets({
    groupId: 'g',
    generationId: -1,
    memberId: '',
    groupInstanceId: null,
    retentionTimeMs: -1,
    apiVersion: 8,
    offsets: [{ topic: 't', partition: 0, offset: 0, leaderEpoch: -1, metadata: '' }],
  });
});
afterEach(() => t.close());

async function grant(grants: readonly Grant[]): Promise<void> {
  const results = await t.broker.authorizer!.createAcls(
    grants.map((g) => ({
      pattern: { resourceType: g.type, name: g.name, patternType: PatternType.LITERAL },
      entry: { principal: ALICE.principal, host: '*', operation: g.op, permissionType: AclPermissionType.ALLOW },
    })),
  );
  expect(results.every((r) => r.errorCode === 0)).toBe(true);
}

const call = (row: Row) => callHandler(registry.get(row.key) as ApiHandler, t.broker, row.version, row.body, 'table', ALICE);

describe("what a principal without ACLs gets, per API (Kafka's KafkaApis)", () => {
  test('every served API has a row', () => {
    expect([...new Set(ROWS.map((r) => r.key))].sort((a, b) => a - b)).toEqual([...registry.keys()].sort((a, b) => a - b));
  });

  test.each(ROWS)('$api → $denied, lifted by its ACL', async (row) => {
    if (row.given !== undefined) await grant(row.given);
    const before = row.codes(await call(row));
    expect(before.every((c) => c === row.denied)).toBe(true);
    if (row.grants.length === 0) return;
    await grant(row.grants);
    const after = row.codes(await call(row));
    expect(after.some((c) => c === row.denied)).toBe(false);
  });

  test('denials are counted per resource type and logged once per interval', async () => {
    const row = ROWS[0];
    for (let i = 0; i < 5; i++) await call(row);
    expect(t.broker.denialLog.size).toBe(1);
    const text = await t.broker.metrics.registry.getSingleMetricAsString('sluice_authorization_denied_total');
    expect(text).toContain('sluice_authorization_denied_total{resource_type="TOPIC"} 5');
  });
});

describe('authorized operations where Kafka reports them', () => {
  test("Metadata v8+ topics and cluster, DescribeCluster, DescribeGroups v3+ carry the authorizer's answer", async () => {
    await grant([
      { type: TOPIC, name: 't', op: O.READ },
      { type: CLUSTER, name: 'kafka-cluster', op: O.DESCRIBE },
      { type: GROUP, name: 'g', op: O.DESCRIBE },
    ]);
    const metadata = await callHandler(
      registry.get(3) as ApiHandler,
      t.broker,
      10,
      { topics: null, allowAutoTopicCreation: false, includeClusterAuthorizedOperations: true, includeTopicAuthorizedOperations: true },
      'x',
      ALICE,
    );
    // READ implies DESCRIBE.
    expect(metadata.topics.map((x: any) => [x.name, x.topicAuthorizedOperations])).toEqual([['t', (1 << O.READ) | (1 << O.DESCRIBE)]]);
    expect(metadata.clusterAuthorizedOperations).toBe(1 << O.DESCRIBE);
    const cluster = await callHandler(registry.get(60) as ApiHandler, t.broker, 1, { includeClusterAuthorizedOperations: true, endpointType: 1 }, 'x', ALICE);
    expect(cluster.clusterAuthorizedOperations).toBe(1 << O.DESCRIBE);
    const groups = await callHandler(registry.get(15) as ApiHandler, t.broker, 5, { groups: ['g'], includeAuthorizedOperations: true }, 'x', ALICE);
    expect(groups.groups[0].authorizedOperations).toBe(1 << O.DESCRIBE);
  });

  test('Metadata for all topics lists only the described ones', async () => {
    t.topics.create('hidden', 1, new Map());
    await grant([{ type: TOPIC, name: 't', op: O.DESCRIBE }]);
    const metadata = await callHandler(
      registry.get(3) as ApiHandler,
      t.broker,
      12,
      { topics: null, allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false },
      'x',
      ALICE,
    );
    expect(metadata.topics.map((x: any) => x.name)).toEqual(['t']);
  });

  test('super users pass every check', async () => {
    const s = startTestBroker([
      ['authorizer.class.name', 'kafka.security.authorizer.AclAuthorizer'],
      ['super.users', 'User:alice'],
    ]);
    try {
      s.topics.create('t', 1, new Map());
      const row = ROWS.find((r) => r.api === 'DeleteRecords')!;
      const r = await callHandler(registry.get(row.key) as ApiHandler, s.broker, row.version, row.body, 'x', ALICE);
      expect(row.codes(r)).toEqual([0]);
    } finally {
      s.close();
    }
  });
});

describe('without an authorizer', () => {
  test('every check passes and the ACL APIs answer SECURITY_DISABLED, as Kafka', async () => {
    const s = startTestBroker();
    try {
      s.topics.create('t', 1, new Map());
      const row = ROWS.find((r) => r.api === 'DeleteRecords')!;
      expect(row.codes(await callHandler(registry.get(row.key) as ApiHandler, s.broker, row.version, row.body, 'x', ALICE))).toEqual([0]);
      for (const api of ['DescribeAcls', 'CreateAcls', 'DeleteAcls']) {
        const acl = ROWS.find((r) => r.api === api)!;
        const res = await callHandler(registry.get(acl.key) as ApiHandler, s.broker, acl.version, acl.body, 'x', ALICE);
        expect(acl.codes(res)).toEqual([E.SECURITY_DISABLED]);
      }
    } finally {
      s.close();
    }
  });
});

describe('KIP-848 consumer groups (Kafka 4: GroupMetadataManager, handleConsumerGroupDescribe)', () => {
  const ADMIN = { principal: 'User:admin', host: '127.0.0.1' };
  const grantTo = (principal: string, grants: readonly Grant[]) =>
    t.broker.authorizer!.createAcls(
      grants.map((g) => ({
        pattern: { resourceType: g.type, name: g.name, patternType: PatternType.LITERAL },
        entry: { principal, host: '*', operation: g.op, permissionType: AclPermissionType.ALLOW },
      })),
    );

  test('a regex resolves only to the topics the heartbeating member may DESCRIBE', async () => {
    t.topics.create('t2', 2, new Map());
    await grant([
      { type: GROUP, name: 'cg', op: O.READ },
      { type: TOPIC, name: 't', op: O.DESCRIBE },
    ]);
    const body = { ...heartbeat, subscribedTopicNames: null, subscribedTopicRegex: 't.*' };
    const res = await callHandler(registry.get(68) as ApiHandler, t.broker, 1, body, 'x', ALICE);
    expect(res.errorCode).toBe(E.NONE);
    expect(res.assignment.topicPartitions).toEqual([{ topicId: t.topics.get('t')!.id, partitions: [0] }]);
    // Nothing is refused or counted: the hidden topic is simply not matched.
    expect(t.broker.denialLog.size).toBe(0);
  });

  test('a group whose assignment names a topic the principal may not DESCRIBE is TOPIC_AUTHORIZATION_FAILED without members', async () => {
    await grantTo(ADMIN.principal, [
      { type: GROUP, name: 'cg', op: O.READ },
      { type: TOPIC, name: 't', op: O.DESCRIBE },
    ]);
    const joined = await callHandler(registry.get(68) as ApiHandler, t.broker, 1, heartbeat, 'x', ADMIN);
    expect(joined.errorCode).toBe(E.NONE);
    await grant([{ type: GROUP, name: 'cg', op: O.DESCRIBE }]);
    const describe69 = () =>
      callHandler(registry.get(69) as ApiHandler, t.broker, 1, { groupIds: ['denied', 'cg'], includeAuthorizedOperations: true }, 'x', ALICE);
    const hidden = await describe69();
    // Kafka lists the groups refused on the group ACL first.
    expect(hidden.groups.map((g: any) => [g.groupId, g.errorCode, g.errorMessage, g.members.length])).toEqual([
      ['denied', E.GROUP_AUTHORIZATION_FAILED, null, 0],
      ['cg', E.TOPIC_AUTHORIZATION_FAILED, 'The group has described topic(s) that the client is not authorized to describe.', 0],
    ]);
    await grant([{ type: TOPIC, name: 't', op: O.DESCRIBE }]);
    const shown = (await describe69()).groups[1];
    expect(shown.errorCode).toBe(E.NONE);
    expect(shown.members.map((m: any) => m.assignment.topicPartitions.map((p: any) => p.topicName))).toEqual([['t']]);
    expect(shown.authorizedOperations).toBe(1 << O.DESCRIBE);
  });
});
