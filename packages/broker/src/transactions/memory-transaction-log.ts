// An in-memory TransactionLog for coordinator tests: records kept per partition in append order
// (a new coordinator replaying the same log is a broker restart), with failures a test can inject
// into the next appends or flushes, and flushes it can hold back to observe the in-between.

import { type TransactionLog, type TransactionLogAppend, TransactionLogError, type TransactionLogRecord } from './transaction-log.ts';

export class MemoryTransactionLog implements TransactionLog {
  readonly partitionCount: number;
  readonly partitions: TransactionLogRecord[][];
  private appendFailures: number[] = [];
  private flushFailures: number[] = [];
  private held: Array<() => void> | null = null;

  constructor(partitionCount = 4) {
    this.partitionCount = partitionCount;
    this.partitions = Array.from({ length: partitionCount }, () => []);
  }

  /** The next append throws with this Kafka error code (queue several by calling again). */
  failNextAppend(errorCode: number): void {
    this.appendFailures.push(errorCode);
  }

  /** The next append is stored but its flush fails with this Kafka error code. */
  failNextFlush(errorCode: number): void {
    this.flushFailures.push(errorCode);
  }

  /** Appends stop resolving `durable` until `releaseFlushes()`. */
  holdFlushes(): void {
    this.held ??= [];
  }

  releaseFlushes(): void {
    const held = this.held ?? [];
    this.held = null;
    for (const release of held) release();
  }

  get recordCount(): number {
    return this.partitions.reduce((n, p) => n + p.length, 0);
  }

  /** Every record, in partition then log order. */
  all(): TransactionLogRecord[] {
    return this.partitions.flat();
  }

  append(partition: number, records: readonly TransactionLogRecord[], _nowMs: number): TransactionLogAppend {
    if (partition < 0 || partition >= this.partitionCount) throw new Error(`BUG: append to partition ${partition}`);
    if (records.length === 0) throw new Error('BUG: empty append');
    const failure = this.appendFailures.shift();
    if (failure !== undefined) throw new TransactionLogError(failure, 'injected append failure');
    this.partitions[partition].push(...records.map((r) => ({ key: r.key.slice(), value: r.value === null ? null : r.value.slice() })));
    const flushFailure = this.flushFailures.shift();
    const durable = new Promise<void>((resolve, reject) => {
      const settle = () => (flushFailure === undefined ? resolve() : reject(new TransactionLogError(flushFailure, 'injected flush failure')));
      if (this.held !== null) this.held.push(settle);
      else settle();
    });
    return { durable };
  }

  replay(visit: (partition: number, record: TransactionLogRecord) => void, only?: number): void {
    this.partitions.forEach((records, partition) => {
      if (only !== undefined && partition !== only) return;
      for (const record of records) visit(partition, record);
    });
  }
}
