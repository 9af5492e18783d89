// Kafka's checks on a Produce request's record set for one partition (ProduceRequest
// .validateRecords, v3+), before the log validates the batch itself (CRC, counts, sizes):
//
// - at least one complete batch, else INVALID_RECORD;
// - a batchLength below 14 (the smallest record overhead of any magic) is CORRUPT_MESSAGE;
// - the first batch must be magic 2, else INVALID_RECORD;
// - exactly one complete batch per partition, else INVALID_RECORD;
// - bytes after it that do not make up a complete batch are dropped, as Kafka's log trims an
//   incomplete tail (UnifiedLog.trimInvalidBytes) instead of refusing it.
//
// Only headers are read here (offsets 8..16); nothing is copied.

import { ErrorCode } from '@sluice/protocol';

/** baseOffset (8) + batchLength (4): the bytes before what batchLength counts. */
const LOG_OVERHEAD = 12;
/** Kafka's LegacyRecord.RECORD_OVERHEAD_V0: no batch of any magic is shorter. */
const MIN_RECORD_OVERHEAD = 14;
const MAGIC_OFFSET = 16;

export type ProduceRecords = { readonly batch: Uint8Array } | { readonly errorCode: number; readonly message: string };

/** Where the complete batch starting at `at` ends, null if the bytes stop before it does. */
function completeBatchEnd(records: Uint8Array, at: number): number | null | { corrupt: string } {
  const remaining = records.byteLength - at;
  if (remaining < LOG_OVERHEAD) return null;
  const view = new DataView(records.buffer, records.byteOffset + at, LOG_OVERHEAD);
  const batchLength = view.getInt32(8);
  if (batchLength < MIN_RECORD_OVERHEAD) {
    return { corrupt: `Record size ${batchLength} is less than the minimum record overhead (${MIN_RECORD_OVERHEAD})` };
  }
  const size = LOG_OVERHEAD + batchLength;
  return remaining < size ? null : at + size;
}

/** The one batch to append for a partition, or the error Kafka answers for it. */
export function produceRecords(records: Uint8Array | null): ProduceRecords {
  if (records === null || records.byteLength === 0) {
    return { errorCode: ErrorCode.INVALID_RECORD, message: 'Produce requests with version 3 or later must have at least one record batch per partition' };
  }
  const first = completeBatchEnd(records, 0);
  if (first !== null && typeof first === 'object') return { errorCode: ErrorCode.CORRUPT_MESSAGE, message: first.corrupt };
  if (first === null) {
    return { errorCode: ErrorCode.INVALID_RECORD, message: 'Produce requests with version 3 or later must have at least one record batch per partition' };
  }
  const magic = records[MAGIC_OFFSET];
  if (magic !== 2) {
    return {
      errorCode: ErrorCode.INVALID_RECORD,
      message: `Produce requests with version 3 or later are only allowed to contain record batches with magic version 2 (got ${magic})`,
    };
  }
  const second = completeBatchEnd(records, first);
  if (second !== null && typeof second === 'object') return { errorCode: ErrorCode.CORRUPT_MESSAGE, message: second.corrupt };
  if (second !== null) {
    return {
      errorCode: ErrorCode.INVALID_RECORD,
      message: 'Produce requests with version 3 or later are only allowed to contain exactly one record batch per partition',
    };
  }
  return { batch: first === records.byteLength ? records : records.subarray(0, first) };
}
