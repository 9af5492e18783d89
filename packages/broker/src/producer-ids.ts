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
// Cluster mode: blocks come from etcd instead (`useBlockSource`, cluster-node.ts), so no two
// brokers hand out the same id. Reserving is asynchronous there: the next block is fetched in the
// background once half of the current one is used (and at once when the source is set); while
// none is ready, generate() throws and InitProducerId answers the retriable
// COORDINATOR_LOAD_IN_PROGRESS, as Kafka's broker does while it waits for its controller.
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
  /** Cluster mode: reserves `size` ids above `floor`, resolving with the block's first id. */
  private blockSource: ((size: number, floor: number) => Promise<number>) | null = null;
  private nextBlock: { start: number } | null = null;
  private fetching: Promise<void> | null = null;
  /** Why the last background reservation failed (logged by the caller of generate()). */
  private lastFailure: Error | null = null;

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
    if (this.blockSource !== null) return this.generateFromSource();
    if (this.next >= this.blockEnd) this.reserveBlock();
    return this.next++;
  }

  /**
   * Cluster mode: blocks are reserved by `source` (above every id this data dir handed out as a
   * single node); the first is fetched now.
   */
  useBlockSource(source: (size: number, floor: number) => Promise<number>): void {
    this.blockSource = source;
    this.next = 0;
    this.blockEnd = 0;
    this.prefetch();
  }

  private generateFromSource(): number {
    if (this.next >= this.blockEnd && this.nextBlock !== null) {
      this.next = this.nextBlock.start;
      this.blockEnd = this.nextBlock.start + this.blockSize;
      this.nextBlock = null;
    }
    if (this.blockEnd - this.next <= this.blockSize / 2) this.prefetch();
    if (this.next >= this.blockEnd) throw new Error(`no block of producer ids reserved yet${this.lastFailure === null ? '' : `: ${this.lastFailure.message}`}`);
    return this.next++;
  }

  private prefetch(): void {
    if (this.fetching !== null || this.nextBlock !== null || this.blockSource === null) return;
    const floor = readNextBlockStart(this.file);
    this.fetching = this.blockSource(this.blockSize, floor)
      .then((start) => {
        this.nextBlock = { start };
        this.lastFailure = null;
      })
      .catch((err: unknown) => {
        this.lastFailure = err instanceof Error ? err : new Error(String(err));
      })
      .finally(() => {
        this.fetching = null;
      });
  }

  /** Resolves when no background reservation is running (tests). */
  async settled(): Promise<void> {
    await this.fetching;
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
