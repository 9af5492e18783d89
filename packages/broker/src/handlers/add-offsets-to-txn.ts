// AddOffsetsToTxn (key 25).
// Behavior: the group's `__consumer_offsets` partition joins the producer's transaction (the
// transaction coordinator's addOffsets), so that TxnOffsetCommit may write there and the
// transaction's marker reaches it. Errors as AddPartitionsToTxn's (INVALID_PRODUCER_ID_MAPPING,
// PRODUCER_FENCED, CONCURRENT_TRANSACTIONS, COORDINATOR_LOAD_IN_PROGRESS, …).
// Authorization (KafkaApis): WRITE on the transactional id (TRANSACTIONAL_ID_AUTHORIZATION_FAILED),
// then READ on the group (GROUP_AUTHORIZATION_FAILED).
// Version notes: served v0–4. v1 no change; v2 PRODUCER_FENCED (older: INVALID_PRODUCER_EPOCH);
// v3+ flexible; v4 TRANSACTION_ABORTABLE (older: INVALID_TXN_STATE).

import { ApiKey, ErrorCode } from '@sluice/protocol';
import { errorForVersion } from '../transactions/versioned-errors.ts';
import { AclOperation, authorize, ResourceType } from './authorization.ts';
import { defineHandler } from './handler.ts';

export const addOffsetsToTxnHandler = defineHandler({
  apiKey: 25,
  minVersion: 0,
  maxVersion: 4,
  async handle(ctx, request) {
    if (!authorize(ctx, AclOperation.WRITE, ResourceType.TRANSACTIONAL_ID, request.transactionalId))
      return { throttleTimeMs: 0, errorCode: ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED };
    if (!authorize(ctx, AclOperation.READ, ResourceType.GROUP, request.groupId)) return { throttleTimeMs: 0, errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED };
    const errorCode = await ctx.broker.transactions.addOffsets({
      transactionalId: request.transactionalId,
      producerId: request.producerId,
      producerEpoch: request.producerEpoch,
      groupId: request.groupId,
    });
    return { throttleTimeMs: 0, errorCode: errorForVersion(ApiKey.AddOffsetsToTxn, ctx.header.apiVersion, errorCode) };
  },
});
