// Cluster mode end to end: a real etcd and three broker processes (own data dirs and ports).
// Create a topic with replication factor 3, every broker's Metadata agrees; kill -9 the leader of
// a partition and another ISR member leads it in a higher epoch; the killed broker restarts on
// its own data dir and rejoins; a second live broker with the same node.id and a broker that
// cannot reach etcd refuse to start.

import type { MetadataResponse } from '@sluice/protocol';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type BrokerProcess, removeDir, startBroker, tempDataDir } from './support/broker-process.ts';
import { type EtcdServer, freePort, startEtcd } from './support/etcd-server.ts';
import { RawClient } from './support/raw-client.ts';
import { produce } from './support/requests.ts';

const NOT_LEADER_OR_FOLLOWER = 6;
let etcd: EtcdServer;
const brokers = new Map<number, BrokerProcess>();
const dataDirs: string[] = [];

const clusterOverrides = (nodeId: number) => ({
  'node.id': nodeId,
  'sluice.metadata.etcd.endpoints': etcd.endpoint,
  'sluice.metadata.etcd.prefix': '/it',
  'broker.session.timeout.ms': 3000,
});

beforeAll(async () => {
  etcd = await startEtcd();
  for (const nodeId of [1, 2, 3]) {
    const broker = await startBroker({ overrides: clusterOverrides(nodeId) });
    brokers.set(nodeId, broker);
    dataDirs.push(broker.dataDir);
  }
}, 90_000);

afterAll(async () => {
  for (const b of brokers.values()) await b.kill();
  await etcd?.stop();
  for (const dir of dataDirs) removeDir(dir);
});

interface PartitionView {
  partition: number;
  leader: number;
  leaderEpoch: number;
  replicas: number[];
  isr: number[];
}

async function metadata(broker: BrokerProcess, topic: string) {
  const client = await RawClient.connect(broker.port);
  try {
    const answer: MetadataResponse = await client.request(3, 12, { topics: [{ name: topic, topicId: '00000000000000000000000000000000' }], allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false });
    const t = answer.topics[0];
    return {
      brokers: answer.brokers.map((b) => ({ nodeId: b.nodeId, port: b.port })).sort((a, b) => a.nodeId - b.nodeId),
      controllerId: answer.controllerId,
      clusterId: answer.clusterId,
      errorCode: t.errorCode,
      partitions: t.partitions
        .map((p): PartitionView => ({ partition: p.partitionIndex, leader: p.leaderId, leaderEpoch: p.leaderEpoch ?? -1, replicas: [...p.replicaNodes].sort(), isr: [...p.isrNodes].sort() }))
        .sort((a, b) => a.partition - b.partition),
    };
  } finally {
    client.close();
  }
}

async function eventually<T>(check: () => Promise<T>, ms = 20_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      return await check();
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

describe('three brokers on etcd', () => {
  test('a replication-factor-3 topic: every broker answers the same brokers, controller, leaders, replicas and ISR', async () => {
    const client = await RawClient.connect(brokers.get(2)!.port);
    const created = await client.request(19, 7, { topics: [{ name: 'replicated', numPartitions: 3, replicationFactor: 3, assignments: [], configs: [] }], timeoutMs: 10_000, validateOnly: false });
    client.close();
    expect(created.topics[0]).toMatchObject({ errorCode: 0, numPartitions: 3, replicationFactor: 3 });
    const views = await eventually(async () => {
      const all = await Promise.all([...brokers.values()].map((b) => metadata(b, 'replicated')));
      for (const v of all) {
        expect(v.errorCode).toBe(0);
        expect(v).toEqual(all[0]);
      }
      return all;
    });
    const view = views[0];
    expect(view.brokers).toEqual([1, 2, 3].map((nodeId) => ({ nodeId, port: brokers.get(nodeId)!.port })));
    expect([1, 2, 3]).toContain(view.controllerId);
    expect(view.partitions).toHaveLength(3);
    for (const p of view.partitions) expect(p).toMatchObject({ leaderEpoch: 0, replicas: [1, 2, 3], isr: [1, 2, 3] });
    expect(new Set(view.partitions.map((p) => p.leader)).size).toBe(3); // leaders spread over the brokers
    // Writes go to the leader only.
    const p0 = view.partitions[0];
    const leaderClient = await RawClient.connect(brokers.get(p0.leader)!.port);
    expect((await produce(leaderClient, 'replicated', 0, ['on the leader'], 1)).errorCode).toBe(0);
    leaderClient.close();
    const follower = [1, 2, 3].find((id) => id !== p0.leader)!;
    const followerClient = await RawClient.connect(brokers.get(follower)!.port);
    expect((await produce(followerClient, 'replicated', 0, ['on a follower'], 1)).errorCode).toBe(NOT_LEADER_OR_FOLLOWER);
    followerClient.close();
  });

  test('kill -9 of a leader: another ISR member leads in a higher epoch, the dead broker leaves brokers and ISR', async () => {
    const before = await metadata(brokers.get(1)!, 'replicated');
    const victim = before.partitions[0].leader;
    await brokers.get(victim)!.kill();
    const survivors = [1, 2, 3].filter((id) => id !== victim);
    const after = await eventually(async () => {
      const all = await Promise.all(survivors.map((id) => metadata(brokers.get(id)!, 'replicated')));
      for (const v of all) {
        expect(v.brokers.map((b) => b.nodeId)).toEqual(survivors);
        expect(v).toEqual(all[0]);
        for (const p of v.partitions) {
          expect(p.leader).not.toBe(victim);
          expect(p.isr).toEqual(survivors);
        }
      }
      return all[0];
    });
    expect(survivors).toContain(after.controllerId);
    const moved = after.partitions[0];
    expect(survivors).toContain(moved.leader);
    expect(moved.leaderEpoch).toBeGreaterThan(before.partitions[0].leaderEpoch);
    // Partitions the dead broker did not lead keep their leader and epoch.
    for (const p of after.partitions.slice(1)) {
      const old = before.partitions[p.partition];
      if (old.leader !== victim) expect(p).toMatchObject({ leader: old.leader, leaderEpoch: old.leaderEpoch });
    }
    const client = await RawClient.connect(brokers.get(moved.leader)!.port);
    expect((await produce(client, 'replicated', 0, ['after failover'], 1)).errorCode).toBe(0);
    client.close();

    // The killed broker restarts on its own data dir: it rejoins (a new broker epoch), and stays
    // out of the ISR until replication has caught it up.
    const dead = brokers.get(victim)!;
    const restarted = await startBroker({ dataDir: dead.dataDir, port: dead.port, overrides: clusterOverrides(victim) });
    brokers.set(victim, restarted);
    const rejoined = await eventually(async () => {
      const v = await metadata(restarted, 'replicated');
      expect(v.brokers.map((b) => b.nodeId)).toEqual([1, 2, 3]);
      return v;
    });
    expect(rejoined.partitions[0]).toMatchObject({ leader: moved.leader, leaderEpoch: moved.leaderEpoch, isr: survivors });
  });

  test('a second live broker with the same node.id refuses to start; so does a broker that cannot reach etcd', async () => {
    const dir = tempDataDir();
    dataDirs.push(dir);
    await expect(startBroker({ dataDir: dir, overrides: clusterOverrides(2) })).rejects.toThrow(/another live broker is registered as node 2/);
    const dead = `http://127.0.0.1:${await freePort()}`;
    const lonely = tempDataDir();
    dataDirs.push(lonely);
    await expect(startBroker({ dataDir: lonely, overrides: { ...clusterOverrides(9), 'sluice.metadata.etcd.endpoints': dead } })).rejects.toThrow(new RegExp(`cannot reach etcd.*${dead}`));
  });
});
