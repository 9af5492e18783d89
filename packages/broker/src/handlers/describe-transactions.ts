// DescribeTransactions (key 65).
// Behavior: each transactional id's state, producer id and epoch, timeout, start time and
// partitions, from the transaction coordinator (`kafka-transactions.sh describe`). An unknown or
// empty id answers TRANSACTIONAL_ID_NOT_FOUND; COORDINATOR_LOAD_IN_PROGRESS while loading.
// Version notes: served v0 (flexible).

import { defineHandler } from './handler.ts';

export const describeTransactionsHandler = defineHandler({
  apiKey: 65,
  minVersion: 0,
  maxVersion: 0,
  handle(ctx, request) {
    return { throttleTimeMs: 0, transactionStates: ctx.broker.transactions.describe(request.transactionalIds) };
  },
});
