// The broker's MarkerWriter: COMMIT/ABORT markers appended straight to the local partitions of a
// finished transaction (on one node every partition is local, so there is no WriteTxnMarkers
// round trip). Each marker goes through Partition.appendTxnMarker — the native log builds the
// control batch, ends the producer's transaction in that partition, indexes an abort for
// read_committed fetches and lets the last stable offset move. WriteTxnMarkers (the handler)
// uses the same path.
//
// A marker in a `__consumer_offsets` partition also ends the producer's pending TxnOffsetCommit
// offsets there (TransactionalOffsetSink: applied on COMMIT, dropped on ABORT), right after the
// append, as Kafka's GroupCoordinator.onTransactionCompleted.
//
// Results per partition, resolved once the markers are as durable as the ack policy requires
// (`sluice.flush.on.ack.enable`: fsync'd; in cluster mode also replicated to the ISR, as Kafka
// appends markers with acks=-1 — a marker only the old leader had would leave the transaction open
// on the new one). UNKNOWN_TOPIC_OR_PARTITION for a partition that does not exist (deleted: the
// coordinator counts it done; in cluster mode one the cluster has but this broker does not host
// is NOT_LEADER_OR_FOLLOWER), KAFKA_STORAGE_ERROR for an offline one, and the native refusals
// (INVALID_PRODUCER_EPOCH for an older epoch, …) as their codes.
//
// Cluster mode: a marker goes only into the leader's log (followers copy it by replication).
// `write` (the coordinator's) sends the markers of partitions another broker leads to that
// broker (RemoteMarkerSender: WriteTxnMarkers); `appendOne` (also WriteTxnMarkers' handler)
// answers NOT_LEADER_OR_FOLLOWER for them.
//
// Concurrency: event loop only; each append is synchronous (no marker interleaves with a
// produce's verify-then-append step).

import { ErrorCode } from '@sluice/protocol';
import type { BrokerConfig } from '../config.ts';
import type { TransactionalOffsetSink } from '../groups/pending-offsets.ts';
import { OFFSETS_TOPIC } from '../groups/partitioning.ts';
import type { Logger } from '../logger.ts';
import { flushEachForAck, type Partition } from '../partition.ts';
import { leavesStorageUnknown, partitionFailure } from '../storage-errors.ts';
import type { TopicRegistry } from '../topics.ts';
import type { MarkerRequest, MarkerWriteResult, MarkerWriter, TopicPartition } from './marker-writer.ts';
import type { BrokerEndpoint, RemoteMarkerSender } from './remote-markers.ts';

export interface MarkerWriterHost {
  readonly config: BrokerConfig;
  readonly topics: TopicRegistry;
  readonly logger: Logger;
  /** The group coordinator, once loaded: resolves pending transactional offsets. */
  readonly offsetSink: () => TransactionalOffsetSink | null;
  /** Called after every marker written (metrics). */
  readonly onMarker?: (partition: Partition) => void;
  /**
   * Cluster mode (null or absent on a single node): whether this broker leads a partition — a
   * marker goes only into the leader's log, never into a follower's copy, which must mirror the
   * leader byte for byte — and what replication is told after a marker lands there (the high
   * watermark moves by the ISR's log ends).
   */
  readonly replication?: () => MarkerReplication | null;
}

export interface MarkerReplication {
  leads(topic: string, index: number): boolean;
  onLeaderAppend(partition: Partition): void;
  /** Resolves NONE once the partition's high watermark reached `offset`, else the error. */
  replicated(partition: Partition, offset: number): Promise<number>;
  /** Whether the cluster has the partition (a deleted one needs no marker). */
  exists(topic: string, index: number): boolean;
  /** The current leader's inter-broker endpoint, or null when the partition has none. */
  leaderOf(topic: string, index: number): BrokerEndpoint | null;
  /** Sends markers to the leaders of partitions led elsewhere. */
  readonly remote: RemoteMarkerSender;
}

export interface MarkerAppend {
  readonly producerId: number;
  readonly producerEpoch: number;
  readonly coordinatorEpoch: number;
  readonly result: 'COMMIT' | 'ABORT';
}

export class PartitionMarkerWriter implements MarkerWriter {
  private readonly host: MarkerWriterHost;

  constructor(host: MarkerWriterHost) {
    this.host = host;
  }

  async write(request: MarkerRequest): Promise<readonly MarkerWriteResult[]> {
    const now = Date.now();
    const written: Partition[] = [];
    const replication = this.host.replication?.() ?? null;
    const byLeader = new Map<number, { endpoint: BrokerEndpoint; partitions: TopicPartition[] }>();
    const results: MarkerWriteResult[] = [];
    for (const tp of request.partitions) {
      const partition = this.host.topics.get(tp.topic)?.partitions[tp.partition];
      // Cluster mode: a partition led by another broker gets its marker from that broker.
      if (replication !== null && partition?.isReplicated !== false && !replication.leads(tp.topic, tp.partition)) {
        const leader = replication.leaderOf(tp.topic, tp.partition);
        if (!replication.exists(tp.topic, tp.partition)) results.push({ ...tp, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION });
        else if (leader === null) results.push({ ...tp, errorCode: ErrorCode.NOT_LEADER_OR_FOLLOWER });
        else {
          const slot = byLeader.get(leader.nodeId) ?? { endpoint: leader, partitions: [] };
          slot.partitions.push(tp);
          byLeader.set(leader.nodeId, slot);
        }
        continue;
      }
      const outcome = this.appendOne(tp, request, now);
      if (outcome.partition !== null) written.push(outcome.partition);
      results.push({ topic: tp.topic, partition: tp.partition, errorCode: outcome.errorCode });
    }
    const local = this.afterDurable(results, written);
    if (replication === null || byLeader.size === 0) return local;
    const [here, there] = await Promise.all([local, replication.remote.send(request, byLeader)]);
    return [...here, ...there];
  }

  /**
   * One marker into one local partition, synchronously. Returns the partition when it was
   * written (to be flushed per the ack policy).
   */
  appendOne(tp: TopicPartition, marker: MarkerAppend, nowMs: number): { errorCode: number; partition: Partition | null } {
    const partition = this.host.topics.get(tp.topic)?.partitions[tp.partition];
    if (partition === undefined) {
      // Kafka's getPartitionOrError: a partition the cluster has but this broker does not host
      // (moved away by a reassignment, its copy deleted) is NOT_LEADER_OR_FOLLOWER, which the
      // coordinator retries at the current leader; UNKNOWN_TOPIC_OR_PARTITION — which the
      // coordinator counts as done, the partition deleted — only when the cluster does not know
      // it. (Answering UNKNOWN for a moved partition lost ABORT markers during reassignments: the
      // transaction stayed open on the real leader, and the producer's next transaction joined
      // and committed it. test/cluster-faults/README.md.)
      const exists = this.host.replication?.()?.exists(tp.topic, tp.partition) ?? false;
      return { errorCode: exists ? ErrorCode.NOT_LEADER_OR_FOLLOWER : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, partition: null };
    }
    if (partition.offline) return { errorCode: ErrorCode.KAFKA_STORAGE_ERROR, partition: null };
    // Internal topics stay per broker in cluster mode (cluster/README.md), so they are always local.
    const clustered = this.host.replication?.() ?? null;
    // Cluster topics (`__consumer_offsets` included) take markers on their leader only;
    // `__transaction_state` is still each broker's own.
    const replication = clustered !== null && (!partition.topic.isInternal || partition.isReplicated) ? clustered : null;
    if (replication !== null && !replication.leads(tp.topic, tp.partition)) return { errorCode: ErrorCode.NOT_LEADER_OR_FOLLOWER, partition: null };
    try {
      partition.appendTxnMarker(marker.producerId, marker.producerEpoch, marker.coordinatorEpoch, marker.result === 'COMMIT', nowMs);
      if (replication !== null && partition.isReplicated) replication.onLeaderAppend(partition);
    } catch (err) {
      const failure = partitionFailure(err);
      if (failure.unexpected) this.host.logger.error({ topic: tp.topic, partition: tp.partition, err }, 'transaction marker append failed unexpectedly');
      if (leavesStorageUnknown(err)) partition.markOffline(err);
      return { errorCode: failure.errorCode, partition: null };
    }
    if (tp.topic === OFFSETS_TOPIC) this.host.offsetSink()?.onTransactionCompleted(tp.partition, marker.producerId, marker.result);
    this.host.onMarker?.(partition);
    return { errorCode: ErrorCode.NONE, partition };
  }

  /**
   * The results, with partitions whose fsync failed (sluice.flush.on.ack.enable) turned into
   * KAFKA_STORAGE_ERROR, and in cluster mode those the in-sync replicas did not take in time into
   * the replication error (REQUEST_TIMED_OUT, …: retried). Called right after the appends, so
   * each partition's log end is the end of its marker.
   */
  async afterDurable(results: MarkerWriteResult[], written: readonly Partition[]): Promise<MarkerWriteResult[]> {
    if (written.length === 0) return results;
    const partitions = [...new Set(written)];
    const failed = new Map<Partition, number>();
    const replication = this.host.replication?.() ?? null;
    const replicated =
      replication === null
        ? []
        : partitions
            .filter((p) => p.isReplicated)
            .map(async (p) => {
              const errorCode = await replication.replicated(p, p.logEndOffset);
              if (errorCode !== ErrorCode.NONE) failed.set(p, errorCode);
            });
    if (this.host.config.bool('sluice.flush.on.ack.enable')) {
      for (const p of await flushEachForAck(partitions)) failed.set(p, ErrorCode.KAFKA_STORAGE_ERROR);
    }
    await Promise.all(replicated);
    if (failed.size === 0) return results;
    return results.map((r) => {
      const partition = this.host.topics.get(r.topic)?.partitions[r.partition];
      const errorCode = partition === undefined ? undefined : failed.get(partition);
      return errorCode !== undefined && r.errorCode === ErrorCode.NONE ? { ...r, errorCode } : r;
    });
  }
}
