// Failover time on a 3-broker cluster (bench/cluster.ts): the leader of partition 0 of an RF=3,
// min.insync.replicas=2 topic is killed with SIGKILL; the time is from the kill to the first
// acks=-1 Produce answered without error by the new leader, found the way a client finds it
// (Metadata from a live broker, every 20 ms). The killed broker then restarts on its data and
// the next kill waits until it is back in the ISR. Same code for Sluice and Kafka.

import { buildRecordBatch, type MetadataResponse } from '@sluice/protocol';
import { RawClient } from '../../test/support/raw-client.ts';

/** A cluster node the measurement may kill and start again (same port, same data). */
export interface RestartableNode {
  readonly nodeId: number;
  readonly port: number;
  kill(): Promise<void>;
  restart(): Promise<void>;
}

const TOPIC = 'failover';
const POLL_MS = 20;

async function ask<T>(port: number, apiKey: number, version: number, body: object): Promise<T> {
  const client = await RawClient.connect(port);
  try {
    return (await client.request(apiKey, version, body)) as T;
  } finally {
    client.close();
  }
}

async function partitionZero(nodes: readonly RestartableNode[], down: ReadonlySet<number>): Promise<{ leader: number; isr: number } | null> {
  for (const n of nodes) {
    if (down.has(n.nodeId)) continue;
    try {
      const answer = await ask<MetadataResponse>(n.port, 3, 12, {
        topics: [{ name: TOPIC, topicId: '00000000000000000000000000000000' }],
        allowAutoTopicCreation: false,
        includeTopicAuthorizedOperations: false,
      });
      const p = answer.topics[0]?.partitions.find((x) => x.partitionIndex === 0);
      if (p !== undefined) return { leader: p.leaderId, isr: p.isrNodes.length };
    } catch {
      // That broker is not answering (yet): ask the next.
    }
  }
  return null;
}

async function produceOnce(port: number): Promise<number> {
  const answer = await ask<any>(port, 0, 9, {
    transactionalId: null,
    acks: -1,
    timeoutMs: 5000,
    topicData: [{ name: TOPIC, partitionData: [{ index: 0, records: buildRecordBatch({ records: [{ key: null, value: 'probe' }] }) }] }],
  });
  return answer.responses[0].partitionResponses[0].errorCode;
}

async function until<T>(what: string, timeoutMs: number, step: () => Promise<T | null>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await step().catch(() => null);
    if (value !== null) return value;
    if (Date.now() > deadline) throw new Error(`failover: ${what} did not happen within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

/** Kills the leader `kills` times; the failover times in ms, in kill order. */
export async function measureFailover(nodes: readonly RestartableNode[], kills: number, log: (line: string) => void): Promise<number[]> {
  const down = new Set<number>();
  const first = nodes[0]!;
  const created = await ask<any>(first.port, 19, 7, {
    topics: [{ name: TOPIC, numPartitions: 1, replicationFactor: 3, assignments: [], configs: [{ name: 'min.insync.replicas', value: '2' }] }],
    timeoutMs: 30_000,
    validateOnly: false,
  });
  if (created.topics[0].errorCode !== 0) throw new Error(`failover: creating ${TOPIC} failed (${created.topics[0].errorCode})`);
  const port = (id: number) => nodes.find((n) => n.nodeId === id)!.port;
  const times: number[] = [];
  for (let k = 0; k < kills; k++) {
    const healthy = await until('a fully replicated leader', 120_000, async () => {
      const p = await partitionZero(nodes, down);
      return p !== null && p.leader >= 0 && p.isr === 3 && (await produceOnce(port(p.leader))) === 0 ? p : null;
    });
    const victim = nodes.find((n) => n.nodeId === healthy.leader)!;
    down.add(victim.nodeId);
    const killedAt = performance.now();
    await victim.kill();
    await until('a produce on the new leader', 120_000, async () => {
      const p = await partitionZero(nodes, down);
      if (p === null || p.leader < 0 || p.leader === victim.nodeId) return null;
      return (await produceOnce(port(p.leader))) === 0 ? true : null;
    });
    const ms = performance.now() - killedAt;
    times.push(ms);
    log(`    kill ${k + 1}/${kills}: node ${victim.nodeId} → produce on the new leader after ${Math.round(ms)} ms`);
    await victim.restart();
    down.delete(victim.nodeId);
  }
  return times;
}

/** The p-th percentile (nearest rank) of `values`. */
export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}
