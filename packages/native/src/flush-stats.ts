// Process-wide log flush counters (crates/sluice-log/src/flush_stats.rs): every flush of every
// partition in this process — fdatasyncs past the recovery point plus the directory fsync — is
// counted and timed, whichever thread ran it. Read one snapshot per metrics scrape.
import { binding } from './binding.ts';

export interface FlushStats {
  /** Flushes run so far, failed ones included. */
  count: number;
  /** Flushes that ended with an I/O error. */
  failures: number;
  /** Total time spent flushing, in seconds. */
  sumSeconds: number;
  /** Flushes per duration bucket (not cumulative); the last entry is above every bound. */
  buckets: number[];
}

/** Upper bounds of the duration buckets, in seconds (`buckets` has one more entry). */
export const FLUSH_BUCKET_BOUNDS_SECONDS: readonly number[] = Object.freeze(binding.flushBucketBoundsSeconds());

export function flushStats(): FlushStats {
  return binding.flushStats();
}
