// The protocol fuzzer (fuzzer.ts) for a bounded time against a live broker process: it must
// stay up, keep answering a well-behaved client correctly and in time, and keep RSS and open fds
// under their bounds (fds come back down once the fuzzing connections are gone). Long mode:
// `pnpm exec node test/fuzz/run.ts --seconds 600`.

import { afterAll, beforeAll, expect, test } from 'vitest';
import { type BrokerProcess, removeDir, startBroker } from '../support/broker-process.ts';
import { fdLimit } from '../support/process-stats.ts';
import { runFuzz } from './fuzzer.ts';

const SECONDS = 15;
/** Partitions that exist before fuzzing: the fuzz target (2) and the good client's topic (1). */
const OWN_PARTITIONS = 3;
/** Open files a partition holds (segment, two indexes, producer snapshot, directory slack). */
const FDS_PER_PARTITION = 8;

let broker: BrokerProcess;

beforeAll(async () => {
  broker = await startBroker({
    overrides: { 'auto.create.topics.enable': false, 'sluice.log.level': 'error', 'sluice.metrics.listener': '', 'group.initial.rebalance.delay.ms': 0 },
  });
});

afterAll(async () => {
  await broker?.stop();
  if (broker) removeDir(broker.dataDir);
});

test(`${SECONDS} s of fuzzed frames: no crash, bounded memory and fds, the good client served throughout`, { timeout: 120_000 }, async () => {
  const report = await runFuzz(broker, { seconds: SECONDS, seed: 0xf022, connections: 4 });
  process.stdout.write(`fuzz: ${JSON.stringify(report)}\n`);
  expect(report.brokerAlive, broker.output().slice(-3000)).toBe(true);
  expect(report.goodFailures).toEqual([]);
  expect(report.framesSent).toBeGreaterThan(500);
  expect(report.closedByBroker).toBeGreaterThan(50); // malformed input does get connections closed
  expect(report.responsesReceived).toBeGreaterThan(50); // and valid frames do get answers
  expect(report.goodRequests).toBeGreaterThan(100);
  expect(report.goodMaxLatencyMs).toBeLessThan(5000);
  // Fuzzed CreateTopics may legitimately open many partitions (and DeleteTopics close them), but
  // the broker never runs out of descriptors (it refuses creations past its budget), and once
  // the fuzzing connections are gone only what the surviving partitions hold is left.
  expect(report.maxFds).toBeLessThan(fdLimit(broker.proc.pid!) - 512);
  const created = Math.max(0, report.finalPartitions - OWN_PARTITIONS);
  expect(report.finalFds).toBeLessThanOrEqual(report.baselineFds + 4 + FDS_PER_PARTITION * created);
});
