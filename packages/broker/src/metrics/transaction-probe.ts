// The transaction probe: transactions begun, committed, aborted and timed out, counted as the
// coordinator reports them (it implements the coordinator's TransactionProbe); open transactions
// read from the coordinator at scrape time; and per partition the LSO lag — how far the last
// stable offset trails the high watermark, i.e. what read_committed consumers cannot see yet.

import type { Registry } from 'prom-client';
import type { TopicRegistry } from '../topics.ts';
import type { TransactionProbe as CoordinatorProbe } from '../transactions/coordinator.ts';
import type { TransactionResult } from '../transactions/marker-writer.ts';
import { type CounterChild, CounterFamily, GaugeFamily } from './families.ts';

/** What a scrape reads of the coordinator. */
export interface OpenTransactions {
  readonly openTransactionCount: number;
}

export class TransactionProbe implements CoordinatorProbe {
  private readonly begun: CounterChild;
  private readonly committed: CounterChild;
  private readonly aborted: CounterChild;
  private readonly timedOut: CounterChild;
  private readonly open: GaugeFamily;
  private readonly lsoLag: GaugeFamily;

  constructor(registry: Registry) {
    const ended = new CounterFamily(registry, {
      name: 'sluice_transactions_completed_total',
      help: 'Transactions completed (every marker written), by result.',
      labelNames: ['result'],
    });
    this.committed = ended.child('commit');
    this.aborted = ended.child('abort');
    this.begun = new CounterFamily(registry, {
      name: 'sluice_transactions_begun_total',
      help: 'Transactions begun (the first partition or group added).',
      labelNames: [],
    }).child();
    this.timedOut = new CounterFamily(registry, {
      name: 'sluice_transactions_timed_out_total',
      help: 'Transactions aborted by the coordinator because they ran past their transaction.timeout.ms.',
      labelNames: [],
    }).child();
    this.open = new GaugeFamily(registry, {
      name: 'sluice_transactions_open',
      help: 'Transactions open or being completed (Ongoing, PrepareCommit, PrepareAbort).',
      labelNames: [],
    });
    this.lsoLag = new GaugeFamily(registry, {
      name: 'sluice_partition_lso_lag',
      help: 'Offsets between the last stable offset and the high watermark (records read_committed consumers cannot read yet).',
      labelNames: ['topic', 'partition'],
    });
  }

  transactionStarted(): void {
    this.begun.inc();
  }

  transactionCompleted(result: TransactionResult): void {
    (result === 'COMMIT' ? this.committed : this.aborted).inc();
  }

  transactionTimedOut(): void {
    this.timedOut.inc();
  }

  /** Scrape time: open transactions, and the LSO lag of each partition where it is not 0. */
  refresh(coordinator: OpenTransactions | null, topics: TopicRegistry): void {
    this.open.beginRefresh();
    if (coordinator !== null) this.open.set(coordinator.openTransactionCount);
    this.open.endRefresh();
    this.lsoLag.beginRefresh();
    for (const topic of topics.topics) {
      for (const partition of topic.partitions) {
        if (partition.offline) continue;
        const lag = partition.highWatermark - partition.lastStableOffset;
        if (lag > 0) this.lsoLag.set(lag, topic.name, String(partition.index));
      }
    }
    this.lsoLag.endRefresh();
  }
}
