// The Apache Kafka side of `pnpm bench --vs-kafka` (and the jars of Kafka's command-line tools,
// which test/kafka-tools.test.ts runs against Sluice): fetches the broker's jars from Maven Central
// with Maven (bench/kafka/pom.xml) into a cache outside the repository, formats a single-node
// KRaft data dir (kafka.tools.StorageTool format, what `kafka-storage.sh format` runs) and starts
// `kafka.Kafka server.properties` with the JVM options kafka-server-start.sh uses by default.
// The broker is spawned as `java` directly, so its pid is the JVM's own.

import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { type BrokerProcess, captureOutput, freePort, stopChild, waitReady } from '../lib/broker.ts';

const KAFKA_DIR = import.meta.dirname;
const POM = join(KAFKA_DIR, 'pom.xml');
const LOG4J2 = join(KAFKA_DIR, 'log4j2.properties');

/** JVM options of kafka-server-start.sh / kafka-run-class.sh when nothing is overridden. */
export const JVM_OPTIONS = [
  '-Xmx1G',
  '-Xms1G',
  '-server',
  '-XX:+UseG1GC',
  '-XX:MaxGCPauseMillis=20',
  '-XX:InitiatingHeapOccupancyPercent=35',
  '-XX:+ExplicitGCInvokesConcurrent',
  '-Djava.awt.headless=true',
];

export function kafkaVersion(pom: string = readFileSync(POM, 'utf8')): string {
  const m = /<kafka\.version>([^<]+)<\/kafka\.version>/.exec(pom);
  if (m === null) throw new Error(`no <kafka.version> in ${POM}`);
  return m[1]!.trim();
}

export function cacheRoot(): string {
  return join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'sluice-bench');
}

/** `java -version`'s first line (it prints to stderr), or throws with what to install. */
export function javaVersion(): string {
  const r = spawnSync('java', ['-version'], { encoding: 'utf8' });
  const line = `${r.stderr ?? ''}${r.stdout ?? ''}`.split('\n').find((l) => l.includes('version'));
  if (r.status !== 0 || line === undefined) throw new Error('--vs-kafka needs Java 17 or newer on PATH (java -version failed)');
  return line.trim();
}

/** The directory of jars for `version`, downloading them with Maven on first use. */
export function ensureKafkaJars(version: string, log: (line: string) => void): string {
  const dir = join(cacheRoot(), `kafka-${version}`);
  const libs = join(dir, 'libs');
  const marker = join(dir, 'complete');
  // kafka-tools came into the pom after the first caches were made: a cache without it is stale.
  const complete = existsSync(marker) && existsSync(join(libs, `kafka_2.13-${version}.jar`)) && existsSync(join(libs, `kafka-tools-${version}.jar`));
  if (complete) return libs;
  log(`fetching Apache Kafka ${version} jars from Maven Central into ${libs}`);
  const staging = join(dir, `libs.partial-${process.pid}`);
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  try {
    execFileSync(
      'mvn',
      ['-B', '-q', '-f', POM, `-Dkafka.version=${version}`, 'dependency:copy-dependencies', '-DincludeScope=runtime', `-DoutputDirectory=${staging}`],
      { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' },
    );
  } catch (err: any) {
    throw new Error(`mvn could not fetch Apache Kafka ${version}:\n${String(err?.stdout ?? '')}${String(err?.stderr ?? '')}`);
  }
  if (!existsSync(join(staging, `kafka_2.13-${version}.jar`))) throw new Error(`mvn finished but ${staging} has no kafka_2.13-${version}.jar`);
  rmSync(libs, { recursive: true, force: true });
  renameSync(staging, libs);
  writeFileSync(marker, `${readdirSync(libs).length} jars\n`);
  return libs;
}

export interface KafkaPorts {
  broker: number;
  controller: number;
}

/** A single-node KRaft broker+controller, otherwise Kafka's defaults. The overrides are the
 * single-node necessities (replication factors of internal topics) plus a short
 * file.delete.delay.ms so deleted benchmark topics free their disk space within the run. */
export function serverProperties(dataDir: string, ports: KafkaPorts, ssl?: KafkaSsl): string {
  const props: Record<string, string> = {
    'process.roles': 'broker,controller',
    'node.id': '1',
    'controller.quorum.voters': `1@127.0.0.1:${ports.controller}`,
    listeners: `PLAINTEXT://127.0.0.1:${ports.broker},CONTROLLER://127.0.0.1:${ports.controller}`,
    'advertised.listeners': `PLAINTEXT://127.0.0.1:${ports.broker}`,
    'controller.listener.names': 'CONTROLLER',
    'listener.security.protocol.map': 'PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
    'inter.broker.listener.name': 'PLAINTEXT',
    'log.dirs': dataDir,
    'num.partitions': '1',
    'offsets.topic.replication.factor': '1',
    'transaction.state.log.replication.factor': '1',
    'transaction.state.log.min.isr': '1',
    'share.coordinator.state.topic.replication.factor': '1',
    'share.coordinator.state.topic.min.isr': '1',
    'group.initial.rebalance.delay.ms': '0',
    'file.delete.delay.ms': '1000',
  };
  if (ssl !== undefined) {
    props.listeners += `,SSL://127.0.0.1:${ssl.port}`;
    props['advertised.listeners'] += `,SSL://127.0.0.1:${ssl.port}`;
    props['listener.security.protocol.map'] += ',SSL:SSL';
    Object.assign(props, ssl.props);
  }
  return Object.entries(props)
    .map(([k, v]) => `${k}=${v}`)
    .join('\n')
    .concat('\n');
}

/** Kafka's cluster id format: 16 random bytes, URL-safe base64 without padding. Like Kafka's
 * Uuid.randomUuid, never one that starts with '-': the storage tool would read it as an option
 * (`-t -x…` failed one start in 64). */
export function newClusterId(): string {
  // Drawn again when it would start with '-', as Kafka's Uuid.randomUuid() does: the storage
  // tool's command line (`format -t <id>`) reads such an id as an option and fails (1 in 64).
  for (;;) {
    const id = randomBytes(16).toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}

/** An SSL listener next to PLAINTEXT: its port and its ssl.* settings. */
export interface KafkaSsl {
  port: number;
  props: Record<string, string>;
}

export interface KafkaOptions {
  libs: string;
  version: string;
  /** Holds server.properties and data/; must be empty or absent. */
  workDir: string;
  ssl?: KafkaSsl;
}

export async function startKafka(opts: KafkaOptions): Promise<BrokerProcess> {
  const dataDir = join(opts.workDir, 'data');
  mkdirSync(dataDir, { recursive: true });
  const ports = { broker: await freePort(), controller: await freePort() };
  const propsPath = join(opts.workDir, 'server.properties');
  writeFileSync(propsPath, serverProperties(dataDir, ports, opts.ssl));
  const classpath = `${opts.libs}/*`;
  const log4j = `-Dlog4j2.configurationFile=${LOG4J2}`;
  if (!existsSync(join(dataDir, 'meta.properties'))) {
    try {
      execFileSync('java', [log4j, '-cp', classpath, 'kafka.tools.StorageTool', 'format', '-t', newClusterId(), '-c', propsPath], {
        stdio: ['ignore', 'pipe', 'pipe'],
        encoding: 'utf8',
      });
    } catch (err: any) {
      throw new Error(`kafka-storage format failed:\n${String(err?.stdout ?? '')}${String(err?.stderr ?? '')}`);
    }
  }
  const spawnedAt = performance.now();
  const child = spawn('java', [...JVM_OPTIONS, log4j, '-cp', classpath, 'kafka.Kafka', propsPath], { stdio: ['ignore', 'pipe', 'pipe'] });
  const output = captureOutput(child);
  const bootstrap = `127.0.0.1:${ports.broker}`;
  let readyMs: number;
  try {
    readyMs = await waitReady(child, bootstrap, spawnedAt, output);
  } catch (err) {
    await stopChild(child);
    throw err;
  }
  if (child.pid === undefined) throw new Error('java process has no pid');
  return {
    kind: 'kafka',
    label: `kafka ${opts.version}`,
    pid: child.pid,
    bootstrap,
    readyMs,
    dataDir,
    output,
    stop: () => stopChild(child, 30_000),
  };
}
