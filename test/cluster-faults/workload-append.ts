// The list-append workload: a few keys, each a list that grows by one value per record (the
// record's key names the list, its value is the element); two idempotent acks=all producers
// append to every key, so each list's order is the one the log gives it. A reader follows every
// partition from its leader and records each key's elements in the order it reads them (its
// `index`-th element of that key); after the faults each key's final list is read. The checker
// reports any element a reader saw at a position the final list contradicts, and lost
// acknowledged appends.

import type { HistoryEvent } from './checker.ts';
import { anyState, type Endpoint, readAll, withDeadline } from './cluster-client.ts';
import { faultsKafka, followPartitions, idempotentSendLoop } from './workload.ts';

export interface AppendWorkloadOptions {
  readonly brokers: readonly Endpoint[];
  readonly topic: string;
  readonly partitions: number;
  readonly keys: number;
  readonly producers: number;
  readonly readers: number;
  readonly sendGapMs: number;
  readonly history: HistoryEvent[];
  readonly now: () => number;
}

/** The partition a key's list lives in (chosen, not hashed: every partition holds lists). */
export function appendPartition(key: number, partitions: number): number {
  return key % partitions;
}

export class AppendWorkload {
  private stopping = false;
  private tasks: Promise<void>[] = [];
  private readonly options: AppendWorkloadOptions;

  constructor(options: AppendWorkloadOptions) {
    this.options = options;
  }

  start(): void {
    for (let p = 1; p <= this.options.producers; p++) this.tasks.push(this.append(p));
    for (let r = 1; r <= this.options.readers; r++) this.tasks.push(this.read(r));
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await Promise.all(this.tasks);
  }

  private async append(id: number): Promise<void> {
    const { topic, partitions, keys, history, now } = this.options;
    let seq = 0;
    await idempotentSendLoop(
      faultsKafka(this.options.brokers, `faults-append-${id}`),
      () => this.stopping,
      async (producer) => {
        const k = seq % keys;
        const key = `k${k}`;
        const value = `a${id}-${seq++}`;
        try {
          const [meta] = await withDeadline(
            producer.send({ topic, acks: -1, timeout: 5000, messages: [{ partition: appendPartition(k, partitions), key, value }] }),
            30_000,
            'append',
          );
          history.push({ f: 'append', t: now(), key, value, offset: Number(meta.baseOffset) });
          await new Promise((r) => setTimeout(r, this.options.sendGapMs));
        } catch (err) {
          history.push({ f: 'append', t: now(), key, value, offset: null });
          throw err;
        }
      },
    );
  }

  private async read(id: number): Promise<void> {
    const { history, now } = this.options;
    const lengths = new Map<string, number>();
    await followPartitions(
      this.options.brokers,
      this.options.topic,
      this.options.partitions,
      () => this.stopping,
      (_partition, r) => {
        const key = r.key ?? '';
        const index = lengths.get(key) ?? 0;
        lengths.set(key, index + 1);
        history.push({ f: 'aread', t: now(), reader: id, key, index, value: r.value });
      },
    );
  }

  async finalRead(): Promise<void> {
    const { topic, brokers, history, now } = this.options;
    const state = await anyState(brokers, topic);
    const lists = new Map<string, string[]>();
    for (let k = 0; k < this.options.keys; k++) lists.set(`k${k}`, []);
    for (const p of state.partitions) {
      const leader = brokers[p.leader - 1];
      if (leader === undefined) throw new Error(`final read: ${topic}-${p.partition} has no leader`);
      for (const r of await readAll(leader, topic, p.partition)) {
        const key = r.key ?? '';
        const list = lists.get(key);
        if (list === undefined) lists.set(key, [r.value]);
        else list.push(r.value);
      }
    }
    const t = now();
    for (const [key, values] of lists) history.push({ f: 'afinal', t, key, values });
  }
}
