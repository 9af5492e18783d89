// Grouped bar charts as hand-written SVG: one chart per scenario, one panel per figure (MB/s,
// CPU per GB, latency), groups along the x axis, one coloured bar per series, optional
// horizontal reference lines (a raw limit). Missing values leave a gap labelled "n/a".

export interface Series {
  name: string;
  color: string;
}

export interface Group {
  /** May hold a line break ("\n") for a two-line label. */
  label: string;
  /** One value per series, in series order; null when not measured. */
  values: Array<number | null>;
}

export interface RefLine {
  label: string;
  value: number;
  color: string;
}

export interface Panel {
  title: string;
  groups: Group[];
  refLines?: RefLine[];
  /** 'log' for figures spanning decades (latency percentiles); default linear from 0. */
  scale?: 'linear' | 'log';
}

/** The y axis of a panel: where a value goes, and the ticks to draw. */
interface Axis {
  y(v: number): number;
  ticks: number[];
}

/** Decades around the data: ticks at 10^k from below the smallest to above the largest value. */
export function logTicks(values: number[]): number[] {
  const positive = values.filter((v) => v > 0);
  if (positive.length === 0) return [1, 10];
  const lo = Math.floor(Math.log10(Math.min(...positive)));
  let hi = Math.ceil(Math.log10(Math.max(...positive)));
  if (hi === lo) hi = lo + 1;
  const ticks: number[] = [];
  for (let k = lo; k <= hi; k++) ticks.push(Number((10 ** k).toPrecision(12)));
  return ticks;
}

export interface Chart {
  title: string;
  subtitle: string;
  series: Series[];
  panels: Panel[];
}

const WIDTH = 1000;
const LEFT = 72;
const RIGHT = 24;
const PANEL_HEIGHT = 250;
const PLOT_TOP = 28;
const PLOT_BOTTOM = 48;
const HEADER = 78;
const REF_LABEL_MARGIN = 150;

export function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** A round axis maximum and step: 1, 2 or 5 × 10^k, about five ticks. */
export function niceScale(max: number): { top: number; step: number } {
  if (!(max > 0)) return { top: 1, step: 0.2 };
  const rough = max / 5;
  const mag = 10 ** Math.floor(Math.log10(rough));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= rough) ?? 10 * mag;
  return { top: Math.ceil(max / step) * step, step };
}

export function tickLabel(v: number): string {
  if (v === 0) return '0';
  if (Math.abs(v) >= 1000) return v.toLocaleString('en-US', { maximumFractionDigits: 0 });
  if (Math.abs(v) >= 1) return String(Number(v.toFixed(2)));
  return String(Number(v.toPrecision(2)));
}

function valueLabel(v: number): string {
  if (Math.abs(v) >= 100) return Math.round(v).toLocaleString('en-US');
  return String(Number(v.toPrecision(2)));
}

function renderPanel(p: Panel, series: Series[], top: number, right: number): string[] {
  const out: string[] = [];
  const plotTop = top + PLOT_TOP;
  const plotHeight = PANEL_HEIGHT - PLOT_TOP - PLOT_BOTTOM;
  const plotBottom = plotTop + plotHeight;
  const plotRight = WIDTH - right;
  const plotWidth = plotRight - LEFT;
  const values = p.groups.flatMap((g) => g.values.filter((v): v is number => v !== null && Number.isFinite(v)));
  const refValues = (p.refLines ?? []).map((r) => r.value);
  let axis: Axis;
  if (p.scale === 'log') {
    const ticks = logTicks([...values, ...refValues]);
    const lo = Math.log10(ticks[0]!);
    const span = Math.log10(ticks[ticks.length - 1]!) - lo;
    axis = { y: (v) => plotBottom - ((Math.log10(Math.max(v, ticks[0]!)) - lo) / span) * plotHeight, ticks };
  } else {
    const { top: axisTop, step } = niceScale(Math.max(0, ...values, ...refValues));
    const ticks: number[] = [];
    for (let i = 0; i <= Math.round(axisTop / step); i++) ticks.push(Number((i * step).toPrecision(12)));
    axis = { y: (v) => plotBottom - (v / axisTop) * plotHeight, ticks };
  }
  const y = axis.y;

  out.push(`<text x="${LEFT}" y="${top + 18}" class="panel">${escapeXml(p.title)}${p.scale === 'log' ? ' (log scale)' : ''}</text>`);
  for (const v of axis.ticks) {
    const yy = y(v).toFixed(1);
    out.push(`<line x1="${LEFT}" x2="${plotRight}" y1="${yy}" y2="${yy}" class="grid"/>`);
    out.push(`<text x="${LEFT - 6}" y="${yy}" class="tick" text-anchor="end" dominant-baseline="middle">${tickLabel(v)}</text>`);
  }
  const groupWidth = plotWidth / Math.max(1, p.groups.length);
  const barWidth = Math.min(28, (groupWidth * 0.8) / Math.max(1, series.length));
  p.groups.forEach((g, gi) => {
    const groupLeft = LEFT + gi * groupWidth + (groupWidth - barWidth * series.length) / 2;
    g.values.forEach((v, si) => {
      const x = groupLeft + si * barWidth;
      const cx = (x + barWidth / 2).toFixed(1);
      if (v === null || !Number.isFinite(v)) {
        if (barWidth >= 10) out.push(`<text x="${cx}" y="${plotBottom - 4}" class="na" text-anchor="middle">n/a</text>`);
        return;
      }
      const h = plotBottom - y(v);
      out.push(
        `<rect x="${(x + 1).toFixed(1)}" y="${y(v).toFixed(1)}" width="${(barWidth - 2).toFixed(1)}" height="${h.toFixed(1)}" fill="${series[si]!.color}"><title>${escapeXml(`${g.label} · ${series[si]!.name}: ${valueLabel(v)}`)}</title></rect>`,
      );
      if (barWidth >= 14) {
        out.push(`<text x="${cx}" y="${(y(v) - 3).toFixed(1)}" class="value" text-anchor="middle">${valueLabel(v)}</text>`);
      }
    });
    const gx = (LEFT + gi * groupWidth + groupWidth / 2).toFixed(1);
    g.label.split('\n').forEach((part, li) => {
      out.push(`<text x="${gx}" y="${plotBottom + 16 + li * 13}" class="group" text-anchor="middle">${escapeXml(part)}</text>`);
    });
  });
  for (const r of p.refLines ?? []) {
    const yy = y(r.value).toFixed(1);
    out.push(`<line x1="${LEFT}" x2="${plotRight}" y1="${yy}" y2="${yy}" stroke="${r.color}" class="ref"/>`);
    out.push(
      `<text x="${plotRight + 6}" y="${yy}" class="reflabel" dominant-baseline="middle" fill="${r.color}">${escapeXml(`${r.label}: ${valueLabel(r.value)}`)}</text>`,
    );
  }
  out.push(`<line x1="${LEFT}" x2="${plotRight}" y1="${plotBottom}" y2="${plotBottom}" class="axis"/>`);
  return out;
}

export function renderChart(c: Chart): string {
  const height = HEADER + c.panels.length * PANEL_HEIGHT + 10;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="Helvetica, Arial, sans-serif">`,
    '<style>',
    '.title{font-size:18px;font-weight:bold;fill:#222}.subtitle{font-size:12px;fill:#555}',
    '.panel{font-size:13px;font-weight:bold;fill:#333}.tick{font-size:10px;fill:#666}',
    '.group{font-size:11px;fill:#333}.value{font-size:9px;fill:#333}.na{font-size:9px;fill:#999}',
    '.legend{font-size:11px;fill:#333}.grid{stroke:#e5e5e5;stroke-width:1}.axis{stroke:#999;stroke-width:1}',
    '.ref{stroke-width:1.5;stroke-dasharray:6 4}.reflabel{font-size:10px}',
    '</style>',
    `<rect width="${WIDTH}" height="${height}" fill="#fff"/>`,
    `<text x="${LEFT}" y="26" class="title">${escapeXml(c.title)}</text>`,
    `<text x="${LEFT}" y="44" class="subtitle">${escapeXml(c.subtitle)}</text>`,
  ];
  let lx = LEFT;
  for (const s of c.series) {
    out.push(`<rect x="${lx}" y="56" width="12" height="12" fill="${s.color}"/>`);
    out.push(`<text x="${lx + 16}" y="66" class="legend">${escapeXml(s.name)}</text>`);
    lx += 16 + s.name.length * 6.5 + 18;
  }
  // Reference lines are labelled in a right margin of their own, clear of the bars; every
  // panel keeps the same plot width so groups line up down the chart.
  const right = c.panels.some((p) => (p.refLines ?? []).length > 0) ? REF_LABEL_MARGIN : RIGHT;
  c.panels.forEach((p, i) => out.push(...renderPanel(p, c.series, HEADER + i * PANEL_HEIGHT, right)));
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
