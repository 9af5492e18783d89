// KIP-932 share groups end to end with the Java client (kafka-clients 4.x KafkaShareConsumer) and
// franz-go's share consumer: consumers of one share group share one partition's records, each accepted record delivered to
// one of them once; records held by a consumer that is killed are redelivered to the others; a
// poison record (always released) is archived after group.share.delivery.count.limit deliveries;
// a broker restart keeps every acknowledgement and redelivers what was held unacknowledged.
// A consumer reports a record only after its acknowledgement was committed (ShareClient.java),
// so "accepted" means the broker acknowledged it.
// The broker runs with short share-group timeouts and lock durations so all this takes seconds.

import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type BrokerProcess, removeDir, startBroker, tempDataDir } from '../support/broker-process.ts';
import { type ClientCommand, ensureGoClient, ensureJavaClient } from './support.ts';

const TOPIC = 'share-orders';
const GROUP = 'share-group';
const PER_ROUND = 200;
const DELIVERY_LIMIT = 3;
const TEST_TIMEOUT_MS = 240_000;
const SLUICE_BIN = resolve(import.meta.dirname, '..', '..', 'packages', 'cli', 'bin', 'sluice.js');

const BROKER_SETTINGS = {
  'group.share.session.timeout.ms': 6000,
  'group.share.min.session.timeout.ms': 3000,
  'group.share.heartbeat.interval.ms': 1000,
  'group.share.min.heartbeat.interval.ms': 500,
  'group.share.record.lock.duration.ms': 4000,
  'group.share.min.record.lock.duration.ms': 1000,
  'group.share.delivery.count.limit': DELIVERY_LIMIT,
};

interface Consumer {
  readonly name: string;
  readonly proc: ChildProcess;
  readonly events: Array<Record<string, any>>;
  readonly stopFile: string;
  stderr: string;
  exited: boolean;
}

let java: ClientCommand;
let franz: ClientCommand;
let broker: BrokerProcess;
let dataDir: string;
const stopDir = tempDataDir('sluice-share-stop-');
const consumers: Consumer[] = [];

/** A Java share consumer (member: accepts; hold: holds its first records), or a franz-go one. */
function start(name: string, mode: 'member' | 'hold' | 'franz-go'): Consumer {
  const stopFile = join(stopDir, name);
  const [client, args] =
    mode === 'franz-go'
      ? [franz, ['share-consume', '-brokers', broker.bootstrap, '-topic', TOPIC, '-group', GROUP, '-stop-file', stopFile, '-timeout', '600s']]
      : [java, mode === 'member' ? ['member', broker.bootstrap, TOPIC, GROUP, stopFile] : ['hold', broker.bootstrap, TOPIC, GROUP]];
  const proc = spawn(client.command, [...client.args, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const consumer: Consumer = { name, proc, events: [], stopFile, stderr: '', exited: false };
  let partial = '';
  proc.stdout!.on('data', (d: Buffer) => {
    const lines = (partial + d.toString()).split('\n');
    partial = lines.pop() ?? '';
    for (const l of lines) if (l.startsWith('{')) consumer.events.push(JSON.parse(l) as Record<string, any>);
  });
  proc.stderr!.on('data', (d: Buffer) => {
    consumer.stderr += d.toString();
  });
  proc.on('close', () => {
    consumer.exited = true;
  });
  consumers.push(consumer);
  return consumer;
}

const eventsOf = (kind: string, of: readonly Consumer[] = consumers) => of.flatMap((c) => c.events.filter((e) => e.event === kind));
const accepted = () => eventsOf('record');

async function waitFor(what: string, check: () => boolean, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) {
      const status = consumers.map((c) => `${c.name}: ${c.events.length} events, exited=${c.exited}\n${c.stderr.slice(-1500)}`).join('\n');
      throw new Error(`timed out waiting for ${what}; accepted ${accepted().length}\n${status}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function produce(values: readonly string[]): Promise<void> {
  const kafka = new Kafka({ clientId: 'share-test', brokers: [broker.bootstrap], logLevel: logLevel.NOTHING, retry: { retries: 8, initialRetryTime: 100 } });
  const producer = kafka.producer();
  await producer.connect();
  await producer.send({ topic: TOPIC, messages: values.map((value) => ({ value })) });
  await producer.disconnect();
}

/**
 * A new share-partition starts at the log end (share.auto.offset.reset=latest): produce marker
 * records until each consumer received one, so each is fetching and what is produced next is
 * surely in the group's view.
 */
async function warmUp(of: readonly Consumer[], kind: string, tag: string): Promise<void> {
  for (let i = 0; !of.every((c) => c.events.some((e) => e.event === kind)); i++) {
    if (i > 120) throw new Error(`no warm-up record reached all of ${of.map((c) => c.name)}\n${of.map((c) => c.stderr.slice(-1500)).join('\n')}`);
    await produce([`warmup-${tag}-${i}`]);
    await new Promise((r) => setTimeout(r, 500));
  }
}

beforeAll(async () => {
  java = ensureJavaClient('ShareClient');
  franz = ensureGoClient();
  dataDir = tempDataDir();
  broker = await startBroker({ dataDir, overrides: BROKER_SETTINGS });
  const admin = new Kafka({ clientId: 'share-test', brokers: [broker.bootstrap], logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic: TOPIC, numPartitions: 1 }] });
  await admin.disconnect();
}, 600_000);

afterAll(async () => {
  for (const c of consumers) {
    writeFileSync(c.stopFile, '');
    if (!c.exited) c.proc.kill('SIGKILL');
  }
  await broker?.stop();
  removeDir(dataDir);
  removeDir(stopDir);
});

describe('Java KafkaShareConsumer (KIP-932 share groups)', () => {
  test(
    'consumers share one partition; held records of a killed consumer and of a broker restart are redelivered; a poison record is archived; every record accepted once',
    async () => {
      // A consumer that takes a batch and holds it unacknowledged.
      const holder = start('holder', 'hold');
      await warmUp([holder], 'held', 'a');
      const heldByHolder = eventsOf('held', [holder]).map((e) => e.value as string);
      expect(heldByHolder.length).toBeGreaterThan(0);

      const m1 = start('m1', 'member');
      const m2 = start('m2', 'member');
      const g1 = start('g1', 'franz-go');
      await warmUp([m1, m2, g1], 'record', 'b');
      const round1 = Array.from({ length: PER_ROUND }, (_, i) => `r1-${i}`);
      await produce([...round1.slice(0, 100), 'poison-1', ...round1.slice(100)]);
      // The holder dies holding its records: they come back (its connection closes, which ends its
      // share session; its locks would expire otherwise).
      holder.proc.kill('SIGKILL');
      await waitFor('round 1 and the held records accepted', () => {
        const values = new Set(accepted().map((e) => e.value));
        return round1.every((v) => values.has(v)) && heldByHolder.every((v) => values.has(v));
      });
      await waitFor('the poison record delivered up to the limit', () => eventsOf('poison').length >= DELIVERY_LIMIT);
      // The three consumers (two Java, one franz-go) each took part of the one partition.
      for (const c of [m1, m2, g1]) expect(eventsOf('record', [c]).length).toBeGreaterThan(0);
      // The held records were redelivered (second delivery or later).
      for (const e of accepted().filter((r) => heldByHolder.includes(r.value))) expect(e.deliveryCount).toBeGreaterThanOrEqual(2);

      // Phase 2: a consumer holds records across a broker restart.
      for (const m of [m1, m2, g1]) writeFileSync(m.stopFile, '');
      await waitFor('m1, m2 and g1 closed', () => m1.exited && m2.exited && g1.exited);
      const holder2 = start('holder2', 'hold');
      await warmUp([holder2], 'held', 'c');
      const heldAcrossRestart = eventsOf('held', [holder2]).map((e) => e.value as string);
      await broker.stop();
      holder2.proc.kill('SIGKILL');
      broker = await startBroker({ dataDir, port: broker.port, overrides: BROKER_SETTINGS });
      const m3 = start('m3', 'member');
      const m4 = start('m4', 'member');
      await warmUp([m3, m4], 'record', 'd');
      const round2 = Array.from({ length: PER_ROUND / 2 }, (_, i) => `r2-${i}`);
      await produce(round2);
      await waitFor(
        'round 2 and the records held across the restart accepted',
        () => {
          const values = new Set(accepted().map((e) => e.value));
          return round2.every((v) => values.has(v)) && heldAcrossRestart.every((v) => values.has(v));
        },
        90_000,
      );
      // A little longer: nothing acknowledged before comes back.
      await new Promise((r) => setTimeout(r, 2000));

      // Exactly once: no value accepted twice; the poison record never accepted, archived after
      // the limit (its deliveries numbered 1..limit, and never again after the restart).
      const values = accepted().map((e) => e.value as string);
      expect(new Set(values).size).toBe(values.length);
      expect(values).not.toContain('poison-1');
      expect(
        eventsOf('poison')
          .map((e) => e.deliveryCount)
          .sort(),
      ).toEqual(Array.from({ length: DELIVERY_LIMIT }, (_, i) => i + 1));
      expect(heldAcrossRestart.length).toBeGreaterThan(0);
      expect(eventsOf('commit-failed')).toEqual([]);

      // `sluice groups` sees the share group: listed, its two members with their epochs and the
      // shared partition, and its share-partition start offset at the log end (all acknowledged).
      const sluice = (...args: string[]) =>
        execFileSync(process.execPath, [SLUICE_BIN, 'groups', ...args, '--bootstrap-server', broker.bootstrap], { encoding: 'utf8' });
      expect(sluice('list')).toContain(GROUP);
      const [membersHeader, ...memberRows] = sluice('describe', '--group', GROUP, '--members').trim().split('\n');
      expect(membersHeader!.trim().split(/\s+/)).toEqual(['GROUP', 'CONSUMER-ID', 'HOST', 'CLIENT-ID', '#PARTITIONS', 'EPOCH', 'ASSIGNMENT']);
      expect(memberRows).toHaveLength(2);
      for (const row of memberRows) expect(row.trim().split(/\s+/).slice(-2)[1]).toBe(`${TOPIC}(0)`);
      const [offsetsHeader, offsetRow] = sluice('describe', '--group', GROUP).trim().split('\n');
      expect(offsetsHeader!.trim().split(/\s+/)).toEqual(['GROUP', 'TOPIC', 'PARTITION', 'START-OFFSET', 'LOG-END-OFFSET', 'LAG']);
      const cells = offsetRow!.trim().split(/\s+/);
      expect(cells[3]).toBe(cells[4]);
      expect(cells[5]).toBe('0');
    },
    TEST_TIMEOUT_MS,
  );
});
