// ElectLeaders (key 43).
// Behavior: as a single-broker KRaft Kafka answers (ReplicationControlManager.electLeaders): every
// partition has one replica, this broker, which always leads it, so an election is never needed.
// A named partition answers ELECTION_NOT_NEEDED (preferred or unclean alike); an unknown topic is
// UNKNOWN_TOPIC_OR_PARTITION "No such topic as <topic>", an unknown partition "No such partition
// as <topic>-<n>". With topicPartitions null (every partition) Kafka leaves out the partitions that
// need no election, so the answer is empty. An election type other than 0 (preferred) or 1
// (unclean) is INVALID_REQUEST.
// Cluster mode: answered from the cluster's view, partition by partition. Preferred: the preferred
// replica (the first) already leading is ELECTION_NOT_NEEDED; one not live or not in the ISR is
// PREFERRED_LEADER_NOT_AVAILABLE. Unclean: a partition whose leader is live is
// ELECTION_NOT_NEEDED; one without a live leader gets a live ISR member, else the first live
// replica in replica order with the ISR reset to it (records only the lost replicas had are gone,
// as in Kafka); ELIGIBLE_LEADERS_NOT_AVAILABLE when no replica is live. An election that moves
// leadership is written to etcd from this broker (ClusterNode.electPreferredLeader /
// electUncleanLeader: CAS on the partition's state, a new leader epoch) and answered NONE once
// this broker's view has it. topicPartitions null covers every partition and, as Kafka, lists
// only those that needed an election.
// Authorization as Kafka (the controller's ControllerApis, where brokers forward it): ALTER on the
// cluster, else the request's error response: CLUSTER_AUTHORIZATION_FAILED at the top and for
// every named partition. It comes first, in cluster mode too.
// Version notes: served v0–2. v1 electionType and the top-level error code; v2+ flexible.

import { ErrorCode } from '@sluice/protocol';
import type { ClusterNode } from '../cluster/cluster-node.ts';
import { AclOperation, authorize, CLUSTER_NAME, ResourceType } from './authorization.ts';
import { defineHandler } from './handler.ts';

const PREFERRED = 0;
const UNCLEAN = 1;
/** Kafka's message names the request (ClusterAuthorizationException "Request … is not authorized."). */
const NOT_AUTHORIZED = 'Request is not authorized.';

export const electLeadersHandler = defineHandler({
  apiKey: 43,
  minVersion: 0,
  maxVersion: 2,
  async handle(ctx, request) {
    if (!authorize(ctx, AclOperation.ALTER, ResourceType.CLUSTER, CLUSTER_NAME)) {
      const errorCode = ErrorCode.CLUSTER_AUTHORIZATION_FAILED;
      return {
        throttleTimeMs: 0,
        errorCode,
        replicaElectionResults: (request.topicPartitions ?? []).map(({ topic, partitions }) => ({
          topic,
          partitionResult: partitions.map((partitionId) => ({ partitionId, errorCode, errorMessage: NOT_AUTHORIZED })),
        })),
      };
    }
    const electionType = request.electionType ?? PREFERRED;
    if (electionType !== PREFERRED && electionType !== UNCLEAN) {
      return { throttleTimeMs: 0, errorCode: ErrorCode.INVALID_REQUEST, replicaElectionResults: [] };
    }
    const cluster = ctx.broker.cluster;
    if (cluster !== null)
      return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, replicaElectionResults: await clusterElections(cluster, electionType, request.topicPartitions) };
    if (request.topicPartitions === null) return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, replicaElectionResults: [] };
    const replicaElectionResults = request.topicPartitions.map(({ topic: name, partitions }) => {
      const topic = ctx.broker.topics.get(name);
      const partitionResult = partitions.map((partitionId) => {
        if (topic === undefined) return { partitionId, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, errorMessage: `No such topic as ${name}` };
        if (partitionId < 0 || partitionId >= topic.partitions.length) {
          return { partitionId, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, errorMessage: `No such partition as ${name}-${partitionId}` };
        }
        return { partitionId, errorCode: ErrorCode.ELECTION_NOT_NEEDED, errorMessage: null };
      });
      return { topic: name, partitionResult };
    });
    return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, replicaElectionResults };
  },
});

interface PartitionOutcome {
  partitionId: number;
  errorCode: number;
  errorMessage: string | null;
}

async function clusterElections(
  cluster: ClusterNode,
  electionType: number,
  topicPartitions: ReadonlyArray<{ topic: string; partitions: readonly number[] }> | null,
): Promise<Array<{ topic: string; partitionResult: PartitionOutcome[] }>> {
  const view = cluster.view;
  const outcome = async (name: string, partitionId: number): Promise<PartitionOutcome> => {
    const replicas = view.topics.get(name)?.record.replicas;
    if (replicas === undefined) return { partitionId, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, errorMessage: `No such topic as ${name}` };
    const assigned = replicas[partitionId];
    const state = view.partition(name, partitionId)?.record;
    if (assigned === undefined || state === undefined) {
      return { partitionId, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, errorMessage: `No such partition as ${name}-${partitionId}` };
    }
    const elected = electionType === UNCLEAN ? await cluster.electUncleanLeader(name, partitionId) : await cluster.electPreferredLeader(name, partitionId);
    return { partitionId, errorCode: elected.errorCode, errorMessage: elected.errorMessage };
  };
  if (topicPartitions === null) {
    // Every partition; Kafka leaves out those that need no election.
    const results = [];
    for (const [name, { record }] of [...view.topics]) {
      const outcomes = await Promise.all(record.replicas.map((_, i) => outcome(name, i)));
      const partitionResult = outcomes.filter((r) => r.errorCode !== ErrorCode.ELECTION_NOT_NEEDED);
      if (partitionResult.length > 0) results.push({ topic: name, partitionResult });
    }
    return results;
  }
  return Promise.all(
    topicPartitions.map(async ({ topic, partitions }) => ({ topic, partitionResult: await Promise.all(partitions.map((p) => outcome(topic, p))) })),
  );
}
