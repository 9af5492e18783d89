// Kafka Streams exactly_once_v2 against a 3-broker Sluice cluster, quick variant (kafka-streams.ts
// with `cluster: true`): a word count over 5,000 input lines (written over 20 s) with input,
// output, repartition and changelog topics at replication factor 3; the Streams process is
// SIGKILLed once, and two brokers once each while it runs — the leader of the input's partition
// 0, then the coordinator of the application's transaction — each down 3 s while leaders move,
// then restarted. The committed output counts are exact and strictly increasing per word. The
// full run is `pnpm exec node test/clients/kafka-streams-run.ts --cluster`.

import { beforeAll, expect, test } from 'vitest';
import { runWordCount } from './kafka-streams.ts';
import { ensureStreamsWordCount } from './support.ts';

beforeAll(() => void ensureStreamsWordCount(), 600_000);

test('word count with exactly_once_v2 on 3 brokers: Streams, the input leader and the transaction coordinator SIGKILLed, output counts exact', {
  timeout: 300_000,
}, async () => {
  const report = await runWordCount({
    cluster: true,
    brokerDownMs: 3000,
    records: 5000,
    ratePerSecond: 250,
    streamsKillsAt: [0.4],
    brokerKillsAt: [0.2, 0.6],
    progress: (line) => process.stdout.write(`kafka-streams-cluster: ${line}\n`),
  });
  expect(report.streamsKills).toBe(1);
  expect(report.brokerKills).toBe(2);
  expect(report.words).toBe(500);
  expect(report.overcounted).toEqual([]);
  expect(report.wrongCounts).toEqual([]);
  expect(report.notIncreasing).toEqual([]);
  expect(report.outputRecords).toBeGreaterThanOrEqual(report.words);
});
