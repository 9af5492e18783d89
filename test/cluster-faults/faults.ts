// The fault kinds. Each applies itself to a target chosen by the seeded random source and
// returns how to heal it. Network faults are nftables rules (netns.ts); process faults are
// signals and restarts (cluster.ts).

import { anyState, type Endpoint, reassign } from './cluster-client.ts';
import { BROKER_PORT, ETCD_PORT, type FaultCluster, SESSION_TIMEOUT_MS } from './cluster.ts';
import { dropOneWay, healNetwork, packetLoss, partition, redirectRootTcp, type Topology } from './netns.ts';

export const FAULT_KINDS = [
  /** kill -9 a broker; heal: restart it on its data dir. */
  'kill',
  /** SIGSTOP a broker for the hold time (well past the lease TTL); heal: SIGCONT. */
  'pause',
  /** A broker cut from the other brokers and etcd, both ways (clients still reach it). */
  'partition-isolate',
  /** A broker's packets to the other brokers and etcd dropped; theirs to it still arrive. */
  'partition-one-way',
  /** A broker cut from etcd only (brokers and clients still reach it). */
  'partition-etcd',
  /** Two brokers and etcd on one side, one broker on the other, with the clients on the minority side. */
  'partition-majority',
  /** 30 % of a broker's packets dropped at random, both directions. */
  'packet-loss',
  /** kill -9 a broker, delete its log dir (a lost disk), restart it empty. */
  'restart-wiped',
  /** A broker's log dir (its own tmpfs) filled up: appends there fail with ENOSPC; heal: space again. */
  'disk-full',
  /** A broker's wall clock stepped 10 minutes forward or back (libfaketime, that process only); heal: back to true time. */
  'clock-jump',
  /** 150 ms added each way to a broker's outgoing connections (to the other brokers and etcd) by a userspace proxy. */
  'latency',
  /**
   * Membership change: a new broker joins and every partition the target holds (the workload
   * topics and `__consumer_offsets`) is reassigned onto it, then the target is decommissioned
   * (stopped cleanly, holding nothing); heal: the target comes back, the partitions are
   * reassigned back onto it and the new broker is decommissioned the same way.
   */
  'membership',
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export interface AppliedFault {
  readonly kind: FaultKind;
  /** Broker node id the fault is aimed at. */
  readonly target: number;
  /** What was done, for the report. */
  readonly detail: string;
  heal(): Promise<void>;
}

/** Deterministic random numbers from a seed (mulberry32): a seed replays the fault schedule. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** What the membership fault needs: every node's endpoint (index nodeId - 1) and the topics to move. */
export interface FaultContext {
  readonly endpoints: readonly Endpoint[];
  readonly topics: readonly string[];
}

/** Replaces `from` with `to` in the replicas of every partition of `topics` that has it; resolves once the moves are complete (false: not within `ms`). */
async function moveReplicas(
  context: FaultContext,
  live: readonly Endpoint[],
  from: number,
  to: number,
  ms: number,
): Promise<{ moved: number; complete: boolean }> {
  const moves: Array<{ topic: string; partition: number; replicas: number[] }> = [];
  for (const topic of context.topics) {
    const state = await anyState(live, topic);
    for (const p of state.partitions) {
      if (p.replicas.includes(from)) moves.push({ topic, partition: p.partition, replicas: p.replicas.map((r) => (r === from ? to : r)) });
    }
  }
  if (moves.length === 0) return { moved: 0, complete: true };
  await reassign(live[0], moves);
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    try {
      let done = true;
      for (const topic of context.topics) {
        const state = await anyState(live, topic);
        for (const p of state.partitions)
          if (p.replicas.includes(from) || (moves.some((m) => m.topic === topic && m.partition === p.partition) && !p.isr.includes(to))) done = false;
      }
      if (done) return { moved: moves.length, complete: true };
    } catch {
      // a broker not answering: ask again
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  return { moved: moves.length, complete: false };
}

export async function applyFault(
  kind: FaultKind,
  target: number,
  cluster: FaultCluster,
  topology: Topology,
  random: () => number,
  context?: FaultContext,
): Promise<AppliedFault> {
  const name = `b${target}`;
  const otherBrokers = cluster.brokers.filter((b) => b.nodeId !== target).map((b) => b.name);
  const network = (detail: string): AppliedFault => ({
    kind,
    target,
    detail,
    heal: async () => healNetwork(topology),
  });
  switch (kind) {
    case 'kill':
      await cluster.kill(target);
      return { kind, target, detail: `kill -9 broker ${target}`, heal: () => cluster.startBroker(target) };
    case 'pause':
      cluster.pause(target);
      return { kind, target, detail: `SIGSTOP broker ${target} (lease TTL ${SESSION_TIMEOUT_MS} ms)`, heal: async () => cluster.resume(target) };
    case 'partition-isolate':
      partition(topology, [name], [...otherBrokers, 'etcd']);
      return network(`broker ${target} | other brokers + etcd, both ways`);
    case 'partition-one-way':
      for (const other of [...otherBrokers, 'etcd']) dropOneWay(topology, name, other);
      return network(`broker ${target} → other brokers + etcd dropped`);
    case 'partition-etcd':
      partition(topology, [name], ['etcd']);
      return network(`broker ${target} | etcd, both ways`);
    case 'partition-majority':
      // The clients stay with the minority broker: they see a broker that must stop serving.
      partition(topology, [name, 'cli'], [...otherBrokers, 'etcd']);
      return network(`broker ${target} + clients | other brokers + etcd`);
    case 'packet-loss':
      packetLoss(topology, name, 30);
      return network(`30 % packet loss at broker ${target}`);
    case 'restart-wiped':
      await cluster.kill(target);
      cluster.wipe(target);
      return {
        kind,
        target,
        detail: `kill -9 broker ${target}, log dir deleted`,
        heal: async () => {
          // Its old registration must expire first (a new directory id is another broker).
          await new Promise((r) => setTimeout(r, SESSION_TIMEOUT_MS + 1000));
          await cluster.startBroker(target);
        },
      };
    case 'disk-full':
      cluster.fillDisk(target);
      return { kind, target, detail: `broker ${target}'s log dir full (ENOSPC)`, heal: async () => cluster.freeDisk(target) };
    case 'latency': {
      const delayMs = 150;
      const routes = [
        ...cluster.brokers.filter((b) => b.nodeId !== target).map((b) => ({ address: b.address, port: BROKER_PORT, toPort: 19000 + b.nodeId })),
        { address: topology.address('etcd'), port: ETCD_PORT, toPort: 19379 },
      ];
      const stopProxy = await cluster.startLatencyProxy(target, delayMs, routes);
      redirectRootTcp(topology, name, routes);
      return {
        kind,
        target,
        detail: `+${delayMs} ms each way on broker ${target}'s connections to the other brokers and etcd`,
        heal: async () => {
          healNetwork(topology);
          await stopProxy();
        },
      };
    }
    case 'membership': {
      const spare = cluster.spares[0];
      if (spare === undefined || context === undefined) throw new Error('membership needs a spare broker and the fault context');
      const liveWithout = (down: number) => context.endpoints.filter((_, i) => i + 1 !== down && cluster.broker(i + 1).state === 'up');
      await cluster.startBroker(spare.nodeId);
      // A move that fails or does not complete still decommissions the target: the episode is then a broker loss, and the check after the heal shows whether the cluster recovered.
      const out = await moveReplicas(context, liveWithout(0), target, spare.nodeId, 30_000).catch((err: Error) => ({
        moved: 0,
        complete: false,
        error: err.message,
      }));
      await cluster.stopGracefully(target);
      return {
        kind,
        target,
        detail: `broker ${spare.nodeId} joined, ${out.moved} partitions moved from broker ${target} onto it (${out.complete ? 'complete' : `NOT complete in 30 s${'error' in out ? `: ${out.error}` : ''}`}), broker ${target} decommissioned`,
        heal: async () => {
          // Its old registration expires first if the stop did not remove it.
          await cluster.startBroker(target);
          await moveReplicas(context, liveWithout(0), spare.nodeId, target, 60_000).catch(() => undefined);
          await cluster.stopGracefully(spare.nodeId);
        },
      };
    }
    case 'clock-jump': {
      const offset = random() < 0.5 ? '+10m' : '-10m';
      cluster.setClock(target, offset);
      return { kind, target, detail: `broker ${target}'s wall clock ${offset}`, heal: async () => cluster.setClock(target, '+0') };
    }
  }
}
