import { describe, expect, it } from 'vitest';
import { serverProperties } from '../../kafka/kafka.ts';
import { parseOptions } from '../../run.ts';
import type { Cell, Metrics, Scenario, Target } from '../results.ts';
import { txnMetrics } from '../scenarios/txn.ts';
import { tlsTable } from './tls-table.ts';
import { Lookup } from './tables.ts';
import { txnTable } from './txn-table.ts';

function cell(scenario: Scenario, target: Target, mode: string, key: Record<string, string | number>, metrics: Metrics): Cell {
  return { scenario, target, mode, key, rep: 0, metrics, broker: null, syscallsNote: null, client: null };
}

describe('tls and txn scenarios', () => {
  it('run only when named', () => {
    expect(parseOptions([]).only).not.toContain('tls');
    expect(parseOptions([]).only).not.toContain('txn');
    expect(parseOptions(['--only', 'tls,txn']).only).toEqual(['tls', 'txn']);
  });

  it('table 6 gives TLS ÷ PLAINTEXT, ÷ raw rustls and Sluice ÷ Kafka', () => {
    const cells = [
      cell('tls', 'sluice', 'plaintext', { op: 'fetch' }, { mbPerS: 2000, cpuSPerGB: 0.2 }),
      cell('tls', 'sluice', 'tls', { op: 'fetch' }, { mbPerS: 1000, cpuSPerGB: 0.6 }),
      cell('tls', 'probe', 'tls', { op: 'fetch' }, { mbPerS: 1250, cpuSPerGB: 0.5 }),
      cell('tls', 'kafka', 'tls', { op: 'fetch' }, { mbPerS: 500, cpuSPerGB: 1.2 }),
    ];
    const t = tlsTable(new Lookup(cells));
    const row = t.rows.find((r) => r[0] === 'fetch' && r[1] === 'tls' && r[2] === 'sluice')!;
    const col = (name: string) => row[t.columns.indexOf(name)];
    expect(col('MB/s ÷plain')).toBe('0.50×');
    expect(col('CPU ÷plain')).toBe('3.00×');
    expect(col('÷raw rustls')).toBe('80%');
    expect(col('MB/s ÷kafka')).toBe('2.00×');
    expect(col('CPU ÷kafka')).toBe('0.50×');
    expect(t.rows.some((r) => r[2] === 'raw rustls' && r[3] === '1,250')).toBe(true);
  });

  it('table 7 compares committed throughput, CPU and commit p99 with Kafka', () => {
    const key = { recordBytes: 1024, batchBytes: 16384, batchesPerTxn: 8 };
    const cells = [
      cell('txn', 'sluice', 'sluice', key, { mbPerS: 300, cpuSPerGB: 2, commitP99Us: 1000 }),
      cell('txn', 'kafka', 'kafka', key, { mbPerS: 100, cpuSPerGB: 4, commitP99Us: 4000 }),
    ];
    const t = txnTable(new Lookup(cells));
    const row = t.rows.find((r) => r[1] === 'sluice' && r[0]!.includes('16KiB'))!;
    expect(row[t.columns.indexOf('MB/s ÷kafka')]).toBe('3.00×');
    expect(row[t.columns.indexOf('CPU ÷kafka')]).toBe('0.50×');
    expect(row[t.columns.indexOf('commit p99 ÷kafka')]).toBe('0.25×');
    expect(row[t.columns.indexOf('commit p99 ms')]).toBe('1.00');
  });

  it('txn metrics take the commit latency from the load generator', () => {
    const client = {
      client: { cpu_user_s: 0, cpu_sys_s: 0 },
      produce: { mb_per_s: 100, records_per_s: 1, bytes: 1e9, latency_us: { p50_us: 1, p99_us: 2, p999_us: 3 } },
      transactions: { per_s: 50, commit_latency_us: { p50_us: 400, p99_us: 900 } },
    };
    const m = txnMetrics({ client, broker: null, syscallsNote: null });
    expect(m).toMatchObject({ mbPerS: 100, txnPerS: 50, commitP50Us: 400, commitP99Us: 900 });
  });

  it('Kafka gets an SSL listener with the PEM key store when asked', () => {
    const props = serverProperties('/d', { broker: 1, controller: 2 }, { port: 3, props: { 'ssl.keystore.type': 'PEM' } });
    expect(props).toContain('listeners=PLAINTEXT://127.0.0.1:1,CONTROLLER://127.0.0.1:2,SSL://127.0.0.1:3\n');
    expect(props).toContain('advertised.listeners=PLAINTEXT://127.0.0.1:1,SSL://127.0.0.1:3\n');
    expect(props).toContain('listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT,SSL:SSL\n');
    expect(props).toContain('ssl.keystore.type=PEM\n');
    expect(serverProperties('/d', { broker: 1, controller: 2 })).not.toContain('SSL');
  });
});
