// The consumer-group workload: kafkajs consumers in one group reading the queue topic, committing
// after each batch (autoCommit off), recording every poll (with the consumer's session: a new one
// at each join, since a rejoined consumer restarts from the committed offsets), every commit
// (sent and answered) and, every second, the group's committed offsets as OffsetFetch answers
// them; after the faults a final OffsetFetch. checker-workloads.ts checks it.

import { type Admin, type Consumer, Kafka, logLevel } from 'kafkajs';
import type { HistoryEvent } from './checker.ts';
import { type Endpoint, withDeadline } from './cluster-client.ts';

export interface GroupWorkloadOptions {
  readonly brokers: readonly Endpoint[];
  readonly topic: string;
  readonly groupId: string;
  readonly consumers: number;
  readonly history: HistoryEvent[];
  readonly now: () => number;
}

export class GroupWorkload {
  private stopping = false;
  private tasks: Promise<void>[] = [];
  private readonly options: GroupWorkloadOptions;
  private readonly sessions = new Map<number, number>();

  constructor(options: GroupWorkloadOptions) {
    this.options = options;
  }

  private kafka(clientId: string): Kafka {
    return new Kafka({
      clientId,
      brokers: this.options.brokers.map((b) => `${b.host}:${b.port}`),
      logLevel: logLevel.NOTHING,
      connectionTimeout: 2000,
      requestTimeout: 6000,
      retry: { retries: 6, initialRetryTime: 200, maxRetryTime: 2000 },
    });
  }

  start(): void {
    for (let c = 1; c <= this.options.consumers; c++) this.tasks.push(this.consume(c));
    this.tasks.push(this.watchCommitted());
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await Promise.all(this.tasks);
  }

  /** One consumer, replaced by a fresh one whenever it crashes for good. */
  private async consume(id: number): Promise<void> {
    const { topic, history, now } = this.options;
    while (!this.stopping) {
      const consumer: Consumer = this.kafka(`faults-group-${id}`).consumer({
        groupId: this.options.groupId,
        sessionTimeout: 10_000,
        rebalanceTimeout: 20_000,
        heartbeatInterval: 1000,
        retry: { retries: 10, initialRetryTime: 200, maxRetryTime: 2000 },
      });
      let crashed = false;
      consumer.on(consumer.events.GROUP_JOIN, () => {
        const session = (this.sessions.get(id) ?? 0) + 1;
        this.sessions.set(id, session);
        history.push({ f: 'join', t: now(), consumer: id, session });
      });
      consumer.on(consumer.events.CRASH, (e) => {
        if (!e.payload.restart) crashed = true;
      });
      try {
        await withDeadline(consumer.connect(), 15_000, 'group consumer connect');
        await withDeadline(consumer.subscribe({ topics: [topic], fromBeginning: true }), 15_000, 'subscribe');
        await consumer.run({
          autoCommit: false,
          // Resolved after each batch: the consumer's own position moves on even when the commit fails.
          eachBatchAutoResolve: true,
          eachBatch: async ({ batch, isStale, isRunning }) => {
            if (batch.messages.length === 0 || isStale() || !isRunning()) return;
            const session = this.sessions.get(id) ?? 0;
            const partition = batch.partition;
            for (const m of batch.messages) {
              history.push({
                f: 'gpoll',
                t: now(),
                consumer: id,
                session,
                partition,
                offset: Number(m.offset),
                value: m.value === null ? '' : m.value.toString(),
              });
            }
            const offset = Number(batch.lastOffset()) + 1;
            const sent = now();
            try {
              await consumer.commitOffsets([{ topic, partition, offset: String(offset) }]);
              history.push({ f: 'commit', t: now(), sent, consumer: id, partition, offset, ok: true });
            } catch {
              // A fenced member rejoins on its next heartbeat; a later commit covers this one.
              history.push({ f: 'commit', t: now(), sent, consumer: id, partition, offset, ok: false });
            }
          },
        });
        while (!this.stopping && !crashed) await new Promise((r) => setTimeout(r, 200));
      } catch {
        await new Promise((r) => setTimeout(r, 500));
      }
      await withDeadline(consumer.disconnect(), 15_000, 'group consumer disconnect').catch(() => undefined);
    }
  }

  private async committed(admin: Admin, final: boolean): Promise<void> {
    const sent = this.options.now();
    const answer = await withDeadline(admin.fetchOffsets({ groupId: this.options.groupId, topics: [this.options.topic] }), 8000, 'OffsetFetch');
    const t = this.options.now();
    for (const topic of answer)
      for (const p of topic.partitions) this.options.history.push({ f: 'committed', t, sent, partition: p.partition, offset: Number(p.offset), final });
  }

  private async watchCommitted(): Promise<void> {
    const admin = this.kafka('faults-group-watch').admin();
    await admin.connect().catch(() => undefined);
    while (!this.stopping) {
      await this.committed(admin, false).catch(() => undefined);
      await new Promise((r) => setTimeout(r, 1000));
    }
    await admin.disconnect().catch(() => undefined);
  }

  /** The group's committed offsets after the faults (every consumer stopped). */
  async finalRead(): Promise<void> {
    const admin = this.kafka('faults-group-final').admin();
    try {
      await withDeadline(admin.connect(), 10_000, 'admin connect');
      await this.committed(admin, true);
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  }
}
