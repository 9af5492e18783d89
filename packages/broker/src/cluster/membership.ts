// Joining a cluster: the cluster id under the prefix, and this broker's registration under its
// lease.
//
// Cluster id: the first broker writes it (compare-and-swap on "absent"), the others adopt it. A
// broker whose data dir already has meta.properties proposes that id, so a single node that
// becomes the first broker of a new cluster keeps its identity; a data dir of another cluster
// refuses to start.
//
// Registration: `<prefix>/brokers/<node.id>` under a lease of `broker.session.timeout.ms`. The
// registration names the data dir (meta.properties' directory.id). Finding a registration of our
// node.id with our own directory id means our previous run died within the TTL (we hold the log
// dir lock, so no live process has that dir): its lease is revoked and we register anew. A
// registration with another directory id is a different live broker with our node.id: refused.

import { ConfigError } from '../config.ts';
import type { Logger } from '../logger.ts';
import type { KvStore } from './etcd/kv-store.ts';
import { LeaseKeeper } from './etcd/lease-keeper.ts';
import { type BrokerRegistration, type ClusterKeys, decode, encode } from './keys.ts';

/**
 * The cluster's id: what is stored under the prefix, or `proposed` written there if nothing is.
 * `local` is the id in this broker's meta.properties (null for a fresh data dir).
 */
export async function resolveClusterId(store: KvStore, keys: ClusterKeys, proposed: string, local: string | null, endpoints: string): Promise<string> {
  const created = await store.txn([{ key: keys.clusterId, target: 'version', result: 'equal', value: 0 }], [{ put: { key: keys.clusterId, value: proposed } }]);
  if (created.succeeded) return proposed;
  const stored = await store.get(keys.clusterId);
  if (stored === null) throw new Error(`BUG: ${keys.clusterId} is neither absent nor present`);
  if (local !== null && local !== stored.value) {
    throw new ConfigError(
      'log.dirs',
      `this data dir belongs to cluster ${local}, but the cluster under ${keys.prefix} in etcd (${endpoints}) is ${stored.value}; use another prefix or an empty data dir`,
    );
  }
  return stored.value;
}

export interface Registered {
  readonly lease: LeaseKeeper;
  /** The registration's create revision: this run's broker epoch. */
  readonly epoch: number;
}

export async function registerBroker(
  store: KvStore,
  keys: ClusterKeys,
  registration: BrokerRegistration,
  ttlSeconds: number,
  logger: Logger,
  onLost: (reason: string) => void,
): Promise<Registered> {
  const key = keys.broker(registration.nodeId);
  const existing = await store.get(key);
  if (existing !== null) {
    const other = decode<BrokerRegistration>(key, existing.value);
    if (other.directoryId !== registration.directoryId) throw sameNodeId(registration.nodeId, other);
    logger.info({ lease: existing.lease }, "revoking the lease of this broker's previous run");
    await store.revokeLease(existing.lease);
  }
  const lease = await LeaseKeeper.grant(store, ttlSeconds, onLost);
  const put = await store.txn([{ key, target: 'version', result: 'equal', value: 0 }], [{ put: { key, value: encode(registration), lease: lease.lease } }]);
  if (!put.succeeded) {
    await lease.revoke();
    const now = await store.get(key);
    throw sameNodeId(registration.nodeId, now === null ? null : decode<BrokerRegistration>(key, now.value));
  }
  return { lease, epoch: put.revision };
}

function sameNodeId(nodeId: number, other: BrokerRegistration | null): ConfigError {
  const where =
    other === null ? '' : ` (listeners ${other.listeners.map((l) => `${l.name}://${l.host}:${l.port}`).join(',')}, directory.id ${other.directoryId})`;
  return new ConfigError('node.id', `another live broker is registered as node ${nodeId}${where}; two brokers cannot share a node.id`);
}
