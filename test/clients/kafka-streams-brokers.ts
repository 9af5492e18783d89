// Where the Kafka Streams word count (kafka-streams.ts) runs: one broker, or a 3-broker cluster
// (etcd + TestCluster). Both answer the same questions for the run — the bootstrap list Streams
// gets, a connection to the leader of a partition (for the feeder and the reads), a connection to
// the group coordinator (for the committed offsets), and one broker kill.
//
// One broker: a kill is SIGKILL and an immediate restart on the same port and data dir.
// The cluster: kills take in turn the leader of the input's partition 0, the coordinator of the
// application's transaction (the leader of its `__transaction_state` partition, found by asking
// every broker's ListTransactions, which lists the ids that broker coordinates), and the
// application's group coordinator (the leader of its `__consumer_offsets` partition, which its
// transactional offset commits go through); the victim stays down for `downMs` while leaders move
// to the two others and the run goes on, then restarts on its data dir and port, and the kill
// returns once it is back in the ISR of every input and output partition (so the next kill does
// not leave a partition below min.insync.replicas for long).

import { ApiKey } from '@sluice/protocol';
import { type BrokerProcess, removeDir, startBroker, tempDataDir } from '../support/broker-process.ts';
import { createTopic as createClusterTopic, partitionViews, TestCluster } from '../support/cluster.ts';
import { RawClient } from '../support/raw-client.ts';
import { createTopic } from '../support/requests.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface WordCountBrokers {
  /** Streams' bootstrap.servers. */
  readonly bootstrap: string;
  /** replication.factor of Streams' internal topics. */
  readonly replicationFactor: number;
  createTopics(names: readonly string[], partitions: number): Promise<void>;
  /** A new connection to the current leader of `topic`-`partition`; the caller closes it. */
  leader(topic: string, partition: number): Promise<RawClient>;
  /** A new connection to the coordinator of consumer group `group`; the caller closes it. */
  groupCoordinator(group: string): Promise<RawClient>;
  /** Broker kill number `n` (from 0): SIGKILL, restart; what was killed, for the progress line. */
  killBroker(n: number, group: string, topics: readonly string[]): Promise<string>;
  stop(): Promise<void>;
}

const TXN_SETTINGS = {
  'transaction.state.log.num.partitions': 4,
  'offsets.topic.num.partitions': 4,
  'transaction.abort.timed.out.transaction.cleanup.interval.ms': 1000,
};

export class SingleBroker implements WordCountBrokers {
  readonly replicationFactor = 1;
  private broker: BrokerProcess;
  private readonly settings: Record<string, number>;

  private constructor(broker: BrokerProcess, settings: Record<string, number>) {
    this.broker = broker;
    this.settings = settings;
  }

  static async start(partitions: number): Promise<SingleBroker> {
    const settings = { 'num.partitions': partitions, ...TXN_SETTINGS };
    return new SingleBroker(await startBroker({ dataDir: tempDataDir('sluice-streams-'), overrides: settings }), settings);
  }

  get bootstrap(): string {
    return this.broker.bootstrap;
  }

  async createTopics(names: readonly string[], partitions: number): Promise<void> {
    const admin = await RawClient.connect(this.broker.port);
    try {
      for (const topic of names) {
        const code = await createTopic(admin, topic, partitions);
        if (code !== 0) throw new Error(`CreateTopics ${topic} answered ${code}`);
      }
    } finally {
      admin.close();
    }
  }

  leader(): Promise<RawClient> {
    return RawClient.connect(this.broker.port);
  }

  groupCoordinator(): Promise<RawClient> {
    return RawClient.connect(this.broker.port);
  }

  async killBroker(): Promise<string> {
    await this.broker.kill();
    this.broker = await startBroker({ dataDir: this.broker.dataDir, port: this.broker.port, overrides: this.settings });
    return 'the broker';
  }

  async stop(): Promise<void> {
    await this.broker.stop();
    removeDir(this.broker.dataDir);
  }
}

export class ClusterBrokers implements WordCountBrokers {
  readonly replicationFactor = 3;
  private readonly cluster: TestCluster;
  private readonly downMs: number;

  private constructor(cluster: TestCluster, downMs: number) {
    this.cluster = cluster;
    this.downMs = downMs;
  }

  static async start(partitions: number, downMs = 5000): Promise<ClusterBrokers> {
    const cluster = await TestCluster.start({
      prefix: '/streams-eos',
      overrides: {
        'num.partitions': partitions,
        ...TXN_SETTINGS,
        // A killed broker's leaderships move after its etcd session ends: keep that short.
        'broker.session.timeout.ms': 3000,
        'replica.lag.time.max.ms': 5000,
      },
    });
    return new ClusterBrokers(cluster, downMs);
  }

  get bootstrap(): string {
    return this.cluster.bootstrap().join(',');
  }

  async createTopics(names: readonly string[], partitions: number): Promise<void> {
    for (const name of names) {
      const created = await createClusterTopic(this.anyLive(), { name, partitions, replicationFactor: 3, configs: { 'min.insync.replicas': '2' } });
      if (created.errorCode !== 0) throw new Error(`CreateTopics ${name} answered ${created.errorCode}`);
    }
  }

  async leader(topic: string, partition: number): Promise<RawClient> {
    return RawClient.connect(this.cluster.broker(await this.leaderId(topic, partition)).port);
  }

  async groupCoordinator(group: string): Promise<RawClient> {
    return RawClient.connect(this.cluster.broker(await this.coordinatorId(group)).port);
  }

  async killBroker(n: number, group: string, topics: readonly string[]): Promise<string> {
    const [victim, role] =
      n % 3 === 0
        ? [await this.leaderId(topics[0], 0), `the leader of ${topics[0]}-0`]
        : n % 3 === 1
          ? await this.transactionCoordinator(group)
          : [await this.coordinatorId(group), `the coordinator of group ${group}`];
    await this.cluster.kill(victim);
    await sleep(this.downMs);
    await this.cluster.restart(victim);
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline && !(await this.fullIsr(topics))) await sleep(250);
    return `broker ${victim} (${role}), down ${this.downMs / 1000} s`;
  }

  async stop(): Promise<void> {
    await this.cluster.stop();
  }

  private anyLive(): BrokerProcess {
    const live = this.cluster.live();
    if (live.length === 0) throw new Error('no live broker');
    return live[0];
  }

  private async leaderId(topic: string, partition: number): Promise<number> {
    const leader = (await partitionViews(this.anyLive(), topic))[partition]?.leader ?? -1;
    if (leader < 0 || !this.cluster.isLive(leader)) throw new Error(`${topic}-${partition} has no live leader yet`);
    return leader;
  }

  private async coordinatorId(group: string): Promise<number> {
    const client = await RawClient.connect(this.anyLive().port);
    try {
      const answer = await client.request(ApiKey.FindCoordinator, 2, { key: group, keyType: 0 });
      if (answer.errorCode !== 0 || !this.cluster.isLive(answer.nodeId))
        throw new Error(`FindCoordinator ${group}: error ${answer.errorCode}, node ${answer.nodeId}`);
      return answer.nodeId;
    } finally {
      client.close();
    }
  }

  /**
   * The broker coordinating a transaction of the application (Streams' transactional ids are
   * `<application id>-<process id>-<thread>`), preferring one in state Ongoing; retried for up to
   * 10 s, as the application begins one every commit interval. None listed by then (at_least_once
   * runs none): the group coordinator.
   */
  private async transactionCoordinator(applicationId: string): Promise<[number, string]> {
    const deadline = Date.now() + 10_000;
    for (;;) {
      let known: [number, string] | null = null;
      for (const broker of this.cluster.liveIds) {
        const client = await RawClient.connect(this.cluster.broker(broker).port);
        try {
          const answer = await client.request(ApiKey.ListTransactions, 0, { stateFilters: [], producerIdFilters: [] });
          for (const t of answer.transactionStates as Array<{ transactionalId: string; transactionState: string }>) {
            if (!t.transactionalId.startsWith(`${applicationId}-`)) continue;
            const found: [number, string] = [broker, `the coordinator of transaction ${t.transactionalId}, ${t.transactionState}`];
            if (t.transactionState === 'Ongoing') return found;
            known ??= found;
          }
        } finally {
          client.close();
        }
      }
      if (known !== null && Date.now() > deadline) return known;
      // at_least_once runs no transactions: its group coordinator instead.
      if (Date.now() > deadline) return [await this.coordinatorId(applicationId), `no transaction listed: the coordinator of group ${applicationId}`];
      await sleep(100);
    }
  }

  private async fullIsr(topics: readonly string[]): Promise<boolean> {
    try {
      for (const topic of topics) if ((await partitionViews(this.anyLive(), topic)).some((p) => p.isr.length < 3)) return false;
      return true;
    } catch {
      return false;
    }
  }
}
