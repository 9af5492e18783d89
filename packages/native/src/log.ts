// PartitionLog: typed wrapper over the native partition log (crates/sluice-log `Log`). One
// instance per partition directory, used from one thread; calls are synchronous except flush()
// and clean(), whose fdatasyncs and compaction work run off the JS thread. Offsets and timestamps are JS numbers (safe integers);
// anything else is refused with INVALID_ARGUMENT. Errors are `NativeError`s (see errors.ts).
import type { NativeCleanStats, NativeFileSlice, NativeLogConfig, NativeOpenOptions, NativePartitionLog } from '../binding.d.ts';
import { binding } from './binding.ts';

export type AppendMode = 'mmap' | 'pwrite';
export type TimestampType = 'CreateTime' | 'LogAppendTime';

/** Kafka's topic-level log settings plus Sluice's append knobs; omitted fields take the default. */
export interface LogConfig {
  /** segment.bytes, default 1073741824. */
  segmentBytes?: number;
  /** segment.ms, default 604800000. */
  segmentMs?: number;
  /** segment.index.bytes, default 10485760. */
  segmentIndexBytes?: number;
  /** index.interval.bytes, default 4096. */
  indexIntervalBytes?: number;
  /** max.message.bytes, default 1048588. */
  maxMessageBytes?: number;
  /** retention.ms, default 604800000; negative: unlimited. */
  retentionMs?: number;
  /** retention.bytes, default -1 (unlimited). */
  retentionBytes?: number;
  /** sluice.log.append.mode, default 'pwrite' (as the broker's). */
  appendMode?: AppendMode;
  /** sluice.log.preallocate.step.bytes, default 33554432. */
  preallocateStepBytes?: number;
  /** message.timestamp.type, default 'CreateTime'. */
  messageTimestampType?: TimestampType;
  /** flush.messages; default "never" (pass Number.MAX_SAFE_INTEGER). */
  flushIntervalMessages?: number;
  /** cleanup.policy as Kafka writes it: 'delete' (default), 'compact' or 'compact,delete'. */
  cleanupPolicy?: string;
  /** delete.retention.ms, default 86400000: how long compaction keeps a tombstone. */
  deleteRetentionMs?: number;
  /** min.compaction.lag.ms, default 0. */
  minCompactionLagMs?: number;
  /** min.cleanable.dirty.ratio, default 0.5. */
  minCleanableDirtyRatio?: number;
  /** producer.id.expiration.ms, default 86400000: idle idempotent producers' state is dropped. */
  producerIdExpirationMs?: number;
}

/**
 * Test only: a storage fault to inject (the log then goes through the fault-injecting storage).
 * The `skip + 1`-th call of `op` fails with `errno`, once.
 */
export interface TestFault {
  op: 'write' | 'sync' | 'read' | 'allocate';
  skip: number;
  errno: 'EIO' | 'ENOSPC';
}

/** Broker-wide compaction settings (per-log ones are in LogConfig). */
export interface CleanerSettings {
  /** sluice.log.cleaner.dedupe.buffer.bytes, default 33554432 (24 bytes per key). */
  dedupeBufferBytes?: number;
}

/** What one clean did (see crates/sluice-log/src/log/cleaner/mod.rs). */
export type CleanStats = NativeCleanStats;

/** What the previous run of the broker left behind for this partition. */
export interface OpenOptions {
  /** The log dir held `.kafka_cleanshutdown`. Default false: recover. */
  cleanShutdown?: boolean;
  /** From recovery-point-offset-checkpoint. Default 0: scan every segment. */
  recoveryPoint?: number;
  /** From log-start-offset-checkpoint. Default 0. */
  logStartOffset?: number;
  /** From cleaner-offset-checkpoint: where the last clean ended. Default: the log start. */
  firstDirtyOffset?: number;
  /** End-to-end tests only (`sluice.test.fault.storage`): faults to inject. */
  testFaults?: TestFault[];
}

export interface AppendResult {
  baseOffset: number;
  lastOffset: number;
  /** The time stamped into the batches under LogAppendTime; -1 under CreateTime. */
  logAppendTime: number;
  maxTimestamp: number;
  recordCount: number;
  logStartOffset: number;
  /** The append started a new segment. */
  rolled: boolean;
  /**
   * The append retried a batch an idempotent producer already appended: nothing was written and
   * the offsets (and logAppendTime, as Kafka reports it) are the original batch's.
   */
  duplicate: boolean;
}

/** An aborted transaction a read_committed fetch must skip (FetchResponse AbortedTransaction). */
export interface AbortedTransaction {
  producerId: number;
  /** The transaction's first offset on this partition. */
  firstOffset: number;
}

/** An open transaction on this partition. */
export interface OngoingTransaction {
  producerId: number;
  producerEpoch: number;
  /** Its first offset here: the LSO cannot pass it. */
  firstOffset: number;
  /** Timestamp of the producer's last batch or marker. */
  lastTimestamp: number;
}

/** One producer's state on this partition (DescribeProducers). */
export interface ProducerInfo {
  producerId: number;
  producerEpoch: number;
  /** -1 when no batch of the current epoch is retained. */
  lastSequence: number;
  lastTimestamp: number;
  /** Of the producer's last transaction marker; -1 before any. */
  coordinatorEpoch: number;
  /** First offset of its open transaction; -1 when none is open. */
  currentTxnStartOffset: number;
}

export interface ReadResult {
  /** Whole batches from the one containing the offset asked for; hand it to the writer. */
  slice: NativeFileSlice;
  /** Base offset of the first batch in `slice` (at or below the offset asked for). */
  firstOffset: number;
}

export interface TimestampAndOffset {
  timestamp: number;
  offset: number;
}

export interface CheckpointEntry {
  topic: string;
  partition: number;
  offset: number;
}

export class PartitionLog {
  readonly dir: string;
  readonly #native: NativePartitionLog;

  private constructor(dir: string, native: NativePartitionLog) {
    this.dir = dir;
    this.#native = native;
  }

  /** Opens (creating if needed) the partition directory `dir`, recovering as `options` say. */
  static open(dir: string, config: LogConfig = {}, options: OpenOptions = {}): PartitionLog {
    const nativeOptions: NativeOpenOptions = options;
    return new PartitionLog(dir, binding.NativePartitionLog.open(dir, toNativeConfig(config), nativeOptions));
  }

  /**
   * Validates and appends one or more RecordBatch v2 batches. Rewrites `records` in place:
   * baseOffset and partitionLeaderEpoch (and under LogAppendTime the timestamp type, maxTimestamp
   * and CRC). A validation error rejects the whole append and changes nothing. Batches of
   * idempotent producers are checked against the partition's producer state
   * (OUT_OF_ORDER_SEQUENCE_NUMBER, INVALID_PRODUCER_EPOCH); a retried one comes back with
   * `duplicate: true` and its original offsets. A transactional batch (attribute 0x10) opens its
   * producer's transaction here (see `firstUnstableOffset`); a non-transactional batch from a
   * producer whose transaction is open is INVALID_TXN_STATE; control batches are INVALID_RECORD.
   */
  append(records: Uint8Array, nowMs: number, leaderEpoch = 0): AppendResult {
    return this.#native.append(toBuffer(records), nowMs, leaderEpoch);
  }

  /**
   * Follower (Kafka's appendAsFollower): stores a leader's whole batches byte for byte at the
   * offsets they carry — epochs, timestamps and CRCs unchanged, offset gaps allowed (a compacted
   * leader log), sparse and empty batches too. The first batch must start at or after the log
   * end and each next one after the previous one's last offset (INVALID_RECORD otherwise);
   * structure and CRC are checked (CORRUPT_MESSAGE), client rules are not (the leader applied
   * them). Producer state and the transaction index (markers) are rebuilt as recovery does.
   * Nothing is written when a check fails. The log end becomes the last batch's last offset + 1.
   */
  appendAsFollower(records: Uint8Array, nowMs: number): AppendResult {
    return this.#native.appendAsFollower(toBuffer(records), nowMs);
  }

  /**
   * Appends the transaction coordinator's COMMIT (`commit`) or ABORT marker for `producerId`'s
   * transaction: Kafka's 78-byte control batch (attributes 0x30), built natively. It ends the
   * producer's open transaction here (moving `firstUnstableOffset`); an ABORT first records the
   * transaction in the segment's `.txnindex`. A marker for a producer with no open transaction is
   * written all the same. Throws INVALID_PRODUCER_EPOCH for an epoch older than the producer's,
   * TRANSACTION_COORDINATOR_FENCED for a coordinator epoch older than its last marker's.
   * Never for client batches: `append` refuses control batches (INVALID_RECORD).
   */
  appendTxnMarker(producerId: number, producerEpoch: number, coordinatorEpoch: number, commit: boolean, nowMs: number, leaderEpoch = 0): AppendResult {
    return this.#native.appendTxnMarker(producerId, producerEpoch, coordinatorEpoch, commit, nowMs, leaderEpoch);
  }

  /**
   * The first offset of the earliest open transaction, or -1 when none is open. The partition's
   * last stable offset is min(high watermark, this when >= 0).
   */
  get firstUnstableOffset(): number {
    return this.#native.firstUnstableOffset;
  }

  /**
   * The aborted transactions a read_committed fetch of [startOffset, upperBoundOffset) must be
   * told about (Kafka's collectAbortedTxns: marker at or past `startOffset`, first offset below
   * `upperBoundOffset`), read from the `.txnindex` files.
   */
  abortedTransactions(startOffset: number, upperBoundOffset: number): AbortedTransaction[] {
    const flat = this.#native.abortedTransactions(startOffset, upperBoundOffset);
    const out: AbortedTransaction[] = [];
    for (let i = 0; i < flat.length; i += 2) out.push({ producerId: flat[i], firstOffset: flat[i + 1] });
    return out;
  }

  /** The open transactions, earliest first (DescribeProducers, metrics). */
  ongoingTransactions(): OngoingTransaction[] {
    const flat = this.#native.ongoingTransactions();
    const out: OngoingTransaction[] = [];
    for (let i = 0; i < flat.length; i += 4) {
      out.push({ producerId: flat[i], producerEpoch: flat[i + 1], firstOffset: flat[i + 2], lastTimestamp: flat[i + 3] });
    }
    return out;
  }

  /** Every producer's state here, by producer id (DescribeProducers). */
  producers(): ProducerInfo[] {
    const flat = this.#native.producers();
    const out: ProducerInfo[] = [];
    for (let i = 0; i < flat.length; i += 6) {
      out.push({
        producerId: flat[i],
        producerEpoch: flat[i + 1],
        lastSequence: flat[i + 2],
        lastTimestamp: flat[i + 3],
        coordinatorEpoch: flat[i + 4],
        currentTxnStartOffset: flat[i + 5],
      });
    }
    return out;
  }

  /**
   * Whole batches from the one containing `offset`, at most `maxBytes` (except that with
   * `minOneBatch` the first batch comes whole), never at or past `maxOffset` (high watermark or
   * last stable offset; default the log end). Null when nothing is there yet; throws
   * OFFSET_OUT_OF_RANGE outside [logStartOffset, logEndOffset].
   */
  read(offset: number, maxBytes: number, minOneBatch: boolean, maxOffset?: number): ReadResult | null {
    return this.#native.read(offset, maxBytes, minOneBatch, maxOffset);
  }

  /**
   * The bytes of whole batches from the one containing `offset` (always at least one batch,
   * otherwise at most `maxBytes`); null at the log end. Copies into memory: for replaying
   * internal logs (committed offsets) at startup, never for fetches.
   */
  readBytes(offset: number, maxBytes: number): Buffer | null {
    return this.#native.readBytes(offset, maxBytes);
  }

  /** ListOffsets by timestamp: first record with timestamp >= `timestamp`, or null. */
  offsetForTimestamp(timestamp: number): TimestampAndOffset | null {
    return this.#native.offsetForTimestamp(timestamp);
  }

  /** ListOffsets MAX_TIMESTAMP (-3): the record with the largest timestamp, or null. */
  maxTimestamp(): TimestampAndOffset | null {
    return this.#native.maxTimestamp();
  }

  /** DeleteRecords: raises the log start offset to `offset`; returns the new low watermark. */
  deleteRecordsBefore(offset: number): number {
    return this.#native.deleteRecordsBefore(offset);
  }

  /** retention.ms / retention.bytes pass; returns the number of segments deleted. */
  enforceRetention(nowMs: number): number {
    return this.#native.enforceRetention(nowMs);
  }

  /**
   * Log compaction (cleanup.policy contains compact): plans a clean, runs it off the JS thread
   * and swaps the cleaned segments in. Null when there was nothing to clean (not compacted, not
   * dirty enough, a clean already running) or the clean was aborted by close/delete/truncation.
   * Appends, reads and everything else may go on while it runs.
   */
  async clean(nowMs: number, settings: CleanerSettings = {}): Promise<CleanStats | null> {
    const job = this.#native.planClean(nowMs, settings);
    if (job === null) return null;
    await job.run();
    // The job's own failure (EIO reading a segment...) is thrown from here.
    return this.#native.applyClean(job);
  }

  /** Where the last clean ended: what `cleaner-offset-checkpoint` records. */
  get firstDirtyOffset(): number {
    return this.#native.firstDirtyOffset;
  }

  /** fdatasync of everything appended so far, off the JS thread. */
  flush(): Promise<void> {
    try {
      // A job object of its own: the pending run borrows it, not the log, so appends go on
      // while the fdatasync runs (napi-rs would refuse them during a method's async work).
      return this.#native.flushJob().run();
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** Removes every batch holding an offset >= `offset` (whole batches: the end may land below). */
  truncateTo(offset: number): void {
    this.#native.truncateTo(offset);
  }

  /** Starts a new segment at the log end. */
  roll(nowMs: number): void {
    this.#native.roll(nowMs);
  }

  /** Changes the given settings, keeping the others. */
  updateConfig(config: LogConfig): void {
    this.#native.updateConfig(toNativeConfig(config));
  }

  /** Seals the active segment, flushes, releases the files. Later calls throw LOG_CLOSED. */
  close(): void {
    this.#native.close();
  }

  /** Closes without flushing and removes the partition directory. */
  delete(): void {
    this.#native.delete();
  }

  get logStartOffset(): number {
    return this.#native.logStartOffset;
  }

  get logEndOffset(): number {
    return this.#native.logEndOffset;
  }

  get sizeBytes(): number {
    return this.#native.sizeBytes;
  }

  get segmentCount(): number {
    return this.#native.segmentCount;
  }

  /** Every offset below this has been fdatasync'd. */
  get recoveryPoint(): number {
    return this.#native.recoveryPoint;
  }

  /** Segments `open` scanned and CRC-checked or re-indexed (0 after a clean shutdown). */
  get recoveredSegments(): number {
    return this.#native.recoveredSegments;
  }
}

function toNativeConfig(config: LogConfig): NativeLogConfig {
  return config;
}

/** The binding takes a Buffer; a view over the same memory, so offsets are rewritten in place. */
function toBuffer(records: Uint8Array): Buffer {
  return Buffer.isBuffer(records) ? records : Buffer.from(records.buffer, records.byteOffset, records.byteLength);
}

// Log-dir files (Kafka formats): recovery-point-offset-checkpoint, log-start-offset-checkpoint,
// cleaner-offset-checkpoint, replication-offset-checkpoint and the .kafka_cleanshutdown marker.

export function readRecoveryPointCheckpoint(logDir: string): CheckpointEntry[] {
  return binding.readRecoveryPointCheckpoint(logDir);
}

export function writeRecoveryPointCheckpoint(logDir: string, entries: CheckpointEntry[]): void {
  binding.writeRecoveryPointCheckpoint(logDir, entries);
}

export function readLogStartOffsetCheckpoint(logDir: string): CheckpointEntry[] {
  return binding.readLogStartOffsetCheckpoint(logDir);
}

export function writeLogStartOffsetCheckpoint(logDir: string, entries: CheckpointEntry[]): void {
  binding.writeLogStartOffsetCheckpoint(logDir, entries);
}

export function readCleanerOffsetCheckpoint(logDir: string): CheckpointEntry[] {
  return binding.readCleanerOffsetCheckpoint(logDir);
}

export function writeCleanerOffsetCheckpoint(logDir: string, entries: CheckpointEntry[]): void {
  binding.writeCleanerOffsetCheckpoint(logDir, entries);
}

/** Each partition's high watermark (cluster mode), Kafka's `replication-offset-checkpoint`. */
export function readReplicationOffsetCheckpoint(logDir: string): CheckpointEntry[] {
  return binding.readReplicationOffsetCheckpoint(logDir);
}

export function writeReplicationOffsetCheckpoint(logDir: string, entries: CheckpointEntry[]): void {
  binding.writeReplicationOffsetCheckpoint(logDir, entries);
}

export function hasCleanShutdownMarker(logDir: string): boolean {
  return binding.hasCleanShutdownMarker(logDir);
}

/** Written last on a clean shutdown, after every log of the dir is closed. */
export function markCleanShutdown(logDir: string): void {
  binding.writeCleanShutdownMarker(logDir);
}

/** Removed right after startup has read it, before anything is appended. */
export function clearCleanShutdown(logDir: string): void {
  binding.removeCleanShutdownMarker(logDir);
}

/** An exclusive hold on a log dir; `release()` (idempotent) lets another broker take it. */
export interface LogDirLock {
  release(): void;
}

/**
 * Takes `<logDir>/.lock` (flock, Kafka's file name) for this process. Throws a native error with
 * code LOG_DIR_LOCKED when another broker (or another lock in this process) holds it.
 */
export function lockLogDir(logDir: string): LogDirLock {
  return binding.lockLogDir(logDir);
}
