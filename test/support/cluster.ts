// A Sluice cluster for an end-to-end test: a real etcd (etcd-server.ts) and broker processes
// (broker-process.ts) with node ids 1..n, each on its own free port and data dir, all under one
// etcd prefix. A test kills (SIGKILL), stops (SIGTERM), pauses (SIGSTOP) and restarts brokers
// through it; a restart reuses the broker's data dir and port, as a real broker's restart does.
// `stop()` (the test file's afterAll) ends every process it started, paused ones too, stops etcd
// and removes every data dir, whatever state a failed test left the cluster in.
//
// Also here: the requests every cluster test asks of a broker (Metadata of one topic,
// CreateTopics with a replication factor) and reads of the cluster's own records in etcd.

import type { MetadataResponse } from '@sluice/protocol';
import { ClusterKeys, DEFAULT_PREFIX, type PartitionState } from '../../packages/broker/src/cluster/keys.ts';
import { type BrokerProcess, removeDir, startBroker, tempDataDir } from './broker-process.ts';
import { type EtcdServer, startEtcd } from './etcd-server.ts';
import { RawClient } from './raw-client.ts';

export type Overrides = Record<string, string | number | boolean>;

export interface TestClusterOptions {
  /** `sluice.metadata.etcd.prefix` (a file's own, so its keys are easy to tell apart); omitted: the broker's default. */
  readonly prefix?: string;
  /** How many brokers start (node ids 1..n); default 3. 0 starts etcd alone. */
  readonly brokers?: number;
  /** Every broker's overrides beyond node.id and the etcd settings; a function for per-broker ones. */
  readonly overrides?: Overrides | ((nodeId: number) => Overrides);
}

export class TestCluster {
  readonly etcd: EtcdServer;
  private readonly options: TestClusterOptions;
  /** The latest process of each node id (a dead one until it is restarted). */
  private readonly processes = new Map<number, BrokerProcess>();
  /** The `extra` overrides each broker was added with: its restarts keep them. */
  private readonly added = new Map<number, Overrides>();
  /** Every data dir a broker of this cluster used, removed at stop. */
  private readonly dataDirs = new Set<string>();

  private constructor(etcd: EtcdServer, options: TestClusterOptions) {
    this.etcd = etcd;
    this.options = options;
  }

  /** etcd, then brokers 1..n one after the other; what started is stopped again if any fails. */
  static async start(options: TestClusterOptions = {}): Promise<TestCluster> {
    const cluster = new TestCluster(await startEtcd(), options);
    try {
      for (let nodeId = 1; nodeId <= (options.brokers ?? 3); nodeId++) await cluster.add(nodeId);
    } catch (err) {
      await cluster.stop();
      throw err;
    }
    return cluster;
  }

  /** The overrides broker `nodeId` runs with: node.id, the etcd endpoint and prefix, the cluster's own, then `extra`. */
  overrides(nodeId: number, extra: Overrides = {}): Overrides {
    const common = typeof this.options.overrides === 'function' ? this.options.overrides(nodeId) : (this.options.overrides ?? {});
    return {
      'node.id': nodeId,
      'sluice.metadata.etcd.endpoints': this.etcd.endpoint,
      ...(this.options.prefix === undefined ? {} : { 'sluice.metadata.etcd.prefix': this.options.prefix }),
      ...common,
      ...extra,
    };
  }

  /**
   * Starts broker `nodeId` and makes it a member: on a fresh data dir and a free port, or on
   * `at` (a data dir a broker used before, e.g. a single node joining the cluster). `extra`
   * overrides stay the broker's for its restarts. The cluster removes the data dir at stop.
   */
  async add(nodeId: number, extra: Overrides = {}, at: { dataDir?: string; port?: number } = {}): Promise<BrokerProcess> {
    if (this.processes.has(nodeId)) throw new Error(`broker ${nodeId} is already a member`);
    const dataDir = at.dataDir ?? tempDataDir();
    this.dataDirs.add(dataDir);
    const broker = await startBroker({ dataDir, port: at.port, overrides: this.overrides(nodeId, extra) });
    this.added.set(nodeId, extra);
    this.processes.set(nodeId, broker);
    return broker;
  }

  /** The current process of broker `nodeId` (a dead one after kill or stopBroker, until restart). */
  broker(nodeId: number): BrokerProcess {
    const broker = this.processes.get(nodeId);
    if (broker === undefined) throw new Error(`no broker ${nodeId} in this cluster`);
    return broker;
  }

  /** Every member's node id, ascending, live or not. */
  get nodeIds(): number[] {
    return [...this.processes.keys()].sort((a, b) => a - b);
  }

  /** Every member's current process, by node id, live or not. */
  all(): BrokerProcess[] {
    return this.nodeIds.map((id) => this.broker(id));
  }

  /** Whether broker `nodeId`'s process is running (a paused one is). */
  isLive(nodeId: number): boolean {
    const proc = this.processes.get(nodeId)?.proc;
    return proc !== undefined && proc.exitCode === null && proc.signalCode === null;
  }

  /** Node ids of the running brokers, ascending. */
  get liveIds(): number[] {
    return this.nodeIds.filter((id) => this.isLive(id));
  }

  /** The running brokers, by node id. */
  live(): BrokerProcess[] {
    return this.liveIds.map((id) => this.broker(id));
  }

  /** Every member's `host:port`, live or not: a client's bootstrap list, which it tries in turn. */
  bootstrap(): string[] {
    return this.nodeIds.map((id) => this.broker(id).bootstrap);
  }

  /** kill -9 broker `nodeId` and wait for its exit. */
  async kill(nodeId: number): Promise<void> {
    await this.broker(nodeId).kill();
  }

  /** SIGTERM (controlled shutdown) broker `nodeId`; its exit code. */
  async stopBroker(nodeId: number): Promise<number | null> {
    return this.broker(nodeId).stop();
  }

  /** SIGSTOP broker `nodeId`: alive, holding its connections, answering nothing. */
  pause(nodeId: number): void {
    this.broker(nodeId).proc.kill('SIGSTOP');
  }

  /** SIGCONT a paused broker. */
  resume(nodeId: number): void {
    this.broker(nodeId).proc.kill('SIGCONT');
  }

  /** Starts a dead broker again on its own data dir and port, with its overrides and `extra` (for this run only). */
  async restart(nodeId: number, extra: Overrides = {}): Promise<BrokerProcess> {
    if (this.isLive(nodeId)) throw new Error(`broker ${nodeId} is still running`);
    const old = this.broker(nodeId);
    const broker = await startBroker({ dataDir: old.dataDir, port: old.port, overrides: this.overrides(nodeId, { ...this.added.get(nodeId), ...extra }) });
    this.processes.set(nodeId, broker);
    return broker;
  }

  /** A temp dir removed with the cluster (e.g. the data dir of a broker expected to refuse to start). */
  tempDataDir(): string {
    const dir = tempDataDir();
    this.dataDirs.add(dir);
    return dir;
  }

  /** One etcd key through etcd's v3 JSON gateway: its value and create revision, or null when absent. */
  async etcdGet(key: string): Promise<{ value: string; createRevision: number } | null> {
    const response = await fetch(`${this.etcd.endpoint}/v3/kv/range`, { method: 'POST', body: JSON.stringify({ key: Buffer.from(key).toString('base64') }) });
    const kv = ((await response.json()) as { kvs?: Array<{ value: string; create_revision: string }> }).kvs?.[0];
    return kv === undefined ? null : { value: Buffer.from(kv.value, 'base64').toString(), createRevision: Number(kv.create_revision) };
  }

  /** The cluster's record of a partition in etcd (leader, epochs, ISR with broker epochs), or null. */
  async partitionState(topic: string, partition: number): Promise<PartitionState | null> {
    const kv = await this.etcdGet(this.keys().partition(topic, partition));
    return kv === null ? null : (JSON.parse(kv.value) as PartitionState);
  }

  /** Broker `nodeId`'s current broker epoch (its registration's create revision), or null when it is not registered. */
  async brokerEpoch(nodeId: number): Promise<number | null> {
    return (await this.etcdGet(this.keys().broker(nodeId)))?.createRevision ?? null;
  }

  /**
   * Whether etcd's record of the partition has `nodeId` in its ISR in the broker epoch of its
   * current registration. Metadata's ISR names node ids only: right after a restart it can still
   * list the previous run's entry, and a broker in sync only in an epoch it no longer has cannot
   * be elected.
   */
  async inSyncInCurrentEpoch(topic: string, partition: number, nodeId: number): Promise<boolean> {
    const epoch = await this.brokerEpoch(nodeId);
    const state = await this.partitionState(topic, partition);
    if (epoch === null || state === null) return false;
    return state.isr.some((m) => m.id === nodeId && m.brokerEpoch === epoch);
  }

  /**
   * Kills every broker, stops etcd (resumed first if a test paused it: a stopped process acts on
   * SIGTERM only once it runs again) and removes every data dir, also when stopping fails.
   */
  async stop(): Promise<void> {
    try {
      for (const broker of this.processes.values()) await broker.kill();
      if (this.etcd.proc.exitCode === null && this.etcd.proc.signalCode === null) this.etcd.proc.kill('SIGCONT');
      await this.etcd.stop();
    } finally {
      for (const dir of this.dataDirs) removeDir(dir);
    }
  }

  private keys(): ClusterKeys {
    return new ClusterKeys(this.options.prefix ?? DEFAULT_PREFIX);
  }
}

/** Metadata (v12) of one topic, asked of `broker`, without creating it. */
export async function topicMetadata(broker: { readonly port: number }, topic: string): Promise<MetadataResponse> {
  const client = await RawClient.connect(broker.port);
  try {
    return await client.request(3, 12, {
      topics: [{ name: topic, topicId: '00000000000000000000000000000000' }],
      allowAutoTopicCreation: false,
      includeTopicAuthorizedOperations: false,
    });
  } finally {
    client.close();
  }
}

/** One partition as a broker's Metadata shows it. */
export interface PartitionView {
  readonly partition: number;
  readonly leader: number;
  /** -1 when the answer has none. */
  readonly leaderEpoch: number;
  /** In Metadata's order (the preferred leader first). */
  readonly replicas: number[];
  /** Ascending. */
  readonly isr: number[];
}

/** Every partition of `topic` as `broker` sees it, by partition index. */
export async function partitionViews(broker: { readonly port: number }, topic: string): Promise<PartitionView[]> {
  return partitionsOf(await topicMetadata(broker, topic));
}

/** The partitions of a one-topic Metadata answer, by partition index. */
export function partitionsOf(answer: MetadataResponse): PartitionView[] {
  return [...answer.topics[0].partitions]
    .sort((a, b) => a.partitionIndex - b.partitionIndex)
    .map((p) => ({
      partition: p.partitionIndex,
      leader: p.leaderId,
      leaderEpoch: p.leaderEpoch ?? -1,
      replicas: [...p.replicaNodes],
      isr: [...p.isrNodes].sort((a, b) => a - b),
    }));
}

/** CreateTopics (v7) of one topic through `broker`: the topic's result (errorCode, numPartitions, replicationFactor, …). */
export async function createTopic(
  broker: { readonly port: number },
  topic: { name: string; partitions: number; replicationFactor: number; configs?: Record<string, string> },
) {
  const client = await RawClient.connect(broker.port);
  try {
    const created = await client.request(19, 7, {
      topics: [
        {
          name: topic.name,
          numPartitions: topic.partitions,
          replicationFactor: topic.replicationFactor,
          assignments: [],
          configs: Object.entries(topic.configs ?? {}).map(([name, value]) => ({ name, value })),
        },
      ],
      timeoutMs: 10_000,
      validateOnly: false,
    });
    return created.topics[0];
  } finally {
    client.close();
  }
}
