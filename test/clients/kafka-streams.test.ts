// Kafka Streams exactly_once_v2 against Sluice, quick variant (kafka-streams.ts): a word count
// over 5,000 input lines; the Streams process is SIGKILLed once and the broker once while it
// runs; the committed output counts are exact and strictly increasing per word. The full run
// (100k records, two Streams kills, one broker kill) is `pnpm exec node
// test/clients/kafka-streams-run.ts`.

import { beforeAll, expect, test } from 'vitest';
import { runWordCount } from './kafka-streams.ts';
import { ensureStreamsWordCount } from './support.ts';

beforeAll(() => void ensureStreamsWordCount(), 600_000);

test('word count with exactly_once_v2: Streams and broker SIGKILLed mid-run, output counts exact', { timeout: 300_000 }, async () => {
  const report = await runWordCount({
    records: 5000,
    ratePerSecond: 1000,
    streamsKillsAt: [0.3],
    brokerKillsAt: [0.6],
    progress: (line) => process.stdout.write(`kafka-streams: ${line}\n`),
  });
  expect(report.streamsKills).toBe(1);
  expect(report.brokerKills).toBe(1);
  expect(report.words).toBe(500);
  expect(report.overcounted).toEqual([]);
  expect(report.wrongCounts).toEqual([]);
  expect(report.notIncreasing).toEqual([]);
  expect(report.outputRecords).toBeGreaterThanOrEqual(report.words);
});
