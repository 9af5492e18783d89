// The consumer-group workload: kafkajs consumers in one group reading the queue topic, committing
// after each batch (autoCommit off), recording every poll (with the consumer's session: a new one
// at each join, since a rejoined consumer restarts from the committed offsets), every commit
// (sent and answered) and, every second, the group's committed offsets as every broker that
// answers OffsetFetch as the group's coordinator gives them (raw requests to each broker: a
// stale coordinator still answering is caught too); after the faults a final OffsetFetch. checker-workloads.ts checks it.

import type { Consumer } from 'kafkajs';
import type { HistoryEvent } from './checker.ts';
import { type Endpoint, requestOnce, withDeadline } from './cluster-client.ts';
import { faultsKafka } from './workload.ts';

const NOT_COORDINATOR = 16;

export interface GroupWorkloadOptions {
  readonly brokers: readonly Endpoint[];
  readonly topic: string;
  readonly partitions: number;
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
      const consumer: Consumer = faultsKafka(this.options.brokers, `faults-group-${id}`).consumer({
        groupId: this.options.groupId,
        sessionTimeout: 10_000,
        rebalanceTimeout: 20_000,
        heartbeatInterval: 1000,
        retry: { retries: 10, initialRetryTime: 200, maxRetryTime: 2000 },
      });
      let crashed = false;
      // kafkajs's commitOffsets also resolves when it sent nothing (its runner not running: a
      // rejoin or restart under way), so only its COMMIT_OFFSETS event — emitted once the
      // coordinator answered — counts as an acknowledgement.
      const sentAt = new Map<string, number>();
      const acknowledged = new Set<string>();
      consumer.on(consumer.events.COMMIT_OFFSETS, (e) => {
        for (const t of e.payload.topics)
          for (const p of t.partitions) {
            const offset = Number(String(p.offset));
            const key = `${p.partition}:${offset}`;
            acknowledged.add(key);
            history.push({ f: 'commit', t: now(), sent: sentAt.get(key) ?? now(), consumer: id, partition: Number(p.partition), offset, ok: true });
          }
      });
      consumer.on(consumer.events.GROUP_JOIN, () => {
        const session = (this.sessions.get(id) ?? 0) + 1;
        this.sessions.set(id, session);
        history.push({ f: 'join', t: now(), consumer: id, session });
      });
      // Diagnosis only (the checker ignores them): kafkajs restarts its runner itself on a retriable crash.
      consumer.on(consumer.events.CRASH, (e) => {
        const error = e.payload.error as Error & { type?: string };
        history.push({
          f: 'gcrash',
          t: now(),
          consumer: id,
          session: this.sessions.get(id) ?? 0,
          error: `${error.name}${error.type === undefined ? '' : ` ${error.type}`}: ${error.message}`,
          restart: e.payload.restart,
        });
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
            // The offset kafkajs's Fetch asked for (not in its types): the checker tells a batch fetched
            // from a stale position (kafkajs hands those over; checker-workloads.ts staleBatch) by it.
            const fetched = Number((batch as unknown as { fetchedOffset: string }).fetchedOffset);
            for (const m of batch.messages) {
              history.push({
                f: 'gpoll',
                t: now(),
                consumer: id,
                session,
                partition,
                offset: Number(m.offset),
                value: m.value === null ? '' : m.value.toString(),
                fetched,
              });
            }
            const offset = Number(batch.lastOffset()) + 1;
            const key = `${partition}:${offset}`;
            const sent = now();
            sentAt.set(key, sent);
            // A failed commit is not retried by us: a fenced member rejoins on its next heartbeat, and a later commit covers this one.
            await consumer.commitOffsets([{ topic, partition, offset: String(offset) }]).catch(() => undefined);
            if (!acknowledged.has(key)) history.push({ f: 'commit', t: now(), sent, consumer: id, partition, offset, ok: false });
            sentAt.delete(key);
            acknowledged.delete(key);
          },
        });
        while (!this.stopping && !crashed) await new Promise((r) => setTimeout(r, 200));
      } catch {
        await new Promise((r) => setTimeout(r, 500));
      }
      await withDeadline(consumer.disconnect(), 15_000, 'group consumer disconnect').catch(() => undefined);
    }
  }

  /** OffsetFetch to every broker at once; each that answers as coordinator is recorded. */
  private async committed(final: boolean): Promise<number> {
    const { brokers, groupId, topic, partitions, history, now } = this.options;
    const sent = now();
    const answers = await Promise.all(
      brokers.map(async (endpoint, i) => {
        try {
          const answer = await requestOnce(
            endpoint,
            9,
            5,
            { groupId, topics: [{ name: topic, partitionIndexes: Array.from({ length: partitions }, (_, p) => p) }] },
            5000,
          );
          return { from: i + 1, answer };
        } catch {
          return null;
        }
      }),
    );
    const t = now();
    let answered = 0;
    for (const a of answers) {
      if (a === null || a.answer.errorCode === NOT_COORDINATOR || a.answer.errorCode !== 0) continue;
      const ps = a.answer.topics.flatMap((x: { partitions: unknown[] }) => x.partitions) as Array<{
        partitionIndex: number;
        committedOffset: unknown;
        errorCode: number;
      }>;
      if (ps.some((p) => p.errorCode !== 0)) continue;
      answered++;
      for (const p of ps) history.push({ f: 'committed', t, sent, partition: p.partitionIndex, offset: Number(p.committedOffset), final, from: a.from });
    }
    return answered;
  }

  private async watchCommitted(): Promise<void> {
    while (!this.stopping) {
      await this.committed(false).catch(() => undefined);
      await new Promise((r) => setTimeout(r, 1000));
    }
  }

  /** The group's committed offsets after the faults (every consumer stopped): until some broker answers as coordinator. */
  async finalRead(): Promise<void> {
    const deadline = Date.now() + 30_000;
    while ((await this.committed(true)) === 0) {
      if (Date.now() > deadline) throw new Error('final OffsetFetch: no broker answered as the group coordinator in 30 s');
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}
