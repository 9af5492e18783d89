// TransactionMetadata on its own: the transitions Kafka allows, the checks on completing one,
// and the log value it round-trips through.
import { ErrorCode } from '@sluice/protocol';
import { describe, expect, test } from 'vitest';
import { metadataFromLogValue, TransactionMetadata, transitToLogValue } from './metadata.ts';
import { TRANSACTION_STATES, type TransactionState, VALID_PREVIOUS_STATES } from './state.ts';

const TP = { topic: 't', partition: 0 };

function inState(state: TransactionState): TransactionMetadata {
  return new TransactionMetadata({
    transactionalId: 'tx',
    producerId: 7,
    previousProducerId: -1,
    nextProducerId: -1,
    producerEpoch: 3,
    lastProducerEpoch: -1,
    txnTimeoutMs: 1000,
    state,
    topicPartitions: state === 'Empty' ? [] : [TP],
    txnStartTimestamp: state === 'Empty' ? -1 : 100,
    txnLastUpdateTimestamp: 100,
    clientTransactionVersion: 0,
  });
}

describe('TransactionMetadata transitions', () => {
  test('every state has Kafka’s valid previous states', () => {
    expect(Object.keys(VALID_PREVIOUS_STATES).sort()).toEqual([...TRANSACTION_STATES].sort());
    expect(VALID_PREVIOUS_STATES.CompleteCommit).toEqual(['PrepareCommit']);
    expect(VALID_PREVIOUS_STATES.PrepareCommit).toEqual(['Ongoing']);
  });

  test.each([
    ['Empty', (m: TransactionMetadata) => m.prepareAbortOrCommit('PrepareCommit', 0, -1, 200, false)],
    ['CompleteCommit', (m: TransactionMetadata) => m.prepareComplete(200)],
    ['PrepareCommit', (m: TransactionMetadata) => m.prepareAddPartitions([TP], 200, 0)],
    ['PrepareAbort', (m: TransactionMetadata) => m.prepareDead()],
    ['Empty', (m: TransactionMetadata) => m.prepareFenceProducerEpoch()],
  ] as const)('an illegal transition from %s is a BUG', (state, prepare) => {
    expect(() => prepare(inState(state))).toThrow(/BUG/);
  });

  test('one transition at a time: a second prepare while one is pending is a BUG', () => {
    const m = inState('Ongoing');
    m.prepareAbortOrCommit('PrepareCommit', 0, -1, 200, false);
    expect(m.pendingTransitionInProgress).toBe(true);
    expect(() => m.prepareAbortOrCommit('PrepareAbort', 0, -1, 200, false)).toThrow(/BUG/);
    m.abandonTransition();
    expect(m.state).toBe('Ongoing');
  });

  test('completing applies exactly the prepared state; a different one is a BUG', () => {
    const m = inState('Ongoing');
    const commit = m.prepareAbortOrCommit('PrepareCommit', 0, -1, 200, false);
    expect(() => m.completeTransitionTo({ ...commit, state: 'PrepareAbort' })).toThrow(/BUG/);
    expect(() => m.completeTransitionTo({ ...commit, producerEpoch: 9 })).toThrow(/BUG/);
    m.completeTransitionTo(commit);
    expect(m).toMatchObject({ state: 'PrepareCommit', pendingState: null, txnLastUpdateTimestamp: 200, previousProducerId: 7 });
  });

  test('epoch bump from InitProducerId: expected epoch current, previous, or fenced', () => {
    const m = inState('CompleteCommit');
    m.lastProducerEpoch = 2;
    expect(m.prepareIncrementProducerEpoch(1000, 1, 300)).toEqual({ error: ErrorCode.PRODUCER_FENCED });
    const retry = m.prepareIncrementProducerEpoch(1000, 2, 300);
    expect(retry.transit).toMatchObject({ producerEpoch: 3, lastProducerEpoch: 2, state: 'Empty', topicPartitions: [], txnStartTimestamp: -1 });
    m.abandonTransition();
    const bump = m.prepareIncrementProducerEpoch(5000, 3, 300);
    expect(bump.transit).toMatchObject({ producerEpoch: 4, lastProducerEpoch: 3, txnTimeoutMs: 5000 });
  });

  test('TV2 prepare bumps the epoch and remembers the previous one; completion with a next producer id rotates', () => {
    const m = inState('Ongoing');
    const prepare = m.prepareAbortOrCommit('PrepareCommit', 2, 99, 200, false);
    expect(prepare).toMatchObject({ producerEpoch: 4, lastProducerEpoch: 3, nextProducerId: 99 });
    m.completeTransitionTo(prepare);
    const complete = m.prepareComplete(300);
    expect(complete).toMatchObject({ state: 'CompleteCommit', producerId: 99, producerEpoch: 0, previousProducerId: 7, nextProducerId: -1 });
    m.completeTransitionTo(complete);
    expect(m).toMatchObject({ producerId: 99, producerEpoch: 0, lastProducerEpoch: 3 });
  });

  test('log value: partitions by topic, null when Empty; reloading forgets lastProducerEpoch as Kafka does', () => {
    const m = inState('Ongoing');
    const t = m.prepareAddPartitions(
      [
        { topic: 't', partition: 2 },
        { topic: 'u', partition: 0 },
      ],
      200,
      0,
    );
    const value = transitToLogValue(t);
    expect(value.transactionPartitions).toEqual([
      { topic: 't', partitionIds: [0, 2] },
      { topic: 'u', partitionIds: [0] },
    ]);
    const loaded = metadataFromLogValue('tx', value);
    expect(loaded).toMatchObject({ state: 'Ongoing', producerId: 7, producerEpoch: 3, lastProducerEpoch: -1, txnStartTimestamp: 100 });
    expect(loaded?.partitions()).toHaveLength(3);
    expect(transitToLogValue({ ...t, state: 'Empty', topicPartitions: [] }).transactionPartitions).toBeNull();
    expect(() => transitToLogValue({ ...t, state: 'Empty' })).toThrow(/BUG/);
    expect(metadataFromLogValue('tx', { ...value, transactionStatus: 99 })).toBeNull();
  });
});
