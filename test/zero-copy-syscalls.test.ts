// Zero-copy seen from the kernel's side (issue 21): the broker process runs under strace, which
// records its sendfile and pread64 calls; a kcat consumer reads 5,000 records. In sendfile mode
// the fetch bytes leave by sendfile (their return values add up to at least the payload); in copy
// mode there is no sendfile call at all and the file bytes are read by pread64. This checks what
// the broker's own counters (zero-copy.test.ts) cannot: that the counters name the real syscalls.

import { readFileSync, rmSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { type BrokerProcess, removeDir, startBroker, tempDataDir } from './support/broker-process.ts';
import { kcat, requireKcat } from './support/kcat.ts';

let broker: BrokerProcess | undefined;
let traceFile: string | undefined;

afterEach(async () => {
  await broker?.kill();
  if (broker) removeDir(broker.dataDir);
  if (traceFile) rmSync(traceFile, { force: true });
  broker = undefined;
});

function requireStrace(): void {
  if (spawnSync('strace', ['-V']).error !== undefined) throw new Error('strace is not installed (apt-get install strace); .ci/run installs it');
}

/** Per syscall name: calls and the sum of their non-negative return values, from strace -f output. */
function tally(trace: string): Map<string, { calls: number; bytes: number }> {
  const out = new Map<string, { calls: number; bytes: number }>();
  // Lines look like `1234  sendfile(23, 41, [0] => [65536], 65536) = 65536`; a call cut by a
  // thread switch is split into `<unfinished ...>` and `<... sendfile resumed>…= n` lines.
  for (const line of trace.split('\n')) {
    const resumed = /<\.\.\. (\w+) resumed>.*= (-?\d+)/.exec(line);
    const whole = /^\d+\s+(\w+)\(.*\)\s+= (-?\d+)/.exec(line);
    const m = resumed ?? whole;
    if (m === null) continue;
    const entry = out.get(m[1]!) ?? { calls: 0, bytes: 0 };
    entry.calls += 1;
    entry.bytes += Math.max(0, Number(m[2]));
    out.set(m[1]!, entry);
  }
  return out;
}

describe.each(['sendfile', 'copy'] as const)('transfer mode %s, traced', (mode) => {
  test('the kernel sees the syscalls of the mode', { timeout: 60_000 }, async () => {
    requireKcat();
    requireStrace();
    traceFile = join(tmpdir(), `sluice-zero-copy-${mode}-${process.pid}.strace`);
    broker = await startBroker({
      dataDir: tempDataDir(),
      overrides: { 'sluice.transfer.mode': mode },
      wrapper: ['strace', '-f', '-qq', '-e', 'trace=sendfile,pread64', '-o', traceFile],
    });
    const lines = Array.from({ length: 5000 }, (_, i) => `record-${i}-${'p'.repeat(100)}`);
    expect((await kcat(['-b', broker.bootstrap, '-P', '-t', 'zc'], `${lines.join('\n')}\n`)).code).toBe(0);
    const consumed = await kcat(['-b', broker.bootstrap, '-C', '-t', 'zc', '-e', '-q', '-f', '%s\n']);
    expect(consumed.stdout.trim().split('\n')).toEqual(lines);
    expect(await broker.stop()).toBe(0);
    const calls = tally(readFileSync(traceFile, 'utf8'));
    const payload = lines.join('').length;
    if (mode === 'sendfile') {
      expect(calls.get('sendfile')?.bytes ?? 0).toBeGreaterThanOrEqual(payload);
    } else {
      expect(calls.get('sendfile')).toBeUndefined();
      expect(calls.get('pread64')?.bytes ?? 0).toBeGreaterThanOrEqual(payload);
    }
  });
});
