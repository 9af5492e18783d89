// The high-watermark checkpoint (Kafka's `replication-offset-checkpoint`): one file per log dir,
// in the offset-checkpoint format the native crate writes for the other log-dir checkpoints
// ("0", the entry count, then `topic partition offset` per line; temp file, fsync, rename, fsync
// of the dir). It records each replicated partition's high watermark, so a restarted broker
// starts from what was committed before instead of its log start: a leader serves consumers at
// once instead of after its ISR fetched again, and a follower without epoch history truncates
// less (it truncates to its high watermark before its first fetch).
//
// Cluster mode only. A single node commits every append at once, so its high watermark is its
// log end whenever it opens a log: there is nothing to remember, and no file is written.
//
// Written every `replica.high.watermark.checkpoint.interval.ms` (cluster-node.ts) and at clean
// shutdown (topics.ts), read once at load. A checkpoint cannot be trusted past the log it
// describes: the value is clamped to [log start, log end] when used (Partition.setReplicated).

import { type CheckpointEntry, readReplicationOffsetCheckpoint, writeReplicationOffsetCheckpoint } from '@sluice/native';
import type { Logger } from './logger.ts';
import type { Partition } from './partition.ts';

export const REPLICATION_OFFSET_CHECKPOINT = 'replication-offset-checkpoint';

/**
 * The high watermarks the previous run checkpointed, by partition dir name (`topic-N`). A file
 * that cannot be read (corrupt, unreadable) is ignored with a warning: the partitions it covered
 * start from their log start, as with no file, which exposes nothing uncommitted.
 */
export function readHighWatermarks(logDirs: readonly string[], logger: Logger): Map<string, number> {
  const out = new Map<string, number>();
  for (const dir of logDirs) {
    let entries: CheckpointEntry[];
    try {
      entries = readReplicationOffsetCheckpoint(dir);
    } catch (err) {
      logger.warn({ logDir: dir, err }, `${REPLICATION_OFFSET_CHECKPOINT} is unreadable; high watermarks restart from the log start`);
      continue;
    }
    for (const e of entries) out.set(`${e.topic}-${e.partition}`, e.offset);
  }
  return out;
}

/** Writes every log dir's checkpoint with the high watermark of each replicated partition in it. */
export function writeHighWatermarks(logDirs: readonly string[], partitions: Iterable<Partition>): void {
  const byDir = new Map<string, CheckpointEntry[]>(logDirs.map((dir) => [dir, []]));
  for (const p of partitions) {
    if (!p.isReplicated) continue;
    byDir.get(p.logDir)?.push({ topic: p.topic.name, partition: p.index, offset: p.highWatermark });
  }
  for (const [dir, entries] of byDir) writeReplicationOffsetCheckpoint(dir, entries);
}
