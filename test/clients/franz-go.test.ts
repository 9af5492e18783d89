// franz-go (github.com/twmb/franz-go/pkg/kgo, version in go/go.mod) against a real broker
// process with kgo's defaults: an idempotent producer (acks all, snappy preferred), a consumer
// group that reads everything, commits, and resumes from its commits on the next run.
// The client is built on first run (support.ts); a missing Go toolchain fails with what to install.

import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type BrokerProcess, removeDir, startBroker } from '../support/broker-process.ts';
import { type ClientCommand, consumedRecords, ensureGoClient, offsetsByPartition, runClientOk, storedBatches } from './support.ts';

const RECORDS = 1000;
const PARTITIONS = 3;

let go: ClientCommand;
let broker: BrokerProcess;
// Several client processes (JVMs) per test, on a 2-core machine shared with the other suites.
const CLIENT_TEST_TIMEOUT_MS = 180_000;

beforeAll(async () => {
  go = ensureGoClient();
  broker = await startBroker();
}, 600_000);

afterAll(async () => {
  await broker?.stop();
  if (broker) removeDir(broker.dataDir);
});

describe('franz-go', () => {
  test(
    'idempotent producer with defaults; a group reads all, commits, and resumes',
    async () => {
      const topic = 'franz-topic';
      const common = ['-brokers', broker.bootstrap, '-topic', topic];
      // kgo never auto-creates topics; the program creates it with a CreateTopics request.
      const created = await runClientOk(go, ['create-topic', ...common, '-partitions', String(PARTITIONS)]);
      expect(created.events).toEqual([{ event: 'created', topic, partitions: PARTITIONS }]);

      const produced = await runClientOk(go, ['produce', ...common, '-count', String(RECORDS)]);
      const acks = produced.events.filter((e) => e.event === 'produced');
      expect(acks).toHaveLength(RECORDS);
      // Offsets the producer was told are, per partition, 0..n-1 in the order the records were given.
      const ackedOffsets = new Map<number, number[]>();
      for (const a of acks) ackedOffsets.set(a.partition, [...(ackedOffsets.get(a.partition) ?? []), a.offset]);
      expect(ackedOffsets.size).toBe(PARTITIONS);
      for (const offsets of ackedOffsets.values()) expect(offsets).toEqual(offsets.map((_, i) => i));

      // kgo's defaults as stored: snappy batches stamped with a producer id and sequences.
      const batches = await storedBatches(broker.port, topic, PARTITIONS);
      expect(new Set(batches.map((b) => b.compression))).toEqual(new Set(['snappy']));
      for (const b of batches) {
        expect(b.producerId).toBeGreaterThanOrEqual(0);
        expect(b.baseSequence).toBeGreaterThanOrEqual(0);
      }

      const expected = Array.from({ length: RECORDS }, (_, i) => `key-${i}=value-${i}`);
      const first = await runClientOk(go, ['consume', ...common, '-group', 'franz-group', '-count', String(RECORDS)]);
      const firstRecords = consumedRecords(first);
      expect(firstRecords.map((r) => `${r.key}=${r.value}`).sort()).toEqual([...expected].sort());
      for (const offsets of offsetsByPartition(firstRecords).values()) expect(offsets).toEqual(offsets.map((_, i) => i));
      expect(first.events.some((e) => e.event === 'committed')).toBe(true);

      await runClientOk(go, ['produce', ...common, '-count', String(RECORDS), '-value-suffix', '-round2']);
      const second = await runClientOk(go, ['consume', ...common, '-group', 'franz-group', '-count', String(RECORDS)]);
      const secondRecords = consumedRecords(second);
      expect(secondRecords.map((r) => `${r.key}=${r.value}`).sort()).toEqual(expected.map((r) => `${r}-round2`).sort());
      const firstEnd = new Map([...offsetsByPartition(firstRecords)].map(([p, offsets]) => [p, offsets.length]));
      for (const [p, offsets] of offsetsByPartition(secondRecords)) {
        expect(offsets).toEqual(offsets.map((_, i) => (firstEnd.get(p) ?? 0) + i));
      }
    },
    CLIENT_TEST_TIMEOUT_MS,
  );
});
