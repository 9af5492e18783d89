import { afterEach, describe, expect, it, vi } from 'vitest';
import { ApiKey, ErrorCode, parseRecordBatches } from '@sluice/protocol';
import { KafkaApiError } from './errors.ts';
import { KafkaClient } from './kafka-client.ts';
import { partitionForKey } from './partitioner.ts';
import { Producer } from './producer.ts';
import { FakeBroker, type ReceivedRequest } from './testing/fake-broker.ts';

const utf8 = (s: string) => new TextEncoder().encode(s);
const text = (b: Uint8Array | null) => (b === null ? null : new TextDecoder().decode(b));

let broker: FakeBroker;
let client: KafkaClient | null = null;

afterEach(async () => {
  client?.close();
  client = null;
  await broker.stop();
});

/** A one-broker cluster with topic `t` of `partitions` partitions, led by node 1 (the fake). */
async function cluster(partitions: number, produce: (req: ReceivedRequest<typeof ApiKey.Produce>) => object | null): Promise<KafkaClient> {
  broker = await FakeBroker.start({
    handlers: {
      [ApiKey.Metadata]: (req) => ({
        brokers: [{ nodeId: 1, host: '127.0.0.1', port: broker.port, rack: null }],
        clusterId: 'c1',
        controllerId: 1,
        topics: (req.body.topics ?? [{ name: 't' }]).map((t) => ({
          errorCode: t.name === 't' ? 0 : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
          name: t.name,
          topicId: '0123456789abcdef0123456789abcdef',
          partitions:
            t.name !== 't'
              ? []
              : Array.from({ length: partitions }, (_, i) => ({
                  errorCode: 0,
                  partitionIndex: i,
                  leaderId: 1,
                  leaderEpoch: 0,
                  replicaNodes: [1],
                  isrNodes: [1],
                  offlineReplicas: [],
                })),
        })),
      }),
      [ApiKey.Produce]: produce,
    },
  });
  return (client = await KafkaClient.connect({ bootstrap: broker.bootstrap }));
}

function ok(req: ReceivedRequest<typeof ApiKey.Produce>) {
  return {
    responses: req.body.topicData.map((t: any) => ({
      name: t.name,
      partitionResponses: t.partitionData.map((p: any) => ({
        index: p.index,
        errorCode: 0,
        baseOffset: 0,
        logAppendTimeMs: -1,
        logStartOffset: 0,
        recordErrors: [],
        errorMessage: null,
      })),
    })),
    throttleTimeMs: 0,
  };
}

/** Every record the fake received, per partition, in order. */
function received(): Map<number, Array<{ key: string | null; value: string | null; headers: string[] }>> {
  const out = new Map<number, Array<{ key: string | null; value: string | null; headers: string[] }>>();
  for (const req of broker.requestsOf(ApiKey.Produce)) {
    for (const t of req.body.topicData) {
      for (const p of t.partitionData) {
        const batches = parseRecordBatches(p.records!);
        expect(batches).toHaveLength(1); // exactly one batch per partition per request
        let list = out.get(p.index);
        if (list === undefined) out.set(p.index, (list = []));
        for (const r of batches[0].records) list.push({ key: text(r.key), value: text(r.value), headers: r.headers.map((h) => `${h.key}=${text(h.value)}`) });
      }
    }
  }
  return out;
}

describe('Producer', () => {
  it("routes keyed records as Kafka's default partitioner does and keeps their order", async () => {
    const c = await cluster(3, ok);
    const producer = await Producer.create(c, 't', { lingerMs: 1 });
    const keys = ['a', 'b', 'c', 'd', 'e', 'f', 'a', 'b'];
    for (const [i, k] of keys.entries()) await producer.send({ key: utf8(k), value: utf8(`v${i}`), headers: [] });
    await producer.flush();
    const got = received();
    for (const [partition, records] of got) {
      for (const r of records) expect(partitionForKey(utf8(r.key!), 3)).toBe(partition);
      const indexes = records.map((r) => Number(r.value!.slice(1)));
      expect(indexes).toEqual([...indexes].sort((x, y) => x - y));
    }
    expect([...got.values()].flat()).toHaveLength(keys.length);
    expect(producer.stats.recordsAcked).toBe(keys.length);
  });

  it('writes every record to --partition when given, with headers and compression', async () => {
    const c = await cluster(4, ok);
    const producer = await Producer.create(c, 't', { partition: 2, compression: 'gzip' });
    for (let i = 0; i < 5; i++) await producer.send({ key: null, value: utf8(`v${i}`), headers: [{ key: 'h', value: utf8('x') }] });
    await producer.flush();
    const got = received();
    expect([...got.keys()]).toEqual([2]);
    expect(got.get(2)!.map((r) => r.value)).toEqual(['v0', 'v1', 'v2', 'v3', 'v4']);
    expect(got.get(2)![0].headers).toEqual(['h=x']);
    const batch = parseRecordBatches(broker.requestsOf(ApiKey.Produce)[0].body.topicData[0].partitionData[0].records!)[0];
    expect(batch.compression).toBe('gzip');
  });

  it('closes a batch at batchBytes: several requests, one batch per partition each', async () => {
    const c = await cluster(1, ok);
    const producer = await Producer.create(c, 't', { batchBytes: 200, lingerMs: 1000 });
    for (let i = 0; i < 20; i++) await producer.send({ key: null, value: new Uint8Array(50), headers: [] });
    await producer.flush();
    expect(broker.requestsOf(ApiKey.Produce).length).toBeGreaterThanOrEqual(5);
    expect(received().get(0)).toHaveLength(20);
  });

  it('retries a retriable partition error after refreshing metadata, without reordering', async () => {
    let failures = 2;
    const c = await cluster(1, (req) => {
      if (failures-- > 0) {
        const r = ok(req) as any;
        r.responses[0].partitionResponses[0].errorCode = ErrorCode.NOT_LEADER_OR_FOLLOWER;
        return r;
      }
      return ok(req);
    });
    const producer = await Producer.create(c, 't', { retryBackoffMs: 10, lingerMs: 1 });
    for (let i = 0; i < 3; i++) await producer.send({ key: null, value: utf8(`v${i}`), headers: [] });
    await producer.flush();
    const sent = broker.requestsOf(ApiKey.Produce);
    expect(sent.length).toBeGreaterThanOrEqual(3);
    // The requests after the two refused ones were acknowledged: together they carry every
    // record once, in the order sent.
    const acked = sent.slice(2).flatMap((r) => parseRecordBatches(r.body.topicData[0].partitionData[0].records!)[0].records.map((x) => text(x.value)));
    expect(acked).toEqual(['v0', 'v1', 'v2']);
    expect(producer.stats.recordsAcked).toBe(3);
    expect(broker.requestsOf(ApiKey.Metadata).length).toBeGreaterThanOrEqual(3);
  });

  it('fails flush with the partition and the error name on a non-retriable error', async () => {
    const c = await cluster(1, (req) => {
      const r = ok(req) as any;
      r.responses[0].partitionResponses[0].errorCode = ErrorCode.MESSAGE_TOO_LARGE;
      return r;
    });
    const producer = await Producer.create(c, 't');
    await producer.send({ key: null, value: utf8('big'), headers: [] });
    const err = await producer.flush().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KafkaApiError);
    expect((err as Error).message).toMatch(/^produce to t-0: MESSAGE_TOO_LARGE/);
  });

  it('with acks=0 sends without waiting for an answer', async () => {
    const c = await cluster(1, () => null);
    const producer = await Producer.create(c, 't', { acks: 0 });
    await producer.send({ key: null, value: utf8('fire'), headers: [] });
    await producer.flush();
    expect(producer.stats.recordsAcked).toBe(1);
    await vi.waitFor(() => expect(broker.requestsOf(ApiKey.Produce)).toHaveLength(1));
    expect(broker.requestsOf(ApiKey.Produce)[0].body.acks).toBe(0);
  });

  it('refuses a partition the topic does not have', async () => {
    const c = await cluster(2, ok);
    await expect(Producer.create(c, 't', { partition: 2 })).rejects.toThrow(/has no partition 2 \(it has 2\)/);
  });
});
