// The KIP-848 end-to-end scenario the real-client suites share (java-consumer-protocol.test.ts,
// confluent-kafka-consumer-protocol.test.ts): three members with group.protocol=consumer share a
// topic, one is killed (SIGKILL: its partitions move once its session expires), one is added, the
// broker restarts mid-run; every record is processed exactly once and the group's committed
// offsets end at the log end. A member reports a record only after its commit succeeded (the
// clients' `member` command), so "processed" means "committed".
// The broker runs with short KIP-848 timeouts so the kill is noticed in seconds.
//
// A client runs the scenario through three commands with the same arguments in each language:
//   member <bootstrap> <topic> <group> <stop_file> consumer   one long-lived member, JSON events
//   produce <bootstrap> <topic> <count> none true <suffix>    <count> records, acks=all
//   group-offsets <bootstrap> <group> <topic>                 committed offsets, the group described

import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type BrokerProcess, removeDir, startBroker, tempDataDir } from '../support/broker-process.ts';
import { type ClientCommand, runClientOk } from './support.ts';

const PARTITIONS = 6;
const PER_ROUND = 300;
const TEST_TIMEOUT_MS = 240_000;
const SLUICE_BIN = resolve(import.meta.dirname, '..', '..', 'packages', 'cli', 'bin', 'sluice.js');

const BROKER_SETTINGS = {
  'num.partitions': PARTITIONS,
  'group.consumer.session.timeout.ms': 6000,
  'group.consumer.min.session.timeout.ms': 3000,
  'group.consumer.heartbeat.interval.ms': 1000,
  'group.consumer.min.heartbeat.interval.ms': 500,
};

export interface ConsumerProtocolClient {
  /** The suite's title. */
  readonly title: string;
  /** Builds the client (on first use) and says how to run it. */
  readonly ensure: () => ClientCommand;
  readonly topic: string;
  readonly group: string;
  /** The value the client's `produce` gives record `i` when called with the suffix `-r<round>`. */
  readonly producedValue: (i: number, round: number) => string;
}

interface Member {
  readonly name: string;
  readonly proc: ChildProcess;
  readonly events: Array<Record<string, any>>;
  stderr: string;
  exited: boolean;
}

export function consumerProtocolScenario(spec: ConsumerProtocolClient): void {
  const { topic, group } = spec;
  let client: ClientCommand;
  let broker: BrokerProcess;
  let dataDir: string;
  const members: Member[] = [];
  const stopFile = join(tempDataDir('sluice-kip848-stop-'), 'stop');

  function startMember(name: string): Member {
    const proc = spawn(client.command, [...client.args, 'member', broker.bootstrap, topic, group, stopFile, 'consumer'], { stdio: ['ignore', 'pipe', 'pipe'] });
    const member: Member = { name, proc, events: [], stderr: '', exited: false };
    let partial = '';
    proc.stdout!.on('data', (d: Buffer) => {
      const lines = (partial + d.toString()).split('\n');
      partial = lines.pop() ?? '';
      for (const l of lines) if (l.startsWith('{')) member.events.push(JSON.parse(l) as Record<string, any>);
    });
    proc.stderr!.on('data', (d: Buffer) => {
      member.stderr += d.toString();
    });
    proc.on('close', () => {
      member.exited = true;
    });
    members.push(member);
    return member;
  }

  function processed(): Array<Record<string, any>> {
    return members.flatMap((m) => m.events.filter((e) => e.event === 'record'));
  }

  async function waitFor(what: string, check: () => boolean, timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!check()) {
      if (Date.now() > deadline) {
        const status = members
          .map((m) => `${m.name}: ${m.events.filter((e) => e.event === 'record').length} records, exited=${m.exited}\n${m.stderr.slice(-1500)}`)
          .join('\n');
        throw new Error(`timed out waiting for ${what}; processed ${processed().length}\n${status}`);
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  async function produceRound(round: number): Promise<void> {
    await runClientOk(client, ['produce', broker.bootstrap, topic, String(PER_ROUND), 'none', 'true', `-r${round}`]);
  }

  beforeAll(async () => {
    client = spec.ensure();
    dataDir = tempDataDir();
    broker = await startBroker({ dataDir, overrides: BROKER_SETTINGS });
  }, 600_000);

  afterAll(async () => {
    writeFileSync(stopFile, '');
    for (const m of members) if (!m.exited) m.proc.kill('SIGKILL');
    await broker?.stop();
    removeDir(dataDir);
  });

  describe(spec.title, () => {
    test(
      '3 members, one killed, one added, the broker restarted: each record once, offsets committed',
      async () => {
        await produceRound(1);
        const [m1, m2, m3] = ['m1', 'm2', 'm3'].map(startMember);
        await waitFor('round 1 processed', () => processed().length >= PER_ROUND);
        // The uniform assignor spreads the six partitions: every member ends up with two.
        const owned = (m: Member) => {
          const mine = new Set<number>();
          for (const e of m.events) {
            if (e.event === 'assigned') for (const p of e.partitions) mine.add(p);
            if (e.event === 'revoked') for (const p of e.partitions) mine.delete(p);
          }
          return [...mine];
        };
        await waitFor('two partitions each', () => [m1!, m2!, m3!].every((m) => owned(m).length === 2));

        m1!.proc.kill('SIGKILL');
        await waitFor('m1 gone', () => m1!.exited);
        await produceRound(2);
        await waitFor("round 2 processed (m1's partitions moved after its session expired)", () => processed().length >= 2 * PER_ROUND);

        const m4 = startMember('m4');
        await waitFor('m4 assigned partitions', () => m4.events.some((e) => e.event === 'assigned' && e.partitions.length > 0));
        await produceRound(3);
        await waitFor('round 3 processed', () => processed().length >= 3 * PER_ROUND);

        // `sluice groups describe --members` shows each member's epoch and current/target assignment
        // (ConsumerGroupDescribe); the three live members' targets cover the six partitions.
        const described = execFileSync(
          process.execPath,
          [SLUICE_BIN, 'groups', 'describe', '--group', group, '--members', '--bootstrap-server', broker.bootstrap],
          { encoding: 'utf8' },
        );
        const [header, ...rows] = described.trim().split('\n');
        expect(header!.trim().split(/\s+/)).toEqual(['GROUP', 'CONSUMER-ID', 'HOST', 'CLIENT-ID', '#PARTITIONS', 'EPOCH', 'ASSIGNMENT', 'TARGET-ASSIGNMENT']);
        expect(rows).toHaveLength(3);
        const targets = rows.flatMap((r) => {
          const cells = r.trim().split(/\s+/);
          expect(Number(cells[5])).toBeGreaterThan(0);
          return [...cells[7]!.matchAll(/\((.*?)\)/g)].flatMap((m) => m[1]!.split(',').map(Number));
        });
        expect(targets.sort()).toEqual([0, 1, 2, 3, 4, 5]);

        await broker.stop();
        broker = await startBroker({ dataDir, port: broker.port, overrides: BROKER_SETTINGS });
        await produceRound(4);
        await waitFor('round 4 processed after the broker restart', () => processed().length >= 4 * PER_ROUND, 90_000);

        writeFileSync(stopFile, '');
        await waitFor('members closed', () => [m2!, m3!, m4].every((m) => m.exited));

        // Exactly once: every produced value, no value twice, offsets contiguous per partition.
        const records = processed();
        const values = records.map((r) => r.value as string);
        const expected = [1, 2, 3, 4].flatMap((round) => Array.from({ length: PER_ROUND }, (_, i) => spec.producedValue(i, round)));
        expect(values.length).toBe(expected.length);
        expect(new Set(values).size).toBe(values.length);
        expect([...values].sort()).toEqual([...expected].sort());
        const byPartition = new Map<number, number[]>();
        for (const r of records) byPartition.set(r.partition, [...(byPartition.get(r.partition) ?? []), r.offset]);
        for (const offsets of byPartition.values()) {
          const sorted = [...offsets].sort((a, b) => a - b);
          expect(sorted).toEqual(sorted.map((_, i) => i));
        }

        // The committed offsets end at each partition's log end; the group is an empty consumer group.
        const admin = await runClientOk(client, ['group-offsets', broker.bootstrap, group, topic]);
        const offsets = admin.events.find((e) => e.event === 'offsets')?.offsets as Record<string, number>;
        expect(offsets).toEqual(Object.fromEntries([...byPartition].map(([p, o]) => [String(p), o.length])));
        expect(admin.events.find((e) => e.event === 'described')).toMatchObject({ state: 'Empty', type: 'Consumer', members: [] });
      },
      TEST_TIMEOUT_MS,
    );
  });
}
