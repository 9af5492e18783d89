import { describe, expect, test } from 'vitest';
import { BrokerConfig, ConfigError, formatConfigValue, LONG_MAX } from './config.ts';
import {
  CONFIG_SOURCE,
  describeTopicConfig,
  effectiveTopicConfigs,
  parseTopicOverride,
  TOPIC_CONFIGS,
  TopicConfig,
  topicConfigDef,
  validateTopicOverrides,
} from './topic-config.ts';

const { DYNAMIC_TOPIC, STATIC_BROKER, DEFAULT } = CONFIG_SOURCE;

function describeWith(name: string, brokerSettings: Array<[string, string]> = [], overrides: Array<[string, string]> = []) {
  const broker = new BrokerConfig(brokerSettings);
  const config = new TopicConfig(broker, new Map(overrides.map(([k, v]) => [k, parseTopicOverride(k, v)])));
  return describeTopicConfig(topicConfigDef(name)!, config, broker);
}

describe("the topic configs tools set, with Kafka's types, defaults and validators", () => {
  // name, Kafka type, Kafka's default as DescribeConfigs prints it, a value Kafka accepts, one it refuses
  test.each([
    ['max.compaction.lag.ms', 'long', '9223372036854775807', '60000', '0'],
    ['preallocate', 'boolean', 'false', 'TRUE', 'yes'],
    ['segment.jitter.ms', 'long', '0', '1000', '-1'],
    ['message.timestamp.difference.max.ms', 'long', '9223372036854775807', '0', '-1'],
    ['message.timestamp.before.max.ms', 'long', '9223372036854775807', '3600000', '-1'],
    ['message.timestamp.after.max.ms', 'long', '9223372036854775807', '3600000', '-1'],
    ['message.downconversion.enable', 'boolean', 'true', 'false', 'no'],
    ['local.retention.ms', 'long', '-2', '-1', '-3'],
    ['local.retention.bytes', 'long', '-2', '1048576', '-3'],
    ['remote.storage.enable', 'boolean', 'false', 'false', 'maybe'],
    ['leader.replication.throttled.replicas', 'list', '', '0:1,1:1', 'a:b'],
    ['follower.replication.throttled.replicas', 'list', '', '*', '0:1,*'],
  ])('%s (%s, default %j)', (name, type, defaultText, good, bad) => {
    const def = topicConfigDef(name);
    expect(def, `${name} is a known topic config`).toBeDefined();
    expect(def!.type).toBe(type);
    expect(describeWith(name)).toMatchObject({ value: defaultText, source: DEFAULT });
    expect(() => parseTopicOverride(name, good)).not.toThrow();
    expect(() => parseTopicOverride(name, bad)).toThrow(ConfigError);
  });

  test.each([
    'max.compaction.lag.ms',
    'preallocate',
    'segment.jitter.ms',
    'message.timestamp.difference.max.ms',
    'message.timestamp.before.max.ms',
    'message.timestamp.after.max.ms',
    'message.downconversion.enable',
    'local.retention.ms',
    'local.retention.bytes',
  ])('%s says it is accepted for compatibility and not enforced', (name) => {
    expect(topicConfigDef(name)!.doc).toMatch(/^Accepted for compatibility; not enforced/);
  });

  test.each(['leader.replication.throttled.replicas', 'follower.replication.throttled.replicas'])(
    '%s is enforced in cluster mode (quotas/replication-quota.ts)',
    (name) => {
      expect(topicConfigDef(name)!.doc).toMatch(/replication\.throttled\.rate.*\(cluster mode/);
    },
  );

  test('min.cleanable.dirty.ratio is between 0 and 1, and prints as a Java double', () => {
    expect(parseTopicOverride('min.cleanable.dirty.ratio', '0')).toBe(0);
    expect(parseTopicOverride('min.cleanable.dirty.ratio', '1')).toBe(1);
    expect(() => parseTopicOverride('min.cleanable.dirty.ratio', '1.5')).toThrow(/between 0 and 1/);
    expect(() => parseTopicOverride('min.cleanable.dirty.ratio', '-0.5')).toThrow(/between 0 and 1/);
    expect(describeWith('min.cleanable.dirty.ratio', [], [['min.cleanable.dirty.ratio', '1']]).value).toBe('1.0');
  });

  test('booleans are case-insensitive', () => {
    expect(parseTopicOverride('unclean.leader.election.enable', 'True')).toBe(true);
    expect(parseTopicOverride('preallocate', 'FALSE')).toBe(false);
  });

  test('retention.bytes takes any long, as Kafka (negative: unlimited); retention.ms at least -1', () => {
    expect(parseTopicOverride('retention.bytes', '-5')).toBe(-5);
    expect(parseTopicOverride('retention.ms', '-1')).toBe(-1);
    expect(() => parseTopicOverride('retention.ms', '-2')).toThrow(/>= -1/);
  });

  test('an unknown name is refused', () => {
    expect(() => parseTopicOverride('retention.msec', '1')).toThrow(/unknown topic config/);
  });
});

describe("validateTopicOverrides: Kafka's checks across keys", () => {
  const broker = new BrokerConfig();
  const check = (entries: Array<[string, string]>) => () => validateTopicOverrides(new Map(entries.map(([k, v]) => [k, parseTopicOverride(k, v)])), broker);

  test('min.compaction.lag.ms may not exceed max.compaction.lag.ms', () => {
    expect(
      check([
        ['min.compaction.lag.ms', '100'],
        ['max.compaction.lag.ms', '100'],
      ]),
    ).not.toThrow();
    expect(
      check([
        ['min.compaction.lag.ms', '101'],
        ['max.compaction.lag.ms', '100'],
      ]),
    ).toThrow(/min.compaction.lag.ms \(101\) > max.compaction.lag.ms \(100\)/);
    // Against the broker's default for the other one.
    expect(() => validateTopicOverrides(new Map([['max.compaction.lag.ms', 5]]), new BrokerConfig([['log.cleaner.min.compaction.lag.ms', '6']]))).toThrow(
      ConfigError,
    );
  });

  test('remote.storage.enable=true is refused: no tiered storage', () => {
    expect(check([['remote.storage.enable', 'false']])).not.toThrow();
    expect(check([['remote.storage.enable', 'true']])).toThrow(/Tiered Storage functionality is disabled/);
  });
});

describe('effective values: the override, else the first broker synonym with a value, else the default', () => {
  test('retention.ms from log.retention.ms, minutes, hours in that order; negative is -1', () => {
    expect(new TopicConfig(new BrokerConfig(), new Map()).num('retention.ms')).toBe(604800000);
    expect(new TopicConfig(new BrokerConfig([['log.retention.hours', '2']]), new Map()).num('retention.ms')).toBe(7200000);
    expect(
      new TopicConfig(
        new BrokerConfig([
          ['log.retention.hours', '2'],
          ['log.retention.minutes', '3'],
        ]),
        new Map(),
      ).num('retention.ms'),
    ).toBe(180000);
    expect(
      new TopicConfig(
        new BrokerConfig([
          ['log.retention.minutes', '3'],
          ['log.retention.ms', '5'],
        ]),
        new Map(),
      ).num('retention.ms'),
    ).toBe(5);
    expect(new TopicConfig(new BrokerConfig([['log.retention.minutes', '-5']]), new Map()).num('retention.ms')).toBe(-1);
  });

  test('flush.ms from log.flush.interval.ms, else log.flush.scheduler.interval.ms', () => {
    expect(new TopicConfig(new BrokerConfig(), new Map()).num('flush.ms')).toBe(LONG_MAX);
    expect(new TopicConfig(new BrokerConfig([['log.flush.scheduler.interval.ms', '700']]), new Map()).num('flush.ms')).toBe(700);
    expect(
      new TopicConfig(
        new BrokerConfig([
          ['log.flush.scheduler.interval.ms', '700'],
          ['log.flush.interval.ms', '9'],
        ]),
        new Map(),
      ).num('flush.ms'),
    ).toBe(9);
  });

  test('segment.jitter.ms from log.roll.jitter.hours; file.delete.delay.ms from log.segment.delete.delay.ms', () => {
    const config = new TopicConfig(
      new BrokerConfig([
        ['log.roll.jitter.hours', '1'],
        ['log.segment.delete.delay.ms', '5'],
      ]),
      new Map(),
    );
    expect(config.num('segment.jitter.ms')).toBe(3600000);
    expect(config.num('file.delete.delay.ms')).toBe(5);
  });
});

describe("DescribeConfigs synonyms, as Kafka's ConfigHelper lists them", () => {
  test('retention.ms: set broker keys in precedence order, then the default', () => {
    expect(
      describeWith('retention.ms', [
        ['log.retention.ms', '1000'],
        ['log.retention.minutes', '2'],
      ]),
    ).toEqual({
      name: 'retention.ms',
      value: '1000',
      source: STATIC_BROKER,
      synonyms: [
        { name: 'log.retention.ms', value: '1000', source: STATIC_BROKER },
        { name: 'log.retention.minutes', value: '2', source: STATIC_BROKER },
        { name: 'log.retention.hours', value: '168', source: DEFAULT },
      ],
    });
  });

  test('an override comes first, with its source', () => {
    const d = describeWith('retention.ms', [['log.retention.ms', '1000']], [['retention.ms', '42']]);
    expect(d.source).toBe(DYNAMIC_TOPIC);
    expect(d.value).toBe('42');
    expect(d.synonyms).toEqual([
      { name: 'retention.ms', value: '42', source: DYNAMIC_TOPIC },
      { name: 'log.retention.ms', value: '1000', source: STATIC_BROKER },
      { name: 'log.retention.hours', value: '168', source: DEFAULT },
    ]);
  });

  test('Kafka drops the synonyms before the first broker key: with only log.retention.hours set there are none', () => {
    // log.retention.ms has no default and is not set, so Kafka's dropWhile leaves nothing, and the
    // value (from log.retention.hours) reads as a default.
    expect(describeWith('retention.ms', [['log.retention.hours', '24']])).toEqual({ name: 'retention.ms', value: '86400000', source: DEFAULT, synonyms: [] });
    expect(describeWith('retention.ms')).toEqual({ name: 'retention.ms', value: '604800000', source: DEFAULT, synonyms: [] });
    expect(describeWith('segment.ms')).toMatchObject({ value: '604800000', synonyms: [] });
    expect(describeWith('flush.ms')).toMatchObject({ value: '9223372036854775807', synonyms: [] });
  });

  test('segment.ms and flush.ms list their second broker key after the first', () => {
    expect(describeWith('segment.ms', [['log.roll.ms', '5000']]).synonyms).toEqual([
      { name: 'log.roll.ms', value: '5000', source: STATIC_BROKER },
      { name: 'log.roll.hours', value: '168', source: DEFAULT },
    ]);
    expect(describeWith('flush.ms', [['log.flush.interval.ms', '10']]).synonyms).toEqual([
      { name: 'log.flush.interval.ms', value: '10', source: STATIC_BROKER },
      { name: 'log.flush.scheduler.interval.ms', value: '9223372036854775807', source: DEFAULT },
    ]);
  });

  test('single synonyms: the broker key as set, then its default', () => {
    expect(describeWith('file.delete.delay.ms').synonyms).toEqual([{ name: 'log.segment.delete.delay.ms', value: '60000', source: DEFAULT }]);
    expect(describeWith('segment.bytes', [['log.segment.bytes', '1048576']])).toEqual({
      name: 'segment.bytes',
      value: '1048576',
      source: STATIC_BROKER,
      synonyms: [
        { name: 'log.segment.bytes', value: '1048576', source: STATIC_BROKER },
        { name: 'log.segment.bytes', value: '1073741824', source: DEFAULT },
      ],
    });
    expect(describeWith('max.compaction.lag.ms').synonyms).toEqual([
      { name: 'log.cleaner.max.compaction.lag.ms', value: '9223372036854775807', source: DEFAULT },
    ]);
  });

  test('configs without a broker synonym have none', () => {
    expect(describeWith('remote.storage.enable')).toEqual({ name: 'remote.storage.enable', value: 'false', source: DEFAULT, synonyms: [] });
  });
});

describe('effectiveTopicConfigs: what CreateTopics reports (KafkaConfigSchema.resolveEffectiveTopicConfigs)', () => {
  test("sorted by name; the request's text, else a set broker synonym converted, else the default", () => {
    const broker = new BrokerConfig([
      ['log.retention.hours', '24'],
      ['log.segment.bytes', '1048576'],
    ]);
    const configs = effectiveTopicConfigs(
      broker,
      new Map([
        ['cleanup.policy', 'compact'],
        ['preallocate', 'TRUE'],
      ]),
    );
    const names = configs.map((c) => c.name);
    expect(names).toEqual([...names].sort());
    expect(names).toEqual(TOPIC_CONFIGS.map((d) => d.name).sort());
    const by = new Map(configs.map((c) => [c.name, c]));
    expect(by.get('cleanup.policy')).toEqual({ name: 'cleanup.policy', value: 'compact', source: DYNAMIC_TOPIC });
    expect(by.get('preallocate')).toEqual({ name: 'preallocate', value: 'TRUE', source: DYNAMIC_TOPIC });
    expect(by.get('retention.ms')).toEqual({ name: 'retention.ms', value: '86400000', source: STATIC_BROKER });
    expect(by.get('segment.bytes')).toEqual({ name: 'segment.bytes', value: '1048576', source: STATIC_BROKER });
    expect(by.get('flush.ms')).toEqual({ name: 'flush.ms', value: formatConfigValue('long', LONG_MAX), source: DEFAULT });
    expect(by.get('min.cleanable.dirty.ratio')).toEqual({ name: 'min.cleanable.dirty.ratio', value: '0.5', source: DEFAULT });
  });
});
