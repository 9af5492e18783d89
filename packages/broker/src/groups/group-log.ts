// Where the coordinator's durable state goes: an append-only, partitioned log of key/value
// records (records.ts spells the bytes out). The broker's implementation is the internal
// `__consumer_offsets` topic (offsets-topic-log.ts); tests use MemoryGroupLog.
//
// The coordinator's in-memory state is always the replay of this log: it applies a change only
// after `append` returned (the records are in the log, in log order), and answers the client
// only once `durable` resolved (after fsync when `sluice.flush.on.ack.enable` is set).

export interface GroupLogRecord {
  readonly key: Uint8Array;
  /** null = tombstone. */
  readonly value: Uint8Array | null;
}

export interface GroupLogAppend {
  /** Resolves when the records are as durable as the broker's ack policy requires. */
  readonly durable: Promise<void>;
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
  /** Calls `visit` for every record stored, partition by partition, in log order. */
  replay(visit: (partition: number, record: GroupLogRecord) => void): void;
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
