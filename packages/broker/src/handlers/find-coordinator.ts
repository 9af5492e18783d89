// FindCoordinator (key 10).
// Behavior: this node coordinates every consumer group (key type 0) and every transactional id
// (key type 1; `__transaction_state` is created on the coordinator's first write). An empty
// transactional id is INVALID_REQUEST for that key, as Kafka's. The answer does not wait for the
// transaction coordinator's load: its requests answer COORDINATOR_LOAD_IN_PROGRESS meanwhile.
// Any other key type is INVALID_REQUEST for every key, as Kafka fails the whole request.
// Cluster mode: a group's coordinator is the leader of its __consumer_offsets partition, a
// transactional id's the leader of its __transaction_state partition (Kafka's partitionFor: hash
// of the key); the topic is created in the cluster on the first lookup of its kind
// (COORDINATOR_NOT_AVAILABLE until it exists, has a leader, and while fewer brokers than
// offsets.topic.replication.factor / transaction.state.log.replication.factor are live).
// Version notes: served v0–5. v1 adds keyType, throttle time and the error message; v3+
// flexible; v4 batches lookups (coordinatorKeys in, coordinators out) and drops the single-key
// fields; v5 = v4 for clients that know TRANSACTION_ABORTABLE (never answered here).

import { ErrorCode } from '@sluice/protocol';
import { groupPartition, OFFSETS_TOPIC } from '../groups/partitioning.ts';
import { transactionPartition } from '../transactions/transaction-log.ts';
import { TRANSACTION_STATE_TOPIC } from '../transactions/transaction-state-log.ts';
import { AclOperation, authorize, ResourceType } from './authorization.ts';
import { createOffsetsTopic, createTransactionStateTopic } from './create-topic.ts';
import { defineHandler } from './handler.ts';

const KEY_TYPE_GROUP = 0;
const KEY_TYPE_TRANSACTION = 1;

interface Found {
  readonly errorCode: number;
  readonly errorMessage: string | null;
  readonly nodeId: number;
  readonly host: string;
  readonly port: number;
}

/** Kafka's Node.noNode(). */
const NO_NODE = { nodeId: -1, host: '', port: -1 };

export const findCoordinatorHandler = defineHandler({
  apiKey: 10,
  minVersion: 0,
  maxVersion: 5,
  async handle(ctx, request) {
    const { broker, header } = ctx;
    const cluster = broker.cluster;
    const lookups: string[] = header.apiVersion >= 4 ? (request.coordinatorKeys ?? []) : [request.key ?? ''];
    const keyType: number = request.keyType ?? KEY_TYPE_GROUP;
    // The first lookup of its kind in a cluster creates __consumer_offsets / __transaction_state
    // (Kafka: on FindCoordinator).
    const internal = keyType === KEY_TYPE_GROUP ? OFFSETS_TOPIC : keyType === KEY_TYPE_TRANSACTION ? TRANSACTION_STATE_TOPIC : null;
    if (cluster !== null && internal !== null && lookups.length > 0 && !cluster.view.topics.has(internal)) {
      const made = internal === OFFSETS_TOPIC ? await createOffsetsTopic(broker, cluster) : await createTransactionStateTopic(broker, cluster);
      if (made.errorCode !== ErrorCode.NONE && made.errorCode !== ErrorCode.TOPIC_ALREADY_EXISTS)
        ctx.broker.logger.info({ errorCode: made.errorCode, reason: made.errorMessage }, `${internal} cannot be created yet`);
    }
    const endpoint = broker.advertisedFor(ctx.connection.listenerName);
    const find = (key: string): Found => {
      if (keyType !== KEY_TYPE_GROUP && keyType !== KEY_TYPE_TRANSACTION)
        return { errorCode: ErrorCode.INVALID_REQUEST, errorMessage: `Unknown coordinator type ${keyType}.`, ...NO_NODE };
      // Kafka: DESCRIBE on the group, or on the transactional id.
      if (keyType === KEY_TYPE_GROUP && !authorize(ctx, AclOperation.DESCRIBE, ResourceType.GROUP, key)) {
        return { errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED, errorMessage: 'Group authorization failed.', ...NO_NODE };
      }
      if (keyType === KEY_TYPE_TRANSACTION && !authorize(ctx, AclOperation.DESCRIBE, ResourceType.TRANSACTIONAL_ID, key)) {
        return { errorCode: ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED, errorMessage: 'Transactional Id authorization failed.', ...NO_NODE };
      }
      // Kafka: a transactional id must not be empty (a group id may be).
      if (keyType === KEY_TYPE_TRANSACTION && key === '')
        return { errorCode: ErrorCode.INVALID_REQUEST, errorMessage: 'The transactional id must not be empty.', ...NO_NODE };
      if (cluster !== null && internal !== null) {
        const topic = cluster.view.topics.get(internal)?.record;
        if (topic === undefined) return { errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE, errorMessage: `${internal} does not exist yet.`, ...NO_NODE };
        const count = topic.replicas.length;
        const partition = keyType === KEY_TYPE_GROUP ? groupPartition(key, count) : transactionPartition(key, count);
        const leader = cluster.currentLeader(internal, partition).leaderId;
        const endpoint = leader < 0 ? null : cluster.endpointOf(leader, ctx.connection.listenerName);
        if (endpoint === null) return { errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE, errorMessage: 'The coordinator is not available.', ...NO_NODE };
        return { errorCode: ErrorCode.NONE, errorMessage: null, nodeId: endpoint.nodeId, host: endpoint.host, port: endpoint.port };
      }
      return { errorCode: ErrorCode.NONE, errorMessage: null, nodeId: broker.nodeId, host: endpoint.host, port: endpoint.port };
    };
    if (header.apiVersion >= 4) return { throttleTimeMs: 0, coordinators: lookups.map((key) => ({ key, ...find(key) })) };
    return { throttleTimeMs: 0, ...find(lookups[0]!) };
  },
});
