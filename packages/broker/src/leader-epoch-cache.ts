// A partition's leader-epoch cache (Kafka's LeaderEpochFileCache): for each leader epoch the
// offset its first batch got, ascending, persisted as `leader-epoch-checkpoint` in the partition
// directory in Kafka's format ("0", the entry count, then "epoch startOffset" per line). It is
// what lets a follower find where its log diverges from a new leader's (KIP-101/279): the leader
// answers the diverging epoch of a follower's Fetch (and OffsetForLeaderEpoch) from it, and the
// follower truncates to the answer.
//
// Written only in cluster mode (a single node has one epoch, 0, for ever); absent file = empty.

import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const LEADER_EPOCH_CHECKPOINT = 'leader-epoch-checkpoint';

export interface EpochEntry {
  readonly epoch: number;
  readonly startOffset: number;
}

export class LeaderEpochCache {
  private readonly file: string;
  private entries: EpochEntry[];

  constructor(partitionDir: string) {
    this.file = join(partitionDir, LEADER_EPOCH_CHECKPOINT);
    this.entries = existsSync(this.file) ? parse(readFileSync(this.file, 'utf8'), this.file) : [];
  }

  /** The latest epoch, -1 when none. */
  get latestEpoch(): number {
    return this.entries.at(-1)?.epoch ?? -1;
  }

  get all(): readonly EpochEntry[] {
    return this.entries;
  }

  /**
   * Epoch `epoch` starts at `startOffset` (a leader taking office at its log end; a follower
   * appending the first batch of an epoch). Older or equal epochs are ignored; entries at or past
   * `startOffset` are dropped (they describe a history this log no longer has).
   */
  assign(epoch: number, startOffset: number): void {
    if (epoch <= this.latestEpoch) return;
    this.entries = [...this.entries.filter((e) => e.startOffset < startOffset), { epoch, startOffset }];
    this.persist();
  }

  /**
   * Kafka's endOffsetFor (LeaderEpochFileCache): where epoch `epoch` ends in this log.
   *   - the latest epoch ends at `logEnd` (it is still being written to);
   *   - an epoch between two known ones: the largest known epoch <= it, ending where the next
   *     known epoch starts;
   *   - an epoch older than every known one: itself, ending where the first known epoch starts
   *     (what preceded was written before this cache tracked epochs, or was deleted);
   *   - an epoch later than the latest, a negative one, or any epoch of an empty cache: (-1, -1).
   */
  endOffsetFor(epoch: number, logEnd: number): { epoch: number; endOffset: number } {
    const undefinedEpoch = { epoch: -1, endOffset: -1 };
    if (epoch < 0 || this.entries.length === 0) return undefinedEpoch;
    if (epoch === this.latestEpoch) return { epoch, endOffset: logEnd };
    const higher = this.entries.findIndex((e) => e.epoch > epoch);
    if (higher < 0) return undefinedEpoch;
    if (higher === 0) return { epoch, endOffset: this.entries[0].startOffset };
    return { epoch: this.entries[higher - 1].epoch, endOffset: this.entries[higher].startOffset };
  }

  /** The log was truncated to `offset`: epochs starting at or after it are gone. */
  truncateFromEnd(offset: number): void {
    const kept = this.entries.filter((e) => e.startOffset < offset);
    if (kept.length === this.entries.length) return;
    this.entries = kept;
    this.persist();
  }

  private persist(): void {
    const text = ['0', String(this.entries.length), ...this.entries.map((e) => `${e.epoch} ${e.startOffset}`), ''].join('\n');
    const tmp = `${this.file}.tmp`;
    writeFileSync(tmp, text);
    const fd = openSync(tmp, 'r+');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, this.file);
  }
}

function parse(text: string, file: string): EpochEntry[] {
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  if (lines[0] !== '0') throw new Error(`${file}: unknown version ${lines[0]}`);
  const count = Number(lines[1]);
  const entries = lines.slice(2, 2 + count).map((line) => {
    const [epoch, offset] = line.trim().split(/\s+/).map(Number);
    if (!Number.isSafeInteger(epoch) || !Number.isSafeInteger(offset)) throw new Error(`${file}: bad entry "${line}"`);
    return { epoch, startOffset: offset };
  });
  if (entries.length !== count) throw new Error(`${file}: ${count} entries announced, ${entries.length} found`);
  return entries;
}
