// DescribeTransactions and ListTransactions over the coordinator's transactional ids, as Kafka's
// TransactionCoordinator.handleDescribeTransactions and TransactionStateManager.
// listTransactionStates answer them (the `kafka-transactions.sh describe|list` shape).

import { ErrorCode } from '@sluice/protocol';
import type { TransactionMetadata } from './metadata.ts';
import { TRANSACTION_STATES, type TransactionState } from './state.ts';

export interface DescribedTransaction {
  readonly errorCode: number;
  readonly transactionalId: string;
  readonly transactionState: string;
  readonly transactionTimeoutMs: number;
  readonly transactionStartTimeMs: number;
  readonly producerId: number;
  readonly producerEpoch: number;
  readonly topicPartitions: ReadonlyArray<{ readonly name: string; readonly partitionIndexes: readonly number[] }>;
}

export interface ListTransactionsInput {
  readonly stateFilters: readonly string[];
  readonly producerIdFilters: readonly number[];
  /** < 0: none; else only transactions running longer than this (ms). */
  readonly durationFilterMs: number;
  /** null or '': none; else a regular expression the whole id must match. */
  readonly transactionalIdPattern: string | null;
}

export interface ListTransactionsResult {
  readonly errorCode: number;
  readonly unknownStateFilters: readonly string[];
  readonly transactionStates: ReadonlyArray<{ readonly transactionalId: string; readonly producerId: number; readonly transactionState: string }>;
}

export function describeTransactions(
  txns: ReadonlyMap<string, TransactionMetadata>,
  transactionalIds: readonly string[],
  stateError: number | null | ((transactionalId: string) => number | null),
): DescribedTransaction[] {
  return transactionalIds.map((transactionalId) => {
    // On an error Kafka sets only the code and the id; the rest keep the message's defaults.
    const none = {
      transactionalId,
      transactionState: '',
      transactionTimeoutMs: 0,
      transactionStartTimeMs: 0,
      producerId: 0,
      producerEpoch: 0,
      topicPartitions: [],
    };
    // Per id in cluster mode: NOT_COORDINATOR for an id coordinated elsewhere.
    const error = typeof stateError === 'function' ? (transactionalId === '' ? null : stateError(transactionalId)) : stateError;
    if (error !== null) return { ...none, errorCode: error };
    const meta = transactionalId === '' ? undefined : txns.get(transactionalId);
    if (meta === undefined) return { ...none, errorCode: ErrorCode.TRANSACTIONAL_ID_NOT_FOUND };
    const byTopic = new Map<string, number[]>();
    for (const tp of meta.topicPartitions.values()) byTopic.set(tp.topic, [...(byTopic.get(tp.topic) ?? []), tp.partition]);
    return {
      errorCode: ErrorCode.NONE,
      transactionalId,
      transactionState: meta.state,
      transactionTimeoutMs: meta.txnTimeoutMs,
      transactionStartTimeMs: meta.txnStartTimestamp,
      producerId: meta.producerId,
      producerEpoch: meta.producerEpoch,
      topicPartitions: [...byTopic].map(([name, partitionIndexes]) => ({ name, partitionIndexes })),
    };
  });
}

export function listTransactions(
  txns: ReadonlyMap<string, TransactionMetadata>,
  input: ListTransactionsInput,
  now: number,
  stateError: number | null,
): ListTransactionsResult {
  if (stateError !== null) return { errorCode: stateError, unknownStateFilters: [], transactionStates: [] };
  let pattern: RegExp | null = null;
  if (input.transactionalIdPattern !== null && input.transactionalIdPattern !== '') {
    try {
      // Java's Matcher.matches(): the whole id must match.
      pattern = new RegExp(`^(?:${input.transactionalIdPattern})$`, 'u');
    } catch {
      return { errorCode: ErrorCode.INVALID_REGULAR_EXPRESSION, unknownStateFilters: [], transactionStates: [] };
    }
  }
  const states = new Set<TransactionState>();
  const unknownStateFilters: string[] = [];
  for (const name of input.stateFilters) {
    if ((TRANSACTION_STATES as readonly string[]).includes(name)) states.add(name as TransactionState);
    else unknownStateFilters.push(name);
  }
  const producerIds = new Set(input.producerIdFilters);
  const transactionStates = [...txns.values()]
    .filter((m) => {
      // Dead is the moment of removal, never listed.
      if (m.state === 'Dead') return false;
      if (producerIds.size > 0 && !producerIds.has(m.producerId)) return false;
      if (states.size > 0 && !states.has(m.state)) return false;
      if (input.durationFilterMs >= 0 && now - m.txnStartTimestamp <= input.durationFilterMs) return false;
      return pattern === null || pattern.test(m.transactionalId);
    })
    .map((m) => ({ transactionalId: m.transactionalId, producerId: m.producerId, transactionState: m.state }));
  return { errorCode: ErrorCode.NONE, unknownStateFilters, transactionStates };
}
