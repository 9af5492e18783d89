// Transactional offset commits (TxnOffsetCommit) in the group coordinator: pending until the
// transaction's marker, applied on COMMIT and dropped on ABORT, UNSTABLE_OFFSET_COMMIT under
// requireStable meanwhile, KIP-447 member/generation checks (classic groups, and KIP-848 groups
// where the generation is the member epoch), the verification hook, the last
// write in log order winning against plain commits, and replay after a restart (with and
// without the marker in the log).

import { ErrorCode } from '@sluice/protocol';
import { describe, expect, test } from 'vitest';
import { consumerHarness, TestMember } from '../testing/consumer-group-harness.ts';
import { harness, stableGroup } from '../testing/group-harness.ts';
import type { OffsetToCommit, TxnOffsetCommitInput } from './types.ts';

const PID = 7000;

function txnCommit(groupId: string, offsets: OffsetToCommit[], overrides: Partial<TxnOffsetCommitInput> = {}): TxnOffsetCommitInput {
  return { groupId, producerId: PID, producerEpoch: 0, generationId: -1, memberId: '', groupInstanceId: null, offsets, ...overrides };
}

const at = (topic: string, partition: number, offset: number): OffsetToCommit => ({ topic, partition, offset, leaderEpoch: -1, metadata: 'txn' });
const verified = () => ErrorCode.NONE;

function committed(h: ReturnType<typeof harness>, groupId: string, requireStable = false) {
  return h.coordinator.fetchOffsets(groupId, [{ name: 't', partitionIndexes: [0] }], requireStable).topics[0].partitions[0];
}

describe('TxnOffsetCommit', () => {
  test('pending until COMMIT: invisible, unstable under requireStable, then applied', async () => {
    const h = harness();
    expect(await h.coordinator.commitTransactionalOffsets(txnCommit('g', [at('t', 0, 42)]), verified)).toEqual([ErrorCode.NONE]);
    expect(committed(h, 'g')).toMatchObject({ committedOffset: -1, errorCode: ErrorCode.NONE });
    expect(committed(h, 'g', true)).toMatchObject({ committedOffset: -1, errorCode: ErrorCode.UNSTABLE_OFFSET_COMMIT });
    // A marker for the producer in another offsets partition changes nothing here.
    const partition = h.coordinator.partitionFor('g');
    h.coordinator.onTransactionCompleted((partition + 1) % 4, PID, 'COMMIT');
    expect(committed(h, 'g', true).errorCode).toBe(ErrorCode.UNSTABLE_OFFSET_COMMIT);
    h.coordinator.onTransactionCompleted(partition, PID, 'COMMIT');
    expect(committed(h, 'g', true)).toMatchObject({ committedOffset: 42, metadata: 'txn', errorCode: ErrorCode.NONE });
  });

  test('ABORT drops the offsets; the previous commit stays', async () => {
    const h = harness();
    await h.coordinator.commitOffsets({
      groupId: 'g',
      generationId: -1,
      memberId: '',
      groupInstanceId: null,
      retentionTimeMs: -1,
      apiVersion: 8,
      offsets: [at('t', 0, 5)],
    });
    await h.coordinator.commitTransactionalOffsets(txnCommit('g', [at('t', 0, 42)]), verified);
    h.coordinator.onTransactionCompleted(h.coordinator.partitionFor('g'), PID, 'ABORT');
    expect(committed(h, 'g', true)).toMatchObject({ committedOffset: 5, errorCode: ErrorCode.NONE });
  });

  test('a plain commit written after the transactional one wins over it at COMMIT (last write in log order)', async () => {
    const h = harness();
    await h.coordinator.commitTransactionalOffsets(txnCommit('g', [at('t', 0, 42)]), verified);
    await h.coordinator.commitOffsets({
      groupId: 'g',
      generationId: -1,
      memberId: '',
      groupInstanceId: null,
      retentionTimeMs: -1,
      apiVersion: 8,
      offsets: [at('t', 0, 50)],
    });
    h.coordinator.onTransactionCompleted(h.coordinator.partitionFor('g'), PID, 'COMMIT');
    expect(committed(h, 'g').committedOffset).toBe(50);
  });

  test('the verification runs after the group checks; its error answers every offset and nothing is written', async () => {
    const h = harness();
    const before = h.log.recordCount;
    expect(await h.coordinator.commitTransactionalOffsets(txnCommit('g', [at('t', 0, 1), at('t', 1, 2)]), () => ErrorCode.TRANSACTION_ABORTABLE)).toEqual([
      ErrorCode.TRANSACTION_ABORTABLE,
      ErrorCode.TRANSACTION_ABORTABLE,
    ]);
    expect(h.log.recordCount).toBe(before);
    let called = false;
    const g = await stableGroup(h, 'live', 1);
    const stale = await h.coordinator.commitTransactionalOffsets(
      txnCommit('live', [at('t', 0, 1)], { generationId: g.generationId + 1, memberId: g.memberIds[0] }),
      () => {
        called = true;
        return ErrorCode.NONE;
      },
    );
    expect(stale).toEqual([ErrorCode.ILLEGAL_GENERATION]);
    expect(called).toBe(false);
  });

  test('KIP-447: member and generation are checked only when given', async () => {
    const h = harness();
    const g = await stableGroup(h, 'live', 1);
    const member = g.memberIds[0];
    expect(await h.coordinator.commitTransactionalOffsets(txnCommit('live', [at('t', 0, 1)], { memberId: 'nobody' }), verified)).toEqual([
      ErrorCode.UNKNOWN_MEMBER_ID,
    ]);
    expect(
      await h.coordinator.commitTransactionalOffsets(txnCommit('live', [at('t', 0, 1)], { memberId: member, generationId: g.generationId }), verified),
    ).toEqual([ErrorCode.NONE]);
    // A producer that passes no group metadata commits to a live group (pre-KIP-447 clients).
    expect(await h.coordinator.commitTransactionalOffsets(txnCommit('live', [at('t', 0, 2)]), verified)).toEqual([ErrorCode.NONE]);
  });

  test("classic group, as Kafka's ClassicGroup for a transactional commit: any given field means a valid member and the current generation", async () => {
    const h = harness();
    const g = await stableGroup(h, 'live', 1);
    const member = g.memberIds[0];
    const commit = (overrides: Partial<TxnOffsetCommitInput>) =>
      h.coordinator.commitTransactionalOffsets(txnCommit('live', [at('t', 0, 1)], overrides), verified);
    // A member id with generation -1 on a group with members: the generation is not current.
    expect(await commit({ memberId: member })).toEqual([ErrorCode.ILLEGAL_GENERATION]);
    // A generation without a member id: no such member.
    expect(await commit({ generationId: g.generationId })).toEqual([ErrorCode.UNKNOWN_MEMBER_ID]);
    // An instance id nobody holds: unknown.
    expect(await commit({ memberId: member, generationId: g.generationId, groupInstanceId: 'nobody' })).toEqual([ErrorCode.UNKNOWN_MEMBER_ID]);
    // A generation for a group that does not exist: its member's group is gone. Generation -1 makes a simple group.
    expect(await h.coordinator.commitTransactionalOffsets(txnCommit('gone', [at('t', 0, 1)], { memberId: 'm', generationId: 3 }), verified)).toEqual([
      ErrorCode.ILLEGAL_GENERATION,
    ]);
    expect(await h.coordinator.commitTransactionalOffsets(txnCommit('simple', [at('t', 0, 1)]), verified)).toEqual([ErrorCode.NONE]);
  });

  test('KIP-848 group: the generation is the member epoch, any other epoch is ILLEGAL_GENERATION', async () => {
    const h = consumerHarness();
    h.topics.create('t', 1);
    const a = new TestMember(h, 'cg', 'a');
    await a.join();
    const commit = (overrides: Partial<TxnOffsetCommitInput>) =>
      h.coordinator.commitTransactionalOffsets(txnCommit('cg', [at('t', 0, 7)], overrides), verified);
    // The member at its epoch (what sendOffsetsToTransaction passes from the consumer's group metadata).
    expect(await commit({ memberId: 'a', generationId: a.epoch })).toEqual([ErrorCode.NONE]);
    // An older or a newer epoch: ILLEGAL_GENERATION (Kafka maps STALE_MEMBER_EPOCH to it here), never the OffsetCommit codes.
    expect(await commit({ memberId: 'a', generationId: a.epoch - 1 })).toEqual([ErrorCode.ILLEGAL_GENERATION]);
    expect(await commit({ memberId: 'a', generationId: a.epoch + 1 })).toEqual([ErrorCode.ILLEGAL_GENERATION]);
    // A member id with generation -1 is checked too (it is not the pre-KIP-447 shape).
    expect(await commit({ memberId: 'a' })).toEqual([ErrorCode.ILLEGAL_GENERATION]);
    expect(await commit({ memberId: 'zz', generationId: a.epoch })).toEqual([ErrorCode.UNKNOWN_MEMBER_ID]);
    expect(await commit({ generationId: a.epoch })).toEqual([ErrorCode.UNKNOWN_MEMBER_ID]);
    // The pre-KIP-447 shape (epoch -1, no member, no instance id) is accepted on a group with members (KAFKA-18060).
    expect(await commit({})).toEqual([ErrorCode.NONE]);
    // Once the member left, epoch -1 commits as the admin client would.
    await a.send({ memberEpoch: -1 });
    expect(await commit({ memberId: 'a', generationId: -1 })).toEqual([ErrorCode.NONE]);
    // The KIP-848 group stays a consumer group: the transactional commit did not make a classic one.
    expect(h.coordinator.consumerGroup('cg')).toBeDefined();
  });

  test('replay: staged records wait for their marker; a marker in the log resolves them', async () => {
    const h = harness();
    await h.coordinator.commitTransactionalOffsets(txnCommit('g', [at('t', 0, 42)]), verified);
    await h.coordinator.commitTransactionalOffsets(txnCommit('other', [at('t', 0, 9)], { producerId: PID + 1 }), verified);
    // Restart before any marker: both still pending.
    h.restart();
    expect(committed(h, 'g', true).errorCode).toBe(ErrorCode.UNSTABLE_OFFSET_COMMIT);
    expect(committed(h, 'other', true).errorCode).toBe(ErrorCode.UNSTABLE_OFFSET_COMMIT);
    // The markers land (as the transaction coordinator's recovery writes them), then a restart.
    h.log.appendMarker(h.coordinator.partitionFor('g'), { producerId: PID, result: 'COMMIT' });
    h.log.appendMarker(h.coordinator.partitionFor('other'), { producerId: PID + 1, result: 'ABORT' });
    h.restart();
    expect(committed(h, 'g', true)).toMatchObject({ committedOffset: 42, errorCode: ErrorCode.NONE });
    expect(committed(h, 'other', true)).toMatchObject({ committedOffset: -1, errorCode: ErrorCode.NONE });
  });

  test('an offsets write failure answers the mapped error', async () => {
    const h = harness();
    h.log.failNextAppend(ErrorCode.KAFKA_STORAGE_ERROR);
    expect(await h.coordinator.commitTransactionalOffsets(txnCommit('g', [at('t', 0, 1)]), verified)).toEqual([ErrorCode.NOT_COORDINATOR]);
    expect(committed(h, 'g', true).errorCode).toBe(ErrorCode.NONE);
  });
});
