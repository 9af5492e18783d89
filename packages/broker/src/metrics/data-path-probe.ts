// The data-path probe: appends (bytes and latency per append mode, from the produce path) and,
// read once per scrape from native counters, what the connection writer moved per transfer mode
// and the log flushes (fdatasync) with their latency. Every mode's series exists from the start,
// at 0 for the modes this broker does not run, so dashboards can compare modes side by side.

import { FLUSH_BUCKET_BOUNDS_SECONDS, type FlushStats, type WriterStats } from '@sluice/native';
import type { Registry } from 'prom-client';
import { type CounterChild, CounterFamily, type HistogramChild, HistogramFamily } from './families.ts';

export type AppendMode = 'mmap' | 'pwrite';
export const APPEND_MODES: readonly AppendMode[] = ['mmap', 'pwrite'];
export const TRANSFER_MODES = ['sendfile', 'splice', 'copy'] as const;

/** Append latency buckets, seconds: a page-cache copy (µs) to an append that had to fsync. */
export const APPEND_SECONDS_BUCKETS: readonly number[] = [
  0.000005, 0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1,
];

interface ModeSeries {
  readonly bytes: CounterChild;
  readonly latency: HistogramChild;
}

export class DataPathProbe {
  private readonly appendMode: ModeSeries;
  private readonly transferBytes: Record<(typeof TRANSFER_MODES)[number], CounterChild>;
  private readonly transferSyscalls: Record<(typeof TRANSFER_MODES)[number], CounterChild>;
  private readonly bufferBytes: CounterChild;
  private readonly bufferSyscalls: CounterChild;
  private readonly sendsInline: CounterChild;
  private readonly sendsQueued: CounterChild;
  private readonly wouldBlock: CounterChild;
  private readonly continuations: CounterChild;
  private readonly writerErrors: CounterChild;
  private readonly writerTruncatedRanges: CounterChild;
  private readonly tlsPlaintextBytes: CounterChild;
  private readonly tlsBytes: CounterChild;
  private readonly tlsSyscalls: CounterChild;
  private readonly coldDeferred: CounterChild;
  private readonly coldWarmedBytes: CounterChild;
  private readonly coldWaitSeconds: CounterChild;
  private readonly residencyProbes: CounterChild;
  private readonly flushLatency: HistogramChild;
  private readonly flushFailures: CounterChild;

  /** `appendMode`: the broker's `sluice.log.append.mode`, the mode its appends are counted under. */
  constructor(registry: Registry, appendMode: AppendMode) {
    const counter = (name: string, help: string, labelNames: string[] = []) => new CounterFamily(registry, { name, help, labelNames });

    const appendBytes = counter('sluice_append_bytes_total', 'Record batch bytes appended to partition logs by Produce, by append mode.', ['mode']);
    const appendLatency = new HistogramFamily(registry, {
      name: 'sluice_append_duration_seconds',
      help: 'Time of one partition append (validation, offset assignment, copy into the segment), by append mode.',
      labelNames: ['mode'],
      buckets: APPEND_SECONDS_BUCKETS,
    });
    const modes = new Map(APPEND_MODES.map((m) => [m, { bytes: appendBytes.child(m), latency: appendLatency.child(m) }]));
    this.appendMode = modes.get(appendMode)!;

    const transferBytes = counter('sluice_transfer_bytes_total', 'Record bytes sent from segment files to sockets, by transfer mode.', ['mode']);
    const transferSyscalls = counter(
      'sluice_transfer_syscalls_total',
      'Syscalls that moved record bytes, by transfer mode (sendfile: sendfile calls; splice: both halves; copy: preads and sends).',
      ['mode'],
    );
    this.transferBytes = { sendfile: transferBytes.child('sendfile'), splice: transferBytes.child('splice'), copy: transferBytes.child('copy') };
    this.transferSyscalls = { sendfile: transferSyscalls.child('sendfile'), splice: transferSyscalls.child('splice'), copy: transferSyscalls.child('copy') };
    this.bufferBytes = counter('sluice_send_buffer_bytes_total', 'Response bytes sent from memory (headers and encoded bodies) with send(2).').child();
    this.bufferSyscalls = counter('sluice_send_buffer_syscalls_total', 'send(2) calls that wrote response bytes from memory.').child();
    const sends = counter(
      'sluice_writer_sends_total',
      'Responses handed to the connection writer, by whether they were written inline or queued for its thread.',
      ['path'],
    );
    this.sendsInline = sends.child('inline');
    this.sendsQueued = sends.child('queued');
    this.wouldBlock = counter('sluice_writer_would_block_total', 'Writes that stopped because a socket was full (EAGAIN).').child();
    this.continuations = counter('sluice_writer_continuations_total', "Times the writer's thread resumed a connection after EAGAIN.").child();
    this.writerErrors = counter('sluice_writer_errors_total', 'Sends that failed with an I/O error (peer gone, EIO).').child();
    this.writerTruncatedRanges = counter(
      'sluice_writer_truncated_ranges_total',
      'Of the failed sends, those whose log was truncated after their Fetch response was framed (the connection is closed rather than sent a short frame).',
    ).child();
    this.tlsPlaintextBytes = counter(
      'sluice_writer_tls_plaintext_bytes_total',
      "Response bytes (headers and records) encrypted by rustls in the writer's thread for TLS connections.",
    ).child();
    this.tlsBytes = counter('sluice_writer_tls_bytes_total', 'Encrypted bytes (TLS records, handshakes included) the writer sent on TLS connections.').child();
    this.tlsSyscalls = counter('sluice_writer_tls_syscalls_total', 'send(2) calls that wrote TLS records.').child();
    this.coldDeferred = counter(
      'sluice_writer_cold_ranges_deferred_total',
      "File ranges found not in the page cache before a send and handed to the writer's cold-read threads (the connection waits, the others do not).",
    ).child();
    this.coldWarmedBytes = counter('sluice_writer_cold_bytes_warmed_total', 'Bytes the cold-read threads read into the page cache for deferred sends.').child();
    this.coldWaitSeconds = counter('sluice_writer_cold_wait_seconds_total', 'Time deferred sends waited for the cold-read threads, summed over sends.').child();
    this.residencyProbes = counter('sluice_writer_residency_probes_total', 'Page-cache residency probes (cachestat) made before writing file ranges.').child();

    const flush = new HistogramFamily(registry, {
      name: 'sluice_log_flush_duration_seconds',
      help: "Time of one log flush (fdatasync of a partition's unflushed files, then its directory); the count is the number of flushes.",
      labelNames: [],
      buckets: FLUSH_BUCKET_BOUNDS_SECONDS,
    });
    this.flushLatency = flush.child();
    this.flushFailures = counter('sluice_log_flush_failures_total', 'Log flushes that failed with an I/O error.').child();
  }

  /** Produce appended a record set of `bytes` in `ms` (performance.now() difference). */
  appended(bytes: number, ms: number): void {
    const mode = this.appendMode;
    mode.bytes.value += bytes;
    mode.latency.observe(ms / 1000);
  }

  /** Scrape time: the native writer's counters (one stats() call) and the flush counters. */
  refresh(writer: WriterStats | null, flush: FlushStats): void {
    if (writer !== null) {
      this.transferBytes.sendfile.set(writer.sendfileBytes);
      this.transferBytes.splice.set(writer.spliceBytes);
      this.transferBytes.copy.set(writer.copyBytes);
      this.transferSyscalls.sendfile.set(writer.sendfileSyscalls);
      this.transferSyscalls.splice.set(writer.spliceSyscalls);
      this.transferSyscalls.copy.set(writer.copySyscalls);
      this.bufferBytes.set(writer.plainBytes);
      this.bufferSyscalls.set(writer.plainSyscalls);
      this.sendsInline.set(writer.sendsInline);
      this.sendsQueued.set(writer.sendsQueued);
      this.wouldBlock.set(writer.wouldBlock);
      this.continuations.set(writer.continuations);
      this.writerErrors.set(writer.errors);
      this.writerTruncatedRanges.set(writer.truncatedRanges);
      this.coldDeferred.set(writer.coldRangesDeferred ?? 0);
      this.coldWarmedBytes.set(writer.coldBytesWarmed ?? 0);
      this.coldWaitSeconds.set((writer.coldWaitMicros ?? 0) / 1e6);
      this.residencyProbes.set(writer.residencyProbes ?? 0);
      this.tlsPlaintextBytes.set(writer.tlsPlaintextBytes ?? 0);
      this.tlsBytes.set(writer.tlsBytes ?? 0);
      this.tlsSyscalls.set(writer.tlsSyscalls ?? 0);
    }
    // _count must equal the +Inf bucket; the native tallies are independent, so take it from
    // the buckets rather than from `flush.count` (which a flush in progress may be ahead in).
    let count = 0;
    for (const n of flush.buckets) count += n;
    this.flushLatency.load(flush.buckets, flush.sumSeconds, count);
    this.flushFailures.set(flush.failures);
  }
}
