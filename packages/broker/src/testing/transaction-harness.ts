// Shared set-up for the transaction coordinator's tests: a coordinator over MemoryTransactionLog,
// MemoryMarkerWriter and ManualClock, with helpers to drive it and to read what it wrote.

import { ManualClock } from './manual-clock.ts';
import { groupPartition, OFFSETS_TOPIC } from '../groups/partitioning.ts';
import { DEFAULT_TRANSACTION_COORDINATOR_CONFIG, type TransactionCoordinatorConfig } from '../transactions/config.ts';
import { type TransactionCoordinator as Coordinator, TransactionCoordinator } from '../transactions/coordinator.ts';
import { MemoryMarkerWriter } from '../transactions/memory-marker-writer.ts';
import { MemoryTransactionLog } from '../transactions/memory-transaction-log.ts';
import {
  decodeTransactionLogKey,
  decodeTransactionLogValue,
  encodeTransactionLogKey,
  encodeTransactionLogValue,
  type TransactionLogValue,
} from '../transactions/records.ts';
import { stateFromStatus, type TransactionState } from '../transactions/state.ts';

export const START_MS = 1_700_000_000_000;
export const OFFSETS_PARTITIONS = 50;

export interface Probe {
  started: number;
  committed: number;
  aborted: number;
  timedOut: number;
}

export interface Harness {
  readonly clock: ManualClock;
  readonly log: MemoryTransactionLog;
  readonly markers: MemoryMarkerWriter;
  readonly coordinator: Coordinator;
  readonly probe: Probe;
  readonly config: TransactionCoordinatorConfig;
  /** Ids handed out so far by the fake ProducerIdManager. */
  readonly issuedIds: number[];
}

export interface HarnessOptions {
  readonly config?: Partial<TransactionCoordinatorConfig>;
  readonly log?: MemoryTransactionLog;
  readonly clock?: ManualClock;
  readonly markers?: MemoryMarkerWriter;
  readonly firstProducerId?: number;
  /** Skip load() (to observe the coordinator before or while it loads). */
  readonly noLoad?: boolean;
  /** Cluster mode: the coordinator serves only the partitions it is told to load. */
  readonly partitioned?: boolean;
}

export async function harness(options: HarnessOptions = {}): Promise<Harness> {
  const clock = options.clock ?? new ManualClock(START_MS);
  const log = options.log ?? new MemoryTransactionLog(4);
  const markers = options.markers ?? new MemoryMarkerWriter();
  const config = { ...DEFAULT_TRANSACTION_COORDINATOR_CONFIG, ...options.config };
  const probe: Probe = { started: 0, committed: 0, aborted: 0, timedOut: 0 };
  const issuedIds: number[] = [];
  let next = options.firstProducerId ?? 1000;
  const coordinator = new TransactionCoordinator({
    log,
    markers,
    clock,
    config,
    producerIds: {
      generate: () => {
        issuedIds.push(next);
        return next++;
      },
    },
    offsetsPartitionFor: (groupId) => ({ topic: OFFSETS_TOPIC, partition: groupPartition(groupId, OFFSETS_PARTITIONS) }),
    partitioned: options.partitioned ?? false,
    probe: {
      transactionStarted: () => probe.started++,
      transactionCompleted: (r) => (r === 'COMMIT' ? probe.committed++ : probe.aborted++),
      transactionTimedOut: () => probe.timedOut++,
    },
  });
  if (!options.noLoad) await coordinator.load();
  return { clock, log, markers, coordinator, probe, config, issuedIds };
}

/** Lets pending promise callbacks run. */
export function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Runs the coordinator's background work (marker retries included) until it is idle. */
export async function drive(h: Harness, maxSteps = 100): Promise<void> {
  for (let i = 0; i < maxSteps; i++) {
    await settle();
    if (!(await idleSoon(h.coordinator))) h.clock.advance(h.config.markerRetryBackoffMs);
    else return;
  }
  throw new Error('the coordinator did not become idle');
}

async function idleSoon(c: Coordinator): Promise<boolean> {
  let idle = false;
  void c.whenIdle().then(() => (idle = true));
  await settle();
  return idle;
}

/** The states written to the log for a transactional id, in order (tombstone = 'tombstone'). */
export function writtenStates(log: MemoryTransactionLog, transactionalId: string): Array<TransactionState | 'tombstone'> {
  return log
    .all()
    .filter((r) => {
      const key = decodeTransactionLogKey(r.key);
      return key.kind === 'transaction' && key.transactionalId === transactionalId;
    })
    .map((r) => (r.value === null ? 'tombstone' : (stateFromStatus(decodeTransactionLogValue(r.value).value.transactionStatus) as TransactionState)));
}

export function lastWritten(log: MemoryTransactionLog, transactionalId: string): TransactionLogValue {
  const records = log.all().filter((r) => {
    const key = decodeTransactionLogKey(r.key);
    return key.kind === 'transaction' && key.transactionalId === transactionalId && r.value !== null;
  });
  return decodeTransactionLogValue(records[records.length - 1].value as Uint8Array).value;
}

/** Puts a record straight into the log, as an earlier broker run would have left it. */
export function seed(log: MemoryTransactionLog, partition: number, transactionalId: string, value: TransactionLogValue): void {
  log.partitions[partition].push({ key: encodeTransactionLogKey(transactionalId), value: encodeTransactionLogValue(value, 1) });
}
