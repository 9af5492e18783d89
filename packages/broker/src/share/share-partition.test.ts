import { describe, expect, test } from 'vitest';
import { AcknowledgeType, RecordState, SharePartition } from './share-partition.ts';

const LIMITS = { deliveryCountLimit: 3, maxInFlightRecords: 100 };
const LOCK_MS = 30_000;
const batch = (baseOffset: number, lastOffset: number, isControl = false) => ({ baseOffset, lastOffset, isControl });
const ack = (firstOffset: number, lastOffset: number, ...types: number[]) => ({ firstOffset, lastOffset, acknowledgeTypes: types });

describe('SharePartition', () => {
  test('two members acquire disjoint records; each record goes to one member', () => {
    const sp = new SharePartition(0, LIMITS);
    const a = sp.acquire('a', [batch(0, 9)], 4, 0, LOCK_MS);
    expect(a).toEqual([{ firstOffset: 0, lastOffset: 3, deliveryCount: 1 }]);
    expect(sp.nextFetchOffset()).toBe(4);
    const b = sp.acquire('b', [batch(0, 9)], 100, 0, LOCK_MS);
    expect(b).toEqual([{ firstOffset: 4, lastOffset: 9, deliveryCount: 1 }]);
    expect(sp.acquire('c', [batch(0, 9)], 100, 0, LOCK_MS)).toEqual([]);
    expect(sp.acquiredCount()).toBe(10);
  });

  test('accept moves the start offset; release redelivers with a higher delivery count', () => {
    const sp = new SharePartition(0, LIMITS);
    sp.acquire('a', [batch(0, 4)], 100, 0, LOCK_MS);
    expect(sp.acknowledge('a', [ack(0, 4, 1, 1, 2, 1, 1)], 0, LOCK_MS)).toEqual({ ok: true, changed: true });
    expect(sp.startOffset).toBe(2);
    expect(sp.record(2)?.state).toBe(RecordState.AVAILABLE);
    expect(sp.nextFetchOffset()).toBe(2);
    expect(sp.acquire('b', [batch(0, 4)], 100, 0, LOCK_MS)).toEqual([{ firstOffset: 2, lastOffset: 2, deliveryCount: 2 }]);
    expect(sp.events.redelivered).toBe(1);
    sp.acknowledge('b', [ack(2, 2, AcknowledgeType.ACCEPT)], 0, LOCK_MS);
    expect(sp.startOffset).toBe(5);
    expect(sp.inFlightCount()).toBe(0);
  });

  test('acknowledging records not acquired, held by another member, or already acknowledged is INVALID_RECORD_STATE and changes nothing', () => {
    const sp = new SharePartition(0, LIMITS);
    sp.acquire('a', [batch(0, 1)], 1, 0, LOCK_MS);
    sp.acquire('b', [batch(0, 1)], 1, 0, LOCK_MS);
    // Offset 1 is b's: a's whole request fails, offset 0 stays acquired.
    expect(sp.acknowledge('a', [ack(0, 1, AcknowledgeType.ACCEPT)], 0, LOCK_MS)).toMatchObject({ ok: false, errorCode: 'INVALID_RECORD_STATE' });
    expect(sp.record(0)?.state).toBe(RecordState.ACQUIRED);
    expect(sp.acknowledge('a', [ack(0, 0, AcknowledgeType.ACCEPT)], 0, LOCK_MS).ok).toBe(true);
    expect(sp.acknowledge('a', [ack(0, 0, AcknowledgeType.ACCEPT)], 0, LOCK_MS)).toMatchObject({ ok: false, errorCode: 'INVALID_RECORD_STATE' });
    expect(sp.acknowledge('b', [ack(5, 5, AcknowledgeType.ACCEPT)], 0, LOCK_MS)).toMatchObject({ ok: false, errorCode: 'INVALID_RECORD_STATE' });
  });

  test('malformed acknowledgements are INVALID_REQUEST', () => {
    const sp = new SharePartition(0, LIMITS);
    sp.acquire('a', [batch(0, 3)], 10, 0, LOCK_MS);
    expect(sp.acknowledge('a', [ack(0, 3, 1, 1)], 0, LOCK_MS)).toMatchObject({ ok: false, errorCode: 'INVALID_REQUEST' });
    expect(sp.acknowledge('a', [ack(0, 3, 9)], 0, LOCK_MS)).toMatchObject({ ok: false, errorCode: 'INVALID_REQUEST' });
    expect(sp.acknowledge('a', [ack(2, 3, 1), ack(0, 1, 1)], 0, LOCK_MS)).toMatchObject({ ok: false, errorCode: 'INVALID_REQUEST' });
    expect(sp.acquiredCount()).toBe(4);
  });

  test('an expired lock makes the record available to another member', () => {
    const sp = new SharePartition(0, LIMITS);
    sp.acquire('a', [batch(0, 2)], 10, 1000, LOCK_MS);
    expect(sp.nextLockExpiry()).toBe(1000 + LOCK_MS);
    expect(sp.expireLocks(1000 + LOCK_MS - 1)).toBe(0);
    expect(sp.expireLocks(1000 + LOCK_MS)).toBe(3);
    expect(sp.events.lockExpired).toBe(3);
    expect(sp.acquire('b', [batch(0, 2)], 10, 2000, LOCK_MS)).toEqual([{ firstOffset: 0, lastOffset: 2, deliveryCount: 2 }]);
    // a's late acknowledgement is refused: the records are b's now.
    expect(sp.acknowledge('a', [ack(0, 2, AcknowledgeType.ACCEPT)], 2000, LOCK_MS)).toMatchObject({ ok: false });
  });

  test('renew extends the lock without changing the delivery count', () => {
    const sp = new SharePartition(0, LIMITS);
    sp.acquire('a', [batch(0, 0)], 10, 0, LOCK_MS);
    sp.acknowledge('a', [ack(0, 0, AcknowledgeType.RENEW)], 20_000, LOCK_MS);
    expect(sp.expireLocks(LOCK_MS)).toBe(0);
    expect(sp.record(0)).toMatchObject({ state: RecordState.ACQUIRED, deliveryCount: 1, lockExpiresAt: 20_000 + LOCK_MS });
  });

  test('a record is archived once it reaches the delivery-count limit (poison record)', () => {
    const sp = new SharePartition(0, LIMITS);
    for (let delivery = 1; delivery <= LIMITS.deliveryCountLimit; delivery++) {
      expect(sp.acquire('a', [batch(0, 1)], 1, 0, LOCK_MS)).toEqual([{ firstOffset: 0, lastOffset: 0, deliveryCount: delivery }]);
      sp.acknowledge('a', [ack(0, 0, AcknowledgeType.RELEASE)], 0, LOCK_MS);
    }
    expect(sp.startOffset).toBe(1);
    expect(sp.events.archived).toBe(1);
    expect(sp.acquire('a', [batch(0, 1)], 10, 0, LOCK_MS)).toEqual([{ firstOffset: 1, lastOffset: 1, deliveryCount: 1 }]);
  });

  test('reject and gap archive at once; control batches are never delivered', () => {
    const sp = new SharePartition(0, LIMITS);
    expect(sp.acquire('a', [batch(0, 1), batch(2, 2, true), batch(3, 4)], 10, 0, LOCK_MS)).toEqual([
      { firstOffset: 0, lastOffset: 1, deliveryCount: 1 },
      { firstOffset: 3, lastOffset: 4, deliveryCount: 1 },
    ]);
    sp.acknowledge('a', [ack(0, 1, AcknowledgeType.REJECT, AcknowledgeType.GAP), ack(3, 4, AcknowledgeType.ACCEPT)], 0, LOCK_MS);
    expect(sp.startOffset).toBe(5);
    expect(sp.events.archived).toBe(2);
  });

  test('the in-flight window is bounded by max record locks', () => {
    const sp = new SharePartition(0, { deliveryCountLimit: 5, maxInFlightRecords: 4 });
    expect(sp.acquire('a', [batch(0, 9)], 100, 0, LOCK_MS)).toEqual([{ firstOffset: 0, lastOffset: 3, deliveryCount: 1 }]);
    expect(sp.nextFetchOffset()).toBeNull();
    sp.acknowledge('a', [ack(0, 1, AcknowledgeType.ACCEPT)], 0, LOCK_MS);
    expect(sp.nextFetchOffset()).toBe(4);
    expect(sp.acquire('b', [batch(0, 9)], 100, 0, LOCK_MS)).toEqual([{ firstOffset: 4, lastOffset: 5, deliveryCount: 1 }]);
  });

  test('releaseMember frees what a departed member held', () => {
    const sp = new SharePartition(0, LIMITS);
    sp.acquire('a', [batch(0, 1)], 1, 0, LOCK_MS);
    sp.acquire('b', [batch(0, 1)], 1, 0, LOCK_MS);
    expect(sp.releaseMember('a')).toBe(1);
    expect(sp.record(0)?.state).toBe(RecordState.AVAILABLE);
    expect(sp.record(1)?.state).toBe(RecordState.ACQUIRED);
  });

  test('the log start moving past the start offset drops what is gone', () => {
    const sp = new SharePartition(0, LIMITS);
    sp.acquire('a', [batch(0, 5)], 10, 0, LOCK_MS);
    sp.moveToLogStart(3);
    expect(sp.startOffset).toBe(3);
    expect(sp.record(2)).toBeUndefined();
    sp.moveToLogStart(10);
    expect(sp.startOffset).toBe(10);
    expect(sp.endOffset).toBe(10);
  });

  test('a snapshot restores acknowledgements and turns held records back to available, delivery counts kept', () => {
    const sp = new SharePartition(0, LIMITS);
    sp.acquire('a', [batch(0, 5)], 10, 0, LOCK_MS);
    sp.acknowledge('a', [ack(0, 0, 1), ack(2, 2, 1), ack(3, 3, 3)], 0, LOCK_MS);
    const snapshot = sp.snapshot();
    expect(snapshot).toEqual({
      startOffset: 1,
      endOffset: 6,
      runs: [
        { firstOffset: 1, lastOffset: 1, state: RecordState.ACQUIRED, deliveryCount: 1 },
        { firstOffset: 2, lastOffset: 2, state: RecordState.ACKNOWLEDGED, deliveryCount: 1 },
        { firstOffset: 3, lastOffset: 3, state: RecordState.ARCHIVED, deliveryCount: 1 },
        { firstOffset: 4, lastOffset: 5, state: RecordState.ACQUIRED, deliveryCount: 1 },
      ],
    });
    const restored = SharePartition.restore(snapshot, LIMITS);
    expect(restored.acquire('b', [batch(0, 9)], 100, 0, LOCK_MS)).toEqual([
      { firstOffset: 1, lastOffset: 1, deliveryCount: 2 },
      { firstOffset: 4, lastOffset: 5, deliveryCount: 2 },
      { firstOffset: 6, lastOffset: 9, deliveryCount: 1 },
    ]);
  });

  test('offsets the log skipped are gaps: jumped over when nothing is in flight, archived in place otherwise, bounded by the window', () => {
    const sp = new SharePartition(0, { deliveryCountLimit: 5, maxInFlightRecords: 10 });
    expect(sp.acquire('a', [batch(1_000_000, 1_000_001)], 100, 0, LOCK_MS)).toEqual([{ firstOffset: 1_000_000, lastOffset: 1_000_001, deliveryCount: 1 }]);
    expect(sp.startOffset).toBe(1_000_000);
    // With two records in flight, a gap of 3 is archived in place; a gap past the window waits.
    expect(sp.acquire('a', [batch(1_000_005, 1_000_005)], 100, 0, LOCK_MS)).toEqual([{ firstOffset: 1_000_005, lastOffset: 1_000_005, deliveryCount: 1 }]);
    expect(sp.record(1_000_003)?.state).toBe(RecordState.ARCHIVED);
    expect(sp.acquire('a', [batch(1_000_050, 1_000_050)], 100, 0, LOCK_MS)).toEqual([]);
    expect(sp.inFlightCount()).toBe(6);
    sp.acknowledge('a', [ack(1_000_000, 1_000_001, AcknowledgeType.ACCEPT), ack(1_000_005, 1_000_005, AcknowledgeType.ACCEPT)], 0, LOCK_MS);
    expect(sp.inFlightCount()).toBe(0);
    expect(sp.acquire('a', [batch(1_000_050, 1_000_050)], 100, 0, LOCK_MS)).toEqual([{ firstOffset: 1_000_050, lastOffset: 1_000_050, deliveryCount: 1 }]);
  });
});
