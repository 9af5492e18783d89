// One transactional id's state, and the only ways it may change (Kafka's TransactionMetadata,
// in our words).
//
// Every change is two steps, because the new state must be in `__transaction_state` before it
// is acted on: a `prepare…` method checks the transition, marks it pending (`pendingState`, so
// no second transition can start meanwhile: requests get CONCURRENT_TRANSACTIONS) and returns
// the would-be state as a TxnTransit; the coordinator appends that to the log and, once it is
// durable, calls `completeTransitionTo` (or `abandonTransition` when the append failed). The
// prepare methods return `{ error }` for what a client did wrong and throw `BUG:` for what the
// coordinator did wrong.
//
// Concurrency: event loop only; the coordinator owns every instance.

import { ErrorCode } from '@sluice/protocol';
import { partitionKey, type TopicPartition } from './marker-writer.ts';
import type { TransactionLogValue } from './records.ts';
import { stateFromStatus, TRANSACTION_STATUS, type TransactionState, VALID_PREVIOUS_STATES } from './state.ts';

export const NO_PRODUCER_ID = -1;
export const NO_PRODUCER_EPOCH = -1;
/** Short.MAX_VALUE: the epoch a coordinator may still use to fence; never handed to a client. */
export const MAX_PRODUCER_EPOCH = 0x7fff;

/** An epoch at or past Short.MAX_VALUE - 1 cannot be bumped for a client: a new producer id is due. */
export function isEpochExhausted(epoch: number): boolean {
  return epoch >= MAX_PRODUCER_EPOCH - 1;
}

/** The state a transition leads to; the fields of a TransactionLogValue plus lastProducerEpoch. */
export interface TxnTransit {
  readonly producerId: number;
  readonly previousProducerId: number;
  readonly nextProducerId: number;
  readonly producerEpoch: number;
  readonly lastProducerEpoch: number;
  readonly txnTimeoutMs: number;
  readonly state: TransactionState;
  readonly topicPartitions: readonly TopicPartition[];
  readonly txnStartTimestamp: number;
  readonly txnLastUpdateTimestamp: number;
  /** 0/1 = the classic protocol, 2 = KIP-890 part 2 (epoch bump on every EndTxn). */
  readonly clientTransactionVersion: number;
}

export type Prepared = { readonly transit: TxnTransit; readonly error?: undefined } | { readonly transit?: undefined; readonly error: number };

function failure(message: string): never {
  throw new Error(`BUG: ${message}`);
}

export class TransactionMetadata {
  readonly transactionalId: string;
  producerId: number;
  previousProducerId: number;
  nextProducerId: number;
  producerEpoch: number;
  lastProducerEpoch: number;
  txnTimeoutMs: number;
  state: TransactionState;
  /** The transaction's partitions; while Prepare*, those still without a marker. */
  readonly topicPartitions = new Map<string, TopicPartition>();
  txnStartTimestamp: number;
  txnLastUpdateTimestamp: number;
  clientTransactionVersion: number;
  /** The state an in-flight transition leads to; null when none is in flight. */
  pendingState: TransactionState | null = null;
  /** An epoch fence was prepared but its log append failed: fence again without bumping again. */
  hasFailedEpochFence = false;

  constructor(init: Omit<TxnTransit, 'topicPartitions'> & { readonly transactionalId: string; readonly topicPartitions?: readonly TopicPartition[] }) {
    this.transactionalId = init.transactionalId;
    this.producerId = init.producerId;
    this.previousProducerId = init.previousProducerId;
    this.nextProducerId = init.nextProducerId;
    this.producerEpoch = init.producerEpoch;
    this.lastProducerEpoch = init.lastProducerEpoch;
    this.txnTimeoutMs = init.txnTimeoutMs;
    this.state = init.state;
    for (const tp of init.topicPartitions ?? []) this.topicPartitions.set(partitionKey(tp), tp);
    this.txnStartTimestamp = init.txnStartTimestamp;
    this.txnLastUpdateTimestamp = init.txnLastUpdateTimestamp;
    this.clientTransactionVersion = init.clientTransactionVersion;
  }

  /** A transactional id seen for the first time: Empty, with no epoch yet (the first InitProducerId makes it 0). */
  static fresh(transactionalId: string, producerId: number, txnTimeoutMs: number, nowMs: number): TransactionMetadata {
    return new TransactionMetadata({
      transactionalId,
      producerId,
      previousProducerId: NO_PRODUCER_ID,
      nextProducerId: NO_PRODUCER_ID,
      producerEpoch: NO_PRODUCER_EPOCH,
      lastProducerEpoch: NO_PRODUCER_EPOCH,
      txnTimeoutMs,
      state: 'Empty',
      txnStartTimestamp: -1,
      txnLastUpdateTimestamp: nowMs,
      clientTransactionVersion: 0,
    });
  }

  get pendingTransitionInProgress(): boolean {
    return this.pendingState !== null;
  }

  get isProducerEpochExhausted(): boolean {
    return isEpochExhausted(this.producerEpoch);
  }

  hasPartition(tp: TopicPartition): boolean {
    return this.topicPartitions.has(partitionKey(tp));
  }

  partitions(): TopicPartition[] {
    return [...this.topicPartitions.values()];
  }

  /** A marker was written to `tp` while completing: DescribeTransactions stops listing it. */
  removePartition(tp: TopicPartition): void {
    if (this.state !== 'PrepareCommit' && this.state !== 'PrepareAbort')
      failure(`removing a marked partition of ${this.transactionalId} in state ${this.state}`);
    this.topicPartitions.delete(partitionKey(tp));
  }

  private current(): TxnTransit {
    return {
      producerId: this.producerId,
      previousProducerId: this.previousProducerId,
      nextProducerId: this.nextProducerId,
      producerEpoch: this.producerEpoch,
      lastProducerEpoch: this.lastProducerEpoch,
      txnTimeoutMs: this.txnTimeoutMs,
      state: this.state,
      topicPartitions: this.partitions(),
      txnStartTimestamp: this.txnStartTimestamp,
      txnLastUpdateTimestamp: this.txnLastUpdateTimestamp,
      clientTransactionVersion: this.clientTransactionVersion,
    };
  }

  /** Checks and marks a transition pending; the previous producer id is always the current one, as in Kafka. */
  private prepareTransitionTo(change: Partial<TxnTransit> & { readonly state: TransactionState }): TxnTransit {
    if (this.pendingState !== null) failure(`${this.transactionalId}: transition to ${change.state} while ${this.pendingState} is pending`);
    const transit: TxnTransit = { ...this.current(), nextProducerId: NO_PRODUCER_ID, ...change, previousProducerId: this.producerId };
    if (transit.producerId < 0) failure(`${this.transactionalId}: producer id ${transit.producerId}`);
    if (transit.state !== 'Dead' && transit.producerEpoch < 0) failure(`${this.transactionalId}: producer epoch ${transit.producerEpoch}`);
    if (!VALID_PREVIOUS_STATES[transit.state].includes(this.state)) failure(`${this.transactionalId}: ${this.state} -> ${transit.state} is not a transition`);
    this.pendingState = transit.state;
    return transit;
  }

  /** InitProducerId finding a transaction Ongoing: fence the producer (its epoch + 1, in memory only) and abort. */
  prepareFenceProducerEpoch(): TxnTransit {
    // After a failed fence the bumped epoch was never returned to anyone: reuse it. Never overflow.
    const bumped = this.hasFailedEpochFence || this.producerEpoch === MAX_PRODUCER_EPOCH ? this.producerEpoch : this.producerEpoch + 1;
    return this.prepareTransitionTo({ state: 'PrepareEpochFence', producerEpoch: bumped, nextProducerId: this.nextProducerId });
  }

  /**
   * InitProducerId from Empty / CompleteCommit / CompleteAbort: the next epoch. With the
   * producer's own epoch given (KIP-360), its current epoch continues the producer (bump), its
   * previous one is a retry of a bump it never heard about (same epoch again), anything else is
   * PRODUCER_FENCED.
   */
  prepareIncrementProducerEpoch(newTxnTimeoutMs: number, expectedEpoch: number | null, nowMs: number): Prepared {
    if (this.isProducerEpochExhausted) failure(`${this.transactionalId}: no epoch left for producer id ${this.producerId}`);
    let producerEpoch: number;
    let lastProducerEpoch: number;
    if (expectedEpoch === null) {
      producerEpoch = this.producerEpoch + 1;
      lastProducerEpoch = NO_PRODUCER_EPOCH;
    } else if (this.producerEpoch === NO_PRODUCER_EPOCH || expectedEpoch === this.producerEpoch) {
      producerEpoch = this.producerEpoch + 1;
      lastProducerEpoch = this.producerEpoch;
    } else if (expectedEpoch === this.lastProducerEpoch) {
      producerEpoch = this.producerEpoch;
      lastProducerEpoch = this.lastProducerEpoch;
    } else {
      return { error: ErrorCode.PRODUCER_FENCED };
    }
    return {
      transit: this.prepareTransitionTo({
        state: 'Empty',
        producerEpoch,
        lastProducerEpoch,
        txnTimeoutMs: newTxnTimeoutMs,
        topicPartitions: [],
        txnStartTimestamp: -1,
        txnLastUpdateTimestamp: nowMs,
      }),
    };
  }

  /** InitProducerId with the epoch exhausted: a new producer id at epoch 0. */
  prepareProducerIdRotation(newProducerId: number, newTxnTimeoutMs: number, nowMs: number, recordLastEpoch: boolean): TxnTransit {
    if (this.state === 'Ongoing' || this.state === 'PrepareCommit' || this.state === 'PrepareAbort')
      failure(`${this.transactionalId}: rotating the producer id in ${this.state}`);
    return this.prepareTransitionTo({
      state: 'Empty',
      producerId: newProducerId,
      producerEpoch: 0,
      lastProducerEpoch: recordLastEpoch ? this.producerEpoch : NO_PRODUCER_EPOCH,
      txnTimeoutMs: newTxnTimeoutMs,
      topicPartitions: [],
      txnStartTimestamp: -1,
      txnLastUpdateTimestamp: nowMs,
    });
  }

  /** AddPartitionsToTxn / AddOffsetsToTxn: Ongoing with these partitions too; a new transaction starts now. */
  prepareAddPartitions(added: readonly TopicPartition[], nowMs: number, clientTransactionVersion: number): TxnTransit {
    const starting = this.state === 'Empty' || this.state === 'CompleteCommit' || this.state === 'CompleteAbort';
    const partitions = new Map(this.topicPartitions);
    for (const tp of added) partitions.set(partitionKey(tp), tp);
    return this.prepareTransitionTo({
      state: 'Ongoing',
      topicPartitions: [...partitions.values()],
      txnStartTimestamp: starting ? nowMs : this.txnStartTimestamp,
      txnLastUpdateTimestamp: nowMs,
      clientTransactionVersion,
    });
  }

  /**
   * EndTxn (or the coordinator's own abort): PrepareCommit / PrepareAbort. With transaction
   * version 2 the epoch is bumped here (and a new producer id chosen when it would exhaust);
   * `noPartitionAdded` is a TV2 abort of a transaction that never added a partition.
   */
  prepareAbortOrCommit(
    state: 'PrepareCommit' | 'PrepareAbort',
    clientTransactionVersion: number,
    nextProducerId: number,
    nowMs: number,
    noPartitionAdded: boolean,
  ): TxnTransit {
    let producerEpoch = this.producerEpoch;
    let lastProducerEpoch = this.lastProducerEpoch;
    if (clientTransactionVersion >= 2) {
      // An abort at MAX_PRODUCER_EPOCH (only reachable through a bug) goes through un-bumped so
      // the producer can recover.
      if (!(this.producerEpoch === MAX_PRODUCER_EPOCH && state === 'PrepareAbort')) producerEpoch = this.producerEpoch + 1;
      lastProducerEpoch = this.producerEpoch;
    }
    return this.prepareTransitionTo({
      state,
      producerEpoch,
      lastProducerEpoch,
      nextProducerId,
      txnStartTimestamp: noPartitionAdded ? nowMs : this.txnStartTimestamp,
      txnLastUpdateTimestamp: nowMs,
      clientTransactionVersion,
    });
  }

  /** Every marker is written: CompleteCommit / CompleteAbort (TV2 with a next producer id: it takes over at epoch 0). */
  prepareComplete(nowMs: number): TxnTransit {
    this.hasFailedEpochFence = false;
    if (this.state !== 'PrepareCommit' && this.state !== 'PrepareAbort') failure(`${this.transactionalId}: completing from ${this.state}`);
    const rotate = this.clientTransactionVersion >= 2 && this.nextProducerId !== NO_PRODUCER_ID;
    return this.prepareTransitionTo({
      state: this.state === 'PrepareCommit' ? 'CompleteCommit' : 'CompleteAbort',
      producerId: rotate ? this.nextProducerId : this.producerId,
      producerEpoch: rotate ? 0 : this.producerEpoch,
      nextProducerId: NO_PRODUCER_ID,
      topicPartitions: [],
      txnLastUpdateTimestamp: nowMs,
    });
  }

  /** transactional.id.expiration.ms passed: the id is removed (a tombstone is written). */
  prepareDead(): TxnTransit {
    return this.prepareTransitionTo({ state: 'Dead', topicPartitions: [], nextProducerId: this.nextProducerId });
  }

  /** The append of a prepared transition failed: nothing changes. */
  abandonTransition(): void {
    this.pendingState = null;
  }

  /** The prepared transition is durable: take it over, after checking it is the one prepared. */
  completeTransitionTo(transit: TxnTransit): void {
    const to = this.pendingState;
    if (to === null) failure(`${this.transactionalId}: completing ${transit.state} with nothing pending`);
    if (to !== transit.state) failure(`${this.transactionalId}: completing ${transit.state} while ${to} is pending`);
    const same = (a: readonly TopicPartition[], b: ReadonlyMap<string, TopicPartition>) => a.length === b.size && a.every((tp) => b.has(partitionKey(tp)));
    const tv2 = transit.clientTransactionVersion >= 2;
    const epochMatches = () => {
      if (tv2 && (to === 'CompleteCommit' || to === 'CompleteAbort') && transit.producerEpoch === 0 && transit.producerId !== this.producerId) {
        return transit.lastProducerEpoch === this.lastProducerEpoch && transit.previousProducerId === this.producerId;
      }
      if (tv2 && (to === 'PrepareCommit' || to === 'PrepareAbort'))
        return transit.lastProducerEpoch === this.producerEpoch && transit.producerId === this.producerId;
      return transit.producerEpoch === this.producerEpoch && transit.producerId === this.producerId;
    };
    switch (to) {
      case 'Empty': {
        const bump = transit.producerEpoch === this.producerEpoch + 1 || (transit.producerEpoch === 0 && transit.producerId !== this.producerId);
        if ((transit.producerEpoch !== this.producerEpoch && !bump) || transit.topicPartitions.length > 0 || transit.txnStartTimestamp !== -1)
          failure(`${this.transactionalId}: bad InitProducerId transition`);
        break;
      }
      case 'Ongoing':
        if (
          !epochMatches() ||
          !this.partitions().every((tp) => transit.topicPartitions.some((t) => partitionKey(t) === partitionKey(tp))) ||
          transit.txnTimeoutMs !== this.txnTimeoutMs
        ) {
          failure(`${this.transactionalId}: bad AddPartitions transition`);
        }
        break;
      case 'PrepareCommit':
      case 'PrepareAbort': {
        const emptyAbort = to === 'PrepareAbort' && tv2 && (this.state === 'Empty' || this.state === 'CompleteCommit' || this.state === 'CompleteAbort');
        if (
          !epochMatches() ||
          !same(transit.topicPartitions, this.topicPartitions) ||
          transit.txnTimeoutMs !== this.txnTimeoutMs ||
          !(emptyAbort || transit.txnStartTimestamp === this.txnStartTimestamp)
        ) {
          failure(`${this.transactionalId}: bad EndTxn transition`);
        }
        break;
      }
      case 'CompleteCommit':
      case 'CompleteAbort':
        if (!epochMatches() || transit.txnTimeoutMs !== this.txnTimeoutMs || transit.txnStartTimestamp === -1)
          failure(`${this.transactionalId}: bad completion`);
        break;
      case 'PrepareEpochFence':
      case 'Dead':
        // A fence becomes PrepareAbort before anything is written; Dead ends in removal, not in a state.
        failure(`${this.transactionalId}: ${to} is never completed`);
    }
    this.producerId = transit.producerId;
    this.previousProducerId = transit.previousProducerId;
    this.nextProducerId = transit.nextProducerId;
    this.producerEpoch = transit.producerEpoch;
    this.lastProducerEpoch = transit.lastProducerEpoch;
    this.txnTimeoutMs = transit.txnTimeoutMs;
    this.topicPartitions.clear();
    for (const tp of transit.topicPartitions) this.topicPartitions.set(partitionKey(tp), tp);
    this.txnStartTimestamp = transit.txnStartTimestamp;
    this.txnLastUpdateTimestamp = transit.txnLastUpdateTimestamp;
    this.clientTransactionVersion = transit.clientTransactionVersion;
    this.pendingState = null;
    this.state = to;
  }
}

/** The `__transaction_state` value of a transition (partitions grouped by topic, null when Empty). */
export function transitToLogValue(t: TxnTransit): TransactionLogValue {
  if (t.state === 'Empty' && t.topicPartitions.length > 0) failure('an Empty transaction with partitions');
  let partitions: Array<{ topic: string; partitionIds: number[] }> | null = null;
  if (t.state !== 'Empty') {
    const byTopic = new Map<string, number[]>();
    for (const tp of t.topicPartitions) {
      const ids = byTopic.get(tp.topic) ?? [];
      ids.push(tp.partition);
      byTopic.set(tp.topic, ids);
    }
    partitions = [...byTopic].map(([topic, partitionIds]) => ({ topic, partitionIds }));
  }
  return {
    producerId: t.producerId,
    previousProducerId: t.previousProducerId,
    nextProducerId: t.nextProducerId,
    producerEpoch: t.producerEpoch,
    transactionTimeoutMs: t.txnTimeoutMs,
    transactionStatus: TRANSACTION_STATUS[t.state],
    transactionPartitions: partitions,
    transactionLastUpdateTimestampMs: t.txnLastUpdateTimestamp,
    transactionStartTimestampMs: t.txnStartTimestamp,
    clientTransactionVersion: t.clientTransactionVersion,
  };
}

/** The metadata a loaded value describes; lastProducerEpoch is not stored, so it is -1 (as in Kafka). Null for an unknown status. */
export function metadataFromLogValue(transactionalId: string, v: TransactionLogValue): TransactionMetadata | null {
  const state = stateFromStatus(v.transactionStatus);
  if (state === null) return null;
  return new TransactionMetadata({
    transactionalId,
    producerId: v.producerId,
    previousProducerId: v.previousProducerId,
    nextProducerId: v.nextProducerId,
    producerEpoch: v.producerEpoch,
    lastProducerEpoch: NO_PRODUCER_EPOCH,
    txnTimeoutMs: v.transactionTimeoutMs,
    state,
    topicPartitions: (v.transactionPartitions ?? []).flatMap((p) => p.partitionIds.map((partition) => ({ topic: p.topic, partition }))),
    txnStartTimestamp: v.transactionStartTimestampMs,
    txnLastUpdateTimestamp: v.transactionLastUpdateTimestampMs,
    clientTransactionVersion: v.clientTransactionVersion,
  });
}
