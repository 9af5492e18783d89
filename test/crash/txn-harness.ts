// Crash harness, transactional mode: transactional producers (InitProducerId, AddPartitionsToTxn,
// transactional batches, EndTxn commit or abort) run against the broker while it is killed with
// SIGKILL at random moments — before AddPartitionsToTxn, between produces, with EndTxn in flight,
// between PrepareCommit/PrepareAbort and the markers, mid-marker-write. After every restart each
// transactional id is initialised again (which fences the previous incarnation and completes or
// aborts whatever it left), and a read_committed reader (test/support/read-committed.ts: Fetch
// isolation_level=1, filtering the aborted transactions as Kafka's consumer does) reads every partition up to
// the last stable offset and checks:
//   - every record of a transaction whose commit was acknowledged is there, once, in order;
//   - no record of an aborted transaction, or of one killed before its EndTxn, is visible;
//   - a transaction whose EndTxn(commit) was in flight at the kill is all there or all absent
//     on every partition (never partial), and stays that way at later restarts;
//   - the last stable offset is back at the high watermark once every transaction is complete.
//
// Used by crash.test.ts (quick mode, in `pnpm test`) and run-transactions.ts (long mode).

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiKey, buildRecordBatch, ErrorCode } from '@sluice/protocol';
import { prng } from '../../packages/protocol/fixtures/sample-values.ts';
import { RawClient } from '../support/raw-client.ts';
import { readCommitted } from '../support/read-committed.ts';
import { createTopic } from '../support/requests.ts';
import { BrokerRun, type Recovery, sleep } from './harness.ts';

const TOPIC = 'crash-txn';

export interface TxnCrashOptions {
  /** Kills while the producers run (each one is followed by a verified restart). */
  readonly cycles: number;
  readonly seed: number;
  readonly appendMode?: 'mmap' | 'pwrite';
  readonly partitions?: number;
  /** Transactional producers (one transactional id and connection each). */
  readonly producers?: number;
  /** Share of transactions ended with an abort (0..1). */
  readonly abortRate?: number;
  readonly minServeMs?: number;
  readonly maxServeMs?: number;
  /** Share of cycles that also kill a restarting broker before it is ready (0..1). */
  readonly startupKillRate?: number;
  readonly progress?: (line: string) => void;
}

export interface TxnCrashReport {
  readonly cycles: number;
  readonly startupKills: number;
  /** Transactions by how they ended on the producer's side. */
  readonly committed: number;
  readonly aborted: number;
  /** EndTxn(commit) sent, no answer before the kill: either outcome, but all or nothing. */
  readonly inDoubt: number;
  readonly inDoubtCommitted: number;
  /** Killed before their EndTxn, or with EndTxn(abort) unanswered: must be invisible. */
  readonly unfinished: number;
  /** Records of acknowledged commits, all checked by the last verification. */
  readonly committedRecords: number;
  readonly verifiedRecords: number;
  /** Must all be 0. */
  readonly missing: number;
  readonly duplicates: number;
  readonly outOfOrder: number;
  readonly abortedVisible: number;
  readonly partial: number;
  readonly problems: readonly string[];
  readonly recoveries: readonly Recovery[];
}

type TxnState = 'open' | 'committing' | 'aborting' | 'committed' | 'aborted';

interface Txn {
  readonly tag: string;
  state: TxnState;
  /** Acknowledged record values per partition, in produce order. */
  readonly records: Map<number, string[]>;
}

/** Retries an answer while it carries one of Kafka's "try again" coordinator errors. */
async function retrying<T extends { errorCode: number }>(what: string, call: () => Promise<T>, deadlineMs = 30_000): Promise<T> {
  const retriable = new Set<number>([
    ErrorCode.COORDINATOR_LOAD_IN_PROGRESS,
    ErrorCode.COORDINATOR_NOT_AVAILABLE,
    ErrorCode.NOT_COORDINATOR,
    ErrorCode.CONCURRENT_TRANSACTIONS,
  ]);
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    const answer = await call();
    if (!retriable.has(answer.errorCode) || Date.now() > deadline) {
      if (answer.errorCode !== ErrorCode.NONE) throw new Error(`${what} answered error ${answer.errorCode}`);
      return answer;
    }
    await sleep(20);
  }
}

interface ProducerIdentity {
  readonly transactionalId: string;
  readonly producerId: number;
  readonly producerEpoch: number;
}

/** InitProducerId for a transactional id: fences the previous incarnation, ends its transaction. */
async function initProducer(client: RawClient, transactionalId: string): Promise<ProducerIdentity> {
  const init = await retrying(`InitProducerId ${transactionalId}`, () =>
    client.request(ApiKey.InitProducerId, 4, { transactionalId, transactionTimeoutMs: 60_000, producerId: -1, producerEpoch: -1 }),
  );
  return { transactionalId, producerId: Number(init.producerId), producerEpoch: init.producerEpoch };
}

/** One transactional producer for one broker life: transactions back to back until stopped. */
class TxnProducer {
  stopped = false;
  killing = false;
  readonly failures: string[] = [];
  /** Next sequence per partition, for this producer epoch. */
  private readonly sequences = new Map<number, number>();
  private count = 0;

  private readonly client: RawClient;
  private readonly identity: ProducerIdentity;
  private readonly name: string;
  private readonly txns: Map<string, Txn>;
  private readonly random: () => number;
  private readonly partitions: number;
  private readonly abortRate: number;

  constructor(
    client: RawClient,
    identity: ProducerIdentity,
    name: string,
    txns: Map<string, Txn>,
    random: () => number,
    partitions: number,
    abortRate: number,
  ) {
    this.client = client;
    this.identity = identity;
    this.name = name;
    this.txns = txns;
    this.random = random;
    this.partitions = partitions;
    this.abortRate = abortRate;
  }

  async run(): Promise<void> {
    try {
      while (!this.stopped) await this.transaction();
    } catch (err) {
      // After the kill, whatever was in flight simply has no answer.
      if (!this.killing) this.failures.push(`${this.name}: ${(err as Error).message} while the broker was up`);
    }
  }

  private async transaction(): Promise<void> {
    const { transactionalId, producerId, producerEpoch } = this.identity;
    const txn: Txn = { tag: `${this.name}.${producerEpoch}.t${this.count++}`, state: 'open', records: new Map() };
    this.txns.set(txn.tag, txn);
    const chosen = [...Array(this.partitions).keys()].filter(() => this.random() < 0.6);
    if (chosen.length === 0) chosen.push(Math.floor(this.random() * this.partitions));
    await retrying('AddPartitionsToTxn', async () => {
      const a = await this.client.request(ApiKey.AddPartitionsToTxn, 3, {
        v3AndBelowTransactionalId: transactionalId,
        v3AndBelowProducerId: producerId,
        v3AndBelowProducerEpoch: producerEpoch,
        v3AndBelowTopics: [{ name: TOPIC, partitions: chosen }],
      });
      const codes: number[] = a.resultsByTopicV3AndBelow[0].resultsByPartition.map((p: { partitionErrorCode: number }) => p.partitionErrorCode);
      return { errorCode: codes.find((c) => c !== ErrorCode.NONE) ?? ErrorCode.NONE };
    });
    let failed = false;
    for (const partition of chosen) {
      for (let b = 1 + Math.floor(this.random() * 2); b > 0 && !failed; b--) {
        const n = 1 + Math.floor(this.random() * 10);
        const base = txn.records.get(partition)?.length ?? 0;
        const values = Array.from({ length: n }, (_, i) => `${txn.tag}|${partition}|${base + i}|${'x'.repeat(Math.floor(this.random() * 40))}`);
        const baseSequence = this.sequences.get(partition) ?? 0;
        const records = buildRecordBatch({
          records: values.map((value) => ({ key: null, value: new TextEncoder().encode(value) })),
          producerId,
          producerEpoch,
          baseSequence,
          transactional: true,
        });
        const produced = await this.client.request(ApiKey.Produce, 9, {
          transactionalId,
          acks: -1,
          timeoutMs: 30_000,
          topicData: [{ name: TOPIC, partitionData: [{ index: partition, records }] }],
        });
        const code = produced.responses[0].partitionResponses[0].errorCode;
        if (code !== ErrorCode.NONE) {
          this.failures.push(`${this.name}: transactional Produce to ${TOPIC}-${partition} answered ${code}`);
          failed = true;
          break;
        }
        this.sequences.set(partition, baseSequence + n);
        txn.records.set(partition, [...(txn.records.get(partition) ?? []), ...values]);
      }
    }
    const commit = !failed && this.random() >= this.abortRate;
    txn.state = commit ? 'committing' : 'aborting';
    const ended = await this.client.request(ApiKey.EndTxn, 3, { transactionalId, producerId, producerEpoch, committed: commit });
    if (ended.errorCode !== ErrorCode.NONE) {
      this.failures.push(`${this.name}: EndTxn(${commit ? 'commit' : 'abort'}) answered ${ended.errorCode}`);
      this.stopped = true;
      return;
    }
    txn.state = commit ? 'committed' : 'aborted';
  }
}

interface Verification {
  verified: number;
  missing: number;
  duplicates: number;
  outOfOrder: number;
  abortedVisible: number;
  partial: number;
  problems: string[];
}

async function verify(port: number, partitions: number, txns: Map<string, Txn>): Promise<Verification> {
  const client = await RawClient.connect(port);
  const v: Verification = { verified: 0, missing: 0, duplicates: 0, outOfOrder: 0, abortedVisible: 0, partial: 0, problems: [] };
  const note = (p: string) => void (v.problems.length < 20 && v.problems.push(p));
  try {
    // Per transaction and partition, the record indexes a read_committed consumer saw, in order.
    const seen = new Map<string, Map<number, number[]>>();
    const values = new Set<string>();
    for (let p = 0; p < partitions; p++) {
      const read = await readCommitted(client, TOPIC, p);
      if (read.lastStableOffset !== read.highWatermark)
        note(`${TOPIC}-${p}: last stable offset ${read.lastStableOffset} below the high watermark ${read.highWatermark} with every transaction complete`);
      for (const { value } of read.records) {
        if (value === null) continue;
        if (values.has(value)) {
          v.duplicates++;
          note(`${TOPIC}-${p}: ${value.slice(0, 40)} seen twice`);
        }
        values.add(value);
        const [tag, partition, index] = value.split('|');
        if (!txns.has(tag) || Number(partition) !== p) {
          note(`${TOPIC}-${p}: a record no transaction wrote here: ${value.slice(0, 40)}`);
          continue;
        }
        const byPartition = seen.get(tag) ?? new Map<number, number[]>();
        seen.set(tag, byPartition);
        byPartition.set(p, [...(byPartition.get(p) ?? []), Number(index)]);
      }
    }
    for (const txn of txns.values()) {
      const got = seen.get(txn.tag);
      const expected = [...txn.records].reduce((n, [, r]) => n + r.length, 0);
      const present = got === undefined ? 0 : [...got.values()].reduce((n, r) => n + new Set(r).size, 0);
      if (txn.state === 'committing') {
        // EndTxn(commit) had no answer: the restart decided. All or nothing, then fixed.
        if (present === 0) txn.state = 'aborted';
        else if (present === expected) txn.state = 'committed';
        else {
          v.partial++;
          note(`transaction ${txn.tag} (commit in flight at the kill) is partly visible: ${present} of ${expected} records`);
          continue;
        }
      }
      if (txn.state !== 'committed') {
        if (present > 0) {
          v.abortedVisible += present;
          note(`transaction ${txn.tag} (${txn.state}) has ${present} records visible under read_committed`);
        }
        continue;
      }
      v.verified += expected;
      for (const [partition, records] of txn.records) {
        const indexes = got?.get(partition) ?? [];
        const missing = records.length - new Set(indexes).size;
        if (missing > 0) {
          v.missing += missing;
          note(`committed transaction ${txn.tag}: ${missing} of its ${records.length} records in ${TOPIC}-${partition} are missing`);
        }
        if (indexes.some((x, i) => i > 0 && x <= indexes[i - 1])) v.outOfOrder++;
      }
    }
    return v;
  } finally {
    client.close();
  }
}

export async function runTxnCrashCycles(options: TxnCrashOptions): Promise<TxnCrashReport> {
  const partitions = options.partitions ?? 3;
  const producerCount = options.producers ?? 3;
  const minServeMs = options.minServeMs ?? 200;
  const maxServeMs = options.maxServeMs ?? 800;
  const startupKillRate = options.startupKillRate ?? 0.2;
  const random = prng(options.seed);
  const dataDir = mkdtempSync(join(tmpdir(), 'sluice-crash-txn-'));
  const overrides: Record<string, string | number | boolean> = {
    listeners: 'PLAINTEXT://127.0.0.1:0',
    'sluice.log.level': 'info',
    'sluice.log.append.mode': options.appendMode ?? 'mmap',
    'sluice.log.preallocate.step.bytes': 64 * 1024,
    'auto.create.topics.enable': false,
    'sluice.metrics.listener': '',
    'transaction.state.log.num.partitions': 4,
    'offsets.topic.num.partitions': 4,
  };
  const txns = new Map<string, Txn>();
  const recoveries: Recovery[] = [];
  const problems: string[] = [];
  const worst = { missing: 0, duplicates: 0, outOfOrder: 0, abortedVisible: 0, partial: 0 };
  let verified = 0;
  let startupKills = 0;
  const inDoubt = new Set<string>();
  const finishedInDoubt = new Set<string>();
  const say = options.progress ?? (() => undefined);
  try {
    for (let cycle = 0; cycle <= options.cycles; cycle++) {
      if (cycle > 0 && random() < startupKillRate) {
        const early = new BrokerRun(dataDir, overrides);
        await sleep(random() * (recoveries.at(-1)?.startToReadyMs ?? 500));
        await early.kill();
        startupKills++;
      }
      const broker = new BrokerRun(dataDir, overrides);
      const port = await broker.ready();
      const startToReadyMs = Math.round(performance.now() - broker.started);
      const load = await broker.loadLine();
      recoveries.push({ startToReadyMs, loadMs: load.loadMs, partitionsRecovered: load.partitionsRecovered, segmentsRecovered: load.segmentsRecovered });
      const clients = await Promise.all(Array.from({ length: producerCount }, () => RawClient.connect(port)));
      if (cycle === 0) {
        const code = await createTopic(clients[0], TOPIC, partitions, { 'segment.bytes': String(256 * 1024) });
        if (code !== 0) throw new Error(`CreateTopics answered ${code}`);
      }
      // A new incarnation of every transactional id: fences the killed one and completes (or
      // aborts) its transaction, so every transaction is final before the check.
      const identities = await Promise.all(clients.map((c, i) => initProducer(c, `crash-txn-${i}`)));
      const inDoubtBefore = [...txns.values()].filter((t) => t.state === 'committing').map((t) => t.tag);
      const v = await verify(port, partitions, txns);
      for (const tag of inDoubtBefore) {
        inDoubt.add(tag);
        if (txns.get(tag)?.state === 'committed') finishedInDoubt.add(tag);
      }
      verified = v.verified;
      for (const k of Object.keys(worst) as Array<keyof typeof worst>) worst[k] = Math.max(worst[k], v[k]);
      for (const p of v.problems) if (problems.length < 50) problems.push(`cycle ${cycle}: ${p}`);
      const counts = countStates(txns);
      say(
        `cycle ${cycle}/${options.cycles}: ready in ${startToReadyMs} ms (broker load ${load.loadMs} ms); transactions committed ${counts.committed}, aborted ${counts.aborted}, ` +
          `unfinished ${counts.unfinished}; ${v.verified} committed records verified, missing ${v.missing}, duplicates ${v.duplicates}, ` +
          `aborted visible ${v.abortedVisible}, partial ${v.partial}`,
      );
      if (cycle === options.cycles) {
        for (const c of clients) c.close();
        if ((await broker.stop()) !== 0) problems.push(`the final graceful stop failed:\n${broker.output.slice(-2000)}`);
        break;
      }
      const producers = clients.map((c, i) => new TxnProducer(c, identities[i], `c${cycle}p${i}`, txns, random, partitions, options.abortRate ?? 0.3));
      const runs = producers.map((p) => p.run());
      await sleep(minServeMs + random() * (maxServeMs - minServeMs));
      for (const p of producers) p.killing = true;
      await broker.kill();
      for (const p of producers) p.stopped = true;
      for (const c of clients) c.close();
      await Promise.all(runs);
      for (const p of producers) for (const f of p.failures.slice(0, 5)) if (problems.length < 50) problems.push(`cycle ${cycle}: ${f}`);
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
  const counts = countStates(txns);
  return {
    cycles: options.cycles,
    startupKills,
    committed: counts.committed,
    aborted: counts.aborted,
    inDoubt: inDoubt.size,
    inDoubtCommitted: finishedInDoubt.size,
    unfinished: counts.unfinished,
    committedRecords: [...txns.values()]
      .filter((t) => t.state === 'committed')
      .reduce((n, t) => n + [...t.records.values()].reduce((m, r) => m + r.length, 0), 0),
    verifiedRecords: verified,
    ...worst,
    problems,
    recoveries,
  };
}

function countStates(txns: Map<string, Txn>): { committed: number; aborted: number; inDoubt: number; unfinished: number } {
  let committed = 0;
  let aborted = 0;
  let inDoubt = 0;
  let unfinished = 0;
  for (const t of txns.values()) {
    if (t.state === 'committed') committed++;
    else if (t.state === 'aborted') aborted++;
    else if (t.state === 'committing') inDoubt++;
    else unfinished++;
  }
  return { committed, aborted, inDoubt, unfinished };
}
