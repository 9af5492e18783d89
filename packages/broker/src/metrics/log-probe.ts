// The log probe: per-partition offsets, size and segment count, read from the partition logs at
// scrape time (five native getter calls per partition: ~1.3 ms for 1000 partitions on these
// VMs, see metrics.bench.ts — not worth a batched native call yet), plus how long startup
// recovery took and how many segments Produce appends rolled.

import { Gauge, type Registry } from 'prom-client';
import type { Topic } from '../topics.ts';
import { type CounterChild, CounterFamily, GaugeFamily } from './families.ts';

export class LogProbe {
  private readonly startOffset: GaugeFamily;
  private readonly endOffset: GaugeFamily;
  private readonly highWatermark: GaugeFamily;
  private readonly sizeBytes: GaugeFamily;
  private readonly segments: GaugeFamily;
  private readonly recovery: Gauge;
  private readonly rolled: CounterChild;

  constructor(registry: Registry) {
    const partitionGauge = (name: string, help: string) => new GaugeFamily(registry, { name, help, labelNames: ['topic', 'partition'] });
    this.startOffset = partitionGauge('sluice_log_start_offset', 'First offset still in the partition log (log start offset).');
    this.endOffset = partitionGauge('sluice_log_end_offset', 'Offset the next appended record will get (log end offset).');
    this.highWatermark = partitionGauge('sluice_log_high_watermark', 'Offset up to which consumers may read (single node: the log end offset).');
    this.sizeBytes = partitionGauge('sluice_log_size_bytes', "Bytes of the partition's segments on disk.");
    this.segments = partitionGauge('sluice_log_segments', 'Segments in the partition log.');
    this.recovery = new Gauge({
      name: 'sluice_log_recovery_duration_seconds',
      help: 'Time the last startup spent opening and recovering every partition log.',
      registers: [registry],
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
    for (const g of gauges) g.beginRefresh();
    for (const topic of topics) {
      const name = topic.name;
      for (const p of topic.partitions) {
        const index = String(p.index);
        const log = p.log;
        const end = log.logEndOffset;
        this.startOffset.set(log.logStartOffset, name, index);
        this.endOffset.set(end, name, index);
        // Single node: every record is on every replica there is, so HW = LEO (Partition says so).
        this.highWatermark.set(p.highWatermark, name, index);
        this.sizeBytes.set(log.sizeBytes, name, index);
        this.segments.set(log.segmentCount, name, index);
      }
    }
    for (const g of gauges) g.endRefresh();
  }
}
