// Fetch sessions (KIP-227) through the Fetch handler on a real topic registry: a full fetch with
// epoch 0 opens a session; incremental fetches send only what changed and are answered with only
// what changed; forgotten partitions leave; bad session ids and epochs get Kafka's errors and
// change nothing; long-poll and external (zero-copy) records work as without sessions.

import { buildRecordBatch, ErrorCode } from '@sluice/protocol';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { startTestBroker, type TestBroker } from '../testing/test-broker.ts';
import { fetchHandler } from './fetch.ts';
import type { RequestContext } from './handler.ts';

let t: TestBroker;
let topicId: string;

/** The value of an unlabelled metric in a text exposition. */
function sampleValue(text: string, name: string): number | undefined {
  const m = new RegExp(`^${name} (\\S+)$`, 'm').exec(text);
  return m === null ? undefined : Number(m[1]);
}

beforeEach(() => {
  t = startTestBroker([['max.incremental.fetch.session.cache.slots', '2']]);
  expect(t.broker.topicCreator.create('s', 4, 1, [], false).errorCode).toBe(0);
  topicId = t.broker.topics.get('s')!.id;
});

afterEach(() => t.close());

interface Wanted {
  readonly partition: number;
  readonly fetchOffset?: number;
}

interface FetchArgs {
  readonly sessionId: number;
  readonly epoch: number;
  readonly partitions?: readonly Wanted[];
  readonly forgotten?: readonly number[];
  readonly maxWaitMs?: number;
  readonly version?: number;
  readonly replicaId?: number;
}

function fetch({ sessionId, epoch, partitions = [], forgotten = [], maxWaitMs = 0, version = 12, replicaId = -1 }: FetchArgs): Promise<any> {
  const ctx: RequestContext = {
    broker: t.broker,
    header: { apiKey: 1, apiVersion: version, correlationId: 1, clientId: 'test' } as RequestContext['header'],
    connection: { id: 1, remoteAddress: '127.0.0.1', remotePort: 50000, listenerName: 'PLAINTEXT' },
    session: { principal: 'User:ANONYMOUS', host: '127.0.0.1' },
    receivedAt: 0,
  };
  const topic = version >= 13 ? { topic: '', topicId } : { topic: 's', topicId: '' };
  const request = {
    replicaId,
    maxWaitMs,
    minBytes: 1,
    maxBytes: 1 << 20,
    isolationLevel: 0,
    sessionId,
    sessionEpoch: epoch,
    topics:
      partitions.length === 0
        ? []
        : [
            {
              ...topic,
              partitions: partitions.map((p) => ({
                partition: p.partition,
                currentLeaderEpoch: -1,
                fetchOffset: p.fetchOffset ?? 0,
                logStartOffset: -1,
                partitionMaxBytes: 1 << 20,
              })),
            },
          ],
    forgottenTopicsData: forgotten.length === 0 ? [] : [{ ...topic, partitions: [...forgotten] }],
    rackId: '',
  };
  return Promise.resolve(fetchHandler.handle(ctx, request as never));
}

function produce(partition: number, n = 1): void {
  for (let i = 0; i < n; i++)
    t.broker.topics.partition('s', partition)!.append(buildRecordBatch({ records: [{ key: null, value: `v${i}`, timestamp: Date.now() }] }), Date.now());
}

/** Partition index -> [errorCode, highWatermark, record bytes] of an answer. */
function answered(response: any): Record<number, [number, number, number]> {
  const out: Record<number, [number, number, number]> = {};
  for (const topic of response.responses) for (const p of topic.partitions) out[p.partitionIndex] = [p.errorCode, p.highWatermark, p.records?.byteLength ?? 0];
  return out;
}

const ALL = [0, 1, 2, 3].map((partition) => ({ partition }));

async function open(): Promise<number> {
  const response = await fetch({ sessionId: 0, epoch: 0, partitions: ALL });
  expect(response.errorCode).toBe(0);
  expect(response.sessionId).toBeGreaterThan(0);
  return response.sessionId;
}

describe('Fetch sessions (KIP-227)', () => {
  test('epoch 0 opens a session; incremental answers carry only changed partitions', async () => {
    produce(1, 2);
    const full = await fetch({ sessionId: 0, epoch: 0, partitions: ALL });
    const id = full.sessionId;
    expect(id).toBeGreaterThan(0);
    // A full answer carries every partition.
    expect(Object.keys(answered(full)).map(Number)).toEqual([0, 1, 2, 3]);
    expect(answered(full)[1]![2]).toBeGreaterThan(0);

    // The client moved partition 1's fetch offset past its records and nothing else changed: an
    // empty answer.
    let r = await fetch({ sessionId: id, epoch: 1, partitions: [{ partition: 1, fetchOffset: 2 }] });
    expect(r.errorCode).toBe(0);
    expect(r.sessionId).toBe(id);
    expect(r.responses).toEqual([]);

    // An append to partition 3 changes its high watermark: only it is answered, with its records.
    produce(3);
    r = await fetch({ sessionId: id, epoch: 2 });
    expect(answered(r)).toEqual({ 3: [0, 1, expect.any(Number)] });
    expect(answered(r)[3]![2]).toBeGreaterThan(0);
    // The records still leave by the zero-copy path: a file range, not bytes in memory.
    expect(r.responses[0].partitions[0].records).not.toBeInstanceOf(Uint8Array);

    // Known high watermark, fetch offset at the end: nothing to say about it any more.
    r = await fetch({ sessionId: id, epoch: 3, partitions: [{ partition: 3, fetchOffset: 1 }] });
    expect(r.responses).toEqual([]);
    const text = await t.broker.metrics.scrape();
    expect(sampleValue(text, 'sluice_fetch_sessions_incremental_total')).toBe(3);
    expect(sampleValue(text, 'sluice_fetch_sessions_full_total')).toBe(1);
    expect(sampleValue(text, 'sluice_fetch_sessions_open')).toBe(1);
    expect(sampleValue(text, 'sluice_fetch_sessions_partitions')).toBe(4);
  });

  test('partitions are added by incremental requests and removed by the forgotten list; an empty session closes', async () => {
    const opened = await fetch({ sessionId: 0, epoch: 0, partitions: [{ partition: 0 }] });
    const id = opened.sessionId;
    // Partition 2 joins (its first answer always carries it), partition 0 leaves.
    let r = await fetch({ sessionId: id, epoch: 1, partitions: [{ partition: 2 }], forgotten: [0] });
    expect(Object.keys(answered(r))).toEqual(['2']);
    produce(0);
    produce(2);
    r = await fetch({ sessionId: id, epoch: 2 });
    expect(Object.keys(answered(r))).toEqual(['2']);
    // Forgetting the last partition closes the session: the answer has no session id.
    r = await fetch({ sessionId: id, epoch: 3, forgotten: [2] });
    expect(r.errorCode).toBe(0);
    expect(r.sessionId).toBe(0);
    expect((await fetch({ sessionId: id, epoch: 4 })).errorCode).toBe(ErrorCode.FETCH_SESSION_ID_NOT_FOUND);
  });

  test('unknown ids and wrong epochs: Kafka errors, and the session is unchanged', async () => {
    const id = await open();
    expect(await fetch({ sessionId: id + 1, epoch: 1 })).toMatchObject({ errorCode: ErrorCode.FETCH_SESSION_ID_NOT_FOUND, sessionId: 0, responses: [] });
    expect(await fetch({ sessionId: 0, epoch: 1 })).toMatchObject({ errorCode: ErrorCode.FETCH_SESSION_ID_NOT_FOUND });
    // A replayed or a future epoch: refused, and the partitions it names are not applied.
    expect(await fetch({ sessionId: id, epoch: 2, forgotten: [0, 1, 2, 3] })).toMatchObject({
      errorCode: ErrorCode.INVALID_FETCH_SESSION_EPOCH,
      responses: [],
    });
    expect(await fetch({ sessionId: id, epoch: 0x7fffffff })).toMatchObject({ errorCode: ErrorCode.INVALID_FETCH_SESSION_EPOCH });
    // Topic ids in a session opened with names.
    expect(await fetch({ sessionId: id, epoch: 1, version: 13 })).toMatchObject({ errorCode: ErrorCode.FETCH_SESSION_TOPIC_ID_ERROR });
    // The right epoch still works, with every partition still in the session.
    produce(0);
    const r = await fetch({ sessionId: id, epoch: 1 });
    expect(r.errorCode).toBe(0);
    expect(Object.keys(answered(r))).toEqual(['0']);
    expect(t.broker.fetchSessions.get(id)!.size).toBe(4);
    expect((await fetch({ sessionId: id, epoch: 1 })).errorCode).toBe(ErrorCode.INVALID_FETCH_SESSION_EPOCH);
  });

  test('a full request closes the session it names; epoch -1 opens none', async () => {
    const id = await open();
    const r = await fetch({ sessionId: id, epoch: -1, partitions: ALL });
    expect(r.errorCode).toBe(0);
    expect(r.sessionId).toBe(0);
    expect(Object.keys(answered(r))).toHaveLength(4);
    expect(t.broker.fetchSessions.get(id)).toBeUndefined();
    const again = await open();
    const renewed = await fetch({ sessionId: again, epoch: 0, partitions: ALL });
    expect(renewed.sessionId).not.toBe(again);
    expect(t.broker.fetchSessions.get(again)).toBeUndefined();
    expect(t.broker.fetchSessions.size).toBe(1);
  });

  test('topic ids (v13): sessions keyed by id; a deleted topic is answered with its error each time', async () => {
    const opened = await fetch({ sessionId: 0, epoch: 0, partitions: ALL, version: 13 });
    const id = opened.sessionId;
    expect(opened.responses[0].topicId).toBe(topicId);
    expect((await fetch({ sessionId: id, epoch: 1, version: 13 })).responses).toEqual([]);
    expect((await fetch({ sessionId: id, epoch: 2, version: 12 })).errorCode).toBe(ErrorCode.FETCH_SESSION_TOPIC_ID_ERROR);
    t.broker.topics.delete(t.broker.topics.get('s')!);
    for (const epoch of [2, 3]) {
      const r = await fetch({ sessionId: id, epoch, version: 13 });
      expect(Object.values(answered(r)).map((a) => a[0])).toEqual([
        ErrorCode.UNKNOWN_TOPIC_ID,
        ErrorCode.UNKNOWN_TOPIC_ID,
        ErrorCode.UNKNOWN_TOPIC_ID,
        ErrorCode.UNKNOWN_TOPIC_ID,
      ]);
    }
  });

  test('an incremental fetch long-polls on every partition of its session', async () => {
    const id = await open();
    const parked = fetch({ sessionId: id, epoch: 1, maxWaitMs: 60_000 });
    await new Promise((r) => setImmediate(r));
    expect(t.broker.delayedFetches.size).toBe(1);
    // Partition 2 is not in the request, only in the session: an append to it answers the fetch.
    produce(2);
    const r = await parked;
    expect(Object.keys(answered(r))).toEqual(['2']);
    expect(t.broker.delayedFetches.size).toBe(0);
  });

  test('a partition answered with records moves to the end of the session, so a size limit rotates', async () => {
    const id = await open();
    produce(0);
    produce(1);
    const r = await fetch({ sessionId: id, epoch: 1 });
    expect(Object.keys(answered(r))).toEqual(['0', '1']);
    expect([...t.broker.fetchSessions.get(id)!.partitions.values()].map((p) => p.partition)).toEqual([2, 3, 0, 1]);
  });

  test('with every slot recently used, a new full fetch is answered without a session', async () => {
    await open();
    await open();
    const r = await fetch({ sessionId: 0, epoch: 0, partitions: ALL });
    expect(r.errorCode).toBe(0);
    expect(r.sessionId).toBe(0);
    expect(Object.keys(answered(r))).toHaveLength(4);
    expect(t.broker.fetchSessions.size).toBe(2);
  });

  test("a follower's session (replica id set) is marked privileged, a consumer's is not", async () => {
    const follower = await fetch({ sessionId: 0, epoch: 0, partitions: ALL, replicaId: 2 });
    const consumer = await fetch({ sessionId: 0, epoch: 0, partitions: ALL });
    expect(t.broker.fetchSessions.get(follower.sessionId)!.privileged).toBe(true);
    expect(t.broker.fetchSessions.get(consumer.sessionId)!.privileged).toBe(false);
  });

  test('a moved log start offset is news: the partition is answered once with it', async () => {
    produce(1, 3);
    const id = await open();
    // The client catches up on partition 1; then records before offset 2 are deleted.
    expect((await fetch({ sessionId: id, epoch: 1, partitions: [{ partition: 1, fetchOffset: 3 }] })).responses).toEqual([]);
    t.broker.topics.partition('s', 1)!.log.deleteRecordsBefore(2);
    const r = await fetch({ sessionId: id, epoch: 2 });
    expect(r.responses[0].partitions).toMatchObject([{ partitionIndex: 1, errorCode: 0, highWatermark: 3, logStartOffset: 2 }]);
    expect((await fetch({ sessionId: id, epoch: 3 })).responses).toEqual([]);
  });
});
