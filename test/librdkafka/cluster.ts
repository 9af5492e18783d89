// The brokers run.ts points librdkafka's test runner at: one broker process, or (`--cluster`) a
// real etcd and three broker processes in cluster mode on loopback, as the cluster end-to-end
// tests start theirs (packages/broker/src/cluster/README.md). Either way the caller gets one
// bootstrap list, a way to save every process's output, and a stop that removes the data dirs.

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type BrokerProcess, removeDir, startBroker } from '../support/broker-process.ts';
import { type EtcdServer, startEtcd } from '../support/etcd-server.ts';

/** Node ids of the three cluster-mode brokers. */
export const CLUSTER_NODE_IDS = [1, 2, 3] as const;

/**
 * librdkafka's "default" test scenario (tests/scenarios/default.json): auto-created topics with 4
 * partitions and replication factor 3. Otherwise Kafka's defaults, which the tests assume: the
 * end-to-end tests' group.initial.rebalance.delay.ms=0 is put back to Kafka's 3000 ms
 * (0118_commit_rebalance needs both of its consumers in the first generation).
 */
const SCENARIO = { 'sluice.log.level': 'warn', 'num.partitions': 4, 'auto.create.topics.enable': true, 'group.initial.rebalance.delay.ms': 3000 };

/**
 * In cluster mode, besides the scenario: replication factor 3 for auto-created topics (a single
 * broker keeps 1), and the racks 0101_fetch_from_follower expects — it reads each replica's
 * `broker.rack` with DescribeConfigs, wants three distinct ones, and sets its consumer's
 * `client.rack` to `RACK<node id>` of a follower — with Kafka's rack-aware replica selector.
 */
function clusterOverrides(nodeId: number, etcd: EtcdServer): Record<string, string | number | boolean> {
  return {
    ...SCENARIO,
    'node.id': nodeId,
    'sluice.metadata.etcd.endpoints': etcd.endpoint,
    'sluice.metadata.etcd.prefix': '/librdkafka',
    'default.replication.factor': 3,
    'broker.rack': `RACK${nodeId}`,
    'replica.selector.class': 'org.apache.kafka.common.replica.RackAwareReplicaSelector',
  };
}

export interface TestBrokers {
  /** Every broker, as `bootstrap.servers` takes them. */
  readonly bootstrap: string;
  /** Writes each process's output into `dir` (broker.log, or broker-<id>.log and etcd.log). */
  saveLogs(dir: string): void;
  /** Stops every process (brokers first, then etcd) and removes their data dirs. */
  stop(): Promise<void>;
}

async function stopBrokers(brokers: BrokerProcess[]): Promise<void> {
  for (const b of brokers) {
    await b.stop();
    removeDir(b.dataDir);
  }
}

export async function startSingleBroker(): Promise<TestBrokers> {
  const broker = await startBroker({ overrides: SCENARIO });
  return {
    bootstrap: broker.bootstrap,
    saveLogs: (dir) => writeFileSync(join(dir, 'broker.log'), broker.output()),
    stop: () => stopBrokers([broker]),
  };
}

export async function startCluster(): Promise<TestBrokers> {
  const etcd = await startEtcd();
  const brokers: BrokerProcess[] = [];
  try {
    for (const nodeId of CLUSTER_NODE_IDS) brokers.push(await startBroker({ overrides: clusterOverrides(nodeId, etcd) }));
  } catch (err) {
    await stopBrokers(brokers);
    await etcd.stop();
    throw err;
  }
  return {
    bootstrap: brokers.map((b) => b.bootstrap).join(','),
    saveLogs(dir) {
      brokers.forEach((b, i) => writeFileSync(join(dir, `broker-${CLUSTER_NODE_IDS[i]}.log`), b.output()));
      writeFileSync(join(dir, 'etcd.log'), etcd.output());
    },
    async stop() {
      await stopBrokers(brokers);
      await etcd.stop();
    },
  };
}
