// The two measurements Kafka's quotas are defined on, with Kafka's exact arithmetic so that a
// client throttled by Sluice is throttled as by Kafka (same burst, same throttle times):
//
// - SampledRate: Kafka's Rate over a SampledStat (org.apache.kafka.common.metrics.stats). The
//   window is `samples` samples of `windowMs` each; a sample older than samples × windowMs is
//   reset; the rate divides the sum by the elapsed time since the oldest sample, but never by less
//   than (samples − 1) windows — which is what lets a fresh client burst and then be held to the
//   quota on average.
// - TokenBucket: Kafka's TokenBucket stat (KIP-599, controller mutations): `quota` tokens per
//   second up to a burst of quota × samples × window seconds; a record takes tokens and may drive
//   the bucket negative, which is the debt a throttle waits out.

export interface RateWindow {
  /** `quota.window.num`: samples kept (Kafka's default 11). */
  readonly samples: number;
  /** `quota.window.size.seconds` in ms (Kafka's default 1000). */
  readonly windowMs: number;
}

interface Sample {
  start: number;
  value: number;
}

export class SampledRate {
  private readonly window: RateWindow;
  private readonly samples: Sample[] = [];
  private current = 0;

  constructor(window: RateWindow) {
    this.window = window;
  }

  /** Adds `value` (bytes, or a percentage of a thread for request quotas) at `now` (ms). */
  record(value: number, now: number): void {
    let sample = this.samples[this.current];
    if (sample === undefined) {
      sample = { start: now, value: 0 };
      this.samples.push(sample);
    } else if (now - sample.start >= this.window.windowMs) {
      this.current = (this.current + 1) % this.window.samples;
      sample = this.samples[this.current];
      if (sample === undefined) {
        sample = { start: now, value: 0 };
        this.samples.push(sample);
      } else {
        sample.start = now;
        sample.value = 0;
      }
    }
    sample.value += value;
  }

  /** Value per second at `now`. */
  measure(now: number): number {
    this.purgeObsolete(now);
    let sum = 0;
    for (const s of this.samples) sum += s.value;
    return sum / (this.windowSizeMs(now) / 1000);
  }

  /** The span the rate divides by, in ms (Kafka's Rate.windowSize), never below 1 ms. */
  windowSizeMs(now: number): number {
    this.purgeObsolete(now);
    let oldest = now;
    for (const s of this.samples) if (s.start < oldest) oldest = s.start;
    let elapsed = now - oldest;
    const fullWindows = Math.floor(elapsed / this.window.windowMs);
    const minFullWindows = this.window.samples - 1;
    if (fullWindows < minFullWindows) elapsed += (minFullWindows - fullWindows) * this.window.windowMs;
    return Math.max(elapsed, 1);
  }

  private purgeObsolete(now: number): void {
    const expireAge = this.window.samples * this.window.windowMs;
    for (const s of this.samples) {
      if (now - s.start >= expireAge) {
        s.start = now;
        s.value = 0;
      }
    }
  }
}

/**
 * How long a client whose rate is `observed` against the bound `quota` must wait for its rate to
 * fall back to the quota (Kafka's QuotaUtils.throttleTime): the excess over the quota, as a
 * fraction of it, times the span the rate was measured over.
 */
export function throttleTimeMs(observed: number, quota: number, windowSizeMs: number): number {
  if (observed <= quota) return 0;
  return Math.round(((observed - quota) / quota) * windowSizeMs);
}

export class TokenBucket {
  private readonly window: RateWindow;
  private tokens: number | undefined;
  private lastUpdate = 0;

  constructor(window: RateWindow) {
    this.window = window;
  }

  /** Tokens at `now` for a bucket refilled at `quota` per second (negative: in debt). */
  measure(quota: number, now: number): number {
    this.refill(quota, now);
    return this.tokens!;
  }

  record(value: number, quota: number, now: number): void {
    this.refill(quota, now);
    this.tokens = Math.min(this.burst(quota), this.tokens! - value);
  }

  /** How long until the bucket is out of debt (0 when it is not in debt). */
  throttleTimeMs(quota: number, now: number): number {
    const tokens = this.measure(quota, now);
    return tokens >= 0 ? 0 : Math.round((-tokens / quota) * 1000);
  }

  private burst(quota: number): number {
    return quota * this.window.samples * (this.window.windowMs / 1000);
  }

  private refill(quota: number, now: number): void {
    const burst = this.burst(quota);
    if (this.tokens === undefined) this.tokens = burst;
    else this.tokens = Math.min(burst, this.tokens + (quota * Math.max(0, now - this.lastUpdate)) / 1000);
    this.lastUpdate = now;
  }
}
