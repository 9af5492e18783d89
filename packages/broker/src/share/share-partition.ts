// The state of one share-partition (a share group's view of one topic partition), KIP-932: which
// records are delivered to whom, under which acquisition lock, how often, and which are done.
//
//   offsets < startOffset                 done (acknowledged or archived): never delivered again
//   startOffset <= offset < endOffset     in flight: each offset has a state (below)
//   offset >= endOffset                   not yet fetched by the group
//
// In-flight states (Kafka's RecordState values, also the persisted codes):
//   AVAILABLE (0)     may be acquired by the next ShareFetch of any member
//   ACQUIRED (1)      delivered to one member, locked until its lock expires or it acknowledges
//   ACKNOWLEDGED (2)  accepted: done
//   ARCHIVED (4)      rejected, a gap, or past the delivery-count limit: done, never redelivered
//
// Transitions: acquire (AVAILABLE or new → ACQUIRED, delivery count + 1); ACCEPT → ACKNOWLEDGED;
// RELEASE, lock expiry or the member leaving → AVAILABLE, or ARCHIVED once the delivery count
// reached `group.share.delivery.count.limit`; REJECT and GAP → ARCHIVED; RENEW (KIP-1222) →
// ACQUIRED with a fresh lock. Acknowledging a record not ACQUIRED by the acknowledging member
// is INVALID_RECORD_STATE and changes nothing of that partition's request (all or nothing).
// The start offset moves past every leading done record, so the in-flight window stays bounded
// by `group.share.partition.max.record.locks` (no new records are acquired beyond it).
//
// Durability: `snapshot()` is everything needed to rebuild the state after a restart (the owner
// writes it after every change); `restore()` turns ACQUIRED records back to AVAILABLE (locks do
// not survive a restart) keeping their delivery counts, so they are redelivered.
//
// Concurrency: event loop only. Pure: time is passed in; no I/O, no timers (the owner schedules
// lock expiry with `nextLockExpiry()` and calls `expireLocks(now)`).

export const RecordState = Object.freeze({ AVAILABLE: 0, ACQUIRED: 1, ACKNOWLEDGED: 2, ARCHIVED: 4 });
export type RecordStateCode = (typeof RecordState)[keyof typeof RecordState];

/** Acknowledge types of ShareFetch/ShareAcknowledge (the wire codes). */
export const AcknowledgeType = Object.freeze({ GAP: 0, ACCEPT: 1, RELEASE: 2, REJECT: 3, RENEW: 4 });

export interface InFlightRecord {
  state: RecordStateCode;
  deliveryCount: number;
  /** The member holding it while ACQUIRED, else null. */
  memberId: string | null;
  /** When its acquisition lock expires (ms) while ACQUIRED. */
  lockExpiresAt: number;
}

export interface SharePartitionLimits {
  /** group.share.delivery.count.limit */
  readonly deliveryCountLimit: number;
  /** group.share.partition.max.record.locks: in-flight records at most. */
  readonly maxInFlightRecords: number;
}

/** One batch of the log as ShareFetch reads it: its offsets, and whether it is a control batch. */
export interface LogBatchSpan {
  readonly baseOffset: number;
  readonly lastOffset: number;
  readonly isControl: boolean;
}

/** A run of consecutive acquired offsets with one delivery count (the response's AcquiredRecords). */
export interface AcquiredRange {
  readonly firstOffset: number;
  readonly lastOffset: number;
  readonly deliveryCount: number;
}

export interface AcknowledgementBatch {
  readonly firstOffset: number;
  readonly lastOffset: number;
  /** One type for the whole range, or one per offset. */
  readonly acknowledgeTypes: readonly number[];
}

/** A run of in-flight offsets with one state and delivery count, as persisted. */
export interface StateRun {
  readonly firstOffset: number;
  readonly lastOffset: number;
  readonly state: RecordStateCode;
  readonly deliveryCount: number;
}

export interface SharePartitionSnapshot {
  readonly startOffset: number;
  readonly endOffset: number;
  /** In-flight offsets that are not plain AVAILABLE with delivery count 0, in offset order. */
  readonly runs: readonly StateRun[];
}

export type AckOutcome =
  | { readonly ok: true; readonly changed: boolean }
  | { readonly ok: false; readonly errorCode: 'INVALID_RECORD_STATE' | 'INVALID_REQUEST'; readonly message: string };

/** Counters of what happened, for the metrics probe. */
export interface SharePartitionEvents {
  acquired: number;
  redelivered: number;
  archived: number;
  lockExpired: number;
}

export class SharePartition {
  private start: number;
  private end: number;
  private readonly inFlight = new Map<number, InFlightRecord>();
  private readonly limits: SharePartitionLimits;
  readonly events: SharePartitionEvents = { acquired: 0, redelivered: 0, archived: 0, lockExpired: 0 };

  constructor(startOffset: number, limits: SharePartitionLimits) {
    this.start = startOffset;
    this.end = startOffset;
    this.limits = limits;
  }

  /** Rebuilds a partition from its persisted snapshot; held records become AVAILABLE again. */
  static restore(snapshot: SharePartitionSnapshot, limits: SharePartitionLimits): SharePartition {
    const sp = new SharePartition(snapshot.startOffset, limits);
    sp.end = snapshot.endOffset;
    for (let offset = snapshot.startOffset; offset < snapshot.endOffset; offset++) sp.inFlight.set(offset, available(0));
    for (const run of snapshot.runs) {
      for (let offset = run.firstOffset; offset <= run.lastOffset; offset++) {
        if (offset < sp.start || offset >= sp.end) continue;
        const state = run.state === RecordState.ACQUIRED ? sp.releasedState(run.deliveryCount) : run.state;
        sp.inFlight.set(offset, { state, deliveryCount: run.deliveryCount, memberId: null, lockExpiresAt: 0 });
      }
    }
    sp.advanceStart();
    return sp;
  }

  get startOffset(): number {
    return this.start;
  }

  get endOffset(): number {
    return this.end;
  }

  /** The record at `offset` while in flight (tests and describe). */
  record(offset: number): Readonly<InFlightRecord> | undefined {
    return this.inFlight.get(offset);
  }

  /** Records currently ACQUIRED. */
  acquiredCount(): number {
    let n = 0;
    for (const r of this.inFlight.values()) if (r.state === RecordState.ACQUIRED) n++;
    return n;
  }

  /** In-flight records (the window between start and end offset). */
  inFlightCount(): number {
    return this.end - this.start;
  }

  /**
   * Where the next ShareFetch reads from: the first AVAILABLE in-flight offset, else the end
   * offset; null when nothing can be acquired (every in-flight record is held and the window is
   * full).
   */
  nextFetchOffset(): number | null {
    for (let offset = this.start; offset < this.end; offset++) if (this.inFlight.get(offset)?.state === RecordState.AVAILABLE) return offset;
    return this.end - this.start >= this.limits.maxInFlightRecords ? null : this.end;
  }

  /**
   * Drops what the log no longer has: records below `logStartOffset` (retention, DeleteRecords)
   * are gone, so the start offset moves up to it.
   */
  moveToLogStart(logStartOffset: number): void {
    if (logStartOffset <= this.start) return;
    for (let offset = this.start; offset < Math.min(logStartOffset, this.end); offset++) this.inFlight.delete(offset);
    this.start = logStartOffset;
    if (this.end < this.start) this.end = this.start;
    this.advanceStart();
  }

  /**
   * Acquires for `memberId` up to `maxRecords` records of the batches read from the log (in
   * offset order, from nextFetchOffset()), locking them until `now + lockMs`. Offsets of control
   * batches are archived (never delivered). Returns the acquired runs, in offset order.
   */
  acquire(memberId: string, batches: readonly LogBatchSpan[], maxRecords: number, now: number, lockMs: number): AcquiredRange[] {
    const acquired: AcquiredRange[] = [];
    let budget = maxRecords;
    for (const batch of batches) {
      for (let offset = Math.max(batch.baseOffset, this.start); offset <= batch.lastOffset; offset++) {
        if (offset >= this.end) {
          if (budget <= 0 || this.end - this.start >= this.limits.maxInFlightRecords) return finish(this, acquired);
          // Offsets the log skipped (compaction, control records of aborted data) are gaps. With
          // nothing in flight the window jumps over them; otherwise they are archived in place,
          // which the window bound limits (a long gap waits until the window has drained).
          if (this.start === this.end) this.start = this.end = offset;
          if (offset - this.start >= this.limits.maxInFlightRecords) return finish(this, acquired);
          while (this.end < offset) this.inFlight.set(this.end++, { state: RecordState.ARCHIVED, deliveryCount: 0, memberId: null, lockExpiresAt: 0 });
          this.inFlight.set(offset, available(0));
          this.end = offset + 1;
        }
        const record = this.inFlight.get(offset);
        if (record === undefined || record.state !== RecordState.AVAILABLE) continue;
        if (batch.isControl) {
          record.state = RecordState.ARCHIVED;
          continue;
        }
        if (budget <= 0) return finish(this, acquired);
        if (record.deliveryCount > 0) this.events.redelivered++;
        record.state = RecordState.ACQUIRED;
        record.deliveryCount++;
        record.memberId = memberId;
        record.lockExpiresAt = now + lockMs;
        this.events.acquired++;
        budget--;
        const last = acquired.at(-1);
        if (last !== undefined && last.lastOffset === offset - 1 && last.deliveryCount === record.deliveryCount) {
          acquired[acquired.length - 1] = { ...last, lastOffset: offset };
        } else {
          acquired.push({ firstOffset: offset, lastOffset: offset, deliveryCount: record.deliveryCount });
        }
      }
    }
    return finish(this, acquired);
  }

  /**
   * Applies a member's acknowledgements, all or nothing: every offset must be ACQUIRED by
   * `memberId` (else INVALID_RECORD_STATE), the types must be one per offset or one for the
   * range, known and ordered ranges (else INVALID_REQUEST).
   */
  acknowledge(memberId: string, batches: readonly AcknowledgementBatch[], now: number, lockMs: number): AckOutcome {
    let previousLast = -1;
    for (const batch of batches) {
      const span = batch.lastOffset - batch.firstOffset + 1;
      if (span <= 0 || batch.firstOffset <= previousLast)
        return invalid('INVALID_REQUEST', 'acknowledgement batches must be ordered, non-empty and not overlap');
      if (batch.acknowledgeTypes.length !== 1 && batch.acknowledgeTypes.length !== span)
        return invalid('INVALID_REQUEST', 'acknowledgeTypes must hold one type or one per offset');
      if (batch.acknowledgeTypes.some((t) => t < AcknowledgeType.GAP || t > AcknowledgeType.RENEW))
        return invalid('INVALID_REQUEST', 'unknown acknowledge type');
      previousLast = batch.lastOffset;
      for (let offset = batch.firstOffset; offset <= batch.lastOffset; offset++) {
        const record = this.inFlight.get(offset);
        if (record === undefined || record.state !== RecordState.ACQUIRED || record.memberId !== memberId) {
          return invalid('INVALID_RECORD_STATE', `offset ${offset} is not acquired by this member`);
        }
      }
    }
    let changed = false;
    for (const batch of batches) {
      for (let offset = batch.firstOffset; offset <= batch.lastOffset; offset++) {
        const type = batch.acknowledgeTypes.length === 1 ? batch.acknowledgeTypes[0] : batch.acknowledgeTypes[offset - batch.firstOffset];
        const record = this.inFlight.get(offset)!;
        changed = true;
        switch (type) {
          case AcknowledgeType.ACCEPT:
            settle(record, RecordState.ACKNOWLEDGED);
            break;
          case AcknowledgeType.RELEASE:
            settle(record, this.releasedState(record.deliveryCount));
            break;
          case AcknowledgeType.RENEW:
            record.lockExpiresAt = now + lockMs;
            break;
          default: // GAP, REJECT
            settle(record, RecordState.ARCHIVED);
        }
        if (record.state === RecordState.ARCHIVED) this.events.archived++;
      }
    }
    this.advanceStart();
    return { ok: true, changed };
  }

  /** Releases every record `memberId` holds (it left, its session closed or it was fenced). */
  releaseMember(memberId: string): number {
    let released = 0;
    for (const record of this.inFlight.values()) {
      if (record.state !== RecordState.ACQUIRED || record.memberId !== memberId) continue;
      const next = this.releasedState(record.deliveryCount);
      settle(record, next);
      if (next === RecordState.ARCHIVED) this.events.archived++;
      released++;
    }
    if (released > 0) this.advanceStart();
    return released;
  }

  /** Releases every record whose lock expired at `now`; returns how many. */
  expireLocks(now: number): number {
    let expired = 0;
    for (const record of this.inFlight.values()) {
      if (record.state !== RecordState.ACQUIRED || record.lockExpiresAt > now) continue;
      const next = this.releasedState(record.deliveryCount);
      settle(record, next);
      if (next === RecordState.ARCHIVED) this.events.archived++;
      expired++;
    }
    this.events.lockExpired += expired;
    if (expired > 0) this.advanceStart();
    return expired;
  }

  /** The earliest lock expiry of an ACQUIRED record, or null. */
  nextLockExpiry(): number | null {
    let next: number | null = null;
    for (const record of this.inFlight.values()) {
      if (record.state === RecordState.ACQUIRED && (next === null || record.lockExpiresAt < next)) next = record.lockExpiresAt;
    }
    return next;
  }

  snapshot(): SharePartitionSnapshot {
    const runs: StateRun[] = [];
    for (let offset = this.start; offset < this.end; offset++) {
      const record = this.inFlight.get(offset)!;
      if (record.state === RecordState.AVAILABLE && record.deliveryCount === 0) continue;
      const last = runs.at(-1);
      if (last !== undefined && last.lastOffset === offset - 1 && last.state === record.state && last.deliveryCount === record.deliveryCount) {
        runs[runs.length - 1] = { ...last, lastOffset: offset };
      } else {
        runs.push({ firstOffset: offset, lastOffset: offset, state: record.state, deliveryCount: record.deliveryCount });
      }
    }
    return { startOffset: this.start, endOffset: this.end, runs };
  }

  /** Where a released record goes: back to AVAILABLE, or ARCHIVED once it used its deliveries. */
  private releasedState(deliveryCount: number): RecordStateCode {
    return deliveryCount >= this.limits.deliveryCountLimit ? RecordState.ARCHIVED : RecordState.AVAILABLE;
  }

  private advanceStart(): void {
    while (this.start < this.end) {
      const record = this.inFlight.get(this.start);
      if (record === undefined || (record.state !== RecordState.ACKNOWLEDGED && record.state !== RecordState.ARCHIVED)) break;
      this.inFlight.delete(this.start);
      this.start++;
    }
  }

  /** Called by acquire() on every return: archived control offsets may let the start move. */
  finishAcquire(): void {
    this.advanceStart();
  }
}

function finish(sp: SharePartition, acquired: AcquiredRange[]): AcquiredRange[] {
  sp.finishAcquire();
  return acquired;
}

function available(deliveryCount: number): InFlightRecord {
  return { state: RecordState.AVAILABLE, deliveryCount, memberId: null, lockExpiresAt: 0 };
}

function settle(record: InFlightRecord, state: RecordStateCode): void {
  record.state = state;
  record.memberId = null;
  record.lockExpiresAt = 0;
}

function invalid(errorCode: 'INVALID_RECORD_STATE' | 'INVALID_REQUEST', message: string): AckOutcome {
  return { ok: false, errorCode, message };
}
