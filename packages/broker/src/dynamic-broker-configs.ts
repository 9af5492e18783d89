// Dynamic broker configs (Kafka's DynamicBrokerConfig): broker configs changed at run time with
// (Incremental)AlterConfigs on a BROKER resource, per broker (resource name "<node.id>") or as the
// cluster-wide default (resource name ""), without a restart. Only keys the broker really applies
// live are dynamic here (DYNAMIC_BROKER_CONFIGS); Kafka lets both of them be set per broker and as
// the default. A config's value on a broker is, in Kafka's precedence: its per-broker dynamic
// value, else the dynamic default, else server.properties / --override, else the config's default.
//
// Where they live: a single node keeps them in `sluice-dynamic-broker-configs.json` in the first
// log dir, replaced atomically before an alteration is answered (so they survive restarts); in
// cluster mode they are the cluster's, in etcd (cluster/stores/etcd-dynamic-config-store.ts, a
// subclass of the memory store here that follows etcd's watch), and every broker sees every
// broker's and the default's.
//
// Contract: single-threaded (the event loop). `alter` is all-or-nothing: `compute` gets the
// scope's current values and returns the new whole set (it may throw ConfigError, and then
// nothing changes); durable before it settles. Listeners run after every change, whoever made it.

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type BrokerConfig, brokerConfigDef, ConfigError, type ConfigValue, parseConfigValue } from './config.ts';
import { writeFileAtomically } from './topics.ts';

/** Keys Sluice applies live, each settable per broker and as the cluster-wide default (Kafka: both). */
export const DYNAMIC_BROKER_CONFIGS: ReadonlySet<string> = new Set(['leader.replication.throttled.rate', 'follower.replication.throttled.rate']);

/** A broker's own dynamic configs (its node id), or the cluster-wide defaults (null). */
export type DynamicScope = number | null;

/** One scope's values as Kafka stores them: the text given, validated when it was set. */
export type DynamicValues = ReadonlyMap<string, string>;

const NONE: DynamicValues = new Map();

/**
 * Why a key cannot be set dynamically, or null when it can: Kafka refuses non-dynamic configs
 * with INVALID_REQUEST; the message keeps the wording Sluice answered before any config was
 * dynamic, naming the keys that are.
 */
export function notDynamicProblem(name: string): string | null {
  if (DYNAMIC_BROKER_CONFIGS.has(name)) return null;
  return 'Sluice broker configs are static; set them in server.properties or with --override.';
}

/** The value `text` parses to for dynamic key `name`; throws ConfigError as the static parse does. */
export function parseDynamicValue(name: string, text: string): ConfigValue {
  const def = brokerConfigDef(name);
  if (def === undefined || !DYNAMIC_BROKER_CONFIGS.has(name)) throw new ConfigError(name, 'not a dynamic broker config');
  const value = parseConfigValue(def, text);
  const problem = def.validator?.(value) ?? null;
  if (problem !== null) throw new ConfigError(name, problem);
  return value;
}

export class MemoryDynamicBrokerConfigStore {
  /** By scope key: String(node id), or DEFAULT_SCOPE. */
  protected scopes = new Map<string, DynamicValues>();
  private readonly listeners: (() => void)[] = [];

  /** The values set for `scope` (empty when none). */
  valuesOf(scope: DynamicScope): DynamicValues {
    return this.scopes.get(scopeKey(scope)) ?? NONE;
  }

  /** Every scope with at least one value. */
  all(): Array<{ scope: DynamicScope; values: DynamicValues }> {
    return [...this.scopes].map(([key, values]) => ({ scope: key === DEFAULT_SCOPE ? null : Number(key), values }));
  }

  /** Replaces `scope`'s values with what `compute` makes of them (see the header). */
  alter(scope: DynamicScope, compute: (current: DynamicValues) => DynamicValues): void | Promise<void> {
    const next = new Map(this.scopes);
    const values = compute(this.valuesOf(scope));
    if (values.size === 0) next.delete(scopeKey(scope));
    else next.set(scopeKey(scope), new Map(values));
    this.persist(next);
    this.install(next);
  }

  onChange(listener: () => void): void {
    this.listeners.push(listener);
  }

  protected persist(_next: ReadonlyMap<string, DynamicValues>): void {}

  /** Makes `next` the store's state and tells the listeners. */
  protected install(next: Map<string, DynamicValues>): void {
    this.scopes = next;
    for (const l of this.listeners) l();
  }
}

/** The scope key of the cluster-wide defaults (Kafka's ZooKeeper node name for them). */
export const DEFAULT_SCOPE = '<default>';

export function scopeKey(scope: DynamicScope): string {
  return scope === null ? DEFAULT_SCOPE : String(scope);
}

export const DYNAMIC_BROKER_CONFIGS_FILE = 'sluice-dynamic-broker-configs.json';

// File format (version 1), set in stone:
// { "version": 1, "scopes": { "<default>": { "<name>": "<value>" }, "<node.id>": { … } } }
interface FileV1 {
  version: 1;
  scopes: Record<string, Record<string, string>>;
}

/** One scope's values as the file and etcd spell them, checked (a value that no longer parses is dropped by the reader). */
export function valuesFromRecord(record: unknown, where: string): DynamicValues {
  if (typeof record !== 'object' || record === null) throw new Error(`${where}: not a dynamic broker config record`);
  const out = new Map<string, string>();
  for (const [name, value] of Object.entries(record)) {
    if (typeof value !== 'string') throw new Error(`${where}: ${name} is not a string`);
    out.set(name, value);
  }
  return out;
}

export class FileDynamicBrokerConfigStore extends MemoryDynamicBrokerConfigStore {
  readonly path: string;
  private readonly dir: string;

  /** Loads `<dir>/sluice-dynamic-broker-configs.json` when present; a corrupt file throws. */
  constructor(dir: string) {
    super();
    this.dir = dir;
    this.path = join(dir, DYNAMIC_BROKER_CONFIGS_FILE);
    if (!existsSync(this.path)) return;
    const data = JSON.parse(readFileSync(this.path, 'utf8')) as FileV1;
    if (data.version !== 1 || typeof data.scopes !== 'object' || data.scopes === null)
      throw new Error(`${this.path}: unsupported dynamic broker configs file (version ${String(data.version)})`);
    for (const [key, record] of Object.entries(data.scopes)) this.scopes.set(key, valuesFromRecord(record, this.path));
  }

  protected override persist(next: ReadonlyMap<string, DynamicValues>): void {
    const scopes = Object.fromEntries([...next].map(([key, values]) => [key, Object.fromEntries(values)]));
    writeFileAtomically(this.dir, this.path, JSON.stringify({ version: 1, scopes } satisfies FileV1, null, 1) + '\n');
  }
}

/**
 * What this broker runs with: the store's values for its node id and the default over its static
 * config. Reading a value costs two map lookups, so the quotas read it at every use and a change
 * takes effect at once.
 */
export class DynamicBrokerConfigs {
  readonly store: MemoryDynamicBrokerConfigStore;
  private readonly config: BrokerConfig;
  private readonly nodeId: number;

  constructor(config: BrokerConfig, store: MemoryDynamicBrokerConfigStore) {
    this.config = config;
    this.nodeId = config.nodeId;
    this.store = store;
  }

  /** The per-broker dynamic values of this broker. */
  get perBroker(): DynamicValues {
    return this.store.valuesOf(this.nodeId);
  }

  /** The cluster-wide dynamic defaults. */
  get defaults(): DynamicValues {
    return this.store.valuesOf(null);
  }

  /** The value this broker runs with (see the header); a stored value that no longer parses is skipped. */
  get(name: string): ConfigValue {
    for (const values of [this.perBroker, this.defaults]) {
      const text = values.get(name);
      if (text === undefined) continue;
      try {
        return parseDynamicValue(name, text);
      } catch {
        // Written by a build that accepted it; fall through to the next source.
      }
    }
    return this.config.get(name);
  }

  num(name: string): number {
    return this.get(name) as number;
  }
}
