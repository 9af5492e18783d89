import { describe, expect, test } from 'vitest';
import { BrokerConfig, brokerConfigDef, brokerConfigSynonyms, ConfigError, formatConfigValue, LONG_MAX, parseConfigValue } from './config.ts';

const def = (name: string) => {
  const d = brokerConfigDef(name);
  if (d === undefined) throw new Error(`no broker config ${name}`);
  return d;
};

describe('parseConfigValue', () => {
  test.each(['true', 'TRUE', 'True', ' tRuE '])('booleans are case-insensitive, as Kafka\'s ConfigDef: %j', (text) => {
    expect(parseConfigValue(def('auto.create.topics.enable'), text)).toBe(true);
  });

  test.each(['yes', '1', '', 'truee'])('anything but true/false is refused: %j', (text) => {
    expect(() => parseConfigValue(def('auto.create.topics.enable'), text)).toThrow(ConfigError);
  });

  test('Long.MAX_VALUE parses to the sentinel and prints back as Kafka prints it', () => {
    const flush = def('log.flush.interval.messages');
    const value = parseConfigValue(flush, '9223372036854775807');
    expect(value).toBe(LONG_MAX);
    expect(formatConfigValue('long', value)).toBe('9223372036854775807');
    expect(parseConfigValue(flush, formatConfigValue('long', value)!)).toBe(LONG_MAX);
    // The default is the same sentinel.
    expect(formatConfigValue('long', flush.default)).toBe('9223372036854775807');
  });

  test('longs between 2^53 and Long.MAX_VALUE are the sentinel too; beyond a long is refused', () => {
    const longDef = def('log.retention.bytes');
    expect(parseConfigValue(longDef, '9007199254740993')).toBe(LONG_MAX);
    expect(() => parseConfigValue(longDef, '9223372036854775808')).toThrow(/out of long range/);
    expect(parseConfigValue(longDef, '-9223372036854775808')).toBe(-LONG_MAX);
    expect(formatConfigValue('long', -LONG_MAX)).toBe('-9223372036854775808');
    expect(() => parseConfigValue(longDef, '-9223372036854775809')).toThrow(/out of long range/);
  });

  test('ints: range checked, a leading + accepted as Java does', () => {
    expect(parseConfigValue(def('num.partitions'), '+3')).toBe(3);
    expect(() => parseConfigValue(def('num.partitions'), '2147483648')).toThrow(/out of int range/);
    expect(() => parseConfigValue(def('num.partitions'), '1.5')).toThrow(/integer/);
  });
});

describe('formatConfigValue', () => {
  test.each([
    [0.5, '0.5'],
    [1, '1.0'],
    [0, '0.0'],
    [0.001, '0.001'],
    [0.0001, '1.0E-4'],
    [0.00015, '1.5E-4'],
    [12345678, '1.2345678E7'],
  ])('doubles as Java\'s Double.toString: %d -> %s', (value, text) => {
    expect(formatConfigValue('double', value)).toBe(text);
  });

  test('lists comma-joined, null stays null, ints and longs as digits', () => {
    expect(formatConfigValue('list', ['compact', 'delete'])).toBe('compact,delete');
    expect(formatConfigValue('list', [])).toBe('');
    expect(formatConfigValue('long', null)).toBeNull();
    expect(formatConfigValue('int', 2147483647)).toBe('2147483647');
    expect(formatConfigValue('long', 604800000)).toBe('604800000');
  });
});

describe('broker config validation', () => {
  test('compression.type accepts only producer: Sluice never recompresses', () => {
    expect(new BrokerConfig([['compression.type', 'producer']]).str('compression.type')).toBe('producer');
    for (const codec of ['gzip', 'zstd', 'uncompressed', 'lz4', 'snappy']) {
      expect(() => new BrokerConfig([['compression.type', codec]])).toThrow(/only "producer"/);
    }
  });

  test('log.cleaner.min.cleanable.ratio is between 0 and 1', () => {
    expect(new BrokerConfig([['log.cleaner.min.cleanable.ratio', '1']]).get('log.cleaner.min.cleanable.ratio')).toBe(1);
    expect(new BrokerConfig([['log.cleaner.min.cleanable.ratio', '0']]).get('log.cleaner.min.cleanable.ratio')).toBe(0);
    expect(() => new BrokerConfig([['log.cleaner.min.cleanable.ratio', '1.01']])).toThrow(/between 0 and 1/);
    expect(() => new BrokerConfig([['log.cleaner.min.cleanable.ratio', '-0.1']])).toThrow(/between 0 and 1/);
  });

  test('booleans from a properties file are case-insensitive', () => {
    expect(new BrokerConfig([['auto.create.topics.enable', 'FALSE']]).bool('auto.create.topics.enable')).toBe(false);
  });
});

test('brokerConfigSynonyms: Kafka\'s groups, in precedence order', () => {
  expect(brokerConfigSynonyms('log.retention.hours')).toEqual(['log.retention.ms', 'log.retention.minutes', 'log.retention.hours']);
  expect(brokerConfigSynonyms('log.roll.ms')).toEqual(['log.roll.ms', 'log.roll.hours']);
  expect(brokerConfigSynonyms('log.roll.jitter.hours')).toEqual(['log.roll.jitter.ms', 'log.roll.jitter.hours']);
  expect(brokerConfigSynonyms('log.flush.interval.ms')).toEqual(['log.flush.interval.ms', 'log.flush.scheduler.interval.ms']);
  // The scheduler interval is only the flush interval's default, not the other way round.
  expect(brokerConfigSynonyms('log.flush.scheduler.interval.ms')).toEqual(['log.flush.scheduler.interval.ms']);
  expect(brokerConfigSynonyms('log.segment.bytes')).toEqual(['log.segment.bytes']);
});

describe('startup line and metrics listener', () => {
  test('nonDefaults lists keys set to something other than their default', () => {
    const config = new BrokerConfig([
      ['num.partitions', '3'],
      ['sluice.log.level', 'info'], // set, but to the default
      ['listeners', 'PLAINTEXT://127.0.0.1:9092'], // the default list
    ]);
    expect(config.nonDefaults()).toEqual({ 'num.partitions': 3 });
  });

  test('sluice.metrics.listener must be http://host:port/path or empty', () => {
    expect(() => new BrokerConfig([['sluice.metrics.listener', '127.0.0.1:9404']])).toThrow(ConfigError);
    expect(() => new BrokerConfig([['sluice.metrics.listener', 'http://127.0.0.1/metrics']])).toThrow(/port is required/);
    expect(new BrokerConfig([['sluice.metrics.listener', '']]).str('sluice.metrics.listener')).toBe('');
    expect(new BrokerConfig([['sluice.metrics.listener', 'http://0.0.0.0:0/metrics']]).str('sluice.metrics.listener')).toBe('http://0.0.0.0:0/metrics');
  });
});
