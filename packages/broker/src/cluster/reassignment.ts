// Partition reassignment (Kafka's KIP-455, as its ReplicationControlManager runs it), in two
// pure steps:
//
//  - Start (AlterPartitionReassignments, any broker): the partition's replicas become the full
//    set, target first then the rest of the original replicas, and a reassignment record keeps
//    target and original (`<prefix>/reassignments/<topic>/<index>`). The added replicas are
//    replicas now: their brokers open the log, fetch from the leader and join the ISR once caught
//    up, as any follower. A new target for a partition already moving keeps the first original;
//    a cancellation is a new target equal to the original.
//  - Completion (the controller, on every view change): once every target replica is in the ISR
//    (in its live broker epoch), replicas = target, the ISR keeps only target replicas, and a
//    leader that is not a target replica hands over to the first in-sync target replica in a new
//    leader epoch; the reassignment record goes, all in one transaction.

import type { LiveBroker } from './cluster-view.ts';
import type { PartitionState, ReassignmentRecord } from './keys.ts';

/** Target first, then the original replicas it does not name (Kafka's full replica set). */
export function fullReplicaSet(record: ReassignmentRecord): number[] {
  return [...new Set([...record.target, ...record.original])];
}

/**
 * The reassignment record for a request on one partition: `target` null cancels (back to the
 * original replicas). `current` is the partition's replica list, `existing` the reassignment in
 * progress, if any. Null when nothing needs to change (the target is what the partition already
 * has and nothing is moving).
 */
export function startReassignment(
  current: readonly number[],
  existing: ReassignmentRecord | undefined,
  target: readonly number[] | null,
): ReassignmentRecord | 'none in progress' | null {
  if (target === null) return existing === undefined ? 'none in progress' : { target: existing.original, original: existing.original };
  const original = existing?.original ?? current;
  if (existing === undefined && sameList(target, current)) return null;
  return { target: [...target], original: [...original] };
}

/** The partition's state once its reassignment completes, or null while a target replica is not in sync. */
export function completeReassignment(state: PartitionState, record: ReassignmentRecord, brokers: ReadonlyMap<number, LiveBroker>): PartitionState | null {
  const inSync = (id: number) => state.isr.some((m) => m.id === id && brokers.get(id)?.epoch === m.brokerEpoch);
  if (!record.target.every(inSync)) return null;
  const isr = state.isr.filter((m) => record.target.includes(m.id));
  const leaderStays = record.target.includes(state.leader) && inSync(state.leader);
  const leader = leaderStays ? state.leader : record.target.find(inSync)!;
  return {
    leader,
    leaderEpoch: leaderStays ? state.leaderEpoch : state.leaderEpoch + 1,
    isr,
    partitionEpoch: state.partitionEpoch + 1,
  };
}

function sameList(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
