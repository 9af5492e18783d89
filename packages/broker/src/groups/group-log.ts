// Where the coordinator's durable state goes: an append-only, partitioned log of key/value
// records (records.ts spells the bytes out). The broker's implementation is the internal
// `__consumer_offsets` topic (offsets-topic-log.ts); tests use MemoryGroupLog.
//
// The coordinator's in-memory state is always the replay of this log: it applies a change only
// after `append` returned (the records are in the log, in log order), and answers the client
// only once `durable` resolved (after fsync when `sluice.flush.on.ack.enable` is set).

import { ErrorCode } from '@sluice/protocol';

export interface GroupLogRecord {
  readonly key: Uint8Array;
  /** null = tombstone. */
  readonly value: Uint8Array | null;
}

export interface GroupLogAppend {
  /** Resolves when the records are as durable as the broker's ack policy requires. */
  readonly durable: Promise<void>;
  /** Offset of the batch in the log: orders a transactional commit against plain ones. */
  readonly baseOffset: number;
}

/** The transaction a transactional batch (TxnOffsetCommit's offsets) belongs to. */
export interface TransactionalProducer {
  readonly producerId: number;
  readonly producerEpoch: number;
}

/** What replay says about a record beyond its key and value. */
export interface ReplayedRecordInfo {
  /** Offset of the record's batch in the log. */
  readonly batchOffset: number;
  /** The transaction the record was written in, or null for a plain record. */
  readonly transaction: TransactionalProducer | null;
}

/** A COMMIT or ABORT marker found in the log while replaying it. */
export interface ReplayedMarker {
  readonly producerId: number;
  readonly result: 'COMMIT' | 'ABORT';
}

export interface GroupLogVisitor {
  record(partition: number, record: GroupLogRecord, info: ReplayedRecordInfo): void;
  marker(partition: number, marker: ReplayedMarker): void;
}

export interface GroupLog {
  /** Partitions of the log; a group's records all go to `groupPartition(groupId, partitionCount)`. */
  readonly partitionCount: number;
  /**
   * Appends the records to one partition as one batch (all or nothing). Throws GroupLogError
   * when the append is refused (storage error, batch too large); `durable` rejects with
   * GroupLogError when the flush fails.
   */
  append(partition: number, records: readonly GroupLogRecord[], nowMs: number): GroupLogAppend;
  /**
   * Appends the records as one transactional batch of `producer` (TxnOffsetCommit): they take
   * effect when the transaction's COMMIT marker lands in this partition, and never on ABORT.
   * Throws GroupLogError as `append` does (INVALID_PRODUCER_EPOCH when the partition has seen a
   * newer epoch of the producer).
   */
  appendTransactional(partition: number, records: readonly GroupLogRecord[], nowMs: number, producer: TransactionalProducer): GroupLogAppend;
  /**
   * Visits every record stored, partition by partition, in log order, with the transaction it
   * belongs to, and every transaction marker where it sits in the log. With `partition`, only
   * that partition (a coordinator taking over one partition, in cluster mode).
   */
  replay(visitor: GroupLogVisitor, partition?: number): void;
}

/** An append or flush the log refused, with the Kafka error code of the storage failure. */
export class GroupLogError extends Error {
  readonly errorCode: number;

  constructor(errorCode: number, message: string) {
    super(message);
    this.name = 'GroupLogError';
    this.errorCode = errorCode;
  }
}

/** How the group managers append: a group's records go to its partition, at the clock's now. */
export type AppendGroupRecords = (groupId: string, records: readonly GroupLogRecord[]) => GroupLogAppend;

/** The Kafka error code of a failed append or flush; anything but a GroupLogError is a bug. */
export function groupLogErrorCode(err: unknown): number {
  if (err instanceof GroupLogError) return err.errorCode;
  throw err;
}

/** Kafka's mapping of a failed group metadata write to what the member is told. */
export function groupWriteError(errorCode: number): number {
  switch (errorCode) {
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
    case ErrorCode.INVALID_FETCH_SIZE:
      return ErrorCode.UNKNOWN_SERVER_ERROR;
    default:
      return errorCode;
  }
}
