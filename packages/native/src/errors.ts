// Codes of the errors the native addon throws: `err.code` is one of these strings, one per
// variant of the Rust `sluice_log::Error` enum (crates/sluice-log/src/error.rs). The table is
// tested against `nativeErrorCodes()`, the Rust list, so the two cannot drift apart.

export const NativeErrorCode = {
  /** A batch failed an integrity check (CRC-32C, magic, length). Kafka: CORRUPT_MESSAGE. */
  CORRUPT_MESSAGE: 'CORRUPT_MESSAGE',
  /**
   * lastOffsetDelta + 1 != record count, an empty append, a control batch from a client, a
   * transactional batch without a producer id, or a producer id without a sequence.
   * Kafka: INVALID_RECORD.
   */
  INVALID_RECORD: 'INVALID_RECORD',
  /** A batch larger than max.message.bytes. Kafka: MESSAGE_TOO_LARGE. */
  MESSAGE_TOO_LARGE: 'MESSAGE_TOO_LARGE',
  /** An append larger than segment.bytes. Kafka: RECORD_LIST_TOO_LARGE. */
  RECORD_LIST_TOO_LARGE: 'RECORD_LIST_TOO_LARGE',
  /** An idempotent producer's sequence gap, rewind, or new epoch not at 0. Kafka: OUT_OF_ORDER_SEQUENCE_NUMBER. */
  OUT_OF_ORDER_SEQUENCE_NUMBER: 'OUT_OF_ORDER_SEQUENCE_NUMBER',
  /** A batch from an older producer epoch than the partition has seen. Kafka: INVALID_PRODUCER_EPOCH. */
  INVALID_PRODUCER_EPOCH: 'INVALID_PRODUCER_EPOCH',
  /** A non-transactional batch from a producer with an open transaction. Kafka: INVALID_TXN_STATE. */
  INVALID_TXN_STATE: 'INVALID_TXN_STATE',
  /** A transaction marker from an older coordinator epoch. Kafka: TRANSACTION_COORDINATOR_FENCED. */
  TRANSACTION_COORDINATOR_FENCED: 'TRANSACTION_COORDINATOR_FENCED',
  /** Offset outside [log start, log end]. Kafka: OFFSET_OUT_OF_RANGE. */
  OFFSET_OUT_OF_RANGE: 'OFFSET_OUT_OF_RANGE',
  /** Segment bytes on disk that do not parse. Report as KAFKA_STORAGE_ERROR. */
  CORRUPT_SEGMENT: 'CORRUPT_SEGMENT',
  /** A checkpoint file not in Kafka's format. */
  CORRUPT_CHECKPOINT: 'CORRUPT_CHECKPOINT',
  /** EIO and other file-system errors. Kafka: KAFKA_STORAGE_ERROR. */
  KAFKA_STORAGE_ERROR: 'KAFKA_STORAGE_ERROR',
  /** ENOSPC; nothing of the append was published. Report as KAFKA_STORAGE_ERROR. */
  NO_SPACE: 'NO_SPACE',
  /** A call on a closed or deleted log. */
  LOG_CLOSED: 'LOG_CLOSED',
  /** A config value out of range. */
  INVALID_CONFIG: 'INVALID_CONFIG',
  /** A number that is not a usable offset, size or timestamp. */
  INVALID_ARGUMENT: 'INVALID_ARGUMENT',
  /** Another broker holds the log dir's `.lock`; refuse to start rather than share the files. */
  LOG_DIR_LOCKED: 'LOG_DIR_LOCKED',
  /** A send on a connection whose earlier send failed; close it. */
  CONNECTION_CLOSED: 'CONNECTION_CLOSED',
  /** The peer closed or reset the connection during a write. */
  PEER_RESET: 'PEER_RESET',
  /** A send past the connection's queue bounds; nothing was written or queued. */
  WRITER_QUEUE_FULL: 'WRITER_QUEUE_FULL',
  /** No such registered connection. */
  UNKNOWN_CONNECTION: 'UNKNOWN_CONNECTION',
  /** Any other I/O error while moving bytes (EIO reading a segment, EMFILE...). */
  TRANSFER_IO: 'TRANSFER_IO',
  /** `register` was given an fd that is not a stream socket. */
  NOT_A_STREAM_SOCKET: 'NOT_A_STREAM_SOCKET',
  /** A call on a closed writer. */
  WRITER_CLOSED: 'WRITER_CLOSED',
  /** A writer mode other than sendfile, splice or copy. */
  UNKNOWN_WRITER_MODE: 'UNKNOWN_WRITER_MODE',
} as const;

export type NativeErrorCode = (typeof NativeErrorCode)[keyof typeof NativeErrorCode];

const knownCodes: ReadonlySet<string> = new Set(Object.values(NativeErrorCode));

/** An error thrown (or a promise rejection) from the native addon. */
export interface NativeError extends Error {
  code: NativeErrorCode;
}

export function isNativeError(error: unknown): error is NativeError {
  if (!(error instanceof Error)) return false;
  const code: unknown = (error as { code?: unknown }).code;
  return typeof code === 'string' && knownCodes.has(code);
}
