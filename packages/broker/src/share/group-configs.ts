// Group-level configs of share groups (config resource type GROUP, 32; KIP-932, Kafka's
// GroupConfig): set with IncrementalAlterConfigs, read with DescribeConfigs, persisted in
// `__share_group_state` (share-state-records.ts, key version 1) so they survive a restart.
//
//   share.auto.offset.reset          where a new share-partition starts: latest (default), earliest
//   share.record.lock.duration.ms    acquisition lock of the group's records (between
//                                    group.share.min/max.record.lock.duration.ms)
//   share.session.timeout.ms         member session timeout (group.share.min/max.session.timeout.ms)
//   share.heartbeat.interval.ms      heartbeat interval (group.share.min/max.heartbeat.interval.ms)
//
// An unset config takes the broker's value (group.share.*). Kafka's `by_duration:` reset and the
// KIP-848 consumer-group configs are not served: setting them is INVALID_CONFIG.
//
// Concurrency: event loop only.

import type { ShareGroupConfig } from './config.ts';

export interface ShareGroupConfigBounds {
  readonly minSessionTimeoutMs: number;
  readonly maxSessionTimeoutMs: number;
  readonly minHeartbeatIntervalMs: number;
  readonly maxHeartbeatIntervalMs: number;
  readonly minRecordLockDurationMs: number;
  readonly maxRecordLockDurationMs: number;
}

export interface GroupConfigDef {
  readonly name: string;
  readonly type: 'int' | 'string';
  readonly doc: string;
  /** The broker-level value a group without its own setting uses. */
  readonly brokerValue: (config: ShareGroupConfig) => string;
  /** A problem with `value`, or null. */
  readonly validate: (value: string, bounds: ShareGroupConfigBounds) => string | null;
}

const intWithin = (value: string, min: number, max: number): string | null => {
  if (!/^-?\d+$/.test(value)) return 'must be an integer';
  const n = Number(value);
  return n < min || n > max ? `must be between ${min} and ${max}` : null;
};

export const GROUP_CONFIG_DEFS: readonly GroupConfigDef[] = [
  {
    name: 'share.auto.offset.reset',
    type: 'string',
    doc: 'Where a new share-partition of the group starts: latest or earliest.',
    brokerValue: (c) => c.autoOffsetReset,
    validate: (v) => (v === 'latest' || v === 'earliest' ? null : 'must be latest or earliest'),
  },
  {
    name: 'share.record.lock.duration.ms',
    type: 'int',
    doc: 'How long a record acquired by a member of the group stays locked to it.',
    brokerValue: (c) => String(c.recordLockDurationMs),
    validate: (v, b) => intWithin(v, b.minRecordLockDurationMs, b.maxRecordLockDurationMs),
  },
  {
    name: 'share.session.timeout.ms',
    type: 'int',
    doc: 'A member of the group is removed after this long without a heartbeat.',
    brokerValue: (c) => String(c.sessionTimeoutMs),
    validate: (v, b) => intWithin(v, b.minSessionTimeoutMs, b.maxSessionTimeoutMs),
  },
  {
    name: 'share.heartbeat.interval.ms',
    type: 'int',
    doc: 'How often members of the group are told to heartbeat.',
    brokerValue: (c) => String(c.heartbeatIntervalMs),
    validate: (v, b) => intWithin(v, b.minHeartbeatIntervalMs, b.maxHeartbeatIntervalMs),
  },
];

const DEFS = new Map(GROUP_CONFIG_DEFS.map((d) => [d.name, d]));

export interface GroupConfigOperation {
  readonly name: string;
  /** 0 SET, 1 DELETE, 2 APPEND, 3 SUBTRACT (IncrementalAlterConfigs' codes). */
  readonly operation: number;
  readonly value: string | null;
}

/** The group's settings after `operations`, or the problem (INVALID_CONFIG). */
export function applyGroupConfigOperations(
  current: ReadonlyMap<string, string>,
  operations: readonly GroupConfigOperation[],
  bounds: ShareGroupConfigBounds,
): { readonly configs: Map<string, string> } | { readonly error: string } {
  const next = new Map(current);
  for (const op of operations) {
    const def = DEFS.get(op.name);
    if (def === undefined) return { error: `Unknown group config name: ${op.name}` };
    if (op.operation === 1) {
      next.delete(op.name);
      continue;
    }
    if (op.operation !== 0) return { error: `${op.name}: only SET and DELETE apply to group configs` };
    const problem = def.validate(op.value ?? '', bounds);
    if (problem !== null) return { error: `Invalid value ${op.value} for configuration ${op.name}: ${problem}` };
    next.set(op.name, op.value ?? '');
  }
  // Kafka's GroupConfig check across the two: the heartbeat interval stays below the session timeout.
  const session = Number(next.get('share.session.timeout.ms') ?? bounds.maxSessionTimeoutMs + 1);
  const heartbeat = Number(next.get('share.heartbeat.interval.ms') ?? -1);
  if (next.has('share.session.timeout.ms') && next.has('share.heartbeat.interval.ms') && heartbeat >= session) {
    return { error: 'share.heartbeat.interval.ms must be less than share.session.timeout.ms' };
  }
  return { configs: next };
}

/** The group's effective settings: its own where set, the broker's otherwise. */
export function effectiveShareConfig(broker: ShareGroupConfig, own: ReadonlyMap<string, string> | undefined): ShareGroupConfig {
  if (own === undefined || own.size === 0) return broker;
  const int = (name: string, fallback: number) => (own.has(name) ? Number(own.get(name)) : fallback);
  const reset = own.get('share.auto.offset.reset');
  return {
    ...broker,
    autoOffsetReset: reset === 'earliest' || reset === 'latest' ? reset : broker.autoOffsetReset,
    recordLockDurationMs: int('share.record.lock.duration.ms', broker.recordLockDurationMs),
    sessionTimeoutMs: int('share.session.timeout.ms', broker.sessionTimeoutMs),
    heartbeatIntervalMs: int('share.heartbeat.interval.ms', broker.heartbeatIntervalMs),
  };
}
