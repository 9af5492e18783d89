// The broker's fetch.max.bytes caps a Fetch answer whatever the request's max_bytes asks (Kafka's
// rule; before it, a request for more than the writer holds per connection closed the connection).

import { buildRecordBatch } from '@sluice/protocol';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { type BrokerProcess, removeDir, startBroker } from './support/broker-process.ts';
import { RawClient } from './support/raw-client.ts';

const CAP = 64 * 1024;
let broker: BrokerProcess;
let client: RawClient;

beforeAll(async () => {
  broker = await startBroker({ overrides: { 'fetch.max.bytes': CAP } });
  client = await RawClient.connect(broker.port);
  const created = await client.request(19, 5, {
    topics: [{ name: 'capped', numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] }],
    timeoutMs: 5000,
    validateOnly: false,
  });
  expect(created.topics[0].errorCode).toBe(0);
  const value = Buffer.alloc(20_000, 7);
  for (let i = 0; i < 10; i++) {
    const records = buildRecordBatch({ records: [{ key: null, value, headers: [], timestamp: Date.now() }], compression: 'none' });
    const produced = await client.request(0, 7, {
      transactionalId: null,
      acks: 1,
      timeoutMs: 5000,
      topicData: [{ name: 'capped', partitionData: [{ index: 0, records }] }],
    });
    expect(produced.responses[0].partitionResponses[0].errorCode).toBe(0);
  }
});

afterAll(async () => {
  client?.close();
  await broker?.stop();
  if (broker) removeDir(broker.dataDir);
});

test('a request asking for 1 GiB gets at most fetch.max.bytes of whole batches; the next fetch goes on', async () => {
  const fetch = (offset: number) =>
    client.request(1, 12, {
      replicaId: -1,
      maxWaitMs: 0,
      minBytes: 1,
      maxBytes: 1 << 30,
      isolationLevel: 0,
      sessionId: 0,
      sessionEpoch: -1,
      topics: [
        { topic: 'capped', partitions: [{ partition: 0, currentLeaderEpoch: -1, fetchOffset: offset, logStartOffset: -1, partitionMaxBytes: 1 << 30 }] },
      ],
      forgottenTopicsData: [],
      rackId: '',
    });
  const first = await fetch(0);
  const bytes = first.responses[0].partitions[0].records.byteLength as number;
  // Three ~20 KB batches fit in 64 KiB, four do not.
  expect(bytes).toBeGreaterThan(40_000);
  expect(bytes).toBeLessThanOrEqual(CAP);
  const second = await fetch(3);
  expect(second.responses[0].partitions[0].records.byteLength).toBeGreaterThan(0);
});
