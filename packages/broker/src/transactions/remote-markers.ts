// Cluster mode: transaction markers for partitions another broker leads, sent to that leader as
// Kafka's coordinator sends them — one WriteTxnMarkers request per leader broker (v1: COMMIT or
// ABORT, the producer id and epoch, the coordinator epoch, the partitions), over the
// inter-broker listener through @sluice/client's connection (the one replica fetchers use). The
// leader appends each marker through its own PartitionMarkerWriter and answers per partition once
// its in-sync replicas have it.
//
// Results per partition, never a rejection: the leader's codes; NOT_LEADER_OR_FOLLOWER when no
// leader is known; NETWORK_EXCEPTION when the leader cannot be reached or does not answer (the
// connection is dropped and dialled again next time). The coordinator retries the retriable ones
// after its backoff, and each retry looks the leader up again (Kafka's marker channel re-resolves
// the leader on NOT_LEADER_OR_FOLLOWER the same way).
//
// Concurrency: event loop only; one connection per leader broker, shared by every transaction.

import type { BrokerConnection, ConnectionOptions } from '@sluice/client';
import { ErrorCode } from '@sluice/protocol';
import type { Logger } from '../logger.ts';
import type { MarkerRequest, MarkerWriteResult, TopicPartition } from './marker-writer.ts';

const WRITE_TXN_MARKERS_API_KEY = 27;
/** v1 is what every served version understands; v2's transactionVersion is not used (TV1). */
const WRITE_TXN_MARKERS_VERSION = 1;

export interface BrokerEndpoint {
  readonly nodeId: number;
  readonly host: string;
  readonly port: number;
}

export interface RemoteMarkerSettings {
  readonly nodeId: number;
  /** How long a leader may take to answer (it waits for its in-sync replicas). */
  readonly requestTimeoutMs: number;
  /** TLS / SASL of the inter-broker listener, as the replica fetchers connect (cluster/inter-broker-security.ts). */
  readonly security?: Pick<ConnectionOptions, 'tls' | 'sasl'>;
}

export class RemoteMarkerSender {
  private readonly settings: RemoteMarkerSettings;
  private readonly logger: Logger;
  private readonly connections = new Map<number, { endpoint: BrokerEndpoint; connection: Promise<BrokerConnection> }>();
  private closed = false;

  constructor(settings: RemoteMarkerSettings, logger: Logger) {
    this.settings = settings;
    this.logger = logger;
  }

  /** Sends the markers of `request` for `partitions`, each to its leader's broker; results per partition. */
  async send(request: MarkerRequest, byLeader: ReadonlyMap<number, { endpoint: BrokerEndpoint; partitions: TopicPartition[] }>): Promise<MarkerWriteResult[]> {
    const sent = [...byLeader.values()].map(({ endpoint, partitions }) => this.sendTo(endpoint, request, partitions));
    return (await Promise.all(sent)).flat();
  }

  private async sendTo(leader: BrokerEndpoint, request: MarkerRequest, partitions: readonly TopicPartition[]): Promise<MarkerWriteResult[]> {
    const all = (errorCode: number) => partitions.map((tp) => ({ topic: tp.topic, partition: tp.partition, errorCode }));
    if (this.closed) return all(ErrorCode.NETWORK_EXCEPTION);
    const byTopic = new Map<string, number[]>();
    for (const tp of partitions) byTopic.set(tp.topic, [...(byTopic.get(tp.topic) ?? []), tp.partition]);
    let connection: BrokerConnection;
    try {
      connection = await this.connect(leader);
      const response = await connection.request(
        WRITE_TXN_MARKERS_API_KEY,
        {
          markers: [
            {
              producerId: request.producerId,
              producerEpoch: request.producerEpoch,
              transactionResult: request.result === 'COMMIT',
              topics: [...byTopic].map(([name, partitionIndexes]) => ({ name, partitionIndexes })),
              coordinatorEpoch: request.coordinatorEpoch,
            },
          ],
        },
        { version: WRITE_TXN_MARKERS_VERSION, timeoutMs: this.settings.requestTimeoutMs },
      );
      const codes = new Map<string, number>();
      for (const m of response.markers) for (const t of m.topics) for (const p of t.partitions) codes.set(`${t.name}\u0000${p.partitionIndex}`, p.errorCode);
      return partitions.map((tp) => ({
        topic: tp.topic,
        partition: tp.partition,
        errorCode: codes.get(`${tp.topic}\u0000${tp.partition}`) ?? ErrorCode.UNKNOWN_SERVER_ERROR,
      }));
    } catch (err) {
      this.logger.warn(
        { leader: leader.nodeId, transactionalId: request.transactionalId, err: err instanceof Error ? err.message : String(err) },
        'sending transaction markers to a partition leader failed; retrying',
      );
      this.drop(leader.nodeId);
      return all(ErrorCode.NETWORK_EXCEPTION);
    }
  }

  private connect(leader: BrokerEndpoint): Promise<BrokerConnection> {
    const known = this.connections.get(leader.nodeId);
    if (known !== undefined && known.endpoint.host === leader.host && known.endpoint.port === leader.port) return known.connection;
    if (known !== undefined) this.drop(leader.nodeId);
    // The client loads on first use: a single broker never sends markers to another (and its
    // start does not load the client: test/startup-modules.test.ts).
    const connection = import('@sluice/client').then(({ BrokerConnection }) =>
      BrokerConnection.open(leader.host, leader.port, {
        clientId: `sluice-txn-markers-${this.settings.nodeId}`,
        connectTimeoutMs: this.settings.requestTimeoutMs,
        requestTimeoutMs: this.settings.requestTimeoutMs,
        ...this.settings.security,
      }),
    );
    // A failed dial is forgotten so the next attempt dials again.
    connection.catch(() => this.connections.get(leader.nodeId)?.connection === connection && this.connections.delete(leader.nodeId));
    this.connections.set(leader.nodeId, { endpoint: leader, connection });
    return connection;
  }

  private drop(nodeId: number): void {
    const known = this.connections.get(nodeId);
    if (known === undefined) return;
    this.connections.delete(nodeId);
    known.connection.then(
      (c) => c.close(),
      () => undefined,
    );
  }

  /** Closes every connection; later sends answer NETWORK_EXCEPTION. */
  close(): void {
    this.closed = true;
    for (const nodeId of [...this.connections.keys()]) this.drop(nodeId);
  }
}
