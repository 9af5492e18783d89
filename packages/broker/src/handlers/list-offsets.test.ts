// ListOffsets through the codec: the special timestamps of v8+ (earliest local, latest tiered).

import { buildRecordBatch, ErrorCode } from '@sluice/protocol';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { callHandler } from '../testing/call-handler.ts';
import { startTestBroker, type TestBroker } from '../testing/test-broker.ts';
import { listOffsetsHandler } from './list-offsets.ts';

let t: TestBroker;

beforeAll(() => {
  t = startTestBroker();
  const topic = t.broker.topicCreator.create('lo', 1, 1, [], false).topic!;
  for (let i = 0; i < 5; i++) topic.partitions[0].append(buildRecordBatch({ records: [{ key: 'k', value: 'v', timestamp: 1000 + i }] }), Date.now());
  topic.partitions[0].log.deleteRecordsBefore(2);
});

afterAll(() => t.close());

async function lookup(version: number, timestamp: number) {
  const res = await callHandler(listOffsetsHandler, t.broker, version, {
    replicaId: -1,
    isolationLevel: 0,
    topics: [{ name: 'lo', partitions: [{ partitionIndex: 0, currentLeaderEpoch: -1, timestamp }] }],
    timeoutMs: 1000,
  });
  return res.topics[0].partitions[0];
}

describe('ListOffsets', () => {
  test.each([8, 9, 10])('v%i: earliest local (-4) is the log start offset: every segment is local', async (version) => {
    expect(await lookup(version, -4)).toMatchObject({ errorCode: ErrorCode.NONE, offset: 2, timestamp: -1, leaderEpoch: 0 });
    expect(await lookup(version, -2)).toMatchObject({ offset: 2 });
  });

  test.each([9, 10])('v%i: latest tiered (-5) is no offset: nothing is in remote storage', async (version) => {
    expect(await lookup(version, -5)).toMatchObject({ errorCode: ErrorCode.NONE, offset: -1, timestamp: -1, leaderEpoch: -1 });
  });

  test('the other lookups are unchanged at v10', async () => {
    expect(await lookup(10, -1)).toMatchObject({ offset: 5 });
    expect(await lookup(10, -3)).toMatchObject({ offset: 4, timestamp: 1004 });
    expect(await lookup(10, 1003)).toMatchObject({ offset: 3, timestamp: 1003 });
  });
});
