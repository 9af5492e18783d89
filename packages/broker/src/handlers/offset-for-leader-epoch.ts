// OffsetForLeaderEpoch (key 23).
// Behavior: the answer is Partition.endOffsetForEpoch, the rule the Fetch diverging-epoch check
// uses too. A single node has only ever had leader epoch 0, so epoch 0 ends at the log end; a
// client asking about an epoch above 0 gets UNKNOWN_LEADER_EPOCH via currentLeaderEpoch, or epoch
// -1/offset -1 when the asked epoch is later than ours or negative (Kafka's answer for an epoch
// it does not know).
// Cluster mode: only the leader answers (NOT_LEADER_OR_FOLLOWER elsewhere), from the partition's
// leader-epoch cache with Kafka's endOffsetFor rules (leader-epoch-cache.ts): the largest epoch
// <= the asked one and where it ends (the next epoch's start, or the log end for the latest).
// Sluice's own followers no longer ask (they truncate on Fetch's diverging epoch); consumers
// validating their position after a leader change (KIP-320) do.
// Version notes: served v2–4. v3 replicaId; v4+ flexible.

import { ErrorCode } from '@sluice/protocol';
import { AclOperation, authorize, ResourceType } from './authorization.ts';
import { defineHandler } from './handler.ts';

export const offsetForLeaderEpochHandler = defineHandler({
  apiKey: 23,
  minVersion: 2,
  maxVersion: 4,
  handle(ctx, request) {
    const { broker } = ctx;
    const topics = request.topics.map((t) => {
      const topic = broker.topics.get(t.topic);
      // Kafka (a consumer's request): DESCRIBE on the topic, checked before its existence.
      const mayDescribe = authorize(ctx, AclOperation.DESCRIBE, ResourceType.TOPIC, t.topic);
      const partitions = t.partitions.map((p) => {
        const answer = (errorCode: number, leaderEpoch: number, endOffset: number) => ({ errorCode, partition: p.partition, leaderEpoch, endOffset });
        if (!mayDescribe) return answer(ErrorCode.TOPIC_AUTHORIZATION_FAILED, -1, -1);
        const partition = topic?.partitions[p.partition];
        if (partition === undefined) return answer(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, -1, -1);
        if (p.currentLeaderEpoch > partition.leaderEpoch) return answer(ErrorCode.UNKNOWN_LEADER_EPOCH, -1, -1);
        if (p.currentLeaderEpoch >= 0 && p.currentLeaderEpoch < partition.leaderEpoch) return answer(ErrorCode.FENCED_LEADER_EPOCH, -1, -1);
        if (broker.cluster !== null && partition.isReplicated && !broker.cluster.isLeader(t.topic, p.partition))
          return answer(ErrorCode.NOT_LEADER_OR_FOLLOWER, -1, -1);
        const end = partition.endOffsetForEpoch(p.leaderEpoch);
        return answer(0, end.epoch, end.endOffset);
      });
      return { topic: t.topic, partitions };
    });
    return { throttleTimeMs: 0, topics };
  },
});
