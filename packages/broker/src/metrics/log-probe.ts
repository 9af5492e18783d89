// The log probe: per-partition offsets, size and segment count, read from the partition logs at
// scrape time (five native getter calls per partition: ~1.3 ms for 1000 partitions on these
// VMs, see metrics.bench.ts — not worth a batched native call yet), plus how long startup
// recovery took and how many segments Produce appends rolled; and, per log dir, the filesystem's
// capacity and the space still available to the broker (one statfs per dir per scrape), so a
// disk-filling alert needs nothing but the broker's own series.

import { statfsSync } from 'node:fs';
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
  private readonly offline: Gauge;
  private readonly rolled: CounterChild;
  private readonly dirAvailable: GaugeFamily;
  private readonly dirCapacity: GaugeFamily;

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
    this.offline = new Gauge({
      name: 'sluice_log_offline_partitions',
      help: 'Partitions taken offline by a storage failure (a failed fsync, EIO), answering KAFKA_STORAGE_ERROR until a restart.',
      registers: [registry],
    });
    this.rolled = new CounterFamily(registry, {
      name: 'sluice_log_segments_rolled_total',
      help: 'New segments started by Produce appends (size, age or index full).',
      labelNames: [],
    }).child();
    this.dirAvailable = new GaugeFamily(registry, {
      name: 'sluice_log_dir_available_bytes',
      help: 'Bytes still available to the broker on the filesystem of the log dir (statfs f_bavail).',
      labelNames: ['dir'],
    });
    this.dirCapacity = new GaugeFamily(registry, {
      name: 'sluice_log_dir_capacity_bytes',
      help: 'Size of the filesystem the log dir is on (statfs f_blocks).',
      labelNames: ['dir'],
    });
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
    let offline = 0;
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
        if (p.offline) offline++;
      }
    }
    for (const g of gauges) g.endRefresh();
    this.offline.set(offline);
  }

  /**
   * Scrape time: capacity and available bytes of each log dir's filesystem. A dir whose statfs
   * fails (gone, unmounted) has no series at that scrape: absent, not a made-up 0.
   */
  refreshDirs(dirs: readonly string[]): void {
    this.dirAvailable.beginRefresh();
    this.dirCapacity.beginRefresh();
    for (const dir of dirs) {
      let fs: { bsize: number; blocks: number; bavail: number };
      try {
        fs = statfsSync(dir);
      } catch {
        continue;
      }
      this.dirAvailable.set(fs.bavail * fs.bsize, dir);
      this.dirCapacity.set(fs.blocks * fs.bsize, dir);
    }
    this.dirAvailable.endRefresh();
    this.dirCapacity.endRefresh();
  }
}
