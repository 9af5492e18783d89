// Scenario 6 (fetch sessions, KIP-227): one consumer of a topic with many partitions (1,000),
// fetching with and without an incremental fetch session, on the same broker in the same run
// (alternating order per repetition). Two states:
//   idle  the consumer sits at the log end and fetches with max.wait.ms 0, so every request is
//         answered at once with nothing: the cost of planning and answering N partitions per
//         request, which is what sessions remove (broker CPU µs per fetch request);
//   read  the consumer re-reads the topic from the start (wrapping at the end): every answer
//         carries records (broker CPU s per GB, MB/s).
// The broker is the same; only the client's requests differ (loadgen --fetch-sessions).

import type { BrokerProcess } from '../broker.ts';
import { type Context, measureCell, removeDir, scratchDir, sluiceBroker, syncDisks, warmUp } from '../context.ts';
import { runLoadgen } from '../loadgen.ts';
import { alternate } from '../profile.ts';
import { type Cell, sessionMetrics } from '../results.ts';
import { fmt } from '../units.ts';

export const SESSIONS_TOPIC = 'bench-sessions';
export const SESSION_MODES = ['full', 'sessions'] as const;
export const SESSION_STATES = ['idle', 'read'] as const;
export type SessionState = (typeof SESSION_STATES)[number];

async function preload(ctx: Context, broker: BrokerProcess): Promise<void> {
  const s = ctx.profile.sessions;
  ctx.log(`  writing ${s.dataBytes / 2 ** 20} MiB to ${SESSIONS_TOPIC} (${s.partitions} partitions)`);
  await runLoadgen([
    'produce',
    '--bootstrap',
    broker.bootstrap,
    '--topic',
    SESSIONS_TOPIC,
    '--partitions',
    String(s.partitions),
    '--record-bytes',
    String(s.recordBytes),
    '--batch-bytes',
    String(s.batchBytes),
    '--acks',
    '1',
    '--in-flight',
    '8',
    '--total-bytes',
    String(s.dataBytes),
  ]);
  syncDisks();
}

function consumeArgs(ctx: Context, broker: BrokerProcess, mode: (typeof SESSION_MODES)[number], state: SessionState): string[] {
  const s = ctx.profile.sessions;
  const stateArgs = state === 'idle' ? ['--from', 'latest', '--wrap', 'false', '--max-wait-ms', '0'] : ['--from', 'earliest', '--wrap', 'true'];
  return [
    'consume',
    '--bootstrap',
    broker.bootstrap,
    '--topic',
    SESSIONS_TOPIC,
    '--consumers',
    '1',
    '--partition-max-bytes',
    String(s.partitionMaxBytes),
    // Room for the whole topic in one answer: loadgen lists partitions in a fixed order, so a
    // smaller limit would keep a full-request consumer on the first partitions (real clients
    // rotate; a session rotates on the broker), and the two modes would read different data.
    '--fetch-max-bytes',
    String(2 * s.dataBytes),
    '--fetch-sessions',
    String(mode === 'sessions'),
    ...stateArgs,
    '--warmup-seconds',
    String(s.warmupS),
    '--seconds',
    String(s.measureS),
  ];
}

function line(c: Cell): string {
  const m = c.metrics;
  return `${fmt(m.fetchesPerS)} fetches/s, ${fmt(m.brokerCpuUsPerFetch)} broker CPU µs/fetch, ${fmt(m.mbPerS)} MB/s, ${fmt(m.cpuSPerGB)} CPU s/GB`;
}

export async function runSessions(ctx: Context): Promise<void> {
  const p = ctx.profile;
  const dataDir = scratchDir(ctx, 'sluice-sessions-');
  try {
    ctx.log(`sessions: ${p.sessions.partitions} partitions, one consumer, with and without a fetch session`);
    const broker = await sluiceBroker(ctx, dataDir, 'sendfile', 'pwrite');
    try {
      await warmUp(ctx, broker);
      await preload(ctx, broker);
      for (let rep = 0; rep < p.reps; rep++) {
        for (const state of alternate(SESSION_STATES, rep)) {
          for (const mode of alternate(SESSION_MODES, rep)) {
            const c = await measureCell(
              ctx,
              broker,
              consumeArgs(ctx, broker, mode, state),
              { scenario: 'sessions', target: 'sluice', mode, key: { state }, rep },
              sessionMetrics,
            );
            if (c !== null) ctx.log(`  ${state} ${mode}: ${line(c)}`);
          }
        }
      }
    } finally {
      await broker.stop();
    }
  } finally {
    removeDir(dataDir);
  }
}
