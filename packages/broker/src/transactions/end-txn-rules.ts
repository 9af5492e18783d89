// The preconditions of EndTxn (and of the coordinator's own aborts): what a request gets before
// anything is written, or the PrepareCommit/PrepareAbort transition to write. Two rule sets, as
// in Kafka 4: the classic protocol (transaction.version 0/1) and KIP-890 part 2 (TV2), where the
// epoch moves on every EndTxn and so tells a retry from the next transaction's request.
//
// Pure functions of the metadata (which they prepare, and for a fence also adjust in memory as
// Kafka does); the coordinator appends what they return.

import { ErrorCode } from '@sluice/protocol';
import type { TransactionResult } from './marker-writer.ts';
import { MAX_PRODUCER_EPOCH, NO_PRODUCER_EPOCH, NO_PRODUCER_ID, type TransactionMetadata, type TxnTransit } from './metadata.ts';

/** An answer now, or a transition to append (with whether it completes a fence). */
export type PreEnd =
  | { readonly errorCode: number; readonly transit?: undefined }
  | { readonly errorCode?: undefined; readonly transit: TxnTransit; readonly isEpochFence: boolean };

export interface EndRequest {
  readonly producerId: number;
  readonly producerEpoch: number;
  readonly result: TransactionResult;
  /** false for the coordinator's own abort (a fence or a timeout), which may be one epoch ahead. */
  readonly isFromClient: boolean;
  /** The transaction version in force for this request (already capped by the broker's). */
  readonly tv: number;
}

export interface EndContext {
  readonly now: number;
  /** A new producer id, or null when none can be reserved. */
  generateProducerId(): number | null;
}

/** The classic protocol: the epoch stays; a retry is recognised by the state alone. */
export function preEndClassic(meta: TransactionMetadata, req: EndRequest, ctx: EndContext): PreEnd {
  const { producerId, producerEpoch, result, isFromClient, tv } = req;
  if (meta.producerId !== producerId) return { errorCode: ErrorCode.INVALID_PRODUCER_ID_MAPPING };
  // A client must use the current epoch exactly; the coordinator's own abort may be ahead (a fence).
  if ((isFromClient && producerEpoch !== meta.producerEpoch) || producerEpoch < meta.producerEpoch) return { errorCode: ErrorCode.PRODUCER_FENCED };
  if (meta.pendingTransitionInProgress && meta.pendingState !== 'PrepareEpochFence') return { errorCode: ErrorCode.CONCURRENT_TRANSACTIONS };
  const commit = result === 'COMMIT';
  switch (meta.state) {
    case 'Ongoing': {
      const next = commit ? 'PrepareCommit' : 'PrepareAbort';
      let isEpochFence = false;
      if (next === 'PrepareAbort' && meta.pendingState === 'PrepareEpochFence') {
        // The fence's bumped epoch becomes the transaction's (in memory until the abort is durable).
        isEpochFence = true;
        meta.abandonTransition();
        meta.producerEpoch = producerEpoch;
        meta.lastProducerEpoch = NO_PRODUCER_EPOCH;
      }
      return { transit: meta.prepareAbortOrCommit(next, tv, NO_PRODUCER_ID, ctx.now, false), isEpochFence };
    }
    case 'CompleteCommit':
      return { errorCode: commit ? ErrorCode.NONE : ErrorCode.INVALID_TXN_STATE };
    case 'CompleteAbort':
      return { errorCode: commit ? ErrorCode.INVALID_TXN_STATE : ErrorCode.NONE };
    case 'PrepareCommit':
      return { errorCode: commit ? ErrorCode.CONCURRENT_TRANSACTIONS : ErrorCode.INVALID_TXN_STATE };
    case 'PrepareAbort':
      return { errorCode: commit ? ErrorCode.INVALID_TXN_STATE : ErrorCode.CONCURRENT_TRANSACTIONS };
    case 'Empty':
      return { errorCode: ErrorCode.INVALID_TXN_STATE };
    case 'Dead':
    case 'PrepareEpochFence':
      throw new Error(`BUG: ${meta.transactionalId} is ${meta.state} with no transition pending`);
  }
}

/**
 * KIP-890 part 2: every EndTxn bumps the epoch, so the same epoch again is the next
 * transaction's request, and a retry is recognised by the epoch being one behind. A delayed
 * EndTxn of the previous transaction therefore cannot end the next one (the race Jepsen found).
 */
export function preEndV2(meta: TransactionMetadata, req: EndRequest, ctx: EndContext): PreEnd {
  const { producerId, producerEpoch, result, isFromClient, tv } = req;
  const isEpochFence = meta.pendingState === 'PrepareEpochFence';
  // A retry of an EndTxn that exhausted the epoch: the id has moved on to the next one at epoch 0.
  const retryOnOverflow = !isEpochFence && meta.previousProducerId === producerId && producerEpoch === MAX_PRODUCER_EPOCH - 1 && meta.producerEpoch === 0;
  const retryOnEpochBump = !isEpochFence && meta.producerEpoch === producerEpoch + 1;
  let validEpoch: boolean;
  if (isEpochFence) {
    validEpoch = (!isFromClient || producerEpoch === meta.producerEpoch) && producerEpoch >= meta.producerEpoch;
  } else {
    switch (meta.state) {
      case 'PrepareCommit':
      case 'PrepareAbort':
        validEpoch = retryOnEpochBump;
        break;
      case 'CompleteCommit':
      case 'CompleteAbort':
        validEpoch = retryOnEpochBump || retryOnOverflow || producerEpoch === meta.producerEpoch;
        break;
      default:
        validEpoch = producerEpoch === meta.producerEpoch;
    }
  }
  const isRetry = retryOnEpochBump || retryOnOverflow;
  const toPrepare = (next: 'PrepareCommit' | 'PrepareAbort', noPartitionAdded: boolean): PreEnd => {
    let nextProducerId = NO_PRODUCER_ID;
    if (!isEpochFence && meta.isProducerEpochExhausted) {
      const id = ctx.generateProducerId();
      if (id === null) return { errorCode: ErrorCode.COORDINATOR_LOAD_IN_PROGRESS };
      nextProducerId = id;
    }
    if (isEpochFence) meta.abandonTransition();
    return { transit: meta.prepareAbortOrCommit(next, tv, nextProducerId, ctx.now, noPartitionAdded), isEpochFence };
  };
  if (meta.pendingTransitionInProgress && !isEpochFence) return { errorCode: ErrorCode.CONCURRENT_TRANSACTIONS };
  if (meta.producerId !== producerId && !retryOnOverflow) return { errorCode: ErrorCode.INVALID_PRODUCER_ID_MAPPING };
  if (!validEpoch) return { errorCode: ErrorCode.PRODUCER_FENCED };
  const commit = result === 'COMMIT';
  switch (meta.state) {
    case 'Ongoing':
      return toPrepare(commit ? 'PrepareCommit' : 'PrepareAbort', false);
    case 'CompleteCommit':
      if (commit) return { errorCode: isRetry ? ErrorCode.NONE : ErrorCode.INVALID_TXN_STATE };
      return isRetry ? { errorCode: ErrorCode.INVALID_TXN_STATE } : toPrepare('PrepareAbort', true);
    case 'CompleteAbort':
      if (!commit) return isRetry ? { errorCode: ErrorCode.NONE } : toPrepare('PrepareAbort', true);
      return { errorCode: ErrorCode.INVALID_TXN_STATE };
    case 'PrepareCommit':
      return { errorCode: commit ? ErrorCode.CONCURRENT_TRANSACTIONS : ErrorCode.INVALID_TXN_STATE };
    case 'PrepareAbort':
      return { errorCode: commit ? ErrorCode.INVALID_TXN_STATE : ErrorCode.CONCURRENT_TRANSACTIONS };
    case 'Empty':
      return commit ? { errorCode: ErrorCode.INVALID_TXN_STATE } : toPrepare('PrepareAbort', true);
    case 'Dead':
    case 'PrepareEpochFence':
      throw new Error(`BUG: ${meta.transactionalId} is ${meta.state} with no transition pending`);
  }
}
