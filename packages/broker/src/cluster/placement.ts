// Replica placement for new topics, as Kafka's AdminUtils/StripedReplicaPlacer places them: the
// first replica of partition p on broker (start + p) mod n, the others following it at a shift
// that grows every n partitions, so leaders and followers spread evenly. With racks, brokers are
// first ordered alternating between racks (Kafka's rack-alternated list), so consecutive
// replicas of a partition land in different racks whenever there are enough racks.

export interface PlacementBroker {
  readonly nodeId: number;
  readonly rack: string | null;
}

/** Brokers ordered rack by rack in turn: r1's first, r2's first, ..., r1's second, ... */
export function rackAlternated(brokers: readonly PlacementBroker[]): PlacementBroker[] {
  const byRack = new Map<string, PlacementBroker[]>();
  for (const b of [...brokers].sort((a, c) => a.nodeId - c.nodeId)) {
    const rack = b.rack ?? '';
    if (!byRack.has(rack)) byRack.set(rack, []);
    byRack.get(rack)!.push(b);
  }
  const racks = [...byRack.keys()].sort();
  const out: PlacementBroker[] = [];
  for (let i = 0; out.length < brokers.length; i++) {
    for (const rack of racks) {
      const b = byRack.get(rack)![i];
      if (b !== undefined) out.push(b);
    }
  }
  return out;
}

/**
 * Replica lists of `partitions` partitions with `replicationFactor` replicas each over `brokers`
 * (replicationFactor ≤ brokers). `start` picks the first broker and the first shift (Kafka draws
 * both at random; tests pass them).
 */
export function assignReplicas(
  brokers: readonly PlacementBroker[],
  partitions: number,
  replicationFactor: number,
  start = { index: Math.floor(Math.random() * 1_000_000), shift: Math.floor(Math.random() * 1_000_000) },
): number[][] {
  const n = brokers.length;
  if (replicationFactor < 1 || replicationFactor > n) throw new Error(`BUG: replication factor ${replicationFactor} with ${n} brokers`);
  const rackCount = new Set(brokers.map((b) => b.rack ?? '')).size;
  const ordered = rackCount > 1 ? rackAlternated(brokers) : [...brokers].sort((a, b) => a.nodeId - b.nodeId);
  const startIndex = start.index % n;
  let shift = n > 1 ? start.shift % (n - 1) : 0;
  const at = (first: number, s: number, j: number) => (first + 1 + ((s + j) % (n - 1))) % n;
  const out: number[][] = [];
  for (let p = 0; p < partitions; p++) {
    if (p > 0 && p % n === 0) shift++;
    const first = (startIndex + p) % n;
    const replicas = [ordered[first].nodeId];
    if (rackCount <= 1) {
      for (let j = 0; j < replicationFactor - 1; j++) replicas.push(ordered[at(first, shift, j)].nodeId);
    } else {
      // Kafka's rack-aware pass: walk the shifted positions, taking a broker only when its rack
      // has no replica yet (or every rack has one) and it has none itself.
      const racks = new Set([ordered[first].rack ?? '']);
      for (let k = 0; replicas.length < replicationFactor; k++) {
        const candidate = ordered[at(first, shift * rackCount, k)];
        const rack = candidate.rack ?? '';
        if ((racks.has(rack) && racks.size < rackCount) || replicas.includes(candidate.nodeId)) continue;
        replicas.push(candidate.nodeId);
        racks.add(rack);
      }
    }
    out.push(replicas);
  }
  return out;
}

/** One partition of an explicit replica assignment (CreateTopics' `assignments`). */
export interface ManualAssignment {
  readonly partitionIndex: number;
  readonly brokerIds: readonly number[];
}

/**
 * An explicit replica assignment checked as Kafka's controller checks it
 * (ReplicationControlManager.createTopic / validateManualPartitionAssignment): every replica
 * list non-empty, without repeats, of registered brokers only, all of one length, one per
 * partition from 0 without gaps. The replica lists by partition index, or the refusal's message
 * (INVALID_REPLICA_ASSIGNMENT).
 */
export function checkManualAssignment(assignments: readonly ManualAssignment[], registered: ReadonlySet<number>): number[][] | string {
  const byPartition = new Map<number, number[]>();
  let replicationFactor: number | null = null;
  for (const a of assignments) {
    if (byPartition.has(a.partitionIndex)) return `Found multiple manual partition assignments for partition ${a.partitionIndex}`;
    if (a.brokerIds.length === 0) return 'The manual partition assignment includes an empty replica list.';
    const seen = new Set<number>();
    for (const id of a.brokerIds) {
      if (seen.has(id)) return `The manual partition assignment includes the broker ${id} more than once.`;
      seen.add(id);
      if (!registered.has(id)) return `The manual partition assignment includes broker ${id}, but no such broker is registered.`;
    }
    if (replicationFactor !== null && a.brokerIds.length !== replicationFactor)
      return `The manual partition assignment includes a partition with ${a.brokerIds.length} replica(s), but this is not consistent with previous partitions, which have ${replicationFactor} replica(s).`;
    replicationFactor = a.brokerIds.length;
    byPartition.set(a.partitionIndex, [...a.brokerIds]);
  }
  const replicas: number[][] = [];
  for (let p = 0; p < byPartition.size; p++) {
    const r = byPartition.get(p);
    if (r === undefined) return 'partitions should be a consecutive 0-based integer sequence';
    replicas.push(r);
  }
  return replicas;
}
