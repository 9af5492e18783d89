// Kill -9 the leader of every partition in turn under load: three brokers on etcd, an RF=3,
// min.insync.replicas=2 topic, and two producers writing all the time with acks=all and
// idempotence — kcat (librdkafka) and the Java client, each as a loop of runs. For each partition
// in turn its leader is killed with SIGKILL, another in-sync replica takes over, the killed
// broker restarts on its own data dir and must be back in every ISR within 15 s (catching up
// included) before the next kill. Afterwards every record of every run its producer reported
// fully acknowledged is in the topic exactly once, and each producer's records are in send order
// in every partition (nothing twice, nothing reordered, from acknowledged runs or not).
//
// SLUICE_FAILOVER_ROUNDS (default 1) repeats the round of kills: the long run, as its own command
// (`SLUICE_FAILOVER_ROUNDS=5 pnpm exec vitest run test/cluster-failover-load.test.ts`).

import { afterAll, beforeAll, expect, test } from 'vitest';
import { type ClientCommand, ensureJavaClient, runClient } from './clients/support.ts';
import { createTopic, type PartitionView, partitionViews, TestCluster } from './support/cluster.ts';
import { eventually } from './support/eventually.ts';
import { kcat, requireKcat } from './support/kcat.ts';
import { RawClient } from './support/raw-client.ts';
import { readPartition } from './support/requests.ts';

const TOPIC = 'torture';
const PARTITIONS = 3;
const ROUNDS = Number(process.env.SLUICE_FAILOVER_ROUNDS ?? '1');
const KCAT_PER_RUN = 300;
const JAVA_PER_RUN = 500;

let java: ClientCommand;
let cluster: TestCluster;
const broker = (nodeId: number) => cluster.broker(nodeId);
const WAIT = { timeoutMs: 30_000, intervalMs: 100 };

beforeAll(async () => {
  requireKcat();
  java = ensureJavaClient();
  cluster = await TestCluster.start({ prefix: '/failover', overrides: { 'broker.session.timeout.ms': 3000, 'replica.lag.time.max.ms': 5000 } });
}, 600_000);

afterAll(async () => {
  await cluster?.stop();
});

/** Every partition's leader and ISR, asked of a live broker (a killed one is asked nothing). */
async function partitions(): Promise<PartitionView[]> {
  return partitionViews(cluster.live()[0]!, TOPIC);
}

const bootstrap = () => cluster.bootstrap().join(',');

/** A producer family's loop of runs; `acked` collects the values of runs that fully succeeded. */
interface Load {
  readonly acked: string[];
  runs: number;
  failedRuns: number;
  lastFailure?: string;
  done: Promise<void>;
}

function kcatLoad(running: () => boolean): Load {
  const load: Load = { acked: [], runs: 0, failedRuns: 0, done: Promise.resolve() };
  load.done = (async () => {
    for (let run = 0; running(); run++) {
      const values = Array.from({ length: KCAT_PER_RUN }, (_, i) => `kcat-${run}-${i}`);
      const input = `${values.map((v, i) => `k${i}:${v}`).join('\n')}\n`;
      const args = ['-b', bootstrap(), '-P', '-t', TOPIC, '-K:', '-X', 'acks=all', '-X', 'enable.idempotence=true', '-X', 'linger.ms=5'];
      const r = await kcat([...args, '-X', 'message.timeout.ms=60000'], input, 90_000);
      load.runs++;
      // kcat reports each failed delivery on stderr ("Message delivery failed") and exits
      // non-zero; connection errors while a broker is down are only logged.
      if (r.code === 0 && !/delivery failed/i.test(r.stderr)) load.acked.push(...values);
      else {
        load.failedRuns++;
        load.lastFailure = `exit ${r.code}: ${r.stderr.slice(-500)}`;
      }
    }
  })();
  return load;
}

function javaLoad(running: () => boolean): Load {
  const load: Load = { acked: [], runs: 0, failedRuns: 0, done: Promise.resolve() };
  load.done = (async () => {
    for (let run = 0; running(); run++) {
      // `produce` sends value-none-<i>-run-<run> keyed none-<i>, acks=all, idempotent; exit 0
      // only when every send was acknowledged.
      const r = await runClient(java, ['produce', bootstrap(), TOPIC, String(JAVA_PER_RUN), 'none', 'true', `-run-${run}`], 150_000);
      load.runs++;
      if (r.code === 0) load.acked.push(...Array.from({ length: JAVA_PER_RUN }, (_, i) => `value-none-${i}-run-${run}`));
      else load.failedRuns++;
    }
  })();
  return load;
}

/** (run, index) of a value of either family, or null for a value of neither. */
function sendOrder(value: string): { family: string; run: number; index: number } | null {
  let m = /^kcat-(\d+)-(\d+)$/.exec(value);
  if (m !== null) return { family: 'kcat', run: Number(m[1]), index: Number(m[2]) };
  m = /^value-none-(\d+)-run-(\d+)$/.exec(value);
  if (m !== null) return { family: 'java', run: Number(m[2]), index: Number(m[1]) };
  return null;
}

test(`kill -9 the leader of every partition in turn (${ROUNDS} round(s)) under kcat and Java acks=all load: every acknowledged record once, in order`, async () => {
  const created = await createTopic(broker(1), { name: TOPIC, partitions: PARTITIONS, replicationFactor: 3, configs: { 'min.insync.replicas': '2' } });
  expect(created.errorCode).toBe(0);
  await eventually(async () => {
    for (const p of await partitions()) expect(p.isr).toEqual([1, 2, 3]);
  }, WAIT);

  let running = true;
  const loads = [kcatLoad(() => running), javaLoad(() => running)];
  await eventually(async () => expect(loads.every((l) => l.acked.length > 0)).toBe(true), { ...WAIT, timeoutMs: 120_000 });

  const rejoinMs: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    for (let partition = 0; partition < PARTITIONS; partition++) {
      const victim = (await partitions())[partition].leader;
      await cluster.kill(victim);
      // Another in-sync replica leads the partition.
      await eventually(async () => {
        const p = (await partitions())[partition];
        expect(p.leader).not.toBe(victim);
        expect(p.leader).toBeGreaterThan(0);
      }, WAIT);
      await cluster.restart(victim);
      const started = Date.now();
      // Back in every ISR (caught up under load) before the next kill.
      await eventually(
        async () => {
          for (const p of await partitions()) expect(p.isr).toEqual([1, 2, 3]);
        },
        { ...WAIT, timeoutMs: 15_000 },
      );
      rejoinMs.push(Date.now() - started);
      // Some load on the healed cluster before the next kill.
      const before = loads.map((l) => l.acked.length);
      await eventually(async () => expect(loads.every((l, i) => l.acked.length > before[i])).toBe(true), { ...WAIT, timeoutMs: 120_000 });
    }
  }
  running = false;
  await Promise.all(loads.map((l) => l.done));

  // Every partition read from its leader; each family's values in send order, never twice.
  const stored: string[] = [];
  const views = await partitions();
  for (let partition = 0; partition < PARTITIONS; partition++) {
    const client = await RawClient.connect(broker(views[partition].leader).port);
    const contents = await readPartition(client, TOPIC, partition);
    client.close();
    expect(contents.errorCode).toBe(0);
    const last = new Map<string, { run: number; index: number }>();
    for (const r of contents.records) {
      const value = r.value ?? '';
      stored.push(value);
      const order = sendOrder(value);
      expect(order, `unexpected value ${value}`).not.toBeNull();
      const previous = last.get(order!.family);
      if (previous !== undefined) {
        const after = order!.run > previous.run || (order!.run === previous.run && order!.index > previous.index);
        expect(after, `${TOPIC}-${partition}: ${value} after ${order!.family} run ${previous.run} #${previous.index}`).toBe(true);
      }
      last.set(order!.family, order!);
    }
  }
  const storedSet = new Set(stored);
  expect(storedSet.size).toBe(stored.length);
  for (const load of loads) {
    const missing = load.acked.filter((v) => !storedSet.has(v));
    expect(missing).toEqual([]);
  }
  console.log(
    JSON.stringify({
      kills: ROUNDS * PARTITIONS,
      rejoinMs,
      stored: stored.length,
      kcat: { runs: loads[0].runs, failedRuns: loads[0].failedRuns, acked: loads[0].acked.length, lastFailure: loads[0].lastFailure },
      java: { runs: loads[1].runs, failedRuns: loads[1].failedRuns, acked: loads[1].acked.length },
    }),
  );
}, 900_000);
