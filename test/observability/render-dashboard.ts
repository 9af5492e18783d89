// Renders packages/broker/observability/grafana-dashboard.json the way a user sees it, from a live
// broker under load scraped by a real Prometheus: every panel's queries go through Prometheus's
// HTTP API exactly as Grafana sends them (variables substituted), the answers are drawn with uPlot
// in a static page laid out on the dashboard's grid, and Debian's Chromium (driven by
// puppeteer-core) screenshots it. A one-off command, not part of `pnpm test`:
//
//   pnpm exec node test/observability/render-dashboard.ts [--seconds 90] [--out FILE.png] [--html FILE.html]
//
// Default output: packages/broker/observability/dashboard.png (the README shows it). Needs
// `prometheus` and `chromium` (apt-get install prometheus chromium).

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import puppeteer from 'puppeteer-core';
import { type ObservedBroker, startObservedBroker } from '../support/observed-broker.ts';
import { DASHBOARD_FILE, OBSERVABILITY_DIR, requirePrometheus } from '../support/prometheus.ts';
import { escapeRegex, type GrafanaVariables, substituteGrafanaVariables } from '../support/promql.ts';

const CHROMIUM = '/usr/bin/chromium';
const STEP_SECONDS = 2;

interface Target {
  readonly refId: string;
  readonly expr: string;
  readonly legendFormat?: string;
}

interface Panel {
  readonly type: string;
  readonly title: string;
  readonly gridPos: { x: number; y: number; w: number; h: number };
  readonly targets?: Target[];
  readonly fieldConfig?: {
    defaults?: { unit?: string; min?: number; max?: number; custom?: { stacking?: { mode?: string } } };
    overrides?: Array<{ matcher: { id: string; options: string }; properties: Array<{ id: string; value: unknown }> }>;
  };
}

/** What the page draws for one panel: series over time, single values or table rows. */
interface RenderedPanel {
  readonly type: string;
  readonly title: string;
  readonly gridPos: Panel['gridPos'];
  readonly unit: string;
  /** Units of fields named in the panel's overrides (`byName`), by display name. */
  readonly units: Record<string, string>;
  readonly stacked: boolean;
  readonly min?: number;
  readonly max?: number;
  readonly series?: Array<{ label: string; values: Array<number | null> }>;
  readonly times?: number[];
  readonly stats?: Array<{ label: string; value: number | null }>;
  readonly table?: { columns: string[]; rows: string[][] };
}

interface PromSeries {
  metric: Record<string, string>;
  values?: Array<[number, string]>;
  value?: [number, string];
}

function legend(format: string | undefined, metric: Record<string, string>, fallback: string): string {
  if (format === undefined || format === '') {
    const labels = Object.entries(metric).filter(([k]) => k !== '__name__');
    return labels.length === 0 ? fallback : labels.map(([k, v]) => `${k}="${v}"`).join(', ');
  }
  return format.replace(/\{\{\s*(\w+)\s*\}\}/g, (_, name: string) => metric[name] ?? '');
}

const toNumber = (v: string): number | null => {
  const n = Number(v);
  return Number.isFinite(n) ? n : null;
};

async function renderPanels(stack: ObservedBroker, vars: GrafanaVariables, start: number, end: number): Promise<RenderedPanel[]> {
  const dashboard = JSON.parse(readFileSync(DASHBOARD_FILE, 'utf8')) as { panels: Panel[] };
  const times: number[] = [];
  for (let t = start; t <= end; t += STEP_SECONDS) times.push(t);
  const out: RenderedPanel[] = [];
  for (const panel of dashboard.panels) {
    const units: Record<string, string> = {};
    for (const o of panel.fieldConfig?.overrides ?? []) {
      const unit = o.properties.find((p) => p.id === 'unit')?.value;
      if (o.matcher.id === 'byName' && typeof unit === 'string') units[o.matcher.options] = unit;
    }
    const defaults = panel.fieldConfig?.defaults;
    const base = {
      type: panel.type,
      title: panel.title,
      gridPos: panel.gridPos,
      unit: defaults?.unit ?? 'short',
      units,
      stacked: defaults?.custom?.stacking?.mode === 'normal',
      min: defaults?.min,
      max: defaults?.max,
    };
    if (panel.type === 'row') {
      out.push(base);
      continue;
    }
    const targets = panel.targets ?? [];
    if (panel.type === 'timeseries') {
      const series: Array<{ label: string; values: Array<number | null> }> = [];
      for (const t of targets) {
        const data = await stack.prometheus.api<{ result: PromSeries[] }>('query_range', {
          query: substituteGrafanaVariables(t.expr, vars),
          start: String(start),
          end: String(end),
          step: String(STEP_SECONDS),
        });
        for (const s of data.result) {
          const byTime = new Map((s.values ?? []).map(([ts, v]) => [Math.round(ts), toNumber(v)]));
          series.push({ label: legend(t.legendFormat, s.metric, t.refId), values: times.map((ts) => byTime.get(ts) ?? null) });
        }
      }
      out.push({ ...base, times, series });
    } else if (panel.type === 'table') {
      const rows: Array<Record<string, string>> = [];
      for (const t of targets) {
        const data = await stack.prometheus.api<{ result: PromSeries[] }>('query', { query: substituteGrafanaVariables(t.expr, vars), time: String(end) });
        for (const s of data.result) rows.push({ ...s.metric, Value: s.value![1] });
      }
      const columns = [...new Set(rows.flatMap((r) => Object.keys(r)))].filter((c) => c !== '__name__');
      columns.sort((a, b) => (a === 'Value' ? 1 : b === 'Value' ? -1 : 0));
      out.push({ ...base, table: { columns, rows: rows.map((r) => columns.map((c) => r[c] ?? '')) } });
    } else {
      // stat, gauge: the last value of each series.
      const stats: Array<{ label: string; value: number | null }> = [];
      for (const t of targets) {
        const data = await stack.prometheus.api<{ result: PromSeries[] }>('query', { query: substituteGrafanaVariables(t.expr, vars), time: String(end) });
        for (const s of data.result) stats.push({ label: legend(t.legendFormat, s.metric, t.refId), value: toNumber(s.value![1]) });
      }
      out.push({ ...base, stats });
    }
  }
  return out;
}

/** The static page: the dashboard's grid (24 columns, 30 px per grid unit, as Grafana), uPlot charts. */
function page(panels: RenderedPanel[], title: string): string {
  const require = createRequire(import.meta.url);
  const uplotDir = dirname(require.resolve('uplot'));
  const uplotJs = readFileSync(join(uplotDir, 'uPlot.iife.min.js'), 'utf8');
  const uplotCss = readFileSync(join(uplotDir, 'uPlot.min.css'), 'utf8');
  return `<!doctype html><html><head><meta charset="utf-8"><title>${title}</title>
<style>${uplotCss}
body { margin: 0; padding: 12px; background: #111217; color: #ccccdc; font: 12px/1.3 Inter, "DejaVu Sans", Arial, sans-serif; }
h1 { font-size: 17px; font-weight: 500; margin: 0 0 4px 4px; }
.sub { margin: 0 0 10px 4px; color: #8e8e9e; }
.grid { position: relative; }
.panel { position: absolute; box-sizing: border-box; background: #181b1f; border: 1px solid #2b2e36; border-radius: 2px; padding: 6px 8px; overflow: hidden; }
.row { position: absolute; box-sizing: border-box; font-size: 14px; font-weight: 500; color: #d8d9da; padding: 8px 4px 0; }
.title { font-weight: 500; color: #d8d9da; margin-bottom: 4px; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.stat { display: flex; gap: 16px; align-items: baseline; justify-content: center; height: calc(100% - 22px); }
.stat .v { font-size: 28px; color: #73bf69; font-weight: 500; }
.stat .l { color: #8e8e9e; font-size: 11px; text-align: center; }
.gauge .bar { height: 14px; background: #2b2e36; border-radius: 2px; margin: 6px 0 2px; }
.gauge .fill { height: 100%; background: #73bf69; border-radius: 2px; }
table { border-collapse: collapse; width: 100%; font-size: 11px; }
th { text-align: left; color: #6e9fff; font-weight: 500; border-bottom: 1px solid #2b2e36; padding: 2px 6px; }
td { padding: 2px 6px; border-bottom: 1px solid #202226; }
.u-legend { font-size: 10px; color: #ccccdc; text-align: left; line-height: 1.2; }
.u-legend .u-marker { width: 10px; height: 3px; }
.u-legend .u-series { padding: 0 6px 0 0; }
.u-legend th, .u-legend td { padding: 0 2px; border: 0; font-weight: normal; color: #ccccdc; }
.u-axis { color: #8e8e9e; }
.empty { color: #8e8e9e; text-align: center; margin-top: 30px; }
</style></head><body>
<h1>${title}</h1><div class="sub" id="sub"></div>
<div class="grid" id="grid"></div>
<script>${uplotJs}</script>
<script>
const PANELS = ${JSON.stringify(panels)};
const UNIT = 30, GAP = 6;
const COLORS = ['#73bf69', '#f2cc0c', '#8ab8ff', '#ff780a', '#f2495c', '#5794f2', '#b877d9', '#705da0', '#37872d', '#fade2a', '#c4162a', '#1f60c4'];
function fmt(v, unit) {
  if (v === null || v === undefined || !isFinite(v)) return '–';
  const si = (x, suffix, base) => {
    const units = base === 1024 ? ['', 'Ki', 'Mi', 'Gi', 'Ti'] : ['', 'k', 'M', 'G', 'T'];
    let i = 0; let a = Math.abs(x);
    while (a >= base && i < units.length - 1) { a /= base; x /= base; i++; }
    return (Math.abs(x) >= 100 ? x.toFixed(0) : Math.abs(x) >= 10 ? x.toFixed(1) : x.toFixed(2)) + ' ' + units[i] + suffix;
  };
  switch (unit) {
    case 'bytes': return si(v, 'B', 1024);
    case 'Bps': return si(v, 'B/s', 1024);
    case 'reqps': return si(v, ' req/s', 1000);
    case 'ops': return si(v, ' ops/s', 1000);
    case 'percentunit': return (v * 100).toFixed(1) + '%';
    case 's':
      if (Math.abs(v) >= 3600) return (v / 3600).toFixed(1) + ' h';
      if (Math.abs(v) >= 60) return (v / 60).toFixed(1) + ' min';
      if (Math.abs(v) >= 10) return v.toFixed(0) + ' s';
      if (Math.abs(v) >= 1) return v.toFixed(2) + ' s';
      if (Math.abs(v) >= 1e-3) return (v * 1e3).toFixed(2) + ' ms';
      return (v * 1e6).toFixed(0) + ' µs';
    default: return Number.isInteger(v) && Math.abs(v) < 1000 ? String(v) : si(v, '', 1000);
  }
}
const grid = document.getElementById('grid');
const width = document.body.clientWidth - 24;
const col = width / 24;
let bottom = 0;
for (const p of PANELS) {
  const el = document.createElement('div');
  const left = p.gridPos.x * col, top = p.gridPos.y * UNIT;
  const w = p.gridPos.w * col - GAP, h = p.gridPos.h * UNIT - GAP;
  Object.assign(el.style, { left: left + 'px', top: top + 'px', width: w + 'px', height: h + 'px' });
  bottom = Math.max(bottom, top + h);
  grid.appendChild(el);
  if (p.type === 'row') { el.className = 'row'; el.textContent = p.title; continue; }
  el.className = 'panel';
  const t = document.createElement('div'); t.className = 'title'; t.textContent = p.title; el.appendChild(t);
  if (p.type === 'timeseries') {
    if (p.series.length === 0) { el.insertAdjacentHTML('beforeend', '<div class="empty">No data</div>'); continue; }
    // Stacked panels (Grafana's stacking "normal") draw running sums; the legend shows each series' own last value.
    const drawn = p.series.map((s) => s.values.slice());
    if (p.stacked) for (let i = 1; i < drawn.length; i++) drawn[i] = drawn[i].map((v, j) => v === null ? null : v + (drawn[i - 1][j] ?? 0));
    const data = [p.times, ...drawn];
    const legendRows = Math.ceil(p.series.length / 3);
    const opts = {
      width: w - 16, height: h - 34 - legendRows * 14,
      legend: { show: true, live: false },
      cursor: { show: false },
      scales: { y: { range: (u, min, max) => [p.min ?? Math.min(0, min), p.max ?? (max > 0 ? max * 1.1 : 1)] } },
      axes: [
        { stroke: '#8e8e9e', grid: { stroke: '#24262b', width: 1 }, ticks: { show: false }, font: '10px sans-serif', values: (u, vals) => vals.map((v) => new Date(v * 1000).toISOString().slice(11, 19)) },
        { stroke: '#8e8e9e', grid: { stroke: '#24262b', width: 1 }, ticks: { show: false }, font: '10px sans-serif', size: 64, values: (u, vals) => vals.map((v) => fmt(v, p.unit)) },
      ],
      series: [{}, ...p.series.map((s, i) => {
        const unit = p.units[s.label] ?? p.unit;
        const last = s.values.filter((v) => v !== null).pop();
        return { label: s.label, stroke: COLORS[i % COLORS.length], width: 1.5, fill: COLORS[i % COLORS.length] + (p.stacked ? '40' : '18'), points: { show: false }, value: () => fmt(last, unit), spanGaps: false };
      })],
    };
    new uPlot(opts, data, el);
  } else if (p.type === 'table') {
    const rows = p.table.rows.slice(0, Math.floor((h - 40) / 17));
    el.insertAdjacentHTML('beforeend', '<table><tr>' + p.table.columns.map((c) => '<th>' + c + '</th>').join('') + '</tr>' +
      rows.map((r) => '<tr>' + r.map((c, i) => '<td>' + (p.table.columns[i] === 'Value' ? fmt(Number(c), p.unit) : c) + '</td>').join('') + '</tr>').join('') + '</table>');
  } else if (p.type === 'gauge') {
    for (const s of p.stats) {
      const share = Math.max(0, Math.min(1, (s.value - (p.min ?? 0)) / ((p.max ?? 1) - (p.min ?? 0))));
      el.insertAdjacentHTML('beforeend', '<div class="gauge"><div class="stat" style="height:auto"><span class="v">' + fmt(s.value, p.unit) + '</span></div><div class="bar"><div class="fill" style="width:' + (share * 100).toFixed(1) + '%"></div></div><div class="l">' + s.label + '</div></div>');
    }
  } else {
    const items = p.stats.map((s) => '<div><div class="v">' + fmt(s.value, p.units[s.label] ?? p.unit) + '</div>' + (p.stats.length > 1 ? '<div class="l">' + s.label + '</div>' : '') + '</div>');
    el.insertAdjacentHTML('beforeend', '<div class="stat">' + (items.join('') || '<div class="empty">No data</div>') + '</div>');
  }
}
grid.style.height = bottom + 'px';
document.body.dataset.rendered = 'yes';
</script></body></html>`;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      seconds: { type: 'string', default: '90' },
      out: { type: 'string', default: join(OBSERVABILITY_DIR, 'dashboard.png') },
      html: { type: 'string' },
      width: { type: 'string', default: '1600' },
    },
  });
  const seconds = Number(values.seconds);
  if (!(seconds >= 20 && seconds <= 600)) throw new Error('--seconds must be between 20 and 600');
  requirePrometheus();
  const stack = await startObservedBroker({ maxLoadMs: (seconds + 60) * 1000 });
  try {
    const start = Math.floor(Date.now() / 1000);
    process.stderr.write(`broker ${stack.broker.bootstrap}, Prometheus ${stack.prometheus.url}: load for ${seconds} s\n`);
    await new Promise((r) => setTimeout(r, seconds * 1000));
    const end = Math.floor(Date.now() / 1000);
    const instances = await stack.prometheus.api<string[]>('label/instance/values', { 'match[]': 'sluice_connections_active' });
    // As a user sees it with the variables at "All": every topic and group of this broker.
    const vars: GrafanaVariables = {
      template: { instance: instances.map(escapeRegex).join('|'), topic: '.*', group: '.*', datasource: 'prometheus' },
      rateInterval: '10s',
      interval: `${STEP_SECONDS}s`,
      range: `${end - start}s`,
    };
    const panels = await renderPanels(stack, vars, start, end);
    const html = page(panels, `Sluice broker — ${instances.join(', ')}, last ${Math.round((end - start) / 60)} min under kafkajs load`);
    const dir = mkdtempSync(join(tmpdir(), 'sluice-dashboard-'));
    try {
      const htmlFile = values.html === undefined ? join(dir, 'dashboard.html') : resolve(values.html);
      writeFileSync(htmlFile, html);
      const browser = await puppeteer.launch({
        executablePath: CHROMIUM,
        headless: true,
        userDataDir: join(dir, 'profile'),
        args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      });
      try {
        const tab = await browser.newPage();
        await tab.setViewport({ width: Number(values.width), height: 1000, deviceScaleFactor: 1 });
        await tab.goto(`file://${htmlFile}`, { waitUntil: 'load' });
        await tab.waitForSelector('body[data-rendered="yes"]', { timeout: 30_000 });
        await tab.screenshot({ path: resolve(values.out) as `${string}.png`, fullPage: true });
      } finally {
        await browser.close();
      }
      process.stderr.write(`wrote ${resolve(values.out)}${values.html === undefined ? '' : ` and ${htmlFile}`}\n`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  } finally {
    await stack.stop();
  }
}

await main();
