// Cluster mode: a partition leader asks a transactional id's coordinator on another broker whether
// partitions are in the producer's ongoing transaction — AddPartitionsToTxn v4 with VerifyOnly,
// the inter-broker half of KIP-890 part 1, as Kafka's AddPartitionsToTxnManager sends it.
//
// Batching, as Kafka's manager: per coordinator broker at most one request in flight; the
// verifications that arrive meanwhile wait in one queue per broker (one entry per transactional
// id) and leave together as the next request. Two verifications of the same id, producer id and
// epoch share one entry (their partitions merged; each caller gets its own partitions' answers).
// With different epochs the lower one is fenced (INVALID_PRODUCER_EPOCH) at once; the same epoch
// with another producer id displaces the queued one with NETWORK_EXCEPTION, as Kafka does (the
// producer retries).
//
// Answers per partition, never a rejection: the coordinator's codes as it sends them (the
// produce path maps them for the client: handlers/produce-verification.ts); NETWORK_EXCEPTION when
// the coordinator cannot be reached or does not answer in the request timeout (the connection is
// dropped and dialled again next time); a top-level error for every partition, except that
// CLUSTER_AUTHORIZATION_FAILED becomes INVALID_TXN_STATE (Kafka: a client must not see the
// inter-broker principal's authorization failure).
//
// Concurrency: event loop only.

import { ErrorCode } from '@sluice/protocol';
import type { Logger } from '../logger.ts';
import type { PartitionError, TxnPartitionsInput } from './coordinator.ts';
import type { BrokerEndpoint, InterBrokerConnections } from './inter-broker-connections.ts';
import type { TopicPartition } from './marker-writer.ts';

const ADD_PARTITIONS_TO_TXN_API_KEY = 24;
/** v4 is the first with VerifyOnly and batched transactions; v5 only adds TRANSACTION_ABORTABLE. */
const ADD_PARTITIONS_TO_TXN_VERSION = 5;

const key = (tp: TopicPartition) => `${tp.topic}\u0000${tp.partition}`;

interface Waiter {
  readonly partitions: readonly TopicPartition[];
  readonly resolve: (results: PartitionError[]) => void;
}

/** One transactional id's verification waiting for the next request to its coordinator. */
interface Queued {
  readonly transactionalId: string;
  readonly producerId: number;
  readonly producerEpoch: number;
  readonly partitions: Map<string, TopicPartition>;
  readonly waiters: Waiter[];
}

interface CoordinatorQueue {
  endpoint: BrokerEndpoint;
  queued: Map<string, Queued>;
  inFlight: boolean;
}

export class RemoteTxnVerifier {
  private readonly connections: InterBrokerConnections;
  private readonly logger: Logger;
  private readonly queues = new Map<number, CoordinatorQueue>();

  constructor(connections: InterBrokerConnections, logger: Logger) {
    this.connections = connections;
    this.logger = logger;
  }

  /** Verifies `input.partitions` at `coordinator`; resolves with one code per partition, in order. */
  verify(coordinator: BrokerEndpoint, input: TxnPartitionsInput): Promise<PartitionError[]> {
    const all = (errorCode: number) => input.partitions.map((tp) => ({ ...tp, errorCode }));
    if (this.connections.closed) return Promise.resolve(all(ErrorCode.NETWORK_EXCEPTION));
    let queue = this.queues.get(coordinator.nodeId);
    if (queue === undefined) this.queues.set(coordinator.nodeId, (queue = { endpoint: coordinator, queued: new Map(), inFlight: false }));
    queue.endpoint = coordinator;
    const existing = queue.queued.get(input.transactionalId);
    if (existing !== undefined && existing.producerEpoch > input.producerEpoch) return Promise.resolve(all(ErrorCode.INVALID_PRODUCER_EPOCH));
    const result = new Promise<PartitionError[]>((resolve) => {
      const waiter: Waiter = { partitions: input.partitions, resolve };
      if (existing !== undefined && existing.producerId === input.producerId && existing.producerEpoch === input.producerEpoch) {
        for (const tp of input.partitions) existing.partitions.set(key(tp), tp);
        existing.waiters.push(waiter);
        return;
      }
      if (existing !== undefined) {
        // Kafka's rule: a newer epoch fences the queued one; the same epoch (another producer id,
        // or a retry) displaces it with a retriable error.
        const displaced = existing.producerEpoch < input.producerEpoch ? ErrorCode.INVALID_PRODUCER_EPOCH : ErrorCode.NETWORK_EXCEPTION;
        for (const w of existing.waiters) w.resolve(w.partitions.map((tp) => ({ ...tp, errorCode: displaced })));
      }
      queue.queued.set(input.transactionalId, {
        transactionalId: input.transactionalId,
        producerId: input.producerId,
        producerEpoch: input.producerEpoch,
        partitions: new Map(input.partitions.map((tp) => [key(tp), tp])),
        waiters: [waiter],
      });
    });
    // The verifications of the same I/O turn leave together.
    if (!queue.inFlight) setImmediate(() => this.sendNext(coordinator.nodeId));
    return result;
  }

  private sendNext(nodeId: number): void {
    const queue = this.queues.get(nodeId);
    if (queue === undefined || queue.inFlight) return;
    if (queue.queued.size === 0) {
      this.queues.delete(nodeId);
      return;
    }
    const batch = [...queue.queued.values()];
    queue.queued = new Map();
    queue.inFlight = true;
    void this.send(queue.endpoint, batch).then((codes) => {
      for (const txn of batch) {
        for (const w of txn.waiters) w.resolve(w.partitions.map((tp) => ({ ...tp, errorCode: codes(txn.transactionalId, tp) })));
      }
      queue.inFlight = false;
      this.sendNext(nodeId);
    });
  }

  /** One AddPartitionsToTxn VerifyOnly request; resolves with the code of each (id, partition). */
  private async send(coordinator: BrokerEndpoint, batch: readonly Queued[]): Promise<(transactionalId: string, tp: TopicPartition) => number> {
    if (this.connections.closed) return () => ErrorCode.NETWORK_EXCEPTION;
    try {
      const connection = await this.connections.connect(coordinator);
      const response = await connection.request(
        ADD_PARTITIONS_TO_TXN_API_KEY,
        {
          transactions: batch.map((txn) => {
            const byTopic = new Map<string, number[]>();
            for (const tp of txn.partitions.values()) byTopic.set(tp.topic, [...(byTopic.get(tp.topic) ?? []), tp.partition]);
            return {
              transactionalId: txn.transactionalId,
              producerId: txn.producerId,
              producerEpoch: txn.producerEpoch,
              verifyOnly: true,
              topics: [...byTopic].map(([name, partitions]) => ({ name, partitions })),
            };
          }),
        },
        { version: ADD_PARTITIONS_TO_TXN_VERSION, timeoutMs: this.connections.settings.requestTimeoutMs },
      );
      const topLevel = response.errorCode ?? ErrorCode.NONE;
      if (topLevel !== ErrorCode.NONE) {
        this.logger.warn({ coordinator: coordinator.nodeId, errorCode: topLevel }, 'the transaction coordinator refused a verification request');
        const code = topLevel === ErrorCode.CLUSTER_AUTHORIZATION_FAILED ? ErrorCode.INVALID_TXN_STATE : topLevel;
        return () => code;
      }
      const codes = new Map<string, number>();
      for (const t of response.resultsByTransaction ?? [])
        for (const r of t.topicResults)
          for (const p of r.resultsByPartition)
            codes.set(`${t.transactionalId}\u0000${key({ topic: r.name, partition: p.partitionIndex })}`, p.partitionErrorCode);
      return (transactionalId, tp) => codes.get(`${transactionalId}\u0000${key(tp)}`) ?? ErrorCode.UNKNOWN_SERVER_ERROR;
    } catch (err) {
      this.logger.warn(
        { coordinator: coordinator.nodeId, err: err instanceof Error ? err.message : String(err) },
        'verifying transactions with their coordinator failed; the producers retry',
      );
      this.connections.drop(coordinator.nodeId);
      return () => ErrorCode.NETWORK_EXCEPTION;
    }
  }
}
