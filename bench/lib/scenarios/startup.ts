// Time from start to ready (spawn → first answered ApiVersions + Metadata) and idle RSS (after a
// quiet period with no clients) of each broker on an empty data dir; then what idle load costs
// in memory: the same broker with 1,000 idle client connections, and a second broker with one
// topic of 1,000 idle partitions. Sluice runs its default configuration (sendfile, pwrite
// appends, the metrics endpoint on, log level info); Kafka its stock one (bench/kafka).
//
// Before the measured repetitions each broker is started and stopped once, unmeasured: a
// restart in production finds the OS page cache holding the broker's files (jars, Node's
// compile cache, the addon), and the first start of a run should not be the only one that pays
// for reading them from disk.

import { setTimeout as sleep } from 'node:timers/promises';
import { type BrokerProcess, freePort } from '../broker.ts';
import { type Context, removeDir, scratchDir, sluiceBroker } from '../context.ts';
import { openIdleConnections } from '../idle-connections.ts';
import { runLoadgen } from '../loadgen.ts';
import { rssKb } from '../proc.ts';
import { fmt, median } from '../units.ts';

/** How much idle load the memory cells put on a broker. */
export const IDLE_PARTITIONS = 1000;
export const IDLE_CONNECTIONS = 1000;

/** Issue 21's goals for Sluice (median over repetitions). */
export const STARTUP_GOALS = { readyMs: 300, idleRssMiB: 100 } as const;

export interface StartupSample {
  target: 'sluice' | 'kafka';
  label: string;
  rep: number;
  readyMs: number;
  idleRssKb: number;
  /** RSS with IDLE_CONNECTIONS idle connections open (same broker as idleRssKb); null if that cell failed. */
  idleConnectionsRssKb: number | null;
  /** RSS of a second broker holding one topic of IDLE_PARTITIONS partitions, idle; null if that cell failed. */
  idlePartitionsRssKb: number | null;
}

export interface StartupGoalCheck {
  what: string;
  value: number | null;
  goal: number;
  met: boolean | null;
}

type Start = (dir: string) => Promise<BrokerProcess>;

async function sluiceDefaults(ctx: Context, dir: string): Promise<BrokerProcess> {
  const metricsPort = await freePort();
  // bench/lib/sluice.ts turns the metrics endpoint off and logs at warn for the throughput
  // scenarios; here both go back to their defaults.
  return sluiceBroker(ctx, dir, 'sendfile', 'pwrite', {
    'sluice.metrics.listener': `http://127.0.0.1:${metricsPort}/metrics`,
    'sluice.log.level': 'info',
  });
}

async function withBroker<T>(ctx: Context, target: 'sluice' | 'kafka', start: Start, use: (b: BrokerProcess) => Promise<T>): Promise<T> {
  const dir = scratchDir(ctx, `${target}-startup-`);
  try {
    const broker = await start(dir);
    try {
      return await use(broker);
    } finally {
      await broker.stop();
    }
  } finally {
    removeDir(dir);
  }
}

/** Runs an optional memory cell; a failure is recorded and gives null, the rest goes on. */
async function optionalCell(ctx: Context, what: string, run: () => Promise<number>): Promise<number | null> {
  try {
    return await run();
  } catch (err) {
    const error = err instanceof Error ? err.message : String(err);
    ctx.failures.push({ what, error });
    ctx.log(`  FAILED ${what}: ${error.split('\n')[0]}`);
    return null;
  }
}

/** One topic of IDLE_PARTITIONS partitions. loadgen waits up to 30 s for every partition to have a
 * leader; a loaded machine made Kafka take longer, so the call (which creates only a missing topic)
 * is repeated before giving up. */
async function createIdleTopic(bootstrap: string): Promise<void> {
  const args = ['create-topic', '--bootstrap', bootstrap, '--topic', 'bench-idle-partitions', '--partitions', String(IDLE_PARTITIONS)];
  for (let attempt = 1; ; attempt++) {
    try {
      await runLoadgen(args);
      return;
    } catch (err) {
      if (attempt >= 3) throw err;
    }
  }
}

async function sample(ctx: Context, target: 'sluice' | 'kafka', start: Start, rep: number): Promise<StartupSample> {
  const idleMs = ctx.profile.startup.idleS * 1000;
  const first = await withBroker(ctx, target, start, async (broker) => {
    await sleep(idleMs);
    const idleRssKb = rssKb(broker.pid);
    const idleConnectionsRssKb = await optionalCell(ctx, `startup ${target} ${IDLE_CONNECTIONS} idle connections repetition ${rep + 1}`, async () => {
      const conns = await openIdleConnections(broker.bootstrap, IDLE_CONNECTIONS);
      try {
        await sleep(idleMs);
        return rssKb(broker.pid);
      } finally {
        conns.close();
      }
    });
    return { label: target === 'sluice' ? 'sluice (defaults)' : broker.label, readyMs: broker.readyMs, idleRssKb, idleConnectionsRssKb };
  });
  const idlePartitionsRssKb = await optionalCell(ctx, `startup ${target} ${IDLE_PARTITIONS} idle partitions repetition ${rep + 1}`, () =>
    withBroker(ctx, target, start, async (broker) => {
      await createIdleTopic(broker.bootstrap);
      await sleep(idleMs);
      return rssKb(broker.pid);
    }),
  );
  const s: StartupSample = { target, rep, ...first, idlePartitionsRssKb };
  const mib = (kb: number | null) => (kb === null ? 'failed' : `${fmt(kb / 1024)} MiB`);
  ctx.log(
    `  ${s.label}: ready in ${fmt(s.readyMs)} ms, idle RSS ${mib(s.idleRssKb)}; with ${IDLE_CONNECTIONS} idle connections ${mib(s.idleConnectionsRssKb)}; with ${IDLE_PARTITIONS} idle partitions ${mib(s.idlePartitionsRssKb)}`,
  );
  return s;
}

/** The start and memory goals, checked against the median of Sluice's samples. */
export function startupGoalChecks(samples: readonly StartupSample[]): StartupGoalCheck[] {
  const sluice = samples.filter((s) => s.target === 'sluice');
  const ready = median(sluice.map((s) => s.readyMs));
  const rss = median(sluice.map((s) => s.idleRssKb / 1024));
  return [
    {
      what: `sluice start to ready, ms (goal < ${STARTUP_GOALS.readyMs})`,
      value: ready,
      goal: STARTUP_GOALS.readyMs,
      met: ready === null ? null : ready < STARTUP_GOALS.readyMs,
    },
    {
      what: `sluice idle RSS, MiB (goal < ${STARTUP_GOALS.idleRssMiB})`,
      value: rss,
      goal: STARTUP_GOALS.idleRssMiB,
      met: rss === null ? null : rss < STARTUP_GOALS.idleRssMiB,
    },
  ];
}

export async function runStartup(ctx: Context): Promise<StartupSample[]> {
  ctx.log(`startup: time to ready, idle RSS, RSS with ${IDLE_CONNECTIONS} idle connections and with ${IDLE_PARTITIONS} idle partitions`);
  const targets: { target: 'sluice' | 'kafka'; start: Start }[] = [{ target: 'sluice', start: (dir) => sluiceDefaults(ctx, dir) }];
  const kafka = ctx.kafka;
  if (kafka !== null) targets.push({ target: 'kafka', start: (dir) => kafka.start(dir) });
  for (const t of targets) await withBroker(ctx, t.target, t.start, async () => {});
  const out: StartupSample[] = [];
  for (let rep = 0; rep < ctx.profile.startup.reps; rep++) {
    // Alternating order, as the other scenarios: neither broker always runs right after the other.
    const order = rep % 2 === 0 ? targets : [...targets].reverse();
    for (const t of order) out.push(await sample(ctx, t.target, t.start, rep));
  }
  for (const c of startupGoalChecks(out))
    ctx.log(`  ${c.what}: ${c.value === null ? 'not measured' : fmt(c.value)} → ${c.met === null ? 'not measured' : c.met ? 'met' : 'MISSED'}`);
  return out;
}
