// Table 7 (`--only tls`): fetch and produce over PLAINTEXT and TLS, per broker, with TLS ÷
// PLAINTEXT and Sluice ÷ Kafka for throughput and broker CPU per GB.

import { TLS_CIPHER_SUITE, TLS_OPS, TLS_TRANSPORTS } from '../scenarios/tls.ts';
import { fmt, fmtPct, fmtRatio, ratio } from '../units.ts';
import type { Table } from './table.ts';
import type { Lookup } from './tables.ts';

export function tlsTable(l: Lookup): Table {
  const kafka = l.has('kafka');
  const columns = ['op', 'transport', 'broker', 'MB/s', 'CPU s/GB', 'MB/s ÷plain', 'CPU ÷plain', '÷raw rustls'];
  if (kafka) columns.push('MB/s ÷kafka', 'CPU ÷kafka');
  const rows: string[][] = [];
  for (const op of TLS_OPS) {
    for (const transport of TLS_TRANSPORTS) {
      for (const target of kafka ? (['sluice', 'kafka'] as const) : (['sluice'] as const)) {
        const g = (mode: string, t: 'sluice' | 'kafka', m: 'mbPerS' | 'cpuSPerGB') => l.get('tls', t, mode, { op }, m);
        const mb = g(transport, target, 'mbPerS');
        const cpu = g(transport, target, 'cpuSPerGB');
        const row = [
          op,
          transport,
          target,
          fmt(mb),
          fmt(cpu),
          transport === 'tls' ? fmtRatio(ratio(mb, g('plaintext', target, 'mbPerS'))) : '',
          transport === 'tls' ? fmtRatio(ratio(cpu, g('plaintext', target, 'cpuSPerGB'))) : '',
          transport === 'tls' && op === 'fetch' ? fmtPct(ratio(mb, l.get('tls', 'probe', 'tls', { op }, 'mbPerS'))) : '',
        ];
        if (kafka) {
          row.push(
            target === 'sluice' ? fmtRatio(ratio(mb, g(transport, 'kafka', 'mbPerS'))) : '',
            target === 'sluice' ? fmtRatio(ratio(cpu, g(transport, 'kafka', 'cpuSPerGB'))) : '',
          );
        }
        rows.push(row);
      }
      if (op === 'fetch' && transport === 'tls') {
        const raw = (m: 'mbPerS' | 'cpuSPerGB') => l.get('tls', 'probe', 'tls', { op }, m);
        rows.push([op, transport, 'raw rustls', fmt(raw('mbPerS')), fmt(raw('cpuSPerGB'))]);
      }
    }
  }
  return {
    title: '7. TLS vs PLAINTEXT (same broker, both listeners; same certificates and load generator)',
    notes: [
      `TLS: rustls client offering only ${TLS_CIPHER_SUITE}; server certificate RSA 2048 from a run-time CA, ssl.keystore.type=PEM on both brokers.`,
      'fetch: 1 consumer re-reading a page-cached topic (read-1MiB receiver); produce: acks=1, 1 KiB records, 1 MiB batches.',
      'CPU s/GB: the broker process (utime+stime) per GB moved; the client decrypts/encrypts on the same cores.',
      'raw rustls: loadgen probe-tls, one thread preading the page-cached file in 16 KiB records and encrypting to one decrypting receiver (CPU: the sending thread). ÷raw rustls: TLS fetch ÷ that probe.',
    ],
    columns,
    labelColumns: 3,
    rows,
  };
}
