// The transaction coordinator's settings (Kafka's key names; Sluice-only ones under `sluice.`).
// The broker's config table (config.ts) defines the keys with these defaults (Kafka's);
// `transactionCoordinatorConfig` reads them.

import type { BrokerConfig } from '../config.ts';

export interface TransactionCoordinatorConfig {
  /** transaction.max.timeout.ms: InitProducerId above it is INVALID_TRANSACTION_TIMEOUT. */
  readonly transactionMaxTimeoutMs: number;
  /** transactional.id.expiration.ms: an idle transactional id (no transaction open) is removed after this. */
  readonly transactionalIdExpirationMs: number;
  /** transaction.abort.timed.out.transaction.cleanup.interval.ms: how often timed-out transactions are aborted. */
  readonly abortTimedOutTransactionsIntervalMs: number;
  /** transaction.remove.expired.transaction.cleanup.interval.ms: how often expired transactional ids are removed. */
  readonly removeExpiredTransactionalIdsIntervalMs: number;
  /**
   * The finalized `transaction.version` feature level this broker advertises: 1 = the classic
   * protocol (KIP-890 part 1's verification only), 2 = KIP-890 part 2 (epoch bump on every
   * EndTxn). A client's request may use TV2 only when this is 2. See README.md for the decision.
   */
  readonly transactionVersion: 1 | 2;
  /** sluice.transaction.marker.retry.backoff.ms: wait before re-sending markers a partition refused with a retriable error. */
  readonly markerRetryBackoffMs: number;
}

export const DEFAULT_TRANSACTION_COORDINATOR_CONFIG: TransactionCoordinatorConfig = {
  transactionMaxTimeoutMs: 900_000,
  transactionalIdExpirationMs: 604_800_000,
  abortTimedOutTransactionsIntervalMs: 10_000,
  removeExpiredTransactionalIdsIntervalMs: 3_600_000,
  transactionVersion: 1,
  markerRetryBackoffMs: 100,
};

/** Kafka's defaults for the `__transaction_state` topic (transaction.state.log.*). */
export const TRANSACTION_STATE_LOG_DEFAULTS = {
  'transaction.state.log.num.partitions': 50,
  'transaction.state.log.replication.factor': 3,
  'transaction.state.log.min.isr': 2,
  'transaction.state.log.segment.bytes': 104_857_600,
  'transaction.state.log.load.buffer.size': 5_242_880,
} as const;

/** The coordinator's settings from the broker configuration. */
export function transactionCoordinatorConfig(config: BrokerConfig): TransactionCoordinatorConfig {
  return {
    transactionMaxTimeoutMs: config.int('transaction.max.timeout.ms'),
    transactionalIdExpirationMs: config.int('transactional.id.expiration.ms'),
    abortTimedOutTransactionsIntervalMs: config.int('transaction.abort.timed.out.transaction.cleanup.interval.ms'),
    removeExpiredTransactionalIdsIntervalMs: config.int('transaction.remove.expired.transaction.cleanup.interval.ms'),
    // Not a setting: the feature level this broker finalizes (README, "transaction.version").
    transactionVersion: DEFAULT_TRANSACTION_COORDINATOR_CONFIG.transactionVersion,
    markerRetryBackoffMs: config.int('sluice.transaction.marker.retry.backoff.ms'),
  };
}
