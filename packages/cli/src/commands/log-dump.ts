// `sluice log dump FILE…`: read segment files offline, like kafka-dump-log.sh. For a .log file,
// one line per batch (offsets, count, position, size, CRC check, codec, timestamps, producer
// id/epoch/sequence), the records with --print-data, and a summary saying how the data ended
// (end of file, a zero-filled preallocated tail of a live segment, or corruption). For .index and
// .timeindex files, one line per entry. --json prints the same as one JSON object per line.
// Exit code 1 when a file has a bad CRC, corrupt bytes or a damaged index; 0 otherwise.

import type { Command } from 'commander';
import { ClientError, UsageError } from '@sluice/client';
import {
  type BatchEntry,
  type ByteSource,
  type IndexSummary,
  type LogEnd,
  type OffsetIndexEntry,
  type TimeIndexEntry,
  openFileSource,
  scanLog,
  scanOffsetIndex,
  scanTimeIndex,
  segmentFileName,
} from '../log-files.ts';
import { writeOut } from '../output/command.ts';

interface DumpOpts {
  printData?: boolean;
  json?: boolean;
}

const utf8 = new TextDecoder('utf-8');
/** Index entries are written in blocks of this many lines. */
const OUTPUT_CHUNK_LINES = 4096;
const text = (b: Uint8Array | null) => (b === null ? 'null' : utf8.decode(b));

function lastSequence(b: BatchEntry): number {
  const base = b.header.baseSequence;
  if (base < 0) return -1;
  // Sequences wrap at Int32.MAX_VALUE, as in Kafka's DefaultRecordBatch.
  return (base + b.header.lastOffsetDelta) % 0x80000000;
}

function batchLine(b: BatchEntry): string {
  const h = b.header;
  return (
    `baseOffset: ${h.baseOffset} lastOffset: ${b.lastOffset} count: ${h.recordCount} position: ${b.position} size: ${b.size} ` +
    `magic: ${h.magic} crc: ${h.crc} isvalid: ${b.crcValid} compresscodec: ${b.compression} ` +
    `timestampType: ${b.timestampType} baseTimestamp: ${h.baseTimestamp} maxTimestamp: ${h.maxTimestamp} ` +
    `producerId: ${h.producerId} producerEpoch: ${h.producerEpoch} baseSequence: ${h.baseSequence} lastSequence: ${lastSequence(b)} ` +
    `partitionLeaderEpoch: ${h.partitionLeaderEpoch} isTransactional: ${b.transactional} isControl: ${b.control}`
  );
}

function recordLines(b: BatchEntry): string[] {
  const records = b.records;
  if (records === undefined) return [];
  if ('error' in records) return [`| records unreadable: ${records.error}`];
  return records.map(
    (r) =>
      `| offset: ${r.offset} ${b.timestampType}: ${r.timestamp} keySize: ${r.key?.length ?? -1} valueSize: ${r.value?.length ?? -1} ` +
      `headerKeys: [${r.headers.map((h) => h.key).join(',')}] key: ${text(r.key)} payload: ${text(r.value)}`,
  );
}

function batchJson(file: string, b: BatchEntry): object {
  const records = b.records;
  return {
    file,
    type: 'batch',
    ...b.header,
    lastOffset: b.lastOffset,
    position: b.position,
    size: b.size,
    crcValid: b.crcValid,
    computedCrc: b.computedCrc,
    compression: b.compression,
    timestampType: b.timestampType,
    isTransactional: b.transactional,
    isControl: b.control,
    lastSequence: lastSequence(b),
    ...(records === undefined
      ? {}
      : 'error' in records
        ? { recordsError: records.error }
        : {
            records: records.map((r) => ({
              offset: r.offset,
              timestamp: r.timestamp,
              key: r.key === null ? null : utf8.decode(r.key),
              value: r.value === null ? null : utf8.decode(r.value),
              headers: r.headers.map((h) => ({ key: h.key, value: h.value === null ? null : utf8.decode(h.value) })),
            })),
          }),
  };
}

function endText(end: LogEnd): string {
  switch (end.kind) {
    case 'eof':
      return `end of file at position ${end.position}`;
    case 'zero-tail':
      return `zero-filled preallocated tail of ${end.tailBytes} bytes from position ${end.position}`;
    case 'corrupt':
      return `corrupt data at position ${end.position}: ${end.detail}`;
  }
}

/** Dumps one .log file; returns the problems found. */
async function dumpLog(file: string, src: ByteSource, opts: DumpOpts): Promise<string[]> {
  const problems: string[] = [];
  const gen = scanLog(src, { records: opts.printData === true });
  let batches = 0;
  let records = 0;
  let first = -1;
  let last = -1;
  let bytes = 0;
  let step = gen.next();
  while (!step.done) {
    const b = step.value;
    batches++;
    records += b.header.recordCount;
    if (first < 0) first = b.header.baseOffset;
    last = b.lastOffset;
    bytes += b.size;
    if (!b.crcValid) problems.push(`batch at position ${b.position} (offsets ${b.header.baseOffset}-${b.lastOffset}) fails its CRC check`);
    if (opts.json) await writeOut(`${JSON.stringify(batchJson(file, b))}\n`);
    else await writeOut([batchLine(b), ...recordLines(b)].join('\n') + '\n');
    step = gen.next();
  }
  const end = step.value;
  if (end.kind === 'corrupt') problems.push(endText(end));
  const summary = { file, type: 'summary', batches, records, firstOffset: first, lastOffset: last, validBytes: bytes, end };
  if (opts.json) await writeOut(`${JSON.stringify(summary)}\n`);
  else {
    const range = batches === 0 ? 'no offsets' : `offsets ${first}-${last}`;
    await writeOut(`Summary: ${batches} batches, ${records} records, ${range}, ${bytes} bytes of batches; ${endText(end)}\n`);
  }
  return problems;
}

async function dumpIndex(file: string, kind: 'index' | 'timeindex', baseOffset: number, src: ByteSource, opts: DumpOpts): Promise<string[]> {
  const gen: Generator<OffsetIndexEntry | TimeIndexEntry, IndexSummary> = kind === 'index' ? scanOffsetIndex(src, baseOffset) : scanTimeIndex(src, baseOffset);
  let chunk: string[] = [];
  let step = gen.next();
  while (!step.done) {
    const e = step.value;
    chunk.push(
      opts.json
        ? JSON.stringify({ file, type: 'entry', ...e })
        : 'position' in e
          ? `offset: ${e.offset} position: ${e.position}`
          : `timestamp: ${e.timestamp} offset: ${e.offset}`,
    );
    if (chunk.length === OUTPUT_CHUNK_LINES) {
      await writeOut(chunk.join('\n') + '\n');
      chunk = [];
    }
    step = gen.next();
  }
  if (chunk.length > 0) await writeOut(chunk.join('\n') + '\n');
  const summary = step.value;
  const problems: string[] = [];
  if (summary.outOfOrder > 0) problems.push(`${summary.outOfOrder} entries out of order (first: entry ${summary.outOfOrderSample.join(', ')})`);
  if (summary.partialBytes > 0) problems.push(`${summary.partialBytes} trailing bytes do not make a whole entry`);
  if (opts.json) {
    await writeOut(`${JSON.stringify({ file, type: 'summary', ...summary })}\n`);
  } else {
    const tail = summary.zeroTailEntries > 0 ? `; zero-filled preallocated tail of ${summary.zeroTailEntries} entries` : '';
    await writeOut(`Summary: ${summary.entries} entries${tail}${problems.length > 0 ? `; ${problems.join('; ')}` : ''}\n`);
  }
  return problems;
}

export function registerLogDump(program: Command): void {
  const log = program.command('log').description('offline tools for partition log files');
  log
    .command('dump')
    .description('print the batches of .log segment files and the entries of .index/.timeindex files (like kafka-dump-log.sh)')
    .argument('<files...>', 'segment files: <20-digit base offset>.log, .index or .timeindex')
    .option('--print-data', 'also print every record of each batch')
    .option('--json', 'one JSON object per batch/entry, then a summary object per file')
    .action(async (files: string[], opts: DumpOpts) => {
      const named = files.map((file) => {
        const name = segmentFileName(file);
        if (name === null) throw new UsageError(`${file} is not a segment file`, 'pass files named <20-digit base offset>.log, .index or .timeindex');
        return { file, ...name };
      });
      const failures: string[] = [];
      for (const { file, kind, baseOffset } of named) {
        if (!opts.json) await writeOut(`Dumping ${file}\n${kind === 'log' ? `Log starting offset: ${baseOffset}\n` : ''}`);
        const src = openFileSource(file);
        try {
          const problems = kind === 'log' ? await dumpLog(file, src, opts) : await dumpIndex(file, kind, baseOffset, src, opts);
          if (problems.length > 0) failures.push(`${file}: ${problems[0]}${problems.length > 1 ? ` (and ${problems.length - 1} more)` : ''}`);
        } finally {
          src.close();
        }
      }
      if (failures.length > 0) {
        throw new ClientError(failures.join('; '), "the data is damaged; the broker's recovery truncates a torn tail on restart");
      }
    });
}
