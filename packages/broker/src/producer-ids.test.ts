import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, test } from 'vitest';
import { PRODUCER_IDS_FILE, ProducerIdManager } from './producer-ids.ts';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'sluice-producer-ids-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

test('ids are unique and the block is reserved on disk before its first id is used', () => {
  const ids = new ProducerIdManager(dir, 10);
  expect(ids.generate()).toBe(0);
  expect(JSON.parse(readFileSync(join(dir, PRODUCER_IDS_FILE), 'utf8'))).toEqual({ version: 1, nextBlockStart: 10 });
  const more = Array.from({ length: 14 }, () => ids.generate());
  expect(more).toEqual(Array.from({ length: 14 }, (_, i) => i + 1));
  expect(JSON.parse(readFileSync(join(dir, PRODUCER_IDS_FILE), 'utf8')).nextBlockStart).toBe(20);
});

test('a restart, even without any shutdown, never reuses an id', () => {
  const first = new ProducerIdManager(dir, 10);
  const before = [first.generate(), first.generate(), first.generate()];
  // The first manager is simply abandoned, as a killed process would be.
  const second = new ProducerIdManager(dir, 10);
  const after = [second.generate(), second.generate()];
  expect(after).toEqual([10, 11]);
  expect(after.some((id) => before.includes(id))).toBe(false);
});

test('a damaged reservation file is refused, not silently restarted from 0', () => {
  for (const text of ['{', '{"version":2,"nextBlockStart":5}', '{"version":1,"nextBlockStart":-1}', '{"version":1}']) {
    writeFileSync(join(dir, PRODUCER_IDS_FILE), text);
    expect(() => new ProducerIdManager(dir)).toThrow(PRODUCER_IDS_FILE);
  }
});

test('cluster mode: blocks come from the block source, above what the data dir handed out, the next fetched ahead', async () => {
  const single = new ProducerIdManager(dir, 10);
  single.generate(); // as a single node: ids below 10 may be out there
  const asked: Array<[number, number]> = [];
  let nextStart = 100;
  const ids = new ProducerIdManager(dir, 10);
  ids.useBlockSource(async (size, floor) => {
    asked.push([size, floor]);
    const start = Math.max(nextStart, floor);
    nextStart = start + size;
    return start;
  });
  expect(() => ids.generate()).toThrow(/no block of producer ids reserved yet/); // not fetched yet
  await ids.settled();
  expect(asked).toEqual([[10, 10]]);
  const first = Array.from({ length: 6 }, () => ids.generate());
  expect(first).toEqual([100, 101, 102, 103, 104, 105]);
  await ids.settled(); // half used: the next block was fetched in the background
  expect(asked).toHaveLength(2);
  const rest = Array.from({ length: 6 }, () => ids.generate());
  expect(rest).toEqual([106, 107, 108, 109, 110, 111]);
});
