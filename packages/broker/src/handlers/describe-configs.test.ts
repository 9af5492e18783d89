import { ErrorCode } from '@sluice/protocol';
import { afterEach, describe, expect, test } from 'vitest';
import { callHandler } from '../testing/call-handler.ts';
import { describeConfigsHandler } from './describe-configs.ts';
import { startTestBroker, type TestBroker } from '../testing/test-broker.ts';

const TOPIC = 2;
const BROKER = 4;
const STATIC_BROKER = 4;
const DEFAULT = 5;

let t: TestBroker | undefined;
afterEach(() => t?.close());

function describeConfigs(
  version: number,
  resources: Array<{ resourceType: number; resourceName: string; configurationKeys: string[] | null }>,
  includeSynonyms = true,
) {
  return callHandler(describeConfigsHandler, t!.broker, version, { resources, includeSynonyms, includeDocumentation: true });
}

describe('DescribeConfigs', () => {
  test.each([1, 2, 3, 4])("v%i: a topic's configs with Kafka's synonyms and Long.MAX_VALUE as Kafka prints it", async (version) => {
    t = startTestBroker([
      ['log.retention.ms', '86400000'],
      ['log.segment.bytes', '1048576'],
    ]);
    t.broker.topicCreator.create('t', 1, 1, [{ name: 'max.message.bytes', value: '2048' }], false);
    const res = await describeConfigs(version, [{ resourceType: TOPIC, resourceName: 't', configurationKeys: null }]);
    expect(res.results[0]).toMatchObject({ errorCode: 0, resourceType: TOPIC, resourceName: 't' });
    const configs = new Map(res.results[0].configs.map((c: any) => [c.name, c]));
    expect(configs.get('retention.ms')).toMatchObject({
      value: '86400000',
      configSource: STATIC_BROKER,
      synonyms: [
        { name: 'log.retention.ms', value: '86400000', source: STATIC_BROKER },
        { name: 'log.retention.hours', value: '168', source: DEFAULT },
      ],
    });
    expect(configs.get('max.message.bytes')).toMatchObject({
      value: '2048',
      configSource: 1,
      synonyms: [
        { name: 'max.message.bytes', value: '2048', source: 1 },
        { name: 'message.max.bytes', value: '1048588', source: DEFAULT },
      ],
    });
    expect(configs.get('flush.messages')).toMatchObject({ value: '9223372036854775807', configSource: DEFAULT });
    expect(configs.get('flush.ms')).toMatchObject({ value: '9223372036854775807', configSource: DEFAULT, synonyms: [] });
    expect(configs.get('segment.bytes')).toMatchObject({ value: '1048576', configSource: STATIC_BROKER });
    expect(configs.get('min.cleanable.dirty.ratio')).toMatchObject({ value: '0.5', configSource: DEFAULT });
    if (version >= 3) expect(configs.get('preallocate')).toMatchObject({ configType: 1, documentation: expect.stringMatching(/not enforced/) });
  });

  test('without includeSynonyms the sources stay, the synonyms go', async () => {
    t = startTestBroker([['log.retention.ms', '1000']]);
    t.broker.topicCreator.create('t', 1, 1, [], false);
    const res = await describeConfigs(4, [{ resourceType: TOPIC, resourceName: 't', configurationKeys: ['retention.ms'] }], false);
    expect(res.results[0].configs).toEqual([expect.objectContaining({ name: 'retention.ms', value: '1000', configSource: STATIC_BROKER, synonyms: [] })]);
  });

  test('an empty key list means every key, as in Kafka', async () => {
    t = startTestBroker();
    t.broker.topicCreator.create('t', 1, 1, [], false);
    const all = await describeConfigs(4, [{ resourceType: TOPIC, resourceName: 't', configurationKeys: [] }]);
    const some = await describeConfigs(4, [{ resourceType: TOPIC, resourceName: 't', configurationKeys: ['segment.ms', 'no.such.key'] }]);
    expect(all.results[0].configs.length).toBeGreaterThan(20);
    expect(some.results[0].configs.map((c: any) => c.name)).toEqual(['segment.ms']);
  });

  test('topic errors: an illegal name, an unknown topic', async () => {
    t = startTestBroker();
    const res = await describeConfigs(4, [
      { resourceType: TOPIC, resourceName: 'bad name!', configurationKeys: null },
      { resourceType: TOPIC, resourceName: 'nope', configurationKeys: null },
    ]);
    expect(res.results.map((r: any) => r.errorCode)).toEqual([ErrorCode.INVALID_TOPIC_EXCEPTION, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION]);
  });

  test("this broker: every broker config, read-only, with Kafka's synonyms", async () => {
    t = startTestBroker([['log.retention.minutes', '30']]);
    const res = await describeConfigs(4, [
      {
        resourceType: BROKER,
        resourceName: '1',
        configurationKeys: ['log.retention.minutes', 'log.retention.ms', 'log.flush.interval.messages', 'compression.type'],
      },
    ]);
    const configs = new Map(res.results[0].configs.map((c: any) => [c.name, c]));
    expect(configs.get('log.retention.minutes')).toMatchObject({
      value: '30',
      readOnly: true,
      configSource: STATIC_BROKER,
      synonyms: [
        { name: 'log.retention.minutes', value: '30', source: STATIC_BROKER },
        { name: 'log.retention.hours', value: '168', source: DEFAULT },
      ],
    });
    // Not set and no default: no synonyms (Kafka drops those before the key itself).
    expect(configs.get('log.retention.ms')).toMatchObject({ value: null, configSource: DEFAULT, synonyms: [] });
    expect(configs.get('log.flush.interval.messages')).toMatchObject({
      value: '9223372036854775807',
      synonyms: [{ name: 'log.flush.interval.messages', value: '9223372036854775807', source: DEFAULT }],
    });
    expect(configs.get('compression.type')).toMatchObject({ value: 'producer' });
  });

  test("broker names: '' (dynamic cluster defaults: none), not an integer, another node", async () => {
    t = startTestBroker();
    const res = await describeConfigs(4, [
      { resourceType: BROKER, resourceName: '', configurationKeys: null },
      { resourceType: BROKER, resourceName: 'one', configurationKeys: null },
      { resourceType: BROKER, resourceName: '2', configurationKeys: null },
    ]);
    expect(res.results[0]).toMatchObject({ errorCode: 0, configs: [] });
    expect(res.results[1]).toMatchObject({ errorCode: ErrorCode.INVALID_REQUEST, errorMessage: 'Broker id must be an integer, but it is: one' });
    expect(res.results[2]).toMatchObject({
      errorCode: ErrorCode.INVALID_REQUEST,
      errorMessage: 'Unexpected broker id, expected 1 or empty string, but received 2',
    });
  });
});

describe('DescribeConfigs of sensitive broker keys', () => {
  test("passwords (Kafka's PASSWORD type) are described with a null value, sensitive, synonyms without values", async () => {
    t = startTestBroker([
      ['ssl.keystore.password', 'hunter2'],
      ['sasl.enabled.mechanisms', 'PLAIN'],
    ]);
    const res = await describeConfigs(4, [
      { resourceType: BROKER, resourceName: '1', configurationKeys: ['ssl.keystore.password', 'sasl.enabled.mechanisms'] },
    ]);
    const configs = new Map(res.results[0].configs.map((c: any) => [c.name, c]));
    expect(configs.get('ssl.keystore.password')).toMatchObject({ value: null, isSensitive: true, configSource: STATIC_BROKER });
    expect((configs.get('ssl.keystore.password') as any).synonyms.every((s: any) => s.value === null)).toBe(true);
    expect(configs.get('sasl.enabled.mechanisms')).toMatchObject({ value: 'PLAIN', isSensitive: false });
    expect(JSON.stringify(res)).not.toContain('hunter2');
  });
});
