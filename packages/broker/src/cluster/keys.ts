// The etcd key layout of a Sluice cluster and the records stored under it (JSON, UTF-8). This
// layout is set in stone: brokers of different versions share it, so a change is a new key,
// never a new meaning for an old one. cluster/README.md is its description.
//
//   <prefix>/cluster-id                 the cluster id (text); created once, by CAS on version 0
//   <prefix>/brokers/<node.id>          BrokerRegistration, under the broker's lease; its create
//                                       revision is the broker epoch
//   <prefix>/controller                 ControllerRecord, under the controller's lease; its create
//                                       revision is the controller epoch
//   <prefix>/topics/<topic>             TopicRecord: id, configs, replica assignment
//   <prefix>/partitions/<topic>/<index> PartitionState: leader, leader epoch, ISR, partition epoch
//   <prefix>/producer-ids               ProducerIdsRecord: every id below nextBlockStart is taken
//   <prefix>/reassignments/<topic>/<index> ReassignmentRecord: a partition reassignment in
//                                       progress (its target and original replicas)
//   <prefix>/acls/…, <prefix>/scram-credentials/…, <prefix>/client-quotas/…,
//   <prefix>/local-files-imported       ACLs, SCRAM credentials, client quotas: stores/store-keys.ts
//
// Every write of topics/ and partitions/ is a transaction that compares what it read (the key's
// mod revision, or version 0 to create); the controller's writes also compare the controller
// key's create revision with its own epoch, so a deposed controller can never win a write.

import type { ConfigValue } from '../config.ts';

export const DEFAULT_PREFIX = '/sluice';

/** The keys of one cluster under `prefix` (no trailing slash). */
export class ClusterKeys {
  readonly prefix: string;

  constructor(prefix: string) {
    const trimmed = prefix.replace(/\/+$/, '');
    this.prefix = trimmed.startsWith('/') ? trimmed : `/${trimmed}`;
  }

  /** Everything of this cluster: what a broker ranges and watches. */
  get root(): string {
    return `${this.prefix}/`;
  }

  get clusterId(): string {
    return `${this.prefix}/cluster-id`;
  }

  get controller(): string {
    return `${this.prefix}/controller`;
  }

  get brokers(): string {
    return `${this.prefix}/brokers/`;
  }

  broker(nodeId: number): string {
    return `${this.prefix}/brokers/${nodeId}`;
  }

  get topics(): string {
    return `${this.prefix}/topics/`;
  }

  topic(name: string): string {
    return `${this.prefix}/topics/${name}`;
  }

  get producerIds(): string {
    return `${this.prefix}/producer-ids`;
  }

  partition(topic: string, index: number): string {
    return `${this.prefix}/partitions/${topic}/${index}`;
  }

  reassignment(topic: string, index: number): string {
    return `${this.prefix}/reassignments/${topic}/${index}`;
  }

  /** What a key of this cluster names, or null for a key outside the layout. */
  parse(key: string): ParsedKey | null {
    if (!key.startsWith(this.root)) return null;
    const rest = key.slice(this.root.length).split('/');
    if (rest.length === 1 && rest[0] === 'cluster-id') return { kind: 'cluster-id' };
    if (rest.length === 1 && rest[0] === 'controller') return { kind: 'controller' };
    if (rest.length === 2 && rest[0] === 'brokers' && /^\d+$/.test(rest[1])) return { kind: 'broker', nodeId: Number(rest[1]) };
    if (rest.length === 2 && rest[0] === 'topics' && rest[1] !== '') return { kind: 'topic', topic: rest[1] };
    if (rest.length === 3 && rest[0] === 'partitions' && /^\d+$/.test(rest[2])) return { kind: 'partition', topic: rest[1], index: Number(rest[2]) };
    if (rest.length === 3 && rest[0] === 'reassignments' && /^\d+$/.test(rest[2])) return { kind: 'reassignment', topic: rest[1], index: Number(rest[2]) };
    return null;
  }
}

export type ParsedKey =
  | { readonly kind: 'cluster-id' }
  | { readonly kind: 'controller' }
  | { readonly kind: 'broker'; readonly nodeId: number }
  | { readonly kind: 'topic'; readonly topic: string }
  | { readonly kind: 'partition'; readonly topic: string; readonly index: number }
  | { readonly kind: 'reassignment'; readonly topic: string; readonly index: number };

export interface EndpointRecord {
  readonly name: string;
  readonly securityProtocol: string;
  readonly host: string;
  readonly port: number;
}

/** <prefix>/brokers/<node.id> */
export interface BrokerRegistration {
  readonly nodeId: number;
  /** The advertised listeners, as clients dial them. */
  readonly listeners: readonly EndpointRecord[];
  readonly rack: string | null;
  /** meta.properties' directory.id of the broker's first log dir: tells a restart on the same data from another process with the same node.id. */
  readonly directoryId: string;
  /** Wall-clock time of registration (ms), for humans. */
  readonly registeredAt: number;
}

/** <prefix>/producer-ids */
export interface ProducerIdsRecord {
  readonly nextBlockStart: number;
}

/** <prefix>/controller */
export interface ControllerRecord {
  readonly nodeId: number;
}

/** <prefix>/topics/<topic> */
export interface TopicRecord {
  /** The topic id, 32 hex characters. */
  readonly id: string;
  /** Config overrides, by Kafka name. */
  readonly configs: Record<string, ConfigValue>;
  /** Replicas of each partition, preferred leader first; its length is the partition count. */
  readonly replicas: readonly (readonly number[])[];
}

/** One ISR member: a broker, and the epoch (registration) in which it was in sync. */
export interface IsrMember {
  readonly id: number;
  readonly brokerEpoch: number;
}

/** <prefix>/partitions/<topic>/<index> */
export interface PartitionState {
  /** The leader's node id, -1 when none is available. */
  readonly leader: number;
  /** Bumped at every leader change (a new leader, or none). */
  readonly leaderEpoch: number;
  /** In-sync replicas; a member counts only in the broker epoch it joined in (a restarted broker must catch up again). */
  readonly isr: readonly IsrMember[];
  /** Bumped at every change of this record (Kafka's partition epoch). */
  readonly partitionEpoch: number;
}

/**
 * <prefix>/reassignments/<topic>/<index>: a reassignment in progress. While it lasts the topic
 * record's replicas of the partition are `target` followed by the rest of `original` (Kafka's
 * full replica set); the controller completes it once every target replica is in the ISR.
 */
export interface ReassignmentRecord {
  readonly target: readonly number[];
  readonly original: readonly number[];
}

/** Parses a record written by encode(); throws on anything else (the layout is ours alone). */
export function decode<T>(key: string, value: string): T {
  try {
    return JSON.parse(value) as T;
  } catch (err) {
    throw new Error(`etcd key ${key} does not hold a Sluice record: ${(err as Error).message}`, { cause: err });
  }
}

export function encode(record: BrokerRegistration | ControllerRecord | TopicRecord | PartitionState | ProducerIdsRecord | ReassignmentRecord): string {
  return JSON.stringify(record);
}
