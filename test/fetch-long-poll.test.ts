// Fetch long-poll against a real broker process: a fetch parked on an empty partition returns as
// soon as a record is produced; an idle one returns empty after about maxWaitMs. Bounds are
// functional and wide (the machines are noisy); speed belongs in bench/.

import { afterAll, beforeAll, expect, test } from 'vitest';
import { buildRecordBatch } from '@sluice/protocol';
import { type BrokerProcess, removeDir, startBroker } from './support/broker-process.ts';
import { RawClient } from './support/raw-client.ts';

let broker: BrokerProcess;
let client: RawClient;

beforeAll(async () => {
  broker = await startBroker();
  client = await RawClient.connect(broker.port);
  const created = await client.request(19, 5, {
    topics: [{ name: 'lp', numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] }],
    timeoutMs: 5000,
    validateOnly: false,
  });
  expect(created.topics[0].errorCode).toBe(0);
});

afterAll(async () => {
  client?.close();
  await broker?.stop();
  if (broker) removeDir(broker.dataDir);
});

function fetchRequest(offset: number, maxWaitMs: number) {
  return {
    replicaId: -1,
    maxWaitMs,
    minBytes: 1,
    maxBytes: 1 << 20,
    isolationLevel: 0,
    sessionId: 0,
    sessionEpoch: -1,
    topics: [{ topic: 'lp', partitions: [{ partition: 0, currentLeaderEpoch: -1, fetchOffset: offset, logStartOffset: -1, partitionMaxBytes: 1 << 20 }] }],
    forgottenTopicsData: [],
    rackId: '',
  };
}

test('a parked fetch returns as soon as a record is produced', async () => {
  const consumer = await RawClient.connect(broker.port);
  try {
    const started = performance.now();
    const parked = consumer.request(1, 11, fetchRequest(0, 5000));
    await new Promise((r) => setTimeout(r, 300));
    const records = buildRecordBatch({ records: [{ key: null, value: Buffer.from('wake up'), headers: [], timestamp: Date.now() }], compression: 'none' });
    const produced = await client.request(0, 7, {
      transactionalId: null,
      acks: 1,
      timeoutMs: 5000,
      topicData: [{ name: 'lp', partitionData: [{ index: 0, records }] }],
    });
    expect(produced.responses[0].partitionResponses[0].errorCode).toBe(0);
    const response = await parked;
    const elapsed = performance.now() - started;
    const partition = response.responses[0].partitions[0];
    expect(partition.errorCode).toBe(0);
    expect(partition.highWatermark).toBe(1);
    expect(partition.records.byteLength).toBeGreaterThan(0);
    expect(elapsed).toBeLessThan(4000); // well before the 5 s deadline
  } finally {
    consumer.close();
  }
});

test('an idle fetch returns empty after about maxWaitMs', async () => {
  const started = performance.now();
  const response = await client.request(1, 11, fetchRequest(1, 1000));
  const elapsed = performance.now() - started;
  const partition = response.responses[0].partitions[0];
  expect(partition.errorCode).toBe(0);
  expect(partition.records?.byteLength ?? 0).toBe(0);
  expect(elapsed).toBeGreaterThanOrEqual(900);
  expect(elapsed).toBeLessThan(4000);
});
