// The log probe: per-partition offsets, size and segment count, read from the partition logs at
// scrape time (four native getter calls per partition, ~tens of ns each: a scrape of 1000
// partitions spends well under a millisecond there, see metrics.bench.ts), plus how long startup
// recovery took and how many segments Produce appends rolled.

import { Gauge, type Registry } from 'prom-client';
import type { Topic } from '../topics.ts';
import { type CounterChild, CounterFamily } from './families.ts';

export class LogProbe {
  private readonly startOffset: Gauge;
  private readonly endOffset: Gauge;
  private readonly highWatermark: Gauge;
  private readonly sizeBytes: Gauge;
  private readonly segments: Gauge;
  private readonly recovery: Gauge;
  private readonly rolled: CounterChild;

  constructor(registry: Registry) {
    const registers = [registry];
    const partitionGauge = (name: string, help: string) => new Gauge({ name, help, labelNames: ['topic', 'partition'], registers });
    this.startOffset = partitionGauge('sluice_log_start_offset', 'First offset still in the partition log (log start offset).');
    this.endOffset = partitionGauge('sluice_log_end_offset', 'Offset the next appended record will get (log end offset).');
    this.highWatermark = partitionGauge('sluice_log_high_watermark', 'Offset up to which consumers may read (single node: the log end offset).');
    this.sizeBytes = partitionGauge('sluice_log_size_bytes', "Bytes of the partition's segments on disk.");
    this.segments = partitionGauge('sluice_log_segments', 'Segments in the partition log.');
    this.recovery = new Gauge({
      name: 'sluice_log_recovery_duration_seconds',
      help: 'Time the last startup spent opening and recovering every partition log.',
      registers,
    });
    this.rolled = new CounterFamily(registry, {
      name: 'sluice_log_segments_rolled_total',
      help: 'New segments started by Produce appends (size, age or index full).',
      labelNames: [],
    }).child();
  }

  /** Startup opened (and where needed recovered) every partition log in `ms`. */
  recoveryFinished(ms: number): void {
    this.recovery.set(ms / 1000);
  }

  /** A Produce append started a new segment. */
  segmentRolled(): void {
    this.rolled.value++;
  }

  /** Scrape time: one series per existing partition; deleted ones disappear. */
  refresh(topics: Iterable<Topic>): void {
    const gauges = [this.startOffset, this.endOffset, this.highWatermark, this.sizeBytes, this.segments];
    for (const g of gauges) g.reset();
    for (const topic of topics) {
      for (const p of topic.partitions) {
        const labels = { topic: topic.name, partition: p.index };
        const log = p.log;
        this.startOffset.set(labels, log.logStartOffset);
        this.endOffset.set(labels, log.logEndOffset);
        this.highWatermark.set(labels, p.highWatermark);
        this.sizeBytes.set(labels, log.sizeBytes);
        this.segments.set(labels, log.segmentCount);
      }
    }
  }
}
