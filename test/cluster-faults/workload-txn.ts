// The transactional workload: kafkajs transactional producers (one transactional id each), each
// transaction writing one to three records to random partitions of the `txn` topic and then
// committing, or aborting about one time in four; kafkajs read_committed consumers recording
// every record they see, and one raw read_committed reader of the harness's own (which filters
// aborted transactions from the broker's answer as Kafka's clients do, and knows which broker
// answered); after the faults a final read of the log with its markers (readLog):
// each record's transaction committed, aborted or still open, and visible to read_committed if
// committed below the last stable offset; and a read_committed read of the whole log (reader 0),
// which must agree with the markers. checker-workloads.ts checks it.

import { type Consumer, Kafka, logLevel, type Producer } from 'kafkajs';
import type { HistoryEvent } from './checker.ts';
import { anyState, type Endpoint, fetchCommitted, readCommitted, readLog, withDeadline } from './cluster-client.ts';
import { followPartitions } from './workload.ts';

export interface TxnWorkloadOptions {
  readonly brokers: readonly Endpoint[];
  readonly topic: string;
  readonly partitions: number;
  readonly producers: number;
  readonly readers: number;
  readonly history: HistoryEvent[];
  readonly now: () => number;
  readonly random: () => number;
}

export class TxnWorkload {
  private stopping = false;
  private tasks: Promise<void>[] = [];
  private readonly options: TxnWorkloadOptions;

  constructor(options: TxnWorkloadOptions) {
    this.options = options;
  }

  private kafka(clientId: string): Kafka {
    return new Kafka({
      clientId,
      brokers: this.options.brokers.map((b) => `${b.host}:${b.port}`),
      logLevel: logLevel.NOTHING,
      connectionTimeout: 2000,
      requestTimeout: 6000,
      retry: { retries: 5, initialRetryTime: 200, maxRetryTime: 2000 },
    });
  }

  start(): void {
    for (let p = 1; p <= this.options.producers; p++) this.tasks.push(this.produce(p));
    for (let r = 1; r <= this.options.readers; r++) this.tasks.push(this.read(r));
    this.tasks.push(this.readRaw(this.options.readers + 1));
  }

  /** The harness's own read_committed reader (raw Fetch, following leaders): each record with the broker that answered. */
  private async readRaw(id: number): Promise<void> {
    const { topic, partitions, history, now } = this.options;
    await followPartitions(
      this.options.brokers,
      topic,
      partitions,
      () => this.stopping,
      (partition, r, leader) => history.push({ f: 'tread', t: now(), reader: id, partition, offset: r.offset, value: r.value, from: leader }),
      (client, t, p, offset) => fetchCommitted(client, t, p, offset, 100),
    );
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await Promise.all(this.tasks);
  }

  private async produce(id: number): Promise<void> {
    const { topic, partitions, history, now, random } = this.options;
    const kafka = this.kafka(`faults-txn-${id}`);
    let producer: Producer | null = null;
    let n = 0;
    while (!this.stopping) {
      try {
        if (producer === null) {
          const fresh = kafka.producer({ transactionalId: `faults-txn-${id}`, idempotent: true, maxInFlightRequests: 1, transactionTimeout: 20_000 });
          await withDeadline(fresh.connect(), 15_000, 'transactional producer connect');
          producer = fresh;
        }
      } catch {
        await new Promise((r) => setTimeout(r, 500));
        continue;
      }
      const txnId = `t${id}-${n++}`;
      const count = 1 + Math.floor(random() * 3);
      const records = Array.from({ length: count }, (_, i) => ({ partition: Math.floor(random() * partitions), value: `${txnId}-${i}` }));
      const abort = random() < 0.25;
      const attempted: Array<{ partition: number; value: string }> = [];
      let outcome: 'committed' | 'aborted' | 'indeterminate';
      let error: string | undefined;
      let transaction: Awaited<ReturnType<Producer['transaction']>> | null = null;
      try {
        transaction = await withDeadline(producer.transaction(), 15_000, 'begin');
        for (const r of records) {
          attempted.push(r);
          await withDeadline(transaction.send({ topic, acks: -1, timeout: 5000, messages: [{ partition: r.partition, value: r.value }] }), 20_000, 'send');
        }
        if (abort) {
          await withDeadline(transaction.abort(), 20_000, 'abort');
          outcome = 'aborted';
        } else {
          await withDeadline(transaction.commit(), 20_000, 'commit');
          outcome = 'committed';
        }
      } catch (err) {
        error = String((err as Error).message).slice(0, 200);
        // A failed send or end: try to abort; if that is not answered either, the fate is unknown.
        outcome = 'indeterminate';
        if (transaction?.isActive()) {
          try {
            await withDeadline(transaction.abort(), 20_000, 'abort');
            outcome = 'aborted';
          } catch {
            // indeterminate
          }
        }
        const old = producer;
        producer = null;
        void old.disconnect().catch(() => undefined);
        await new Promise((r) => setTimeout(r, 300));
      }
      if (attempted.length > 0) history.push({ f: 'txn', t: now(), id: txnId, records: attempted, outcome, ...(error === undefined ? {} : { error }) });
      await new Promise((r) => setTimeout(r, 20));
    }
    if (producer !== null) await producer.disconnect().catch(() => undefined);
  }

  private async read(id: number): Promise<void> {
    const { topic, history, now } = this.options;
    while (!this.stopping) {
      const consumer: Consumer = this.kafka(`faults-txn-reader-${id}`).consumer({
        groupId: `faults-txn-reader-${id}`,
        readUncommitted: false,
        sessionTimeout: 10_000,
        rebalanceTimeout: 20_000,
        heartbeatInterval: 1000,
      });
      let crashed = false;
      consumer.on(consumer.events.CRASH, (e) => {
        if (!e.payload.restart) crashed = true;
      });
      try {
        await withDeadline(consumer.connect(), 15_000, 'txn reader connect');
        await withDeadline(consumer.subscribe({ topics: [topic], fromBeginning: true }), 15_000, 'subscribe');
        await consumer.run({
          eachMessage: async ({ partition, message }) => {
            history.push({
              f: 'tread',
              t: now(),
              reader: id,
              partition,
              offset: Number(message.offset),
              value: message.value === null ? '' : message.value.toString(),
              client: 'kafkajs',
            });
          },
        });
        while (!this.stopping && !crashed) await new Promise((r) => setTimeout(r, 200));
      } catch {
        await new Promise((r) => setTimeout(r, 500));
      }
      await withDeadline(consumer.disconnect(), 15_000, 'txn reader disconnect').catch(() => undefined);
    }
  }

  /** The `txn` topic's log with every record's transaction fate, from each partition's leader. */
  async finalRead(): Promise<void> {
    const { topic, brokers, history, now } = this.options;
    const state = await anyState(brokers, topic);
    for (const p of state.partitions) {
      const leader = brokers[p.leader - 1];
      if (leader === undefined) throw new Error(`final read: ${topic}-${p.partition} has no leader`);
      const t = now();
      const log = await readLog(leader, topic, p.partition);
      // A transactional record's fate is the next marker of its producer id in this partition.
      const pending = new Map<number, Array<{ offset: number; value: string }>>();
      const fate = new Map<string, { offset: number; state: 'committed' | 'aborted' | 'open' }>();
      for (const r of log.records) {
        if (r.marker !== null) {
          for (const d of pending.get(r.producerId) ?? []) fate.set(d.value, { offset: d.offset, state: r.marker === 1 ? 'committed' : 'aborted' });
          pending.delete(r.producerId);
        } else if (r.transactional) pending.set(r.producerId, [...(pending.get(r.producerId) ?? []), { offset: r.offset, value: r.value }]);
        else fate.set(r.value, { offset: r.offset, state: 'committed' });
      }
      for (const list of pending.values()) for (const d of list) fate.set(d.value, { offset: d.offset, state: 'open' });
      // The broker's own read_committed answer over the whole partition (its aborted-transaction
      // index), as reader 0: the checker holds it to the markers above.
      for (const r of await readCommitted(leader, topic, p.partition))
        history.push({ f: 'tread', t, reader: 0, partition: p.partition, offset: r.offset, value: r.value });
      for (const [value, f] of fate) {
        history.push({
          f: 'tfinal',
          t,
          partition: p.partition,
          offset: f.offset,
          value,
          state: f.state,
          visible: f.state === 'committed' && f.offset < log.lastStable,
        });
      }
    }
  }
}
