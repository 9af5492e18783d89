// Reading an internal topic's partition back at start (`__consumer_offsets`,
// `__transaction_state`): every stored batch, in log order, parsed, from the log start to the log
// end as it was when the replay began.
//
// The native PartitionLog's `read()` hands out file ranges for sendfile, not bytes; replay uses
// its byte-returning read, the BatchBytesReader interface (`readBytes(offset, maxBytes)`, whole
// batches from the one containing `offset`, at least one), which @sluice/native's PartitionLog
// provides. A log without it (a stand-in storage engine) cannot replay a non-empty internal
// topic, so the replay fails loudly rather than forgetting state.

import { parseRecordBatches, type RecordBatch } from '@sluice/protocol';
import type { Partition } from './partition.ts';

/** Whole record batches as bytes, from the batch that contains `offset`; null at the log end. */
export interface BatchBytesReader {
  readBytes(offset: number, maxBytes: number): Uint8Array | null;
}

/** The byte-returning read of a partition log, when the storage engine provides one. */
export function batchBytesReader(log: object): BatchBytesReader | null {
  const candidate = log as Partial<BatchBytesReader>;
  return typeof candidate.readBytes === 'function' ? { readBytes: (offset, maxBytes) => candidate.readBytes!.call(log, offset, maxBytes) } : null;
}

/**
 * Calls `visit` for each batch of the partition, in log order. `inRange(offset)` says whether a
 * record of that batch belongs to the replay: the first batch read may start before the log
 * start (reads return the containing batch), and nothing at or past the end counts.
 */
export function replayPartitionBatches(
  partition: Partition,
  name: string,
  readBytesPerStep: number,
  visit: (batch: RecordBatch, inRange: (offset: number) => boolean) => void,
): void {
  const end = partition.log.logEndOffset;
  let offset = partition.log.logStartOffset;
  if (offset >= end) return;
  const label = `${name}-${partition.index}`;
  const reader = batchBytesReader(partition.log);
  if (reader === null) {
    throw new Error(
      `${label} holds offsets ${offset}..${end - 1} but the storage engine cannot read batches back as bytes ` +
        '(PartitionLog.readBytes is missing); refusing to start without its state',
    );
  }
  while (offset < end) {
    const bytes = reader.readBytes(offset, readBytesPerStep);
    if (bytes === null) break;
    const batches = parseRecordBatches(bytes, { allowTruncatedTail: true });
    if (batches.length === 0) throw new Error(`BUG: readBytes(${offset}) on ${label} returned no whole batch`);
    let next = offset;
    for (const batch of batches) {
      next = batch.baseOffset + batch.lastOffsetDelta + 1;
      const from = offset;
      visit(batch, (o) => o >= from && o < end);
    }
    if (next <= offset) throw new Error(`BUG: replay of ${label} made no progress at offset ${offset}`);
    offset = next;
  }
}
