// What a read_committed consumer receives from one partition, read with raw Fetch requests
// (v11, isolation_level=1) from offset 0 up to the last stable offset, with Kafka's
// consumer-side filtering: the broker returns aborted records too, listed in
// `aborted_transactions` by (producer id, first offset); the consumer skips that producer's
// transactional batches from the first offset up to its ABORT marker, and every control batch.
// Used by the transactional crash harness (test/crash/txn-harness.ts) and the Kafka Streams
// exactly-once test (test/clients/kafka-streams.ts).

import { ApiKey, parseRecordBatches } from '@sluice/protocol';
import type { RawClient } from './raw-client.ts';

export interface CommittedRecord {
  readonly offset: number;
  readonly key: string | null;
  readonly value: string | null;
}

export interface CommittedRead {
  readonly records: CommittedRecord[];
  readonly lastStableOffset: number;
  readonly highWatermark: number;
}

const text = (bytes: Uint8Array | null) => (bytes === null ? null : Buffer.from(bytes).toString());

export async function readCommitted(client: RawClient, topic: string, partition: number): Promise<CommittedRead> {
  const records: CommittedRecord[] = [];
  let offset = 0;
  for (;;) {
    const response = await client.request(ApiKey.Fetch, 11, {
      replicaId: -1,
      maxWaitMs: 0,
      minBytes: 1,
      maxBytes: 8 << 20,
      isolationLevel: 1,
      sessionId: 0,
      sessionEpoch: -1,
      topics: [{ topic, partitions: [{ partition, currentLeaderEpoch: -1, fetchOffset: offset, logStartOffset: -1, partitionMaxBytes: 8 << 20 }] }],
      forgottenTopicsData: [],
      rackId: '',
    });
    const answer = response.responses[0].partitions[0];
    if (answer.errorCode !== 0) throw new Error(`read_committed fetch ${topic}-${partition}: error ${answer.errorCode}`);
    const lastStableOffset = Number(answer.lastStableOffset);
    const highWatermark = Number(answer.highWatermark);
    const bytes: Uint8Array = answer.records ?? new Uint8Array(0);
    if (bytes.byteLength === 0) {
      if (offset >= lastStableOffset) return { records, lastStableOffset, highWatermark };
      throw new Error(`${topic}-${partition}: nothing returned at offset ${offset} below the last stable offset ${lastStableOffset}`);
    }
    const pending = (answer.abortedTransactions ?? [])
      .map((a: { producerId: number | bigint; firstOffset: number | bigint }) => ({ producerId: Number(a.producerId), firstOffset: Number(a.firstOffset) }))
      .sort((a: { firstOffset: number }, b: { firstOffset: number }) => a.firstOffset - b.firstOffset);
    const abortedProducers = new Set<number>();
    for (const batch of parseRecordBatches(bytes, { allowTruncatedTail: true })) {
      const lastOffset = Number(batch.baseOffset) + batch.lastOffsetDelta;
      if (batch.transactional) while (pending.length > 0 && pending[0].firstOffset <= lastOffset) abortedProducers.add(pending.shift()!.producerId);
      if (batch.isControl) {
        // Control record key: version int16, type int16 (0 = ABORT, 1 = COMMIT).
        const key = batch.records[0]?.key;
        if (key && key.byteLength >= 4 && new DataView(key.buffer, key.byteOffset).getInt16(2) === 0) abortedProducers.delete(Number(batch.producerId));
      } else if (!(batch.transactional && abortedProducers.has(Number(batch.producerId)))) {
        for (const record of batch.records) {
          if (record.offset >= offset && record.offset < lastStableOffset)
            records.push({ offset: record.offset, key: text(record.key), value: text(record.value) });
        }
      }
      offset = Math.max(offset, lastOffset + 1);
    }
    if (offset >= lastStableOffset) return { records, lastStableOffset, highWatermark };
  }
}
