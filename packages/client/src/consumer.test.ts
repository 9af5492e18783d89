import { afterEach, describe, expect, it } from 'vitest';
import { ApiKey, buildRecordBatch, ErrorCode } from '@sluice/protocol';
import { Consumer, type ConsumerOptions } from './consumer.ts';
import { KafkaClient } from './kafka-client.ts';
import { FakeBroker } from './testing/fake-broker.ts';

const TOPIC_ID = 'aaaaaaaaaaaaaaaabbbbbbbbbbbbbbbb';
const text = (b: Uint8Array | null) => (b === null ? null : new TextDecoder().decode(b));

let broker: FakeBroker;
let client: KafkaClient | null = null;

afterEach(async () => {
  client?.close();
  client = null;
  await broker.stop();
});

/**
 * A broker holding topic 't' (by name and by id) with the given records per partition, one batch
 * of up to 3 records each, timestamps 1000 + offset. It answers Fetch at any version.
 */
async function logBroker(values: string[][]): Promise<KafkaClient> {
  const batches = values.map((vs) => {
    const list: Array<{ base: number; last: number; bytes: Uint8Array }> = [];
    for (let base = 0; base < vs.length; base += 3) {
      const chunk = vs.slice(base, base + 3);
      list.push({
        base,
        last: base + chunk.length - 1,
        bytes: buildRecordBatch({ baseOffset: base, records: chunk.map((v, i) => ({ key: null, value: v, timestamp: 1000 + base + i })) }),
      });
    }
    return list;
  });
  broker = await FakeBroker.start({
    handlers: {
      [ApiKey.Metadata]: () => ({
        brokers: [{ nodeId: 1, host: '127.0.0.1', port: broker.port, rack: null }],
        clusterId: 'c',
        controllerId: 1,
        topics: [
          {
            errorCode: 0,
            name: 't',
            topicId: TOPIC_ID,
            partitions: values.map((_, i) => ({ errorCode: 0, partitionIndex: i, leaderId: 1, replicaNodes: [1], isrNodes: [1], offlineReplicas: [] })),
          },
        ],
      }),
      [ApiKey.ListOffsets]: (req) => ({
        topics: req.body.topics.map((t: any) => ({
          name: t.name,
          partitions: t.partitions.map((p: any) => {
            const n = values[p.partitionIndex].length;
            const offset =
              p.timestamp === -2
                ? 0
                : p.timestamp === -1
                  ? n
                  : (() => {
                      const at = values[p.partitionIndex].findIndex((_, o) => 1000 + o >= p.timestamp);
                      return at < 0 ? -1 : at;
                    })();
            return { partitionIndex: p.partitionIndex, errorCode: 0, timestamp: -1, offset, leaderEpoch: 0 };
          }),
        })),
      }),
      [ApiKey.Fetch]: (req) => ({
        errorCode: 0,
        sessionId: 0,
        responses: req.body.topics.map((t: any) => ({
          topic: t.topic,
          topicId: t.topicId,
          partitions: t.partitions.map((p: any) => {
            const hw = values[p.partition].length;
            if (p.fetchOffset > hw) return { partitionIndex: p.partition, errorCode: ErrorCode.OFFSET_OUT_OF_RANGE, highWatermark: hw, records: null };
            const parts = batches[p.partition].filter((b) => b.last >= p.fetchOffset).map((b) => b.bytes);
            return {
              partitionIndex: p.partition,
              errorCode: 0,
              highWatermark: hw,
              lastStableOffset: hw,
              logStartOffset: 0,
              abortedTransactions: null,
              preferredReadReplica: -1,
              records: Buffer.concat(parts),
            };
          }),
        })),
      }),
    },
  });
  return (client = await KafkaClient.connect({ bootstrap: broker.bootstrap }));
}

async function drain(options: Partial<ConsumerOptions>): Promise<string[]> {
  const consumer = await Consumer.create(client!, { topic: 't', start: { kind: 'earliest' }, resetPolicy: 'earliest', fetch: { maxWaitMs: 10 }, ...options });
  const out: string[] = [];
  for (let round = 0; round < 20 && !consumer.atEnd; round++) {
    for (const r of await consumer.poll()) {
      out.push(`${r.partition}:${r.offset}:${text(r.value)}`);
      consumer.markConsumed(r);
    }
  }
  expect(consumer.atEnd).toBe(true);
  await consumer.close();
  return out;
}

describe('Consumer (assign mode)', () => {
  it('reads every partition from the beginning to its end, fetching v13 by topic id', async () => {
    await logBroker([
      ['a', 'b', 'c', 'd'],
      ['x', 'y'],
    ]);
    const got = await drain({});
    expect(got.filter((s) => s.startsWith('0:'))).toEqual(['0:0:a', '0:1:b', '0:2:c', '0:3:d']);
    expect(got.filter((s) => s.startsWith('1:'))).toEqual(['1:0:x', '1:1:y']);
    const fetch = broker.requestsOf(ApiKey.Fetch)[0];
    expect(fetch.header.apiVersion).toBe(13);
    expect(fetch.body.topics[0].topicId).toBe(TOPIC_ID);
  });

  it('starts inside a batch at an exact offset, on the chosen partition only', async () => {
    await logBroker([['a', 'b', 'c', 'd', 'e'], ['x']]);
    expect(await drain({ partitions: [0], start: { kind: 'offset', offset: 1 } })).toEqual(['0:1:b', '0:2:c', '0:3:d', '0:4:e']);
  });

  it('starts at a timestamp, and at the end when no record is that new', async () => {
    await logBroker([
      ['a', 'b', 'c', 'd'],
      ['x', 'y'],
    ]);
    expect(await drain({ start: { kind: 'timestamp', timestamp: 1002 } })).toEqual(['0:2:c', '0:3:d']);
    expect(await drain({ start: { kind: 'timestamp', timestamp: 5000 } })).toEqual([]);
  });

  it('resets an out-of-range position by the reset policy and says so', async () => {
    await logBroker([['a', 'b', 'c']]);
    const notices: string[] = [];
    expect(await drain({ start: { kind: 'offset', offset: 10 }, resetPolicy: 'earliest', onNotice: (m) => notices.push(m) })).toEqual([
      '0:0:a',
      '0:1:b',
      '0:2:c',
    ]);
    expect(notices).toEqual(['offset 10 of t-0 is out of range; resetting to earliest offset 0']);
  });

  it('is at its end at once for empty partitions started at latest', async () => {
    await logBroker([[], []]);
    expect(await drain({ start: { kind: 'latest' } })).toEqual([]);
  });

  it('refuses a partition the topic does not have', async () => {
    await logBroker([['a']]);
    await expect(Consumer.create(client!, { topic: 't', partitions: [3], start: { kind: 'earliest' }, resetPolicy: 'earliest' })).rejects.toThrow(
      /has no partition 3 \(it has 1\)/,
    );
  });
});
