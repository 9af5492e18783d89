// The share coordinator: share-group membership (share-group-manager.ts) and the share-partitions
// of every share group (share-partition.ts), with the share sessions of ShareFetch and
// ShareAcknowledge, acquisition-lock timers and persistence (share-state-log.ts).
//
// Share sessions (KIP-932): a member's ShareFetch with epoch 0 opens a session over the
// partitions it names (acknowledgements are not allowed then: INVALID_REQUEST); later requests
// carry the next epoch (1, 2, …; after 2^31-1 comes 1) and add partitions (`topics`) or drop
// them (`forgottenTopicsData`); every fetch reads from all the session's partitions. Epoch -1
// closes the session after its acknowledgements, releasing what the member holds there. A
// session that does not exist is SHARE_SESSION_NOT_FOUND, a wrong epoch
// INVALID_SHARE_SESSION_EPOCH. ShareAcknowledge uses the same session and epochs (never 0). A
// session ends with its connection: what its member holds there is released at once.
//
// What is persisted: every change of a share-partition appends its snapshot (start offset and
// in-flight states) to the state log. Acknowledgements are answered after the append is durable;
// acquisitions and lock expiries are written without waiting (a crash before that write loses
// only a delivery count, never an acknowledgement). load() rebuilds every share-partition;
// records that were acquired become available again and are redelivered.
//
// A refused write (a storage error) is logged; an acknowledgement it carried is answered with
// the error code, though memory already holds the new state (Kafka keeps the old one): until a
// restart the records stay acknowledged, after it they are redelivered.
//
// A new share-partition starts at the log end (share.auto.offset.reset=latest, Kafka's default)
// or the log start (earliest), and its start is written at once so a restart keeps it.
//
// Concurrency: event loop only. Timers come from the injected Clock.

import { ErrorCode } from '@sluice/protocol';
import { type Clock, KeyedTimers, systemClock } from '../clock.ts';
import type { TopicImages } from '../groups/consumer-group-manager.ts';
import { batchBytesReader } from '../internal-topic-replay.ts';
import type { Logger } from '../logger.ts';
import type { Partition } from '../partition.ts';
import type { TopicRegistry } from '../topics.ts';
import type { ShareGroupConfig } from './config.ts';
import { applyGroupConfigOperations, effectiveShareConfig, GROUP_CONFIG_DEFS, type GroupConfigOperation } from './group-configs.ts';
import { type DescribedShareGroup, ShareGroupManager, type ShareHeartbeatInput, type ShareHeartbeatResult } from './share-group-manager.ts';
import { type AcknowledgementBatch, type AcquiredRange, type LogBatchSpan, SharePartition } from './share-partition.ts';
import {
  decodeGroupConfigValue,
  decodeShareStateKey,
  decodeShareStateValue,
  encodeGroupConfigKey,
  encodeGroupConfigValue,
  encodeShareStateKey,
  encodeShareStateValue,
} from './share-state-records.ts';
import { type ShareStateLog, ShareStateLogError } from './share-state-log.ts';

export interface SharePartitionRef {
  readonly topicId: string;
  readonly partition: number;
}

export interface ShareAckRequest extends SharePartitionRef {
  readonly batches: readonly AcknowledgementBatch[];
}

export interface ShareAckResult extends SharePartitionRef {
  readonly errorCode: number;
  readonly errorMessage: string | null;
}

export interface ShareSessionRequest {
  readonly groupId: string;
  readonly memberId: string;
  readonly epoch: number;
  /** Partitions named by the request (added to the session by a fetch), with their acks. */
  readonly partitions: readonly ShareAckRequest[];
  readonly forgotten: readonly SharePartitionRef[];
  /** ShareFetch opens sessions (epoch 0); ShareAcknowledge never does. */
  readonly isFetch: boolean;
  /** The connection the request came on: a session ends when its connection closes. */
  readonly connectionId: number;
}

export type ShareSessionOutcome =
  | { readonly errorCode: number; readonly errorMessage: string }
  | {
      readonly errorCode: 0;
      /** The session's partitions to fetch from; empty when the request closed the session. */
      readonly fetchFrom: readonly SharePartitionRef[];
      readonly acks: Promise<ShareAckResult[]>;
    };

export interface SharePartitionFetch extends SharePartitionRef {
  readonly errorCode: number;
  readonly records: Uint8Array | null;
  readonly acquired: readonly AcquiredRange[];
  readonly leaderEpoch: number;
}

export interface ShareCoordinatorOptions {
  readonly config: ShareGroupConfig;
  readonly stateLog: ShareStateLog;
  readonly topicRegistry: TopicRegistry;
  readonly topics: TopicImages;
  readonly logger: Logger;
  readonly clock?: Clock;
  /** Records of a partition became available again (a lock expired, a member left): wake fetches. */
  readonly onRecordsReleased?: (partition: Partition) => void;
}

/** One share group as the metrics probe sees it; event totals count since the broker started. */
export interface ShareGroupStats {
  readonly groupId: string;
  readonly members: number;
  /** Records between the share-partitions' start and end offsets. */
  readonly inFlight: number;
  /** Records acquired (locked to a member) now. */
  readonly acquiredNow: number;
  readonly acquired: number;
  readonly redelivered: number;
  readonly archived: number;
  readonly lockExpired: number;
}

interface ShareSession {
  /** The epoch the next request must carry. */
  epoch: number;
  /** The connection of the session's latest request. */
  connectionId: number;
  readonly partitions: Map<string, SharePartitionRef>;
}

const refKey = (ref: SharePartitionRef) => `${ref.topicId}:${ref.partition}`;

/** Bytes read from one partition per fetch (at least one whole batch is always read). */
const MAX_READ_BYTES = 1 << 20;

export class ShareCoordinator {
  readonly groups: ShareGroupManager;
  private readonly config: ShareGroupConfig;
  private readonly stateLog: ShareStateLog;
  private readonly topicRegistry: TopicRegistry;
  private readonly logger: Logger;
  private readonly clock: Clock;
  private readonly timers: KeyedTimers;
  private readonly onRecordsReleased: (partition: Partition) => void;
  /** groupId → topicId:partition → share-partition. */
  private readonly partitions = new Map<string, Map<string, SharePartition>>();
  /** groupId\0memberId → session. */
  private readonly sessions = new Map<string, ShareSession>();
  /** groupId → its group-level configs (group-configs.ts). */
  private readonly groupConfigs = new Map<string, Map<string, string>>();

  constructor(options: ShareCoordinatorOptions) {
    this.config = options.config;
    this.stateLog = options.stateLog;
    this.topicRegistry = options.topicRegistry;
    this.logger = options.logger;
    this.clock = options.clock ?? systemClock;
    this.timers = new KeyedTimers(this.clock);
    this.onRecordsReleased = options.onRecordsReleased ?? (() => {});
    this.groups = new ShareGroupManager({
      configFor: (groupId) => this.configFor(groupId),
      clock: this.clock,
      topics: options.topics,
      onMemberRemoved: (groupId, memberId) => this.memberRemoved(groupId, memberId),
    });
  }

  /** The group's settings: its group-level configs over the broker's group.share.* ones. */
  configFor(groupId: string): ShareGroupConfig {
    return effectiveShareConfig(this.config, this.groupConfigs.get(groupId));
  }

  /** The group's acquisition lock duration (AcquisitionLockTimeoutMs). */
  lockDurationMs(groupId: string): number {
    return this.configFor(groupId).recordLockDurationMs;
  }

  /** The group's configs for DescribeConfigs: every one, with its value and whether the group set it. */
  describeGroupConfigs(groupId: string): Array<{ name: string; value: string; isDefault: boolean; doc: string; type: 'int' | 'string' }> {
    const own = this.groupConfigs.get(groupId);
    return GROUP_CONFIG_DEFS.map((def) => ({
      name: def.name,
      value: own?.get(def.name) ?? def.brokerValue(this.config),
      isDefault: own?.has(def.name) !== true,
      doc: def.doc,
      type: def.type,
    }));
  }

  /**
   * IncrementalAlterConfigs on a GROUP resource: applies SET/DELETE operations all or nothing,
   * persisted before the answer. INVALID_CONFIG for an unknown name or a value out of bounds.
   */
  async alterGroupConfigs(
    groupId: string,
    operations: readonly GroupConfigOperation[],
    validateOnly: boolean,
  ): Promise<{ errorCode: number; errorMessage: string | null }> {
    if (groupId === '') return { errorCode: ErrorCode.INVALID_REQUEST, errorMessage: 'Group id must not be empty' };
    const outcome = applyGroupConfigOperations(this.groupConfigs.get(groupId) ?? new Map(), operations, this.config.bounds);
    if ('error' in outcome) return { errorCode: ErrorCode.INVALID_CONFIG, errorMessage: outcome.error };
    if (validateOnly) return { errorCode: 0, errorMessage: null };
    try {
      const value = outcome.configs.size === 0 ? null : encodeGroupConfigValue(outcome.configs);
      const { durable } = this.stateLog.append(encodeGroupConfigKey(groupId), value, this.clock.now());
      if (outcome.configs.size === 0) this.groupConfigs.delete(groupId);
      else this.groupConfigs.set(groupId, outcome.configs);
      await durable;
      return { errorCode: 0, errorMessage: null };
    } catch (err) {
      return { errorCode: storageErrorCode(err), errorMessage: err instanceof Error ? err.message : String(err) };
    }
  }

  /** Rebuilds every share-partition from the state log (the latest snapshot of each wins). */
  load(): void {
    let count = 0;
    this.stateLog.replay((keyBytes, valueBytes) => {
      const key = decodeShareStateKey(keyBytes);
      count++;
      if (key.kind === 'groupConfig') {
        if (valueBytes === null) this.groupConfigs.delete(key.groupId);
        else this.groupConfigs.set(key.groupId, decodeGroupConfigValue(valueBytes));
        return;
      }
      const byRef = this.partitionsOf(key.groupId);
      const ref = refKey({ topicId: key.topicId, partition: key.partition });
      if (valueBytes === null) byRef.delete(ref);
      else byRef.set(ref, SharePartition.restore(decodeShareStateValue(valueBytes), this.config));
    });
    if (count > 0) this.logger.info({ records: count }, 'share-partition state loaded');
  }

  close(): void {
    this.groups.close();
    for (const [groupId, byRef] of this.partitions) for (const ref of byRef.keys()) this.timers.cancel(`lock-${groupId}-${ref}`);
  }

  heartbeat(input: ShareHeartbeatInput): ShareHeartbeatResult {
    return this.groups.heartbeat(input);
  }

  describe(groupId: string): DescribedShareGroup | undefined {
    // A group known only by its share-partition state (after a restart, or created by
    // AlterShareGroupOffsets) is an empty share group.
    if (this.groups.group(groupId) === undefined && this.isShareGroup(groupId)) this.groups.ensureGroup(groupId);
    return this.groups.describe(groupId);
  }

  /** The share-partition's state (tests, describe). */
  sharePartition(groupId: string, ref: SharePartitionRef): SharePartition | undefined {
    return this.partitions.get(groupId)?.get(refKey(ref));
  }

  /** Checks and moves the session, applies the request's acknowledgements. */
  session(request: ShareSessionRequest): ShareSessionOutcome {
    const key = `${request.groupId}\0${request.memberId}`;
    let session = this.sessions.get(key);
    if (request.epoch === 0) {
      if (!request.isFetch) return { errorCode: ErrorCode.INVALID_SHARE_SESSION_EPOCH, errorMessage: 'ShareAcknowledge cannot open a share session' };
      if (request.partitions.some((p) => p.batches.length > 0))
        return { errorCode: ErrorCode.INVALID_REQUEST, errorMessage: 'Acknowledge data present on initial share fetch request' };
      if (session !== undefined) this.releaseSession(request.groupId, request.memberId, session);
      session = { epoch: 1, connectionId: request.connectionId, partitions: new Map() };
      this.sessions.set(key, session);
    } else {
      if (session === undefined) return { errorCode: ErrorCode.SHARE_SESSION_NOT_FOUND, errorMessage: `no share session for member ${request.memberId}` };
      if (request.epoch !== -1 && request.epoch !== session.epoch) {
        return { errorCode: ErrorCode.INVALID_SHARE_SESSION_EPOCH, errorMessage: `expected share session epoch ${session.epoch}, got ${request.epoch}` };
      }
      session.epoch = session.epoch === 0x7fff_ffff ? 1 : session.epoch + 1;
      session.connectionId = request.connectionId;
    }
    if (request.isFetch && request.epoch !== -1) {
      for (const p of request.partitions) session.partitions.set(refKey(p), { topicId: p.topicId, partition: p.partition });
      for (const f of request.forgotten) session.partitions.delete(refKey(f));
    }
    const acks = this.acknowledge(request.groupId, request.memberId, request.partitions);
    if (request.epoch === -1) {
      this.releaseSession(request.groupId, request.memberId, session);
      this.sessions.delete(key);
      return { errorCode: 0, fetchFrom: [], acks };
    }
    return { errorCode: 0, fetchFrom: [...session.partitions.values()], acks };
  }

  /**
   * A client connection closed: the share sessions on it end and what their members hold in them
   * is released at once (Kafka ties a share session to its connection), not at lock expiry.
   */
  connectionClosed(connectionId: number): void {
    for (const [key, session] of this.sessions) {
      if (session.connectionId !== connectionId) continue;
      const [groupId, memberId] = key.split('\0');
      this.sessions.delete(key);
      this.releaseSession(groupId, memberId, session);
    }
  }

  /**
   * Acquires up to `maxRecords` records (about `maxBytes`) for the member over `refs`, starting
   * from a different partition each time so none starves.
   */
  acquire(groupId: string, memberId: string, refs: readonly SharePartitionRef[], maxRecords: number, maxBytes: number): SharePartitionFetch[] {
    const out: SharePartitionFetch[] = [];
    let records = Math.max(1, maxRecords);
    let bytes = Math.max(1, maxBytes);
    const start = refs.length === 0 ? 0 : Math.floor(Math.random() * refs.length);
    for (let i = 0; i < refs.length; i++) {
      const ref = refs[(start + i) % refs.length];
      const partition = this.topicRegistry.getById(ref.topicId)?.partitions[ref.partition];
      if (partition === undefined) {
        const unknownTopic = this.topicRegistry.getById(ref.topicId) === undefined;
        out.push({
          ...ref,
          errorCode: unknownTopic ? ErrorCode.UNKNOWN_TOPIC_ID : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
          records: null,
          acquired: [],
          leaderEpoch: -1,
        });
        continue;
      }
      if (records <= 0 || bytes <= 0) continue;
      const got = this.acquireFrom(groupId, memberId, ref, partition, records, bytes);
      if (got === null) continue;
      out.push({ ...ref, errorCode: 0, records: got.records, acquired: got.acquired, leaderEpoch: partition.leaderEpoch });
      for (const r of got.acquired) records -= r.lastOffset - r.firstOffset + 1;
      bytes -= got.records.byteLength;
    }
    return out;
  }

  /** The Partition objects behind refs (what a parked fetch watches). */
  partitionsFor(refs: readonly SharePartitionRef[]): Partition[] {
    return refs.flatMap((ref) => {
      const p = this.topicRegistry.getById(ref.topicId)?.partitions[ref.partition];
      return p === undefined ? [] : [p];
    });
  }

  /** Deletes an empty share group and its share-partition state (DeleteGroups). */
  async deleteGroup(groupId: string): Promise<boolean> {
    if (this.hasMembers(groupId)) return false;
    this.groups.deleteGroup(groupId);
    const byRef = this.partitions.get(groupId);
    this.partitions.delete(groupId);
    const writes: Array<Promise<void>> = [];
    for (const ref of byRef?.keys() ?? []) {
      const [topicId, partition] = ref.split(':');
      this.timers.cancel(`lock-${groupId}-${ref}`);
      writes.push(this.stateLog.append(encodeShareStateKey({ groupId, topicId, partition: Number(partition) }), null, this.clock.now()).durable);
    }
    if (this.groupConfigs.delete(groupId)) writes.push(this.stateLog.append(encodeGroupConfigKey(groupId), null, this.clock.now()).durable);
    await Promise.all(writes);
    return true;
  }

  /** Per share group, what a metrics scrape reads: members, records in flight, event totals. */
  stats(): ShareGroupStats[] {
    const ids = new Set([...this.groups.groupIds(), ...this.partitions.keys()]);
    return [...ids].sort().map((groupId) => {
      const totals = {
        groupId,
        members: this.groups.group(groupId)?.members.size ?? 0,
        inFlight: 0,
        acquiredNow: 0,
        acquired: 0,
        redelivered: 0,
        archived: 0,
        lockExpired: 0,
      };
      for (const sp of this.partitions.get(groupId)?.values() ?? []) {
        totals.inFlight += sp.inFlightCount();
        totals.acquiredNow += sp.acquiredCount();
        totals.acquired += sp.events.acquired;
        totals.redelivered += sp.events.redelivered;
        totals.archived += sp.events.archived;
        totals.lockExpired += sp.events.lockExpired;
      }
      return totals;
    });
  }

  /** Every share group with its state (ListGroups): Stable with members, else Empty. */
  listGroups(): Array<{ readonly groupId: string; readonly groupState: 'Empty' | 'Stable' }> {
    return this.stats().map((g) => ({ groupId: g.groupId, groupState: g.members > 0 ? 'Stable' : 'Empty' }));
  }

  /** Whether the id is a share group: one with members, or with share-partition state. */
  isShareGroup(groupId: string): boolean {
    return this.groups.group(groupId) !== undefined || (this.partitions.get(groupId)?.size ?? 0) > 0;
  }

  /** Whether the share group has members (its offsets may then not be altered or deleted). */
  hasMembers(groupId: string): boolean {
    return (this.groups.group(groupId)?.members.size ?? 0) > 0;
  }

  /** The group's share-partitions and their start offsets (DescribeShareGroupOffsets). */
  startOffsets(groupId: string): Array<SharePartitionRef & { readonly startOffset: number }> {
    return [...(this.partitions.get(groupId) ?? [])].map(([key, sp]) => {
      const [topicId, partition] = key.split(':');
      return { topicId, partition: Number(partition), startOffset: sp.startOffset };
    });
  }

  /**
   * AlterShareGroupOffsets: each share-partition starts over at its new start offset (nothing in
   * flight), persisted before the answer. The caller checked that the group has no members.
   */
  async alterStartOffset(groupId: string, ref: SharePartitionRef, startOffset: number): Promise<{ errorCode: number; errorMessage: string | null }> {
    this.groups.ensureGroup(groupId);
    const sp = new SharePartition(startOffset, this.config);
    this.partitionsOf(groupId).set(refKey(ref), sp);
    this.timers.cancel(`lock-${groupId}-${refKey(ref)}`);
    try {
      await this.persist(groupId, ref, sp);
      return { errorCode: 0, errorMessage: null };
    } catch (err) {
      return { errorCode: storageErrorCode(err), errorMessage: err instanceof Error ? err.message : String(err) };
    }
  }

  /** DeleteShareGroupOffsets: forgets every share-partition of the topic (tombstones, durable). */
  async deleteStartOffsets(groupId: string, topicId: string): Promise<{ errorCode: number; errorMessage: string | null }> {
    const byRef = this.partitions.get(groupId);
    try {
      const writes: Array<Promise<void>> = [];
      for (const key of [...(byRef?.keys() ?? [])]) {
        const [id, partition] = key.split(':');
        if (id !== topicId) continue;
        writes.push(this.stateLog.append(encodeShareStateKey({ groupId, topicId, partition: Number(partition) }), null, this.clock.now()).durable);
        byRef!.delete(key);
        this.timers.cancel(`lock-${groupId}-${key}`);
      }
      await Promise.all(writes);
      return { errorCode: 0, errorMessage: null };
    } catch (err) {
      return { errorCode: storageErrorCode(err), errorMessage: err instanceof Error ? err.message : String(err) };
    }
  }

  private acquireFrom(
    groupId: string,
    memberId: string,
    ref: SharePartitionRef,
    partition: Partition,
    maxRecords: number,
    maxBytes: number,
  ): { records: Uint8Array; acquired: AcquiredRange[] } | null {
    const sp = this.sharePartitionFor(groupId, ref, partition);
    const startBefore = sp.startOffset;
    sp.moveToLogStart(partition.logStartOffset);
    if (sp.startOffset !== startBefore) this.persist(groupId, ref, sp);
    const from = sp.nextFetchOffset();
    const limit = partition.highWatermark;
    if (from === null || from >= limit) return null;
    const reader = batchBytesReader(partition.log);
    // At most MAX_READ_BYTES per partition and fetch (at least one whole batch): MaxRecords caps
    // what is acquired, so reading a client's whole MaxBytes (50 MiB for the Java client) from a
    // backlog would mostly be thrown away.
    const bytes = reader?.readBytes(from, Math.min(maxBytes, MAX_READ_BYTES)) ?? null;
    if (bytes === null) return null;
    const spans = batchSpans(bytes, limit);
    const before = { start: sp.startOffset, end: sp.endOffset };
    const acquired = sp.acquire(memberId, spans, maxRecords, this.clock.now(), this.lockDurationMs(groupId));
    if (acquired.length > 0 || sp.startOffset !== before.start || sp.endOffset !== before.end) this.persist(groupId, ref, sp);
    if (acquired.length === 0) return null;
    this.scheduleLockExpiry(groupId, ref, sp, partition);
    // The batches from the first to the last that hold an acquired offset (whole batches; the
    // client keeps only the acquired offsets).
    const first = acquired[0].firstOffset;
    const last = acquired[acquired.length - 1].lastOffset;
    const from0 = spans.findIndex((s) => s.lastOffset >= first);
    let to = spans.length - 1;
    while (to > from0 && spans[to].baseOffset > last) to--;
    return { records: bytes.subarray(spans[from0].position, spans[to].position + spans[to].size), acquired };
  }

  private acknowledge(groupId: string, memberId: string, requests: readonly ShareAckRequest[]): Promise<ShareAckResult[]> {
    const results: Array<Promise<ShareAckResult>> = [];
    for (const request of requests) {
      if (request.batches.length === 0) continue;
      const ref = { topicId: request.topicId, partition: request.partition };
      const sp = this.partitions.get(groupId)?.get(refKey(ref));
      if (sp === undefined) {
        results.push(Promise.resolve({ ...ref, errorCode: ErrorCode.INVALID_RECORD_STATE, errorMessage: 'no records were acquired from this partition' }));
        continue;
      }
      const outcome = sp.acknowledge(memberId, request.batches, this.clock.now(), this.lockDurationMs(groupId));
      if (!outcome.ok) {
        results.push(Promise.resolve({ ...ref, errorCode: ErrorCode[outcome.errorCode], errorMessage: outcome.message }));
        continue;
      }
      const partition = this.topicRegistry.getById(ref.topicId)?.partitions[ref.partition];
      if (partition !== undefined) {
        this.scheduleLockExpiry(groupId, ref, sp, partition);
        this.onRecordsReleased(partition);
      }
      results.push(
        this.persist(groupId, ref, sp).then(
          () => ({ ...ref, errorCode: 0, errorMessage: null }),
          (err: unknown) => ({ ...ref, errorCode: storageErrorCode(err), errorMessage: err instanceof Error ? err.message : String(err) }),
        ),
      );
    }
    return Promise.all(results);
  }

  private sharePartitionFor(groupId: string, ref: SharePartitionRef, partition: Partition): SharePartition {
    const byRef = this.partitionsOf(groupId);
    let sp = byRef.get(refKey(ref));
    if (sp === undefined) {
      const start = this.configFor(groupId).autoOffsetReset === 'earliest' ? partition.logStartOffset : partition.highWatermark;
      sp = new SharePartition(start, this.config);
      byRef.set(refKey(ref), sp);
      this.persist(groupId, ref, sp);
    }
    return sp;
  }

  private partitionsOf(groupId: string): Map<string, SharePartition> {
    let byRef = this.partitions.get(groupId);
    if (byRef === undefined) this.partitions.set(groupId, (byRef = new Map()));
    return byRef;
  }

  /** Appends the share-partition's snapshot; the promise says when it is durable. */
  private persist(groupId: string, ref: SharePartitionRef, sp: SharePartition): Promise<void> {
    try {
      const { durable } = this.stateLog.append(
        encodeShareStateKey({ groupId, topicId: ref.topicId, partition: ref.partition }),
        encodeShareStateValue(sp.snapshot()),
        this.clock.now(),
      );
      // A write nobody awaits (an acquisition) must not become an unhandled rejection.
      durable.catch((err: unknown) => this.logger.warn({ err, groupId }, 'share state flush failed'));
      return durable;
    } catch (err) {
      if (!(err instanceof ShareStateLogError)) throw err;
      this.logger.warn({ err, groupId }, 'share state write failed');
      // Marked handled here: callers that do not wait (acquisitions) must not crash the process;
      // callers that do (acknowledgements) still see the rejection.
      const failed = Promise.reject(err);
      failed.catch(() => {});
      return failed;
    }
  }

  private scheduleLockExpiry(groupId: string, ref: SharePartitionRef, sp: SharePartition, partition: Partition): void {
    const key = `lock-${groupId}-${refKey(ref)}`;
    const next = sp.nextLockExpiry();
    if (next === null) {
      this.timers.cancel(key);
      return;
    }
    this.timers.schedule(key, Math.max(0, next - this.clock.now()), () => {
      if (sp.expireLocks(this.clock.now()) > 0) {
        this.persist(groupId, ref, sp).catch(() => {});
        this.onRecordsReleased(partition);
      }
      this.scheduleLockExpiry(groupId, ref, sp, partition);
    });
  }

  private releaseSession(groupId: string, memberId: string, session: ShareSession): void {
    for (const ref of session.partitions.values()) this.releaseIn(groupId, memberId, ref);
  }

  private releaseIn(groupId: string, memberId: string, ref: SharePartitionRef): void {
    const sp = this.partitions.get(groupId)?.get(refKey(ref));
    if (sp === undefined || sp.releaseMember(memberId) === 0) return;
    this.persist(groupId, ref, sp).catch(() => {});
    const partition = this.topicRegistry.getById(ref.topicId)?.partitions[ref.partition];
    if (partition !== undefined) {
      this.scheduleLockExpiry(groupId, ref, sp, partition);
      this.onRecordsReleased(partition);
    }
  }

  /** A member left or was removed: its session ends and what it held is released. */
  private memberRemoved(groupId: string, memberId: string): void {
    this.sessions.delete(`${groupId}\0${memberId}`);
    for (const ref of this.partitions.get(groupId)?.keys() ?? []) {
      const [topicId, partition] = ref.split(':');
      this.releaseIn(groupId, memberId, { topicId, partition: Number(partition) });
    }
  }
}

interface BatchSpan extends LogBatchSpan {
  /** Where the batch starts in the bytes read, and its size. */
  readonly position: number;
  readonly size: number;
}

/**
 * The batches in `bytes` (RecordBatch v2 headers: baseOffset int64 @0, batchLength int32 @8,
 * attributes int16 @21 — bit 5 control — and lastOffsetDelta int32 @23), those starting at or
 * past `limit` (the high watermark) left out.
 */
function batchSpans(bytes: Uint8Array, limit: number): BatchSpan[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const spans: BatchSpan[] = [];
  let pos = 0;
  while (pos + 27 <= bytes.byteLength) {
    const baseOffset = Number(view.getBigInt64(pos));
    const size = 12 + view.getInt32(pos + 8);
    if (baseOffset >= limit || pos + size > bytes.byteLength) break;
    const isControl = (view.getInt16(pos + 21) & 0x20) !== 0;
    spans.push({ baseOffset, lastOffset: baseOffset + view.getInt32(pos + 23), isControl, position: pos, size });
    pos += size;
  }
  return spans;
}

function storageErrorCode(err: unknown): number {
  return err instanceof ShareStateLogError ? err.errorCode : ErrorCode.UNKNOWN_SERVER_ERROR;
}
