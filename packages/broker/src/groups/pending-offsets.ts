// Offsets committed inside a transaction (TxnOffsetCommit), held per producer and group until
// the transaction ends: applied to the group's committed offsets when the COMMIT marker lands
// in the group's `__consumer_offsets` partition, dropped on ABORT (Kafka's
// GroupMetadata.pendingTransactionalOffsetCommits).
//
// It lives in groups/ (the offset manager owns one; groups/ may not import transactions/), and the
// transaction coordinator's marker writer reaches it through TransactionalOffsetSink.
// Who calls what — the offset manager owns one PendingTxnOffsets and:
//   1. TxnOffsetCommit: after the generation/member checks (KIP-447), appends the offset records
//      to the group's `__consumer_offsets` partition as a *transactional* batch (the request's
//      producerId/epoch, attribute 0x10) and, once appended, calls `stage(...)` with the offset
//      of that batch in the log. Nothing is visible to OffsetFetch yet.
//   2. OffsetFetch with requireStable (v7+): `isPending(group, topic, partition)` → answer that
//      partition UNSTABLE_OFFSET_COMMIT (retriable) instead of the committed offset.
//   3. A COMMIT/ABORT marker written to a `__consumer_offsets` partition (by the coordinator's
//      MarkerWriter): `complete(group, producerId, result, committedLogOffset)` for every group
//      `groupsOf(producerId)` in that partition; on COMMIT apply what it returns.
//   4. Loading `__consumer_offsets`: transactional offset batches are staged like (1) and the
//      control batches replayed like (3), so a restart between the two keeps them pending.
//   5. DeleteGroups / group expiry: `dropGroup(group)`; a marker arriving later finds nothing.
// The offset manager exposes (3) to the marker writer as a TransactionalOffsetSink.
//
// Ordering: a plain OffsetCommit may land while a transactional one is pending. On COMMIT the
// transactional offset wins only if its record is newer in the log than the committed one
// (Kafka's CommitRecordMetadataAndOffset.olderThan), so the last write in log order wins.
//
// Concurrency: event loop only. Memory: bounded by the partitions of open transactions.

/** A topic partition (the same shape as the transaction coordinator's). */
export interface TopicPartition {
  readonly topic: string;
  readonly partition: number;
}

export interface PendingOffset extends TopicPartition {
  readonly offset: number;
  readonly leaderEpoch: number;
  readonly metadata: string;
  readonly commitTimestamp: number;
  /** Offset in `__consumer_offsets` of the batch holding this commit: orders it against plain commits. */
  readonly logOffset: number;
}

export type TxnResult = 'COMMIT' | 'ABORT';

/**
 * What the broker's MarkerWriter calls after appending a marker to a `__consumer_offsets`
 * partition (Kafka's GroupCoordinator.onTransactionCompleted). The offset manager implements it:
 * for each group of that partition in `pending.groupsOf(producerId)`, `pending.complete(...)`,
 * and on COMMIT apply the returned offsets (and write nothing more: the marker is the record).
 */
export interface TransactionalOffsetSink {
  onTransactionCompleted(offsetsPartition: number, producerId: number, result: TxnResult): void;
}

const tpKey = (topic: string, partition: number) => `${topic}\u0000${partition}`;

export class PendingTxnOffsets {
  /** group → producer id → partition → the newest staged offset. */
  private readonly byGroup = new Map<string, Map<number, Map<string, PendingOffset>>>();

  /** Holds a transactional commit until its transaction ends; a later one for the same partition replaces it. */
  stage(groupId: string, producerId: number, offset: PendingOffset): void {
    if (producerId < 0) throw new Error(`BUG: staging a transactional offset without a producer id (${producerId})`);
    let producers = this.byGroup.get(groupId);
    if (producers === undefined) this.byGroup.set(groupId, (producers = new Map()));
    let partitions = producers.get(producerId);
    if (partitions === undefined) producers.set(producerId, (partitions = new Map()));
    const key = tpKey(offset.topic, offset.partition);
    const previous = partitions.get(key);
    if (previous === undefined || previous.logOffset <= offset.logOffset) partitions.set(key, offset);
  }

  /** Some transaction holds an unapplied commit for this partition (OffsetFetch requireStable → UNSTABLE_OFFSET_COMMIT). */
  isPending(groupId: string, topic: string, partition: number): boolean {
    const producers = this.byGroup.get(groupId);
    if (producers === undefined) return false;
    const key = tpKey(topic, partition);
    for (const partitions of producers.values()) if (partitions.has(key)) return true;
    return false;
  }

  /** Some transaction holds commits for this group. */
  hasPending(groupId: string): boolean {
    return (this.byGroup.get(groupId)?.size ?? 0) > 0;
  }

  /** Groups holding commits of this producer. */
  groupsOf(producerId: number): string[] {
    const groups: string[] = [];
    for (const [group, producers] of this.byGroup) if (producers.has(producerId)) groups.push(group);
    return groups;
  }

  /**
   * Ends the producer's transaction for one group. On COMMIT returns the offsets to apply: those
   * whose record is newer in the log than the group's committed one for the partition
   * (`committedLogOffset` answers undefined when none is committed, or when the store does not
   * know — then the transactional one is applied). On ABORT returns nothing. Either way the
   * producer's staged offsets for the group are gone afterwards.
   */
  complete(
    groupId: string,
    producerId: number,
    result: TxnResult,
    committedLogOffset: (topic: string, partition: number) => number | undefined = () => undefined,
  ): PendingOffset[] {
    const producers = this.byGroup.get(groupId);
    const partitions = producers?.get(producerId);
    if (producers === undefined || partitions === undefined) return [];
    producers.delete(producerId);
    if (producers.size === 0) this.byGroup.delete(groupId);
    if (result === 'ABORT') return [];
    return [...partitions.values()].filter((p) => {
      const current = committedLogOffset(p.topic, p.partition);
      return current === undefined || current < p.logOffset;
    });
  }

  /** The group was deleted: whatever its transactions staged goes with it. */
  dropGroup(groupId: string): void {
    this.byGroup.delete(groupId);
  }

  /** Staged offsets in total (for metrics and tests). */
  get size(): number {
    let n = 0;
    for (const producers of this.byGroup.values()) for (const partitions of producers.values()) n += partitions.size;
    return n;
  }
}
