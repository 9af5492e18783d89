// CreatePartitions (key 37).
// Behavior: raises a topic's partition count (never lowers it: INVALID_PARTITIONS); explicit
// assignments must name only this broker. validateOnly checks without creating.
// Cluster mode: the new partitions are placed over the live brokers and written to etcd (every
// replica's projection opens their logs); explicit assignments are not served there yet.
// Version notes: served v0–3; v2+ flexible.

import { type CreatePartitionsRequest, type CreatePartitionsResponse, ErrorCode } from '@sluice/protocol';
import type { ClusterNode } from '../cluster/cluster-node.ts';
import { newPartitionsProblem } from '../fd-budget.ts';
import { storageFailure } from '../storage-errors.ts';
import { AclOperation, authorize, ResourceType } from './authorization.ts';
import { defineHandler, type RequestContext } from './handler.ts';
import { MutationQuota } from './quota-throttling.ts';

export const createPartitionsHandler = defineHandler({
  apiKey: 37,
  minVersion: 0,
  maxVersion: 3,
  handle(ctx, request) {
    const { broker } = ctx;
    // Controller mutation quota (KIP-599): strict from v3.
    const mutations = new MutationQuota(ctx, ctx.header.apiVersion >= 3, request.validateOnly);
    if (broker.cluster !== null) return createInCluster(ctx, broker.cluster, request, mutations);
    const results = request.topics.map((t) => {
      const result = (errorCode: number, errorMessage: string | null) => ({ name: t.name, errorCode, errorMessage });
      // Kafka: ALTER on the topic, checked before its existence.
      if (!authorize(ctx, AclOperation.ALTER, ResourceType.TOPIC, t.name))
        return result(ErrorCode.TOPIC_AUTHORIZATION_FAILED, 'The topic authorization is failed.');
      const topic = broker.topics.get(t.name);
      if (topic === undefined) return result(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `The topic '${t.name}' does not exist.`);
      const current = topic.partitions.length;
      if (t.count < current)
        return result(ErrorCode.INVALID_PARTITIONS, `Topic currently has ${current} partitions, which is higher than the requested ${t.count}.`);
      if (t.count === current) return result(ErrorCode.INVALID_PARTITIONS, `Topic already has ${current} partitions.`);
      if (t.count > 100_000) return result(ErrorCode.INVALID_PARTITIONS, 'Number of partitions must be at most 100000.');
      if (t.assignments !== null) {
        if (t.assignments.length !== t.count - current)
          return result(
            ErrorCode.INVALID_REPLICA_ASSIGNMENT,
            `Increasing the number of partitions by ${t.count - current} but ${t.assignments.length} assignments provided.`,
          );
        if (t.assignments.some((a) => a.brokerIds.length !== 1 || a.brokerIds[0] !== broker.nodeId))
          return result(ErrorCode.INVALID_REPLICA_ASSIGNMENT, `Assignments must name only broker ${broker.nodeId}.`);
      }
      // More partitions than this broker has files for: refused up front (see fd-budget.ts).
      const capacity = newPartitionsProblem(t.count - current);
      if (capacity !== null) return result(ErrorCode.INVALID_PARTITIONS, capacity);
      const refusal = mutations.refusal();
      if (refusal !== null) return result(refusal.errorCode, refusal.errorMessage);
      mutations.record(t.count - current);
      if (!request.validateOnly) {
        try {
          broker.topics.addPartitions(topic, t.count);
        } catch (err) {
          // Opening the new logs failed: none was added.
          const failure = storageFailure(err);
          if (failure === null) throw err;
          broker.logger.error({ topic: t.name, partitions: t.count, err }, 'adding partitions failed');
          return result(failure.errorCode, failure.message);
        }
      }
      return result(0, null);
    });
    return { throttleTimeMs: mutations.throttleTimeMs(), results };
  },
});

async function createInCluster(
  ctx: RequestContext,
  cluster: ClusterNode,
  request: CreatePartitionsRequest,
  mutations: MutationQuota,
): Promise<CreatePartitionsResponse> {
  const results = [];
  for (const t of request.topics) {
    const result = (errorCode: number, errorMessage: string | null) => ({ name: t.name, errorCode, errorMessage });
    // Kafka: ALTER on the topic, checked before its existence (and before anything is written to etcd).
    if (!authorize(ctx, AclOperation.ALTER, ResourceType.TOPIC, t.name)) {
      results.push(result(ErrorCode.TOPIC_AUTHORIZATION_FAILED, 'The topic authorization is failed.'));
      continue;
    }
    const topic = cluster.view.topics.get(t.name);
    if (topic === undefined) {
      results.push(result(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `The topic '${t.name}' does not exist.`));
      continue;
    }
    const current = topic.record.replicas.length;
    if (t.count < current)
      results.push(result(ErrorCode.INVALID_PARTITIONS, `Topic currently has ${current} partitions, which is higher than the requested ${t.count}.`));
    else if (t.count === current) results.push(result(ErrorCode.INVALID_PARTITIONS, `Topic already has ${current} partitions.`));
    else if (t.count > 100_000) results.push(result(ErrorCode.INVALID_PARTITIONS, 'Number of partitions must be at most 100000.'));
    else if (t.assignments !== null)
      results.push(result(ErrorCode.INVALID_REPLICA_ASSIGNMENT, 'Explicit replica assignments are not supported in cluster mode yet.'));
    else if (newPartitionsProblem(t.count - current) !== null) results.push(result(ErrorCode.INVALID_PARTITIONS, newPartitionsProblem(t.count - current)));
    else if (request.validateOnly) results.push(result(0, null));
    else {
      const refusal = mutations.refusal();
      if (refusal !== null) {
        results.push(result(refusal.errorCode, refusal.errorMessage));
        continue;
      }
      const added = await cluster.addPartitions(t.name, t.count);
      if (added.errorCode === ErrorCode.NONE) mutations.record(t.count - current);
      results.push(result(added.errorCode, added.errorMessage));
    }
  }
  return { throttleTimeMs: mutations.throttleTimeMs(), results };
}
