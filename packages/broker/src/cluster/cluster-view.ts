// What one broker knows of the cluster: everything under the cluster's prefix in etcd, read once
// and then followed by a watch (no other channel). Brokers, the controller, topics and partition
// states, each with the etcd revisions a compare-and-swap needs. Listeners run after each batch
// of events, once the view is consistent at that revision.
//
// A watch that cannot resume (its revision was compacted away) reads everything again.

import type { Logger } from '../logger.ts';
import type { KeyValue, KvStore, Watch, WatchEvent } from './etcd/kv-store.ts';
import {
  type BrokerRegistration,
  type ClusterKeys,
  type ControllerRecord,
  decode,
  type PartitionState,
  type ReassignmentRecord,
  type TopicRecord,
} from './keys.ts';

export interface Versioned<T> {
  readonly record: T;
  readonly createRevision: number;
  readonly modRevision: number;
}

export interface LiveBroker extends BrokerRegistration {
  /** The create revision of its registration: a new one at every (re)start. */
  readonly epoch: number;
}

export class ClusterView {
  readonly keys: ClusterKeys;
  private readonly store: KvStore;
  private readonly logger: Logger;
  readonly brokers = new Map<number, LiveBroker>();
  controller: Versioned<ControllerRecord> | null = null;
  clusterId: string | null = null;
  readonly topics = new Map<string, Versioned<TopicRecord>>();
  /** By `<topic>/<index>`. */
  private readonly partitions = new Map<string, Versioned<PartitionState>>();
  /** Reassignments in progress, by `<topic>/<index>`. */
  readonly reassignments = new Map<string, Versioned<ReassignmentRecord> & { readonly topic: string; readonly index: number }>();
  /** The etcd revision the view is consistent at. */
  revision = 0;
  private watch: Watch | null = null;
  private readonly listeners = new Set<() => void>();
  private readonly revisionWaiters: Array<{ revision: number; resolve: () => void }> = [];
  private closed = false;

  constructor(store: KvStore, keys: ClusterKeys, logger: Logger) {
    this.store = store;
    this.keys = keys;
    this.logger = logger;
  }

  /** Reads everything, then follows changes. */
  async start(): Promise<void> {
    const { kvs, revision } = await this.store.range(this.keys.root);
    this.reset(kvs, revision);
    this.follow();
  }

  close(): void {
    this.closed = true;
    this.watch?.close();
    this.watch = null;
    for (const w of this.revisionWaiters.splice(0)) w.resolve();
  }

  /** Called after each change is applied; returns the unsubscribe. */
  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Resolves once the view has seen `revision` (e.g. its own write). */
  waitForRevision(revision: number): Promise<void> {
    if (this.revision >= revision || this.closed) return Promise.resolve();
    return new Promise((resolve) => this.revisionWaiters.push({ revision, resolve }));
  }

  partition(topic: string, index: number): Versioned<PartitionState> | undefined {
    return this.partitions.get(`${topic}/${index}`);
  }

  reassignment(topic: string, index: number): Versioned<ReassignmentRecord> | undefined {
    return this.reassignments.get(`${topic}/${index}`);
  }

  /** Live brokers in node id order. */
  liveBrokers(): LiveBroker[] {
    return [...this.brokers.values()].sort((a, b) => a.nodeId - b.nodeId);
  }

  /** The controller's node id, or -1 while there is none. */
  get controllerId(): number {
    return this.controller?.record.nodeId ?? -1;
  }

  private follow(): void {
    this.watch = this.store.watch(this.keys.root, this.revision + 1, {
      onEvents: (events, revision) => this.applyEvents(events, revision),
      onError: (err) => {
        if (this.closed) return;
        this.logger.warn({ err }, 'etcd watch lost its place; reading the cluster state again');
        void this.start().catch((e: unknown) => this.logger.error({ err: e }, 'reading the cluster state again failed'));
      },
    });
  }

  private reset(kvs: readonly KeyValue[], revision: number): void {
    this.brokers.clear();
    this.topics.clear();
    this.partitions.clear();
    this.reassignments.clear();
    this.controller = null;
    this.clusterId = null;
    for (const kv of kvs) this.apply({ type: 'put', kv });
    this.advance(revision);
  }

  private applyEvents(events: readonly WatchEvent[], revision: number): void {
    if (this.closed) return;
    for (const event of events) this.apply(event);
    this.advance(Math.max(revision, events[events.length - 1].kv.modRevision));
  }

  private advance(revision: number): void {
    this.revision = Math.max(this.revision, revision);
    for (const listener of this.listeners) {
      try {
        listener();
      } catch (err) {
        this.logger.error({ err }, 'a cluster view listener failed');
      }
    }
    for (let i = this.revisionWaiters.length - 1; i >= 0; i--) {
      const w = this.revisionWaiters[i];
      if (w.revision <= this.revision) {
        this.revisionWaiters.splice(i, 1);
        w.resolve();
      }
    }
  }

  private apply({ type, kv }: WatchEvent): void {
    const parsed = this.keys.parse(kv.key);
    if (parsed === null) return;
    const deleted = type === 'delete';
    try {
      switch (parsed.kind) {
        case 'cluster-id':
          this.clusterId = deleted ? null : kv.value;
          return;
        case 'controller':
          this.controller = deleted
            ? null
            : { record: decode<ControllerRecord>(kv.key, kv.value), createRevision: kv.createRevision, modRevision: kv.modRevision };
          return;
        case 'broker':
          if (deleted) this.brokers.delete(parsed.nodeId);
          else this.brokers.set(parsed.nodeId, { ...decode<BrokerRegistration>(kv.key, kv.value), epoch: kv.createRevision });
          return;
        case 'topic':
          if (deleted) this.topics.delete(parsed.topic);
          else this.topics.set(parsed.topic, { record: decode<TopicRecord>(kv.key, kv.value), createRevision: kv.createRevision, modRevision: kv.modRevision });
          return;
        case 'partition': {
          const id = `${parsed.topic}/${parsed.index}`;
          if (deleted) this.partitions.delete(id);
          else this.partitions.set(id, { record: decode<PartitionState>(kv.key, kv.value), createRevision: kv.createRevision, modRevision: kv.modRevision });
          return;
        }
        case 'reassignment': {
          const id = `${parsed.topic}/${parsed.index}`;
          if (deleted) this.reassignments.delete(id);
          else
            this.reassignments.set(id, {
              record: decode<ReassignmentRecord>(kv.key, kv.value),
              createRevision: kv.createRevision,
              modRevision: kv.modRevision,
              topic: parsed.topic,
              index: parsed.index,
            });
          return;
        }
      }
    } catch (err) {
      this.logger.error({ key: kv.key, err }, 'ignoring an unreadable cluster record');
    }
  }
}
