// The coordinator's settings, read once from the broker configuration (Kafka's key names).

import type { BrokerConfig } from '../config.ts';

export interface GroupCoordinatorConfig {
  /** group.min.session.timeout.ms */
  readonly minSessionTimeoutMs: number;
  /** group.max.session.timeout.ms */
  readonly maxSessionTimeoutMs: number;
  /** group.initial.rebalance.delay.ms */
  readonly initialRebalanceDelayMs: number;
  /** How long a new member's parked JoinGroup may wait before it is dropped (Kafka: 5 minutes). */
  readonly newMemberJoinTimeoutMs: number;
  /** group.max.size */
  readonly maxGroupSize: number;
  /** offsets.retention.minutes, in ms */
  readonly offsetsRetentionMs: number;
  /** offsets.retention.check.interval.ms */
  readonly offsetsRetentionCheckIntervalMs: number;
  /** offset.metadata.max.bytes: longest metadata string an OffsetCommit may carry. */
  readonly offsetMetadataMaxBytes: number;
  /** group.consumer.session.timeout.ms: KIP-848 members are fenced after this long without a heartbeat. */
  readonly consumerSessionTimeoutMs: number;
  /** group.consumer.heartbeat.interval.ms: how often KIP-848 members are told to heartbeat. */
  readonly consumerHeartbeatIntervalMs: number;
  /** group.consumer.max.size */
  readonly consumerMaxSize: number;
  /** group.consumer.assignors: server-side assignors, the first is the default. */
  readonly consumerAssignors: readonly string[];
}

// Kafka's defaults for settings the broker's config table does not define (yet).
export const NEW_MEMBER_JOIN_TIMEOUT_MS = 5 * 60_000;
export const DEFAULT_MAX_GROUP_SIZE = 2_147_483_647;
export const DEFAULT_OFFSETS_RETENTION_CHECK_INTERVAL_MS = 600_000;
export const DEFAULT_OFFSET_METADATA_MAX_BYTES = 4096;

export const DEFAULT_GROUP_COORDINATOR_CONFIG: GroupCoordinatorConfig = {
  minSessionTimeoutMs: 6000,
  maxSessionTimeoutMs: 1_800_000,
  initialRebalanceDelayMs: 3000,
  newMemberJoinTimeoutMs: NEW_MEMBER_JOIN_TIMEOUT_MS,
  maxGroupSize: DEFAULT_MAX_GROUP_SIZE,
  offsetsRetentionMs: 10080 * 60_000,
  offsetsRetentionCheckIntervalMs: DEFAULT_OFFSETS_RETENTION_CHECK_INTERVAL_MS,
  offsetMetadataMaxBytes: DEFAULT_OFFSET_METADATA_MAX_BYTES,
  consumerSessionTimeoutMs: 45_000,
  consumerHeartbeatIntervalMs: 5000,
  consumerMaxSize: DEFAULT_MAX_GROUP_SIZE,
  consumerAssignors: ['uniform', 'range'],
};

/** Kafka's GroupCoordinatorConfig checks of the KIP-848 timeouts against their bounds. */
function checkConsumerTimeouts(config: BrokerConfig): void {
  const within = (name: string, min: string, max: string) => {
    const v = config.int(name);
    if (config.int(min) > config.int(max)) throw new Error(`${min} (${config.int(min)}) must not be above ${max} (${config.int(max)})`);
    if (v < config.int(min) || v > config.int(max))
      throw new Error(`${name} (${v}) must be between ${min} (${config.int(min)}) and ${max} (${config.int(max)})`);
  };
  within('group.consumer.session.timeout.ms', 'group.consumer.min.session.timeout.ms', 'group.consumer.max.session.timeout.ms');
  within('group.consumer.heartbeat.interval.ms', 'group.consumer.min.heartbeat.interval.ms', 'group.consumer.max.heartbeat.interval.ms');
  if (config.int('group.consumer.heartbeat.interval.ms') >= config.int('group.consumer.session.timeout.ms')) {
    throw new Error('group.consumer.heartbeat.interval.ms must be below group.consumer.session.timeout.ms');
  }
}

export function groupCoordinatorConfig(config: BrokerConfig): GroupCoordinatorConfig {
  checkConsumerTimeouts(config);
  return {
    minSessionTimeoutMs: config.int('group.min.session.timeout.ms'),
    maxSessionTimeoutMs: config.int('group.max.session.timeout.ms'),
    initialRebalanceDelayMs: config.int('group.initial.rebalance.delay.ms'),
    newMemberJoinTimeoutMs: NEW_MEMBER_JOIN_TIMEOUT_MS,
    maxGroupSize: config.int('group.max.size'),
    offsetsRetentionMs: config.int('offsets.retention.minutes') * 60_000,
    offsetsRetentionCheckIntervalMs: config.int('offsets.retention.check.interval.ms'),
    offsetMetadataMaxBytes: config.int('offset.metadata.max.bytes'),
    consumerSessionTimeoutMs: config.int('group.consumer.session.timeout.ms'),
    consumerHeartbeatIntervalMs: config.int('group.consumer.heartbeat.interval.ms'),
    consumerMaxSize: config.int('group.consumer.max.size'),
    consumerAssignors: config.list('group.consumer.assignors'),
  };
}
