// The `queue` workload: idempotent kafkajs producers with acks=all, each sending one record at a
// time to its own partition (producer k to partition k mod partitions, so a fault that stalls one
// partition's leader does not stall the others' producers) and recording every send, acknowledgement (with its
// offset) and failure; consumers polling every partition from its leader (raw Fetch, following
// leadership through Metadata) and recording every record they see; after the faults healed, a
// final read of every partition. Everything goes into one history for the checker.

import { Kafka, logLevel, type Producer } from 'kafkajs';
import { RawClient } from '../support/raw-client.ts';
import type { HistoryEvent } from './checker.ts';
import { anyState, type Endpoint, fetchFrom, readAll, withDeadline } from './cluster-client.ts';

export interface WorkloadOptions {
  readonly brokers: readonly Endpoint[];
  readonly topic: string;
  readonly partitions: number;
  readonly producers: number;
  readonly readers: number;
  /** Pause after each acknowledged send (ms). */
  readonly sendGapMs: number;
  /** Time origin of the history's `t` (ms, performance.now()). */
  readonly origin: number;
}

const NOT_LEADER_OR_FOLLOWER = 6;

export class QueueWorkload {
  readonly history: HistoryEvent[] = [];
  private stopping = false;
  private tasks: Promise<void>[] = [];

  private readonly options: WorkloadOptions;

  constructor(options: WorkloadOptions) {
    this.options = options;
  }

  private now(): number {
    return Math.round((performance.now() - this.options.origin) * 10) / 10;
  }

  start(): void {
    for (let p = 1; p <= this.options.producers; p++) this.tasks.push(this.produce(p));
    for (let r = 1; r <= this.options.readers; r++) this.tasks.push(this.consume(r));
  }

  /** Stops producing and polling; waits for every task. */
  async stop(): Promise<void> {
    this.stopping = true;
    await Promise.all(this.tasks);
  }

  private async produce(id: number): Promise<void> {
    let seq = 0;
    await idempotentSendLoop(
      faultsKafka(this.options.brokers, `faults-producer-${id}`),
      () => this.stopping,
      async (producer) => {
        const partition = (id - 1) % this.options.partitions;
        const value = `p${id}-${seq}`;
        seq++; // a value is sent once: a failed send is never retried by us (only by kafkajs, idempotently)
        this.history.push({ f: 'send', t: this.now(), producer: id, partition, value });
        try {
          const [meta] = await withDeadline(
            producer.send({ topic: this.options.topic, acks: -1, timeout: 5000, messages: [{ partition, value }] }),
            30_000,
            'send',
          );
          this.history.push({ f: 'ack', t: this.now(), producer: id, partition, value, offset: Number(meta.baseOffset) });
          // Paced: a long run's history stays in memory, and a few hundred records a second are
          // plenty to catch a lost or moved one.
          if (this.options.sendGapMs > 0) await new Promise((r) => setTimeout(r, this.options.sendGapMs));
        } catch (err) {
          this.history.push({ f: 'fail', t: this.now(), producer: id, partition, value, error: String((err as Error).message).slice(0, 200) });
          throw err;
        }
      },
    );
  }

  private async consume(id: number): Promise<void> {
    await followPartitions(
      this.options.brokers,
      this.options.topic,
      this.options.partitions,
      () => this.stopping,
      (partition, r) => this.history.push({ f: 'read', t: this.now(), reader: id, partition, offset: r.offset, value: r.value }),
    );
  }

  /** Reads every partition whole from its leader and appends it to the history as `final`. */
  async finalRead(): Promise<void> {
    const state = await anyState(this.options.brokers, this.options.topic);
    for (const p of state.partitions) {
      const leader = this.options.brokers[p.leader - 1];
      if (leader === undefined) throw new Error(`final read: partition ${p.partition} has no leader`);
      const t = this.now();
      for (const r of await readAll(leader, this.options.topic, p.partition)) {
        this.history.push({ f: 'final', t, partition: p.partition, offset: r.offset, value: r.value });
      }
    }
  }
}

/**
 * A kafkajs client as every workload's producers and consumers use it: short timeouts and a few
 * quick retries, so that a fault shows in the history instead of being waited out.
 */
export function faultsKafka(brokers: readonly Endpoint[], clientId: string): Kafka {
  return new Kafka({
    clientId,
    brokers: brokers.map((b) => `${b.host}:${b.port}`),
    logLevel: logLevel.NOTHING,
    connectionTimeout: 2000,
    requestTimeout: 6000,
    retry: { retries: 6, initialRetryTime: 200, maxRetryTime: 2000 },
  });
}

/**
 * Runs `send` over and over with an idempotent producer (acks are `send`'s) until `stopped()`.
 * The producer is connected first (tried again after 500 ms when that fails); when `send` throws
 * (it records the failure in the history first) the producer is dropped and the next `send` gets
 * a fresh one, with a new producer id: kafkajs's sequence state after an abandoned send is not
 * to be trusted, and a fresh id is always legal.
 */
export async function idempotentSendLoop(kafka: Kafka, stopped: () => boolean, send: (producer: Producer) => Promise<void>): Promise<void> {
  let producer: Producer | null = null;
  while (!stopped()) {
    try {
      if (producer === null) {
        const fresh = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
        await withDeadline(fresh.connect(), 10_000, 'producer connect');
        producer = fresh;
      }
    } catch {
      await new Promise((r) => setTimeout(r, 500));
      continue;
    }
    try {
      await send(producer);
    } catch {
      const old = producer;
      producer = null;
      void old.disconnect().catch(() => undefined);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  if (producer !== null) await producer.disconnect().catch(() => undefined);
}

/**
 * Polls every partition of `topic` from its leader (raw Fetch, read_uncommitted, following
 * leadership through Metadata) from offset 0 until `stopped()`, handing over every record once,
 * in offset order per partition.
 */
export async function followPartitions(
  brokers: readonly Endpoint[],
  topic: string,
  partitions: number,
  stopped: () => boolean,
  onRecord: (partition: number, record: { offset: number; value: string; key: string | null }, leader: number) => void,
  /** The fetch (default: read_uncommitted, `fetchFrom`). */
  fetch: (
    client: RawClient,
    topic: string,
    partition: number,
    offset: number,
  ) => Promise<{
    errorCode: number;
    records: Array<{ offset: number; value: string; key?: string | null }>;
    next: number;
  }> = (client, t, p, offset) => fetchFrom(client, t, p, offset, 100, 3000),
): Promise<void> {
  const positions = new Array<number>(partitions).fill(0);
  const leaders = new Map<number, Endpoint>();
  const leaderIds = new Map<number, number>();
  const connections = new Map<string, RawClient>();
  const connection = async (e: Endpoint) => {
    const key = `${e.host}:${e.port}`;
    let c = connections.get(key);
    if (c === undefined) {
      c = await withDeadline(RawClient.connect(e.port, e.host), 2000, 'connect');
      connections.set(key, c);
    }
    return c;
  };
  const drop = (e: Endpoint) => {
    const key = `${e.host}:${e.port}`;
    connections.get(key)?.close();
    connections.delete(key);
  };
  const refresh = async () => {
    const state = await anyState(brokers, topic);
    leaders.clear();
    for (const p of state.partitions) {
      const e = brokers[p.leader - 1];
      if (p.leader > 0 && e !== undefined) {
        leaders.set(p.partition, e);
        leaderIds.set(p.partition, p.leader);
      }
    }
  };
  while (!stopped()) {
    for (let partition = 0; partition < partitions && !stopped(); partition++) {
      let leader = leaders.get(partition);
      try {
        if (leader === undefined) {
          await refresh();
          leader = leaders.get(partition);
          if (leader === undefined) continue;
        }
        const got = await fetch(await connection(leader), topic, partition, positions[partition]);
        if (got.errorCode !== 0) {
          if (got.errorCode === NOT_LEADER_OR_FOLLOWER) leaders.delete(partition);
          else leaders.clear();
          continue;
        }
        for (const r of got.records) onRecord(partition, { key: null, ...r }, leaderIds.get(partition) ?? -1);
        positions[partition] = got.next;
      } catch {
        if (leader !== undefined) drop(leader);
        leaders.clear();
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  }
  for (const c of connections.values()) c.close();
}
