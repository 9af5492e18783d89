// kill -9 at every step of a transaction, at the coordinator's level: the log is cut after each
// of its records in turn (what was durable when the process died), with any subset of the
// markers already written, and a new coordinator loads it. Whatever the cut, every partition of
// the transaction ends with the same outcome — all COMMIT or all ABORT, never both, never none.
import { ErrorCode } from '@sluice/protocol';
import { describe, expect, test } from 'vitest';
import { drive, harness } from '../testing/transaction-harness.ts';
import { MemoryMarkerWriter } from './memory-marker-writer.ts';
import { MemoryTransactionLog } from './memory-transaction-log.ts';
import { partitionKey, type TopicPartition } from './marker-writer.ts';
import { transactionPartition } from './transaction-log.ts';

const PARTITIONS: readonly TopicPartition[] = [
  { topic: 'orders', partition: 0 },
  { topic: 'orders', partition: 1 },
  { topic: 'audit', partition: 0 },
];
const TIMEOUT = 5_000;

/** The full run: its log records, in order, and which record is the PrepareCommit. */
async function fullRun(committed: boolean) {
  const h = await harness();
  const p = await h.coordinator.initProducerId({ transactionalId: 'tx', transactionTimeoutMs: TIMEOUT, producerId: -1, producerEpoch: -1 });
  const base = { transactionalId: 'tx', producerId: p.producerId, producerEpoch: p.producerEpoch };
  expect(await h.coordinator.addPartitions({ ...base, partitions: PARTITIONS.slice(0, 2) })).toBe(ErrorCode.NONE);
  expect(await h.coordinator.addPartitions({ ...base, partitions: PARTITIONS.slice(2) })).toBe(ErrorCode.NONE);
  expect((await h.coordinator.endTxn({ ...base, committed })).errorCode).toBe(ErrorCode.NONE);
  await drive(h);
  const records = h.log.partitions[transactionPartition('tx', 4)];
  expect(records).toHaveLength(5); // Empty, Ongoing, Ongoing, Prepare*, Complete*
  return records;
}

/** Every subset of the partitions, as bit masks. */
const SUBSETS = Array.from({ length: 1 << PARTITIONS.length }, (_, mask) => PARTITIONS.filter((_, i) => mask & (1 << i)));

describe.each([true, false])('a crash at every step of a transaction (commit: %s)', (committed) => {
  test('every partition ends with one outcome, the decided one once Prepare* was durable', async () => {
    const records = await fullRun(committed);
    const decided = committed ? 'COMMIT' : 'ABORT';
    for (let cut = 0; cut <= records.length; cut++) {
      // Markers are written only once Prepare* (the 4th record) is durable, and all of them
      // before Complete* (the 5th) is appended: any subset in between.
      const markerSets = cut === 5 ? [PARTITIONS] : cut === 4 ? SUBSETS : [[]];
      for (const alreadyMarked of markerSets) {
        const log = new MemoryTransactionLog(4);
        log.partitions[transactionPartition('tx', 4)].push(...records.slice(0, cut));
        const markers = new MemoryMarkerWriter();
        // The markers the dead process got written before it died.
        if (alreadyMarked.length > 0) {
          await markers.write({
            transactionalId: 'tx',
            producerId: 1000,
            producerEpoch: 0,
            result: decided,
            coordinatorEpoch: 0,
            transactionVersion: 0,
            partitions: alreadyMarked,
          });
        }
        const h = await harness({ log, markers });
        // An open transaction left behind times out and is aborted.
        h.clock.advance(TIMEOUT + h.config.abortTimedOutTransactionsIntervalMs);
        await drive(h);
        const state = h.coordinator.get('tx')?.state;
        const where = `cut after ${cut} records, ${alreadyMarked.length} markers already written`;
        if (cut === 0) {
          expect(state, where).toBeUndefined();
          expect(markers.markerCount, where).toBe(0);
          continue;
        }
        // Which partitions the durable state says are in the transaction.
        const inTransaction = cut >= 3 ? PARTITIONS : cut === 2 ? PARTITIONS.slice(0, 2) : [];
        const outcome = cut >= 4 ? decided : inTransaction.length > 0 ? 'ABORT' : null;
        for (const tp of PARTITIONS) {
          const results = new Set(markers.markers(tp).map((m) => m.result));
          const expected = outcome !== null && inTransaction.some((t) => partitionKey(t) === partitionKey(tp)) ? [outcome] : [];
          expect([...results], `${where}: ${tp.topic}-${tp.partition}`).toEqual(expected);
        }
        expect(state, where).toBe(outcome === null ? 'Empty' : outcome === 'COMMIT' ? 'CompleteCommit' : 'CompleteAbort');
        // And the coordinator answers the next incarnation.
        expect(
          (await h.coordinator.initProducerId({ transactionalId: 'tx', transactionTimeoutMs: TIMEOUT, producerId: -1, producerEpoch: -1 })).errorCode,
          where,
        ).toBe(ErrorCode.NONE);
        h.coordinator.close();
      }
    }
  });
});
