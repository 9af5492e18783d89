// Crash harness, quick mode (see harness.ts): SIGKILL the broker at random moments while
// producers with acks=-1 run, restart, and verify that every acknowledged record is present, at
// its offset, once and in order. Both append modes, and the flush-on-ack variant. The long mode
// is `pnpm exec node test/crash/run.ts --cycles 200`. Last, the transactional mode.

import { expect, test } from 'vitest';
import { type CrashOptions, type CrashReport, runCrashCycles } from './harness.ts';
import { runTxnCrashCycles } from './txn-harness.ts';

function summary(name: string, r: CrashReport): string {
  const scans = r.recoveries.slice(1).map((x) => x.segmentsRecovered);
  return (
    `${name}: ${r.cycles} kills (+${r.startupKills} during startup), ${r.acknowledged} acknowledged, ${r.verified} verified, ` +
    `lost ${r.lost}, duplicates ${r.duplicates}, out of order ${r.outOfOrder}; ` +
    `recovery: start to ready max ${r.maxStartToReadyMs} ms, broker load max ${r.maxBrokerLoadMs} ms, segments scanned max ${Math.max(...scans)}`
  );
}

/** Quick mode: small records and short serving windows keep a run near 20 s. */
const QUICK = { producers: 2, window: 2, maxServeMs: 300, maxPaddingBytes: 40 } as const;

async function crashRun(name: string, options: CrashOptions): Promise<void> {
  const report = await runCrashCycles({ ...QUICK, ...options });
  process.stdout.write(`${summary(name, report)}\n`);
  expect(report.problems).toEqual([]);
  expect(report.lost).toBe(0);
  expect(report.duplicates).toBe(0);
  expect(report.outOfOrder).toBe(0);
  expect(report.acknowledged).toBeGreaterThan(options.cycles * 50);
  expect(report.verified).toBe(report.acknowledged);
  // Every restart after a kill found the dirty shutdown and scanned the unflushed tail.
  for (const recovery of report.recoveries.slice(1)) {
    expect(recovery.partitionsRecovered).toBe(3);
    expect(recovery.segmentsRecovered).toBeGreaterThan(0);
  }
}

test('kill -9 loses nothing acknowledged: mmap appends', { timeout: 180_000 }, async () => {
  await crashRun('mmap', { cycles: 20, appendMode: 'mmap', flushOnAck: false, seed: 0x5eed01 });
});

test('kill -9 loses nothing acknowledged: pwrite appends', { timeout: 180_000 }, async () => {
  await crashRun('pwrite', { cycles: 20, appendMode: 'pwrite', flushOnAck: false, seed: 0x5eed02 });
});

test('kill -9 with sluice.flush.on.ack.enable (group commit), both append modes', { timeout: 180_000 }, async () => {
  await crashRun('flush-on-ack mmap', { cycles: 10, appendMode: 'mmap', flushOnAck: true, seed: 0x5eed03 });
  await crashRun('flush-on-ack pwrite', { cycles: 10, appendMode: 'pwrite', flushOnAck: true, seed: 0x5eed04 });
});

// Transactional mode (txn-harness.ts): transactional producers committing and aborting while the
// broker is killed; after each restart read_committed sees every acknowledged commit once, no
// aborted or unfinished transaction, and a commit in flight at the kill all or nothing. The long
// mode is `pnpm exec node test/crash/run-transactions.ts --cycles 60`.
test('kill -9 under transactions: committed once, aborted never visible, in-flight commits atomic', { timeout: 180_000 }, async () => {
  const report = await runTxnCrashCycles({ cycles: 6, seed: 0x7e5701, startupKillRate: 0.3 });
  process.stdout.write(
    `transactions: ${report.cycles} kills (+${report.startupKills} during startup), ${report.committed} committed / ${report.aborted} aborted / ` +
      `${report.inDoubt} in doubt (${report.inDoubtCommitted} committed) / ${report.unfinished} unfinished transactions, ${report.verifiedRecords} committed records verified\n`,
  );
  expect(report.problems).toEqual([]);
  expect({
    missing: report.missing,
    duplicates: report.duplicates,
    outOfOrder: report.outOfOrder,
    abortedVisible: report.abortedVisible,
    partial: report.partial,
  }).toEqual({
    missing: 0,
    duplicates: 0,
    outOfOrder: 0,
    abortedVisible: 0,
    partial: 0,
  });
  expect(report.committed).toBeGreaterThan(report.cycles * 20);
  expect(report.aborted).toBeGreaterThan(report.cycles * 5);
  expect(report.verifiedRecords).toBe(report.committedRecords);
});
