import { ErrorCode } from '@sluice/protocol';
import { afterEach, describe, expect, test } from 'vitest';
import { callHandler } from '../testing/call-handler.ts';
import { TOPIC_CONFIGS } from '../topic-config.ts';
import { createTopicsHandler } from './create-topics.ts';
import { startTestBroker, type TestBroker } from '../testing/test-broker.ts';

const ZERO_ID = '00000000000000000000000000000000';

let t: TestBroker | undefined;
afterEach(() => t?.close());

const topic = (name: string, configs: Array<{ name: string; value: string | null }> = [], numPartitions = 3) => ({
  name,
  numPartitions,
  replicationFactor: -1,
  assignments: [],
  configs,
});

function createTopics(version: number, topics: object[], validateOnly: boolean) {
  return callHandler(createTopicsHandler, t!.broker, version, { topics, timeoutMs: 5000, validateOnly });
}

describe('CreateTopics', () => {
  test.each([5, 6, 7])('v%i validateOnly answers what the topic would be (KIP-525), and creates nothing', async (version) => {
    t = startTestBroker([['log.retention.hours', '24']]);
    const res = await createTopics(
      version,
      [
        topic('would-be', [
          { name: 'cleanup.policy', value: 'compact' },
          { name: 'preallocate', value: 'TRUE' },
        ]),
      ],
      true,
    );
    const r = res.topics[0];
    expect(r).toMatchObject({ name: 'would-be', errorCode: 0, errorMessage: null, numPartitions: 3, replicationFactor: 1 });
    expect(t.topics.get('would-be')).toBeUndefined();
    // Kafka's controller hands out a fresh id even for validateOnly; it names no topic.
    if (version >= 7) expect(r.topicId).not.toBe(ZERO_ID);
    const names = r.configs.map((c: any) => c.name);
    expect(names).toEqual(TOPIC_CONFIGS.map((d) => d.name).sort());
    const by = new Map(r.configs.map((c: any) => [c.name, c]));
    expect(by.get('cleanup.policy')).toEqual({ name: 'cleanup.policy', value: 'compact', readOnly: false, configSource: 1, isSensitive: false });
    expect(by.get('preallocate')).toMatchObject({ value: 'TRUE', configSource: 1 });
    expect(by.get('retention.ms')).toMatchObject({ value: '86400000', configSource: 4 });
    expect(by.get('flush.ms')).toMatchObject({ value: '9223372036854775807', configSource: 5 });
  });

  test('validateOnly and a real creation answer alike, apart from the topic id', async () => {
    t = startTestBroker();
    const configs = [{ name: 'retention.ms', value: '60000' }];
    const dry = await createTopics(7, [topic('same', configs, -1)], true);
    const real = await createTopics(7, [topic('same', configs, -1)], false);
    expect(t.topics.get('same')?.partitions).toHaveLength(1);
    expect(real.topics[0].topicId).toBe(t.topics.get('same')!.id);
    expect({ ...dry.topics[0], topicId: '' }).toEqual({ ...real.topics[0], topicId: '' });
    expect(dry.topics[0].topicId).not.toBe(real.topics[0].topicId);
    expect(dry.topics[0].numPartitions).toBe(1); // num.partitions
  });

  test('validateOnly still refuses what a creation would refuse', async () => {
    t = startTestBroker();
    const res = await createTopics(
      7,
      [
        topic('a', [{ name: 'retention.ms', value: 'soon' }]),
        topic('b', [{ name: 'remote.storage.enable', value: 'true' }]),
        topic('c', [
          { name: 'segment.ms', value: null },
          { name: 'retention.ms', value: null },
        ]),
        topic('d', [], 0),
      ],
      true,
    );
    expect(res.topics.map((r: any) => [r.name, r.errorCode, r.numPartitions, r.configs])).toEqual([
      ['a', ErrorCode.INVALID_CONFIG, -1, null],
      ['b', ErrorCode.INVALID_CONFIG, -1, null],
      ['c', ErrorCode.INVALID_CONFIG, -1, null],
      ['d', ErrorCode.INVALID_PARTITIONS, -1, null],
    ]);
    expect(res.topics[2].errorMessage).toBe('Null value not supported for topic configs: segment.ms,retention.ms');
  });
});
