// ListTransactions (key 66).
// Behavior: the transactional ids this coordinator knows (`kafka-transactions.sh list`), filtered
// by state (unknown state names are echoed in unknownStateFilters), producer id, running longer
// than durationFilter ms, and (v2) a regular expression the whole id must match
// (INVALID_REGULAR_EXPRESSION when it is not one).
// Authorization (KafkaApis): only the ids the principal may DESCRIBE are listed.
// Version notes: served v0–2, flexible. v1 durationFilter; v2 transactionalIdPattern.

import { AclOperation, authorizeQuietly, ResourceType } from './authorization.ts';
import { defineHandler } from './handler.ts';

export const listTransactionsHandler = defineHandler({
  apiKey: 66,
  minVersion: 0,
  maxVersion: 2,
  handle(ctx, request) {
    const listed = ctx.broker.transactions.list({
      stateFilters: request.stateFilters,
      producerIdFilters: request.producerIdFilters,
      durationFilterMs: request.durationFilter ?? -1,
      transactionalIdPattern: request.transactionalIdPattern ?? null,
    });
    const transactionStates = listed.transactionStates.filter((t) =>
      authorizeQuietly(ctx, AclOperation.DESCRIBE, ResourceType.TRANSACTIONAL_ID, t.transactionalId),
    );
    return { throttleTimeMs: 0, ...listed, transactionStates };
  },
});
