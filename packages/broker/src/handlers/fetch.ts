// Fetch (key 1).
// Behavior: each partition resolves (fetchOffset) to a file range that starts at the batch
// containing the offset; the response carries those ranges as external records, which the
// connection writer sends from the segment files (sendfile/splice/copy). Limits: per-partition
// partitionMaxBytes and the response's maxBytes, except that the first batch of the first
// partition with data is always whole (KIP-74). When fewer than minBytes are available the
// request parks until an append reaches minBytes or maxWaitMs passes (Kafka's DelayedFetch), or
// a graceful stop begins; errors answer at once. An offline partition (failed storage) answers
// KAFKA_STORAGE_ERROR. Fetch sessions (KIP-227): the request's session id and epoch decide which
// partitions are read and which the answer carries (fetch-session-context.ts, over the broker's
// fetch-session-cache.ts); an incremental fetch reads every partition of its session.
// read_committed (isolationLevel 1) reads up to the last stable offset instead of the high
// watermark, and the answer lists the aborted transactions overlapping [fetch offset, LSO) from
// the native .txnindex (Kafka's collectAbortedTxns bound, a superset of the range sent, which
// consumers handle); the records still leave by sendfile: only that list is computed.
// Cluster mode: only the leader answers followers (NOT_LEADER_OR_FOLLOWER elsewhere); a consumer's
// Fetch v11+ is also served by a follower up to the high watermark it learnt (KIP-392), and a
// leader under the rack-aware replica.selector.class answers a consumer with a rack with
// preferredReadReplica (no records, at once) when an in-sync follower in that rack holds the
// offset (cluster/read-replica.ts). A fetch with a
// replica id (>= 0) is a follower's: it reads up to the log end (never bounded by the LSO), and its fetch offset is that
// follower's log end for the leader's high watermark and ISR (cluster/replication.ts); with an
// authorizer it needs CLUSTER_ACTION on the cluster instead of READ on each topic, as in Kafka.
// Replication throttle (Kafka's leader ReplicationQuotaManager, quotas/replication-quota.ts): a
// partition throttled on this leader (its topic's leader.replication.throttled.replicas) is
// answered without records to a follower outside its ISR while the leader quota is exceeded, the
// others served as usual (records still leave zero-copy); the bytes of throttled partitions each
// answer carries are recorded against leader.replication.throttled.rate.
// Log truncation detection (Fetch v12+, KIP-320 for consumers, truncation on fetch for
// followers): a partition that names the epoch of the fetcher's last batch (lastFetchedEpoch >= 0)
// is checked against this log's epochs (Partition.checkLastFetchedEpoch): when the fetcher's log
// has what this one never had, the answer is divergingEpoch {epoch, endOffset} with no records,
// at once; an epoch this log does not know is OFFSET_OUT_OF_RANGE. Same rule for both.
// Version notes: served v4–13. v4 lastStableOffset/abortedTransactions; v5 logStartOffset; v7
// sessions; v9 currentLeaderEpoch; v11 rackId/preferredReadReplica; v12+ flexible,
// lastFetchedEpoch/divergingEpoch; v13 topic ids instead of names.

import {
  ErrorCode,
  type ExternalRecords,
  type FetchRequest,
  type FetchResponse,
  type FetchResponseResponsesPartitions,
  type FetchResponseResponsesPartitionsAbortedTransactions as AbortedTransaction,
  ZERO_UUID,
} from '@sluice/protocol';
import type { BrokerContext } from '../broker-context.ts';
import type { SessionPartition } from '../fetch-session-cache.ts';
import { type FetchPlan, finishFetch, planFetch, type TargetResult } from './fetch-session-context.ts';
import { partitionFailure } from '../storage-errors.ts';
import type { Partition } from '../partition.ts';
import { AclOperation, authorize, CLUSTER_NAME, ResourceType } from './authorization.ts';
import { defineHandler, type RequestContext } from './handler.ts';
import { fetchQuotaMaxBytes, fetchThrottleMs } from './quota-throttling.ts';

const EMPTY = new Uint8Array(0);

type ReadPlan = Exclude<FetchPlan, { kind: 'error' }>;

interface Outcome {
  /** Each target of the plan, read (parallel to its targets). */
  readonly results: TargetResult[];
  readonly bytes: number;
  readonly hasError: boolean;
  /** A partition was answered with a preferred read replica (KIP-392): answered at once. */
  readonly redirected: boolean;
  /** A partition was answered with a diverging epoch (KIP-320/595): answered at once, as Kafka. */
  readonly diverged: boolean;
  /** Record bytes read for consumers from partitions this broker follows (KIP-392). */
  readonly followerReadBytes: number;
  /** A follower's fetch: record bytes of partitions throttled on this leader (leader replication quota). */
  readonly throttledBytes: number;
  readonly partitions: Partition[];
}

function partitionError(index: number, errorCode: number, p?: Partition): FetchResponseResponsesPartitions {
  return {
    partitionIndex: index,
    errorCode,
    highWatermark: p?.highWatermark ?? -1,
    lastStableOffset: p?.lastStableOffset ?? -1,
    logStartOffset: p?.logStartOffset ?? -1,
    abortedTransactions: null,
    preferredReadReplica: -1,
    records: EMPTY,
  };
}

/**
 * The topics of the request the principal may not READ (Kafka: TOPIC_AUTHORIZATION_FAILED per
 * partition, checked before existence; a topic id is resolved first, an unknown one is
 * UNKNOWN_TOPIC_ID). Asked once per request, not at every re-read of a parked fetch.
 */
function unreadableTopics(ctx: RequestContext, request: FetchRequest, plan: ReadPlan): ReadonlySet<string> {
  const denied = new Set<string>();
  if (ctx.broker.authorizer === null) return denied;
  const names = new Set<string>();
  for (const t of plan.targets) {
    const name = plan.byId ? ctx.broker.topics.getById(t.topic)?.name : t.topic;
    if (name !== undefined) names.add(name);
  }
  // Cluster mode, a follower's fetch: Kafka asks CLUSTER_ACTION on the cluster instead of READ on
  // each topic; without it every partition is TOPIC_AUTHORIZATION_FAILED.
  if (ctx.broker.cluster !== null && request.replicaId >= 0) {
    return authorize(ctx, AclOperation.CLUSTER_ACTION, ResourceType.CLUSTER, CLUSTER_NAME) ? denied : names;
  }
  for (const name of names) if (!authorize(ctx, AclOperation.READ, ResourceType.TOPIC, name)) denied.add(name);
  return denied;
}

/** One pass over the plan's partitions: what would be answered right now. */
function readAll(broker: BrokerContext, version: number, request: FetchRequest, plan: ReadPlan, denied: ReadonlySet<string>): Outcome {
  let remaining: number = version >= 3 ? request.maxBytes : 0x7fffffff;
  let minOneBatch = true;
  let bytes = 0;
  let hasError = false;
  let redirected = false;
  let diverged = false;
  let followerReadBytes = 0;
  let throttledBytes = 0;
  const partitions: Partition[] = [];
  const leaderQuota = broker.replicationQuotas.leader;
  const now = Date.now();
  const abortedDefault: AbortedTransaction[] | null = request.isolationLevel === 1 ? [] : null;
  const cluster = broker.cluster;
  const replicaId = cluster !== null && request.replicaId >= 0 ? request.replicaId : -1;
  const byId = plan.byId;
  const missingTopicError = byId ? ErrorCode.UNKNOWN_TOPIC_ID : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
  // Targets come grouped by topic: the topic is looked up once per run of its partitions.
  let topicKey: string | null = null;
  let topic: ReturnType<BrokerContext['topics']['get']>;
  const results: TargetResult[] = plan.targets.map((req) => {
    if (req.topic !== topicKey) {
      topicKey = req.topic;
      // A topic is named by id from v13 and by name before.
      topic = byId ? (req.topic === ZERO_UUID ? undefined : broker.topics.getById(req.topic)) : broker.topics.get(req.topic);
    }
    const data = readPartition(req);
    return { topic: topic?.name ?? (byId ? undefined : req.topic), topicId: topic?.id ?? (byId ? req.topic : undefined), data };
  });
  return { results, bytes, hasError, redirected, diverged, followerReadBytes, throttledBytes, partitions };

  function readPartition(req: SessionPartition): FetchResponseResponsesPartitions {
    const deniedName = byId ? topic?.name : req.topic;
    if (deniedName !== undefined && denied.has(deniedName)) {
      hasError = true;
      return partitionError(req.partition, ErrorCode.TOPIC_AUTHORIZATION_FAILED);
    }
    const partition = topic?.partitions[req.partition];
    if (partition === undefined) {
      hasError = true;
      // Cluster mode: a partition with no replica here (named, v12-) is led elsewhere.
      const elsewhere = !byId && cluster !== null ? cluster.currentLeader(req.topic, req.partition) : undefined;
      if (elsewhere !== undefined && elsewhere.leaderId >= 0)
        return { ...partitionError(req.partition, ErrorCode.NOT_LEADER_OR_FOLLOWER), currentLeader: elsewhere };
      return partitionError(req.partition, topic === undefined ? missingTopicError : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
    }
    // Cluster mode: followers fetch from the leader; consumers read from the leader, or (Fetch
    // v11+, KIP-392) from a follower, which serves them up to the high watermark it learnt.
    const leads = cluster === null || partition.topic.isInternal || cluster.isLeader(partition.topic.name, partition.index);
    const followerRead = !leads && request.replicaId < 0 && version >= 11 && cluster!.servesFollowerReads(partition.topic.name, partition.index);
    if (!leads && !followerRead) {
      hasError = true;
      // KIP-951 (v12+): who leads it now.
      return {
        ...partitionError(req.partition, ErrorCode.NOT_LEADER_OR_FOLLOWER),
        currentLeader: cluster!.currentLeader(partition.topic.name, partition.index),
      };
    }
    partitions.push(partition);
    if (partition.offline) {
      hasError = true;
      return partitionError(req.partition, ErrorCode.KAFKA_STORAGE_ERROR);
    }
    const currentLeaderEpoch = req.currentLeaderEpoch;
    if (currentLeaderEpoch > partition.leaderEpoch) {
      // A client that has seen a later epoch than ours is talking about a different history
      // (Kafka answers UNKNOWN_LEADER_EPOCH for a future epoch, FENCED_LEADER_EPOCH for a past one).
      hasError = true;
      return partitionError(req.partition, ErrorCode.UNKNOWN_LEADER_EPOCH, partition);
    }
    if (currentLeaderEpoch >= 0 && currentLeaderEpoch < partition.leaderEpoch) {
      hasError = true;
      return partitionError(req.partition, ErrorCode.FENCED_LEADER_EPOCH, partition);
    }
    if (!Number.isSafeInteger(req.fetchOffset)) {
      // Beyond 2^53 no log of ours has such an offset (int64 values arrive as JS numbers).
      hasError = true;
      return partitionError(req.partition, ErrorCode.OFFSET_OUT_OF_RANGE, partition);
    }
    // Fetch v12+ with the epoch of the fetcher's last batch: is its log still a prefix of this
    // one (Partition.checkLastFetchedEpoch)? A diverged follower's fetch offset is no progress,
    // so it does not move the high watermark or the ISR (Kafka skips updateFollowerFetchState).
    if (req.lastFetchedEpoch >= 0) {
      const check = partition.checkLastFetchedEpoch(req.lastFetchedEpoch, req.fetchOffset);
      if (check.kind === 'out-of-range') {
        hasError = true;
        return partitionError(req.partition, ErrorCode.OFFSET_OUT_OF_RANGE, partition);
      }
      if (check.kind === 'diverging') {
        diverged = true;
        return { ...partitionError(req.partition, ErrorCode.NONE, partition), divergingEpoch: { epoch: check.epoch, endOffset: check.endOffset } };
      }
    }
    let throttled = false;
    if (replicaId >= 0) {
      cluster!.replication.onFollowerFetch(partition, replicaId, req.fetchOffset);
      throttled = leaderQuota.isThrottled(partition);
      // Kafka's shouldLeaderThrottle: a follower outside the ISR, its partition throttled here, the quota exceeded.
      if (throttled && leaderQuota.holdsBack(partition, cluster!.replication.isr(partition).includes(replicaId), now)) {
        return partitionError(req.partition, ErrorCode.NONE, partition);
      }
    }
    // KIP-392: the leader sends a consumer with a rack to a replica in it (records come from there).
    const clientRack = request.rackId ?? '';
    if (cluster !== null && leads && request.replicaId < 0 && version >= 11 && clientRack !== '') {
      const preferred = cluster.preferredReadReplica(partition, clientRack, req.fetchOffset);
      if (preferred >= 0 && preferred !== cluster.settings.nodeId) {
        redirected = true;
        return { ...partitionError(req.partition, ErrorCode.NONE, partition), preferredReadReplica: preferred };
      }
    }
    const limit = Math.max(0, Math.min(req.partitionMaxBytes, remaining));
    // Each offset once per partition: the log's are calls into the native addon, which at a
    // thousand partitions per request are most of a fetch's cost (reads change none of them).
    const highWatermark = partition.highWatermark;
    const lastStableOffset = partition.lastStableOffset;
    const logStartOffset = partition.logStartOffset;
    let records: Uint8Array | ExternalRecords = EMPTY;
    let abortedTransactions = abortedDefault;
    try {
      if (limit > 0 || minOneBatch) {
        // Consumers read up to the high watermark (read_committed: the last stable offset); on a
        // single node both are the log end, in cluster mode they trail it.
        // A follower reads up to the log end: what it fetches is what commits.
        const maxOffset = replicaId >= 0 ? partition.logEndOffset : request.isolationLevel === 1 ? lastStableOffset : highWatermark;
        // At the bound itself there is nothing to read: no call into the log (a consumer of many
        // idle partitions asks this of most of them at every fetch).
        const atBound = req.fetchOffset === maxOffset && req.fetchOffset >= logStartOffset;
        const read = atBound ? null : partition.log.read(req.fetchOffset, limit, minOneBatch, maxOffset);
        if (read !== null && read.slice.byteLength > 0) {
          records = read.slice;
          if (request.isolationLevel === 1)
            abortedTransactions = partition.log
              .abortedTransactions(req.fetchOffset, maxOffset)
              .map((a) => ({ producerId: a.producerId, firstOffset: a.firstOffset }));
          bytes += read.slice.byteLength;
          if (followerRead) followerReadBytes += read.slice.byteLength;
          if (throttled) throttledBytes += read.slice.byteLength;
          remaining -= read.slice.byteLength;
          minOneBatch = false;
        }
      } else if (req.fetchOffset < logStartOffset || req.fetchOffset > (replicaId >= 0 ? partition.logEndOffset : highWatermark)) {
        throw Object.assign(new Error('offset out of range'), { code: 'OFFSET_OUT_OF_RANGE' });
      }
    } catch (err) {
      const failure = partitionFailure(err);
      if (failure.unexpected) broker.logger.error({ err }, 'fetch failed unexpectedly');
      hasError = true;
      return partitionError(req.partition, failure.errorCode, partition);
    }
    return {
      partitionIndex: req.partition,
      errorCode: 0,
      highWatermark,
      lastStableOffset,
      logStartOffset,
      abortedTransactions,
      preferredReadReplica: -1,
      records,
    };
  }
}

export const fetchHandler = defineHandler({
  apiKey: 1,
  minVersion: 4,
  maxVersion: 13,
  handle(ctx, request) {
    const { broker, header } = ctx;
    // Client quotas (consumers; a follower's fetch is not a client's): a response never carries
    // more than the quota allows in one window, and one that would put the consumer over its
    // quota is answered empty with the throttle time (quota-throttling.ts), as Kafka's
    // getThrottledResponse: no session is created and an incremental session's state is not moved.
    // The broker's fetch.max.bytes caps every answer, as Kafka's does (a larger request max_bytes
    // would queue more for one connection than its writer holds, which closes the connection).
    const brokerMaxBytes = broker.config.int('fetch.max.bytes');
    if (request.maxBytes > brokerMaxBytes) request = { ...request, maxBytes: brokerMaxBytes };
    const quotaMaxBytes = broker.cluster !== null && request.replicaId >= 0 ? Number.POSITIVE_INFINITY : fetchQuotaMaxBytes(ctx);
    if (quotaMaxBytes < request.maxBytes) request = { ...request, maxBytes: Math.max(1, Math.floor(quotaMaxBytes)) };
    const plan = planFetch(broker.fetchSessions, request, header.apiVersion);
    broker.metrics.fetchSessions.requested(plan.kind);
    if (plan.kind === 'error') return finishFetch(broker.fetchSessions, plan, []);
    const respond = (outcome: Outcome): FetchResponse => {
      if (broker.cluster !== null && request.replicaId >= 0 && outcome.bytes > 0)
        broker.metrics.cluster.followerFetched(request.replicaId, broker.config.str('sluice.transfer.mode'), outcome.bytes);
      // Kafka records the throttled partitions' bytes once the answer is decided (not at every re-read of a parked fetch).
      broker.replicationQuotas.leader.record(outcome.throttledBytes);
      const throttleTimeMs = quotaMaxBytes === Number.POSITIVE_INFINITY ? 0 : fetchThrottleMs(ctx, outcome.bytes);
      if (throttleTimeMs === 0) return answer(broker, plan, outcome);
      return { throttleTimeMs, errorCode: ErrorCode.NONE, sessionId: plan.kind === 'incremental' ? (plan.session?.id ?? 0) : 0, responses: [] };
    };
    const denied = unreadableTopics(ctx, request, plan);
    const first = readAll(broker, header.apiVersion, request, plan, denied);
    const maxWaitMs = Math.max(0, request.maxWaitMs);
    if (first.hasError || first.redirected || first.diverged || first.bytes >= request.minBytes || maxWaitMs === 0 || first.partitions.length === 0) {
      return respond(first);
    }
    return parkUntilReady(broker, header.apiVersion, request, plan, denied, first, maxWaitMs, respond);
  },
});

/** The body to send (the session decides which partitions), its record bytes counted per topic (Kafka's BytesOutPerSec). */
function answer(broker: BrokerContext, plan: ReadPlan, outcome: Outcome): FetchResponse {
  const body = finishFetch(broker.fetchSessions, plan, outcome.results);
  if (outcome.followerReadBytes > 0) broker.metrics.cluster.followerRead(outcome.followerReadBytes);
  if (outcome.bytes === 0) return body;
  for (const t of body.responses) {
    let bytes = 0;
    for (const p of t.partitions) bytes += p.records?.byteLength ?? 0;
    // Bytes come only from a topic found here, whose name the answer carries.
    if (bytes > 0) broker.metrics.broker.fetched(t.topic ?? '', bytes);
  }
  return body;
}

/**
 * Parks the fetch in the broker's delayed fetches (Kafka's DelayedFetch), watched on its
 * partitions: it completes once a re-read reaches minBytes or finds an error, when maxWaitMs
 * passes, or at once when a graceful stop begins (an early answer is valid). Changes to a
 * partition are coalesced: many appends in one turn of the event loop cost one re-read. The
 * session sees only the read that is answered.
 */
function parkUntilReady(
  broker: BrokerContext,
  version: number,
  request: FetchRequest,
  plan: ReadPlan,
  denied: ReadonlySet<string>,
  first: Outcome,
  maxWaitMs: number,
  respond: (outcome: Outcome) => FetchResponse,
): Promise<FetchResponse> {
  return new Promise((resolve, reject) => {
    let ready: Outcome | null = null;
    let failure: { err: unknown } | null = null;
    const read = (): Outcome | null => {
      try {
        return readAll(broker, version, request, plan, denied);
      } catch (err) {
        failure = { err };
        return null;
      }
    };
    broker.delayedFetches.watch(
      {
        tryComplete() {
          const outcome = read();
          if (outcome !== null && !outcome.hasError && !outcome.redirected && !outcome.diverged && outcome.bytes < request.minBytes) return false;
          ready = outcome;
          return true;
        },
        onComplete() {
          // Satisfied: the read that satisfied it; expired or forced: what is there now.
          const outcome = ready ?? (failure === null ? read() : null);
          if (outcome !== null) resolve(respond(outcome));
          else reject(failure!.err);
        },
      },
      first.partitions,
      maxWaitMs,
    );
  });
}
