// AlterPartitionReassignments (key 45).
// Behavior: as a single-broker KRaft Kafka answers (ReplicationControlManager
// .alterPartitionReassignments): the only valid replica set is this broker alone, which every
// partition already has, so a valid reassignment completes at once and changes nothing; none is
// ever in progress, so a cancellation (replicas null) is NO_REASSIGNMENT_IN_PROGRESS. Per
// partition, in Kafka's order of checks: an unknown topic is UNKNOWN_TOPIC_OR_PARTITION "Unable to
// find a topic named <t>.", an unknown partition "Unable to find partition <t>:<n>."; an empty
// replica list, a broker that is not this one, or a broker named twice is
// INVALID_REPLICA_ASSIGNMENT with Kafka's messages; with allowReplicationFactorChange false, a
// different replica count is INVALID_REPLICATION_FACTOR.
// Cluster mode: the same checks against the cluster's view (its topics, its registered brokers,
// each partition's current replicas), then the valid ones of each topic are started in etcd in
// one transaction (ClusterNode.reassignPartitions, cluster/reassignment.ts): the new replicas
// catch up as followers and the controller completes each once its target is in sync. A replica
// set equal to the current one with nothing moving completes at once, as Kafka's does; a
// cancellation (replicas null) moves back to the original replicas, NO_REASSIGNMENT_IN_PROGRESS
// when nothing is moving.
// Authorization as Kafka (the controller's ControllerApis, where brokers forward it): ALTER on the
// cluster, else the request's error response: CLUSTER_AUTHORIZATION_FAILED at the top and for
// every named partition. It comes first, in cluster mode too.
// Version notes: served v0–1, all flexible. v1 allowReplicationFactorChange (KIP-1071), echoed.

import { ErrorCode } from '@sluice/protocol';
import { AclOperation, authorize, CLUSTER_NAME, ResourceType } from './authorization.ts';
import { defineHandler } from './handler.ts';

/** Kafka's message names the request (ClusterAuthorizationException "Request … is not authorized."). */
const NOT_AUTHORIZED = 'Request is not authorized.';

interface Outcome {
  errorCode: number;
  errorMessage: string | null;
}

/** Kafka's validateManualPartitionAssignment; `registered` says which broker ids exist. */
function replicaAssignmentProblem(replicas: readonly number[], registered: (id: number) => boolean): string | null {
  if (replicas.length === 0) return 'The manual partition assignment includes an empty replica list.';
  const sorted = [...replicas].sort((a, b) => a - b);
  for (const broker of sorted) {
    if (!registered(broker)) return `The manual partition assignment includes broker ${broker}, but no such broker is registered.`;
  }
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i] === sorted[i - 1]) return `The manual partition assignment includes the broker ${sorted[i]} more than once.`;
  }
  return null;
}

export const alterPartitionReassignmentsHandler = defineHandler({
  apiKey: 45,
  minVersion: 0,
  maxVersion: 1,
  async handle(ctx, request) {
    const { broker } = ctx;
    const allowReplicationFactorChange = request.allowReplicationFactorChange ?? true;
    if (!authorize(ctx, AclOperation.ALTER, ResourceType.CLUSTER, CLUSTER_NAME)) {
      const denied = { errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED, errorMessage: NOT_AUTHORIZED };
      return {
        throttleTimeMs: 0,
        allowReplicationFactorChange,
        ...denied,
        responses: request.topics.map(({ name, partitions }) => ({
          name,
          partitions: partitions.map(({ partitionIndex }) => ({ partitionIndex, ...denied })),
        })),
      };
    }
    const cluster = broker.cluster;
    if (cluster !== null) {
      const responses = await Promise.all(
        request.topics.map(async ({ name, partitions }) => {
          const record = cluster.view.topics.get(name)?.record;
          const checked = partitions.map(({ partitionIndex, replicas }) => {
            const outcome = ((): Outcome | null => {
              if (record === undefined) return { errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, errorMessage: `Unable to find a topic named ${name}.` };
              const current = record.replicas[partitionIndex];
              if (current === undefined)
                return { errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, errorMessage: `Unable to find partition ${name}:${partitionIndex}.` };
              if (replicas === null) return null;
              const problem = replicaAssignmentProblem(replicas, (id) => cluster.view.brokers.has(id));
              if (problem !== null) return { errorCode: ErrorCode.INVALID_REPLICA_ASSIGNMENT, errorMessage: problem };
              // Against the partition's replicas before any reassignment in progress.
              const original = cluster.view.reassignment(name, partitionIndex)?.record.original ?? current;
              if (!allowReplicationFactorChange && replicas.length !== original.length) {
                return {
                  errorCode: ErrorCode.INVALID_REPLICATION_FACTOR,
                  errorMessage: `The replication factor is changed from ${original.length} to ${replicas.length}`,
                };
              }
              return null;
            })();
            return { partitionIndex, replicas, outcome };
          });
          const valid = checked.filter((c) => c.outcome === null).map((c) => ({ index: c.partitionIndex, target: c.replicas }));
          const started = valid.length === 0 ? new Map<number, Outcome>() : await cluster.reassignPartitions(name, valid);
          return {
            name,
            partitions: checked.map(({ partitionIndex, outcome }) => ({
              partitionIndex,
              ...(outcome ?? started.get(partitionIndex) ?? { errorCode: ErrorCode.UNKNOWN_SERVER_ERROR, errorMessage: null }),
            })),
          };
        }),
      );
      return { throttleTimeMs: 0, allowReplicationFactorChange, errorCode: ErrorCode.NONE, errorMessage: null, responses };
    }
    const responses = request.topics.map(({ name, partitions }) => {
      const topic = broker.topics.get(name);
      return {
        name,
        partitions: partitions.map(({ partitionIndex, replicas }) => {
          const outcome = ((): Outcome => {
            if (topic === undefined) return { errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, errorMessage: `Unable to find a topic named ${name}.` };
            if (partitionIndex < 0 || partitionIndex >= topic.partitions.length) {
              return { errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, errorMessage: `Unable to find partition ${name}:${partitionIndex}.` };
            }
            if (replicas === null) return { errorCode: ErrorCode.NO_REASSIGNMENT_IN_PROGRESS, errorMessage: null };
            const problem = replicaAssignmentProblem(replicas, (id) => id === broker.nodeId);
            if (problem !== null) return { errorCode: ErrorCode.INVALID_REPLICA_ASSIGNMENT, errorMessage: problem };
            const current = 1; // one replica per partition on a single broker
            if (!allowReplicationFactorChange && replicas.length !== current) {
              return {
                errorCode: ErrorCode.INVALID_REPLICATION_FACTOR,
                errorMessage: `The replication factor is changed from ${current} to ${replicas.length}`,
              };
            }
            return { errorCode: ErrorCode.NONE, errorMessage: null };
          })();
          return { partitionIndex, ...outcome };
        }),
      };
    });
    return { throttleTimeMs: 0, allowReplicationFactorChange, errorCode: ErrorCode.NONE, errorMessage: null, responses };
  },
});
