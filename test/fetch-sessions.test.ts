// Fetch sessions (KIP-227) over the wire against a real broker process: a session opened on one
// connection is used from another (sessions belong to no connection, as in Kafka); an incremental
// fetch long-polls on partitions its request does not list and is answered from the segment
// files; stale epochs and unknown ids get Kafka's errors and leave the session working.

import { buildRecordBatch, ErrorCode } from '@sluice/protocol';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { type BrokerProcess, removeDir, startBroker } from './support/broker-process.ts';
import { RawClient } from './support/raw-client.ts';

let broker: BrokerProcess;
let a: RawClient;
let b: RawClient;

beforeAll(async () => {
  broker = await startBroker();
  a = await RawClient.connect(broker.port);
  b = await RawClient.connect(broker.port);
  const created = await a.request(19, 5, {
    topics: [{ name: 'fs', numPartitions: 3, replicationFactor: 1, assignments: [], configs: [] }],
    timeoutMs: 5000,
    validateOnly: false,
  });
  expect(created.topics[0].errorCode).toBe(0);
});

afterAll(async () => {
  a?.close();
  b?.close();
  await broker?.stop();
  if (broker) removeDir(broker.dataDir);
});

/** `partitions`: [index, fetch offset] pairs. */
function fetchRequest(sessionId: number, sessionEpoch: number, partitions: Array<[number, number]>, maxWaitMs = 0) {
  return {
    replicaId: -1,
    maxWaitMs,
    minBytes: 1,
    maxBytes: 1 << 20,
    isolationLevel: 0,
    sessionId,
    sessionEpoch,
    topics:
      partitions.length === 0
        ? []
        : [
            {
              topic: 'fs',
              partitions: partitions.map(([partition, fetchOffset]) => ({
                partition,
                currentLeaderEpoch: -1,
                fetchOffset,
                logStartOffset: -1,
                partitionMaxBytes: 1 << 20,
              })),
            },
          ],
    forgottenTopicsData: [],
    rackId: '',
  };
}

async function produce(partition: number): Promise<void> {
  const records = buildRecordBatch({ records: [{ key: null, value: Buffer.from('news'), headers: [], timestamp: Date.now() }], compression: 'none' });
  const produced = await a.request(0, 7, {
    transactionalId: null,
    acks: 1,
    timeoutMs: 5000,
    topicData: [{ name: 'fs', partitionData: [{ index: partition, records }] }],
  });
  expect(produced.responses[0].partitionResponses[0].errorCode).toBe(0);
}

test('a session opened on one connection long-polls on another; bad epochs and ids change nothing', async () => {
  const opened = await a.request(
    1,
    12,
    fetchRequest(0, 0, [
      [0, 0],
      [1, 0],
      [2, 0],
    ]),
  );
  expect(opened.errorCode).toBe(0);
  const id = opened.sessionId;
  expect(id).toBeGreaterThan(0);
  expect(opened.responses[0].partitions.map((p: any) => p.partitionIndex)).toEqual([0, 1, 2]);

  // Epoch 1 from the other connection, listing nothing: it parks on all three partitions.
  const parked = b.request(1, 12, fetchRequest(id, 1, [], 10_000));
  await new Promise((r) => setTimeout(r, 300));
  await produce(2);
  const woken = await parked;
  expect(woken.errorCode).toBe(0);
  expect(woken.sessionId).toBe(id);
  expect(woken.responses).toHaveLength(1);
  const [p2] = woken.responses[0].partitions;
  expect(p2).toMatchObject({ partitionIndex: 2, errorCode: 0, highWatermark: 1 });
  expect(p2.records.byteLength).toBeGreaterThan(0);

  // Epoch 1 again (a replay), a future epoch, an id never handed out: errors, no partitions.
  for (const [sessionId, epoch, error] of [
    [id, 1, ErrorCode.INVALID_FETCH_SESSION_EPOCH],
    [id, 9, ErrorCode.INVALID_FETCH_SESSION_EPOCH],
    [id + 1, 2, ErrorCode.FETCH_SESSION_ID_NOT_FOUND],
  ]) {
    const refused = await a.request(1, 12, fetchRequest(sessionId!, epoch!, []));
    expect(refused).toMatchObject({ errorCode: error, sessionId: 0, responses: [] });
  }

  // The session goes on at epoch 2: past partition 2's record nothing is new, so nothing is answered.
  const quiet = await a.request(1, 12, fetchRequest(id, 2, [[2, 1]]));
  expect(quiet).toMatchObject({ errorCode: 0, sessionId: id, responses: [] });

  const metrics = await (await fetch(broker.metricsUrl!)).text();
  expect(Number(/^sluice_fetch_sessions_incremental_total (\S+)$/m.exec(metrics)?.[1])).toBe(2);
  expect(Number(/^sluice_fetch_sessions_open (\S+)$/m.exec(metrics)?.[1])).toBe(1);
});
