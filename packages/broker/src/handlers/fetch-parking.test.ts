// Fetch long-poll through the broker's delayed fetches, on a real topic registry: a parked fetch
// is answered by an append to a partition it watches (not by one elsewhere), by maxWaitMs, or at
// once when a graceful stop begins; after that nothing parks.

import { buildRecordBatch } from '@sluice/protocol';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { startTestBroker, type TestBroker } from '../testing/test-broker.ts';
import { fetchHandler } from './fetch.ts';
import type { RequestContext } from './handler.ts';

let t: TestBroker;

beforeEach(() => {
  t = startTestBroker();
  expect(t.broker.topicCreator.create('lp', 2, 1, [], false).errorCode).toBe(0);
});

afterEach(() => t.close());

function fetch(partition: number, maxWaitMs: number): Promise<any> | any {
  const ctx: RequestContext = {
    broker: t.broker,
    header: { apiKey: 1, apiVersion: 12, correlationId: 1, clientId: 'test' } as RequestContext['header'],
    connection: { id: 1, remoteAddress: '127.0.0.1', remotePort: 50000, listenerName: 'PLAINTEXT' },
    session: { principal: 'User:ANONYMOUS', host: '127.0.0.1' },
    receivedAt: 0,
  };
  const request = {
    replicaId: -1,
    maxWaitMs,
    minBytes: 1,
    maxBytes: 1 << 20,
    isolationLevel: 0,
    sessionId: 0,
    sessionEpoch: -1,
    topics: [{ topic: 'lp', topicId: '', partitions: [{ partition, currentLeaderEpoch: -1, fetchOffset: 0, logStartOffset: -1, partitionMaxBytes: 1 << 20 }] }],
    forgottenTopicsData: [],
    rackId: '',
  };
  return fetchHandler.handle(ctx, request as never);
}

function produce(partition: number): void {
  t.broker.topics.partition('lp', partition)!.append(buildRecordBatch({ records: [{ key: null, value: 'v', timestamp: Date.now() }] }), Date.now());
}

const settled = <T>(p: Promise<T>) => {
  const state = { done: false, value: undefined as T | undefined };
  p.then((v) => {
    state.done = true;
    state.value = v;
  });
  return state;
};

const turn = () => new Promise((r) => setImmediate(r));

describe('Fetch parking', () => {
  test('a parked fetch is answered by an append to its partition, not by one elsewhere', async () => {
    const parked = fetch(0, 60_000);
    expect(parked).toBeInstanceOf(Promise);
    expect(t.broker.delayedFetches.size).toBe(1);
    const answer = settled(parked);
    produce(1);
    await turn();
    await turn();
    expect(answer.done).toBe(false);
    produce(0);
    const response = await parked;
    const p = response.responses[0].partitions[0];
    expect(p.errorCode).toBe(0);
    expect(p.highWatermark).toBe(1);
    expect(p.records.byteLength).toBeGreaterThan(0);
    expect(t.broker.delayedFetches.size).toBe(0);
  });

  test('with nothing produced it answers empty after maxWaitMs', async () => {
    const started = performance.now();
    const response = await fetch(0, 100);
    expect(performance.now() - started).toBeGreaterThanOrEqual(90);
    expect(response.responses[0].partitions[0].records.byteLength).toBe(0);
    expect(t.broker.delayedFetches.size).toBe(0);
  });

  test('a graceful stop answers parked fetches at once, and later ones do not park', async () => {
    const parked = fetch(0, 60_000);
    expect(t.broker.delayedFetches.size).toBe(1);
    t.broker.shutdown.begin();
    const response = await parked;
    expect(response.responses[0].partitions[0].errorCode).toBe(0);
    expect(response.responses[0].partitions[0].records.byteLength).toBe(0);
    const started = performance.now();
    await fetch(0, 60_000);
    expect(performance.now() - started).toBeLessThan(5_000);
    expect(t.broker.delayedFetches.size).toBe(0);
  });
});
