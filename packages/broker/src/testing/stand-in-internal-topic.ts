// Stand-in internal topics for the tests of OffsetsTopicLog and TransactionStateTopicLog: partition
// logs that keep real RecordBatch bytes in memory and assign offsets as the storage engine does,
// topic creation recorded, flushes counted. Test support only.

import { readBatchHeader } from '@sluice/protocol';
import type { OffsetsTopicHost } from '../groups/offsets-topic-log.ts';
import { OFFSETS_TOPIC } from '../groups/partitioning.ts';
import type { TransactionStateTopicHost } from '../transactions/transaction-state-log.ts';

/** A partition log that keeps batches in memory and assigns offsets by rewriting baseOffset. */
export class StandInLog {
  readonly batches: Array<{ base: number; bytes: Uint8Array }> = [];
  logStartOffset = 0;
  logEndOffset = 0;
  failWith: string | null = null;
  /** Producer state as the native log keeps it: epoch and last sequence per producer id. */
  private readonly producerState = new Map<number, { producerEpoch: number; lastSequence: number }>();

  append(records: Uint8Array, _nowMs: number): { baseOffset: number } {
    if (this.failWith !== null) throw Object.assign(new Error('stand-in failure'), { code: this.failWith });
    const bytes = records.slice();
    const header = readBatchHeader(bytes, 0);
    if (header.producerId >= 0 && header.baseSequence >= 0) {
      this.producerState.set(header.producerId, { producerEpoch: header.producerEpoch, lastSequence: header.baseSequence + header.lastOffsetDelta });
    }
    new DataView(bytes.buffer).setBigInt64(0, BigInt(this.logEndOffset));
    this.batches.push({ base: this.logEndOffset, bytes });
    this.logEndOffset += header.lastOffsetDelta + 1;
    return { baseOffset: this.logEndOffset - header.lastOffsetDelta - 1 };
  }

  producers(): Array<{ producerId: number; producerEpoch: number; lastSequence: number }> {
    return [...this.producerState].map(([producerId, s]) => ({ producerId, ...s }));
  }
}

/** The same, plus the byte read replay needs: whole batches from the one containing `offset`. */
export class ReadableStandInLog extends StandInLog {
  reads = 0;

  readBytes(offset: number, maxBytes: number): Uint8Array | null {
    if (offset >= this.logEndOffset) return null;
    this.reads++;
    let i = this.batches.findIndex((_, k) => k + 1 === this.batches.length || this.batches[k + 1].base > offset);
    const out: Uint8Array[] = [];
    let size = 0;
    for (; i < this.batches.length; i++) {
      const b = this.batches[i].bytes;
      if (out.length > 0 && size + b.length > maxBytes) break;
      out.push(b);
      size += b.length;
    }
    const joined = new Uint8Array(size);
    let pos = 0;
    for (const b of out) joined.set(b, (pos += b.length) - b.length);
    return joined;
  }
}

export interface StandInBroker {
  readonly context: OffsetsTopicHost & TransactionStateTopicHost;
  readonly logs: StandInLog[];
  readonly created: Array<{ name: string; partitions: number; configs: unknown }>;
  flushes: number;
}

/** Settings the stand-in answers (int keys); anything else reads 0. */
const INTS: Readonly<Record<string, number>> = {
  'offsets.topic.num.partitions': 5,
  'transaction.state.log.num.partitions': 3,
  'transaction.state.log.segment.bytes': 1 << 20,
  'transaction.state.log.load.buffer.size': 64,
};

export function standInBroker(options: { readable?: boolean; existingPartitions?: number; existingTopic?: string; flushOnAck?: boolean } = {}): StandInBroker {
  const topics = new Map<
    string,
    { name: string; partitions: Array<{ index: number; log: StandInLog; append(records: Uint8Array, nowMs: number): unknown; flushDurable(): Promise<void> }> }
  >();
  const state: StandInBroker = { context: undefined as unknown as StandInBroker['context'], logs: [], created: [], flushes: 0 };
  const makeTopic = (name: string, count: number) => {
    const partitions = Array.from({ length: count }, (_, index) => {
      const log = options.readable === false ? new StandInLog() : new ReadableStandInLog();
      state.logs.push(log);
      // Partition.append and flushDurable, over the stand-in log; flushes are counted.
      const flushDurable = async () => {
        state.flushes++;
      };
      return { index, log, append: (records: Uint8Array, nowMs: number) => log.append(records, nowMs), flushDurable };
    });
    const topic = { name, partitions };
    topics.set(name, topic);
    return topic;
  };
  if (options.existingPartitions !== undefined) makeTopic(options.existingTopic ?? OFFSETS_TOPIC, options.existingPartitions);
  const context = {
    topics: { get: (name: string) => topics.get(name) },
    config: {
      int: (key: string) => INTS[key] ?? 0,
      bool: (key: string) => key === 'sluice.flush.on.ack.enable' && options.flushOnAck === true,
    },
    topicCreator: {
      create(name: string, partitions: number, _rf: number, configs: unknown) {
        state.created.push({ name, partitions, configs });
        return { topic: makeTopic(name, partitions), errorCode: 0, errorMessage: null };
      },
    },
  };
  return Object.assign(state, { context: context as unknown as StandInBroker['context'] });
}
