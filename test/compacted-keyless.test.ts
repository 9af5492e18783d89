// Keyless records produced to a compacted topic: refused with INVALID_RECORD, and each keyless
// record named in the Produce response's recordErrors (its index in the batch), as Kafka's
// LogValidator does (KIP-467). librdkafka relies on the list: it fails exactly those records and
// the rest of the batch as _INVALID_DIFFERENT_RECORD (its regression test 0011_produce_batch).

import { afterAll, beforeAll, expect, test } from 'vitest';
import { buildRecordBatch, type Compression, ErrorCode } from '@sluice/protocol';
import { type BrokerProcess, removeDir, startBroker } from './support/broker-process.ts';
import { RawClient } from './support/raw-client.ts';
import { createTopic, readPartition } from './support/requests.ts';

let broker: BrokerProcess;
let client: RawClient;

beforeAll(async () => {
  broker = await startBroker();
  client = await RawClient.connect(broker.port);
});

afterAll(async () => {
  client?.close();
  await broker?.stop();
  if (broker) removeDir(broker.dataDir);
});

test.each(['none', 'gzip', 'lz4'] as Compression[])(
  'a %s batch with keyless records: INVALID_RECORD naming each of them, nothing appended',
  async (compression) => {
    const topic = `compacted-keyless-${compression}`;
    expect(await createTopic(client, topic, 1, { 'cleanup.policy': 'compact' })).toBe(ErrorCode.NONE);
    const records = Array.from({ length: 10 }, (_, i) => ({ key: i % 4 === 1 ? null : `k${i}`, value: `v${i}` }));
    const batch = buildRecordBatch({ records, compression });
    const response = await client.request(0, 9, {
      transactionalId: null,
      acks: -1,
      timeoutMs: 30_000,
      topicData: [{ name: topic, partitionData: [{ index: 0, records: batch }] }],
    });
    const answer = response.responses[0].partitionResponses[0];
    expect(answer.errorCode).toBe(ErrorCode.INVALID_RECORD);
    expect(answer.recordErrors.map((e: { batchIndex: number }) => e.batchIndex)).toEqual([1, 5, 9]);
    expect(answer.recordErrors[0].batchIndexErrorMessage).toContain('without a key');
    expect(answer.errorMessage).toContain('3 of 10 records');
    expect((await readPartition(client, topic, 0)).records).toHaveLength(0);

    // A batch whose records all have keys goes in.
    const keyed = buildRecordBatch({ records: records.map((r, i) => ({ ...r, key: `k${i}` })), compression });
    const ok = await client.request(0, 9, {
      transactionalId: null,
      acks: -1,
      timeoutMs: 30_000,
      topicData: [{ name: topic, partitionData: [{ index: 0, records: keyed }] }],
    });
    expect(ok.responses[0].partitionResponses[0]).toMatchObject({ errorCode: ErrorCode.NONE, recordErrors: [] });
  },
);

test('a delete-policy topic takes keyless records', async () => {
  expect(await createTopic(client, 'delete-keyless', 1)).toBe(ErrorCode.NONE);
  const batch = buildRecordBatch({ records: [{ key: null, value: 'v' }] });
  const response = await client.request(0, 9, {
    transactionalId: null,
    acks: -1,
    timeoutMs: 30_000,
    topicData: [{ name: 'delete-keyless', partitionData: [{ index: 0, records: batch }] }],
  });
  expect(response.responses[0].partitionResponses[0].errorCode).toBe(ErrorCode.NONE);
});
