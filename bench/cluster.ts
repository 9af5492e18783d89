// `pnpm exec node bench/cluster.ts` — three brokers on one machine: acks=all produce to a
// replication-factor-3, min.insync.replicas=2 topic, then fan-out fetch of what was written, for a
// Sluice cluster (etcd + 3 brokers, cluster mode) and, with --vs-kafka, a 3-node Apache Kafka
// KRaft cluster (bench/kafka/kafka-cluster.ts), with the same load generator.
//
//   pnpm exec node bench/cluster.ts --quick              smoke run (short windows, one repetition)
//   pnpm exec node bench/cluster.ts --vs-kafka           full windows, Sluice then Kafka
//   --out DIR                                            where the JSON goes (default bench/results)
//
// Figures: client MB/s (acknowledged for produce, received for fetch), and the CPU of the three
// broker processes together per GB moved (utime+stime from /proc at the edges of loadgen's
// measured window, every broker's own process: node, or java). Writes
// bench/results/<stamp>-cluster-<profile>[-vs-kafka].json with the machine description (load
// average included: a loaded machine's figures are not reference figures).
// Then failover time (lib/failover.ts): the leader of an RF=3 partition killed with SIGKILL →
// the first acks=-1 produce acknowledged by the new leader, p50/p99 over 20 kills (quick: 3),
// the killed broker restarted and back in the ISR before the next kill.

import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { startEtcd } from '../test/support/etcd-server.ts';
import { ensureKafkaJars, javaVersion, kafkaVersion } from './kafka/kafka.ts';
import { launchNode, startKafkaCluster } from './kafka/kafka-cluster.ts';
import { type BrokerProcess, freePort } from './lib/broker.ts';
import { measureFailover, percentile, type RestartableNode } from './lib/failover.ts';
import { buildLoadgen, ROOT, runLoadgen } from './lib/loadgen.ts';
import { describeMachine } from './lib/machine.ts';
import type { ClusterCell } from './lib/report/cluster-block.ts';
import { diffSamples, type ProcSample, sampleProcess } from './lib/proc.ts';

const GB = 1e9;
const SLUICE_BIN = join(ROOT, 'packages', 'cli', 'bin', 'sluice.js');

interface Options {
  quick: boolean;
  vsKafka: boolean;
  outDir: string;
}

function parseOptions(argv: string[]): Options {
  const o: Options = { quick: false, vsKafka: false, outDir: join(ROOT, 'bench', 'results') };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') continue;
    if (a === '--quick') o.quick = true;
    else if (a === '--vs-kafka') o.vsKafka = true;
    else if (a === '--out') o.outDir = resolve(argv[++i] ?? '.');
    else throw new Error(`unknown option ${a} (--quick, --vs-kafka, --out DIR)`);
  }
  return o;
}

/** Three Sluice brokers in cluster mode on one etcd (127.0.0.1, free ports, own data dirs). */
async function startSluiceCluster(workDir: string, etcdEndpoint: string): Promise<{ brokers: BrokerProcess[]; nodes: RestartableNode[] }> {
  const launched = await Promise.all(
    [1, 2, 3].map(async (nodeId) => {
      const port = await freePort();
      const dataDir = join(workDir, `sluice-${nodeId}`);
      mkdirSync(dataDir, { recursive: true });
      const overrides: Record<string, string> = {
        'node.id': String(nodeId),
        'log.dirs': dataDir,
        listeners: `PLAINTEXT://127.0.0.1:${port}`,
        'sluice.metadata.etcd.endpoints': etcdEndpoint,
        'sluice.log.level': 'warn',
        'sluice.metrics.listener': '',
      };
      const args = [SLUICE_BIN, 'start'];
      for (const [k, v] of Object.entries(overrides)) args.push('--override', `${k}=${v}`);
      const node = await launchNode(() => spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] }), `127.0.0.1:${port}`);
      return { nodeId, port, dataDir, node };
    }),
  );
  return {
    brokers: launched.map(
      ({ nodeId, dataDir, node }): BrokerProcess => ({
        kind: 'sluice',
        label: `sluice node ${nodeId}`,
        pid: node.pid(),
        bootstrap: node.bootstrap,
        readyMs: node.readyMs,
        dataDir,
        output: node.output,
        stop: () => node.stop(),
      }),
    ),
    nodes: launched.map(({ nodeId, port, node }) => ({ nodeId, port, kill: () => node.kill(), restart: () => node.restart() })),
  };
}

/** A cell of the JSON (its fields: report/cluster-block.ts, which makes the README block from it), with loadgen's output. */
interface Cell extends ClusterCell {
  client: unknown;
}

/** One loadgen run with the three broker processes sampled at its measured window's edges. */
async function measure(brokers: readonly BrokerProcess[], args: string[]): Promise<{ client: any; cpuS: number | null }> {
  let start: ProcSample[] | null = null;
  let end: ProcSample[] | null = null;
  const client = await runLoadgen(args, {
    onMeasureStart: () => {
      start = brokers.map((b) => sampleProcess(b.pid));
    },
    onMeasureEnd: () => {
      end = brokers.map((b) => sampleProcess(b.pid));
    },
  });
  const a = start as ProcSample[] | null;
  const b = end as ProcSample[] | null;
  const cpuS = a === null || b === null ? null : a.reduce((sum, s, i) => sum + diffSamples(s, b[i]!).cpuS, 0);
  return { client, cpuS };
}

async function runTarget(
  target: 'sluice' | 'kafka',
  { brokers, nodes }: { brokers: readonly BrokerProcess[]; nodes: readonly RestartableNode[] },
  o: Options,
  log: (l: string) => void,
): Promise<Cell[]> {
  const bootstrap = brokers.map((b) => b.bootstrap).join(',');
  const window = o.quick ? ['--warmup-seconds', '1', '--seconds', '3'] : ['--warmup-seconds', '2', '--seconds', '10'];
  const cells: Cell[] = [];
  const batches = o.quick ? [1 << 20] : [16 << 10, 1 << 20];
  for (const batchBytes of batches) {
    const topic = `cluster-produce-${batchBytes}`;
    const produce = await measure(brokers, [
      'produce',
      '--bootstrap',
      bootstrap,
      '--topic',
      topic,
      '--partitions',
      '3',
      '--replication-factor',
      '3',
      '--topic-config',
      'min.insync.replicas=2',
      '--record-bytes',
      '1024',
      '--batch-bytes',
      String(batchBytes),
      '--acks',
      '-1',
      '--connections',
      '2',
      '--in-flight',
      '8',
      ...window,
    ]);
    const p = produce.client.produce;
    const cell: Cell = {
      target,
      scenario: `produce acks=all RF=3 1KiB/${batchBytes >= 1 << 20 ? '1MiB' : '16KiB'}`,
      mbPerS: p.mb_per_s,
      cpuSPerGB: produce.cpuS === null || p.bytes <= 0 ? null : produce.cpuS / (p.bytes / GB),
      produceP99Us: p.latency_us?.p99_us,
      client: produce.client,
    };
    cells.push(cell);
    log(`  ${target} ${cell.scenario}: ${cell.mbPerS.toFixed(1)} MB/s, ${cell.cpuSPerGB?.toFixed(2) ?? '—'} CPU s/GB (3 brokers)`);
  }
  for (const consumers of o.quick ? [3] : [1, 3, 6]) {
    const fetch = await measure(brokers, [
      'consume',
      '--bootstrap',
      bootstrap,
      '--topic',
      `cluster-produce-${1 << 20}`,
      '--from',
      'earliest',
      '--consumers',
      String(consumers),
      '--rcvlowat',
      String(256 << 10),
      ...window,
    ]);
    const c = fetch.client.consume;
    const cell: Cell = {
      target,
      scenario: `fan-out fetch ${consumers} consumer(s)`,
      mbPerS: c.mb_per_s,
      cpuSPerGB: fetch.cpuS === null || c.bytes <= 0 ? null : fetch.cpuS / (c.bytes / GB),
      client: fetch.client,
    };
    cells.push(cell);
    log(`  ${target} ${cell.scenario}: ${cell.mbPerS.toFixed(1)} MB/s, ${cell.cpuSPerGB?.toFixed(2) ?? '—'} CPU s/GB (3 brokers)`);
  }
  const kills = o.quick ? 3 : 20;
  log(`  ${target}: failover, ${kills} kills of the leader`);
  const times = await measureFailover(nodes, kills, log);
  const failover: Cell = {
    target,
    scenario: `failover ms (${kills} kills)`,
    mbPerS: 0,
    cpuSPerGB: null,
    failoverMs: { p50: percentile(times, 50), p99: percentile(times, 99), all: times },
    client: null,
  };
  cells.push(failover);
  log(`  ${target} failover: p50 ${Math.round(failover.failoverMs!.p50)} ms, p99 ${Math.round(failover.failoverMs!.p99)} ms`);
  return cells;
}

async function main(): Promise<void> {
  const o = parseOptions(process.argv.slice(2));
  const t0 = performance.now();
  const log = (line: string) => process.stdout.write(`[${((performance.now() - t0) / 1000).toFixed(1).padStart(6)}s] ${line}\n`);
  log(`bench/cluster.ts: ${o.quick ? 'quick (smoke)' : 'full'} profile${o.vsKafka ? ', with a 3-node Apache Kafka' : ''}`);
  await buildLoadgen();
  const workDir = mkdtempSync(join(tmpdir(), 'sluice-bench-cluster-'));
  const machine = describeMachine(workDir);
  log(`machine: ${machine.cpuModel}, ${machine.cores} cores, load ${machine.loadAverageAtStart.join(' ')}`);
  const cells: Cell[] = [];
  let kafkaInfo: { version: string; java: string } | undefined;
  try {
    const etcd = await startEtcd();
    const sluice = await startSluiceCluster(workDir, etcd.endpoint);
    log(`sluice: 3 brokers ready (${sluice.brokers.map((b) => Math.round(b.readyMs)).join(', ')} ms)`);
    try {
      cells.push(...(await runTarget('sluice', sluice, o, log)));
    } finally {
      await Promise.all(sluice.brokers.map((b) => b.stop()));
      await etcd.stop();
    }
    if (o.vsKafka) {
      const version = kafkaVersion();
      const libs = ensureKafkaJars(version, log);
      kafkaInfo = { version, java: javaVersion() };
      log(`Apache Kafka ${version} on ${kafkaInfo.java}`);
      const kafka = await startKafkaCluster(libs, version, workDir);
      log(`kafka: 3 nodes ready (${kafka.brokers.map((b) => Math.round(b.readyMs)).join(', ')} ms)`);
      try {
        cells.push(...(await runTarget('kafka', kafka, o, log)));
      } finally {
        await Promise.all(kafka.brokers.map((b) => b.stop()));
      }
    }
  } finally {
    rmSync(workDir, { recursive: true, force: true });
  }
  for (const c of cells.filter((x) => x.target === 'sluice')) {
    const k = cells.find((x) => x.target === 'kafka' && x.scenario === c.scenario);
    if (k === undefined) continue;
    if (c.failoverMs !== undefined && k.failoverMs !== undefined) {
      log(`${c.scenario}: p99 Sluice ${Math.round(c.failoverMs.p99)} ms vs Kafka ${Math.round(k.failoverMs.p99)} ms`);
      continue;
    }
    const cpu = c.cpuSPerGB !== null && k.cpuSPerGB !== null ? (c.cpuSPerGB / k.cpuSPerGB).toFixed(2) : '—';
    log(`${c.scenario}: Sluice ÷ Kafka MB/s ${(c.mbPerS / k.mbPerS).toFixed(2)}×, CPU/GB ${cpu}×`);
  }
  mkdirSync(o.outDir, { recursive: true });
  const stamp = new Date()
    .toISOString()
    .replace(/\.\d+Z$/, 'Z')
    .replace(/:/g, '-');
  const out = join(o.outDir, `${stamp}-cluster-${o.quick ? 'quick' : 'full'}${o.vsKafka ? '-vs-kafka' : ''}.json`);
  writeFileSync(out, `${JSON.stringify({ machine, options: o, kafka: kafkaInfo, cells }, null, 2)}\n`);
  log(`wrote ${out}`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
