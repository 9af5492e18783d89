// Where the transaction coordinator's durable state goes: the partitioned, compacted internal
// topic `__transaction_state`, one key/value record per transition (records.ts spells the bytes
// out). The broker's implementation appends to that topic's partitions through the native log,
// as offsets-topic-log.ts does for `__consumer_offsets`; tests use MemoryTransactionLog.
//
// Contract (the same as GroupLog's): the coordinator applies a transition in memory only after
// `append` returned and `durable` resolved; replaying the log rebuilds exactly that state.
//
// Concurrency: event loop only; appends to one partition are applied in call order.

import { javaStringHashCode, kafkaAbs } from '../groups/partitioning.ts';

export interface TransactionLogRecord {
  readonly key: Uint8Array;
  /** null = tombstone (the transactional id expired). */
  readonly value: Uint8Array | null;
}

export interface TransactionLogAppend {
  /** Resolves when the records are as durable as the broker's ack policy requires. */
  readonly durable: Promise<void>;
}

export interface TransactionLog {
  /** transaction.state.log.num.partitions. */
  readonly partitionCount: number;
  /**
   * Appends the records to one partition as one batch. Throws TransactionLogError when the
   * append is refused; `durable` rejects with TransactionLogError when the flush fails.
   */
  append(partition: number, records: readonly TransactionLogRecord[], nowMs: number): TransactionLogAppend;
  /** Calls `visit` for every record stored (of partition `only` when given), partition by partition, in log order. */
  replay(visit: (partition: number, record: TransactionLogRecord) => void, only?: number): void;
}

/** An append or flush the log refused, with the Kafka error code of the storage failure. */
export class TransactionLogError extends Error {
  readonly errorCode: number;

  constructor(errorCode: number, message: string) {
    super(message);
    this.name = 'TransactionLogError';
    this.errorCode = errorCode;
  }
}

/** Kafka's TransactionStateManager.partitionFor: abs(javaHash(id)) % partition count. */
export function transactionPartition(transactionalId: string, partitionCount: number): number {
  if (!Number.isInteger(partitionCount) || partitionCount < 1) throw new Error(`BUG: transaction state partition count ${partitionCount}`);
  return kafkaAbs(javaStringHashCode(transactionalId)) % partitionCount;
}
