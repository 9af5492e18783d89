import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildRecordBatch } from '@sluice/protocol';
import { bytesSource, type IndexSummary, type LogEnd, openFileSource, scanLog, scanOffsetIndex, scanTimeIndex, segmentFileName } from './log-files.ts';

const dir = mkdtempSync(join(tmpdir(), 'sluice-cli-logfiles-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The parts joined into one new Uint8Array (a plain one, not a Buffer, like the reader sees). */
function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function batch(baseOffset: number, values: string[], compression: 'none' | 'gzip' | 'zstd' = 'none', timestamp = 1_700_000_000_000): Uint8Array {
  return buildRecordBatch({
    baseOffset,
    compression,
    records: values.map((v, i) => ({ key: i === 0 ? 'k' : null, value: v, timestamp: timestamp + i })),
  });
}

function scanAll(bytes: Uint8Array, records = false) {
  const gen = scanLog(bytesSource(bytes), { records });
  const batches = [];
  for (;;) {
    const step = gen.next();
    if (step.done) return { batches, end: step.value as LogEnd };
    batches.push(step.value);
  }
}

describe('scanLog', () => {
  const b0 = batch(0, ['a', 'b', 'c']);
  const b1 = batch(3, ['d', 'e'], 'gzip');
  const b2 = batch(5, ['f'], 'zstd');

  it('lists every batch with offsets, positions, sizes, codecs and a valid CRC', () => {
    const { batches, end } = scanAll(concat(b0, b1, b2));
    expect(batches.map((b) => [b.header.baseOffset, b.lastOffset, b.header.recordCount, b.position, b.size, b.compression, b.crcValid])).toEqual([
      [0, 2, 3, 0, b0.length, 'none', true],
      [3, 4, 2, b0.length, b1.length, 'gzip', true],
      [5, 5, 1, b0.length + b1.length, b2.length, 'zstd', true],
    ]);
    expect(batches[0].header.baseTimestamp).toBe(1_700_000_000_000);
    expect(batches[0].header.maxTimestamp).toBe(1_700_000_000_002);
    expect(batches[0].header.producerId).toBe(-1);
    expect(end).toEqual({ kind: 'eof', position: b0.length + b1.length + b2.length });
  });

  it('decodes records, compressed ones included, on request', () => {
    const { batches } = scanAll(concat(b0, b1), true);
    const values = batches.flatMap((b) => (b.records as any[]).map((r) => [r.offset, new TextDecoder().decode(r.value)]));
    expect(values).toEqual([
      [0, 'a'],
      [1, 'b'],
      [2, 'c'],
      [3, 'd'],
      [4, 'e'],
    ]);
  });

  it('treats a zero-filled tail (a live preallocated segment) as the end of the data', () => {
    const { batches, end } = scanAll(concat(b0, b1, new Uint8Array(4096)));
    expect(batches).toHaveLength(2);
    expect(end).toEqual({ kind: 'zero-tail', position: b0.length + b1.length, tailBytes: 4096 });
    // Fewer zero bytes than a batch header are a tail too.
    expect(scanAll(concat(b0, new Uint8Array(5))).end).toEqual({ kind: 'zero-tail', position: b0.length, tailBytes: 5 });
  });

  it('flags a batch whose CRC does not match and keeps going', () => {
    const damaged = concat(b0, b1);
    damaged[b0.length - 1] ^= 0xff; // last record byte of the first batch
    const { batches, end } = scanAll(damaged);
    expect(batches.map((b) => b.crcValid)).toEqual([false, true]);
    expect(batches[0].computedCrc).not.toBe(batches[0].header.crc);
    expect(end.kind).toBe('eof');
  });

  it('stops at a batch that runs past the end of the file', () => {
    const { batches, end } = scanAll(concat(b0, b1.subarray(0, b1.length - 3)));
    expect(batches).toHaveLength(1);
    expect(end).toMatchObject({ kind: 'corrupt', position: b0.length });
    expect((end as any).detail).toMatch(/runs past the end/);
  });

  it('stops at garbage after a zero header, and at an impossible batch length', () => {
    const tail = new Uint8Array(100);
    tail[50] = 7;
    expect(scanAll(concat(b0, tail)).end).toMatchObject({ kind: 'corrupt', position: b0.length, detail: expect.stringMatching(/non-zero/) });
    const bad = concat(b0, new Uint8Array(12));
    new DataView(bad.buffer).setInt32(b0.length + 8, 20);
    expect(scanAll(bad).end).toMatchObject({ kind: 'corrupt', detail: 'batch length 20 is below the minimum 49' });
  });

  it('reads a file incrementally', () => {
    const path = join(dir, '00000000000000000000.log');
    writeFileSync(path, concat(b0, b1, new Uint8Array(10_000)));
    const src = openFileSource(path);
    try {
      const gen = scanLog(src);
      expect(gen.next().value).toMatchObject({ position: 0, lastOffset: 2 });
      expect(gen.next().value).toMatchObject({ position: b0.length, lastOffset: 4 });
      expect(gen.next()).toEqual({ done: true, value: { kind: 'zero-tail', position: b0.length + b1.length, tailBytes: 10_000 } });
    } finally {
      src.close();
    }
  });
});

/** Every entry of an index scan, and its summary. */
function collect<T>(gen: Generator<T, IndexSummary>): { entries: T[]; summary: IndexSummary } {
  const entries: T[] = [];
  for (;;) {
    const step = gen.next();
    if (step.done) return { entries, summary: step.value };
    entries.push(step.value);
  }
}

describe('index files', () => {
  function offsetIndex(entries: Array<[number, number]>, zeroEntries = 0): Uint8Array {
    const out = new Uint8Array((entries.length + zeroEntries) * 8);
    const v = new DataView(out.buffer);
    entries.forEach(([rel, pos], i) => {
      v.setInt32(i * 8, rel);
      v.setInt32(i * 8 + 4, pos);
    });
    return out;
  }

  it('reads offset index entries relative to the base offset and drops the preallocated zero tail', () => {
    const scan = collect(
      scanOffsetIndex(
        bytesSource(
          offsetIndex(
            [
              [10, 4100],
              [25, 8300],
            ],
            100_000,
          ),
        ),
        1000,
      ),
    );
    expect(scan.entries).toEqual([
      { relativeOffset: 10, offset: 1010, position: 4100 },
      { relativeOffset: 25, offset: 1025, position: 8300 },
    ]);
    expect(scan.summary).toEqual({ entries: 2, zeroTailEntries: 100_000, partialBytes: 0, outOfOrder: 0, outOfOrderSample: [] });
  });

  it('reports entries out of order and a partial trailing entry', () => {
    const bytes = concat(
      offsetIndex([
        [10, 4100],
        [9, 9000],
        [30, 9500],
      ]),
      new Uint8Array([1, 2, 3]),
    );
    const { summary } = collect(scanOffsetIndex(bytesSource(bytes), 0));
    expect(summary).toMatchObject({ entries: 3, outOfOrder: 1, outOfOrderSample: [1], partialBytes: 3 });
  });

  it('reads time index entries; equal offsets are allowed, equal timestamps are not', () => {
    const out = new Uint8Array(12 * 5);
    const v = new DataView(out.buffer);
    const rows: Array<[bigint, number]> = [
      [1_700_000_000_100n, 4],
      [1_700_000_000_200n, 4],
      [1_700_000_000_200n, 9],
    ];
    rows.forEach(([t, rel], i) => {
      v.setBigInt64(i * 12, t);
      v.setInt32(i * 12 + 8, rel);
    });
    const scan = collect(scanTimeIndex(bytesSource(out), 50));
    expect(scan.entries.map((e) => [e.timestamp, e.offset])).toEqual([
      [1_700_000_000_100, 54],
      [1_700_000_000_200, 54],
      [1_700_000_000_200, 59],
    ]);
    expect(scan.summary).toMatchObject({ entries: 3, zeroTailEntries: 2, outOfOrder: 1, outOfOrderSample: [2] });
  });

  it('keeps an entry with a zero field when any byte of it is set, and reads an all-zero file as empty', () => {
    expect(
      collect(
        scanOffsetIndex(
          bytesSource(
            offsetIndex(
              [
                [0, 0],
                [0, 77],
              ],
              3,
            ),
          ),
          5,
        ),
      ).entries,
    ).toEqual([
      { relativeOffset: 0, offset: 5, position: 0 },
      { relativeOffset: 0, offset: 5, position: 77 },
    ]);
    expect(collect(scanOffsetIndex(bytesSource(new Uint8Array(800)), 0)).summary).toMatchObject({ entries: 0, zeroTailEntries: 100 });
  });

  it('parses segment file names', () => {
    expect(segmentFileName('/data/t-0/00000000000000001234.timeindex')).toEqual({ kind: 'timeindex', baseOffset: 1234 });
    expect(segmentFileName('00000000000000000000.log')).toEqual({ kind: 'log', baseOffset: 0 });
    expect(segmentFileName('leader-epoch-checkpoint')).toBeNull();
    expect(segmentFileName('123.log')).toBeNull();
  });
});
