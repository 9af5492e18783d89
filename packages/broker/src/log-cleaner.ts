// The log cleaner thread of Kafka, as a timer on the event loop: every `log.cleaner.backoff.ms`
// a pass visits each partition whose topic's cleanup.policy contains `compact`, one at a time.
// For each, `PartitionLog.clean` plans on the event loop (cheap), runs the compaction on the
// libuv pool (the partition keeps serving appends and fetches meanwhile) and swaps the cleaned
// segments in; then the retention pass runs for it (for `compact,delete` that is time and size
// retention too; a pure `compact` log only drops segments below its log start), as Kafka's
// cleaner does for the logs it owns. The next pass is scheduled when this one has finished, so
// passes never overlap and at most one clean runs at a time.
//
// Errors are logged per partition and the pass goes on (Kafka marks such a partition
// uncleanable; here the next pass simply tries again).

import type { CleanerSettings, CleanStats } from '@sluice/native';
import type { BrokerConfig } from './config.ts';
import type { Logger } from './logger.ts';
import type { Partition } from './partition.ts';
import type { TopicRegistry } from './topics.ts';

/** The broker-wide cleaner settings from the broker config. */
export function cleanerSettings(config: BrokerConfig): CleanerSettings {
  return { dedupeBufferBytes: config.int('sluice.log.cleaner.dedupe.buffer.bytes') };
}

export class LogCleaner {
  private readonly topics: TopicRegistry;
  private readonly settings: CleanerSettings;
  private readonly backoffMs: number;
  private readonly logger: Logger;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private stopped = false;

  constructor(topics: TopicRegistry, config: BrokerConfig, logger: Logger) {
    this.topics = topics;
    this.settings = cleanerSettings(config);
    this.backoffMs = Math.min(config.int('log.cleaner.backoff.ms'), 2_147_483_647);
    this.logger = logger;
  }

  start(): void {
    this.schedule();
  }

  /** Stops scheduling; resolves when a pass in progress has ended (closing the logs aborts it). */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    await this.running;
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.running = this.pass().finally(() => {
        this.running = null;
        this.schedule();
      });
    }, this.backoffMs);
    this.timer.unref();
  }

  /** One pass over the compacted partitions. Public for tests and tools. */
  async pass(now: () => number = Date.now): Promise<void> {
    const partitions: Partition[] = [];
    for (const topic of this.topics.topics) {
      if (topic.config.isCompacted()) partitions.push(...topic.partitions);
    }
    for (const partition of partitions) {
      if (this.stopped) return;
      if (this.gone(partition)) continue;
      await this.cleanOne(partition, now);
    }
  }

  /** The broker is stopping or the topic was deleted: its log is (being) closed. */
  private gone(partition: Partition): boolean {
    return this.stopped || this.topics.get(partition.topic.name) !== partition.topic;
  }

  private async cleanOne(partition: Partition, now: () => number): Promise<void> {
    const fields = { topic: partition.topic.name, partition: partition.index };
    let stats: CleanStats | null = null;
    try {
      stats = await partition.log.clean(now(), this.settings);
    } catch (err) {
      if (!this.gone(partition)) this.logger.error({ ...fields, err }, 'log cleaning failed');
      return;
    }
    if (stats !== null) {
      this.logger.info(
        {
          ...fields,
          firstDirtyOffset: stats.firstDirtyOffset,
          endOffset: stats.endOffset,
          segments: `${stats.segmentsCleaned} -> ${stats.segmentsWritten}`,
          bytes: `${stats.bytesRead} -> ${stats.bytesWritten}`,
          recordsKept: `${stats.recordsKept}/${stats.recordsRead}`,
          tombstonesRemoved: stats.tombstonesRemoved,
          mapFull: stats.mapFull,
        },
        'log cleaned',
      );
    }
    if (this.gone(partition)) return;
    try {
      if (partition.log.enforceRetention(now()) > 0) partition.notifyChanged();
    } catch (err) {
      this.logger.error({ ...fields, err }, 'retention after cleaning failed');
    }
  }
}
