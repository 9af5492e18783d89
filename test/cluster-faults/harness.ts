// One fault run, inside the clients' namespace (run.ts sets the network up and re-executes
// itself there): start etcd and the brokers, create the workload topics, run the workloads
// (queue, consumer group, transactions, list-append) while episodes of faults follow each other (apply, hold, heal, wait until the cluster is
// whole again), then stop the clients, read everything back and check the history.

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { check, type CheckReport } from './checker.ts';
import { anyState, type ClusterState, createTopic, type Endpoint } from './cluster-client.ts';
import { BROKER_PORT, FaultCluster } from './cluster.ts';
import { applyFault, FAULT_KINDS, type FaultKind, seededRandom } from './faults.ts';
import type { Topology } from './netns.ts';
import { QueueWorkload } from './workload.ts';
import { AppendWorkload } from './workload-append.ts';
import { GroupWorkload } from './workload-group.ts';
import { TxnWorkload } from './workload-txn.ts';

export interface RunOptions {
  readonly topology: Topology;
  readonly workDir: string;
  readonly seed: number;
  /** Cluster members (3 or 5); one more broker is kept spare for the membership fault. */
  readonly brokers: number;
  readonly episodes: number;
  /** How long each fault is held before it heals (ms). */
  readonly holdMs: number;
  /** Quiet time between a healed cluster and the next fault (ms). */
  readonly settleMs: number;
  /** No new episode starts after this long (ms since the run started; default: none). */
  readonly maxMs?: number;
  /** Fault kinds to draw from (default: all). */
  readonly kinds?: readonly FaultKind[];
  readonly progress?: (line: string) => void;
}

export interface EpisodeRecord {
  readonly episode: number;
  readonly kind: FaultKind;
  readonly target: number;
  readonly detail: string;
  /** ms since the run started. */
  readonly appliedAt: number;
  readonly healedAt: number;
  /** When every broker was back with every partition led and its ISR whole (null: never). */
  readonly wholeAt: number | null;
  /** Acknowledgements while the fault was in place. */
  readonly acksDuringFault: number;
}

export interface RunSummary {
  readonly seed: number;
  readonly brokers: number;
  readonly episodes: number;
  readonly seconds: number;
  readonly faults: EpisodeRecord[];
  readonly check: CheckReport;
  /** Brokers that exited on their own (a crash is a finding too), with their output's tail. */
  readonly brokerCrashes: Array<{ nodeId: number; exit: string; output: string }>;
  /** Problems of the run itself (a cluster that never became whole again...). */
  readonly problems: string[];
}

const TOPIC = 'queue';
const TXN_TOPIC = 'txn';
const APPEND_TOPIC = 'append';
const PARTITIONS = 3;
/** Every topic whose partitions must be led with a whole ISR for the cluster to count as whole. */
const TOPICS = [TOPIC, TXN_TOPIC, APPEND_TOPIC, '__consumer_offsets'];

/** Every member registered (and no other broker), every partition led, its ISR all its replicas, no replica on a non-member. */
function whole(state: ClusterState, members: readonly number[]): boolean {
  return (
    state.brokers.length === members.length &&
    members.every((id) => state.brokers.includes(id)) &&
    state.partitions.length > 0 &&
    state.partitions.every((p) => p.leader > 0 && p.isr.length === p.replicas.length && p.replicas.every((id) => p.isr.includes(id) && members.includes(id)))
  );
}

/** Waits until every member agrees the cluster is whole for every topic; false after `ms`. */
async function waitWhole(endpoints: readonly Endpoint[], ms: number, topics: readonly string[] = TOPICS): Promise<boolean> {
  const members = endpoints.map((_, i) => i + 1);
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    try {
      let ok = true;
      for (const topic of topics) {
        const states = await Promise.all(endpoints.map((e) => anyState([e], topic)));
        if (!states.every((s) => whole(s, members))) {
          ok = false;
          break;
        }
      }
      if (ok) return true;
    } catch {
      // a broker not answering yet, or a topic not created yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  return false;
}

/** Each broker's view of the topic, for a report. */
async function views(endpoints: readonly Endpoint[]): Promise<string> {
  const parts = await Promise.all(
    endpoints.map(async (e, i) => {
      try {
        const s = await anyState([e], TOPIC);
        return `broker ${i + 1} sees brokers [${s.brokers}] controller ${s.controller} ${s.partitions.map((p) => `p${p.partition} leader ${p.leader} epoch ${p.leaderEpoch} isr [${p.isr}]`).join(', ')}`;
      } catch (err) {
        return `broker ${i + 1}: ${(err as Error).message}`;
      }
    }),
  );
  return parts.join('; ');
}

/** With SLUICE_FAULTS_LOGS=<dir>, every broker's output so far is written there (diagnosis): after an episode that left the cluster broken, and at the end. */
function dumpLogs(cluster: FaultCluster, label: string): void {
  const dir = process.env.SLUICE_FAULTS_LOGS;
  if (dir === undefined || dir === '') return;
  mkdirSync(dir, { recursive: true });
  for (const b of cluster.brokers) writeFileSync(join(dir, `${label}-broker-${b.nodeId}.log`), cluster.output(b.nodeId));
}

function shuffled<T>(items: readonly T[], random: () => number): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

export async function runFaults(options: RunOptions): Promise<RunSummary> {
  const log = options.progress ?? (() => undefined);
  const origin = performance.now();
  const at = () => Math.round(performance.now() - origin);
  const random = seededRandom(options.seed);
  const kinds = options.kinds ?? FAULT_KINDS;
  const problems: string[] = [];
  const cluster = new FaultCluster(
    options.topology,
    options.workDir,
    options.brokers,
    { tmpfsDisks: kinds.includes('disk-full'), fakeClock: kinds.includes('clock-jump') },
    kinds.includes('membership') ? 1 : 0,
  );
  const endpoints: Endpoint[] = cluster.brokers.map((b) => ({ host: b.address, port: BROKER_PORT }));
  // Clients know the spare too: partitions move onto it during a membership change.
  const allEndpoints: Endpoint[] = [...cluster.brokers, ...cluster.spares].map((b) => ({ host: b.address, port: BROKER_PORT }));
  const now = () => Math.round((performance.now() - origin) * 10) / 10;
  const faults: EpisodeRecord[] = [];
  const crashes: Array<{ nodeId: number; exit: string; output: string }> = [];
  let workload: QueueWorkload | null = null;
  const others: Array<GroupWorkload | TxnWorkload | AppendWorkload> = [];
  try {
    await cluster.start();
    log(`etcd and ${cluster.brokers.length} brokers up in ${at()} ms`);
    for (const topic of [TOPIC, TXN_TOPIC, APPEND_TOPIC]) await createTopic(endpoints[0], topic, PARTITIONS, 3, 2);
    if (!(await waitWhole(endpoints, 30_000, [TOPIC, TXN_TOPIC, APPEND_TOPIC])))
      throw new Error('the new topics never had a leader and a whole ISR on every broker');
    workload = new QueueWorkload({ brokers: allEndpoints, topic: TOPIC, partitions: PARTITIONS, producers: 6, readers: 1, sendGapMs: 10, origin });
    const history = workload.history;
    others.push(
      new GroupWorkload({ brokers: allEndpoints, topic: TOPIC, partitions: PARTITIONS, groupId: 'faults-group', consumers: 2, history, now }),
      new TxnWorkload({
        brokers: allEndpoints,
        topic: TXN_TOPIC,
        partitions: PARTITIONS,
        producers: 2,
        readers: 1,
        history,
        now,
        random: seededRandom(options.seed + 1),
      }),
      new AppendWorkload({
        brokers: allEndpoints,
        topic: APPEND_TOPIC,
        partitions: PARTITIONS,
        keys: 6,
        producers: 2,
        readers: 1,
        sendGapMs: 20,
        history,
        now,
      }),
    );
    workload.start();
    for (const w of others) w.start();
    // The group's first join creates __consumer_offsets; from then on it is part of "whole".
    if (!(await waitWhole(endpoints, 60_000))) problems.push('__consumer_offsets never had a leader and a whole ISR on every broker');
    await new Promise((r) => setTimeout(r, options.settleMs));
    let round: FaultKind[] = [];
    for (let episode = 1; episode <= options.episodes; episode++) {
      if (options.maxMs !== undefined && at() > options.maxMs) {
        log(`stopping after ${episode - 1} episodes: the run's time limit (${options.maxMs} ms) is reached`);
        break;
      }
      // Every kind once per round, in a seeded order: a long run covers all kinds evenly.
      if (round.length === 0) round = shuffled(kinds, random);
      const kind = round.shift()!;
      // Half the time the controller (its loss moves the most), else any broker.
      let target = 1 + Math.floor(random() * cluster.brokers.length);
      const aimAtController = random() < 0.5;
      if (aimAtController) {
        try {
          const controller = (await anyState(endpoints, TOPIC)).controller;
          if (controller > 0) target = controller;
        } catch {
          // keep the random one
        }
      }
      const acksBefore = workload.history.filter((e) => e.f === 'ack').length;
      const appliedAt = at();
      const fault = await applyFault(kind, target, cluster, options.topology, random, { endpoints: allEndpoints, topics: TOPICS });
      log(`episode ${episode}: ${fault.detail} at ${appliedAt} ms`);
      await new Promise((r) => setTimeout(r, options.holdMs));
      const acksDuringFault = workload.history.filter((e) => e.f === 'ack').length - acksBefore;
      await fault.heal();
      const healedAt = at();
      const isWhole = await waitWhole(endpoints, 60_000);
      const wholeAt = isWhole ? at() : null;
      faults.push({ episode, kind, target, detail: fault.detail, appliedAt, healedAt, wholeAt, acksDuringFault });
      log(
        `episode ${episode}: healed at ${healedAt} ms, whole ${wholeAt === null ? 'NEVER' : `after ${wholeAt - healedAt} ms`}, ${acksDuringFault} acks during the fault`,
      );
      if (!isWhole) dumpLogs(cluster, `episode-${episode}`);
      if (!isWhole) problems.push(`episode ${episode} (${fault.detail}): the cluster was not whole 60 s after healing: ${await views(endpoints)}`);
      for (const c of cluster.crashed()) {
        crashes.push(c);
        problems.push(`broker ${c.nodeId} exited by itself (${c.exit}) during episode ${episode}`);
        await cluster.startBroker(c.nodeId);
      }
      await new Promise((r) => setTimeout(r, options.settleMs));
    }
    await Promise.all([workload.stop(), ...others.map((w) => w.stop())]);
    if (!(await waitWhole(endpoints, 60_000))) problems.push('not whole before the final read');
    await workload.finalRead();
    for (const w of others) await w.finalRead();
  } catch (err) {
    problems.push(`run failed: ${(err as Error).stack ?? err}`);
    await Promise.all([workload?.stop(), ...others.map((w) => w.stop())]);
  } finally {
    dumpLogs(cluster, 'end');
    await cluster.stop();
  }
  const report = check(workload?.history ?? []);
  // SLUICE_FAULTS_HISTORY=<file>: the whole history, one event a line (diagnosis).
  const historyFile = process.env.SLUICE_FAULTS_HISTORY;
  if (historyFile !== undefined && historyFile !== '') writeFileSync(historyFile, (workload?.history ?? []).map((e) => JSON.stringify(e)).join('\n'));
  return {
    seed: options.seed,
    brokers: cluster.brokers.length,
    episodes: faults.length,
    seconds: Math.round(at() / 100) / 10,
    faults,
    check: report,
    brokerCrashes: crashes,
    problems,
  };
}
