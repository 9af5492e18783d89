// Group commit (`sluice.flush.on.ack.enable`): Partition.flushDurable shares fdatasyncs between
// concurrent callers, and never resolves a caller with a flush that started before its append.
// A stand-in log records every flush and completes them by hand; the real native log is covered
// end to end (test/crash, test/disk-errors).

import { describe, expect, it } from 'vitest';
import type { PartitionLog } from '@sluice/native';
import { Partition } from './partition.ts';
import { Topic } from './topics.ts';

/** The part of PartitionLog that flushDurable uses; flushes finish when the test says. */
class StandInLog {
  logEndOffset = 0;
  readonly flushes: Array<{ covers: number; finish: (err?: Error) => void }> = [];

  append(records: number): void {
    this.logEndOffset += records;
  }

  flush(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.flushes.push({ covers: this.logEndOffset, finish: (err) => (err === undefined ? resolve() : reject(err)) });
    });
  }
}

function partitionOver(log: StandInLog): Partition {
  const topic = new Topic('t', '0123456789abcdef0123456789abcdef', undefined as never);
  return new Partition(topic, 0, '/nonexistent', '/nonexistent', log as unknown as PartitionLog);
}

/** Resolution order of the promises, by name. */
function track(named: Record<string, Promise<void>>): string[] {
  const done: string[] = [];
  for (const [name, p] of Object.entries(named))
    p.then(
      () => done.push(name),
      () => done.push(`${name}!`),
    );
  return done;
}

const tick = () => new Promise((r) => setImmediate(r));

describe('Partition.flushDurable (group commit)', () => {
  it('one flush serves every caller that arrived before it started', async () => {
    const log = new StandInLog();
    const p = partitionOver(log);
    log.append(3);
    const done = track({ a: p.flushDurable() });
    expect(log.flushes).toHaveLength(1);
    log.flushes[0].finish();
    await tick();
    expect(done).toEqual(['a']);
  });

  it('callers arriving during a flush share one more flush, which starts when the first ends', async () => {
    const log = new StandInLog();
    const p = partitionOver(log);
    log.append(1);
    const first = p.flushDurable();
    // Ten produce requests append while the first fdatasync runs.
    const later: Record<string, Promise<void>> = {};
    for (let i = 0; i < 10; i++) {
      log.append(1);
      later[`r${i}`] = p.flushDurable();
    }
    const done = track({ first, ...later });
    expect(log.flushes).toHaveLength(1); // nothing new starts while one runs
    log.flushes[0].finish();
    await tick();
    // The first flush began before their appends: it must not answer them.
    expect(done).toEqual(['first']);
    expect(log.flushes).toHaveLength(2);
    expect(log.flushes[1].covers).toBe(11);
    log.flushes[1].finish();
    await tick();
    expect(done).toHaveLength(11);
    expect(log.flushes).toHaveLength(2); // 11 callers, 2 fdatasyncs
  });

  it('a failed flush fails its callers and takes the partition offline; later calls fail at once', async () => {
    const log = new StandInLog();
    const p = partitionOver(log);
    log.append(1);
    const first = p.flushDurable();
    log.append(1);
    const second = p.flushDurable();
    const done = track({ first, second });
    log.flushes[0].finish(Object.assign(new Error('EIO'), { code: 'KAFKA_STORAGE_ERROR' }));
    await tick();
    expect(p.offline).toBe(true);
    // The queued flush does not run on a partition whose disk failed: it fails too.
    expect(done).toEqual(['first!', 'second!']);
    expect(log.flushes).toHaveLength(1);
    await expect(p.flushDurable()).rejects.toThrow('EIO');
    expect(log.flushes).toHaveLength(1);
  });
});
