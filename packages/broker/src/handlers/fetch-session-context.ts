// Fetch sessions (KIP-227) on the wire: what a Fetch request means for the session cache
// (fetch-session-cache.ts), and which partitions its answer carries. Kafka's FetchManager and
// its fetch contexts, in two steps around the read:
//
//   planFetch     before the read: (sessionId, sessionEpoch) decide the kind of fetch —
//                   epoch -1: a full fetch without a session (a given session id is closed);
//                   epoch 0:  a full fetch that opens a session (a given session id is closed);
//                   epoch n:  an incremental fetch of session `sessionId`: the request's
//                             partitions are added or updated, the forgotten ones removed, the
//                             epoch moves on, and every partition of the session is read.
//                 Unknown session: FETCH_SESSION_ID_NOT_FOUND; wrong epoch:
//                 INVALID_FETCH_SESSION_EPOCH; topic names in a session of topic ids or the
//                 reverse: FETCH_SESSION_TOPIC_ID_ERROR. An error leaves the session as it was.
//   finishFetch   after the read (once, when the answer goes out, so a parked fetch's re-reads
//                 change nothing): a full fetch opens its session with what the answer says; an
//                 incremental one carries only the partitions with records, an error, or a
//                 changed high watermark, last stable offset or log start offset, or a diverging
//                 epoch, and remembers what it sent. Records stay external (zero-copy): partitions are dropped, never
//                 re-encoded.
//
// Sessions are not tied to a connection, as in Kafka: the id and the epoch are the credentials.

import {
  ErrorCode,
  type FetchRequest,
  type FetchResponse,
  type FetchResponseResponses,
  type FetchResponseResponsesPartitions,
  ZERO_UUID,
} from '@sluice/protocol';
import {
  FINAL_EPOCH,
  type FetchSession,
  type FetchSessionCache,
  INITIAL_EPOCH,
  nextEpoch,
  partitionKey,
  type SessionPartition,
} from '../fetch-session-cache.ts';

/** What a request asks for, once its session (if any) is applied. */
export type FetchPlan =
  | { readonly kind: 'error'; readonly errorCode: number }
  | {
      readonly kind: 'sessionless' | 'full' | 'incremental';
      /** The partitions to read, in answer order. */
      readonly targets: readonly SessionPartition[];
      /** Topics are named by id (v13+). */
      readonly byId: boolean;
      /** A follower's fetch (replica id >= 0): its session is worth more when slots run out. */
      readonly privileged: boolean;
      /** Incremental: the session the answer is filtered against. */
      readonly session: FetchSession | null;
    };

/** One read partition, as readAll answers it (parallel to the plan's targets). */
export interface TargetResult {
  /** The topic's name and id when it exists here, for the answer. */
  readonly topic: string | undefined;
  readonly topicId: string | undefined;
  readonly data: FetchResponseResponsesPartitions;
}

function targetsOf(request: FetchRequest, byId: boolean): SessionPartition[] {
  const out: SessionPartition[] = [];
  for (const t of request.topics) {
    const topic = byId ? (t.topicId ?? ZERO_UUID) : (t.topic ?? '');
    for (const p of t.partitions) {
      out.push({
        topic,
        partition: p.partition,
        fetchOffset: p.fetchOffset,
        partitionMaxBytes: p.partitionMaxBytes,
        currentLeaderEpoch: p.currentLeaderEpoch ?? -1,
        lastFetchedEpoch: p.lastFetchedEpoch ?? -1,
        fetcherLogStartOffset: p.logStartOffset ?? -1,
        highWatermark: -1,
        lastStableOffset: -1,
        logStartOffset: -1,
      });
    }
  }
  return out;
}

/** Decides the kind of fetch and applies an incremental request to its session. */
export function planFetch(cache: FetchSessionCache, request: FetchRequest, version: number): FetchPlan {
  const sessionId = request.sessionId ?? 0;
  const epoch = request.sessionEpoch ?? FINAL_EPOCH;
  const byId = version >= 13;
  const privileged = request.replicaId >= 0;
  if (epoch === FINAL_EPOCH || epoch === INITIAL_EPOCH) {
    // A full request closes the session it names (Kafka: "any session specified in a FULL fetch
    // request will be closed"); epoch 0 opens a new one when the answer goes out.
    if (sessionId !== 0) cache.remove(sessionId);
    return { kind: epoch === INITIAL_EPOCH ? 'full' : 'sessionless', targets: targetsOf(request, byId), byId, privileged, session: null };
  }
  const session = cache.get(sessionId);
  if (session === undefined) return { kind: 'error', errorCode: ErrorCode.FETCH_SESSION_ID_NOT_FOUND };
  if (session.epoch !== epoch) return { kind: 'error', errorCode: ErrorCode.INVALID_FETCH_SESSION_EPOCH };
  if (session.usesTopicIds !== byId) return { kind: 'error', errorCode: ErrorCode.FETCH_SESSION_TOPIC_ID_ERROR };

  const sizeBefore = session.size;
  for (const changed of targetsOf(request, byId)) {
    const key = partitionKey(changed.topic, changed.partition);
    const cached = session.partitions.get(key);
    if (cached === undefined) {
      session.partitions.set(key, changed);
    } else {
      cached.fetchOffset = changed.fetchOffset;
      cached.partitionMaxBytes = changed.partitionMaxBytes;
      cached.currentLeaderEpoch = changed.currentLeaderEpoch;
      cached.lastFetchedEpoch = changed.lastFetchedEpoch;
      cached.fetcherLogStartOffset = changed.fetcherLogStartOffset;
    }
  }
  for (const forgotten of request.forgottenTopicsData ?? []) {
    const topic = byId ? (forgotten.topicId ?? ZERO_UUID) : (forgotten.topic ?? '');
    for (const p of forgotten.partitions) session.partitions.delete(partitionKey(topic, p));
  }
  cache.resized(session, sizeBefore);
  if (session.size === 0) {
    // Nothing left to fetch: Kafka closes the session and answers this one without it.
    cache.remove(session.id);
    return { kind: 'sessionless', targets: [], byId, privileged, session: null };
  }
  cache.touch(session);
  session.epoch = nextEpoch(session.epoch);
  return { kind: 'incremental', targets: [...session.partitions.values()], byId, privileged, session };
}

/**
 * Whether an incremental answer must carry this partition, remembering what it carries (Kafka's
 * CachedPartition.maybeUpdateResponseData). An error forgets the high watermark, so the
 * partition is sent again once the error is gone.
 */
function mustRespond(cached: SessionPartition, data: FetchResponseResponsesPartitions): boolean {
  let respond = (data.records?.byteLength ?? 0) > 0;
  if (cached.highWatermark !== data.highWatermark) {
    respond = true;
    cached.highWatermark = data.highWatermark;
  }
  if (cached.lastStableOffset !== data.lastStableOffset) {
    respond = true;
    cached.lastStableOffset = data.lastStableOffset;
  }
  const logStartOffset = data.logStartOffset ?? -1;
  if (cached.logStartOffset !== logStartOffset) {
    respond = true;
    cached.logStartOffset = logStartOffset;
  }
  if (data.errorCode !== ErrorCode.NONE) {
    respond = true;
    cached.highWatermark = -1;
  }
  // A diverging epoch (no records, no error) is always carried: the fetcher must truncate.
  if (data.divergingEpoch !== undefined) respond = true;
  return respond;
}

/** The results an answer carries, per the plan; opens a full fetch's session. */
function selected(
  cache: FetchSessionCache,
  plan: Extract<FetchPlan, { targets: unknown }>,
  results: readonly TargetResult[],
): { sessionId: number; carried: TargetResult[] } {
  if (plan.kind === 'sessionless') return { sessionId: 0, carried: [...results] };
  if (plan.kind === 'full') {
    const partitions = plan.targets.map((t, i) => {
      const data = results[i]!.data;
      const ok = data.errorCode === ErrorCode.NONE;
      return {
        ...t,
        highWatermark: ok ? data.highWatermark : -1,
        lastStableOffset: data.lastStableOffset,
        logStartOffset: data.logStartOffset ?? -1,
      };
    });
    const session = cache.create(plan.privileged, plan.byId, partitions);
    return { sessionId: session?.id ?? 0, carried: [...results] };
  }
  const session = plan.session!;
  const carried: TargetResult[] = [];
  plan.targets.forEach((target, i) => {
    const result = results[i]!;
    if (!mustRespond(target, result.data)) return;
    carried.push(result);
    if ((result.data.records?.byteLength ?? 0) > 0) session.moveToEnd(partitionKey(target.topic, target.partition));
  });
  return { sessionId: session.id, carried };
}

/**
 * The Fetch answer for a plan's read results: the partitions it carries, grouped by topic in
 * order (a topic split by others appears once per run, as in Kafka's answers).
 */
export function finishFetch(cache: FetchSessionCache, plan: FetchPlan, results: readonly TargetResult[]): FetchResponse {
  if (plan.kind === 'error') return { throttleTimeMs: 0, errorCode: plan.errorCode, sessionId: 0, responses: [] };
  const { sessionId, carried } = selected(cache, plan, results);
  const responses: FetchResponseResponses[] = [];
  let partitions: FetchResponseResponsesPartitions[] = [];
  let last: TargetResult | null = null;
  for (const r of carried) {
    if (last === null || last.topic !== r.topic || last.topicId !== r.topicId) {
      partitions = [];
      responses.push({ topic: r.topic, topicId: r.topicId, partitions });
    }
    partitions.push(r.data);
    last = r;
  }
  return { throttleTimeMs: 0, errorCode: 0, sessionId, responses };
}
