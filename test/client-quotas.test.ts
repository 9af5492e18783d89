// Client quotas end to end with Kafka's own tools (issue 17): kafka-configs sets them
// (DescribeClientQuotas, then AlterClientQuotas), kafka-producer-perf-test and
// kafka-consumer-perf-test at full speed are held to them, and a client beside them is not.
//
// The broker runs with quota.window.num=3 (Kafka's setting; default 11): with the default window a
// fresh client may send ten windows' worth before its rate is over the quota (Kafka's Rate divides
// by at least samples − 1 windows), which is most of a 15 MB run. Three samples make the same
// arithmetic measure the steady rate in a run of this length (measured here: producer 0.96–0.97×,
// consumer 0.82×; with two samples the consumer averaged 0.74–0.78×, each throttled fetch costing
// an empty round trip).

import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type BrokerProcess, removeDir, startBroker } from './support/broker-process.ts';
import { KAFKA_TOOL, kafkaToolsLibs, runKafkaTool, type ToolResult } from './support/kafka-tools.ts';

const SLUICE_BIN = resolve(import.meta.dirname, '..', 'packages', 'cli', 'bin', 'sluice.js');
const QUOTA = 1_048_576; // 1 MiB/s
const RECORDS = 15_360; // 15 MiB of 1 KiB records

let libs: string;
let broker: BrokerProcess;

beforeAll(async () => {
  libs = kafkaToolsLibs();
  broker = await startBroker({ overrides: { 'num.partitions': 1, 'quota.window.num': 3 } });
}, 120_000);

afterAll(async () => {
  await broker?.stop();
  if (broker) removeDir(broker.dataDir);
});

const tool = (mainClass: string, args: readonly string[], timeoutMs = 120_000): Promise<ToolResult> =>
  runKafkaTool(libs, mainClass, ['--bootstrap-server', broker.bootstrap, ...args], { timeoutMs });

async function ok(mainClass: string, args: readonly string[], timeoutMs?: number): Promise<string> {
  const r = await tool(mainClass, args, timeoutMs);
  expect(r.code, `${args.join(' ')}\n${r.stdout}\n${r.stderr}`).toBe(0);
  return r.stdout;
}

/** kafka-producer-perf-test at full speed; its own MB/sec figure (MiB/s). */
async function producerPerf(topic: string, clientId: string): Promise<number> {
  const r = await runKafkaTool(
    libs,
    KAFKA_TOOL.producerPerf,
    [
      '--topic',
      topic,
      '--num-records',
      String(RECORDS),
      '--record-size',
      '1024',
      '--throughput',
      '-1',
      '--bootstrap-server',
      broker.bootstrap,
      '--command-property',
      `client.id=${clientId}`,
      'acks=1',
    ],
    { timeoutMs: 120_000 },
  );
  expect(r.code, r.stderr).toBe(0);
  const m = new RegExp(`^${RECORDS} records sent, [\\d.]+ records/sec \\(([\\d.]+) MB/sec\\)`, 'm').exec(r.stdout);
  expect(m, r.stdout).not.toBeNull();
  return Number(m![1]);
}

/** kafka-consumer-perf-test reading the whole topic; its fetch.MB.sec (rebalance time excluded). */
async function consumerPerf(topic: string, clientId: string): Promise<number> {
  // Responses of 64 KiB: Kafka's arithmetic answers a fetch empty when its bytes would put the
  // consumer over the quota, so responses as large as the window (1 MiB here) waste whole windows.
  const out = await ok(KAFKA_TOOL.consumerPerf, [
    '--topic',
    topic,
    '--num-records',
    String(RECORDS),
    '--group',
    `g-${clientId}`,
    '--command-property',
    `client.id=${clientId}`,
    'max.partition.fetch.bytes=65536',
    'fetch.max.bytes=65536',
  ]);
  const cols = out.trim().split('\n')[1].split(', ');
  expect(Number(cols[4])).toBe(RECORDS); // data.consumed.in.nMsg
  return Number(cols[8]);
}

async function metric(name: string, labels: string): Promise<number | undefined> {
  const text = await (await fetch(broker.metricsUrl!)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name}{`) && l.includes(labels));
  return line === undefined ? undefined : Number(line.split(' ').pop());
}

describe('client quotas with kafka-configs and the perf tools', () => {
  test('kafka-configs sets, describes and removes quotas for clients and users', async () => {
    await ok(KAFKA_TOOL.configs, [
      '--alter',
      '--entity-type',
      'users',
      '--entity-name',
      'alice',
      '--add-config',
      'request_percentage=200,producer_byte_rate=2048',
    ]);
    await ok(KAFKA_TOOL.configs, ['--alter', '--entity-type', 'clients', '--entity-default', '--add-config', 'consumer_byte_rate=4096']);
    const alice = await ok(KAFKA_TOOL.configs, ['--describe', '--entity-type', 'users', '--entity-name', 'alice']);
    expect(alice).toContain("Quota configs for user-principal 'alice' are ");
    expect(alice).toContain('producer_byte_rate=2048.0');
    expect(alice).toContain('request_percentage=200.0');
    const all = await ok(KAFKA_TOOL.configs, ['--describe', '--entity-type', 'clients']);
    expect(all).toContain('consumer_byte_rate=4096.0');
    await ok(KAFKA_TOOL.configs, ['--alter', '--entity-type', 'users', '--entity-name', 'alice', '--delete-config', 'request_percentage,producer_byte_rate']);
    await ok(KAFKA_TOOL.configs, ['--alter', '--entity-type', 'clients', '--entity-default', '--delete-config', 'consumer_byte_rate']);
    expect(await ok(KAFKA_TOOL.configs, ['--describe', '--entity-type', 'users', '--entity-name', 'alice'])).not.toContain('producer_byte_rate');
    // A key Kafka does not know is refused with Kafka's error code (INVALID_REQUEST).
    const bad = await tool(KAFKA_TOOL.configs, ['--alter', '--entity-type', 'clients', '--entity-name', 'x', '--add-config', 'producer_byte_rate=1.5']);
    expect(bad.code).not.toBe(0);
    expect(bad.stdout + bad.stderr).toContain('producer_byte_rate cannot be a fractional value');
  }, 120_000);

  test('a producer limited to 1 MiB/s averages it while an unthrottled one beside it runs at full speed', async () => {
    await ok(KAFKA_TOOL.configs, ['--alter', '--entity-type', 'clients', '--entity-name', 'slow-producer', '--add-config', `producer_byte_rate=${QUOTA}`]);
    const [slow, fast] = await Promise.all([producerPerf('quota-slow', 'slow-producer'), producerPerf('quota-fast', 'fast-producer')]);
    console.log(`producer quota 1.00 MiB/s: limited ${slow} MiB/s, unlimited ${fast} MiB/s`);
    expect(slow).toBeGreaterThanOrEqual(0.8);
    expect(slow).toBeLessThanOrEqual(1.2);
    expect(fast).toBeGreaterThan(3);
    expect(await metric('sluice_quota_throttle_time_ms_total', 'client_id="slow-producer"')).toBeGreaterThan(1000);
    expect(await metric('sluice_quota_limit', 'client_id="slow-producer"')).toBe(QUOTA);
  }, 180_000);

  test('a consumer limited to 1 MiB/s averages it while an unthrottled one reads at full speed', async () => {
    await ok(KAFKA_TOOL.configs, ['--alter', '--entity-type', 'clients', '--entity-name', 'slow-consumer', '--add-config', `consumer_byte_rate=${QUOTA}`]);
    const [slow, fast] = await Promise.all([consumerPerf('quota-fast', 'slow-consumer'), consumerPerf('quota-fast', 'fast-consumer')]);
    console.log(`consumer quota 1.00 MiB/s: limited ${slow} MiB/s, unlimited ${fast} MiB/s`);
    // Below the producer's bound: each fetch that would put the consumer over its quota is
    // answered empty (Kafka's arithmetic), so a throttled consumer loses a round trip per
    // throttle; measured 0.78-0.82x on the 2-core CI machine (0.74-0.78 with two samples).
    expect(slow).toBeGreaterThanOrEqual(0.7);
    expect(slow).toBeLessThanOrEqual(1.2);
    expect(fast).toBeGreaterThan(3);
    expect(await metric('sluice_quota_throttle_time_ms_total', 'quota_type="fetch",user="",client_id="slow-consumer"')).toBeGreaterThan(1000);
  }, 180_000);

  test('sluice quotas sets what kafka-configs reads, and removes it', async () => {
    const sluice = (...args: string[]) =>
      spawnSync(process.execPath, [SLUICE_BIN, 'quotas', ...args, '--bootstrap-server', broker.bootstrap], { encoding: 'utf8' });
    const set = sluice('set', '--user', 'bob', '--client-id', 'cli-app', '--quota', 'producer_byte_rate=8192,controller_mutation_rate=1.5');
    expect(set.status, set.stderr).toBe(0);
    const listed = sluice('list', '--user', 'bob');
    expect(listed.stdout).toMatch(/user=bob,client-id=cli-app\s+producer_byte_rate\s+8192/);
    const described = await ok(KAFKA_TOOL.configs, [
      '--describe',
      '--entity-type',
      'users',
      '--entity-name',
      'bob',
      '--entity-type',
      'clients',
      '--entity-name',
      'cli-app',
    ]);
    expect(described).toContain('controller_mutation_rate=1.5');
    expect(sluice('set', '--client-id', 'x', '--quota', 'unknown_rate=1').stderr).toContain('Invalid configuration key unknown_rate');
    expect(sluice('delete', '--user', 'bob', '--client-id', 'cli-app', '--quota', 'producer_byte_rate,controller_mutation_rate').status).toBe(0);
    expect(sluice('list', '--user', 'bob').stdout).toBe('No client quotas.\n');
  }, 120_000);
});
