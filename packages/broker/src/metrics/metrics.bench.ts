// Micro-benchmark of the metrics: what the probes add to each request, against prom-client's
// own labelled Counter/Histogram doing the same work (the baseline), and what a scrape costs
// with many partitions and groups. Run: `pnpm exec node packages/broker/src/metrics/metrics.bench.ts`
// (optional args: partitions, default 1000; groups, default 50).
//
// Per request, the connection and the produce handler do: 4 performance.now() (read, handler
// start, result ready, written), requestCompleted, responseReady (error scan), and for a
// Produce partition produced() and appended(). The scrape reads 5 native getters per partition
// and the group coordinator, then prom-client formats the text.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { WriterStats } from '@sluice/native';
import { buildRecordBatch } from '@sluice/protocol';
import { Counter, Histogram, Registry } from 'prom-client';
import { BrokerConfig } from '../config.ts';
import { harness } from '../testing/group-harness.ts';
import { silentLogger } from '../logger.ts';
import { TopicRegistry } from '../topics.ts';
import { BrokerMetrics } from './broker-metrics.ts';
import { REQUEST_SECONDS_BUCKETS } from './broker-probe.ts';
import { APPEND_SECONDS_BUCKETS } from './data-path-probe.ts';

const ITERATIONS = 2_000_000;

function nsPerOp(run: (i: number) => void, iterations = ITERATIONS): number {
  for (let i = 0; i < 200_000; i++) run(i); // warm up (JIT)
  const started = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) run(i);
  return Number(process.hrtime.bigint() - started) / iterations;
}

const produceResponse = { responses: [{ name: 'orders', partitionResponses: [{ index: 0, errorCode: 0, baseOffset: 1 }] }], throttleTimeMs: 0 };

// ---- per request: our probes ----
const metrics = new BrokerMetrics({ appendMode: 'mmap' });
const probes = (i: number) => {
  const receivedAt = performance.now();
  const startedAt = performance.now();
  metrics.dataPath.appended(16_384, 0.02);
  metrics.broker.produced('orders', 16_384, 100);
  const readyAt = performance.now();
  metrics.broker.responseReady(0, produceResponse);
  const sentAt = performance.now();
  metrics.broker.requestCompleted(0, 9, startedAt - receivedAt, readyAt - startedAt + (i & 7) * 1e-3, sentAt - readyAt);
};

// ---- per request: the same counts through prom-client's labelled metrics ----
const registry = new Registry();
const requests = new Counter({ name: 'b_requests_total', help: 'b', labelNames: ['api', 'version'], registers: [registry] });
const phases = ['queue', 'local', 'send'].map(
  (p) => new Histogram({ name: `b_${p}_seconds`, help: 'b', labelNames: ['api'], buckets: [...REQUEST_SECONDS_BUCKETS], registers: [registry] }),
);
const bytesIn = new Counter({ name: 'b_bytes_in_total', help: 'b', labelNames: ['topic'], registers: [registry] });
const messagesIn = new Counter({ name: 'b_messages_in_total', help: 'b', labelNames: ['topic'], registers: [registry] });
const appendBytes = new Counter({ name: 'b_append_bytes_total', help: 'b', labelNames: ['mode'], registers: [registry] });
const appendSeconds = new Histogram({ name: 'b_append_seconds', help: 'b', labelNames: ['mode'], buckets: [...APPEND_SECONDS_BUCKETS], registers: [registry] });
const baseline = (i: number) => {
  const receivedAt = performance.now();
  const startedAt = performance.now();
  appendBytes.inc({ mode: 'mmap' }, 16_384);
  appendSeconds.observe({ mode: 'mmap' }, 0.00002);
  bytesIn.inc({ topic: 'orders' }, 16_384);
  messagesIn.inc({ topic: 'orders' }, 100);
  const readyAt = performance.now();
  const sentAt = performance.now();
  requests.inc({ api: 'Produce', version: '9' });
  phases[0].observe({ api: 'Produce' }, (startedAt - receivedAt) / 1000);
  phases[1].observe({ api: 'Produce' }, (readyAt - startedAt + (i & 7) * 1e-3) / 1000);
  phases[2].observe({ api: 'Produce' }, (sentAt - readyAt) / 1000);
};

const clocks = () => {
  performance.now();
  performance.now();
  performance.now();
  performance.now();
};

const clockNs = nsPerOp(clocks);
const probeNs = nsPerOp(probes);
const baselineNs = nsPerOp(baseline);
console.log('per request (Produce, one partition):');
console.log(`  4 x performance.now() alone        ${clockNs.toFixed(0).padStart(6)} ns`);
console.log(`  sluice probes (incl. the clocks)   ${probeNs.toFixed(0).padStart(6)} ns`);
console.log(`  prom-client labelled metrics       ${baselineNs.toFixed(0).padStart(6)} ns  (baseline)`);
console.log(`  ratio probes / baseline            ${(probeNs / baselineNs).toFixed(2)}`);

// ---- scrape ----
const partitions = Number(process.argv[2] ?? 1000);
const groupCount = Number(process.argv[3] ?? 50);
const dir = mkdtempSync(join(tmpdir(), 'sluice-metrics-bench-'));
try {
  const config = new BrokerConfig([
    ['log.dirs', dir],
    ['sluice.log.preallocate.step.bytes', '4096'],
  ]);
  const topics = new TopicRegistry(config, silentLogger);
  topics.load();
  const perTopic = 10;
  for (let t = 0; t < Math.ceil(partitions / perTopic); t++) {
    const topic = topics.create(`topic-${t}`, Math.min(perTopic, partitions - t * perTopic), new Map());
    const batch = buildRecordBatch({ records: [{ key: null, value: 'v' }] });
    for (const p of topic.partitions) p.append(batch.slice(), Date.now());
  }
  const h = harness();
  for (let g = 0; g < groupCount; g++) {
    await h.coordinator.commitOffsets({
      groupId: `group-${g}`,
      generationId: -1,
      memberId: '',
      groupInstanceId: null,
      retentionTimeMs: -1,
      apiVersion: 8,
      offsets: Array.from({ length: perTopic }, (_, p) => ({
        topic: `topic-${g % Math.ceil(partitions / perTopic)}`,
        partition: p % perTopic,
        offset: 0,
        leaderEpoch: -1,
        metadata: null,
      })),
    });
  }
  const writer: WriterStats = {
    sendfileBytes: 0,
    sendfileSyscalls: 0,
    spliceBytes: 0,
    spliceSyscalls: 0,
    copyBytes: 0,
    copySyscalls: 0,
    plainBytes: 0,
    plainSyscalls: 0,
    sendsInline: 0,
    sendsQueued: 0,
    wouldBlock: 0,
    continuations: 0,
    queuedBytes: 0,
    connections: 0,
    errors: 0,
    truncatedRanges: 0,
  };
  metrics.attach({ topics, groups: h.coordinator, writerStats: () => writer });

  const runs = 20;
  let refreshMs = 0;
  let scrapeMs = 0;
  let bytes = 0;
  await metrics.scrape(); // warm up
  for (let i = 0; i < runs; i++) {
    let t = performance.now();
    metrics.refresh();
    refreshMs += performance.now() - t;
    t = performance.now();
    const text = await metrics.scrape();
    scrapeMs += performance.now() - t;
    bytes = text.length;
  }
  const nativeNs = nsPerOp(() => {
    for (const topic of topics.topics)
      for (const p of topic.partitions) void (p.log.logStartOffset + p.log.logEndOffset + p.log.sizeBytes + p.log.segmentCount);
  }, 50);
  console.log(`scrape (${partitions} partitions, ${groupCount} groups x ${perTopic} committed partitions):`);
  console.log(`  native getters, 4 per partition    ${(nativeNs / 1e6).toFixed(2).padStart(6)} ms`);
  console.log(`  refresh (read state into probes)   ${(refreshMs / runs).toFixed(2).padStart(6)} ms`);
  console.log(`  full scrape (refresh + format)     ${(scrapeMs / runs).toFixed(2).padStart(6)} ms, ${(bytes / 1024).toFixed(0)} KiB of text`);
  h.coordinator.close();
  topics.close();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
