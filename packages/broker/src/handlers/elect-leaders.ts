// ElectLeaders (key 43).
// Behavior: as a single-broker KRaft Kafka answers (ReplicationControlManager.electLeaders): every
// partition has one replica, this broker, which always leads it, so an election is never needed.
// A named partition answers ELECTION_NOT_NEEDED (preferred or unclean alike); an unknown topic is
// UNKNOWN_TOPIC_OR_PARTITION "No such topic as <topic>", an unknown partition "No such partition
// as <topic>-<n>". With topicPartitions null (every partition) Kafka leaves out the partitions that
// need no election, so the answer is empty. An election type other than 0 (preferred) or 1
// (unclean) is INVALID_REQUEST. Cluster mode replaces this with real elections.
// Version notes: served v0–2. v1 electionType and the top-level error code; v2+ flexible.

import { ErrorCode } from '@sluice/protocol';
import { defineHandler } from './handler.ts';

const PREFERRED = 0;
const UNCLEAN = 1;

export const electLeadersHandler = defineHandler({
  apiKey: 43,
  minVersion: 0,
  maxVersion: 2,
  handle(ctx, request) {
    const electionType = request.electionType ?? PREFERRED;
    if (electionType !== PREFERRED && electionType !== UNCLEAN) {
      return { throttleTimeMs: 0, errorCode: ErrorCode.INVALID_REQUEST, replicaElectionResults: [] };
    }
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
