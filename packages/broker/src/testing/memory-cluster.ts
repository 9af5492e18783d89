// A test broker in cluster mode on the memory store (no etcd, no other process): it has joined
// as the only live broker, and `remoteTopic` writes a topic whose replicas are another broker's,
// as that broker would, so a handler can be asked about partitions it holds no log of.

import { ClusterNode } from '../cluster/cluster-node.ts';
import { MemoryKvStore } from '../cluster/etcd/memory-store.ts';
import { ClusterKeys, encode } from '../cluster/keys.ts';
import { silentLogger } from '../logger.ts';
import { startTestBroker, type TestBroker } from './test-broker.ts';

const PREFIX = '/test';

export interface MemoryCluster {
  readonly t: TestBroker;
  readonly node: ClusterNode;
  readonly store: MemoryKvStore;
  readonly keys: ClusterKeys;
  /** Writes a topic each of whose partitions has broker `owner` alone as replica and leader. */
  remoteTopic(name: string, partitions: number, owner?: number): Promise<void>;
  /** Waits until this broker's view has every write so far. */
  settle(): Promise<void>;
  close(): Promise<void>;
}

/** `settings`: the test broker's config overrides (startTestBroker's). */
export async function startMemoryCluster(settings: Array<[string, string]> = []): Promise<MemoryCluster> {
  const t = startTestBroker(settings);
  const store = new MemoryKvStore();
  const keys = new ClusterKeys(PREFIX);
  const clusterSettings = {
    endpoints: ['memory'],
    prefix: PREFIX,
    nodeId: t.config.nodeId,
    rack: null,
    sessionTimeoutMs: 9000,
    replicaLagMs: 3_600_000,
    interBrokerListener: 'PLAINTEXT',
    fetcher: { maxWaitMs: 500, maxBytes: 1 << 20, partitionMaxBytes: 1 << 20, requestTimeoutMs: 1000 },
  };
  const node = new ClusterNode(clusterSettings, silentLogger, store);
  await node.clusterId('the-cluster', null);
  await node.join([{ name: 'PLAINTEXT', securityProtocol: 'PLAINTEXT', host: '127.0.0.1', port: 9092 }], 'dir-1', t.topics);
  t.broker.useCluster(node);
  const settle = () => node.view.waitForRevision(store.currentRevision);
  return {
    t,
    node,
    store,
    keys,
    settle,
    async remoteTopic(name, partitions, owner = t.config.nodeId + 1) {
      await store.put(keys.topic(name), encode({ id: 'ab'.repeat(16), configs: {}, replicas: Array.from({ length: partitions }, () => [owner]) }));
      for (let p = 0; p < partitions; p++)
        await store.put(keys.partition(name, p), encode({ leader: owner, leaderEpoch: 0, isr: [{ id: owner, brokerEpoch: 1 }], partitionEpoch: 0 }));
      await settle();
    },
    async close() {
      await node.stop();
      t.close();
    },
  };
}
