// KIP-392 follower fetching: which replica a consumer should read a partition from. The leader
// decides (Kafka's ReplicaManager.findPreferredReadReplica with its RackAwareReplicaSelector) and
// answers a consumer's Fetch (v11+) with `preferredReadReplica`; the client then fetches from that
// broker, which serves it up to the high watermark it learnt from the leader.
//
// Candidates are the in-sync followers (live in the broker epoch they joined the ISR in) whose
// log reaches the fetch offset, plus the leader. Kafka's rack-aware rule: a client without a rack,
// or with a rack no candidate is in, reads from the leader; if the leader is in the client's rack
// it stays there; otherwise the candidate of that rack with the largest log end (ties: lowest id).

/** A replica the selector may choose: its broker, rack and log end as the leader knows it. */
export interface ReadReplicaCandidate {
  readonly id: number;
  readonly rack: string | null;
  readonly logEnd: number;
}

/** Kafka's class names for `replica.selector.class`. */
export const RACK_AWARE_REPLICA_SELECTOR = 'org.apache.kafka.common.replica.RackAwareReplicaSelector';

/**
 * The replica a client in `clientRack` should read from: the leader's id, or a follower's.
 * `followers` are the eligible ones (in sync, holding the fetch offset).
 */
export function selectRackAwareReplica(clientRack: string, leader: ReadReplicaCandidate, followers: readonly ReadReplicaCandidate[]): number {
  if (clientRack === '' || leader.rack === clientRack) return leader.id;
  let best: ReadReplicaCandidate | null = null;
  for (const f of followers) {
    if (f.rack !== clientRack) continue;
    if (best === null || f.logEnd > best.logEnd || (f.logEnd === best.logEnd && f.id < best.id)) best = f;
  }
  return best?.id ?? leader.id;
}
