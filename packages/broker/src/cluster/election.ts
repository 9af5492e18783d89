// The controller's decision for one partition when brokers come and go (Kafka's
// PartitionChangeBuilder, reduced to what membership changes need):
//
//  - An ISR member counts only in the broker epoch it was in sync in. A broker whose lease was
//    lost is gone; one that restarted has a new epoch and must catch up before it is back in the
//    ISR (replication does that), so both leave the ISR.
//  - The ISR never becomes empty: its last member stays, so it is known who has every committed
//    record (Kafka keeps the last ISR member the same way).
//  - A leader that is not live is replaced by the first live ISR member in replica order; the
//    leader epoch is bumped. With no live ISR member the partition has no leader (-1, epoch
//    bumped) until a last-ISR broker comes back: it alone has everything committed, so it is
//    elected even in a new broker epoch (its log survived the restart).
//  - Unclean election (`unclean.leader.election.enable=true` on the topic, or ElectLeaders with
//    election type UNCLEAN): when no ISR member can lead, the first live replica in replica order
//    leads, and the ISR becomes that replica alone (Kafka's PartitionChangeBuilder.electAnyLeader
//    and tryElection). Records the old ISR had and it lacks are lost; the others truncate to it.
//    Without it, out-of-sync replicas are never elected.
//  - Every change bumps the partition epoch.

import type { LiveBroker } from './cluster-view.ts';
import type { IsrMember, PartitionState, TopicRecord } from './keys.ts';

const NO_LEADER = -1;

/**
 * The next state of a partition, or null when nothing changes. `unclean`: the topic's
 * `unclean.leader.election.enable`, an out-of-sync live replica may lead when no ISR member can.
 */
export function electLeader(
  state: PartitionState,
  replicas: readonly number[],
  brokers: ReadonlyMap<number, LiveBroker>,
  unclean = false,
): PartitionState | null {
  const inSync = (m: IsrMember) => brokers.get(m.id)?.epoch === m.brokerEpoch;
  const byReplicaOrder = (members: IsrMember[]) => [...members].sort((a, b) => rank(replicas, a.id) - rank(replicas, b.id));
  const liveIsr = byReplicaOrder(state.isr.filter(inSync));
  const leaderMember = state.isr.find((m) => m.id === state.leader);
  const leaderLive = leaderMember !== undefined && inSync(leaderMember);

  let leader: number;
  let isr: IsrMember[];
  if (leaderLive) {
    leader = state.leader;
    isr = liveIsr;
  } else if (liveIsr.length > 0) {
    leader = liveIsr[0].id;
    isr = liveIsr;
  } else {
    // Nobody in sync is live. A last-ISR member that restarted has every committed record.
    const back = byReplicaOrder(state.isr.filter((m) => brokers.has(m.id)));
    // Else, when allowed, the first live replica in replica order: an unclean election.
    const uncleanLeader = unclean ? replicas.find((id) => brokers.has(id)) : undefined;
    if (back.length > 0) {
      leader = back[0].id;
      isr = [{ id: leader, brokerEpoch: brokers.get(leader)!.epoch }];
    } else if (uncleanLeader !== undefined) {
      leader = uncleanLeader;
      isr = [{ id: leader, brokerEpoch: brokers.get(leader)!.epoch }];
    } else {
      leader = NO_LEADER;
      isr = [...state.isr];
    }
  }
  const sameIsr = isr.length === state.isr.length && isr.every((m) => state.isr.some((o) => o.id === m.id && o.brokerEpoch === m.brokerEpoch));
  const leaderChanged = leader !== state.leader || (!leaderLive && leader !== NO_LEADER);
  if (!leaderChanged && sameIsr) return null;
  return {
    leader,
    leaderEpoch: leaderChanged ? state.leaderEpoch + 1 : state.leaderEpoch,
    isr,
    partitionEpoch: state.partitionEpoch + 1,
  };
}

/**
 * A topic's `unclean.leader.election.enable`: its override in the cluster (changed at runtime by
 * AlterConfigs / IncrementalAlterConfigs), else the broker's value of the key.
 */
export function uncleanElectionEnabled(topic: TopicRecord, brokerDefault: boolean): boolean {
  const override = topic.configs['unclean.leader.election.enable'];
  return typeof override === 'boolean' ? override : brokerDefault;
}

/**
 * Whether the change from `before` to `after` elected a leader that was not in the ISR (under any
 * broker epoch): an unclean election, which may lose committed records (Kafka's
 * UncleanLeaderElectionsPerSec counts these).
 */
export function isUncleanElection(before: PartitionState, after: PartitionState): boolean {
  return after.leader >= 0 && after.leader !== before.leader && !before.isr.some((m) => m.id === after.leader);
}

/**
 * Unclean election of one partition (ElectLeaders type UNCLEAN, Kafka's
 * ReplicationControlManager.electLeader): not needed while its leader is live in its broker
 * epoch; else the controller's rule with unclean election allowed (a live ISR member first, then
 * any live replica in replica order); not available when no replica is live.
 */
export function electUncleanLeader(
  state: PartitionState,
  replicas: readonly number[],
  brokers: ReadonlyMap<number, LiveBroker>,
): PartitionState | 'not needed' | 'not available' {
  const leaderMember = state.isr.find((m) => m.id === state.leader);
  if (leaderMember !== undefined && brokers.get(leaderMember.id)?.epoch === leaderMember.brokerEpoch) return 'not needed';
  const next = electLeader(state, replicas, brokers, true);
  if (next === null || next.leader < 0) return 'not available';
  return next;
}

function rank(replicas: readonly number[], id: number): number {
  const at = replicas.indexOf(id);
  return at < 0 ? replicas.length : at;
}

/**
 * Preferred-leader election (ElectLeaders type PREFERRED, Kafka's
 * PreferredReplicaPartitionLeaderElectionStrategy): the first replica leads if it is live and in
 * the ISR in its current broker epoch; a new leader epoch, the ISR unchanged.
 */
export function electPreferredLeader(
  state: PartitionState,
  replicas: readonly number[],
  brokers: ReadonlyMap<number, LiveBroker>,
): PartitionState | 'not needed' | 'not available' {
  const preferred = replicas[0];
  if (preferred === undefined) return 'not available';
  if (state.leader === preferred) return 'not needed';
  const member = state.isr.find((m) => m.id === preferred);
  if (member === undefined || brokers.get(preferred)?.epoch !== member.brokerEpoch) return 'not available';
  return { leader: preferred, leaderEpoch: state.leaderEpoch + 1, isr: state.isr, partitionEpoch: state.partitionEpoch + 1 };
}

/** One partition of the automatic preferred-leader rebalance, with its next state. */
export interface PreferredMove {
  readonly topic: string;
  readonly index: number;
  readonly next: PartitionState;
}

/**
 * `auto.leader.rebalance.enable` (Kafka's checkAndTriggerAutoLeaderRebalance): per preferred
 * replica (first of the replicas), the share of its partitions it does not lead; where that share
 * is above `imbalancePercentage`, its partitions move back to it when it is live and in sync.
 */
export function preferredRebalance(
  partitions: Iterable<{ topic: string; index: number; replicas: readonly number[]; state: PartitionState }>,
  brokers: ReadonlyMap<number, LiveBroker>,
  imbalancePercentage: number,
): PreferredMove[] {
  const byPreferred = new Map<number, Array<{ topic: string; index: number; replicas: readonly number[]; state: PartitionState }>>();
  for (const p of partitions) {
    const preferred = p.replicas[0];
    if (preferred === undefined) continue;
    if (!byPreferred.has(preferred)) byPreferred.set(preferred, []);
    byPreferred.get(preferred)!.push(p);
  }
  const moves: PreferredMove[] = [];
  for (const [preferred, own] of byPreferred) {
    const notLed = own.filter((p) => p.state.leader !== preferred);
    if (notLed.length === 0 || (notLed.length * 100) / own.length <= imbalancePercentage) continue;
    for (const p of notLed) {
      const next = electPreferredLeader(p.state, p.replicas, brokers);
      if (typeof next === 'object') moves.push({ topic: p.topic, index: p.index, next });
    }
  }
  return moves;
}
