// Incremental fetch sessions (KIP-227): the broker-wide cache of sessions. A session remembers
// the partitions a fetcher reads (its fetch offset and limits per partition) and what the last
// answer told it (high watermark, last stable offset, log start offset), so the next request
// carries only the partitions that changed and the answer only those with something new.
//
// This module owns the sessions, their ids and epochs, and the cache's admission and eviction;
// it knows nothing of the wire format (handlers/fetch-session-context.ts turns requests into
// session changes and filters answers).
//
// Slots: `max.incremental.fetch.session.cache.slots` sessions at most (Kafka's default 1000). A
// new session takes a free slot; when none is free it may evict one that has not been used for
// `evictionMs` (120 s, as Kafka's minimum eviction time), the least valuable of those first:
// a consumer's before a follower's, then the smaller (fewer partitions), then the one unused the
// longest. A session used within the last 120 s is never evicted: the new fetcher gets session id
// 0 instead and keeps sending full requests, which every client accepts.
//
// Concurrency: event loop only.

/** The epoch that closes a session, or asks for none (a full fetch without a session). */
export const FINAL_EPOCH = -1;
/** The epoch of a full request that opens a session. */
export const INITIAL_EPOCH = 0;
/** Kafka's minimum time a session keeps its slot once used. */
export const DEFAULT_EVICTION_MS = 120_000;

/** The epoch after `epoch`: 1, 2, …, 2^31-1, then 1 again (0 and -1 are the special epochs). */
export function nextEpoch(epoch: number): number {
  if (epoch < 0) return FINAL_EPOCH;
  return epoch === 0x7fffffff ? 1 : epoch + 1;
}

/** One partition of a session: what its fetcher asked last, and what it was told last. */
export interface SessionPartition {
  /** The topic's name (requests before v13) or id (v13+), as the fetcher names it. */
  readonly topic: string;
  readonly partition: number;
  fetchOffset: number;
  partitionMaxBytes: number;
  currentLeaderEpoch: number;
  /** Fetch v12+: the epoch of the last batch the fetcher has (-1: not said); KIP-320 truncation detection. */
  lastFetchedEpoch: number;
  /** The fetcher's own log start offset (a follower's), -1 for consumers. */
  fetcherLogStartOffset: number;
  /** Last sent in an answer; -1 until the first answer or after an error (so it is sent again). */
  highWatermark: number;
  lastStableOffset: number;
  logStartOffset: number;
}

/** The key of a partition in a session: topic name or id, and index. */
export function partitionKey(topic: string, partition: number): string {
  return `${topic}\0${partition}`;
}

export class FetchSession {
  readonly id: number;
  /** A follower's session (the request had a replica id): worth more than a consumer's. */
  readonly privileged: boolean;
  /** Whether the partitions are named by topic id (Fetch v13+) or by name. */
  readonly usesTopicIds: boolean;
  readonly createdMs: number;
  lastUsedMs: number;
  /** The epoch the next incremental request must carry. */
  epoch = nextEpoch(INITIAL_EPOCH);
  /**
   * The partitions in the order they are read and answered: a partition answered with records
   * moves to the end, so a response size limit does not starve the later ones (Kafka does the same).
   */
  readonly partitions = new Map<string, SessionPartition>();

  constructor(id: number, privileged: boolean, usesTopicIds: boolean, nowMs: number, partitions: Iterable<SessionPartition>) {
    this.id = id;
    this.privileged = privileged;
    this.usesTopicIds = usesTopicIds;
    this.createdMs = nowMs;
    this.lastUsedMs = nowMs;
    for (const p of partitions) this.partitions.set(partitionKey(p.topic, p.partition), p);
  }

  get size(): number {
    return this.partitions.size;
  }

  /** Moves a partition to the end of the session's order. */
  moveToEnd(key: string): void {
    const p = this.partitions.get(key);
    if (p === undefined) return;
    this.partitions.delete(key);
    this.partitions.set(key, p);
  }
}

export interface FetchSessionCacheOptions {
  /** `max.incremental.fetch.session.cache.slots`: 0 turns sessions off. */
  readonly maxSlots: number;
  readonly evictionMs?: number;
  /** Milliseconds now (tests pass a manual clock). */
  readonly now?: () => number;
  /** A random 31-bit candidate for a session id (tests pass a fixed sequence). */
  readonly randomId?: () => number;
}

export class FetchSessionCache {
  private readonly sessions = new Map<number, FetchSession>();
  private readonly maxSlots: number;
  private readonly evictionMs: number;
  private readonly clock: () => number;
  private readonly randomId: () => number;
  private cachedPartitions = 0;
  /** Sessions evicted to make room for another, since start. */
  evictions = 0;

  constructor(options: FetchSessionCacheOptions) {
    this.maxSlots = options.maxSlots;
    this.evictionMs = options.evictionMs ?? DEFAULT_EVICTION_MS;
    this.clock = options.now ?? Date.now;
    this.randomId = options.randomId ?? (() => Math.floor(Math.random() * 0x7fffffff));
  }

  /** Sessions open now. */
  get size(): number {
    return this.sessions.size;
  }

  /** Partitions held by all sessions (Kafka's NumIncrementalFetchPartitionsCached). */
  get partitionsCached(): number {
    return this.cachedPartitions;
  }

  now(): number {
    return this.clock();
  }

  get(id: number): FetchSession | undefined {
    return this.sessions.get(id);
  }

  /**
   * Opens a session holding `partitions` when a slot is free or can be freed by eviction;
   * null when none can (the fetcher then gets session id 0 and stays with full requests).
   */
  create(privileged: boolean, usesTopicIds: boolean, partitions: readonly SessionPartition[]): FetchSession | null {
    if (this.maxSlots <= 0) return null;
    const now = this.clock();
    if (this.sessions.size >= this.maxSlots && !this.evictOne(now)) return null;
    let id = this.randomId();
    while (id <= 0 || this.sessions.has(id)) id = this.randomId();
    const session = new FetchSession(id, privileged, usesTopicIds, now, partitions);
    this.sessions.set(id, session);
    this.cachedPartitions += session.size;
    return session;
  }

  /** Marks a session used now (it keeps its slot for another `evictionMs`). */
  touch(session: FetchSession): void {
    session.lastUsedMs = this.clock();
  }

  remove(id: number): FetchSession | undefined {
    const session = this.sessions.get(id);
    if (session === undefined) return undefined;
    this.sessions.delete(id);
    this.cachedPartitions -= session.size;
    return session;
  }

  /** Call after adding or removing partitions of a session, with its size before the change. */
  resized(session: FetchSession, sizeBefore: number): void {
    if (this.sessions.get(session.id) === session) this.cachedPartitions += session.size - sizeBefore;
  }

  /**
   * Frees one slot: among the sessions unused for `evictionMs`, the least valuable (a consumer's
   * before a follower's, smaller before larger, unused longer first). False when every session
   * was used within `evictionMs`.
   */
  private evictOne(now: number): boolean {
    let victim: FetchSession | null = null;
    for (const s of this.sessions.values()) {
      if (now - s.lastUsedMs < this.evictionMs) continue;
      if (victim === null || lessValuable(s, victim)) victim = s;
    }
    if (victim === null) return false;
    this.remove(victim.id);
    this.evictions++;
    return true;
  }
}

function lessValuable(a: FetchSession, b: FetchSession): boolean {
  if (a.privileged !== b.privileged) return !a.privileged;
  if (a.size !== b.size) return a.size < b.size;
  return a.lastUsedMs < b.lastUsedMs;
}
