// Error codes newer than a request version are replaced by the error Kafka gives that version's
// clients, in one table: an older client that receives a code it does not know may treat it as
// fatal in the wrong way (or not at all).
//
// - PRODUCER_FENCED (90, KIP-588) is known from InitProducerId v4, AddPartitionsToTxn /
//   AddOffsetsToTxn / EndTxn v2; older versions get INVALID_PRODUCER_EPOCH (47). Produce and
//   TxnOffsetCommit never carry it: a fenced transactional produce or offset commit is
//   INVALID_PRODUCER_EPOCH at every version (Kafka's AddPartitionsToTxnManager maps it so).
// - TRANSACTION_ABORTABLE (120, KIP-890) is known from Produce v11, AddPartitionsToTxn v5,
//   AddOffsetsToTxn v4, EndTxn v4, TxnOffsetCommit v4, InitProducerId v5 and FindCoordinator v5;
//   older versions get INVALID_TXN_STATE (48), as Kafka's verification path does.

import { ApiKey, ErrorCode } from '@sluice/protocol';

const PRODUCER_FENCED_SINCE: ReadonlyMap<number, number> = new Map([
  [ApiKey.InitProducerId, 4],
  [ApiKey.AddPartitionsToTxn, 2],
  [ApiKey.AddOffsetsToTxn, 2],
  [ApiKey.EndTxn, 2],
  [ApiKey.Produce, Number.POSITIVE_INFINITY],
  [ApiKey.TxnOffsetCommit, Number.POSITIVE_INFINITY],
]);

const TRANSACTION_ABORTABLE_SINCE: ReadonlyMap<number, number> = new Map([
  [ApiKey.Produce, 11],
  [ApiKey.AddPartitionsToTxn, 5],
  [ApiKey.AddOffsetsToTxn, 4],
  [ApiKey.EndTxn, 4],
  [ApiKey.TxnOffsetCommit, 4],
  [ApiKey.InitProducerId, 5],
  [ApiKey.FindCoordinator, 5],
]);

/** The error code to send for `errorCode` in a response to (apiKey, apiVersion). */
export function errorForVersion(apiKey: number, apiVersion: number, errorCode: number): number {
  if (errorCode === ErrorCode.PRODUCER_FENCED) {
    const since = PRODUCER_FENCED_SINCE.get(apiKey);
    if (since !== undefined && apiVersion < since) return ErrorCode.INVALID_PRODUCER_EPOCH;
  } else if (errorCode === ErrorCode.TRANSACTION_ABORTABLE) {
    const since = TRANSACTION_ABORTABLE_SINCE.get(apiKey);
    if (since === undefined || apiVersion < since) return ErrorCode.INVALID_TXN_STATE;
  }
  return errorCode;
}
