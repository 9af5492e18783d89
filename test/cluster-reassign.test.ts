// Kafka's own tools against a 3-broker cluster on etcd: `kafka-topics --describe` shows each
// partition's leader, replicas and ISR as the cluster has them; a fourth broker joins and
// `kafka-reassign-partitions --execute` moves a partition onto it (its leader replaced) while an
// idempotent acks=all producer keeps writing; `--verify` reports it complete, the new replicas
// lead and are in sync, and every acknowledged record is in the partition once, in order. Then
// `kafka-leader-election --election-type PREFERRED` moves leadership to the preferred replica.
// Decommissioning: `--generate` / `--execute` / `--verify` move every partition off broker 3,
// whose logs and partition directories are then deleted, every record still there.

import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { removeDir, tempDataDir } from './support/broker-process.ts';
import { partitionViews, TestCluster } from './support/cluster.ts';
import { eventually } from './support/eventually.ts';
import { KAFKA_TOOL, kafkaToolsLibs, runKafkaTool } from './support/kafka-tools.ts';
import { RawClient } from './support/raw-client.ts';
import { readPartition } from './support/requests.ts';

let libs: string;
let workDir: string;
let cluster: TestCluster;
const broker = (nodeId: number) => cluster.broker(nodeId);
const WAIT = { timeoutMs: 30_000, intervalMs: 300 };

beforeAll(async () => {
  libs = kafkaToolsLibs();
  workDir = tempDataDir('sluice-reassign-');
  cluster = await TestCluster.start({ prefix: '/reassign', overrides: { 'broker.session.timeout.ms': 3000, 'replica.lag.time.max.ms': 5000 } });
}, 120_000);

afterAll(async () => {
  await cluster?.stop();
  if (workDir) removeDir(workDir);
});

async function tool(mainClass: string, args: readonly string[]): Promise<string> {
  const r = await runKafkaTool(libs, mainClass, ['--bootstrap-server', broker(1).bootstrap, ...args], { timeoutMs: 90_000 });
  expect(r.code, `${args.join(' ')}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`).toBe(0);
  return r.stdout;
}

interface PartitionRow {
  leader: number;
  replicas: number[];
  isr: number[];
}

async function metadata(topic: string): Promise<PartitionRow[]> {
  return (await partitionViews(broker(1), topic)).map((p) => ({ leader: p.leader, replicas: p.replicas, isr: p.isr }));
}

/** kafka-topics --describe: per partition, Leader / Replicas / Isr as the tool prints them. */
async function describeWithTool(topic: string): Promise<PartitionRow[]> {
  const out = await tool(KAFKA_TOOL.topics, ['--describe', '--topic', topic]);
  const rows: PartitionRow[] = [];
  for (const line of out.split('\n')) {
    const m = /Partition: (\d+)\s+Leader: (-?\d+)\s+Replicas: ([\d,]*)\s+Isr: ([\d,]*)/.exec(line);
    if (m === null) continue;
    const list = (s: string) => (s === '' ? [] : s.split(',').map(Number));
    rows[Number(m[1])] = { leader: Number(m[2]), replicas: list(m[3]), isr: list(m[4]).sort() };
  }
  return rows;
}

test('kafka-topics describes replicas and ISR; kafka-reassign-partitions moves a partition to a new broker under load, nothing lost', async () => {
  const kafka = new Kafka({
    clientId: 'reassign-test',
    brokers: cluster.bootstrap(),
    logLevel: logLevel.NOTHING,
    retry: { retries: 20, initialRetryTime: 100, maxRetryTime: 1000 },
  });
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({
    topics: [{ topic: 'moving', numPartitions: 2, replicationFactor: 2, configEntries: [{ name: 'min.insync.replicas', value: '1' }] }],
    waitForLeaders: true,
  });
  await admin.disconnect();

  // kafka-topics --describe agrees with the cluster's Metadata, every replica in sync.
  const before = await eventually(async () => {
    const rows = await metadata('moving');
    for (const r of rows) expect(r.isr).toEqual([...r.replicas].sort());
    expect(await describeWithTool('moving')).toEqual(rows);
    return rows;
  }, WAIT);

  // A fourth broker joins; partition 0 moves onto it, away from its current leader.
  const fourth = await cluster.add(4);
  const kept = before[0].replicas.find((id) => id !== before[0].leader)!;
  const target = [4, kept];

  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  const acknowledged: string[] = [];
  let producing = true;
  const load = (async () => {
    for (let i = 0; producing; i++) {
      const values = Array.from({ length: 20 }, (_, j) => `r-${i}-${j}`);
      try {
        await producer.send({ topic: 'moving', acks: -1, messages: values.map((value) => ({ partition: 0, value })) });
        acknowledged.push(...values);
      } catch {
        // Not acknowledged: it may or may not be in the log, never twice.
      }
    }
  })();
  await eventually(async () => expect(acknowledged.length).toBeGreaterThan(500), WAIT);

  const plan = join(workDir, 'plan.json');
  writeFileSync(plan, JSON.stringify({ version: 1, partitions: [{ topic: 'moving', partition: 0, replicas: target, log_dirs: ['any', 'any'] }] }));
  const executed = await tool(KAFKA_TOOL.reassignPartitions, ['--execute', '--reassignment-json-file', plan]);
  expect(executed).toContain('Successfully started partition reassignment');
  await eventually(
    async () => {
      const verified = await tool(KAFKA_TOOL.reassignPartitions, ['--verify', '--preserve-throttles', '--reassignment-json-file', plan]);
      expect(verified).toContain('Reassignment of partition moving-0 is completed');
    },
    { ...WAIT, timeoutMs: 60_000 },
  );
  const afterMove = acknowledged.length;
  await eventually(async () => expect(acknowledged.length).toBeGreaterThan(afterMove + 200), WAIT);
  producing = false;
  await load;
  await producer.disconnect();

  // The new replica set leads and is in sync; the tool says the same; partition 1 is untouched.
  const after = await eventually(async () => {
    const rows = await metadata('moving');
    expect(rows[0]).toEqual({ leader: 4, replicas: target, isr: [...target].sort() });
    expect(await describeWithTool('moving')).toEqual(rows);
    return rows;
  }, WAIT);
  expect(after[1]).toEqual(before[1]);

  // Every acknowledged record is there once and in order (read from the new leader).
  const client = await RawClient.connect(fourth.port);
  const stored = (await readPartition(client, 'moving', 0)).records.map((r) => r.value);
  client.close();
  expect(stored.filter((v, i) => stored.indexOf(v) !== i)).toEqual([]);
  const ackedSet = new Set(acknowledged);
  expect(stored.filter((v) => ackedSet.has(v as string))).toEqual(acknowledged);

  // Reordering the replicas moves no data (completes at once) and leaves the leader where it is;
  // kafka-leader-election then hands leadership to the new preferred replica.
  const reordered = [kept, 4];
  writeFileSync(plan, JSON.stringify({ version: 1, partitions: [{ topic: 'moving', partition: 0, replicas: reordered, log_dirs: ['any', 'any'] }] }));
  await tool(KAFKA_TOOL.reassignPartitions, ['--execute', '--reassignment-json-file', plan]);
  await eventually(async () => expect((await metadata('moving'))[0]).toEqual({ leader: 4, replicas: reordered, isr: [...reordered].sort() }), WAIT);
  const elected = await tool(KAFKA_TOOL.leaderElection, ['--election-type', 'PREFERRED', '--topic', 'moving', '--partition', '0']);
  expect(elected).toContain('Successfully completed leader election (PREFERRED) for partitions moving-0');
  expect((await metadata('moving'))[0]).toEqual({ leader: kept, replicas: reordered, isr: [...reordered].sort() });
  // Nothing more to do: the tool says so.
  const again = await tool(KAFKA_TOOL.leaderElection, ['--election-type', 'PREFERRED', '--topic', 'moving', '--partition', '0']);
  expect(again).toContain('Valid replica already elected for partitions');
}, 240_000);

test('decommissioning a broker: kafka-reassign-partitions moves everything off it, and its logs are deleted', async () => {
  const leaving = 3;
  const kafka = new Kafka({
    clientId: 'decommission-test',
    brokers: [broker(1).bootstrap],
    logLevel: logLevel.NOTHING,
    retry: { retries: 20, initialRetryTime: 100, maxRetryTime: 1000 },
  });
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic: 'leaving', numPartitions: 2, replicationFactor: 3 }], waitForLeaders: true });
  await admin.disconnect();
  await eventually(async () => {
    for (const r of await metadata('leaving')) expect(r.isr).toEqual([...r.replicas].sort());
  }, WAIT);
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  const values = Array.from({ length: 200 }, (_, i) => `d-${i}`);
  for (const partition of [0, 1]) await producer.send({ topic: 'leaving', acks: -1, messages: values.map((value) => ({ partition, value })) });
  await producer.disconnect();
  const hosted = (await metadata('moving')).some((r) => r.replicas.includes(leaving)) ? ['moving', 'leaving'] : ['leaving'];
  const dirsOf = () => readdirSync(broker(leaving).dataDir).filter((d) => hosted.some((t) => d.startsWith(`${t}-`)));
  expect(dirsOf().length).toBeGreaterThan(0);

  // --generate proposes a placement on the remaining brokers; --execute runs it; --verify waits.
  const topicsFile = join(workDir, 'topics.json');
  writeFileSync(topicsFile, JSON.stringify({ version: 1, topics: hosted.map((topic) => ({ topic })) }));
  const generated = await tool(KAFKA_TOOL.reassignPartitions, ['--generate', '--topics-to-move-json-file', topicsFile, '--broker-list', '1,2,4']);
  const proposal = generated.split('Proposed partition reassignment configuration')[1]!.trim().split('\n')[0]!;
  const plan = join(workDir, 'decommission.json');
  writeFileSync(plan, proposal);
  expect(await tool(KAFKA_TOOL.reassignPartitions, ['--execute', '--reassignment-json-file', plan])).toContain('Successfully started partition reassignment');
  await eventually(
    async () => {
      const verified = await tool(KAFKA_TOOL.reassignPartitions, ['--verify', '--reassignment-json-file', plan]);
      expect(verified).not.toContain('is still in progress');
    },
    { ...WAIT, timeoutMs: 60_000 },
  );

  // Broker 3 replicates nothing; its partition directories are gone; the records are all there.
  for (const topic of hosted) for (const r of await metadata(topic)) expect(r.replicas).not.toContain(leaving);
  await eventually(async () => expect(dirsOf()).toEqual([]), WAIT);
  for (const partition of [0, 1]) {
    const leader = (await metadata('leaving'))[partition]!.leader;
    const client = await RawClient.connect(broker(leader).port);
    expect((await readPartition(client, 'leaving', partition)).records.map((r) => r.value)).toEqual(values);
    client.close();
  }
}, 180_000);
