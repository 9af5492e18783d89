// Builds and runs the non-JavaScript Kafka clients used by the real-client tests (test/clients/*)
// and by the golden-bytes capture (packages/protocol/scripts/capture-golden.ts):
//
//   Java      org.apache.kafka:kafka-clients and kafka-streams (version in java/pom.xml): Maven
//             resolves the jars into java/target/lib, javac compiles JavaClient.java and
//             WordCountStreams.java into java/target/classes.
//   franz-go  github.com/twmb/franz-go (version in go/go.mod): `go build` into go/bin.
//   Python    kafka-python and confluent-kafka (librdkafka in its wheel), versions in
//             python/requirements.txt: one venv in python/.venv, one script per client.
//
// Each `ensure*` builds on first use and again only when its inputs change (a stamp file holds
// a hash of them), so a warm run costs a hash and a stat. The outputs are git-ignored and the
// Maven/Go/pip caches live in the home directory, so CI on the same machine stays quick. A missing
// toolchain is an error that says what to install (`.ci/run` installs it), never a skip.
// `pnpm exec node test/clients/install.ts` runs every ensure (CI does, before the suites).

import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ApiKey, parseRecordBatches, type RecordBatch } from '@sluice/protocol';
import { RawClient } from '../support/raw-client.ts';

export const CLIENTS_DIR = resolve(import.meta.dirname);
const JAVA_DIR = join(CLIENTS_DIR, 'java');
const GO_DIR = join(CLIENTS_DIR, 'go');
const PYTHON_DIR = join(CLIENTS_DIR, 'python');

/** A built client: the command line that runs it, before its own arguments. */
export interface ClientCommand {
  readonly name: string;
  readonly command: string;
  readonly args: readonly string[];
}

function requireTool(tool: string, probeArgs: string[], what: string): void {
  const probe = spawnSync(tool, probeArgs, { encoding: 'utf8' });
  if (probe.error !== undefined || probe.status !== 0) {
    throw new Error(`${tool} is not available: ${what}. .ci/run installs it.`);
  }
}

/** Runs a build step; a failure throws with the step's output. */
function build(step: string, command: string, args: string[], cwd: string, timeoutMs = 600_000): void {
  const r = spawnSync(command, args, { cwd, encoding: 'utf8', timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 });
  if (r.error !== undefined || r.status !== 0) {
    const why = r.error !== undefined ? String(r.error) : `exit ${r.status}`;
    throw new Error(`${step} failed (${why}): ${command} ${args.join(' ')}\n${r.stdout}\n${r.stderr}`);
  }
}

function inputsHash(files: string[]): string {
  const h = createHash('sha256');
  for (const f of files) {
    h.update(f);
    h.update('\0');
    h.update(readFileSync(f));
    h.update('\0');
  }
  return h.digest('hex');
}

/** Runs `make` unless `stamp` records the current hash of `inputs` and `outputs` all exist. */
function buildIfStale(stamp: string, inputs: string[], outputs: string[], make: () => void): void {
  const hash = inputsHash(inputs);
  const fresh = existsSync(stamp) && readFileSync(stamp, 'utf8') === hash && outputs.every((o) => existsSync(o));
  if (fresh) return;
  make();
  writeFileSync(stamp, hash);
}

/** Maven resolves the jars (kafka-clients, kafka-streams) and javac compiles every program. */
function ensureJavaBuild(): { classes: string; lib: string } {
  requireTool('java', ['-version'], 'the Java tests need a JDK 17+ (apt-get install openjdk-17-jdk-headless)');
  requireTool('javac', ['-version'], 'the Java tests need a JDK 17+ with javac (apt-get install openjdk-17-jdk-headless)');
  requireTool('mvn', ['-v'], 'the Java tests resolve kafka-clients with Maven (apt-get install maven)');
  const sourceDir = join(JAVA_DIR, 'src', 'main', 'java', 'dev', 'sluice', 'test');
  const sources = ['JavaClient.java', 'WordCountStreams.java', 'ShareClient.java'].map((f) => join(sourceDir, f));
  const target = join(JAVA_DIR, 'target');
  const classes = join(target, 'classes');
  const classFiles = ['JavaClient.class', 'WordCountStreams.class', 'ShareClient.class'].map((f) => join(classes, 'dev', 'sluice', 'test', f));
  buildIfStale(join(JAVA_DIR, 'target', '.stamp'), [join(JAVA_DIR, 'pom.xml'), ...sources], classFiles, () => {
    build(
      'Maven dependency resolution',
      'mvn',
      ['-q', '-B', 'dependency:copy-dependencies', '-DincludeScope=runtime', '-DoutputDirectory=target/lib'],
      JAVA_DIR,
    );
    build('javac', 'javac', ['-d', classes, '-cp', join(target, 'lib', '*'), ...sources], JAVA_DIR);
  });
  return { classes, lib: join(target, 'lib', '*') };
}

/** The Java client programs (JavaClient by default; ShareClient for share groups). */
export function ensureJavaClient(mainClass: 'JavaClient' | 'ShareClient' = 'JavaClient'): ClientCommand {
  const { classes, lib } = ensureJavaBuild();
  return {
    name: 'java',
    command: 'java',
    args: [
      // kafka-clients logs through slf4j-simple: warnings and errors only, on stderr.
      '-Dorg.slf4j.simpleLogger.defaultLogLevel=warn',
      '-cp',
      `${classes}:${lib}`,
      `dev.sluice.test.${mainClass}`,
    ],
  };
}

/** The Kafka Streams word count (WordCountStreams.java), exactly_once_v2. */
export function ensureStreamsWordCount(): ClientCommand {
  const { classes, lib } = ensureJavaBuild();
  return {
    name: 'kafka-streams',
    command: 'java',
    args: ['-Xmx256m', '-Dorg.slf4j.simpleLogger.defaultLogLevel=warn', '-cp', `${classes}:${lib}`, 'dev.sluice.test.WordCountStreams'],
  };
}

export function ensureGoClient(): ClientCommand {
  requireTool('go', ['version'], 'the franz-go tests need Go (https://go.dev/dl; the version go/go.mod names or newer)');
  const binary = join(GO_DIR, 'bin', 'sluice-go-client');
  const inputs = ['go.mod', 'go.sum', 'main.go', 'share.go'].map((f) => join(GO_DIR, f));
  buildIfStale(join(GO_DIR, 'bin', '.stamp'), inputs, [binary], () => {
    build('go build', 'go', ['build', '-o', binary, '.'], GO_DIR);
  });
  return { name: 'franz-go', command: binary, args: [] };
}

/** The venv holding both Python clients (python/requirements.txt); returns its interpreter. */
function ensurePythonVenv(): string {
  requireTool('python3', ['-c', 'import venv, ensurepip'], 'the Python client tests need Python 3 with venv (apt-get install python3-venv)');
  const venv = join(PYTHON_DIR, '.venv');
  const python = join(venv, 'bin', 'python');
  const requirements = join(PYTHON_DIR, 'requirements.txt');
  buildIfStale(join(venv, '.stamp'), [requirements], [python], () => {
    if (!existsSync(python)) build('python venv', 'python3', ['-m', 'venv', venv], PYTHON_DIR);
    build('pip install', python, ['-m', 'pip', 'install', '-q', '--disable-pip-version-check', '-r', requirements], PYTHON_DIR);
  });
  return python;
}

export function ensurePythonClient(): ClientCommand {
  return { name: 'kafka-python', command: ensurePythonVenv(), args: [join(PYTHON_DIR, 'client.py')] };
}

/** confluent-kafka-python: librdkafka (the C client under most non-Java clients) through Python. */
export function ensureConfluentPythonClient(): ClientCommand {
  return { name: 'confluent-kafka', command: ensurePythonVenv(), args: [join(PYTHON_DIR, 'confluent_client.py')] };
}

export interface ClientRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  /** stdout's JSON lines, parsed. */
  readonly events: Array<Record<string, any>>;
}

/** Runs a built client with `args`; resolves when it exits, rejects after `timeoutMs`. */
export function runClient(client: ClientCommand, args: string[], timeoutMs = 120_000): Promise<ClientRun> {
  return new Promise((resolvePromise, reject) => {
    const proc = spawn(client.command, [...client.args, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    proc.stdout.on('data', (d: Buffer) => out.push(d));
    proc.stderr.on('data', (d: Buffer) => err.push(d));
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`${client.name} ${args.join(' ')} timed out after ${timeoutMs} ms; stderr:\n${Buffer.concat(err).toString()}`));
    }, timeoutMs);
    proc.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    proc.on('close', (code) => {
      clearTimeout(timer);
      const stdout = Buffer.concat(out).toString();
      const events = stdout
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as Record<string, any>);
      resolvePromise({ code, stdout, stderr: Buffer.concat(err).toString(), events });
    });
  });
}

/** Runs a client and fails with its stderr unless it exits 0. */
export async function runClientOk(client: ClientCommand, args: string[], timeoutMs?: number): Promise<ClientRun> {
  const run = await runClient(client, args, timeoutMs);
  if (run.code !== 0) throw new Error(`${client.name} ${args.join(' ')} exited ${run.code}:\n${run.stderr}\n${run.stdout.slice(-2000)}`);
  return run;
}

// --- checks shared by the client suites ------------------------------------------------------------

/** A record as the client programs print it. */
export interface ConsumedRecord {
  readonly partition: number;
  readonly offset: number;
  readonly key: string;
  readonly value: string;
}

export function consumedRecords(run: ClientRun): ConsumedRecord[] {
  return run.events.filter((e) => e.event === 'record').map((e) => ({ partition: e.partition, offset: e.offset, key: e.key, value: e.value }));
}

/** Per partition, the offsets a consumer saw, in the order it saw them. */
export function offsetsByPartition(records: readonly ConsumedRecord[]): Map<number, number[]> {
  const out = new Map<number, number[]>();
  for (const r of records) out.set(r.partition, [...(out.get(r.partition) ?? []), r.offset]);
  return out;
}

/**
 * The record batches stored in `topic`, read back with a raw Fetch (v11) from offset 0 of each
 * partition: what the client actually sent (codec, producer id, sequences), as the log keeps it.
 */
export async function storedBatches(port: number, topic: string, partitions: number): Promise<RecordBatch[]> {
  const client = await RawClient.connect(port);
  try {
    const response = await client.request(ApiKey.Fetch, 11, {
      replicaId: -1,
      maxWaitMs: 0,
      minBytes: 0,
      maxBytes: 64 << 20,
      isolationLevel: 0,
      sessionId: 0,
      sessionEpoch: -1,
      topics: [
        {
          topic,
          partitions: Array.from({ length: partitions }, (_, partition) => ({
            partition,
            currentLeaderEpoch: -1,
            fetchOffset: 0,
            logStartOffset: -1,
            partitionMaxBytes: 32 << 20,
          })),
        },
      ],
      forgottenTopicsData: [],
      rackId: '',
    });
    const batches: RecordBatch[] = [];
    for (const p of response.responses[0].partitions) {
      if (p.errorCode !== 0) throw new Error(`fetch ${topic}[${p.partitionIndex}]: error ${p.errorCode}`);
      if (p.records !== null) batches.push(...parseRecordBatches(p.records));
    }
    return batches;
  } finally {
    client.close();
  }
}
