// The leader's side of Kafka's ISR protocol, for the partitions this broker leads: followers'
// log ends (learnt from their Fetch offsets), the high watermark as the minimum log end over the
// ISR, and ISR changes written to etcd by the leader with compare-and-swap (the role Kafka's
// AlterPartition plays): a follower whose log end reached the high watermark joins the ISR; one
// that has not caught up with the leader's log end for `replica.lag.time.max.ms` leaves it.
//
// Every ISR write compares the partition key's mod revision (the state the decision was made
// on, in which this broker leads) and this broker's registration create revision (its broker
// epoch: a fenced broker that registered again, or lost its lease, cannot write).

import type { Logger } from '../logger.ts';
import type { Partition } from '../partition.ts';
import type { ClusterView } from './cluster-view.ts';
import type { KvStore } from './etcd/kv-store.ts';
import { encode, type IsrMember, type PartitionState } from './keys.ts';
import type { ReadReplicaCandidate } from './read-replica.ts';

/** One follower's lag behind this leader (metrics/cluster-probe.ts). */
export interface ReplicaLag {
  readonly topic: string;
  readonly partition: number;
  readonly replica: number;
  /** Offsets the follower lacks (the leader's log end minus its log end). */
  readonly messages: number;
  /** Milliseconds since it last had everything the leader had. */
  readonly ms: number;
}

interface FollowerState {
  /** The follower's log end: the offset of its last fetch. */
  logEnd: number;
  /** When the follower last had everything the leader had (Kafka's lastCaughtUpTimeMs). */
  caughtUpAt: number;
  /** The leader's log end when the follower's previous fetch came, and when it came. */
  lastFetchLeaderLogEnd: number;
  lastFetchAt: number;
}

interface LedPartition {
  readonly epoch: number;
  /** When this leadership began (the lag clock of a follower not heard from since). */
  readonly since: number;
  readonly followers: Map<number, FollowerState>;
  /** An ISR write in flight: no other is started until it is answered. */
  writing: boolean;
  /**
   * Followers this leader is adding to the ISR whose addition the view does not show yet (the
   * write in flight, or written and not yet seen). Kafka's "maximal ISR": the high watermark
   * counts them from the moment the expansion is proposed, because the controller may act on the
   * new ISR (elect one of them: a reassignment's completion, a failover) before this leader sees
   * it; a record committed meanwhile without them would be missing from such a new leader.
   * Follower id → the partition key's mod revision the expansion was decided on: once the view
   * has a later state of the partition (this write, or whatever beat it to the CAS), the view's
   * ISR is the truth again and the entry goes.
   */
  readonly pendingAdds: Map<number, number>;
}

export class LeaderReplication {
  private readonly view: ClusterView;
  private readonly store: KvStore;
  private readonly nodeId: number;
  private readonly brokerEpoch: () => number;
  private readonly lagMs: number;
  private readonly logger: Logger;
  private readonly led = new Map<Partition, LedPartition>();
  private timer: NodeJS.Timeout | null = null;
  /** ISR changes this leader wrote (metrics). */
  isrShrinks = 0;
  isrExpands = 0;

  constructor(view: ClusterView, store: KvStore, nodeId: number, brokerEpoch: () => number, lagMs: number, logger: Logger) {
    this.view = view;
    this.store = store;
    this.nodeId = nodeId;
    this.brokerEpoch = brokerEpoch;
    this.lagMs = lagMs;
    this.logger = logger;
  }

  start(): void {
    this.timer = setInterval(() => this.shrinkLaggingIsr(Date.now()), Math.max(100, Math.floor(this.lagMs / 2)));
    this.timer.unref();
  }

  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }

  /**
   * This broker leads `partition` in `epoch` (from the view): a new leadership starts with every
   * follower's log end unknown and its catch-up clock at now, as Kafka's does.
   */
  becameLeader(partition: Partition, epoch: number, now = Date.now()): void {
    const current = this.led.get(partition);
    if (current !== undefined && current.epoch === epoch) {
      // Same leadership, maybe a smaller ISR (the controller removed a dead broker): as Kafka
      // does after an ISR change, the high watermark may move now.
      this.advanceHighWatermark(partition);
      return;
    }
    partition.becomeLeader(epoch);
    const followers = new Map<number, FollowerState>();
    const state = this.view.partition(partition.topic.name, partition.index)?.record;
    for (const m of state?.isr ?? []) {
      if (m.id !== this.nodeId) followers.set(m.id, { logEnd: -1, caughtUpAt: now, lastFetchLeaderLogEnd: Number.POSITIVE_INFINITY, lastFetchAt: now });
    }
    this.led.set(partition, { epoch, since: now, followers, writing: false, pendingAdds: new Map() });
    this.advanceHighWatermark(partition);
  }

  /** This broker no longer leads `partition`. */
  resigned(partition: Partition): void {
    this.led.delete(partition);
  }

  /** A follower fetched `partition` from `fetchOffset`: its log end is that. */
  onFollowerFetch(partition: Partition, replicaId: number, fetchOffset: number, now = Date.now()): void {
    const led = this.led.get(partition);
    if (led === undefined) return;
    let follower = led.followers.get(replicaId);
    if (follower === undefined) {
      follower = { logEnd: -1, caughtUpAt: 0, lastFetchLeaderLogEnd: Number.POSITIVE_INFINITY, lastFetchAt: 0 };
      led.followers.set(replicaId, follower);
    }
    follower.logEnd = fetchOffset;
    // Kafka's rule (Replica.updateFetchState): caught up now when the fetch asks for the log end;
    // else caught up as of its previous fetch when it asks for what the log end was then. Under
    // steady produce load a follower's fetch is never exactly at the log end (more arrived while
    // it was in flight), and the first rule alone would drop a follower that keeps up.
    const leaderLogEnd = partition.logEndOffset;
    if (fetchOffset >= leaderLogEnd) follower.caughtUpAt = Math.max(follower.caughtUpAt, now);
    else if (fetchOffset >= follower.lastFetchLeaderLogEnd) follower.caughtUpAt = Math.max(follower.caughtUpAt, follower.lastFetchAt);
    follower.lastFetchLeaderLogEnd = leaderLogEnd;
    follower.lastFetchAt = now;
    this.advanceHighWatermark(partition);
    this.maybeExpandIsr(partition, led, replicaId, follower);
  }

  /** After the leader appended: with no follower in the ISR, that alone commits. */
  onLeaderAppend(partition: Partition): void {
    this.advanceHighWatermark(partition);
  }

  /**
   * KIP-392: the followers a consumer may be sent to for `partition` at `fetchOffset` — in the
   * ISR in their current broker epoch, with a log end (their last fetch) at or past the offset.
   * Empty when this broker does not lead it.
   */
  readReplicaCandidates(partition: Partition, fetchOffset: number): ReadReplicaCandidate[] {
    const led = this.led.get(partition);
    const state = this.view.partition(partition.topic.name, partition.index)?.record;
    if (led === undefined || state === undefined) return [];
    const out: ReadReplicaCandidate[] = [];
    for (const m of state.isr) {
      if (m.id === this.nodeId) continue;
      const broker = this.view.brokers.get(m.id);
      const logEnd = led.followers.get(m.id)?.logEnd ?? -1;
      if (broker === undefined || broker.epoch !== m.brokerEpoch || logEnd < fetchOffset) continue;
      out.push({ id: m.id, rack: broker.rack, logEnd });
    }
    return out;
  }

  /**
   * Every assigned follower of every partition led here, how far it trails (metrics): offsets
   * between the leader's log end and the follower's (its last fetch offset; the whole log for
   * one not heard from in this leadership), and milliseconds since it last had all the leader had.
   */
  replicaLag(now = Date.now()): ReplicaLag[] {
    const out: ReplicaLag[] = [];
    for (const [partition, led] of this.led) {
      const replicas = this.view.topics.get(partition.topic.name)?.record.replicas[partition.index] ?? [];
      const logEnd = partition.logEndOffset;
      for (const id of replicas) {
        if (id === this.nodeId) continue;
        const follower = led.followers.get(id);
        const followerEnd = follower === undefined || follower.logEnd < 0 ? partition.logStartOffset : follower.logEnd;
        const caughtUpAt = follower === undefined ? led.since : Math.max(follower.caughtUpAt, led.since);
        out.push({
          topic: partition.topic.name,
          partition: partition.index,
          replica: id,
          messages: Math.max(0, logEnd - followerEnd),
          ms: Math.max(0, now - caughtUpAt),
        });
      }
    }
    return out;
  }

  /** The ISR of `partition` as the view has it (node ids). */
  isr(partition: Partition): number[] {
    return this.view.partition(partition.topic.name, partition.index)?.record.isr.map((m) => m.id) ?? [];
  }

  /**
   * High watermark = the smallest log end over the maximal ISR: the ISR as the view has it plus
   * the followers an expansion in progress adds (the leader's own log end included).
   */
  advanceHighWatermark(partition: Partition): void {
    const led = this.led.get(partition);
    const current = this.view.partition(partition.topic.name, partition.index);
    if (led === undefined || current === undefined) return;
    for (const [id, decidedOn] of led.pendingAdds) if (current.modRevision > decidedOn) led.pendingAdds.delete(id);
    let hw = partition.logEndOffset;
    for (const id of new Set([...current.record.isr.map((m) => m.id), ...led.pendingAdds.keys()])) {
      if (id === this.nodeId) continue;
      const logEnd = led.followers.get(id)?.logEnd ?? -1;
      hw = Math.min(hw, logEnd);
    }
    if (hw > partition.highWatermark) partition.advanceHighWatermark(hw);
  }

  private maybeExpandIsr(partition: Partition, led: LedPartition, replicaId: number, follower: FollowerState): void {
    const current = this.view.partition(partition.topic.name, partition.index);
    const replicas = this.view.topics.get(partition.topic.name)?.record.replicas[partition.index] ?? [];
    if (current === undefined || led.writing || !replicas.includes(replicaId)) return;
    const broker = this.view.brokers.get(replicaId);
    if (broker === undefined || current.record.leader !== this.nodeId) return;
    const member = current.record.isr.find((m) => m.id === replicaId);
    if (member !== undefined && member.brokerEpoch === broker.epoch) return;
    if (follower.logEnd < partition.highWatermark) return;
    const isr = [...current.record.isr.filter((m) => m.id !== replicaId), { id: replicaId, brokerEpoch: broker.epoch }];
    // From now on the high watermark waits for this follower too (see pendingAdds).
    led.pendingAdds.set(replicaId, current.modRevision);
    this.writeIsr(partition, led, current.modRevision, current.record, isr, 'expand');
  }

  /** The lag timer's pass: ISR followers not caught up for replica.lag.time.max.ms leave. */
  shrinkLaggingIsr(now: number): void {
    for (const [partition, led] of this.led) {
      const current = this.view.partition(partition.topic.name, partition.index);
      if (current === undefined || led.writing || current.record.leader !== this.nodeId) continue;
      const lagging = current.record.isr.filter((m) => m.id !== this.nodeId && now - (led.followers.get(m.id)?.caughtUpAt ?? 0) > this.lagMs);
      if (lagging.length === 0) continue;
      const isr = current.record.isr.filter((m) => !lagging.includes(m));
      this.writeIsr(partition, led, current.modRevision, current.record, isr, 'shrink');
    }
  }

  private writeIsr(partition: Partition, led: LedPartition, modRevision: number, state: PartitionState, isr: IsrMember[], change: 'expand' | 'shrink'): void {
    const keys = this.view.keys;
    const key = keys.partition(partition.topic.name, partition.index);
    const next: PartitionState = { ...state, isr, partitionEpoch: state.partitionEpoch + 1 };
    led.writing = true;
    this.store
      .txn(
        [
          { key, target: 'modRevision', result: 'equal', value: modRevision },
          { key: keys.broker(this.nodeId), target: 'createRevision', result: 'equal', value: this.brokerEpoch() },
        ],
        [{ put: { key, value: encode(next) } }],
      )
      .then(async (written) => {
        if (!written.succeeded) return;
        if (change === 'expand') this.isrExpands++;
        else this.isrShrinks++;
        this.logger.info(
          { topic: partition.topic.name, partition: partition.index, isr: isr.map((m) => m.id), change },
          change === 'expand' ? 'ISR expanded' : 'ISR shrunk',
        );
        await this.view.waitForRevision(written.revision);
        // A smaller ISR may let the high watermark move.
        this.advanceHighWatermark(partition);
      })
      .catch((err: unknown) => this.logger.warn({ topic: partition.topic.name, partition: partition.index, err }, 'writing an ISR change failed'))
      .finally(() => {
        led.writing = false;
      });
  }
}
