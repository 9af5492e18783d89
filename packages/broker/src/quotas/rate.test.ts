// Kafka's quota arithmetic: the figures below are what Kafka's Rate/SampledStat and TokenBucket
// give for the same records (11 samples of 1 s, the defaults).

import { describe, expect, test } from 'vitest';
import { SampledRate, TokenBucket, throttleTimeMs } from './rate.ts';

const WINDOW = { samples: 11, windowMs: 1000 };

describe('SampledRate', () => {
  test('a fresh rate divides by (samples - 1) windows: the first 10 s of a 1 MB/s quota may go at once', () => {
    const r = new SampledRate(WINDOW);
    r.record(10_000_000, 0);
    expect(r.windowSizeMs(0)).toBe(10_000);
    expect(r.measure(0)).toBe(1_000_000);
    r.record(1_000_000, 0);
    expect(r.measure(0)).toBe(1_100_000);
    // Over by 10% of the quota, measured over 10 s: 1 s of throttle brings it back.
    expect(throttleTimeMs(r.measure(0), 1_000_000, r.windowSizeMs(0))).toBe(1000);
  });

  test('samples older than samples × window are dropped, and the window grows past 10 s with full windows', () => {
    const r = new SampledRate(WINDOW);
    for (let t = 0; t < 20_000; t += 500) r.record(500, t);
    // 11 samples cover the last ~11 s: about 1000 bytes/s.
    expect(r.measure(20_000)).toBeGreaterThan(900);
    expect(r.measure(20_000)).toBeLessThan(1100);
    expect(r.measure(60_000)).toBe(0);
  });

  test('unrecording (a negative record) takes bytes back', () => {
    const r = new SampledRate(WINDOW);
    r.record(5000, 0);
    r.record(-5000, 10);
    expect(r.measure(10)).toBe(0);
  });

  test('no throttle at or under the quota', () => {
    expect(throttleTimeMs(999, 1000, 10_000)).toBe(0);
    expect(throttleTimeMs(1000, 1000, 10_000)).toBe(0);
    expect(throttleTimeMs(2000, 1000, 10_000)).toBe(10_000);
  });
});

describe('TokenBucket', () => {
  test('starts full (quota × samples × window), goes into debt, refills at the quota', () => {
    const b = new TokenBucket(WINDOW);
    expect(b.measure(2, 0)).toBe(22);
    b.record(30, 2, 0);
    expect(b.measure(2, 0)).toBe(-8);
    expect(b.throttleTimeMs(2, 0)).toBe(4000);
    expect(b.throttleTimeMs(2, 4000)).toBe(0);
    expect(b.measure(2, 100_000)).toBe(22);
  });
});
