// AddPartitionsToTxn (key 24).
// Behavior: v0–3 (clients): the partitions join the producer's transaction through the
// transaction coordinator (one error for all of them). When any named partition does not exist,
// those answer UNKNOWN_TOPIC_OR_PARTITION and the others OPERATION_NOT_ATTEMPTED, and the
// coordinator is not asked, as Kafka (existence in the cluster: known-partitions.ts). v4–5
// (sent by partition leaders, batched per transaction, KIP-890): a transaction with VerifyOnly is checked (each partition NONE, or
// TRANSACTION_ABORTABLE when it is not in the transaction), one without it is added as
// transaction.version 2 does; the top-level error is NONE. Errors pass through errorForVersion.
// Authorization (KafkaApis): v0–3 WRITE on the transactional id (every partition
// TRANSACTIONAL_ID_AUTHORIZATION_FAILED), then WRITE on each topic (TOPIC_AUTHORIZATION_FAILED for
// those, OPERATION_NOT_ATTEMPTED for the rest); v4+ CLUSTER_ACTION on the cluster (the top-level
// CLUSTER_AUTHORIZATION_FAILED).
// Version notes: served v0–5. v1 no change; v2 PRODUCER_FENCED (older: INVALID_PRODUCER_EPOCH);
// v3+ flexible; v4 batches transactions and adds VerifyOnly; v5 TRANSACTION_ABORTABLE (older:
// INVALID_TXN_STATE).

import { ApiKey, ErrorCode } from '@sluice/protocol';
import type { BrokerContext } from '../broker-context.ts';
import type { TopicPartition } from '../transactions/marker-writer.ts';
import { errorForVersion } from '../transactions/versioned-errors.ts';
import type { RequestContext } from './handler.ts';
import { AclOperation, authorize, CLUSTER_NAME, ResourceType } from './authorization.ts';
import { defineHandler } from './handler.ts';
import { partitionExists } from './known-partitions.ts';

interface Named {
  readonly name: string;
  readonly partitions: readonly number[];
}

interface Results {
  readonly name: string;
  readonly resultsByPartition: Array<{ partitionIndex: number; partitionErrorCode: number }>;
}

function byTopic(topics: readonly Named[], code: (tp: TopicPartition) => number): Results[] {
  return topics.map((t) => ({
    name: t.name,
    resultsByPartition: t.partitions.map((p) => ({ partitionIndex: p, partitionErrorCode: code({ topic: t.name, partition: p }) })),
  }));
}

/**
 * UNKNOWN_TOPIC_OR_PARTITION for missing partitions, else null (all exist). Cluster mode: by the
 * cluster's view — the coordinator need not hold a replica of the partitions it is asked about.
 */
function missing(broker: BrokerContext, topics: readonly Named[]): Set<string> | null {
  const absent = new Set<string>();
  for (const t of topics) {
    for (const p of t.partitions) if (!partitionExists(broker, t.name, p)) absent.add(`${t.name}\u0000${p}`);
  }
  return absent.size === 0 ? null : absent;
}

/** v0-3's ACL checks: the refusal for every partition, or null when allowed. */
function deniedV3(ctx: RequestContext, transactionalId: string, topics: readonly Named[]): Results[] | null {
  if (!authorize(ctx, AclOperation.WRITE, ResourceType.TRANSACTIONAL_ID, transactionalId))
    return byTopic(topics, () => ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
  const denied = new Set(topics.filter((t) => !authorize(ctx, AclOperation.WRITE, ResourceType.TOPIC, t.name)).map((t) => t.name));
  if (denied.size === 0) return null;
  return byTopic(topics, (tp) => (denied.has(tp.topic) ? ErrorCode.TOPIC_AUTHORIZATION_FAILED : ErrorCode.OPERATION_NOT_ATTEMPTED));
}

/** One transaction: added (or verified), or refused for partitions that do not exist. */
async function handleOne(
  broker: BrokerContext,
  version: number,
  input: { transactionalId: string; producerId: number; producerEpoch: number; verifyOnly: boolean; topics: readonly Named[] },
): Promise<Results[]> {
  const absent = missing(broker, input.topics);
  if (absent !== null) {
    return byTopic(input.topics, (tp) =>
      absent.has(`${tp.topic}\u0000${tp.partition}`) ? ErrorCode.UNKNOWN_TOPIC_OR_PARTITION : ErrorCode.OPERATION_NOT_ATTEMPTED,
    );
  }
  const partitions = input.topics.flatMap((t) => t.partitions.map((partition) => ({ topic: t.name, partition })));
  const request = { transactionalId: input.transactionalId, producerId: input.producerId, producerEpoch: input.producerEpoch, partitions };
  if (input.verifyOnly) {
    const verified = new Map(broker.transactions.verifyPartitions(request).map((r) => [`${r.topic}\u0000${r.partition}`, r.errorCode]));
    return byTopic(input.topics, (tp) =>
      errorForVersion(ApiKey.AddPartitionsToTxn, version, verified.get(`${tp.topic}\u0000${tp.partition}`) ?? ErrorCode.UNKNOWN_SERVER_ERROR),
    );
  }
  // v4+ without VerifyOnly is a leader adding partitions for a transaction.version 2 producer.
  const code = errorForVersion(ApiKey.AddPartitionsToTxn, version, await broker.transactions.addPartitions(request, version >= 4 ? 2 : 0));
  return byTopic(input.topics, () => code);
}

export const addPartitionsToTxnHandler = defineHandler({
  apiKey: 24,
  minVersion: 0,
  maxVersion: 5,
  async handle(ctx, request) {
    const { broker, header } = ctx;
    const version = header.apiVersion;
    if (version < 4) {
      const denied = deniedV3(ctx, request.v3AndBelowTransactionalId ?? '', request.v3AndBelowTopics ?? []);
      if (denied !== null) return { throttleTimeMs: 0, resultsByTopicV3AndBelow: denied };
      const results = await handleOne(broker, version, {
        transactionalId: request.v3AndBelowTransactionalId ?? '',
        producerId: request.v3AndBelowProducerId ?? -1,
        producerEpoch: request.v3AndBelowProducerEpoch ?? -1,
        verifyOnly: false,
        topics: request.v3AndBelowTopics ?? [],
      });
      return { throttleTimeMs: 0, resultsByTopicV3AndBelow: results };
    }
    if (!authorize(ctx, AclOperation.CLUSTER_ACTION, ResourceType.CLUSTER, CLUSTER_NAME)) {
      return { throttleTimeMs: 0, errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED, resultsByTransaction: [] };
    }
    const resultsByTransaction = await Promise.all(
      (request.transactions ?? []).map(async (t) => ({ transactionalId: t.transactionalId, topicResults: await handleOne(broker, version, t) })),
    );
    return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, resultsByTransaction };
  },
});
