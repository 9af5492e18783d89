// The transaction coordinator in cluster mode (partitioned): it serves only the transactional ids
// of the __transaction_state partitions it was told it leads, answers NOT_COORDINATOR for the
// others and COORDINATOR_LOAD_IN_PROGRESS while a partition loads, and a coordinator taking over a
// partition (two coordinators over one log stand for the replicated topic) completes the
// transactions its predecessor left prepared, with markers in its own coordinator epoch, while the
// predecessor writes nothing more for them.
import { ErrorCode } from '@sluice/protocol';
import { describe, expect, test } from 'vitest';
import { drive, harness, type Harness, settle, writtenStates } from '../testing/transaction-harness.ts';
import { MemoryMarkerWriter } from './memory-marker-writer.ts';
import { transactionPartition } from './transaction-log.ts';

const ORDERS_0 = { topic: 'orders', partition: 0 };
const ORDERS_1 = { topic: 'orders', partition: 1 };
const TIMEOUT = 60_000;

function init(h: Harness, transactionalId = 'tx', producerId = -1, producerEpoch = -1) {
  return h.coordinator.initProducerId({ transactionalId, transactionTimeoutMs: TIMEOUT, producerId, producerEpoch });
}

/** An id that lives in another partition of the 4 than 'tx'. */
function idElsewhere(): string {
  for (let i = 0; ; i++) if (transactionPartition(`other-${i}`, 4) !== transactionPartition('tx', 4)) return `other-${i}`;
}

describe('partitioned transaction coordinator', () => {
  test('serves only the partitions it loaded: NOT_COORDINATOR elsewhere, and again after unloading', async () => {
    const h = await harness({ partitioned: true });
    expect((await init(h)).errorCode).toBe(ErrorCode.NOT_COORDINATOR);
    expect(h.coordinator.describe(['tx'])[0].errorCode).toBe(ErrorCode.NOT_COORDINATOR);
    const partition = transactionPartition('tx', 4);
    await h.coordinator.loadPartition(partition, 3);
    expect(await init(h)).toMatchObject({ errorCode: ErrorCode.NONE, producerEpoch: 0 });
    expect((await init(h, idElsewhere())).errorCode).toBe(ErrorCode.NOT_COORDINATOR);
    expect(h.coordinator.ownedPartitions).toEqual([partition]);
    h.coordinator.unloadPartition(partition);
    expect((await init(h)).errorCode).toBe(ErrorCode.NOT_COORDINATOR);
    expect(h.coordinator.get('tx')).toBeUndefined();
  });

  test('a new coordinator completes a commit left prepared: COORDINATOR_LOAD_IN_PROGRESS until its markers (its epoch) are written', async () => {
    const partition = transactionPartition('tx', 4);
    const old = await harness({ partitioned: true });
    await old.coordinator.loadPartition(partition, 1);
    const p = await init(old);
    expect(await old.coordinator.addPartitions({ transactionalId: 'tx', producerId: p.producerId, producerEpoch: 0, partitions: [ORDERS_0, ORDERS_1] })).toBe(
      ErrorCode.NONE,
    );
    old.markers.hold();
    expect((await old.coordinator.endTxn({ transactionalId: 'tx', producerId: p.producerId, producerEpoch: 0, committed: true })).errorCode).toBe(
      ErrorCode.NONE,
    );
    // Leadership moves: the old coordinator resigns with its markers still in flight.
    old.coordinator.unloadPartition(partition);

    const markers = new MemoryMarkerWriter();
    markers.hold();
    const next = await harness({ partitioned: true, log: old.log, clock: old.clock, markers });
    const loading = next.coordinator.loadPartition(partition, 2);
    await settle();
    expect((await init(next, 'tx', p.producerId, 0)).errorCode).toBe(ErrorCode.COORDINATOR_LOAD_IN_PROGRESS);
    markers.release();
    await loading;
    for (const tp of [ORDERS_0, ORDERS_1]) expect(markers.markers(tp)).toEqual([expect.objectContaining({ result: 'COMMIT', coordinatorEpoch: 2 })]);
    expect(next.coordinator.get('tx')).toMatchObject({ state: 'CompleteCommit', producerId: p.producerId });

    // The old coordinator's markers land late: it appends nothing for a partition it no longer leads.
    old.markers.release();
    await settle();
    await old.coordinator.whenIdle();
    expect(writtenStates(old.log, 'tx')).toEqual(['Empty', 'Ongoing', 'PrepareCommit', 'CompleteCommit']);
    // The producer carries on with the new coordinator.
    expect(await init(next, 'tx', p.producerId, 0)).toMatchObject({ errorCode: ErrorCode.NONE, producerEpoch: 1 });
  });

  test('a partition loaded again in a new leader epoch is replayed again', async () => {
    const partition = transactionPartition('tx', 4);
    const h = await harness({ partitioned: true });
    await h.coordinator.loadPartition(partition, 1);
    const p = await init(h);
    await h.coordinator.loadPartition(partition, 1); // same epoch: nothing happens
    expect(h.coordinator.get('tx')?.producerId).toBe(p.producerId);
    await h.coordinator.loadPartition(partition, 4);
    expect(h.coordinator.get('tx')).toMatchObject({ state: 'Empty', producerId: p.producerId, producerEpoch: 0 });
  });

  test('a transaction inherited Ongoing is aborted by the new coordinator at its timeout (Kafka’s expiration), in its coordinator epoch', async () => {
    const partition = transactionPartition('tx', 4);
    const old = await harness({ partitioned: true });
    await old.coordinator.loadPartition(partition, 1);
    const p = await old.coordinator.initProducerId({ transactionalId: 'tx', transactionTimeoutMs: 15_000, producerId: -1, producerEpoch: -1 });
    expect(await old.coordinator.addPartitions({ transactionalId: 'tx', producerId: p.producerId, producerEpoch: 0, partitions: [ORDERS_0] })).toBe(
      ErrorCode.NONE,
    );
    // The old coordinator's broker goes away with the transaction open (no EndTxn ever comes).
    old.coordinator.unloadPartition(partition);
    old.coordinator.close();
    const next = await harness({ partitioned: true, log: old.log, clock: old.clock });
    await next.coordinator.loadPartition(partition, 2);
    expect(next.coordinator.get('tx')).toMatchObject({ state: 'Ongoing', txnTimeoutMs: 15_000 });
    old.clock.advance(10_000); // 10 s old: not yet
    await drive(next);
    expect(next.markers.markers(ORDERS_0)).toEqual([]);
    old.clock.advance(10_000); // 20 s old: aborted, the producer fenced
    await drive(next);
    expect(next.markers.markers(ORDERS_0)).toEqual([
      expect.objectContaining({ producerId: p.producerId, producerEpoch: 1, result: 'ABORT', coordinatorEpoch: 2 }),
    ]);
    expect(next.coordinator.get('tx')).toMatchObject({ state: 'CompleteAbort', producerEpoch: 1 });
  });
});
