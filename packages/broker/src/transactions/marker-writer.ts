// How the coordinator gets COMMIT/ABORT markers into the partitions of a finished transaction.
// In Kafka the coordinator sends WriteTxnMarkers to each partition's leader; here every partition
// is local, so the broker's MarkerWriter appends a control batch (buildEndTxnMarkerBatch from
// @sluice/protocol) to each partition's native log directly — see README.md for what that append
// must do on the Rust side (producer state, LSO, .txnindex). Tests use MemoryMarkerWriter.
//
// Contract: `write` appends one marker to each listed partition and resolves, per partition,
// with the Kafka error code of that append once it is as durable as the ack policy requires
// (0 = written). It never rejects for a per-partition failure. The coordinator retries
// partitions that answer a retriable error and counts UNKNOWN_TOPIC_OR_PARTITION as done (the
// partition was deleted: there is nothing left to mark), as Kafka's marker channel does.
//
// Concurrency: event loop only. Markers for one transaction are never written twice
// concurrently: the coordinator sends the next attempt only after the previous one settled.

export interface TopicPartition {
  readonly topic: string;
  readonly partition: number;
}

export type TransactionResult = 'COMMIT' | 'ABORT';

export interface MarkerRequest {
  readonly transactionalId: string;
  readonly producerId: number;
  readonly producerEpoch: number;
  readonly result: TransactionResult;
  /** The coordinator's epoch (the __transaction_state partition's leader epoch). */
  readonly coordinatorEpoch: number;
  /** WriteTxnMarkers v2's transactionVersion: 0/1 classic, 2 = KIP-890 part 2. */
  readonly transactionVersion: number;
  readonly partitions: readonly TopicPartition[];
}

export interface MarkerWriteResult extends TopicPartition {
  readonly errorCode: number;
}

export interface MarkerWriter {
  write(request: MarkerRequest): Promise<readonly MarkerWriteResult[]>;
}

export function partitionKey(tp: TopicPartition): string {
  return `${tp.topic}\u0000${tp.partition}`;
}
