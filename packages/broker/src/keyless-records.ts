// Which records of a refused append lacked a key, for a compacted topic's INVALID_RECORD answer.
//
// Kafka's LogValidator checks every record of a compacted topic for a key and refuses the batch
// with INVALID_RECORD and one RecordError (the record's index in the batch, a message) per keyless
// record; Produce v8+ carries them (KIP-467). Clients act on the list: librdkafka fails exactly
// those records with INVALID_RECORD and the others of the batch with _INVALID_DIFFERENT_RECORD
// (its regression test 0011_produce_batch checks the counts), where an empty list fails them all.
//
// The native log makes the decision (it refuses the append); this only names the records, on
// that error path alone. It decompresses the batch, which the broker otherwise never does: the
// cost is paid only by a producer sending keyless records to a compacted topic.

import { DEFAULT_MAX_UNCOMPRESSED_BYTES, parseRecordBatches } from '@sluice/protocol';

export interface RecordErrors {
  readonly recordErrors: Array<{ batchIndex: number; batchIndexErrorMessage: string | null }>;
  readonly errorMessage: string;
}

/** The keyless records of `batch` as Produce RecordErrors, or null when there are none (or it does not parse). */
export function keylessRecordErrors(batch: Uint8Array, topic: string, partition: number): RecordErrors | null {
  let index = 0;
  const recordErrors: RecordErrors['recordErrors'] = [];
  const message = `a compacted topic cannot accept a record without a key (${topic}-${partition})`;
  try {
    for (const b of parseRecordBatches(batch, { verifyCrc: false, maxUncompressedBytes: DEFAULT_MAX_UNCOMPRESSED_BYTES })) {
      for (const record of b.records) {
        if (!b.isControl && record.key === null) recordErrors.push({ batchIndex: index, batchIndexErrorMessage: message });
        index++;
      }
    }
  } catch {
    return null; // the log's own message stands
  }
  if (recordErrors.length === 0) return null;
  return { recordErrors, errorMessage: `${recordErrors.length} of ${index} records rejected: ${message}` };
}
