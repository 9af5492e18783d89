// Three Apache Kafka nodes on this machine for `bench/cluster.ts`: KRaft, each node broker and
// controller (combined), one static quorum of the three (`controller.quorum.voters`), formatted
// with one cluster id and started together (the quorum needs a majority to elect). Kafka's
// defaults otherwise — internal topics keep replication factor 3, as the Sluice cluster's do.
// Each node is a `java` process spawned directly (its pid is the JVM's own).

import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type BrokerProcess, captureOutput, freePort, stopChild, waitReady } from '../lib/broker.ts';
import type { RestartableNode } from '../lib/failover.ts';
import { JVM_OPTIONS, newClusterId } from './kafka.ts';

const LOG4J2 = join(import.meta.dirname, 'log4j2.properties');

interface NodePorts {
  broker: number;
  controller: number;
}

/** server.properties of node `nodeId` (1-based) of a combined 3-node KRaft cluster. */
export function clusterNodeProperties(nodeId: number, ports: readonly NodePorts[], dataDir: string): string {
  const own = ports[nodeId - 1]!;
  const props: Record<string, string> = {
    'process.roles': 'broker,controller',
    'node.id': String(nodeId),
    'controller.quorum.voters': ports.map((p, i) => `${i + 1}@127.0.0.1:${p.controller}`).join(','),
    listeners: `PLAINTEXT://127.0.0.1:${own.broker},CONTROLLER://127.0.0.1:${own.controller}`,
    'advertised.listeners': `PLAINTEXT://127.0.0.1:${own.broker}`,
    'controller.listener.names': 'CONTROLLER',
    'listener.security.protocol.map': 'PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
    'inter.broker.listener.name': 'PLAINTEXT',
    'log.dirs': dataDir,
    'num.partitions': '1',
    'group.initial.rebalance.delay.ms': '0',
    'file.delete.delay.ms': '1000',
  };
  return Object.entries(props)
    .map(([k, v]) => `${k}=${v}`)
    .join('\n')
    .concat('\n');
}

export async function startKafkaCluster(libs: string, version: string, workDir: string): Promise<{ brokers: BrokerProcess[]; nodes: RestartableNode[] }> {
  const ports: NodePorts[] = [];
  for (let i = 0; i < 3; i++) ports.push({ broker: await freePort(), controller: await freePort() });
  const clusterId = newClusterId();
  const classpath = `${libs}/*`;
  const log4j = `-Dlog4j2.configurationFile=${LOG4J2}`;
  const nodes = [1, 2, 3].map((nodeId) => {
    const dir = join(workDir, `kafka-${nodeId}`);
    const dataDir = join(dir, 'data');
    mkdirSync(dataDir, { recursive: true });
    const propsPath = join(dir, 'server.properties');
    writeFileSync(propsPath, clusterNodeProperties(nodeId, ports, dataDir));
    try {
      execFileSync('java', [log4j, '-cp', classpath, 'kafka.tools.StorageTool', 'format', '-t', clusterId, '-c', propsPath], {
        stdio: ['ignore', 'pipe', 'pipe'],
        encoding: 'utf8',
      });
    } catch (err: any) {
      throw new Error(`kafka-storage format (node ${nodeId}) failed:\n${String(err?.stdout ?? '')}${String(err?.stderr ?? '')}`);
    }
    return { nodeId, dataDir, propsPath };
  });
  const launched = await Promise.all(
    nodes.map((n, i) =>
      launchNode(
        () => spawn('java', [...JVM_OPTIONS, log4j, '-cp', classpath, 'kafka.Kafka', n.propsPath], { stdio: ['ignore', 'pipe', 'pipe'] }),
        `127.0.0.1:${ports[i]!.broker}`,
        30_000,
      ).catch((err: unknown) => err as Error),
    ),
  );
  const failed = launched.find((l) => l instanceof Error);
  if (failed !== undefined) {
    await Promise.all(launched.map((l) => (l instanceof Error ? undefined : l.stop())));
    throw failed;
  }
  const live = launched as LaunchedNode[];
  const brokers = live.map(
    (l, i): BrokerProcess => ({
      kind: 'kafka',
      label: `kafka ${version} node ${i + 1}`,
      pid: l.pid(),
      bootstrap: l.bootstrap,
      readyMs: l.readyMs,
      dataDir: nodes[i]!.dataDir,
      output: l.output,
      stop: () => l.stop(),
    }),
  );
  const restartable = live.map((l, i): RestartableNode => ({ nodeId: i + 1, port: ports[i]!.broker, kill: () => l.kill(), restart: () => l.restart() }));
  return { brokers, nodes: restartable };
}

/** A broker process that can be killed (SIGKILL) and started again with the same command. */
export interface LaunchedNode {
  readonly bootstrap: string;
  readonly readyMs: number;
  pid(): number;
  output(): string;
  kill(): Promise<void>;
  restart(): Promise<void>;
  stop(): Promise<void>;
}

/** Spawns `start()` and waits until it answers at `bootstrap`; kill/restart/stop act on the current process. */
export async function launchNode(start: () => ChildProcess, bootstrap: string, stopGraceMs = 15_000): Promise<LaunchedNode> {
  const spawnedAt = performance.now();
  let child = start();
  let output = captureOutput(child);
  const ready = async () => {
    try {
      return await waitReady(child, bootstrap, spawnedAt, output);
    } catch (err) {
      await stopChild(child);
      throw err;
    }
  };
  const readyMs = await ready();
  return {
    bootstrap,
    readyMs,
    pid: () => {
      if (child.pid === undefined) throw new Error('broker process has no pid');
      return child.pid;
    },
    output: () => output(),
    kill: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGKILL');
      }),
    restart: async () => {
      child = start();
      output = captureOutput(child);
      await waitReady(child, bootstrap, performance.now(), output);
    },
    stop: () => stopChild(child, stopGraceMs),
  };
}
