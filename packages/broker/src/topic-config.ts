// Topic-level configs: Kafka's names, types, defaults and validators (Kafka's LogConfig), each
// defaulting to the broker keys Kafka names as its synonyms (ServerTopicConfigSynonyms). A topic
// stores only its overrides; the effective value is the override, else the first synonym the
// broker has a value for, else the topic config's own default.
//
// Several configs are accepted so that tools which set them keep working, but Sluice does not act
// on them; their doc says "accepted for compatibility; not enforced".

import {
  type BrokerConfig,
  brokerConfigDef,
  brokerConfigSynonyms,
  ConfigError,
  type ConfigDef,
  type ConfigValue,
  formatConfigValue,
  LONG_MAX,
  parseConfigValue,
} from './config.ts';

/** A broker key a topic config takes its default from, and the factor to the topic's unit. */
export interface BrokerSynonym {
  readonly name: string;
  /** The broker value times this is the topic value (log.retention.hours -> retention.ms). */
  readonly scale?: number;
}

export interface TopicConfigDef extends ConfigDef {
  /** Kafka's ServerTopicConfigSynonyms for this config, in precedence order; empty: no broker default. */
  readonly synonyms: readonly BrokerSynonym[];
}

const HOUR_MS = 3_600_000;
const MINUTE_MS = 60_000;

const atLeast = (min: number) => (v: ConfigValue) => (typeof v === 'number' && v < min ? `must be >= ${min}` : null);
const between = (min: number, max: number) => (v: ConfigValue) => (typeof v === 'number' && (v < min || v > max) ? `must be between ${min} and ${max}` : null);
const oneOf =
  (...allowed: string[]) =>
  (v: ConfigValue) =>
    typeof v === 'string' && !allowed.includes(v) ? `must be one of ${allowed.join(', ')}` : null;
/** Kafka's ThrottledReplicaListValidator. */
const throttledReplicas = (v: ConfigValue) =>
  Array.isArray(v) && !(v.every((r) => /^(\d+:\d+)?$/.test(r)) || v.join('') === '*')
    ? "must be the literal '*' or a list of replicas in the following format: [partitionId]:[brokerId],[partitionId]:[brokerId],..."
    : null;

const same = (name: string): BrokerSynonym[] => [{ name }];
const NOT_ENFORCED = 'Accepted for compatibility; not enforced';

export const TOPIC_CONFIGS: readonly TopicConfigDef[] = [
  {
    name: 'cleanup.policy',
    type: 'list',
    default: ['delete'],
    synonyms: same('log.cleanup.policy'),
    doc: 'delete, compact, or compact,delete. compact: the log cleaner keeps the latest record per key, records need a key, and without delete no time or size retention applies.',
    validator: (v) => (Array.isArray(v) && v.some((p) => p !== 'delete' && p !== 'compact') ? 'each item must be delete or compact' : null),
  },
  {
    name: 'compression.type',
    type: 'string',
    default: 'producer',
    synonyms: same('compression.type'),
    doc: 'Sluice keeps batches as the producer sent them; only producer is supported.',
    validator: (v) => (v !== 'producer' ? 'Sluice stores batches as sent; only "producer" is supported' : null),
  },
  {
    name: 'delete.retention.ms',
    type: 'long',
    default: 86400000,
    synonyms: same('log.cleaner.delete.retention.ms'),
    doc: 'How long compaction keeps a tombstone after it first saw it (the delete horizon).',
    validator: atLeast(0),
  },
  {
    name: 'file.delete.delay.ms',
    type: 'long',
    default: 60000,
    synonyms: same('log.segment.delete.delay.ms'),
    doc: `${NOT_ENFORCED}: segments are unlinked at once (open sends keep their file).`,
    validator: atLeast(0),
  },
  {
    name: 'flush.messages',
    type: 'long',
    default: LONG_MAX,
    synonyms: same('log.flush.interval.messages'),
    doc: 'fsync after this many messages.',
    validator: atLeast(1),
  },
  {
    name: 'flush.ms',
    type: 'long',
    default: LONG_MAX,
    synonyms: [{ name: 'log.flush.interval.ms' }, { name: 'log.flush.scheduler.interval.ms' }],
    doc: 'fsync data older than this.',
    validator: atLeast(0),
  },
  {
    name: 'follower.replication.throttled.replicas',
    type: 'list',
    default: [],
    synonyms: [],
    doc: 'Replicas (partition:broker, or *) whose follower fetches are held to follower.replication.throttled.rate on the broker named (cluster mode; a single node does not replicate).',
    validator: throttledReplicas,
  },
  {
    name: 'index.interval.bytes',
    type: 'int',
    default: 4096,
    synonyms: same('log.index.interval.bytes'),
    doc: 'Bytes between sparse index entries.',
    validator: atLeast(0),
  },
  {
    name: 'leader.replication.throttled.replicas',
    type: 'list',
    default: [],
    synonyms: [],
    doc: 'Replicas (partition:broker, or *) whose leader sends out-of-sync followers at most leader.replication.throttled.rate, on the broker named (cluster mode; a single node does not replicate).',
    validator: throttledReplicas,
  },
  {
    name: 'local.retention.bytes',
    type: 'long',
    default: -2,
    synonyms: same('log.local.retention.bytes'),
    doc: `${NOT_ENFORCED} (no tiered storage). -2: use retention.bytes.`,
    validator: atLeast(-2),
  },
  {
    name: 'local.retention.ms',
    type: 'long',
    default: -2,
    synonyms: same('log.local.retention.ms'),
    doc: `${NOT_ENFORCED} (no tiered storage). -2: use retention.ms.`,
    validator: atLeast(-2),
  },
  {
    name: 'max.compaction.lag.ms',
    type: 'long',
    default: LONG_MAX,
    synonyms: same('log.cleaner.max.compaction.lag.ms'),
    doc: `${NOT_ENFORCED} (compaction runs on min.cleanable.dirty.ratio only).`,
    validator: atLeast(1),
  },
  {
    name: 'max.message.bytes',
    type: 'int',
    default: 1048588,
    synonyms: same('message.max.bytes'),
    doc: 'Largest record batch accepted.',
    validator: atLeast(0),
  },
  {
    name: 'message.downconversion.enable',
    type: 'boolean',
    default: true,
    synonyms: same('log.message.downconversion.enable'),
    doc: `${NOT_ENFORCED} (Kafka 3.x; removed in Kafka 4.0). Sluice serves only record batch v2 and never down-converts.`,
  },
  {
    name: 'message.timestamp.after.max.ms',
    type: 'long',
    default: LONG_MAX,
    synonyms: same('log.message.timestamp.after.max.ms'),
    doc: `${NOT_ENFORCED}: record timestamps are not checked against the broker clock.`,
    validator: atLeast(0),
  },
  {
    name: 'message.timestamp.before.max.ms',
    type: 'long',
    default: LONG_MAX,
    synonyms: same('log.message.timestamp.before.max.ms'),
    doc: `${NOT_ENFORCED}: record timestamps are not checked against the broker clock.`,
    validator: atLeast(0),
  },
  {
    name: 'message.timestamp.difference.max.ms',
    type: 'long',
    default: LONG_MAX,
    synonyms: same('log.message.timestamp.difference.max.ms'),
    doc: `${NOT_ENFORCED} (Kafka 3.x; removed in Kafka 4.0): record timestamps are not checked against the broker clock.`,
    validator: atLeast(0),
  },
  {
    name: 'message.timestamp.type',
    type: 'string',
    default: 'CreateTime',
    synonyms: same('log.message.timestamp.type'),
    doc: 'CreateTime or LogAppendTime.',
    validator: oneOf('CreateTime', 'LogAppendTime'),
  },
  {
    name: 'min.cleanable.dirty.ratio',
    type: 'double',
    default: 0.5,
    synonyms: same('log.cleaner.min.cleanable.ratio'),
    doc: 'Compact once dirty bytes / all bytes is above this.',
    validator: between(0, 1),
  },
  {
    name: 'min.compaction.lag.ms',
    type: 'long',
    default: 0,
    synonyms: same('log.cleaner.min.compaction.lag.ms'),
    doc: 'A segment whose newest record is younger than this is not compacted.',
    validator: atLeast(0),
  },
  {
    name: 'min.insync.replicas',
    type: 'int',
    default: 1,
    synonyms: same('min.insync.replicas'),
    doc: 'Single node: always satisfied at 1.',
    validator: atLeast(1),
  },
  {
    name: 'preallocate',
    type: 'boolean',
    default: false,
    synonyms: same('log.preallocate'),
    doc: `${NOT_ENFORCED} (mmap mode extends segment files by sluice.log.preallocate.step.bytes instead).`,
  },
  { name: 'remote.storage.enable', type: 'boolean', default: false, synonyms: [], doc: 'Tiered storage is not available in Sluice: only false is accepted.' },
  { name: 'retention.bytes', type: 'long', default: -1, synonyms: same('log.retention.bytes'), doc: 'Size retention; -1 (any negative value) unlimited.' },
  {
    name: 'retention.ms',
    type: 'long',
    default: 604800000,
    synonyms: [{ name: 'log.retention.ms' }, { name: 'log.retention.minutes', scale: MINUTE_MS }, { name: 'log.retention.hours', scale: HOUR_MS }],
    doc: 'Time retention; -1 forever.',
    validator: atLeast(-1),
  },
  { name: 'segment.bytes', type: 'int', default: 1073741824, synonyms: same('log.segment.bytes'), doc: 'Segment size before a roll.', validator: atLeast(14) },
  {
    name: 'segment.index.bytes',
    type: 'int',
    default: 10485760,
    synonyms: same('log.index.size.max.bytes'),
    doc: 'Offset index size before a roll.',
    validator: atLeast(4096),
  },
  {
    name: 'segment.jitter.ms',
    type: 'long',
    default: 0,
    synonyms: [{ name: 'log.roll.jitter.ms' }, { name: 'log.roll.jitter.hours', scale: HOUR_MS }],
    doc: `${NOT_ENFORCED} (segments roll without jitter).`,
    validator: atLeast(0),
  },
  {
    name: 'segment.ms',
    type: 'long',
    default: 604800000,
    synonyms: [{ name: 'log.roll.ms' }, { name: 'log.roll.hours', scale: HOUR_MS }],
    doc: 'Segment age before a roll.',
    validator: atLeast(1),
  },
  {
    name: 'unclean.leader.election.enable',
    type: 'boolean',
    default: false,
    synonyms: same('unclean.leader.election.enable'),
    doc: 'Cluster mode: when true and no in-sync replica is live, the controller elects the first live replica (records only the ISR had are lost); changeable at runtime. A single node has no other replica to elect.',
  },
];

const BY_NAME = new Map(TOPIC_CONFIGS.map((d) => [d.name, d]));

// Every synonym is a broker key, and a topic config's synonyms are Kafka's broker synonym group of
// the first one: a typo here would silently give a topic a fixed default.
for (const def of TOPIC_CONFIGS) {
  for (const s of def.synonyms) {
    if (brokerConfigDef(s.name) === undefined) throw new Error(`BUG: ${def.name}: synonym ${s.name} is not a broker config`);
  }
  const names = def.synonyms.map((s) => s.name);
  if (names.length > 0 && brokerConfigSynonyms(names[0]).join() !== names.join())
    throw new Error(`BUG: ${def.name}: synonyms ${names.join()} are not a broker synonym group`);
}

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

/**
 * A topic's configs as a request carries them (CreateTopics, AlterConfigs): each parsed and
 * validated, a later entry for the same name replacing an earlier one. Null values are the
 * caller's to refuse first (Kafka answers them differently per API).
 */
export function parseTopicOverrides(configs: ReadonlyArray<{ name: string; value: string | null }>): Map<string, ConfigValue> {
  const overrides = new Map<string, ConfigValue>();
  for (const c of configs) overrides.set(c.name, parseTopicOverride(c.name, c.value));
  return overrides;
}

/**
 * The checks Kafka's LogConfig.validate makes across keys, over a topic's complete override set
 * (with the broker's defaults for the rest); throws ConfigError.
 */
export function validateTopicOverrides(overrides: ReadonlyMap<string, ConfigValue>, broker: BrokerConfig): void {
  const config = new TopicConfig(broker, overrides);
  const minLag = config.num('min.compaction.lag.ms');
  const maxLag = config.num('max.compaction.lag.ms');
  if (minLag > maxLag) {
    throw new ConfigError(
      'min.compaction.lag.ms',
      `conflict topic config setting min.compaction.lag.ms (${minLag}) > max.compaction.lag.ms (${formatConfigValue('long', maxLag)})`,
    );
  }
  if (config.get('remote.storage.enable') === true) {
    throw new ConfigError(
      'remote.storage.enable',
      'Tiered Storage functionality is disabled in the broker. Topic cannot be configured with remote log storage.',
    );
  }
}

function scaled(value: ConfigValue, scale: number | undefined): ConfigValue {
  return scale === undefined || typeof value !== 'number' ? value : value * scale;
}

/**
 * The value a topic config takes when the topic does not override it: the first of its broker
 * synonyms that has a value (set, or a non-null default), in the topic's unit; else its own
 * default. As Kafka's KafkaConfig.logRetentionTimeMillis, any negative retention time is -1.
 */
export function brokerDefaultFor(def: TopicConfigDef, broker: BrokerConfig): ConfigValue {
  for (const s of def.synonyms) {
    const value = broker.get(s.name);
    if (value === null) continue;
    const topicValue = scaled(value, s.scale);
    if (def.name === 'retention.ms' && typeof topicValue === 'number' && topicValue < 0) return -1;
    return topicValue;
  }
  return def.default;
}

/** DescribeConfigs config sources (DescribeConfigsResponse.ConfigSource). */
export const CONFIG_SOURCE = { DYNAMIC_TOPIC: 1, DYNAMIC_BROKER: 2, DYNAMIC_DEFAULT_BROKER: 3, STATIC_BROKER: 4, DEFAULT: 5 } as const;

/** This broker's dynamic broker configs (per broker, then the cluster-wide defaults), as text. */
export interface DynamicSynonymSources {
  readonly perBroker: ReadonlyMap<string, string>;
  readonly defaults: ReadonlyMap<string, string>;
}

export interface ConfigSynonym {
  readonly name: string;
  readonly value: string | null;
  readonly source: number;
}

/**
 * Kafka's ConfigHelper.configSynonyms over Sluice's broker config: the group's keys set
 * dynamically for this broker (DYNAMIC_BROKER_CONFIG), then as cluster-wide dynamic defaults
 * (DYNAMIC_DEFAULT_BROKER_CONFIG), then set in the broker's config (STATIC_BROKER_CONFIG), then
 * those with a non-null default (DEFAULT_CONFIG), each in precedence order; then, as Kafka does,
 * everything listed before `name` itself is dropped. So when only a lower-precedence key is set
 * (log.retention.hours for log.retention.ms), nothing is left, and the config reads as a default.
 */
export function brokerSynonyms(broker: BrokerConfig, name: string, group: readonly string[], dynamic?: DynamicSynonymSources): ConfigSynonym[] {
  const found: ConfigSynonym[] = [];
  if (dynamic !== undefined) {
    for (const [values, source] of [
      [dynamic.perBroker, CONFIG_SOURCE.DYNAMIC_BROKER],
      [dynamic.defaults, CONFIG_SOURCE.DYNAMIC_DEFAULT_BROKER],
    ] as const) {
      for (const key of group) {
        const value = values.get(key);
        if (value !== undefined) found.push({ name: key, value, source });
      }
    }
  }
  for (const key of group) {
    if (!broker.isDefault(key))
      found.push({ name: key, value: formatConfigValue(brokerConfigDef(key)!.type, broker.get(key)), source: CONFIG_SOURCE.STATIC_BROKER });
  }
  for (const key of group) {
    const def = brokerConfigDef(key)!;
    if (def.default !== null) found.push({ name: key, value: formatConfigValue(def.type, def.default), source: CONFIG_SOURCE.DEFAULT });
  }
  const first = found.findIndex((s) => s.name === name);
  return first < 0 ? [] : found.slice(first);
}

export interface DescribedTopicConfig {
  readonly name: string;
  readonly value: string | null;
  /** The first synonym's source, else DEFAULT. */
  readonly source: number;
  /** Kafka's order: the topic's override, then brokerSynonyms of its first broker synonym. */
  readonly synonyms: ConfigSynonym[];
}

/** One topic config as Kafka's DescribeConfigs shows it (ConfigHelper.createTopicConfigEntry). */
export function describeTopicConfig(def: TopicConfigDef, config: TopicConfig, broker: BrokerConfig): DescribedTopicConfig {
  const value = formatConfigValue(def.type, config.get(def.name));
  const synonyms: ConfigSynonym[] = [];
  if (config.overrides.has(def.name)) synonyms.push({ name: def.name, value, source: CONFIG_SOURCE.DYNAMIC_TOPIC });
  if (def.synonyms.length > 0) {
    const primary = def.synonyms[0].name;
    synonyms.push(...brokerSynonyms(broker, primary, brokerConfigSynonyms(primary)));
  }
  return { name: def.name, value, source: synonyms[0]?.source ?? CONFIG_SOURCE.DEFAULT, synonyms };
}

export interface EffectiveTopicConfig {
  readonly name: string;
  readonly value: string | null;
  readonly source: number;
}

/**
 * The configs a topic created with `topicConfigs` (the request's text values) gets, as Kafka's
 * CreateTopics answer lists them (KafkaConfigSchema.resolveEffectiveTopicConfigs): the request's
 * value; else the first synonym set in the broker's config, converted to the topic's unit; else
 * the topic config's own default. Sorted by name.
 */
export function effectiveTopicConfigs(broker: BrokerConfig, topicConfigs: ReadonlyMap<string, string>): EffectiveTopicConfig[] {
  return [...TOPIC_CONFIGS]
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .map((def) => {
      const given = topicConfigs.get(def.name);
      if (given !== undefined) return { name: def.name, value: given, source: CONFIG_SOURCE.DYNAMIC_TOPIC };
      const set = def.synonyms.find((s) => !broker.isDefault(s.name));
      if (set !== undefined) {
        return { name: def.name, value: formatConfigValue(def.type, scaled(broker.get(set.name), set.scale)), source: CONFIG_SOURCE.STATIC_BROKER };
      }
      return { name: def.name, value: formatConfigValue(def.type, def.default), source: CONFIG_SOURCE.DEFAULT };
    });
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
    return brokerDefaultFor(def, this.broker);
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
