// Fetch v12+ log-truncation detection through the Fetch handler on a real single-node registry
// (KIP-320): a consumer whose last fetched epoch ends here before its fetch offset is answered
// the diverging epoch, with no records, at once; an epoch this log never had is
// OFFSET_OUT_OF_RANGE; a consistent position reads as before; an incremental fetch session
// always carries the diverging partition.

import { buildRecordBatch, ErrorCode } from '@sluice/protocol';
import { afterEach, beforeEach, expect, test } from 'vitest';
import { startTestBroker, type TestBroker } from '../testing/test-broker.ts';
import { fetchHandler } from './fetch.ts';
import type { RequestContext } from './handler.ts';

let t: TestBroker;

beforeEach(() => {
  t = startTestBroker([]);
  expect(t.broker.topicCreator.create('d', 1, 1, [], false).errorCode).toBe(0);
  for (let i = 0; i < 3; i++)
    t.broker.topics.partition('d', 0)!.append(buildRecordBatch({ records: [{ key: null, value: `v${i}`, timestamp: Date.now() }] }), Date.now());
});

afterEach(() => t.close());

interface Position {
  readonly fetchOffset: number;
  readonly lastFetchedEpoch?: number;
  readonly sessionId?: number;
  readonly epoch?: number;
  readonly maxWaitMs?: number;
  readonly omit?: boolean;
}

function fetch({ fetchOffset, lastFetchedEpoch = -1, sessionId = 0, epoch = -1, maxWaitMs = 0, omit = false }: Position): Promise<any> {
  const ctx: RequestContext = {
    broker: t.broker,
    header: { apiKey: 1, apiVersion: 12, correlationId: 1, clientId: 'test' } as RequestContext['header'],
    connection: { id: 1, remoteAddress: '127.0.0.1', remotePort: 50000, listenerName: 'PLAINTEXT' },
    session: { principal: 'User:ANONYMOUS', host: '127.0.0.1' },
    receivedAt: 0,
  };
  const partitions = [{ partition: 0, currentLeaderEpoch: 0, fetchOffset, lastFetchedEpoch, logStartOffset: -1, partitionMaxBytes: 1 << 20 }];
  const request = {
    replicaId: -1,
    maxWaitMs,
    minBytes: 1,
    maxBytes: 1 << 20,
    isolationLevel: 0,
    sessionId,
    sessionEpoch: epoch,
    topics: omit ? [] : [{ topic: 'd', topicId: '', partitions }],
    forgottenTopicsData: [],
    rackId: '',
  };
  return Promise.resolve(fetchHandler.handle(ctx, request as never));
}

const only = (response: any) => response.responses[0].partitions[0];

test('a consumer past the end of its last fetched epoch is told where that epoch ends, at once', async () => {
  const started = Date.now();
  const answer = only(await fetch({ fetchOffset: 5, lastFetchedEpoch: 0, maxWaitMs: 10_000 }));
  expect(Date.now() - started).toBeLessThan(5_000); // not parked for maxWaitMs
  expect(answer.errorCode).toBe(ErrorCode.NONE);
  expect(answer.divergingEpoch).toEqual({ epoch: 0, endOffset: 3 });
  expect(answer.records.byteLength).toBe(0);
  expect(answer.highWatermark).toBe(3);
});

test('a consistent position reads as before; an unknown epoch or no epoch past the end is out of range', async () => {
  const reading = only(await fetch({ fetchOffset: 1, lastFetchedEpoch: 0 }));
  expect(reading.errorCode).toBe(ErrorCode.NONE);
  expect(reading.divergingEpoch).toBeUndefined();
  expect(reading.records.byteLength).toBeGreaterThan(0);
  const atEnd = only(await fetch({ fetchOffset: 3, lastFetchedEpoch: 0 }));
  expect(atEnd.errorCode).toBe(ErrorCode.NONE);
  expect(atEnd.divergingEpoch).toBeUndefined();
  expect(only(await fetch({ fetchOffset: 1, lastFetchedEpoch: 1 })).errorCode).toBe(ErrorCode.OFFSET_OUT_OF_RANGE);
  const noEpoch = only(await fetch({ fetchOffset: 5 }));
  expect(noEpoch.errorCode).toBe(ErrorCode.OFFSET_OUT_OF_RANGE);
  expect(noEpoch.divergingEpoch).toBeUndefined();
});

test('an incremental fetch session carries the diverging partition every time', async () => {
  const full = await fetch({ fetchOffset: 3, lastFetchedEpoch: 0, epoch: 0 });
  const sessionId = full.sessionId;
  expect(sessionId).toBeGreaterThan(0);
  // Nothing changed: an empty incremental answer.
  expect((await fetch({ fetchOffset: 3, lastFetchedEpoch: 0, sessionId, epoch: 1 })).responses).toEqual([]);
  // The consumer's position moved past the end of its epoch (the log lost its tail meanwhile).
  let answer = await fetch({ fetchOffset: 4, lastFetchedEpoch: 0, sessionId, epoch: 2 });
  expect(only(answer).divergingEpoch).toEqual({ epoch: 0, endOffset: 3 });
  // Still diverging on the next incremental fetch, which names no partition: carried again.
  answer = await fetch({ fetchOffset: 0, sessionId, epoch: 3, omit: true });
  expect(only(answer).divergingEpoch).toEqual({ epoch: 0, endOffset: 3 });
});
