// Kafka Streams exactly-once against Sluice: the word count of WordCountStreams.java
// (processing.guarantee=exactly_once_v2) runs while a feeder writes lines to its input topic;
// the Streams process is SIGKILLed and restarted (same application id and state dir), and the
// broker is SIGKILLed and restarted on the same port and data dir, at given shares of the input
// processed. At the end the output topic, read under read_committed, must hold for every word a
// strictly increasing run of counts ending at the exact count of the input — a record processed
// twice (at-least-once) would push a count past it, a lost one would leave it short.
//
// Used by kafka-streams.test.ts (quick variant, in `pnpm test`) and kafka-streams-run.ts (the
// full run: 100k input records, two Streams kills and one broker kill).

import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiKey } from '@sluice/protocol';
import { type BrokerProcess, removeDir, startBroker, tempDataDir } from '../support/broker-process.ts';
import { RawClient } from '../support/raw-client.ts';
import { readCommitted } from '../support/read-committed.ts';
import { createTopic, produce } from '../support/requests.ts';
import { ensureStreamsWordCount } from './support.ts';

export interface WordCountOptions {
  /** Input records (lines of one to three words). */
  readonly records: number;
  /** Shares of the input processed (0..1) at which the Streams process is SIGKILLed. */
  readonly streamsKillsAt: readonly number[];
  /** Shares at which the broker is SIGKILLed. */
  readonly brokerKillsAt: readonly number[];
  /** Input records written per second (the run lasts about records / rate seconds). */
  readonly ratePerSecond: number;
  readonly partitions?: number;
  readonly progress?: (line: string) => void;
  /** processing.guarantee (default exactly_once_v2; at_least_once shows what the check catches). */
  readonly guarantee?: string;
  /** Give up after this long (default 10 minutes). */
  readonly timeoutMs?: number;
}

export interface WordCountReport {
  readonly records: number;
  readonly words: number;
  readonly streamsKills: number;
  readonly brokerKills: number;
  readonly seconds: number;
  /** Words whose last committed count differs from the input's count. */
  readonly wrongCounts: Array<{ word: string; expected: number; got: number | null }>;
  /** Words counted past their count in the input (records processed twice). */
  readonly overcounted: Array<{ word: string; expected: number; got: number | null }>;
  /** Words whose committed counts do not strictly increase. */
  readonly notIncreasing: string[];
  /** Output records under read_committed. */
  readonly outputRecords: number;
}

const VOCABULARY = 500;
const APP = 'sluice-wordcount';
const INPUT = 'wc-input';
const OUTPUT = 'wc-output';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Line i of the input: one to three words, deterministic. */
export function line(i: number): string {
  const n = 1 + (i % 3);
  return Array.from({ length: n }, (_, j) => `w${(i * 31 + j * 17 + ((i >> 5) % 7)) % VOCABULARY}`).join(' ');
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address !== null ? address.port : 0));
    });
  });
}

class StreamsApp {
  readonly proc: ChildProcess;
  output = '';
  readonly exited: Promise<void>;
  constructor(bootstrap: string, stateDir: string, guarantee: string) {
    const app = ensureStreamsWordCount();
    this.proc = spawn(app.command, [...app.args, bootstrap, APP, INPUT, OUTPUT, stateDir, guarantee], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.proc.stdout!.on('data', (d: Buffer) => (this.output += d.toString()));
    this.proc.stderr!.on('data', (d: Buffer) => (this.output = (this.output + d.toString()).slice(-200_000)));
    this.exited = new Promise((r) => this.proc.once('exit', () => r()));
  }
  get alive(): boolean {
    return this.proc.exitCode === null && this.proc.signalCode === null;
  }
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    if (this.alive) this.proc.kill(signal);
    await this.exited;
  }
}

/** The application's committed input offsets, summed over the partitions (-1 counts as 0). */
async function committedInput(port: number, partitions: number): Promise<number> {
  const client = await RawClient.connect(port);
  try {
    const answer = await client.request(ApiKey.OffsetFetch, 7, {
      groupId: APP,
      topics: [{ name: INPUT, partitionIndexes: [...Array(partitions).keys()] }],
      requireStable: false,
    });
    if (answer.errorCode !== 0) return 0;
    return (answer.topics[0]?.partitions ?? []).reduce((n: number, p: { committedOffset: number | bigint }) => n + Math.max(0, Number(p.committedOffset)), 0);
  } finally {
    client.close();
  }
}

export async function runWordCount(options: WordCountOptions): Promise<WordCountReport> {
  const started = performance.now();
  const partitions = options.partitions ?? 3;
  const guarantee = options.guarantee ?? 'exactly_once_v2';
  const say = options.progress ?? (() => undefined);
  const deadline = Date.now() + (options.timeoutMs ?? 600_000);
  const dataDir = tempDataDir('sluice-streams-');
  const stateDir = mkdtempSync(join(tmpdir(), 'sluice-streams-state-'));
  const port = await freePort();
  const settings = {
    'num.partitions': partitions,
    'transaction.state.log.num.partitions': 4,
    'offsets.topic.num.partitions': 4,
    'transaction.abort.timed.out.transaction.cleanup.interval.ms': 1000,
  };
  let broker: BrokerProcess = await startBroker({ dataDir, port, overrides: settings });
  let app: StreamsApp | null = null;
  let streamsKills = 0;
  let brokerKills = 0;
  const expected = new Map<string, number>();
  try {
    const admin = await RawClient.connect(port);
    for (const topic of [INPUT, OUTPUT]) {
      const code = await createTopic(admin, topic, partitions);
      if (code !== 0) throw new Error(`CreateTopics ${topic} answered ${code}`);
    }
    admin.close();

    // The feeder: batches of lines, round-robin over the partitions, at the given rate; paused
    // (its batch in flight finished) while the broker is killed and restarted.
    let written = 0;
    let paused = false;
    let feederIdle: Promise<void> = Promise.resolve();
    const batch = Math.max(50, Math.round(options.ratePerSecond / 10));
    const feeder = (async () => {
      let client = await RawClient.connect(port);
      while (written < options.records) {
        if (paused) {
          client.close();
          while (paused) await sleep(20);
          client = await RawClient.connect(port);
        }
        let release: () => void = () => undefined;
        feederIdle = new Promise<void>((r) => (release = r));
        const n = Math.min(batch, options.records - written);
        const values = Array.from({ length: n }, (_, k) => line(written + k));
        const outcome = await produce(client, INPUT, ((written / batch) % partitions) | 0, values);
        release();
        if (outcome.errorCode !== 0) throw new Error(`input produce answered ${outcome.errorCode}`);
        for (const v of values) for (const w of v.split(' ')) expected.set(w, (expected.get(w) ?? 0) + 1);
        written += n;
        await sleep((1000 * n) / options.ratePerSecond);
      }
      client.close();
    })();
    feeder.catch(() => undefined); // awaited below; a failure surfaces there

    app = new StreamsApp(broker.bootstrap, stateDir, guarantee);
    const kills = [
      ...options.streamsKillsAt.map((at) => ({ at, what: 'streams' as const })),
      ...options.brokerKillsAt.map((at) => ({ at, what: 'broker' as const })),
    ].sort((a, b) => a.at - b.at);
    let processed = 0;
    const poll = async () => {
      try {
        processed = await committedInput(port, partitions);
      } catch {
        // The broker is restarting.
      }
      if (!app!.alive) throw new Error(`the Streams process exited (${app!.proc.exitCode}):\n${app!.output.slice(-4000)}`);
      if (Date.now() > deadline) throw new Error(`word count not done in time: ${processed} of ${options.records} input records committed`);
    };
    for (const kill of kills) {
      while (processed < kill.at * options.records) {
        await poll();
        await sleep(100);
      }
      // Not right after the commit that crossed the mark: somewhere in the next commit intervals,
      // so that the kill lands with records processed and not yet committed.
      await sleep(Math.random() * 400);
      say(`${Math.round((100 * processed) / options.records)}% of the input processed: SIGKILL the ${kill.what}`);
      if (kill.what === 'streams') {
        await app.kill();
        streamsKills++;
        app = new StreamsApp(broker.bootstrap, stateDir, guarantee);
      } else {
        paused = true;
        await feederIdle;
        await broker.kill();
        brokerKills++;
        broker = await startBroker({ dataDir, port, overrides: settings });
        paused = false;
      }
    }
    await feeder;
    while (processed < options.records) {
      await poll();
      await sleep(200);
    }
    say(`all ${options.records} input records processed after ${Math.round((performance.now() - started) / 1000)} s`);

    // The counts, read back until the last one per word has arrived (the second sub-topology
    // runs behind the first) or the deadline passes.
    let report: Omit<WordCountReport, 'seconds'>;
    for (;;) {
      const last = new Map<string, number>();
      const notIncreasing = new Set<string>();
      let outputRecords = 0;
      const reader = await RawClient.connect(port);
      try {
        for (let p = 0; p < partitions; p++) {
          for (const r of (await readCommitted(reader, OUTPUT, p)).records) {
            outputRecords++;
            const count = Number(r.value);
            const previous = last.get(r.key ?? '');
            if (previous !== undefined && count <= previous) notIncreasing.add(r.key ?? '');
            last.set(r.key ?? '', count);
          }
        }
      } finally {
        reader.close();
      }
      const wrongCounts = [...expected]
        .filter(([word, n]) => last.get(word) !== n)
        .map(([word, n]) => ({ word, expected: n, got: last.get(word) ?? null }))
        .concat([...last.keys()].filter((w) => !expected.has(w)).map((word) => ({ word, expected: 0, got: last.get(word) ?? null })));
      report = {
        records: options.records,
        words: expected.size,
        streamsKills,
        brokerKills,
        wrongCounts,
        overcounted: [],
        notIncreasing: [...notIncreasing],
        outputRecords,
      };
      const overcounted = wrongCounts.filter((w) => w.got !== null && w.got > w.expected);
      report = { ...report, overcounted };
      // A count past the input's can never come back down: no need to wait for the rest.
      if (wrongCounts.length === 0 || overcounted.length > 0 || Date.now() > deadline) break;
      await sleep(500);
    }
    return { ...report, seconds: Math.round((performance.now() - started) / 1000) };
  } finally {
    await app?.kill();
    await broker.stop();
    removeDir(dataDir);
    rmSync(stateDir, { recursive: true, force: true });
  }
}
