// Kafka Connect (Apache Kafka 4.4's distributed worker from Maven Central) against Sluice: its
// compacted internal topics (configs, offsets, status), its worker group and the sink's consumer
// group, its idempotent producers. A file source -> topic -> file sink pipeline created through
// the REST API carries every line exactly once while the worker and then the broker restart
// mid-run, with lines written while each is down.
//
// The connectors are the line-file pair in test/connect/src: Kafka's own FileStreamSource/Sink
// (the connect-file artifact) is not on the Maven registry these machines reach.

import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { type BrokerProcess, removeDir, startBroker, tempDataDir } from './support/broker-process.ts';
import { type ConnectWorker, ensureConnect, SINK_CONNECTOR, SOURCE_CONNECTOR, startWorker } from './support/kafka-connect.ts';
import { freePort } from './support/prometheus.ts';

let classpath: string;
let workDir: string;
let dataDir: string;
let broker: BrokerProcess | undefined;
let worker: ConnectWorker | undefined;
let brokerPort: number;
let restPort: number;

beforeAll(async () => {
  classpath = ensureConnect();
  workDir = tempDataDir('sluice-connect-');
  dataDir = tempDataDir('sluice-connect-data-');
  brokerPort = await freePort();
  restPort = await freePort();
  broker = await startBroker({ dataDir, port: brokerPort });
}, 120_000);

afterAll(async () => {
  await worker?.stop();
  await broker?.stop();
  removeDir(dataDir);
  removeDir(workDir);
});

function workerProperties(): Record<string, string | number> {
  return {
    'bootstrap.servers': `127.0.0.1:${brokerPort}`,
    'group.id': 'sluice-connect',
    'key.converter': 'org.apache.kafka.connect.storage.StringConverter',
    'value.converter': 'org.apache.kafka.connect.storage.StringConverter',
    'config.storage.topic': 'connect-configs',
    'offset.storage.topic': 'connect-offsets',
    'status.storage.topic': 'connect-status',
    'config.storage.replication.factor': 1,
    'offset.storage.replication.factor': 1,
    'status.storage.replication.factor': 1,
    'offset.storage.partitions': 5,
    'status.storage.partitions': 1,
    'offset.flush.interval.ms': 500,
    // One worker: a restarted worker need not wait for a departed one to come back.
    'scheduled.rebalance.max.delay.ms': 1000,
  };
}

async function rest(method: string, path: string, body?: object): Promise<any> {
  const res = await fetch(`${worker!.url}${path}`, {
    method,
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
  return text === '' ? null : JSON.parse(text);
}

function lines(from: number, to: number): string {
  let s = '';
  for (let i = from; i < to; i++) s += `line-${i}-${'x'.repeat(i % 40)}\n`;
  return s;
}

async function waitForOutput(output: string, expected: number, what: string): Promise<void> {
  const deadline = Date.now() + 90_000;
  let count = 0;
  while (Date.now() < deadline) {
    count = existsSync(output) ? readFileSync(output, 'utf8').split('\n').length - 1 : 0;
    if (count >= expected) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${what}: ${count} of ${expected} lines reached the sink file\n${worker?.output().slice(-4000)}`);
}

async function waitForRunning(name: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  let status: any = null;
  while (Date.now() < deadline) {
    status = await rest('GET', `/connectors/${name}/status`).catch(() => null);
    if (status?.connector?.state === 'RUNNING' && status.tasks?.length === 1 && status.tasks[0].state === 'RUNNING') return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${name} is not running: ${JSON.stringify(status)}`);
}

test('file source -> topic -> file sink, exactly once across a worker restart and a broker restart', async () => {
  const input = join(workDir, 'input.txt');
  const output = join(workDir, 'output.txt');
  writeFileSync(input, lines(0, 500));
  worker = await startWorker(classpath, join(workDir, 'worker.properties'), workerProperties(), restPort);

  const plugins: Array<{ class: string }> = await rest('GET', '/connector-plugins');
  expect(plugins.map((p) => p.class)).toEqual(expect.arrayContaining([SOURCE_CONNECTOR, SINK_CONNECTOR]));
  await rest('POST', '/connectors', {
    name: 'lines-in',
    config: { 'connector.class': SOURCE_CONNECTOR, 'tasks.max': '1', file: input, topic: 'connect-lines' },
  });
  await rest('POST', '/connectors', {
    name: 'lines-out',
    config: { 'connector.class': SINK_CONNECTOR, 'tasks.max': '1', file: output, topics: 'connect-lines' },
  });
  await waitForRunning('lines-in');
  await waitForRunning('lines-out');
  await waitForOutput(output, 500, 'first lines');

  // The worker stops (its tasks commit their offsets), lines arrive while it is down, it comes back.
  await worker.stop();
  appendFileSync(input, lines(500, 1000));
  worker = await startWorker(classpath, join(workDir, 'worker.properties'), workerProperties(), restPort);
  expect((await rest('GET', '/connectors')).sort()).toEqual(['lines-in', 'lines-out']); // from connect-configs
  await waitForOutput(output, 1000, 'after the worker restart');

  // The broker stops under the running worker; lines arrive while it is down; it comes back on
  // the same port and data dir, and the worker's clients reconnect.
  await broker!.stop();
  appendFileSync(input, lines(1000, 1500));
  await new Promise((r) => setTimeout(r, 1500));
  broker = await startBroker({ dataDir, port: brokerPort });
  appendFileSync(input, lines(1500, 2000));
  await waitForOutput(output, 2000, 'after the broker restart');

  // Let any duplicate that would come show up before comparing.
  await new Promise((r) => setTimeout(r, 2000));
  expect(readFileSync(output, 'utf8')).toBe(readFileSync(input, 'utf8'));
  const status = await rest('GET', '/connectors/lines-out/status');
  expect(status.tasks[0].state).toBe('RUNNING');
}, 300_000);
