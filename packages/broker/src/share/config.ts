// The share coordinator's settings, read once from the broker configuration (Kafka's
// `group.share.*` names, defaults and bounds; config-table.ts defines them).

import type { BrokerConfig } from '../config.ts';
import type { ShareGroupConfigBounds } from './group-configs.ts';

export interface ShareGroupConfig {
  /** group.share.session.timeout.ms: a member is removed after this long without a heartbeat. */
  readonly sessionTimeoutMs: number;
  /** group.share.heartbeat.interval.ms: how often members are told to heartbeat. */
  readonly heartbeatIntervalMs: number;
  /** group.share.record.lock.duration.ms: how long an acquired record stays locked. */
  readonly recordLockDurationMs: number;
  /** group.share.delivery.count.limit: deliveries of a record before it is archived. */
  readonly deliveryCountLimit: number;
  /** group.share.partition.max.record.locks: in-flight records per share-partition. */
  readonly maxInFlightRecords: number;
  /** group.share.max.size: members per share group. */
  readonly maxSize: number;
  /** What a new share-partition starts from: Kafka's group config share.auto.offset.reset (latest). */
  readonly autoOffsetReset: 'earliest' | 'latest';
  /** The group.share.min/max.* bounds group-level configs are checked against. */
  readonly bounds: ShareGroupConfigBounds;
}

export const DEFAULT_SHARE_GROUP_CONFIG: ShareGroupConfig = {
  sessionTimeoutMs: 45_000,
  heartbeatIntervalMs: 5000,
  recordLockDurationMs: 30_000,
  deliveryCountLimit: 5,
  maxInFlightRecords: 2000,
  maxSize: 200,
  autoOffsetReset: 'latest',
  bounds: {
    minSessionTimeoutMs: 45_000,
    maxSessionTimeoutMs: 60_000,
    minHeartbeatIntervalMs: 5000,
    maxHeartbeatIntervalMs: 15_000,
    minRecordLockDurationMs: 15_000,
    maxRecordLockDurationMs: 60_000,
  },
};

/** Kafka's checks of each share-group setting against its min/max bounds. */
function within(config: BrokerConfig, name: string, min: string, max: string): number {
  const v = config.int(name);
  if (config.int(min) > config.int(max)) throw new Error(`${min} (${config.int(min)}) must not be above ${max} (${config.int(max)})`);
  if (v < config.int(min) || v > config.int(max)) throw new Error(`${name} (${v}) must be between ${min} (${config.int(min)}) and ${max} (${config.int(max)})`);
  return v;
}

export function shareGroupConfig(config: BrokerConfig): ShareGroupConfig {
  const sessionTimeoutMs = within(config, 'group.share.session.timeout.ms', 'group.share.min.session.timeout.ms', 'group.share.max.session.timeout.ms');
  const heartbeatIntervalMs = within(
    config,
    'group.share.heartbeat.interval.ms',
    'group.share.min.heartbeat.interval.ms',
    'group.share.max.heartbeat.interval.ms',
  );
  if (heartbeatIntervalMs >= sessionTimeoutMs) throw new Error('group.share.heartbeat.interval.ms must be below group.share.session.timeout.ms');
  return {
    sessionTimeoutMs,
    heartbeatIntervalMs,
    recordLockDurationMs: within(
      config,
      'group.share.record.lock.duration.ms',
      'group.share.min.record.lock.duration.ms',
      'group.share.max.record.lock.duration.ms',
    ),
    deliveryCountLimit: config.int('group.share.delivery.count.limit'),
    maxInFlightRecords: config.int('group.share.partition.max.record.locks'),
    maxSize: config.int('group.share.max.size'),
    autoOffsetReset: DEFAULT_SHARE_GROUP_CONFIG.autoOffsetReset,
    bounds: {
      minSessionTimeoutMs: config.int('group.share.min.session.timeout.ms'),
      maxSessionTimeoutMs: config.int('group.share.max.session.timeout.ms'),
      minHeartbeatIntervalMs: config.int('group.share.min.heartbeat.interval.ms'),
      maxHeartbeatIntervalMs: config.int('group.share.max.heartbeat.interval.ms'),
      minRecordLockDurationMs: config.int('group.share.min.record.lock.duration.ms'),
      maxRecordLockDurationMs: config.int('group.share.max.record.lock.duration.ms'),
    },
  };
}
