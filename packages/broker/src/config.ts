// Broker configuration: Kafka's own property names, one table of { name, type, default,
// validator, doc }. Sluice-only knobs live under `sluice.` with units last. Topic-level configs
// (`segment.bytes`, `retention.ms`, ...) take their defaults from the broker keys named in
// `TOPIC_CONFIGS` below, as Kafka's LogConfig does.

import { BROKER_CONFIGS, LONG_MAX } from './config-table.ts';
import { parseSecurityProtocolMap, SECURITY_PROTOCOLS, type SecurityProtocol, securityProtocolOf } from './security/listener-security.ts';

export type ConfigType = 'string' | 'int' | 'long' | 'boolean' | 'list' | 'double';
export type ConfigValue = string | number | boolean | string[] | null;

export interface ConfigDef {
  readonly name: string;
  readonly type: ConfigType;
  /** null means "not set" (e.g. log.roll.ms falls back to log.roll.hours). */
  readonly default: ConfigValue;
  readonly doc: string;
  readonly validator?: (value: ConfigValue) => string | null;
  /** Kafka's PASSWORD type: never printed (startup line, DescribeConfigs answers null). */
  readonly sensitive?: boolean;
  /** May also be set per listener as `listener.name.<listener>.<name>` (Kafka's listener-prefixed keys). */
  readonly perListener?: boolean;
}

/** Kafka's ConfigResource.Type ids of the resources Sluice has configs for. */
export const RESOURCE_TOPIC = 2;
export const RESOURCE_BROKER = 4;
/** Kafka's ConfigResource.Type.GROUP: share groups' group-level configs. */
export const RESOURCE_GROUP = 32;

export class ConfigError extends Error {
  readonly key: string;
  constructor(key: string, message: string) {
    super(`invalid config ${key}: ${message}`);
    this.name = 'ConfigError';
    this.key = key;
  }
}

const LONG_MAX_TEXT = '9223372036854775807';
const LONG_MIN_TEXT = '-9223372036854775808';

export { BROKER_CONFIGS, LONG_MAX };

const BY_NAME = new Map(BROKER_CONFIGS.map((d) => [d.name, d]));

export function brokerConfigDef(name: string): ConfigDef | undefined {
  return BY_NAME.get(name);
}

/** Parses one textual value (from a properties file, --override or a request) by the key's type. */
export function parseConfigValue(def: ConfigDef, raw: string): ConfigValue {
  const text = raw.trim();
  switch (def.type) {
    case 'string':
      return text;
    case 'boolean':
      // Kafka's ConfigDef: true or false, in any case.
      if (text.toLowerCase() === 'true') return true;
      if (text.toLowerCase() === 'false') return false;
      throw new ConfigError(def.name, `expected true or false, got "${raw}"`);
    case 'int':
    case 'long': {
      if (!/^[+-]?\d+$/.test(text)) throw new ConfigError(def.name, `expected an integer, got "${raw}"`);
      if (def.type === 'int') {
        const n = Number(text);
        if (n > 2147483647 || n < -2147483648) throw new ConfigError(def.name, `out of int range: ${raw}`);
        return n;
      }
      const big = BigInt(text);
      if (big > BigInt(LONG_MAX_TEXT) || big < BigInt(LONG_MIN_TEXT)) throw new ConfigError(def.name, `out of long range: ${raw}`);
      // Longs beyond 2^53 - 1 (Kafka's Long.MAX_VALUE among them) mean "never" / "unlimited".
      return Math.max(Math.min(Number(big), LONG_MAX), -LONG_MAX);
    }
    case 'double': {
      const n = Number(text);
      if (text === '' || Number.isNaN(n)) throw new ConfigError(def.name, `expected a number, got "${raw}"`);
      return n;
    }
    case 'list':
      return text === ''
        ? []
        : text
            .split(',')
            .map((s) => s.trim())
            .filter((s) => s !== '');
  }
}

/**
 * A config value as Kafka prints it (ConfigDef.convertToString): lists comma-joined, doubles as
 * Java's Double.toString, and the Long.MAX_VALUE sentinel as "9223372036854775807".
 */
export function formatConfigValue(type: ConfigType, value: ConfigValue): string | null {
  if (value === null) return null;
  if (Array.isArray(value)) return value.join(',');
  if (typeof value === 'number') {
    if (type === 'long' && value >= LONG_MAX) return LONG_MAX_TEXT;
    if (type === 'long' && value <= -LONG_MAX) return LONG_MIN_TEXT;
    if (type === 'double') return javaDoubleText(value);
  }
  return String(value);
}

/** Java's Double.toString: at least one fraction digit; "computerized" notation outside [1e-3, 1e7). */
function javaDoubleText(x: number): string {
  if (Number.isNaN(x)) return 'NaN';
  if (!Number.isFinite(x)) return x > 0 ? 'Infinity' : '-Infinity';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  const abs = Math.abs(x);
  if (abs >= 1e-3 && abs < 1e7) {
    const text = String(x);
    return text.includes('.') ? text : `${text}.0`;
  }
  const [mantissa, exponent] = x.toExponential().split('e');
  return `${mantissa.includes('.') ? mantissa : `${mantissa}.0`}E${Number(exponent)}`;
}

/**
 * Kafka's DynamicBrokerConfig.brokerConfigSynonyms: the broker keys that set the same thing, in
 * precedence order (the first that has a value wins). Every other key is its own only synonym.
 */
export function brokerConfigSynonyms(name: string): string[] {
  switch (name) {
    case 'log.roll.ms':
    case 'log.roll.hours':
      return ['log.roll.ms', 'log.roll.hours'];
    case 'log.roll.jitter.ms':
    case 'log.roll.jitter.hours':
      return ['log.roll.jitter.ms', 'log.roll.jitter.hours'];
    case 'log.flush.interval.ms': // log.flush.scheduler.interval.ms is its default
      return ['log.flush.interval.ms', 'log.flush.scheduler.interval.ms'];
    case 'log.retention.ms':
    case 'log.retention.minutes':
    case 'log.retention.hours':
      return ['log.retention.ms', 'log.retention.minutes', 'log.retention.hours'];
    default:
      return [name];
  }
}

/** Parses a Java-style .properties text: `key=value` or `key: value`, # and ! comments. */
export function parseProperties(text: string): Map<string, string> {
  const out = new Map<string, string>();
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    let line = lines[i].trim();
    if (line === '' || line.startsWith('#') || line.startsWith('!')) continue;
    while (line.endsWith('\\') && i + 1 < lines.length) line = line.slice(0, -1) + lines[++i].trim();
    const m = /^([^=:\s]+)\s*[=:\s]\s*(.*)$/.exec(line);
    if (m === null) out.set(line, '');
    else out.set(m[1], m[2]);
  }
  return out;
}

/** The effective broker configuration: every key of BROKER_CONFIGS resolved to a value. */
export class BrokerConfig {
  private readonly values = new Map<string, ConfigValue>();
  /** Keys set explicitly (file or override), for DescribeConfigs sources and the startup line. */
  readonly explicit = new Set<string>();
  /** `listener.name.<l>.[<mechanism>.]<key>` settings, by their full key. */
  private readonly listenerValues = new Map<string, ConfigValue>();

  constructor(settings: Iterable<[string, string | number | boolean | string[]]> = []) {
    for (const def of BROKER_CONFIGS) this.values.set(def.name, def.default);
    for (const [key, raw] of settings) {
      const perListener = listenerPrefixedKey(key);
      const def = BY_NAME.get(perListener === null ? key : perListener.key);
      if (def === undefined) throw new ConfigError(key, 'unknown config key');
      if (perListener !== null && def.perListener !== true) throw new ConfigError(key, `${def.name} cannot be set per listener`);
      const value = typeof raw === 'string' ? parseConfigValue(def, raw) : raw;
      const problem = def.validator?.(value) ?? null;
      if (problem !== null) throw new ConfigError(key, problem);
      if (perListener !== null) {
        this.listenerValues.set(key, value);
        continue;
      }
      this.values.set(key, value);
      this.explicit.add(key);
    }
    if (this.explicit.has('broker.id') && !this.explicit.has('node.id')) {
      this.values.set('node.id', this.values.get('broker.id')!);
    }
    this.validateCrossKeys();
  }

  get(name: string): ConfigValue {
    if (!this.values.has(name)) throw new Error(`BUG: unknown config key ${name}`);
    return this.values.get(name)!;
  }

  int(name: string): number {
    return this.get(name) as number;
  }

  str(name: string): string {
    return this.get(name) as string;
  }

  bool(name: string): boolean {
    return this.get(name) as boolean;
  }

  list(name: string): string[] {
    return (this.get(name) as string[] | null) ?? [];
  }

  isDefault(name: string): boolean {
    return !this.explicit.has(name);
  }

  /** log.dirs, else log.dir. */
  get logDirs(): string[] {
    const dirs = this.list('log.dirs');
    return dirs.length > 0 ? dirs : [this.str('log.dir')];
  }

  get nodeId(): number {
    return this.int('node.id');
  }

  /** log.roll.ms, else log.roll.hours. */
  get rollMs(): number {
    const ms = this.get('log.roll.ms');
    return typeof ms === 'number' ? ms : this.int('log.roll.hours') * 3_600_000;
  }

  /** log.retention.ms, else minutes, else hours (Kafka's precedence). */
  get retentionMs(): number {
    const ms = this.get('log.retention.ms');
    if (typeof ms === 'number') return ms < 0 ? -1 : ms;
    const minutes = this.get('log.retention.minutes');
    if (typeof minutes === 'number') return minutes < 0 ? -1 : minutes * 60_000;
    const hours = this.int('log.retention.hours');
    return hours < 0 ? -1 : hours * 3_600_000;
  }

  /** `listener.security.protocol.map`, parsed. */
  get securityProtocolMap(): ReadonlyMap<string, SecurityProtocol> {
    return parseSecurityProtocolMap(this.str('listener.security.protocol.map'));
  }

  get listeners(): Listener[] {
    const map = this.securityProtocolMap;
    return this.list('listeners').map((l) => withProtocol('listeners', parseListener('listeners', l), map));
  }

  /**
   * What Metadata tells clients, per listener: its `advertised.listeners` entry when there is
   * one, else the listener itself (a listener on port 0 is replaced by its bound port once bound).
   */
  get advertisedListeners(): Listener[] {
    const map = this.securityProtocolMap;
    const advertised = this.list('advertised.listeners').map((l) => withProtocol('advertised.listeners', parseListener('advertised.listeners', l), map));
    return this.listeners.map((l) => advertised.find((a) => a.name === l.name) ?? l);
  }

  /**
   * The listener brokers use between themselves (cluster mode: a follower dials its leader's
   * advertised endpoint of this name): `inter.broker.listener.name`, else the listener named after
   * `security.inter.broker.protocol` (Kafka's older form), else the first listener.
   */
  get interBrokerListener(): Listener {
    const listeners = this.listeners;
    const explicit = this.get('inter.broker.listener.name');
    const name = typeof explicit === 'string' && explicit !== '' ? explicit.toUpperCase() : this.str('security.inter.broker.protocol');
    return listeners.find((l) => l.name === name) ?? listeners[0];
  }

  /** Names of the listeners with an explicit `advertised.listeners` entry. */
  get explicitlyAdvertised(): ReadonlySet<string> {
    return new Set(this.list('advertised.listeners').map((l) => parseListener('advertised.listeners', l).name));
  }

  /**
   * A listener's value of a per-listener key: `listener.name.<l>.<mechanism>.<key>` (when a
   * mechanism is given), else `listener.name.<l>.<key>`, else the broker-wide `<key>`.
   */
  listenerValue(listenerName: string, key: string, mechanism?: string): ConfigValue {
    const prefix = `listener.name.${listenerName.toLowerCase()}.`;
    if (mechanism !== undefined) {
      const v = this.listenerValues.get(`${prefix}${mechanism.toLowerCase()}.${key}`);
      if (v !== undefined) return v;
    }
    const v = this.listenerValues.get(`${prefix}${key}`);
    return v !== undefined ? v : this.get(key);
  }

  /** Where a listener's value of `key` was set, for error messages. */
  listenerKeyName(listenerName: string, key: string, mechanism?: string): string {
    const prefix = `listener.name.${listenerName.toLowerCase()}.`;
    if (mechanism !== undefined && this.listenerValues.has(`${prefix}${mechanism.toLowerCase()}.${key}`)) return `${prefix}${mechanism.toLowerCase()}.${key}`;
    if (this.listenerValues.has(`${prefix}${key}`)) return `${prefix}${key}`;
    return key;
  }

  /** Keys that differ from their default, for the startup log line. */
  nonDefaults(): Record<string, ConfigValue> {
    const out: Record<string, ConfigValue> = {};
    for (const key of this.explicit) {
      const value = this.values.get(key)!;
      // Set explicitly to its default value: not a difference worth a line at startup.
      if (JSON.stringify(value) === JSON.stringify(BY_NAME.get(key)?.default)) continue;
      out[key] = BY_NAME.get(key)?.sensitive === true ? '[hidden]' : value;
    }
    for (const [key, value] of this.listenerValues) {
      const base = listenerPrefixedKey(key)?.key;
      out[key] = base !== undefined && BY_NAME.get(base)?.sensitive === true ? '[hidden]' : value;
    }
    return out;
  }

  private validateCrossKeys(): void {
    const listeners = this.listeners;
    if (listeners.length === 0) throw new ConfigError('listeners', 'at least one listener is required');
    const names = new Set<string>();
    for (const l of listeners) {
      if (names.has(l.name)) throw new ConfigError('listeners', `listener ${l.name} is defined twice (each listener needs its own name)`);
      names.add(l.name);
    }
    for (const a of this.list('advertised.listeners').map((l) => parseListener('advertised.listeners', l))) {
      if (!names.has(a.name)) throw new ConfigError('advertised.listeners', `${a.name} is not one of the listeners (${[...names].join(', ')})`);
    }
    void this.advertisedListeners;
    const interBroker = this.get('inter.broker.listener.name');
    if (typeof interBroker === 'string' && interBroker !== '' && !names.has(interBroker.toUpperCase())) {
      throw new ConfigError('inter.broker.listener.name', `${interBroker} is not one of the listeners (${[...names].join(', ')})`);
    }
    for (const key of this.listenerValues.keys()) {
      const listener = listenerPrefixedKey(key)?.listener;
      if (listener !== undefined && !names.has(listener)) throw new ConfigError(key, `there is no listener ${listener} (listeners: ${[...names].join(', ')})`);
    }
  }
}

/** SSL and SASL_SSL listeners run TLS (in the native writer); SASL_SSL adds the SASL gate on top. */
export function usesTls(protocol: SecurityProtocol): boolean {
  return protocol === 'SSL' || protocol === 'SASL_SSL';
}

export interface Listener {
  readonly name: string;
  readonly securityProtocol: SecurityProtocol;
  readonly host: string;
  readonly port: number;
}

/** `NAME://host:port` (host may be empty = all interfaces, or [v6]). */
export function parseListener(key: string, text: string): Listener {
  const m = /^([A-Za-z_][A-Za-z0-9_]*):\/\/(\[[^\]]*\]|[^:]*):(\d+)$/.exec(text);
  if (m === null) throw new ConfigError(key, `"${text}" is not NAME://host:port`);
  const port = Number(m[3]);
  if (port > 65535) throw new ConfigError(key, `port out of range in "${text}"`);
  const name = m[1].toUpperCase();
  // The protocol comes from listener.security.protocol.map (withProtocol); Kafka's default map
  // names each protocol after itself, which this default mirrors.
  const securityProtocol = (SECURITY_PROTOCOLS as readonly string[]).includes(name) ? (name as SecurityProtocol) : 'PLAINTEXT';
  return { name, securityProtocol, host: m[2].replace(/^\[|\]$/g, ''), port };
}

function withProtocol(key: string, listener: Listener, map: ReadonlyMap<string, SecurityProtocol>): Listener {
  try {
    return { ...listener, securityProtocol: securityProtocolOf(listener.name, map) };
  } catch (err) {
    throw new ConfigError(key, `${(err as Error).message} (add it to listener.security.protocol.map)`);
  }
}

/**
 * Keys set per mechanism as well as per listener: `listener.name.<l>.<mechanism>.<key>`. The
 * `sasl.oauthbearer.*` keys too: Kafka's OAUTHBEARER validator reads each with the mechanism
 * prefix first (`listener.name.<l>.oauthbearer.sasl.oauthbearer.jwks.endpoint.url`, the form its
 * documentation shows), then without.
 */
const PER_MECHANISM_KEYS = [
  'sasl.jaas.config',
  'connections.max.reauth.ms',
  'sasl.server.callback.handler.class',
  'sasl.login.callback.handler.class',
  'sasl.oauthbearer.jwks.endpoint.url',
  'sasl.oauthbearer.jwks.endpoint.refresh.ms',
  'sasl.oauthbearer.expected.audience',
  'sasl.oauthbearer.expected.issuer',
  'sasl.oauthbearer.clock.skew.seconds',
  'sasl.oauthbearer.sub.claim.name',
  'sasl.oauthbearer.scope.claim.name',
];

/**
 * `listener.name.<listener>.[<mechanism>.]<key>` → its parts (listener upper-cased, as listener
 * names are), or null for any other key. The key must be one that may be set per listener.
 */
export function listenerPrefixedKey(full: string): { readonly listener: string; readonly mechanism: string | null; readonly key: string } | null {
  const m = /^listener\.name\.([A-Za-z0-9_]+)\.(.+)$/.exec(full);
  if (m === null) return null;
  const [, listener, rest] = m;
  if (listener === undefined || rest === undefined) return null;
  for (const key of PER_MECHANISM_KEYS) {
    if (rest.endsWith(`.${key}`)) {
      const mechanism = rest.slice(0, -key.length - 1);
      if (/^[a-z0-9-]+$/i.test(mechanism) && !mechanism.includes('.')) return { listener: listener.toUpperCase(), mechanism: mechanism.toUpperCase(), key };
    }
  }
  return { listener: listener.toUpperCase(), mechanism: null, key: rest };
}
