// etcd lost while running: a leader serves only while its lease is certainly valid, then fences
// itself (NOT_LEADER_OR_FOLLOWER) before etcd could have let anyone else lead; when etcd is back
// it registers again and leads again (the last in-sync replica, in a new epoch), data intact.

import { afterAll, beforeAll, expect, test } from 'vitest';
import type { BrokerProcess } from './support/broker-process.ts';
import { TestCluster } from './support/cluster.ts';
import type { EtcdServer } from './support/etcd-server.ts';
import { eventually } from './support/eventually.ts';
import { RawClient } from './support/raw-client.ts';
import { produce, readPartition } from './support/requests.ts';

const NOT_LEADER_OR_FOLLOWER = 6;
let cluster: TestCluster;
let broker: BrokerProcess;
let etcd: EtcdServer;

beforeAll(async () => {
  cluster = await TestCluster.start({ brokers: 1, overrides: { 'broker.session.timeout.ms': 3000 } });
  broker = cluster.broker(1);
  etcd = cluster.etcd;
}, 60_000);

afterAll(async () => {
  await cluster?.stop();
});

test('a leader that cannot renew its lease stops taking writes within the session timeout, and leads again once etcd is back', async () => {
  const client = await RawClient.connect(broker.port);
  const created = await client.request(19, 7, {
    topics: [{ name: 'steady', numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] }],
    timeoutMs: 10_000,
    validateOnly: false,
  });
  expect(created.topics[0].errorCode).toBe(0);
  expect((await produce(client, 'steady', 0, ['before'], 1)).errorCode).toBe(0);

  etcd.proc.kill('SIGSTOP');
  const stoppedAt = Date.now();
  // Writes are still taken while the lease is certainly valid; then refused.
  const acknowledged = ['before'];
  let attempt = 0;
  const fenced = await eventually(async () => {
    const value = `while etcd is gone ${attempt++}`;
    const outcome = await produce(client, 'steady', 0, [value], 1);
    if (outcome.errorCode === 0) acknowledged.push(value);
    expect(outcome.errorCode).toBe(NOT_LEADER_OR_FOLLOWER);
    return Date.now() - stoppedAt;
  });
  // Fenced no later than the lease's TTL after its last renewal (plus the test's polling).
  expect(fenced).toBeLessThan(3000 + 1500);

  etcd.proc.kill('SIGCONT');
  await eventually(async () => expect((await produce(client, 'steady', 0, ['after'], 1)).errorCode).toBe(0));
  acknowledged.push('after');
  const contents = await eventually(async () => {
    const c = await readPartition(client, 'steady', 0);
    expect(c.records.map((r) => r.value)).toEqual(acknowledged);
    return c;
  });
  expect(contents.errorCode).toBe(0);
  client.close();
});
