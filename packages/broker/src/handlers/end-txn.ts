// EndTxn (key 26).
// Behavior: commits or aborts the producer's transaction through the transaction coordinator:
// answered once PrepareCommit/PrepareAbort is durable in `__transaction_state`; the markers are
// written to every partition afterwards (until then the id answers CONCURRENT_TRANSACTIONS). A
// retried EndTxn of a finished transaction answers NONE without writing markers again.
// Authorization (KafkaApis): WRITE on the transactional id (TRANSACTIONAL_ID_AUTHORIZATION_FAILED).
// Version notes: served v0–5. v1 no change; v2 PRODUCER_FENCED (older: INVALID_PRODUCER_EPOCH);
// v3+ flexible; v4 TRANSACTION_ABORTABLE (older: INVALID_TXN_STATE); v5 is transaction.version 2
// (KIP-890: the epoch moves on every EndTxn) and answers the producer id and epoch to use next —
// capped at the broker's finalized transaction.version (1, see transactions/README.md).

import { ApiKey, ErrorCode } from '@sluice/protocol';
import { errorForVersion } from '../transactions/versioned-errors.ts';
import { AclOperation, authorize, ResourceType } from './authorization.ts';
import { defineHandler } from './handler.ts';

export const endTxnHandler = defineHandler({
  apiKey: 26,
  minVersion: 0,
  maxVersion: 5,
  async handle(ctx, request) {
    const version = ctx.header.apiVersion;
    if (!authorize(ctx, AclOperation.WRITE, ResourceType.TRANSACTIONAL_ID, request.transactionalId)) {
      return { throttleTimeMs: 0, errorCode: ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED, producerId: -1, producerEpoch: -1 };
    }
    const answer = await ctx.broker.transactions.endTxn(
      { transactionalId: request.transactionalId, producerId: request.producerId, producerEpoch: request.producerEpoch, committed: request.committed },
      version >= 5 ? 2 : 0,
    );
    return {
      throttleTimeMs: 0,
      errorCode: errorForVersion(ApiKey.EndTxn, version, answer.errorCode),
      producerId: answer.producerId,
      producerEpoch: answer.producerEpoch,
    };
  },
});
