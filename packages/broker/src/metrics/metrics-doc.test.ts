// METRICS.md (repo root) documents exactly the metrics the broker registers: same names, types
// and labels, no more, no fewer.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BrokerMetrics } from './broker-metrics.ts';

interface Documented {
  readonly type: string;
  readonly labels: string[];
}

/** Table rows `| \`name\` | type | \`label\`, … or — | text |`. */
function documented(markdown: string): Map<string, Documented> {
  const out = new Map<string, Documented>();
  for (const line of markdown.split('\n')) {
    const m = /^\| `([a-z_:][a-z0-9_:]*)` \| (\w+) \| ([^|]*) \|/.exec(line);
    if (m === null) continue;
    if (out.has(m[1])) throw new Error(`METRICS.md documents ${m[1]} twice`);
    const labels = m[3].trim() === '—' ? [] : [...m[3].matchAll(/`([a-z_]+)`/g)].map((l) => l[1]);
    out.set(m[1], { type: m[2], labels });
  }
  return out;
}

function registered(): Map<string, Documented> {
  const metrics = new BrokerMetrics({ appendMode: 'mmap' });
  const out = new Map<string, Documented>();
  for (const metric of metrics.registry.getMetricsAsArray() as unknown as Array<{ name: string; type: string; labelNames?: readonly string[] }>) {
    out.set(metric.name, { type: metric.type, labels: [...(metric.labelNames ?? [])] });
  }
  return out;
}

describe('METRICS.md', () => {
  const doc = documented(readFileSync(join(import.meta.dirname, '..', '..', '..', '..', 'METRICS.md'), 'utf8'));
  const code = registered();

  it('documents every registered metric', () => {
    expect([...code.keys()].filter((name) => !doc.has(name))).toEqual([]);
  });

  it('documents no metric that is not registered', () => {
    expect([...doc.keys()].filter((name) => !code.has(name))).toEqual([]);
  });

  it('gives each metric its registered type and labels', () => {
    for (const [name, want] of code) expect({ name, ...doc.get(name) }).toEqual({ name, ...want });
  });

  it('prefixes every Sluice metric and names units and counters by convention', () => {
    const sluice = [...code.keys()].filter((n) => !n.startsWith('process_') && !n.startsWith('nodejs_'));
    for (const name of sluice) expect(name).toMatch(/^sluice_/);
    for (const [name, { type }] of code) {
      if (type === 'counter') expect(name).toMatch(/_total$/);
      if (type === 'histogram') expect(name).toMatch(/_seconds$/);
    }
  });
});
