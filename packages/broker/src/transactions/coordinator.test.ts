// The transaction coordinator's state machine against Kafka's semantics: producer ids and
// epochs, fencing, the transaction life cycle and its errors, idempotent EndTxn, markers and
// their retries, timeouts, expiration, recovery, and transaction.version 2.
import { ErrorCode } from '@sluice/protocol';
import { describe, expect, test } from 'vitest';
import { drive, harness, type Harness, lastWritten, seed, settle, START_MS, writtenStates } from '../testing/transaction-harness.ts';
import { TransactionCoordinator } from './coordinator.ts';
import { MemoryMarkerWriter } from './memory-marker-writer.ts';
import { TRANSACTION_STATUS } from './state.ts';
import { transactionPartition } from './transaction-log.ts';

const ORDERS_0 = { topic: 'orders', partition: 0 };
const ORDERS_1 = { topic: 'orders', partition: 1 };
const TIMEOUT = 60_000;

async function init(h: Harness, transactionalId = 'tx', producerId = -1, producerEpoch = -1) {
  return h.coordinator.initProducerId({ transactionalId, transactionTimeoutMs: TIMEOUT, producerId, producerEpoch });
}

/** Init + AddPartitions: a producer with an Ongoing transaction. */
async function ongoing(h: Harness, transactionalId = 'tx', partitions = [ORDERS_0, ORDERS_1]) {
  const p = await init(h, transactionalId);
  expect(p.errorCode).toBe(ErrorCode.NONE);
  expect(await h.coordinator.addPartitions({ transactionalId, producerId: p.producerId, producerEpoch: p.producerEpoch, partitions })).toBe(ErrorCode.NONE);
  return p;
}

describe('InitProducerId with a transactional id', () => {
  test('a new id gets a new producer id at epoch 0, written to its __transaction_state partition', async () => {
    const h = await harness();
    expect(await init(h)).toEqual({ errorCode: ErrorCode.NONE, producerId: 1000, producerEpoch: 0 });
    expect(writtenStates(h.log, 'tx')).toEqual(['Empty']);
    expect(h.log.partitions[transactionPartition('tx', 4)]).toHaveLength(1);
    expect(lastWritten(h.log, 'tx')).toMatchObject({
      producerId: 1000,
      producerEpoch: 0,
      transactionTimeoutMs: TIMEOUT,
      transactionPartitions: null,
      transactionStartTimestampMs: -1,
    });
  });

  test('a second producer with the same id bumps the epoch and fences the first', async () => {
    const h = await harness();
    const first = await init(h);
    const second = await init(h);
    expect(second).toEqual({ errorCode: ErrorCode.NONE, producerId: first.producerId, producerEpoch: 1 });
    const stale = { transactionalId: 'tx', producerId: first.producerId, producerEpoch: first.producerEpoch, partitions: [ORDERS_0] };
    expect(await h.coordinator.addPartitions(stale)).toBe(ErrorCode.PRODUCER_FENCED);
    expect(await h.coordinator.endTxn({ ...stale, committed: true })).toMatchObject({ errorCode: ErrorCode.PRODUCER_FENCED });
  });

  test.each([
    ['an empty transactional id', { transactionalId: '' }, ErrorCode.INVALID_REQUEST],
    ['a producer id without an epoch', { producerId: 5 }, ErrorCode.INVALID_REQUEST],
    ['a zero timeout', { transactionTimeoutMs: 0 }, ErrorCode.INVALID_TRANSACTION_TIMEOUT],
    ['a timeout above transaction.max.timeout.ms', { transactionTimeoutMs: 900_001 }, ErrorCode.INVALID_TRANSACTION_TIMEOUT],
  ])('%s is refused', async (_what, change, errorCode) => {
    const h = await harness();
    const r = await h.coordinator.initProducerId({ transactionalId: 'tx', transactionTimeoutMs: TIMEOUT, producerId: -1, producerEpoch: -1, ...change });
    expect(r).toEqual({ errorCode, producerId: -1, producerEpoch: -1 });
    expect(h.log.recordCount).toBe(0);
  });

  test('KIP-360: the current producer resumes with a bump; a retry of that bump gets the same epoch; anyone else is fenced', async () => {
    const h = await harness();
    const p0 = await init(h);
    const p1 = await init(h, 'tx', p0.producerId, p0.producerEpoch);
    expect(p1).toEqual({ errorCode: ErrorCode.NONE, producerId: p0.producerId, producerEpoch: 1 });
    expect(h.coordinator.get('tx')?.lastProducerEpoch).toBe(0);
    // The producer never heard the answer and asks again with epoch 0: same answer, no bump.
    expect(await init(h, 'tx', p0.producerId, 0)).toEqual(p1);
    // Resuming from epoch 1 bumps to 2 and remembers 1.
    expect(await init(h, 'tx', p0.producerId, 1)).toMatchObject({ producerEpoch: 2 });
    // Epoch 0 is now neither current nor last: fenced. So is another producer id.
    expect(await init(h, 'tx', p0.producerId, 0)).toMatchObject({ errorCode: ErrorCode.PRODUCER_FENCED });
    expect(await init(h, 'tx', 77, 0)).toMatchObject({ errorCode: ErrorCode.PRODUCER_FENCED });
    // Without an epoch, a new incarnation: bump, last epoch forgotten.
    expect(await init(h)).toMatchObject({ producerEpoch: 3 });
    expect(h.coordinator.get('tx')?.lastProducerEpoch).toBe(-1);
  });

  test('an exhausted epoch moves to a new producer id at epoch 0; a retry with the old pair is recognised', async () => {
    const h = await harness({ noLoad: true });
    seed(h.log, transactionPartition('tx', 4), 'tx', {
      producerId: 500,
      previousProducerId: -1,
      nextProducerId: -1,
      producerEpoch: 32_765,
      transactionTimeoutMs: TIMEOUT,
      transactionStatus: TRANSACTION_STATUS.CompleteCommit,
      transactionPartitions: [],
      transactionLastUpdateTimestampMs: START_MS,
      transactionStartTimestampMs: START_MS - 10,
      clientTransactionVersion: 0,
    });
    await h.coordinator.load();
    expect(await init(h, 'tx', 500, 32_765)).toEqual({ errorCode: ErrorCode.NONE, producerId: 500, producerEpoch: 32_766 });
    const rotated = await init(h, 'tx', 500, 32_766);
    expect(rotated).toEqual({ errorCode: ErrorCode.NONE, producerId: 1000, producerEpoch: 0 });
    expect(h.coordinator.get('tx')).toMatchObject({ previousProducerId: 500, lastProducerEpoch: 32_766 });
    expect(lastWritten(h.log, 'tx')).toMatchObject({ producerId: 1000, previousProducerId: 500, producerEpoch: 0 });
    // The same call again (its answer was lost): the old id is the previous one and its epoch
    // exhausted, so it is let through and gets the new pair again.
    expect(await init(h, 'tx', 500, 32_766)).toEqual(rotated);
    expect(h.issuedIds).toEqual([1000]);
  });

  test('a new id whose producer id cannot be reserved answers COORDINATOR_LOAD_IN_PROGRESS', async () => {
    const h = await harness();
    const failing = new TransactionCoordinator({
      log: h.log,
      markers: h.markers,
      clock: h.clock,
      producerIds: {
        generate: () => {
          throw new Error('disk full');
        },
      },
      offsetsPartitionFor: () => ORDERS_0,
    });
    await failing.load();
    expect(await failing.initProducerId({ transactionalId: 'x', transactionTimeoutMs: TIMEOUT, producerId: -1, producerEpoch: -1 })).toMatchObject({
      errorCode: ErrorCode.COORDINATOR_LOAD_IN_PROGRESS,
    });
  });
});

describe('a transaction from AddPartitions to CompleteCommit', () => {
  test('commit: Ongoing, PrepareCommit (answered), markers on every partition, CompleteCommit', async () => {
    const h = await harness();
    const p = await init(h);
    const base = { transactionalId: 'tx', producerId: p.producerId, producerEpoch: p.producerEpoch };
    expect(await h.coordinator.addPartitions({ ...base, partitions: [ORDERS_0] })).toBe(ErrorCode.NONE);
    expect(h.coordinator.get('tx')?.txnStartTimestamp).toBe(START_MS);
    h.clock.advance(5);
    expect(await h.coordinator.addPartitions({ ...base, partitions: [ORDERS_1] })).toBe(ErrorCode.NONE);
    expect(await h.coordinator.addOffsets({ ...base, groupId: 'etl' })).toBe(ErrorCode.NONE);
    const offsets = { topic: '__consumer_offsets', partition: h.coordinator.get('tx')!.partitions()[2].partition };
    expect(h.coordinator.get('tx')).toMatchObject({ state: 'Ongoing', txnStartTimestamp: START_MS });
    h.markers.hold();
    expect(await h.coordinator.endTxn({ ...base, committed: true })).toEqual({ errorCode: ErrorCode.NONE, producerId: p.producerId, producerEpoch: 0 });
    expect(h.coordinator.get('tx')).toMatchObject({ state: 'PrepareCommit', pendingState: 'CompleteCommit' });
    expect(lastWritten(h.log, 'tx').transactionPartitions).toEqual([
      { topic: 'orders', partitionIds: [0, 1] },
      { topic: '__consumer_offsets', partitionIds: [offsets.partition] },
    ]);
    expect(h.markers.markerCount).toBe(0);
    h.markers.release();
    await drive(h);
    for (const tp of [ORDERS_0, ORDERS_1, offsets]) {
      expect(h.markers.markers(tp)).toEqual([{ producerId: p.producerId, producerEpoch: 0, result: 'COMMIT', coordinatorEpoch: 0, transactionVersion: 0 }]);
    }
    expect(writtenStates(h.log, 'tx')).toEqual(['Empty', 'Ongoing', 'Ongoing', 'Ongoing', 'PrepareCommit', 'CompleteCommit']);
    expect(h.coordinator.get('tx')).toMatchObject({ state: 'CompleteCommit', pendingState: null, topicPartitions: new Map() });
    expect(h.probe).toEqual({ started: 1, committed: 1, aborted: 0, timedOut: 0 });
  });

  test('adding partitions already in the transaction writes nothing', async () => {
    const h = await harness();
    const p = await ongoing(h);
    const records = h.log.recordCount;
    expect(await h.coordinator.addPartitions({ transactionalId: 'tx', producerId: p.producerId, producerEpoch: 0, partitions: [ORDERS_1] })).toBe(
      ErrorCode.NONE,
    );
    expect(h.log.recordCount).toBe(records);
  });

  test('abort writes ABORT markers; the next transaction starts from CompleteAbort', async () => {
    const h = await harness();
    const p = await ongoing(h);
    const base = { transactionalId: 'tx', producerId: p.producerId, producerEpoch: 0 };
    expect((await h.coordinator.endTxn({ ...base, committed: false })).errorCode).toBe(ErrorCode.NONE);
    await drive(h);
    expect(h.markers.markers(ORDERS_0).map((m) => m.result)).toEqual(['ABORT']);
    expect(await h.coordinator.addPartitions({ ...base, partitions: [ORDERS_1] })).toBe(ErrorCode.NONE);
    expect(h.coordinator.get('tx')?.partitions()).toEqual([ORDERS_1]);
    expect(h.probe).toMatchObject({ started: 2, aborted: 1 });
  });

  test('while markers are pending every request for the id gets CONCURRENT_TRANSACTIONS', async () => {
    const h = await harness();
    const p = await ongoing(h);
    const base = { transactionalId: 'tx', producerId: p.producerId, producerEpoch: 0 };
    h.markers.hold();
    await h.coordinator.endTxn({ ...base, committed: true });
    expect((await h.coordinator.endTxn({ ...base, committed: true })).errorCode).toBe(ErrorCode.CONCURRENT_TRANSACTIONS);
    expect((await h.coordinator.endTxn({ ...base, committed: false })).errorCode).toBe(ErrorCode.CONCURRENT_TRANSACTIONS);
    expect(await h.coordinator.addPartitions({ ...base, partitions: [ORDERS_0] })).toBe(ErrorCode.CONCURRENT_TRANSACTIONS);
    expect((await init(h)).errorCode).toBe(ErrorCode.CONCURRENT_TRANSACTIONS);
    expect(h.coordinator.verifyPartitions({ ...base, partitions: [ORDERS_0] })).toEqual([{ ...ORDERS_0, errorCode: ErrorCode.CONCURRENT_TRANSACTIONS }]);
    h.markers.release();
    await drive(h);
    expect((await init(h)).errorCode).toBe(ErrorCode.NONE);
  });

  test('EndTxn retried after completion is answered NONE and writes no second marker', async () => {
    const h = await harness();
    const p = await ongoing(h);
    const base = { transactionalId: 'tx', producerId: p.producerId, producerEpoch: 0 };
    await h.coordinator.endTxn({ ...base, committed: true });
    await drive(h);
    const records = h.log.recordCount;
    expect(await h.coordinator.endTxn({ ...base, committed: true })).toEqual({ errorCode: ErrorCode.NONE, producerId: p.producerId, producerEpoch: 0 });
    await drive(h);
    expect(h.markers.markerCount).toBe(2);
    expect(h.log.recordCount).toBe(records);
    // The opposite outcome after the fact is an invalid state, never a second (contradicting) marker.
    expect((await h.coordinator.endTxn({ ...base, committed: false })).errorCode).toBe(ErrorCode.INVALID_TXN_STATE);
    expect(h.markers.markerCount).toBe(2);
  });

  test.each([
    ['an unknown transactional id', { transactionalId: 'nope' }, ErrorCode.INVALID_PRODUCER_ID_MAPPING],
    ['another producer id', { producerId: 1 }, ErrorCode.INVALID_PRODUCER_ID_MAPPING],
    ['an old epoch', { producerEpoch: -5 }, ErrorCode.PRODUCER_FENCED],
    ['a newer epoch', { producerEpoch: 3 }, ErrorCode.PRODUCER_FENCED],
    ['an empty transactional id', { transactionalId: '' }, ErrorCode.INVALID_REQUEST],
  ])('EndTxn / AddPartitions / AddOffsets with %s', async (_what, change, errorCode) => {
    const h = await harness();
    const p = await ongoing(h);
    const req = { transactionalId: 'tx', producerId: p.producerId, producerEpoch: 0, ...change };
    expect((await h.coordinator.endTxn({ ...req, committed: true })).errorCode).toBe(errorCode);
    expect(await h.coordinator.addPartitions({ ...req, partitions: [ORDERS_0] })).toBe(errorCode);
    expect(await h.coordinator.addOffsets({ ...req, groupId: 'g' })).toBe(errorCode);
    expect(h.coordinator.get('tx')?.state).toBe('Ongoing');
  });

  test('EndTxn without a transaction is INVALID_TXN_STATE; out of order after an abort too', async () => {
    const h = await harness();
    const p = await init(h);
    const base = { transactionalId: 'tx', producerId: p.producerId, producerEpoch: 0 };
    expect((await h.coordinator.endTxn({ ...base, committed: true })).errorCode).toBe(ErrorCode.INVALID_TXN_STATE);
    expect((await h.coordinator.endTxn({ ...base, committed: false })).errorCode).toBe(ErrorCode.INVALID_TXN_STATE);
    await h.coordinator.addPartitions({ ...base, partitions: [ORDERS_0] });
    await h.coordinator.endTxn({ ...base, committed: false });
    await drive(h);
    expect((await h.coordinator.endTxn({ ...base, committed: true })).errorCode).toBe(ErrorCode.INVALID_TXN_STATE);
    expect((await h.coordinator.endTxn({ ...base, committed: false })).errorCode).toBe(ErrorCode.NONE);
    expect(h.markers.markerCount).toBe(1);
  });
});

describe('VerifyOnly (the produce path’s check, KIP-890 part 1)', () => {
  test('a partition in the transaction is NONE, one outside it TRANSACTION_ABORTABLE', async () => {
    const h = await harness();
    const p = await ongoing(h, 'tx', [ORDERS_0]);
    const base = { transactionalId: 'tx', producerId: p.producerId, producerEpoch: 0 };
    expect(h.coordinator.verifyPartitions({ ...base, partitions: [ORDERS_0, ORDERS_1] })).toEqual([
      { ...ORDERS_0, errorCode: ErrorCode.NONE },
      { ...ORDERS_1, errorCode: ErrorCode.TRANSACTION_ABORTABLE },
    ]);
    expect(h.coordinator.verifyPartitions({ ...base, producerEpoch: 1, partitions: [ORDERS_0] })[0].errorCode).toBe(ErrorCode.PRODUCER_FENCED);
    expect(h.coordinator.verifyPartitions({ ...base, producerId: 9, partitions: [ORDERS_0] })[0].errorCode).toBe(ErrorCode.INVALID_PRODUCER_ID_MAPPING);
    expect(h.coordinator.verifyPartitions({ ...base, transactionalId: 'other', partitions: [ORDERS_0] })[0].errorCode).toBe(
      ErrorCode.INVALID_PRODUCER_ID_MAPPING,
    );
    // After the commit nothing is in the transaction any more: a late produce is refused.
    await h.coordinator.endTxn({ ...base, committed: true });
    await drive(h);
    expect(h.coordinator.verifyPartitions({ ...base, partitions: [ORDERS_0] })[0].errorCode).toBe(ErrorCode.TRANSACTION_ABORTABLE);
    expect(h.log.recordCount).toBe(4); // verification never writes
  });
});

describe('fencing an open transaction', () => {
  test('a new incarnation aborts the old one first (CONCURRENT_TRANSACTIONS), then gets the next epoch', async () => {
    const h = await harness();
    const a = await ongoing(h);
    expect(await init(h)).toEqual({ errorCode: ErrorCode.CONCURRENT_TRANSACTIONS, producerId: -1, producerEpoch: -1 });
    await drive(h);
    // The abort carries the fenced epoch 1, so the old producer's late writes are refused.
    expect(h.markers.markers(ORDERS_0)).toEqual([{ producerId: a.producerId, producerEpoch: 1, result: 'ABORT', coordinatorEpoch: 0, transactionVersion: 0 }]);
    expect(h.coordinator.get('tx')).toMatchObject({ state: 'CompleteAbort', producerEpoch: 1, lastProducerEpoch: -1 });
    expect(await init(h)).toEqual({ errorCode: ErrorCode.NONE, producerId: a.producerId, producerEpoch: 2 });
    const old = { transactionalId: 'tx', producerId: a.producerId, producerEpoch: 0 };
    expect((await h.coordinator.endTxn({ ...old, committed: true })).errorCode).toBe(ErrorCode.PRODUCER_FENCED);
    expect(await h.coordinator.addPartitions({ ...old, partitions: [ORDERS_0] })).toBe(ErrorCode.PRODUCER_FENCED);
    expect(writtenStates(h.log, 'tx')).toEqual(['Empty', 'Ongoing', 'PrepareAbort', 'CompleteAbort', 'Empty']);
  });

  test('a fence whose abort cannot be written is retried without bumping the epoch twice', async () => {
    const h = await harness();
    await ongoing(h);
    h.log.failNextAppend(ErrorCode.NOT_ENOUGH_REPLICAS);
    expect((await init(h)).errorCode).toBe(ErrorCode.COORDINATOR_NOT_AVAILABLE);
    expect(h.coordinator.get('tx')).toMatchObject({ state: 'Ongoing', hasFailedEpochFence: true, pendingState: null, producerEpoch: 1 });
    expect((await init(h)).errorCode).toBe(ErrorCode.CONCURRENT_TRANSACTIONS);
    await drive(h);
    expect(h.markers.markers(ORDERS_0)[0].producerEpoch).toBe(1);
    expect(await init(h)).toMatchObject({ errorCode: ErrorCode.NONE, producerEpoch: 2 });
  });
});

describe('failures of the log and of marker writes', () => {
  test('an append refused maps to Kafka’s coordinator errors and changes nothing', async () => {
    const h = await harness();
    const p = await init(h);
    const req = { transactionalId: 'tx', producerId: p.producerId, producerEpoch: 0, partitions: [ORDERS_0] };
    h.log.failNextAppend(ErrorCode.NOT_ENOUGH_REPLICAS);
    expect(await h.coordinator.addPartitions(req)).toBe(ErrorCode.COORDINATOR_NOT_AVAILABLE);
    h.log.failNextAppend(ErrorCode.KAFKA_STORAGE_ERROR);
    expect(await h.coordinator.addPartitions(req)).toBe(ErrorCode.NOT_COORDINATOR);
    h.log.failNextFlush(ErrorCode.MESSAGE_TOO_LARGE);
    expect(await h.coordinator.addPartitions(req)).toBe(ErrorCode.UNKNOWN_SERVER_ERROR);
    expect(h.coordinator.get('tx')).toMatchObject({ state: 'Empty', pendingState: null });
    expect(await h.coordinator.addPartitions(req)).toBe(ErrorCode.NONE);
  });

  test('markers refused with a retriable error are retried after the backoff; a deleted partition counts as done', async () => {
    const h = await harness();
    const p = await ongoing(h);
    h.markers.failPartition(ORDERS_0, ErrorCode.NOT_LEADER_OR_FOLLOWER, 2);
    h.markers.failPartition(ORDERS_1, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
    await h.coordinator.endTxn({ transactionalId: 'tx', producerId: p.producerId, producerEpoch: 0, committed: true });
    await settle();
    // First attempt: ORDERS_1 is gone, ORDERS_0 waits; DescribeTransactions lists what is unmarked.
    expect(h.coordinator.describe(['tx'])[0].topicPartitions).toEqual([{ name: 'orders', partitionIndexes: [0] }]);
    await drive(h);
    expect(h.markers.requests.map((r) => r.partitions.length)).toEqual([2, 1, 1]);
    expect(h.markers.markers(ORDERS_0)).toHaveLength(1);
    expect(h.markers.markers(ORDERS_1)).toHaveLength(0);
    expect(h.coordinator.get('tx')?.state).toBe('CompleteCommit');
  });

  test('a partition already past the producer’s epoch, or refusing for good, does not block the transaction', async () => {
    const h = await harness();
    const p = await ongoing(h);
    h.markers.failPartition(ORDERS_0, ErrorCode.INVALID_PRODUCER_EPOCH);
    h.markers.failPartition(ORDERS_1, ErrorCode.INVALID_RECORD);
    await h.coordinator.endTxn({ transactionalId: 'tx', producerId: p.producerId, producerEpoch: 0, committed: false });
    await drive(h);
    expect(h.markers.requests).toHaveLength(1);
    expect(h.coordinator.get('tx')?.state).toBe('CompleteAbort');
  });

  test('a failed Complete* append is retried until it is written', async () => {
    const h = await harness();
    const p = await ongoing(h);
    await h.coordinator.endTxn({ transactionalId: 'tx', producerId: p.producerId, producerEpoch: 0, committed: true });
    h.log.failNextAppend(ErrorCode.NOT_ENOUGH_REPLICAS);
    await drive(h);
    expect(h.coordinator.get('tx')).toMatchObject({ state: 'CompleteCommit', pendingState: null });
    expect(h.markers.markerCount).toBe(2);
  });
});

describe('timeouts and expiration', () => {
  test('a transaction older than its timeout is aborted and its producer fenced', async () => {
    const h = await harness();
    const p = await h.coordinator.initProducerId({ transactionalId: 'tx', transactionTimeoutMs: 15_000, producerId: -1, producerEpoch: -1 });
    await h.coordinator.addPartitions({ transactionalId: 'tx', producerId: p.producerId, producerEpoch: 0, partitions: [ORDERS_0] });
    h.clock.advance(10_000); // first check: 10 s old, not yet
    await drive(h);
    expect(h.coordinator.get('tx')?.state).toBe('Ongoing');
    h.clock.advance(10_000); // 20 s old
    await drive(h);
    expect(h.markers.markers(ORDERS_0)).toEqual([{ producerId: p.producerId, producerEpoch: 1, result: 'ABORT', coordinatorEpoch: 0, transactionVersion: 0 }]);
    expect(h.coordinator.get('tx')).toMatchObject({ state: 'CompleteAbort', producerEpoch: 1 });
    expect(h.probe).toMatchObject({ timedOut: 1, aborted: 1 });
    const late = { transactionalId: 'tx', producerId: p.producerId, producerEpoch: 0 };
    expect((await h.coordinator.endTxn({ ...late, committed: true })).errorCode).toBe(ErrorCode.PRODUCER_FENCED);
    expect((await init(h, 'tx', p.producerId, 0)).errorCode).toBe(ErrorCode.PRODUCER_FENCED);
  });

  test('idle transactional ids expire with a tombstone; open transactions and busy ids do not', async () => {
    const h = await harness({ config: { transactionalIdExpirationMs: 60_000, removeExpiredTransactionalIdsIntervalMs: 30_000 } });
    await init(h, 'idle');
    await ongoing(h, 'open');
    h.clock.advance(30_000);
    await drive(h);
    expect(h.coordinator.get('idle')).toBeDefined();
    await init(h, 'busy');
    h.clock.advance(31_000);
    await drive(h);
    expect(h.coordinator.get('idle')).toBeUndefined();
    expect(writtenStates(h.log, 'idle')).toEqual(['Empty', 'tombstone']);
    expect(h.coordinator.get('busy')).toBeDefined();
    expect(h.coordinator.get('open')).toBeDefined(); // Ongoing never expires (it times out instead)
    expect(h.coordinator.describe(['idle'])[0].errorCode).toBe(ErrorCode.TRANSACTIONAL_ID_NOT_FOUND);
    // The id comes back as new: a new producer id.
    expect(await init(h, 'idle')).toMatchObject({ errorCode: ErrorCode.NONE, producerEpoch: 0, producerId: 1003 });
  });
});

describe('recovery from __transaction_state', () => {
  test('before load every request answers COORDINATOR_LOAD_IN_PROGRESS', async () => {
    const h = await harness({ noLoad: true });
    expect((await init(h)).errorCode).toBe(ErrorCode.COORDINATOR_LOAD_IN_PROGRESS);
    expect(h.coordinator.describe(['tx'])[0].errorCode).toBe(ErrorCode.COORDINATOR_LOAD_IN_PROGRESS);
    expect(h.coordinator.list({ stateFilters: [], producerIdFilters: [], durationFilterMs: -1, transactionalIdPattern: null }).errorCode).toBe(
      ErrorCode.COORDINATOR_LOAD_IN_PROGRESS,
    );
  });

  test('a crash between PrepareCommit and the markers: the restart writes them before answering', async () => {
    const h = await harness();
    const p = await ongoing(h);
    h.markers.hold();
    expect((await h.coordinator.endTxn({ transactionalId: 'tx', producerId: p.producerId, producerEpoch: 0, committed: true })).errorCode).toBe(ErrorCode.NONE);
    h.coordinator.close(); // kill -9: the held markers never land
    expect(writtenStates(h.log, 'tx').at(-1)).toBe('PrepareCommit');

    const markers = new MemoryMarkerWriter();
    markers.hold();
    const restarted = await harness({ log: h.log, clock: h.clock, markers, noLoad: true });
    const loading = restarted.coordinator.load();
    await settle();
    expect((await init(restarted)).errorCode).toBe(ErrorCode.COORDINATOR_LOAD_IN_PROGRESS);
    markers.release();
    await loading;
    expect(markers.markers(ORDERS_0).map((m) => m.result)).toEqual(['COMMIT']);
    expect(markers.markers(ORDERS_1).map((m) => m.result)).toEqual(['COMMIT']);
    expect(restarted.coordinator.get('tx')).toMatchObject({ state: 'CompleteCommit', producerId: p.producerId, producerEpoch: 0, lastProducerEpoch: -1 });
    expect(writtenStates(h.log, 'tx').slice(-2)).toEqual(['PrepareCommit', 'CompleteCommit']);
    // Answering now, and the producer carries on with its epoch.
    expect(await init(restarted, 'tx', p.producerId, 0)).toMatchObject({ errorCode: ErrorCode.NONE, producerEpoch: 1 });
  });

  test('a crash mid-marker-write: the restart re-sends to every partition of the transaction', async () => {
    const h = await harness();
    const p = await ongoing(h);
    h.markers.failPartition(ORDERS_1, ErrorCode.NOT_LEADER_OR_FOLLOWER, 100);
    await h.coordinator.endTxn({ transactionalId: 'tx', producerId: p.producerId, producerEpoch: 0, committed: false });
    await settle();
    h.coordinator.close();
    expect(h.markers.markers(ORDERS_0)).toHaveLength(1);
    const restarted = await harness({ log: h.log, clock: h.clock });
    // The log still lists both partitions (only Complete* shrinks them), so both get a marker;
    // a second ABORT marker on ORDERS_0 is harmless: the partition has no open transaction left.
    expect(restarted.markers.markers(ORDERS_0).map((m) => m.result)).toEqual(['ABORT']);
    expect(restarted.markers.markers(ORDERS_1).map((m) => m.result)).toEqual(['ABORT']);
    expect(restarted.coordinator.get('tx')?.state).toBe('CompleteAbort');
  });

  test('an Ongoing transaction survives the restart and times out as before', async () => {
    const h = await harness();
    await ongoing(h);
    h.coordinator.close();
    const restarted = await harness({ log: h.log, clock: h.clock });
    expect(restarted.coordinator.get('tx')).toMatchObject({ state: 'Ongoing', txnStartTimestamp: START_MS });
    restarted.clock.advance(70_000);
    await drive(restarted);
    expect(restarted.coordinator.get('tx')?.state).toBe('CompleteAbort');
  });

  test('a replay applies tombstones and skips keys of unknown versions', async () => {
    const h = await harness({ config: { transactionalIdExpirationMs: 1000, removeExpiredTransactionalIdsIntervalMs: 2000 } });
    await init(h, 'gone');
    await init(h, 'kept');
    h.clock.advance(2000);
    await drive(h);
    await init(h, 'kept');
    h.log.partitions[0].push({ key: Uint8Array.of(0, 9, 1, 2), value: Uint8Array.of(1) });
    h.coordinator.close();
    const restarted = await harness({ log: h.log, clock: h.clock });
    expect(restarted.coordinator.get('gone')).toBeUndefined();
    expect(restarted.coordinator.get('kept')).toMatchObject({ producerEpoch: 0, producerId: 1002 });
  });

  test('a value with an unknown status fails the load loudly', async () => {
    const h = await harness({ noLoad: true });
    seed(h.log, 0, 'tx', {
      producerId: 1,
      previousProducerId: -1,
      nextProducerId: -1,
      producerEpoch: 0,
      transactionTimeoutMs: TIMEOUT,
      transactionStatus: 42,
      transactionPartitions: null,
      transactionLastUpdateTimestampMs: 0,
      transactionStartTimestampMs: -1,
      clientTransactionVersion: 0,
    });
    await expect(h.coordinator.load()).rejects.toThrow(/unknown status 42/);
  });
});

describe('transaction.version 2 (KIP-890 part 2): the epoch is bumped by every EndTxn', () => {
  const TV2 = 2;

  test('EndTxn v5 answers the next epoch; markers carry it; the retry is recognised and writes nothing', async () => {
    const h = await harness({ config: { transactionVersion: 2 } });
    const p = await ongoing(h);
    const req = { transactionalId: 'tx', producerId: p.producerId, producerEpoch: 0, committed: true };
    expect(await h.coordinator.endTxn(req, TV2)).toEqual({ errorCode: ErrorCode.NONE, producerId: p.producerId, producerEpoch: 1 });
    await drive(h);
    expect(h.markers.markers(ORDERS_0)).toEqual([{ producerId: p.producerId, producerEpoch: 1, result: 'COMMIT', coordinatorEpoch: 0, transactionVersion: 2 }]);
    expect(h.coordinator.get('tx')).toMatchObject({ state: 'CompleteCommit', producerEpoch: 1, lastProducerEpoch: 0, clientTransactionVersion: 2 });
    expect(lastWritten(h.log, 'tx').clientTransactionVersion).toBe(2);
    expect(await h.coordinator.endTxn(req, TV2)).toEqual({ errorCode: ErrorCode.NONE, producerId: p.producerId, producerEpoch: 1 });
    expect((await h.coordinator.endTxn({ ...req, committed: false }, TV2)).errorCode).toBe(ErrorCode.INVALID_TXN_STATE);
    expect(h.markers.markerCount).toBe(2);
  });

  test('a delayed EndTxn of the previous transaction cannot end the next one (the Jepsen race)', async () => {
    const h = await harness({ config: { transactionVersion: 2 } });
    const p = await ongoing(h);
    const first = { transactionalId: 'tx', producerId: p.producerId, producerEpoch: 0 };
    await h.coordinator.endTxn({ ...first, committed: false }, TV2);
    await drive(h);
    // The next transaction, under epoch 1.
    expect(await h.coordinator.addPartitions({ ...first, producerEpoch: 1, partitions: [ORDERS_0] }, TV2)).toBe(ErrorCode.NONE);
    // The first EndTxn, delayed in the network, arrives again: it is stale, not a commit of transaction 2.
    expect((await h.coordinator.endTxn({ ...first, committed: true }, TV2)).errorCode).toBe(ErrorCode.PRODUCER_FENCED);
    expect(h.coordinator.get('tx')?.state).toBe('Ongoing');
  });

  test('under the classic protocol the same delayed EndTxn would end the next transaction', async () => {
    const h = await harness({ config: { transactionVersion: 1 } });
    const p = await ongoing(h);
    const first = { transactionalId: 'tx', producerId: p.producerId, producerEpoch: 0 };
    await h.coordinator.endTxn({ ...first, committed: false }, TV2); // capped to TV1: no bump
    await drive(h);
    expect(h.coordinator.get('tx')?.producerEpoch).toBe(0);
    await h.coordinator.addPartitions({ ...first, partitions: [ORDERS_0] });
    expect((await h.coordinator.endTxn({ ...first, committed: true })).errorCode).toBe(ErrorCode.NONE);
  });

  test('an abort with no partition added is allowed and bumps the epoch; no marker is needed', async () => {
    const h = await harness({ config: { transactionVersion: 2 } });
    const p = await init(h);
    expect(await h.coordinator.endTxn({ transactionalId: 'tx', producerId: p.producerId, producerEpoch: 0, committed: false }, TV2)).toEqual({
      errorCode: ErrorCode.NONE,
      producerId: p.producerId,
      producerEpoch: 1,
    });
    await drive(h);
    expect(h.markers.requests).toHaveLength(0);
    expect(writtenStates(h.log, 'tx')).toEqual(['Empty', 'PrepareAbort', 'CompleteAbort']);
    expect((await h.coordinator.endTxn({ transactionalId: 'tx', producerId: p.producerId, producerEpoch: 1, committed: true }, TV2)).errorCode).toBe(
      ErrorCode.INVALID_TXN_STATE,
    );
  });

  test('the EndTxn that exhausts the epoch hands over a new producer id at epoch 0; its retry gets the same pair', async () => {
    const h = await harness({ config: { transactionVersion: 2 }, noLoad: true });
    seed(h.log, transactionPartition('tx', 4), 'tx', {
      producerId: 500,
      previousProducerId: -1,
      nextProducerId: -1,
      producerEpoch: 32_766,
      transactionTimeoutMs: TIMEOUT,
      transactionStatus: TRANSACTION_STATUS.Ongoing,
      transactionPartitions: [{ topic: 'orders', partitionIds: [0] }],
      transactionLastUpdateTimestampMs: START_MS,
      transactionStartTimestampMs: START_MS,
      clientTransactionVersion: 2,
    });
    await h.coordinator.load();
    const req = { transactionalId: 'tx', producerId: 500, producerEpoch: 32_766, committed: true };
    expect(await h.coordinator.endTxn(req, TV2)).toEqual({ errorCode: ErrorCode.NONE, producerId: 1000, producerEpoch: 0 });
    await drive(h);
    expect(h.markers.markers(ORDERS_0)[0]).toMatchObject({ producerId: 500, producerEpoch: 32_767, result: 'COMMIT' });
    expect(h.coordinator.get('tx')).toMatchObject({ state: 'CompleteCommit', producerId: 1000, producerEpoch: 0, previousProducerId: 500 });
    expect(await h.coordinator.endTxn(req, TV2)).toEqual({ errorCode: ErrorCode.NONE, producerId: 1000, producerEpoch: 0 });
    expect(h.issuedIds).toEqual([1000]);
  });

  test('a timed-out TV2 transaction is fenced with one bump', async () => {
    const h = await harness({ config: { transactionVersion: 2 } });
    const p = await h.coordinator.initProducerId({ transactionalId: 'tx', transactionTimeoutMs: 1000, producerId: -1, producerEpoch: -1 });
    await h.coordinator.addPartitions({ transactionalId: 'tx', producerId: p.producerId, producerEpoch: 0, partitions: [ORDERS_0] }, TV2);
    h.clock.advance(10_000);
    await drive(h);
    expect(h.markers.markers(ORDERS_0)[0]).toMatchObject({ producerEpoch: 1, result: 'ABORT', transactionVersion: 2 });
    expect(h.coordinator.get('tx')).toMatchObject({ state: 'CompleteAbort', producerEpoch: 1 });
  });
});

describe('DescribeTransactions and ListTransactions', () => {
  test('describe: the state, producer, timeout, start time and partitions by topic; unknown ids not found', async () => {
    const h = await harness();
    const p = await ongoing(h);
    expect(h.coordinator.describe(['tx', 'nope', ''])).toEqual([
      {
        errorCode: ErrorCode.NONE,
        transactionalId: 'tx',
        transactionState: 'Ongoing',
        transactionTimeoutMs: TIMEOUT,
        transactionStartTimeMs: START_MS,
        producerId: p.producerId,
        producerEpoch: 0,
        topicPartitions: [{ name: 'orders', partitionIndexes: [0, 1] }],
      },
      expect.objectContaining({ transactionalId: 'nope', errorCode: ErrorCode.TRANSACTIONAL_ID_NOT_FOUND }),
      expect.objectContaining({ transactionalId: '', errorCode: ErrorCode.TRANSACTIONAL_ID_NOT_FOUND }),
    ]);
  });

  test('list: filters by state, producer id, duration and id pattern; reports unknown state names', async () => {
    const h = await harness();
    const a = await ongoing(h, 'etl-a');
    h.clock.advance(5000);
    await init(h, 'etl-b');
    await ongoing(h, 'other');
    const list = (filters: Partial<Parameters<typeof h.coordinator.list>[0]>) =>
      h.coordinator.list({ stateFilters: [], producerIdFilters: [], durationFilterMs: -1, transactionalIdPattern: null, ...filters });
    const ids = (r: ReturnType<typeof list>) => r.transactionStates.map((s) => s.transactionalId).sort();
    expect(ids(list({}))).toEqual(['etl-a', 'etl-b', 'other']);
    expect(ids(list({ stateFilters: ['Ongoing'] }))).toEqual(['etl-a', 'other']);
    expect(list({ stateFilters: ['Empty', 'Bogus'] })).toMatchObject({
      errorCode: ErrorCode.NONE,
      unknownStateFilters: ['Bogus'],
      transactionStates: [{ transactionalId: 'etl-b', transactionState: 'Empty' }],
    });
    expect(ids(list({ producerIdFilters: [a.producerId] }))).toEqual(['etl-a']);
    expect(ids(list({ durationFilterMs: 4000, stateFilters: ['Ongoing'] }))).toEqual(['etl-a']);
    expect(ids(list({ transactionalIdPattern: 'etl-.' }))).toEqual(['etl-a', 'etl-b']);
    expect(ids(list({ transactionalIdPattern: 'etl' }))).toEqual([]); // the whole id must match
    expect(list({ transactionalIdPattern: '(' }).errorCode).toBe(ErrorCode.INVALID_REGULAR_EXPRESSION);
  });
});
