// Corrupt batches inside otherwise valid Produce requests, against a real broker process: each
// bad partition gets its own error (CORRUPT_MESSAGE for a bad CRC or a length below any record's
// overhead, INVALID_RECORD for wrong counts, a length that runs past the data, a second batch or
// a non-v2 magic), nothing of it is appended, and the other partitions and topics in the same
// request are appended as usual. The connection stays open: these are answers, not protocol
// errors.

import { afterAll, beforeAll, expect, test } from 'vitest';
import { buildRecordBatch, crc32c, ErrorCode } from '@sluice/protocol';
import { type BrokerProcess, removeDir, startBroker } from './support/broker-process.ts';
import { RawClient } from './support/raw-client.ts';
import { createTopic, readPartition } from './support/requests.ts';

let broker: BrokerProcess;
let client: RawClient;
let round = 0;

beforeAll(async () => {
  broker = await startBroker({ overrides: { 'auto.create.topics.enable': false, 'sluice.metrics.listener': '' } });
  client = await RawClient.connect(broker.port);
  expect(await createTopic(client, 'mixed', 3)).toBe(0);
  expect(await createTopic(client, 'other', 1)).toBe(0);
});

afterAll(async () => {
  client?.close();
  await broker?.stop();
  if (broker) removeDir(broker.dataDir);
});

function good(tag: string): Buffer {
  return Buffer.from(
    buildRecordBatch({
      records: [
        { key: null, value: `${tag}-a` },
        { key: null, value: `${tag}-b` },
        { key: null, value: `${tag}-c` },
      ],
    }),
  );
}

/** Recomputes the CRC-32C over attributes..end after a test edited covered bytes on purpose. */
function fixCrc(batch: Buffer): Buffer {
  batch.writeUInt32BE(crc32c(batch.subarray(21)), 17);
  return batch;
}

const corruptions: Array<[string, (b: Buffer) => Buffer, number]> = [
  ['a flipped byte in a record (bad CRC)', (b) => ((b[b.length - 3] ^= 0x55), b), ErrorCode.CORRUPT_MESSAGE],
  ['a flipped CRC', (b) => ((b[18] ^= 0x01), b), ErrorCode.CORRUPT_MESSAGE],
  ['recordCount that disagrees with lastOffsetDelta (CRC fixed up)', (b) => fixCrc((b.writeInt32BE(7, 57), b)), ErrorCode.INVALID_RECORD],
  ['a negative lastOffsetDelta (CRC fixed up)', (b) => fixCrc((b.writeInt32BE(-1, 23), b)), ErrorCode.INVALID_RECORD],
  ['a zero recordCount (CRC fixed up)', (b) => fixCrc((b.writeInt32BE(0, 57), b.writeInt32BE(-1, 23), b)), ErrorCode.INVALID_RECORD],
  ['batchLength longer than the bytes sent', (b) => (b.writeInt32BE(b.readInt32BE(8) + 100, 8), b), ErrorCode.INVALID_RECORD],
  ['batchLength shorter than the batch', (b) => (b.writeInt32BE(b.readInt32BE(8) - 9, 8), b), ErrorCode.CORRUPT_MESSAGE],
  ['batchLength below any record overhead', (b) => (b.writeInt32BE(5, 8), b), ErrorCode.CORRUPT_MESSAGE],
  ['magic 1 in a v3+ request', (b) => ((b[16] = 1), b), ErrorCode.INVALID_RECORD],
  ['two batches for one partition', (b) => Buffer.concat([b, good('second')]), ErrorCode.INVALID_RECORD],
  ['no bytes at all', () => Buffer.alloc(0), ErrorCode.INVALID_RECORD],
];

test.each(corruptions)('%s: that partition fails alone', async (_name, corrupt, expectedCode) => {
  round++;
  const before = await Promise.all([0, 1, 2].map((p) => readPartition(client, 'mixed', p)));
  const otherBefore = await readPartition(client, 'other', 0);
  const response = await client.request(0, 9, {
    transactionalId: null,
    acks: -1,
    timeoutMs: 5000,
    topicData: [
      {
        name: 'mixed',
        partitionData: [
          { index: 0, records: good(`r${round}p0`) },
          { index: 1, records: corrupt(good(`r${round}p1`)) },
          { index: 2, records: good(`r${round}p2`) },
        ],
      },
      { name: 'other', partitionData: [{ index: 0, records: good(`r${round}other`) }] },
    ],
  });
  const [mixed, other] = response.responses;
  const byIndex = new Map(mixed.partitionResponses.map((p: { index: number }) => [p.index, p]));
  expect(byIndex.get(1)).toMatchObject({ errorCode: expectedCode, baseOffset: -1 });
  expect(byIndex.get(0)).toMatchObject({ errorCode: 0, baseOffset: before[0].highWatermark });
  expect(byIndex.get(2)).toMatchObject({ errorCode: 0, baseOffset: before[2].highWatermark });
  expect(other.partitionResponses[0]).toMatchObject({ errorCode: 0, baseOffset: otherBefore.highWatermark });

  const after = await Promise.all([0, 1, 2].map((p) => readPartition(client, 'mixed', p)));
  expect(after[1].highWatermark).toBe(before[1].highWatermark); // nothing of the bad batch
  expect(after[0].records.slice(-3).map((r) => r.value)).toEqual([`r${round}p0-a`, `r${round}p0-b`, `r${round}p0-c`]);
  expect(after[2].records.slice(-3).map((r) => r.value)).toEqual([`r${round}p2-a`, `r${round}p2-b`, `r${round}p2-c`]);
  const otherAfter = await readPartition(client, 'other', 0);
  expect(otherAfter.records.slice(-1)[0].value).toBe(`r${round}other-c`);
});

test('an incomplete tail after a good batch is dropped and the batch appended, as Kafka trims it', async () => {
  const before = await readPartition(client, 'mixed', 1);
  const records = Buffer.concat([good('trimmed'), Buffer.from([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 99])]);
  const response = await client.request(0, 9, {
    transactionalId: null,
    acks: 1,
    timeoutMs: 5000,
    topicData: [{ name: 'mixed', partitionData: [{ index: 1, records }] }],
  });
  expect(response.responses[0].partitionResponses[0]).toMatchObject({ errorCode: 0, baseOffset: before.highWatermark });
  const after = await readPartition(client, 'mixed', 1);
  expect(after.records.slice(-3).map((r) => r.value)).toEqual(['trimmed-a', 'trimmed-b', 'trimmed-c']);
});

test('the connection stayed open through every corrupt batch, and the broker is up', async () => {
  const md = await client.request(3, 9, { topics: null, allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false });
  expect(md.topics.map((t: { name: string }) => t.name).sort()).toEqual(['mixed', 'other']);
  expect(broker.proc.exitCode).toBeNull();
});
