// Cluster mode end to end: a real etcd and three broker processes (own data dirs and ports).
// Create a topic with replication factor 3, every broker's Metadata agrees; acks=-1 writes are
// answered once the followers have fetched them; kill -9 the leader of a partition and another
// ISR member leads it in a higher epoch with every acknowledged record; the killed broker
// restarts on its own data dir, catches up and is back in the ISR; a second live broker with the
// same node.id and a broker that cannot reach etcd refuse to start.

import { buildRecordBatch } from '@sluice/protocol';
import { readdirSync } from 'node:fs';
import { groupPartition } from '../packages/broker/src/groups/partitioning.ts';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type BrokerProcess, startBroker } from './support/broker-process.ts';
import { TestCluster, topicMetadata } from './support/cluster.ts';
import { freePort } from './support/etcd-server.ts';
import { eventually } from './support/eventually.ts';
import { RawClient } from './support/raw-client.ts';
import { produce, readPartition } from './support/requests.ts';

const NOT_LEADER_OR_FOLLOWER = 6;
let cluster: TestCluster;
const broker = (nodeId: number) => cluster.broker(nodeId);

/** Values acknowledged with acks=-1 per partition of `replicated`, in order. */
const acknowledged = new Map<number, string[]>([
  [0, []],
  [1, []],
  [2, []],
]);

beforeAll(async () => {
  cluster = await TestCluster.start({ prefix: '/it', overrides: { 'broker.session.timeout.ms': 3000, 'replica.lag.time.max.ms': 5000 } });
}, 90_000);

afterAll(async () => {
  await cluster?.stop();
});

interface PartitionView {
  partition: number;
  leader: number;
  leaderEpoch: number;
  replicas: number[];
  isr: number[];
}

async function metadata(broker: BrokerProcess, topic: string) {
  const answer = await topicMetadata(broker, topic);
  const t = answer.topics[0];
  return {
    brokers: answer.brokers.map((b) => ({ nodeId: b.nodeId, port: b.port })).sort((a, b) => a.nodeId - b.nodeId),
    controllerId: answer.controllerId,
    clusterId: answer.clusterId,
    errorCode: t.errorCode,
    partitions: t.partitions
      .map(
        (p): PartitionView => ({
          partition: p.partitionIndex,
          leader: p.leaderId,
          leaderEpoch: p.leaderEpoch ?? -1,
          replicas: [...p.replicaNodes].sort(),
          isr: [...p.isrNodes].sort(),
        }),
      )
      .sort((a, b) => a.partition - b.partition),
  };
}

describe('three brokers on etcd', () => {
  test('a replication-factor-3 topic: every broker answers the same brokers, controller, leaders, replicas and ISR', async () => {
    const client = await RawClient.connect(broker(2).port);
    const created = await client.request(19, 7, {
      topics: [{ name: 'replicated', numPartitions: 3, replicationFactor: 3, assignments: [], configs: [{ name: 'min.insync.replicas', value: '2' }] }],
      timeoutMs: 10_000,
      validateOnly: false,
    });
    client.close();
    expect(created.topics[0]).toMatchObject({ errorCode: 0, numPartitions: 3, replicationFactor: 3 });
    const views = await eventually(async () => {
      const all = await Promise.all(cluster.all().map((b) => metadata(b, 'replicated')));
      for (const v of all) {
        expect(v.errorCode).toBe(0);
        expect(v).toEqual(all[0]);
      }
      return all;
    });
    const view = views[0];
    expect(view.brokers).toEqual([1, 2, 3].map((nodeId) => ({ nodeId, port: broker(nodeId).port })));
    expect([1, 2, 3]).toContain(view.controllerId);
    expect(view.partitions).toHaveLength(3);
    for (const p of view.partitions) expect(p).toMatchObject({ leaderEpoch: 0, replicas: [1, 2, 3], isr: [1, 2, 3] });
    expect(new Set(view.partitions.map((p) => p.leader)).size).toBe(3); // leaders spread over the brokers
    // Writes go to the leader only.
    const p0 = view.partitions[0];
    const leaderClient = await RawClient.connect(broker(p0.leader).port);
    expect((await produce(leaderClient, 'replicated', 0, ['on the leader'], 1)).errorCode).toBe(0);
    leaderClient.close();
    const follower = [1, 2, 3].find((id) => id !== p0.leader)!;
    const followerClient = await RawClient.connect(broker(follower).port);
    expect((await produce(followerClient, 'replicated', 0, ['on a follower'], 1)).errorCode).toBe(NOT_LEADER_OR_FOLLOWER);
    // v10+ (KIP-951): the answer names the leader and how to reach it.
    const moved = await followerClient.request(0, 10, {
      transactionalId: null,
      acks: 1,
      timeoutMs: 5000,
      topicData: [{ name: 'replicated', partitionData: [{ index: 0, records: buildRecordBatch({ records: [{ key: null, value: 'x' }] }) }] }],
    });
    expect(moved.responses[0].partitionResponses[0]).toMatchObject({
      errorCode: NOT_LEADER_OR_FOLLOWER,
      currentLeader: { leaderId: p0.leader, leaderEpoch: p0.leaderEpoch },
    });
    expect(moved.nodeEndpoints).toEqual([{ nodeId: p0.leader, host: '127.0.0.1', port: broker(p0.leader).port, rack: null }]);
    followerClient.close();
    acknowledged.get(0)!.push('on the leader');
    // Producer ids come from blocks reserved in etcd: two brokers never hand out the same one.
    const producerIds = await Promise.all(
      [1, 2, 3].map(async (id) => {
        const c = await RawClient.connect(broker(id).port);
        const answer = await c.request(22, 4, { transactionalId: null, transactionTimeoutMs: 60_000, producerId: -1, producerEpoch: -1 });
        c.close();
        expect(answer.errorCode).toBe(0);
        return Number(answer.producerId);
      }),
    );
    expect(new Set(producerIds).size).toBe(3);
    // Every broker names the same group coordinator, so a group's members meet: the leader of the
    // group's __consumer_offsets partition (the first lookup creates the topic in the cluster;
    // COORDINATOR_NOT_AVAILABLE until every broker's view has it, as Kafka's first answer).
    const coordinators = await eventually(async () => {
      const answers = await Promise.all(
        [1, 2, 3].map(async (id) => {
          const c = await RawClient.connect(broker(id).port);
          const answer = await c.request(10, 3, { key: 'a-group', keyType: 0 });
          c.close();
          return [answer.errorCode, answer.nodeId];
        }),
      );
      for (const a of answers) expect(a).toEqual([0, answers[0][1]]);
      return answers;
    });
    const offsets = await metadata(broker(1), '__consumer_offsets');
    expect(offsets.partitions).toHaveLength(50);
    for (const p of offsets.partitions) expect(p.replicas).toEqual([1, 2, 3]);
    expect(coordinators[0][1]).toBe(offsets.partitions[groupPartition('a-group', 50)].leader);
  });

  test('acks=-1 is answered once the ISR has the records: the high watermark covers them at once', async () => {
    const view = await metadata(broker(1), 'replicated');
    for (const p of view.partitions) {
      const client = await RawClient.connect(broker(p.leader).port);
      for (let i = 0; i < 20; i++) {
        const values = [`p${p.partition}-${i}-a`, `p${p.partition}-${i}-b`];
        const outcome = await produce(client, 'replicated', p.partition, values, -1);
        expect(outcome.errorCode).toBe(0);
        acknowledged.get(p.partition)!.push(...values);
      }
      const contents = await readPartition(client, 'replicated', p.partition);
      expect(contents.records.map((r) => r.value)).toEqual(acknowledged.get(p.partition));
      client.close();
    }
    // Followers keep up: nobody left the ISR.
    const after = await metadata(broker(2), 'replicated');
    for (const p of after.partitions) expect(p.isr).toEqual([1, 2, 3]);
  });

  test('CreatePartitions and DeleteTopics from any broker apply on every broker', async () => {
    const c3 = await RawClient.connect(broker(3).port);
    const created = await c3.request(19, 7, {
      topics: [{ name: 'scratch', numPartitions: 1, replicationFactor: 2, assignments: [], configs: [] }],
      timeoutMs: 10_000,
      validateOnly: false,
    });
    c3.close();
    expect(created.topics[0].errorCode).toBe(0);
    const c1 = await RawClient.connect(broker(1).port);
    const grown = await c1.request(37, 2, { topics: [{ name: 'scratch', count: 3, assignments: null }], timeoutMs: 10_000, validateOnly: false });
    c1.close();
    expect(grown.results[0].errorCode).toBe(0);
    await eventually(async () => {
      for (const b of cluster.all()) {
        const v = await metadata(b, 'scratch');
        expect(v.partitions).toHaveLength(3);
        for (const p of v.partitions) {
          expect(p.replicas).toHaveLength(2);
          expect(p.replicas).toContain(p.leader);
        }
      }
    });
    // Config changes made through any broker reach every replica.
    const c1b = await RawClient.connect(broker(1).port);
    const altered = await c1b.request(33, 1, {
      resources: [{ resourceType: 2, resourceName: 'scratch', configs: [{ name: 'retention.ms', value: '123456' }] }],
      validateOnly: false,
    });
    c1b.close();
    expect(altered.responses[0].errorCode).toBe(0);
    await eventually(async () => {
      for (const b of cluster.all()) {
        const c = await RawClient.connect(b.port);
        const described = await c.request(32, 1, {
          resources: [{ resourceType: 2, resourceName: 'scratch', configurationKeys: ['retention.ms'] }],
          includeSynonyms: false,
        });
        c.close();
        expect(described.results[0].configs[0]).toMatchObject({ name: 'retention.ms', value: '123456' });
      }
    });
    // A broker with no replica of a partition sends producers to its leader too.
    const c2 = await RawClient.connect(broker(2).port);
    expect(
      (
        await c2.request(19, 7, {
          topics: [{ name: 'solo', numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] }],
          timeoutMs: 10_000,
          validateOnly: false,
        })
      ).topics[0].errorCode,
    ).toBe(0);
    const soloLeader = (await metadata(broker(2), 'solo')).partitions[0].leader;
    const stranger = broker([1, 2, 3].find((id) => id !== soloLeader)!);
    expect(readdirSync(stranger.dataDir).filter((f) => f.startsWith('solo-'))).toEqual([]);
    const strangerClient = await RawClient.connect(stranger.port);
    expect((await produce(strangerClient, 'solo', 0, ['x'], 1)).errorCode).toBe(NOT_LEADER_OR_FOLLOWER);
    strangerClient.close();
    const deleted = await c2.request(20, 4, { topicNames: ['scratch'], timeoutMs: 10_000 });
    c2.close();
    expect(deleted.responses[0].errorCode).toBe(0);
    await eventually(async () => {
      for (const b of cluster.all()) {
        expect((await metadata(b, 'scratch')).errorCode).toBe(3); // UNKNOWN_TOPIC_OR_PARTITION
        expect(readdirSync(b.dataDir).filter((f) => f.startsWith('scratch-'))).toEqual([]);
      }
    });
  });

  test('kill -9 of a leader: another ISR member leads in a higher epoch, the dead broker leaves brokers and ISR', async () => {
    const before = await metadata(broker(1), 'replicated');
    const victim = before.partitions[0].leader;
    await cluster.kill(victim);
    const survivors = [1, 2, 3].filter((id) => id !== victim);
    const after = await eventually(async () => {
      const all = await Promise.all(survivors.map((id) => metadata(broker(id), 'replicated')));
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
    // The new leader has every acknowledged record, in order, and takes acks=-1 writes with the
    // two brokers left (min.insync.replicas=2).
    // (A new leader's high watermark moves once the remaining follower fetched from it.)
    const client = await RawClient.connect(broker(moved.leader).port);
    await eventually(async () => expect((await readPartition(client, 'replicated', 0)).records.map((r) => r.value)).toEqual(acknowledged.get(0)));
    expect((await produce(client, 'replicated', 0, ['after failover'], -1)).errorCode).toBe(0);
    acknowledged.get(0)!.push('after failover');
    client.close();

    // The metrics say so too.
    const scrapes = await Promise.all(survivors.map(async (id) => (await fetch(broker(id).metricsUrl!)).text()));
    const value = (text: string, name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? Number.NaN);
    for (const text of scrapes) expect(value(text, 'sluice_cluster_brokers')).toBe(2);
    expect(scrapes.reduce((n, text) => n + value(text, 'sluice_cluster_controller_active'), 0)).toBe(1);
    expect(scrapes.reduce((n, text) => n + value(text, 'sluice_cluster_under_replicated_partitions'), 0)).toBeGreaterThan(0);
    expect(scrapes.some((text) => value(text, 'sluice_cluster_leader_elections_total') > 0)).toBe(true);
    for (const text of scrapes) expect(value(text, 'sluice_cluster_etcd_request_seconds_count{operation="keepalive"}')).toBeGreaterThan(0);

    // The killed broker restarts on its own data dir: it rejoins (a new broker epoch), fetches
    // what it missed, and is back in the ISR.
    const restarted = await cluster.restart(victim);
    const rejoined = await eventually(async () => {
      const v = await metadata(restarted, 'replicated');
      expect(v.brokers.map((b) => b.nodeId)).toEqual([1, 2, 3]);
      for (const p of v.partitions) expect(p.isr).toEqual([1, 2, 3]);
      return v;
    });
    expect(rejoined.partitions[0]).toMatchObject({ leader: moved.leader, leaderEpoch: moved.leaderEpoch });
    // Kill the new leader too: the restarted broker or the third one leads, with everything.
    await cluster.kill(moved.leader);
    const left = [1, 2, 3].filter((id) => id !== moved.leader);
    const third = await eventually(async () => {
      const v = await metadata(broker(left[0]), 'replicated');
      expect(left).toContain(v.partitions[0].leader);
      expect(v.partitions[0].leaderEpoch).toBeGreaterThan(moved.leaderEpoch);
      return v.partitions[0];
    });
    const last = await RawClient.connect(broker(third.leader).port);
    await eventually(async () => expect((await readPartition(last, 'replicated', 0)).records.map((r) => r.value)).toEqual(acknowledged.get(0)));
    last.close();
    await cluster.restart(moved.leader);
  });

  test('the whole cluster stops (SIGTERM) and starts again: every partition gets a leader back, every replica rejoins the ISR, nothing is lost', async () => {
    for (const nodeId of [1, 2, 3]) expect(await cluster.stopBroker(nodeId)).toBe(0);
    for (const nodeId of [1, 2, 3]) await cluster.restart(nodeId);
    const view = await eventually(
      async () => {
        const v = await metadata(broker(3), 'replicated');
        for (const p of v.partitions) {
          expect([1, 2, 3]).toContain(p.leader);
          expect(p.isr).toEqual([1, 2, 3]);
        }
        return v;
      },
      { timeoutMs: 30_000 },
    );
    const client = await RawClient.connect(broker(view.partitions[0].leader).port);
    await eventually(async () => expect((await readPartition(client, 'replicated', 0)).records.map((r) => r.value)).toEqual(acknowledged.get(0)));
    client.close();
  });

  test('a second live broker with the same node.id refuses to start; so does a broker that cannot reach etcd', async () => {
    await expect(startBroker({ dataDir: cluster.tempDataDir(), overrides: cluster.overrides(2) })).rejects.toThrow(
      /another live broker is registered as node 2/,
    );
    const dead = `http://127.0.0.1:${await freePort()}`;
    await expect(startBroker({ dataDir: cluster.tempDataDir(), overrides: cluster.overrides(9, { 'sluice.metadata.etcd.endpoints': dead }) })).rejects.toThrow(
      new RegExp(`cannot reach etcd.*${dead}`),
    );
  });
});
