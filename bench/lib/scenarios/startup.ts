// Time from start to ready (spawn → first answered ApiVersions + Metadata) and idle RSS (after a
// quiet period with no clients) of each broker, on an empty data dir.

import { setTimeout as sleep } from 'node:timers/promises';
import type { BrokerProcess } from '../broker.ts';
import { type Context, removeDir, scratchDir, sluiceBroker } from '../context.ts';
import { DEFAULT_APPEND_MODE } from '../sluice.ts';
import { rssKb } from '../proc.ts';
import { fmt } from '../units.ts';

export interface StartupSample {
  target: 'sluice' | 'kafka';
  label: string;
  rep: number;
  readyMs: number;
  idleRssKb: number;
}

async function sample(ctx: Context, target: 'sluice' | 'kafka', start: (dir: string) => Promise<BrokerProcess>, rep: number): Promise<StartupSample> {
  const dir = scratchDir(ctx, `${target}-startup-`);
  try {
    const broker = await start(dir);
    try {
      await sleep(ctx.profile.startup.idleS * 1000);
      const s = { target, label: broker.label, rep, readyMs: broker.readyMs, idleRssKb: rssKb(broker.pid) };
      ctx.log(`  ${broker.label}: ready in ${fmt(s.readyMs)} ms, idle RSS ${fmt(s.idleRssKb / 1024)} MiB`);
      return s;
    } finally {
      await broker.stop();
    }
  } finally {
    removeDir(dir);
  }
}

export async function runStartup(ctx: Context): Promise<StartupSample[]> {
  ctx.log('startup: time to ready and idle RSS');
  const out: StartupSample[] = [];
  for (let rep = 0; rep < ctx.profile.startup.reps; rep++) {
    out.push(await sample(ctx, 'sluice', (dir) => sluiceBroker(ctx, dir, 'sendfile', DEFAULT_APPEND_MODE), rep));
    if (ctx.kafka !== null) out.push(await sample(ctx, 'kafka', (dir) => ctx.kafka!.start(dir), rep));
  }
  return out;
}
