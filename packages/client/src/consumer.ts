// A consumer for one topic, in one of two modes, as Kafka's console consumer:
// - assign: the given partitions (or all), starting at earliest / latest / an offset / a time;
// - group: membership in a consumer group (range assignor), starting at the committed offsets,
//   or by the reset policy where nothing is committed; offsets are committed every
//   `autoCommitIntervalMs`, on rebalance and on close.
//
// Positions: `fetch` is where the next Fetch starts; `consumed` is just after the last record the
// caller marked consumed (what a commit stores). A commit never runs ahead of what was shown.
//
// Concurrency contract: one caller; poll() calls are sequential. The heartbeat runs on its own
// timer and only sets a flag that the next poll() acts on.

import { ErrorCode } from '@sluice/protocol';
import { ClientError, KafkaApiError } from './errors.ts';
import { type FetchedRecord, Fetcher, type FetchOptions } from './fetcher.ts';
import { commitOffsets, fetchCommittedOffsets } from './groups.ts';
import { DEFAULT_MEMBERSHIP, GroupMember } from './group-member.ts';
import { type ClusterMetadata, type KafkaClient, sleep } from './kafka-client.ts';
import { EARLIEST_TIMESTAMP, LATEST_TIMESTAMP, listOffsets, tpKey } from './offsets.ts';

export type StartPosition =
  | { readonly kind: 'earliest' }
  | { readonly kind: 'latest' }
  | { readonly kind: 'offset'; readonly offset: number }
  | { readonly kind: 'timestamp'; readonly timestamp: number };

export type ResetPolicy = 'earliest' | 'latest';

export interface ConsumerOptions {
  readonly topic: string;
  /** Group mode when set. */
  readonly groupId?: string;
  /** Assign mode: these partitions (all when absent). */
  readonly partitions?: readonly number[];
  /** Assign mode start. Group mode starts at the committed offsets. */
  readonly start: StartPosition;
  /** Where to go when there is no committed offset or the position is out of range. */
  readonly resetPolicy: ResetPolicy;
  readonly autoCommitIntervalMs?: number;
  readonly heartbeatIntervalMs?: number;
  readonly fetch?: Partial<FetchOptions>;
  /** Told about resets and rebalances (one line each). */
  readonly onNotice?: (message: string) => void;
}

interface PartitionState {
  readonly topic: string;
  readonly partition: number;
  fetch: number;
  consumed: number;
  /** High watermark from the last fetch; -1 until the first answer. */
  highWatermark: number;
}

// Errors after which a fresh look at the metadata (a leader change, a topic being created) and
// another try is the right move; Kafka's consumer does the same.
const REFRESH_ERRORS = new Set<number>([
  ErrorCode.NOT_LEADER_OR_FOLLOWER,
  ErrorCode.LEADER_NOT_AVAILABLE,
  ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
  ErrorCode.FENCED_LEADER_EPOCH,
  ErrorCode.UNKNOWN_LEADER_EPOCH,
  ErrorCode.UNKNOWN_TOPIC_ID,
  ErrorCode.INCONSISTENT_TOPIC_ID,
  ErrorCode.REPLICA_NOT_AVAILABLE,
  ErrorCode.KAFKA_STORAGE_ERROR,
  ErrorCode.NOT_ENOUGH_REPLICAS,
]);
const MAX_REFRESH_ROUNDS = 50;

// Commit refusals that mean "the group has a new generation": rejoin rather than fail.
const GENERATION_ERRORS = new Set<number>([
  ErrorCode.REBALANCE_IN_PROGRESS,
  ErrorCode.ILLEGAL_GENERATION,
  ErrorCode.UNKNOWN_MEMBER_ID,
  ErrorCode.FENCED_INSTANCE_ID,
]);

export class Consumer {
  private readonly client: KafkaClient;
  private readonly options: ConsumerOptions;
  private readonly fetcher: Fetcher;
  private readonly member: GroupMember | null;
  private readonly states = new Map<string, PartitionState>();
  private md: ClusterMetadata | null = null;
  private rejoinNeeded = false;
  private heartbeatTimer: NodeJS.Timeout | null = null;
  private heartbeatRunning = false;
  private heartbeatFailure: Error | null = null;
  private lastCommit = Date.now();
  private lastCommitted = new Map<string, number>();
  private refreshRounds = 0;
  private closed = false;

  private constructor(client: KafkaClient, options: ConsumerOptions) {
    this.client = client;
    this.options = options;
    this.fetcher = new Fetcher(client, options.fetch);
    this.member = options.groupId === undefined ? null : new GroupMember(client, { groupId: options.groupId, topics: [options.topic], ...DEFAULT_MEMBERSHIP });
  }

  static async create(client: KafkaClient, options: ConsumerOptions): Promise<Consumer> {
    const c = new Consumer(client, options);
    await c.start();
    return c;
  }

  /** The assigned partitions, sorted. */
  get assignment(): number[] {
    return [...this.states.values()].map((s) => s.partition).sort((a, b) => a - b);
  }

  /** True when every assigned partition has been fetched and consumed up to its high watermark. */
  get atEnd(): boolean {
    for (const s of this.states.values()) if (s.highWatermark < 0 || s.consumed < s.highWatermark) return false;
    return true;
  }

  /** One fetch round; the records at the current positions (possibly none). */
  async poll(): Promise<FetchedRecord[]> {
    if (this.heartbeatFailure !== null) throw this.heartbeatFailure;
    if (this.rejoinNeeded) await this.rejoin();
    await this.maybeAutoCommit();
    if (this.states.size === 0) {
      // Nothing assigned (more group members than partitions): wait like a long-poll would.
      await sleep(this.fetcher.maxWaitMs);
      return [];
    }
    const md = this.md ?? (this.md = await this.client.metadata([this.options.topic]));
    const positions = [...this.states.values()].map((s) => ({ topic: s.topic, partition: s.partition, offset: s.fetch }));
    const results = await this.fetcher.fetch(md, positions);
    const records: FetchedRecord[] = [];
    const outOfRange: PartitionState[] = [];
    let refresh = false;
    for (const r of results) {
      const s = this.states.get(tpKey(r.topic, r.partition));
      if (s === undefined) continue;
      if (r.errorCode === ErrorCode.OFFSET_OUT_OF_RANGE) {
        outOfRange.push(s);
        continue;
      }
      if (REFRESH_ERRORS.has(r.errorCode)) {
        refresh = true;
        continue;
      }
      if (r.errorCode !== 0) throw new KafkaApiError('fetch from', `${r.topic}-${r.partition}`, r.errorCode);
      s.highWatermark = r.highWatermark;
      // Batches that yielded no records (control batches) move `consumed` along when everything
      // before them was consumed, so a commit does not re-read them forever.
      if (r.records.length === 0 && s.consumed === s.fetch) s.consumed = r.nextOffset;
      s.fetch = r.nextOffset;
      records.push(...r.records);
    }
    if (outOfRange.length > 0) await this.resetPositions(outOfRange, 'out of range');
    if (refresh) {
      if (++this.refreshRounds > MAX_REFRESH_ROUNDS)
        throw new ClientError(`topic ${JSON.stringify(this.options.topic)} keeps failing to fetch (no leader?)`, 'check the broker');
      await sleep(100);
      this.md = await this.client.metadata([this.options.topic]);
    } else this.refreshRounds = 0;
    return records;
  }

  /** Marks a record as consumed: the next commit stores the offset after it. */
  markConsumed(record: FetchedRecord): void {
    const s = this.states.get(tpKey(record.topic, record.partition));
    if (s !== undefined && record.offset + 1 > s.consumed) s.consumed = record.offset + 1;
  }

  /** Commits consumed positions (group mode; nothing to do otherwise). */
  async commit(): Promise<void> {
    if (this.member === null || this.member.generationId < 0) return;
    const offsets = [...this.states.values()]
      .filter((s) => this.lastCommitted.get(tpKey(s.topic, s.partition)) !== s.consumed)
      .map((s) => ({ topic: s.topic, partition: s.partition, offset: s.consumed }));
    if (offsets.length === 0) return;
    await commitOffsets(
      this.client,
      this.member.groupId,
      offsets,
      { generationId: this.member.generationId, memberId: this.member.memberId, groupInstanceId: null },
      await this.member.coordinatorConnection(),
    );
    for (const o of offsets) this.lastCommitted.set(tpKey(o.topic, o.partition), o.offset);
    this.lastCommit = Date.now();
  }

  /** Commits and leaves the group (group mode). Safe to call twice. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.stopHeartbeat();
    if (this.member !== null) {
      try {
        await this.commitOrRejoin();
      } finally {
        await this.member.leave();
      }
    }
  }

  // --- internals ---------------------------------------------------------------------------

  private async start(): Promise<void> {
    const info = await this.client.topic(this.options.topic);
    this.md = this.client.cachedMetadata;
    if (this.member === null) {
      const all = info.partitions.map((p) => p.partition);
      const wanted = this.options.partitions ?? all;
      for (const p of wanted) {
        if (!all.includes(p)) {
          throw new ClientError(
            `topic ${JSON.stringify(this.options.topic)} has no partition ${p} (it has ${all.length})`,
            'pick a partition from `sluice topics describe`',
          );
        }
      }
      await this.assign(wanted);
      await this.seekAll(this.options.start);
      return;
    }
    await this.rejoin();
    this.heartbeatTimer = setInterval(() => this.beat(), this.options.heartbeatIntervalMs ?? 3_000);
  }

  private async assign(partitions: readonly number[]): Promise<void> {
    this.states.clear();
    for (const partition of partitions) {
      this.states.set(tpKey(this.options.topic, partition), { topic: this.options.topic, partition, fetch: 0, consumed: 0, highWatermark: -1 });
    }
  }

  private async seekAll(start: StartPosition): Promise<void> {
    const states = [...this.states.values()];
    if (start.kind === 'offset') {
      for (const s of states) s.fetch = s.consumed = start.offset;
      return;
    }
    const timestamp = start.kind === 'earliest' ? EARLIEST_TIMESTAMP : start.kind === 'latest' ? LATEST_TIMESTAMP : start.timestamp;
    const answers = await listOffsets(
      this.client,
      states.map((s) => ({ topic: s.topic, partition: s.partition, timestamp })),
    );
    const missing: PartitionState[] = [];
    answers.forEach((a, i) => {
      if (a.errorCode !== 0) throw new KafkaApiError('list offsets of', `${a.topic}-${a.partition}`, a.errorCode);
      if (a.offset < 0)
        missing.push(states[i]); // no record at or after the time
      else states[i].fetch = states[i].consumed = a.offset;
    });
    if (missing.length > 0) {
      const latest = await listOffsets(
        this.client,
        missing.map((s) => ({ topic: s.topic, partition: s.partition, timestamp: LATEST_TIMESTAMP })),
      );
      latest.forEach((a, i) => (missing[i].fetch = missing[i].consumed = a.offset));
    }
  }

  /** Moves partitions to the reset policy's end (no committed offset, or out of range). */
  private async resetPositions(states: readonly PartitionState[], why: string): Promise<void> {
    const timestamp = this.options.resetPolicy === 'earliest' ? EARLIEST_TIMESTAMP : LATEST_TIMESTAMP;
    const answers = await listOffsets(
      this.client,
      states.map((s) => ({ topic: s.topic, partition: s.partition, timestamp })),
    );
    answers.forEach((a, i) => {
      if (a.errorCode !== 0) throw new KafkaApiError('list offsets of', `${a.topic}-${a.partition}`, a.errorCode);
      const s = states[i];
      if (why !== 'no committed offset')
        this.options.onNotice?.(`offset ${s.fetch} of ${s.topic}-${s.partition} is ${why}; resetting to ${this.options.resetPolicy} offset ${a.offset}`);
      s.fetch = s.consumed = a.offset;
    });
  }

  private async rejoin(): Promise<void> {
    const member = this.member!;
    // Kafka's consumer commits what it consumed before giving partitions up; so do we.
    if (member.generationId >= 0) await this.commit().catch(() => undefined);
    this.rejoinNeeded = false;
    const assignment = await member.join();
    const mine = assignment.filter((tp) => tp.topic === this.options.topic).flatMap((tp) => tp.partitions);
    await this.assign(mine);
    this.lastCommitted.clear();
    const committed = await fetchCommittedOffsets(
      this.client,
      member.groupId,
      mine.map((partition) => ({ topic: this.options.topic, partition })),
      await member.coordinatorConnection(),
    );
    const byKey = new Map(committed.map((c) => [tpKey(c.topic, c.partition), c]));
    const uncommitted: PartitionState[] = [];
    for (const s of this.states.values()) {
      const c = byKey.get(tpKey(s.topic, s.partition));
      if (c !== undefined && c.errorCode !== 0) throw new KafkaApiError('fetch committed offset of', `${s.topic}-${s.partition}`, c.errorCode);
      if (c === undefined || c.offset < 0) uncommitted.push(s);
      else {
        s.fetch = s.consumed = c.offset;
        this.lastCommitted.set(tpKey(s.topic, s.partition), c.offset);
      }
    }
    if (uncommitted.length > 0) await this.resetPositions(uncommitted, 'no committed offset');
    this.options.onNotice?.(
      `joined group ${JSON.stringify(member.groupId)} (generation ${member.generationId}); assigned partitions: ${mine.length === 0 ? 'none' : mine.join(',')}`,
    );
  }

  private async maybeAutoCommit(): Promise<void> {
    if (this.member === null) return;
    if (Date.now() - this.lastCommit < (this.options.autoCommitIntervalMs ?? 5_000)) return;
    await this.commitOrRejoin();
  }

  /**
   * Commits; when the group moved on (a rebalance started, or this membership expired) the
   * commit is refused and the member rejoins instead, as Kafka's consumer does. The records
   * since the last commit may then be read again (at-least-once).
   */
  private async commitOrRejoin(): Promise<void> {
    try {
      await this.commit();
    } catch (err) {
      if (!(err instanceof KafkaApiError) || !GENERATION_ERRORS.has(err.errorCode)) throw err;
      this.options.onNotice?.(`offset commit refused (${err.errorName}); rejoining the group`);
      this.rejoinNeeded = true;
    }
  }

  private beat(): void {
    if (this.heartbeatRunning || this.rejoinNeeded || this.member === null || this.member.generationId < 0) return;
    this.heartbeatRunning = true;
    this.member.heartbeat().then(
      (outcome) => {
        this.heartbeatRunning = false;
        if (outcome === 'rejoin') this.rejoinNeeded = true;
      },
      (err: unknown) => {
        this.heartbeatRunning = false;
        this.heartbeatFailure = err as Error;
      },
    );
  }

  private stopHeartbeat(): void {
    if (this.heartbeatTimer !== null) clearInterval(this.heartbeatTimer);
    this.heartbeatTimer = null;
  }
}
