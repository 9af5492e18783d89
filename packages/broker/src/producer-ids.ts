// Producer ids for idempotent producers (InitProducerId). Kafka hands ids out of blocks of 1000
// that are reserved durably before any id in them is used (the controller's ProducerIdsRecord),
// so a restart — clean or not — never hands out an id twice. Here the reservation is a file in
// the first log dir, `sluice-producer-ids.json`:
//
//   {"version":1,"nextBlockStart":2000}
//
// meaning every id below 2000 may have been handed out. Reserving a block rewrites it atomically
// (tmp, fsync, rename, fsync of the dir) before the block's first id leaves the broker; after a
// restart the next block starts at the stored value. At most one block of ids is skipped per
// restart, as in Kafka.
//
// Concurrency: runs on the event loop; one manager per broker.

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomically } from './topics.ts';

export const PRODUCER_IDS_FILE = 'sluice-producer-ids.json';
/** Kafka's ProducerIdsBlock.PRODUCER_ID_BLOCK_SIZE. */
export const PRODUCER_ID_BLOCK_SIZE = 1000;
const VERSION = 1;

export class ProducerIdManager {
  private readonly dir: string;
  private readonly file: string;
  private readonly blockSize: number;
  /** Next id to hand out, and the end (exclusive) of the reserved block. */
  private next: number;
  private blockEnd: number;

  /** Reads the reservation in `dir` (none yet: ids start at 0). A damaged file throws. */
  constructor(dir: string, blockSize = PRODUCER_ID_BLOCK_SIZE) {
    if (!Number.isSafeInteger(blockSize) || blockSize < 1) throw new Error(`BUG: producer id block size ${blockSize}`);
    this.dir = dir;
    this.file = join(dir, PRODUCER_IDS_FILE);
    this.blockSize = blockSize;
    this.next = readNextBlockStart(this.file);
    this.blockEnd = this.next;
  }

  /** A producer id never handed out before by this data dir. Throws if the reservation cannot be written. */
  generate(): number {
    if (this.next >= this.blockEnd) this.reserveBlock();
    return this.next++;
  }

  private reserveBlock(): void {
    const start = this.blockEnd;
    const end = start + this.blockSize;
    if (!Number.isSafeInteger(end)) throw new Error('producer ids are exhausted');
    writeFileAtomically(this.dir, this.file, JSON.stringify({ version: VERSION, nextBlockStart: end }) + '\n');
    this.next = start;
    this.blockEnd = end;
  }
}

function readNextBlockStart(file: string): number {
  if (!existsSync(file)) return 0;
  const text = readFileSync(file, 'utf8');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new Error(`${file} is not valid JSON; it records which producer ids were handed out`);
  }
  const { version, nextBlockStart } = (parsed ?? {}) as { version?: unknown; nextBlockStart?: unknown };
  if (version !== VERSION) throw new Error(`${file} has version ${String(version)}, expected ${VERSION}`);
  if (typeof nextBlockStart !== 'number' || !Number.isSafeInteger(nextBlockStart) || nextBlockStart < 0) {
    throw new Error(`${file} has nextBlockStart ${String(nextBlockStart)}, expected a non-negative integer`);
  }
  return nextBlockStart;
}
