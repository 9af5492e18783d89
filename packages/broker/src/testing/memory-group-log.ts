// An in-memory GroupLog for coordinator tests: records kept per partition in append order (a
// new coordinator replaying the same MemoryGroupLog is a broker restart), with failures that a
// test can inject into the next appends or flushes.

import {
  type GroupLog,
  type GroupLogAppend,
  GroupLogError,
  type GroupLogRecord,
  type GroupLogVisitor,
  type ReplayedMarker,
  type TransactionalProducer,
} from '../groups/group-log.ts';

export class MemoryGroupLog implements GroupLog {
  readonly partitionCount: number;
  /** Records per partition, in append order; a record's index is its offset. */
  readonly partitions: GroupLogRecord[][];
  /** The transaction of each record written transactionally. */
  private readonly transactionOf = new Map<GroupLogRecord, TransactionalProducer>();
  /** Markers per partition, each before the record at `before` (= the partition's length then). */
  private readonly markers: Array<Array<{ readonly before: number; readonly marker: ReplayedMarker }>>;
  private appendFailures: number[] = [];
  private flushFailures: number[] = [];
  /** Flushes held back by `holdFlushes()`, released by `releaseFlushes()`. */
  private held: Array<() => void> | null = null;

  constructor(partitionCount = 4) {
    this.partitionCount = partitionCount;
    this.partitions = Array.from({ length: partitionCount }, () => []);
    this.markers = Array.from({ length: partitionCount }, () => []);
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
    return this.store(partition, records, null);
  }

  appendTransactional(partition: number, records: readonly GroupLogRecord[], _nowMs: number, producer: TransactionalProducer): GroupLogAppend {
    return this.store(partition, records, producer);
  }

  /** A COMMIT/ABORT marker lands in the partition (what the broker's marker writer appends). */
  appendMarker(partition: number, marker: ReplayedMarker): void {
    this.markers[partition].push({ before: this.partitions[partition].length, marker });
  }

  private store(partition: number, records: readonly GroupLogRecord[], transaction: TransactionalProducer | null): GroupLogAppend {
    if (partition < 0 || partition >= this.partitionCount) throw new Error(`BUG: append to partition ${partition}`);
    if (records.length === 0) throw new Error('BUG: empty append');
    const failure = this.appendFailures.shift();
    if (failure !== undefined) throw new GroupLogError(failure, 'injected append failure');
    const copies = records.map((r) => ({ key: r.key.slice(), value: r.value === null ? null : r.value.slice() }));
    const baseOffset = this.partitions[partition].length;
    this.partitions[partition].push(...copies);
    if (transaction !== null) for (const record of copies) this.transactionOf.set(record, transaction);
    const flushFailure = this.flushFailures.shift();
    const durable = new Promise<void>((resolve, reject) => {
      const settle = () => (flushFailure === undefined ? resolve() : reject(new GroupLogError(flushFailure, 'injected flush failure')));
      if (this.held !== null) this.held.push(settle);
      else settle();
    });
    return { durable, baseOffset };
  }

  replay(visitor: GroupLogVisitor, only?: number): void {
    this.partitions.forEach((records, partition) => {
      if (only !== undefined && partition !== only) return;
      const markers = this.markers[partition];
      let m = 0;
      records.forEach((record, offset) => {
        for (; m < markers.length && markers[m].before <= offset; m++) visitor.marker(partition, markers[m].marker);
        visitor.record(partition, record, { batchOffset: offset, transaction: this.transactionOf.get(record) ?? null });
      });
      for (; m < markers.length; m++) visitor.marker(partition, markers[m].marker);
    });
  }
}
