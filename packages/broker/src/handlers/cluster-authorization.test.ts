// Cluster mode keeps the single node's ACL checks (Kafka authorizes on the broker that answers,
// before anything is forwarded): Metadata lists and names only what the principal may describe,
// DeleteTopics needs DELETE before anything is written to etcd; and ElectLeaders, once ALTER on
// the cluster is granted (checked first, as Kafka), answers from the cluster's view. One broker on the memory store, with an authorizer.

import { ErrorCode, ZERO_UUID } from '@sluice/protocol';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import type { ClusterNode } from '../cluster/cluster-node.ts';
import { AclOperation, AclPermissionType, PatternType, ResourceType } from '../security/acl/acl-types.ts';
import { callHandler } from '../testing/call-handler.ts';
import { type MemoryCluster, startMemoryCluster } from '../testing/memory-cluster.ts';
import type { TestBroker } from '../testing/test-broker.ts';
import { CLUSTER_NAME } from './authorization.ts';
import type { ApiHandler } from './handler.ts';
import { createHandlerRegistry } from './index.ts';

const ALICE = { principal: 'User:alice', host: '127.0.0.1' };
const registry = createHandlerRegistry();
let cluster: MemoryCluster;
let t: TestBroker;
let node: ClusterNode;

beforeEach(async () => {
  cluster = await startMemoryCluster([['authorizer.class.name', 'org.apache.kafka.metadata.authorizer.StandardAuthorizer']]);
  ({ t, node } = cluster);
  for (const name of ['visible', 'hidden']) expect((await node.createTopic(name, 1, 1, new Map())).errorCode).toBe(0);
  await cluster.settle();
  await t.broker.authorizer!.createAcls([
    {
      pattern: { resourceType: ResourceType.TOPIC, name: 'visible', patternType: PatternType.LITERAL },
      entry: { principal: ALICE.principal, host: '*', operation: AclOperation.DESCRIBE, permissionType: AclPermissionType.ALLOW },
    },
  ]);
});
afterEach(async () => {
  await cluster.close();
});

const call = (key: number, version: number, body: object) => callHandler(registry.get(key) as ApiHandler, t.broker, version, body, 'x', ALICE);

describe('cluster mode: ACL checks as on a single node', () => {
  test('Metadata lists only the described topics; a named one not described is TOPIC_AUTHORIZATION_FAILED', async () => {
    const all = await call(3, 12, { topics: null, allowAutoTopicCreation: false, includeTopicAuthorizedOperations: true });
    expect(all.topics.map((x: { name: string }) => x.name)).toEqual(['visible']);
    expect(all.topics[0].topicAuthorizedOperations).toBe(1 << AclOperation.DESCRIBE);
    const named = await call(3, 12, { topics: [{ name: 'hidden', topicId: ZERO_UUID }], allowAutoTopicCreation: false });
    expect(named.topics[0].errorCode).toBe(ErrorCode.TOPIC_AUTHORIZATION_FAILED);
  });

  test('DeleteTopics without DELETE is refused and the topic stays in etcd', async () => {
    const r = await call(20, 5, { topicNames: ['visible'], timeoutMs: 1000 });
    expect(r.responses[0].errorCode).toBe(ErrorCode.TOPIC_AUTHORIZATION_FAILED);
    expect(node.view.topics.has('visible')).toBe(true);
  });
  test('CreatePartitions without ALTER is refused and the topic keeps its partitions', async () => {
    const r = await call(37, 3, { topics: [{ name: 'visible', count: 2, assignments: null }], timeoutMs: 1000, validateOnly: false });
    expect(r.results[0].errorCode).toBe(ErrorCode.TOPIC_AUTHORIZATION_FAILED);
    expect(node.view.topics.get('visible')!.record.replicas).toHaveLength(1);
  });

  test("a follower's Fetch needs CLUSTER_ACTION on the cluster (not READ on the topic)", async () => {
    const fetch = () =>
      call(1, 12, {
        replicaId: 2,
        maxWaitMs: 0,
        minBytes: 0,
        maxBytes: 1000,
        isolationLevel: 0,
        sessionId: 0,
        sessionEpoch: -1,
        topics: [
          {
            topic: 'visible',
            partitions: [{ partition: 0, currentLeaderEpoch: -1, fetchOffset: 0, lastFetchedEpoch: -1, logStartOffset: -1, partitionMaxBytes: 1000 }],
          },
        ],
        forgottenTopicsData: [],
        rackId: '',
      });
    expect((await fetch()).responses[0].partitions[0].errorCode).toBe(ErrorCode.TOPIC_AUTHORIZATION_FAILED);
    await t.broker.authorizer!.createAcls([
      {
        pattern: { resourceType: ResourceType.CLUSTER, name: 'kafka-cluster', patternType: PatternType.LITERAL },
        entry: { principal: ALICE.principal, host: '*', operation: AclOperation.CLUSTER_ACTION, permissionType: AclPermissionType.ALLOW },
      },
    ]);
    expect((await fetch()).responses[0].partitions[0].errorCode).toBe(ErrorCode.NONE);
  });
});

describe('cluster mode: ElectLeaders from the view', () => {
  test('without ALTER on the cluster: CLUSTER_AUTHORIZATION_FAILED before the view is consulted', async () => {
    const r = await call(43, 2, { electionType: 0, topicPartitions: [{ topic: 'visible', partitions: [0] }], timeoutMs: 1000 });
    expect(r.errorCode).toBe(ErrorCode.CLUSTER_AUTHORIZATION_FAILED);
    expect(r.replicaElectionResults).toEqual([
      {
        topic: 'visible',
        partitionResult: [{ partitionId: 0, errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED, errorMessage: 'Request is not authorized.' }],
      },
    ]);
  });

  test('the preferred replica leading: ELECTION_NOT_NEEDED; unknown partitions named as Kafka names them', async () => {
    await t.broker.authorizer!.createAcls([
      {
        pattern: { resourceType: ResourceType.CLUSTER, name: CLUSTER_NAME, patternType: PatternType.LITERAL },
        entry: { principal: ALICE.principal, host: '*', operation: AclOperation.ALTER, permissionType: AclPermissionType.ALLOW },
      },
    ]);
    const r = await call(43, 2, {
      electionType: 0,
      topicPartitions: [
        { topic: 'visible', partitions: [0, 5] },
        { topic: 'nope', partitions: [0] },
      ],
      timeoutMs: 1000,
    });
    expect(r.replicaElectionResults).toEqual([
      {
        topic: 'visible',
        partitionResult: [
          { partitionId: 0, errorCode: ErrorCode.ELECTION_NOT_NEEDED, errorMessage: null },
          { partitionId: 5, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, errorMessage: 'No such partition as visible-5' },
        ],
      },
      { topic: 'nope', partitionResult: [{ partitionId: 0, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, errorMessage: 'No such topic as nope' }] },
    ]);
    const every = await call(43, 2, { electionType: 0, topicPartitions: null, timeoutMs: 1000 });
    expect(every.replicaElectionResults).toEqual([]);
  });
});
