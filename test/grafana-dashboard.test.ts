// packages/broker/observability/grafana-dashboard.json, statically: importable as is into any
// Grafana (the data source is a variable, no instance is written in it), the rows the issue asks
// for, and queries only on series the broker registers (checked against the registry itself, as
// METRICS.md is) or that prometheus-rules.yml records. test/prometheus.test.ts runs every query
// against a live broker.

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { BrokerMetrics } from '../packages/broker/src/metrics/broker-metrics.ts';
import { DASHBOARD_FILE, RULES_FILE } from './support/prometheus.ts';
import { type Dashboard, dashboardPanels, dashboardQueries, selectorMetric, vectorSelectors } from './support/promql.ts';

const text = readFileSync(DASHBOARD_FILE, 'utf8');
interface DashboardFile extends Dashboard {
  readonly panels: Array<Dashboard['panels'][number] & { id: number; gridPos: { x: number; y: number; w: number; h: number } }>;
}
const dashboard = JSON.parse(text) as DashboardFile;

/** Every series name the broker exposes: registered metrics, histograms as their three series. */
function exposedSeries(): Set<string> {
  const out = new Set<string>();
  const metrics = new BrokerMetrics({ appendMode: 'mmap' });
  for (const m of metrics.registry.getMetricsAsArray() as unknown as Array<{ name: string; type: string }>) {
    if (m.type === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) out.add(m.name + suffix);
    else out.add(m.name);
  }
  return out;
}

describe('grafana-dashboard.json', () => {
  it('has a data source variable and uses it everywhere, with no instance written in', () => {
    const ds = dashboard.templating.list.find((v) => v.type === 'datasource');
    expect(ds).toMatchObject({ name: 'datasource', query: 'prometheus' });
    const uses: unknown[] = [];
    const walk = (node: unknown): void => {
      if (Array.isArray(node)) node.forEach(walk);
      else if (typeof node === 'object' && node !== null) {
        for (const [k, v] of Object.entries(node)) {
          if (k === 'datasource') uses.push(v);
          else walk(v);
        }
      }
    };
    walk(dashboard.panels);
    walk(dashboard.templating.list.filter((v) => v.type !== 'datasource'));
    expect(uses.length).toBeGreaterThan(12);
    for (const use of uses) expect(use).toEqual({ type: 'prometheus', uid: '${datasource}' });
    // No address, port or host name of a particular installation.
    expect(text).not.toMatch(/\b\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}\b|localhost|:9404|:9092/);
    for (const name of ['instance', 'topic', 'group']) expect(dashboard.templating.list.map((v) => v.name)).toContain(name);
  });

  it('has at least 12 panels, unique ids, and the rows the issue asks for', () => {
    const panels = dashboardPanels(dashboard);
    expect(panels.length).toBeGreaterThanOrEqual(12);
    const ids = dashboard.panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    const rows = dashboard.panels.filter((p) => p.type === 'row').map((p) => p.title);
    for (const row of [
      /throughput/i,
      /transfer modes.*zero-copy/i,
      /requests/i,
      /errors/i,
      /consumer groups/i,
      /log.*size.*segments.*retention/i,
      /flush/i,
      /connections/i,
    ]) {
      expect(
        rows.some((r) => row.test(r)),
        `${row}`,
      ).toBe(true);
    }
    for (const p of panels) expect(p.targets?.length ?? 0, p.title).toBeGreaterThan(0);
  });

  it('lays panels out without overlaps, within 24 columns', () => {
    const cells = new Set<string>();
    for (const p of dashboard.panels) {
      const { x, y, w, h } = p.gridPos;
      expect(x + w, p.title).toBeLessThanOrEqual(24);
      for (let i = x; i < x + w; i++) {
        for (let j = y; j < y + h; j++) {
          const cell = `${i},${j}`;
          expect(cells.has(cell), `${p.title} overlaps at ${cell}`).toBe(false);
          cells.add(cell);
        }
      }
    }
  });

  it("queries only the broker's series (sluice_*, process_*, nodejs_*) and the rules' recorded ones", () => {
    const exposed = exposedSeries();
    const recorded = new Set([...readFileSync(RULES_FILE, 'utf8').matchAll(/- record: (\S+)/g)].map((m) => m[1]));
    const unknown: string[] = [];
    for (const q of dashboardQueries(dashboard)) {
      for (const selector of vectorSelectors(q.expr)) {
        const name = selectorMetric(selector);
        expect(name).toMatch(/^(sluice_|sluice:|process_|nodejs_)/);
        if (!exposed.has(name) && !recorded.has(name)) unknown.push(`${q.where}: ${name}`);
      }
    }
    expect(unknown).toEqual([]);
  });
});
