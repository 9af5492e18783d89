// Topic-level configs: Kafka's names, each defaulting to a broker key (Kafka's LogConfig). A
// topic stores only its overrides; the effective value is override ?? broker value.

import { type BrokerConfig, ConfigError, type ConfigDef, type ConfigValue, parseConfigValue } from './config.ts';

export interface TopicConfigDef extends ConfigDef {
  /** The broker key that supplies the default, or null when the default is fixed. */
  readonly brokerKey: string | null;
}

const LONG_MAX = Number.MAX_SAFE_INTEGER;

const nonNegativeOrMinusOne = (v: ConfigValue) =>
  typeof v === 'number' && v < -1 ? 'must be >= -1' : null;
const atLeast = (min: number) => (v: ConfigValue) =>
  typeof v === 'number' && v < min ? `must be >= ${min}` : null;

export const TOPIC_CONFIGS: readonly TopicConfigDef[] = [
  { name: 'cleanup.policy', type: 'list', default: ['delete'], brokerKey: 'log.cleanup.policy', doc: 'delete, compact, or compact,delete.', validator: (v) => Array.isArray(v) && v.some((p) => p !== 'delete' && p !== 'compact') ? 'each item must be delete or compact' : null },
  { name: 'compression.type', type: 'string', default: 'producer', brokerKey: 'compression.type', doc: 'Sluice keeps batches as the producer sent them; only producer is supported.', validator: (v) => v !== 'producer' ? 'Sluice stores batches as sent; only "producer" is supported' : null },
  { name: 'delete.retention.ms', type: 'long', default: 86400000, brokerKey: 'log.cleaner.delete.retention.ms', doc: 'How long compaction keeps tombstones.', validator: atLeast(0) },
  { name: 'file.delete.delay.ms', type: 'long', default: 60000, brokerKey: null, doc: 'Accepted for compatibility; segments are unlinked at once (open sends keep their file).' },
  { name: 'flush.messages', type: 'long', default: LONG_MAX, brokerKey: 'log.flush.interval.messages', doc: 'fsync after this many messages.', validator: atLeast(1) },
  { name: 'flush.ms', type: 'long', default: LONG_MAX, brokerKey: 'log.flush.interval.ms', doc: 'fsync data older than this.', validator: atLeast(0) },
  { name: 'index.interval.bytes', type: 'int', default: 4096, brokerKey: 'log.index.interval.bytes', doc: 'Bytes between sparse index entries.', validator: atLeast(0) },
  { name: 'max.message.bytes', type: 'int', default: 1048588, brokerKey: 'message.max.bytes', doc: 'Largest record batch accepted.', validator: atLeast(0) },
  { name: 'message.timestamp.type', type: 'string', default: 'CreateTime', brokerKey: 'log.message.timestamp.type', doc: 'CreateTime or LogAppendTime.', validator: (v) => v !== 'CreateTime' && v !== 'LogAppendTime' ? 'must be CreateTime or LogAppendTime' : null },
  { name: 'min.compaction.lag.ms', type: 'long', default: 0, brokerKey: 'log.cleaner.min.compaction.lag.ms', doc: 'Minimum age before compaction.', validator: atLeast(0) },
  { name: 'min.cleanable.dirty.ratio', type: 'double', default: 0.5, brokerKey: 'log.cleaner.min.cleanable.ratio', doc: 'Dirty ratio that triggers compaction.', validator: (v) => typeof v === 'number' && !(v >= 0 && v <= 1) ? 'must be between 0 and 1' : null },
  { name: 'min.insync.replicas', type: 'int', default: 1, brokerKey: 'min.insync.replicas', doc: 'Single node: always satisfied at 1.', validator: atLeast(1) },
  { name: 'retention.bytes', type: 'long', default: -1, brokerKey: 'log.retention.bytes', doc: 'Size retention; -1 unlimited.', validator: nonNegativeOrMinusOne },
  { name: 'retention.ms', type: 'long', default: 604800000, brokerKey: 'log.retention.ms', doc: 'Time retention; -1 forever.', validator: nonNegativeOrMinusOne },
  { name: 'segment.bytes', type: 'int', default: 1073741824, brokerKey: 'log.segment.bytes', doc: 'Segment size before a roll.', validator: atLeast(14) },
  { name: 'segment.index.bytes', type: 'int', default: 10485760, brokerKey: 'log.index.size.max.bytes', doc: 'Offset index size before a roll.', validator: atLeast(4096) },
  { name: 'segment.ms', type: 'long', default: 604800000, brokerKey: 'log.roll.ms', doc: 'Segment age before a roll.', validator: atLeast(1) },
  { name: 'unclean.leader.election.enable', type: 'boolean', default: false, brokerKey: null, doc: 'Accepted for compatibility (single node).' },
];

const BY_NAME = new Map(TOPIC_CONFIGS.map((d) => [d.name, d]));

export function topicConfigDef(name: string): TopicConfigDef | undefined {
  return BY_NAME.get(name);
}

/** Validates and parses one override; throws ConfigError naming the key. */
export function parseTopicOverride(name: string, raw: string | null): ConfigValue {
  const def = BY_NAME.get(name);
  if (def === undefined) throw new ConfigError(name, 'unknown topic config');
  if (raw === null) throw new ConfigError(name, 'value must not be null');
  const value = parseConfigValue(def, raw);
  const problem = def.validator?.(value) ?? null;
  if (problem !== null) throw new ConfigError(name, problem);
  return value;
}

/** The broker-level value that a topic config defaults to (Kafka's dynamic/static precedence). */
export function brokerDefaultFor(def: TopicConfigDef, broker: BrokerConfig): { value: ConfigValue; fromBroker: boolean } {
  switch (def.brokerKey) {
    case null:
      return { value: def.default, fromBroker: false };
    case 'log.retention.ms':
      return { value: broker.retentionMs, fromBroker: !broker.isDefault('log.retention.ms') || !broker.isDefault('log.retention.minutes') || !broker.isDefault('log.retention.hours') };
    case 'log.roll.ms':
      return { value: broker.rollMs, fromBroker: !broker.isDefault('log.roll.ms') || !broker.isDefault('log.roll.hours') };
    case 'log.flush.interval.ms': {
      // Kafka: "If not set, the value in log.flush.scheduler.interval.ms is used."
      const v = broker.get('log.flush.interval.ms');
      if (typeof v === 'number') return { value: v, fromBroker: true };
      return { value: broker.int('log.flush.scheduler.interval.ms'), fromBroker: !broker.isDefault('log.flush.scheduler.interval.ms') };
    }
    default:
      return { value: broker.get(def.brokerKey), fromBroker: !broker.isDefault(def.brokerKey) };
  }
}

/** Serialises a config value the way Kafka's DescribeConfigs shows it. */
export function formatConfigValue(value: ConfigValue): string | null {
  if (value === null) return null;
  if (Array.isArray(value)) return value.join(',');
  return String(value);
}

/** A topic's effective configuration: its overrides over the broker's defaults. */
export class TopicConfig {
  readonly overrides: ReadonlyMap<string, ConfigValue>;
  private readonly broker: BrokerConfig;

  constructor(broker: BrokerConfig, overrides: ReadonlyMap<string, ConfigValue>) {
    this.broker = broker;
    this.overrides = overrides;
  }

  get(name: string): ConfigValue {
    if (this.overrides.has(name)) return this.overrides.get(name)!;
    const def = BY_NAME.get(name);
    if (def === undefined) throw new Error(`BUG: unknown topic config ${name}`);
    return brokerDefaultFor(def, this.broker).value;
  }

  num(name: string): number {
    return this.get(name) as number;
  }

  isCompacted(): boolean {
    return (this.get('cleanup.policy') as string[]).includes('compact');
  }

  withOverrides(overrides: ReadonlyMap<string, ConfigValue>): TopicConfig {
    return new TopicConfig(this.broker, overrides);
  }
}
