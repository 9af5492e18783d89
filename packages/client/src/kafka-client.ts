// The cluster-aware client: bootstrap, Metadata, and one connection per broker, opened on demand
// from the addresses Metadata advertises. Operations (admin, producer, fetcher, groups) are
// functions over this client in their own files.
//
// Concurrency contract: one owner (e.g. one command run); its methods may be called concurrently
// (connection opening is de-duplicated per broker).

import { ApiKey, ErrorCode, ZERO_UUID } from '@sluice/protocol';
import { BrokerConnection, type ClientTlsOptions, type ConnectionOptions } from './connection.ts';
import type { SaslCredentials } from './sasl/authenticate.ts';
import { ClientError, ConnectionError, KafkaApiError, UsageError } from './errors.ts';

export const DEFAULT_BOOTSTRAP = '127.0.0.1:9092';

export interface ClientOptions {
  /** Comma-separated host:port list, as Kafka's --bootstrap-server. */
  readonly bootstrap: string;
  /** The client id in every request header. Default 'sluice-client'. */
  readonly clientId?: string;
  /** Sent in ApiVersions (KIP-511). Default 'sluice-client'. */
  readonly clientSoftwareName?: string;
  readonly connectTimeoutMs?: number;
  readonly requestTimeoutMs?: number;
  /** TLS to every broker (security.protocol SSL / SASL_SSL). */
  readonly tls?: ClientTlsOptions;
  /** SASL on every connection (security.protocol SASL_PLAINTEXT / SASL_SSL). */
  readonly sasl?: SaslCredentials;
}

export interface BrokerInfo {
  readonly nodeId: number;
  readonly host: string;
  readonly port: number;
  readonly rack: string | null;
}

export interface PartitionInfo {
  readonly partition: number;
  readonly errorCode: number;
  readonly leaderId: number;
  readonly leaderEpoch: number;
  readonly replicas: readonly number[];
  readonly isr: readonly number[];
  readonly offline: readonly number[];
}

export interface TopicInfo {
  readonly name: string;
  /** 32 hex chars; all zeros when the broker does not report ids (Metadata < v10). */
  readonly topicId: string;
  readonly errorCode: number;
  readonly isInternal: boolean;
  /** Sorted by partition index. */
  readonly partitions: readonly PartitionInfo[];
}

export interface ClusterMetadata {
  readonly clusterId: string | null;
  readonly controllerId: number;
  readonly brokers: ReadonlyMap<number, BrokerInfo>;
  readonly topics: ReadonlyMap<string, TopicInfo>;
}

/** Parses "host:port[,host:port…]" (IPv6 as "[::1]:9092"). Throws UsageError. */
export function parseBootstrap(list: string): Array<{ host: string; port: number }> {
  const out: Array<{ host: string; port: number }> = [];
  for (const raw of list.split(',')) {
    const entry = raw.trim();
    if (entry === '') continue;
    const m = /^\[([^\]]+)\]:(\d+)$/.exec(entry) ?? /^([^:[\]]+):(\d+)$/.exec(entry);
    const port = m === null ? NaN : Number(m[2]);
    if (m === null || !Number.isInteger(port) || port < 1 || port > 65535) {
      throw new UsageError(`invalid --bootstrap-server entry ${JSON.stringify(entry)}`, 'use host:port, e.g. 127.0.0.1:9092');
    }
    out.push({ host: m[1], port });
  }
  if (out.length === 0) throw new UsageError('--bootstrap-server is empty', 'use host:port, e.g. 127.0.0.1:9092');
  return out;
}

export class KafkaClient {
  readonly bootstrap: BrokerConnection;
  private readonly connectionOptions: ConnectionOptions;
  private readonly connections = new Map<number, Promise<BrokerConnection>>();
  private lastMetadata: ClusterMetadata | null = null;
  private closed = false;

  private constructor(bootstrap: BrokerConnection, connectionOptions: ConnectionOptions) {
    this.bootstrap = bootstrap;
    this.connectionOptions = connectionOptions;
  }

  /** Connects to the first reachable bootstrap server and negotiates versions with it. */
  static async connect(options: ClientOptions): Promise<KafkaClient> {
    const connectionOptions: ConnectionOptions = {
      clientId: options.clientId ?? 'sluice-client',
      clientSoftwareName: options.clientSoftwareName,
      connectTimeoutMs: options.connectTimeoutMs ?? 10_000,
      requestTimeoutMs: options.requestTimeoutMs ?? 30_000,
      tls: options.tls,
      sasl: options.sasl,
    };
    const errors: Error[] = [];
    for (const { host, port } of parseBootstrap(options.bootstrap)) {
      try {
        return new KafkaClient(await BrokerConnection.open(host, port, connectionOptions), connectionOptions);
      } catch (err) {
        errors.push(err as Error);
      }
    }
    if (errors.length === 1) throw errors[0];
    const first = errors[0] as ConnectionError;
    throw new ConnectionError(options.bootstrap, `no bootstrap server reachable (first: ${first.message})`, first instanceof ClientError ? first.hint : '');
  }

  /** The metadata of the last Metadata call, if any. */
  get cachedMetadata(): ClusterMetadata | null {
    return this.lastMetadata;
  }

  /**
   * Metadata for `topics` (null: every topic). Topic-level errors are left in TopicInfo.errorCode
   * for the caller to judge (an unknown topic is an answer, not a failure of the call).
   */
  async metadata(topics: readonly string[] | null, options: { allowAutoTopicCreation?: boolean } = {}): Promise<ClusterMetadata> {
    const conn = this.bootstrap;
    const version = conn.version(ApiKey.Metadata);
    let requestTopics: Array<{ name: string; topicId?: string }> | null;
    if (topics === null) requestTopics = version === 0 ? [] : null;
    else {
      // v0 cannot ask for "no topics" (an empty list means all of them); callers that want only
      // the brokers then simply get more than they need.
      requestTopics = topics.map((name) => ({ name, topicId: ZERO_UUID }));
    }
    const body = await conn.request(ApiKey.Metadata, {
      topics: requestTopics,
      allowAutoTopicCreation: options.allowAutoTopicCreation ?? false,
      includeTopicAuthorizedOperations: false,
      includeClusterAuthorizedOperations: false,
    });
    const brokers = new Map<number, BrokerInfo>();
    for (const b of body.brokers) brokers.set(b.nodeId, { nodeId: b.nodeId, host: b.host, port: b.port, rack: b.rack ?? null });
    const topicMap = new Map<string, TopicInfo>();
    for (const t of body.topics) {
      if (t.name === null) continue;
      // Fields a version lacks decode as their defaults; the `??` give the same to the type checker.
      const partitions: PartitionInfo[] = t.partitions
        .map((p) => ({
          partition: p.partitionIndex,
          errorCode: p.errorCode,
          leaderId: p.leaderId,
          leaderEpoch: p.leaderEpoch ?? -1,
          replicas: p.replicaNodes,
          isr: p.isrNodes,
          offline: p.offlineReplicas ?? [],
        }))
        .sort((a, b) => a.partition - b.partition);
      topicMap.set(t.name, { name: t.name, topicId: t.topicId ?? ZERO_UUID, errorCode: t.errorCode, isInternal: t.isInternal ?? false, partitions });
    }
    const md: ClusterMetadata = { clusterId: body.clusterId ?? null, controllerId: body.controllerId ?? -1, brokers, topics: topicMap };
    this.lastMetadata = md;
    return md;
  }

  /**
   * Metadata for one topic that must exist: retries briefly while the topic has no leader yet
   * (just created or auto-created), throws KafkaApiError when it does not exist.
   */
  async topic(name: string, options: { allowAutoTopicCreation?: boolean; waitMs?: number } = {}): Promise<TopicInfo> {
    const deadline = Date.now() + (options.waitMs ?? 5_000);
    for (;;) {
      const md = await this.metadata([name], { allowAutoTopicCreation: options.allowAutoTopicCreation });
      const t = md.topics.get(name);
      const code = t === undefined ? ErrorCode.UNKNOWN_TOPIC_OR_PARTITION : t.errorCode;
      const leaderless = t !== undefined && code === 0 && t.partitions.some((p) => p.leaderId < 0);
      if (code === 0 && !leaderless) return t!;
      const retriable =
        code === ErrorCode.LEADER_NOT_AVAILABLE || leaderless || (options.allowAutoTopicCreation === true && code === ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
      if (!retriable || Date.now() >= deadline) {
        throw new KafkaApiError('look up', `topic ${JSON.stringify(name)}`, code === 0 ? ErrorCode.LEADER_NOT_AVAILABLE : code);
      }
      await sleep(100);
    }
  }

  /** The connection to a broker by node id (from the latest metadata), opened on first use. */
  async node(nodeId: number): Promise<BrokerConnection> {
    if (this.closed) throw new ClientError('client is closed');
    const existing = this.connections.get(nodeId);
    if (existing !== undefined) {
      const conn = await existing.catch(() => null);
      if (conn?.isOpen) return conn;
      this.connections.delete(nodeId);
    }
    let info = this.lastMetadata?.brokers.get(nodeId);
    if (info === undefined) info = (await this.metadata([])).brokers.get(nodeId);
    if (info === undefined) throw new ClientError(`broker ${nodeId} is not in the cluster metadata`, 'the cluster changed; retry');
    // The bootstrap connection already reaches this broker when the addresses match.
    if (this.bootstrap.isOpen && info.host === this.bootstrap.host && info.port === this.bootstrap.port) {
      const p = Promise.resolve(this.bootstrap);
      this.connections.set(nodeId, p);
      return p;
    }
    const opening = BrokerConnection.open(info.host, info.port, this.connectionOptions);
    this.connections.set(nodeId, opening);
    return opening;
  }

  /** The controller (CreateTopics and friends go there), or the bootstrap broker when unknown. */
  async controller(): Promise<BrokerConnection> {
    const md = this.lastMetadata ?? (await this.metadata([]));
    return md.controllerId >= 0 && md.brokers.has(md.controllerId) ? this.node(md.controllerId) : this.bootstrap;
  }

  /** Connections to every broker in the metadata (ListGroups must ask each one). */
  async allBrokers(): Promise<Array<{ nodeId: number; conn: BrokerConnection }>> {
    const md = await this.metadata([]);
    const out: Array<{ nodeId: number; conn: BrokerConnection }> = [];
    for (const nodeId of [...md.brokers.keys()].sort((a, b) => a - b)) out.push({ nodeId, conn: await this.node(nodeId) });
    return out;
  }

  /** A connection to a host:port that is not (yet) a known node id: the group coordinator. */
  async nodeAt(nodeId: number, host: string, port: number): Promise<BrokerConnection> {
    const known = this.lastMetadata?.brokers.get(nodeId);
    if (known !== undefined && known.host === host && known.port === port) return this.node(nodeId);
    if (this.bootstrap.isOpen && host === this.bootstrap.host && port === this.bootstrap.port) return this.bootstrap;
    const key = -1000 - nodeId; // coordinators by address, apart from metadata-driven entries
    const existing = this.connections.get(key);
    if (existing !== undefined) {
      const conn = await existing.catch(() => null);
      if (conn?.isOpen && conn.host === host && conn.port === port) return conn;
    }
    const opening = BrokerConnection.open(host, port, this.connectionOptions);
    this.connections.set(key, opening);
    return opening;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const p of this.connections.values())
      p.then(
        (c) => c.close(),
        () => undefined,
      );
    this.connections.clear();
    this.bootstrap.close();
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
