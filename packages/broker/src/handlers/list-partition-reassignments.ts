// ListPartitionReassignments (key 46).
// Behavior: as a single-broker KRaft Kafka answers: no reassignment is ever in progress
// (AlterPartitionReassignments completes at once), so the answer lists no topics, whether the
// request names topics (unknown ones are left out, as Kafka does) or asks for all (null).
// Cluster mode: the reassignments in progress in etcd (cluster/reassignment.ts), each with its
// full replica set, the replicas being added (target, not original) and removed (original, not
// target); with topics named, only their named partitions.
// Authorization as Kafka (the controller's ControllerApis, where brokers forward it): DESCRIBE on
// the cluster, else CLUSTER_AUTHORIZATION_FAILED for the request (cluster mode too).
// Version notes: served v0 (the only version), flexible.

import { ErrorCode } from '@sluice/protocol';
import { fullReplicaSet } from '../cluster/reassignment.ts';
import { AclOperation, authorize, CLUSTER_NAME, ResourceType } from './authorization.ts';
import { defineHandler } from './handler.ts';

export const listPartitionReassignmentsHandler = defineHandler({
  apiKey: 46,
  minVersion: 0,
  maxVersion: 0,
  handle(ctx, request) {
    if (!authorize(ctx, AclOperation.DESCRIBE, ResourceType.CLUSTER, CLUSTER_NAME)) {
      // Kafka's message names the request (ClusterAuthorizationException "Request … is not authorized.").
      return { throttleTimeMs: 0, errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED, errorMessage: 'Request is not authorized.', topics: [] };
    }
    const cluster = ctx.broker.cluster;
    if (cluster === null) return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, errorMessage: null, topics: [] };
    const wanted = request.topics === null ? null : new Map(request.topics.map((t) => [t.name, new Set(t.partitionIndexes)]));
    const byTopic = new Map<string, Array<{ partitionIndex: number; replicas: number[]; addingReplicas: number[]; removingReplicas: number[] }>>();
    for (const { topic, index, record } of cluster.view.reassignments.values()) {
      if (wanted !== null && !wanted.get(topic)?.has(index)) continue;
      if (!byTopic.has(topic)) byTopic.set(topic, []);
      byTopic.get(topic)!.push({
        partitionIndex: index,
        replicas: fullReplicaSet(record),
        addingReplicas: record.target.filter((id) => !record.original.includes(id)),
        removingReplicas: record.original.filter((id) => !record.target.includes(id)),
      });
    }
    const topics = [...byTopic].map(([name, partitions]) => ({ name, partitions: partitions.sort((a, b) => a.partitionIndex - b.partitionIndex) }));
    return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, errorMessage: null, topics };
  },
});
