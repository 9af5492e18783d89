// DescribeClientQuotas / AlterClientQuotas through the codec, as kafka-configs and the admin
// clients send them; persistence across a restart; Produce and CreateTopics throttled by them.

import { buildRecordBatch, ErrorCode } from '@sluice/protocol';
import { afterEach, describe, expect, test } from 'vitest';
import { BrokerContext } from '../broker-context.ts';
import { silentLogger } from '../logger.ts';
import { callHandler } from '../testing/call-handler.ts';
import { startTestBroker, type TestBroker } from '../testing/test-broker.ts';
import { alterClientQuotasHandler } from './alter-client-quotas.ts';
import { createTopicsHandler } from './create-topics.ts';
import { describeClientQuotasHandler } from './describe-client-quotas.ts';
import { produceHandler } from './produce.ts';

let t: TestBroker | undefined;
afterEach(() => {
  t?.close();
  t = undefined;
});

type Entity = { entityType: string; entityName: string | null }[];
const alter = (version: number, entries: { entity: Entity; ops: { key: string; value: number; remove: boolean }[] }[], validateOnly = false) =>
  callHandler(alterClientQuotasHandler, t!.broker, version, { entries, validateOnly });
const describeQuotas = (version: number, components: { entityType: string; matchType: number; match: string | null }[], strict = false) =>
  callHandler(describeClientQuotasHandler, t!.broker, version, { components, strict });
const set = (key: string, value: number) => ({ key, value, remove: false });

describe('AlterClientQuotas / DescribeClientQuotas', () => {
  test.each([0, 1])('v%i: set, describe by exact / default / any, strict, remove', async (version) => {
    t = startTestBroker();
    const res = await alter(version, [
      { entity: [{ entityType: 'client-id', entityName: 'app' }], ops: [set('producer_byte_rate', 1048576), set('request_percentage', 50.5)] },
      { entity: [{ entityType: 'user', entityName: null }], ops: [set('consumer_byte_rate', 2048)] },
      {
        entity: [
          { entityType: 'client-id', entityName: 'app' },
          { entityType: 'user', entityName: 'alice' },
        ],
        ops: [set('controller_mutation_rate', 2.5)],
      },
    ]);
    expect(res.entries.map((e: { errorCode: number }) => e.errorCode)).toEqual([0, 0, 0]);
    const exact = await describeQuotas(version, [{ entityType: 'client-id', matchType: 0, match: 'app' }]);
    expect(exact.errorCode).toBe(0);
    // Not strict: the user+client-id entity matches too.
    expect(exact.entries).toHaveLength(2);
    const strict = await describeQuotas(version, [{ entityType: 'client-id', matchType: 0, match: 'app' }], true);
    expect(strict.entries).toEqual([
      {
        entity: [{ entityType: 'client-id', entityName: 'app' }],
        values: expect.arrayContaining([
          { key: 'producer_byte_rate', value: 1048576 },
          { key: 'request_percentage', value: 50.5 },
        ]),
      },
    ]);
    const defaults = await describeQuotas(version, [{ entityType: 'user', matchType: 1, match: null }]);
    expect(defaults.entries).toEqual([{ entity: [{ entityType: 'user', entityName: null }], values: [{ key: 'consumer_byte_rate', value: 2048 }] }]);
    expect((await describeQuotas(version, [])).entries).toHaveLength(3);
    expect((await describeQuotas(version, [{ entityType: 'user', matchType: 2, match: null }])).entries).toHaveLength(2);
    await alter(version, [{ entity: [{ entityType: 'user', entityName: null }], ops: [{ key: 'consumer_byte_rate', value: 0, remove: true }] }]);
    expect((await describeQuotas(version, [{ entityType: 'user', matchType: 1, match: null }])).entries).toEqual([]);
  });

  test('bad entries are INVALID_REQUEST each, with Kafka messages; the good ones apply; validateOnly applies nothing', async () => {
    t = startTestBroker();
    const res = await alter(1, [
      { entity: [{ entityType: 'client-id', entityName: 'ok' }], ops: [set('producer_byte_rate', 100)] },
      { entity: [{ entityType: 'client-id', entityName: 'x' }], ops: [set('producer_byte_rate', 1.5)] },
      { entity: [{ entityType: 'client-id', entityName: 'x' }], ops: [set('no_such_key', 1)] },
      { entity: [{ entityType: 'group', entityName: 'x' }], ops: [set('producer_byte_rate', 1)] },
      { entity: [], ops: [set('producer_byte_rate', 1)] },
      {
        entity: [
          { entityType: 'ip', entityName: '10.0.0.1' },
          { entityType: 'user', entityName: 'a' },
        ],
        ops: [set('connection_creation_rate', 1)],
      },
      { entity: [{ entityType: 'ip', entityName: 'not-an-ip' }], ops: [set('connection_creation_rate', 1)] },
      { entity: [{ entityType: 'ip', entityName: null }], ops: [set('producer_byte_rate', 1)] },
      { entity: [{ entityType: 'client-id', entityName: 'x' }], ops: [set('producer_byte_rate', -5)] },
      { entity: [{ entityType: 'client-id', entityName: 'x' }], ops: [set('producer_byte_rate', 1), set('producer_byte_rate', 2)] },
    ]);
    const codes = res.entries.map((e: { errorCode: number }) => e.errorCode);
    expect(codes).toEqual([0, ...Array(9).fill(ErrorCode.INVALID_REQUEST)]);
    expect(res.entries[1].errorMessage).toBe('producer_byte_rate cannot be a fractional value.');
    expect(res.entries[2].errorMessage).toBe('Invalid configuration key no_such_key');
    expect((await describeQuotas(1, [])).entries).toEqual([
      { entity: [{ entityType: 'client-id', entityName: 'ok' }], values: [{ key: 'producer_byte_rate', value: 100 }] },
    ]);
    await alter(1, [{ entity: [{ entityType: 'client-id', entityName: 'v' }], ops: [set('producer_byte_rate', 100)] }], true);
    expect((await describeQuotas(1, [])).entries).toHaveLength(1);
  });

  test('a bad filter is INVALID_REQUEST for the request', async () => {
    t = startTestBroker();
    const dup = await describeQuotas(1, [
      { entityType: 'user', matchType: 2, match: null },
      { entityType: 'user', matchType: 1, match: null },
    ]);
    expect(dup).toMatchObject({ errorCode: ErrorCode.INVALID_REQUEST, entries: null });
    expect((await describeQuotas(1, [{ entityType: 'topic', matchType: 2, match: null }])).errorCode).toBe(ErrorCode.INVALID_REQUEST);
    expect((await describeQuotas(1, [{ entityType: 'user', matchType: 7, match: null }])).errorCode).toBe(ErrorCode.INVALID_REQUEST);
  });

  test('quotas survive a restart (the file in the first log dir)', async () => {
    t = startTestBroker();
    await alter(1, [{ entity: [{ entityType: 'user', entityName: 'alice' }], ops: [set('producer_byte_rate', 4096)] }]);
    const again = new BrokerContext(t.config, 'x', t.topics, silentLogger);
    expect(again.quotas.store.get([{ type: 'user', name: 'alice' }])?.get('producer_byte_rate')).toBe(4096);
    expect(again.quotas.produce.maxValueInQuotaWindow('alice', 'any')).toBe(40960);
  });

  test('without ALTER_CONFIGS / DESCRIBE_CONFIGS on the cluster: CLUSTER_AUTHORIZATION_FAILED', async () => {
    t = startTestBroker([['authorizer.class.name', 'org.apache.kafka.metadata.authorizer.StandardAuthorizer']]);
    const res = await alter(1, [{ entity: [{ entityType: 'user', entityName: 'a' }], ops: [set('producer_byte_rate', 1)] }]);
    expect(res.entries[0].errorCode).toBe(ErrorCode.CLUSTER_AUTHORIZATION_FAILED);
    expect((await describeQuotas(1, [])).errorCode).toBe(ErrorCode.CLUSTER_AUTHORIZATION_FAILED);
  });
});

describe('quotas enforced', () => {
  test('Produce: over producer_byte_rate the answer carries the throttle time; other clients are not throttled', async () => {
    t = startTestBroker();
    await alter(1, [{ entity: [{ entityType: 'client-id', entityName: 'slow' }], ops: [set('producer_byte_rate', 1000)] }]);
    await callHandler(createTopicsHandler, t.broker, 7, {
      topics: [{ name: 'q', numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] }],
      timeoutMs: 1000,
      validateOnly: false,
    });
    const value = new Uint8Array(6000);
    const produce = (clientId: string) =>
      callHandler(
        produceHandler,
        t!.broker,
        9,
        {
          transactionalId: null,
          acks: 1,
          timeoutMs: 1000,
          topicData: [{ name: 'q', partitionData: [{ index: 0, records: buildRecordBatch({ records: [{ key: null, value }] }) }] }],
        },
        clientId,
      );
    expect((await produce('slow')).throttleTimeMs).toBe(0); // ~6 KB of a 10 KB burst
    const second = await produce('slow');
    expect(second.responses[0].partitionResponses[0].errorCode).toBe(0); // throttled, not refused
    expect(second.throttleTimeMs).toBeGreaterThan(1000);
    expect((await produce('fast')).throttleTimeMs).toBe(0);
    const info = t.broker.quotas.sensorInfos().find((s) => s.clientId === 'slow')!;
    expect(info).toMatchObject({ type: 'produce', quota: 1000, throttledTotal: 1 });
  });

  test('CreateTopics v6+: THROTTLING_QUOTA_EXCEEDED once the mutation bucket is in debt; v5 is served and throttled', async () => {
    t = startTestBroker();
    await alter(1, [{ entity: [{ entityType: 'client-id', entityName: 'test-client' }], ops: [set('controller_mutation_rate', 1)] }]);
    const create = (version: number, name: string, partitions: number) =>
      callHandler(createTopicsHandler, t!.broker, version, {
        topics: [{ name, numPartitions: partitions, replicationFactor: 1, assignments: [], configs: [] }],
        timeoutMs: 1000,
        validateOnly: false,
      });
    const first = await create(7, 'a', 20); // burst 11: accepted, bucket at -9
    expect(first.topics[0].errorCode).toBe(0);
    expect(first.throttleTimeMs).toBe(9000);
    const refused = await create(7, 'b', 1);
    expect(refused.topics[0]).toMatchObject({ errorCode: ErrorCode.THROTTLING_QUOTA_EXCEEDED, errorMessage: 'The throttling quota has been exceeded.' });
    expect(refused.throttleTimeMs).toBeGreaterThan(8000);
    const old = await create(5, 'c', 1);
    expect(old.topics[0].errorCode).toBe(0);
    expect(old.throttleTimeMs).toBeGreaterThan(9000);
  });
});
