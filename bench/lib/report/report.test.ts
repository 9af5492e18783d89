import { describe, expect, it } from 'vitest';
import { FULL, QUICK, RECEIVERS, alternate, fetchCells } from '../profile.ts';
import type { Cell, Metrics } from '../results.ts';
import { SINGLE_WRITER_MODE, fetchKey } from '../scenarios/fetch.ts';
import { produceKey } from '../scenarios/produce.ts';
import { KiB, MiB } from '../units.ts';
import { fetchChart, produceChart } from './charts.ts';
import { escapeXml, logTicks, niceScale, renderChart } from './svg.ts';
import { renderTable } from './table.ts';
import { Lookup, fanoutTable, fetchTable, produceTable, targetChecks } from './tables.ts';

function cell(scenario: Cell['scenario'], target: Cell['target'], mode: string, key: Cell['key'], metrics: Metrics, rep = 0): Cell {
  return { scenario, target, mode, key, rep, metrics, broker: null, syscallsNote: null, client: {} };
}

/** A small synthetic run: fetch read-1MiB ×1 in every mode with probes, two repetitions. */
function fetchRun(): Cell[] {
  const key = fetchKey({ receiver: RECEIVERS[0]!, consumers: 1 });
  const cells: Cell[] = [];
  for (const rep of [0, 1]) {
    cells.push(cell('fetch', 'sluice', 'sendfile', key, { mbPerS: 1900 + rep * 200, cpuSPerGB: 0.2 }, rep));
    cells.push(cell('fetch', 'probe', 'sendfile', key, { mbPerS: 2000, cpuSPerGB: 0.1 }, rep));
    cells.push(cell('fetch', 'sluice', 'splice', key, { mbPerS: 1000, cpuSPerGB: 0.3 }, rep));
    cells.push(cell('fetch', 'probe', 'splice', key, { mbPerS: 2000, cpuSPerGB: 0.1 }, rep));
    cells.push(cell('fetch', 'sluice', 'copy', key, { mbPerS: 1600, cpuSPerGB: 0.4 }, rep));
    cells.push(cell('fetch', 'probe', 'copy', key, { mbPerS: 1700, cpuSPerGB: 0.2 }, rep));
  }
  return cells;
}

describe('profiles', () => {
  it('alternate runs forwards on even repetitions and backwards on odd ones', () => {
    expect(alternate(['a', 'b', 'c'], 0)).toEqual(['a', 'b', 'c']);
    expect(alternate(['a', 'b', 'c'], 1)).toEqual(['c', 'b', 'a']);
    expect(alternate(['a', 'b', 'c'], 2)).toEqual(['a', 'b', 'c']);
  });

  it('fetch cells cover both receivers at 1 and 4 consumers plus fan-out, without duplicates', () => {
    const cells = fetchCells(FULL).map((c) => `${c.receiver.name}×${c.consumers}`);
    expect(cells).toEqual(['read-1MiB×1', 'read-1MiB×4', 'lowat-256KiB×1', 'lowat-256KiB×4', 'read-1MiB×2', 'read-1MiB×8']);
    expect(QUICK.reps).toBe(1);
    expect(FULL.reps).toBeGreaterThanOrEqual(3);
  });

  it('the produce matrix is acks × record size × batch size', () => {
    expect(FULL.produce.cells).toHaveLength(8);
    expect(new Set(FULL.produce.cells.map((c) => c.acks))).toEqual(new Set([1, -1]));
    expect(new Set(FULL.produce.cells.map((c) => c.recordBytes))).toEqual(new Set([100, KiB]));
    expect(new Set(FULL.produce.cells.map((c) => c.batchBytes))).toEqual(new Set([16 * KiB, MiB]));
  });
});

describe('tables', () => {
  it('fetch rows carry medians and the ratios to raw and to copy', () => {
    const t = fetchTable(new Lookup(fetchRun()), QUICK);
    const row = t.rows.find((r) => r[0] === 'read-1MiB' && r[1] === '1' && r[2] === 'sendfile')!;
    const col = (name: string) => row[t.columns.indexOf(name)];
    expect(col('MB/s')).toBe('2,000'); // median of 1900 and 2100
    expect(col('raw MB/s')).toBe('2,000');
    expect(col('÷raw')).toBe('100%');
    expect(col('MB/s ÷copy')).toBe('1.25×');
    expect(col('CPU ÷copy')).toBe('0.50×');
    expect(t.columns).not.toContain('MB/s ÷kafka'); // no Kafka cells, no Kafka columns
    const rendered = renderTable(t);
    expect(rendered.split('\n')[0]).toContain('Fetch from page cache');
  });

  it('fan-out rows show the single-writer comparison setup, against the sendfile probe, when it ran', () => {
    const cells = fetchRun();
    const key = fetchKey({ receiver: RECEIVERS[0]!, consumers: 1 });
    expect(fanoutTable(new Lookup(cells), QUICK).rows.map((r) => r[0])).not.toContain(SINGLE_WRITER_MODE);
    cells.push(cell('fetch', 'sluice', SINGLE_WRITER_MODE, key, { mbPerS: 1000, cpuSPerGB: 0.3 }));
    const t = fanoutTable(new Lookup(cells), QUICK);
    const row = t.rows.find((r) => r[0] === SINGLE_WRITER_MODE && r[1] === '1')!;
    expect(row[t.columns.indexOf('raw MB/s')]).toBe('2,000');
    expect(row[t.columns.indexOf('÷raw')]).toBe('50%');
    expect(t.notes.join(' ')).toContain('sluice.writer.threads=1');
  });

  it('targets compare each mode with its own raw probe and report misses', () => {
    const checks = targetChecks(new Lookup(fetchRun()), { ...QUICK, fetch: { ...QUICK.fetch, consumers: [1], probeStreams: [1] } });
    const byMode = Object.fromEntries(checks.filter((c) => c.what.includes('read-1MiB')).map((c) => [c.what.split(' ')[1], c]));
    expect(byMode.sendfile!.met).toBe(true);
    expect(byMode.splice!.value).toBeCloseTo(0.5);
    expect(byMode.splice!.met).toBe(false);
    expect(byMode.copy!.value).toBeCloseTo(1600 / 1700);
    expect(byMode.copy!.met).toBe(true);
  });

  it('produce rows compare with the raw write() limit and mmap with pwrite', () => {
    const c = FULL.produce.cells.find((x) => x.batchBytes === MiB && x.acks === 1 && x.recordBytes === KiB)!;
    const cells = [
      cell('produce', 'sluice', 'mmap', produceKey(c), { mbPerS: 300, produceP99Us: 2000 }),
      cell('produce', 'sluice', 'pwrite', produceKey(c), { mbPerS: 600 }),
      cell('produce', 'probe', 'write', {}, { mbPerS: 800 }),
      cell('produce', 'probe', 'mmap', {}, { mbPerS: 500 }),
    ];
    const t = produceTable(new Lookup(cells), FULL);
    const row = t.rows.find((r) => r[0] === 'acks=1 1KiB/1MiB' && r[1] === 'mmap')!;
    expect(row[t.columns.indexOf('÷raw write()')]).toBe('38%');
    expect(row[t.columns.indexOf('mmap ÷pwrite')]).toBe('0.50×');
    expect(row[t.columns.indexOf('p99 ms')]).toBe('2.00');
    expect(t.notes[0]).toContain('800 MB/s');
    const checks = targetChecks(new Lookup(cells), FULL).filter((x) => x.what.startsWith('produce') && x.value !== null);
    expect(checks.map((x) => [x.what.split(' ')[1], x.met])).toEqual([
      ['mmap', false],
      ['pwrite', true],
    ]);
  });
});

describe('svg charts', () => {
  it('nice scales land on 1, 2 or 5 steps above the maximum', () => {
    expect(niceScale(4110)).toEqual({ top: 5000, step: 1000 });
    expect(niceScale(0.446)).toEqual({ top: 0.5, step: 0.1 });
    expect(niceScale(0)).toEqual({ top: 1, step: 0.2 });
    expect(logTicks([0.36, 321])).toEqual([0.1, 1, 10, 100, 1000]);
    expect(logTicks([5, 5])).toEqual([1, 10]);
    expect(logTicks([])).toEqual([1, 10]);
    expect(escapeXml('a<b & "c">')).toBe('a&lt;b &amp; &quot;c&quot;&gt;');
  });

  it('renders one bar per measured value, gaps for missing ones, and reference lines', () => {
    const svg = renderChart({
      title: 'T <1>',
      subtitle: 's',
      series: [
        { name: 'a', color: '#111' },
        { name: 'b', color: '#222' },
      ],
      panels: [
        {
          title: 'p',
          groups: [
            { label: 'g1\nsecond line', values: [1, null] },
            { label: 'g2', values: [2, 3] },
          ],
          refLines: [{ label: 'limit', value: 4, color: '#333' }],
        },
      ],
    });
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).toContain('T &lt;1&gt;');
    expect(svg.match(/<rect [^>]*fill="#(111|222)"><title>/g)).toHaveLength(3);
    expect(svg).toContain('>n/a<');
    expect(svg).toContain('limit: 4');
    expect(svg).toContain('>second line<');
  });

  it('scenario charts include raw probes and the raw append limits', () => {
    const fetch = renderChart(fetchChart(new Lookup(fetchRun()), QUICK));
    expect(fetch).toContain('raw sendfile');
    const c = FULL.produce.cells[0]!;
    const produce = produceChart(
      new Lookup([cell('produce', 'sluice', 'mmap', produceKey(c), { mbPerS: 1 }), cell('produce', 'probe', 'write', {}, { mbPerS: 800 })]),
      FULL,
    );
    expect(produce.panels[0]!.refLines).toEqual([{ label: 'raw write() limit', value: 800, color: '#333' }]);
  });
});
