// DescribeLogDirs through the codec: sizes per partition and log dir, as kafka-log-dirs shows them.

import { mkdirSync, mkdtempSync, rmSync, statfsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildRecordBatch, ErrorCode } from '@sluice/protocol';
import { afterEach, describe, expect, test } from 'vitest';
import { callHandler } from '../testing/call-handler.ts';
import { startTestBroker, type TestBroker } from '../testing/test-broker.ts';
import { describeLogDirsHandler } from './describe-log-dirs.ts';

let t: TestBroker | undefined;
const extraDirs: string[] = [];

afterEach(() => {
  t?.close();
  t = undefined;
  for (const d of extraDirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function produce(partition: { append(records: Uint8Array, nowMs: number): unknown }, count: number) {
  for (let i = 0; i < count; i++) partition.append(buildRecordBatch({ records: [{ key: `k${i}`, value: 'v'.repeat(100), timestamp: 1 }] }), Date.now());
}

describe('DescribeLogDirs', () => {
  test.each([1, 2, 3, 4, 5])('v%i: every partition of every topic, with its size on disk', async (version) => {
    t = startTestBroker();
    const a = t.broker.topicCreator.create('a', 2, 1, [], false).topic!;
    t.broker.topicCreator.create('b', 1, 1, [], false);
    produce(a.partitions[1], 3);
    const res = await callHandler(describeLogDirsHandler, t.broker, version, { topics: null });
    expect(res.results).toHaveLength(1);
    const [dir] = res.results;
    expect(dir).toMatchObject({ errorCode: ErrorCode.NONE, logDir: t.dir });
    const sizes = Object.fromEntries(dir.topics.flatMap((topic: any) => topic.partitions.map((p: any) => [`${topic.name}-${p.partitionIndex}`, p])));
    expect(Object.keys(sizes).sort()).toEqual(['a-0', 'a-1', 'b-0']);
    expect(sizes['a-0']).toEqual({ partitionIndex: 0, partitionSize: 0, offsetLag: 0, isFutureKey: false });
    expect(sizes['a-1'].partitionSize).toBe(a.partitions[1].log.sizeBytes);
    expect(sizes['a-1'].partitionSize).toBeGreaterThan(300);
    if (version >= 4) {
      const fs = statfsSync(t.dir);
      expect(dir.totalBytes).toBe(fs.blocks * fs.bsize);
      expect(dir.usableBytes).toBeGreaterThan(0);
      expect(dir.usableBytes).toBeLessThanOrEqual(dir.totalBytes);
    } else {
      expect(dir.totalBytes).toBe(-1); // not in the version: the client sees the default
    }
  });

  test('named partitions only; unknown topics and partitions are left out', async () => {
    t = startTestBroker();
    t.broker.topicCreator.create('a', 3, 1, [], false);
    const res = await callHandler(describeLogDirsHandler, t.broker, 4, {
      topics: [
        { topic: 'a', partitions: [2, 7] },
        { topic: 'nope', partitions: [0] },
      ],
    });
    expect(res.results[0].topics).toEqual([{ name: 'a', partitions: [{ partitionIndex: 2, partitionSize: 0, offsetLag: 0, isFutureKey: false }] }]);
  });

  test('two log dirs: each partition listed under the dir holding it', async () => {
    const second = mkdtempSync(join(tmpdir(), 'sluice-second-dir-'));
    extraDirs.push(second);
    const first = mkdtempSync(join(tmpdir(), 'sluice-first-dir-'));
    extraDirs.push(first);
    t = startTestBroker([['log.dirs', `${first},${second}`]]);
    const topic = t.broker.topicCreator.create('spread', 4, 1, [], false).topic!;
    const res = await callHandler(describeLogDirsHandler, t.broker, 4, { topics: null });
    expect(res.results.map((r: any) => r.logDir)).toEqual([first, second]);
    for (const r of res.results) {
      for (const p of r.topics.flatMap((x: any) => x.partitions)) expect(topic.partitions[p.partitionIndex].logDir).toBe(r.logDir);
    }
    expect(res.results.flatMap((r: any) => r.topics.flatMap((x: any) => x.partitions)).length).toBe(4);
  });

  test('a log dir whose filesystem is gone is KAFKA_STORAGE_ERROR with no topics', async () => {
    const gone = mkdtempSync(join(tmpdir(), 'sluice-gone-dir-'));
    const first = mkdtempSync(join(tmpdir(), 'sluice-first-dir-'));
    extraDirs.push(first, gone);
    t = startTestBroker([['log.dirs', `${first},${gone}`]]);
    rmSync(gone, { recursive: true, force: true });
    const res = await callHandler(describeLogDirsHandler, t.broker, 4, { topics: null });
    expect(res.results[1]).toMatchObject({ logDir: gone, errorCode: ErrorCode.KAFKA_STORAGE_ERROR, topics: [] });
    expect(res.results[0].errorCode).toBe(ErrorCode.NONE);
    mkdirSync(gone); // the registry writes its checkpoints there on close
  });
});
