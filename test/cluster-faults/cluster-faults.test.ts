// Cluster fault harness, quick mode (run.ts; needs root, as CI runs): etcd and three brokers in
// their own network namespaces, the workloads running (queue, a consumer group committing
// offsets, transactional producers with a read_committed consumer, list-append), seven fault
// episodes — kill -9, a SIGSTOP longer than the lease TTL, a broker isolated from the other
// brokers and etcd, a broker cut from etcd only, a restart on a wiped log dir, a full disk, a
// membership change — then a final read (after each episode the cluster must be whole again:
// every broker back in every ISR), and the checker must find no anomaly of any class. The long mode is `pnpm exec node test/cluster-faults/run.ts --episodes 200 --result`.

import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { expect, test } from 'vitest';

const ROOT = resolve(import.meta.dirname, '..', '..');
const KINDS = ['kill', 'pause', 'partition-isolate', 'partition-etcd', 'restart-wiped', 'disk-full', 'membership'];

test('seven fault episodes: nothing acknowledged is lost, duplicated, reordered or moved; no group, transaction or list-append anomaly', {
  timeout: 240_000,
}, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-faults-quick-'));
  try {
    const out = join(dir, 'summary.json');
    const args = [
      'test/cluster-faults/run.ts',
      '--mode',
      'quick',
      '--episodes',
      String(KINDS.length),
      '--hold-ms',
      '5000',
      '--settle-ms',
      '1000',
      '--seed',
      '19',
    ];
    const child = spawn(process.execPath, [...args, '--kinds', KINDS.join(','), '--out', out], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const code = await new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
    process.stdout.write(
      output
        .split('\n')
        .filter((l) => !l.includes('TimeoutNegativeWarning'))
        .join('\n'),
    );
    const summary = JSON.parse(readFileSync(out, 'utf8'));
    expect(summary.problems).toEqual([]);
    expect(summary.counts).toEqual({
      lostAcknowledged: 0,
      duplicates: 0,
      reordered: 0,
      inconsistentOffsets: 0,
      movedAcknowledged: 0,
      nonMonotonicPolls: 0,
      skippedOffsets: 0,
      unknownValues: 0,
      committedOffsetsBackwards: 0,
      groupNonMonotonicPolls: 0,
      groupSkippedOffsets: 0,
      abortedVisible: 0,
      partialTransaction: 0,
      committedMissing: 0,
      appendOrderViolation: 0,
      appendLost: 0,
    });
    expect(summary.anomalies).toBe(0);
    expect(summary.episodes).toBe(KINDS.length);
    expect(Object.values(summary.episodesPerKind)).toEqual(KINDS.map(() => 1));
    // The workload did work, through the faults, and the final read found every acknowledgement.
    expect(summary.acknowledged).toBeGreaterThan(500);
    expect(summary.finalRecords).toBeGreaterThanOrEqual(summary.acknowledged);
    expect(summary.polledRecords).toBeGreaterThan(0);
    // The other workloads ran too: group polls and commits, transactions ended one way or
    // another, appends read back.
    expect(summary.workloads.groupPolls).toBeGreaterThan(0);
    expect(summary.workloads.commits).toBeGreaterThan(0);
    const { committed, aborted, indeterminate } = summary.workloads.transactions;
    expect(committed + aborted + indeterminate).toBeGreaterThan(0);
    expect(summary.workloads.appends).toBeGreaterThan(0);
    expect(summary.workloads.appendReads).toBeGreaterThan(0);
    for (const f of summary.faults) expect(f.wholeAt).not.toBeNull();
    expect(code).toBe(0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
