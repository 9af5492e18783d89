import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { estimateRun } from '../estimate.ts';
import { ROOT } from '../loadgen.ts';
import { dirtyOverRun } from '../machine.ts';
import { FULL, QUICK, RECEIVERS } from '../profile.ts';
import type { Cell, Metrics } from '../results.ts';
import { WRITER_COMPARISONS, fetchKey } from '../scenarios/fetch.ts';
import { produceKey } from '../scenarios/produce.ts';
import { BENCH_README, blockMarkdown, findBlocks, replaceBlock } from './readme.ts';
import { type ClusterRecord, clusterTable, isClusterRecord } from './cluster-block.ts';
import { span, summarize } from './summary.ts';
import { Lookup } from './tables.ts';
import { dirtyTreeRefusal, parseOptions, runId } from '../../run.ts';

function cell(scenario: Cell['scenario'], target: Cell['target'], mode: string, key: Cell['key'], metrics: Metrics, rep = 0): Cell {
  return { scenario, target, mode, key, rep, metrics, broker: null, syscallsNote: null, client: {} };
}

describe('README results blocks', () => {
  const readme = readFileSync(BENCH_README, 'utf8');
  const blocks = findBlocks(readme);

  it('has the reference block', () => {
    expect(blocks.map((b) => b.name)).toContain('reference');
  });

  for (const b of blocks) {
    it(`block ${b.name} is what bench/lib/report/readme.ts generates from ${b.source}`, () => {
      expect(b.body).toBe(blockMarkdown(b.source));
    });
  }

  it('replaceBlock swaps one block and its source, and nothing else', () => {
    const text = 'a\n<!-- results:x source=old.json -->\nold body\n<!-- /results:x -->\nb\n';
    expect(replaceBlock(text, 'x', 'new.json', 'new body')).toBe('a\n<!-- results:x source=new.json -->\nnew body\n<!-- /results:x -->\nb\n');
    expect(() => replaceBlock(text, 'y', 'n.json', '')).toThrow(/no <!-- results:y/);
  });
});

describe('the three-broker block', () => {
  const record = (sluiceP99: number): ClusterRecord => ({
    machine: { cpuModel: 'x', cores: 2, kernel: 'k', loadAverageAtStart: [0, 0, 0], gitCommit: 'abc', gitDirty: false },
    options: { quick: false, vsKafka: true },
    cells: [
      { target: 'sluice', scenario: 'produce', mbPerS: 110, cpuSPerGB: 9 },
      { target: 'sluice', scenario: 'fetch', mbPerS: 90, cpuSPerGB: 1 },
      { target: 'sluice', scenario: 'failover ms (2 kills)', mbPerS: 0, cpuSPerGB: null, failoverMs: { p50: 1, p99: sluiceP99, all: [1, sluiceP99] } },
      { target: 'kafka', scenario: 'produce', mbPerS: 100, cpuSPerGB: 10 },
      { target: 'kafka', scenario: 'fetch', mbPerS: 100, cpuSPerGB: 2 },
      { target: 'kafka', scenario: 'failover ms (2 kills)', mbPerS: 0, cpuSPerGB: null, failoverMs: { p50: 1, p99: 500, all: [1, 500] } },
    ],
  });

  it('judges MB/s and CPU per GB together, and failover by p99', () => {
    expect(isClusterRecord(record(400))).toBe(true);
    const rows = clusterTable(record(400)).rows;
    expect(rows[0]).toEqual(['produce', '110.0 MB/s, 9.00 CPU s/GB', '100.0 MB/s, 10.00 CPU s/GB', '1.10× MB/s at 0.90× CPU/GB', 'met']);
    expect(rows[1]?.[4]).toBe('**missed**');
    expect(rows[2]?.[4]).toBe('met');
    expect(clusterTable(record(501)).rows[2]?.[4]).toBe('**missed**');
  });
});

describe('summary sentences', () => {
  it('a span runs from the lowest to the highest known value', () => {
    expect(span([2, null, 1.5, 3])).toBe('1.50–3.00');
    expect(span([null])).toBeNull();
    expect(span([0.5, 0.5], (x) => x.toFixed(2), '×')).toBe('0.50×');
  });

  it('the fan-out range includes every consumer count, and the goal is judged per count', () => {
    const cells: Cell[] = [];
    const kafka = [1000, 2000, 3000, 4000];
    FULL.fetch.fanout.forEach((n, i) => {
      const key = fetchKey({ receiver: RECEIVERS[0]!, consumers: n });
      cells.push(cell('fetch', 'kafka', 'kafka', key, { mbPerS: kafka[i]!, cpuSPerGB: 0.2 }));
      cells.push(cell('fetch', 'sluice', 'sendfile', key, { mbPerS: [1700, 2900, 3000, 4400][i]!, cpuSPerGB: 0.1 }));
    });
    const g = summarize(new Lookup(cells), FULL, []).find((x) => x.heading === 'Fan-out')!;
    const text = g.sentences.join(' ');
    // 1.70×, 1.45×, 1.00×, 1.10×: the range must reach both ends.
    expect(text).toContain('sendfile 1.00–1.70× the MB/s at 0.50× the CPU per GB');
    expect(text).toContain('×1 met');
    expect(text).not.toContain(WRITER_COMPARISONS[0]!.mode);
  });

  it('states no Sluice ÷ Kafka produce ratio without multi-connection cells, and does with them', () => {
    const cells: Cell[] = [];
    for (const c of FULL.produce.cells) {
      for (const mode of ['mmap', 'pwrite']) cells.push(cell('produce', 'sluice', mode, produceKey(c), { mbPerS: 600, cpuSPerGB: 1.5 }));
      cells.push(cell('produce', 'kafka', 'kafka', produceKey(c), { mbPerS: 300, cpuSPerGB: 3 }));
    }
    const one = summarize(new Lookup(cells), FULL, [])
      .find((x) => x.heading === 'Produce')!
      .sentences.join(' ');
    expect(one).toContain('states no Sluice ÷ Kafka produce ratio');
    for (const c of FULL.produce.connectionCells) {
      cells.push(cell('produce', 'sluice', 'pwrite', produceKey(c), { mbPerS: 800, cpuSPerGB: 1.2 }));
      cells.push(cell('produce', 'kafka', 'kafka', produceKey(c), { mbPerS: 400 + c.batchBytes / 4096, cpuSPerGB: 2.4 }));
    }
    const four = summarize(new Lookup(cells), FULL, [])
      .find((x) => x.heading === 'Produce')!
      .sentences.join(' ');
    expect(four).toContain('Against Apache Kafka over 4 connections');
    // 800 ÷ 404 and 800 ÷ 656: both ends.
    expect(four).toContain('Sluice pwrite 1.22–1.98× Kafka');
  });

  it('a missed target is printed MISSED with its figure', () => {
    const key = fetchKey({ receiver: RECEIVERS[1]!, consumers: 1 });
    const cells = [cell('fetch', 'sluice', 'sendfile', key, { mbPerS: 850 }), cell('fetch', 'probe', 'sendfile', key, { mbPerS: 1000 })];
    const t = summarize(new Lookup(cells), QUICK, [])
      .find((x) => x.heading === 'Targets')!
      .sentences.join(' ');
    expect(t).toBe('Targets: 0 of 1 met; MISSED: fetch sendfile lowat-256KiB ×1 vs raw sendfile 85.0% (goal ≥ 90%).');
  });
});

describe('full runs', () => {
  it('a full run refuses a dirty tree unless allowed, and names such results DIRTY', () => {
    const full = parseOptions(['--vs-kafka']);
    expect(dirtyTreeRefusal(full, true)).toMatch(/uncommitted changes/);
    expect(dirtyTreeRefusal(full, null)).toMatch(/cannot tell/);
    expect(dirtyTreeRefusal(full, false)).toBeNull();
    expect(dirtyTreeRefusal(parseOptions(['--quick']), true)).toBeNull();
    const allowed = parseOptions(['--vs-kafka', '--allow-dirty']);
    expect(dirtyTreeRefusal(allowed, true)).toBeNull();
    const at = new Date('2026-12-06T17:20:00Z');
    expect(runId(allowed, at, true)).toBe('2026-12-06T17-20-00Z-full-vs-kafka-DIRTY');
    expect(runId(full, at, false)).toBe('2026-12-06T17-20-00Z-full-vs-kafka');
  });

  it('a run is clean only if it started and ended on the same clean commit', () => {
    const clean = { commit: 'a', dirty: false };
    expect(dirtyOverRun(clean, clean)).toBe(false);
    expect(dirtyOverRun(clean, { commit: 'b', dirty: false })).toBe(true);
    expect(dirtyOverRun(clean, { commit: 'a', dirty: true })).toBe(true);
    expect(dirtyOverRun({ commit: 'a', dirty: null }, clean)).toBeNull();
  });

  it('the default full run with Kafka fits in 45 minutes on this VM, with 3 repetitions', () => {
    const o = parseOptions(['--vs-kafka']);
    expect(o.profile.reps).toBe(3);
    const e = estimateRun({ profile: o.profile, vsKafka: true, only: o.only, writerComparisons: WRITER_COMPARISONS.length });
    expect(e.totalS).toBeLessThanOrEqual(45 * 60);
  });
});

it('the README and the results directory live where the script writes', () => {
  expect(BENCH_README).toBe(join(ROOT, 'bench', 'README.md'));
});
