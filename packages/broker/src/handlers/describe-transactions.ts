// DescribeTransactions (key 65).
// Behavior: each transactional id's state, producer id and epoch, timeout, start time and
// partitions, from the transaction coordinator (`kafka-transactions.sh describe`). An unknown or
// empty id answers TRANSACTIONAL_ID_NOT_FOUND; COORDINATOR_LOAD_IN_PROGRESS while loading.
// Authorization (KafkaApis): DESCRIBE on each transactional id, else
// TRANSACTIONAL_ID_AUTHORIZATION_FAILED for it; its partitions are listed only for topics the
// principal may DESCRIBE.
// Version notes: served v0 (flexible).

import { ErrorCode } from '@sluice/protocol';
import { AclOperation, authorize, authorizeQuietly, ResourceType } from './authorization.ts';
import { defineHandler } from './handler.ts';

export const describeTransactionsHandler = defineHandler({
  apiKey: 65,
  minVersion: 0,
  maxVersion: 0,
  handle(ctx, request) {
    const allowed = request.transactionalIds.filter((id) => authorize(ctx, AclOperation.DESCRIBE, ResourceType.TRANSACTIONAL_ID, id));
    const described = new Map(ctx.broker.transactions.describe(allowed).map((d) => [d.transactionalId, d]));
    const transactionStates = request.transactionalIds.map((transactionalId) => {
      const d = described.get(transactionalId);
      if (d === undefined) {
        return {
          errorCode: ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED,
          transactionalId,
          transactionState: '',
          transactionTimeoutMs: 0,
          transactionStartTimeMs: 0,
          producerId: 0,
          producerEpoch: 0,
          topicPartitions: [],
        };
      }
      return { ...d, topicPartitions: d.topicPartitions.filter((tp) => authorizeQuietly(ctx, AclOperation.DESCRIBE, ResourceType.TOPIC, tp.name)) };
    });
    return { throttleTimeMs: 0, transactionStates };
  },
});
