// A MarkerWriter for coordinator tests: remembers every marker written per partition, can hold
// writes until released (to observe a transaction between PrepareCommit and CompleteCommit, or
// to "crash" there), and can answer chosen partitions with an error a given number of times.

import { ErrorCode } from '@sluice/protocol';
import { type MarkerRequest, type MarkerWriteResult, type MarkerWriter, partitionKey, type TopicPartition } from './marker-writer.ts';

export interface WrittenMarker {
  readonly producerId: number;
  readonly producerEpoch: number;
  readonly result: 'COMMIT' | 'ABORT';
  readonly coordinatorEpoch: number;
  readonly transactionVersion: number;
}

export class MemoryMarkerWriter implements MarkerWriter {
  /** Every write call, in order. */
  readonly requests: MarkerRequest[] = [];
  private readonly written = new Map<string, WrittenMarker[]>();
  private readonly failures = new Map<string, number[]>();
  private held: Array<() => void> | null = null;

  /** The next `times` writes to this partition answer `errorCode` (nothing is written). */
  failPartition(tp: TopicPartition, errorCode: number, times = 1): void {
    const key = partitionKey(tp);
    const queue = this.failures.get(key) ?? [];
    for (let i = 0; i < times; i++) queue.push(errorCode);
    this.failures.set(key, queue);
  }

  /** Writes wait (nothing is written) until `release()`. */
  hold(): void {
    this.held ??= [];
  }

  release(): void {
    const held = this.held ?? [];
    this.held = null;
    for (const run of held) run();
  }

  get heldCount(): number {
    return this.held?.length ?? 0;
  }

  markers(tp: TopicPartition): readonly WrittenMarker[] {
    return this.written.get(partitionKey(tp)) ?? [];
  }

  get markerCount(): number {
    let n = 0;
    for (const list of this.written.values()) n += list.length;
    return n;
  }

  write(request: MarkerRequest): Promise<readonly MarkerWriteResult[]> {
    this.requests.push(request);
    return new Promise((resolve) => {
      const run = () => {
        resolve(
          request.partitions.map((tp) => {
            const key = partitionKey(tp);
            const failure = this.failures.get(key)?.shift();
            if (failure !== undefined) return { ...tp, errorCode: failure };
            const list = this.written.get(key) ?? [];
            list.push({
              producerId: request.producerId,
              producerEpoch: request.producerEpoch,
              result: request.result,
              coordinatorEpoch: request.coordinatorEpoch,
              transactionVersion: request.transactionVersion,
            });
            this.written.set(key, list);
            return { ...tp, errorCode: ErrorCode.NONE };
          }),
        );
      };
      if (this.held !== null) this.held.push(run);
      else run();
    });
  }
}
