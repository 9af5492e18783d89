// The transaction coordinator, sans-io: Kafka's TransactionCoordinator and the parts of its
// TransactionStateManager / marker channel that a single node needs, behind three seams —
// TransactionLog (the `__transaction_state` topic), MarkerWriter (COMMIT/ABORT control batches
// into data partitions) and Clock (timeouts and retries) — so every path runs in tests with
// MemoryTransactionLog, MemoryMarkerWriter and ManualClock.
//
// Requests map 1:1 onto the API handlers the wiring adds (see README.md): initProducerId
// (InitProducerId with a transactional id), addPartitions (AddPartitionsToTxn v0-3, and v4+
// without VerifyOnly), verifyPartitions (AddPartitionsToTxn v4+ VerifyOnly, the produce path's
// check), addOffsets (AddOffsetsToTxn), endTxn (EndTxn), describe / list (DescribeTransactions,
// ListTransactions). Answers carry Kafka's error codes for the newest version; the handler passes
// them through errorForVersion (versioned-errors.ts) for older clients.
//
// Order of events, as in Kafka: a transition is prepared (metadata.ts), appended to the log, and
// applied once durable; only then does the client get its answer. EndTxn answers once
// PrepareCommit/PrepareAbort is durable; the markers are written afterwards, and until the
// Complete* record is durable every request for that id gets CONCURRENT_TRANSACTIONS. A retried
// EndTxn never writes a second set of markers: it finds Prepare* (CONCURRENT_TRANSACTIONS) or
// Complete* (NONE, or with transaction.version 2 recognised by the bumped epoch).
//
// Recovery (`load`): the log is replayed; every transaction found in PrepareCommit/PrepareAbort
// gets its markers written and its Complete* record appended before `load` resolves, and until
// then every request answers COORDINATOR_LOAD_IN_PROGRESS.
//
// Concurrency: event loop only. Each step between awaits is synchronous, which is what Kafka's
// per-transaction lock buys it; after every await the state is checked again.

import { ErrorCode, errorByCode } from '@sluice/protocol';
import type { Clock, TimerHandle } from '../clock.ts';
import { KeyedTimers } from '../clock.ts';
import { type Logger, silentLogger } from '../logger.ts';
import { DEFAULT_TRANSACTION_COORDINATOR_CONFIG, type TransactionCoordinatorConfig } from './config.ts';
import { preEndClassic, preEndV2 } from './end-txn-rules.ts';
import { type DescribedTransaction, describeTransactions, type ListTransactionsInput, type ListTransactionsResult, listTransactions } from './listing.ts';
import type { MarkerWriteResult, MarkerWriter, TopicPartition, TransactionResult } from './marker-writer.ts';
import {
  isEpochExhausted,
  metadataFromLogValue,
  NO_PRODUCER_EPOCH,
  NO_PRODUCER_ID,
  type Prepared,
  TransactionMetadata,
  transitToLogValue,
  type TxnTransit,
} from './metadata.ts';
import { decodeTransactionLogKey, decodeTransactionLogValue, encodeTransactionLogKey, encodeTransactionLogValue, TransactionRecordError } from './records.ts';
import { expirationAllowed, type TransactionState } from './state.ts';
import { type TransactionLog, TransactionLogError, type TransactionLogRecord, transactionPartition } from './transaction-log.ts';

export type { DescribedTransaction, ListTransactionsInput, ListTransactionsResult } from './listing.ts';

export interface InitProducerIdInput {
  readonly transactionalId: string;
  readonly transactionTimeoutMs: number;
  /** InitProducerId v3+: the producer's current id and epoch (KIP-360), or -1 / -1. */
  readonly producerId: number;
  readonly producerEpoch: number;
}

export interface ProducerIdAndEpoch {
  readonly errorCode: number;
  readonly producerId: number;
  readonly producerEpoch: number;
}

export interface TxnPartitionsInput {
  readonly transactionalId: string;
  readonly producerId: number;
  readonly producerEpoch: number;
  readonly partitions: readonly TopicPartition[];
}

export interface AddOffsetsInput {
  readonly transactionalId: string;
  readonly producerId: number;
  readonly producerEpoch: number;
  readonly groupId: string;
}

export interface EndTxnInput {
  readonly transactionalId: string;
  readonly producerId: number;
  readonly producerEpoch: number;
  readonly committed: boolean;
}

export interface PartitionError extends TopicPartition {
  readonly errorCode: number;
}

/** What happened, for the metrics probe the wiring supplies. */
export interface TransactionProbe {
  transactionStarted(): void;
  transactionCompleted(result: TransactionResult): void;
  transactionTimedOut(): void;
}

const NO_PROBE: TransactionProbe = { transactionStarted() {}, transactionCompleted() {}, transactionTimedOut() {} };

export interface TransactionCoordinatorOptions {
  readonly log: TransactionLog;
  readonly markers: MarkerWriter;
  readonly clock: Clock;
  /** The broker's ProducerIdManager (ids never reused); `generate` may throw when no block can be reserved. */
  readonly producerIds: { generate(): number };
  /** The `__consumer_offsets` partition holding a group (AddOffsetsToTxn adds it to the transaction). */
  readonly offsetsPartitionFor: (groupId: string) => TopicPartition;
  readonly config?: TransactionCoordinatorConfig;
  /** The `__transaction_state` partition leader epoch; written into every marker. */
  readonly coordinatorEpoch?: number;
  readonly logger?: Logger;
  readonly probe?: TransactionProbe;
  /**
   * Cluster mode: this broker coordinates only the transactional ids of the `__transaction_state`
   * partitions it leads, each loaded (loadPartition) when it becomes their leader and unloaded
   * when it resigns, as Kafka's TransactionStateManager on election/resignation. Off: every
   * partition, loaded by load().
   */
  readonly partitioned?: boolean;
}

/** A `__transaction_state` partition coordinated here (partitioned mode). */
interface OwnedPartition {
  /** The partition's leader epoch when it was loaded: the coordinator epoch its markers carry. */
  readonly coordinatorEpoch: number;
  loaded: boolean;
}

type Phase = 'created' | 'loading' | 'active' | 'closed';

function failed(errorCode: number): ProducerIdAndEpoch {
  return { errorCode, producerId: NO_PRODUCER_ID, producerEpoch: NO_PRODUCER_EPOCH };
}

/** Kafka's TransactionStateManager mapping of a log append failure to the client's error. */
function appendErrorToClient(code: number): number {
  switch (code) {
    case ErrorCode.UNKNOWN_TOPIC_OR_PARTITION:
    case ErrorCode.NOT_ENOUGH_REPLICAS:
    case ErrorCode.NOT_ENOUGH_REPLICAS_AFTER_APPEND:
    case ErrorCode.REQUEST_TIMED_OUT:
      return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    case ErrorCode.NOT_LEADER_OR_FOLLOWER:
    case ErrorCode.KAFKA_STORAGE_ERROR:
      return ErrorCode.NOT_COORDINATOR;
    case ErrorCode.MESSAGE_TOO_LARGE:
    case ErrorCode.RECORD_LIST_TOO_LARGE:
      return ErrorCode.UNKNOWN_SERVER_ERROR;
    default:
      return code;
  }
}

export class TransactionCoordinator {
  private readonly log: TransactionLog;
  private readonly markers: MarkerWriter;
  private readonly clock: Clock;
  private readonly producerIds: { generate(): number };
  private readonly offsetsPartitionFor: (groupId: string) => TopicPartition;
  private readonly config: TransactionCoordinatorConfig;
  private readonly coordinatorEpoch: number;
  private readonly logger: Logger;
  private readonly probe: TransactionProbe;
  private readonly timers: KeyedTimers;
  private readonly txns = new Map<string, TransactionMetadata>();
  /** Marker writes and Complete* appends in progress. */
  private readonly completing = new Set<Promise<void>>();
  /** Backoff sleeps, woken early by close(). */
  private readonly sleepers = new Map<TimerHandle, () => void>();
  private phase: Phase = 'created';
  /** Partitioned mode: the state partitions loaded or loading here; null: all of them. */
  private readonly owned: Map<number, OwnedPartition> | null;

  constructor(options: TransactionCoordinatorOptions) {
    this.log = options.log;
    this.markers = options.markers;
    this.clock = options.clock;
    this.producerIds = options.producerIds;
    this.offsetsPartitionFor = options.offsetsPartitionFor;
    this.config = options.config ?? DEFAULT_TRANSACTION_COORDINATOR_CONFIG;
    this.coordinatorEpoch = options.coordinatorEpoch ?? 0;
    this.logger = options.logger ?? silentLogger;
    this.probe = options.probe ?? NO_PROBE;
    this.timers = new KeyedTimers(this.clock);
    this.owned = options.partitioned === true ? new Map() : null;
  }

  // --- lifecycle -------------------------------------------------------------------------------

  /**
   * Rebuilds the state from the log, completes every transaction caught between Prepare* and
   * Complete*, then starts answering and starts the timeout and expiration timers. Throws
   * TransactionRecordError for a record it cannot read (a corrupt log must not be half-loaded).
   */
  async load(): Promise<void> {
    if (this.phase !== 'created') throw new Error(`BUG: load() in phase ${this.phase}`);
    this.phase = 'loading';
    // Partitioned: nothing is loaded until this broker leads a state partition.
    if (this.owned === null) await this.replayAndComplete(undefined);
    if (this.phase !== 'loading') return;
    this.phase = 'active';
    this.scheduleAbortTimedOut();
    this.scheduleRemoveExpired();
  }

  /**
   * Partitioned mode: this broker now leads `__transaction_state` partition `partition` in leader
   * epoch `coordinatorEpoch`. Its transactional ids are replayed from the (replicated) log, every
   * transaction found prepared gets its markers and its Complete* record (Kafka's
   * loadTransactionsForTxnTopicPartition), and only then are its ids served: until then they
   * answer COORDINATOR_LOAD_IN_PROGRESS. A new epoch of a partition loaded here reloads it.
   */
  async loadPartition(partition: number, coordinatorEpoch: number): Promise<void> {
    if (this.owned === null || this.phase !== 'active') return;
    const current = this.owned.get(partition);
    if (current !== undefined && current.coordinatorEpoch === coordinatorEpoch) return;
    if (current !== undefined) this.unloadPartition(partition);
    const owned: OwnedPartition = { coordinatorEpoch, loaded: false };
    this.owned.set(partition, owned);
    const started = this.clock.now();
    const records = await this.replayAndComplete(partition);
    if (this.owned.get(partition) !== owned || this.phase !== 'active') return;
    owned.loaded = true;
    this.logger.info({ partition, coordinatorEpoch, records, ms: this.clock.now() - started }, 'transaction state partition loaded: coordinating its ids');
  }

  /**
   * Partitioned mode: this broker no longer leads `__transaction_state` partition `partition`.
   * Its ids are forgotten here (their requests answer NOT_COORDINATOR, so producers find the new
   * coordinator); marker writes and appends in flight for them stop at their next step, and the
   * new coordinator completes what they left prepared.
   */
  unloadPartition(partition: number): void {
    if (this.owned === null || !this.owned.delete(partition)) return;
    let forgotten = 0;
    for (const id of [...this.txns.keys()]) {
      if (this.partitionFor(id) !== partition) continue;
      this.txns.delete(id);
      forgotten++;
    }
    this.logger.info({ partition, forgotten }, 'transaction state partition unloaded: no longer its coordinator');
  }

  /** Partitioned mode: the state partitions loaded or loading here. */
  get ownedPartitions(): readonly number[] {
    return this.owned === null ? [] : [...this.owned.keys()];
  }

  /** Replays one partition (or all), then completes the transactions found prepared there. */
  private async replayAndComplete(only: number | undefined): Promise<number> {
    let skipped = 0;
    let records = 0;
    const loaded = new Set<string>();
    this.log.replay((partition, record) => {
      records++;
      const id = this.replayRecord(partition, record);
      if (id === null) skipped++;
      else loaded.add(id);
    }, only);
    if (skipped > 0) this.logger.warn({ skipped }, 'skipped transaction state records of an unknown key version');
    const completions: Array<Promise<void>> = [];
    for (const id of loaded) {
      const meta = this.txns.get(id);
      if (meta !== undefined && (meta.state === 'PrepareCommit' || meta.state === 'PrepareAbort')) {
        this.logger.info({ transactionalId: meta.transactionalId, state: meta.state }, 'completing a transaction found prepared at load');
        completions.push(this.startCompletion(meta, meta.prepareComplete(this.clock.now())));
      }
    }
    await Promise.all(completions);
    return records;
  }

  /** Applies one replayed record; returns its transactional id, or null for a key of an unknown version. */
  private replayRecord(partition: number, record: TransactionLogRecord): string | null {
    const key = decodeTransactionLogKey(record.key);
    if (key.kind === 'unknown') return null;
    const id = key.transactionalId;
    if (record.value === null) {
      this.txns.delete(id);
      return id;
    }
    const { value } = decodeTransactionLogValue(record.value);
    const meta = metadataFromLogValue(id, value);
    if (meta === null) throw new TransactionRecordError(`transaction state partition ${partition}: ${id} has unknown status ${value.transactionStatus}`);
    if (meta.state === 'Dead' || meta.state === 'PrepareEpochFence') {
      throw new TransactionRecordError(`transaction state partition ${partition}: ${id} has state ${meta.state}, which is never written`);
    }
    this.txns.set(id, meta);
    return id;
  }

  /** Stops timers and retries; in-flight work ends without touching the log again. */
  close(): void {
    this.phase = 'closed';
    this.timers.cancelAll();
    for (const [handle, wake] of this.sleepers) {
      this.clock.clearTimer(handle);
      wake();
    }
    this.sleepers.clear();
  }

  /** Resolves when no markers are being written and no Complete* append is pending. */
  async whenIdle(): Promise<void> {
    while (this.completing.size > 0) await Promise.all([...this.completing]);
  }

  /** The metadata of a transactional id, for tests and metrics (do not mutate). */
  get(transactionalId: string): TransactionMetadata | undefined {
    return this.txns.get(transactionalId);
  }

  /** Transactional ids known (any state). */
  get transactionalIdCount(): number {
    return this.txns.size;
  }

  /** Transactions with partitions possibly unmarked (Ongoing, PrepareCommit, PrepareAbort). */
  get openTransactionCount(): number {
    let n = 0;
    for (const m of this.txns.values()) if (m.state === 'Ongoing' || m.state === 'PrepareCommit' || m.state === 'PrepareAbort') n++;
    return n;
  }

  /** The `__transaction_state` partition a transactional id lives in. */
  partitionFor(transactionalId: string): number {
    return transactionPartition(transactionalId, this.log.partitionCount);
  }

  /**
   * Why requests (for `transactionalId`, when given) cannot be served now, or null. Partitioned
   * mode: NOT_COORDINATOR for an id whose partition is not led here, COORDINATOR_LOAD_IN_PROGRESS
   * while it loads.
   */
  private stateError(transactionalId?: string): number | null {
    if (this.phase === 'created' || this.phase === 'loading') return ErrorCode.COORDINATOR_LOAD_IN_PROGRESS;
    if (this.phase === 'closed') return ErrorCode.NOT_COORDINATOR;
    if (this.owned === null || transactionalId === undefined) return null;
    const owned = this.owned.get(this.partitionFor(transactionalId));
    if (owned === undefined) return ErrorCode.NOT_COORDINATOR;
    return owned.loaded ? null : ErrorCode.COORDINATOR_LOAD_IN_PROGRESS;
  }

  /** Whether `meta` is still the state of its id here (not unloaded, reloaded or closed since). */
  private isCurrent(meta: TransactionMetadata): boolean {
    return this.phase !== 'closed' && this.txns.get(meta.transactionalId) === meta;
  }

  /** The coordinator epoch markers of `transactionalId` carry: its partition's leader epoch. */
  private coordinatorEpochOf(transactionalId: string): number {
    return this.owned?.get(this.partitionFor(transactionalId))?.coordinatorEpoch ?? this.coordinatorEpoch;
  }

  // --- InitProducerId --------------------------------------------------------------------------

  async initProducerId(input: InitProducerIdInput): Promise<ProducerIdAndEpoch> {
    const { transactionalId, transactionTimeoutMs } = input;
    if (transactionalId === '') return failed(ErrorCode.INVALID_REQUEST);
    if ((input.producerId === NO_PRODUCER_ID) !== (input.producerEpoch === NO_PRODUCER_EPOCH)) return failed(ErrorCode.INVALID_REQUEST);
    if (!(transactionTimeoutMs > 0 && transactionTimeoutMs <= this.config.transactionMaxTimeoutMs)) return failed(ErrorCode.INVALID_TRANSACTION_TIMEOUT);
    const stateError = this.stateError(transactionalId);
    if (stateError !== null) return failed(stateError);
    let meta = this.txns.get(transactionalId);
    if (meta === undefined) {
      const producerId = this.generateProducerId();
      if (producerId === null) return failed(ErrorCode.COORDINATOR_LOAD_IN_PROGRESS);
      meta = TransactionMetadata.fresh(transactionalId, producerId, transactionTimeoutMs, this.clock.now());
      this.txns.set(transactionalId, meta);
    }
    const expected = input.producerId === NO_PRODUCER_ID ? null : { producerId: input.producerId, producerEpoch: input.producerEpoch };
    const prepared = this.prepareInitProducerId(meta, transactionTimeoutMs, expected);
    if (prepared.error !== undefined) return failed(prepared.error);
    const transit = prepared.transit;
    if (transit.state === 'PrepareEpochFence') {
      // The old incarnation's transaction is aborted first; this producer retries (with
      // CONCURRENT_TRANSACTIONS) and gets its epoch once the abort is complete.
      const aborted = await this.endTransaction(transactionalId, transit.producerId, transit.producerEpoch, 'ABORT', false, meta.clientTransactionVersion);
      return failed(aborted.errorCode === ErrorCode.NONE ? ErrorCode.CONCURRENT_TRANSACTIONS : aborted.errorCode);
    }
    const errorCode = await this.appendTransition(meta, transit);
    if (errorCode !== ErrorCode.NONE) return failed(errorCode);
    this.logger.debug({ transactionalId, producerId: meta.producerId, producerEpoch: meta.producerEpoch }, 'transactional producer initialised');
    return { errorCode: ErrorCode.NONE, producerId: meta.producerId, producerEpoch: meta.producerEpoch };
  }

  private generateProducerId(): number | null {
    try {
      return this.producerIds.generate();
    } catch (err) {
      this.logger.error({ err }, 'reserving a block of producer ids failed');
      return null;
    }
  }

  private prepareInitProducerId(meta: TransactionMetadata, timeoutMs: number, expected: { producerId: number; producerEpoch: number } | null): Prepared {
    if (meta.pendingTransitionInProgress) return { error: ErrorCode.CONCURRENT_TRANSACTIONS };
    // KIP-360: a producer resuming with its id and epoch must be the current one — or a retry of
    // the call that rotated its exhausted id — unless the id was only just created.
    if (
      expected !== null &&
      !(
        meta.producerEpoch === NO_PRODUCER_EPOCH ||
        expected.producerId === meta.producerId ||
        (expected.producerId === meta.previousProducerId && isEpochExhausted(expected.producerEpoch))
      )
    ) {
      return { error: ErrorCode.PRODUCER_FENCED };
    }
    const now = this.clock.now();
    switch (meta.state) {
      case 'PrepareAbort':
      case 'PrepareCommit':
        return { error: ErrorCode.CONCURRENT_TRANSACTIONS };
      case 'Empty':
      case 'CompleteAbort':
      case 'CompleteCommit':
        if (meta.isProducerEpochExhausted) {
          // Kafka reaches an internal error when an old epoch of the current id arrives here;
          // that producer is a zombie, and PRODUCER_FENCED is what it should hear.
          if (expected !== null && expected.producerEpoch !== meta.producerEpoch) return { error: ErrorCode.PRODUCER_FENCED };
          const producerId = this.generateProducerId();
          if (producerId === null) return { error: ErrorCode.COORDINATOR_LOAD_IN_PROGRESS };
          return { transit: meta.prepareProducerIdRotation(producerId, timeoutMs, now, expected !== null) };
        }
        return meta.prepareIncrementProducerEpoch(timeoutMs, expected === null ? null : expected.producerEpoch, now);
      case 'Ongoing':
        return { transit: meta.prepareFenceProducerEpoch() };
      case 'Dead':
      case 'PrepareEpochFence':
        throw new Error(`BUG: ${meta.transactionalId} is ${meta.state} with no transition pending`);
    }
  }

  // --- AddPartitionsToTxn / AddOffsetsToTxn ----------------------------------------------------

  /**
   * Adds partitions to the transaction (AddPartitionsToTxn v0-3 from clients; v4+ without
   * VerifyOnly from a leader under transaction.version 2). One error for every partition, as in
   * Kafka; the handler answers UNKNOWN_TOPIC_OR_PARTITION / OPERATION_NOT_ATTEMPTED itself for
   * partitions that do not exist, before calling this.
   */
  async addPartitions(input: TxnPartitionsInput, clientTransactionVersion = 0): Promise<number> {
    const { transactionalId } = input;
    if (transactionalId === '') return ErrorCode.INVALID_REQUEST;
    const stateError = this.stateError(transactionalId);
    if (stateError !== null) return stateError;
    const meta = this.txns.get(transactionalId);
    if (meta === undefined || meta.producerId !== input.producerId) return ErrorCode.INVALID_PRODUCER_ID_MAPPING;
    if (meta.producerEpoch !== input.producerEpoch) return ErrorCode.PRODUCER_FENCED;
    if (meta.pendingTransitionInProgress) return ErrorCode.CONCURRENT_TRANSACTIONS;
    if (meta.state === 'PrepareCommit' || meta.state === 'PrepareAbort') return ErrorCode.CONCURRENT_TRANSACTIONS;
    // Already there: nothing to write.
    if (meta.state === 'Ongoing' && input.partitions.every((tp) => meta.hasPartition(tp))) return ErrorCode.NONE;
    const starting = meta.state !== 'Ongoing';
    const transit = meta.prepareAddPartitions(input.partitions, this.clock.now(), Math.min(clientTransactionVersion, this.config.transactionVersion));
    const errorCode = await this.appendTransition(meta, transit);
    if (errorCode === ErrorCode.NONE && starting) this.probe.transactionStarted();
    return errorCode;
  }

  /** AddOffsetsToTxn: the group's `__consumer_offsets` partition joins the transaction. */
  addOffsets(input: AddOffsetsInput): Promise<number> {
    return this.addPartitions({ ...input, partitions: [this.offsetsPartitionFor(input.groupId)] });
  }

  /**
   * AddPartitionsToTxn v4+ with VerifyOnly, sent for every transactional produce (KIP-890 part
   * 1): is each partition in the producer's ongoing transaction? A partition that is not gets
   * TRANSACTION_ABORTABLE (older produce versions see INVALID_TXN_STATE through errorForVersion).
   */
  verifyPartitions(input: TxnPartitionsInput): PartitionError[] {
    const all = (errorCode: number) => input.partitions.map((tp) => ({ ...tp, errorCode }));
    if (input.transactionalId === '') return all(ErrorCode.INVALID_REQUEST);
    const stateError = this.stateError(input.transactionalId);
    if (stateError !== null) return all(stateError);
    const meta = this.txns.get(input.transactionalId);
    if (meta === undefined || meta.producerId !== input.producerId) return all(ErrorCode.INVALID_PRODUCER_ID_MAPPING);
    if (meta.producerEpoch !== input.producerEpoch) return all(ErrorCode.PRODUCER_FENCED);
    // EndTxn's PrepareCommit/PrepareAbort written but not yet durable: no more data may join the
    // transaction (Kafka: a pending transition other than to Ongoing is CONCURRENT_TRANSACTIONS).
    if (meta.pendingTransitionInProgress && meta.pendingState !== 'Ongoing') return all(ErrorCode.CONCURRENT_TRANSACTIONS);
    if (meta.state === 'PrepareCommit' || meta.state === 'PrepareAbort') return all(ErrorCode.CONCURRENT_TRANSACTIONS);
    return input.partitions.map((tp) => ({ ...tp, errorCode: meta.hasPartition(tp) ? ErrorCode.NONE : ErrorCode.TRANSACTION_ABORTABLE }));
  }

  // --- EndTxn ----------------------------------------------------------------------------------

  /**
   * EndTxn. `clientTransactionVersion` is 2 for EndTxn v5 (KIP-890 part 2), else 0; it is capped
   * at the broker's transaction.version. Under TV2 the answer carries the producer id and epoch
   * of the producer's next transaction.
   */
  endTxn(input: EndTxnInput, clientTransactionVersion = 0): Promise<ProducerIdAndEpoch> {
    return this.endTransaction(
      input.transactionalId,
      input.producerId,
      input.producerEpoch,
      input.committed ? 'COMMIT' : 'ABORT',
      true,
      clientTransactionVersion,
    );
  }

  private async endTransaction(
    transactionalId: string,
    producerId: number,
    producerEpoch: number,
    result: TransactionResult,
    isFromClient: boolean,
    clientTransactionVersion: number,
  ): Promise<ProducerIdAndEpoch> {
    if (transactionalId === '') return failed(ErrorCode.INVALID_REQUEST);
    const stateError = this.stateError(transactionalId);
    if (stateError !== null) return failed(stateError);
    const meta = this.txns.get(transactionalId);
    if (meta === undefined) return failed(ErrorCode.INVALID_PRODUCER_ID_MAPPING);
    const tv = Math.min(clientTransactionVersion, this.config.transactionVersion);
    const request = { producerId, producerEpoch, result, isFromClient, tv };
    const context = { now: this.clock.now(), generateProducerId: () => this.generateProducerId() };
    const pre = tv >= 2 ? preEndV2(meta, request, context) : preEndClassic(meta, request, context);
    if (pre.transit === undefined) {
      // A fence that did not get to its abort must not stay pending.
      if (meta.pendingState === 'PrepareEpochFence') meta.abandonTransition();
      if (pre.errorCode === ErrorCode.NONE) return { errorCode: ErrorCode.NONE, producerId: meta.producerId, producerEpoch: meta.producerEpoch };
      return failed(pre.errorCode);
    }
    const appended = await this.appendTransition(meta, pre.transit);
    if (appended !== ErrorCode.NONE) {
      if (pre.isEpochFence) meta.hasFailedEpochFence = true;
      return failed(appended);
    }
    // Durable. Check again what may have changed while it was written (Kafka's pre-send checks).
    if (!this.isCurrent(meta)) return failed(ErrorCode.NOT_COORDINATOR);
    if (meta.producerId !== producerId) return failed(ErrorCode.INVALID_PRODUCER_ID_MAPPING);
    if (meta.producerEpoch !== producerEpoch && meta.producerEpoch !== producerEpoch + 1) return failed(ErrorCode.PRODUCER_FENCED);
    if (meta.pendingTransitionInProgress) return failed(ErrorCode.CONCURRENT_TRANSACTIONS);
    const expectedState: TransactionState = result === 'COMMIT' ? 'PrepareCommit' : 'PrepareAbort';
    if (meta.state !== expectedState) return failed(ErrorCode.INVALID_TXN_STATE);
    const complete = meta.prepareComplete(this.clock.now());
    this.startCompletion(meta, complete);
    return { errorCode: ErrorCode.NONE, producerId: complete.producerId, producerEpoch: complete.producerEpoch };
  }

  // --- completion: markers, then Complete* -----------------------------------------------------

  private startCompletion(meta: TransactionMetadata, complete: TxnTransit): Promise<void> {
    const done: Promise<void> = this.complete(meta, complete).finally(() => this.completing.delete(done));
    this.completing.add(done);
    return done;
  }

  private async complete(meta: TransactionMetadata, complete: TxnTransit): Promise<void> {
    const result: TransactionResult = complete.state === 'CompleteCommit' ? 'COMMIT' : 'ABORT';
    // Markers carry the epoch of the prepared state (under TV2 the bumped one, which fences the
    // producer's older epoch at each partition).
    const request = {
      transactionalId: meta.transactionalId,
      producerId: meta.producerId,
      producerEpoch: meta.producerEpoch,
      result,
      coordinatorEpoch: this.coordinatorEpochOf(meta.transactionalId),
      transactionVersion: meta.clientTransactionVersion,
    };
    while (meta.topicPartitions.size > 0) {
      // Closed, or the id's partition moved to another coordinator, which completes it.
      if (!this.isCurrent(meta)) return;
      let results: readonly MarkerWriteResult[];
      try {
        results = await this.markers.write({ ...request, partitions: meta.partitions() });
      } catch (err) {
        this.logger.error({ err, transactionalId: meta.transactionalId }, 'writing transaction markers failed; retrying');
        results = [];
      }
      for (const r of results) {
        if (!meta.hasPartition(r)) continue;
        if (r.errorCode === ErrorCode.NONE || r.errorCode === ErrorCode.UNKNOWN_TOPIC_OR_PARTITION) {
          // Written — or the partition is gone, and there is nothing left to mark.
          meta.removePartition(r);
        } else if (r.errorCode === ErrorCode.INVALID_PRODUCER_EPOCH) {
          // The partition has already seen a newer epoch of this producer: this transaction was
          // resolved there (a marker re-sent after a restart, under TV2). Kafka drops it too.
          this.logger.info(
            { transactionalId: meta.transactionalId, topic: r.topic, partition: r.partition },
            'marker refused for an older epoch; the partition is past this transaction',
          );
          meta.removePartition(r);
        } else if (!errorByCode(r.errorCode)?.retriable) {
          // Kafka stops here because another coordinator took over; on one node that cannot
          // happen, and retrying a refusal forever would block the transactional id.
          this.logger.error(
            { transactionalId: meta.transactionalId, topic: r.topic, partition: r.partition, errorCode: r.errorCode },
            'a partition refused its transaction marker; giving it up',
          );
          meta.removePartition(r);
        }
      }
      if (meta.topicPartitions.size > 0) await this.sleep(this.config.markerRetryBackoffMs);
    }
    for (;;) {
      if (!this.isCurrent(meta)) return;
      meta.pendingState = complete.state;
      const errorCode = await this.appendTransition(meta, complete);
      if (errorCode === ErrorCode.NONE) break;
      this.logger.warn({ transactionalId: meta.transactionalId, errorCode }, 'appending the transaction completion failed; retrying');
      await this.sleep(this.config.markerRetryBackoffMs);
    }
    this.probe.transactionCompleted(result);
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const handle = this.clock.setTimer(ms, () => {
        this.sleepers.delete(handle);
        resolve();
      });
      this.sleepers.set(handle, resolve);
    });
  }

  /** Appends a prepared transition; applies it once durable. Returns the client's error code. */
  private async appendTransition(meta: TransactionMetadata, transit: TxnTransit): Promise<number> {
    const partition = this.partitionFor(meta.transactionalId);
    const record: TransactionLogRecord = {
      key: encodeTransactionLogKey(meta.transactionalId),
      value: transit.state === 'Dead' ? null : encodeTransactionLogValue(transitToLogValue(transit), 1),
    };
    try {
      await this.log.append(partition, [record], this.clock.now()).durable;
    } catch (err) {
      if (!(err instanceof TransactionLogError)) throw err;
      meta.abandonTransition();
      this.logger.warn({ transactionalId: meta.transactionalId, state: transit.state, errorCode: err.errorCode }, 'transaction state append failed');
      return appendErrorToClient(err.errorCode);
    }
    if (!this.isCurrent(meta)) {
      meta.abandonTransition();
      return ErrorCode.NOT_COORDINATOR;
    }
    if (transit.state === 'Dead') {
      if (this.txns.get(meta.transactionalId) === meta) this.txns.delete(meta.transactionalId);
      return ErrorCode.NONE;
    }
    meta.completeTransitionTo(transit);
    return ErrorCode.NONE;
  }

  // --- timeouts and expiration -----------------------------------------------------------------

  private scheduleAbortTimedOut(): void {
    this.timers.schedule('abort-timed-out', this.config.abortTimedOutTransactionsIntervalMs, () => {
      void this.abortTimedOutTransactions();
      this.scheduleAbortTimedOut();
    });
  }

  private scheduleRemoveExpired(): void {
    this.timers.schedule('remove-expired', this.config.removeExpiredTransactionalIdsIntervalMs, () => {
      void this.removeExpiredTransactionalIds();
      this.scheduleRemoveExpired();
    });
  }

  /**
   * Aborts every Ongoing transaction older than its timeout, fencing its producer (epoch + 1),
   * as Kafka does every transaction.abort.timed.out.transaction.cleanup.interval.ms. Resolves
   * when each abort is durable (its markers follow).
   */
  async abortTimedOutTransactions(): Promise<void> {
    if (this.phase !== 'active') return;
    const now = this.clock.now();
    const aborts: Array<Promise<unknown>> = [];
    for (const meta of this.txns.values()) {
      if (meta.pendingTransitionInProgress || meta.state !== 'Ongoing') continue;
      if (meta.txnStartTimestamp + meta.txnTimeoutMs >= now) continue;
      const fence = meta.prepareFenceProducerEpoch();
      this.probe.transactionTimedOut();
      this.logger.info({ transactionalId: meta.transactionalId, producerId: meta.producerId }, 'aborting a timed-out transaction');
      aborts.push(
        this.endTransaction(meta.transactionalId, fence.producerId, fence.producerEpoch, 'ABORT', false, meta.clientTransactionVersion).then((r) => {
          if (r.errorCode !== ErrorCode.NONE)
            this.logger.warn({ transactionalId: meta.transactionalId, errorCode: r.errorCode }, 'abort of a timed-out transaction failed');
        }),
      );
    }
    await Promise.all(aborts);
  }

  /** Removes transactional ids idle past transactional.id.expiration.ms (a tombstone each). */
  async removeExpiredTransactionalIds(): Promise<void> {
    if (this.phase !== 'active') return;
    const cutoff = this.clock.now() - this.config.transactionalIdExpirationMs;
    const removals: Array<Promise<number>> = [];
    for (const meta of this.txns.values()) {
      if (meta.pendingTransitionInProgress || !expirationAllowed(meta.state) || meta.txnLastUpdateTimestamp > cutoff) continue;
      removals.push(this.appendTransition(meta, meta.prepareDead()));
    }
    await Promise.all(removals);
  }

  // --- DescribeTransactions / ListTransactions -------------------------------------------------

  describe(transactionalIds: readonly string[]): DescribedTransaction[] {
    return describeTransactions(this.txns, transactionalIds, (id) => this.stateError(id));
  }

  list(input: ListTransactionsInput): ListTransactionsResult {
    return listTransactions(this.txns, input, this.clock.now(), this.stateError());
  }
}
