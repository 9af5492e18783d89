// AlterConfigs and IncrementalAlterConfigs against a real topic registry in a temp dir: the
// answers through the codec, and what the topics hold afterwards (and after a reload).
import { ErrorCode } from '@sluice/protocol';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import type { BrokerContext } from '../broker-context.ts';
import { callHandler } from '../testing/call-handler.ts';
import { alterConfigsHandler } from './alter-configs.ts';
import { incrementalAlterConfigsHandler } from './incremental-alter-configs.ts';
import { startTestBroker, type TestBroker } from '../testing/test-broker.ts';

const TOPIC = 2;
const BROKER = 4;
const SET = 0;
const DELETE = 1;
const APPEND = 2;

let t: TestBroker;
let broker: BrokerContext;

beforeEach(() => {
  t = startTestBroker();
  broker = t.broker;
  expect(
    broker.topicCreator.create(
      't',
      2,
      1,
      [
        { name: 'retention.ms', value: '3600000' },
        { name: 'cleanup.policy', value: 'compact' },
      ],
      false,
    ).errorCode,
  ).toBe(0);
});
afterEach(() => t.close());

const overridesOf = (name: string) => Object.fromEntries(t.topics.get(name)!.config.overrides);
const alter = (version: number, resources: object[], validateOnly = false) => callHandler(alterConfigsHandler, broker, version, { resources, validateOnly });
const topicResource = (name: string, configs: Array<{ name: string; value: string | null }>) => ({ resourceType: TOPIC, resourceName: name, configs });

describe('AlterConfigs', () => {
  test.each([0, 1, 2])("v%i: the request's configs become the whole override set", async (version) => {
    const res = await alter(version, [
      topicResource('t', [
        { name: 'retention.ms', value: '60000' },
        { name: 'max.message.bytes', value: '2048' },
      ]),
    ]);
    expect(res).toEqual({ throttleTimeMs: 0, responses: [{ errorCode: 0, errorMessage: null, resourceType: TOPIC, resourceName: 't' }] });
    // cleanup.policy was left out, so it is back to the broker default.
    expect(overridesOf('t')).toEqual({ 'retention.ms': 60000, 'max.message.bytes': 2048 });
    expect(t.topics.get('t')!.config.get('cleanup.policy')).toEqual(['delete']);
  });

  test('an empty set removes every override', async () => {
    const res = await alter(2, [topicResource('t', [])]);
    expect(res.responses[0].errorCode).toBe(0);
    expect(overridesOf('t')).toEqual({});
  });

  test('the new set survives a reload of the registry', async () => {
    await alter(1, [topicResource('t', [{ name: 'segment.ms', value: '1000' }])]);
    t.reload();
    expect(overridesOf('t')).toEqual({ 'segment.ms': 1000 });
  });

  test('validateOnly checks without changing anything', async () => {
    const ok = await alter(2, [topicResource('t', [{ name: 'retention.ms', value: '1' }])], true);
    expect(ok.responses[0].errorCode).toBe(0);
    const bad = await alter(2, [topicResource('t', [{ name: 'retention.ms', value: 'soon' }])], true);
    expect(bad.responses[0].errorCode).toBe(ErrorCode.INVALID_CONFIG);
    expect(overridesOf('t')).toEqual({ 'retention.ms': 3600000, 'cleanup.policy': ['compact'] });
  });

  test('one bad value refuses the whole resource (INVALID_CONFIG), other resources go on', async () => {
    broker.topicCreator.create('u', 1, 1, [], false);
    const res = await alter(2, [
      topicResource('t', [
        { name: 'retention.ms', value: '60000' },
        { name: 'min.cleanable.dirty.ratio', value: '2' },
      ]),
      topicResource('u', [{ name: 'retention.ms', value: '60000' }]),
    ]);
    expect(res.responses.map((r: any) => [r.resourceName, r.errorCode])).toEqual([
      ['t', ErrorCode.INVALID_CONFIG],
      ['u', 0],
    ]);
    expect(res.responses[0].errorMessage).toMatch(/min.cleanable.dirty.ratio/);
    expect(overridesOf('t')).toEqual({ 'retention.ms': 3600000, 'cleanup.policy': ['compact'] });
    expect(overridesOf('u')).toEqual({ 'retention.ms': 60000 });
  });

  test.each([
    ['an unknown config name', [{ name: 'retention.msec', value: '1' }]],
    ['remote storage', [{ name: 'remote.storage.enable', value: 'true' }]],
    [
      'min.compaction.lag.ms above max.compaction.lag.ms',
      [
        { name: 'min.compaction.lag.ms', value: '10' },
        { name: 'max.compaction.lag.ms', value: '5' },
      ],
    ],
    ['a codec to recompress with', [{ name: 'compression.type', value: 'zstd' }]],
  ])('%s is INVALID_CONFIG', async (_what, configs) => {
    const res = await alter(1, [topicResource('t', configs)]);
    expect(res.responses[0].errorCode).toBe(ErrorCode.INVALID_CONFIG);
  });

  test("Kafka's order: the values are validated before the topic must exist", async () => {
    const unknown = await alter(2, [topicResource('nope', [{ name: 'retention.ms', value: '1' }])]);
    expect(unknown.responses[0]).toMatchObject({ errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, resourceName: 'nope' });
    const invalid = await alter(2, [topicResource('nope', [{ name: 'retention.ms', value: 'x' }])]);
    expect(invalid.responses[0].errorCode).toBe(ErrorCode.INVALID_CONFIG);
  });

  test('topic names: empty is INVALID_REQUEST, illegal is INVALID_TOPIC_EXCEPTION', async () => {
    const res = await alter(2, [topicResource('', []), topicResource('bad name!', [])]);
    expect(res.responses.map((r: any) => r.errorCode)).toEqual([ErrorCode.INVALID_REQUEST, ErrorCode.INVALID_TOPIC_EXCEPTION]);
  });

  test('ConfigAdminManager.preprocess: repeated resources, repeated keys, null values are INVALID_REQUEST', async () => {
    broker.topicCreator.create('u', 1, 1, [], false);
    const res = await alter(2, [
      topicResource('t', [{ name: 'retention.ms', value: '1' }]),
      topicResource('u', [
        { name: 'retention.ms', value: '1' },
        { name: 'retention.ms', value: '2' },
      ]),
      topicResource('t', []),
    ]);
    expect(res.responses.map((r: any) => [r.resourceName, r.errorCode, r.errorMessage])).toEqual([
      ['t', ErrorCode.INVALID_REQUEST, 'Each resource must appear at most once.'],
      ['u', ErrorCode.INVALID_REQUEST, 'Error due to duplicate config keys'],
      ['t', ErrorCode.INVALID_REQUEST, 'Each resource must appear at most once.'],
    ]);
    const nulls = await alter(2, [
      topicResource('t', [
        { name: 'retention.ms', value: null },
        { name: 'segment.ms', value: null },
      ]),
    ]);
    expect(nulls.responses[0]).toMatchObject({ errorCode: ErrorCode.INVALID_REQUEST, errorMessage: 'Null value not supported for : retention.ms, segment.ms' });
    expect(overridesOf('t')).toEqual({ 'retention.ms': 3600000, 'cleanup.policy': ['compact'] });
  });

  test('BROKER resources: static keys and other brokers are refused as IncrementalAlterConfigs refuses them', async () => {
    const res = await alter(2, [
      { resourceType: BROKER, resourceName: '1', configs: [{ name: 'log.retention.ms', value: '1' }] },
      { resourceType: BROKER, resourceName: '', configs: [] },
      { resourceType: BROKER, resourceName: '7', configs: [] },
      { resourceType: BROKER, resourceName: 'one', configs: [] },
      { resourceType: 99, resourceName: 'x', configs: [] },
    ]);
    // The cluster-wide defaults replaced by an empty set: a valid change (no dynamic defaults).
    expect(res.responses.map((r: any) => r.errorCode)).toEqual([ErrorCode.INVALID_REQUEST, ErrorCode.NONE, ...Array(3).fill(ErrorCode.INVALID_REQUEST)]);
    expect(res.responses.map((r: any) => r.errorMessage)).toEqual([
      'Sluice broker configs are static; set them in server.properties or with --override.',
      null,
      'Unexpected broker id, expected 1, but received 7',
      'Node id must be an integer, but it is: one',
      'Unknown resource type 99',
    ]);
    const incremental = await callHandler(incrementalAlterConfigsHandler, broker, 1, {
      resources: [{ resourceType: BROKER, resourceName: '1', configs: [{ name: 'log.retention.ms', configOperation: SET, value: '1' }] }],
      validateOnly: false,
    });
    expect(incremental.responses[0]).toEqual(res.responses[0]);
  });
});

describe('IncrementalAlterConfigs, on the validation it shares', () => {
  const incremental = (resources: object[], validateOnly = false) => callHandler(incrementalAlterConfigsHandler, broker, 1, { resources, validateOnly });

  test('SET and DELETE change only the keys named', async () => {
    const res = await incremental([
      {
        resourceType: TOPIC,
        resourceName: 't',
        configs: [
          { name: 'segment.ms', configOperation: SET, value: '1000' },
          { name: 'retention.ms', configOperation: DELETE, value: null },
        ],
      },
    ]);
    expect(res.responses[0].errorCode).toBe(0);
    expect(overridesOf('t')).toEqual({ 'cleanup.policy': ['compact'], 'segment.ms': 1000 });
  });

  test('a null value is refused except for DELETE', async () => {
    const res = await incremental([{ resourceType: TOPIC, resourceName: 't', configs: [{ name: 'segment.ms', configOperation: SET, value: null }] }]);
    expect(res.responses[0]).toMatchObject({ errorCode: ErrorCode.INVALID_REQUEST, errorMessage: 'Null value not supported for : segment.ms' });
  });

  test('APPEND to a list config', async () => {
    const res = await incremental([
      { resourceType: TOPIC, resourceName: 't', configs: [{ name: 'cleanup.policy', configOperation: APPEND, value: 'delete' }] },
    ]);
    expect(res.responses[0].errorCode).toBe(0);
    expect(overridesOf('t')['cleanup.policy']).toEqual(['compact', 'delete']);
  });

  test('the cross-key checks apply to the resulting set', async () => {
    const res = await incremental([
      { resourceType: TOPIC, resourceName: 't', configs: [{ name: 'remote.storage.enable', configOperation: SET, value: 'true' }] },
    ]);
    expect(res.responses[0].errorCode).toBe(ErrorCode.INVALID_CONFIG);
    expect(overridesOf('t')).toEqual({ 'retention.ms': 3600000, 'cleanup.policy': ['compact'] });
  });
});
