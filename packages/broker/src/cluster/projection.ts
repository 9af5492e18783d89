// In cluster mode the local topic registry is a projection of etcd: every topic with a replica
// on this broker exists locally under the cluster's topic id, with its partitions' logs open and
// their leader epochs as the controller wrote them; a topic gone from etcd goes locally. Runs on
// every view change.
//
// Joining (README: how a single node becomes the first broker of a cluster): local topics etcd
// does not know are published once, with this broker as their only replica and leader, so a
// single node's data is the cluster's from then on — `__consumer_offsets` included (its groups'
// committed offsets go with it; the group coordinator per partition leader needs it to be a
// cluster topic), the other internal topics not (`__transaction_state` is still each broker's
// own). A local topic whose name etcd holds under
// another id is a leftover of a topic deleted and recreated while this broker was away: the
// projection replaces it.
//
// Moved-away replicas (reassignment, decommissioning): a topic with no replica assigned here any
// more is deleted locally (logs and directories); a partition moved away from a topic that keeps
// other partitions here has its records deleted.
//
// Limitation: a Topic's partitions are a dense array, so a broker replicating any partition of
// a topic opens a log for every partition of it (only the assigned ones are ever led or
// replicated here), and a moved-away partition keeps an empty directory while the topic has
// other partitions here. Sparse local topics are the follow-up.

import type { ConfigValue } from '../config.ts';
import type { Logger } from '../logger.ts';
import { INTERNAL_TOPICS, type TopicRegistry } from '../topics.ts';
import type { ClusterView } from './cluster-view.ts';
import type { KvStore, Op } from './etcd/kv-store.ts';
import { encode, type PartitionState, type TopicRecord } from './keys.ts';

/** Internal topics that are cluster topics (the rest stay local to each broker). */
const PUBLISHED_INTERNAL_TOPICS: ReadonlySet<string> = new Set(['__consumer_offsets']);

export class Projection {
  private readonly view: ClusterView;
  private readonly registry: TopicRegistry;
  private readonly nodeId: number;
  private readonly logger: Logger;
  /** Topics this projection made or adopted, so their removal from etcd removes them here. */
  private readonly projected = new Set<string>();
  private unsubscribe: (() => void) | null = null;

  constructor(view: ClusterView, registry: TopicRegistry, nodeId: number, logger: Logger) {
    this.view = view;
    this.registry = registry;
    this.nodeId = nodeId;
    this.logger = logger;
  }

  /**
   * Publishes the local topics etcd lacks (this broker as their one replica, in `brokerEpoch`),
   * then follows the view.
   */
  async start(store: KvStore, brokerEpoch: number): Promise<void> {
    for (const topic of [...this.registry.topics]) {
      if ((topic.isInternal && !PUBLISHED_INTERNAL_TOPICS.has(topic.name)) || this.view.topics.has(topic.name)) continue;
      const keys = this.view.keys;
      const record: TopicRecord = { id: topic.id, configs: Object.fromEntries(topic.config.overrides), replicas: topic.partitions.map(() => [this.nodeId]) };
      const ops: Op[] = [{ put: { key: keys.topic(topic.name), value: encode(record) } }];
      for (const p of topic.partitions) {
        const state: PartitionState = { leader: this.nodeId, leaderEpoch: p.leaderEpoch, isr: [{ id: this.nodeId, brokerEpoch }], partitionEpoch: 0 };
        ops.push({ put: { key: keys.partition(topic.name, p.index), value: encode(state) } });
      }
      const published = await store.txn([{ key: keys.topic(topic.name), target: 'version', result: 'equal', value: 0 }], ops);
      if (published.succeeded) {
        this.logger.info({ topic: topic.name, topicId: topic.id, partitions: topic.partitions.length }, 'published a local topic to the cluster');
        await this.view.waitForRevision(published.revision);
      }
    }
    this.unsubscribe = this.view.onChange(() => this.apply());
    this.apply();
  }

  stop(): void {
    this.unsubscribe?.();
  }

  /**
   * The cluster still has the topic but no replica of it here (every partition reassigned away,
   * a decommissioned broker, or moved while this broker was down): the local copy of the same
   * topic (same id) is deleted, logs and directories, as Kafka deletes a replica's log once it is
   * no longer assigned. Internal topics stay (their coordinators read them locally).
   */
  private removeMovedAway(name: string, record: TopicRecord): void {
    const local = this.registry.get(name);
    this.projected.delete(name);
    if (local === undefined || local.id !== record.id || INTERNAL_TOPICS.has(name)) return;
    this.logger.info({ topic: name }, 'no replica of the topic is assigned here any more; deleting its logs');
    this.registry.delete(local);
  }

  private apply(): void {
    for (const [name, { record }] of this.view.topics) {
      if (!record.replicas.some((replicas) => replicas.includes(this.nodeId))) {
        this.removeMovedAway(name, record);
        continue;
      }
      let local = this.registry.get(name);
      try {
        if (local !== undefined && local.id !== record.id) {
          this.logger.warn({ topic: name, localId: local.id, clusterId: record.id }, 'replacing a local topic the cluster has under another id');
          this.registry.delete(local);
          local = undefined;
        }
        if (local === undefined) local = this.registry.create(name, record.replicas.length, new Map(Object.entries(record.configs)), record.id);
        else if (local.partitions.length < record.replicas.length) this.registry.addPartitions(local, record.replicas.length);
        if (!sameConfigs(local.config.overrides, record.configs)) this.registry.alterConfigs(local, new Map(Object.entries(record.configs)));
      } catch (err) {
        this.logger.error({ topic: name, err }, 'opening the local logs of a cluster topic failed');
        continue;
      }
      this.projected.add(name);
      for (const partition of local.partitions) {
        const state = this.view.partition(name, partition.index);
        if (state !== undefined) partition.setLeaderEpoch(state.record.leaderEpoch);
        // A replica moved away (a completed reassignment): its data goes, as Kafka deletes the
        // log (the directory stays while the topic has other partitions here: dense topics).
        if (
          !(record.replicas[partition.index] ?? []).includes(this.nodeId) &&
          partition.logEndOffset > partition.logStartOffset &&
          !partition.topic.isInternal
        ) {
          this.logger.info({ topic: name, partition: partition.index }, 'no longer a replica of the partition; deleting its records here');
          partition.truncateTo(partition.logStartOffset);
        }
      }
    }
    for (const name of [...this.projected]) {
      if (this.view.topics.has(name)) continue;
      this.projected.delete(name);
      const local = this.registry.get(name);
      if (local !== undefined && !INTERNAL_TOPICS.has(name)) {
        this.logger.info({ topic: name }, 'topic removed from the cluster; deleting it here');
        this.registry.delete(local);
      }
    }
  }
}

/** Whether a local override set is the cluster's (same keys, same values). */
function sameConfigs(local: ReadonlyMap<string, ConfigValue>, cluster: Readonly<Record<string, ConfigValue>>): boolean {
  const keys = Object.keys(cluster);
  if (keys.length !== local.size) return false;
  return keys.every((k) => local.has(k) && JSON.stringify(local.get(k)) === JSON.stringify(cluster[k]));
}
