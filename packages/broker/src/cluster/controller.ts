// The controller: one broker of the cluster, elected through etcd, decides leadership.
//
// Election: `<prefix>/controller` created under the candidate's broker lease by a transaction
// that requires the key absent; its create revision is the controller epoch. When the key goes
// (the controller's lease expired or was revoked) every live broker campaigns again and etcd lets
// exactly one win. Each controller write compares the controller key's create revision with its
// own epoch, so a deposed controller that has not noticed yet can never win a write.
//
// Its job: keep every partition's leader and ISR consistent with the live brokers
// (election.ts), on every change of the view and once when it takes office — a topic whose
// `unclean.leader.election.enable` is true (its override, else the broker's value) may get an
// out-of-sync live replica as leader when no ISR member is live, and since a config change is a
// change of the view, setting it on a leaderless partition elects at once; complete
// reassignments whose target is in sync (reassignment.ts); and with `auto.leader.rebalance.enable`
// move leadership back to preferred replicas every `leader.imbalance.check.interval.seconds`
// (election.ts preferredRebalance). Writes are CAS on the partition key's mod revision; a lost
// race is simply redone from the next view.

import type { Logger } from '../logger.ts';
import type { ClusterView } from './cluster-view.ts';
import { electLeader, isUncleanElection, preferredRebalance, uncleanElectionEnabled } from './election.ts';
import type { Compare, KvStore } from './etcd/kv-store.ts';
import { encode, type PartitionState } from './keys.ts';
import { completeReassignment } from './reassignment.ts';

export class Controller {
  private readonly store: KvStore;
  private readonly view: ClusterView;
  private readonly nodeId: number;
  private readonly lease: () => string | null;
  private readonly logger: Logger;
  /** The controller epoch while this broker is (or believes it is) the controller. */
  private epoch: number | null = null;
  private campaigning = false;
  private reconciling: Promise<void> | null = null;
  private again = false;
  private unsubscribe: (() => void) | null = null;
  private stopped = false;
  private readonly rebalance: { readonly intervalMs: number; readonly imbalancePercentage: number } | null;
  private rebalanceTimer: NodeJS.Timeout | null = null;
  /** The broker's `unclean.leader.election.enable`: topics without an override follow it. */
  private readonly uncleanDefault: boolean;
  /** Leader elections written (tests and metrics). */
  elections = 0;
  /** Of those, the unclean ones: a leader from outside the ISR (tests and metrics). */
  uncleanElections = 0;

  constructor(
    store: KvStore,
    view: ClusterView,
    nodeId: number,
    lease: () => string | null,
    logger: Logger,
    rebalance: { readonly intervalMs: number; readonly imbalancePercentage: number } | null = null,
    uncleanDefault = false,
  ) {
    this.store = store;
    this.view = view;
    this.nodeId = nodeId;
    this.lease = lease;
    this.logger = logger;
    this.rebalance = rebalance;
    this.uncleanDefault = uncleanDefault;
  }

  start(): void {
    this.unsubscribe = this.view.onChange(() => this.onViewChange());
    this.onViewChange();
    if (this.rebalance !== null) {
      this.rebalanceTimer = setInterval(() => {
        if (this.isActive) void this.rebalanceLeaders().catch((err: unknown) => this.logger.warn({ err }, 'leader rebalance failed'));
      }, this.rebalance.intervalMs);
      this.rebalanceTimer.unref();
    }
  }

  stop(): void {
    this.stopped = true;
    this.unsubscribe?.();
    if (this.rebalanceTimer !== null) clearInterval(this.rebalanceTimer);
  }

  /** One pass of the automatic preferred-leader rebalance (on its timer while this broker is the controller). */
  async rebalanceLeaders(): Promise<number> {
    const epoch = this.epoch;
    if (epoch === null || this.rebalance === null) return 0;
    const fence: Compare = { key: this.view.keys.controller, target: 'createRevision', result: 'equal', value: epoch };
    const partitions = [];
    for (const [topic, { record }] of this.view.topics) {
      for (let index = 0; index < record.replicas.length; index++) {
        const state = this.view.partition(topic, index);
        if (state !== undefined) partitions.push({ topic, index, replicas: record.replicas[index]!, state: state.record, modRevision: state.modRevision });
      }
    }
    const revisions = new Map(partitions.map((p) => [`${p.topic}/${p.index}`, p.modRevision]));
    let moved = 0;
    for (const { topic, index, next } of preferredRebalance(partitions, this.view.brokers, this.rebalance.imbalancePercentage)) {
      const key = this.view.keys.partition(topic, index);
      const written = await this.store.txn(
        [fence, { key, target: 'modRevision', result: 'equal', value: revisions.get(`${topic}/${index}`)! }],
        [{ put: { key, value: encode(next) } }],
      );
      if (!written.succeeded) continue;
      moved++;
      this.elections++;
      this.logger.info({ topic, partition: index, leader: next.leader, leaderEpoch: next.leaderEpoch }, 'leadership moved back to the preferred replica');
    }
    return moved;
  }

  /** True while the view shows this broker's controllership. */
  get isActive(): boolean {
    const c = this.view.controller;
    return this.epoch !== null && c !== null && c.record.nodeId === this.nodeId && c.createRevision === this.epoch;
  }

  /** Looks at the view again (the broker registered anew: it may campaign with its new lease). */
  poke(): void {
    this.onViewChange();
  }

  /** Resolves when the work the last view change asked for is written. */
  async settled(): Promise<void> {
    while (this.reconciling !== null) await this.reconciling;
  }

  private onViewChange(): void {
    if (this.stopped) return;
    const current = this.view.controller;
    if (current === null) {
      this.epoch = null;
      void this.campaign();
      return;
    }
    if (current.record.nodeId === this.nodeId && this.epoch === null && !this.campaigning) {
      // A controller key with our node id we did not write in this run: a previous run's,
      // under its lease (revoked at registration), about to go.
      return;
    }
    if (this.epoch !== null && current.createRevision !== this.epoch) {
      this.logger.info({ controller: current.record.nodeId }, 'no longer the controller');
      this.epoch = null;
    }
    if (this.isActive) this.reconcile();
  }

  private async campaign(): Promise<void> {
    const lease = this.lease();
    if (this.campaigning || lease === null) return;
    this.campaigning = true;
    try {
      const key = this.view.keys.controller;
      const won = await this.store.txn(
        [{ key, target: 'version', result: 'equal', value: 0 }],
        [{ put: { key, value: encode({ nodeId: this.nodeId }), lease } }],
      );
      if (won.succeeded) {
        this.epoch = won.revision;
        this.logger.info({ controllerEpoch: won.revision }, 'elected controller');
        await this.view.waitForRevision(won.revision);
        if (this.isActive) this.reconcile();
      }
    } catch (err) {
      this.logger.warn({ err }, 'campaigning for controller failed');
    } finally {
      this.campaigning = false;
    }
  }

  /** Runs one pass over every partition; a request during a pass runs another after it. */
  private reconcile(): void {
    if (this.reconciling !== null) {
      this.again = true;
      return;
    }
    this.reconciling = this.reconcilePass()
      .catch((err: unknown) => this.logger.error({ err }, 'controller pass failed'))
      .finally(() => {
        this.reconciling = null;
        if (this.again && !this.stopped) {
          this.again = false;
          if (this.isActive) this.reconcile();
        }
      });
  }

  private async reconcilePass(): Promise<void> {
    const epoch = this.epoch;
    if (epoch === null) return;
    const fence: Compare = { key: this.view.keys.controller, target: 'createRevision', result: 'equal', value: epoch };
    for (const [topic, { record }] of this.view.topics) {
      const unclean = uncleanElectionEnabled(record, this.uncleanDefault);
      for (let index = 0; index < record.replicas.length; index++) {
        const current = this.view.partition(topic, index);
        if (current === undefined) continue;
        const next = electLeader(current.record, record.replicas[index], this.view.brokers, unclean);
        if (next === null) continue;
        const key = this.view.keys.partition(topic, index);
        const written = await this.store.txn(
          [fence, { key, target: 'modRevision', result: 'equal', value: current.modRevision }],
          [{ put: { key, value: encode(next) } }],
        );
        // Deposed, or the partition changed meanwhile: that change reaches the view, whose
        // listener runs the next pass.
        if (!written.succeeded) continue;
        this.countElection(current.record, next);
        const fields = {
          topic,
          partition: index,
          leader: next.leader,
          leaderEpoch: next.leaderEpoch,
          isr: next.isr.map((m) => m.id),
          previousLeader: current.record.leader,
        };
        // An unclean election may have lost committed records: say so louder (Kafka logs it at INFO, clean ones at TRACE).
        if (isUncleanElection(current.record, next))
          this.logger.warn({ ...fields, previousIsr: current.record.isr.map((m) => m.id) }, 'unclean leader election: an out-of-sync replica leads');
        else this.logger.info(fields, 'partition state changed');
      }
    }
    await this.completeReassignments(fence);
  }

  /** Reassignments whose target replicas are all in sync complete (reassignment.ts). */
  private async completeReassignments(fence: Compare): Promise<void> {
    for (const { topic, index, record, modRevision } of [...this.view.reassignments.values()]) {
      const topicRecord = this.view.topics.get(topic);
      const current = this.view.partition(topic, index);
      if (topicRecord === undefined || current === undefined) continue;
      const next = completeReassignment(current.record, record, this.view.brokers);
      if (next === null) continue;
      const replicas = topicRecord.record.replicas.map((r, i) => (i === index ? [...record.target] : r));
      const keys = this.view.keys;
      const written = await this.store.txn(
        [
          fence,
          { key: keys.topic(topic), target: 'modRevision', result: 'equal', value: topicRecord.modRevision },
          { key: keys.partition(topic, index), target: 'modRevision', result: 'equal', value: current.modRevision },
          { key: keys.reassignment(topic, index), target: 'modRevision', result: 'equal', value: modRevision },
        ],
        [
          { put: { key: keys.topic(topic), value: encode({ ...topicRecord.record, replicas }) } },
          { put: { key: keys.partition(topic, index), value: encode(next) } },
          { delete: { key: keys.reassignment(topic, index) } },
        ],
      );
      // Lost a race (the view changes, and the next pass decides again).
      if (!written.succeeded) continue;
      this.countElection(current.record, next);
      this.logger.info(
        { topic, partition: index, replicas: record.target, leader: next.leader, leaderEpoch: next.leaderEpoch, isr: next.isr.map((m) => m.id) },
        'partition reassignment completed',
      );
    }
  }

  private countElection(before: PartitionState, after: PartitionState): void {
    if (after.leader !== before.leader || after.leaderEpoch !== before.leaderEpoch) this.elections++;
    if (isUncleanElection(before, after)) this.uncleanElections++;
  }
}
