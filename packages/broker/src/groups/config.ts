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
};

export function groupCoordinatorConfig(config: BrokerConfig): GroupCoordinatorConfig {
  return {
    minSessionTimeoutMs: config.int('group.min.session.timeout.ms'),
    maxSessionTimeoutMs: config.int('group.max.session.timeout.ms'),
    initialRebalanceDelayMs: config.int('group.initial.rebalance.delay.ms'),
    newMemberJoinTimeoutMs: NEW_MEMBER_JOIN_TIMEOUT_MS,
    maxGroupSize: config.int('group.max.size'),
    offsetsRetentionMs: config.int('offsets.retention.minutes') * 60_000,
    offsetsRetentionCheckIntervalMs: config.int('offsets.retention.check.interval.ms'),
    offsetMetadataMaxBytes: config.int('offset.metadata.max.bytes'),
  };
}
