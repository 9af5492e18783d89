// Kafka Connect for test/connect.test.ts: a distributed worker (org.apache.kafka.connect.cli
// .ConnectDistributed, from connect-runtime in the Kafka jars bench/kafka/pom.xml fetches) and the
// line-file connectors in test/connect/src, compiled here against those jars into
// test/connect/target (rebuilt when a source changes; `.ci/run` builds it ahead of the tests
// through test/clients/install.ts).

import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { kafkaToolsLibs } from './kafka-tools.ts';

const CONNECT_DIR = resolve(import.meta.dirname, '..', 'connect');
const SOURCES = join(CONNECT_DIR, 'src', 'dev', 'sluice', 'connect');
const CLASSES = join(CONNECT_DIR, 'target', 'classes');
const STAMP = join(CONNECT_DIR, 'target', '.stamp');
const LOG4J2 = resolve(import.meta.dirname, '..', '..', 'bench', 'kafka', 'tools-log4j2.properties');

export const SOURCE_CONNECTOR = 'dev.sluice.connect.LineFileSourceConnector';
export const SINK_CONNECTOR = 'dev.sluice.connect.LineFileSinkConnector';

/** The worker's classpath: the compiled connectors, then Kafka's jars. */
export function ensureConnect(): string {
  const libs = kafkaToolsLibs();
  const files = readdirSync(SOURCES)
    .filter((f) => f.endsWith('.java'))
    .sort()
    .map((f) => join(SOURCES, f));
  const hash = createHash('sha256');
  for (const f of files) hash.update(f).update(readFileSync(f));
  hash.update(libs);
  const digest = hash.digest('hex');
  if (!existsSync(STAMP) || readFileSync(STAMP, 'utf8') !== digest) {
    rmSync(CLASSES, { recursive: true, force: true });
    mkdirSync(CLASSES, { recursive: true });
    execFileSync('javac', ['-d', CLASSES, '-cp', `${libs}/*`, ...files], { stdio: ['ignore', 'pipe', 'pipe'] });
    // Connect finds plugins through these ServiceLoader manifests (KIP-898) as well as by scanning.
    const services = join(CLASSES, 'META-INF', 'services');
    mkdirSync(services, { recursive: true });
    writeFileSync(join(services, 'org.apache.kafka.connect.source.SourceConnector'), `${SOURCE_CONNECTOR}\n`);
    writeFileSync(join(services, 'org.apache.kafka.connect.sink.SinkConnector'), `${SINK_CONNECTOR}\n`);
    writeFileSync(STAMP, digest);
  }
  return `${CLASSES}:${libs}/*`;
}

export interface ConnectWorker {
  readonly url: string;
  output(): string;
  /** SIGTERM (a graceful stop: tasks commit their offsets) and wait for the exit. */
  stop(): Promise<void>;
}

/** Starts a distributed worker with `properties` (written to `propertiesFile`) and waits for REST. */
export async function startWorker(
  classpath: string,
  propertiesFile: string,
  properties: Record<string, string | number>,
  restPort: number,
): Promise<ConnectWorker> {
  writeFileSync(
    propertiesFile,
    Object.entries({ ...properties, listeners: `http://127.0.0.1:${restPort}` })
      .map(([k, v]) => `${k}=${v}\n`)
      .join(''),
  );
  const child: ChildProcess = spawn(
    'java',
    [
      '-Xmx512M',
      '-XX:TieredStopAtLevel=1',
      `-Dlog4j2.configurationFile=${LOG4J2}`,
      '-cp',
      classpath,
      'org.apache.kafka.connect.cli.ConnectDistributed',
      propertiesFile,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  const url = `http://127.0.0.1:${restPort}`;
  const worker: ConnectWorker = {
    url,
    output: () => output,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
  const deadline = Date.now() + 90_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the Connect worker exited with ${child.exitCode}:\n${output}`);
    try {
      if ((await fetch(`${url}/`)).ok) return worker;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await worker.stop();
      throw new Error(`the Connect worker's REST API did not come up in 90 s:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 500));
  }
}
