// Dynamic broker configs through the handlers on a single node: IncrementalAlterConfigs and
// AlterConfigs on BROKER resources (this node and the cluster-wide default), DescribeConfigs'
// sources and synonyms in Kafka's order, the file that keeps them over a restart, and the
// replication quotas reading the value in force.
import { ErrorCode } from '@sluice/protocol';
import { afterEach, describe, expect, test } from 'vitest';
import { DynamicBrokerConfigs, FileDynamicBrokerConfigStore } from '../dynamic-broker-configs.ts';
import { callHandler } from '../testing/call-handler.ts';
import { startTestBroker, type TestBroker } from '../testing/test-broker.ts';
import { alterConfigsHandler } from './alter-configs.ts';
import { describeConfigsHandler } from './describe-configs.ts';
import { incrementalAlterConfigsHandler } from './incremental-alter-configs.ts';

const BROKER = 4;
const SET = 0;
const DELETE = 1;
const APPEND = 2;
const DYNAMIC_BROKER = 2;
const DYNAMIC_DEFAULT_BROKER = 3;
const STATIC_BROKER = 4;
const DEFAULT = 5;
const LEADER_RATE = 'leader.replication.throttled.rate';
const FOLLOWER_RATE = 'follower.replication.throttled.rate';

let t: TestBroker | undefined;
afterEach(() => t?.close());

const incremental = (resources: object[], validateOnly = false) => callHandler(incrementalAlterConfigsHandler, t!.broker, 1, { resources, validateOnly });
const broker = (name: string, configs: Array<{ name: string; op: number; value: string | null }>) => ({
  resourceType: BROKER,
  resourceName: name,
  configs: configs.map((c) => ({ name: c.name, configOperation: c.op, value: c.value })),
});
async function describeBroker(name: string, keys: string[] | null = null) {
  const res = await callHandler(describeConfigsHandler, t!.broker, 4, {
    resources: [{ resourceType: BROKER, resourceName: name, configurationKeys: keys }],
    includeSynonyms: true,
    includeDocumentation: false,
  });
  expect(res.results[0].errorCode).toBe(0);
  return new Map(res.results[0].configs.map((c: any) => [c.name, c]));
}

describe('dynamic broker configs', () => {
  test('per broker over the default over server.properties, with Kafka sources and synonyms', async () => {
    t = startTestBroker([[LEADER_RATE, '5000']]);
    let c = (await describeBroker('1', [LEADER_RATE, FOLLOWER_RATE])) as Map<string, any>;
    expect(c.get(LEADER_RATE)).toMatchObject({ value: '5000', readOnly: false, configSource: STATIC_BROKER });
    expect(c.get(FOLLOWER_RATE)).toMatchObject({ value: '9223372036854775807', readOnly: false, configSource: DEFAULT });

    const res = await incremental([
      broker('', [
        { name: LEADER_RATE, op: SET, value: '2000' },
        { name: FOLLOWER_RATE, op: SET, value: '3000' },
      ]),
      broker('1', [{ name: LEADER_RATE, op: SET, value: '1000' }]),
    ]);
    expect(res.responses.map((r: any) => r.errorCode)).toEqual([0, 0]);
    expect(t.broker.replicationQuotas.leader.bound).toBe(1000);
    expect(t.broker.replicationQuotas.follower.bound).toBe(3000);

    c = (await describeBroker('1', [LEADER_RATE, FOLLOWER_RATE])) as Map<string, any>;
    expect(c.get(LEADER_RATE)).toMatchObject({
      value: '1000',
      configSource: DYNAMIC_BROKER,
      synonyms: [
        { name: LEADER_RATE, value: '1000', source: DYNAMIC_BROKER },
        { name: LEADER_RATE, value: '2000', source: DYNAMIC_DEFAULT_BROKER },
        { name: LEADER_RATE, value: '5000', source: STATIC_BROKER },
        { name: LEADER_RATE, value: '9223372036854775807', source: DEFAULT },
      ],
    });
    expect(c.get(FOLLOWER_RATE)).toMatchObject({ value: '3000', configSource: DYNAMIC_DEFAULT_BROKER });
    // The default resource lists what is set as default, without this broker's own values.
    const defaults = (await describeBroker('')) as Map<string, any>;
    expect([...defaults.keys()].sort()).toEqual([FOLLOWER_RATE, LEADER_RATE]);
    expect(defaults.get(LEADER_RATE)).toMatchObject({ value: '2000', configSource: DYNAMIC_DEFAULT_BROKER });
    expect(defaults.get(LEADER_RATE).synonyms.map((s: any) => s.source)).toEqual([DYNAMIC_DEFAULT_BROKER, STATIC_BROKER, DEFAULT]);

    // DELETE goes back to the next source; deleting what is not set (or cannot be) succeeds.
    const deleted = await incremental([
      broker('1', [
        { name: LEADER_RATE, op: DELETE, value: null },
        { name: 'replica.alter.log.dirs.io.max.bytes.per.second', op: DELETE, value: null },
      ]),
    ]);
    expect(deleted.responses[0].errorCode).toBe(0);
    expect(t.broker.replicationQuotas.leader.bound).toBe(2000);
  });

  test('refusals: static keys, bad values, list operations, other brokers; validateOnly changes nothing', async () => {
    t = startTestBroker();
    const answers = [
      await incremental([broker('1', [{ name: 'num.partitions', op: SET, value: '3' }])]),
      await incremental([broker('', [{ name: LEADER_RATE, op: SET, value: '-1' }])]),
      await incremental([broker('', [{ name: FOLLOWER_RATE, op: APPEND, value: '1' }])]),
    ];
    expect(answers.map((res: any) => [res.responses[0].errorCode, res.responses[0].errorMessage])).toEqual([
      [ErrorCode.INVALID_REQUEST, 'Sluice broker configs are static; set them in server.properties or with --override.'],
      [ErrorCode.INVALID_CONFIG, `invalid config ${LEADER_RATE}: must be >= 0`],
      [ErrorCode.INVALID_CONFIG, `invalid config ${FOLLOWER_RATE}: operation 2 applies to list configs only`],
    ]);
    const other = await incremental([broker('2', [{ name: LEADER_RATE, op: SET, value: '1' }])]);
    expect(other.responses[0]).toMatchObject({ errorCode: ErrorCode.INVALID_REQUEST, errorMessage: 'Unexpected broker id, expected 1, but received 2' });
    const validated = await incremental([broker('1', [{ name: LEADER_RATE, op: SET, value: '10' }])], true);
    expect(validated.responses[0].errorCode).toBe(0);
    expect(t.broker.dynamicConfigs.perBroker.size).toBe(0);
  });

  test('AlterConfigs replaces the scope whole; the values survive a restart (the file)', async () => {
    t = startTestBroker();
    const alter = (configs: Array<{ name: string; value: string }>) =>
      callHandler(alterConfigsHandler, t!.broker, 2, { resources: [{ resourceType: BROKER, resourceName: '1', configs }], validateOnly: false });
    expect(
      (
        await alter([
          { name: LEADER_RATE, value: '100' },
          { name: FOLLOWER_RATE, value: '200' },
        ])
      ).responses[0].errorCode,
    ).toBe(0);
    expect((await alter([{ name: FOLLOWER_RATE, value: '300' }])).responses[0].errorCode).toBe(0);
    expect(Object.fromEntries(t.broker.dynamicConfigs.perBroker)).toEqual({ [FOLLOWER_RATE]: '300' });
    const reopened = new DynamicBrokerConfigs(t.broker.config, new FileDynamicBrokerConfigStore(t.broker.config.logDirs[0]));
    expect(reopened.num(FOLLOWER_RATE)).toBe(300);
    expect(reopened.num(LEADER_RATE)).toBe(Number.MAX_SAFE_INTEGER);
  });
});
