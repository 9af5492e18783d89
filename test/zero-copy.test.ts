// Zero-copy is real: fetch bytes leave through sendfile in sendfile mode, counted by the native
// writer from the syscalls' return values; the same scenario in splice and copy modes moves
// those modes' counters instead. The broker is embedded (the same Broker class the process runs)
// so the test can read the native counters directly; kcat is the consumer.

import { afterEach, describe, expect, test } from 'vitest';
import { Broker } from '@sluice/broker';
import { silentLogger } from '../packages/broker/src/logger.ts';
import { removeDir, tempDataDir } from './support/broker-process.ts';
import { kcat, requireKcat } from './support/kcat.ts';

let broker: Broker | undefined;
let dataDir: string | undefined;

afterEach(async () => {
  await broker?.stop();
  if (dataDir) removeDir(dataDir);
  broker = undefined;
});

describe.each(['sendfile', 'splice', 'copy'] as const)('transfer mode %s', (mode) => {
  test('fetch bytes are counted by the mode that sent them', async () => {
    requireKcat();
    dataDir = tempDataDir();
    broker = await new Broker(
      { listeners: 'PLAINTEXT://127.0.0.1:0', 'log.dirs': dataDir, 'sluice.transfer.mode': mode, 'sluice.metrics.listener': '' },
      silentLogger,
    ).start();
    const lines = Array.from({ length: 5000 }, (_, i) => `record-${i}-${'p'.repeat(100)}`);
    expect((await kcat(['-b', broker.bootstrap, '-P', '-t', 'zc'], lines.join('\n') + '\n')).code).toBe(0);
    const before = broker.transferStats();
    const consumed = await kcat(['-b', broker.bootstrap, '-C', '-t', 'zc', '-e', '-q', '-f', '%s\n']);
    expect(consumed.stdout.trim().split('\n')).toEqual(lines);
    const after = broker.transferStats();
    const moved = (key: 'sendfileBytes' | 'spliceBytes' | 'copyBytes') => after[key] - before[key];
    const payload = lines.join('').length;
    const own = mode === 'sendfile' ? 'sendfileBytes' : mode === 'splice' ? 'spliceBytes' : 'copyBytes';
    expect(moved(own)).toBeGreaterThanOrEqual(payload);
    for (const other of ['sendfileBytes', 'spliceBytes', 'copyBytes'] as const) {
      if (other !== own) expect(moved(other)).toBe(0);
    }
  });
});
