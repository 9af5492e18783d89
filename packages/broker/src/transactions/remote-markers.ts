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
// Concurrency: event loop only; one connection per leader broker (inter-broker-connections.ts),
// shared by every transaction.

import type { BrokerConnection } from '@sluice/client';
import { ErrorCode } from '@sluice/protocol';
import type { Logger } from '../logger.ts';
import type { BrokerEndpoint, InterBrokerConnections } from './inter-broker-connections.ts';
import type { MarkerRequest, MarkerWriteResult, TopicPartition } from './marker-writer.ts';

export type { BrokerEndpoint } from './inter-broker-connections.ts';

const WRITE_TXN_MARKERS_API_KEY = 27;
/** v1 is what every served version understands; v2's transactionVersion is not used (TV1). */
const WRITE_TXN_MARKERS_VERSION = 1;

export class RemoteMarkerSender {
  private readonly connections: InterBrokerConnections;
  private readonly logger: Logger;

  /** `connections`: the pool's requestTimeoutMs is how long a leader may take (it waits for its ISR). */
  constructor(connections: InterBrokerConnections, logger: Logger) {
    this.connections = connections;
    this.logger = logger;
  }

  /** Sends the markers of `request` for `partitions`, each to its leader's broker; results per partition. */
  async send(request: MarkerRequest, byLeader: ReadonlyMap<number, { endpoint: BrokerEndpoint; partitions: TopicPartition[] }>): Promise<MarkerWriteResult[]> {
    const sent = [...byLeader.values()].map(({ endpoint, partitions }) => this.sendTo(endpoint, request, partitions));
    return (await Promise.all(sent)).flat();
  }

  private async sendTo(leader: BrokerEndpoint, request: MarkerRequest, partitions: readonly TopicPartition[]): Promise<MarkerWriteResult[]> {
    const all = (errorCode: number) => partitions.map((tp) => ({ topic: tp.topic, partition: tp.partition, errorCode }));
    if (this.connections.closed) return all(ErrorCode.NETWORK_EXCEPTION);
    const byTopic = new Map<string, number[]>();
    for (const tp of partitions) byTopic.set(tp.topic, [...(byTopic.get(tp.topic) ?? []), tp.partition]);
    let connection: BrokerConnection;
    try {
      connection = await this.connections.connect(leader);
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
        { version: WRITE_TXN_MARKERS_VERSION, timeoutMs: this.connections.settings.requestTimeoutMs },
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
      this.connections.drop(leader.nodeId);
      return all(ErrorCode.NETWORK_EXCEPTION);
    }
  }
}
