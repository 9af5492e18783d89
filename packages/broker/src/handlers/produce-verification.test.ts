// Produce's KIP-890 verification when the transactional id's coordinator is another broker
// (cluster mode): the leader asks it (the RemoteTxnVerifier seam, answered here by a coordinator
// on memory seams) before appending to a real partition log. Covered: the coordinator's NONE
// (appended; later batches of the open transaction are not asked again), its refusals and
// retriable errors as the produce response carries them per version, the verification guard
// ended by a marker (or a new leadership) during the await, and concurrent batches sharing it.

import { buildRecordBatch, ErrorCode } from '@sluice/protocol';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import type { BrokerContext } from '../broker-context.ts';
import type { Partition } from '../partition.ts';
import { callHandler } from '../testing/call-handler.ts';
import { startTestBroker, type TestBroker } from '../testing/test-broker.ts';
import { type Harness, harness } from '../testing/transaction-harness.ts';
import type { PartitionError, TxnPartitionsInput } from '../transactions/coordinator.ts';
import { produceHandler } from './produce.ts';
import { txnOffsetCommitHandler } from './txn-offset-commit.ts';

const COORDINATOR_NODE = 2;

/** The remote coordinator's side: verifications answered by `h`, each held until released when `holding`. */
class StandInVerifier {
  readonly asked: TxnPartitionsInput[] = [];
  holding = false;
  /** An error the coordinator's broker answers instead of asking `h` (NETWORK_EXCEPTION: unreachable). */
  failWith: number | null = null;
  private readonly held: Array<() => void> = [];

  private readonly h: Harness;

  constructor(h: Harness) {
    this.h = h;
  }

  verify(_coordinator: { nodeId: number }, input: TxnPartitionsInput): Promise<PartitionError[]> {
    this.asked.push(input);
    const answer = () =>
      this.failWith === null ? this.h.coordinator.verifyPartitions(input) : input.partitions.map((tp) => ({ ...tp, errorCode: this.failWith! }));
    if (!this.holding) return Promise.resolve(answer());
    return new Promise((resolve) => this.held.push(() => resolve(answer())));
  }

  release(): void {
    for (const r of this.held.splice(0)) r();
  }
}

let t: TestBroker;
let h: Harness;
let verifier: StandInVerifier;
let leads: boolean;
let broker: BrokerContext;
/** Runs inside the stand-in group coordinator between its checks and the `verify` hook. */
let beforeOffsetsAppend: (() => void) | null;

beforeEach(async () => {
  t = startTestBroker();
  expect(t.broker.topicCreator.create('t', 2, 1, [], false).errorCode).toBe(0);
  h = await harness();
  verifier = new StandInVerifier(h);
  leads = true;
  // This broker leads 't' but is not the coordinator of any transactional id: node 2 is.
  const cluster = {
    // The cluster's topics (coordinators check a request's partitions against them): 't' led here.
    view: {
      topics: new Map([
        ['__transaction_state', { record: { replicas: [[COORDINATOR_NODE], [COORDINATOR_NODE]] } }],
        ['t', { record: { replicas: [[t.broker.nodeId], [t.broker.nodeId]] } }],
      ]),
    },
    isLeader: () => leads,
    currentLeader: (topic: string) => ({ leaderId: topic === '__transaction_state' || !leads ? COORDINATOR_NODE : t.broker.nodeId, leaderEpoch: 0 }),
    endpointOf: (nodeId: number) => ({ nodeId, host: '127.0.0.1', port: 9092, rack: null }),
  };
  const notHere = { verifyPartitions: (i: TxnPartitionsInput) => i.partitions.map((tp) => ({ ...tp, errorCode: ErrorCode.NOT_COORDINATOR })) };
  // The group coordinator's part of TxnOffsetCommit: its checks pass, then `verify` decides, as
  // the real one calls it right before the append. Partition t-1 stands in for the group's
  // __consumer_offsets partition.
  beforeOffsetsAppend = null;
  const groups = {
    partitionFor: () => 1,
    commitTransactionalOffsets: async (input: { offsets: unknown[] }, verify: () => number) => {
      await Promise.resolve();
      beforeOffsetsAppend?.();
      const code = verify();
      return input.offsets.map(() => code);
    },
  };
  const topics = { get: (name: string) => t.topics.get(name === '__consumer_offsets' ? 't' : name) };
  broker = Object.create(t.broker, {
    cluster: { value: cluster },
    transactions: { value: notHere },
    txnVerifier: { value: verifier },
    groups: { value: groups },
    topics: { value: topics },
  }) as BrokerContext;
});

afterEach(() => t.close());

async function begin(partitions: number[]) {
  const p = await h.coordinator.initProducerId({ transactionalId: 'tx', transactionTimeoutMs: 60_000, producerId: -1, producerEpoch: -1 });
  expect(p.errorCode).toBe(ErrorCode.NONE);
  if (partitions.length > 0)
    expect(
      await h.coordinator.addPartitions({
        transactionalId: 'tx',
        producerId: p.producerId,
        producerEpoch: p.producerEpoch,
        partitions: partitions.map((partition) => ({ topic: 't', partition })),
      }),
    ).toBe(ErrorCode.NONE);
  return { producerId: p.producerId, producerEpoch: p.producerEpoch };
}

function batch(p: { producerId: number; producerEpoch: number }, baseSequence: number): Uint8Array {
  return buildRecordBatch({ records: [{ key: null, value: new TextEncoder().encode('v') }], ...p, baseSequence, transactional: true });
}

async function produce(records: Uint8Array, partition = 0, version = 11) {
  const answer = await callHandler(produceHandler, broker, version, {
    transactionalId: 'tx',
    acks: 1,
    timeoutMs: 1000,
    topicData: [{ name: 't', partitionData: [{ index: partition, records }] }],
  });
  return answer.responses[0].partitionResponses[0] as { errorCode: number; baseOffset: number; errorMessage: string | null };
}

const partitionOf = (index: number): Partition => t.topics.get('t')!.partitions[index]!;

describe('produce verification with a coordinator on another broker (KIP-890)', () => {
  test('NONE: appended; the open transaction’s next batches are not asked again', async () => {
    const p = await begin([0]);
    expect(await produce(batch(p, 0))).toMatchObject({ errorCode: ErrorCode.NONE, baseOffset: 0 });
    expect(verifier.asked).toEqual([{ transactionalId: 'tx', ...p, partitions: [{ topic: 't', partition: 0 }] }]);
    expect(partitionOf(0).hasOngoingTransaction(p.producerId, p.producerEpoch)).toBe(true);
    expect(await produce(batch(p, 1))).toMatchObject({ errorCode: ErrorCode.NONE, baseOffset: 1 });
    expect(verifier.asked).toHaveLength(1);
  });

  test('a partition not in the transaction: TRANSACTION_ABORTABLE (INVALID_TXN_STATE before v11), nothing appended', async () => {
    const p = await begin([0]);
    expect((await produce(batch(p, 0), 1, 11)).errorCode).toBe(ErrorCode.TRANSACTION_ABORTABLE);
    expect((await produce(batch(p, 0), 1, 10)).errorCode).toBe(ErrorCode.INVALID_TXN_STATE);
    expect(partitionOf(1).logEndOffset).toBe(0);
    // A fenced epoch is INVALID_PRODUCER_EPOCH (Kafka maps PRODUCER_FENCED so for produce).
    expect((await produce(batch({ ...p, producerEpoch: p.producerEpoch + 1 }, 0))).errorCode).toBe(ErrorCode.INVALID_PRODUCER_EPOCH);
    expect(partitionOf(0).logEndOffset).toBe(0);
  });

  test.each([ErrorCode.NETWORK_EXCEPTION, ErrorCode.CONCURRENT_TRANSACTIONS, ErrorCode.NOT_COORDINATOR, ErrorCode.COORDINATOR_LOAD_IN_PROGRESS])(
    'the coordinator answering %i: the retriable NOT_ENOUGH_REPLICAS, nothing appended, a retry goes through',
    async (code) => {
      const p = await begin([0]);
      verifier.failWith = code;
      const refused = await produce(batch(p, 0));
      expect(refused.errorCode).toBe(ErrorCode.NOT_ENOUGH_REPLICAS);
      expect(refused.errorMessage).toContain('Unable to verify');
      expect(partitionOf(0).logEndOffset).toBe(0);
      verifier.failWith = null;
      expect((await produce(batch(p, 0))).errorCode).toBe(ErrorCode.NONE);
    },
  );

  test('a marker for the producer during the await ends the guard: the late batch is refused, the LSO is not held', async () => {
    const p = await begin([0]);
    verifier.holding = true;
    const late = produce(batch(p, 0));
    await new Promise((r) => setImmediate(r));
    expect(verifier.asked).toHaveLength(1);
    // The transaction ends (an abort marker reaches this partition) before the coordinator's answer.
    partitionOf(0).appendTxnMarker(p.producerId, p.producerEpoch, 0, false, Date.now());
    verifier.release();
    expect((await late).errorCode).toBe(ErrorCode.TRANSACTION_ABORTABLE);
    expect(partitionOf(0).hasOngoingTransaction(p.producerId, p.producerEpoch)).toBe(false);
    expect(partitionOf(0).lastStableOffset).toBe(partitionOf(0).highWatermark);
  });

  test('leadership lost during the await: NOT_LEADER_OR_FOLLOWER, nothing appended', async () => {
    const p = await begin([0]);
    verifier.holding = true;
    const late = produce(batch(p, 0));
    await new Promise((r) => setImmediate(r));
    leads = false;
    verifier.release();
    expect((await late).errorCode).toBe(ErrorCode.NOT_LEADER_OR_FOLLOWER);
    expect(partitionOf(0).logEndOffset).toBe(0);
  });

  test('concurrent batches share the guard: both appended in order', async () => {
    const p = await begin([0]);
    verifier.holding = true;
    const first = produce(batch(p, 0));
    const second = produce(batch(p, 1));
    await new Promise((r) => setImmediate(r));
    expect(verifier.asked).toHaveLength(2);
    verifier.release();
    expect(await first).toMatchObject({ errorCode: ErrorCode.NONE, baseOffset: 0 });
    expect(await second).toMatchObject({ errorCode: ErrorCode.NONE, baseOffset: 1 });
  });
});

describe('TxnOffsetCommit verification with a coordinator on another broker', () => {
  /** AddOffsetsToTxn's effect at the coordinator: the group's offsets partition joins the transaction. */
  async function addOffsetsPartition(p: { producerId: number; producerEpoch: number }) {
    expect(await h.coordinator.addPartitions({ transactionalId: 'tx', ...p, partitions: [{ topic: '__consumer_offsets', partition: 1 }] })).toBe(
      ErrorCode.NONE,
    );
  }

  async function commitOffsets(p: { producerId: number; producerEpoch: number }, version = 4) {
    const answer = await callHandler(txnOffsetCommitHandler, broker, version, {
      transactionalId: 'tx',
      groupId: 'g',
      ...p,
      generationId: -1,
      memberId: '',
      groupInstanceId: null,
      topics: [{ name: 't', partitions: [{ partitionIndex: 0, committedOffset: 5, committedLeaderEpoch: -1, committedMetadata: null }] }],
    });
    return answer.topics[0].partitions[0].errorCode as number;
  }

  test('the offsets partition in the transaction: NONE; not in it: TRANSACTION_ABORTABLE (INVALID_TXN_STATE before v4)', async () => {
    const p = await begin([]);
    expect(await commitOffsets(p, 4)).toBe(ErrorCode.TRANSACTION_ABORTABLE);
    expect(await commitOffsets(p, 3)).toBe(ErrorCode.INVALID_TXN_STATE);
    await addOffsetsPartition(p);
    expect(await commitOffsets(p)).toBe(ErrorCode.NONE);
    expect(verifier.asked.at(-1)).toEqual({ transactionalId: 'tx', ...p, partitions: [{ topic: '__consumer_offsets', partition: 1 }] });
  });

  test('retriable coordinator errors are COORDINATOR_NOT_AVAILABLE, as Kafka’s group coordinator answers them', async () => {
    const p = await begin([]);
    await addOffsetsPartition(p);
    verifier.failWith = ErrorCode.NETWORK_EXCEPTION;
    expect(await commitOffsets(p)).toBe(ErrorCode.COORDINATOR_NOT_AVAILABLE);
    verifier.failWith = ErrorCode.CONCURRENT_TRANSACTIONS;
    expect(await commitOffsets(p)).toBe(ErrorCode.COORDINATOR_NOT_AVAILABLE);
  });

  test('a marker for the producer before the append ends the guard: TRANSACTION_ABORTABLE', async () => {
    const p = await begin([]);
    await addOffsetsPartition(p);
    beforeOffsetsAppend = () => partitionOf(1).appendTxnMarker(p.producerId, p.producerEpoch, 0, false, Date.now());
    expect(await commitOffsets(p)).toBe(ErrorCode.TRANSACTION_ABORTABLE);
  });
});
