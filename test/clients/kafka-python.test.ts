// kafka-python (PyPI, version in python/requirements.txt) against a real broker process: an
// idempotent producer (kafka-python 3's default) with acks=all, uncompressed and gzip; a consumer
// group reading everything, committing, and resuming from its commits on the next run.
// The venv is made on first run (support.ts); a missing python3/venv fails with what to install.

import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type BrokerProcess, removeDir, startBroker } from '../support/broker-process.ts';
import { type ClientCommand, consumedRecords, ensurePythonClient, offsetsByPartition, runClientOk, storedBatches } from './support.ts';

const RECORDS = 500;
const PARTITIONS = 3;

let python: ClientCommand;
let broker: BrokerProcess;
// Several client processes (JVMs) per test, on a 2-core machine shared with the other suites.
const CLIENT_TEST_TIMEOUT_MS = 180_000;

beforeAll(async () => {
  python = ensurePythonClient();
  broker = await startBroker({ overrides: { 'num.partitions': PARTITIONS } });
}, 600_000);

afterAll(async () => {
  await broker?.stop();
  if (broker) removeDir(broker.dataDir);
});

describe('kafka-python', () => {
  test(
    'idempotent producer (none, then gzip); a group reads all, commits, and resumes',
    async () => {
      const topic = 'python-topic'; // auto-created by the producer's Metadata request
      const produced = await runClientOk(python, ['produce', broker.bootstrap, topic, String(RECORDS), 'none']);
      const acks = produced.events.filter((e) => e.event === 'produced');
      expect(acks).toHaveLength(RECORDS);
      const ackedOffsets = new Map<number, number[]>();
      for (const a of acks) ackedOffsets.set(a.partition, [...(ackedOffsets.get(a.partition) ?? []), a.offset]);
      expect(ackedOffsets.size).toBe(PARTITIONS);
      for (const offsets of ackedOffsets.values()) expect(offsets).toEqual(offsets.map((_, i) => i));

      const expected = Array.from({ length: RECORDS }, (_, i) => `key-${i}=value-${i}`);
      const first = await runClientOk(python, ['consume', broker.bootstrap, topic, 'python-group', String(RECORDS)]);
      const firstRecords = consumedRecords(first);
      expect(firstRecords.map((r) => `${r.key}=${r.value}`).sort()).toEqual([...expected].sort());
      for (const offsets of offsetsByPartition(firstRecords).values()) expect(offsets).toEqual(offsets.map((_, i) => i));
      expect(first.events.some((e) => e.event === 'committed')).toBe(true);

      await runClientOk(python, ['produce', broker.bootstrap, topic, String(RECORDS), 'gzip', 'true', '-round2']);
      const second = await runClientOk(python, ['consume', broker.bootstrap, topic, 'python-group', String(RECORDS)]);
      const secondRecords = consumedRecords(second);
      expect(secondRecords.map((r) => `${r.key}=${r.value}`).sort()).toEqual(expected.map((r) => `${r}-round2`).sort());
      const firstEnd = new Map([...offsetsByPartition(firstRecords)].map(([p, offsets]) => [p, offsets.length]));
      for (const [p, offsets] of offsetsByPartition(secondRecords)) {
        expect(offsets).toEqual(offsets.map((_, i) => (firstEnd.get(p) ?? 0) + i));
      }

      // As stored: both rounds' codecs, every batch stamped with a producer id and sequences.
      const batches = await storedBatches(broker.port, topic, PARTITIONS);
      expect(new Set(batches.map((b) => b.compression))).toEqual(new Set(['none', 'gzip']));
      for (const b of batches) {
        expect(b.producerId).toBeGreaterThanOrEqual(0);
        expect(b.baseSequence).toBeGreaterThanOrEqual(0);
      }
    },
    CLIENT_TEST_TIMEOUT_MS,
  );
});
