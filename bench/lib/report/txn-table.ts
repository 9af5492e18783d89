// Table 8 (`--only txn`): transactional produce per broker, with Sluice ÷ Kafka for committed
// throughput, CPU per GB and commit latency.

import type { Metrics } from '../results.ts';
import { TXN_CELLS, txnKey, txnLabel } from '../scenarios/txn.ts';
import { fmt, fmtRatio, ratio } from '../units.ts';
import type { Table } from './table.ts';
import type { Lookup } from './tables.ts';

export function txnTable(l: Lookup): Table {
  const kafka = l.has('kafka');
  const columns = ['cell', 'broker', 'MB/s', 'txn/s', 'CPU s/GB', 'commit p50 ms', 'commit p99 ms', 'produce p99 ms'];
  if (kafka) columns.push('MB/s ÷kafka', 'CPU ÷kafka', 'commit p99 ÷kafka');
  const rows: string[][] = [];
  const ms = (us: number | null) => (us === null ? null : us / 1000);
  for (const c of TXN_CELLS) {
    for (const target of kafka ? (['sluice', 'kafka'] as const) : (['sluice'] as const)) {
      const g = (t: 'sluice' | 'kafka', m: keyof Metrics) => l.get('txn', t, t, txnKey(c), m);
      const row = [
        txnLabel(c),
        target,
        fmt(g(target, 'mbPerS')),
        fmt(g(target, 'txnPerS')),
        fmt(g(target, 'cpuSPerGB')),
        fmt(ms(g(target, 'commitP50Us'))),
        fmt(ms(g(target, 'commitP99Us'))),
        fmt(ms(g(target, 'produceP99Us'))),
      ];
      if (kafka) {
        const vs = (m: keyof Metrics) => (target === 'sluice' ? fmtRatio(ratio(g('sluice', m), g('kafka', m))) : '');
        row.push(vs('mbPerS'), vs('cpuSPerGB'), vs('commitP99Us'));
      }
      rows.push(row);
    }
  }
  return {
    title: '8. Transactional produce (loadgen txn-produce: AddPartitionsToTxn, N batches acks=-1, EndTxn commit)',
    notes: [
      'MB/s and records count only committed transactions; commit latency = EndTxn request → response; 5 produce requests in flight, 4 partitions.',
      'CPU s/GB: the broker process per committed GB.',
    ],
    columns,
    labelColumns: 2,
    rows,
  };
}
