// Consumer groups and committed offsets against a real broker process: a kafkajs group of three
// consumers through a member leaving and another joining, committed offsets resuming after the
// whole group restarts and after the broker restarts; two kcat -G members splitting partitions.

import { type ChildProcess, spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type Consumer, Kafka, logLevel } from 'kafkajs';
import { type BrokerProcess, removeDir, startBroker, tempDataDir } from './support/broker-process.ts';
import { kcat, requireKcat } from './support/kcat.ts';

const dataDir = tempDataDir('sluice-groups-');
let broker: BrokerProcess;

beforeAll(async () => {
  requireKcat();
  broker = await startBroker({ dataDir });
});

afterAll(async () => {
  await broker?.stop();
  removeDir(dataDir);
});

function client(): Kafka {
  return new Kafka({ clientId: 'groups-test', brokers: [broker.bootstrap], logLevel: logLevel.NOTHING, retry: { retries: 8, initialRetryTime: 100 } });
}

async function waitFor(what: string, condition: () => boolean | Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Every consumed record, by "partition:offset", with how often it was seen. */
class Seen {
  readonly counts = new Map<string, number>();
  readonly values = new Set<string>();

  record(partition: number, offset: string, value: string): void {
    const key = `${partition}:${offset}`;
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
    this.values.add(value);
  }
}

async function startConsumer(kafka: Kafka, groupId: string, topic: string, seen: Seen): Promise<Consumer> {
  const consumer = kafka.consumer({ groupId, sessionTimeout: 10_000, rebalanceTimeout: 15_000, heartbeatInterval: 500, maxWaitTimeInMs: 100 });
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  await consumer.run({
    autoCommitInterval: 100,
    eachMessage: async ({ partition, message }) => seen.record(partition, message.offset, message.value!.toString()),
  });
  return consumer;
}

async function produce(kafka: Kafka, topic: string, from: number, count: number): Promise<string[]> {
  const producer = kafka.producer();
  await producer.connect();
  const values = Array.from({ length: count }, (_, i) => `v${from + i}`);
  for (let i = 0; i < values.length; i += 50) {
    await producer.send({ topic, acks: -1, messages: values.slice(i, i + 50).map((value, j) => ({ key: `k${(from + i + j) % 17}`, value })) });
  }
  await producer.disconnect();
  return values;
}

/** Committed offset and log end offset per partition. */
async function committedVsEnd(kafka: Kafka, groupId: string, topic: string): Promise<Array<{ partition: number; committed: number; end: number }>> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
    const ends = await admin.fetchTopicOffsets(topic);
    return ends
      .map((e) => ({
        partition: e.partition,
        committed: Number(committed.partitions.find((p) => p.partition === e.partition)?.offset ?? -1),
        end: Number(e.high),
      }))
      .sort((a, b) => a.partition - b.partition);
  } finally {
    await admin.disconnect();
  }
}

async function allCommitted(kafka: Kafka, groupId: string, topic: string): Promise<boolean> {
  return (await committedVsEnd(kafka, groupId, topic)).every((p) => p.committed === p.end);
}

describe('kafkajs consumer group', () => {
  const topic = 'grp';
  const groupId = 'kafkajs-group';

  test('three consumers, one leaves and one joins: every record consumed, offsets committed to the end', { timeout: 180_000 }, async () => {
    const kafka = client();
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 6 }] });
    await admin.disconnect();

    const seen = new Seen();
    const consumers = [
      await startConsumer(kafka, groupId, topic, seen),
      await startConsumer(kafka, groupId, topic, seen),
      await startConsumer(kafka, groupId, topic, seen),
    ];
    const first = await produce(kafka, topic, 0, 300);
    await waitFor('the first 300 records', () => first.every((v) => seen.values.has(v)));

    // A member leaves (LeaveGroup) and another joins: two rebalances while records keep coming.
    await consumers.shift()!.disconnect();
    const second = await produce(kafka, topic, 300, 150);
    consumers.push(await startConsumer(kafka, groupId, topic, seen));
    const third = await produce(kafka, topic, 450, 150);
    const all = [...first, ...second, ...third];
    await waitFor('all 600 records', () => all.every((v) => seen.values.has(v)), 90_000);
    await waitFor('committed offsets at the log end', () => allCommitted(kafka, groupId, topic));

    // At least once: every offset of every partition was consumed; duplicates can only come from
    // the uncommitted window at a rebalance, so they are few.
    const positions = await committedVsEnd(kafka, groupId, topic);
    expect(positions.reduce((n, p) => n + p.end, 0)).toBe(600);
    for (const p of positions) {
      for (let o = 0; o < p.end; o++) expect(seen.counts.get(`${p.partition}:${o}`) ?? 0, `${p.partition}:${o}`).toBeGreaterThan(0);
    }
    const duplicates = [...seen.counts.values()].filter((n) => n > 1).length;
    expect(duplicates).toBeLessThan(200);

    const described = await (async () => {
      const a = kafka.admin();
      await a.connect();
      try {
        return (await a.describeGroups([groupId])).groups[0];
      } finally {
        await a.disconnect();
      }
    })();
    expect(described.state).toBe('Stable');
    expect(described.members).toHaveLength(3);
    await Promise.all(consumers.map((c) => c.disconnect()));
  });

  test('the whole group restarts and resumes from its committed offsets', { timeout: 120_000 }, async () => {
    const kafka = client();
    const before = await committedVsEnd(kafka, groupId, topic);
    expect(before.every((p) => p.committed === p.end && p.end > 0)).toBe(true);
    const fresh = await produce(kafka, topic, 600, 60);
    const seen = new Seen();
    const consumers = [await startConsumer(kafka, groupId, topic, seen), await startConsumer(kafka, groupId, topic, seen)];
    await waitFor('the 60 new records', () => fresh.every((v) => seen.values.has(v)));
    await waitFor('committed offsets at the log end', () => allCommitted(kafka, groupId, topic));
    // Nothing below the committed offsets was consumed again (fromBeginning applies only to a
    // group without offsets).
    for (const key of seen.counts.keys()) {
      const [partition, offset] = key.split(':').map(Number);
      expect(offset).toBeGreaterThanOrEqual(before.find((p) => p.partition === partition)!.committed);
    }
    expect(seen.values.size).toBe(60);
    await Promise.all(consumers.map((c) => c.disconnect()));
  });

  test('committed offsets survive a broker restart', { timeout: 120_000 }, async () => {
    const before = await committedVsEnd(client(), groupId, topic);
    expect(await broker.stop()).toBe(0);
    broker = await startBroker({ dataDir });
    const kafka = client();
    expect(await committedVsEnd(kafka, groupId, topic)).toEqual(before);
    const fresh = await produce(kafka, topic, 660, 30);
    const seen = new Seen();
    const consumer = await startConsumer(kafka, groupId, topic, seen);
    await waitFor('the 30 new records', () => fresh.every((v) => seen.values.has(v)));
    expect(seen.values.size).toBe(30);
    await waitFor('committed offsets at the log end', () => allCommitted(kafka, groupId, topic));
    await consumer.disconnect();
  });
});

/** Partitions in a ConsumerProtocol assignment (int16 version, [topic, [int32 partition]], bytes). */
function assignedPartitions(assignment: Buffer): number {
  let pos = 2;
  const topics = assignment.readInt32BE(pos);
  pos += 4;
  let count = 0;
  for (let t = 0; t < topics; t++) {
    pos += 2 + assignment.readInt16BE(pos);
    const partitions = assignment.readInt32BE(pos);
    pos += 4 + 4 * partitions;
    count += partitions;
  }
  return count;
}

/** A long-running `kcat -G` member; its stdout lines are collected as they come. */
class KcatMember {
  readonly lines: string[] = [];
  private readonly proc: ChildProcess;
  private readonly exited: Promise<void>;
  private partial = '';

  constructor(args: string[]) {
    this.proc = spawn('kcat', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.proc.stdout!.on('data', (d: Buffer) => {
      const text = this.partial + d.toString();
      const parts = text.split('\n');
      this.partial = parts.pop()!;
      this.lines.push(...parts.filter((l) => l.length > 0));
    });
    this.proc.stderr!.resume();
    this.exited = new Promise((resolve) => this.proc.once('exit', () => resolve()));
  }

  /** SIGTERM: kcat commits its offsets, leaves the group and exits. */
  async stop(): Promise<void> {
    if (this.proc.exitCode === null && this.proc.signalCode === null) this.proc.kill('SIGTERM');
    await this.exited;
  }
}

describe('kcat -G', () => {
  // Its own broker: independent of what the kafkajs tests (and their broker restart) did.
  let own: BrokerProcess;
  beforeAll(async () => {
    own = await startBroker();
  });
  afterAll(async () => {
    await own?.stop();
    if (own) removeDir(own.dataDir);
  });

  test('two members split the partitions: no duplicate, no gap', { timeout: 120_000 }, async () => {
    const topic = 'kc';
    const groupId = 'kcat-group';
    const kafka = new Kafka({ clientId: 'groups-test', brokers: [own.bootstrap], logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 4 }] });

    const args = ['-b', own.bootstrap, '-G', groupId, '-o', 'beginning', '-q', '-u', '-f', '%p %o %s\n', '-X', 'heartbeat.interval.ms=500', topic];
    const members = [new KcatMember(args), new KcatMember(args)];
    try {
      // Wait for one generation with both members, each holding partitions, before producing, so
      // that no rebalance moves a partition while records flow.
      await waitFor('a Stable group with two members', async () => {
        const group = (await admin.describeGroups([groupId])).groups[0];
        return group.state === 'Stable' && group.members.length === 2 && group.members.every((m) => assignedPartitions(m.memberAssignment) > 0);
      });
      const lines = Array.from({ length: 400 }, (_, i) => `k${i % 13}:v${i}`);
      expect((await kcat(['-b', own.bootstrap, '-P', '-t', topic, '-K:'], lines.join('\n') + '\n')).code).toBe(0);
      await waitFor('all 400 records', () => members.reduce((n, m) => n + m.lines.length, 0) >= 400);
      await new Promise((r) => setTimeout(r, 500)); // anything extra would be a duplicate
    } finally {
      await Promise.all(members.map((m) => m.stop()));
      await admin.disconnect();
    }

    const records = members.map((m) => m.lines.map((l) => l.split(' ')));
    const all = records.flat();
    expect(all).toHaveLength(400);
    expect(new Set(all.map(([p, o]) => `${p}:${o}`)).size).toBe(400);
    expect(new Set(all.map(([, , v]) => v)).size).toBe(400);
    // Each partition went to exactly one member, and each member had some.
    const partitionsOf = records.map((r) => new Set(r.map(([p]) => p)));
    expect(partitionsOf.every((s) => s.size > 0)).toBe(true);
    expect([...partitionsOf[0]].some((p) => partitionsOf[1].has(p))).toBe(false);
    // No gap: offsets 0..n-1 in every partition.
    const byPartition = new Map<string, number[]>();
    for (const [p, o] of all) byPartition.set(p, [...(byPartition.get(p) ?? []), Number(o)]);
    for (const offsets of byPartition.values()) expect(offsets.sort((a, b) => a - b)).toEqual(offsets.map((_, i) => i));
  });
});
