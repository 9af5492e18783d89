// Kafka Streams exactly-once against Sluice: the word count of WordCountStreams.java
// (processing.guarantee=exactly_once_v2) runs while a feeder writes lines to its input topic;
// the Streams process is SIGKILLed and restarted (same application id and state dir), and the
// broker is SIGKILLed and restarted on the same port and data dir, at given shares of the input
// processed. At the end the output topic, read under read_committed, must hold for every word a
// strictly increasing run of counts ending at the exact count of the input — a record processed
// twice (at-least-once) would push a count past it, a lost one would leave it short. The expected
// counts are those of the input topic as read back at the end: a feeder write retried after a
// broker died under it may have landed twice, and Streams must count what the input holds.
//
// `cluster: true` runs it against 3 brokers (kafka-streams-brokers.ts): input, output and
// Streams' internal topics with replication factor 3, input and output with min.insync.replicas
// 2, and the broker kills taking the input partition's leader, then the group coordinator.
//
// Used by kafka-streams.test.ts (quick variant, in `pnpm test`) and kafka-streams-run.ts (the
// full run: 100k input records, two Streams kills and one broker kill; `--cluster` for the
// 3-broker run).

import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiKey } from '@sluice/protocol';
import type { RawClient } from '../support/raw-client.ts';
import { readCommitted } from '../support/read-committed.ts';
import { produce } from '../support/requests.ts';
import { ClusterBrokers, SingleBroker, type WordCountBrokers } from './kafka-streams-brokers.ts';
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
  /** Run against a 3-broker cluster (replication factor 3) instead of one broker. */
  readonly cluster?: boolean;
  /** Cluster: how long a killed broker stays down before its restart (default 5 s). */
  readonly brokerDownMs?: number;
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

class StreamsApp {
  readonly proc: ChildProcess;
  output = '';
  readonly exited: Promise<void>;
  constructor(brokers: WordCountBrokers, stateDir: string, guarantee: string) {
    const app = ensureStreamsWordCount();
    const args = [brokers.bootstrap, APP, INPUT, OUTPUT, stateDir, guarantee, String(brokers.replicationFactor)];
    this.proc = spawn(app.command, [...app.args, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
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
async function committedInput(brokers: WordCountBrokers, partitions: number): Promise<number> {
  const client = await brokers.groupCoordinator(APP);
  try {
    const answer = await client.request(ApiKey.OffsetFetch, 7, {
      groupId: APP,
      topics: [{ name: INPUT, partitionIndexes: [...Array(partitions).keys()] }],
      requireStable: false,
    });
    if (answer.errorCode !== 0) throw new Error(`OffsetFetch answered ${answer.errorCode}`);
    return (answer.topics[0]?.partitions ?? []).reduce((n: number, p: { committedOffset: number | bigint }) => n + Math.max(0, Number(p.committedOffset)), 0);
  } finally {
    client.close();
  }
}

/** `read` until it succeeds (a leader may move while the cluster settles after a restart) or the deadline passes. */
async function retrying<T>(deadline: number, read: () => Promise<T>): Promise<T> {
  for (;;) {
    try {
      return await read();
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await sleep(500);
    }
  }
}

/** Every word of the input topic as read back (all its records: the feeder writes no transactions), counted. */
async function inputCounts(brokers: WordCountBrokers, partitions: number): Promise<{ counts: Map<string, number>; records: number }> {
  const counts = new Map<string, number>();
  let records = 0;
  for (let p = 0; p < partitions; p++) {
    const reader = await brokers.leader(INPUT, p);
    try {
      for (const r of (await readCommitted(reader, INPUT, p)).records) {
        records++;
        for (const w of (r.value ?? '').split(' ')) counts.set(w, (counts.get(w) ?? 0) + 1);
      }
    } finally {
      reader.close();
    }
  }
  return { counts, records };
}

/** The last committed count of every word in the output, and the words whose counts do not strictly increase. */
async function outputCounts(brokers: WordCountBrokers, partitions: number) {
  const last = new Map<string, number>();
  const notIncreasing = new Set<string>();
  let outputRecords = 0;
  for (let p = 0; p < partitions; p++) {
    const reader = await brokers.leader(OUTPUT, p);
    try {
      for (const r of (await readCommitted(reader, OUTPUT, p)).records) {
        outputRecords++;
        const count = Number(r.value);
        const previous = last.get(r.key ?? '');
        if (previous !== undefined && count <= previous) notIncreasing.add(r.key ?? '');
        last.set(r.key ?? '', count);
      }
    } finally {
      reader.close();
    }
  }
  return { last, notIncreasing, outputRecords };
}

export async function runWordCount(options: WordCountOptions): Promise<WordCountReport> {
  const started = performance.now();
  const partitions = options.partitions ?? 3;
  const guarantee = options.guarantee ?? 'exactly_once_v2';
  const say = options.progress ?? (() => undefined);
  const deadline = Date.now() + (options.timeoutMs ?? 600_000);
  const stateDir = mkdtempSync(join(tmpdir(), 'sluice-streams-state-'));
  const brokers: WordCountBrokers = options.cluster ? await ClusterBrokers.start(partitions, options.brokerDownMs) : await SingleBroker.start(partitions);
  let app: StreamsApp | null = null;
  let streamsKills = 0;
  let brokerKills = 0;
  try {
    await brokers.createTopics([INPUT, OUTPUT], partitions);

    // The feeder: batches of lines, round-robin over the partitions, at the given rate, each to
    // its partition's current leader. A batch whose write fails (the broker died under it, the
    // leader moved, too few replicas in sync) is written again until it succeeds: it may then be
    // in the input twice, which the expected counts (read back from the input) take in.
    let written = 0;
    const batch = Math.max(50, Math.round(options.ratePerSecond / 10));
    const feeder = (async () => {
      const clients = new Map<number, RawClient>();
      try {
        while (written < options.records) {
          const partition = ((written / batch) % partitions) | 0;
          const n = Math.min(batch, options.records - written);
          const values = Array.from({ length: n }, (_, k) => line(written + k));
          for (;;) {
            if (Date.now() > deadline) throw new Error(`the feeder could not write ${INPUT}-${partition} in time`);
            try {
              let client = clients.get(partition);
              if (client === undefined) {
                client = await brokers.leader(INPUT, partition);
                clients.set(partition, client);
              }
              const outcome = await produce(client, INPUT, partition, values);
              if (outcome.errorCode === 0) break;
              throw new Error(`input produce answered ${outcome.errorCode}`);
            } catch {
              clients.get(partition)?.close();
              clients.delete(partition);
              await sleep(200);
            }
          }
          written += n;
          await sleep((1000 * n) / options.ratePerSecond);
        }
      } finally {
        for (const client of clients.values()) client.close();
      }
    })();
    feeder.catch(() => undefined); // awaited below; a failure surfaces there

    app = new StreamsApp(brokers, stateDir, guarantee);
    const kills = [
      ...options.streamsKillsAt.map((at) => ({ at, what: 'streams' as const })),
      ...options.brokerKillsAt.map((at) => ({ at, what: 'broker' as const })),
    ].sort((a, b) => a.at - b.at);
    let processed = 0;
    const poll = async () => {
      try {
        processed = await committedInput(brokers, partitions);
      } catch {
        // A broker is down or restarting, or the coordinator is moving.
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
      const share = `${Math.round((100 * processed) / options.records)}% of the input processed (${Math.round((100 * written) / options.records)}% written)`;
      if (kill.what === 'streams') {
        say(`${share}: SIGKILL Streams`);
        await app.kill();
        streamsKills++;
        app = new StreamsApp(brokers, stateDir, guarantee);
      } else {
        say(`${share}: SIGKILL ${await brokers.killBroker(brokerKills, APP, [INPUT, OUTPUT])}, restarted`);
        brokerKills++;
      }
    }
    await feeder;
    const input = await retrying(deadline, () => inputCounts(brokers, partitions));
    while (processed < input.records) {
      await poll();
      await sleep(200);
    }
    say(`all ${input.records} input records (${options.records} lines written) processed after ${Math.round((performance.now() - started) / 1000)} s`);

    // The counts, read back until the last one per word has arrived (the second sub-topology
    // runs behind the first) or the deadline passes.
    let report: Omit<WordCountReport, 'seconds'>;
    for (;;) {
      const { last, notIncreasing, outputRecords } = await retrying(deadline, () => outputCounts(brokers, partitions));
      const wrongCounts = [...input.counts]
        .filter(([word, n]) => last.get(word) !== n)
        .map(([word, n]) => ({ word, expected: n, got: last.get(word) ?? null }))
        .concat([...last.keys()].filter((w) => !input.counts.has(w)).map((word) => ({ word, expected: 0, got: last.get(word) ?? null })));
      const overcounted = wrongCounts.filter((w) => w.got !== null && w.got > w.expected);
      report = {
        records: options.records,
        words: input.counts.size,
        streamsKills,
        brokerKills,
        wrongCounts,
        overcounted,
        notIncreasing: [...notIncreasing],
        outputRecords,
      };
      // A count past the input's can never come back down: no need to wait for the rest.
      if (wrongCounts.length === 0 || overcounted.length > 0 || Date.now() > deadline) break;
      await sleep(500);
    }
    return { ...report, seconds: Math.round((performance.now() - started) / 1000) };
  } finally {
    await app?.kill();
    await brokers.stop();
    rmSync(stateDir, { recursive: true, force: true });
  }
}
