// An in-memory GroupLog for coordinator tests: records kept per partition in append order (a
// new coordinator replaying the same MemoryGroupLog is a broker restart), with failures that a
// test can inject into the next appends or flushes.

import { type GroupLog, type GroupLogAppend, GroupLogError, type GroupLogRecord } from '../groups/group-log.ts';

export class MemoryGroupLog implements GroupLog {
  readonly partitionCount: number;
  readonly partitions: GroupLogRecord[][];
  private appendFailures: number[] = [];
  private flushFailures: number[] = [];
  /** Flushes held back by `holdFlushes()`, released by `releaseFlushes()`. */
  private held: Array<() => void> | null = null;

  constructor(partitionCount = 4) {
    this.partitionCount = partitionCount;
    this.partitions = Array.from({ length: partitionCount }, () => []);
  }

  /** The next append fails with this Kafka error code (queue several by calling again). */
  failNextAppend(errorCode: number): void {
    this.appendFailures.push(errorCode);
  }

  /** The next append succeeds but its flush fails with this Kafka error code. */
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

  append(partition: number, records: readonly GroupLogRecord[], _nowMs: number): GroupLogAppend {
    if (partition < 0 || partition >= this.partitionCount) throw new Error(`BUG: append to partition ${partition}`);
    if (records.length === 0) throw new Error('BUG: empty append');
    const failure = this.appendFailures.shift();
    if (failure !== undefined) throw new GroupLogError(failure, 'injected append failure');
    this.partitions[partition].push(...records.map((r) => ({ key: r.key.slice(), value: r.value === null ? null : r.value.slice() })));
    const flushFailure = this.flushFailures.shift();
    const durable = new Promise<void>((resolve, reject) => {
      const settle = () => (flushFailure === undefined ? resolve() : reject(new GroupLogError(flushFailure, 'injected flush failure')));
      if (this.held !== null) this.held.push(settle);
      else settle();
    });
    return { durable };
  }

  replay(visit: (partition: number, record: GroupLogRecord) => void): void {
    this.partitions.forEach((records, partition) => {
      for (const record of records) visit(partition, record);
    });
  }
}
