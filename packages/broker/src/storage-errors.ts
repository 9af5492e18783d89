// Native storage errors carry a stable `code`; handlers turn them into Kafka error codes here,
// in one place. An error without a known code is unexpected: handlers answer the partition with
// UNKNOWN_SERVER_ERROR (as Kafka does for an unexpected exception) and log it, so one bad
// partition never costs the client its connection.

import { ErrorCode } from '@sluice/protocol';

const BY_NATIVE_CODE: Readonly<Record<string, number>> = {
  CORRUPT_MESSAGE: ErrorCode.CORRUPT_MESSAGE,
  MESSAGE_TOO_LARGE: ErrorCode.MESSAGE_TOO_LARGE,
  RECORD_LIST_TOO_LARGE: ErrorCode.RECORD_LIST_TOO_LARGE,
  CORRUPT_SEGMENT: ErrorCode.KAFKA_STORAGE_ERROR,
  INVALID_RECORD: ErrorCode.INVALID_RECORD,
  OUT_OF_ORDER_SEQUENCE_NUMBER: ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER,
  INVALID_PRODUCER_EPOCH: ErrorCode.INVALID_PRODUCER_EPOCH,
  OFFSET_OUT_OF_RANGE: ErrorCode.OFFSET_OUT_OF_RANGE,
  KAFKA_STORAGE_ERROR: ErrorCode.KAFKA_STORAGE_ERROR,
  NO_SPACE: ErrorCode.KAFKA_STORAGE_ERROR,
  LOG_CLOSED: ErrorCode.NOT_LEADER_OR_FOLLOWER,
};

export interface StorageFailure {
  readonly errorCode: number;
  readonly message: string;
}

/** The Kafka error for a native storage error, or null when `err` is not one. */
export function storageFailure(err: unknown): StorageFailure | null {
  if (err instanceof Error) {
    const code = (err as Error & { code?: unknown }).code;
    if (typeof code === 'string' && code in BY_NATIVE_CODE) {
      return { errorCode: BY_NATIVE_CODE[code], message: err.message };
    }
  }
  return null;
}

/**
 * True for a native error after which the log's on-disk state is unknown (EIO and other
 * file-system errors while writing or syncing): the partition must go offline. ENOSPC is not one:
 * the log refuses the append before writing anything.
 */
export function leavesStorageUnknown(err: unknown): boolean {
  return err instanceof Error && (err as Error & { code?: unknown }).code === 'KAFKA_STORAGE_ERROR';
}

/** storageFailure, or UNKNOWN_SERVER_ERROR for anything unexpected (the caller logs it). */
export function partitionFailure(err: unknown): StorageFailure & { unexpected: boolean } {
  const failure = storageFailure(err);
  if (failure !== null) return { ...failure, unexpected: false };
  return { errorCode: ErrorCode.UNKNOWN_SERVER_ERROR, message: 'unexpected error; see the broker log', unexpected: true };
}
