// Transaction administration, as kafka-transactions.sh does it: ListTransactions (asked of every
// broker: each coordinator knows its own transactional ids), DescribeTransactions (asked of each
// id's coordinator, found with FindCoordinator key type 1) and DescribeProducers (asked of each
// partition's leader).

import { ApiKey, ErrorCode } from '@sluice/protocol';
import { checkError, KafkaApiError } from './errors.ts';
import { findCoordinator } from './groups.ts';
import type { KafkaClient } from './kafka-client.ts';
import { groupByLeader } from './offsets.ts';

/** FindCoordinator key type for a transactional id. */
const KEY_TYPE_TRANSACTION = 1;

export interface TransactionListing {
  readonly transactionalId: string;
  readonly producerId: number;
  readonly state: string;
  readonly coordinatorId: number;
}

export interface ListTransactionsFilters {
  readonly states?: readonly string[];
  readonly producerIds?: readonly number[];
  /** Only transactions running longer than this (ms); -1 = no filter. */
  readonly durationMs?: number;
  /** A regular expression the whole transactional id must match (ListTransactions v2). */
  readonly pattern?: string | null;
}

/** Every transactional id on every broker matching the filters, sorted by id. */
export async function listTransactions(client: KafkaClient, filters: ListTransactionsFilters = {}): Promise<TransactionListing[]> {
  const brokers = await client.allBrokers();
  const lists = await Promise.all(
    brokers.map(async ({ nodeId, conn }) => {
      const body = await conn.request(ApiKey.ListTransactions, {
        stateFilters: [...(filters.states ?? [])],
        producerIdFilters: [...(filters.producerIds ?? [])],
        durationFilter: filters.durationMs ?? -1,
        transactionalIdPattern: filters.pattern ?? null,
      });
      checkError('list transactions on', `broker ${nodeId}`, body.errorCode);
      return body.transactionStates.map((t) => ({
        transactionalId: t.transactionalId,
        producerId: t.producerId,
        state: t.transactionState,
        coordinatorId: nodeId,
      }));
    }),
  );
  return lists.flat().sort((a, b) => (a.transactionalId < b.transactionalId ? -1 : a.transactionalId > b.transactionalId ? 1 : 0));
}

export interface TransactionDescription {
  readonly transactionalId: string;
  readonly state: string;
  readonly producerId: number;
  readonly producerEpoch: number;
  readonly timeoutMs: number;
  /** -1 when no transaction is open. */
  readonly startTimeMs: number;
  readonly partitions: ReadonlyArray<{ readonly topic: string; readonly partition: number }>;
}

/** One transactional id, from its coordinator; TRANSACTIONAL_ID_NOT_FOUND is a KafkaApiError. */
export async function describeTransaction(client: KafkaClient, transactionalId: string): Promise<TransactionDescription> {
  const conn = await findCoordinator(client, transactionalId, KEY_TYPE_TRANSACTION);
  const body = await conn.request(ApiKey.DescribeTransactions, { transactionalIds: [transactionalId] });
  const state = body.transactionStates[0];
  if (state === undefined)
    throw new KafkaApiError('describe', `transactional id ${JSON.stringify(transactionalId)}`, ErrorCode.UNKNOWN_SERVER_ERROR, 'empty answer');
  checkError('describe', `transactional id ${JSON.stringify(transactionalId)}`, state.errorCode);
  return {
    transactionalId,
    state: state.transactionState,
    producerId: state.producerId,
    producerEpoch: state.producerEpoch,
    timeoutMs: state.transactionTimeoutMs,
    startTimeMs: state.transactionStartTimeMs,
    partitions: state.topicPartitions.flatMap((t) => t.partitionIndexes.map((partition) => ({ topic: t.name, partition }))),
  };
}

export interface ActiveProducer {
  readonly topic: string;
  readonly partition: number;
  readonly producerId: number;
  readonly producerEpoch: number;
  readonly lastSequence: number;
  readonly lastTimestamp: number;
  readonly coordinatorEpoch: number;
  /** First offset of the producer's open transaction in the partition, -1 when none. */
  readonly currentTransactionStartOffset: number;
}

/** The producers a partition's leader knows (DescribeProducers). */
export async function describeProducers(client: KafkaClient, topic: string, partition: number): Promise<ActiveProducer[]> {
  const md = await client.metadata([topic]);
  const [leader] = groupByLeader(md, [{ topic, partition }]).keys();
  const conn = await client.node(leader);
  const body = await conn.request(ApiKey.DescribeProducers, { topics: [{ name: topic, partitionIndexes: [partition] }] });
  const answer = body.topics[0]?.partitions[0];
  if (answer === undefined) throw new KafkaApiError('describe producers of', `${topic}-${partition}`, ErrorCode.UNKNOWN_SERVER_ERROR, 'empty answer');
  checkError('describe producers of', `${topic}-${partition}`, answer.errorCode);
  return answer.activeProducers.map((p) => ({
    topic,
    partition,
    producerId: p.producerId,
    producerEpoch: p.producerEpoch,
    lastSequence: p.lastSequence,
    lastTimestamp: p.lastTimestamp,
    coordinatorEpoch: p.coordinatorEpoch,
    currentTransactionStartOffset: p.currentTxnStartOffset,
  }));
}
