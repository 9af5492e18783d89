// The cluster layer on the memory store: three brokers sharing one "etcd", each with its own
// topic registry on a temp dir. A crash is modelled as etcd sees it: the broker's connection goes
// silent and, after the session timeout, its lease expires.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { BrokerConfig, ConfigError } from '../config.ts';
import { createLogger, silentLogger } from '../logger.ts';
import { TopicRegistry } from '../topics.ts';
import { ClusterNode, type ClusterSettings } from './cluster-node.ts';
import type { Compare, KeyValue, KvStore, Op, RangeResult, TxnResult, Watch, WatchHandlers } from './etcd/kv-store.ts';
import { MemoryKvStore } from './etcd/memory-store.ts';
import { encode } from './keys.ts';

/** One broker's connection to the shared store; `cut()` is its process dying. */
class Connection implements KvStore {
  private cutOff = false;
  private readonly watches = new Set<Watch>();
  private readonly store: MemoryKvStore;
  constructor(store: MemoryKvStore) {
    this.store = store;
  }
  cut(): void {
    this.cutOff = true;
    for (const w of this.watches) w.close();
  }
  private check(): void {
    if (this.cutOff) throw new Error('connection cut');
  }
  async get(key: string): Promise<KeyValue | null> {
    this.check();
    return this.store.get(key);
  }
  async range(prefix: string): Promise<RangeResult> {
    this.check();
    return this.store.range(prefix);
  }
  async put(key: string, value: string, lease?: string): Promise<number> {
    this.check();
    return this.store.put(key, value, lease);
  }
  async delete(key: string): Promise<number> {
    this.check();
    return this.store.delete(key);
  }
  async txn(compares: readonly Compare[], success: readonly Op[], failure?: readonly Op[]): Promise<TxnResult> {
    this.check();
    return this.store.txn(compares, success, failure);
  }
  async grantLease(ttl: number): Promise<string> {
    this.check();
    return this.store.grantLease(ttl);
  }
  async keepAlive(lease: string): Promise<number> {
    this.check();
    return this.store.keepAlive(lease);
  }
  async revokeLease(lease: string): Promise<void> {
    this.check();
    return this.store.revokeLease(lease);
  }
  watch(prefix: string, from: number, handlers: WatchHandlers): Watch {
    this.check();
    const w = this.store.watch(prefix, from, handlers);
    this.watches.add(w);
    return w;
  }
  close(): void {
    this.cut();
  }
}

/** No follower ever fetches here (no listeners): the ISR must not shrink by lag during a test. */
const settings = (nodeId: number, rack: string | null) => ({
  endpoints: ['memory'],
  prefix: '/test',
  nodeId,
  rack,
  sessionTimeoutMs: 9000,
  replicaLagMs: 3_600_000,
  interBrokerListener: 'PLAINTEXT',
  fetcher: { maxWaitMs: 500, maxBytes: 1 << 20, partitionMaxBytes: 1 << 20, requestTimeoutMs: 1000 },
});

interface TestBroker {
  readonly node: ClusterNode;
  readonly connection: Connection;
  readonly registry: TopicRegistry;
  readonly dir: string;
}

const dirs: string[] = [];
const running: TestBroker[] = [];
afterEach(async () => {
  for (const b of running.splice(0)) {
    b.connection.cut();
    b.registry.close();
  }
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function startBroker(
  store: MemoryKvStore,
  nodeId: number,
  options: { dir?: string; rack?: string; directoryId?: string; leaderRebalance?: ClusterSettings['leaderRebalance']; uncleanLeaderElection?: boolean } = {},
): Promise<TestBroker> {
  const logger = process.env.CLUSTER_DEBUG ? createLogger('debug') : silentLogger;
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), `sluice-cluster-${nodeId}-`));
  if (options.dir === undefined) dirs.push(dir);
  const registry = new TopicRegistry(new BrokerConfig([['log.dirs', dir]]), silentLogger);
  registry.load();
  const connection = new Connection(store);
  const node = new ClusterNode(
    { ...settings(nodeId, options.rack ?? null), leaderRebalance: options.leaderRebalance ?? null, uncleanLeaderElection: options.uncleanLeaderElection },
    logger,
    connection,
  );
  try {
    await node.clusterId('the-cluster', null);
    await node.join(
      [{ name: 'PLAINTEXT', securityProtocol: 'PLAINTEXT', host: '127.0.0.1', port: 9000 + nodeId }],
      options.directoryId ?? `dir-${nodeId}`,
      registry,
    );
  } catch (err) {
    registry.close();
    throw err;
  }
  const broker = { node, connection, registry, dir };
  running.push(broker);
  return broker;
}

/** The broker process dies: silent at once; its lease expires later (the test says when). */
function crash(broker: TestBroker): void {
  broker.connection.cut();
  running.splice(running.indexOf(broker), 1);
  broker.registry.close();
}

async function eventually(check: () => void, ms = 3_000): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      check();
      return;
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 5));
    }
  }
}

async function leaseOf(store: MemoryKvStore, nodeId: number): Promise<string> {
  return (await store.get(`/test/brokers/${nodeId}`))!.lease;
}

describe('cluster on the memory store', () => {
  test('three brokers: one controller, every view agrees on brokers and on a replicated topic, each holds the logs', async () => {
    const store = new MemoryKvStore();
    const brokers = [await startBroker(store, 1), await startBroker(store, 2), await startBroker(store, 3)];
    await eventually(() => {
      for (const b of brokers) expect(b.node.view.liveBrokers().map((x) => x.nodeId)).toEqual([1, 2, 3]);
      expect(brokers.filter((b) => b.node.isController)).toHaveLength(1);
      expect(new Set(brokers.map((b) => b.node.view.controllerId)).size).toBe(1);
    });
    const made = await brokers[1].node.createTopic('orders', 3, 3, new Map([['retention.ms', 1000]]));
    expect(made.errorCode).toBe(0);
    for (const b of brokers) {
      await b.node.view.waitForRevision(store.currentRevision);
      const record = b.node.view.topics.get('orders')!.record;
      expect(record.id).toBe(made.topicId);
      expect(record.replicas.map((r) => [...r].sort())).toEqual([
        [1, 2, 3],
        [1, 2, 3],
        [1, 2, 3],
      ]);
      const local = b.registry.get('orders')!;
      expect(local.id).toBe(made.topicId);
      expect(local.partitions).toHaveLength(3);
      expect(local.config.get('retention.ms')).toBe(1000);
    }
    const leaders = [0, 1, 2].map((p) => brokers[0].node.view.partition('orders', p)!.record.leader);
    expect(new Set(leaders).size).toBe(3); // one partition led by each broker
    const again = await brokers[2].node.createTopic('orders', 1, 1, new Map());
    expect(again.errorCode).toBe(36); // TOPIC_ALREADY_EXISTS
    expect((await brokers[0].node.createTopic('wide', 1, 4, new Map())).errorCode).toBe(38); // INVALID_REPLICATION_FACTOR
  });

  test('auto.leader.rebalance: the controller moves leadership back to the preferred replica in a new leader epoch', async () => {
    const store = new MemoryKvStore();
    const leaderRebalance = { intervalMs: 50, imbalancePercentage: 10 };
    const brokers = [
      await startBroker(store, 1, { leaderRebalance }),
      await startBroker(store, 2, { leaderRebalance }),
      await startBroker(store, 3, { leaderRebalance }),
    ];
    await brokers[0].node.createTopic('t', 3, 3, new Map());
    const view = brokers[0].node.view;
    const preferred = view.topics.get('t')!.record.replicas[0]![0]!;
    const state = view.partition('t', 0)!.record;
    const other = state.isr.find((m) => m.id !== preferred)!.id;
    // A past failover left partition 0 with another in-sync leader.
    await store.put('/test/partitions/t/0', encode({ ...state, leader: other, leaderEpoch: state.leaderEpoch + 1, partitionEpoch: state.partitionEpoch + 1 }));
    await eventually(() => {
      const now = view.partition('t', 0)!.record;
      expect(now.leader).toBe(preferred);
      expect(now.leaderEpoch).toBe(state.leaderEpoch + 2);
      expect(now.isr).toEqual(state.isr);
    });
  });

  test('a leader whose lease is lost is replaced from the ISR with a higher epoch, and leaves the ISR; the controller too', async () => {
    const store = new MemoryKvStore();
    const brokers = [await startBroker(store, 1), await startBroker(store, 2), await startBroker(store, 3)];
    await brokers[0].node.createTopic('t', 3, 3, new Map());
    const controller = brokers.find((b) => b.node.isController)!;
    // Kill the controller itself: the others must elect a new controller, which then fails over.
    const victim = controller;
    const survivors = brokers.filter((b) => b !== victim);
    const led = [0, 1, 2].find((p) => survivors[0].node.view.partition('t', p)!.record.leader === victim.node.settings.nodeId)!;
    const lease = await leaseOf(store, victim.node.settings.nodeId);
    crash(victim);
    store.expireLease(lease);
    await eventually(() => {
      const state = survivors[0].node.view.partition('t', led)!.record;
      expect(state.leader).not.toBe(victim.node.settings.nodeId);
      expect(state.leader).not.toBe(-1);
      expect(state.leaderEpoch).toBe(1);
      expect(state.isr.map((m) => m.id).sort()).toEqual(survivors.map((b) => b.node.settings.nodeId).sort());
      expect(survivors.filter((b) => b.node.isController)).toHaveLength(1);
    });
    for (const b of survivors) {
      await eventually(() => expect(b.node.view.partition('t', led)!.record.leaderEpoch).toBe(1));
      expect(b.registry.get('t')!.partitions[led].leaderEpoch).toBe(1);
      expect(b.node.isLeader('t', led)).toBe(b.node.view.partition('t', led)!.record.leader === b.node.settings.nodeId);
    }
  });

  test('a broker restarting on its own data dir revokes its stale lease and rejoins as failed-and-rejoined', async () => {
    const store = new MemoryKvStore();
    const b1 = await startBroker(store, 1);
    const b2 = await startBroker(store, 2);
    await b1.node.createTopic('t', 2, 2, new Map());
    const led = [0, 1].find((p) => b1.node.view.partition('t', p)!.record.leader === 2)!;
    const staleLease = await leaseOf(store, 2);
    crash(b2); // its lease is still valid: etcd has not noticed yet
    const again = await startBroker(store, 2, { dir: b2.dir });
    expect(store.hasLease(staleLease)).toBe(false);
    expect(again.node.brokerEpoch).toBeGreaterThan(0);
    await eventually(() => {
      const state = b1.node.view.partition('t', led)!.record;
      expect(state.leader).toBe(1); // leadership moved: the restarted broker must catch up first
      expect(state.leaderEpoch).toBe(1);
      expect(state.isr.map((m) => m.id)).toEqual([1]);
    });
    // Its local topic survived the restart under the same id.
    expect(again.registry.get('t')!.id).toBe(b1.node.view.topics.get('t')!.record.id);
  });

  test('a second live broker with the same node.id is refused; a data dir of another cluster is refused', async () => {
    const store = new MemoryKvStore();
    await startBroker(store, 1);
    await expect(startBroker(store, 1, { directoryId: 'someone-else' })).rejects.toThrow(/another live broker is registered as node 1/);
    const node = new ClusterNode(settings(5, null), silentLogger, new Connection(store));
    await expect(node.clusterId('ignored', null)).resolves.toBe('the-cluster');
    await expect(node.clusterId('other', 'other')).rejects.toThrow(ConfigError);
    await expect(node.clusterId('other', 'other')).rejects.toThrow(/belongs to cluster other.*is the-cluster/);
  });

  test('a single node joining an empty cluster publishes its topics under their ids, itself the leader', async () => {
    const store = new MemoryKvStore();
    const dir = mkdtempSync(join(tmpdir(), 'sluice-cluster-single-'));
    dirs.push(dir);
    const single = new TopicRegistry(new BrokerConfig([['log.dirs', dir]]), silentLogger);
    single.load();
    const before = single.create('legacy', 2, new Map());
    const offsets = single.create('__consumer_offsets', 3, new Map());
    const transactions = single.create('__transaction_state', 2, new Map());
    single.close();
    const b = await startBroker(store, 7, { dir });
    expect(b.node.view.topics.get('legacy')!.record).toEqual({ id: before.id, configs: {}, replicas: [[7], [7]] });
    expect(b.node.view.partition('legacy', 1)!.record).toMatchObject({ leader: 7, leaderEpoch: 0 });
    expect(b.node.isLeader('legacy', 1)).toBe(true);
    // Its committed offsets become the cluster's offsets topic; its transaction log stays its own.
    expect(b.node.view.topics.get('__consumer_offsets')!.record).toEqual({ id: offsets.id, configs: {}, replicas: [[7], [7], [7]] });
    expect(b.registry.get('__consumer_offsets')!.id).toBe(offsets.id);
    expect(b.node.view.topics.has('__transaction_state')).toBe(false);
    expect(b.registry.get('__transaction_state')!.id).toBe(transactions.id);
  });

  test("producer id blocks reserved through etcd never overlap between brokers, and start above a data dir's own", async () => {
    const store = new MemoryKvStore();
    const b1 = await startBroker(store, 1);
    const b2 = await startBroker(store, 2);
    const blocks = await Promise.all([b1.node.reserveProducerIds(1000, 0), b2.node.reserveProducerIds(1000, 0), b1.node.reserveProducerIds(1000, 0)]);
    expect([...blocks].sort((a, b) => a - b)).toEqual([0, 1000, 2000]);
    expect(await b2.node.reserveProducerIds(1000, 50_000)).toBe(50_000);
    expect(await b1.node.reserveProducerIds(1000, 0)).toBe(51_000);
  });

  test('a follower that loses its lease stops fetching while fenced and fetches again once registered again', async () => {
    // Found by the cluster fault harness (test/cluster-faults, a broker cut from etcd and the
    // other brokers): the view's event for the new registration ran while the broker was still
    // fenced, nothing changed afterwards, and the broker never fetched again (never rejoined the ISR).
    const store = new MemoryKvStore();
    const b1 = await startBroker(store, 1);
    const b2 = await startBroker(store, 2);
    await b1.node.createTopic('t', 1, 2, new Map());
    const leader = b1.node.view.partition('t', 0)!.record.leader;
    const follower = leader === 1 ? b2 : b1;
    await eventually(() => expect(follower.node.followedLeaders).toEqual([leader]));
    const epoch = follower.node.brokerEpoch;
    store.expireLease(await leaseOf(store, follower.node.settings.nodeId));
    await eventually(() => expect(follower.node.brokerEpoch).toBeGreaterThan(epoch), 8_000);
    await eventually(() => expect(follower.node.followedLeaders).toEqual([leader]));
  }, 15_000);

  test('a broker that loses its lease is fenced (leads nothing) and registers again as a new broker epoch', async () => {
    const store = new MemoryKvStore();
    const b = await startBroker(store, 1);
    await b.node.createTopic('t', 1, 1, new Map());
    expect(b.node.isLeader('t', 0)).toBe(true);
    const epoch = b.node.brokerEpoch;
    store.expireLease(await leaseOf(store, 1));
    // The keeper notices at its next renewal (a third of the TTL): force it by waiting on the state.
    await eventually(() => expect(b.node.brokerEpoch).toBeGreaterThan(epoch), 8_000);
    await eventually(() => {
      const state = b.node.view.partition('t', 0)!.record;
      expect(state.leader).toBe(1); // the last ISR member came back: it leads again, in a new epoch
      expect(state.leaderEpoch).toBeGreaterThan(0);
      expect(b.node.isLeader('t', 0)).toBe(true);
    });
  }, 15_000);

  test('unclean election: ElectLeaders UNCLEAN, and a topic turning unclean.leader.election.enable on, elect an out-of-sync replica', async () => {
    const store = new MemoryKvStore();
    const brokers = [await startBroker(store, 1), await startBroker(store, 2), await startBroker(store, 3)];
    await brokers[0].node.createTopic('a', 1, 3, new Map());
    await brokers[0].node.createTopic('b', 1, 3, new Map());
    // Both partitions led by broker 1 with the ISR shrunk to it (its followers fell behind).
    for (const topic of ['a', 'b']) {
      const state = brokers[0].node.view.partition(topic, 0)!.record;
      const isr = state.isr.filter((m) => m.id === 1);
      await store.put(`/test/partitions/${topic}/0`, encode({ leader: 1, leaderEpoch: state.leaderEpoch + 1, isr, partitionEpoch: state.partitionEpoch + 1 }));
    }
    const lease = await leaseOf(store, 1);
    crash(brokers[0]);
    store.expireLease(lease);
    const [b2, b3] = [brokers[1], brokers[2]];
    await eventually(() => {
      for (const topic of ['a', 'b']) expect(b2.node.view.partition(topic, 0)!.record).toMatchObject({ leader: -1, isr: [{ id: 1 }] });
    });
    const offline = b2.node.view.partition('a', 0)!.record;
    const replicas = b2.node.view.topics.get('a')!.record.replicas[0]!;
    const expected = replicas.find((id) => id !== 1)!;
    expect(await b3.node.electUncleanLeader('a', 0)).toEqual({ errorCode: 0, errorMessage: null });
    expect(b3.node.view.partition('a', 0)!.record).toEqual({
      leader: expected,
      leaderEpoch: offline.leaderEpoch + 1,
      isr: [{ id: expected, brokerEpoch: brokers[expected - 1].node.brokerEpoch }],
      partitionEpoch: offline.partitionEpoch + 1,
    });
    expect(b3.node.stats().uncleanLeaderElections).toBe(1);
    expect((await b2.node.electUncleanLeader('a', 0)).errorCode).toBe(84); // ELECTION_NOT_NEEDED
    // The controller leaves 'b' without a leader until its config allows an unclean election.
    expect(b2.node.view.partition('b', 0)!.record.leader).toBe(-1);
    expect((await b2.node.alterTopicConfigs('b', new Map([['unclean.leader.election.enable', true]]))).errorCode).toBe(0);
    await eventually(() => {
      const state = b2.node.view.partition('b', 0)!.record;
      expect(state.leader).not.toBe(-1);
      expect(state.isr.map((m) => m.id)).toEqual([state.leader]);
    });
    const controller = [b2, b3].find((b) => b.node.isController)!;
    expect(controller.node.stats().uncleanLeaderElections).toBeGreaterThanOrEqual(1);
  });

  test("the broker's unclean.leader.election.enable=true applies to topics without an override; an override false keeps its partition offline", async () => {
    const store = new MemoryKvStore();
    const b1 = await startBroker(store, 1, { uncleanLeaderElection: true });
    const b2 = await startBroker(store, 2, { uncleanLeaderElection: true });
    const b3 = await startBroker(store, 3, { uncleanLeaderElection: true });
    expect((await b1.node.createTopic('follows-broker', 1, 3, new Map())).errorCode).toBe(0);
    expect((await b1.node.createTopic('stays-clean', 1, 3, new Map([['unclean.leader.election.enable', false]]))).errorCode).toBe(0);
    // Each partition's ISR shrunk to broker 1, which then dies.
    for (const topic of ['follows-broker', 'stays-clean']) {
      const state = b1.node.view.partition(topic, 0)!.record;
      await store.put(
        `/test/partitions/${topic}/0`,
        encode({ leader: 1, leaderEpoch: state.leaderEpoch + 1, isr: state.isr.filter((m) => m.id === 1), partitionEpoch: state.partitionEpoch + 1 }),
      );
    }
    const lease = await leaseOf(store, 1);
    crash(b1);
    store.expireLease(lease);
    await eventually(() => {
      const state = b2.node.view.partition('follows-broker', 0)!.record;
      expect([2, 3]).toContain(state.leader);
      expect(state.isr.map((m) => m.id)).toEqual([state.leader]);
      expect(b2.node.view.partition('stays-clean', 0)!.record).toMatchObject({ leader: -1, isr: [{ id: 1 }] });
    });
    await Promise.all([b2.node.settled(), b3.node.settled()]);
    expect(b2.node.view.partition('stays-clean', 0)!.record.leader).toBe(-1);
  });
});
