// Incremental fetch sessions (KIP-227) with real clients: franz-go and the Java consumer each read
// a topic of many partitions while it is being written, and the broker's metrics show that they
// fetched incrementally (a full fetch opened the session, later fetches listed only what changed);
// every record arrives once, in order per partition. Both clients use fetch sessions by default.

import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type BrokerProcess, removeDir, startBroker } from '../support/broker-process.ts';
import { type ClientCommand, consumedRecords, ensureGoClient, ensureJavaClient, offsetsByPartition, runClientOk } from './support.ts';

const PARTITIONS = 200;
const PER_ROUND = 1000;
const CLIENT_TEST_TIMEOUT_MS = 180_000;

let go: ClientCommand;
let java: ClientCommand;
let broker: BrokerProcess;

beforeAll(async () => {
  go = ensureGoClient();
  java = ensureJavaClient();
  broker = await startBroker();
}, 600_000);

afterAll(async () => {
  await broker?.stop();
  if (broker) removeDir(broker.dataDir);
});

async function metric(name: string): Promise<number> {
  const text = await (await fetch(broker.metricsUrl!)).text();
  return Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? Number.NaN);
}

/** Record bytes the broker has put in Fetch answers for `topic`. */
async function topicBytesOut(topic: string): Promise<number> {
  const text = await (await fetch(broker.metricsUrl!)).text();
  return Number(new RegExp(`^sluice_topic_bytes_out_total\\{topic="${topic}"\\} (\\S+)$`, 'm').exec(text)?.[1] ?? 0);
}

/** The fetch session counters and Fetch errors, for a failure message. */
async function sessionReport(): Promise<string> {
  const text = await (await fetch(broker.metricsUrl!)).text();
  return text
    .split('\n')
    .filter(
      (l) => l.startsWith('sluice_fetch_sessions_') || l.startsWith('sluice_errors_total{api="Fetch"') || l.startsWith('sluice_requests_total{api="Fetch"'),
    )
    .join('\n');
}

/**
 * Creates `topic` with PARTITIONS partitions, starts `consume` (which must read two rounds), and
 * produces the second round with franz-go once the consumer has fetched the first, so the second
 * is read by a later fetch of the session; checks each produced value arrived once and offsets
 * per partition are contiguous.
 */
async function consumeWhileProducing(topic: string, consume: (count: number) => Promise<ReturnType<typeof consumedRecords>>): Promise<void> {
  const common = ['-brokers', broker.bootstrap, '-topic', topic];
  await runClientOk(go, ['create-topic', ...common, '-partitions', String(PARTITIONS)]);
  const consumed = consume(2 * PER_ROUND);
  await runClientOk(go, ['produce', ...common, '-count', String(PER_ROUND), '-value-suffix', '-r1']);
  // Round 2 only once the consumer has fetched round 1 (a JVM that starts slowly would otherwise
  // find both rounds there and read them in its first, full, fetch).
  const deadline = Date.now() + 90_000;
  while ((await topicBytesOut(topic)) === 0) {
    if (Date.now() > deadline) throw new Error(`the consumer of ${topic} fetched nothing in 90 s`);
    await new Promise((r) => setTimeout(r, 200));
  }
  await new Promise((r) => setTimeout(r, 500));
  await runClientOk(go, ['produce', ...common, '-count', String(PER_ROUND), '-value-suffix', '-r2']);
  const records = await consumed;
  const expected = ['-r1', '-r2'].flatMap((suffix) => Array.from({ length: PER_ROUND }, (_, i) => `value-${i}${suffix}`));
  expect(records.map((r) => r.value).sort()).toEqual(expected.sort());
  expect(offsetsByPartition(records).size).toBeGreaterThan(PARTITIONS / 2);
  for (const offsets of offsetsByPartition(records).values()) expect(offsets).toEqual(offsets.map((_, i) => i));
}

describe('fetch sessions (KIP-227) with real clients', () => {
  test(
    'franz-go reads 200 partitions through a fetch session',
    async () => {
      const before = await metric('sluice_fetch_sessions_incremental_total');
      await consumeWhileProducing('sessions-franz', async (count) => {
        const run = await runClientOk(go, [
          'consume',
          '-brokers',
          broker.bootstrap,
          '-topic',
          'sessions-franz',
          '-group',
          'sessions-franz',
          '-count',
          String(count),
        ]);
        return consumedRecords(run);
      });
      expect(await metric('sluice_fetch_sessions_incremental_total'), await sessionReport()).toBeGreaterThan(before);
    },
    CLIENT_TEST_TIMEOUT_MS,
  );

  test(
    'the Java consumer reads 200 partitions through a fetch session',
    async () => {
      const before = await metric('sluice_fetch_sessions_incremental_total');
      await consumeWhileProducing('sessions-java', async (count) => {
        const run = await runClientOk(java, ['consume', broker.bootstrap, 'sessions-java', 'sessions-java', String(count), '90000']);
        return consumedRecords(run);
      });
      expect(await metric('sluice_fetch_sessions_incremental_total'), await sessionReport()).toBeGreaterThan(before);
      // The sessions are in the cache, and no fetch needed a session id the broker did not know.
      expect(await metric('sluice_fetch_sessions_full_total')).toBeGreaterThan(0);
      const text = await (await fetch(broker.metricsUrl!)).text();
      expect(text).not.toMatch(/sluice_errors_total\{api="Fetch",error="(FETCH_SESSION_ID_NOT_FOUND|INVALID_FETCH_SESSION_EPOCH)"\}/);
    },
    CLIENT_TEST_TIMEOUT_MS,
  );
});
