// Writes a run's results into bench/README.md: the summary sentences (summary.ts) and every table,
// generated from the results JSON between two markers that name the JSON. A test regenerates each
// marked block from the JSON it names and fails when the README differs, so no figure or claim
// in that block can disagree with its JSON.
//
//   pnpm exec node bench/lib/report/readme.ts bench/results/<run>.json [--block reference]
//   pnpm exec node bench/lib/report/readme.ts bench/results/<stamp>-cluster-….json --block cluster
//
// rewrites the block named `reference` (or the one given) in bench/README.md, creating nothing:
// the markers must already be there (`<!-- results:NAME source=PATH -->` … `<!-- /results:NAME -->`).

import { readFileSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { ROOT } from '../loadgen.ts';
import type { Profile } from '../profile.ts';
import type { Cell } from '../results.ts';
import type { StartupSample } from '../scenarios/startup.ts';
import { clusterHeader, clusterTable, isClusterRecord } from './cluster-block.ts';
import { summarize } from './summary.ts';
import type { Table } from './table.ts';
import { Lookup, e2eTable, fanoutTable, fetchTable, produceTable, sessionsTable, startupTable, targetChecks, targetsTable } from './tables.ts';
import { tlsTable } from './tls-table.ts';
import { coldReaderTable } from '../scenarios/cold-reader.ts';
import { txnTable } from './txn-table.ts';

export const BENCH_README = join(ROOT, 'bench', 'README.md');

/** The fields of a results JSON (bench/run.ts) the README is made from. */
export interface ResultsRecord {
  run: string;
  durationS: number;
  options: { profile: string; vsKafka: boolean; only: string[]; syscalls: boolean };
  profile: Profile;
  machine: {
    cpuModel: string;
    cores: number;
    kernel: string;
    filesystem: string | null;
    loadAverageAtStart: number[];
    gitCommit: string | null;
    gitDirty: boolean | null;
  };
  kafka: { version: string; java: string } | null;
  startup: StartupSample[];
  cells: Cell[];
}

/** The tables a run prints, for the scenarios it ran (the same set bench/run.ts prints). */
export function tablesFor(l: Lookup, p: Profile, startup: readonly StartupSample[], only: readonly string[]): Table[] {
  const tables: Table[] = [];
  if (only.includes('fetch')) tables.push(fetchTable(l, p), fanoutTable(l, p));
  if (only.includes('produce')) tables.push(produceTable(l, p));
  if (only.includes('e2e')) tables.push(e2eTable(l, p));
  if (only.includes('sessions')) tables.push(sessionsTable(l, p));
  if (only.includes('tls')) tables.push(tlsTable(l));
  if (only.includes('txn')) tables.push(txnTable(l));
  if (only.includes('cold')) tables.push(coldReaderTable(l));
  if (startup.length > 0) tables.push(startupTable(startup));
  const targets = targetChecks(l, p).filter((t) => t.value !== null);
  if (targets.length > 0) tables.push(targetsTable(targets));
  return tables;
}

const esc = (s: string) => s.replace(/\|/g, '\\|');

export function markdownTable(t: Table): string {
  const lines = [`**${esc(t.title)}**`, ''];
  for (const n of t.notes) lines.push(`- ${n}`);
  if (t.notes.length > 0) lines.push('');
  lines.push(`| ${t.columns.map(esc).join(' | ')} |`);
  lines.push(`|${t.columns.map((_, i) => (i < t.labelColumns ? '---' : '---:')).join('|')}|`);
  for (const r of t.rows) lines.push(`| ${t.columns.map((_, i) => esc(r[i] ?? '')).join(' | ')} |`);
  return lines.join('\n');
}

function header(r: ResultsRecord): string[] {
  const m = r.machine;
  const flags = [r.options.profile === 'quick' ? '--quick' : '', r.options.vsKafka ? '--vs-kafka' : '', `--only ${r.options.only.join(',')}`].filter(
    (s) => s !== '',
  );
  const tree =
    m.gitDirty === false
      ? `clean commit \`${(m.gitCommit ?? 'unknown').slice(0, 10)}\``
      : `**a tree with uncommitted changes (commit \`${(m.gitCommit ?? 'unknown').slice(0, 10)}\` plus edits): not a reference run**`;
  const p = r.profile;
  const lines = [
    `Run \`${r.run}\`: \`pnpm bench ${flags.join(' ')}\` (${p.name} profile: ${p.reps} repetition${p.reps === 1 ? '' : 's'}, ${p.warmupS} s warm-up + ${p.measureS} s windows), ` +
      `${r.kafka === null ? 'Sluice only' : `Apache Kafka ${r.kafka.version} (${r.kafka.java}) on the same machine`}; ${tree}; ` +
      `${m.cpuModel}, ${m.cores} vCPUs, Linux ${m.kernel}, ${m.filesystem ?? 'unknown filesystem'}; load average at start ${m.loadAverageAtStart.join(' ')}; ${Math.round(r.durationS / 60)} min.`,
  ];
  if (r.options.profile !== 'full') lines.push('', `**${r.options.profile} profile: a smoke run, not a result.**`);
  return lines;
}

/** The block's body: header, summary sentences, tables. */
export function resultsMarkdown(r: ResultsRecord, source: string): string {
  const l = new Lookup(r.cells);
  const out = [
    ...header(r),
    '',
    `Every figure below is generated from \`${source}\` by \`bench/lib/report/readme.ts\`; ranges run from the lowest to the highest cell they cover (medians over repetitions); a min–max column gives the lowest and highest repetition beside its median.`,
    '',
  ];
  for (const g of summarize(l, r.profile, r.startup ?? [])) {
    out.push(`**${g.heading}.** ${g.sentences.join(' ')}`, '');
  }
  for (const t of tablesFor(l, r.profile, r.startup ?? [], r.options.only)) out.push(markdownTable(t), '');
  return out.join('\n').trimEnd();
}

const BEGIN = /<!-- results:([\w-]+) source=(\S+) -->\n/g;

export interface Block {
  name: string;
  source: string;
  body: string;
}

/** The generated blocks of a README, in order. */
export function findBlocks(readme: string): Block[] {
  const out: Block[] = [];
  for (const m of readme.matchAll(BEGIN)) {
    const end = readme.indexOf(`<!-- /results:${m[1]} -->`, m.index + m[0].length);
    if (end < 0) throw new Error(`results block ${m[1]} has no end marker`);
    out.push({ name: m[1]!, source: m[2]!, body: readme.slice(m.index + m[0].length, end).trimEnd() });
  }
  return out;
}

/** The README with block `name` replaced by `body`, generated from `source`. */
export function replaceBlock(readme: string, name: string, source: string, body: string): string {
  const begin = new RegExp(`<!-- results:${name} source=\\S+ -->\\n`);
  const m = begin.exec(readme);
  if (m === null) throw new Error(`no <!-- results:${name} source=… --> marker in the README`);
  const endMarker = `<!-- /results:${name} -->`;
  const end = readme.indexOf(endMarker, m.index);
  if (end < 0) throw new Error(`results block ${name} has no end marker`);
  return `${readme.slice(0, m.index)}<!-- results:${name} source=${source} -->\n${body}\n${readme.slice(end)}`;
}

export function loadRecord(path: string): ResultsRecord {
  return JSON.parse(readFileSync(path, 'utf8')) as ResultsRecord;
}

/** A block's body from the JSON it names: a bench/run.ts run, or a bench/cluster.ts run. */
export function blockMarkdown(source: string): string {
  const json: unknown = JSON.parse(readFileSync(join(ROOT, source), 'utf8'));
  if (isClusterRecord(json)) return `${clusterHeader(json, source)}\n\n${markdownTable(clusterTable(json))}`;
  return resultsMarkdown(json as ResultsRecord, source);
}

function main(argv: string[]): void {
  let block = 'reference';
  const files: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--block') block = argv[++i] ?? block;
    else if (argv[i] !== '--') files.push(argv[i]!);
  }
  if (files.length !== 1) throw new Error('usage: node bench/lib/report/readme.ts <results.json> [--block NAME]');
  const source = relative(ROOT, resolve(files[0]!));
  const body = blockMarkdown(source);
  writeFileSync(BENCH_README, replaceBlock(readFileSync(BENCH_README, 'utf8'), block, source, body));
  process.stdout.write(`bench/README.md: block ${block} regenerated from ${source}\n`);
}

if (import.meta.main) {
  try {
    main(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`readme: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  }
}
